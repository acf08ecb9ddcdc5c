"""Output activations with cross-entropy (article section 4.3) and their gradients.

Both losses are averaged over every position but the class axis, as Keras'
`binary_crossentropy` and `categorical_crossentropy` do by default.
"""

import numpy as np


def sigmoid(x):
    """Numerically stable logistic function."""
    return np.exp(-np.logaddexp(0.0, -x))


def softmax(logits):
    """Softmax over the last axis."""
    shifted = np.exp(logits - logits.max(axis=-1, keepdims=True))
    return shifted / shifted.sum(axis=-1, keepdims=True)


def binary_cross_entropy(logits, targets):
    """Sigmoid + binary cross-entropy.

    Args:
        logits: pre-sigmoid outputs, e.g. `(batch, 1)`.
        targets: 0/1 labels with the same shape.

    Returns:
        `(loss, d_logits)`: the mean loss and its gradient w.r.t. `logits`
        (`(sigmoid(logits) - targets) / n`).
    """
    targets = np.asarray(targets, dtype=logits.dtype).reshape(logits.shape)
    # log(sigmoid(z)) = -softplus(-z); log(1 - sigmoid(z)) = -softplus(z)
    per_item = targets * np.logaddexp(0.0, -logits) + (1.0 - targets) * np.logaddexp(0.0, logits)
    return per_item.mean(), (sigmoid(logits) - targets) / logits.size


def categorical_cross_entropy(logits, targets):
    """Softmax + categorical cross-entropy `L = -sum_i y_i log(yhat_i)`.

    Args:
        logits: `(..., num_classes)` pre-softmax outputs.
        targets: one-hot `(..., num_classes)` or integer labels `(...)`.

    Returns:
        `(loss, d_logits)`: the mean loss and `(softmax(logits) - y) / n`.
    """
    targets = np.asarray(targets)
    if targets.shape == logits.shape[:-1]:
        targets = np.eye(logits.shape[-1], dtype=logits.dtype)[targets]
    if targets.shape != logits.shape:
        raise ValueError(
            f"Expected targets of shape {logits.shape[:-1]} (labels) or {logits.shape} "
            f"(one-hot). Received: shape={targets.shape}"
        )
    shifted = logits - logits.max(axis=-1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))
    count = logits.size // logits.shape[-1]
    loss = -(targets * log_probs).sum() / count
    return loss, (np.exp(log_probs) - targets) / count
