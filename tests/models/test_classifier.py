"""The one classifier builder: variants, masking, pretrained embeddings, errors."""

import numpy as np
import pytest

from rnnlab.models import build_classifier


@pytest.mark.parametrize("fast_layers, module", [(True, "rnnlab.layers"), (False, "keras.src.layers")])
def test_defaults_are_the_articles_model(fast_layers, module):
    model = build_classifier(sequence_length=100, fast_layers=fast_layers)
    assert [layer.__class__.__name__ for layer in model.layers] == ["Embedding", "SimpleRNN", "Dense"]
    assert type(model.layers[1]).__module__.startswith(module)
    assert model.count_params() == 10000 * 32 + (32 * 64 + 64 * 64 + 64) + 65


def test_bidirectional_stacked_lstm_parameter_count():
    model = build_classifier(
        vocab_size=50, embedding_dim=4, units=3, cell="lstm", num_layers=2, bidirectional=True
    )
    lstm = lambda d: 4 * (d * 3 + 3 * 3 + 3)  # noqa: E731  one direction
    expected = 50 * 4 + 2 * lstm(4) + 2 * lstm(6) + (6 + 1)
    assert model.count_params() == expected
    assert model(np.ones((2, 7), "int32")).shape == (2, 1)


def test_mean_pooling_and_softmax_output_shapes():
    model = build_classifier(
        vocab_size=20, embedding_dim=4, units=5, cell="gru", pooling="mean", num_classes=3
    )
    out = np.asarray(model(np.ones((2, 6), "int32")))
    assert out.shape == (2, 3)
    np.testing.assert_allclose(out.sum(axis=1), 1.0, rtol=1e-5)


@pytest.mark.parametrize("cell", ["simple", "lstm", "gru"])
@pytest.mark.parametrize("pooling", ["last", "mean"])
def test_masking_makes_padding_irrelevant(cell, pooling):
    review = np.array([[1, 5, 9, 4, 7]], "int32")
    padded = np.concatenate([np.zeros((1, 11), "int32"), review], axis=1)
    masked = build_classifier(
        vocab_size=12,
        embedding_dim=4,
        units=6,
        cell=cell,
        mask_zero=True,
        pooling=pooling,
        bidirectional=True,
    )
    np.testing.assert_allclose(np.asarray(masked(review)), np.asarray(masked(padded)), atol=1e-6)
    unmasked = build_classifier(vocab_size=12, embedding_dim=4, units=6, cell=cell, pooling=pooling)
    assert not np.allclose(np.asarray(unmasked(review)), np.asarray(unmasked(padded)), atol=1e-6)


def test_pretrained_matrix_is_used_and_can_be_frozen():
    matrix = np.arange(20 * 4, dtype="float32").reshape(20, 4) / 100
    model = build_classifier(
        vocab_size=20, embedding_dim=4, units=3, embedding_matrix=matrix, trainable_embeddings=False
    )
    np.testing.assert_allclose(np.asarray(model.get_layer("embedding").embeddings), matrix)
    assert model.get_layer("embedding").trainable_weights == []


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"cell": "transformer"}, "Expected cell in"),
        ({"pooling": "max"}, "Expected pooling in"),
        ({"units": 0}, "Expected units to be a positive int. Received: units=0"),
        ({"dropout": 1.0}, "Expected 0 <= dropout < 1"),
        ({"embedding_matrix": np.zeros((3, 3))}, r"Expected embedding_matrix of shape \(10000, 32\)"),
    ],
)
def test_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        build_classifier(**kwargs)


@pytest.mark.parametrize("fast_layers", [True, False])
def test_l1_l2_penalties_enter_the_loss(fast_layers):
    plain = build_classifier(vocab_size=20, embedding_dim=4, units=3, fast_layers=fast_layers)
    penalised = build_classifier(
        vocab_size=20, embedding_dim=4, units=3, l1=0.01, l2=0.02, fast_layers=fast_layers
    )
    x = np.ones((2, 5), "int32")
    plain(x)
    penalised(x)
    assert plain.losses == []
    rnn = penalised.get_layer("rnn").cell  # Keras' layers and rnnlab's keep their weights in a cell
    expected = sum(
        0.01 * np.abs(np.asarray(w)).sum() + 0.02 * (np.asarray(w) ** 2).sum()
        for w in (rnn.kernel, rnn.recurrent_kernel, penalised.get_layer("output").kernel)
    )
    assert float(sum(np.asarray(loss) for loss in penalised.losses)) == pytest.approx(expected, rel=1e-5)


def test_clipnorm_and_optimizer_reach_keras(small_imdb):
    from rnnlab.tasks.sentiment.config import SentimentConfig
    from rnnlab.tasks.sentiment.task import TASK
    from rnnlab.training.setup import compiled_model

    config = SentimentConfig(optimizer="rmsprop", clipnorm=1.5, learning_rate=0.01)
    preprocessor = type("P", (), {"vocab_size": 50, "labels": ("negative", "positive")})()
    model = compiled_model(TASK, config, preprocessor, None, "jax", steps=1)
    assert type(model.optimizer).__name__ == "RMSprop"
    assert model.optimizer.clipnorm == 1.5
    assert float(np.asarray(model.optimizer.learning_rate)) == pytest.approx(0.01)
