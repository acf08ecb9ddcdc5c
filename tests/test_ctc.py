"""CTC: the loss and the decoders against brute force over every path."""

import itertools
import math

import numpy as np
import pytest

from rnnlab import ctc
from rnnlab.tasks.speech.language_model import DigitGrammar, LabelNgram


def _text_log_probs(log_probs):
    """log P(text) for every text, summing all `labels ** steps` paths."""
    steps, labels = log_probs.shape
    totals = {}
    for path in itertools.product(range(labels), repeat=steps):
        text = tuple(ctc.collapse(path))
        value = sum(log_probs[t, c] for t, c in enumerate(path))
        totals[text] = np.logaddexp(totals.get(text, -np.inf), value)
    return totals


@pytest.mark.parametrize("seed", range(6))
def test_prefix_beam_search_with_a_wide_beam_finds_the_most_likely_text(seed):
    rng = np.random.default_rng(seed)
    log_probs = ctc.log_softmax(rng.normal(size=(5, 3)) * 2)
    totals = _text_log_probs(log_probs)
    best = max(totals, key=totals.get)
    labels, score = ctc.prefix_beam_search(log_probs, beam_width=64)
    assert labels == list(best)
    assert score == pytest.approx(totals[best], abs=1e-9)


def _keras_decode(logits, lengths, beam_width=1):
    """Label lists of a batch, decoded by `keras.ops.ctc_decode` (greedy, or Keras' beam search)."""
    from keras import ops

    kwargs = (
        {"strategy": "greedy"} if beam_width == 1 else {"strategy": "beam_search", "beam_width": beam_width}
    )
    logits, lengths = np.asarray(logits, "float32"), np.asarray(lengths, "int32")
    decoded, _ = ops.ctc_decode(logits, lengths, mask_index=0, **kwargs)
    decoded = np.asarray(ops.convert_to_numpy(decoded))[0]
    return [[int(label) for label in row if label > 0] for row in decoded]


@pytest.mark.parametrize("seed", range(4))
def test_keras_decoders_agree_with_numpy(seed):
    rng = np.random.default_rng(seed)
    log_probs = ctc.log_softmax(rng.normal(size=(6, 4)) * 2)
    assert _keras_decode(log_probs[None], [6])[0] == ctc.greedy_decode(log_probs)
    totals = _text_log_probs(log_probs)
    assert _keras_decode(log_probs[None], [6], beam_width=64)[0] == list(max(totals, key=totals.get))


def test_collapse_merges_repeats_then_drops_blanks():
    assert ctc.collapse([1, 1, 0, 1, 2, 2, 0]) == [1, 1, 2]
    assert ctc.collapse([0, 0]) == []


@pytest.mark.parametrize("seed", range(3))
def test_ctc_loss_is_minus_the_log_of_the_summed_paths(seed):
    from rnnlab.losses import CTCLoss

    rng = np.random.default_rng(seed)
    logits = rng.normal(size=(2, 5, 3)).astype("float32")
    y_true = np.array([[5, 1, 2], [4, 2, 0]])  # row 2: 4 valid steps, the text [2]
    expected = []
    for row, (steps, *labels) in enumerate(y_true):
        totals = _text_log_probs(ctc.log_softmax(logits[row, :steps]))
        expected.append(-totals[tuple(label for label in labels if label)])
    assert float(CTCLoss()(y_true, logits)) == pytest.approx(np.mean(expected), rel=1e-5)


def test_the_grammar_forbids_texts_longer_than_its_maximum():
    rng = np.random.default_rng(0)
    # Steps alternating label / blank with confident labels: greedy reads 4 labels.
    log_probs = np.full((8, 4), math.log(0.02))
    for t in range(8):
        log_probs[t, (1 + t // 2 % 3) if t % 2 == 0 else 0] = math.log(0.94)
    log_probs += rng.normal(size=log_probs.shape) * 1e-3
    assert len(ctc.greedy_decode(log_probs)) == 4
    labels, _ = ctc.prefix_beam_search(log_probs, 1000, lm=DigitGrammar(1, 3))  # wide: exact
    totals = _text_log_probs(log_probs)
    allowed = {text: value for text, value in totals.items() if 1 <= len(text) <= 3}
    assert labels == list(max(allowed, key=allowed.get))  # the best text the grammar allows
    with pytest.raises(ValueError, match="beam_width"):
        ctc.prefix_beam_search(log_probs, 0)
    with pytest.raises(ValueError, match="shape"):
        ctc.prefix_beam_search(np.zeros(5), 4)


@pytest.mark.parametrize("seed", range(4))
def test_a_grammar_that_allows_the_best_text_changes_nothing(seed):
    rng = np.random.default_rng(seed)
    # Each label held for three steps, then a blank: repeats inside a label must keep counting
    # when the grammar forbids extending the full-length prefix.
    frames = []
    for label in (1 + rng.permutation(3))[:3]:
        frames += [label] * 3 + [0]
    log_probs = np.full((len(frames), 4), math.log(0.05))
    log_probs[np.arange(len(frames)), frames] = math.log(0.85)
    log_probs = ctc.log_softmax(log_probs + rng.normal(size=log_probs.shape) * 0.1)
    free = ctc.prefix_beam_search(log_probs, 1000)  # wide enough that nothing is pruned
    constrained = ctc.prefix_beam_search(log_probs, 1000, lm=DigitGrammar(1, 3))
    assert len(free[0]) == 3
    assert constrained[0] == free[0] and constrained[1] == pytest.approx(free[1], abs=1e-6)


def test_a_language_model_turns_an_ambiguous_step_its_way():
    lm = LabelNgram.fit(["12"] * 50 + ["13"], order=2, min_digits=2, max_digits=2)
    # step 1 says '1' (label 2); step 3 is torn between '2' (label 3) and '3' (label 4), '3' ahead
    log_probs = np.log(np.array([[0.02, 0.02, 0.94, 0.01, 0.01], [0.96, 0.01, 0.01, 0.01, 0.01],
                                 [0.02, 0.01, 0.01, 0.45, 0.51]]))  # fmt: skip
    assert ctc.prefix_beam_search(log_probs, 8)[0] == [2, 4]
    assert ctc.prefix_beam_search(log_probs, 8, lm=lm, lm_weight=1.0)[0] == [2, 3]


def test_ngram_probabilities_sum_to_one():
    lm = LabelNgram.fit(["314", "1592", "6"], order=3, k=0.5, min_digits=1, max_digits=7)
    for prefix in [(), (4,), (4, 2), (2, 6, 10)]:
        total = sum(math.exp(lm.log_prob(prefix, label)) for label in range(1, 11))
        total += math.exp(lm.end_log_prob(prefix)) if prefix else 0.0
        expected = 1.0 if prefix else 1.0 - math.exp(lm._log_p(prefix, 0))
        assert total == pytest.approx(expected)
    assert lm.end_log_prob(()) == -math.inf  # at least one digit
    again = LabelNgram.from_dict(lm.to_dict())
    assert again.log_prob((4, 2), 6) == lm.log_prob((4, 2), 6)


def test_pruning_keeps_the_answer_and_a_forbidding_lm_falls_back_to_greedy():
    rng = np.random.default_rng(7)
    log_probs = ctc.log_softmax(rng.normal(size=(8, 5)) * 3)
    assert ctc.prefix_beam_search(log_probs, 32, prune=-8.0)[0] == ctc.prefix_beam_search(log_probs, 32)[0]
    nothing = DigitGrammar(min_digits=20, max_digits=30)  # no text of 8 steps is long enough
    labels, score = ctc.prefix_beam_search(log_probs, 8, lm=nothing)
    assert labels == ctc.greedy_decode(log_probs) and score == -math.inf


def test_an_unsmoothed_ngram_gives_unseen_digits_zero_probability():
    lm = LabelNgram.fit(["12"], order=2, k=0.0)
    assert lm.log_prob((2,), 5) == -math.inf and lm.log_prob((9,), 1) == -math.inf
    assert lm.log_prob((2,), 3) == 0.0
    with pytest.raises(ValueError, match="k >= 0"):
        LabelNgram.fit(["1"], k=-1.0)
