"""Attention layers for encoder-decoders (article 8.1)."""

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="rnnlab")
class LuongAttention(keras.layers.Layer):
    """Luong's "general" attention: score(h_t, s_j) = h_t W s_j, over unpadded source steps.

    Call arguments:
        queries: decoder outputs `(batch, target_steps, units)`.
        values: encoder outputs `(batch, source_steps, encoder_units)`.
        source: source ids `(batch, source_steps)`; id 0 (padding) gets no weight.

    Returns:
        `(context, weights)`: `(batch, target_steps, encoder_units)` and
        `(batch, target_steps, source_steps)`.
    """

    def build(self, queries_shape, values_shape=None, source_shape=None):
        self.kernel = self.add_weight(
            (queries_shape[-1], values_shape[-1]), initializer="glorot_uniform", name="kernel"
        )

    def call(self, queries, values, source):
        scores = ops.einsum("btu,uv,bsv->bts", queries, self.kernel, values)
        keep = ops.expand_dims(ops.not_equal(source, 0), 1)  # (batch, 1, source_steps)
        scores = ops.where(keep, scores, ops.full_like(scores, -1e9))
        weights = ops.softmax(scores, axis=-1)
        return ops.einsum("bts,bsv->btv", weights, values), weights

    def compute_output_shape(self, queries_shape, values_shape=None, source_shape=None):
        return (
            (*queries_shape[:2], values_shape[-1]),
            (*queries_shape[:2], values_shape[1]),
        )

    def compute_mask(self, queries, values=None, source=None, mask=None):
        return None
