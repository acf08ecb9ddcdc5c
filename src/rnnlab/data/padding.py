"""Padding sequences to one length (no Keras: exported models' runtimes use it too).

Example:
>>> import numpy as np
>>> pad([np.array([5, 6]), np.array([7])], 3).tolist()
[[0, 5, 6], [0, 0, 7]]
"""

import numpy as np

PAD_SIDES = ("front", "back")


def pad(sequences, length, side="front", value=0, dtype=None):
    """Pads or cuts sequences to `(n, length, *item_shape)`.

    Args:
        sequences: arrays whose first axis is time (ids `(T,)`, frames `(T, F)`, ...).
        length: steps of the result; longer sequences keep their last steps
            (`side="front"`, Keras' `pad_sequences` default) or their first
            (`side="back"`).
        side: 'front' pads before the sequence, 'back' after it.
        value: the padding value.
        dtype: of the result (default: the first sequence's, int32 when empty).
    """
    if side not in PAD_SIDES:
        raise ValueError(f"Expected side in {set(PAD_SIDES)}. Received: side={side!r}")
    sequences = [np.asarray(s) for s in sequences]
    first = next((s for s in sequences if s.size), sequences[0] if sequences else np.zeros(0, "int32"))
    dtype = dtype or (first.dtype if first.size else np.int32)
    out = np.full((len(sequences), length, *first.shape[1:]), value, dtype=dtype)
    for row, sequence in enumerate(sequences):
        if side == "front":
            sequence = sequence[len(sequence) - length :] if len(sequence) > length else sequence
            if len(sequence):
                out[row, length - len(sequence) :] = sequence
        else:
            sequence = sequence[:length]
            out[row, : len(sequence)] = sequence
    return out


def padded_length(length, step):
    """The length a server pads `length` steps to, so it compiles few input shapes: a
    multiple of `step` up to `8 * step`, then 1 or 1.5 times a power of two times `step`
    (half as many steps again at most). Up to 1,024 * `step` that is 22 shapes.

    Example:
    >>> [padded_length(n, 8) for n in (1, 9, 64, 65, 100, 200)]
    [8, 16, 64, 96, 128, 256]
    """
    if length <= 8 * step:
        return max(step, length + (-length % step))
    size = 8 * step
    while True:
        for candidate in (size, size * 3 // 2):
            if candidate >= length:
                return candidate
        size *= 2
