"""Writing files so that nothing is ever half-written: a temp file in the same
folder, renamed into place only when complete, with the usual permissions; and
saying in words what is at a path (a FIFO or a device is never read as a file)."""

import contextlib
import os
import stat
import tempfile
from pathlib import Path


def umask():
    """The process's umask (read without changing it)."""
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextlib.contextmanager
def atomic_path(path):
    """Yields a temp path beside `path`; renames it to `path` if the block succeeds.

    Example:
    >>> with atomic_path("out/model.bin") as tmp:  # doctest: +SKIP
    ...     save(tmp)
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name + ".", suffix=".tmp" + path.suffix)
    os.close(fd)
    try:
        yield tmp
        os.chmod(tmp, 0o666 & ~umask())  # mkstemp makes 0600 files
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def atomic_write(path, data):
    """Writes bytes or text to `path` through a temp file and a rename."""
    with atomic_path(path) as tmp:
        mode = "w" if isinstance(data, str) else "wb"
        with open(tmp, mode, **({"encoding": "utf-8"} if mode == "w" else {})) as f:
            f.write(data)


def describe_path(path):
    """What is at `path`, in words (following links): 'a regular file', 'a folder',
    'a FIFO (named pipe)', 'a character device', ..., or 'nothing (no such file)'.

    Example:
    >>> describe_path("/dev/null")
    'a character device'
    """
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return "nothing (no such file)"
    kinds = (
        (stat.S_ISREG, "a regular file"),
        (stat.S_ISDIR, "a folder"),
        (stat.S_ISFIFO, "a FIFO (named pipe)"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISSOCK, "a socket"),
    )
    return next((name for test, name in kinds if test(mode)), "not a regular file")
