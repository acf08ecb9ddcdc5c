"""Finding, downloading, verifying and safely extracting dataset files.

Every dataset module describes its files as `RemoteFile`s and calls
`locate`, which returns a local path: from the search path, from the cache,
or downloaded (progress bar, sha256 check, temp file then rename). Folders in
the search path are only ever read.
"""

import hashlib
import os
import shutil
import tarfile
import tempfile
import urllib.error
import urllib.request
import zlib
from dataclasses import dataclass, field
from pathlib import Path

from rnnlab.io import atomic_path, umask


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
        sha256: checksum of the official file.
        mirrors: other accepted local files as `{filename: sha256}`, e.g. a
            repack of the same data with another checksum.
    """

    filename: str
    url: str
    sha256: str
    mirrors: dict = field(default_factory=dict)

    def accepted(self):
        """`{filename: sha256}` of every file that holds this data."""
        return {self.filename: self.sha256, **self.mirrors}


def search_path():
    """Folders listed in `RNNLAB_DATASETS`, in order."""
    value = os.environ.get("RNNLAB_DATASETS", "")
    return [Path(p).expanduser() for p in value.split(os.pathsep) if p]


def cache_dir():
    """Writable cache folder: `RNNLAB_CACHE` or `~/.cache/rnnlab`."""
    return Path(os.environ.get("RNNLAB_CACHE", "~/.cache/rnnlab")).expanduser()


def sha256_of(path, chunk_size=1 << 20):
    """Hex sha256 of a file."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(chunk_size):
            digest.update(chunk)
    return digest.hexdigest()


def verify(path, expected_sha256):
    """Raises `ChecksumError` unless `path` has the expected sha256."""
    actual = sha256_of(path)
    if actual != expected_sha256:
        raise ChecksumError(
            f"Checksum mismatch for {path}: expected sha256 {expected_sha256}, "
            f"received {actual}. The file is damaged or not the official one; "
            "delete it and download it again."
        )


def find(names, subdir=""):
    """First existing `folder/subdir/name` over the search path then the cache."""
    for folder in [*search_path(), cache_dir() / "downloads"]:
        for name in names:
            candidate = folder / subdir / name
            if candidate.exists():
                return candidate
    return None


def searched_places(names, subdir=""):
    """Human-readable list of where `find` looked, for error messages."""
    folders = [*search_path(), cache_dir() / "downloads"]
    return ", ".join(str(folder / subdir / name) for folder in folders for name in names)


def download(url, destination, sha256):
    """Downloads `url` to `destination` with a progress bar, checks sha256,
    and only then renames the temp file into place."""
    from tqdm import tqdm

    try:
        with atomic_path(destination) as tmp:
            with open(tmp, "wb") as out, urllib.request.urlopen(url, timeout=60) as response:
                total = int(response.headers.get("Content-Length") or 0) or None
                with tqdm(total=total, unit="B", unit_scale=True, desc=Path(destination).name) as bar:
                    while chunk := response.read(1 << 20):
                        out.write(chunk)
                        bar.update(len(chunk))
            verify(tmp, sha256)
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
            "It may be truncated or the wrong file; delete it and download it again."
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
            raise CorruptArchiveError(
                f"{path} is truncated or damaged ({error}). Delete it and download it again."
            ) from error


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
                raise CorruptArchiveError(f"{path} is truncated or damaged ({error}).") from error
        os.chmod(tmp, 0o777 & ~umask())  # mkdtemp makes 0700 folders
        os.replace(tmp, destination)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp)
    return destination
