"""`EndMask`: passes its input through and ends Keras' mask propagation.

A per-step mask on a model's output makes Keras weigh the loss step by step;
a CTC loss is one number per sequence (the lengths travel in `y_true`), so
the acoustic model ends the mask before its output.
"""

import keras


@keras.saving.register_keras_serializable(package="rnnlab")
class EndMask(keras.layers.Layer):
    """Identity that drops the incoming mask.

    Example:
    >>> layer = EndMask()
    >>> layer.compute_mask(None, mask=True) is None
    True
    """

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True

    def call(self, inputs):
        # A new tensor: Keras keeps a mask attached to the very object a layer returns.
        return keras.ops.copy(inputs)

    def compute_mask(self, inputs, mask=None):
        return None

    def compute_output_shape(self, input_shape):
        return input_shape
