"""Large Movie Review Dataset (IMDb), Maas et al., 2011.

25,000 labelled training reviews, 25,000 labelled test reviews and 50,000
unlabelled ones. Reads any of:

- the official `aclImdb_v1.tar.gz` (downloaded from Stanford when absent),
- the text-only repack `aclImdb_v1_text.tar.gz` (same layout, no `.feat`),
- an extracted `aclImdb/` folder,

found in `RNNLAB_DATASETS`. The first read tokenises every review and caches
texts, labels and word ranks in one `.npz` under the cache folder; later
reads load that file.

The API follows `keras.datasets.imdb`:

    (x_train, y_train), (x_test, y_test) = load_data(num_words=10000)

Words are ranked by their frequency in the 25,000 labelled training reviews
(the test reviews never shape the vocabulary).
"""

import gc
import hashlib
import io
import json
import multiprocessing
import os
import re
import sys
import time
import zipfile
import zlib
from pathlib import Path

import numpy as np

from rnnlab.datasets import storage
from rnnlab.io import atomic_write, describe_path
from rnnlab.text.words import WordTokenizer, rank_words

OFFICIAL = storage.RemoteFile(
    filename="aclImdb_v1.tar.gz",
    url="https://ai.stanford.edu/~amaas/data/sentiment/aclImdb_v1.tar.gz",
    sha256="c40f74a18d3b61f90feba1e17730e0d38e8b97c05fde7008942e91923d1658fe",
    mirrors={
        # Text-only repack of the official archive (no *Bow.feat files).
        "aclImdb_v1_text.tar.gz": "a343918647f9c6c5b4b09ae2de13bafa91ad6016d65c206ba7ae67d1792049b0",
    },
)
FOLDER_NAME = "aclImdb"
SPLITS = ("train", "test", "unsup")
EXPECTED_COUNTS = {"train": 25000, "test": 25000, "unsup": 50000}  # official archive
CACHE_VERSION = 1  # bump when tokenisation or the cache layout changes
TOKENIZER = WordTokenizer()
_MEMBER = re.compile(r"(?:^|/)aclImdb/(train|test)/(pos|neg|unsup)/(\d+)_(\d+)\.txt$")


def _source():
    """The first IMDb source in search-path order (an archive or an extracted
    folder), else the official archive downloaded into the cache."""
    return storage.find([*OFFICIAL.accepted(), FOLDER_NAME]) or storage.locate(OFFICIAL)


def _read_folder(folder):
    if not (folder / "train").is_dir() or not (folder / "test").is_dir():
        raise storage.DatasetError(f"{folder} is not an aclImdb folder: expected train/ and test/ inside it.")
    for split in ("train", "test"):
        for label in ("pos", "neg", "unsup"):
            sub = folder / split / label
            if not sub.is_dir():
                continue
            for path in (folder / split, sub):
                if path.is_symlink():
                    storage.check_inside(folder, path)
            try:
                for entry in os.scandir(sub):
                    if entry.is_symlink():
                        storage.check_inside(folder, entry.path)
                    if not entry.is_file():  # a FIFO would block the read for ever
                        raise storage.DatasetError(
                            f"{entry.path} is {describe_path(entry.path)}. Expected only review files "
                            f"(regular files) in {sub}."
                        )
                    yield f"aclImdb/{split}/{label}/{entry.name}", Path(entry.path).read_bytes()
            except OSError as error:
                raise storage.DatasetError(f"Cannot read {sub}: {error}") from error


def _iter_reviews(source, splits):
    """Yields `(split, label, review_id, text)` for the reviews of `splits`."""
    folders = (
        ("train/unsup/",)
        if splits == ("unsup",)
        else tuple(f"{s}/{label}/" for s in splits for label in ("pos", "neg"))
    )

    def wanted(name):
        return any(folder in name for folder in folders)

    files = _read_folder(source) if source.is_dir() else storage.iter_tar_files(source, wanted)
    for name, data in files:
        match = _MEMBER.search(name)
        if match is None or not wanted(name):
            continue
        split, label, review_id, _ = match.groups()
        split = "unsup" if label == "unsup" else split
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as error:
            raise storage.DatasetError(
                f"{source}: {name} is not UTF-8 text (byte {data[error.start]:#04x} at position "
                f"{error.start}). "
                "Expected the reviews as the official archive has them (UTF-8)."
            ) from None
        yield split, {"pos": 1, "neg": 0, "unsup": -1}[label], int(review_id), text


def _send_reviews(source, splits, connection, batch_size=500):
    """Child process: streams reviews to the parent in batches, then None."""
    try:
        batch = []
        for review in _iter_reviews(source, splits):
            batch.append(review)
            if len(batch) == batch_size:
                connection.send(batch)
                batch = []
        connection.send(batch)
        connection.send(None)
    except Exception as error:  # handed to the parent, which raises it
        connection.send(error)
    finally:
        connection.close()


def _read_reviews(source, splits, tokenize):
    """`{split: [(label, review_id, text, tokens)]}`, sorted by label then id.

    Decompression runs in a child process while this one tokenises, so the
    two overlap on a 2-core machine.
    """
    context = multiprocessing.get_context("spawn")
    receiver, sender = context.Pipe(duplex=False)
    reader = context.Process(target=_send_reviews, args=(source, splits, sender), daemon=True)
    reader.start()
    sender.close()
    reviews = {split: [] for split in splits}
    try:
        while (batch := receiver.recv()) is not None:
            if isinstance(batch, Exception):
                raise batch
            for split, label, review_id, text in batch:
                reviews[split].append((label, review_id, text, TOKENIZER(text) if tokenize else None))
    except EOFError as error:
        raise storage.DatasetError(f"Reading {source} stopped unexpectedly.") from error
    finally:
        reader.join()
    official = source.is_file() and source.name in OFFICIAL.accepted()
    for split in splits:
        found = len(reviews[split])
        if official and found != EXPECTED_COUNTS[split]:
            raise storage.CorruptArchiveError(
                f"{source} holds {found} {split} reviews; expected {EXPECTED_COUNTS[split]}. "
                "The file is incomplete or not IMDb."
            )
        if found == 0:
            raise storage.DatasetError(
                f"{source} holds no {split} reviews. Expected aclImdb/{split}/"
                f"{'unsup' if split == 'unsup' else '{pos,neg}'}/ID_RATING.txt files."
            )
        reviews[split].sort(key=lambda review: review[:2])  # independent of the source's order
    return reviews


def _cache_path(source, part):
    """The cache file of `part`, named after the source's content (`storage.fingerprint`):
    for an extracted folder, every file's name, size and mtime, so any edit makes a new cache."""
    key = f"{storage.fingerprint(source)}|v{CACHE_VERSION}"
    digest = hashlib.sha256(key.encode()).hexdigest()[:16]
    return storage.cache_dir() / "imdb" / f"imdb-{part}-{digest}.npz"


def _cache_arrays(part):
    """Names of the arrays a cache file of `part` must hold."""
    splits = ("train", "test") if part == "labelled" else ("unsup",)
    names = [f"{s}_{kind}" for s in splits for kind in ("text", "text_offsets", "labels")]
    if part == "labelled":
        names += ["word_index"] + [f"{s}_{kind}" for s in splits for kind in ("ranks", "rank_offsets")]
    return splits, names


class _DamagedCache(Exception):
    """A cache file that cannot be read back (truncated, overwritten, incomplete)."""


def _load_cache(path, part):
    """The arrays of one cache file, checked; raises `_DamagedCache` if it is unreadable."""
    splits, names = _cache_arrays(part)
    try:
        data = np.load(path, allow_pickle=False)
        if not isinstance(data, np.lib.npyio.NpzFile):
            raise ValueError("a single array, not an .npz archive")
        with data:
            missing = [name for name in names if name not in data.files]
            if missing:
                raise ValueError(f"missing arrays {', '.join(missing)}")
            arrays = {name: data[name] for name in data.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, zlib.error) as error:
        raise _DamagedCache(" ".join(str(error).split()) or type(error).__name__) from error
    for split in splits:
        offsets = arrays[f"{split}_text_offsets"]
        if len(offsets) != len(arrays[f"{split}_labels"]) + 1 or offsets[-1] != len(arrays[f"{split}_text"]):
            raise _DamagedCache(f"inconsistent {split} arrays")
    return arrays


def _pack_texts(texts):
    encoded = [t.encode("utf-8") for t in texts]
    offsets = np.zeros(len(encoded) + 1, dtype=np.int64)
    np.cumsum([len(e) for e in encoded], out=offsets[1:])
    return np.frombuffer(b"".join(encoded), dtype=np.uint8), offsets


def _build_cache(source, part, path):
    """Writes the cache of one part: 'labelled' (train + test, with word
    ranks) or 'unsup' (texts of the 50,000 unlabelled reviews)."""
    if source.is_file() and source.name in OFFICIAL.accepted():
        storage.verify_located(OFFICIAL, source)
    splits = ("train", "test") if part == "labelled" else ("unsup",)
    reviews = _read_reviews(source, splits, tokenize=part == "labelled")
    arrays = {}
    for split in splits:
        blob, offsets = _pack_texts([text for _, _, text, _ in reviews[split]])
        arrays[f"{split}_text"], arrays[f"{split}_text_offsets"] = blob, offsets
        arrays[f"{split}_labels"] = np.array([label for label, _, _, _ in reviews[split]], dtype=np.int8)
    if part == "labelled":
        word_index, ranks = rank_words(*[[tokens for *_, tokens in reviews[split]] for split in splits])
        arrays["word_index"] = np.frombuffer(json.dumps(word_index).encode(), dtype=np.uint8)
        for split, (flat, offsets) in zip(splits, ranks, strict=False):
            arrays[f"{split}_ranks"], arrays[f"{split}_rank_offsets"] = flat, offsets
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    atomic_write(path, buffer.getvalue())


class _Cache:
    """The loaded `.npz` files, kept for the life of the process."""

    _loaded = {}

    @classmethod
    def get(cls, part="labelled"):
        source = _source()
        path = _cache_path(source, part)
        if path not in cls._loaded:
            if not path.exists():
                cls._build(source, part, path)
            try:
                arrays = _load_cache(path, part)
            except _DamagedCache as error:
                print(
                    f"rnnlab: the IMDb cache file {path} is damaged ({error}); it is rebuilt from {source}.",
                    file=sys.stderr,
                    flush=True,
                )
                cls._build(source, part, path)
                try:
                    arrays = _load_cache(path, part)
                except _DamagedCache as again:
                    raise storage.DatasetError(
                        f"The IMDb cache file {path} was rebuilt but cannot be read back ({again}). "
                        "Check the disk, or point RNNLAB_CACHE to another folder."
                    ) from again
            cls._loaded[path] = arrays
        return cls._loaded[path]

    @staticmethod
    def _build(source, part, path):
        start = time.perf_counter()
        print(f"Preparing IMDb ({part}) from {source}, once; cache: {path}", flush=True)
        _build_cache(source, part, path)
        print(f"IMDb ({part}) prepared in {time.perf_counter() - start:.1f} s", flush=True)


def forget_loaded():
    """Drops the arrays this process loaded, so the next call reads the cache (or the data) again."""
    _Cache._loaded.clear()


def get_word_index():
    """Dict word -> frequency rank (1 = most frequent) over the training reviews."""
    return json.loads(_Cache.get()["word_index"].tobytes())


def _check_split(split, allowed=SPLITS):
    if split not in allowed:
        raise ValueError(f"Expected split in {set(allowed)}. Received: split={split!r}")


def load_texts(split="train"):
    """Raw review texts and labels of one split.

    Args:
        split: 'train', 'test' or 'unsup' (50,000 unlabelled reviews).

    Returns:
        `(texts, labels)`: a list of str and an int array, 1 = positive,
        0 = negative, -1 = unlabelled.
    """
    _check_split(split)
    data = _Cache.get("unsup" if split == "unsup" else "labelled")
    blob, offsets = data[f"{split}_text"].tobytes(), data[f"{split}_text_offsets"]
    texts = [blob[a:b].decode("utf-8") for a, b in zip(offsets[:-1], offsets[1:], strict=False)]
    return texts, data[f"{split}_labels"].astype(np.int64)


def load_ranks(split="train"):
    """Word ranks of each review of a labelled split, before any offset.

    Returns:
        `(ranks, labels)`: a list of int arrays (rank 1 = most frequent word;
        `len(get_word_index()) + 1` marks a word never seen in training) and
        the labels.
    """
    _check_split(split, ("train", "test"))
    data = _Cache.get()
    flat, offsets = data[f"{split}_ranks"], data[f"{split}_rank_offsets"]
    return np.split(flat, offsets[1:-1]), data[f"{split}_labels"].astype(np.int64)


def load_data(num_words=None, skip_top=0, maxlen=None, seed=113, start_char=1, oov_char=2, index_from=3):
    """IMDb as sequences of word indices, with `keras.datasets.imdb.load_data`'s
    arguments and semantics.

    Args:
        num_words: keep the `num_words - 1` most frequent index values; rarer
            words become `oov_char`. None keeps every word.
        skip_top: words with index below this become `oov_char` too.
        maxlen: drop reviews with `maxlen` or more indices.
        seed: shuffle seed (train and test shuffled separately).
        start_char: index that starts every review (None for none).
        oov_char: index of out-of-vocabulary words (None drops them).
        index_from: word of rank r gets index `r + index_from`.

    Returns:
        `((x_train, y_train), (x_test, y_test))`; `x_*` are object arrays
        of lists of int, `y_*` int arrays.

    Example:
    >>> (x_train, y_train), _ = load_data(num_words=10000)  # doctest: +SKIP
    >>> len(x_train), x_train[0][0]  # doctest: +SKIP
    (25000, 1)
    """
    if num_words is not None and num_words <= index_from:
        raise ValueError(f"Expected num_words > index_from={index_from}. Received: num_words={num_words}")
    rng = np.random.RandomState(seed)
    data = _Cache.get()
    vocabulary_size = int(data["train_ranks"].max())  # every training word has a rank
    if num_words is None:
        num_words = vocabulary_size + index_from + 1
    splits = []
    for split in ("train", "test"):
        flat, offsets = data[f"{split}_ranks"].astype(np.int64) + index_from, data[f"{split}_rank_offsets"]
        labels = data[f"{split}_labels"].astype(np.int64)
        order = np.arange(len(labels))
        rng.shuffle(order)
        known = (flat >= skip_top) & (flat < num_words)
        if oov_char is not None:
            flat = np.where(known, flat, oov_char)
        else:  # drop unknown words and shift the offsets accordingly
            kept_before = np.concatenate([[0], np.cumsum(known)])
            flat, offsets = flat[known], kept_before[offsets]
        if start_char is not None:
            flat = np.insert(flat, offsets[:-1], start_char)
            offsets = offsets + np.arange(len(offsets))
        values, bounds = flat.tolist(), offsets.tolist()
        gc_was_enabled = gc.isenabled()
        gc.disable()  # millions of new ints: skip pointless collections
        try:
            xs = [values[bounds[i] : bounds[i + 1]] for i in order.tolist()]
        finally:
            if gc_was_enabled:
                gc.enable()
        labels = labels[order]
        if maxlen is not None:
            keep = np.array([len(x) < maxlen for x in xs], dtype=bool)
            xs = [x for x, k in zip(xs, keep, strict=True) if k]
            labels = labels[keep]
        x = np.empty(len(xs), dtype=object)
        x[:] = xs
        splits.append((x, labels))
    return tuple(splits)
