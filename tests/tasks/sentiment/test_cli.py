"""The `rnnlab` command end to end on small data, and its error messages."""

import json
import subprocess
import sys

import pytest

from rnnlab.cli import main

SMALL = ["--epochs", "2", "--units", "8", "--embedding-dim", "8", "--max-features", "40", "--maxlen", "40"]


@pytest.fixture
def trained_run(small_imdb, tmp_path):
    out = tmp_path / "run"
    assert main(["train", "sentiment", *SMALL, "--limit", "100", "--seed", "3", "--output", str(out)]) == 0
    return out


def test_train_writes_a_complete_run(trained_run):
    names = {p.name for p in trained_run.iterdir()}
    assert names == {
        "run.json", "model.keras", "preprocessor.json", "config.toml", "metrics.json", "learning_curve.png",
        "confusion_matrix.png",
    }  # fmt: skip
    info = json.loads((trained_run / "run.json").read_text())
    assert (info["task"], info["status"]) == ("sentiment", "finished") and info["finished"] > info["created"]
    metrics = json.loads((trained_run / "metrics.json").read_text())
    assert metrics["num_train"] == 80 and metrics["num_validation"] == 20 and metrics["num_test"] == 100
    assert len(metrics["history"]["val_accuracy"]) == 2
    assert metrics["backend"] == "jax" and metrics["config"]["units"] == 8
    assert 0.0 <= metrics["test_accuracy"] <= 1.0 and metrics["wall_time_s"] > 0
    assert (trained_run / "learning_curve.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "units = 8" in (trained_run / "config.toml").read_text()


def test_evaluate_recomputes_the_saved_test_metrics(trained_run, capsys):
    metrics = json.loads((trained_run / "metrics.json").read_text())
    capsys.readouterr()
    assert main(["evaluate", str(trained_run)]) == 0
    evaluation = json.loads((trained_run / "evaluation.json").read_text())
    assert evaluation["test_accuracy"] == pytest.approx(metrics["test_accuracy"], abs=1e-6)
    assert evaluation["test_loss"] == pytest.approx(metrics["test_loss"], rel=1e-5)
    assert f"test_accuracy={metrics['test_accuracy']:.4f}" in capsys.readouterr().out


def test_predict_prints_label_and_probability(trained_run, capsys, monkeypatch):
    capsys.readouterr()
    assert main(["predict", str(trained_run), "a wonderful film", "boring and awful"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 2
    for line, text in zip(lines, ["a wonderful film", "boring and awful"], strict=True):
        label, probability, echoed = line.split("\t")
        assert label in {"positive", "negative"} and 0 <= float(probability) <= 1 and echoed == text
        assert (label == "positive") == (float(probability) >= 0.5)
    monkeypatch.setattr(sys, "stdin", __import__("io").StringIO("great\n\nworst\n"))
    assert main(["predict", str(trained_run)]) == 0
    assert len(capsys.readouterr().out.strip().splitlines()) == 2


def test_predict_uses_the_training_preprocessing(trained_run):
    # The model's predictions on raw test texts equal those on the training pipeline's arrays.
    import keras
    import numpy as np

    from rnnlab.data.batches import pad
    from rnnlab.datasets import imdb
    from rnnlab.tasks.sentiment.reviews import load_sequences
    from rnnlab.tasks.sentiment.task import SentimentPredictor

    predictor = SentimentPredictor(trained_run)
    config, pre = predictor.config, predictor.preprocessor
    x_test = pad(load_sequences(config, "test", pre)[0], config.maxlen)
    model = keras.saving.load_model(trained_run / "model.keras")
    texts, _ = imdb.load_texts("test")
    order = np.random.default_rng([config.seed, True]).permutation(len(texts))[: config.limit]
    from_texts = [p.probability for p in predictor.classify([texts[i] for i in order])]
    np.testing.assert_allclose(from_texts, model.predict(x_test, verbose=0)[:, 0], rtol=1e-5)


def test_same_seed_same_metrics(small_imdb, tmp_path):
    results = []
    for name in ("a", "b"):
        out = tmp_path / name
        assert main(["train", "sentiment", *SMALL, "--limit", "60", "--output", str(out)]) == 0
        results.append(json.loads((out / "metrics.json").read_text()))
    assert results[0]["history"] == results[1]["history"]
    assert results[0]["test_accuracy"] == results[1]["test_accuracy"]


def test_config_file_and_flag_precedence(small_imdb, tmp_path):
    recipe = tmp_path / "r.toml"
    recipe.write_text('cell = "gru"\nunits = 4\nepochs = 1\n')
    out = tmp_path / "run"
    assert (
        main(
            [
                "train",
                "sentiment",
                "--config",
                str(recipe),
                "--units",
                "6",
                "--max-features",
                "40",
                "--maxlen",
                "20",
                "--limit",
                "40",
                "--output",
                str(out),
            ]
        )
        == 0
    )
    metrics = json.loads((out / "metrics.json").read_text())
    assert (metrics["config"]["cell"], metrics["config"]["units"], metrics["config"]["epochs"]) == (
        "gru",
        6,
        1,
    )


def test_existing_output_is_not_overwritten(trained_run, capsys):
    before = (trained_run / "metrics.json").read_text()
    assert main(["train", "sentiment", *SMALL, "--limit", "20", "--output", str(trained_run)]) == 2
    assert "already exists" in capsys.readouterr().err
    assert (trained_run / "metrics.json").read_text() == before


def test_bad_arguments_exit_2_with_a_message(small_imdb, tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["train", "sentiment", "--cell", "transformer"])
    assert exit_info.value.code == 2
    assert "invalid choice: 'transformer'" in capsys.readouterr().err
    assert main(["train", "sentiment", "--units", "0", "--output", str(tmp_path / "x")]) == 2
    assert "Expected units >= 1. Received: units=0" in capsys.readouterr().err
    assert main(["evaluate", str(tmp_path / "nowhere")]) == 2
    assert "does not exist. Expected a folder written by `rnnlab train`" in capsys.readouterr().err
    assert not (tmp_path / "x").exists()


def test_missing_dataset_is_a_clear_error(tmp_path, monkeypatch, capsys, cache):
    from rnnlab.datasets import imdb, storage

    (tmp_path / "datasets").mkdir()
    monkeypatch.setenv("RNNLAB_DATASETS", str(tmp_path / "datasets"))
    monkeypatch.setattr(
        storage, "download", lambda *a: (_ for _ in ()).throw(storage.DatasetNotFoundError("offline"))
    )
    imdb.forget_loaded()
    assert main(["train", "sentiment", "--limit", "20", "--output", str(tmp_path / "run")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("rnnlab: error: aclImdb_v1.tar.gz not found. Looked in:") and "Traceback" not in err
    assert not (tmp_path / "run").exists()


def test_gradcheck_command_passes_on_jax(capsys):
    assert main(["gradcheck", "--backends", "jax"]) == 0
    out = capsys.readouterr().out
    assert out.strip().endswith("PASS")
    assert "keras-jax" in out and "gru/many_to_many" in out


def test_python_m_rnnlab_help():
    done = subprocess.run(
        [sys.executable, "-m", "rnnlab", "train", "sentiment", "--help"],
        capture_output=True,
        text=True,
        check=True,
    )
    for flag in (
        "--cell",
        "--epochs",
        "--maxlen",
        "--max-features",
        "--embedding-dim",
        "--units",
        "--batch-size",
        "--learning-rate",
        "--seed",
        "--limit",
        "--backend",
        "--output",
        "--config",
    ):
        assert flag in done.stdout
