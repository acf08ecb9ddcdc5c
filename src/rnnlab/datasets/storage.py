"""Finding, downloading, verifying and safely extracting dataset files.

Every dataset module describes its files as `RemoteFile`s and calls
`locate`, which returns a local path: from the search path, from the cache,
or downloaded (progress bar, sha256 check, temp file then rename). Folders in
the search path are only ever read.
"""

import hashlib
import os
import shutil
import sys
import tarfile
import tempfile
import urllib.error
import urllib.request
import zlib
from dataclasses import dataclass, field
from pathlib import Path

from tqdm import tqdm

from rnnlab.io import atomic_path, describe_path, umask


class DatasetError(Exception):
    """Base class of every dataset error; its message says what to do."""


class DatasetNotFoundError(DatasetError):
    """The data is in none of the searched places and could not be downloaded."""


class ChecksumError(DatasetError):
    """A file's sha256 is not the expected one."""


class CorruptArchiveError(DatasetError):
    """A file is truncated, not an archive, or holds unsafe members."""


@dataclass(frozen=True)
class RemoteFile:
    """A dataset file: where it officially lives and the copies we accept.

    Args:
        filename: official file name, e.g. `"aclImdb_v1.tar.gz"`.
        url: official download address.
        sha256: checksum of the official file (hex sha256, or "md5:<hex>" where the
            publisher gives only an md5); None when the official file has
            no stable checksum (e.g. an archive GitHub generates) and the
            dataset module verifies its content instead.
        mirrors: other accepted local files as `{filename: sha256}`, e.g. a
            repack of the same data with another checksum.
    """

    filename: str
    url: str
    sha256: str | None
    mirrors: dict = field(default_factory=dict)

    def accepted(self):
        """`{filename: sha256}` of every file that holds this data."""
        return {self.filename: self.sha256, **self.mirrors}


def search_path():
    """Folders listed in `RNNLAB_DATASETS`, in order."""
    value = os.environ.get("RNNLAB_DATASETS", "")
    return [Path(p).expanduser() for p in value.split(os.pathsep) if p]


def cache_dir():
    """Writable cache folder: `RNNLAB_CACHE` or `~/.cache/rnnlab`.

    Raises:
        DatasetError: the cache is inside a folder of `RNNLAB_DATASETS` (never written to).
    """
    cache = Path(os.environ.get("RNNLAB_CACHE", "~/.cache/rnnlab")).expanduser()
    folder = datasets_folder_of(cache)
    if folder is not None:
        raise DatasetError(
            f"RNNLAB_CACHE={cache} is inside {folder}, a folder of RNNLAB_DATASETS, which rnnlab "
            "never writes to. Expected a cache folder outside it."
        )
    return cache


def datasets_folder_of(path):
    """The folder of `RNNLAB_DATASETS` that holds `path` (or is it), else None."""
    resolved = Path(path).resolve()
    for folder in search_path():
        inside = folder.resolve()
        if resolved == inside or inside in resolved.parents:
            return folder
    return None


def sha256_of(path, chunk_size=1 << 20, algorithm="sha256"):
    """Hex digest of a file (sha256, or another `hashlib` algorithm)."""
    digest = hashlib.new(algorithm)
    with open(path, "rb") as f:
        while chunk := f.read(chunk_size):
            digest.update(chunk)
    return digest.hexdigest()


def named(digest):
    """`'sha256 <hex>'` or `'md5 <hex>'`, for messages."""
    return f"md5 {digest[4:]}" if digest and digest.startswith("md5:") else f"sha256 {digest}"


def digest_like(path, expected):
    """The file's digest in the form of `expected`: hex sha256, or `"md5:<hex>"` for
    datasets whose publishers give only an md5 (e.g. the PTB files)."""
    if expected is not None and expected.startswith("md5:"):
        return "md5:" + sha256_of(path, algorithm="md5")
    return sha256_of(path)


def in_cache(path):
    """True when `path` lies in rnnlab's cache (files rnnlab wrote and may replace)."""
    return Path(os.path.realpath(path)).is_relative_to(Path(os.path.realpath(cache_dir())))


def remedy(path, url=None):
    """What to do about a damaged or wrong dataset file, depending on who owns it.

    A file in rnnlab's cache was written by rnnlab: deleting it is safe and it
    is downloaded again. Anything else was put there by someone else (e.g. a
    read-only shared folder on `RNNLAB_DATASETS`): rnnlab never suggests
    deleting it.

    Args:
        path: the file that failed a check.
        url: its official download address, when known.
    """
    path = Path(path)
    if in_cache(path):
        return f"It is rnnlab's own copy: delete {path} and rnnlab downloads it again."
    official = f" (the official file is {url})" if url else ""
    real = Path(os.path.realpath(path))
    folders = [f for f in search_path() if real.is_relative_to(Path(os.path.realpath(f)))]
    if not folders:
        return f"rnnlab never changes files it did not write: check where this copy came from{official}."
    return (
        f"rnnlab only reads {folders[0]} and never changes it: check where this copy came from"
        f"{official}, or take {folders[0]} out of RNNLAB_DATASETS so that rnnlab uses its own "
        f"copy in {cache_dir() / 'downloads'}."
    )


def _mismatch(path, expected, actual, url=None):
    return (
        f"Checksum mismatch for {path}: expected {named(expected)}, received {named(actual)}. "
        f"The file is damaged or not the official one. {remedy(path, url)}"
    )


def verify(path, expected_sha256, url=None):
    """Raises `ChecksumError` unless `path` has the expected sha256.

    Args:
        path: the file to check.
        expected_sha256: hex digest it must have.
        url: official download address of the file, named in the error.

    Example:
    >>> verify("datasets/aclImdb_v1.tar.gz", OFFICIAL.sha256, OFFICIAL.url)  # doctest: +SKIP
    """
    actual = digest_like(path, expected_sha256)
    if actual != expected_sha256:
        raise ChecksumError(_mismatch(path, expected_sha256, actual, url))


def check_inside(folder, path):
    """Raises `DatasetError` when `path` (a link) resolves outside `folder`.

    A dataset folder on the search path is read as a whole; a link inside it
    that points elsewhere (`../../home/...`, `/etc/...`) would make rnnlab
    read, cache and serve files that are not part of the dataset.

    Returns:
        The resolved target of `path`.
    """
    root = Path(os.path.realpath(folder))
    target = Path(os.path.realpath(path))
    if not target.is_relative_to(root):
        raise DatasetError(
            f"{path} is a link to {target}, outside the dataset folder {folder}. rnnlab reads only "
            "files inside a dataset folder; expected a regular file or a link to one inside it."
        )
    return target


def folder_listing(folder):
    """Sorted `(relative name, size, mtime_ns)` of every file under `folder`.

    Links are followed only to files inside `folder`; a link that leaves it
    raises `DatasetError` (see `check_inside`). About 0.25 s for the 100,000
    files of an extracted `aclImdb/`.
    """
    folder = Path(folder)
    listing = []
    pending = [""]
    while pending:
        relative = pending.pop()
        directory = folder / relative
        try:
            with os.scandir(directory) as entries:
                for entry in entries:
                    name = f"{relative}/{entry.name}" if relative else entry.name
                    if entry.is_symlink():
                        if check_inside(folder, entry.path).is_dir():
                            continue  # its files are listed where they are
                    elif entry.is_dir():
                        pending.append(name)
                        continue
                    stat = entry.stat()
                    listing.append((name, stat.st_size, stat.st_mtime_ns))
        except OSError as error:
            raise DatasetError(f"Cannot read {directory}: {error}") from error
    return sorted(listing)


def fingerprint(path):
    """A string that changes whenever the data at `path` changes, to key derived data on.

    A file: its resolved path, size and modification time. A folder: its
    resolved path and a sha256 of the name, size and modification time of
    every file inside (`folder_listing`), so that editing, adding or removing
    any file changes it (the folder's own mtime only sees its direct entries).

    Example:
    >>> fingerprint("datasets/aclImdb")  # doctest: +SKIP
    '/data/datasets/aclImdb|folder|c2c2a19aa155...'
    """
    path = Path(path)
    if path.is_dir():
        lines = "\n".join(f"{name}\0{size}\0{mtime}" for name, size, mtime in folder_listing(path))
        return f"{path.resolve()}|folder|{hashlib.sha256(lines.encode()).hexdigest()}"
    stat = path.stat()
    return f"{path.resolve()}|{stat.st_size}|{stat.st_mtime_ns}"


def find(names, subdir=""):
    """First existing `folder/subdir/name` over the search path then the cache."""
    for folder in [*search_path(), cache_dir() / "downloads"]:
        for name in names:
            candidate = folder / subdir / name
            if candidate.exists():
                if not (candidate.is_file() or candidate.is_dir()):  # a FIFO would block the read for ever
                    raise DatasetError(
                        f"{candidate} is {describe_path(candidate)}. Expected the dataset file or folder "
                        f"{name} there (a regular file or folder): remove it or change RNNLAB_DATASETS."
                    )
                return candidate
    return None


def searched_places(names, subdir=""):
    """Human-readable list of where `find` looked, for error messages."""
    folders = [*search_path(), cache_dir() / "downloads"]
    return ", ".join(str(folder / subdir / name) for folder in folders for name in names)


def download(url, destination, sha256):
    """Downloads `url` to `destination` with a progress bar, checks sha256 (unless
    None: the caller verifies the content), and only then renames the temp file into place."""
    try:
        with atomic_path(destination) as tmp:
            with open(tmp, "wb") as out, urllib.request.urlopen(url, timeout=60) as response:
                total = int(response.headers.get("Content-Length") or 0) or None
                with tqdm(total=total, unit="B", unit_scale=True, desc=Path(destination).name) as bar:
                    while chunk := response.read(1 << 20):
                        out.write(chunk)
                        bar.update(len(chunk))
            actual = digest_like(tmp, sha256)
            if sha256 is not None and actual != sha256:
                raise ChecksumError(
                    f"Checksum mismatch for the download of {url}: expected {named(sha256)}, "
                    f"received {named(actual)}. The download was discarded; try again later or get the "
                    "file by hand and put its folder in RNNLAB_DATASETS."
                )
    except (urllib.error.URLError, OSError) as error:
        raise DatasetNotFoundError(f"Could not download {url}: {error}") from error
    return Path(destination)


def locate(remote, subdir="", allow_download=True):
    """Local path of `remote`: search path, then cache, then download.

    Raises:
        DatasetNotFoundError: not found and not downloadable; the message
            lists every place searched and the official URL.
    """
    names = list(remote.accepted())
    path = find(names, subdir)
    if path is not None:
        return path
    if not allow_download:
        raise DatasetNotFoundError(
            f"{remote.filename} not found. Looked in: {searched_places(names, subdir)}. "
            f"Download it from {remote.url} into a folder listed in RNNLAB_DATASETS."
        )
    destination = cache_dir() / "downloads" / subdir / remote.filename
    try:
        return download(remote.url, destination, remote.sha256)
    except DatasetNotFoundError as error:
        raise DatasetNotFoundError(
            f"{remote.filename} not found. Looked in: {searched_places(names, subdir)}, "
            f"and the download failed ({error}). Download it from {remote.url} by hand "
            "and put its folder in RNNLAB_DATASETS."
        ) from error


def verify_located(remote, path, subdir=""):
    """Checks a file found by `locate` against the checksum of its name in `remote.accepted()`.

    rnnlab's own download of `remote` (`cache/downloads/<subdir>/<filename>`)
    that fails the check is downloaded again, with one line on stderr saying
    so; any other file raises `ChecksumError` (see `verify`) and is left as it is.

    Args:
        remote: the `RemoteFile` the file holds.
        path: the located file.
        subdir: the `subdir` given to `locate`.

    Returns:
        The path of a file that passed the check.

    Example:
    >>> path = verify_located(OFFICIAL, locate(OFFICIAL))  # doctest: +SKIP
    """
    path = Path(path)
    if path.name not in remote.accepted():
        raise ValueError(f"Expected a file named one of {list(remote.accepted())}. Received: {path}")
    expected = remote.accepted()[path.name]
    if expected is None:  # no stable checksum: the dataset module checks the content
        return path
    actual = digest_like(path, expected)
    if actual == expected:
        return path
    url = remote.url if path.name == remote.filename else None
    own_download = cache_dir() / "downloads" / subdir / remote.filename
    if path.name != remote.filename or not (own_download.exists() and path.samefile(own_download)):
        raise ChecksumError(_mismatch(path, expected, actual, url))
    print(
        f"rnnlab: the download {path} is damaged (expected {named(expected)}, received {named(actual)}); "
        f"it is downloaded again from {remote.url}.",
        file=sys.stderr,
        flush=True,
    )
    try:
        return download(remote.url, path, remote.sha256)
    except DatasetNotFoundError as failure:
        raise DatasetNotFoundError(
            f"rnnlab's download {path} is damaged (expected {named(expected)}, received {named(actual)}) and "
            f"downloading it again failed ({failure}). Download it from {remote.url} by hand and put its "
            "folder in RNNLAB_DATASETS."
        ) from failure


def check_member(member):
    """Raises `CorruptArchiveError` for an unsafe tar member: an absolute
    path, a `..` component, or anything but a regular file or folder."""
    name = member.name
    if name.startswith(("/", "\\")) or ":" in name.split("/")[0]:
        raise CorruptArchiveError(f"Unsafe archive member {name!r}: absolute path.")
    if ".." in name.replace("\\", "/").split("/"):
        raise CorruptArchiveError(f"Unsafe archive member {name!r}: '..' in path.")
    if not (member.isfile() or member.isdir()):
        raise CorruptArchiveError(
            f"Unsafe archive member {name!r}: only regular files and folders are "
            "accepted (no links or devices)."
        )


def open_tar(path, mode="r:*"):
    """Opens a tar archive, turning every read failure into `CorruptArchiveError`."""
    try:
        return tarfile.open(path, mode)
    except (tarfile.TarError, EOFError, OSError) as error:
        raise CorruptArchiveError(
            f"{path} is not a readable tar archive ({error}). "
            f"It may be truncated or the wrong file. {remedy(path)}"
        ) from error


def iter_tar_files(path, select=lambda name: True):
    """Yields `(member_name, bytes)` for every regular file whose name passes
    `select`, in one streaming pass, checking that each member is safe and
    reporting truncation as `CorruptArchiveError`."""
    with open_tar(path, mode="r|*") as archive:
        try:
            for member in archive:
                check_member(member)
                if member.isfile() and select(member.name):
                    yield member.name, archive.extractfile(member).read()
        except (tarfile.TarError, EOFError, OSError, zlib.error) as error:
            raise CorruptArchiveError(f"{path} is truncated or damaged ({error}). {remedy(path)}") from error


def safe_extract(path, destination):
    """Extracts a tar archive into `destination` without trusting it.

    Refuses absolute paths, `..`, links and devices; extracts into a temp
    folder that is renamed into place only when complete.
    """
    destination = Path(destination)
    destination.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=destination.parent, prefix=destination.name + ".tmp-"))
    try:
        with open_tar(path) as archive:
            try:
                members = archive.getmembers()
                for member in members:
                    check_member(member)
                archive.extractall(tmp, members=members, filter="data")
            except (tarfile.TarError, EOFError, OSError) as error:
                raise CorruptArchiveError(
                    f"{path} is truncated or damaged ({error}). {remedy(path)}"
                ) from error
        os.chmod(tmp, 0o777 & ~umask())  # mkdtemp makes 0700 folders
        os.replace(tmp, destination)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp)
    return destination
