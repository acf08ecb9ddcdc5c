"""The IMDb cache follows its source: changed files, damaged cache files, links out of the folder."""

import os
import shutil
import zipfile

import numpy as np
import pytest

from rnnlab.datasets import imdb, storage


def _reload():
    imdb.forget_loaded()


def test_changed_review_in_folder_rebuilds_the_cache(small_imdb):
    texts, _ = imdb.load_texts("train")
    folder = small_imdb / "aclImdb"
    top_mtime = folder.stat().st_mtime_ns
    review = next((folder / "train" / "pos").glob("0_*.txt"))
    review.write_text("An entirely new review about zeppelins.", encoding="utf-8")
    assert folder.stat().st_mtime_ns == top_mtime  # the top folder does not notice
    _reload()
    new_texts, _ = imdb.load_texts("train")
    assert "An entirely new review about zeppelins." in new_texts
    assert "zeppelins" in imdb.get_word_index()
    assert len(new_texts) == len(texts)


def test_added_review_in_folder_rebuilds_the_cache(small_imdb):
    texts, _ = imdb.load_texts("test")
    (small_imdb / "aclImdb" / "test" / "neg" / "999_1.txt").write_text("Dreadful.", encoding="utf-8")
    _reload()
    new_texts, labels = imdb.load_texts("test")
    assert len(new_texts) == len(texts) + 1 and "Dreadful." in new_texts


def test_same_size_edit_with_new_mtime_rebuilds_the_cache(small_imdb):
    imdb.load_texts("train")
    review = next((small_imdb / "aclImdb" / "train" / "neg").glob("1_*.txt"))
    old = review.read_text(encoding="utf-8")
    new = "X" * len(old.encode("utf-8"))
    review.write_text(new, encoding="utf-8")
    stat = review.stat()
    os.utime(review, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    _reload()
    assert new in imdb.load_texts("train")[0]


def _truncate(path):
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def _garbage(path):
    path.write_bytes(b"this is not a numpy file at all" * 10)


def _empty(path):
    path.write_bytes(b"")


def _bad_member(path):
    # a readable zip whose array data is damaged (flip bytes in the middle of the file)
    data = bytearray(path.read_bytes())
    middle = len(data) // 2
    data[middle : middle + 64] = bytes(64)
    path.write_bytes(bytes(data))


def _missing_arrays(path):
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("unrelated.npy", b"")


def _pickle_header(path):
    path.write_bytes(b"\x80\x04\x95" + b"\x00" * 100)


@pytest.mark.parametrize(
    "damage", [_truncate, _garbage, _empty, _bad_member, _missing_arrays, _pickle_header]
)
@pytest.mark.parametrize("split, part", [("train", "labelled"), ("unsup", "unsup")])
def test_damaged_cache_file_is_rebuilt_with_one_message(small_imdb, cache, capsys, damage, split, part):
    texts, labels = imdb.load_texts(split)
    [path] = (cache / "imdb").glob(f"imdb-{part}-*.npz")
    damage(path)
    _reload()
    capsys.readouterr()
    new_texts, new_labels = imdb.load_texts(split)
    assert new_texts == texts
    np.testing.assert_array_equal(new_labels, labels)
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    assert str(path) in err[0] and "rebuilt" in err[0]
    assert [p.name for p in (cache / "imdb").iterdir()] == [path.name]  # no temp files left
    _reload()
    assert imdb.load_texts(split)[0] == texts
    assert capsys.readouterr().err == ""  # the rebuilt file is good


def test_link_to_a_file_outside_the_folder_is_refused(small_imdb, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("not a review", encoding="utf-8")
    link = small_imdb / "aclImdb" / "train" / "pos" / "500_9.txt"
    link.symlink_to(secret)
    with pytest.raises(storage.DatasetError) as error:
        imdb.load_texts("train")
    message = str(error.value)
    assert str(link) in message and str(secret) in message and "outside" in message


def test_linked_folder_outside_the_dataset_is_refused(small_imdb, tmp_path):
    neg = small_imdb / "aclImdb" / "test" / "neg"
    elsewhere = shutil.move(neg, tmp_path / "elsewhere")
    neg.symlink_to(elsewhere, target_is_directory=True)
    with pytest.raises(storage.DatasetError, match="outside"):
        imdb.load_texts("test")


def test_link_inside_the_folder_is_accepted(small_imdb):
    texts, _ = imdb.load_texts("train")
    pos = small_imdb / "aclImdb" / "train" / "pos"
    original = next(pos.glob("0_*.txt"))
    (pos / f"500_{original.name.split('_')[1]}").symlink_to(os.path.relpath(original, pos))
    _reload()
    assert len(imdb.load_texts("train")[0]) == len(texts) + 1


def test_search_path_folder_may_itself_be_a_link(small_imdb, tmp_path, monkeypatch):
    other = tmp_path / "other"
    other.mkdir()
    (other / "aclImdb").symlink_to(small_imdb / "aclImdb", target_is_directory=True)
    monkeypatch.setenv("RNNLAB_DATASETS", str(other))
    _reload()
    assert len(imdb.load_texts("train")[0]) == 120


def test_checksum_mismatch_on_the_search_path_names_the_file_and_deletes_nothing(
    tmp_path, monkeypatch, cache
):
    archive = tmp_path / "aclImdb_v1_text.tar.gz"
    archive.write_bytes(b"not the archive")
    monkeypatch.setenv("RNNLAB_DATASETS", str(tmp_path))
    _reload()
    with pytest.raises(storage.ChecksumError) as error:
        imdb.load_data()
    message = str(error.value)
    assert str(archive) in message
    assert imdb.OFFICIAL.mirrors["aclImdb_v1_text.tar.gz"] in message
    assert storage.sha256_of(archive) in message
    assert "delete" not in message.lower() and "remove it" not in message.lower()
    assert "RNNLAB_DATASETS" in message
    assert archive.read_bytes() == b"not the archive"
