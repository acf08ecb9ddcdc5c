"""Multi30k task 1 (Elliott et al., 2016): Flickr30k image captions in English, German and French.

Sentence-aligned files, one caption per line: 29,000 train, 1,014 val and
1,000 test (`test_2016_flickr`) lines in each language. The nine raw files
`{train,val,test_2016_flickr}.{en,de,fr}.gz` are read from a `multi30k/`
folder in `RNNLAB_DATASETS`, else from the cache, else downloaded there from
https://github.com/multi30k/dataset/tree/master/data/task1/raw; every file's
sha256 is checked before it is read.

Community convention: train on `train`, select on `val`, report on
`test_2016_flickr` with sacreBLEU on detokenized text.

Example:
>>> de, en = load_pairs("train")  # doctest: +SKIP
>>> len(de), de[0]  # doctest: +SKIP
(29000, 'Zwei junge weiße Männer sind im Freien in der Nähe vieler Büsche.')
"""

from rnnlab.datasets import storage, wmt

SUBDIR = "multi30k"  # folder inside each RNNLAB_DATASETS folder, and inside the cache's downloads/
URL = "https://github.com/multi30k/dataset/raw/master/data/task1/raw/"
SPLITS = ("train", "val", "test_2016_flickr")
LANGUAGES = ("en", "de", "fr")
EXPECTED_COUNTS = {"train": 29000, "val": 1014, "test_2016_flickr": 1000}  # lines per language
SHA256 = {  # of the official repository files
    "train.en.gz": "d79cfa999dd4c51d2cb42499b6796d5a882c3a8a961923c25a898c90f8bbd56f",
    "train.de.gz": "726e39b2fa9eb9ffb6dc763fb35a179f80fae06ffc5d28b6ace5faa883de28a6",
    "train.fr.gz": "622e75069e9f4c577425c4f277116ce66e63a2401c0a2312d90073cb12379a3c",
    "val.en.gz": "14f7d25ddd868909a9213e361768460edcacdd6ab9d1e77b92560dc10c10dc28",
    "val.de.gz": "f0cba2f995189cf5770f29a8a9a537a3ad3f51657ad873405082ff6863a5e75a",
    "val.fr.gz": "ca3106f1a72390591d25f6c45cb4cd39dec4cd3f123e099748a3ce5256c160e9",
    "test_2016_flickr.en.gz": "611d361c6334bc7246101d48097c13cf5c4413c5befc793cc629934359d532d9",
    "test_2016_flickr.de.gz": "9204244e408ccb38d2a55cfcd344df15005fc42a07a6e55ca6c52b6ababb8cc8",
    "test_2016_flickr.fr.gz": "6d326e188d259fb1d04ac19eae3af956559b3a0b93d7635e56c90987c40c8b90",
}


def splits():
    """The split names, in order: `('train', 'val', 'test_2016_flickr')`."""
    return SPLITS


def remote_file(split, language):
    """The `RemoteFile` of one split in one language.

    Args:
        split: one of `SPLITS`.
        language: one of `LANGUAGES`.

    Example:
    >>> remote_file("val", "de").url
    'https://github.com/multi30k/dataset/raw/master/data/task1/raw/val.de.gz'
    """
    if split not in SPLITS:
        raise ValueError(f"Expected split in {SPLITS}. Received: split={split!r}")
    if language not in LANGUAGES:
        raise ValueError(f"Expected language in {LANGUAGES}. Received: language={language!r}")
    filename = f"{split}.{language}.gz"
    return storage.RemoteFile(filename, URL + filename, SHA256[filename])


def path(split, language, allow_download=True):
    """Local, checksum-verified path of one raw file (search path, cache, or downloaded).

    Args:
        split: one of `SPLITS`.
        language: one of `LANGUAGES`.
        allow_download: download the file into the cache when it is nowhere else.

    Raises:
        DatasetNotFoundError: not found (and not downloadable).
        ChecksumError: the file found is not the official one.

    Example:
    >>> path("train", "de")  # doctest: +SKIP
    PosixPath('/data/datasets/multi30k/train.de.gz')
    """
    remote = remote_file(split, language)
    located = storage.locate(remote, SUBDIR, allow_download=allow_download)
    return storage.verify_located(remote, located, SUBDIR)


def load_pairs(split, src="de", tgt="en"):
    """Aligned source and target sentences of one split.

    Args:
        split: `"train"`, `"val"` or `"test_2016_flickr"`.
        src: source language, `"en"`, `"de"` or `"fr"`.
        tgt: target language, another of those.

    Returns:
        `(sources, targets)`: two lists of str of equal length, without the
        trailing newline.

    Raises:
        DatasetError: the two files have different numbers of lines.

    Example:
    >>> de, en = load_pairs("val")  # doctest: +SKIP
    >>> len(de), len(en)  # doctest: +SKIP
    (1014, 1014)
    """
    if split not in SPLITS:
        raise ValueError(f"Expected split in {SPLITS}. Received: split={split!r}")
    for name, language in (("src", src), ("tgt", tgt)):
        if language not in LANGUAGES:
            raise ValueError(f"Expected {name} in {LANGUAGES}. Received: {name}={language!r}")
    if src == tgt:
        raise ValueError(f"Expected two different languages. Received: src={src!r}, tgt={tgt!r}")
    return wmt.read_parallel(path(split, src), path(split, tgt))
