"""Tiny Shakespeare (karpathy/char-rnn): 1,115,394 characters of Shakespeare's plays.

Read from `tinyshakespeare.txt` (or the official name `input.txt`) in a
`RNNLAB_DATASETS` folder, else the cache, else downloaded from the official
URL; sha256-checked. The split follows nanoGPT's `shakespeare_char`: the first
90% of the characters train, the last 10% validate, so numbers compare.

Example:
>>> train, validation = load_splits()  # doctest: +SKIP
>>> len(train), len(validation)  # doctest: +SKIP
(1003854, 111540)
"""

from rnnlab.datasets import storage

SUBDIR = ""  # the file sits directly in a RNNLAB_DATASETS folder
OFFICIAL = storage.RemoteFile(
    filename="input.txt",
    url="https://raw.githubusercontent.com/karpathy/char-rnn/master/data/tinyshakespeare/input.txt",
    sha256="86c4e6aa9db7c042ec79f339dcb96d42b0075e16b8fc2e86bf0ca57e2dc565ed",
    mirrors={"tinyshakespeare.txt": "86c4e6aa9db7c042ec79f339dcb96d42b0075e16b8fc2e86bf0ca57e2dc565ed"},
)
NUM_CHARACTERS = 1_115_394
TRAIN_FRACTION = 0.9


def path(allow_download=True):
    """Local, checksum-verified path of the text."""
    located = storage.locate(OFFICIAL, SUBDIR, allow_download=allow_download)
    return storage.verify_located(OFFICIAL, located, SUBDIR)


def load_text(allow_download=True):
    """The whole text as one str."""
    return path(allow_download).read_text(encoding="utf-8")


def load_splits(allow_download=True):
    """`(train, validation)`: the first 90% of the characters and the last 10% (nanoGPT's split)."""
    text = load_text(allow_download)
    cut = int(len(text) * TRAIN_FRACTION)
    return text[:cut], text[cut:]
