"""Multi30k loader: a small `multi30k/` folder written by the tests, a download from a
loopback server, and the real copy when the search path finds it."""

import gzip
import hashlib

import pytest

from rnnlab.datasets import multi30k, storage

SENTENCES = {
    "en": ["Two young men are outside.", "A dog runs.", "A caf\u00e9 sign."],
    "de": ["Zwei junge M\u00e4nner sind im Freien.", "Ein Hund rennt.", "Ein Caf\u00e9-Schild."],
    "fr": ["Deux jeunes hommes sont dehors.", "Un chien court.", "Une enseigne de caf\u00e9."],
}
SIZES = {"train": 3, "val": 2, "test_2016_flickr": 1}


def write_small_multi30k(folder, sizes=SIZES):
    """Writes the nine gzip files; returns `{filename: sha256}`."""
    folder.mkdir(parents=True, exist_ok=True)
    checksums = {}
    for split, size in sizes.items():
        for language, sentences in SENTENCES.items():
            name = f"{split}.{language}.gz"
            data = gzip.compress("".join(f"{s}\n" for s in sentences[:size]).encode("utf-8"))
            (folder / name).write_bytes(data)
            checksums[name] = hashlib.sha256(data).hexdigest()
    return checksums


@pytest.fixture
def small_multi30k(tmp_path, monkeypatch, cache):
    """A small `multi30k/` folder on the search path, its checksums in place of the official ones."""
    root = tmp_path / "datasets"
    for name, sha256 in write_small_multi30k(root / "multi30k").items():
        monkeypatch.setitem(multi30k.SHA256, name, sha256)
    monkeypatch.setenv("RNNLAB_DATASETS", str(root))
    return root / "multi30k"


def test_pairs_are_aligned_lines_without_newline(small_multi30k):
    assert multi30k.load_pairs("train") == (SENTENCES["de"], SENTENCES["en"])
    assert multi30k.load_pairs("val", src="en", tgt="fr") == (SENTENCES["en"][:2], SENTENCES["fr"][:2])
    assert multi30k.load_pairs("test_2016_flickr", "fr", "de") == (SENTENCES["fr"][:1], SENTENCES["de"][:1])
    assert multi30k.splits() == ("train", "val", "test_2016_flickr")


@pytest.mark.parametrize(
    "arguments, message",
    [
        ({"split": "test"}, "Expected split in ('train', 'val', 'test_2016_flickr'). Received: split='test'"),
        ({"split": "train", "src": "cs"}, "Expected src in ('en', 'de', 'fr'). Received: src='cs'"),
        ({"split": "train", "tgt": "EN"}, "Expected tgt in ('en', 'de', 'fr'). Received: tgt='EN'"),
        ({"split": "train", "src": "en"}, "Expected two different languages. Received: src='en', tgt='en'"),
    ],
)
def test_bad_arguments_say_what_was_received(small_multi30k, arguments, message):
    with pytest.raises(ValueError) as error:
        multi30k.load_pairs(**arguments)
    assert str(error.value) == message


def test_line_count_mismatch_names_both_files(small_multi30k, monkeypatch):
    data = gzip.compress("".join(f"{s}\n" for s in SENTENCES["en"][:2]).encode())
    (small_multi30k / "train.en.gz").write_bytes(data)
    monkeypatch.setitem(multi30k.SHA256, "train.en.gz", hashlib.sha256(data).hexdigest())
    with pytest.raises(storage.DatasetError) as error:
        multi30k.load_pairs("train")
    de, en = small_multi30k / "train.de.gz", small_multi30k / "train.en.gz"
    assert f"{de} has 3 lines, {en} has 2" in str(error.value)


def test_checksum_mismatch_on_the_search_path_is_storage_error(small_multi30k, monkeypatch):
    monkeypatch.setitem(multi30k.SHA256, "val.de.gz", "0" * 64)
    before = (small_multi30k / "val.de.gz").read_bytes()
    with pytest.raises(storage.ChecksumError) as error:
        multi30k.load_pairs("val")
    message = str(error.value)
    assert f"Checksum mismatch for {small_multi30k / 'val.de.gz'}: expected sha256 {'0' * 64}" in message
    assert "never changes it" in message
    assert multi30k.URL + "val.de.gz" in message
    assert (small_multi30k / "val.de.gz").read_bytes() == before  # left as it is


def test_the_real_checksums_reject_a_fake_copy(tmp_path, monkeypatch, cache):
    write_small_multi30k(tmp_path / "datasets" / "multi30k")  # official checksums kept
    monkeypatch.setenv("RNNLAB_DATASETS", str(tmp_path / "datasets"))
    with pytest.raises(storage.ChecksumError, match=multi30k.SHA256["train.de.gz"]):
        multi30k.load_pairs("train")


def test_missing_file_says_where_rnnlab_looked(tmp_path, monkeypatch, cache):
    monkeypatch.setenv("RNNLAB_DATASETS", str(tmp_path / "datasets"))
    with pytest.raises(storage.DatasetNotFoundError) as error:
        multi30k.path("train", "de", allow_download=False)
    message = str(error.value)
    assert str(tmp_path / "datasets" / "multi30k" / "train.de.gz") in message
    assert str(cache / "downloads" / "multi30k" / "train.de.gz") in message
    assert "https://github.com/multi30k/dataset/raw/master/data/task1/raw/train.de.gz" in message


def test_absent_files_are_downloaded_into_the_cache(http_server, cache, monkeypatch):
    served, url = http_server
    for name, sha256 in write_small_multi30k(served).items():
        monkeypatch.setitem(multi30k.SHA256, name, sha256)
    monkeypatch.setattr(multi30k, "URL", f"{url}/")
    monkeypatch.delenv("RNNLAB_DATASETS", raising=False)
    assert multi30k.load_pairs("val") == (SENTENCES["de"][:2], SENTENCES["en"][:2])
    downloads = cache / "downloads" / "multi30k"
    assert sorted(p.name for p in downloads.iterdir()) == ["val.de.gz", "val.en.gz"]  # no temp file left
    (served / "val.de.gz").unlink()
    assert multi30k.load_pairs("val")[0] == SENTENCES["de"][:2]  # read from the cache, not downloaded again


# --- the real dataset (skipped when RNNLAB_DATASETS has no copy) ---


def test_real_multi30k_sizes(monkeypatch):
    names = [f"{split}.{language}.gz" for split in multi30k.SPLITS for language in multi30k.LANGUAGES]
    missing = [name for name in names if storage.find([name], multi30k.SUBDIR) is None]
    if missing:
        pytest.skip(
            "real Multi30k not found: set RNNLAB_DATASETS to a folder holding multi30k/ "
            f"(searched: {storage.searched_places(missing[:1], multi30k.SUBDIR)})"
        )
    de, en = multi30k.load_pairs("train")
    assert len(de) == len(en) == 29000
    assert de[0] == "Zwei junge weiße Männer sind im Freien in der Nähe vieler Büsche."
    assert en[0] == "Two young, White males are outside near many bushes."
    assert all(de[:100]) and all(en[:100])
    for split, count in multi30k.EXPECTED_COUNTS.items():  # every file's checksum and length
        for src, tgt in (("de", "en"), ("en", "fr")):
            sources, targets = multi30k.load_pairs(split, src=src, tgt=tgt)
            assert len(sources) == len(targets) == count
