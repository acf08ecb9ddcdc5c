"""What every `rnnlab prepare TASK` folder shares: it is written into a hidden temporary folder
beside its path and renamed into place at the end (never over an existing path, and nothing left
after a failure), its manifest names its format and version, and a run that trains from it takes
the settings it fixes.

Example:
>>> import tempfile, pathlib
>>> output = pathlib.Path(tempfile.mkdtemp()) / "prepared"
>>> with writing(output) as partial:
...     _ = (partial / "manifest.json").write_text('{"format": "demo", "version": 1}')
>>> read_manifest(output, "demo", 1, "rnnlab prepare demo")["version"]
1
"""

import contextlib
import itertools
import json
import os
import shutil
from pathlib import Path

from rnnlab.datasets import storage

CHUNK = 10_000  # examples encoded at a time


def check_new(output):
    """Raises ValueError when `output` exists: a prepared folder is always a new one."""
    output = Path(output)
    if output.exists() or output.is_symlink():
        raise ValueError(
            f"{output} exists: rnnlab prepare writes a new folder and never overwrites one. "
            "Expected a path that does not exist."
        )


@contextlib.contextmanager
def writing(output):
    """The temporary folder to write `output`'s files into; renamed to `output` when the block
    ends, removed (with everything in it) when it raises."""
    output = Path(output)
    check_new(output)
    partial = output.with_name(f".{output.name}.partial-{os.getpid()}")
    partial.mkdir(parents=True)
    try:
        yield partial
        os.replace(partial, output)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise


def chunks(items, size=None):
    """Lists of up to `size` (default `CHUNK`) consecutive items of an iterable, read as needed."""
    items = iter(items)
    while chunk := list(itertools.islice(items, size or CHUNK)):
        yield chunk


def changed(path, what):
    """The error for a data path whose files changed between two of prepare's reads."""
    return storage.DatasetError(
        f"{path} changed while it was being prepared (its {what} are read several times). Expected files "
        "that stay as they are: prepare again once they are written."
    )


def source(path):
    """A source file as a manifest records it: its absolute path, size and modification time."""
    stat = Path(path).stat()
    return {"path": str(Path(path).resolve()), "bytes": stat.st_size, "modified": stat.st_mtime}


def read_manifest(folder, format, version, command):
    """The JSON manifest of a prepared folder, with its format and version checked.

    Raises:
        ValueError: no readable manifest, or one of another format or version, naming `command`.
    """
    path = Path(folder) / "manifest.json"
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise ValueError(
            f"{folder} is not a folder written by `{command}` ({path}: {error}). "
            f"Expected the --output of `{command}`."
        ) from None
    if not isinstance(manifest, dict) or (manifest.get("format"), manifest.get("version")) != (
        format,
        version,
    ):
        raise ValueError(f"{path} is not a manifest of `{command}` (format {format!r}, version {version}).")
    return manifest


def adopt(config, refused, brings, hint, settings_of):
    """Gives a config with `prepared` the folder's settings: `refused` fields given with it are an
    error (`brings`: what the folder brings instead, `hint`: what to do, for the message); when
    the folder is there,
    `settings_of(folder)` are adopted (`adopt_settings`). A saved run whose folder has gone keeps
    the settings its config.toml already holds.

    Raises:
        ValueError: a refused field given, or a setting that differs from the folder's.
    """
    defaults = {name: config.__dataclass_fields__[name].default for name in refused}
    given = [name for name in refused if getattr(config, name) not in (None, defaults[name])]
    if given:
        flags = ", ".join("--" + name.replace("_", "-") for name in given)
        raise ValueError(f"--prepared brings {brings}. Received: {flags} with it ({hint}).")
    if os.path.isfile(os.path.join(config.prepared, "manifest.json")):
        adopt_settings(config, settings_of(config.prepared), config.prepared)


def adopt_settings(config, settings, folder):
    """Sets `config`'s fields to the folder's `settings`; a field that holds another value than
    both the folder's and its default is an error, not ignored.

    Raises:
        ValueError: naming the field, the folder's value and the value received.
    """
    defaults = {name: config.__dataclass_fields__[name].default for name in settings}
    for name, value in settings.items():
        if getattr(config, name) not in (value, defaults[name]):
            raise ValueError(
                f"--prepared {folder} was prepared with {name}={value!r}. Received: "
                f"{name}={getattr(config, name)!r} (prepare again to change it)."
            )
        setattr(config, name, value)
