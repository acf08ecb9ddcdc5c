"""The classifier with rnnlab's FastRNN layers equals the one with Keras' layers."""

import numpy as np
import pytest

from rnnlab.models import build_classifier


@pytest.mark.parametrize("cell", ["simple", "lstm", "gru"])
def test_fast_layers_give_the_same_predictions(cell):
    kwargs = dict(
        vocab_size=30,
        embedding_dim=4,
        units=5,
        cell=cell,
        mask_zero=True,
        bidirectional=True,
        num_layers=2,
        pooling="mean",
    )
    stock = build_classifier(**kwargs, fast_layers=False)
    fast = build_classifier(**kwargs)  # the default
    assert {
        type(layer.forward_layer).__module__ for layer in fast.layers if hasattr(layer, "forward_layer")
    } == {"rnnlab.layers.fast_rnn"}
    fast.set_weights(stock.get_weights())  # same weights, same order
    x = np.array([[0, 0, 3, 4, 5, 6], [7, 8, 9, 1, 2, 3]], "int32")
    np.testing.assert_allclose(np.asarray(fast(x)), np.asarray(stock(x)), atol=1e-5)


def test_dropout_with_fast_layers():
    """Input dropout works in rnnlab's layers (a mask per sequence, as Keras')."""
    model = build_classifier(vocab_size=30, embedding_dim=4, units=5, dropout=0.5)
    assert type(model.get_layer("rnn")).__module__ == "rnnlab.layers.fast_rnn"
    x = np.array([[1, 2, 3, 4, 5, 6]] * 8, "int32")
    np.testing.assert_allclose(np.asarray(model(x)), np.asarray(model(x)), atol=0)  # inference: no dropout
    trained = np.asarray(model(x, training=True))[:, 0]
    assert len(np.unique(np.round(trained, 6))) > 1  # same review, different masks


@pytest.mark.parametrize("cell", ["simple", "lstm", "gru"])
def test_same_seed_same_initial_weights_as_keras_layers(cell):
    import keras

    weights = []
    for fast_layers in (True, False):
        keras.utils.set_random_seed(3)
        weights.append(build_classifier(cell=cell, sequence_length=10, fast_layers=fast_layers).get_weights())
    assert len(weights[0]) == len(weights[1])
    for fast, stock in zip(*weights, strict=True):
        np.testing.assert_array_equal(fast, stock)


@pytest.mark.parametrize("cell", ["simple", "lstm", "gru"])
def test_article_sized_gradients_equal_keras_layers(cell):
    """The article's shapes (batch 32, 100 steps, 64 units), same weights: gradients of every variable."""
    import jax
    import keras

    if keras.backend.backend() != "jax":
        pytest.skip("gradient comparison written with jax.grad")
    rng = np.random.default_rng(0)
    x = rng.integers(1, 10000, (32, 100)).astype("int32")
    y = rng.integers(0, 2, (32, 1)).astype("float32")
    grads = []
    for fast_layers in (True, False):
        keras.utils.set_random_seed(1)
        model = build_classifier(sequence_length=100, cell=cell, fast_layers=fast_layers)
        fixed = [v.value for v in model.non_trainable_variables]

        def loss(values, model=model, fixed=fixed):
            out, _ = model.stateless_call(values, fixed, x, training=True)
            return keras.losses.binary_crossentropy(y, out).mean()

        grads.append(jax.grad(loss)([v.value for v in model.trainable_variables]))
    for fast, stock in zip(*grads, strict=True):
        scale = float(np.abs(np.asarray(stock)).max())
        np.testing.assert_allclose(np.asarray(fast), np.asarray(stock), atol=1e-5 * scale)
