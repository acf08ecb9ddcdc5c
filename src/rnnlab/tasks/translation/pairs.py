"""The sentence pairs a translation run reads: Multi30k, or the user's files (`--data`).

A user's data path is one of:

- a TSV file (plain or `.gz`): source, tab, target on each line;
- a prefix: `PREFIX.SRC` and `PREFIX.TGT`, one sentence a line (Multi30k, WMT and Moses style;
  either may end in `.gz`), e.g. `--data corpus/train --src pt --tgt en` reads
  `corpus/train.pt` and `corpus/train.en`;
- two files joined by a comma, source first: plain text or WMT newstest SGML (`.sgm`).

Without `--valid-data`, a seeded draw of `validation_split` of the training pairs validates;
without `--test-data`, the test metrics are those of the validation pairs.

Example:
>>> config = TranslationConfig(data="corpus.tsv", src="pt", tgt="en")  # doctest: +SKIP
>>> sources, targets = load_pairs(config, "train")  # doctest: +SKIP
"""

import functools
from pathlib import Path

import numpy as np

from rnnlab.datasets import multi30k, storage, user_text, wmt
from rnnlab.io import describe_path

MULTI30K_SPLITS = {"train": "train", "val": "val", "test": "test_2016_flickr"}


def files_of(path, src, tgt):
    """`[tsv]` or `[source, target]`: the files a data path names (see the module docstring).

    Raises:
        DatasetError: it names none of those, saying what was looked for.
    """
    if "," in path:
        files = [Path(part) for part in path.split(",")]
        if len(files) != 2:
            raise storage.DatasetError(
                f"{path}: expected two files joined by a comma (source, target). Received {len(files)}."
            )
        for file in files:
            if not file.is_file():  # nothing, a folder, a FIFO: named before anything is read
                raise storage.DatasetError(
                    f"{file} is {describe_path(file)}. Expected a file of sentences (in {path})."
                )
        return files
    if Path(path).is_file():
        return [Path(path)]
    found = []
    for language in (src, tgt):
        candidates = [Path(f"{path}.{language}"), Path(f"{path}.{language}.gz")]
        existing = [candidate for candidate in candidates if candidate.is_file()]
        if not existing:
            raise storage.DatasetError(
                f"{path} is {describe_path(path)}, and neither {candidates[0]} nor {candidates[1]} exists. "
                "Expected a TSV file, a prefix of one file per language, or two files joined by a comma."
            )
        found.append(existing[0])
    return found


def read_pairs(path, src, tgt):
    """`(sources, targets)` from a data path, every sentence non-empty.

    Raises:
        DatasetError: unreadable files, too large for memory, different line counts, a line without
            a tab (TSV), no pairs, or an empty sentence (naming the file and line).
    """
    files = files_of(path, src, tgt)
    user_text.check_size(files)
    if len(files) == 1:
        sources, targets = wmt.read_tsv(files[0])
    else:
        sources, targets = wmt.load_pairs(files)
    if not sources:
        raise storage.DatasetError(f"{path} holds no sentence pairs. Expected at least one.")
    for side, sentences, file in (("source", sources, files[0]), ("target", targets, files[-1])):
        for number, sentence in enumerate(sentences, start=1):
            if not sentence.strip():
                raise storage.DatasetError(
                    f"{file}, line {number}: an empty {side} sentence. Expected text on every line "
                    "(remove the pair)."
                )
    return sources, targets


@functools.lru_cache(maxsize=4)  # a run asks for each split more than once
def _read_cached(path, src, tgt, version):
    return read_pairs(path, src, tgt)


def _read(path, src, tgt):
    """`read_pairs`, read again only when the files change. Shared between calls: do not modify."""
    files = files_of(path, src, tgt)
    return _read_cached(path, src, tgt, tuple(storage.fingerprint(file) for file in files))


def validation_indices(count, fraction, seed):
    """The positions of the training pairs that validate when there is no `--valid-data`: a
    seeded draw of `fraction` of them (at least one, and at least one left to train)."""
    if count < 2:
        raise storage.DatasetError(
            f"Expected at least two sentence pairs to keep some apart for validation. Received: {count}"
        )
    size = min(max(round(count * fraction), 1), count - 1)
    return np.sort(np.random.default_rng(seed).permutation(count)[:size])


def load_pairs(config, split):
    """`(sources, targets)` of split 'train', 'val' or 'test', cut to `config.limit` pairs (train
    and test).

    Args:
        config: a `TranslationConfig`; `data` None reads Multi30k (and `test_data`, when set, is
            the test split of either).
        split: 'train', 'val' or 'test'.
    """
    if split == "test" and config.test_data is not None:
        sources, targets = _read(config.test_data, config.src, config.tgt)
    elif config.data is None:
        sources, targets = multi30k.load_pairs(MULTI30K_SPLITS[split], src=config.src, tgt=config.tgt)
    elif split != "train" and config.valid_data is not None:
        sources, targets = _read(config.valid_data, config.src, config.tgt)
    else:
        sources, targets = _read(config.data, config.src, config.tgt)
        if config.valid_data is None:
            held_out = validation_indices(len(sources), config.validation_split, config.seed)
            keep = held_out if split != "train" else np.setdiff1d(np.arange(len(sources)), held_out)
            sources, targets = [sources[i] for i in keep], [targets[i] for i in keep]
    if config.limit is not None and split != "val":
        sources, targets = sources[: config.limit], targets[: config.limit]
    return list(sources), list(targets)
