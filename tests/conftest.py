"""Shared fixtures: a small IMDb-shaped dataset written by the tests, and the
real IMDb copy when the search path finds it."""

import functools
import http.server
import os
import random
import sys
import threading
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
os.environ.setdefault("KERAS_BACKEND", "jax")

from helpers import write_small_imdb  # noqa: E402
from rnnlab.datasets import imdb, storage  # noqa: E402


@pytest.fixture
def cache(tmp_path_factory, monkeypatch):
    """A private, empty cache folder (outside `tmp_path`, which tests use as a datasets folder:
    rnnlab refuses a cache inside one)."""
    folder = tmp_path_factory.mktemp("cache")
    monkeypatch.setenv("RNNLAB_CACHE", str(folder))
    return folder


@pytest.fixture
def small_imdb(tmp_path, monkeypatch, cache):
    """A tiny `aclImdb/` folder on the search path (and only it)."""
    root = tmp_path / "datasets"
    write_small_imdb(root / "aclImdb", random.Random(0))
    monkeypatch.setenv("RNNLAB_DATASETS", str(root))
    imdb.forget_loaded()
    yield root
    imdb.forget_loaded()


def real_imdb_or_skip():
    if storage.find(list(imdb.OFFICIAL.accepted())) is None and storage.find([imdb.FOLDER_NAME]) is None:
        pytest.skip(
            "real IMDb not found: set RNNLAB_DATASETS to a folder holding aclImdb_v1.tar.gz, "
            "aclImdb_v1_text.tar.gz or aclImdb/ (searched: "
            + storage.searched_places(list(imdb.OFFICIAL.accepted()))
            + ")"
        )


@pytest.fixture(scope="session")
def real_imdb():
    """Skips unless the real IMDb is on the search path; uses the normal cache."""
    real_imdb_or_skip()
    return True


@pytest.fixture(scope="session")
def real_multi30k():
    """Skips unless Multi30k is on the search path (the contract test trains on a few real pairs)."""
    from rnnlab.datasets import multi30k

    try:
        multi30k.path("train", "de", allow_download=False)
    except storage.DatasetError as error:
        pytest.skip(f"real Multi30k not found: set RNNLAB_DATASETS to a folder holding multi30k/ ({error})")
    return True


@pytest.fixture(scope="session")
def real_fsdd():
    """Skips unless the FSDD archive is on the search path."""
    from rnnlab.datasets import fsdd

    try:
        fsdd.path(allow_download=False)
    except storage.DatasetError as error:
        pytest.skip(
            f"real FSDD not found: set RNNLAB_DATASETS to a folder holding fsdd-v1.0.10.tar.gz ({error})"
        )
    return True


@pytest.fixture(scope="session")
def real_tinyshakespeare():
    """Skips unless Tiny Shakespeare is on the search path."""
    from rnnlab.datasets import tinyshakespeare

    try:
        tinyshakespeare.path(allow_download=False)
    except storage.DatasetError as error:
        pytest.skip(
            "Tiny Shakespeare not found: set RNNLAB_DATASETS to a folder holding tinyshakespeare.txt "
            f"({error})"
        )
    return True


IMDB_LM_LIMIT = 3000  # words of reviews
IMDB_LM = (
    f"--corpus imdb --limit {IMDB_LM_LIMIT} --max-vocab 200 --epochs 1 --units 8 --embedding-dim 8 "
    "--num-layers 2 --seq-len 16 --batch-size 8 --stateful"
)


@pytest.fixture(scope="session")
def imdb_lm(real_imdb, tmp_path_factory):
    """A tiny stateful subword language model of real IMDb reviews (a run folder)."""
    from rnnlab.cli import main

    run = tmp_path_factory.mktemp("imdb-lm") / "run"
    assert main(["train", "lm", *IMDB_LM.split(), "--output", str(run)]) == 0
    return run


@pytest.fixture(scope="session")
def fsdd_wavs(real_fsdd, tmp_path_factory):
    """Two real FSDD recordings (test split) as WAV files: a 7 and a 3."""
    from rnnlab.datasets import fsdd

    folder = tmp_path_factory.mktemp("wavs")
    files = fsdd.read_archive(fsdd.path(allow_download=False))
    paths = []
    for name in ("7_theo_1.wav", "3_lucas_2.wav"):
        (folder / name).write_bytes(files[name])
        paths.append(str(folder / name))
    return paths


@pytest.fixture
def http_server(tmp_path):
    """Serves `tmp_path/served` on a loopback port."""
    served = tmp_path / "served"
    served.mkdir()
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(served))
    handler.log_message = lambda *args: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield served, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
