"""A vocabulary with reserved indices, shared by every text task.

Index 0 is padding; the next indices are reserved tokens (a start marker, the
unknown token, and for sequence-to-sequence tasks an end marker); then the
kept tokens, most frequent first. This is the scheme of Keras'
`datasets.imdb` (`start_char=1`, `oov_char=2`, `index_from=3`) generalised
to any reserved set.

Example:
>>> vocab = Vocabulary.from_counts({"film": 5, "good": 3, "dull": 1}, max_size=6)
>>> vocab.tokens
('[PAD]', '[START]', '[UNK]', 'film', 'good', 'dull')
>>> vocab.encode(["good", "film", "awful"]).tolist()
[4, 3, 2]
>>> vocab.decode([1, 4, 3, 0])
['good', 'film']
"""

from collections import Counter

import numpy as np

PAD, START, UNK, END = "[PAD]", "[START]", "[UNK]", "[END]"
DEFAULT_RESERVED = (PAD, START, UNK)  # ids 0, 1, 2 (Keras' imdb: padding, start_char, oov_char)


class Vocabulary:
    """Token <-> index with reserved indices.

    Args:
        tokens: every token in index order; the first `len(reserved)` are the
            reserved ones.
        reserved: the reserved tokens; must start with `[PAD]` and contain `[UNK]`.
    """

    def __init__(self, tokens, reserved=DEFAULT_RESERVED):
        tokens, reserved = tuple(tokens), tuple(reserved)
        if not reserved or reserved[0] != PAD or UNK not in reserved:
            raise ValueError(
                f"Expected reserved tokens starting with {PAD!r} and holding {UNK!r}. Received: {reserved}"
            )
        if tokens[: len(reserved)] != reserved:
            received = tokens[: len(reserved)]
            raise ValueError(f"Expected tokens to begin with the reserved {reserved}. Received: {received}")
        if len(set(tokens)) != len(tokens):
            raise ValueError("Expected distinct tokens. Received: duplicates.")
        self.tokens = tokens
        self.reserved = reserved
        self.index = {token: i for i, token in enumerate(tokens)}

    @classmethod
    def from_counts(cls, counts, max_size=None, min_count=1, reserved=DEFAULT_RESERVED):
        """The `max_size` (including reserved) most frequent tokens; ties keep first-seen order.

        Args:
            counts: token -> count (a dict or `Counter`), or an iterable of tokens.
            max_size: vocabulary size including the reserved tokens (None: all).
            min_count: drop rarer tokens.
            reserved: the reserved tokens.
        """
        if not isinstance(counts, dict):
            counts = Counter(counts)
        if max_size is not None and max_size <= len(reserved):
            raise ValueError(
                f"Expected max_size > {len(reserved)} (the reserved tokens). Received: {max_size}"
            )
        ranked = sorted(
            (t for t, n in counts.items() if n >= min_count and t not in reserved),
            key=lambda t: -counts[t],  # sorted() is stable: ties keep first-seen order
        )
        if max_size is not None:
            ranked = ranked[: max_size - len(reserved)]
        return cls(reserved + tuple(ranked), reserved)

    def __len__(self):
        return len(self.tokens)

    def id_of(self, token):
        return self.index[token]

    def encode(self, tokens):
        """Token list -> int32 ids (unknown tokens -> the `[UNK]` id)."""
        unknown = self.index[UNK]
        return np.array([self.index.get(t, unknown) for t in tokens], dtype=np.int32)

    def decode(self, ids, skip_reserved=True):
        """Ids -> tokens; stops at `[END]` and leaves out reserved tokens (unless asked)."""
        out = []
        for i in np.asarray(ids).tolist():
            token = self.tokens[i]
            if token == END:
                break
            if skip_reserved and token in self.reserved:
                continue
            out.append(token)
        return out

    def known(self, tokens):
        """How many of `tokens` are in the vocabulary (not reserved)."""
        return sum(1 for t in tokens if t in self.index and t not in self.reserved)

    def get_config(self):
        return {"tokens": list(self.tokens), "reserved": list(self.reserved)}

    @classmethod
    def from_config(cls, config):
        return cls(config["tokens"], config.get("reserved", DEFAULT_RESERVED))
