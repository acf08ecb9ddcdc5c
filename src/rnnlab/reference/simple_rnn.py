"""The basic RNN cell of the article (sections 3.1 and 4.2).

    h_t = tanh(x_t @ W_xh + h_{t-1} @ W_hh + b_h)

`W_xh`, `W_hh` and `b_h` are Keras' `kernel`, `recurrent_kernel` and `bias`
of `keras.layers.SimpleRNN`.
"""

import numpy as np


def init_params(rng, input_dim, units, dtype=np.float64):
    """Random parameters with the shapes Keras uses."""
    return {
        "W_xh": rng.normal(0.0, 0.5, (input_dim, units)).astype(dtype),
        "W_hh": rng.normal(0.0, 0.5, (units, units)).astype(dtype),
        "b_h": rng.normal(0.0, 0.1, (units,)).astype(dtype),
    }


def initial_state(batch_size, params):
    """All-zero state `(h_0,)`, as Keras starts."""
    units = params["W_hh"].shape[0]
    return (np.zeros((batch_size, units), dtype=params["W_hh"].dtype),)


def step(x_t, state, params):
    """One time step.

    Args:
        x_t: `(batch, input_dim)` inputs at time t.
        state: `(h_prev,)` with `h_prev` of shape `(batch, units)`.
        params: dict with `W_xh`, `W_hh`, `b_h`.

    Returns:
        `(h_t, new_state, cache)`; `cache` is what `step_backward` needs.
    """
    (h_prev,) = state
    h_t = np.tanh(x_t @ params["W_xh"] + h_prev @ params["W_hh"] + params["b_h"])
    return h_t, (h_t,), (x_t, h_prev, h_t)


def step_backward(d_h, d_state, cache, params):
    """Backward through one step (one term of the BPTT sums of section 3.2).

    Args:
        d_h: gradient of the loss w.r.t. this step's output `h_t`.
        d_state: gradient flowing back from step t+1, `(d_h_next,)`.
        cache: the cache returned by `step`.
        params: the same parameters given to `step`.

    Returns:
        `(d_x_t, d_state_prev, d_params)`.
    """
    x_t, h_prev, h_t = cache
    d_a = (d_h + d_state[0]) * (1.0 - h_t**2)  # through tanh
    d_params = {
        "W_xh": x_t.T @ d_a,
        "W_hh": h_prev.T @ d_a,  # dL/dW_hh = sum_t dL/dh_t * h_{t-1}^T
        "b_h": d_a.sum(axis=0),
    }
    return d_a @ params["W_xh"].T, (d_a @ params["W_hh"].T,), d_params
