"""Text the user brings: one UTF-8 file, or a folder whose `.txt` files are read in sorted order.

Every failure is one `DatasetError` line naming the path (and the byte, for bytes that are not
UTF-8). A file too large for this machine's memory is refused from its size, before it is read.

Example:
>>> text = read_text("book.txt")  # doctest: +SKIP
>>> train, validation = split_tail(text, 0.1)  # doctest: +SKIP
"""

import os
from pathlib import Path

from rnnlab.datasets import storage
from rnnlab.io import describe_path

# Python holds a str of N characters in up to 4N bytes, and the token ids and training windows
# take several times that again: a text over 1/16 of the memory is refused before it is read.
MEMORY_PER_BYTE = 16


def physical_memory():
    """Bytes of memory of this machine."""
    return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")


def text_files(path):
    """The files that `path` names: itself, or the `.txt` files anywhere inside a folder,
    sorted by their path relative to it.

    Raises:
        DatasetError: nothing there, not a file or folder, or a folder without `.txt` files.
    """
    path = Path(path)
    if path.is_dir():
        found = (p for p in path.rglob("*.txt") if p.is_file())
        files = sorted(found, key=lambda p: p.relative_to(path).parts)
        if not files:
            raise storage.DatasetError(f"{path} is a folder without .txt files. Expected text files there.")
        return files
    if not path.is_file():
        raise storage.DatasetError(
            f"{path} is {describe_path(path)}. Expected a text file or a folder of .txt files."
        )
    return [path]


def check_size(files, memory=None):
    """Refuses files whose total size needs more memory than this machine has.

    Raises:
        DatasetError: naming the size, the memory and the first file.
    """
    memory = physical_memory() if memory is None else memory
    size = sum(text_size(p) for p in files)
    if size * MEMORY_PER_BYTE > memory:
        what = f"{files[0]} and {len(files) - 1} more files hold" if len(files) > 1 else f"{files[0]} holds"
        most = in_words(memory // MEMORY_PER_BYTE)
        raise storage.DatasetError(
            f"{what} {in_words(size)} of text; training on it takes about {MEMORY_PER_BYTE} times that, more "
            f"than this machine's {in_words(memory)} of memory. Expected at most {most}."
        )


def text_size(path):
    """Bytes of text in a file: its size, or for a `.gz` file the size its gzip trailer gives
    (modulo 4 GiB, so at least the compressed size)."""
    path = Path(path)
    size = path.stat().st_size
    if not path.name.lower().endswith(".gz") or size < 4:
        return size
    with open(path, "rb") as file:
        file.seek(-4, os.SEEK_END)
        return max(size, int.from_bytes(file.read(4), "little"))


def in_words(size):
    """A number of bytes for people.

    Example:
    >>> in_words(1000), in_words(3 * 2**30)
    ('1,000 bytes', '3.0 GiB')
    """
    for unit, scale in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if size >= scale:
            return f"{size / scale:,.1f} {unit}"
    return f"{size:,} bytes"


def decode(path, data):
    """`data` (the bytes of `path`) as text: UTF-8 with or without a byte-order mark.

    Raises:
        DatasetError: NUL bytes (not text) or bytes that are not UTF-8, with their offset.
    """
    nul = data.find(b"\0")
    if nul >= 0:
        raise storage.DatasetError(f"{path} holds a NUL byte at byte {nul}: expected text, not binary data.")
    try:
        return data.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as error:
        raise storage.DatasetError(
            f"{path} is not UTF-8 text (byte {error.start}: {data[error.start : error.start + 1]!r}). "
            "Expected UTF-8: convert it, e.g. `iconv -f latin1 -t utf-8`."
        ) from None


def read_text(path):
    """The text of a file, or of a folder's `.txt` files joined in sorted order (a line break
    added between two files where the first does not end with one).

    Args:
        path: a UTF-8 file or a folder.

    Raises:
        DatasetError: see `text_files`, `check_size` and `decode`; or no text at all.
    """
    files = text_files(path)
    check_size(files)
    parts = []
    for file in files:
        try:
            data = file.read_bytes()
        except OSError as error:
            raise storage.DatasetError(f"Cannot read {file}: {error.strerror or error}") from None
        text = decode(file, data).replace("\r\n", "\n")
        if parts and not parts[-1].endswith("\n"):
            parts.append("\n")
        parts.append(text)
    text = "".join(parts)
    if not text.strip():
        raise storage.DatasetError(f"{path} holds no text. Expected at least one non-blank line.")
    return text


def split_tail(items, fraction):
    """`(head, tail)`: all but the last `fraction` of `items`, and that last part (at least one
    item each).

    Raises:
        ValueError: fewer than two items.

    Example:
    >>> split_tail("abcdefghij", 0.1)
    ('abcdefghi', 'j')
    """
    if len(items) < 2:
        raise ValueError(f"Expected at least two items to split. Received: {len(items)}")
    cut = min(max(int(len(items) * (1 - fraction)), 1), len(items) - 1)
    return items[:cut], items[cut:]
