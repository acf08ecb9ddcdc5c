"""`rnnlab train lm --data`: language models on the user's own text (a file or a folder), in
characters, words or subwords; the same run as a corpus when the text is the corpus's."""

import json

import numpy as np
import pytest

from rnnlab import config as configs
from rnnlab.cli import main
from rnnlab.datasets import tinyshakespeare, word_corpora
from rnnlab.tasks.lm.config import LMConfig
from rnnlab.tasks.lm.task import load_streams

TINY = "--epochs 1 --units 8 --embedding-dim 8 --num-layers 1 --seq-len 16 --batch-size 16".split()
LINES = ["the cat sat on the mat", "a dog ran far", "the dog sat down", "ein Hund lief weit", "猫が座った"]


def test_tinyshakespeare_as_data_is_the_tinyshakespeare_run(real_tinyshakespeare, tmp_path):
    path = str(tinyshakespeare.path(allow_download=False))
    assert load_streams(LMConfig(data=path)) == load_streams(LMConfig(corpus="tinyshakespeare"))
    histories = []
    for name, source in [("corpus", ["--corpus", "tinyshakespeare"]), ("data", ["--data", path])]:
        run = tmp_path / name
        assert main(["train", "lm", *TINY, "--limit", "3000", *source, "--output", str(run)]) == 0
        histories.append(json.loads((run / "metrics.json").read_text()))
    corpus, data = histories
    assert data["history"] == corpus["history"] and data["test_loss"] == corpus["test_loss"]
    assert corpus["corpus"] == "tinyshakespeare" and data["data"] == path and "corpus" not in data


def test_words_are_read_as_ptb_files_are(tmp_path):
    path = tmp_path / "words.txt"
    path.write_text("\n".join(LINES * 4) + "\n", encoding="utf-8")
    streams = load_streams(LMConfig(data=str(path), level="word"))
    tokens = word_corpora.read_tokens(path)  # the PTB reader: each line's words, then <eos>
    cut = int(len(tokens) * 0.9)
    assert streams["train"] == tokens[:cut] and streams["valid"] == tokens[cut:] == streams["test"]


def test_a_folder_with_a_validation_file_trains_words_and_generates(tmp_path, capsys):
    folder = tmp_path / "book"
    folder.mkdir()
    for i in range(3):
        (folder / f"chapter-{i}.txt").write_text("\n".join(LINES * 10) + "\n", encoding="utf-8")
    valid = tmp_path / "valid.txt"
    valid.write_text("\n".join(reversed(LINES * 4)), encoding="utf-8")
    run = tmp_path / "run"
    args = ["train", "lm", *TINY, "--data", str(folder), "--valid-data", str(valid), "--level", "word"]
    assert main([*args, "--output", str(run)]) == 0
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["data"] == str(folder) and metrics["val_perplexity"] == pytest.approx(
        np.exp(metrics["val_loss"])
    )
    num_words = 3 * 10 * sum(len(line.split()) + 1 for line in LINES)
    assert metrics["num_train"] == (num_words - 1) // 16
    capsys.readouterr()
    assert main(["generate", str(run), "--prompt", "the dog", "--length", "4", "--seed", "0"]) == 0
    assert len(capsys.readouterr().out.split()) == 6
    assert main(["evaluate", str(run)]) == 0
    again = json.loads((run / "evaluation.json").read_text())
    assert again["test_loss"] == pytest.approx(metrics["test_loss"], rel=1e-5)


def test_subwords_take_each_line_as_a_document(tmp_path):
    path = tmp_path / "reviews.txt"
    path.write_text("\n\n".join(f"{line}, review {i}" for i, line in enumerate(LINES * 8)), encoding="utf-8")
    streams = load_streams(LMConfig(data=str(path), level="subword"))
    assert len(streams["train"]) == 36 and len(streams["valid"]) == 4  # blank lines are not documents
    assert streams["valid"][-1] == "猫が座った, review 39"
    run = tmp_path / "run"
    assert main(["train", "lm", *TINY, "--data", str(path), "--level", "subword", "--output", str(run)]) == 0
    assert "val_perplexity" in json.loads((run / "metrics.json").read_text())


@pytest.mark.parametrize(
    "make, extra, message",
    [
        (lambda d: d / "missing.txt", [], "missing.txt is nothing (no such file)"),
        (lambda d: d, [], "is a folder without .txt files"),
        (
            lambda d: _write(d / "latin1.txt", "Caf\u00e9 au lait\n".encode("latin-1")),
            [],
            "not UTF-8 text (byte 3",
        ),
        (lambda d: _write(d / "one.txt", b"x"), [], "holds only 1 char token"),
        (
            lambda d: _write(d / "ok.txt", b"some text\n" * 20),
            ["--valid-data", "nowhere.txt"],
            "nowhere.txt is nothing",
        ),
    ],
)
def test_bad_text_is_one_line_and_leaves_no_output(tmp_path, capsys, make, extra, message):
    folder = tmp_path / "in"
    folder.mkdir()
    data = make(folder)
    output = tmp_path / "out"
    assert main(["train", "lm", *TINY, "--data", str(data), *extra, "--output", str(output)]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and message in err
    assert not output.exists()


def test_data_settings_that_contradict_each_other_are_refused(capsys):
    with pytest.raises(ValueError, match="valid_data needs data"):
        configs.resolve(LMConfig, overrides={"valid_data": "v.txt"})
    with pytest.raises(ValueError, match="corpus 'tinyshakespeare' is char-level. Received: level='word'"):
        configs.resolve(LMConfig, overrides={"level": "word"})
    assert configs.resolve(LMConfig, overrides={"corpus": "ptb"}).level == "word"
    with pytest.raises(SystemExit) as exit:
        main(["train", "lm", "--data", "x.txt", "--level", "bytes"])
    assert exit.value.code == 2
    assert "invalid choice: 'bytes'" in capsys.readouterr().err


def _write(path, data):
    path.write_bytes(data)
    return path


def test_a_relative_path_is_kept_absolute_so_the_run_evaluates_from_anywhere(tmp_path, monkeypatch):
    (tmp_path / "book.txt").write_text("It was a dark and stormy night.\n" * 40, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    assert main(["train", "lm", *TINY, "--data", "book.txt", "--output", "run"]) == 0
    assert f'data = "{tmp_path / "book.txt"}"' in (tmp_path / "run" / "config.toml").read_text()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    assert main(["evaluate", str(tmp_path / "run")]) == 0
    other = tmp_path / "other.txt"
    other.write_text("A bright and quiet morning.\n" * 10, encoding="utf-8")
    assert main(["evaluate", str(tmp_path / "run"), "--test-data", "../other.txt"]) == 0
    record = json.loads((tmp_path / "run" / "evaluation-test_data-other.txt.json").read_text())
    assert record["settings"] == {"test_data": str(other)} and record["test_loss"] > 0
