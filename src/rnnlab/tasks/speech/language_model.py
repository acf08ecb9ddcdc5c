"""Language models over digit strings for CTC beam search (article 6.3.3).

- `DigitGrammar`: the strings the task can contain (1 to 7 digits): an
  extension past the longest, or an end before the shortest, is impossible.
- `DigitNgram`: an n-gram model of digits with add-k smoothing, estimated on
  the training transcripts, with the grammar's limits; the end of a string is
  a token, so it also learns the length distribution.

Example:
>>> lm = DigitNgram.fit(["12", "123"], order=2, k=0.0, min_digits=1, max_digits=3)
>>> math.exp(lm.end_log_prob((2, 3)))  # P(end | '2'): labels are digit + 1
0.5
"""

import math
from collections import Counter

from rnnlab.ctc import NEG_INF, LanguageModel

LMS = ("none", "grammar", "ngram")


class DigitGrammar(LanguageModel):
    """Between `min_digits` and `max_digits` digits; every digit equally likely (log-prob 0)."""

    def __init__(self, min_digits=1, max_digits=7):
        self.min_digits, self.max_digits = min_digits, max_digits

    def log_prob(self, prefix, label):
        return NEG_INF if len(prefix) + 1 > self.max_digits else 0.0

    def end_log_prob(self, prefix):
        return NEG_INF if len(prefix) < self.min_digits else 0.0


class DigitNgram(DigitGrammar):
    """An add-k smoothed n-gram model over the labels 1-10 (digits 0-9) and the end.

    Args:
        counts: `Counter` of `(context tuple, next)` where next is a label or 0 (the end).
        order: n (contexts of n - 1 labels; the start is padded with -1).
        k: add-k smoothing.
        min_digits, max_digits: the grammar's limits.
    """

    def __init__(self, counts, order=3, k=0.5, min_digits=1, max_digits=7):
        if not (isinstance(order, int) and order >= 1 and k >= 0):
            raise ValueError(f"Expected order >= 1 and k >= 0. Received: order={order!r}, k={k!r}")
        super().__init__(min_digits, max_digits)
        self.order, self.k = order, k
        self.counts = counts
        self.context_totals = Counter()
        for (context, _), count in counts.items():
            self.context_totals[context] += count

    @classmethod
    def fit(cls, texts, order=3, k=0.5, min_digits=1, max_digits=7):
        """Estimates the model from digit strings such as `'3141'`."""
        counts = Counter()
        for text in texts:
            labels = [int(c) + 1 for c in text]
            padded = [-1] * (order - 1) + labels
            for i, label in enumerate([*labels, 0]):
                counts[(tuple(padded[i : i + order - 1]), label)] += 1
        return cls(counts, order, k, min_digits, max_digits)

    def _context(self, prefix):
        padded = [-1] * (self.order - 1) + list(prefix)
        return tuple(padded[len(padded) - (self.order - 1) :]) if self.order > 1 else ()

    def _log_p(self, prefix, token):
        context = self._context(prefix)
        numerator = self.counts.get((context, token), 0) + self.k
        denominator = self.context_totals.get(context, 0) + 11 * self.k
        if numerator <= 0 or denominator <= 0:  # unseen, without smoothing (k = 0)
            return NEG_INF
        return math.log(numerator / denominator)

    def log_prob(self, prefix, label):
        if super().log_prob(prefix, label) == NEG_INF:
            return NEG_INF
        return self._log_p(prefix, label)

    def end_log_prob(self, prefix):
        if super().end_log_prob(prefix) == NEG_INF:
            return NEG_INF
        return self._log_p(prefix, 0)

    def to_dict(self):
        return {
            "order": self.order,
            "k": self.k,
            "min_digits": self.min_digits,
            "max_digits": self.max_digits,
            "counts": [
                [list(context), token, count] for (context, token), count in sorted(self.counts.items())
            ],
        }

    @classmethod
    def from_dict(cls, data):
        counts = Counter({(tuple(context), token): count for context, token, count in data["counts"]})
        return cls(counts, data["order"], data["k"], data["min_digits"], data["max_digits"])
