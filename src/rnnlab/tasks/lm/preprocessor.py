"""Text <-> token ids for language models: characters or words, the vocabulary taken
from the training text only. Id 0 is padding, id 1 unknown."""

import numpy as np

from rnnlab.runs import read_preprocessor_config, write_json
from rnnlab.text.vocabulary import PAD, UNK, Vocabulary

RESERVED = (PAD, UNK)


class LMPreprocessor:
    """A vocabulary of characters or words.

    Example:
    >>> p = LMPreprocessor.fit("to be or not", "char")
    >>> p.decode(p.encode("to be"))
    'to be'
    """

    def __init__(self, vocabulary, level):
        if level not in ("char", "word"):
            raise ValueError(f"Expected level 'char' or 'word'. Received: {level!r}")
        self.vocabulary, self.level = vocabulary, level

    @classmethod
    def fit(cls, text_or_tokens, level, max_size=None):
        tokens = list(text_or_tokens)  # a str gives its characters; a list of words stays
        return cls(Vocabulary.from_counts(tokens, max_size=max_size, reserved=RESERVED), level)

    def tokens(self, text):
        """A prompt or text as tokens: its characters, or its space-separated words."""
        return list(text) if self.level == "char" else text.split()

    def encode(self, text_or_tokens):
        tokens = self.tokens(text_or_tokens) if isinstance(text_or_tokens, str) else text_or_tokens
        return self.vocabulary.encode(tokens)

    def decode(self, ids):
        tokens = self.vocabulary.decode(ids)
        return "".join(tokens) if self.level == "char" else " ".join(tokens)

    def unknown(self, text):
        """How many tokens of `text` were never seen in training."""
        tokens = self.tokens(text)
        return len(tokens) - self.vocabulary.known(tokens)

    def __len__(self):
        return len(self.vocabulary)

    def save(self, path):
        write_json(path, {"kind": "lm", "level": self.level, "vocabulary": self.vocabulary.get_config()})


def load_preprocessor(path):
    """Reads an `LMPreprocessor`; malformed files are a clear ValueError."""
    config = read_preprocessor_config(path, "lm", "language-model")
    try:
        return LMPreprocessor(Vocabulary.from_config(config["vocabulary"]), config["level"])
    except Exception as error:  # any malformed content
        raise ValueError(
            f"Cannot read a language-model preprocessor from {path}: {type(error).__name__}: {error}"
        ) from None


def windows(ids, seq_len):
    """`(inputs, targets)`: consecutive non-overlapping windows of `seq_len` tokens and the
    same windows shifted by one (the next token at every step)."""
    ids = np.asarray(ids, dtype=np.int32)
    count = (len(ids) - 1) // seq_len
    if count < 1:
        raise ValueError(
            f"Expected at least {seq_len + 1} tokens to make one window of seq_len={seq_len}. "
            f"Received: {len(ids)}"
        )
    inputs = ids[: count * seq_len].reshape(count, seq_len)
    targets = ids[1 : count * seq_len + 1].reshape(count, seq_len)
    return inputs, targets
