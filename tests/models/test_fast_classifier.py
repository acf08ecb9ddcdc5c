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
    stock = build_classifier(**kwargs)
    fast = build_classifier(**kwargs, fast_layers=True)
    assert "FastRNN" in {
        type(layer.forward_layer).__name__ for layer in fast.layers if hasattr(layer, "forward_layer")
    }
    fast.set_weights(stock.get_weights())  # same weights, same order
    x = np.array([[0, 0, 3, 4, 5, 6], [7, 8, 9, 1, 2, 3]], "int32")
    np.testing.assert_allclose(np.asarray(fast(x)), np.asarray(stock(x)), atol=1e-5)


def test_fast_layers_refuse_dropout():
    with pytest.raises(ValueError, match="fast_layers=True does not support dropout"):
        build_classifier(fast_layers=True, dropout=0.2)
