"""SequenceCrossEntropy against Keras' own losses (an independent computation)."""

import numpy as np
import pytest

from rnnlab.losses import SequenceCrossEntropy


def _batch():
    rng = np.random.default_rng(0)
    targets = rng.integers(1, 7, (3, 5))
    targets[0, 3:] = 0  # padding
    targets[2, 1:] = 0
    return targets, rng.normal(size=(3, 5, 7)).astype("float32")


def test_equals_keras_sparse_cross_entropy_with_padding_ignored():
    import keras

    targets, logits = _batch()
    expected = keras.losses.SparseCategoricalCrossentropy(from_logits=True, ignore_class=0)(targets, logits)
    np.testing.assert_allclose(float(SequenceCrossEntropy()(targets, logits)), float(expected), rtol=1e-6)


def test_label_smoothing_equals_keras_categorical_smoothing_over_real_targets():
    import keras

    targets, logits = _batch()
    keep = targets != 0
    one_hot = np.eye(7, dtype="float32")[targets[keep]]
    expected = keras.losses.CategoricalCrossentropy(from_logits=True, label_smoothing=0.1)(
        one_hot, logits[keep]
    )
    got = SequenceCrossEntropy(label_smoothing=0.1)(targets, logits)
    np.testing.assert_allclose(float(got), float(expected), rtol=1e-5)


def test_padding_logits_do_not_matter_and_config_round_trips():
    targets, logits = _batch()
    changed = logits.copy()
    changed[targets == 0] = 100.0
    loss = SequenceCrossEntropy(label_smoothing=0.2)
    assert float(loss(targets, logits)) == pytest.approx(float(loss(targets, changed)), rel=1e-6)
    assert SequenceCrossEntropy.from_config(loss.get_config()).label_smoothing == 0.2


def test_bad_smoothing():
    with pytest.raises(ValueError, match=r"Expected label_smoothing in \[0, 1\). Received: 1.5"):
        SequenceCrossEntropy(label_smoothing=1.5)


def test_token_cross_entropy_weights_every_real_token_alike():
    import keras

    from rnnlab.losses import TokenCrossEntropy

    targets, logits = _batch()
    metric = TokenCrossEntropy()
    metric.update_state(targets[:1], logits[:1])  # 3 real tokens
    metric.update_state(targets[1:], logits[1:])  # 6 real tokens
    expected = keras.losses.SparseCategoricalCrossentropy(from_logits=True, ignore_class=0)(targets, logits)
    np.testing.assert_allclose(float(metric.result()), float(expected), rtol=1e-6)
