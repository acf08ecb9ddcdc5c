"""`FastRNN`: a recurrent layer with Keras' weights and equations and a faster loop.

Same weights (`kernel`, `recurrent_kernel`, `bias`, same shapes and gate
order) and the same outputs as `keras.layers.SimpleRNN`, `LSTM` and `GRU`
(`reset_after=True`), so weights move between them unchanged. What differs
is how the loop over time runs:

- the input projection `x @ kernel + bias` of every time step is one large
  matrix product, outside the loop;
- on the JAX backend (CPU), the loop itself runs in native code for all three
  cells: C++ loops (`rnnlab/layers/native/rnn_loops.cc`) called by XLA as
  custom calls, forward and backward (a custom VJP), batch rows split over
  XLA's threads;
- everywhere else (TensorFlow, PyTorch, no C++ compiler, `native=False`) it
  runs as `keras.ops.scan` over the hoisted projections, on any backend.

Masking (padding never changes a state), `return_sequences`, `go_backwards`,
`Bidirectional`, stacking and `.keras` saving work as with Keras' layers.
"""

import keras
from keras import ops

CELLS = ("simple", "lstm", "gru")
GATES = {"simple": 1, "lstm": 4, "gru": 3}


def _ffi(target, *results):
    import jax

    return jax.ffi.ffi_call(target, results if len(results) > 1 else results[0], vmap_method="broadcast_all")


def _native_forward(cell, x, kernel, bias, u, rb, mask, reverse, keep_residuals):
    """Runs the native forward loop; returns (hs, residuals for the backward loop)."""
    import jax

    batch, timesteps, _ = x.shape
    units = u.shape[0]

    def residual(*shape):
        return jax.ShapeDtypeStruct(shape if keep_residuals else (1,), "float32")

    hs_shape = jax.ShapeDtypeStruct((batch, timesteps, units), "float32")
    if cell == "simple":
        hs = _ffi("rnnlab_simple_forward", hs_shape)(x, kernel, bias, u, mask, reverse=reverse)
        return hs, ()
    if cell == "lstm":
        hs, cs, gates = _ffi(
            "rnnlab_lstm_forward",
            hs_shape,
            residual(batch, timesteps, units),
            residual(batch, timesteps, 4 * units),
        )(x, kernel, bias, u, mask, reverse=reverse, keep_residuals=keep_residuals)
        return hs, (cs, gates)
    hs, residuals = _ffi("rnnlab_gru_forward", hs_shape, residual(batch, timesteps, 4 * units))(
        x, kernel, bias, u, rb, mask, reverse=reverse, keep_residuals=keep_residuals
    )
    return hs, (residuals,)


def _native_backward(cell, d_out, x, kernel, bias, hs, residuals, u, mask, reverse, last_only):
    """Runs the native backward loop; returns (dx, d_kernel, d_bias, d_u, d_rb or None)."""
    import jax

    shapes = [jax.ShapeDtypeStruct(a.shape, "float32") for a in (x, kernel, bias, u)]
    if cell == "gru":
        shapes.append(jax.ShapeDtypeStruct(bias.shape, "float32"))
    grads = _ffi(f"rnnlab_{cell}_backward", *shapes)(
        d_out, x, kernel, bias, hs, *residuals, u, mask, reverse=reverse, last_only=last_only
    )
    return (*grads, None) if cell != "gru" else tuple(grads)


def _native_loop(cell, reverse, last_only):
    """`loop(x, kernel, bias, u, rb, mask)` -> every step's state, or the last
    (`last_only`), for one cell and direction; projection and loop in native
    code, with a native VJP."""
    import jax
    import jax.numpy as jnp

    def output(hs):
        return hs[:, -1] if last_only else hs

    @jax.custom_vjp
    def loop(x, kernel, bias, u, rb, mask):
        return output(_native_forward(cell, x, kernel, bias, u, rb, mask, reverse, keep_residuals=False)[0])

    def loop_forward(x, kernel, bias, u, rb, mask):
        hs, residuals = _native_forward(cell, x, kernel, bias, u, rb, mask, reverse, keep_residuals=True)
        return output(hs), (x, kernel, bias, hs, residuals, u, rb, mask)

    def loop_backward(saved, d_out):
        x, kernel, bias, hs, residuals, u, rb, mask = saved
        dx, d_kernel, d_bias, d_u, d_rb = _native_backward(
            cell, d_out, x, kernel, bias, hs, residuals, u, mask, reverse, last_only
        )
        d_rb = jnp.zeros_like(rb) if d_rb is None else d_rb
        return dx, d_kernel, d_bias, d_u, d_rb, jnp.zeros_like(mask)

    loop.defvjp(loop_forward, loop_backward)
    return loop


_NATIVE = {}


def native_loop(cell, reverse=False, last_only=False):
    """The native loop of `cell` on JAX's CPU backend, or None where there is none."""
    if keras.backend.backend() != "jax":
        return None
    import jax

    if jax.default_backend() != "cpu":  # the custom calls are registered for XLA's CPU backend only
        return None
    from rnnlab.layers import native

    if not native.available():
        return None
    key = (cell, reverse, last_only)
    if key not in _NATIVE:
        _NATIVE[key] = _native_loop(*key)
    return _NATIVE[key]


@keras.saving.register_keras_serializable(package="rnnlab")
class FastRNN(keras.layers.Layer):
    """Recurrent layer with Keras' equations and a faster loop over time.

    Args:
        units: size of the state h_t.
        cell: 'simple' (SimpleRNN, tanh), 'lstm' or 'gru' (Keras' gate order,
            GRU with `reset_after=True`).
        return_sequences: return every step's output `(batch, timesteps, units)`
            instead of the last `(batch, units)`.
        go_backwards: read the sequence from the end (as Keras' layers; used by
            `Bidirectional`).
        native: use the native loop where one exists (JAX backend on CPU, a
            C++ compiler present); False always uses the portable
            `keras.ops.scan` loop.
        dropout: fraction of the input features dropped while training, one
            mask per sequence for every step (as Keras' `dropout`).
        kernel_regularizer, recurrent_regularizer: penalties on the weights
            (any Keras regularizer or its name).
        seed: seed of the dropout masks.

    Call arguments:
        inputs: `(batch, timesteps, features)`.
        mask: optional `(batch, timesteps)` booleans; padded steps keep the state.

    Output shape:
        `(batch, units)`, or `(batch, timesteps, units)` with `return_sequences`.

    Example:
    >>> import numpy as np
    >>> layer = FastRNN(64, cell="simple")
    >>> layer(np.ones((32, 100, 8), "float32")).shape  # (batch, units)
    (32, 64)
    """

    def __init__(
        self,
        units,
        cell="simple",
        return_sequences=False,
        go_backwards=False,
        native=True,
        dropout=0.0,
        kernel_regularizer=None,
        recurrent_regularizer=None,
        seed=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if cell not in CELLS:
            raise ValueError(f"Expected cell in {set(CELLS)}. Received: cell={cell!r}")
        if not isinstance(units, int) or units < 1:
            raise ValueError(f"Expected units to be a positive int. Received: units={units!r}")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"Expected 0 <= dropout < 1. Received: dropout={dropout!r}")
        self.units = units
        self.cell = cell
        self.dropout = dropout
        self.kernel_regularizer = keras.regularizers.get(kernel_regularizer)
        self.recurrent_regularizer = keras.regularizers.get(recurrent_regularizer)
        self.seed = seed
        # Initializers and the dropout seed generator are made in the order Keras'
        # cells make them, so that under the same global seed both layers start
        # from the same weights.
        if cell == "simple":
            self.seed_generator = keras.random.SeedGenerator(seed)
        self.kernel_initializer = keras.initializers.get("glorot_uniform")
        self.recurrent_initializer = keras.initializers.get("orthogonal")
        if cell != "simple":
            self.seed_generator = keras.random.SeedGenerator(seed)
        self.return_sequences = return_sequences
        self.go_backwards = go_backwards
        self.native = native
        self.return_state = False
        self.stateful = False
        self.supports_masking = True

    def build(self, input_shape):
        features = input_shape[-1]
        gates = GATES[self.cell]
        self.kernel = self.add_weight(
            (features, gates * self.units),
            initializer=self.kernel_initializer,
            regularizer=self.kernel_regularizer,
            name="kernel",
        )
        self.recurrent_kernel = self.add_weight(
            (self.units, gates * self.units),
            initializer=self.recurrent_initializer,
            regularizer=self.recurrent_regularizer,
            name="recurrent_kernel",
        )
        bias_shape = (2, 3 * self.units) if self.cell == "gru" else (gates * self.units,)
        bias_init = "zeros"
        if self.cell == "lstm":  # Keras' unit_forget_bias=True
            units = self.units

            def bias_init(shape, dtype=None):
                return ops.concatenate(
                    [ops.zeros((units,)), ops.ones((units,)), ops.zeros((2 * units,))], axis=0
                )

        self.bias = self.add_weight(bias_shape, initializer=bias_init, name="bias")

    def _project(self, inputs):
        input_bias = self.bias[0] if self.cell == "gru" else self.bias
        return ops.matmul(inputs, self.kernel) + input_bias  # (batch, timesteps, gates * units)

    def _step(self, xp_t, state):
        """One portable step from projected inputs; returns (output, new_state)."""
        units, u = self.units, self.recurrent_kernel
        if self.cell == "simple":
            (h,) = state
            h = ops.tanh(xp_t + ops.matmul(h, u))
            return h, (h,)
        if self.cell == "lstm":
            h, c = state
            z = xp_t + ops.matmul(h, u)
            i = ops.sigmoid(z[:, :units])
            f = ops.sigmoid(z[:, units : 2 * units])
            g = ops.tanh(z[:, 2 * units : 3 * units])
            o = ops.sigmoid(z[:, 3 * units :])
            c = f * c + i * g
            h = o * ops.tanh(c)
            return h, (h, c)
        (h,) = state
        inner = ops.matmul(h, u) + self.bias[1]
        z = ops.sigmoid(xp_t[:, :units] + inner[:, :units])
        r = ops.sigmoid(xp_t[:, units : 2 * units] + inner[:, units : 2 * units])
        hh = ops.tanh(xp_t[:, 2 * units :] + r * inner[:, 2 * units :])
        h = z * h + (1.0 - z) * hh
        return h, (h,)

    def call(self, inputs, mask=None, training=None, initial_state=None):
        if initial_state is not None:
            raise ValueError("FastRNN starts from a zero state; initial_state is not supported.")
        if training and self.dropout:
            keep = keras.random.dropout(
                ops.ones_like(inputs[:, 0, :]), self.dropout, seed=self.seed_generator
            )  # one mask per sequence, every step
            inputs = inputs * keep[:, None, :]
        batch = ops.shape(inputs)[0]
        mask = ops.ones(ops.shape(inputs)[:2], dtype="float32") if mask is None else ops.cast(mask, "float32")
        native = self.native and inputs.dtype == "float32"
        loop = native_loop(self.cell, self.go_backwards, not self.return_sequences) if native else None
        if loop is not None:  # projection and loop in one native call
            gru = self.cell == "gru"
            input_bias, recurrent_bias = (self.bias[0], self.bias[1]) if gru else (self.bias, ops.zeros(()))
            tensors = (self.kernel, input_bias, self.recurrent_kernel, recurrent_bias)
            return loop(inputs, *map(ops.convert_to_tensor, tensors), mask)
        xp = self._project(inputs)
        xp_t = ops.transpose(xp, (1, 0, 2))  # time-major (timesteps, batch, gates * units)
        mask_t = ops.transpose(mask, (1, 0))
        if self.go_backwards:
            xp_t, mask_t = ops.flip(xp_t, axis=0), ops.flip(mask_t, axis=0)
        zeros = ops.zeros((batch, self.units), dtype=xp.dtype)
        init = (zeros, zeros) if self.cell == "lstm" else (zeros,)

        def step(state, inputs_t):
            xp_step, m = inputs_t
            _, new_state = self._step(xp_step, state)
            m = m[:, None]
            state = tuple(m * n + (1.0 - m) * s for n, s in zip(new_state, state, strict=True))
            return state, state[0]

        _, hs = ops.scan(step, init, (xp_t, mask_t))
        if not self.return_sequences:
            return hs[-1]
        return ops.transpose(hs, (1, 0, 2))  # padded steps repeat the state, as Keras' layers

    def compute_mask(self, inputs, mask=None):
        return mask if self.return_sequences else None

    def compute_output_shape(self, input_shape):
        if self.return_sequences:
            return (input_shape[0], input_shape[1], self.units)
        return (input_shape[0], self.units)

    def get_config(self):
        return {
            **super().get_config(),
            "units": self.units,
            "cell": self.cell,
            "return_sequences": self.return_sequences,
            "go_backwards": self.go_backwards,
            "native": self.native,
            "dropout": self.dropout,
            "kernel_regularizer": keras.regularizers.serialize(self.kernel_regularizer),
            "recurrent_regularizer": keras.regularizers.serialize(self.recurrent_regularizer),
            "seed": self.seed,
        }
