"""What a run read from the user's files: a sha256 of everything its `data`, `valid_data` and
`test_data` settings name. `rnnlab train` keeps them in `run.json`; `--resume` and `rnnlab evaluate`
refuse files that changed since, because the vocabulary, the held-out splits and the test texts
all come from them.

Example:
>>> versions(config)  # doctest: +SKIP
{'data': {'path': '/home/me/reviews.csv', 'sha256': '5f1c...'}}
"""

import functools
import glob
import hashlib
from pathlib import Path

from rnnlab.datasets import storage

DATA_FIELDS = ("data", "valid_data", "test_data")


def files_named(value):
    """The files a data setting names, sorted: the file itself; every file in a folder (hidden
    ones skipped); each of two paths joined by a comma (translation's source,target); or, for a
    prefix that is neither, every `PREFIX.*` file beside it (translation's `PREFIX.de`,
    `PREFIX.en`). Nothing that exists: [] (the loaders say what is missing).

    Example:
    >>> files_named("corpus/train")  # doctest: +SKIP
    [PosixPath('corpus/train.de'), PosixPath('corpus/train.en')]
    """
    if "," in value and not Path(value).exists():
        return [file for part in value.split(",") for file in files_named(part)]
    path = Path(value)
    if path.is_file():
        return [path]
    if path.is_dir():
        found = (p for p in path.rglob("*") if p.is_file())
        return sorted(p for p in found if not any(part.startswith(".") for part in p.relative_to(path).parts))
    return sorted(p for p in path.parent.glob(glob.escape(path.name) + ".*") if p.is_file())


def version(value):
    """A sha256 over the names and contents of `files_named(value)`, or None when it names none."""
    files = files_named(value)
    if not files:
        return None
    stats = tuple((str(p), p.stat().st_size, p.stat().st_mtime_ns) for p in files)
    return _version(stats)


@functools.lru_cache(maxsize=16)
def _version(stats):  # keyed by name, size and time: a file is read once per process
    lines = "".join(f"{Path(name).name}\0{storage.sha256_of(name)}\n" for name, _, _ in stats)
    return hashlib.sha256(lines.encode()).hexdigest()


def versions(config):
    """`{field: {"path", "sha256"}}` for each data setting of `config` that is set."""
    found = {}
    for field in DATA_FIELDS:
        value = getattr(config, field, None)
        if isinstance(value, str):
            found[field] = {"path": value, "sha256": version(value)}
    prepared = getattr(config, "prepared", None)
    if isinstance(prepared, str):  # its manifest holds every token file's sha256 (read only the manifest)
        found["prepared"] = {"path": prepared, "sha256": version(str(Path(prepared) / "manifest.json"))}
    return found


def check_unchanged(recorded, config, remedy):
    """Refuses data that is not what the run recorded (`recorded`: `versions` at training).

    Args:
        recorded: the run's `versions`, or None (a run that recorded none: nothing to check).
        config: the run's config now.
        remedy: how to go on, ending the message, e.g. 'or give --test-data FILE'.

    Raises:
        DatasetError: naming the first changed path and setting.
    """
    current = versions(config) if recorded else {}
    for field, then in (recorded or {}).items():
        now = current.get(field)
        if now is None or now != then:
            path = then["path"]
            raise storage.DatasetError(
                f"{path} (--{field.replace('_', '-')}) changed since the run was trained (sha256 "
                f"{str(then['sha256'])[:12]}, now {str(now and now['sha256'])[:12]}): the run's vocabulary "
                f"and held-out texts came from it as it was. Expected the files as they were, {remedy}."
            )
