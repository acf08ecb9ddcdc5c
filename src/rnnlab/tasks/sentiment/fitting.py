"""The preprocessor of a sentiment run, fitted on its training texts only: word frequencies or
BPE subwords of the user's texts or SST, IMDb's own word ranks, or a pretrained language model's
subwords.

Example:
>>> preprocessor = make_preprocessor(SentimentConfig(data="reviews.csv"))  # doctest: +SKIP
"""

import itertools
import sys
from pathlib import Path

from rnnlab.datasets import imdb
from rnnlab.tasks.sentiment import labelled
from rnnlab.tasks.sentiment.preprocessor import (
    IMDB_LABELS,
    SentimentPreprocessor,
    SubwordPreprocessor,
    load_preprocessor,
)
from rnnlab.tasks.sentiment.pretrained_lm import load_pretrained_lm
from rnnlab.text.words import WordTokenizer, english_stop_words


def make_preprocessor(config, texts=None, names=None):
    """The preprocessor of a config, fitted on training (and unlabelled) text only.

    Args:
        texts, names: the training texts (any iterable, read once) and the label names, for
            `rnnlab prepare sentiment` (default: read from the config's data).
    """
    if texts is None and config.prepared is not None:  # what `rnnlab prepare sentiment` fitted
        return load_preprocessor(Path(config.prepared) / "preprocessor.json")
    if texts is None and labelled.reads_imdb(config, "train"):
        names = IMDB_LABELS
    elif texts is None:
        texts, _ = labelled.texts_and_labels(config, "train")
        names = labelled.label_names(config)
    if config.init_from:  # the language model's own subwords
        vocabulary = load_pretrained_lm(config.init_from).preprocessor.vocabulary
        return SubwordPreprocessor(vocabulary, config.maxlen, names)
    if config.tokenizer == "subword":
        if texts is None:
            texts, _ = imdb.load_texts("train")
            if config.limit is None:
                texts = texts + imdb.load_texts("unsup")[0]
        return SubwordPreprocessor.train(
            texts, vocab_size=config.max_features, maxlen=config.maxlen, labels=names
        )
    stop_words = english_stop_words() if config.stop_words else ()
    if texts is not None:  # the user's texts, or SST: words of any script
        tokenizer = WordTokenizer(stop_words=stop_words, any_script=True)
        texts = iter(texts)
        sample = list(itertools.islice(texts, 1000))
        texts = itertools.chain(sample, texts)
        preprocessor = SentimentPreprocessor.fit(texts, names, config.max_features, config.maxlen, tokenizer)
        warn_if_unsegmented(sample, preprocessor)
        return preprocessor
    tokenizer = WordTokenizer(stop_words=stop_words)
    return SentimentPreprocessor(
        imdb.get_word_index(), num_words=config.max_features, maxlen=config.maxlen, tokenizer=tokenizer
    )


def warn_if_unsegmented(texts, preprocessor, sample=1000):
    """Warns when the training texts look like text without spaces between words (Chinese,
    Japanese, Thai): whole phrases become words, and subwords serve better."""
    sample = texts[:sample]
    tokens = [preprocessor.tokenizer(text) for text in sample]
    long_words = sum(1 for words in tokens for word in words if len(word) > 12 and not word.isascii())
    if long_words > 0.2 * max(1, sum(len(words) for words in tokens)):
        print(
            "rnnlab: warning: many training texts have no spaces between words (e.g. Chinese or Japanese): "
            "whole phrases become words. Expected better results with --tokenizer subword.",
            file=sys.stderr,
        )
