"""IMDb reviews for the sentiment task: one split in a seeded order, cut to `limit`, read
lazily as frequency ranks or as texts."""

import numpy as np

from rnnlab.datasets import imdb


class Reviews:
    """One IMDb split in a given order, read lazily as frequency ranks or as texts."""

    def __init__(self, split, order):
        self.split, self.order = split, order

    def ranks(self):
        ranks, _ = imdb.load_ranks(self.split)
        return [ranks[i] for i in self.order]

    def texts(self):
        texts, _ = imdb.load_texts(self.split)
        return [texts[i] for i in self.order]


def load_sequences(config, split, preprocessor):
    """Unpadded index arrays and labels of 'train' or 'test', in a seeded order, cut to `config.limit`."""
    _, labels = imdb.load_ranks(split)
    order = np.random.default_rng([config.seed, split == "test"]).permutation(len(labels))
    if config.limit is not None:
        order = order[: config.limit]
    return preprocessor.encode_reviews(Reviews(split, order)), labels[order].astype("float32")
