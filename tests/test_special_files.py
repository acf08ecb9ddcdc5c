"""FIFOs and devices where files are expected: a one-line error that says what is there,
never a hang (a FIFO blocks a read until something writes to it)."""

import os
import signal

import pytest

from rnnlab.audio.reading import AudioError, read_audio
from rnnlab.datasets import DatasetError, imdb, storage
from rnnlab.io import describe_path


@pytest.fixture
def no_hang():
    """Fails the test instead of hanging on a blocked read."""

    def timed_out(signum, frame):
        raise AssertionError("blocked for 20 s: a FIFO was read")

    previous = signal.signal(signal.SIGALRM, timed_out)
    signal.alarm(20)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, previous)


def test_describe_path_names_what_is_there(tmp_path):
    os.mkfifo(tmp_path / "pipe")
    (tmp_path / "file").write_text("x")
    assert describe_path(tmp_path / "pipe") == "a FIFO (named pipe)"
    assert describe_path(tmp_path / "file") == "a regular file"
    assert describe_path(tmp_path) == "a folder"
    assert describe_path("/dev/zero") == "a character device"
    assert describe_path(tmp_path / "missing") == "nothing (no such file)"


def test_a_fifo_among_the_reviews_is_an_error_naming_it(small_imdb, no_hang):
    os.mkfifo(small_imdb / "aclImdb" / "train" / "pos" / "99_10.txt")
    with pytest.raises(DatasetError, match=r"99_10\.txt is a FIFO \(named pipe\)\. Expected only review"):
        imdb.load_texts("train")


def test_a_fifo_in_place_of_a_dataset_file_is_an_error(tmp_path, monkeypatch, cache, no_hang):
    (tmp_path / "datasets").mkdir()
    os.mkfifo(tmp_path / "datasets" / "tinyshakespeare.txt")
    monkeypatch.setenv("RNNLAB_DATASETS", str(tmp_path / "datasets"))
    with pytest.raises(DatasetError, match="tinyshakespeare.txt is a FIFO .*Expected the dataset file"):
        storage.find(["tinyshakespeare.txt"])


@pytest.mark.parametrize("kind", ["fifo", "device"])
def test_audio_that_is_a_fifo_or_a_device_says_what_it_is(tmp_path, kind, no_hang):
    pytest.importorskip("soundfile")
    if kind == "fifo":
        path = tmp_path / "speech.wav"
        os.mkfifo(path)
        expected = r"speech\.wav \(a FIFO \(named pipe\)\)"
    else:
        path, expected = "/dev/zero", r"/dev/zero \(a character device\)"
    with pytest.raises(AudioError, match=f"Expected a sound file. Received: .*{expected}"):
        read_audio(path)


def test_a_cache_inside_the_datasets_folder_is_refused(tmp_path, monkeypatch):
    monkeypatch.setenv("RNNLAB_DATASETS", str(tmp_path / "datasets"))
    monkeypatch.setenv("RNNLAB_CACHE", str(tmp_path / "datasets" / "cache"))
    with pytest.raises(DatasetError, match="is inside .*datasets, a folder of RNNLAB_DATASETS"):
        storage.cache_dir()
    monkeypatch.setenv("RNNLAB_CACHE", str(tmp_path / "cache"))
    assert storage.cache_dir() == tmp_path / "cache"
