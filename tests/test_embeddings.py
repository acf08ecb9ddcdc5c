"""word2vec (binary, text) and GloVe files written by the tests; training word2vec."""

import re

import numpy as np
import pytest

from rnnlab import embeddings

WORDS = {"good": [0.5, 1.0, -1.0], "film": [0.0, 2.0, 0.25], "bad": [-0.5, -1.0, 1.0]}


@pytest.fixture
def vector_files(tmp_path):
    from gensim.models import KeyedVectors

    kv = KeyedVectors(3)
    kv.add_vectors(list(WORDS), np.array(list(WORDS.values()), dtype=np.float32))
    kv.save_word2vec_format(str(tmp_path / "w2v.bin"), binary=True)
    kv.save_word2vec_format(str(tmp_path / "w2v.txt"), binary=False)
    (tmp_path / "glove.txt").write_text("".join(f"{w} {' '.join(map(str, v))}\n" for w, v in WORDS.items()))
    return tmp_path


@pytest.mark.parametrize(
    "name, fmt", [("w2v.bin", "word2vec-binary"), ("w2v.txt", "word2vec-text"), ("glove.txt", "glove")]
)
def test_every_format_loads_the_same_vectors(vector_files, name, fmt):
    assert embeddings.detect_format(vector_files / name) == fmt
    kv = embeddings.load_vectors(vector_files / name)
    for word, vector in WORDS.items():
        np.testing.assert_allclose(kv[word], vector, rtol=1e-6)


def test_matrix_rows_and_coverage(vector_files):
    kv = embeddings.load_vectors(vector_files / "glove.txt")
    matrix, coverage = embeddings.embedding_matrix(
        kv, {"good": 4, "film": 5, "unseen": 6, "bad": 9}, vocab_size=8
    )
    assert matrix.shape == (8, 3)
    np.testing.assert_allclose(matrix[4], WORDS["good"])
    np.testing.assert_allclose(matrix[5], WORDS["film"])
    np.testing.assert_array_equal(matrix[0], 0.0)
    assert coverage == pytest.approx(2 / 4)  # 'bad' maps past the vocabulary, 'unseen' has no vector


def test_bad_files_say_what_they_got(tmp_path):
    (tmp_path / "x.txt").write_text("hello world\n")
    with pytest.raises(ValueError, match="Cannot tell the format"):
        embeddings.load_vectors(tmp_path / "x.txt")
    with pytest.raises(ValueError, match="Embeddings file not found"):
        embeddings.load_vectors(tmp_path / "missing.bin")
    with pytest.raises(ValueError, match="Expected format in"):
        embeddings.load_vectors(tmp_path / "x.txt", format="fasttext")


def test_train_word2vec_writes_a_loadable_file(tmp_path):
    sentences = [["good", "film"], ["bad", "film"], ["good", "plot"]] * 50
    kv = embeddings.train_word2vec(sentences, tmp_path / "v.bin", dim=8, min_count=1, epochs=2, workers=1)
    loaded = embeddings.load_vectors(tmp_path / "v.bin")
    np.testing.assert_allclose(loaded["film"], kv["film"])
    assert [p.name for p in tmp_path.iterdir()] == ["v.bin"]


def test_train_word2vec_prints_one_progress_line_per_epoch(tmp_path, capsys):
    sentences = [["good", "film"], ["bad", "film"], ["good", "plot"]] * 50
    embeddings.train_word2vec(sentences, tmp_path / "v.bin", dim=8, min_count=1, epochs=3, workers=1)
    captured = capsys.readouterr()
    assert captured.out == ""
    pattern = r"epoch (\d+)/3 done in (\d+\.\d) s, about (\d+) s left"
    lines = [re.fullmatch(pattern, line) for line in captured.err.splitlines()]
    assert all(lines), captured.err
    assert [int(match[1]) for match in lines] == [1, 2, 3]
    assert lines[-1][3] == "0"  # nothing left after the last epoch


def test_train_word2vec_progress_can_be_turned_off(tmp_path, capsys):
    sentences = [["good", "film"], ["bad", "film"]] * 50
    embeddings.train_word2vec(
        sentences, tmp_path / "v.bin", dim=8, min_count=1, epochs=2, workers=1, progress=False
    )
    assert capsys.readouterr().err == ""


def test_epoch_progress_estimates_the_time_left_from_the_mean_epoch():
    import io

    times = iter([0.0, 0.0, 0.0, 10.0, 10.0, 30.0])  # created, training and epoch 1 begin, ...
    stream = io.StringIO()
    progress = embeddings.epoch_progress(5, stream, clock=lambda: next(times))
    progress.on_train_begin(None)
    progress.on_epoch_begin(None)
    progress.on_epoch_end(None)
    progress.on_epoch_begin(None)
    progress.on_epoch_end(None)
    assert stream.getvalue().splitlines() == [
        "epoch 1/5 done in 10.0 s, about 40 s left",  # 10 s per epoch, 4 to go
        "epoch 2/5 done in 20.0 s, about 45 s left",  # 15 s per epoch on average, 3 to go
    ]
