"""IMDb loader: Keras-compatible API on small data, and on the real copy when present."""

import numpy as np
import pytest

from rnnlab.datasets import imdb, storage
from rnnlab.text.words import WordTokenizer


def test_small_folder_loads_with_keras_semantics(small_imdb):
    (x_train, y_train), (x_test, y_test) = imdb.load_data(num_words=12)
    assert len(x_train) == 120 and len(x_test) == 120
    assert sorted(np.bincount(y_train)) == [60, 60]
    assert all(x[0] == 1 for x in x_train)  # start_char
    assert max(max(x) for x in x_train) < 12
    word_index = imdb.get_word_index()
    assert word_index["the"] < word_index["wonderful"] or word_index["a"] < word_index["wonderful"]
    assert sorted(word_index.values()) == list(range(1, len(word_index) + 1))


def test_indices_follow_word_ranks(small_imdb):
    texts, labels = imdb.load_texts("train")
    ranks, rank_labels = imdb.load_ranks("train")
    np.testing.assert_array_equal(labels, rank_labels)
    word_index = imdb.get_word_index()
    tokens = WordTokenizer()(texts[0])
    assert ranks[0].tolist() == [word_index[w] for w in tokens]
    (x_train, y_train), _ = imdb.load_data(seed=1, index_from=3, start_char=None, oov_char=None)
    # every review appears once, shifted by index_from, in a seeded order
    expected = sorted(tuple((r + 3).tolist()) for r in ranks)
    assert sorted(tuple(x) for x in x_train) == expected


def test_skip_top_maxlen_and_oov(small_imdb):
    (x_train, _), _ = imdb.load_data(num_words=10, skip_top=5, oov_char=2, maxlen=34)
    assert all(len(x) < 34 for x in x_train)
    assert all(v == 2 or 5 <= v < 10 or v == 1 for x in x_train for v in x)
    (x_drop, _), _ = imdb.load_data(num_words=10, oov_char=None)
    assert all(v == 1 or 3 <= v < 10 for x in x_drop for v in x)


def test_same_seed_same_order(small_imdb):
    (a, _), _ = imdb.load_data(seed=7)
    (b, _), _ = imdb.load_data(seed=7)
    (c, _), _ = imdb.load_data(seed=8)
    assert [list(x) for x in a] == [list(x) for x in b]
    assert [list(x) for x in a] != [list(x) for x in c]


def test_unlabelled_texts(small_imdb):
    texts, labels = imdb.load_texts("unsup")
    assert len(texts) == 20 and set(labels.tolist()) == {-1}


def test_bad_arguments(small_imdb):
    with pytest.raises(ValueError, match="Expected split in"):
        imdb.load_texts("validation")
    with pytest.raises(ValueError, match="Expected num_words > index_from=3. Received: num_words=2"):
        imdb.load_data(num_words=2)


def test_cache_is_written_once_and_source_never_written(small_imdb, cache):
    before = {p: p.stat().st_mtime_ns for p in small_imdb.rglob("*")}
    imdb.get_word_index()
    files = list((cache / "imdb").iterdir())
    assert len(files) == 1 and files[0].suffix == ".npz"
    imdb.forget_loaded()
    imdb.get_word_index()
    assert list((cache / "imdb").iterdir()) == files
    assert {p: p.stat().st_mtime_ns for p in small_imdb.rglob("*")} == before


def test_missing_data_says_where_it_looked(tmp_path, monkeypatch, cache):
    monkeypatch.setenv("RNNLAB_DATASETS", str(tmp_path))
    monkeypatch.setattr(storage, "download", _no_network)
    imdb.forget_loaded()
    with pytest.raises(storage.DatasetNotFoundError) as error:
        imdb.load_data()
    message = str(error.value)
    assert str(tmp_path / "aclImdb_v1.tar.gz") in message
    assert imdb.OFFICIAL.url in message


def _no_network(url, destination, sha256):
    raise storage.DatasetNotFoundError(f"Could not download {url}: network unreachable")


def test_wrong_file_under_official_name_fails_checksum(tmp_path, monkeypatch, cache):
    (tmp_path / "aclImdb_v1.tar.gz").write_bytes(b"not the archive")
    monkeypatch.setenv("RNNLAB_DATASETS", str(tmp_path))
    imdb.forget_loaded()
    with pytest.raises(storage.ChecksumError, match=imdb.OFFICIAL.sha256):
        imdb.load_data()


def test_folder_without_reviews_is_reported(tmp_path, monkeypatch, cache):
    (tmp_path / "aclImdb" / "train").mkdir(parents=True)
    (tmp_path / "aclImdb" / "test").mkdir()
    monkeypatch.setenv("RNNLAB_DATASETS", str(tmp_path))
    imdb.forget_loaded()
    with pytest.raises(storage.DatasetError, match="holds no train reviews"):
        imdb.load_data()


# --- the real dataset (skipped when RNNLAB_DATASETS has no copy) ---


def test_real_imdb_sizes_and_vocabulary(real_imdb):
    (x_train, y_train), (x_test, y_test) = imdb.load_data(num_words=10000)
    assert (len(x_train), len(x_test)) == (25000, 25000)
    assert np.bincount(y_train).tolist() == [12500, 12500]
    assert np.bincount(y_test).tolist() == [12500, 12500]
    assert max(max(x) for x in x_train) == 9999
    word_index = imdb.get_word_index()
    assert word_index["the"] == 1
    assert len(word_index) > 70000
    texts, _ = imdb.load_texts("test")
    assert len(texts) == 25000 and all(isinstance(t, str) and t for t in texts[:100])
