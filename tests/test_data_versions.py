"""A run keeps the sha256 of the user's files it read (`rnnlab.datasets.versions`); `--resume`
and `evaluate` refuse files that changed since, for every task that reads `--data`."""

import json
import os

import pytest

from rnnlab import config as configs
from rnnlab.cli import main
from rnnlab.datasets import storage, versions
from rnnlab.tasks import get_task
from rnnlab.training import checkpoints
from rnnlab.training.signals import TrainingInterrupted
from rnnlab.training.trainer import train_task

TRANSLATION = "--epochs 1 --units 8 --embedding-dim 8 --vocab-size 120 --max-len 24".split()
PAIRS = [
    ("Um homem anda de bicicleta.", "A man rides a bicycle."),
    ("Dois cães brincam na neve.", "Two dogs play in the snow."),
    ("Uma mulher lê um livro.", "A woman reads a book."),
    ("Um gato dorme no sofá.", "A cat sleeps on the sofa."),
]


def test_the_files_a_setting_names(tmp_path):
    (tmp_path / "train.pt").write_text("a\n")
    (tmp_path / "train.en").write_text("b\n")
    (tmp_path / "train.pt.bak").write_text("c\n")  # PREFIX.* (a prefix reads its language's file)
    (tmp_path / "trainer.pt").write_text("d\n")
    book = tmp_path / "book"
    (book / ".git").mkdir(parents=True)
    (book / ".git" / "HEAD").write_text("x")
    (book / "2.txt").write_text("two")
    (book / "1.txt").write_text("one")
    names = lambda value: [p.relative_to(tmp_path).as_posix() for p in versions.files_named(value)]  # noqa: E731
    assert names(str(tmp_path / "train")) == ["train.en", "train.pt", "train.pt.bak"]
    assert names(str(tmp_path / "train.pt")) == ["train.pt"]
    assert names(f"{tmp_path / 'train.pt'},{tmp_path / 'train.en'}") == ["train.pt", "train.en"]
    assert names(str(book)) == ["book/1.txt", "book/2.txt"]
    assert versions.files_named(str(tmp_path / "nothing")) == []
    assert versions.version(str(tmp_path / "nothing")) is None
    before = versions.version(str(book))
    os.utime(book / "1.txt", (0, 0))
    assert versions.version(str(book)) == before  # the same bytes: the same version
    (book / "1.txt").write_text("One")
    assert versions.version(str(book)) != before
    (book / "1.txt").write_text("one")
    (book / "1.txt").rename(book / "0.txt")
    assert versions.version(str(book)) != before  # a renamed file reads in another order


def test_resume_refuses_changed_text_and_keeps_the_partial_run(tmp_path, monkeypatch):
    text = tmp_path / "book.txt"
    text.write_text("the cat sat on the mat and the dog ran far away\n" * 60, encoding="utf-8")
    task = get_task("lm")
    config = configs.resolve(
        task.config_cls, overrides={"data": str(text), "epochs": 2, "units": 8, "embedding_dim": 8,
                                    "num_layers": 1, "seq_len": 16, "batch_size": 4, "checkpoint_every": 1}
    )  # fmt: skip
    real_save = checkpoints.Checkpoints.save

    def save_then_stop(self, model, state):
        real_save(self, model, state)
        raise KeyboardInterrupt

    monkeypatch.setattr(checkpoints.Checkpoints, "save", save_then_stop)
    with pytest.raises(TrainingInterrupted):
        train_task(task, config, tmp_path / "run", log=lambda *_: None)
    monkeypatch.setattr(checkpoints.Checkpoints, "save", real_save)
    recorded = json.loads((tmp_path / "run.partial" / "run.json").read_text())["data"]
    assert recorded == {"data": {"path": str(text), "sha256": versions.version(str(text))}}
    with open(text, "a", encoding="utf-8") as file:
        file.write("a new line\n")
    with pytest.raises(storage.DatasetError, match=r"book.txt \(--data\) changed since the run was trained"):
        train_task(task, config, tmp_path / "run", resume=True, log=lambda *_: None)
    assert (tmp_path / "run.partial" / "checkpoints").is_dir() and not (tmp_path / "run").exists()


def test_evaluate_refuses_changed_pairs_unless_given_test_data(tmp_path, capsys):
    for code, column in (("pt", 0), ("en", 1)):
        lines = "".join(pair[column] + "\n" for pair in PAIRS * 8)
        (tmp_path / f"train.{code}").write_text(lines, encoding="utf-8")
    test = tmp_path / "test.tsv"
    test.write_text("".join(f"{pt}\t{en}\n" for pt, en in PAIRS), encoding="utf-8")
    run = tmp_path / "run"
    args = ["--data", str(tmp_path / "train"), "--src", "pt", "--tgt", "en", "--output", str(run)]
    assert main(["train", "translation", *TRANSLATION, *args]) == 0
    assert main(["evaluate", str(run)]) == 0
    with open(tmp_path / "train.en", "a", encoding="utf-8") as file:
        file.write("One more line.\n")
    capsys.readouterr()
    assert main(["evaluate", str(run)]) == 2
    err = capsys.readouterr().err
    assert "train (--data) changed since the run was trained" in err and "--test-data FILE" in err
    assert main(["evaluate", str(run), "--test-data", str(test)]) == 0
