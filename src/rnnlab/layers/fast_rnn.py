"""`FastRNN`: a recurrent layer with Keras' weights and equations and a faster loop.

Same weights (`kernel`, `recurrent_kernel`, `bias`, same shapes and gate
order) and the same outputs as `keras.layers.SimpleRNN`, `LSTM` and `GRU`
(`reset_after=True`), so weights move between them unchanged. What differs
is how the loop over time runs:

- the input projection `x @ kernel + bias` of every time step is one large
  matrix product, outside the loop;
- on the JAX backend, for the SimpleRNN cell, the loop itself runs in native
  code (`rnnlab.layers.kernels`, Numba) through `jax.pure_callback`, forward
  and backward (a custom VJP; the recurrent-kernel gradient is one large
  product after the loop);
- everywhere else it runs as `keras.ops.scan` over the hoisted projections,
  on any backend.

Masking (padding never changes a state), `return_sequences`, `go_backwards`,
`Bidirectional`, stacking and `.keras` saving work as with Keras' layers.
"""

import keras
import numpy as np
from keras import ops

CELLS = ("simple", "lstm", "gru")
GATES = {"simple": 1, "lstm": 4, "gru": 3}


def _native_simple_scan():
    """`scan(xp, U, mask) -> hs` (time-major) with a native forward and backward."""
    import jax
    import jax.numpy as jnp

    from rnnlab.layers import kernels

    def forward_host(xp, recurrent_kernel, mask):
        return kernels.simple_forward(np.asarray(xp), np.asarray(recurrent_kernel), np.asarray(mask))

    def backward_host(d_hs, hs, recurrent_kernel, mask):
        return kernels.simple_backward(
            np.asarray(d_hs), np.asarray(hs), np.asarray(recurrent_kernel), np.asarray(mask)
        )

    def run_forward(xp, recurrent_kernel, mask):
        return jax.pure_callback(
            forward_host, jax.ShapeDtypeStruct(xp.shape, jnp.float32), xp, recurrent_kernel, mask
        )

    @jax.custom_vjp
    def scan(xp, recurrent_kernel, mask):
        return run_forward(xp, recurrent_kernel, mask)

    def scan_forward(xp, recurrent_kernel, mask):
        hs = run_forward(xp, recurrent_kernel, mask)
        return hs, (hs, recurrent_kernel, mask)

    def scan_backward(residuals, d_hs):
        hs, recurrent_kernel, mask = residuals
        d_xp = jax.pure_callback(
            backward_host, jax.ShapeDtypeStruct(hs.shape, jnp.float32), d_hs, hs, recurrent_kernel, mask
        )
        h_prev = jnp.concatenate([jnp.zeros_like(hs[:1]), hs[:-1]], axis=0)
        d_recurrent = jnp.einsum("tbi,tbj->ij", h_prev, d_xp)  # one product for every step
        return d_xp, d_recurrent, jnp.zeros_like(mask)

    scan.defvjp(scan_forward, scan_backward)
    return scan


_NATIVE = {}


def native_scan(cell):
    """The native scan of `cell` on the JAX backend, or None where there is none."""
    if cell != "simple" or keras.backend.backend() != "jax":
        return None
    if cell not in _NATIVE:
        _NATIVE[cell] = _native_simple_scan()
    return _NATIVE[cell]


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
        native: use the native loop where one exists (JAX backend, SimpleRNN);
            False always uses the portable `keras.ops.scan` loop.

    Call arguments:
        inputs: `(batch, timesteps, features)`.
        mask: optional `(batch, timesteps)` booleans; padded steps keep the state.

    Output shape:
        `(batch, units)`, or `(batch, timesteps, units)` with `return_sequences`.

    Example:
    >>> layer = FastRNN(64, cell="simple")
    >>> layer(np.ones((32, 100, 8), "float32")).shape  # (batch, units)
    (32, 64)
    """

    def __init__(
        self, units, cell="simple", return_sequences=False, go_backwards=False, native=True, **kwargs
    ):
        super().__init__(**kwargs)
        if cell not in CELLS:
            raise ValueError(f"Expected cell in {set(CELLS)}. Received: cell={cell!r}")
        if not isinstance(units, int) or units < 1:
            raise ValueError(f"Expected units to be a positive int. Received: units={units!r}")
        self.units = units
        self.cell = cell
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
            (features, gates * self.units), initializer="glorot_uniform", name="kernel"
        )
        self.recurrent_kernel = self.add_weight(
            (self.units, gates * self.units), initializer="orthogonal", name="recurrent_kernel"
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
        xp = self._project(inputs)
        batch = ops.shape(inputs)[0]
        mask = ops.ones(ops.shape(inputs)[:2], dtype="float32") if mask is None else ops.cast(mask, "float32")
        xp_t = ops.transpose(xp, (1, 0, 2))  # time-major (timesteps, batch, gates * units)
        mask_t = ops.transpose(mask, (1, 0))
        if self.go_backwards:
            xp_t, mask_t = ops.flip(xp_t, axis=0), ops.flip(mask_t, axis=0)
        scan = native_scan(self.cell) if self.native and xp.dtype == "float32" else None
        if scan is not None:
            hs = scan(xp_t, ops.convert_to_tensor(self.recurrent_kernel), mask_t)
        else:
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
        }
