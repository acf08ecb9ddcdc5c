"""Decoding CTC outputs (article 6.3.3): greedy, prefix beam search, and beam
search with a language model.

`log_probs` is `(steps, labels)`: per-step log-probabilities with the blank at
index 0. A path (one label per step) collapses to its text by merging repeats
and dropping blanks; a text's probability is the sum over every path that
collapses to it. Greedy decoding collapses the single most likely path;
prefix beam search (Hannun et al., 2014, arXiv:1408.2873) keeps the
`beam_width` most likely prefixes, summing their paths, and can weigh each
extension by a language model: score = log P_ctc + α log P_lm + β |prefix|.

Example:
>>> import numpy as np
>>> log_probs = np.log(np.array([[0.1, 0.9, 0.0], [0.8, 0.1, 0.1], [0.1, 0.2, 0.7]]) + 1e-12)
>>> greedy_decode(log_probs)
[1, 2]
>>> prefix_beam_search(log_probs, beam_width=4)[0]
[1, 2]
"""

import math

import numpy as np

NEG_INF = -math.inf


def log_softmax(logits, axis=-1):
    logits = np.asarray(logits, dtype=np.float64)
    shifted = logits - logits.max(axis=axis, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))


def collapse(path, blank=0):
    """Merges repeated labels, then drops blanks: `[1, 1, 0, 1, 2, 2] -> [1, 1, 2]`."""
    out, previous = [], None
    for label in path:
        label = int(label)
        if label != previous and label != blank:
            out.append(label)
        previous = label
    return out


def greedy_decode(log_probs):
    """The collapse of the most likely label at every step."""
    return collapse(np.argmax(np.asarray(log_probs), axis=-1))


def _logaddexp(a, b):
    if a == NEG_INF:
        return b
    if b == NEG_INF:
        return a
    return max(a, b) + math.log1p(math.exp(-abs(a - b)))


class LanguageModel:
    """What beam search asks of a language model over labels 1..N. Subclasses override both."""

    def log_prob(self, prefix, label):
        """log P(label | prefix); -inf forbids the extension."""
        return 0.0

    def end_log_prob(self, prefix):
        """log P(end of text | prefix); -inf forbids ending here."""
        return 0.0


def prefix_beam_search(log_probs, beam_width=16, lm=None, lm_weight=0.0, insertion_bonus=0.0, prune=None):
    """The most likely label sequences by CTC prefix beam search.

    Args:
        log_probs: `(steps, labels)` log-probabilities; blank is label 0.
        beam_width: prefixes kept after each step.
        lm: an optional `LanguageModel` over labels.
        lm_weight: α, the weight of the language model's log-probabilities.
        insertion_bonus: β, added per label (counters the LM's bias to short texts).
        prune: skip labels whose log-probability at a step is below this
            (None: consider every label).

    Returns:
        `(labels, score)`: the best label sequence and its score; when the language
        model forbids every prefix that survived the beam, the greedy labels and -inf.
    """
    log_probs = np.asarray(log_probs, dtype=np.float64)
    if log_probs.ndim != 2 or log_probs.shape[1] < 2:
        raise ValueError(f"Expected log_probs of shape (steps, labels >= 2). Received: {log_probs.shape}")
    if beam_width < 1:
        raise ValueError(f"Expected beam_width >= 1. Received: {beam_width!r}")
    use_lm = lm is not None
    # prefix -> [log P(paths ending in blank), log P(paths ending in a label)]
    beams = {(): [0.0, NEG_INF]}
    lm_scores = {(): 0.0}  # prefix -> weighted LM log-prob + insertion bonuses
    for step in log_probs:
        labels = (
            range(1, len(step)) if prune is None else [c for c in range(1, len(step)) if step[c] >= prune]
        )
        following = {}
        for prefix, (p_blank, p_label) in beams.items():
            total = _logaddexp(p_blank, p_label)
            entry = following.setdefault(prefix, [NEG_INF, NEG_INF])
            entry[0] = _logaddexp(entry[0], total + step[0])
            last = prefix[-1] if prefix else None
            for label in labels:
                p = step[label]
                if label == last:  # a repeat without a blank between: the same prefix
                    entry[1] = _logaddexp(entry[1], p_label + p)
                extended = (*prefix, label)
                if extended not in lm_scores:
                    extra = insertion_bonus
                    if use_lm:
                        lm_p = lm.log_prob(prefix, label)
                        extra = NEG_INF if lm_p == NEG_INF else extra + lm_weight * lm_p
                    lm_scores[extended] = lm_scores[prefix] + extra
                if lm_scores[extended] == NEG_INF:  # the language model forbids this extension
                    continue
                target = following.setdefault(extended, [NEG_INF, NEG_INF])
                # after a blank, a repeated label starts a new one; another label always does
                target[1] = _logaddexp(target[1], (p_blank if label == last else total) + p)
        ranked = sorted(
            following.items(), key=lambda item: _logaddexp(*item[1]) + lm_scores[item[0]], reverse=True
        )
        beams = dict(ranked[:beam_width])

    def final(prefix, probs):
        score = _logaddexp(*probs) + lm_scores[prefix]
        if use_lm:
            end = lm.end_log_prob(prefix)
            score = NEG_INF if end == NEG_INF else score + lm_weight * end
        return score

    best = max(beams.items(), key=lambda item: final(*item))
    if final(*best) == NEG_INF:  # every surviving prefix is one the language model forbids
        return greedy_decode(log_probs), NEG_INF
    return list(best[0]), final(*best)
