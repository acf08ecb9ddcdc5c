"""The Stanford Sentiment Treebank (Socher et al., 2013): 11,855 movie-review sentences, each a
parse tree whose every phrase carries a sentiment label from 0 (very negative) to 4 (very
positive); the root's label is the sentence's.

Read from an `sst/trees/` folder (or the official `trainDevTestTrees_PTB.zip`) in a
`RNNLAB_DATASETS` folder, else the cache, else downloaded from the official URL; every file's
sha256 is checked. Splits: `train` (8,544 sentences), `dev` (1,101: selection) and `test`
(2,210: report). Label sets, as the community uses them:

- `sst5`: the five labels;
- `sst3`: 0-1 negative, 2 neutral, 3-4 positive (the article's three labels);
- `sst2`: neutral sentences dropped, 0-1 negative, 3-4 positive (6,920 / 872 / 1,821).

Example:
>>> texts, labels = load_split("train", "sst3")  # doctest: +SKIP
>>> texts[0], labels[0]  # doctest: +SKIP
("The Rock is destined to be the 21st Century 's new `` Conan '' ...", 'positive')
"""

import hashlib
import zipfile

from rnnlab.datasets import storage

SUBDIR = "sst"
SPLITS = ("train", "dev", "test")
SENTENCES = {"train": 8544, "dev": 1101, "test": 2210}
ZIP = storage.RemoteFile(
    filename="trainDevTestTrees_PTB.zip",
    url="https://nlp.stanford.edu/sentiment/trainDevTestTrees_PTB.zip",
    # as pinned by other projects for the official file (789,539 bytes); not checked here
    sha256="5c613a4f673fc74097d523a2c83f38e0cc462984d847b82c7aaf36b01cbbbfcc",
)
TREE_SHA256 = {  # of the files inside the zip, `trees/NAME.txt`
    "train": "e2f3f41b0b1e6d4dddc0effe3bfc2d27ed8928079aa9a03d652311614fc5feb7",
    "dev": "0e9336aed6e4730e19f58d00a77b3f0297efdb755f7b5e598c98a05e3f97ea40",
    "test": "6e54806dee95cf80cd918e7dfb3f6770f6df24bf826f289a4d1f709e1c8f6761",
}
LABEL_SETS = {
    "sst5": ("very negative", "negative", "neutral", "positive", "very positive"),
    "sst3": ("negative", "negative", "neutral", "positive", "positive"),
    "sst2": ("negative", "negative", None, "positive", "positive"),  # None: dropped
}
LABEL_DIGITS = ("0", "1", "2", "3", "4")
PTB_ESCAPES = {"-LRB-": "(", "-RRB-": ")"}  # and `\/` is `/`


def parse_tree(line):
    """`[(label, words), ...]`: every labelled phrase of one PTB-style tree, the root first.

    Raises:
        ValueError: not a well-formed tree.

    Example:
    >>> parse_tree("(3 (2 a) (4 (3 lovely) (2 film)))")[:2]
    [(3, ['a', 'lovely', 'film']), (2, ['a'])]
    """
    tokens = line.replace("(", " ( ").replace(")", " ) ").split()
    phrases, position = [], 0

    def node():
        nonlocal position
        if tokens[position] != "(" or position + 1 >= len(tokens) or tokens[position + 1] not in LABEL_DIGITS:
            raise ValueError(f"expected '(LABEL' at token {position}")
        label, position = int(tokens[position + 1]), position + 2
        slot = len(phrases)
        phrases.append(None)
        words = []
        while position < len(tokens) and tokens[position] != ")":
            if tokens[position] == "(":
                words.extend(node())
            else:
                words.append(PTB_ESCAPES.get(tokens[position], tokens[position].replace("\\/", "/")))
                position += 1
        if position >= len(tokens):
            raise ValueError("unbalanced parentheses")
        position += 1
        phrases[slot] = (label, words)
        return words

    try:
        node()
    except (IndexError, ValueError) as error:
        raise ValueError(f"not a sentiment tree ({error}): {line[:60]!r}") from None
    if position != len(tokens):
        raise ValueError(f"not a sentiment tree (text after the root): {line[:60]!r}")
    return phrases


def read_trees(split, allow_download=True):
    """The lines (one tree each) of one split, from the `trees/` folder or the zip.

    Raises:
        DatasetNotFoundError, ChecksumError: as `rnnlab.datasets.storage`.
    """
    if split not in SPLITS:
        raise ValueError(f"Expected split in {SPLITS}. Received: split={split!r}")
    name = f"{split}.txt"
    folder = storage.find([f"trees/{name}"], SUBDIR)
    if folder is not None:
        storage.verify(folder, TREE_SHA256[split])
        data = folder.read_bytes()
    else:
        archive = storage.verify_located(
            ZIP, storage.locate(ZIP, SUBDIR, allow_download=allow_download), SUBDIR
        )
        try:
            with zipfile.ZipFile(archive) as opened:
                data = opened.read(f"trees/{name}")
        except (zipfile.BadZipFile, KeyError) as error:
            raise storage.CorruptArchiveError(f"{archive}: cannot read trees/{name} ({error}).") from None
        if hashlib.sha256(data).hexdigest() != TREE_SHA256[split]:
            raise storage.ChecksumError(f"{archive}: trees/{name} is not the official file.")
    lines = [line for line in data.decode("utf-8").split("\n") if line.strip()]
    if len(lines) != SENTENCES[split]:
        raise storage.DatasetError(f"SST {split}: {len(lines)} trees. Expected {SENTENCES[split]}.")
    return lines


def load_split(split, labels="sst5", phrases=False, allow_download=True):
    """`(texts, labels)` of one split: the sentences (or, with `phrases`, every labelled phrase
    of every tree, sentences first) and their label names under `labels`.

    Args:
        split: 'train', 'dev' or 'test'.
        labels: 'sst5', 'sst3' or 'sst2' (see the module docstring).
        phrases: every phrase instead of the root only (training data, as the papers use it).
    """
    if labels not in LABEL_SETS:
        raise ValueError(f"Expected labels in {tuple(LABEL_SETS)}. Received: labels={labels!r}")
    names = LABEL_SETS[labels]
    texts, targets = [], []
    for number, line in enumerate(read_trees(split, allow_download), start=1):
        try:
            nodes = parse_tree(line)
        except ValueError as error:
            raise storage.DatasetError(f"SST {split}.txt, line {number}: {error}") from None
        for label, words in nodes if phrases else nodes[:1]:
            if names[label] is not None:
                texts.append(" ".join(words))
                targets.append(names[label])
    return texts, targets
