"""Pretrained word vectors (article 7.3): word2vec and GloVe files, and
training word2vec on IMDb with gensim.

Formats read:
- word2vec binary (`.bin`): header `count dim`, then word + float32 bytes;
- word2vec text: header `count dim`, then `word v1 ... vdim` per line;
- GloVe text: `word v1 ... vdim` per line, no header.
"""

import sys
import time
from pathlib import Path

import numpy as np

from rnnlab.io import atomic_path
from rnnlab.optional import require

FORMATS = ("auto", "word2vec-binary", "word2vec-text", "glove")


def _require_gensim():
    require("gensim", "Word vectors (word2vec/GloVe)")


def detect_format(path):
    """'word2vec-binary', 'word2vec-text' or 'glove' from a file's first line."""
    with open(path, "rb") as f:
        first = f.readline(1 << 16)
        second = f.readline(1 << 16)
    try:
        fields = first.decode("utf-8").split()
    except UnicodeDecodeError:
        fields = []
    if len(fields) == 2 and all(x.isdigit() for x in fields):
        try:
            second.decode("utf-8")
            return "word2vec-text"
        except UnicodeDecodeError:
            return "word2vec-binary"
    if len(fields) >= 2:
        try:
            [float(x) for x in fields[1:]]
            return "glove"
        except ValueError:
            pass
    raise ValueError(
        f"Cannot tell the format of {path}: expected a word2vec file (header 'count dim') "
        f"or a GloVe text file ('word v1 v2 ...'). Received first line: {first[:80]!r}"
    )


def load_vectors(path, format="auto"):
    """Reads word vectors into a gensim `KeyedVectors`.

    Args:
        path: a word2vec (binary or text) or GloVe text file.
        format: one of `FORMATS`; 'auto' looks at the first line.

    Raises:
        ValueError: unknown format or unreadable file, saying what was found.
    """
    _require_gensim()
    from gensim.models import KeyedVectors

    path = Path(path)
    if format not in FORMATS:
        raise ValueError(f"Expected format in {set(FORMATS)}. Received: format={format!r}")
    if not path.is_file():
        raise ValueError(f"Embeddings file not found: {path}")
    if format == "auto":
        format = detect_format(path)
    try:
        return KeyedVectors.load_word2vec_format(
            str(path), binary=format == "word2vec-binary", no_header=format == "glove"
        )
    except (ValueError, UnicodeDecodeError, EOFError) as error:
        raise ValueError(f"Cannot read {path} as {format}: {error}") from error


def embedding_matrix(vectors, index_of_words, vocab_size, seed=0):
    """Aligns pretrained vectors with a model's vocabulary.

    Args:
        vectors: gensim `KeyedVectors`.
        index_of_words: word -> row of the model's embedding matrix.
        vocab_size: rows of the embedding matrix.
        seed: seed of the random rows for words without a vector.

    Returns:
        `(matrix, coverage)`: the `(vocab_size, dim)` float32 matrix (row 0,
        padding, is zero; words without a vector get random rows with the
        vectors' scale) and the fraction of the vocabulary found.

    Example:
    >>> matrix, coverage = embedding_matrix(kv, {"good": 4, "film": 5}, vocab_size=6)  # doctest: +SKIP
    """
    rng = np.random.default_rng(seed)
    scale = float(np.std(vectors.vectors)) or 0.1
    matrix = rng.normal(0.0, scale, (vocab_size, vectors.vector_size)).astype(np.float32)
    matrix[0] = 0.0
    found = 0
    for word, row in index_of_words.items():
        if row < vocab_size and word in vectors.key_to_index:
            matrix[row] = vectors[word]
            found += 1
    return matrix, found / max(1, len(index_of_words))


def epoch_progress(epochs, stream=None, clock=time.perf_counter):
    """A gensim callback that prints one line per finished epoch, with the time
    left estimated from the mean epoch time so far:

        epoch 2/5 done in 41.3 s, about 124 s left

    Args:
        epochs: the number of epochs training will run.
        stream: where to print (default: `sys.stderr` at the time of printing).
        clock: seconds, as `time.perf_counter` counts them.
    """
    _require_gensim()
    from gensim.models.callbacks import CallbackAny2Vec

    class EpochProgress(CallbackAny2Vec):
        def __init__(self):
            self.done = 0
            self.train_start = self.epoch_start = clock()

        def on_train_begin(self, model):
            self.train_start = clock()

        def on_epoch_begin(self, model):
            self.epoch_start = clock()

        def on_epoch_end(self, model):
            now = clock()
            self.done += 1
            left = (now - self.train_start) / self.done * (epochs - self.done)
            print(
                f"epoch {self.done}/{epochs} done in {now - self.epoch_start:.1f} s, about {left:.0f} s left",
                file=stream or sys.stderr,
                flush=True,
            )

    return EpochProgress()


def train_word2vec(
    token_lists,
    output,
    dim=100,
    window=5,
    min_count=5,
    epochs=5,
    binary=True,
    seed=0,
    workers=2,
    progress=True,
):
    """Trains skip-gram word2vec with gensim and saves it in word2vec format.

    Args:
        token_lists: list of token lists (e.g. IMDb train + unlabelled reviews).
        output: file to write (temp file, then rename).
        dim, window, min_count, epochs: word2vec settings.
        binary: binary (True) or text word2vec format.
        seed, workers: gensim's seed and worker threads.
        progress: print one line per epoch to stderr, with the time left (`epoch_progress`).

    Returns:
        The trained `KeyedVectors`.
    """
    _require_gensim()
    from gensim.models import Word2Vec

    vocabulary = {w for tokens in token_lists for w in tokens}
    if not vocabulary:
        raise ValueError("Expected texts with words to train word2vec on. Received: no words.")
    try:
        model = Word2Vec(
            sentences=token_lists,
            vector_size=dim,
            window=window,
            min_count=min_count,
            sg=1,
            epochs=epochs,
            seed=seed,
            workers=workers,
            callbacks=[epoch_progress(epochs)] if progress else (),
        )
    except RuntimeError as error:  # gensim: no word reached min_count
        raise ValueError(
            f"No word occurs at least min_count={min_count} times in {len(token_lists)} texts; "
            f"lower --min-count. ({error})"
        ) from error
    with atomic_path(output) as tmp:
        model.wv.save_word2vec_format(tmp, binary=binary)
    return model.wv
