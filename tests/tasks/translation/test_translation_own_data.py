"""`rnnlab train translation --data`: the user's sentence pairs (TSV, one file per language, or two
files joined by a comma) between any two languages; `rnnlab evaluate RUN --test-data`."""

import gzip
import json

import pytest

from rnnlab import config as configs
from rnnlab.cli import main
from rnnlab.datasets import multi30k
from rnnlab.tasks.translation.config import TranslationConfig
from rnnlab.tasks.translation.pairs import load_pairs

TINY = ["--epochs", "1", "--units", "8", "--embedding-dim", "8", "--vocab-size", "120", "--max-len", "24"]
PT_EN = [
    ("Um homem anda de bicicleta.", "A man rides a bicycle."),
    ("Dois cães brincam na neve.", "Two dogs play in the snow."),
    ("Uma mulher lê um livro.", "A woman reads a book."),
    ("As crianças correm no parque.", "The children run in the park."),
    ("Um gato dorme no sofá.", "A cat sleeps on the sofa."),
]


@pytest.fixture
def multi30k_prefixes(real_multi30k):
    folder = multi30k.path("train", "de", allow_download=False).parent
    return {
        "train": str(folder / "train"),
        "val": str(folder / "val"),
        "test": str(folder / "test_2016_flickr"),
    }


def test_multi30k_through_data_is_the_builtin_run(multi30k_prefixes, tmp_path):
    given = TranslationConfig(
        data=multi30k_prefixes["train"],
        valid_data=multi30k_prefixes["val"],
        test_data=multi30k_prefixes["test"],
    )
    for split in ("train", "val", "test"):
        assert load_pairs(given, split) == load_pairs(TranslationConfig(), split)
    records = []
    for name, extra in [
        ("builtin", []),
        ("data", ["--data", given.data, "--valid-data", given.valid_data, "--test-data", given.test_data]),
    ]:
        run = tmp_path / name
        assert main(["train", "translation", *TINY, "--limit", "40", *extra, "--output", str(run)]) == 0
        records.append(json.loads((run / "metrics.json").read_text()))
    builtin, data = records
    assert data["history"] == builtin["history"]
    assert (data["test_bleu"], data["test_chrf"]) == (builtin["test_bleu"], builtin["test_chrf"])
    # Another test set for a finished run, beside its record: the same test pairs give the same BLEU.
    assert main(["evaluate", str(tmp_path / "builtin"), "--test-data", given.test_data]) == 0
    (record,) = (tmp_path / "builtin").glob("evaluation-test_data-test_2016_flickr-*.json")
    again = json.loads(record.read_text())
    assert again["test_bleu"] == builtin["test_bleu"] and again["num_test"] == 40
    assert json.loads((tmp_path / "builtin" / "metrics.json").read_text()) == builtin


def test_a_tsv_between_any_two_languages_trains_and_translates(tmp_path, capsys):
    path = tmp_path / "pt-en.tsv"
    path.write_text("\ufeff" + "".join(f"{pt}\t{en}\r\n" for pt, en in PT_EN * 8), encoding="utf-8")
    config = TranslationConfig(data=str(path), src="pt", tgt="en", seed=3)
    train, val = load_pairs(config, "train"), load_pairs(config, "val")
    assert len(train[0]) == 32 and len(val[0]) == 8 and load_pairs(config, "test") == val
    assert set(zip(*train, strict=True)) | set(zip(*val, strict=True)) == set(PT_EN)
    run = tmp_path / "run"
    args = ["train", "translation", *TINY, "--data", str(path), "--src", "pt", "--tgt", "en"]
    assert main([*args, "--output", str(run)]) == 0
    metrics = json.loads((run / "metrics.json").read_text())
    assert (metrics["num_train"], metrics["num_validation"], metrics["num_test"]) == (32, 8, 8)
    capsys.readouterr()
    assert main(["translate", str(run), "Um cão corre."]) == 0
    assert len(capsys.readouterr().out.splitlines()) == 1


def test_prefix_files_with_gzip_and_comma_pairs_read_the_same_pairs(tmp_path):
    sources, targets = zip(*PT_EN, strict=True)
    (tmp_path / "c.pt").write_text("\n".join(sources) + "\n", encoding="utf-8")
    (tmp_path / "c.en.gz").write_bytes(gzip.compress(("\n".join(targets) + "\n").encode()))
    config = TranslationConfig(data=str(tmp_path / "c"), src="pt", tgt="en", validation_split=0.4)
    both = [load_pairs(config, split) for split in ("train", "val")]
    comma = f"{tmp_path / 'c.pt'},{tmp_path / 'c.en.gz'}"
    config = TranslationConfig(data=comma, src="pt", tgt="en", validation_split=0.4)
    assert [load_pairs(config, split) for split in ("train", "val")] == both
    assert len(both[0][0]) == 3 and len(both[1][0]) == 2


@pytest.mark.parametrize(
    "files, data, message",
    [
        (
            {"a.tsv": "um\tone\ndois two\n"},
            "a.tsv",
            "a.tsv, line 2: expected at least 2 tab-separated columns",
        ),
        ({"a.tsv": "um\tone\n\t\n"}, "a.tsv", "a.tsv, line 2: an empty source sentence"),
        ({"a.pt": "um\ndois\n", "a.en": "one\n"}, "a", "a.pt has 2 lines"),
        ({"a.pt": "um\n"}, "a", "neither"),
        ({"a.tsv": ""}, "a.tsv", "holds no sentence pairs"),
        ({"a.tsv": "um\tone\n"}, "a.tsv", "Expected at least two sentence pairs"),
        ({"a.tsv": b"caf\xe9\tcoffee\n"}, "a.tsv", "is not UTF-8: undecodable byte at line 1"),
        ({}, "x.tsv,y.tsv", "x.tsv is nothing (no such file)"),
        ({"a.pt": "um\n"}, "a.pt,.", "is a folder. Expected a file of sentences"),
    ],
)
def test_bad_files_are_one_line_naming_the_file_and_leave_no_output(tmp_path, capsys, files, data, message):
    for name, content in files.items():
        (tmp_path / name).write_bytes(content if isinstance(content, bytes) else content.encode())
    data = ",".join(str(tmp_path / part) for part in data.split(","))
    output = tmp_path / "out"
    args = [
        "train",
        "translation",
        *TINY,
        "--data",
        data,
        "--src",
        "pt",
        "--tgt",
        "en",
        "--output",
        str(output),
    ]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and message in err
    assert not list(output.parent.glob("out*"))  # no run, no partial run


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"src": "pt"}, "Expected src in ('en', 'de', 'fr') (Multi30k's languages; --data takes any)"),
        ({"data": "x.tsv", "tgt": "en; rm"}, "Expected tgt to be a language code such as 'en' or 'pt-BR'"),
        ({"valid_data": "v.tsv"}, "valid_data needs data"),
        ({"data": "x.tsv", "src": "pt-BR", "tgt": "pt-BR"}, "Expected different source and target languages"),
        ({"data": "a.pt,", "src": "pt"}, "Expected a path, or two joined by a comma. Received: data='a.pt,'"),
    ],
)
def test_settings_that_cannot_work_are_refused(overrides, message):
    with pytest.raises(ValueError) as error:
        configs.resolve(TranslationConfig, overrides=overrides)
    assert message in str(error.value)
