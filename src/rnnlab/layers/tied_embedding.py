"""`TiedEmbedding`: one matrix for the input embedding and the output layer
(weight tying, Press & Wolf 2017; Inan et al. 2017).

Called on ids it embeds them; called with `reverse=True` on vectors it gives
logits against every row, `x E^T + b`. Calling the same layer at both ends of a
functional model shares the matrix.
"""

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="rnnlab")
class TiedEmbedding(keras.layers.Embedding):
    """Keras' `Embedding` that can also be run in reverse, as the output layer.

    Args:
        input_dim, output_dim, **kwargs: as `keras.layers.Embedding`.
        reverse_bias: learn a bias per row for the reverse (logits) direction.

    Example:
    >>> layer = TiedEmbedding(10, 4)
    >>> vectors = layer(np.array([[1, 2]]))  # doctest: +SKIP
    >>> layer(vectors, reverse=True).shape  # doctest: +SKIP
    (1, 2, 10)
    """

    def __init__(self, input_dim, output_dim, reverse_bias=True, **kwargs):
        super().__init__(input_dim, output_dim, **kwargs)
        self.reverse_bias = reverse_bias

    def build(self, input_shape=None):
        super().build(input_shape)
        self.bias = (
            self.add_weight(shape=(self.input_dim,), initializer="zeros", name="reverse_bias")
            if self.reverse_bias
            else None
        )

    def call(self, inputs, reverse=False):
        if not reverse:
            return super().call(inputs)
        logits = ops.matmul(inputs, ops.transpose(ops.convert_to_tensor(self.embeddings)))
        return logits + self.bias if self.bias is not None else logits

    def compute_mask(self, inputs, mask=None, reverse=False):
        return None if reverse else super().compute_mask(inputs, mask)

    def compute_output_shape(self, input_shape, reverse=False):
        if reverse:
            return (*input_shape[:-1], self.input_dim)
        return super().compute_output_shape(input_shape)

    def compute_output_spec(self, inputs, reverse=False):
        if reverse:
            return keras.KerasTensor((*inputs.shape[:-1], self.input_dim), dtype=self.compute_dtype)
        return super().compute_output_spec(inputs)

    def _own_variables(self):
        return [self._embeddings] + ([self.bias] if self.bias is not None else [])

    def save_own_variables(self, store):
        if not self.built or self.quantization_mode is not None:
            return super().save_own_variables(store)
        for index, variable in enumerate(self._own_variables()):  # the embeddings, then the bias
            store[str(index)] = variable

    def load_own_variables(self, store):
        if not self.built or self.quantization_mode is not None:
            return super().load_own_variables(store)
        self._check_load_own_variables(store)
        for index, variable in enumerate(self._own_variables()):
            variable.assign(store[str(index)])

    def get_config(self):
        return {**super().get_config(), "reverse_bias": self.reverse_bias}
