"""The loop over time, for any cell module (`simple_rnn`, `lstm`, `gru`).

A cell module provides `initial_state`, `step` and `step_backward`; this
module owns the loop, like Keras' `RNN` layer owns the loop over its cell.
"""

import numpy as np


def forward(cell, params, x, initial_state=None):
    """Runs `cell` over every time step.

    Args:
        cell: a cell module, e.g. `rnnlab.reference.simple_rnn`.
        params: the cell's parameters.
        x: `(batch, timesteps, input_dim)` inputs.
        initial_state: optional state tuple; zeros by default.

    Returns:
        `(hs, caches)`: `hs` of shape `(batch, timesteps, units)` holds every
        h_t; `caches` is what `backward` needs.

    Example:
    >>> from rnnlab.reference import simple_rnn
    >>> params = simple_rnn.init_params(np.random.default_rng(0), 3, 4)
    >>> hs, _ = forward(simple_rnn, params, np.ones((2, 5, 3)))
    >>> hs.shape  # (batch, timesteps, units)
    (2, 5, 4)
    """
    x = np.asarray(x)
    if x.ndim != 3:
        raise ValueError(f"Expected inputs of shape (batch, timesteps, input_dim). Received: shape={x.shape}")
    state = cell.initial_state(x.shape[0], params) if initial_state is None else initial_state
    outputs, caches = [], []
    for t in range(x.shape[1]):
        h_t, state, cache = cell.step(x[:, t], state, params)
        outputs.append(h_t)
        caches.append(cache)
    return np.stack(outputs, axis=1), caches


def backward(cell, params, d_hs, caches):
    """Backpropagation through time.

    Args:
        cell: the cell module given to `forward`.
        params: the cell's parameters.
        d_hs: `(batch, timesteps, units)` gradient of the loss w.r.t. every
            h_t (zeros where a step's output is not used, e.g. all but the
            last step in a many-to-one model).
        caches: the caches returned by `forward`.

    Returns:
        `(d_x, d_params, d_initial_state)`: gradients w.r.t. the inputs
        `(batch, timesteps, input_dim)`, each parameter (summed over time)
        and the initial state.
    """
    d_params = {name: np.zeros_like(value) for name, value in params.items()}
    d_state = tuple(np.zeros_like(d_hs[:, 0]) for _ in cell.initial_state(1, params))
    d_xs = [None] * len(caches)
    for t in reversed(range(len(caches))):
        d_xs[t], d_state, d_step = cell.step_backward(d_hs[:, t], d_state, caches[t], params)
        for name, value in d_step.items():
            d_params[name] += value
    return np.stack(d_xs, axis=1), d_params, d_state


def hidden_gradients(cell, params, d_hs, caches):
    """The gradient of the loss w.r.t. every hidden state h_t, through all later steps.

    BPTT's sum for one step: what the loss gets from h_t directly (`d_hs[:, t]`) plus what
    flows back from step t+1 (section 3.2). Its norm against t shows gradients vanishing or
    exploding with distance.

    Args:
        cell, params, caches: as for `backward`.
        d_hs: `(batch, timesteps, units)` direct gradients, as for `backward`.

    Returns:
        `(batch, timesteps, units)`: dL/dh_t.

    Example:
    >>> from rnnlab.reference import simple_rnn
    >>> params = simple_rnn.init_params(np.random.default_rng(0), 3, 4)
    >>> hs, caches = forward(simple_rnn, params, np.ones((2, 5, 3)))
    >>> d_hs = np.zeros_like(hs); d_hs[:, -1] = 1.0  # the loss reads the last state only
    >>> g = hidden_gradients(simple_rnn, params, d_hs, caches)
    >>> bool(np.allclose(g[:, -1], 1.0)), g.shape
    (True, (2, 5, 4))
    """
    d_state = tuple(np.zeros_like(d_hs[:, 0]) for _ in cell.initial_state(1, params))
    totals = [None] * len(caches)
    for t in reversed(range(len(caches))):
        totals[t] = d_hs[:, t] + d_state[0]
        _, d_state, _ = cell.step_backward(d_hs[:, t], d_state, caches[t], params)
    return np.stack(totals, axis=1)
