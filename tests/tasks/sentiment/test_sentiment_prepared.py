"""`rnnlab prepare sentiment` and `rnnlab train sentiment --prepared`: token ids and labels written a
chunk at a time equal the ones the in-memory `--data` path makes (CSV, JSON Lines, words or
subwords, a held-out test share or `--test-data`, `--valid-data`), a run from them is the same run,
and bad input or a broken folder is one clear error that leaves nothing behind."""

import json

import numpy as np
import pytest

from rnnlab.cli import main
from rnnlab.data import prepared_folder
from rnnlab.datasets import storage
from rnnlab.tasks.sentiment import prepared
from rnnlab.tasks.sentiment.config import SentimentConfig
from rnnlab.tasks.sentiment.task import SentimentTask

TINY = "--epochs 1 --units 8 --embedding-dim 8 --batch-size 8 --maxlen 12".split()
GOOD = "wonderful moving superb funny warm".split()
BAD = "dull boring awful flat tedious".split()


def _examples(count=120):
    """Reviews of three labels and different lengths (some longer than maxlen 12)."""
    rows = []
    for i in range(count):
        label = ("negative", "neutral", "positive")[i % 3]
        words = {"negative": BAD, "neutral": ["plot", "actor"], "positive": GOOD}[label]
        text = " ".join(words[(i + k) % len(words)] for k in range(2 + i % 15))
        rows.append((f"The film was {text}, said reviewer {i}.", label))
    return rows


@pytest.fixture
def files(tmp_path):
    rows = _examples()
    csv_file = tmp_path / "reviews.csv"
    csv_file.write_bytes(
        "\ufeffid,review,stars\r\n".encode()
        + "".join(f'{i},"{t}",{s}\r\n' for i, (t, s) in enumerate(rows)).encode()
    )
    jsonl = tmp_path / "reviews.jsonl"
    jsonl.write_text("".join(json.dumps({"text": t, "label": s}) + "\n" for t, s in rows), encoding="utf-8")
    numbers = tmp_path / "numbers.jsonl"  # labels whose string order (1, 10, 2) is not their order
    stars = {"negative": 1, "neutral": 2, "positive": 10}
    numbers.write_text("".join(json.dumps({"text": t, "label": stars[s]}) + "\n" for t, s in rows))
    extra = tmp_path / "extra.jsonl"
    extra.write_text("".join(json.dumps({"text": t, "label": s}) + "\n" for t, s in _examples(15)[::-1]))
    return {"csv": str(csv_file), "jsonl": str(jsonl), "numbers": str(numbers), "extra": str(extra)}


@pytest.mark.parametrize(
    "data, settings",
    [
        ("csv", {"text_field": "review", "label_field": "stars"}),
        ("jsonl", {"tokenizer": "subword", "max_features": 60, "valid_data": "extra"}),
        ("jsonl", {"test_data": "extra", "stop_words": True, "test_split": 0.3}),
        ("numbers", {"test_split": 0.3}),
    ],
)
def test_prepared_ids_equal_the_in_memory_ids(files, tmp_path, monkeypatch, data, settings):
    monkeypatch.setattr(prepared_folder, "CHUNK", 7)  # chunks that split the test draw unevenly
    settings = {k: files[v] if k.endswith("_data") else v for k, v in settings.items()}
    settings = {"data": files[data], "max_features": 50, "maxlen": 12, **settings}
    output = tmp_path / "prepared"
    prepared.prepare(SentimentConfig(**settings), output, log=lambda *_: None)
    task = SentimentTask()
    for seed, limit in ((0, None), (3, 40)):
        in_memory = SentimentConfig(**settings, seed=seed, limit=limit)
        own = {"test_data": settings["test_data"]} if "test_data" in settings else {}
        from_disk = SentimentConfig(prepared=str(output), seed=seed, limit=limit, **own)
        assert from_disk.maxlen == 12 and from_disk.max_features == settings["max_features"]
        expected, got = task.make_preprocessor(in_memory), task.make_preprocessor(from_disk)
        assert got.get_config() == expected.get_config()
        assert task.holds_out_validation(from_disk) == task.holds_out_validation(in_memory)
        splits = ("train", "test", "validation") if "valid_data" in settings else ("train", "test")
        for split in splits:
            a, b = task.examples(in_memory, split, expected), task.examples(from_disk, split, got)
            assert len(a) == len(b) > 0
            assert all(np.array_equal(x, y) for x, y in zip(a.inputs, b.inputs, strict=True))
            np.testing.assert_array_equal(a.targets, b.targets)
            np.testing.assert_array_equal(a.lengths(), b.lengths())


def test_a_run_from_prepared_texts_is_the_run_from_the_file(files, tmp_path):
    output = tmp_path / "prepared"
    own = ["--max-features", "50", "--maxlen", "12"]
    assert main(["prepare", "sentiment", "--data", files["jsonl"], *own, "--output", str(output)]) == 0
    records = {}
    for name, source in {
        "file": ["--data", files["jsonl"], *own],
        "prepared": ["--prepared", str(output)],
    }.items():
        run = tmp_path / f"run-{name}"
        assert main(["train", "sentiment", *TINY, *source, "--output", str(run)]) == 0
        records[name] = json.loads((run / "metrics.json").read_text())
    assert records["prepared"]["history"] == records["file"]["history"]
    assert records["prepared"]["test_accuracy"] == records["file"]["test_accuracy"]
    assert main(["evaluate", str(tmp_path / "run-prepared"), "--test-data", files["extra"]]) == 0


def test_bad_texts_name_the_file_and_line_and_leave_nothing(files, tmp_path, capsys):
    def prepare(data, **settings):
        prepared.prepare(SentimentConfig(data=str(data), **settings), tmp_path / "out", log=lambda *_: None)

    broken = tmp_path / "broken.jsonl"
    broken.write_text('{"text": "fine", "label": "a"}\n{"text": "", "label": "b"}\n', encoding="utf-8")
    with pytest.raises(storage.DatasetError, match=r"broken.jsonl, line 2: an empty text"):
        prepare(broken)
    broken.write_bytes(
        b'{"text": "fine", "label": "a"}\n' + '{"text": "caf\xe9", "label": "b"}\n'.encode("latin-1")
    )
    with pytest.raises(storage.DatasetError, match=r"broken.jsonl, line 2: not utf-8 text"):
        prepare(broken)
    one = tmp_path / "one.jsonl"
    one.write_text('{"text": "fine", "label": "a"}\n' * 5, encoding="utf-8")
    with pytest.raises(storage.DatasetError, match="has one label"):
        prepare(one)
    bad_test = tmp_path / "bad-test.jsonl"  # found while writing: the partial folder goes
    bad_test.write_text('{"text": "fine", "label": "unheard-of"}\n', encoding="utf-8")
    with pytest.raises(storage.DatasetError, match="bad-test.jsonl has the label 'unheard-of'"):
        prepare(files["jsonl"], test_data=str(bad_test))
    assert not (tmp_path / "out").exists() and not list(tmp_path.glob(".out.partial-*"))
    assert main(["prepare", "sentiment", "--output", str(tmp_path / "o")]) == 2
    assert "expected --data PATH" in capsys.readouterr().err


def test_broken_folders_and_conflicting_settings_are_clear_errors(files, tmp_path):
    output = tmp_path / "prepared"
    config = SentimentConfig(data=files["jsonl"], max_features=50, maxlen=12)
    prepared.prepare(config, output, log=lambda *_: None)
    with pytest.raises(ValueError, match="exists: rnnlab prepare writes a new folder"):
        prepared.prepare(config, output)
    with pytest.raises(ValueError, match="was prepared with maxlen=12. Received: maxlen=30"):
        SentimentConfig(prepared=str(output), maxlen=30)
    with pytest.raises(ValueError, match="Received: --data with it"):
        SentimentConfig(prepared=str(output), data=files["csv"])
    with pytest.raises(ValueError, match="Received: --dataset with it"):
        SentimentConfig(prepared=str(output), dataset="sst3")
    with pytest.raises(ValueError, match="is not a folder written by `rnnlab prepare sentiment`"):
        prepared.read_manifest(tmp_path)
    with open(output / "train.labels", "r+b") as stream:  # cut short, as by a full disk
        stream.truncate(8)
    with pytest.raises(ValueError, match=r"train.labels: expected [\d,]+ bytes .* found 8 bytes"):
        prepared.split_examples(output, "train")
