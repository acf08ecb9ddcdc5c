"""Sentences <-> subword ids for translation: one BPE model per language
(trained on the training split only), reversible so translations detokenise
back to plain text.

Ids 0-3 are `[PAD]`, `[START]`, `[UNK]`, `[END]` in both languages.
"""

import itertools

import numpy as np

from rnnlab.optional import require
from rnnlab.runs import read_preprocessor_config, write_json
from rnnlab.text.subwords import train_bpe
from rnnlab.text.vocabulary import END, PAD, START, UNK

RESERVED = (PAD, START, UNK, END)
PAD_ID, START_ID, UNK_ID, END_ID = 0, 1, 2, 3
MAX_CHARS = 2000  # longest sentence accepted for translation


class TranslationPreprocessor:
    """Source and target BPE tokenizers and the length cap.

    Args:
        source, target: trained `tokenizers.Tokenizer`s (see `train`).
        max_len: longest sequence in subwords (training cuts longer ones).

    Example:
    >>> p = TranslationPreprocessor.train(["ein Hund"] * 9, ["a dog"] * 9, 40, 8)  # doctest: +SKIP
    >>> p.decode_target(p.encode_target(["a dog"])[0][1:-1])  # doctest: +SKIP
    'a dog'
    """

    def __init__(self, source, target, max_len):
        self.source, self.target, self.max_len = source, target, max_len

    @staticmethod
    def train_side(texts, vocab_size):
        """One language's reversible BPE model, trained on `texts` (any iterable: read once)."""
        return train_bpe(
            texts, vocab_size, reserved=RESERVED, lowercase=False, strip_html=False, reversible=True
        )

    @classmethod
    def train(cls, sources, targets, vocab_size, max_len, shared=False):
        """BPE models trained on training sentences: one per language, or with `shared`
        one for both (trained on the source and then the target sentences)."""
        if shared:
            both = cls.train_side(itertools.chain(sources, targets), vocab_size)
            return cls(both, both, max_len)
        return cls(cls.train_side(sources, vocab_size), cls.train_side(targets, vocab_size), max_len)

    @property
    def source_vocab(self):
        return self.source.get_vocab_size()

    @property
    def target_vocab(self):
        return self.target.get_vocab_size()

    def encode_source(self, sentences):
        """Sentences -> id arrays (no start/end), at most `max_len` long."""
        encodings = self.source.encode_batch(list(sentences), add_special_tokens=False)
        return [np.array(e.ids[: self.max_len], dtype=np.int32) for e in encodings]

    def encode_target(self, sentences):
        """Sentences -> `[START] ids [END]` arrays, at most `max_len + 1` long."""
        encodings = self.target.encode_batch(list(sentences), add_special_tokens=False)
        return [np.array([START_ID, *e.ids[: self.max_len - 1], END_ID], dtype=np.int32) for e in encodings]

    def source_tokens(self, sentence):
        return self.source.encode(sentence, add_special_tokens=False).tokens

    def target_tokens(self, ids):
        return [self.target.id_to_token(int(i)) for i in ids]

    def decode_target(self, ids):
        """Target ids -> plain text (reserved ids dropped)."""
        return self.target.decode([int(i) for i in ids], skip_special_tokens=True)

    def get_config(self):
        return {
            "kind": "translation",
            "max_len": self.max_len,
            "source": self.source.to_str(),
            "target": self.target.to_str(),
        }

    def save(self, path):
        write_json(path, self.get_config())


def load_preprocessor(path):
    """Reads a `TranslationPreprocessor` saved by `save`; malformed files are a clear ValueError."""
    require("tokenizers", "A translation run (its preprocessor)")
    from tokenizers import Tokenizer

    config = read_preprocessor_config(path, "translation", "translation")
    try:
        return TranslationPreprocessor(
            Tokenizer.from_str(config["source"]), Tokenizer.from_str(config["target"]), int(config["max_len"])
        )
    except Exception as error:  # any malformed content
        raise ValueError(
            f"Cannot read a translation preprocessor from {path}: {type(error).__name__}: {error}"
        ) from None
