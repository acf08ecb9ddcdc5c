"""Text <-> token ids for language models: characters, words or BPE subwords, the
vocabulary taken from the training text only.

Characters and words: id 0 is padding, id 1 unknown. Subwords (documents such
as reviews): ids 0, 1, 2 are `[PAD]`, `[START]`, `[UNK]`, as in the sentiment
task's subwords, and every document starts with `[START]`, which so also marks
where one document ends and the next begins.
"""

import numpy as np

from rnnlab.optional import require
from rnnlab.runs import read_preprocessor_config, write_json
from rnnlab.text.subwords import train_bpe
from rnnlab.text.vocabulary import DEFAULT_RESERVED, PAD, START, UNK, Vocabulary

RESERVED = (PAD, UNK)
LEVELS = ("char", "word", "subword")
DEFAULT_SUBWORDS = 8000


class LMPreprocessor:
    """A vocabulary of characters or words, or a BPE tokenizer of subwords.

    Args:
        vocabulary: a `Vocabulary` (characters, words), or a `tokenizers.Tokenizer`
            (subwords) whose ids 0, 1, 2 are `[PAD]`, `[START]`, `[UNK]`.
        level: 'char', 'word' or 'subword'.

    Example:
    >>> p = LMPreprocessor.fit("to be or not", "char")
    >>> p.decode(p.encode("to be"))
    'to be'
    """

    def __init__(self, vocabulary, level):
        if level not in LEVELS:
            raise ValueError(f"Expected level 'char', 'word' or 'subword'. Received: {level!r}")
        self.vocabulary, self.level = vocabulary, level

    @classmethod
    def fit(cls, text_or_tokens, level, max_size=None):
        """Fits on training text: a str (characters), a list of words, or a list of
        documents (subwords; `max_size` is the BPE vocabulary size, default 8,000)."""
        if level == "subword":
            if isinstance(text_or_tokens, str):
                raise ValueError("Expected a list of documents for subwords. Received: a single str.")
            tokenizer = train_bpe(
                text_or_tokens, max_size or DEFAULT_SUBWORDS, reserved=DEFAULT_RESERVED, reversible=True
            )
            return cls(tokenizer, level)
        tokens = list(text_or_tokens)  # a str gives its characters; a list of words stays
        return cls(Vocabulary.from_counts(tokens, max_size=max_size, reserved=RESERVED), level)

    def tokens(self, text):
        """A prompt or text as tokens: its characters, words or subwords."""
        if self.level == "subword":
            return self.vocabulary.encode(text, add_special_tokens=False).tokens
        return list(text) if self.level == "char" else text.split()

    def encode(self, text_or_tokens):
        """Ids of a text (a prompt), of a list of words, or, for subwords, of a list of
        documents (each preceded by `[START]`, all joined into one stream)."""
        if self.level == "subword":
            if isinstance(text_or_tokens, str):
                return np.array(
                    self.vocabulary.encode(text_or_tokens, add_special_tokens=False).ids, np.int32
                )
            start = self.vocabulary.token_to_id(START)
            encodings = self.vocabulary.encode_batch(list(text_or_tokens), add_special_tokens=False)
            return np.array([i for e in encodings for i in (start, *e.ids)], dtype=np.int32)
        tokens = self.tokens(text_or_tokens) if isinstance(text_or_tokens, str) else text_or_tokens
        return self.vocabulary.encode(tokens)

    def decode(self, ids):
        if self.level == "subword":
            return self.vocabulary.decode([int(i) for i in ids], skip_special_tokens=True)
        tokens = self.vocabulary.decode(ids)
        return "".join(tokens) if self.level == "char" else " ".join(tokens)

    def unknown(self, text):
        """How many tokens of `text` were never seen in training."""
        if self.level == "subword":
            return int(np.sum(self.encode(text) == self.vocabulary.token_to_id(UNK)))
        tokens = self.tokens(text)
        return len(tokens) - self.vocabulary.known(tokens)

    @property
    def banned(self):
        """Ids never generated: padding and unknown (subwords: also `[START]`)."""
        return (0, 1, 2) if self.level == "subword" else (0, 1)

    def __len__(self):
        if self.level == "subword":
            return self.vocabulary.get_vocab_size()
        return len(self.vocabulary)

    def save(self, path):
        if self.level == "subword":
            vocabulary = {"tokenizer": self.vocabulary.to_str()}
        else:
            vocabulary = self.vocabulary.get_config()
        write_json(path, {"kind": "lm", "level": self.level, "vocabulary": vocabulary})


def load_preprocessor(path):
    """Reads an `LMPreprocessor`; malformed files are a clear ValueError."""
    config = read_preprocessor_config(path, "lm", "language-model")
    if config.get("level") == "subword":
        require("tokenizers", "BPE subwords")
    try:
        if config["level"] == "subword":
            from tokenizers import Tokenizer

            tokenizer = Tokenizer.from_str(config["vocabulary"]["tokenizer"])
            if [tokenizer.id_to_token(i) for i in range(3)] != list(DEFAULT_RESERVED):
                raise ValueError(f"expected ids 0, 1, 2 to be {DEFAULT_RESERVED}")
            return LMPreprocessor(tokenizer, "subword")
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


def stream_windows(ids, rows, seq_len):
    """`(inputs, targets)` for stateful training: the stream cut into `rows` equal
    parts read side by side, `seq_len` tokens at a time (Zaremba et al.'s layout).

    Example `k * rows + r` is window k of part r, so batch k (of `rows` examples,
    in order) continues batch k - 1 row for row, and a layer's final states are
    the right initial states of the next batch. A part's last window is padded
    with id 0 (never a target). At most `rows - 1` tokens at the stream's end
    are left out.
    """
    ids = np.asarray(ids, dtype=np.int32)
    part = (len(ids) - 1) // rows
    if part < 1:
        raise ValueError(
            f"Expected at least {rows + 1} tokens to make {rows} parallel streams (one per batch row). "
            f"Received: {len(ids)}"
        )
    count = -(-part // seq_len)
    inputs = np.zeros((rows, count * seq_len), np.int32)
    targets = np.zeros((rows, count * seq_len), np.int32)
    inputs[:, :part] = ids[: rows * part].reshape(rows, part)
    targets[:, :part] = ids[1 : rows * part + 1].reshape(rows, part)

    def layout(array):  # (rows, count * seq_len) -> (count * rows, seq_len), window-major
        return array.reshape(rows, count, seq_len).transpose(1, 0, 2).reshape(count * rows, seq_len)

    return layout(inputs), layout(targets)
