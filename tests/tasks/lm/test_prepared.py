"""`rnnlab prepare lm` and `rnnlab train lm --prepared`: token ids written block by block equal the
ids the in-memory `--data` path makes (whatever the blocks, files, line endings), a run from them is
the same run, and every broken folder or bad input is one clear error that leaves nothing behind."""

import json

import numpy as np
import pytest

from rnnlab.cli import main
from rnnlab.tasks.lm import prepared
from rnnlab.tasks.lm.config import LMConfig
from rnnlab.tasks.lm.task import LMTask, load_streams

TINY = (
    "--epochs 1 --units 8 --embedding-dim 8 --num-layers 1 --seq-len 16 --batch-size 16 --no-stateful".split()
)
LINES = [
    "the cat sat on the mat",
    "a dog ran far",
    "",
    "the dog sat down",
    "ein Hund lief weit",
    "猫が座った",
]


@pytest.fixture
def book(tmp_path):
    """A folder of chapters: CRLF endings, a byte-order mark, an empty file, no final line break."""
    folder = tmp_path / "book"
    folder.mkdir()
    (folder / "1.txt").write_text("\r\n".join(LINES * 6) + "\r\n", encoding="utf-8", newline="")
    (folder / "2.txt").write_bytes("\ufeff".encode() + "\n".join(reversed(LINES * 5)).encode())
    (folder / "3.txt").write_text("", encoding="utf-8")
    (folder / "4.txt").write_text("\n".join(LINES * 7) + "\nzebras quokkas ünïcode", encoding="utf-8")
    return folder  # the last line's words and letters only in the held-out tenth: unknown to the vocabulary


@pytest.mark.parametrize("level", ["char", "word"])
@pytest.mark.parametrize("block", [5, 64, 1 << 22])
def test_prepared_ids_equal_the_in_memory_ids(book, tmp_path, monkeypatch, level, block):
    monkeypatch.setattr(prepared, "BLOCK_CHARS", block)  # blocks that cut lines and \r\n pairs
    output = tmp_path / f"prepared-{level}-{block}"
    manifest = prepared.prepare(str(book), output, level=level, log=lambda *_: None)
    config = LMConfig(data=str(book), level=level)
    expected = LMTask().make_preprocessor(config)
    streams = load_streams(config)
    ids = prepared.token_streams(output)
    got = prepared.prepared_preprocessor(output)
    assert got.vocabulary.tokens == expected.vocabulary.tokens
    assert ("quokkas" if level == "word" else "ü") not in got.vocabulary.tokens
    np.testing.assert_array_equal(ids["train"], expected.encode(streams["train"]))
    np.testing.assert_array_equal(ids["valid"], expected.encode(streams["valid"]))
    assert manifest["splits"]["train"]["tokens"] == len(streams["train"])
    assert prepared.checksums_match(output)
    assert sorted(p.name for p in output.iterdir()) == [
        "manifest.json",
        "preprocessor.json",
        "train.bin",
        "valid.bin",
    ]


def test_a_run_from_prepared_tokens_is_the_run_from_the_text(book, tmp_path):
    output = tmp_path / "prepared"
    assert main(["prepare", "lm", "--data", str(book), "--level", "word", "--output", str(output)]) == 0
    runs = {}
    for name, source in [
        ("text", ["--data", str(book), "--level", "word"]),
        ("prepared", ["--prepared", str(output)]),
    ]:
        assert main(["train", "lm", *TINY, *source, "--output", str(tmp_path / f"run-{name}")]) == 0
        runs[name] = json.loads((tmp_path / f"run-{name}" / "metrics.json").read_text())
    assert runs["prepared"]["history"] == runs["text"]["history"]
    assert runs["prepared"]["test_loss"] == runs["text"]["test_loss"]
    assert runs["prepared"]["prepared"] == str(output) and "data" not in runs["prepared"]
    assert main(["evaluate", str(tmp_path / "run-prepared")]) == 0


def test_broken_prepared_folders_and_bad_inputs_are_clear_errors(book, tmp_path, capsys):
    output = tmp_path / "prepared"
    prepared.prepare(str(book), output, log=lambda *_: None)
    with pytest.raises(ValueError, match="exists: rnnlab prepare writes a new folder"):
        prepared.prepare(str(book), output)
    with pytest.raises(ValueError, match="is not a folder written by `rnnlab prepare lm`"):
        prepared.read_manifest(book)
    with pytest.raises(ValueError, match="holds char tokens. Received: level='word'"):
        LMConfig(prepared=str(output), level="word")
    assert LMConfig(prepared=str(output)).token_level == "char"
    with open(output / "train.bin", "r+b") as stream:  # cut short, as by a full disk
        stream.truncate(8)
    with pytest.raises(ValueError, match=r"train.bin: expected [\d,]+ bytes .* found 8 bytes"):
        prepared.token_streams(output)
    with pytest.raises(ValueError, match="--data, --max-vocab with it"):
        LMConfig(prepared=str(output), data=str(book), max_vocab=100)
    with pytest.raises(ValueError, match="--stateful with it"):
        LMConfig(prepared=str(output), stateful=True)
    latin = tmp_path / "latin.txt"
    latin.write_bytes("café crème\n".encode("latin-1") * 10)
    assert main(["prepare", "lm", "--data", str(latin), "--output", str(tmp_path / "l")]) == 2
    assert "is not UTF-8 text" in capsys.readouterr().err
    with pytest.raises(ValueError, match="cuts characters or words"):
        prepared.prepare(str(book), tmp_path / "s", level="subword")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["book", "latin.txt", "prepared"]
