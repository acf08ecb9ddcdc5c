"""word2vec (binary, text) and GloVe files written by the tests; training word2vec."""

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
