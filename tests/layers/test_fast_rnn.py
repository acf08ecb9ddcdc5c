"""FastRNN equals Keras' own layers: outputs and gradients from identical weights."""

import numpy as np
import pytest

from helpers import layer_pair, masked_inputs, to_numpy
from rnnlab.layers import FastRNN


def _pair(cell, **kwargs):
    """Keras' layer and the one `FastRNN(cell=...)` makes, with the same weights."""
    return layer_pair(cell, make_fast=lambda units, **kw: FastRNN(units, cell=cell, **kw), **kwargs)


@pytest.mark.parametrize("cell", ["simple", "lstm", "gru"])
@pytest.mark.parametrize("return_sequences", [False, True])
@pytest.mark.parametrize("go_backwards", [False, True])
@pytest.mark.parametrize("native", [True, False])
def test_outputs_equal_keras_with_mask(cell, return_sequences, go_backwards, native):
    stock, fast = _pair(cell, return_sequences=return_sequences, go_backwards=go_backwards)
    fast.native = native
    x, mask = masked_inputs()
    for m in (None, mask):
        np.testing.assert_allclose(to_numpy(fast(x, mask=m)), to_numpy(stock(x, mask=m)), atol=2e-5)


@pytest.mark.parametrize("cell", ["simple", "lstm", "gru"])
@pytest.mark.parametrize(
    "batch, units, go_backwards, return_sequences, native",
    [
        (4, 6, False, True, True),
        (19, 20, True, True, True),
        (19, 20, False, False, True),
        (4, 6, True, False, True),
        (4, 6, True, True, False),
    ],
)
def test_gradients_equal_keras(cell, batch, units, go_backwards, return_sequences, native):
    """19 rows split over threads unevenly; 20 units use both the vector and the scalar columns."""
    import jax
    import keras

    if keras.backend.backend() != "jax":
        pytest.skip("gradient comparison written with jax.grad")
    stock, fast = _pair(cell, units=units, return_sequences=return_sequences, go_backwards=go_backwards)
    fast.native = native
    x, mask = masked_inputs(batch=batch)

    def loss(layer):
        non_trainable = [v.value for v in layer.non_trainable_variables]

        def f(values, x):
            out, _ = layer.stateless_call(values, non_trainable, x, mask=mask)
            return (out**2).sum() + (out[:, -1] if return_sequences else out).sum()

        return f

    g_stock = jax.grad(loss(stock), argnums=(0, 1))([v.value for v in stock.trainable_variables], x)
    g_fast = jax.grad(loss(fast), argnums=(0, 1))([v.value for v in fast.trainable_variables], x)
    for a, b in zip(g_fast[0], g_stock[0], strict=True):
        np.testing.assert_allclose(to_numpy(a), to_numpy(b), atol=1e-4, rtol=1e-4)
    np.testing.assert_allclose(to_numpy(g_fast[1]), to_numpy(g_stock[1]), atol=1e-4)


@pytest.mark.parametrize("cell", ["simple", "lstm", "gru"])
def test_native_loop_is_used_on_jax(cell):
    """Where a C++ compiler exists (CI, this machine), the JAX graph calls the native loop."""
    import jax
    import keras

    from rnnlab.layers import native

    if keras.backend.backend() != "jax":
        pytest.skip("the native loop is a JAX/XLA custom call")
    assert native.available(), native.build_error()
    _, fast = _pair(cell)
    x, _ = masked_inputs()
    values = [v.value for v in fast.trainable_variables]
    fixed = [v.value for v in fast.non_trainable_variables]  # the dropout seed generator's state
    jaxpr = str(jax.make_jaxpr(lambda v: fast.stateless_call(v, fixed, x)[0])(values))
    assert f"rnnlab_{cell}_forward" in jaxpr


def test_native_switch_off(monkeypatch):
    from rnnlab.layers import native

    monkeypatch.setenv("RNNLAB_NATIVE", "0")
    assert not native.available()


def test_bidirectional_stacked_model_saves_and_loads(tmp_path):
    import keras

    model = keras.Sequential(
        [
            keras.Input((7,), dtype="int32"),
            keras.layers.Embedding(20, 4, mask_zero=True),
            keras.layers.Bidirectional(FastRNN(5, cell="simple", return_sequences=True)),
            FastRNN(3, cell="gru"),
            keras.layers.Dense(1, activation="sigmoid"),
        ]
    )
    x = np.array([[0, 0, 3, 4, 5, 6, 7], [1, 2, 3, 4, 5, 6, 7]], "int32")
    expected = to_numpy(model(x))
    model.save(tmp_path / "m.keras")
    loaded = keras.saving.load_model(tmp_path / "m.keras")
    np.testing.assert_allclose(to_numpy(loaded(x)), expected, atol=1e-6)
    # padding never changes a prediction
    np.testing.assert_allclose(to_numpy(model(x[:1, 2:])), expected[:1], atol=1e-5)


def test_bad_cell():
    with pytest.raises(ValueError, match="Expected cell in"):
        FastRNN(4, cell="rnn")
