"""Training and prediction preprocess a review identically."""

import numpy as np
import pytest

from rnnlab.data.batches import pad as pad_front
from rnnlab.tasks.sentiment.preprocessor import SentimentPreprocessor, load_preprocessor


def test_hand_example_pads_front_and_maps_oov():
    p = SentimentPreprocessor({"good": 1, "film": 2, "rare": 9}, num_words=6, maxlen=6)
    # good -> 4, film -> 5, rare -> 12 >= num_words -> oov 2, unseen -> oov 2
    assert p(["Good film, rare unseen"]).tolist() == [[0, 1, 4, 5, 2, 2]]
    assert "rare" not in p.word_index


def test_truncation_keeps_last_words():
    p = SentimentPreprocessor({"a": 1, "b": 2, "c": 3}, num_words=10, maxlen=3)
    assert p(["a b c a"]).tolist() == [[5, 6, 4]]  # start, a, b dropped from the front


def test_save_load_round_trip(tmp_path):
    p = SentimentPreprocessor({"good": 1, "film": 2}, num_words=10, maxlen=4)
    p.save(tmp_path / "p.json")
    q = load_preprocessor(tmp_path / "p.json")
    assert q == p
    np.testing.assert_array_equal(q(["good film"]), p(["good film"]))


def test_single_string_is_rejected():
    p = SentimentPreprocessor({"good": 1}, num_words=10, maxlen=4)
    with pytest.raises(ValueError, match="Received: a single str"):
        p("good")


def test_texts_encode_like_training_ranks(small_imdb):
    from rnnlab.datasets import imdb

    p = SentimentPreprocessor(imdb.get_word_index(), num_words=12, maxlen=20)
    texts, _ = imdb.load_texts("test")
    ranks, _ = imdb.load_ranks("test")
    np.testing.assert_array_equal(p(texts), pad_front(p.sequences_from_ranks(ranks), 20))


def test_texts_encode_like_training_ranks_on_real_imdb(real_imdb):
    from rnnlab.datasets import imdb

    p = SentimentPreprocessor(imdb.get_word_index(), num_words=10000, maxlen=100)
    texts, _ = imdb.load_texts("test")
    ranks, _ = imdb.load_ranks("test")
    np.testing.assert_array_equal(p(texts[:500]), pad_front(p.sequences_from_ranks(ranks[:500]), 100))
