"""`rnnlab.datasets.user_text`: the user's text files, read whole or refused with one line
naming the file (and the byte)."""

import gzip
import os

import pytest

from rnnlab.datasets import user_text
from rnnlab.datasets.storage import DatasetError


def test_a_folder_is_its_txt_files_in_sorted_order_joined_by_line_breaks(tmp_path):
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "2.txt").write_text("third\n")
    (tmp_path / "a.txt").write_text("first")  # no final line break: one is added
    (tmp_path / "b" / "1.txt").write_text("second\n")
    (tmp_path / "notes.md").write_text("not read")
    assert user_text.read_text(tmp_path) == "first\nsecond\nthird\n"


def test_utf8_with_a_byte_order_mark_and_windows_line_ends(tmp_path):
    path = tmp_path / "book.txt"
    path.write_bytes("\ufeffZeile 1\r\nÄrger 你好\r\n".encode())
    assert user_text.read_text(path) == "Zeile 1\nÄrger 你好\n"


@pytest.mark.parametrize(
    "data, message",
    [
        ("caf\u00e9".encode("latin-1"), r"is not UTF-8 text \(byte 3: b'\\xe9'\)"),
        (b"abc\0def", "holds a NUL byte at byte 3"),
        (b" \n\t\n", "holds no text"),
        (b"", "holds no text"),
    ],
)
def test_bad_bytes_are_refused_naming_the_file_and_byte(tmp_path, data, message):
    path = tmp_path / "bad.txt"
    path.write_bytes(data)
    with pytest.raises(DatasetError, match=message) as error:
        user_text.read_text(path)
    assert str(path) in str(error.value)


def test_missing_paths_fifos_and_folders_without_text_are_refused(tmp_path):
    with pytest.raises(DatasetError, match="is nothing"):
        user_text.read_text(tmp_path / "missing.txt")
    (tmp_path / "empty").mkdir()
    with pytest.raises(DatasetError, match="folder without .txt files"):
        user_text.read_text(tmp_path / "empty")
    fifo = tmp_path / "pipe.txt"
    os.mkfifo(fifo)
    with pytest.raises(DatasetError, match="is a FIFO"):
        user_text.read_text(fifo)  # refused without opening it (opening would block)


def test_text_too_large_for_memory_is_refused_from_its_size(tmp_path):
    path = tmp_path / "big.txt"
    path.write_text("x" * 1000)
    user_text.check_size([path], memory=16 * 1000)  # just fits
    message = "holds 1,000 bytes of text.*more than this machine's 15.6 KiB of memory"
    with pytest.raises(DatasetError, match=message) as error:
        user_text.check_size([path], memory=16 * 1000 - 1)
    assert str(path) in str(error.value)


def test_split_tail_keeps_at_least_one_item_each_side():
    assert user_text.split_tail(list(range(20)), 0.1) == (list(range(18)), [18, 19])
    assert user_text.split_tail("ab", 0.1) == ("a", "b")
    with pytest.raises(ValueError, match="at least two"):
        user_text.split_tail("a", 0.1)


def test_a_gzip_file_counts_at_its_uncompressed_size(tmp_path):
    path = tmp_path / "big.txt.gz"
    path.write_bytes(gzip.compress(b"x" * 100_000))
    assert path.stat().st_size < 1000 and user_text.text_size(path) == 100_000
    with pytest.raises(DatasetError, match="holds 97.7 KiB of text"):
        user_text.check_size([path], memory=16 * 100_000 - 1)
