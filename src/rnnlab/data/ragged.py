"""Sequences of token ids of different lengths on disk: one file of every id in a row
(`NAME.tokens`, little-endian int32) and one of where each sequence starts (`NAME.offsets`,
little-endian int64, one more than there are sequences), mapped into memory when read, so
that a corpus larger than memory trains with memory bounded by a batch.

Example:
>>> import tempfile, numpy as np
>>> folder = tempfile.mkdtemp()
>>> with RaggedWriter(folder, "train") as writer:
...     writer.add([np.array([5, 6, 7]), np.array([8])])
>>> tokens = RaggedTokens.open(folder, "train", writer.summary())
>>> len(tokens), tokens[0].tolist(), tokens.lengths().tolist()
(2, [5, 6, 7], [3, 1])
>>> tokens.trimmed(head=1).subset([1, 0])[1].tolist()
[6, 7]
"""

import hashlib
from pathlib import Path

import numpy as np

TOKEN_DTYPE, OFFSET_DTYPE = np.dtype("<i4"), np.dtype("<i8")


class RaggedWriter:
    """Appends sequences to `NAME.tokens` and `NAME.offsets` in `folder`, hashing what it writes.

    Args:
        folder: an existing folder (the caller's temporary one: nothing is renamed here).
        name: the files' stem, e.g. 'train.source'.
    """

    def __init__(self, folder, name):
        self.folder, self.name = Path(folder), name
        self.tokens = open(self.folder / f"{name}.tokens", "wb")
        self.offsets = open(self.folder / f"{name}.offsets", "wb")
        self.hashes = {"tokens": hashlib.sha256(), "offsets": hashlib.sha256()}
        self.count = self.total = 0
        self._write("offsets", np.zeros(1, OFFSET_DTYPE))

    def _write(self, kind, array):
        data = array.tobytes()
        (self.tokens if kind == "tokens" else self.offsets).write(data)
        self.hashes[kind].update(data)

    def add(self, sequences):
        """Appends each sequence (int arrays or lists) in order."""
        if not sequences:
            return
        lengths = np.array([len(s) for s in sequences], np.int64)
        self._write("tokens", np.concatenate([np.asarray(s, TOKEN_DTYPE) for s in sequences]))
        self._write("offsets", (self.total + np.cumsum(lengths)).astype(OFFSET_DTYPE))
        self.count += len(sequences)
        self.total += int(lengths.sum())

    def close(self):
        self.tokens.close()
        self.offsets.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def summary(self):
        """What a manifest keeps of these files: counts and each file's SHA-256."""
        return {
            "sequences": self.count,
            "tokens": self.total,
            "tokens_sha256": self.hashes["tokens"].hexdigest(),
            "offsets_sha256": self.hashes["offsets"].hexdigest(),
        }


class RaggedTokens:
    """A read-only list of int32 arrays mapped from a `RaggedWriter`'s files.

    Indexing gives a copy of one sequence (`tokens[i]`), optionally without its first `head`
    and last `tail` ids (the decoder's input and target of one stored `[START] ... [END]`),
    and `subset` selects sequences without reading them.

    Args:
        tokens, offsets: the mapped arrays.
        rows: which stored sequences this view holds, in order (None: all).
        head, tail: ids dropped from the front and back of every sequence.
    """

    def __init__(self, tokens, offsets, rows=None, head=0, tail=0):
        self.tokens, self.offsets, self.rows, self.head, self.tail = tokens, offsets, rows, head, tail

    @classmethod
    def open(cls, folder, name, summary):
        """Maps `NAME.tokens` and `NAME.offsets`, checking their sizes against `summary`.

        Raises:
            ValueError: a file missing or of another size than `summary` says, naming it.
        """
        arrays = []
        for kind, dtype, count in (
            ("tokens", TOKEN_DTYPE, int(summary["tokens"])),
            ("offsets", OFFSET_DTYPE, int(summary["sequences"]) + 1),
        ):
            path = Path(folder) / f"{name}.{kind}"
            expected = count * dtype.itemsize
            found = path.stat().st_size if path.is_file() else None
            if found != expected:
                raise ValueError(
                    f"{path}: expected {expected:,} bytes as the manifest says; found "
                    f"{'no file' if found is None else f'{found:,} bytes'}. Prepare the data again."
                )
            arrays.append(
                np.memmap(path, dtype=dtype, mode="r", shape=(count,)) if count else np.zeros(0, dtype)
            )
        return cls(*arrays)

    def __len__(self):
        return len(self.offsets) - 1 if self.rows is None else len(self.rows)

    def _row(self, index):
        return index if self.rows is None else int(self.rows[index])

    def __getitem__(self, index):
        if not -len(self) <= index < len(self):
            raise IndexError(f"Expected an index below {len(self)}. Received: {index}")
        row = self._row(index % len(self))
        start, end = int(self.offsets[row]) + self.head, int(self.offsets[row + 1]) - self.tail
        return np.array(self.tokens[start:end], dtype=np.int32)

    def __iter__(self):
        return (self[i] for i in range(len(self)))

    def lengths(self):
        """Each sequence's length (an int64 array), without reading the ids."""
        lengths = np.diff(np.asarray(self.offsets)) - self.head - self.tail
        return lengths if self.rows is None else lengths[np.asarray(self.rows)]

    def subset(self, indices):
        """The sequences at `indices` of this view, in that order (nothing is read)."""
        indices = np.asarray(indices, np.int64)
        rows = indices if self.rows is None else np.asarray(self.rows)[indices]
        return RaggedTokens(self.tokens, self.offsets, rows, self.head, self.tail)

    def trimmed(self, head=0, tail=0):
        """The same sequences without `head` more ids in front and `tail` more at the back."""
        return RaggedTokens(self.tokens, self.offsets, self.rows, self.head + head, self.tail + tail)
