"""Losses for sequence outputs (translation, language models).

`SequenceCrossEntropy` is Keras' sparse categorical cross-entropy from logits
with padding ignored, written to pick each target's logit instead of building
a one-hot tensor of `(batch, steps, vocabulary)` (a quarter of a translation
train step on CPU), with optional label smoothing (Szegedy et al., 2016).

Example:
>>> import numpy as np
>>> loss = SequenceCrossEntropy(label_smoothing=0.1)
>>> float(loss(np.array([[1, 0]]), np.zeros((1, 2, 4), "float32")))  # log(4), padding ignored
1.3862943649291992
"""

import keras
from keras import ops


def token_losses(y_true, y_pred, label_smoothing=0.0, ignore_id=0):
    """`(sum of the losses of the real targets, number of real targets)`."""
    y_true = ops.cast(y_true, "int32")
    logits = ops.cast(y_pred, "float32")
    log_norm = ops.logsumexp(logits, axis=-1)
    picked = ops.take_along_axis(logits, ops.expand_dims(y_true, -1), axis=-1)[..., 0]
    loss = log_norm - picked
    if label_smoothing:
        uniform = log_norm - ops.mean(logits, axis=-1)  # mean over ids of -log p(id)
        loss = (1.0 - label_smoothing) * loss + label_smoothing * uniform
    keep = ops.cast(ops.not_equal(y_true, ignore_id), loss.dtype)
    return ops.sum(loss * keep), ops.sum(keep)


@keras.saving.register_keras_serializable(package="rnnlab")
class SequenceCrossEntropy(keras.losses.Loss):
    """Mean cross-entropy over the non-padding targets of a batch of sequences.

    With smoothing ε the target distribution is `(1 - ε)` on the true id plus
    `ε / vocabulary` everywhere, as in `keras.losses.CategoricalCrossentropy(
    label_smoothing=ε)`.

    Args:
        label_smoothing: ε in [0, 1).
        ignore_id: target id that is padding (no loss, not counted).

    Call arguments:
        y_true: int ids `(batch, steps)`.
        y_pred: logits `(batch, steps, vocabulary)`.
    """

    def __init__(self, label_smoothing=0.0, ignore_id=0, name="sequence_cross_entropy", **kwargs):
        if not 0.0 <= label_smoothing < 1.0:
            raise ValueError(f"Expected label_smoothing in [0, 1). Received: {label_smoothing!r}")
        kwargs.pop("reduction", None)  # always the mean over real targets (see `call`)
        super().__init__(name=name, reduction="sum_over_batch_size", **kwargs)
        self.label_smoothing, self.ignore_id = float(label_smoothing), int(ignore_id)

    def call(self, y_true, y_pred):
        total, count = token_losses(y_true, y_pred, self.label_smoothing, self.ignore_id)
        # One number per batch: the mean over real targets (Keras' reduction of a scalar is itself).
        return total / ops.maximum(count, 1.0)

    def get_config(self):
        return {**super().get_config(), "label_smoothing": self.label_smoothing, "ignore_id": self.ignore_id}


@keras.saving.register_keras_serializable(package="rnnlab")
class TokenCrossEntropy(keras.metrics.Metric):
    """Cross-entropy per real target token over everything seen (no smoothing): the
    number behind perplexity when the loss is smoothed.

    Example:
    >>> import numpy as np
    >>> metric = TokenCrossEntropy()
    >>> metric.update_state(np.array([[1, 0]]), np.zeros((1, 2, 4), "float32"))
    >>> round(float(metric.result()), 4)
    1.3863
    """

    def __init__(self, ignore_id=0, name="cross_entropy", **kwargs):
        super().__init__(name=name, **kwargs)
        self.ignore_id = int(ignore_id)
        self.total = self.add_variable((), initializer="zeros", name="total")
        self.count = self.add_variable((), initializer="zeros", name="count")

    def update_state(self, y_true, y_pred, sample_weight=None):
        total, count = token_losses(y_true, y_pred, 0.0, self.ignore_id)  # padding is never counted
        self.total.assign_add(total)
        self.count.assign_add(count)

    def result(self):
        return self.total / ops.maximum(self.count, 1.0)

    def get_config(self):
        return {**super().get_config(), "ignore_id": self.ignore_id}


@keras.saving.register_keras_serializable(package="rnnlab")
class CTCLoss(keras.losses.Loss):
    """Connectionist temporal classification (`keras.ops.ctc_loss`), blank = index 0.

    A Keras loss sees only `y_true` and `y_pred`, so each row of `y_true` packs
    the lengths CTC needs: `[number of valid steps of y_pred, label, label, ...]`
    followed by zeros. Labels are 1..N (0 is the blank, and padding). Returns
    the mean over the batch of each sequence's negative log-likelihood.

    Example:
    >>> import numpy as np
    >>> y_true = np.array([[3, 1, 0]])  # 3 valid steps, the label sequence [1]
    >>> # uniform outputs: 6 of the 8 paths over 3 steps collapse to [1]
    >>> round(float(CTCLoss()(y_true, np.zeros((1, 4, 2), "float32"))), 4)  # -log(6/8)
    0.2877
    """

    def __init__(self, name="ctc", reduction="sum_over_batch_size", dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype)

    def call(self, y_true, y_pred):
        y_true = ops.cast(y_true, "int32")
        steps = y_true[:, 0]
        labels = y_true[:, 1:]
        label_lengths = ops.sum(ops.cast(ops.greater(labels, 0), "int32"), axis=-1)
        return ops.ctc_loss(labels, ops.cast(y_pred, "float32"), label_lengths, steps, mask_index=0)
