"""The validation split: the last `validation_split` of the (seeded) training examples,
never the test set."""

import numpy as np


def validation_count(total, fraction):
    """Examples held out for validation out of `total`: at least 1, leaving at least 1.

    Raises:
        ValueError: with fewer than 2 examples.

    Example:
    >>> validation_count(25000, 0.2)
    5000
    """
    n_val = max(1, int(round(total * fraction)))
    if total - n_val < 1:
        raise ValueError(f"Expected at least 2 training examples to split off validation. Received: {total}")
    return n_val


def hold_out(examples, fraction):
    """`(train, validation)` `Examples`: the last `fraction` of `examples` become validation."""
    n_train = len(examples) - validation_count(len(examples), fraction)
    return examples.subset(np.arange(n_train)), examples.subset(np.arange(n_train, len(examples)))
