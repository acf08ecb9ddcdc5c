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
import json
import os
import shutil
from pathlib import Path


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
