"""Download, checksum, safe extraction and error messages of the dataset layer."""

import hashlib
import io
import tarfile

import pytest

from rnnlab.datasets import storage


def make_tar(path, members):
    """Writes a .tar.gz; `members` maps name -> bytes, or a TarInfo for special entries."""
    with tarfile.open(path, "w:gz") as archive:
        for name, content in members.items():
            if isinstance(content, tarfile.TarInfo):
                archive.addfile(content)
            else:
                info = tarfile.TarInfo(name)
                info.size = len(content)
                archive.addfile(info, io.BytesIO(content))
    return path


def test_safe_extract_writes_files(tmp_path):
    archive = make_tar(tmp_path / "ok.tar.gz", {"data/a.txt": b"hello", "data/b/c.txt": b"x"})
    out = storage.safe_extract(archive, tmp_path / "out")
    assert (out / "data" / "a.txt").read_bytes() == b"hello"
    assert (out / "data" / "b" / "c.txt").read_bytes() == b"x"


def _link(name, target):
    info = tarfile.TarInfo(name)
    info.type = tarfile.SYMTYPE
    info.linkname = target
    return info


def _device(name):
    info = tarfile.TarInfo(name)
    info.type = tarfile.CHRTYPE
    return info


@pytest.mark.parametrize(
    "members, message",
    [
        ({"/etc/evil": b"x"}, "absolute path"),
        ({"data/../../evil": b"x"}, "'..' in path"),
        ({"data/link": _link("data/link", "/etc/passwd")}, "no links or devices"),
        ({"data/dev": _device("data/dev")}, "no links or devices"),
    ],
    ids=["absolute", "dotdot", "symlink", "device"],
)
def test_safe_extract_refuses_unsafe_members_and_leaves_nothing(tmp_path, members, message):
    archive = make_tar(tmp_path / "bad.tar.gz", {"data/ok.txt": b"fine", **members})
    with pytest.raises(storage.CorruptArchiveError, match=message):
        storage.safe_extract(archive, tmp_path / "out")
    assert not (tmp_path / "out").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["bad.tar.gz"]


def test_truncated_archive_is_reported(tmp_path):
    archive = make_tar(tmp_path / "full.tar.gz", {f"f{i}.txt": bytes(range(256)) * 400 for i in range(20)})
    data = archive.read_bytes()
    (tmp_path / "cut.tar.gz").write_bytes(data[: len(data) // 2])
    with pytest.raises(storage.CorruptArchiveError, match="truncated or damaged"):
        list(storage.iter_tar_files(tmp_path / "cut.tar.gz"))


def test_non_archive_is_reported(tmp_path):
    (tmp_path / "notes.tar.gz").write_text("this is not an archive")
    with pytest.raises(storage.CorruptArchiveError, match="not a readable tar archive"):
        list(storage.iter_tar_files(tmp_path / "notes.tar.gz"))


def test_verify_reports_expected_and_received(tmp_path):
    path = tmp_path / "f.bin"
    path.write_bytes(b"abc")
    storage.verify(path, hashlib.sha256(b"abc").hexdigest())
    with pytest.raises(storage.ChecksumError, match=f"expected sha256 {'0' * 64}, received "):
        storage.verify(path, "0" * 64)


def test_locate_prefers_search_path_and_says_where_it_looked(tmp_path, monkeypatch, cache):
    remote = storage.RemoteFile(
        "data.tar.gz", "http://127.0.0.1:9/data.tar.gz", "0" * 64, {"repack.tar.gz": "1" * 64}
    )
    first, second = tmp_path / "a", tmp_path / "b"
    first.mkdir()
    second.mkdir()
    monkeypatch.setenv("RNNLAB_DATASETS", f"{first}:{second}")
    with pytest.raises(storage.DatasetNotFoundError) as error:
        storage.locate(remote, allow_download=False)
    assert str(first / "data.tar.gz") in str(error.value)
    assert str(second / "repack.tar.gz") in str(error.value)
    assert "http://127.0.0.1:9/data.tar.gz" in str(error.value)
    (cache / "downloads").mkdir(parents=True)
    (cache / "downloads" / "data.tar.gz").write_bytes(b"cached")
    assert storage.locate(remote) == cache / "downloads" / "data.tar.gz"
    (second / "repack.tar.gz").write_bytes(b"x")
    assert storage.locate(remote) == second / "repack.tar.gz"  # the search path comes before the cache


def test_download_checks_sha256_then_renames(http_server, cache, monkeypatch):
    served, url = http_server
    payload = b"rnnlab" * 100000
    (served / "data.bin").write_bytes(payload)
    monkeypatch.delenv("RNNLAB_DATASETS", raising=False)
    remote = storage.RemoteFile("data.bin", f"{url}/data.bin", hashlib.sha256(payload).hexdigest())
    path = storage.locate(remote)
    assert path == cache / "downloads" / "data.bin"
    assert path.read_bytes() == payload
    assert [p.name for p in path.parent.iterdir()] == ["data.bin"]  # no temp file left


def test_download_with_wrong_checksum_leaves_nothing(http_server, cache, monkeypatch):
    served, url = http_server
    (served / "data.bin").write_bytes(b"tampered")
    monkeypatch.delenv("RNNLAB_DATASETS", raising=False)
    remote = storage.RemoteFile("data.bin", f"{url}/data.bin", "0" * 64)
    with pytest.raises(storage.ChecksumError, match="Checksum mismatch"):
        storage.locate(remote)
    assert list((cache / "downloads").iterdir()) == []


def test_failed_download_says_how_to_get_the_file(cache, monkeypatch):
    monkeypatch.delenv("RNNLAB_DATASETS", raising=False)
    remote = storage.RemoteFile("data.bin", "http://127.0.0.1:9/data.bin", "0" * 64)
    with pytest.raises(
        storage.DatasetNotFoundError, match="Download it from http://127.0.0.1:9/data.bin by hand"
    ):
        storage.locate(remote)


def test_checksum_mismatch_in_a_search_path_folder_suggests_no_deletion(tmp_path, monkeypatch, cache):
    folder = tmp_path / "shared"
    folder.mkdir()
    path = folder / "data.tar.gz"
    path.write_bytes(b"abc")
    monkeypatch.setenv("RNNLAB_DATASETS", str(folder))
    with pytest.raises(storage.ChecksumError) as error:
        storage.verify(path, "0" * 64, url="https://example.org/data.tar.gz")
    message = str(error.value)
    assert str(path) in message
    assert f"expected sha256 {'0' * 64}, received sha256 {hashlib.sha256(b'abc').hexdigest()}" in message
    assert "delete" not in message.lower()
    assert "https://example.org/data.tar.gz" in message and "RNNLAB_DATASETS" in message
    assert path.read_bytes() == b"abc"


def test_checksum_mismatch_in_the_cache_suggests_deleting_rnnlabs_copy(tmp_path, monkeypatch, cache):
    path = cache / "downloads" / "data.tar.gz"
    path.parent.mkdir(parents=True)
    path.write_bytes(b"abc")
    with pytest.raises(storage.ChecksumError) as error:
        storage.verify(path, "0" * 64)
    message = str(error.value)
    assert f"delete {path} and rnnlab downloads it again" in message


def test_damaged_archive_in_a_search_path_folder_suggests_no_deletion(tmp_path, monkeypatch, cache):
    folder = tmp_path / "shared"
    folder.mkdir()
    archive = make_tar(tmp_path / "full.tar.gz", {f"f{i}.txt": bytes(range(256)) * 400 for i in range(20)})
    data = archive.read_bytes()
    (folder / "cut.tar.gz").write_bytes(data[: len(data) // 2])
    (folder / "notes.tar.gz").write_text("this is not an archive")
    monkeypatch.setenv("RNNLAB_DATASETS", str(folder))
    for name, expected in (("cut.tar.gz", "truncated or damaged"), ("notes.tar.gz", "not a readable tar")):
        with pytest.raises(storage.CorruptArchiveError, match=expected) as error:
            list(storage.iter_tar_files(folder / name))
        assert str(folder / name) in str(error.value)
        assert "delete" not in str(error.value).lower()


def test_damaged_own_download_is_downloaded_again(http_server, cache, monkeypatch, capsys):
    served, url = http_server
    payload = b"rnnlab" * 1000
    (served / "data.bin").write_bytes(payload)
    monkeypatch.delenv("RNNLAB_DATASETS", raising=False)
    remote = storage.RemoteFile("data.bin", f"{url}/data.bin", hashlib.sha256(payload).hexdigest())
    path = cache / "downloads" / "data.bin"
    path.parent.mkdir(parents=True)
    path.write_bytes(payload[:100])  # an interrupted copy
    assert storage.verify_located(remote, storage.locate(remote)) == path
    assert path.read_bytes() == payload
    err = [line for line in capsys.readouterr().err.splitlines() if line.startswith("rnnlab:")]  # no bar
    assert len(err) == 1 and str(path) in err[0] and "downloaded again" in err[0]


def test_damaged_own_download_without_network_says_what_to_do(cache, monkeypatch):
    monkeypatch.delenv("RNNLAB_DATASETS", raising=False)
    remote = storage.RemoteFile("data.bin", "http://127.0.0.1:9/data.bin", "0" * 64)
    path = cache / "downloads" / "data.bin"
    path.parent.mkdir(parents=True)
    path.write_bytes(b"abc")
    with pytest.raises(storage.DatasetNotFoundError) as error:
        storage.verify_located(remote, path)
    message = str(error.value)
    assert f"expected sha256 {'0' * 64}, received sha256 {hashlib.sha256(b'abc').hexdigest()}" in message
    assert "Download it from http://127.0.0.1:9/data.bin by hand" in message


def test_damaged_search_path_file_is_never_replaced(tmp_path, cache, monkeypatch):
    folder = tmp_path / "shared"
    folder.mkdir()
    (folder / "repack.bin").write_bytes(b"abc")
    monkeypatch.setenv("RNNLAB_DATASETS", str(folder))
    monkeypatch.setattr(storage, "download", lambda *args: pytest.fail("must not download"))
    remote = storage.RemoteFile("data.bin", "http://127.0.0.1:9/data.bin", "0" * 64, {"repack.bin": "1" * 64})
    with pytest.raises(storage.ChecksumError, match=f"expected sha256 {'1' * 64}"):
        storage.verify_located(remote, storage.locate(remote))
    assert (folder / "repack.bin").read_bytes() == b"abc"
