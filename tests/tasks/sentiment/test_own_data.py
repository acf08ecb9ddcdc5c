"""`rnnlab train sentiment --data` (any labels, from CSV, TSV, JSON Lines or folders) and
`--dataset sst2|sst3|sst5`: label names in the run, every label's probability in `predict`."""

import csv
import json

import numpy as np
import pytest

from rnnlab.cli import main
from rnnlab.datasets import sst, storage
from rnnlab.tasks.sentiment.labelled import stratified_test_indices
from rnnlab.tasks.sentiment.preprocessor import SentimentPreprocessor, load_preprocessor

SMALL = ["--epochs", "1", "--units", "8", "--embedding-dim", "8", "--max-features", "60", "--maxlen", "20"]
WORDS = {
    "positive": "wonderful great moving superb lovely",
    "neutral": "average plain ordinary usual fine",
    "negative": "awful boring dull terrible weak",
}


def write_csv(path, rows, fields=("text", "label")):
    with open(path, "w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow(fields)
        writer.writerows(rows)
    return path


@pytest.fixture
def reviews(tmp_path):
    """60 short reviews, 20 per label, as a CSV file."""
    rng = np.random.default_rng(0)
    rows = []
    for i in range(20):
        for label, words in WORDS.items():
            picked = " ".join(rng.choice(words.split(), 3))
            rows.append((f"The film, number {i}, was {picked}.", label))
    return write_csv(tmp_path / "reviews.csv", rows)


def test_three_labels_train_and_predict_every_label(reviews, tmp_path, capsys):
    run = tmp_path / "run"
    assert main(["train", "sentiment", *SMALL, "--data", str(reviews), "--output", str(run)]) == 0
    metrics = json.loads((run / "metrics.json").read_text())
    assert (
        metrics["num_test"] == 12 and metrics["num_train"] + metrics["num_validation"] == 48
    )  # 20% per label
    assert json.loads((run / "preprocessor.json").read_text())["labels"] == [
        "negative",
        "neutral",
        "positive",
    ]
    matrix = metrics["confusion_matrix"]  # rows: true label, columns: predicted
    assert matrix["labels"] == ["negative", "neutral", "positive"]
    assert [sum(row) for row in matrix["counts"]] == [4, 4, 4]
    assert np.trace(matrix["counts"]) / 12 == pytest.approx(metrics["test_accuracy"], abs=1e-6)
    assert (run / "confusion_matrix.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    capsys.readouterr()
    assert main(["predict", str(run), "a wonderful, moving film", "--json"]) == 0
    record = json.loads(capsys.readouterr().out)
    assert set(record["probabilities"]) == {"negative", "neutral", "positive"}
    assert sum(record["probabilities"].values()) == pytest.approx(1.0, abs=1e-5)
    assert record["label"] == max(record["probabilities"], key=record["probabilities"].get)
    assert record["probability"] == record["probabilities"][record["label"]]
    assert main(["predict", str(run), "a wonderful film", "--explain", "--json"]) == 0
    record = json.loads(capsys.readouterr().out)
    assert record["explained"] == record["label"] and len(record["contributions"]) == 3
    assert main(["lab", "states", str(run), "--text", "a fine film", "--output", str(tmp_path / "s")]) == 2
    assert "it reads two-label runs" in capsys.readouterr().err


def test_two_labels_of_any_name_use_one_sigmoid_output(tmp_path, capsys):
    rows = [(f"message {i}: {'win money now' if i % 2 else 'see you at lunch'}", "spam" if i % 2 else "ham")
            for i in range(40)]  # fmt: skip
    data = tmp_path / "mail.jsonl"
    data.write_text("\n".join(json.dumps({"body": t, "kind": y}) for t, y in rows), encoding="utf-8")
    run = tmp_path / "run"
    args = ["--data", str(data), "--text-field", "body", "--label-field", "kind"]
    assert main(["train", "sentiment", *SMALL, *args, "--output", str(run)]) == 0
    capsys.readouterr()
    assert main(["predict", str(run), "win money now"]) == 0
    label, probability, text = capsys.readouterr().out.rstrip("\n").split("\t")
    assert label in {"ham", "spam"} and (label == "spam") == (float(probability) >= 0.5)


def test_validation_and_test_files_and_a_label_only_in_the_test_file(reviews, tmp_path, capsys):
    valid = write_csv(tmp_path / "valid.csv", [("a superb film", "positive"), ("a dull film", "negative")])
    test = write_csv(tmp_path / "test.csv", [("an ordinary film", "neutral")] * 3)
    run = tmp_path / "run"
    args = ["--data", str(reviews), "--valid-data", str(valid), "--test-data", str(test)]
    assert main(["train", "sentiment", *SMALL, *args, "--output", str(run)]) == 0
    metrics = json.loads((run / "metrics.json").read_text())
    assert (metrics["num_train"], metrics["num_validation"], metrics["num_test"]) == (60, 2, 3)
    other = write_csv(tmp_path / "other.csv", [("a superb film", "positive"), ("a dull film", "negative")])
    assert main(["evaluate", str(run), "--test-data", str(other)]) == 0
    [record] = run.glob("evaluation-test_data-other.csv-*.json")
    counts = json.loads(record.read_text())["confusion_matrix"]["counts"]
    assert [sum(row) for row in counts] == [1, 0, 1]
    assert len(list(run.glob("confusion_matrix-test_data-other.csv-*.png"))) == 1
    strange = write_csv(tmp_path / "strange.csv", [("a film", "sarcastic")])
    assert main(["evaluate", str(run), "--test-data", str(strange)]) == 2
    err = capsys.readouterr().err
    assert f"{strange} has the label 'sarcastic', which the training texts do not have" in err


def test_a_stratified_split_keeps_each_labels_share():
    labels = ["a"] * 50 + ["b"] * 10 + ["c"] * 1
    held_out = stratified_test_indices(labels, 0.2, seed=0)
    assert [labels[i] for i in held_out].count("a") == 10 and [labels[i] for i in held_out].count("b") == 2
    assert "c" not in [labels[i] for i in held_out]  # a label seen once stays in training
    assert np.array_equal(held_out, stratified_test_indices(labels, 0.2, seed=0))
    assert not np.array_equal(held_out, stratified_test_indices(labels, 0.2, seed=1))


def test_bad_labelled_files_are_one_line_and_leave_no_output(tmp_path, capsys):
    data = write_csv(tmp_path / "a.csv", [("x", "pos")], fields=("review", "label"))
    output = tmp_path / "out"
    assert main(["train", "sentiment", *SMALL, "--data", str(data), "--output", str(output)]) == 2
    err = capsys.readouterr().err
    assert "a.csv, line 1: no column 'text'. Found the columns ['review', 'label']" in err
    assert len(err.strip().splitlines()) == 1 and not list(tmp_path.glob("out*"))
    assert (
        main(["train", "sentiment", "--data", str(data), "--dataset", "sst3", "--output", str(output)]) == 2
    )
    assert "data replaces dataset" in capsys.readouterr().err
    assert main(["train", "sentiment", "--data", str(data), "--sst-phrases", "--output", str(output)]) == 2
    assert "sst_phrases trains on the phrases of the Stanford Sentiment Treebank" in capsys.readouterr().err
    assert not list(tmp_path.glob("out*"))


@pytest.fixture
def real_sst():
    if storage.find(["trees/train.txt"], sst.SUBDIR) is None:
        pytest.skip("SST not found: set RNNLAB_DATASETS to a folder holding sst/trees/")


def test_sst_through_csv_files_is_the_builtin_run(real_sst, tmp_path):
    names = sst.LABEL_SETS["sst5"]
    files = {}
    for split in sst.SPLITS:  # SST's own 0-4 labels, so that both runs order the labels alike
        texts, labels = sst.load_split(split, "sst5")
        files[split] = write_csv(
            tmp_path / f"{split}.csv", [(t, names.index(y)) for t, y in zip(texts, labels, strict=True)]
        )
    records = []
    for name, source in [
        ("builtin", ["--dataset", "sst5"]),
        (
            "csv",
            [
                "--data",
                str(files["train"]),
                "--valid-data",
                str(files["dev"]),
                "--test-data",
                str(files["test"]),
            ],
        ),
    ]:
        run = tmp_path / name
        assert main(["train", "sentiment", *SMALL, "--limit", "400", *source, "--output", str(run)]) == 0
        records.append(json.loads((run / "metrics.json").read_text()))
    builtin, from_csv = records
    assert (builtin["num_validation"], builtin["num_test"]) == (1101, 400)
    assert from_csv["history"] == builtin["history"] and from_csv["test_accuracy"] == builtin["test_accuracy"]
    labels = json.loads((tmp_path / "builtin" / "preprocessor.json").read_text())["labels"]
    assert labels == list(names)


def test_ensemble_refuses_runs_not_on_imdb(reviews, tmp_path, capsys):
    runs = []
    for seed in (0, 1):
        run = tmp_path / f"run{seed}"
        assert (
            main(
                [
                    "train",
                    "sentiment",
                    *SMALL,
                    "--data",
                    str(reviews),
                    "--seed",
                    str(seed),
                    "--output",
                    str(run),
                ]
            )
            == 0
        )
        runs.append(str(run))
    assert main(["ensemble", *runs]) == 2
    assert "it ensembles IMDb runs" in capsys.readouterr().err


def test_a_changed_data_file_is_refused_where_the_test_split_depends_on_it(reviews, tmp_path, capsys):
    run = tmp_path / "run"
    assert main(["train", "sentiment", *SMALL, "--data", str(reviews), "--output", str(run)]) == 0
    assert main(["evaluate", str(run)]) == 0
    with open(reviews, "a", encoding="utf-8") as file:
        file.write("A new review.,positive\n")
    capsys.readouterr()
    assert main(["evaluate", str(run)]) == 2
    assert "changed since the run was trained" in capsys.readouterr().err
    other = write_csv(tmp_path / "other.csv", [("an awful film", "negative"), ("a fine film", "neutral")])
    assert main(["evaluate", str(run), "--test-data", str(other)]) == 0  # its own test texts: fine


def test_one_label_is_refused_and_old_runs_have_imdbs_labels(tmp_path, capsys):
    data = write_csv(tmp_path / "one.csv", [(f"text {i}", "only") for i in range(10)])
    assert main(["train", "sentiment", *SMALL, "--data", str(data), "--output", str(tmp_path / "o")]) == 2
    assert "has one label ('only'). Expected two or more labels" in capsys.readouterr().err
    old = SentimentPreprocessor({"good": 1}, num_words=10, maxlen=5).get_config()
    del old["labels"]  # as rnnlab wrote it before runs named their labels
    (tmp_path / "preprocessor.json").write_text(json.dumps(old))
    assert load_preprocessor(tmp_path / "preprocessor.json").labels == ("negative", "positive")


def test_words_of_any_script_and_a_warning_for_text_without_spaces(tmp_path, capsys):
    spaced = [
        (f"这部 电影 {'精彩 感人' if i % 2 else '无聊 糟糕'} {i}", "好" if i % 2 else "坏") for i in range(30)
    ]
    run = tmp_path / "spaced"
    assert (
        main(
            [
                "train",
                "sentiment",
                *SMALL,
                "--data",
                str(write_csv(tmp_path / "a.csv", spaced)),
                "--output",
                str(run),
            ]
        )
        == 0
    )
    assert "no spaces between words" not in capsys.readouterr().err
    assert main(["predict", str(run), "精彩 电影", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["known_words"] == 2
    unspaced = [
        (
            f"这部电影{'非常精彩而且感人至深的故事' if i % 2 else '真的非常无聊而且糟糕透顶了'}",
            "好" if i % 2 else "坏",
        )
        for i in range(30)
    ]
    data = write_csv(tmp_path / "b.csv", unspaced)
    assert (
        main(["train", "sentiment", *SMALL, "--data", str(data), "--output", str(tmp_path / "unspaced")]) == 0
    )
    assert "no spaces between words" in capsys.readouterr().err


def test_word_vectors_from_your_own_text_feed_a_run_on_your_data(reviews, tmp_path, capsys):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    lines = [
        f"Der Film war {w} und {v}." for w in WORDS["positive"].split() for v in WORDS["negative"].split()
    ]
    (corpus / "a.txt").write_text("\n".join(lines * 4) + "\n\n", encoding="utf-8")
    (corpus / "b.txt").write_text("Ein schöner Film, très bien.\n", encoding="utf-8")
    vectors = tmp_path / "own.txt"
    args = ["--data", str(corpus), "--dim", "8", "--min-count", "1", "--epochs", "1", "--text"]
    assert main(["embeddings", "train", *args, "--output", str(vectors)]) == 0
    header, *rows = vectors.read_text(encoding="utf-8").splitlines()
    words = {row.split(" ")[0] for row in rows}
    assert header.split() == [str(len(rows)), "8"] and {"schöner", "très", "wonderful", "der"} <= words
    record = json.loads((tmp_path / "own.txt.json").read_text())
    assert record["texts"] == 101 and record["data"] == str(corpus)  # every non-blank line is a text
    run = tmp_path / "run"
    assert main(["train", "sentiment", *SMALL, "--data", str(reviews), "--embeddings", str(vectors),
                 "--output", str(run)]) == 0  # fmt: skip
    assert json.loads((run / "metrics.json").read_text())["embedding_coverage"] > 0.2
    assert main(["embeddings", "train", "--data", str(tmp_path / "none"), "--output", str(vectors)]) == 2
    assert "none is" in capsys.readouterr().err
