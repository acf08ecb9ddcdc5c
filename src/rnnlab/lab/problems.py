"""Synthetic long-range problems for the vanishing-gradient lab (article 2.3 and 8.2).

- The adding problem (Hochreiter & Schmidhuber 1997; Le et al. 2015): each step
  holds a number in [0, 1) and a marker; two steps are marked, one in each half,
  and the target is the sum of the two marked numbers. Predicting the mean (1.0)
  leaves a mean squared error of 1/6 (the variance of a sum of two uniforms).
- The copy task (Arjovsky et al. 2016): ten symbols out of eight, `delay` blank
  steps, a delimiter, then the ten symbols must be repeated, one per step, while
  every other step outputs blank. Guessing leaves 1/8 of the symbols right.

Both return float32 inputs `(n, steps, features)` and targets, drawn from `rng`.
"""

import numpy as np

ADDING_BASELINE_MSE = 1.0 / 6.0
COPY_SYMBOLS = 8  # symbols 1..8; 0 is blank, 9 the delimiter
COPY_LENGTH = 10
COPY_CLASSES = COPY_SYMBOLS + 2


def adding_problem(n, steps, rng):
    """`(x (n, steps, 2), y (n, 1))`: numbers and markers; the marked numbers' sum.

    Example:
    >>> x, y = adding_problem(3, 10, np.random.default_rng(0))
    >>> x.shape, y.shape, x[..., 1].sum(axis=1).tolist()
    ((3, 10, 2), (3, 1), [2.0, 2.0, 2.0])
    """
    if steps < 2:
        raise ValueError(f"Expected at least 2 steps for the adding problem. Received: {steps}")
    values = rng.random((n, steps), dtype=np.float32)
    markers = np.zeros((n, steps), np.float32)
    half = steps // 2
    first = rng.integers(0, half, n)
    second = rng.integers(half, steps, n)
    rows = np.arange(n)
    markers[rows, first] = markers[rows, second] = 1.0
    x = np.stack([values, markers], axis=-1)
    y = (values[rows, first] + values[rows, second])[:, None]
    return x, y.astype(np.float32)


def copy_task(n, delay, rng):
    """`(x (n, T, 10) one-hot, y (n, T) ids)` with `T = delay + 2 * COPY_LENGTH`.

    Example:
    >>> x, y = copy_task(2, 5, np.random.default_rng(0))
    >>> x.shape, y.shape
    ((2, 25, 10), (2, 25))
    >>> bool((y[:, -10:] == x[:, :10].argmax(-1)).all()), int(y[:, :-10].max())
    (True, 0)
    """
    if delay < 1:
        raise ValueError(f"Expected a delay of at least 1 step for the copy task. Received: {delay}")
    steps = delay + 2 * COPY_LENGTH
    symbols = rng.integers(1, COPY_SYMBOLS + 1, (n, COPY_LENGTH))
    ids = np.zeros((n, steps), np.int64)
    ids[:, :COPY_LENGTH] = symbols
    ids[:, COPY_LENGTH + delay - 1] = COPY_SYMBOLS + 1  # the delimiter: "repeat now"
    y = np.zeros((n, steps), np.int32)
    y[:, -COPY_LENGTH:] = symbols
    x = np.eye(COPY_CLASSES, dtype=np.float32)[ids]
    return x, y
