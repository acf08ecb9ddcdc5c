"""Writing files so that nothing is ever half-written: a temp file in the same
folder, renamed into place only when complete, with the usual permissions; and
saying in words what is at a path (a FIFO or a device is never read as a file);
reading JSON with one clear error for anything wrong with it."""

import contextlib
import json
import os
import stat
import sys
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


def read_json_file(path, what, error=ValueError, max_bytes=512 * 2**20):
    """The JSON value in `path`; any failure is an `error` naming the file and `what` was expected.

    Nesting deeper than Python's recursion limit, bytes that are not UTF-8 and files that
    are not regular files (a FIFO, a device) are errors too, never a traceback or a hang.
    """
    path = Path(path)
    try:
        if not path.is_file():
            raise OSError(f"not a regular file ({describe_path(path)})")
        size = path.stat().st_size
        if size > max_bytes:
            raise OSError(f"{size:,} bytes, more than {max_bytes:,}")
        return json.loads(path.read_text(encoding="utf-8"))
    except RecursionError:
        raise error(f"{path} is not valid JSON (nested too deeply); expected {what}.") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as problem:
        raise error(f"{path} is not valid JSON ({problem}); expected {what}.") from None


def stdin_lines():
    """The non-blank lines of stdin, read as UTF-8; a line that is not is an error naming it."""
    lines = []
    stream = getattr(sys.stdin, "buffer", sys.stdin)  # bytes, so that bad bytes can be named
    for number, raw in enumerate(stream, start=1):
        try:
            line = raw if isinstance(raw, str) else raw.decode("utf-8")
        except UnicodeDecodeError as error:
            raise ValueError(
                f"stdin line {number} is not UTF-8 text (byte {raw[error.start]:#04x} at position "
                f"{error.start}). Expected one UTF-8 input per line."
            ) from None
        if line.strip():
            lines.append(line.rstrip("\r\n"))
    return lines
