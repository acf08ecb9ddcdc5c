"""The translation task end to end on a few real Multi30k pairs, and its errors."""

import json

import pytest

from rnnlab.cli import main

TINY = ["--epochs", "1", "--units", "8", "--embedding-dim", "8", "--vocab-size", "120", "--max-len", "24"]


@pytest.fixture(scope="module")
def run(real_multi30k, tmp_path_factory):
    out = tmp_path_factory.mktemp("translation") / "run"
    assert (
        main(
            ["train", "translation", *TINY, "--limit", "40", "--label-smoothing", "0.1", "--output", str(out)]
        )
        == 0
    )
    return out


def test_metrics_hold_bleu_chrf_and_perplexity(run):
    metrics = json.loads((run / "metrics.json").read_text())
    for key in ("test_bleu", "test_bleu_lc", "test_chrf", "test_perplexity", "test_loss", "val_perplexity"):
        assert isinstance(metrics[key], float) and metrics[key] >= 0
    # Perplexity is of the unsmoothed cross-entropy, not of the smoothed loss.
    assert metrics["test_perplexity"] == pytest.approx(2.718281828 ** metrics["test_cross_entropy"], rel=1e-5)
    val = metrics["history"]["val_cross_entropy"][metrics["best_epoch"] - 1]
    assert metrics["val_perplexity"] == pytest.approx(2.718281828**val, rel=1e-5)
    assert metrics["num_train"] == 40 and metrics["num_validation"] == 1014 and metrics["num_test"] == 40
    assert metrics["config"]["src"] == "de" and metrics["config"]["tgt"] == "en"


def test_translate_prints_one_line_per_sentence_and_plots(run, tmp_path, capsys, monkeypatch):
    capsys.readouterr()
    assert main(["translate", str(run), "Ein Mann fährt Fahrrad.", "Zwei Hunde spielen.", "--beam", "3"]) == 0
    assert len(capsys.readouterr().out.splitlines()) == 2
    monkeypatch.setattr("sys.stdin", __import__("io").StringIO("Ein Hund.\n\nEine Frau.\n"))
    assert main(["translate", str(run)]) == 0
    assert len(capsys.readouterr().out.splitlines()) == 2


@pytest.mark.parametrize(
    "args, message",
    [
        (["   "], "Expected a non-empty sentence"),
        (["x" * 2001], "Expected a sentence of at most 2000 characters. Received: 2001"),
        (["Ein Hund.", "--beam", "0"], "Expected beam_size >= 1. Received: beam_size=0"),
    ],
)
def test_bad_sentences_are_clear_errors(run, capsys, args, message):
    assert main(["translate", str(run), *args]) == 2
    assert message in capsys.readouterr().err


def test_unknown_characters_get_a_warning(run, capsys):
    assert main(["translate", str(run), "漢字 ☃"]) == 0
    assert "never seen in training" in capsys.readouterr().err


def test_a_run_of_another_task_is_refused(small_imdb, tmp_path, capsys):
    sentiment = tmp_path / "sentiment"
    assert (
        main(
            [
                "train",
                "sentiment",
                "--epochs",
                "1",
                "--units",
                "4",
                "--limit",
                "20",
                "--output",
                str(sentiment),
            ]
        )
        == 0
    )
    capsys.readouterr()
    assert main(["translate", str(sentiment), "Ein Hund."]) == 2
    assert "is a 'sentiment' run; `rnnlab translate` needs a translation run" in capsys.readouterr().err
    assert main(["evaluate", str(sentiment), "--beam-size", "3"]) == 2
    err = capsys.readouterr().err
    assert (
        "is a 'sentiment' run; its evaluation settings are: test_data, text_field, label_field, encoding. "
        in err
    )
    assert "Received: ['beam_size']" in err


def test_same_languages_are_refused(capsys, tmp_path):
    assert main(["train", "translation", "--src", "en", "--tgt", "en", "--output", str(tmp_path / "x")]) == 2
    assert "Expected different source and target languages" in capsys.readouterr().err


def test_evaluate_with_a_wider_beam_writes_its_own_record(run, capsys):
    assert main(["evaluate", str(run), "--beam-size", "3", "--length-penalty", "1.0"]) == 0
    record = json.loads((run / "evaluation-beam_size-3-length_penalty-1.0.json").read_text())
    assert record["settings"] == {"beam_size": 3, "length_penalty": 1.0}
    assert "test_bleu" in record and record["num_test"] == 40
    assert record["wall_time_s"] > 0
    assert "test_bleu=" in capsys.readouterr().out
    assert main(["evaluate", str(run), "--beam-size", "0"]) == 2
    assert "Expected beam_size >= 1. Received: beam_size=0" in capsys.readouterr().err
