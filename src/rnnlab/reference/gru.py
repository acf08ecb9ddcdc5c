"""GRU cell with Keras' equations: gate order (z, r, h), `reset_after=True`.

    x_z, x_r, x_h = split(x_t @ W_xh + b_h[0])       # input projection
    u_z, u_r, u_h = split(h_{t-1} @ W_hh + b_h[1])   # recurrent projection
    z   = sigmoid(x_z + u_z)                          # update gate
    r   = sigmoid(x_r + u_r)                          # reset gate
    hh  = tanh(x_h + r * u_h)                         # candidate (reset after matmul)
    h_t = z * h_{t-1} + (1 - z) * hh

`W_xh`, `W_hh` and `b_h` (shape `(2, 3 * units)`: input bias, recurrent
bias) are `keras.layers.GRU`'s `kernel`, `recurrent_kernel` and `bias`.
"""

import numpy as np

from rnnlab.reference.losses import sigmoid as _sigmoid


def init_params(rng, input_dim, units, dtype=np.float64):
    """Random parameters with the shapes Keras uses."""
    return {
        "W_xh": rng.normal(0.0, 0.5, (input_dim, 3 * units)).astype(dtype),
        "W_hh": rng.normal(0.0, 0.5, (units, 3 * units)).astype(dtype),
        "b_h": rng.normal(0.0, 0.1, (2, 3 * units)).astype(dtype),
    }


def initial_state(batch_size, params):
    """All-zero state `(h_0,)`."""
    units = params["W_hh"].shape[0]
    return (np.zeros((batch_size, units), dtype=params["W_hh"].dtype),)


def step(x_t, state, params):
    """One time step; returns `(h_t, (h_t,), cache)`."""
    (h_prev,) = state
    x_z, x_r, x_h = np.split(x_t @ params["W_xh"] + params["b_h"][0], 3, axis=-1)
    u_z, u_r, u_h = np.split(h_prev @ params["W_hh"] + params["b_h"][1], 3, axis=-1)
    z = _sigmoid(x_z + u_z)
    r = _sigmoid(x_r + u_r)
    hh = np.tanh(x_h + r * u_h)
    h_t = z * h_prev + (1.0 - z) * hh
    return h_t, (h_t,), (x_t, h_prev, z, r, hh, u_h)


def step_backward(d_h, d_state, cache, params):
    """Backward through one step; returns `(d_x_t, (d_h_prev,), d_params)`."""
    x_t, h_prev, z, r, hh, u_h = cache
    d_h = d_h + d_state[0]
    d_a_h = d_h * (1.0 - z) * (1.0 - hh**2)  # pre-activation of the candidate
    d_a_z = d_h * (h_prev - hh) * z * (1.0 - z)
    d_a_r = d_a_h * u_h * r * (1.0 - r)
    d_x_proj = np.concatenate([d_a_z, d_a_r, d_a_h], axis=-1)
    d_u_proj = np.concatenate([d_a_z, d_a_r, d_a_h * r], axis=-1)
    d_params = {
        "W_xh": x_t.T @ d_x_proj,
        "W_hh": h_prev.T @ d_u_proj,
        "b_h": np.stack([d_x_proj.sum(axis=0), d_u_proj.sum(axis=0)]),
    }
    d_h_prev = d_h * z + d_u_proj @ params["W_hh"].T
    return d_x_proj @ params["W_xh"].T, (d_h_prev,), d_params
