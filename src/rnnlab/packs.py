"""One-file runs: `rnnlab pack RUN_OR_EXPORT --output model.rnnlab` zips a finished run (its model,
preprocessor, config, metrics and `run.json`) or an export folder with `pack.json`, the sha256 of
every file. `predict`, `evaluate`, `export` and `serve` take such a file, or an `https://` URL of
one with `--sha256`: it is downloaded once into the cache (with the datasets' downloader: progress
bar, checksum, temp file then rename), checked member by member, and unpacked into
`CACHE/packs/<sha256>/`, which the verbs then read as a folder. Nothing in a pack is executed
(Keras loads its model in safe mode).

Example:
>>> pack("runs/article", "article.rnnlab")  # doctest: +SKIP
>>> url = "https://example.org/article.rnnlab"
>>> resolve_argv(["predict", url, "--sha256", "5f1c...", "good"])  # doctest: +SKIP
['predict', '/home/me/.cache/rnnlab/packs/5f1c.../', 'good']
"""

import json
import os
import shutil
import tempfile
import zipfile
from pathlib import Path

from rnnlab import runs
from rnnlab.datasets import storage
from rnnlab.export import manifest as manifests
from rnnlab.io import atomic_path, describe_path, umask

SUFFIX = ".rnnlab"
INDEX = "pack.json"
RUN_FILES = ("run.json", *runs.MODEL_FILES, "metrics.json")
MAX_BYTES = 32 * 2**30  # what a pack may unpack to: refuses zip bombs before writing anything
PACK_VERBS = ("predict", "evaluate", "export", "serve")


class PackError(ValueError):
    """A file or URL that is not a usable rnnlab pack."""


def pack(folder, output, overwrite=False):
    """Writes a finished run or an export folder as one zip file; returns its index.

    Args:
        folder: a run folder (`rnnlab train`) or an export folder (`rnnlab export`).
        output: the `.rnnlab` file to write (temp file, then rename).
        overwrite: replace `output` when it is an rnnlab pack (never another file).

    Raises:
        PackError: `folder` is neither, or `output` exists and may not be replaced.
    """
    folder, output = Path(folder), Path(output)
    if manifests.is_export(folder):
        manifest = manifests.read(folder)  # every file checked
        kind, task, names = "export", manifest["task"], [manifests.NAME, *manifest["files"]]
    else:
        folder, info = runs.open_run(folder)
        if info.get("status") != "finished":
            raise PackError(f"{folder} is not a finished run. Expected a run that `rnnlab train` finished.")
        kind, task, names = "run", info["task"], list(RUN_FILES)
    if output.suffix != SUFFIX:
        raise PackError(f"Expected --output to end with {SUFFIX}. Received: {output}")
    if output.exists() or output.is_symlink():
        if not overwrite:
            raise PackError(
                f"{output} already exists. Choose another --output, or --overwrite an rnnlab pack."
            )
        read_index(output)  # raises unless it is a pack rnnlab wrote
    index = {
        "rnnlab_pack": 1,
        "kind": kind,
        "task": task,
        "rnnlab_version": runs.versions().get("rnnlab"),
        "created": runs.now(),
        "files": {name: manifests.sha256_file(folder / name) for name in names},
    }
    with atomic_path(output) as tmp, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(INDEX, json.dumps(index, indent=2))
        for name in names:
            archive.write(folder / name, name)
    return index


def read_index(path):
    """The `pack.json` of a pack file, checked for shape.

    Raises:
        PackError: not a zip (truncated, another file), no index, or an index rnnlab did not write.
    """
    try:
        with zipfile.ZipFile(path) as archive:
            index = json.loads(archive.read(INDEX))
    except KeyError:
        raise PackError(f"{path} holds no {INDEX}: expected a file written by `rnnlab pack`.") from None
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as error:
        raise PackError(
            f"{path} is not an rnnlab pack ({error}): truncated, damaged or another kind of file."
        ) from None
    files = index.get("files") if isinstance(index, dict) else None
    if index.get("rnnlab_pack") != 1 or not isinstance(files, dict) or not files:
        raise PackError(f"{path}: {INDEX} is not the index `rnnlab pack` writes.")
    for name in files:
        if not manifests.is_member(name) or name == INDEX:
            raise PackError(f"{path} names the member {name!r}: expected paths inside the folder only.")
    return index


def unpack(path, cache=None, digest=None):
    """The folder a pack file unpacks to (`CACHE/packs/<sha256 of the file>/`), unpacked once and
    checked member by member.

    Args:
        path: the `.rnnlab` file.
        cache: the cache folder (default: rnnlab's).
        digest: the file's sha256, when the caller computed it already.

    Raises:
        PackError: see `read_index`; a member missing, over `MAX_BYTES` in all, or whose sha256
            is not the index's.
    """
    path = Path(path)
    digest = digest or manifests.sha256_file(path)
    folder = (cache or storage.cache_dir()) / "packs" / digest
    index = read_index(path)
    if folder.is_dir() and _holds(folder, index["files"]):
        return folder
    folder.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{digest[:12]}.", suffix=".tmp", dir=folder.parent))
    try:
        os.chmod(work, 0o777 & ~umask())
        with zipfile.ZipFile(path) as archive:
            members = {info.filename: info for info in archive.infolist()}
            missing = sorted(set(index["files"]) - set(members))
            if missing:
                raise PackError(f"{path} lacks {', '.join(missing)}, which its {INDEX} lists.")
            if sum(members[name].file_size for name in index["files"]) > MAX_BYTES:
                raise PackError(f"{path} unpacks to more than {MAX_BYTES // 2**30} GiB: refused.")
            for name, expected in index["files"].items():
                (work / name).parent.mkdir(parents=True, exist_ok=True)
                with archive.open(members[name]) as source, open(work / name, "wb") as target:
                    shutil.copyfileobj(source, target)
                if manifests.sha256_file(work / name) != expected:
                    raise PackError(
                        f"{path}: the member {name} is not the file that was packed (sha256 differs)."
                    )
        if folder.exists():
            shutil.rmtree(folder)  # an earlier, incomplete or changed unpacking of this very file
        work.rename(folder)
    except (zipfile.BadZipFile, EOFError, OSError) as error:
        shutil.rmtree(work, ignore_errors=True)
        raise PackError(f"{path} could not be unpacked ({error}): truncated or damaged.") from None
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return folder


def _holds(folder, files):
    return all(
        (folder / name).is_file() and manifests.sha256_file(folder / name) == sha
        for name, sha in files.items()
    )


def is_target(value):
    """Whether a command-line value names a pack: a `.rnnlab` file or an http(s) URL."""
    return value.startswith(("https://", "http://")) or (value.endswith(SUFFIX) and not Path(value).is_dir())


def fetch(value, sha256=None, cache=None):
    """`(local pack file, its sha256)` for `value`: itself, or a URL's download in the cache
    (`sha256` required for a URL, checked for a file when given)."""
    if value.startswith(("https://", "http://")):
        if not sha256:
            raise PackError(
                f"{value}: a URL needs --sha256 HEX, the pack's sha256, so that what is downloaded is the "
                "file you meant."
            )
        destination = (cache or storage.cache_dir()) / "packs" / f"{sha256}{SUFFIX}"
        if not (destination.is_file() and manifests.sha256_file(destination) == sha256):
            destination.parent.mkdir(parents=True, exist_ok=True)
            storage.download(value, destination, sha256)  # checked before it is renamed into place
        return destination, sha256
    path = Path(value)
    if not path.is_file():
        raise PackError(
            f"{value} is {describe_path(path)}. Expected a {SUFFIX} file written by `rnnlab pack`."
        )
    actual = manifests.sha256_file(path)
    if sha256 and actual != sha256:
        raise PackError(f"{value} has sha256 {actual}, not the --sha256 given ({sha256}).")
    return path, actual


def resolve_argv(argv, cache=None):
    """`argv` with each pack (file or URL) after `predict`, `evaluate`, `export` or `serve` replaced
    by the folder it unpacks to, and `--sha256 HEX` (one per pack, in order) taken out."""
    if not argv or argv[0] not in PACK_VERBS:
        return list(argv)
    given, rest, items = [], [], iter(argv)
    for arg in items:
        if arg == "--sha256":
            given.append(next(items, ""))
        elif arg.startswith("--sha256="):
            given.append(arg.split("=", 1)[1])
        else:
            rest.append(arg)
    targets = []
    for i, arg in enumerate(rest[1:], start=1):
        if arg.startswith("-"):
            continue
        if is_target(arg):
            targets.append(i)
        elif argv[0] != "serve" and Path(arg).is_dir():
            break  # the run is a folder: what follows are its inputs
        if argv[0] != "serve" and targets:
            break  # one run; the inputs after it are texts
    if len(given) > len(targets):
        raise PackError(
            f"--sha256 was given {len(given)} times for {len(targets)} packs (.rnnlab files or URLs)."
        )
    for position, sha256 in zip(targets, given + [None] * (len(targets) - len(given)), strict=True):
        path, digest = fetch(rest[position], sha256, cache)
        rest[position] = str(unpack(path, cache, digest))
    return rest
