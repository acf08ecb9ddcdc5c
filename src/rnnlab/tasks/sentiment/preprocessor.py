"""Text -> word or subword indices, identical at training and prediction time.

Word indices follow `keras.datasets.imdb.load_data`: a word of frequency
rank r gets index `r + index_from`; index `start_char` opens every review,
`oov_char` stands for words outside the `num_words - 1` most frequent, and
0 is padding. Subword indices come from a BPE model trained with the
`tokenizers` library, with the same reserved indices. Sequences keep their
last `maxlen` indices and are padded at the front (Keras' `pad_sequences`
defaults).
"""

import collections
import dataclasses
from dataclasses import dataclass, field

import numpy as np

from rnnlab.data.padding import pad as pad_front
from rnnlab.io import read_json_file
from rnnlab.optional import require
from rnnlab.runs import write_json
from rnnlab.text.subwords import train_bpe
from rnnlab.text.vocabulary import DEFAULT_RESERVED
from rnnlab.text.words import WordTokenizer

PAD, START, OOV = 0, 1, 2  # the reserved indices of rnnlab.text.vocabulary (Keras' imdb scheme)
RESERVED_TOKENS = DEFAULT_RESERVED  # subword ids 0, 1, 2
IMDB_LABELS = ("negative", "positive")  # the labels of a run that does not name its own


@dataclass
class SentimentPreprocessor:
    """Tokenises, indexes and pads reviews word by word.

    Args:
        word_index: word -> frequency rank (1 = most frequent).
        num_words: vocabulary size of the model (the article's max_features).
        maxlen: longest sequence kept (the last `maxlen` indices).
        start_char, oov_char, index_from: as in `keras.datasets.imdb`.
        tokenizer: the `WordTokenizer`; its stop words are dropped.
        labels: the label names, in the order of the model's outputs.

    Example:
    >>> p = SentimentPreprocessor({"good": 1, "film": 2}, num_words=10, maxlen=5)
    >>> p(["A good film"]).tolist()
    [[0, 1, 2, 4, 5]]
    """

    word_index: dict
    num_words: int = 10000
    maxlen: int = 100
    start_char: int = START
    oov_char: int = OOV
    index_from: int = 3
    tokenizer: WordTokenizer = field(default_factory=WordTokenizer)
    dropped_ranks: tuple = None  # ranks of stop words, for rank arrays made without them
    labels: tuple = IMDB_LABELS

    @classmethod
    def fit(cls, texts, labels, num_words=10000, maxlen=100, tokenizer=None):
        """A preprocessor whose word ranks are the frequencies of `texts` (ties: alphabetical).

        Example:
        >>> p = SentimentPreprocessor.fit(["a good film", "a bad film", "a film"], ("bad", "good"), 8, 5)
        >>> p.word_index
        {'a': 1, 'film': 2, 'bad': 3, 'good': 4}
        """
        tokenizer = tokenizer or WordTokenizer()
        counting = dataclasses.replace(tokenizer, stop_words=())  # stop words are ranked, then dropped
        counts = collections.Counter(word for text in texts for word in counting(text))
        ranked = sorted(counts, key=lambda word: (-counts[word], word))
        word_index = {word: rank for rank, word in enumerate(ranked, start=1)}
        return cls(word_index, num_words, maxlen, tokenizer=tokenizer, labels=tuple(labels))

    def __post_init__(self):
        if self.dropped_ranks is None:
            stop = self.tokenizer.stop_words
            self.dropped_ranks = tuple(sorted(self.word_index[w] for w in stop if w in self.word_index))
        kept = self.num_words - self.index_from  # ranks below this get an index < num_words
        self.word_index = {w: r for w, r in self.word_index.items() if r < kept}

    @property
    def vocab_size(self):
        return self.num_words

    def index_of_words(self):
        """word -> model index, for initialising embeddings."""
        return {w: r + self.index_from for w, r in self.word_index.items()}

    def ranks(self, text):
        """Frequency ranks of the words of one text (unknown words -> past the vocabulary)."""
        unknown = self.num_words
        return np.array([self.word_index.get(w, unknown) for w in self.tokenizer(text)], dtype=np.int64)

    def sequences_from_ranks(self, rank_arrays):
        """Rank arrays (e.g. `rnnlab.datasets.imdb.load_ranks`) -> unpadded index arrays."""
        dropped = np.array(self.dropped_ranks, dtype=np.int64)
        out = []
        for ranks in rank_arrays:
            ranks = np.asarray(ranks, dtype=np.int64)
            if dropped.size:
                ranks = ranks[~np.isin(ranks, dropped)]
            indices = ranks + self.index_from
            indices = np.where(indices < self.num_words, indices, self.oov_char)
            out.append(np.concatenate([[self.start_char], indices])[-self.maxlen :].astype(np.int32))
        return out

    def sequences(self, texts):
        """Texts -> unpadded index arrays (at most `maxlen` long)."""
        if isinstance(texts, str):
            raise ValueError("Expected a list of texts. Received: a single str; wrap it in a list.")
        return self.sequences_from_ranks([self.ranks(text) for text in texts])

    def encode_reviews(self, reviews):
        """A dataset's reviews -> unpadded index arrays, from their cached frequency ranks."""
        return self.sequences_from_ranks(reviews.ranks())

    def known_tokens(self, text):
        """How many tokens of `text` the vocabulary knows (the rest become `oov_char`)."""
        return int(np.count_nonzero(self.ranks(text) + self.index_from < self.num_words))

    def tokens_and_ids(self, text):
        """The tokens of one text and their indices (no start index, no truncation)."""
        indices = self.ranks(text) + self.index_from
        indices = np.where(indices < self.num_words, indices, self.oov_char).astype(np.int32)
        return self.tokenizer(text), indices

    def __call__(self, texts):
        """Texts -> `(len(texts), maxlen)` int32 indices."""
        return pad_front(self.sequences(texts), self.maxlen)

    def get_config(self):
        return {
            "kind": "word",
            "num_words": self.num_words,
            "maxlen": self.maxlen,
            "start_char": self.start_char,
            "oov_char": self.oov_char,
            "index_from": self.index_from,
            "tokenizer": self.tokenizer.get_config(),
            "dropped_ranks": list(self.dropped_ranks),
            "labels": list(self.labels),
            "word_index": self.word_index,
        }

    @classmethod
    def from_config(cls, config):
        config = {k: v for k, v in config.items() if k != "kind"}
        config["tokenizer"] = WordTokenizer.from_config(config["tokenizer"])
        config["dropped_ranks"] = tuple(config.get("dropped_ranks", ()))
        config["labels"] = tuple(config.get("labels", IMDB_LABELS))
        return cls(**config)

    def save(self, path):
        """Writes the preprocessor as JSON (temp file, then rename)."""
        write_json(path, self.get_config())


class SubwordPreprocessor:
    """Byte-pair-encoding subwords (the `tokenizers` library) instead of words.

    Rare words are split into known pieces instead of becoming out-of-vocabulary.

    Args:
        tokenizer: a trained `tokenizers.Tokenizer` whose ids 0, 1, 2 are
            `[PAD]`, `[START]`, `[UNK]`.
        maxlen: longest sequence kept (the last `maxlen` ids).

    Example:
    >>> p = SubwordPreprocessor.train(["a good film", "a bad film"], 40, maxlen=8)  # doctest: +SKIP
    >>> p(["a good film"]).shape  # doctest: +SKIP
    (1, 8)
    """

    def __init__(self, tokenizer, maxlen=100, labels=IMDB_LABELS):
        self.tokenizer = tokenizer
        self.maxlen = maxlen
        self.labels = tuple(labels)

    @classmethod
    def train(cls, texts, vocab_size=16000, maxlen=100, labels=IMDB_LABELS):
        """Trains BPE on `texts` (lower-cased, `<br />` removed)."""
        tokenizer = train_bpe(texts, vocab_size, reserved=RESERVED_TOKENS)
        return cls(tokenizer, maxlen, labels)

    @property
    def vocab_size(self):
        return self.tokenizer.get_vocab_size()

    def index_of_words(self):
        """subword -> model index, for initialising embeddings."""
        return {token: i for token, i in self.tokenizer.get_vocab().items() if i >= len(RESERVED_TOKENS)}

    def sequences(self, texts):
        """Texts -> unpadded id arrays (at most `maxlen` long)."""
        if isinstance(texts, str):
            raise ValueError("Expected a list of texts. Received: a single str; wrap it in a list.")
        encodings = self.tokenizer.encode_batch(list(texts), add_special_tokens=False)
        return [np.array([START, *e.ids][-self.maxlen :], dtype=np.int32) for e in encodings]

    def __call__(self, texts):
        return pad_front(self.sequences(texts), self.maxlen)

    def encode_reviews(self, reviews):
        """A dataset's reviews -> unpadded id arrays, from their text."""
        return self.sequences(reviews.texts())

    def known_tokens(self, text):
        """How many subword tokens of `text` are not `[UNK]`."""
        encoding = self.tokenizer.encode(text, add_special_tokens=False)
        return sum(1 for i in encoding.ids if i != OOV)

    def tokens_and_ids(self, text):
        """The subword tokens of one text and their ids (no start id, no truncation)."""
        encoding = self.tokenizer.encode(text, add_special_tokens=False)
        return encoding.tokens, np.array(encoding.ids, dtype=np.int32)

    def get_config(self):
        return {
            "kind": "subword",
            "maxlen": self.maxlen,
            "labels": list(self.labels),
            "tokenizer": self.tokenizer.to_str(),
        }

    @classmethod
    def from_config(cls, config):
        require("tokenizers", "A subword run (its preprocessor)")
        from tokenizers import Tokenizer

        labels = config.get("labels", IMDB_LABELS)
        return cls(Tokenizer.from_str(config["tokenizer"]), config["maxlen"], labels)

    def save(self, path):
        write_json(path, self.get_config())


PREPROCESSORS = {"word": SentimentPreprocessor, "subword": SubwordPreprocessor}


def load_preprocessor(path):
    """Reads a preprocessor saved by `save` (word or subword).

    Raises:
        ValueError: a missing file, invalid JSON, or JSON of the wrong shape;
            the message names the file and what was expected.
    """
    config = read_json_file(path, "a sentiment preprocessor")
    if not isinstance(config, dict):
        raise ValueError(
            f"Cannot read a sentiment preprocessor from {path}: expected a JSON object. "
            f"Received: {type(config).__name__}"
        )
    kind = config.get("kind", "word")
    if kind not in PREPROCESSORS:
        raise ValueError(f"{path}: expected kind in {set(PREPROCESSORS)}. Received: kind={kind!r}")
    try:
        preprocessor = PREPROCESSORS[kind].from_config(config)
    except Exception as error:  # any malformed content: wrong types, missing keys, bad tokenizer JSON
        raise ValueError(
            f"Cannot read a sentiment preprocessor from {path}: {type(error).__name__}: {error}"
        ) from None
    if not isinstance(preprocessor.maxlen, int) or preprocessor.maxlen < 1:
        raise ValueError(f"{path}: expected a positive integer maxlen. Received: {preprocessor.maxlen!r}")
    labels = preprocessor.labels
    if len(labels) < 2 or len(set(labels)) != len(labels) or not all(isinstance(x, str) for x in labels):
        raise ValueError(
            f"{path}: expected two or more distinct label names. Received: labels={list(labels)!r}"
        )
    return preprocessor
