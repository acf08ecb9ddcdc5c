"""Tiny runs of every task on real data, trained once per session, for the API and page tests."""

import pytest

SENTIMENT = "--epochs 1 --units 8 --embedding-dim 8 --max-features 300 --maxlen 40 --limit 200"
TRANSLATION = "--epochs 1 --units 8 --embedding-dim 8 --vocab-size 120 --max-len 24 --limit 60"
SPEECH = "--epochs 1 --units 8 --num-layers 1 --no-bucket --limit 60"


def _train(tmp_path_factory, task, args):
    from rnnlab.cli import main

    run = tmp_path_factory.mktemp(f"serve-{task}") / "run"
    assert main(["train", task, *args.split(), "--output", str(run)]) == 0
    return run


@pytest.fixture(scope="session")
def served_runs(real_imdb, real_multi30k, real_fsdd, imdb_lm, tmp_path_factory):
    """Run folders: {task name: folder} for all four tasks."""
    return {
        "sentiment": _train(tmp_path_factory, "sentiment", SENTIMENT),
        "translation": _train(tmp_path_factory, "translation", TRANSLATION),
        "speech": _train(tmp_path_factory, "speech", SPEECH),
        "lm": imdb_lm,
    }


@pytest.fixture(scope="session")
def predictors(served_runs):
    from rnnlab.tasks.base import load_predictor

    return {name: load_predictor(run) for name, run in served_runs.items()}


@pytest.fixture(scope="session")
def app(predictors):
    from rnnlab.serve import create_app

    return create_app(list(predictors.values()))


@pytest.fixture
def client(app):
    from fastapi.testclient import TestClient

    with TestClient(app, raise_server_exceptions=False) as client:
        yield client
