"""Text -> padded word indices, identical at training and prediction time.

The indices follow `keras.datasets.imdb.load_data`: a word of frequency rank
r gets index `r + index_from`; index `start_char` opens every review,
`oov_char` stands for words outside the `num_words - 1` most frequent, and
0 is padding. Reviews are padded and truncated at the front (Keras'
`pad_sequences` defaults), so the last `maxlen` words are kept.
"""

import json
from dataclasses import dataclass, field

import numpy as np

from rnnlab.runs import write_json
from rnnlab.text.words import WordTokenizer


@dataclass
class SentimentPreprocessor:
    """Tokenises, indexes and pads reviews for the sentiment classifier.

    Args:
        word_index: word -> frequency rank (1 = most frequent); only words
            that can get an index below `num_words` need to be present.
        num_words: vocabulary size of the model (the article's max_features).
        maxlen: output length.
        start_char, oov_char, index_from: as in `keras.datasets.imdb`.
        tokenizer: the `WordTokenizer` used to build `word_index`.

    Example:
    >>> p = SentimentPreprocessor({"good": 1, "film": 2}, num_words=10, maxlen=5)
    >>> p(["A good film"]).tolist()
    [[0, 1, 2, 4, 5]]
    """

    word_index: dict
    num_words: int = 10000
    maxlen: int = 100
    start_char: int = 1
    oov_char: int = 2
    index_from: int = 3
    tokenizer: WordTokenizer = field(default_factory=WordTokenizer)

    def __post_init__(self):
        kept = self.num_words - self.index_from  # ranks below this get an index < num_words
        self.word_index = {w: r for w, r in self.word_index.items() if r < kept}

    def ranks(self, text):
        """Frequency ranks of the words of one text (unknown words -> a rank past the vocabulary)."""
        unknown = self.num_words  # any rank whose index falls outside the vocabulary
        return np.array([self.word_index.get(w, unknown) for w in self.tokenizer(text)], dtype=np.int64)

    def encode_ranks(self, rank_arrays):
        """Rank arrays (e.g. from `rnnlab.datasets.imdb.load_ranks`) -> `(n, maxlen)` int32."""
        import keras

        sequences = []
        for ranks in rank_arrays:
            indices = np.asarray(ranks, dtype=np.int64) + self.index_from
            indices = np.where(indices < self.num_words, indices, self.oov_char)
            sequences.append(np.concatenate([[self.start_char], indices]))
        return keras.utils.pad_sequences(sequences, maxlen=self.maxlen, dtype="int32")

    def __call__(self, texts):
        """Texts -> `(len(texts), maxlen)` int32 indices."""
        if isinstance(texts, str):
            raise ValueError("Expected a list of texts. Received: a single str; wrap it in a list.")
        return self.encode_ranks([self.ranks(text) for text in texts])

    def get_config(self):
        return {
            "num_words": self.num_words,
            "maxlen": self.maxlen,
            "start_char": self.start_char,
            "oov_char": self.oov_char,
            "index_from": self.index_from,
            "tokenizer": self.tokenizer.get_config(),
            "word_index": self.word_index,
        }

    def save(self, path):
        """Writes the preprocessor as JSON (temp file, then rename)."""
        write_json(path, self.get_config())

    @classmethod
    def load(cls, path):
        """Reads a preprocessor saved by `save`."""
        try:
            config = json.loads(open(path, encoding="utf-8").read())
            config["tokenizer"] = WordTokenizer(**config["tokenizer"])
            return cls(**config)
        except (OSError, ValueError, KeyError, TypeError) as error:
            raise ValueError(f"Cannot read a sentiment preprocessor from {path}: {error}") from error
