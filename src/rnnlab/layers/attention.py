"""Attention layers for encoder-decoders (article 8.1).

Both layers score every decoder output `h_t` against every encoder output
`s_j`, softmax the scores over the real (unpadded) source steps and return the
weighted sum of encoder outputs (the context) with the weights:

    LuongAttention     score(h_t, s_j) = h_t W s_j                  (Luong et al., 2015, "general")
    AdditiveAttention  score(h_t, s_j) = v . tanh(W_q h_t + W_k s_j)  (Bahdanau et al., 2015)

Example:
>>> context, weights = LuongAttention()(decoder_outputs, encoder_outputs, source_ids)  # doctest: +SKIP
"""

import keras
from keras import ops


class _SourceAttention(keras.layers.Layer):
    """Shared call: scores -> masked softmax over source steps -> context.

    Call arguments:
        queries: decoder outputs `(batch, target_steps, units)`.
        values: encoder outputs `(batch, source_steps, encoder_units)`.
        source: source ids `(batch, source_steps)`; id 0 (padding) gets no weight.

    Returns:
        `(context, weights)`: `(batch, target_steps, encoder_units)` and
        `(batch, target_steps, source_steps)`.
    """

    def scores(self, queries, values):
        raise NotImplementedError

    def call(self, queries, values, source):
        scores = self.scores(queries, values)
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


@keras.saving.register_keras_serializable(package="rnnlab")
class LuongAttention(_SourceAttention):
    """Luong's "general" attention: score(h_t, s_j) = h_t W s_j, over unpadded source steps."""

    def build(self, queries_shape, values_shape=None, source_shape=None):
        self.kernel = self.add_weight(
            (queries_shape[-1], values_shape[-1]), initializer="glorot_uniform", name="kernel"
        )

    def scores(self, queries, values):
        return ops.einsum("btu,uv,bsv->bts", queries, self.kernel, values)


@keras.saving.register_keras_serializable(package="rnnlab")
class AdditiveAttention(_SourceAttention):
    """Bahdanau's additive attention: score(h_t, s_j) = v . tanh(W_q h_t + W_k s_j).

    Args:
        units: size of the hidden layer inside the score (default: the queries' size).
    """

    def __init__(self, units=None, **kwargs):
        super().__init__(**kwargs)
        self.units = units

    def build(self, queries_shape, values_shape=None, source_shape=None):
        units = self.units or queries_shape[-1]
        self.query_kernel = self.add_weight(
            (queries_shape[-1], units), initializer="glorot_uniform", name="query_kernel"
        )
        self.key_kernel = self.add_weight(
            (values_shape[-1], units), initializer="glorot_uniform", name="key_kernel"
        )
        self.bias = self.add_weight((units,), initializer="zeros", name="bias")
        self.score_vector = self.add_weight((units,), initializer="glorot_uniform", name="score_vector")

    def scores(self, queries, values):
        q = ops.matmul(queries, self.query_kernel)  # (batch, target_steps, units)
        k = ops.matmul(values, self.key_kernel) + self.bias  # (batch, source_steps, units)
        hidden = ops.tanh(ops.expand_dims(q, 2) + ops.expand_dims(k, 1))  # (batch, T, S, units)
        return ops.einsum("btsa,a->bts", hidden, self.score_vector)

    def get_config(self):
        return {**super().get_config(), "units": self.units}
