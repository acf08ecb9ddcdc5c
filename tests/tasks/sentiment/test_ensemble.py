"""`rnnlab ensemble`: each member scored as its predictor scores the same reviews, the ensemble
as the mean of their probabilities; bad input refused."""

import json

import numpy as np
import pytest

from rnnlab.cli import main
from rnnlab.datasets import imdb
from rnnlab.tasks.sentiment import ensemble

TINY = "--epochs 1 --units 8 --embedding-dim 8 --max-features 300 --maxlen 40 --limit 200"
LIMIT = 300


@pytest.fixture(scope="module")
def two_runs(real_imdb, tmp_path_factory):
    folder = tmp_path_factory.mktemp("ensemble")
    runs = []
    for name, extra in (("simple", ""), ("gru-masked", " --cell gru --mask --bucket --seed 1")):
        run = folder / name
        assert main(["train", "sentiment", *(TINY + extra).split(), "--output", str(run)]) == 0
        runs.append(str(run))
    return runs


def test_members_score_like_their_predictors_and_the_ensemble_is_their_mean(two_runs):
    from rnnlab.tasks.base import load_predictor

    order = ensemble.test_order(LIMIT)
    texts, labels = imdb.load_texts("test")
    texts, labels = [texts[i] for i in order], labels[order]
    assert 0 < labels.mean() < 1  # a seeded draw holds both classes
    expected = [np.array([p.probability for p in load_predictor(run).classify(texts)]) for run in two_runs]
    for run, independent in zip(two_runs, expected, strict=True):
        probabilities, scored_labels = ensemble.test_probabilities(run, order)
        np.testing.assert_allclose(probabilities, independent, atol=1e-5)
        np.testing.assert_array_equal(scored_labels, labels)
    result = ensemble.evaluate_ensemble(two_runs, limit=LIMIT, log=lambda _: None)
    assert result["num_test"] == LIMIT
    for member, independent in zip(result["members"], expected, strict=True):
        assert member["test_accuracy"] == pytest.approx(np.mean((independent >= 0.5) == labels), abs=1e-9)
    mean = (expected[0] + expected[1]) / 2
    assert result["test_accuracy"] == pytest.approx(np.mean((mean >= 0.5) == labels), abs=1 / LIMIT)


def test_ensemble_command_writes_a_record_and_refuses_bad_input(two_runs, imdb_lm, tmp_path, capsys):
    out = tmp_path / "ensemble.json"
    assert main(["ensemble", *two_runs, "--limit", "100", "--output", str(out)]) == 0
    record = json.loads(out.read_text())
    assert record["num_test"] == 100 and len(record["members"]) == 2 and "git_commit" in record
    assert main(["ensemble", two_runs[0]]) == 2
    assert "two or more different run folders" in capsys.readouterr().err
    assert main(["ensemble", two_runs[0], str(imdb_lm), "--limit", "10"]) == 2
    assert "Expected sentiment runs" in capsys.readouterr().err
    foreign = tmp_path / "notes.json"
    foreign.write_text('{"mine": 1}')
    assert main(["ensemble", *two_runs, "--limit", "10", "--output", str(foreign)]) == 2
    assert foreign.read_text() == '{"mine": 1}'
    assert main(["ensemble", *two_runs, "--limit", "0"]) == 2
    assert "Expected 1 <= limit" in capsys.readouterr().err
