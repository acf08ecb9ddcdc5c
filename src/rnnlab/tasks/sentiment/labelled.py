"""The labelled texts of a sentiment run that does not read IMDb: the user's files (`--data`) or
the Stanford Sentiment Treebank (`--dataset sst2|sst3|sst5`).

Splits:
- SST: `train` (sentences, or every phrase with `sst_phrases`), `dev` validates, `test` tests.
- `--data`: `--test-data`, or a stratified `test_split` of the file (every label keeps its share;
  drawn with a fixed seed, so that runs of every `--seed` test on the same texts); `--valid-data`,
  or the trainer holds out `validation_split` of the training texts. The run keeps the files'
  sha256 (`rnnlab.datasets.versions`): `--resume` and `evaluate` refuse a changed file.
- `--test-data` also replaces the test texts of any run (`rnnlab evaluate RUN --test-data FILE`).

Example:
>>> config = SentimentConfig(data="reviews.csv")  # doctest: +SKIP
>>> texts, labels = texts_and_labels(config, "train")  # doctest: +SKIP
"""

import functools
from pathlib import Path

import numpy as np

from rnnlab.datasets import labelled_text, sst, storage

SPLIT_SEED = 0  # of the held-out test texts of --data: the same for every run of a file


def reads_imdb(config, split):
    """True when `split` of the run comes from IMDb (the cached, rank-encoded reviews)."""
    if split == "test" and config.test_data is not None:
        return False
    return config.data is None and config.prepared is None and config.dataset == "imdb"


def own_validation(config):
    """True when the run has validation texts of its own (`--valid-data`, SST's dev)."""
    return config.valid_data is not None or (config.data is None and config.dataset != "imdb")


@functools.lru_cache(maxsize=4)  # a run reads each file more than once
def _read_cached(path, text_field, label_field, encoding, version):
    return labelled_text.read_labelled(path, text_field, label_field, encoding)


def read(config, path):
    """`(texts, labels)` of one of the run's files, read again only when it changes. Shared
    between calls: do not modify."""
    version = storage.fingerprint(path) if Path(path).exists() else None
    return _read_cached(path, config.text_field, config.label_field, config.encoding, version)


def stratified_test_indices(labels, fraction, seed):
    """Positions of the examples held out to test: `fraction` of each label (rounded; a label
    seen once stays in training), drawn with `seed`, sorted.

    Example:
    >>> stratified_test_indices(["a"] * 10 + ["b"] * 5, 0.2, 0).size
    3
    """
    labels = np.asarray(labels)
    rng = np.random.default_rng([seed, 7])
    chosen = []
    for label in sorted(set(labels.tolist())):
        where = np.flatnonzero(labels == label)
        count = min(round(len(where) * fraction), len(where) - 1)
        chosen.append(rng.permutation(where)[:count])
    return np.sort(np.concatenate(chosen)) if chosen else np.zeros(0, dtype=np.int64)


def texts_and_labels(config, split):
    """`(texts, labels)` (lists of str) of 'train', 'validation' or 'test' (see the module
    docstring)."""
    if split == "test" and config.test_data is not None:
        return read(config, config.test_data)
    if config.data is None:
        name = {"train": "train", "validation": "dev", "test": "test"}[split]
        return sst.load_split(name, config.dataset, phrases=config.sst_phrases and split == "train")
    if split == "validation":
        if config.valid_data is None:
            raise ValueError("validation texts without --valid-data come from the training texts")
        return read(config, config.valid_data)
    texts, labels = read(config, config.data)
    if config.test_data is not None:
        return texts, labels  # every example trains
    held_out = stratified_test_indices(labels, config.test_split, SPLIT_SEED)
    if split == "test":
        if held_out.size == 0:
            raise storage.DatasetError(
                f"{config.data}: too few examples to hold out {config.test_split:.0%} to test. "
                "Expected more examples per label, or --test-data."
            )
        return [texts[i] for i in held_out], [labels[i] for i in held_out]
    kept = np.setdiff1d(np.arange(len(texts)), held_out)
    return [texts[i] for i in kept], [labels[i] for i in kept]


def label_names(config):
    """The run's labels, in the order of the model's outputs: SST's from very negative to very
    positive; the user's in `labelled_text.label_names` order, from the training file."""
    if config.data is None:
        return tuple(dict.fromkeys(name for name in sst.LABEL_SETS[config.dataset] if name))
    names = tuple(labelled_text.label_names(read(config, config.data)[1]))
    if len(names) < 2:
        raise storage.DatasetError(
            f"{config.data} has one label ({names[0]!r}). Expected two or more labels to tell apart."
        )
    return names


def label_ids(labels, names, source):
    """Each label's position in `names`.

    Raises:
        DatasetError: a label the run was not trained on, naming where it came from.
    """
    index = {name: i for i, name in enumerate(names)}
    unknown = sorted(set(labels) - set(index))
    if unknown:
        raise storage.DatasetError(
            f"{source} has the label {unknown[0]!r}, which the training texts do not have. Expected one of "
            f"{list(names)}."
        )
    return np.array([index[label] for label in labels], dtype=np.int64)
