"""Datasets: one shared download/verify/extract/cache layer (`storage`), one
small module per dataset (`imdb`, and next Multi30k, FSDD, Tiny Shakespeare,
PTB, WMT).

Files are looked for in the search path `RNNLAB_DATASETS` (folders separated
by `os.pathsep`), then in the cache (`RNNLAB_CACHE`, default
`~/.cache/rnnlab`); only when absent are they downloaded, into the cache.
"""

from rnnlab.datasets.storage import (
    ChecksumError,
    CorruptArchiveError,
    DatasetError,
    DatasetNotFoundError,
    RemoteFile,
    cache_dir,
    search_path,
)

__all__ = [
    "ChecksumError",
    "CorruptArchiveError",
    "DatasetError",
    "DatasetNotFoundError",
    "RemoteFile",
    "cache_dir",
    "search_path",
]
