"""Sentiment features from the CLI on small data: embeddings, tuning, explanations,
preprocessing options, bucketing and early stopping."""

import csv
import json

import numpy as np
import pytest

from rnnlab import config as configs
from rnnlab.cli import main
from rnnlab.tasks.sentiment.config import SentimentConfig

SMALL = ["--epochs", "2", "--units", "8", "--embedding-dim", "8", "--max-features", "40", "--maxlen", "40"]


def _train(run, *args):
    """`rnnlab train sentiment` on the small settings plus `args`, into `run`; returns the exit code."""
    return main(["train", "sentiment", *SMALL, *args, "--output", str(run)])


def _metrics(run):
    return json.loads((run / "metrics.json").read_text())


def _saved_run(run, split):
    """The saved model and one split padded to maxlen, rebuilt from the run folder alone."""
    import keras

    from rnnlab.data.batches import pad
    from rnnlab.tasks.sentiment.preprocessor import load_preprocessor
    from rnnlab.tasks.sentiment.reviews import load_sequences

    config = configs.resolve(SentimentConfig, run / "config.toml")
    sequences, y = load_sequences(config, split, load_preprocessor(run / "preprocessor.json"))
    return keras.saving.load_model(run / "model.keras"), pad(sequences, config.maxlen), y


def test_embeddings_train_then_initialise_a_model(small_imdb, tmp_path, capsys):
    vectors = tmp_path / "imdb.w2v.txt"
    assert (
        main(
            [
                "embeddings",
                "train",
                "--output",
                str(vectors),
                "--dim",
                "6",
                "--min-count",
                "1",
                "--epochs",
                "1",
                "--text",
            ]
        )
        == 0
    )
    header = vectors.read_text().splitlines()[0].split()
    assert int(header[1]) == 6 and int(header[0]) > 10
    assert "wonderful" in vectors.read_text()
    assert json.loads((tmp_path / "imdb.w2v.txt.json").read_text())["dim"] == 6
    run = tmp_path / "run"
    assert _train(run, "--limit", "60", "--embeddings", str(vectors), "--freeze-embeddings") == 0
    metrics = _metrics(run)
    assert metrics["config"]["embedding_dim"] == 6  # taken from the vectors
    assert metrics["embedding_coverage"] == pytest.approx(1.0)  # every kept word is in the small corpus
    import keras

    from rnnlab.embeddings import load_vectors
    from rnnlab.tasks.sentiment.preprocessor import load_preprocessor

    model = keras.saving.load_model(run / "model.keras")
    index = load_preprocessor(run / "preprocessor.json").index_of_words()["wonderful"]
    np.testing.assert_allclose(
        np.asarray(model.get_layer("embedding").embeddings)[index],
        load_vectors(vectors)["wonderful"],
        rtol=1e-6,
    )  # frozen: unchanged


def test_stop_words_are_dropped_in_training_and_prediction(small_imdb):
    from rnnlab.data.batches import pad
    from rnnlab.datasets import imdb
    from rnnlab.tasks.sentiment.fitting import make_preprocessor
    from rnnlab.tasks.sentiment.reviews import load_sequences

    config = SentimentConfig(max_features=40, maxlen=40, stop_words=True)
    pre = make_preprocessor(config)
    assert "the" in pre.tokenizer.stop_words and "the" not in pre.tokenizer("the film")
    x = pad(load_sequences(config, "test", pre)[0], config.maxlen)
    texts, _ = imdb.load_texts("test")
    order = np.random.default_rng([config.seed, True]).permutation(len(texts))
    np.testing.assert_array_equal(pre([texts[i] for i in order]), x)
    the_index = imdb.get_word_index()["the"] + 3
    assert the_index < 40 and not (x == the_index).any()


def test_subword_run_predicts_with_its_own_tokenizer(small_imdb, tmp_path, capsys):
    run = tmp_path / "run"
    assert (
        main(["train", "sentiment", *SMALL, "--tokenizer", "subword", "--limit", "60", "--output", str(run)])
        == 0
    )
    saved = json.loads((run / "preprocessor.json").read_text())
    assert saved["kind"] == "subword" and "[UNK]" in saved["tokenizer"]
    capsys.readouterr()
    assert main(["predict", str(run), "wonderfulness beyond words"]) == 0
    assert capsys.readouterr().out.split("\t")[0] in {"positive", "negative"}


def test_bucketed_masked_run_matches_padded_evaluation(small_imdb, tmp_path):
    run = tmp_path / "run"
    assert _train(run, "--limit", "80", "--mask", "--bucket", "--cell", "gru") == 0
    model, x, y = _saved_run(run, "test")
    accuracy = float(((model.predict(x, verbose=0)[:, 0] >= 0.5) == y).mean())
    assert accuracy == pytest.approx(
        _metrics(run)["test_accuracy"], abs=1e-6
    )  # padding to maxlen changes nothing


def test_bucket_without_mask_is_refused(small_imdb, tmp_path, capsys):
    assert main(["train", "sentiment", "--bucket", "--output", str(tmp_path / "r")]) == 2
    assert "bucket=True needs mask=True" in capsys.readouterr().err


def test_restore_best_keeps_the_best_validation_weights(small_imdb, tmp_path):
    run = tmp_path / "run"
    assert _train(run, "--epochs", "4", "--limit", "100", "--restore-best", "--learning-rate", "0.05") == 0
    metrics = _metrics(run)
    model, x, y = _saved_run(run, "train")
    n_val = metrics["num_validation"]
    _, val_accuracy = model.evaluate(x[-n_val:], y[-n_val:], verbose=0)
    assert val_accuracy == pytest.approx(metrics["best_val_accuracy"], abs=1e-6)


def test_patience_stops_early(small_imdb, tmp_path):
    run = tmp_path / "run"
    assert _train(run, "--epochs", "30", "--patience", "1", "--limit", "60", "--learning-rate", "0.05") == 0
    assert _metrics(run)["epochs_run"] < 30


def test_tune_writes_trials_and_a_runnable_recipe(small_imdb, tmp_path):
    out = tmp_path / "tune"
    assert (
        main(
            [
                "tune",
                "sentiment",
                "--trials",
                "2",
                "--epochs",
                "1",
                "--limit",
                "60",
                "--max-features",
                "40",
                "--maxlen",
                "30",
                "--output",
                str(out),
            ]
        )
        == 0
    )
    rows = list(csv.DictReader((out / "trials.csv").open()))
    assert len(rows) == 2
    assert {"embedding_dim", "units", "learning_rate", "batch_size", "dropout", "l2", "val_accuracy"} <= set(
        rows[0]
    )
    assert float(rows[0]["val_accuracy"]) >= float(rows[1]["val_accuracy"])
    best = configs.resolve(SentimentConfig, out / "best.toml")
    assert best.embedding_dim == int(rows[0]["embedding_dim"]) and best.units == int(rows[0]["units"])
    assert best.max_features == 40 and best.limit is None  # trials' data limit is not a hyperparameter


def test_explain_matches_leave_one_out_and_writes_html(trained_small_run, tmp_path, capsys):
    import keras

    from rnnlab.tasks.sentiment.preprocessor import load_preprocessor
    from rnnlab.tasks.sentiment.task import explain

    text = "a wonderful film but boring plot"
    [explanation] = explain(trained_small_run, [text])
    model = keras.saving.load_model(trained_small_run / "model.keras")
    pre = load_preprocessor(trained_small_run / "preprocessor.json")
    words = text.split()
    full = model.predict(pre([text]), verbose=0)[0, 0]
    without = [model.predict(pre([" ".join(words[:i] + words[i + 1 :])]), verbose=0)[0, 0] for i in range(6)]
    assert explanation.tokens == words
    np.testing.assert_allclose(explanation.contributions, full - np.array(without), atol=1e-5)
    html = tmp_path / "why.html"
    capsys.readouterr()
    assert main(["predict", str(trained_small_run), "--explain", text, "--html", str(html)]) == 0
    out = capsys.readouterr().out
    assert "pushed up:" in out and "pushed down:" in out
    assert html.read_text().count("<span") == 6


@pytest.fixture
def trained_small_run(small_imdb, tmp_path):
    run = tmp_path / "small-run"
    assert main(["train", "sentiment", *SMALL, "--limit", "100", "--output", str(run)]) == 0
    return run


def test_fast_layers_run_reloads_for_evaluate_and_predict(small_imdb, tmp_path, capsys):
    run = tmp_path / "fast"
    assert main(["train", "sentiment", *SMALL, "--limit", "40", "--fast-layers", "--output", str(run)]) == 0
    saved = __import__("zipfile").ZipFile(run / "model.keras").read("config.json").decode()
    assert '"module": "rnnlab"' in saved or '"registered_name": "rnnlab>' in saved
    capsys.readouterr()
    assert main(["evaluate", str(run)]) == 0
    evaluation = json.loads((run / "evaluation.json").read_text())
    assert evaluation["test_accuracy"] == pytest.approx(_metrics(run)["test_accuracy"], abs=1e-6)
    capsys.readouterr()
    assert main(["predict", str(run), "a wonderful film", "an awful film"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert [line.split("\t")[2] for line in lines] == ["a wonderful film", "an awful film"]
    from rnnlab.tasks.sentiment.task import SentimentPredictor

    predictor = SentimentPredictor(run)  # the same numbers as the command printed
    expected = [f"{p.probability:.4f}" for p in predictor.classify(["a wonderful film", "an awful film"])]
    assert [line.split("\t")[1] for line in lines] == expected


def test_outputs_are_readable_by_others(trained_small_run):
    import os
    import stat

    old = os.umask(0o022)
    os.umask(old)
    if old & 0o044:
        pytest.skip(f"umask {old:o} hides files from others anyway")
    for name in ("metrics.json", "config.toml", "learning_curve.png", "model.keras"):
        assert stat.S_IMODE((trained_small_run / name).stat().st_mode) & 0o044 == 0o044, name
    assert stat.S_IMODE(trained_small_run.stat().st_mode) & 0o055 == 0o055


def test_explain_a_text_longer_than_maxlen(trained_small_run):
    from rnnlab.tasks.sentiment.task import explain

    text = " ".join(["wonderful film"] * 30)  # 60 words, maxlen 40
    [explanation] = explain(trained_small_run, [text])
    assert len(explanation.tokens) == 60
    np.testing.assert_array_equal(explanation.contributions[:20], 0.0)  # cut off by maxlen: unseen


def test_explain_and_html_errors(trained_small_run, capsys):
    assert main(["predict", str(trained_small_run), "--explain", "!!!"]) == 2
    assert "Expected a text with at least one word" in capsys.readouterr().err
    assert main(["predict", str(trained_small_run), "--html", "x.html", "good"]) == 2
    assert "--html needs --explain" in capsys.readouterr().err


def test_embeddings_limit_must_be_positive(small_imdb, tmp_path, capsys):
    assert main(["embeddings", "train", "--output", str(tmp_path / "v.bin"), "--limit", "0"]) == 2
    assert "Expected --limit >= 1. Received: 0" in capsys.readouterr().err
    assert not (tmp_path / "v.bin").exists()
