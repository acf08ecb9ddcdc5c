"""`rnnlab prepare translation` and `rnnlab train translation --prepared`: subword ids written a
chunk at a time equal the ids the in-memory `--data` path makes (TSV or one file per language,
a validation draw or `--valid-data`, one or two BPE models), a run from them is the same run, and
bad input or a broken folder is one clear error that leaves nothing behind."""

import gzip
import json

import numpy as np
import pytest

from rnnlab.cli import main
from rnnlab.data import prepared_folder
from rnnlab.data.ragged import RaggedTokens, RaggedWriter
from rnnlab.datasets import storage
from rnnlab.tasks.translation import prepared
from rnnlab.tasks.translation.config import TranslationConfig
from rnnlab.tasks.translation.task import TranslationTask

TINY = "--epochs 1 --units 8 --embedding-dim 8 --batch-size 8 --no-bucket".split()  # one shape to compile
WORDS = "homem mulher cão gato criança livro parque neve sofá bicicleta".split()
ENGLISH = "man woman dog cat child book park snow sofa bicycle".split()


def _pairs(count=90):
    """Portuguese-English pairs of different lengths (a few sentences longer than max_len 12)."""
    pairs = []
    for i in range(count):
        words = [WORDS[(i * 7 + k) % len(WORDS)] for k in range(1 + i % 9)]
        english = [ENGLISH[(i * 7 + k) % len(ENGLISH)] for k in range(1 + i % 9)]
        pairs.append((f"Um {' e '.join(words)}.", f"A {' and '.join(english)}."))
    pairs[-1] = ("Um cão\u2028e um gato.", "A dog\u2028and a cat.")  # a line separator inside a sentence
    return pairs


@pytest.fixture
def corpus(tmp_path):
    """The same pairs as a TSV (CRLF endings, a byte-order mark) and as gzipped files per language."""
    pairs = _pairs()
    tsv = tmp_path / "pairs.tsv"
    tsv.write_bytes("\ufeff".encode() + "".join(f"{s}\t{t}\r\n" for s, t in pairs).encode())
    for language, side in (("pt", 0), ("en", 1)):
        with gzip.open(tmp_path / f"corpus.{language}.gz", "wt", encoding="utf-8") as stream:
            stream.write("".join(pair[side] + "\n" for pair in pairs))
    valid = tmp_path / "valid.tsv"
    valid.write_text("".join(f"{s}\t{t}\n" for s, t in _pairs(12)[::-1]), encoding="utf-8")
    return {"tsv": str(tsv), "prefix": str(tmp_path / "corpus"), "valid": str(valid)}


def _same_examples(a, b):
    assert len(a) == len(b)
    np.testing.assert_array_equal(a.lengths(), b.lengths())
    for name in ("source", "target_in"):
        assert all(np.array_equal(x, y) for x, y in zip(a.inputs[name], b.inputs[name], strict=True))
    assert all(np.array_equal(x, y) for x, y in zip(a.targets, b.targets, strict=True))


@pytest.mark.parametrize(
    "data, extra",
    [
        ("tsv", {}),
        ("prefix", {"valid_data": "valid", "shared_vocabulary": True}),
        ("tsv", {"validation_split": 0.3, "seed": 5}),
    ],
)
def test_prepared_ids_equal_the_in_memory_ids(corpus, tmp_path, monkeypatch, data, extra):
    monkeypatch.setattr(prepared_folder, "CHUNK", 7)  # chunks that split the validation draw unevenly
    extra = {k: corpus[v] if k == "valid_data" else v for k, v in extra.items()}
    settings = {"data": corpus[data], "src": "pt", "tgt": "en", "vocab_size": 80, "max_len": 12, **extra}
    output = tmp_path / "prepared"
    prepared.prepare(TranslationConfig(**settings), output, log=lambda *_: None)
    task = TranslationTask()
    seed = {"seed": settings["seed"]} if "seed" in settings else {}
    in_memory, from_disk = TranslationConfig(**settings), TranslationConfig(prepared=str(output), **seed)
    assert (from_disk.src, from_disk.tgt, from_disk.vocab_size, from_disk.max_len) == ("pt", "en", 80, 12)
    expected, got = task.make_preprocessor(in_memory), task.make_preprocessor(from_disk)
    assert got.source.to_str() == expected.source.to_str() and got.target.to_str() == expected.target.to_str()
    for split in ("train", "validation", "test"):
        _same_examples(task.examples(in_memory, split, expected), task.examples(from_disk, split, got))
    test = task.examples(from_disk, "test", got)
    assert test.meta["references"] == task.examples(in_memory, "test", expected).meta["references"]


def test_a_run_from_prepared_pairs_is_the_run_from_the_file(corpus, tmp_path):
    output = tmp_path / "prepared"
    common = ["--src", "pt", "--tgt", "en", "--vocab-size", "80", "--max-len", "12"]
    assert main(["prepare", "translation", "--data", corpus["tsv"], *common, "--output", str(output)]) == 0
    records = {}
    for name, source in [
        ("file", ["--data", corpus["tsv"], *common]),
        ("prepared", ["--prepared", str(output)]),
    ]:
        run = tmp_path / f"run-{name}"
        assert main(["train", "translation", *TINY, *source, "--output", str(run)]) == 0
        records[name] = json.loads((run / "metrics.json").read_text())
    assert records["prepared"]["history"] == records["file"]["history"]
    assert records["prepared"]["test_bleu"] == records["file"]["test_bleu"]
    assert records["prepared"]["config"]["src"] == "pt"
    assert main(["evaluate", str(tmp_path / "run-prepared")]) == 0


def test_ragged_tokens_select_and_trim_without_reading(tmp_path):
    with RaggedWriter(tmp_path, "x") as writer:
        writer.add([np.array([1, 5, 6, 3]), np.array([1, 3])])
        writer.add([])
        writer.add([np.array([1, 7, 8, 9, 3])])
    tokens = RaggedTokens.open(tmp_path, "x", writer.summary())
    assert tokens.lengths().tolist() == [4, 2, 5] and tokens[-1].tolist() == [1, 7, 8, 9, 3]
    view = tokens.subset([2, 0]).trimmed(head=1)
    assert [s.tolist() for s in view] == [[7, 8, 9, 3], [5, 6, 3]]
    assert view.trimmed(tail=1).lengths().tolist() == [3, 2]
    assert view.subset([1])[0].tolist() == [5, 6, 3]
    with pytest.raises(IndexError, match="below 2"):
        view[2]
    with pytest.raises(ValueError, match=r"x.tokens: expected 44 bytes .* found no file"):
        RaggedTokens.open(tmp_path / "elsewhere", "x", writer.summary())


def test_bad_pairs_name_the_file_and_line_and_leave_nothing(corpus, tmp_path, capsys):
    def prepare(data, **settings):
        config = TranslationConfig(data=str(data), src="pt", tgt="en", vocab_size=80, **settings)
        prepared.prepare(config, tmp_path / "out", log=lambda *_: None)

    broken = tmp_path / "broken.tsv"
    broken.write_text("um cão\ta dog\num gato\n", encoding="utf-8")
    with pytest.raises(storage.DatasetError, match=r"broken.tsv, line 2: expected at least 2 tab-separated"):
        prepare(broken)
    broken.write_text("um cão\ta dog\n \ta cat\n", encoding="utf-8")
    with pytest.raises(storage.DatasetError, match=r"broken.tsv, line 2: an empty source sentence"):
        prepare(broken)
    broken.write_bytes("um cão\ta dog\n".encode() + "caf\xe9\tcoffee\n".encode("latin-1"))
    with pytest.raises(storage.DatasetError, match=r"broken.tsv, line 2: not UTF-8"):
        prepare(broken)
    (tmp_path / "short.pt").write_text("um\ndois\ntrês\n", encoding="utf-8")
    (tmp_path / "short.en").write_text("one\ntwo\n", encoding="utf-8")
    with pytest.raises(storage.DatasetError, match=r"short.pt has a line 3, the other file ends before it"):
        prepare(tmp_path / "short")
    (tmp_path / "test.sgm").write_text("<seg id='1'>x</seg>\n", encoding="utf-8")
    with pytest.raises(storage.DatasetError, match="not SGML"):
        prepare(f"{tmp_path / 'test.sgm'},{tmp_path / 'test.sgm'}")
    bad_valid = tmp_path / "bad-valid.tsv"
    bad_valid.write_text("um cão\n", encoding="utf-8")  # found while writing: the partial folder goes
    with pytest.raises(storage.DatasetError, match="bad-valid.tsv, line 1"):
        prepare(corpus["tsv"], valid_data=str(bad_valid))
    assert not (tmp_path / "out").exists() and not list(tmp_path.glob(".out.partial-*"))
    assert (
        main(["prepare", "translation", "--src", "pt", "--tgt", "en", "--output", str(tmp_path / "o")]) == 2
    )
    assert "expected --data PATH" in capsys.readouterr().err


def test_broken_folders_and_conflicting_settings_are_clear_errors(corpus, tmp_path):
    output = tmp_path / "prepared"
    config = TranslationConfig(data=corpus["tsv"], src="pt", tgt="en", vocab_size=80, max_len=12)
    prepared.prepare(config, output, log=lambda *_: None)
    with pytest.raises(ValueError, match="exists: rnnlab prepare writes a new folder"):
        prepared.prepare(config, output)
    with pytest.raises(ValueError, match="was prepared with max_len=12. Received: max_len=30"):
        TranslationConfig(prepared=str(output), max_len=30)
    with pytest.raises(
        ValueError, match="prepared with validation_split=0.2. Received: validation_split=0.5"
    ):
        TranslationConfig(prepared=str(output), validation_split=0.5)
    with pytest.raises(ValueError, match="brings its own pairs. Received: --data with it"):
        TranslationConfig(prepared=str(output), data=corpus["tsv"])
    with pytest.raises(ValueError, match="is not a folder written by `rnnlab prepare translation`"):
        prepared.read_manifest(tmp_path)
    with open(output / "train.target.tokens", "r+b") as stream:  # cut short, as by a full disk
        stream.truncate(8)
    with pytest.raises(ValueError, match=r"train.target.tokens: expected [\d,]+ bytes .* found 8 bytes"):
        prepared.split_tokens(output, "train")
    manifest = json.loads((output / "manifest.json").read_text())
    del manifest["files"]["valid.source"]
    (output / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(ValueError, match="manifest.json is damaged"):
        TranslationConfig(prepared=str(output))
