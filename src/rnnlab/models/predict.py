"""Predictions with few compiled shapes: each call's rows are padded to a power of two (to a
multiple of 64 above 64), so a server compiles a handful of programs, not one per batch size."""

import keras
import numpy as np


def padded_rows(rows):
    """The row count a call with `rows` rows is padded to.

    Example:
    >>> [padded_rows(n) for n in (1, 3, 64, 65, 200)]
    [1, 4, 64, 128, 256]
    """
    return 1 << (rows - 1).bit_length() if rows <= 64 else rows + (-rows % 64)


def predict_rows(model, inputs):
    """`model.predict_on_batch(inputs)` as a list of NumPy arrays, the rows padded with zeros
    (see `padded_rows`) and the padding rows dropped from the outputs.

    Args:
        model: a Keras model.
        inputs: a list of arrays with the same number of rows (one per model input).
    """
    rows = len(inputs[0])
    size = padded_rows(rows)
    padded = [np.concatenate([x, np.zeros((size - rows, *x.shape[1:]), x.dtype)]) for x in inputs]
    outputs = model.predict_on_batch(padded if len(padded) > 1 else padded[0])
    outputs = outputs if isinstance(outputs, (list, tuple)) else [outputs]
    return [np.asarray(keras.ops.convert_to_numpy(x))[:rows] for x in outputs]
