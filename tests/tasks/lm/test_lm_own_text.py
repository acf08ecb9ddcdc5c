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
    assert len(tokens) == 4 * (6 + 4 + 4 + 4 + 1 + 5) == 96  # 猫が座った is one word
    assert len(streams["train"]) == 86 and len(streams["valid"]) == 10 and streams["valid"] == streams["test"]
    assert streams["train"] + streams["valid"] == tokens


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
    assert not list(output.parent.glob("out*"))  # no run, no partial run


def test_data_settings_that_contradict_each_other_are_refused(capsys):
    with pytest.raises(ValueError, match="valid_data needs data"):
        configs.resolve(LMConfig, overrides={"valid_data": "v.txt"})
    with pytest.raises(ValueError, match="corpus 'tinyshakespeare' is char-level. Received: level='word'"):
        configs.resolve(LMConfig, overrides={"level": "word"})
    assert configs.resolve(LMConfig, overrides={"corpus": "ptb"}).token_level == "word"
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
    (record_path,) = (tmp_path / "run").glob("evaluation-test_data-other.txt-*.json")
    record = json.loads(record_path.read_text())
    assert record["settings"] == {"test_data": str(other)} and record["test_loss"] > 0
    # The training text moved away: another test text still evaluates (it alone is read).
    (tmp_path / "book.txt").rename(tmp_path / "moved.txt")
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "other.txt").write_text("Another quiet evening.\n" * 10, encoding="utf-8")
    assert main(["evaluate", str(tmp_path / "run"), "--test-data", str(tmp_path / "b" / "other.txt")]) == 0
    assert len(list((tmp_path / "run").glob("evaluation-test_data-other.txt-*.json"))) == 2  # one per file


def test_an_edited_file_is_read_again_and_symlinked_files_are_read(tmp_path):
    folder = tmp_path / "book"
    folder.mkdir()
    (folder / "a.txt").write_text("first version\n", encoding="utf-8")
    outside = tmp_path / "elsewhere.txt"
    outside.write_text("linked chapter\n", encoding="utf-8")
    (folder / "b.txt").symlink_to(outside)
    config = LMConfig(data=str(folder), valid_data=str(outside))
    assert load_streams(config)["train"] == "first version\nlinked chapter\n"
    (folder / "a.txt").write_text("second, longer version\n", encoding="utf-8")
    assert load_streams(config)["train"] == "second, longer version\nlinked chapter\n"


def test_text_too_short_for_a_window_names_the_file(tmp_path, capsys):
    path = tmp_path / "short.txt"
    path.write_text("Short text, long windows.\n" * 8, encoding="utf-8")  # the last tenth: 20 characters
    assert (
        main(["train", "lm", *TINY, "--seq-len", "32", "--data", str(path), "--output", str(tmp_path / "o")])
        == 2
    )
    err = capsys.readouterr().err
    assert f"The validation text of {path} is too short" in err and "--seq-len" in err


def test_a_runs_config_is_a_recipe_for_another_corpus(char_run_of_data, tmp_path):
    corpus_run, _ = char_run_of_data
    assert "level" not in (corpus_run / "config.toml").read_text()  # a corpus run names no level
    config = configs.resolve(LMConfig, corpus_run / "config.toml", overrides={"corpus": "ptb"})
    assert config.token_level == "word"


def test_init_from_reads_the_users_text_as_the_starting_runs_tokens(char_run_of_data, tmp_path, capsys):
    corpus_run, path = char_run_of_data
    run = tmp_path / "adapted"
    assert (
        main(
            ["train", "lm", *TINY, "--data", str(path), "--init-from", str(corpus_run), "--output", str(run)]
        )
        == 0
    )
    assert json.loads((run / "metrics.json").read_text())["data"] == str(path)
    words = tmp_path / "words-run"
    args = ["train", "lm", *TINY, "--data", str(path), "--level", "word", "--init-from", str(corpus_run)]
    assert main([*args, "--output", str(words)]) == 2
    assert "a char-level model cannot start a word-level run" in capsys.readouterr().err


@pytest.fixture
def char_run_of_data(real_tinyshakespeare, tmp_path):
    """A Tiny Shakespeare run, and a text file of other characters."""
    run = tmp_path / "shakespeare"
    assert main(["train", "lm", *TINY, "--limit", "3000", "--output", str(run)]) == 0
    path = tmp_path / "letters.txt"
    path.write_text("Dear friend, I write to thee of the weather.\n" * 30, encoding="utf-8")
    return run, path
