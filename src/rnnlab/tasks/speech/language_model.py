"""Language models for CTC beam search (article 6.3.3), over digit labels or characters.

- `DigitGrammar`: the strings the task can contain (1 to 7 digits): an
  extension past the longest, or an end before the shortest, is impossible.
- `LabelNgram`: an n-gram model of labels (digits, or the characters of an alphabet) with add-k
  smoothing, estimated on the training transcripts, with the grammar's limits; the end of a
  string is a token, so it also learns the length distribution.
- `Lexicon`: only words of a word list (characters between spaces), optionally weighed by
  another model: beam search then emits nothing else.

Example:
>>> lm = LabelNgram.fit(["12", "123"], order=2, k=0.0, min_digits=1, max_digits=3)
>>> math.exp(lm.end_log_prob((2, 3)))  # P(end | '2'): labels are digit + 1
0.5
"""

import math
from collections import Counter

from rnnlab.ctc import NEG_INF, LanguageModel

LMS = ("none", "grammar", "ngram", "lexicon", "ngram+lexicon")
LONGEST = 10**6  # no limit on a character transcript's length


class DigitGrammar(LanguageModel):
    """Between `min_digits` and `max_digits` digits; every digit equally likely (log-prob 0)."""

    def __init__(self, min_digits=1, max_digits=7):
        self.min_digits, self.max_digits = min_digits, max_digits

    def log_prob(self, prefix, label):
        return NEG_INF if len(prefix) + 1 > self.max_digits else 0.0

    def end_log_prob(self, prefix):
        return NEG_INF if len(prefix) < self.min_digits else 0.0


class LabelNgram(DigitGrammar):
    """An add-k smoothed n-gram model over the labels 1..`num_labels` (digits 0-9 are 1-10) and
    the end.

    Args:
        counts: `Counter` of `(context tuple, next)` where next is a label or 0 (the end).
        order: n (contexts of n - 1 labels; the start is padded with -1).
        k: add-k smoothing.
        min_digits, max_digits: the grammar's limits on the number of labels.
        num_labels: labels besides the end (10 digits, or an alphabet's characters).
    """

    def __init__(self, counts, order=3, k=0.5, min_digits=1, max_digits=7, num_labels=10):
        if not (isinstance(order, int) and order >= 1 and k >= 0):
            raise ValueError(f"Expected order >= 1 and k >= 0. Received: order={order!r}, k={k!r}")
        super().__init__(min_digits, max_digits)
        self.order, self.k, self.num_labels = order, k, num_labels
        self.counts = counts
        self.context_totals = Counter()
        for (context, _), count in counts.items():
            self.context_totals[context] += count

    @classmethod
    def fit(cls, texts, order=3, k=0.5, min_digits=1, max_digits=7):
        """Estimates the model from digit strings such as `'3141'`."""
        return cls.fit_labels(
            [[int(c) + 1 for c in text] for text in texts], 10, order, k, min_digits, max_digits
        )

    @classmethod
    def fit_labels(cls, sequences, num_labels, order=3, k=0.5, min_digits=1, max_digits=LONGEST):
        """Estimates the model from label sequences (labels 1..`num_labels`)."""
        counts = Counter()
        for labels in sequences:
            labels = [int(label) for label in labels]
            padded = [-1] * (order - 1) + labels
            for i, label in enumerate([*labels, 0]):
                counts[(tuple(padded[i : i + order - 1]), label)] += 1
        return cls(counts, order, k, min_digits, max_digits, num_labels)

    def _context(self, prefix):
        padded = [-1] * (self.order - 1) + list(prefix)
        return tuple(padded[len(padded) - (self.order - 1) :]) if self.order > 1 else ()

    def _log_p(self, prefix, token):
        context = self._context(prefix)
        numerator = self.counts.get((context, token), 0) + self.k
        denominator = self.context_totals.get(context, 0) + (self.num_labels + 1) * self.k
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
            "num_labels": self.num_labels,
            "counts": [
                [list(context), token, count] for (context, token), count in sorted(self.counts.items())
            ],
        }

    @classmethod
    def from_dict(cls, data):
        counts = Counter({(tuple(context), token): count for context, token, count in data["counts"]})
        # Runs written before character targets hold digit models without "num_labels".
        num_labels = data.get("num_labels", 10)
        return cls(counts, data["order"], data["k"], data["min_digits"], data["max_digits"], num_labels)


class Lexicon(LanguageModel):
    """Only the words of a word list: a label that leaves every word's spelling, a space after an
    unfinished word, or an end inside one is forbidden (-inf); the rest is scored by `inner` (or 0).

    Args:
        words: the words (strings of the alphabet's characters, without spaces).
        alphabet: the characters of labels 1, 2, ... (a space separates words).
        inner: another `LanguageModel` over the same labels, or None.

    Example:
    >>> lexicon = Lexicon(["one", "two"], alphabet=[" ", "e", "n", "o", "t", "w"])
    >>> lexicon.log_prob((4,), 3), lexicon.log_prob((4,), 6)  # 'on' is a prefix; 'ow' is not
    (0.0, -inf)
    """

    def __init__(self, words, alphabet, inner=None):
        self.words = frozenset(words)
        self.prefixes = {word[:i] for word in self.words for i in range(1, len(word) + 1)}
        self.alphabet, self.inner = list(alphabet), inner
        self.space = self.alphabet.index(" ") + 1 if " " in self.alphabet else None

    def _word(self, prefix):
        """The characters after the prefix's last space."""
        start = len(prefix)
        while start and prefix[start - 1] != self.space:
            start -= 1
        return "".join(self.alphabet[label - 1] for label in prefix[start:])

    def log_prob(self, prefix, label):
        word = self._word(prefix)
        if label == self.space:
            allowed = word in self.words
        else:
            allowed = word + self.alphabet[label - 1] in self.prefixes
        if not allowed:
            return NEG_INF
        return self.inner.log_prob(prefix, label) if self.inner else 0.0

    def end_log_prob(self, prefix):
        if self._word(prefix) not in self.words:
            return NEG_INF
        return self.inner.end_log_prob(prefix) if self.inner else 0.0
