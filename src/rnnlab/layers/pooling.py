"""`ConcatPooling`: the last step, the maximum and the mean over time, side by side
(ULMFiT's concat pooling), skipping masked steps.

Example:
>>> import numpy as np
>>> x = np.array([[[1.0], [3.0], [2.0]]], "float32")
>>> np.asarray(ConcatPooling()(x)).tolist()
[[2.0, 3.0, 2.0]]
"""

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="rnnlab")
class ConcatPooling(keras.layers.Layer):
    """`(batch, steps, features)` -> `(batch, 3 * features)`: `[last, max, mean]` over time.

    With a mask (padding), max and mean take only the unmasked steps, and "last" is
    the last unmasked step; a sequence with no unmasked step gives zeros.
    """

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True

    def call(self, inputs, mask=None):
        if mask is None:
            return ops.concatenate(
                [inputs[:, -1], ops.max(inputs, axis=1), ops.mean(inputs, axis=1)], axis=-1
            )
        keep = ops.cast(ops.expand_dims(mask, -1), inputs.dtype)
        count = ops.sum(keep, axis=1)
        mean = ops.sum(inputs * keep, axis=1) / ops.maximum(count, 1.0)
        lowest = ops.min(inputs, axis=1)  # stands in for masked steps, so it never wins the max
        maximum = ops.max(ops.where(keep > 0, inputs, ops.expand_dims(lowest, 1)), axis=1) * ops.minimum(
            count, 1.0
        )
        steps = ops.cast(ops.arange(ops.shape(inputs)[1]), "int32")
        last_index = ops.max(ops.where(ops.cast(mask, "bool"), steps[None, :], -1), axis=1)
        last = ops.take_along_axis(inputs, ops.reshape(ops.maximum(last_index, 0), (-1, 1, 1)), axis=1)[:, 0]
        last = last * ops.cast(ops.expand_dims(last_index >= 0, -1), inputs.dtype)
        return ops.concatenate([last, maximum, mean], axis=-1)

    def compute_mask(self, inputs, mask=None):
        return None

    def compute_output_shape(self, input_shape):
        return (input_shape[0], 3 * input_shape[-1])
