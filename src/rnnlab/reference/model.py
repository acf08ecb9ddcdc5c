"""The article's model in NumPy: Embedding -> RNN cell -> Dense (sections 4-5).

    x_t = W_embed[ids_t]                                   # 4.1
    h_t = cell(x_t, h_{t-1})                               # 3.1 / 4.2
    y_t = h_t @ W_hy + b_y                                 # 3.1
    loss = cross_entropy(activation(y), targets)          # 4.3

Many-to-one uses only the last `y_T` (sentiment); many-to-many uses every
`y_t` (language modelling, tagging).
"""

import numpy as np

from rnnlab.reference import embedding, gru, losses, lstm, recurrent, simple_rnn

CELLS = {"simple": simple_rnn, "lstm": lstm, "gru": gru}
LOSSES = {
    "binary": losses.binary_cross_entropy,
    "categorical": losses.categorical_cross_entropy,
}
PARAM_ORDER = ("W_embed", "W_xh", "W_hh", "b_h", "W_hy", "b_y")


def get_cell(cell):
    """Returns the cell module for `cell` in {'simple', 'lstm', 'gru'}."""
    if cell not in CELLS:
        raise ValueError(f"Expected cell in {set(CELLS)}. Received: cell={cell!r}")
    return CELLS[cell]


def init_params(cell, vocab_size, embedding_dim, units, output_dim, seed=0, dtype=np.float64):
    """Random parameters for the whole model, in Keras' shapes.

    Example:
    >>> params = init_params("lstm", vocab_size=10, embedding_dim=3, units=4, output_dim=1)
    >>> params["W_hh"].shape  # (units, 4 * units): Keras' recurrent_kernel
    (4, 16)
    """
    rng = np.random.default_rng(seed)
    params = {"W_embed": rng.normal(0.0, 0.5, (vocab_size, embedding_dim)).astype(dtype)}
    params.update(get_cell(cell).init_params(rng, embedding_dim, units, dtype))
    params["W_hy"] = rng.normal(0.0, 0.5, (units, output_dim)).astype(dtype)
    params["b_y"] = rng.normal(0.0, 0.1, (output_dim,)).astype(dtype)
    return params


def _cell_params(params):
    return {name: params[name] for name in ("W_xh", "W_hh", "b_h")}


def forward_embedded(params, x, cell="simple", return_sequences=False):
    """Forward pass from already-embedded inputs `x` `(batch, timesteps, dim)`.

    Returns:
        `(logits, cache)`: `logits` is `(batch, output_dim)` for many-to-one,
        `(batch, timesteps, output_dim)` for many-to-many.
    """
    hs, caches = recurrent.forward(get_cell(cell), _cell_params(params), x)
    features = hs if return_sequences else hs[:, -1]
    logits = features @ params["W_hy"] + params["b_y"]
    return logits, (hs, caches)


def forward(params, ids, cell="simple", return_sequences=False):
    """Forward pass from token ids `(batch, timesteps)`; returns logits.

    Example:
    >>> params = init_params("simple", 10, 3, 4, 1)
    >>> forward(params, np.array([[1, 2, 3]])).shape  # (batch, output_dim)
    (1, 1)
    """
    x = embedding.forward(params["W_embed"], ids)
    return forward_embedded(params, x, cell, return_sequences)[0]


def loss_and_gradients(params, ids, targets, cell="simple", loss="binary", return_sequences=False):
    """Loss and the BPTT gradient of every parameter and of the embedded inputs.

    Args:
        params: dict from `init_params`.
        ids: `(batch, timesteps)` token ids.
        targets: 0/1 labels for `loss="binary"`; labels or one-hot for
            `loss="categorical"`; per step when `return_sequences=True`.
        cell: 'simple', 'lstm' or 'gru'.
        loss: 'binary' (sigmoid output) or 'categorical' (softmax output).
        return_sequences: many-to-many when True, many-to-one otherwise.

    Returns:
        `(loss, grads)`: `grads` has one entry per parameter plus `"inputs"`,
        the gradient w.r.t. the embedded inputs `(batch, timesteps, dim)`.
    """
    if loss not in LOSSES:
        raise ValueError(f"Expected loss in {set(LOSSES)}. Received: loss={loss!r}")
    x = embedding.forward(params["W_embed"], ids)
    logits, (hs, caches) = forward_embedded(params, x, cell, return_sequences)
    value, d_logits = LOSSES[loss](logits, targets)

    # Dense layer: dL/dW_hy = sum_t dL/dy_t h_t^T (section 3.2).
    features = hs if return_sequences else hs[:, -1]
    flat_features = features.reshape(-1, features.shape[-1])
    flat_d_logits = d_logits.reshape(-1, d_logits.shape[-1])
    grads = {
        "W_hy": flat_features.T @ flat_d_logits,
        "b_y": flat_d_logits.sum(axis=0),
    }
    d_features = d_logits @ params["W_hy"].T
    if return_sequences:
        d_hs = d_features
    else:  # only the last step feeds the output
        d_hs = np.zeros_like(hs)
        d_hs[:, -1] = d_features

    d_x, d_cell, _ = recurrent.backward(get_cell(cell), _cell_params(params), d_hs, caches)
    grads.update(d_cell)
    grads["W_embed"] = embedding.backward(d_x, ids, params["W_embed"].shape[0])
    grads["inputs"] = d_x
    return value, grads
