"""LSTM cell with Keras' equations and gate order (i, f, c, o).

    z   = x_t @ W_xh + h_{t-1} @ W_hh + b_h        # (batch, 4 * units)
    i   = sigmoid(z_i)    f = sigmoid(z_f)
    g   = tanh(z_c)       o = sigmoid(z_o)
    c_t = f * c_{t-1} + i * g
    h_t = o * tanh(c_t)

`W_xh`, `W_hh`, `b_h` are `keras.layers.LSTM`'s `kernel`,
`recurrent_kernel` and `bias` (default `activation="tanh"`,
`recurrent_activation="sigmoid"`).
"""

import numpy as np

from rnnlab.reference.losses import sigmoid as _sigmoid


def init_params(rng, input_dim, units, dtype=np.float64):
    """Random parameters with the shapes Keras uses."""
    return {
        "W_xh": rng.normal(0.0, 0.5, (input_dim, 4 * units)).astype(dtype),
        "W_hh": rng.normal(0.0, 0.5, (units, 4 * units)).astype(dtype),
        "b_h": rng.normal(0.0, 0.1, (4 * units,)).astype(dtype),
    }


def initial_state(batch_size, params):
    """All-zero state `(h_0, c_0)`."""
    units = params["W_hh"].shape[0]
    zeros = np.zeros((batch_size, units), dtype=params["W_hh"].dtype)
    return (zeros, zeros.copy())


def step(x_t, state, params):
    """One time step; returns `(h_t, (h_t, c_t), cache)`."""
    h_prev, c_prev = state
    z = x_t @ params["W_xh"] + h_prev @ params["W_hh"] + params["b_h"]
    z_i, z_f, z_c, z_o = np.split(z, 4, axis=-1)
    i, f, g, o = _sigmoid(z_i), _sigmoid(z_f), np.tanh(z_c), _sigmoid(z_o)
    c_t = f * c_prev + i * g
    tanh_c = np.tanh(c_t)
    h_t = o * tanh_c
    return h_t, (h_t, c_t), (x_t, h_prev, c_prev, i, f, g, o, tanh_c)


def step_backward(d_h, d_state, cache, params):
    """Backward through one step; returns `(d_x_t, (d_h_prev, d_c_prev), d_params)`."""
    x_t, h_prev, c_prev, i, f, g, o, tanh_c = cache
    d_h = d_h + d_state[0]
    d_c = d_state[1] + d_h * o * (1.0 - tanh_c**2)
    d_z = np.concatenate(
        [
            d_c * g * i * (1.0 - i),  # input gate
            d_c * c_prev * f * (1.0 - f),  # forget gate
            d_c * i * (1.0 - g**2),  # candidate
            d_h * tanh_c * o * (1.0 - o),  # output gate
        ],
        axis=-1,
    )
    d_params = {
        "W_xh": x_t.T @ d_z,
        "W_hh": h_prev.T @ d_z,
        "b_h": d_z.sum(axis=0),
    }
    d_state_prev = (d_z @ params["W_hh"].T, d_c * f)
    return d_z @ params["W_xh"].T, d_state_prev, d_params
