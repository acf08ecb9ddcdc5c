"""`rnnlab.datasets.labelled_text`: CSV, TSV, JSON Lines and label folders, read the same way,
and each bad file refused in one line naming the file and line."""

import json

import pytest

from rnnlab.datasets.labelled_text import label_names, read_labelled
from rnnlab.datasets.storage import DatasetError

EXAMPLES = [
    ("A quiet, moving film.", "positive"),
    ("Nothing happens; then, less.", "negative"),
    ('It is "fine", I guess.\nSecond line.', "neutral"),
    ("Ein schöner Film 你好", "positive"),
]


def write_csv(path, rows, delimiter=","):
    def quote(field):
        return '"' + field.replace('"', '""') + '"'

    lines = [f"text{delimiter}label"] + [f"{quote(text)}{delimiter}{label}" for text, label in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_csv_tsv_jsonl_and_folders_give_the_same_examples(tmp_path):
    expected = ([text for text, _ in EXAMPLES], [label for _, label in EXAMPLES])
    assert read_labelled(write_csv(tmp_path / "a.csv", EXAMPLES)) == expected
    assert read_labelled(write_csv(tmp_path / "a.tsv", EXAMPLES, "\t")) == expected
    jsonl = tmp_path / "a.jsonl"
    jsonl.write_text(
        "\n".join(json.dumps({"text": t, "label": y, "id": i}) for i, (t, y) in enumerate(EXAMPLES))
    )
    assert read_labelled(jsonl) == expected
    for i, (text, label) in enumerate(EXAMPLES):
        (tmp_path / "folder" / label).mkdir(parents=True, exist_ok=True)
        (tmp_path / "folder" / label / f"{i}.txt").write_text(text, encoding="utf-8")
    texts, labels = read_labelled(tmp_path / "folder")
    assert sorted(zip(texts, labels, strict=True)) == sorted(EXAMPLES)


def test_other_field_names_integer_labels_and_their_order(tmp_path):
    path = tmp_path / "stars.jsonl"
    path.write_text('{"review": "good", "stars": 10}\n\n{"review": "bad", "stars": "2"}\n')
    texts, labels = read_labelled(path, text_field="review", label_field="stars")
    assert texts == ["good", "bad"] and labels == ["10", "2"] and label_names(labels) == ["2", "10"]


def test_another_encoding_when_asked(tmp_path):
    path = tmp_path / "latin.csv"
    path.write_bytes("text,label\ncafé,pos\n".encode("latin-1"))
    with pytest.raises(DatasetError, match=r"latin.csv is not UTF-8 text \(byte 14"):
        read_labelled(path)
    assert read_labelled(path, encoding="latin-1") == (["café"], ["pos"])


@pytest.mark.parametrize(
    "name, content, message",
    [
        (
            "a.csv",
            "review,label\nx,pos\n",
            "a.csv, line 1: no column 'text'. Found the columns ['review', 'label']",
        ),
        ("a.csv", "text,label\nx,pos\ny,neg,extra\n", "a.csv, line 3: 3 fields. Expected 2"),
        ("a.csv", "text,label\nx,pos\n  ,neg\n", "a.csv, line 3: an empty text"),
        ("a.csv", "text,label\nx,\n", "a.csv, line 2: no label"),
        ("a.csv", "", "a.csv holds no examples"),
        ("a.jsonl", '{"text": "x", "label": "p"}\n{"text": "y"\n', "a.jsonl, line 2: not JSON"),
        ("a.jsonl", '["x", "p"]\n', "a.jsonl, line 1: a JSON list. Expected an object"),
        ("a.jsonl", '{"text": "x", "label": [1]}\n', "a.jsonl, line 1: the label is [1]"),
        ("a.jsonl", '{"text": "x", "label": true}\n', "a.jsonl, line 1: the label is true"),
        ("a.jsonl", '{"text": 5, "label": "p"}\n', "a.jsonl, line 1: the text is 5"),
        ("a.txt", "x\n", "cannot tell its format from the name"),
        ("a.csv", "text,label,text\nx,p,y\n", "a.csv, line 1: the column 'text' appears twice"),
        ("a.jsonl", '{"text": "x", "label": null}\n', "a.jsonl, line 1: no label"),
        ("a.jsonl", '{"text": "x", "label": ' + "9" * 5000 + "}\n", "a.jsonl, line 1: not JSON"),
    ],
)
def test_bad_files_are_one_line_naming_file_and_line(tmp_path, name, content, message):
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    with pytest.raises(DatasetError) as error:
        read_labelled(path)
    assert message in str(error.value) and "\n" not in str(error.value)


def test_a_text_column_taken_for_labels_is_refused(tmp_path):
    rows = [(f"review {i}", f"label {i}") for i in range(1001)]
    with pytest.raises(DatasetError, match="1,001 distinct values: it looks like text, not labels"):
        read_labelled(write_csv(tmp_path / "a.csv", rows))


def test_missing_paths_and_folders_without_labels(tmp_path):
    with pytest.raises(DatasetError, match="is nothing"):
        read_labelled(tmp_path / "missing.csv")
    (tmp_path / "flat").mkdir()
    (tmp_path / "flat" / "a.txt").write_text("x")
    with pytest.raises(DatasetError, match="folder without subfolders"):
        read_labelled(tmp_path / "flat")
    (tmp_path / "flat" / "pos").mkdir()
    with pytest.raises(DatasetError, match="pos holds no .txt files"):
        read_labelled(tmp_path / "flat")


def test_a_byte_order_mark_and_spaces_around_labels(tmp_path):
    path = tmp_path / "excel.csv"
    path.write_bytes("\ufefftext,label\nGood film, pos \n".replace("Good film", '"Good film"').encode())
    assert read_labelled(path) == (["Good film"], ["pos"])


def test_hidden_folders_are_skipped_and_imdbs_unlabelled_folder_is_refused(tmp_path):
    for label in ("pos", "neg", ".git", "__MACOSX"):
        (tmp_path / "data" / label).mkdir(parents=True)
        (tmp_path / "data" / label / "1.txt").write_text(f"a {label} text")
    (tmp_path / "data" / "pos" / "nested").mkdir()
    (tmp_path / "data" / "pos" / "nested" / "2.txt").write_text("not read")
    texts, labels = read_labelled(tmp_path / "data")
    assert sorted(labels) == ["neg", "pos"] and "not read" not in texts
    (tmp_path / "data" / "unsup").mkdir()
    with pytest.raises(DatasetError, match="IMDb's unlabelled reviews are not a label"):
        read_labelled(tmp_path / "data")


def test_label_names_order_integers_stably():
    assert label_names(["01", "1", "2", "10"]) == ["01", "1", "2", "10"]
