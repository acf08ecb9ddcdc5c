"""The FSDD loader: the real archive's splits, and archives that are not FSDD."""

import io
import tarfile

import numpy as np
import pytest

from rnnlab.datasets import fsdd, storage


def test_the_real_archive_has_the_official_splits(real_fsdd):
    recordings = fsdd.load_recordings(allow_download=False)
    assert len(recordings) == 3000
    assert {r.speaker for r in recordings} == set(fsdd.SPEAKERS)
    assert {r.sample_rate for r in recordings} == {8000}
    assert all(r.audio.dtype == np.float32 and r.audio.ndim == 1 and len(r.audio) > 1000 for r in recordings)
    train, test = fsdd.official_split(recordings)
    assert len(train) == 2700 and len(test) == 300
    assert {r.index for r in test} == set(range(5))
    train, test = fsdd.speaker_split(recordings, "theo")
    assert len(train) == 2500 and len(test) == 500 and {r.speaker for r in test} == {"theo"}
    with pytest.raises(ValueError, match="speaker"):
        fsdd.speaker_split(recordings, "alice")


def _archive(path, files):
    with tarfile.open(path, "w:gz") as archive:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return path


def test_an_archive_whose_recordings_differ_is_refused(tmp_path, monkeypatch, cache):
    monkeypatch.setenv("RNNLAB_DATASETS", str(tmp_path))
    _archive(tmp_path / "fsdd-v1.0.10.tar.gz", {fsdd.PREFIX + "0_george_0.wav": b"RIFF...."})
    with pytest.raises(storage.ChecksumError, match="fsdd-v1.0.10.tar.gz"):
        fsdd.load_recordings(allow_download=False)  # the repack has a known checksum
    (tmp_path / "fsdd-v1.0.10.tar.gz").unlink()
    official = _archive(tmp_path / fsdd.OFFICIAL.filename, {fsdd.PREFIX + "0_george_0.wav": b"RIFF...."})
    with pytest.raises(storage.DatasetError, match="found 1 files; content sha256"):
        fsdd.load_recordings(allow_download=False)  # GitHub's archive: checked by content
    official.write_bytes(b"not a tar archive")
    with pytest.raises(storage.CorruptArchiveError, match="not a readable tar archive"):
        fsdd.load_recordings(allow_download=False)


def test_a_missing_archive_names_the_official_url(tmp_path, monkeypatch, cache):
    monkeypatch.setenv("RNNLAB_DATASETS", str(tmp_path))
    with pytest.raises(storage.DatasetNotFoundError, match="archive/refs/tags/v1.0.10.tar.gz"):
        fsdd.path(allow_download=False)


def test_a_download_is_checked_by_its_recordings(http_server, monkeypatch, cache, tmp_path):
    served, url = http_server
    _archive(served / "v1.0.10.tar.gz", {fsdd.PREFIX + "1_theo_3.wav": b"RIFF"})
    remote = fsdd.OFFICIAL.__class__(
        fsdd.OFFICIAL.filename, f"{url}/v1.0.10.tar.gz", None, fsdd.OFFICIAL.mirrors
    )
    monkeypatch.setattr(fsdd, "OFFICIAL", remote)
    monkeypatch.setenv("RNNLAB_DATASETS", str(tmp_path / "nothing"))
    downloaded = fsdd.path()
    assert downloaded == cache / "downloads" / fsdd.OFFICIAL.filename
    with pytest.raises(storage.DatasetError, match="It is rnnlab's own copy: delete"):
        fsdd.read_archive(downloaded)


def test_recording_names_are_parsed_strictly():
    assert fsdd.parse_name("7_theo_12.wav") == (7, "theo", 12)
    for bad in ("7_theo.wav", "10_theo_1.wav", "../7_theo_1.wav", "7_Theo_1.wav"):
        with pytest.raises(ValueError, match="DIGIT_SPEAKER_INDEX"):
            fsdd.parse_name(bad)
