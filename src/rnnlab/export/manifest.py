"""An export folder's `manifest.json`: what the folder holds (task, inputs, outputs, labels, the
run's metrics and provenance) and the sha256 of every other file in it, checked whenever the folder
is opened. No Keras.

Example:
>>> manifest = read("exports/article")  # doctest: +SKIP
>>> manifest["task"], manifest["labels"]  # doctest: +SKIP
('sentiment', ['negative', 'positive'])
"""

import hashlib
import json
import shutil
from pathlib import Path

from rnnlab import runs
from rnnlab.io import describe_path

NAME = "manifest.json"
MARK = "rnnlab_export"  # the key that says rnnlab wrote the folder (its value: the manifest's version)
VERSION = 1
FORMATS = ("onnx", "saved_model", "tflite")
TENSORFLOW_FORMATS = ("saved_model", "tflite")  # written through Keras' TensorFlow backend


class ExportError(ValueError):
    """A folder that is not a usable rnnlab export, or one whose files changed."""


def sha256_file(path):
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        while chunk := file.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def is_member(name):
    """Whether `name` is a file's path inside a folder: '/'-separated parts, none empty, '.' or '..'.

    Example:
    >>> is_member("saved_model/variables/variables.index"), is_member("../x"), is_member("/etc/passwd")
    (True, False, False)
    """
    parts = name.split("/") if isinstance(name, str) else []
    return bool(parts) and all(part not in ("", ".", "..") and "\\" not in part for part in parts)


def write(folder, manifest):
    """Writes `folder/manifest.json` with the sha256 of every file already in `folder` (and in its
    folders, by relative path); returns it."""
    folder = Path(folder)
    files = {
        p.relative_to(folder).as_posix(): sha256_file(p)
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p != folder / NAME
    }
    version = runs.versions().get("rnnlab")
    written = {MARK: VERSION, **manifest, "rnnlab_version": version, "created": runs.now(), "files": files}
    runs.write_json(folder / NAME, written)
    return written


def is_export(path):
    """Whether `path` is a folder with an rnnlab `manifest.json` (not checked further)."""
    path = Path(path)
    try:
        if not (path / NAME).is_file():
            return False
        return MARK in json.loads((path / NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False


def read(folder):
    """The manifest of an export folder, after checking every file it lists.

    Raises:
        ExportError: no manifest, a manifest rnnlab did not write, a missing file, or a file
            whose sha256 is not the one recorded (changed, truncated or replaced).
    """
    folder = Path(folder)
    path = folder / NAME
    if not path.is_file():
        raise ExportError(f"{folder} is {describe_path(folder)} without {NAME}: expected a folder written by "
                          "`rnnlab export`.")  # fmt: skip
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise ExportError(f"Cannot read {path}: {error}") from None
    if (
        not isinstance(manifest, dict)
        or manifest.get(MARK) != VERSION
        or not isinstance(manifest.get("files"), dict)
    ):
        raise ExportError(f"{path} is not a manifest of `rnnlab export` (version {VERSION}).")
    for name, expected in manifest["files"].items():
        file = folder / name
        if not is_member(name) or not file.is_file():
            raise ExportError(f"{folder}: {name}, listed in {NAME}, is missing. Export the run again.")
        actual = sha256_file(file)
        if actual != expected:
            raise ExportError(
                f"{file} is not the file `rnnlab export` wrote (sha256 {actual[:12]}, expected "
                f"{expected[:12]}): it was changed, truncated or replaced. Export the run again."
            )
    return manifest


def check_export_folder(folder):
    """Raises ExportError unless `folder` is a real folder holding an rnnlab export and nothing else
    (the only folders `rnnlab export --overwrite` replaces)."""
    folder = Path(folder)
    if folder.is_symlink() or not folder.is_dir():
        raise ExportError(
            f"{folder} is {describe_path(folder)}, not an rnnlab export: rnnlab will not replace it."
        )
    if not is_export(folder):
        raise ExportError(f"{folder} is not an rnnlab export (no rnnlab {NAME}): rnnlab will not replace it.")
    listed = {name.split("/")[0] for name in json.loads((folder / NAME).read_text(encoding="utf-8"))["files"]}
    listed.add(NAME)
    foreign = sorted(p.name for p in folder.iterdir() if p.name not in listed)
    if foreign:
        raise ExportError(
            f"{folder} holds files rnnlab did not write ({', '.join(foreign)}): rnnlab will not replace it."
        )


def remove_export(folder):
    """Deletes an rnnlab export folder, after `check_export_folder`."""
    check_export_folder(folder)
    shutil.rmtree(folder)
