"""Word tokenisation (article 6.1, step 2) and frequency-ranked vocabularies."""

import collections
import itertools
import re
from dataclasses import dataclass

import numpy as np

from rnnlab.optional import require

_HTML_BREAK = re.compile(r"<br\s*/?>", re.IGNORECASE)
_WORD = re.compile(r"[a-z0-9]+(?:'[a-z0-9]+)*")
_WORD_ANY_CASE = re.compile(r"[A-Za-z0-9]+(?:'[A-Za-z0-9]+)*")
_UNICODE_WORD = re.compile(r"[^\W_]+(?:'[^\W_]+)*")  # letters and digits of any script


def english_stop_words():
    """gensim's English stop-word list (337 words; note it holds 'not' and 'no')."""
    require("gensim", "English stop words (--stop-words)")
    from gensim.parsing.preprocessing import STOPWORDS

    return tuple(sorted(STOPWORDS))


@dataclass(frozen=True)
class WordTokenizer:
    """Splits text into words: `<br />` removed, lower-cased, punctuation dropped.

    Args:
        lowercase: lower-case before splitting.
        strip_html: replace HTML line breaks (`<br />`, as in IMDb) by spaces.
        stop_words: words to drop (e.g. `english_stop_words()`).
        any_script: words of every script; False (IMDb's word index): a-z, 0-9 and apostrophes.

    Example:
    >>> WordTokenizer()("A <br />wonderful film, isn't it?")
    ['a', 'wonderful', 'film', "isn't", 'it']
    >>> WordTokenizer(stop_words=("a", "it"))("A wonderful film, isn't it?")
    ['wonderful', 'film', "isn't"]
    >>> WordTokenizer(any_script=True)("Ein schöner Film, 很好!")
    ['ein', 'schöner', 'film', '很好']
    """

    lowercase: bool = True
    strip_html: bool = True
    stop_words: tuple = ()
    any_script: bool = False  # words of every script (`café`, `Straße`, `猫が`), not only a-z and 0-9

    def __call__(self, text):
        if not isinstance(text, str):
            raise ValueError(f"Expected text as str. Received: {type(text).__name__}")
        if self.strip_html:
            text = _HTML_BREAK.sub(" ", text)
        if self.any_script:
            words = _UNICODE_WORD.findall(text.lower() if self.lowercase else text)
        else:
            words = _WORD.findall(text.lower()) if self.lowercase else _WORD_ANY_CASE.findall(text)
        if self.stop_words:
            stop = self._stop_set()
            words = [w for w in words if w not in stop]
        return words

    def _stop_set(self):
        if "_stop" not in self.__dict__:
            object.__setattr__(self, "_stop", frozenset(self.stop_words))
        return self.__dict__["_stop"]

    def get_config(self):
        return {
            "lowercase": self.lowercase,
            "strip_html": self.strip_html,
            "stop_words": list(self.stop_words),
            "any_script": self.any_script,
        }

    @classmethod
    def from_config(cls, config):
        return cls(**{**config, "stop_words": tuple(config.get("stop_words", ()))})


def rank_words(fit_token_lists, *other_token_lists):
    """Ranks words by frequency and converts token lists to ranks, in one pass.

    The most frequent word gets rank 1; ties keep the order of first
    appearance, so the index is deterministic. Only `fit_token_lists` shape
    the ranking (e.g. the training reviews); words first seen in
    `other_token_lists` get rank `len(word_index) + 1` ("unknown").

    Args:
        fit_token_lists: list of token lists that define the vocabulary.
        *other_token_lists: more lists of token lists to convert (e.g. test).

    Returns:
        `(word_index, ranks)`: dict word -> rank (as Keras'
        `imdb.get_word_index()`), and for each argument a pair
        `(flat_ranks, offsets)` of int arrays; review i is
        `flat_ranks[offsets[i]:offsets[i + 1]]`.

    Example:
    >>> word_index, [(ranks, offsets)] = rank_words([["b", "a", "b"], ["c"]])
    >>> word_index
    {'b': 1, 'a': 2, 'c': 3}
    >>> ranks.tolist(), offsets.tolist()
    ([1, 2, 1, 3], [0, 3, 4])
    """
    # word -> provisional id in order of first appearance; lookups run in C
    first_seen = collections.defaultdict(itertools.count().__next__)

    def provisional_ids(token_lists):
        ids = np.fromiter(
            map(first_seen.__getitem__, itertools.chain.from_iterable(token_lists)), dtype=np.int64
        )
        offsets = np.zeros(len(token_lists) + 1, dtype=np.int64)
        np.cumsum([len(tokens) for tokens in token_lists], out=offsets[1:])
        return ids, offsets

    fit_ids = provisional_ids(fit_token_lists)
    vocabulary_size = len(first_seen)
    counts = np.bincount(fit_ids[0], minlength=vocabulary_size)
    order = np.lexsort((np.arange(vocabulary_size), -counts))  # by count, then first seen
    words = list(first_seen)
    word_index = {words[i]: rank for rank, i in enumerate(order.tolist(), start=1)}
    other_ids = [provisional_ids(lists) for lists in other_token_lists]
    rank_of = np.full(len(first_seen), vocabulary_size + 1, dtype=np.int32)
    rank_of[order] = np.arange(1, vocabulary_size + 1, dtype=np.int32)
    return word_index, [(rank_of[ids], offsets) for ids, offsets in [fit_ids, *other_ids]]
