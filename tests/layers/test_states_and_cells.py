"""rnnlab's SimpleRNN, LSTM and GRU against Keras' own: initial and returned states (native
loop too), gradients through the states, the cell step by step, which configurations run
natively, configurations and saved models."""

import numpy as np
import pytest

import rnnlab.layers
from helpers import layer_pair as _pair
from helpers import masked_inputs, to_numpy
from rnnlab.cells import LAYER_NAMES

NAMES = LAYER_NAMES


def _states(cell, batch=4, units=6):
    rng = np.random.default_rng(2)
    return [rng.normal(0, 0.5, (batch, units)).astype("float32") for _ in range(2 if cell == "lstm" else 1)]


def _jax_or_skip():
    import keras

    if keras.backend.backend() != "jax":
        pytest.skip("written with jax.grad / jax.make_jaxpr")


@pytest.mark.parametrize("cell", ["simple", "lstm", "gru"])
@pytest.mark.parametrize("return_sequences", [False, True])
@pytest.mark.parametrize("go_backwards", [False, True])
@pytest.mark.parametrize("native", [True, False])
def test_initial_and_returned_states_equal_keras(cell, return_sequences, go_backwards, native):
    stock, fast = _pair(cell, return_sequences=return_sequences, go_backwards=go_backwards, return_state=True)
    fast.native = native
    x, mask = masked_inputs()
    states = _states(cell)
    for m in (None, mask):
        expected = stock(x, initial_state=states, mask=m)
        got = fast(x, initial_state=states, mask=m)
        assert len(got) == len(expected) == 1 + len(states)  # output, h (, c)
        for a, b in zip(got, expected, strict=True):
            np.testing.assert_allclose(to_numpy(a), to_numpy(b), atol=2e-5)


def _gradients(layer, x, states, mask):
    """Gradients of a loss of the output and the returned states with respect to every
    weight, the inputs and the initial states, with the current backend's autodiff."""
    import keras
    from keras import ops

    def loss(out, final):
        return ops.sum(out**2) + sum(ops.sum(s * (i + 1.5)) for i, s in enumerate(final))

    backend = keras.backend.backend()
    if backend == "jax":
        import jax

        fixed = [v.value for v in layer.non_trainable_variables]

        def f(values, x, states):
            (out, *final), _ = layer.stateless_call(values, fixed, x, initial_state=states, mask=mask)
            return loss(out, final)

        grads = jax.grad(f, (0, 1, 2))([v.value for v in layer.trainable_variables], x, states)
        return [to_numpy(g) for g in jax.tree.leaves(grads)]
    if backend == "tensorflow":
        import tensorflow as tf

        tensors = [tf.constant(a) for a in (x, *states)]
        with tf.GradientTape() as tape:
            tape.watch(tensors)
            out, *final = layer(tensors[0], initial_state=tensors[1:], mask=mask)
            value = loss(out, final)
        return [
            to_numpy(g) for g in tape.gradient(value, [v.value for v in layer.trainable_variables] + tensors)
        ]
    import torch

    tensors = [torch.tensor(a, requires_grad=True) for a in (x, *states)]
    out, *final = layer(tensors[0], initial_state=tensors[1:], mask=torch.tensor(mask))
    loss(out, final).backward()
    return [v.value.grad.numpy() for v in layer.trainable_variables] + [t.grad.numpy() for t in tensors]


@pytest.mark.parametrize("cell", ["simple", "lstm", "gru"])
@pytest.mark.parametrize(
    "batch, units, go_backwards, return_sequences",
    [(4, 6, False, True), (4, 6, True, False), (19, 20, True, True), (19, 20, False, False)],
)
def test_gradients_through_the_states_equal_keras(cell, batch, units, go_backwards, return_sequences):
    """Gradients of every weight, of the inputs and of the initial states; the loss uses the
    output and the returned states. 19 rows split over threads unevenly."""
    stock, fast = _pair(
        cell, units=units, return_sequences=return_sequences, go_backwards=go_backwards, return_state=True
    )
    x, mask = masked_inputs(batch=batch)
    states = _states(cell, batch=batch, units=units)
    expected, got = _gradients(stock, x, states, mask), _gradients(fast, x, states, mask)
    assert len(got) == len(expected) == 3 + 1 + len(states)  # kernel, recurrent_kernel, bias, x, states
    for a, b in zip(got, expected, strict=True):
        np.testing.assert_allclose(a, b, atol=1e-4, rtol=1e-4)


def _calls_native(layer, x, **kwargs):
    import jax

    if not layer.built:
        layer.build(x.shape)
    values = [v.value for v in layer.trainable_variables]
    fixed = [v.value for v in layer.non_trainable_variables]
    jaxpr = str(jax.make_jaxpr(lambda v: layer.stateless_call(v, fixed, x, **kwargs)[0])(values))
    return "rnnlab_" in jaxpr and "_forward" in jaxpr


@pytest.mark.parametrize("cell", ["simple", "lstm", "gru"])
def test_default_layers_run_the_native_loop(cell):
    """The jitted graph of the default layer calls the native custom call, also with states,
    masks, use_bias=False, dropout, stateful and Bidirectional's zero_output_for_mask."""
    from rnnlab.layers import native

    _jax_or_skip()
    assert native.available(), native.build_error()
    x, mask = masked_inputs()
    layer_class = getattr(rnnlab.layers, NAMES[cell])
    assert _calls_native(layer_class(6), x)
    assert _calls_native(layer_class(6, return_state=True), x, initial_state=_states(cell))
    for kwargs in (
        {"use_bias": False},
        {"dropout": 0.3},
        {"return_sequences": True, "zero_output_for_mask": True},
    ):
        assert _calls_native(layer_class(6, **kwargs), x, mask=mask, training=True), kwargs


@pytest.mark.parametrize(
    "cell, kwargs",
    [
        ("simple", {"activation": "relu"}),
        ("lstm", {"recurrent_activation": "hard_sigmoid"}),
        ("gru", {"reset_after": False}),
        ("lstm", {"recurrent_dropout": 0.3}),
        ("gru", {"native": False}),
    ],
)
def test_other_configurations_run_keras_loop_with_keras_results(cell, kwargs):
    _jax_or_skip()
    x, mask = masked_inputs()
    native = kwargs.pop("native", True)
    stock, fast = _pair(cell, return_sequences=True, **kwargs)
    fast.native = native
    assert not fast.uses_native_loop()
    assert not _calls_native(fast, x, mask=mask)
    np.testing.assert_allclose(to_numpy(fast(x, mask=mask)), to_numpy(stock(x, mask=mask)), atol=1e-6)


@pytest.mark.parametrize("cell", ["simple", "lstm", "gru"])
def test_use_bias_false_and_zero_output_for_mask_equal_keras(cell):
    x, mask = masked_inputs()
    for kwargs in ({"use_bias": False}, {"zero_output_for_mask": True}):
        for return_sequences in (True, False):
            stock, fast = _pair(cell, return_sequences=return_sequences, go_backwards=True, **kwargs)
            np.testing.assert_allclose(
                to_numpy(fast(x, mask=mask)),
                to_numpy(stock(x, mask=mask)),
                atol=2e-5,
                err_msg=str(kwargs),
            )


@pytest.mark.parametrize("cell", ["simple", "lstm", "gru"])
def test_stateful_layer_equals_keras(cell):
    stock, fast = _pair(cell, stateful=True, batch=4)  # stateful layers need the batch size
    x, _ = masked_inputs()
    for _ in range(2):  # the second call starts from the first one's final states
        np.testing.assert_allclose(to_numpy(fast(x)), to_numpy(stock(x)), atol=2e-5)
    fast.reset_state()
    stock.reset_state()
    np.testing.assert_allclose(to_numpy(fast(x)), to_numpy(stock(x)), atol=2e-5)


@pytest.mark.parametrize("cell", ["simple", "lstm", "gru"])
def test_mixed_precision_runs_keras_loop(cell):
    """float16 compute (mixed_float16) is not native: Keras' loop, float16 outputs."""
    _, reference = _pair(cell, return_sequences=True)
    stock, fast = _pair(cell, return_sequences=True, dtype="mixed_float16")
    x, mask = masked_inputs()
    assert not fast.uses_native_loop(x.dtype)
    out = fast(x, mask=mask)
    assert str(out.dtype) in ("float16", "torch.float16", "<dtype: 'float16'>")
    np.testing.assert_allclose(to_numpy(out), to_numpy(stock(x, mask=mask)), atol=1e-6)
    np.testing.assert_allclose(to_numpy(out).astype("float32"), to_numpy(reference(x, mask=mask)), atol=1e-2)


@pytest.mark.parametrize("cell", ["simple", "lstm", "gru"])
@pytest.mark.parametrize("go_backwards", [False, True])
def test_cell_step_by_step_equals_the_layer(cell, go_backwards):
    """`layer.cell` (Keras' cell, the layer's weights) one step at a time, as a decoder runs it."""
    from keras import ops

    _, layer = _pair(cell, return_sequences=True, go_backwards=go_backwards)
    x, _ = masked_inputs()
    states = _states(cell)
    expected = to_numpy(layer(x, initial_state=states))
    step_states = [ops.convert_to_tensor(s) for s in states]
    outputs = []
    for t in reversed(range(x.shape[1])) if go_backwards else range(x.shape[1]):
        output, step_states = layer.cell(x[:, t], step_states)
        outputs.append(to_numpy(output))
    np.testing.assert_allclose(np.stack(outputs, axis=1), expected, atol=2e-5)  # processing order
    assert layer.cell.kernel is layer.kernel  # the same variables, not copies
    assert layer.cell.output_size == 6
    assert layer.cell.state_size == ([6, 6] if cell == "lstm" else 6)
    zeros = layer.cell.get_initial_state(batch_size=3)
    assert [tuple(z.shape) for z in zeros] == [(3, 6)] * len(states)


@pytest.mark.parametrize("cell", ["simple", "lstm", "gru"])
def test_configs_move_between_keras_and_rnnlab(cell):
    import keras

    keras_class, rnnlab_class = getattr(keras.layers, NAMES[cell]), getattr(rnnlab.layers, NAMES[cell])
    stock = keras_class(
        7,
        return_sequences=True,
        return_state=True,
        dropout=0.2,
        kernel_regularizer="l2",
        bias_constraint="non_neg",
    )
    config = stock.get_config()
    fast = rnnlab_class.from_config(config)
    assert fast.get_config() == config  # same keys and values: no rnnlab-only key by default
    assert keras_class.from_config(fast.get_config()).get_config() == config
    fast.native = False
    assert rnnlab_class.from_config(fast.get_config()).native is False
    restored = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(fast))
    assert type(restored) is rnnlab_class and not restored.native


@pytest.mark.parametrize("cell", ["simple", "lstm", "gru"])
def test_rnnlab_model_saves_and_loads(cell, tmp_path):
    import keras

    layer_class = getattr(rnnlab.layers, NAMES[cell])
    inputs = keras.Input((None, 5))
    outputs, *states = layer_class(6, return_sequences=True, return_state=True)(inputs)
    outputs = keras.layers.Bidirectional(layer_class(3))(outputs)
    model = keras.Model(inputs, [outputs, *states])
    x, _ = masked_inputs()
    expected = [to_numpy(a) for a in model(x)]
    model.save(tmp_path / "m.keras")
    loaded = keras.saving.load_model(tmp_path / "m.keras")
    assert type(loaded.layers[1]) is layer_class
    for a, b in zip(loaded(x), expected, strict=True):
        np.testing.assert_allclose(to_numpy(a), b, atol=1e-6)


def test_fast_rnn_makes_the_named_layer():
    from rnnlab.layers import GRU, LSTM, FastRNN, SimpleRNN

    for cell, layer_class in (("simple", SimpleRNN), ("lstm", LSTM), ("gru", GRU)):
        layer = FastRNN(4, cell=cell, return_sequences=True)
        assert isinstance(layer, layer_class) and layer.return_sequences
        assert layer.get_config()["cell"] == cell  # saved as rnnlab>FastRNN, as before
    assert isinstance(FastRNN(4, "gru"), GRU)  # cell as the second positional argument
    with pytest.raises(ValueError, match="Expected cell in"):
        FastRNN(4, cell="rnn")
