"""rnnlab's `SimpleRNN`, `LSTM` and `GRU`: Keras' layers with a faster loop over time.

Each class is a subclass of Keras' layer of the same name (same arguments,
weights, initialization order, cell, configuration and outputs), so switching
is a change of import::

    from rnnlab.layers import LSTM  # instead of: from keras.layers import LSTM

What differs is how the loop over time runs. On the JAX backend (XLA's CPU
backend, a C++ compiler present) the input projection and the loop, forward
and backward, run in native code: C++ loops (`rnnlab/layers/native/rnn_loops.cc`)
called by XLA as custom calls with a custom VJP, batch rows split over XLA's
threads. The native loop runs every configuration whose equations it
implements:

- float32 compute dtype, `native=True`;
- Keras' default activations (`tanh`, and `sigmoid` as the recurrent one);
- no `recurrent_dropout` (input `dropout` is native: one mask per sequence);
- GRU with `reset_after=True`.

With any `use_bias`, `initial_state`, `return_state`, `stateful` (whose states,
unlike those of Keras' own layers, are tracked variables, so that they are
carried from batch to batch inside `fit` on JAX too), masking,
`zero_output_for_mask`, `go_backwards`, `unroll`, regularizers and constraints.
Every other configuration (another activation, `recurrent_dropout`,
`reset_after=False`, mixed precision, the TensorFlow and PyTorch backends,
accelerators, no compiler, `RNNLAB_NATIVE=0`) runs Keras' own loop (and so
cuDNN where Keras would use it), as Keras picks cuDNN only for eligible
configurations.

`FastRNN(units, cell=...)` makes the layer of a cell by name ('simple',
'lstm', 'gru'), and loads models saved by the earlier `FastRNN`.

For step-by-step decoding (sampling, beam search), `layer.cell` is Keras'
`SimpleRNNCell`/`LSTMCell`/`GRUCell` holding the layer's own weights:
`output, states = layer.cell(x_t, states)` continues from the `return_state`
states of an encoder, and `layer.cell.get_initial_state(batch_size)` gives zeros.
"""

import os

import keras
from keras import ops

from rnnlab.cells import CELLS  # the one list of cell names
from rnnlab.layers import native


def _ffi(target, *results):
    import jax

    return jax.ffi.ffi_call(target, results if len(results) > 1 else results[0], vmap_method="broadcast_all")


def _native_forward(cell, x, kernel, bias, u, rb, mask, h0, c0, reverse, keep_residuals):
    """Runs the native forward loop; returns (hs, LSTM's final c or None, residuals for the backward loop)."""
    import jax

    batch, timesteps, _ = x.shape
    units = u.shape[0]

    def residual(*shape):
        return jax.ShapeDtypeStruct(shape if keep_residuals else (1,), "float32")

    hs_shape = jax.ShapeDtypeStruct((batch, timesteps, units), "float32")
    if cell == "simple":
        hs = _ffi("rnnlab_simple_forward", hs_shape)(x, kernel, bias, u, mask, h0, reverse=reverse)
        return hs, None, ()
    if cell == "lstm":
        hs, cs, gates, c_last = _ffi(
            "rnnlab_lstm_forward",
            hs_shape,
            residual(batch, timesteps, units),
            residual(batch, timesteps, 4 * units),
            jax.ShapeDtypeStruct((batch, units), "float32"),
        )(x, kernel, bias, u, mask, h0, c0, reverse=reverse, keep_residuals=keep_residuals)
        return hs, c_last, (cs, gates)
    hs, residuals = _ffi("rnnlab_gru_forward", hs_shape, residual(batch, timesteps, 4 * units))(
        x, kernel, bias, u, rb, mask, h0, reverse=reverse, keep_residuals=keep_residuals
    )
    return hs, None, (residuals,)


def _native_backward(cell, d_out, d_c_last, saved, reverse, last_only):
    """Runs the native backward loop; returns the gradients of (x, kernel, bias, u, rb, h0, c0)."""
    import jax
    import jax.numpy as jnp

    x, kernel, bias, u, rb, mask, h0, c0, hs, residuals = saved
    shapes = [jax.ShapeDtypeStruct(a.shape, "float32") for a in (x, kernel, bias, u)]
    state = jax.ShapeDtypeStruct(h0.shape, "float32")
    flags = {"reverse": reverse, "last_only": last_only}
    if cell == "simple":
        dx, dk, db, du, dh0 = _ffi("rnnlab_simple_backward", *shapes, state)(
            d_out, x, kernel, bias, hs, u, mask, h0, **flags
        )
        return dx, dk, db, du, jnp.zeros_like(rb), dh0, jnp.zeros_like(c0)
    if cell == "lstm":
        dx, dk, db, du, dh0, dc0 = _ffi("rnnlab_lstm_backward", *shapes, state, state)(
            d_out, d_c_last, x, kernel, bias, hs, *residuals, u, mask, h0, c0, **flags
        )
        return dx, dk, db, du, jnp.zeros_like(rb), dh0, dc0
    dx, dk, db, du, drb, dh0 = _ffi("rnnlab_gru_backward", *shapes, shapes[2], state)(
        d_out, x, kernel, bias, hs, *residuals, u, mask, h0, **flags
    )
    return dx, dk, db, du, drb, dh0, jnp.zeros_like(c0)


def _native_loop(cell, reverse, last_only):
    """`loop(x, kernel, bias, u, rb, mask, h0, c0)` -> (every step's state, or the last
    (`last_only`); the LSTM's final c, or None) for one cell and direction; projection
    and loop in native code, with a native VJP (also for the initial states)."""
    import jax
    import jax.numpy as jnp

    def output(hs):
        return hs[:, -1] if last_only else hs

    @jax.custom_vjp
    def loop(x, kernel, bias, u, rb, mask, h0, c0):
        hs, c_last, _ = _native_forward(cell, x, kernel, bias, u, rb, mask, h0, c0, reverse, False)
        return output(hs), c_last

    def loop_forward(x, kernel, bias, u, rb, mask, h0, c0):
        hs, c_last, residuals = _native_forward(cell, x, kernel, bias, u, rb, mask, h0, c0, reverse, True)
        return (output(hs), c_last), (x, kernel, bias, u, rb, mask, h0, c0, hs, residuals)

    def loop_backward(saved, cotangents):
        d_out, d_c_last = cotangents
        dx, dk, db, du, drb, dh0, dc0 = _native_backward(cell, d_out, d_c_last, saved, reverse, last_only)
        return dx, dk, db, du, drb, jnp.zeros_like(saved[5]), dh0, dc0

    loop.defvjp(loop_forward, loop_backward)
    return loop


_NATIVE = {}


def native_unavailable_reason():
    """Why this process has no native loops ('the torch backend', 'RNNLAB_NATIVE=0', ...), or None."""
    if keras.backend.backend() != "jax":
        return f"the {keras.backend.backend()} backend"
    import jax

    if jax.default_backend() != "cpu":  # the custom calls are registered for XLA's CPU backend only
        return f"JAX on {jax.default_backend()}"
    if os.environ.get("RNNLAB_NATIVE", "1") == "0":
        return "RNNLAB_NATIVE=0"
    if not native.available():
        return f"no native build ({(native.build_error() or 'unknown error').splitlines()[0][:120]})"
    return None


def native_loop(cell, reverse=False, last_only=False):
    """The native loop of `cell` on JAX's CPU backend, or None where there is none."""
    if native_unavailable_reason() is not None:
        return None
    key = (cell, reverse, last_only)
    if key not in _NATIVE:
        _NATIVE[key] = _native_loop(*key)
    return _NATIVE[key]


def per_device(loop):
    """`loop` run by each device on its rows of the batch when a Keras `DataParallel`
    distribution spans several devices (`jax.shard_map`; the weights' gradients are summed
    over devices), so that the native call sees its shard rather than the gathered batch.
    Otherwise `loop` itself."""
    distribution = keras.distribution.distribution()
    if not isinstance(distribution, keras.distribution.DataParallel):
        return loop
    mesh = distribution.device_mesh
    if mesh.devices.size == 1:
        return loop
    import jax
    from jax.sharding import PartitionSpec

    rows = PartitionSpec(distribution.batch_dim_name)
    whole = PartitionSpec()

    def sharded(x, kernel, bias, u, rb, mask, h0, c0):
        specs = [rows if ops.ndim(a) else whole for a in (x, mask, h0, c0)]
        in_specs = (specs[0], whole, whole, whole, whole, *specs[1:])
        return jax.shard_map(
            loop, mesh=mesh.backend_mesh, in_specs=in_specs, out_specs=(rows, rows), check_vma=False
        )(x, kernel, bias, u, rb, mask, h0, c0)

    return sharded


def _name(function):
    return getattr(function, "__name__", type(function).__name__)


class _NativeLoop:
    """What rnnlab adds to a Keras recurrent layer: the `native` switch and the native loop."""

    _cell_name = None  # 'simple', 'lstm' or 'gru'

    def __init__(self, *args, native=True, **kwargs):
        super().__init__(*args, **kwargs)
        self.native = native

    # The cell's weights, also as the layer's attributes (as the earlier FastRNN had them).
    kernel = property(lambda self: self.cell.kernel)
    recurrent_kernel = property(lambda self: self.cell.recurrent_kernel)
    bias = property(lambda self: self.cell.bias)

    def uses_native_loop(self, dtype="float32"):
        """True when a call with inputs of `dtype` runs the native loop (see the module's docstring)."""
        return self.keras_loop_reason(dtype) is None

    def keras_loop_reason(self, dtype="float32"):
        """Why a call with inputs of `dtype` runs Keras' own loop ('recurrent_dropout=0.2', 'the
        torch backend', ...), or None when it runs the native loop."""
        cell = self.cell
        dtype = keras.backend.standardize_dtype(dtype)
        recurrent_activation = getattr(cell, "recurrent_activation", keras.activations.sigmoid)
        checks = (
            (not self.native, "native=False"),
            (self.compute_dtype != "float32", f"compute dtype {self.compute_dtype}"),
            # integers are cast, as Keras' matmul promotes them
            (dtype != "float32" and "int" not in dtype, f"{dtype} inputs"),
            (cell.activation is not keras.activations.tanh, f"activation={_name(cell.activation)}"),
            (
                recurrent_activation is not keras.activations.sigmoid,
                f"recurrent_activation={_name(recurrent_activation)}",
            ),
            (bool(cell.recurrent_dropout), f"recurrent_dropout={cell.recurrent_dropout}"),
            (not getattr(cell, "reset_after", True), "reset_after=False"),
        )
        for failed, reason in checks:
            if failed:
                return reason
        return native_unavailable_reason()

    def inner_loop(self, sequences, initial_state, mask, training=False):
        if isinstance(mask, (list, tuple)):
            mask = mask[0]
        if not self.uses_native_loop(sequences.dtype):
            return super().inner_loop(sequences, initial_state, mask=mask, training=training)
        cell = self.cell
        sequences = ops.cast(sequences, "float32")
        if training and cell.dropout:  # one mask per sequence, every step (as Keras' cells)
            sequences = sequences * ops.expand_dims(cell.get_dropout_mask(sequences[:, 0, :]), 1)
        batch, timesteps = ops.shape(sequences)[0], ops.shape(sequences)[1]
        m = ops.ones((batch, timesteps), "float32") if mask is None else ops.cast(mask, "float32")
        units = cell.units
        if cell.use_bias:
            bias = ops.convert_to_tensor(cell.bias)
        else:
            bias = ops.zeros((2, 3 * units) if self._cell_name == "gru" else (cell.kernel.shape[-1],))
        input_bias, recurrent_bias = (bias[0], bias[1]) if self._cell_name == "gru" else (bias, ops.zeros(()))
        h0 = initial_state[0]
        c0 = initial_state[1] if self._cell_name == "lstm" else ops.zeros(())
        loop = native_loop(self._cell_name, self.go_backwards, not self.return_sequences)
        weights = map(ops.convert_to_tensor, (cell.kernel, input_bias, cell.recurrent_kernel, recurrent_bias))
        out, c_last = per_device(loop)(sequences, *weights, m, h0, c0)
        # out: (batch, timesteps, units) in processing order (reversed with go_backwards), or the last step
        if self.return_sequences:
            h_last = out[:, -1]
            if self.zero_output_for_mask and mask is not None:
                out = out * ops.expand_dims(ops.flip(m, axis=1) if self.go_backwards else m, -1)
            last_output = out[:, -1]
        else:
            h_last = last_output = out
            if self.zero_output_for_mask and mask is not None:
                last_output = out * m[:, :1] if self.go_backwards else out * m[:, -1:]
            out = ops.expand_dims(last_output, 1)
        states = [h_last, c_last] if self._cell_name == "lstm" else [h_last]
        return last_output, out, states

    def build(self, sequences_shape, initial_state_shape=None):
        super().build(sequences_shape, initial_state_shape)
        if self.stateful and keras.backend.backend() == "jax":
            # Keras creates a stateful layer's state variables untracked. The JAX trainer then
            # bakes their first values into the compiled step and drops every update, so states
            # are never carried inside fit/evaluate. Tracked, they are non-trainable variables
            # that the trainer carries from step to step (and that are saved with the weights).
            # TensorFlow and PyTorch update untracked variables in place already.
            tracked = {id(v) for v in self.non_trainable_variables}
            for variable in keras.tree.flatten(self.states):
                if id(variable) not in tracked:
                    self._track_variable(variable)

    def _tracked_states(self):
        """The state variables this layer tracks (stateful, JAX), first in `weights`."""
        if not (self.stateful and self.states is not None):
            return []
        ids = {id(v) for v in self._non_trainable_variables}
        return [v for v in keras.tree.flatten(self.states) if id(v) in ids]

    def set_weights(self, weights):
        """Also takes the weights of Keras' own layer (without the tracked states)."""
        states = self._tracked_states()
        if states and len(weights) == len(self.weights) - len(states):
            weights = [keras.ops.convert_to_numpy(v) for v in states] + list(weights)
        super().set_weights(weights)

    def call(self, sequences, initial_state=None, mask=None, training=False):
        if initial_state is None and self.stateful and keras.backend.backend() == "torch":
            # Start from copies: Keras' layer reads the state variables themselves, which its
            # end-of-call update then changes in place under autograd's feet in training.
            initial_state = [ops.copy(state) for state in keras.tree.flatten(self.states)]
        return super().call(sequences, initial_state=initial_state, mask=mask, training=training)

    def get_config(self):
        config = super().get_config()
        if not self.native:  # only when set: the configuration stays loadable by Keras' own layer
            config["native"] = False
        return config

    def load_own_variables(self, store):
        if not len(store.keys()) and self._tracked_states():
            return  # saved by Keras' own stateful layer, which keeps no states: they start at zero
        super().load_own_variables(store)


@keras.saving.register_keras_serializable(package="rnnlab")
class SimpleRNN(_NativeLoop, keras.layers.SimpleRNN):
    """Keras' `SimpleRNN` (same arguments, weights and outputs) with rnnlab's native loop.

    Args:
        units: size of the state.
        native: run the native loop where it can (JAX backend on CPU,
            float32, default activation, no `recurrent_dropout`); False always
            runs Keras' loop.
        **kwargs: every argument of `keras.layers.SimpleRNN` (`activation`,
            `use_bias`, initializers, regularizers, constraints, `dropout`,
            `recurrent_dropout`, `seed`, `return_sequences`, `return_state`,
            `go_backwards`, `stateful`, `unroll`, ...), with Keras' meaning.

    Call arguments:
        sequences: `(batch, timesteps, features)`.
        initial_state: optional `(batch, units)` (or a list of it).
        mask: optional `(batch, timesteps)` booleans; padded steps keep the state.
        training: applies dropout when True.

    Output shape:
        `(batch, units)`, or `(batch, timesteps, units)` with `return_sequences`;
        with `return_state`, followed by the final state `(batch, units)`.

    Example:
    >>> import numpy as np
    >>> layer = SimpleRNN(4, return_state=True)
    >>> output, h = layer(np.ones((2, 7, 3), "float32"))  # (batch, units) twice
    >>> output.shape, h.shape
    ((2, 4), (2, 4))
    """

    _cell_name = "simple"


@keras.saving.register_keras_serializable(package="rnnlab")
class LSTM(_NativeLoop, keras.layers.LSTM):
    """Keras' `LSTM` (same arguments, weights and outputs) with rnnlab's native loop.

    Args:
        units: size of the states h and c.
        native: run the native loop where it can (JAX backend on CPU,
            float32, default activations, no `recurrent_dropout`); False
            always runs Keras' loop.
        **kwargs: every argument of `keras.layers.LSTM` (`activation`,
            `recurrent_activation`, `use_bias`, `unit_forget_bias`,
            initializers, regularizers, constraints, `dropout`,
            `recurrent_dropout`, `seed`, `return_sequences`, `return_state`,
            `go_backwards`, `stateful`, `unroll`, `use_cudnn`, ...), with Keras'
            meaning.

    Call arguments:
        sequences: `(batch, timesteps, features)`.
        initial_state: optional `[h, c]`, each `(batch, units)`.
        mask: optional `(batch, timesteps)` booleans; padded steps keep the states.
        training: applies dropout when True.

    Output shape:
        `(batch, units)`, or `(batch, timesteps, units)` with `return_sequences`;
        with `return_state`, followed by the final h and c `(batch, units)`.

    Example:
    >>> import numpy as np
    >>> encoder = LSTM(4, return_state=True)
    >>> _, h, c = encoder(np.ones((2, 7, 3), "float32"))
    >>> decoder = LSTM(4, return_sequences=True)
    >>> decoder(np.ones((2, 5, 3), "float32"), initial_state=[h, c]).shape  # (batch, timesteps, units)
    (2, 5, 4)
    """

    _cell_name = "lstm"


@keras.saving.register_keras_serializable(package="rnnlab")
class GRU(_NativeLoop, keras.layers.GRU):
    """Keras' `GRU` (same arguments, weights and outputs) with rnnlab's native loop.

    Args:
        units: size of the state.
        native: run the native loop where it can (JAX backend on CPU,
            float32, default activations, `reset_after=True`, no
            `recurrent_dropout`); False always runs Keras' loop.
        **kwargs: every argument of `keras.layers.GRU` (`activation`,
            `recurrent_activation`, `use_bias`, `reset_after`, initializers,
            regularizers, constraints, `dropout`, `recurrent_dropout`, `seed`,
            `return_sequences`, `return_state`, `go_backwards`, `stateful`,
            `unroll`, `use_cudnn`, ...), with Keras' meaning.

    Call arguments:
        sequences: `(batch, timesteps, features)`.
        initial_state: optional `(batch, units)` (or a list of it).
        mask: optional `(batch, timesteps)` booleans; padded steps keep the state.
        training: applies dropout when True.

    Output shape:
        `(batch, units)`, or `(batch, timesteps, units)` with `return_sequences`;
        with `return_state`, followed by the final state `(batch, units)`.

    Example:
    >>> import numpy as np
    >>> layer = GRU(4, return_sequences=True)
    >>> layer(np.ones((2, 7, 3), "float32")).shape  # (batch, timesteps, units)
    (2, 7, 4)
    """

    _cell_name = "gru"


LAYERS = {"simple": SimpleRNN, "lstm": LSTM, "gru": GRU}


def _made_by_fast_rnn(layer_class):
    """The subclass of `layer_class` that `FastRNN(...)` makes: named `FastRNN` and saved
    as 'rnnlab>FastRNN' with its `cell`, as the earlier FastRNN was, so that saved models keep their
    layout (weights under `fast_rnn`, `fast_rnn_1`, ...) and load in both directions."""
    cell_name = layer_class._cell_name

    def __init__(self, *args, cell=cell_name, **kwargs):
        if cell != cell_name:
            raise ValueError(
                f"Expected cell={cell_name!r} for {layer_class.__name__}. Received: cell={cell!r}"
            )
        layer_class.__init__(self, *args, **kwargs)

    def get_config(self):
        return {**layer_class.get_config(self), "cell": cell_name}

    namespace = {"__init__": __init__, "get_config": get_config, "__module__": __name__}
    made = type("FastRNN", (layer_class,), {**namespace, "__doc__": layer_class.__doc__})
    return keras.saving.register_keras_serializable(package="rnnlab", name="FastRNN")(made)


_MADE_BY_FAST_RNN = {cell: _made_by_fast_rnn(layer) for cell, layer in LAYERS.items()}


class FastRNN:
    """The rnnlab layer of a cell named by a string: a `SimpleRNN`, `LSTM` or `GRU`.

    The layer is an instance of that class (a subclass of it named `FastRNN`, whose
    configuration also holds `cell`: models saved by earlier rnnlab versions load unchanged).

    Args:
        units: size of the state.
        cell: 'simple' (`SimpleRNN`), 'lstm' (`LSTM`) or 'gru' (`GRU`).
        **kwargs: any argument of that layer (Keras' arguments and `native`).

    Example:
    >>> import numpy as np
    >>> layer = FastRNN(64, cell="lstm")
    >>> isinstance(layer, LSTM), layer(np.ones((32, 100, 8), "float32")).shape  # (batch, units)
    (True, (32, 64))
    """

    def __new__(cls, units, cell="simple", **kwargs):
        if cell not in CELLS:
            raise ValueError(f"Expected cell in {set(CELLS)}. Received: cell={cell!r}")
        return _MADE_BY_FAST_RNN[cell](units, **kwargs)

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def get_config(self):
        """Keras registers only classes with `get_config`; a layer made here is a SimpleRNN, LSTM
        or GRU, whose own `get_config` is the one saved."""
        raise NotImplementedError


# Registered last: 'rnnlab>FastRNN' in a saved configuration means this factory.
keras.saving.register_keras_serializable(package="rnnlab")(FastRNN)
