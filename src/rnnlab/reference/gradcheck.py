"""Central finite differences in float64 against the BPTT gradients.

The error of one parameter is `max|analytic - numeric| / max(max|analytic|,
max|numeric|)`: the largest deviation relative to that parameter's gradient
scale, so a parameter passes only if every entry agrees.
"""

from dataclasses import dataclass

import numpy as np

from rnnlab.reference import embedding, model


@dataclass
class CheckConfig:
    """A small problem on which every gradient entry is checked."""

    batch_size: int = 3  # enough to catch batch-sum mistakes
    timesteps: int = 5  # long enough for gradients to flow across steps
    vocab_size: int = 11
    embedding_dim: int = 4
    units: int = 6
    num_classes: int = 5  # for the many-to-many categorical check
    epsilon: float = 1e-6  # finite-difference step
    seed: int = 0


def problem(cell, return_sequences, config=None):
    """Parameters, ids, targets and loss name for one check.

    Many-to-one uses sigmoid + binary cross-entropy (sentiment); many-to-many
    uses softmax + categorical cross-entropy (language modelling).
    """
    config = config or CheckConfig()
    rng = np.random.default_rng(config.seed)
    output_dim = config.num_classes if return_sequences else 1
    params = model.init_params(
        cell, config.vocab_size, config.embedding_dim, config.units, output_dim, seed=config.seed
    )
    ids = rng.integers(0, config.vocab_size, (config.batch_size, config.timesteps))
    if return_sequences:
        targets = rng.integers(0, config.num_classes, (config.batch_size, config.timesteps))
        loss = "categorical"
    else:
        targets = rng.integers(0, 2, (config.batch_size, 1)).astype(np.float64)
        loss = "binary"
    return params, ids, targets, loss


def relative_error(analytic, numeric):
    """`max|a - n| / max(max|a|, max|n|)`; 0 when both are zero."""
    scale = max(np.abs(analytic).max(), np.abs(numeric).max())
    return 0.0 if scale == 0 else float(np.abs(analytic - numeric).max() / scale)


def _numeric_gradient(f, value, epsilon):
    grad = np.zeros_like(value)
    for index in np.ndindex(value.shape):
        saved = value[index]
        value[index] = saved + epsilon
        plus = f()
        value[index] = saved - epsilon
        minus = f()
        value[index] = saved
        grad[index] = (plus - minus) / (2 * epsilon)
    return grad


def check(cell="simple", return_sequences=False, config=None):
    """Finite-difference errors for every parameter and for the inputs.

    Returns:
        dict name -> relative error, with names `W_embed`, `W_xh`, `W_hh`,
        `b_h`, `W_hy`, `b_y` and `inputs` (the embedded inputs).

    Example:
    >>> errors = check("gru")
    >>> max(errors.values()) < 1e-6
    True
    """
    config = config or CheckConfig()
    params, ids, targets, loss = problem(cell, return_sequences, config)
    _, grads = model.loss_and_gradients(params, ids, targets, cell, loss, return_sequences)
    loss_fn = model.LOSSES[loss]

    def loss_of_params():
        logits = model.forward(params, ids, cell, return_sequences)
        return loss_fn(logits, targets)[0]

    errors = {}
    for name in model.PARAM_ORDER:
        numeric = _numeric_gradient(loss_of_params, params[name], config.epsilon)
        errors[name] = relative_error(grads[name], numeric)

    x = embedding.forward(params["W_embed"], ids).copy()

    def loss_of_inputs():
        logits, _ = model.forward_embedded(params, x, cell, return_sequences)
        return loss_fn(logits, targets)[0]

    errors["inputs"] = relative_error(grads["inputs"], _numeric_gradient(loss_of_inputs, x, config.epsilon))
    return errors
