"""`rnnlab.datasets.sst`: the tree parser, the label sets and the official splits' counts."""

import io
import zipfile

import pytest

from rnnlab.datasets import sst, storage


def test_every_phrase_of_a_tree_with_its_label_root_first():
    tree = "(3 (2 It) (4 (2 -LRB-) (3 (3 lovely) (2 co-writer\\/director)) (2 -RRB-)))"
    assert sst.parse_tree(tree) == [
        (3, ["It", "(", "lovely", "co-writer/director", ")"]),
        (2, ["It"]),
        (4, ["(", "lovely", "co-writer/director", ")"]),
        (2, ["("]),
        (3, ["lovely", "co-writer/director"]),
        (3, ["lovely"]),
        (2, ["co-writer/director"]),
        (2, [")"]),
    ]


@pytest.mark.parametrize(
    "line", ["(3 (2 a)", "(7 a)", "a (2 b)", "(2 a) (3 b)", "(2 (x a))", "(12 a)", "(3 (34 a))"]
)
def test_malformed_trees_are_refused(line):
    with pytest.raises(ValueError, match="not a sentiment tree"):
        sst.parse_tree(line)


@pytest.fixture
def real_sst():
    if storage.find(["trees/train.txt"], sst.SUBDIR) is None:
        pytest.skip("SST not found: set RNNLAB_DATASETS to a folder holding sst/trees/")


@pytest.mark.parametrize(
    "labels, counts",
    [("sst5", (8544, 1101, 2210)), ("sst3", (8544, 1101, 2210)), ("sst2", (6920, 872, 1821))],
)
def test_the_official_splits_under_each_label_set(real_sst, labels, counts):
    loaded = [sst.load_split(split, labels) for split in sst.SPLITS]
    assert tuple(len(texts) for texts, _ in loaded) == counts
    assert set(loaded[0][1]) == set(filter(None, sst.LABEL_SETS[labels]))
    assert loaded[0][0][0].startswith("The Rock is destined to be the 21st Century 's new")


def test_phrases_are_every_labelled_node(real_sst):
    texts, labels = sst.load_split("dev", "sst5", phrases=True)
    roots, _ = sst.load_split("dev", "sst5")
    assert len(texts) == sum(line.count("(") for line in sst.read_trees("dev"))
    assert set(roots) <= set(texts)


def test_the_zip_is_read_like_the_folder_and_a_wrong_file_is_refused(real_sst, tmp_path, monkeypatch):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for split in sst.SPLITS:
            archive.writestr(f"trees/{split}.txt", "\n".join(sst.read_trees(split)) + "\n")
    (tmp_path / "sst").mkdir()
    zip_path = tmp_path / "sst" / sst.ZIP.filename
    zip_path.write_bytes(buffer.getvalue())
    monkeypatch.setenv("RNNLAB_DATASETS", str(tmp_path))
    monkeypatch.setattr(
        sst, "ZIP", storage.RemoteFile(sst.ZIP.filename, sst.ZIP.url, storage.sha256_of(zip_path))
    )
    assert sst.read_trees("test", allow_download=False)[0].startswith("(2 (3 (3 Effective)")
    monkeypatch.setitem(sst.TREE_SHA256, "test", "0" * 64)
    with pytest.raises(storage.ChecksumError, match="trees/test.txt is not the official file"):
        sst.read_trees("test", allow_download=False)
