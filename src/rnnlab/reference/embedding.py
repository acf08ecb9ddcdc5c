"""Embedding lookup (article section 4.1): `e_w = W_embed[i_w, :]`."""

import numpy as np


def forward(W_embed, ids):
    """Looks up one row of `W_embed` per token id.

    Args:
        W_embed: `(vocab_size, embedding_dim)` embedding matrix.
        ids: integer array of any shape, values in `[0, vocab_size)`.

    Returns:
        Array of shape `ids.shape + (embedding_dim,)`.

    Example:
    >>> W = np.arange(6.0).reshape(3, 2)
    >>> forward(W, np.array([[2, 0]]))
    array([[[4., 5.],
            [0., 1.]]])
    """
    ids = np.asarray(ids)
    if not np.issubdtype(ids.dtype, np.integer):
        raise ValueError(f"Expected integer token ids. Received: dtype={ids.dtype}")
    vocab_size = W_embed.shape[0]
    if ids.size and (ids.min() < 0 or ids.max() >= vocab_size):
        raise ValueError(
            f"Expected token ids in [0, {vocab_size}). Received: min={ids.min()}, max={ids.max()}"
        )
    return W_embed[ids]


def backward(d_embedded, ids, vocab_size):
    """Gradient of the lookup: rows used k times receive the sum of k gradients.

    Args:
        d_embedded: gradient w.r.t. the looked-up vectors,
            shape `ids.shape + (embedding_dim,)`.
        ids: the token ids given to `forward`.
        vocab_size: number of rows of the embedding matrix.

    Returns:
        `(vocab_size, embedding_dim)` gradient w.r.t. `W_embed`.
    """
    d_W = np.zeros((vocab_size, d_embedded.shape[-1]), dtype=d_embedded.dtype)
    np.add.at(d_W, np.asarray(ids).reshape(-1), d_embedded.reshape(-1, d_embedded.shape[-1]))
    return d_W
