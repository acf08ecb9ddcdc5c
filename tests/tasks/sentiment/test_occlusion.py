"""Occlusion explanations: same numbers as leaving each word out one by one, in bounded memory."""

import numpy as np
import pytest

from rnnlab.data.batches import pad as pad_front
from rnnlab.tasks.sentiment import occlusion
from rnnlab.tasks.sentiment.preprocessor import START, SentimentPreprocessor

WORDS = ["good", "bad", "film", "plot", "great", "awful", "acting", "story"]


@pytest.fixture(scope="module")
def model():
    import keras

    keras.utils.set_random_seed(0)
    return keras.Sequential(
        [
            keras.Input((None,), dtype="int32"),
            keras.layers.Embedding(20, 4),
            keras.layers.GRU(3),
            keras.layers.Dense(1, activation="sigmoid"),
        ]
    )


@pytest.fixture
def preprocessor():
    return SentimentPreprocessor({w: r for r, w in enumerate(WORDS, start=1)}, num_words=20, maxlen=8)


class RecordingModel:
    """Forwards `predict_on_batch` to a model and records the shape of every input it was given."""

    def __init__(self, model):
        self.model = model
        self.shapes = []

    def predict_on_batch(self, x):
        self.shapes.append(np.shape(x))
        return self.model.predict_on_batch(x)


def unbatched(model, preprocessor, text):
    """The direct computation: every leave-one-out copy of the text scored in one batch."""
    _, ids = preprocessor.tokens_and_ids(text)
    maxlen = preprocessor.maxlen
    variants = [np.concatenate([[START], ids])[-maxlen:]]
    for i in range(len(ids)):
        variants.append(np.concatenate([[START], ids[:i], ids[i + 1 :]])[-maxlen:])
    probabilities = model.predict(pad_front(variants, maxlen), verbose=0, batch_size=1024)[:, 0]
    contributions = probabilities[0] - probabilities[1:]
    contributions[: max(0, len(ids) - maxlen)] = 0.0
    return probabilities[0], contributions


def _text(n, seed=0):
    rng = np.random.default_rng(seed)
    return " ".join(rng.choice(WORDS + ["unknownword"], size=n))


@pytest.mark.parametrize("n", [1, 5, 7, 8, 9, 30])
def test_contributions_equal_the_unbatched_computation(model, preprocessor, n):
    text = _text(n, seed=n)
    explanation = occlusion.explain(model, preprocessor, text, chunk_size=3)
    probability, contributions = unbatched(model, preprocessor, text)
    assert len(explanation.tokens) == n
    assert explanation.probability == pytest.approx(float(probability), abs=1e-6)
    np.testing.assert_allclose(explanation.contributions, contributions, atol=1e-6)
    np.testing.assert_array_equal(explanation.contributions[: max(0, n - 8)], 0.0)  # before the last maxlen


def test_memory_is_bounded_by_chunks_not_by_the_text_length(model, preprocessor):
    recording = RecordingModel(model)
    explanation = occlusion.explain(recording, preprocessor, _text(5000), chunk_size=4)
    assert len(explanation.contributions) == 5000
    # only the original and the copies without one of the last maxlen words are scored, 4 at a time
    assert all(rows <= 4 and columns == 8 for rows, columns in recording.shapes), recording.shapes
    assert sum(rows for rows, _ in recording.shapes) == 1 + 8


def test_too_long_text_is_refused_with_the_count_and_the_maximum(model, preprocessor):
    with pytest.raises(ValueError, match="at most 100 tokens to explain. Received: 101 tokens"):
        occlusion.explain(model, preprocessor, _text(101), max_words=100)
    with pytest.raises(ValueError, match=f"at most {occlusion.MAX_WORDS} tokens"):
        occlusion.explain(model, preprocessor, _text(occlusion.MAX_WORDS + 1))


def test_bad_chunk_size(model, preprocessor):
    with pytest.raises(ValueError, match="Expected chunk_size >= 1. Received: chunk_size=0"):
        occlusion.explain(model, preprocessor, "good film", chunk_size=0)
