"""`rnnlab export RUN --format onnx`: ONNX's own RNN/LSTM/GRU nodes giving the Keras model's
probabilities, a folder that predicts through ONNX Runtime without Keras, checked files, and an
output that never replaces what rnnlab did not write."""

import itertools
import json

import numpy as np
import pytest

pytest.importorskip("onnxruntime")
import onnxruntime  # noqa: E402

from helpers import cli_in_fresh_process  # noqa: E402
from rnnlab.cli import main  # noqa: E402
from rnnlab.data.padding import pad  # noqa: E402

CASES = [
    *itertools.product(
        ["simple", "lstm", "gru"], [False, True], [False, True], ["last", "mean", "concat"], [1], [2]
    ),
    ("lstm", True, True, "last", 2, 2),  # stacked
    ("gru", False, True, "concat", 2, 3),  # stacked, three labels
    ("simple", True, False, "mean", 1, 5),
]  # (cell, bidirectional, mask, pooling, layers, labels)


@pytest.mark.parametrize("cell, bidirectional, mask, pooling, layers, labels", CASES)
def test_the_graph_gives_the_keras_models_probabilities(cell, bidirectional, mask, pooling, layers, labels):
    from rnnlab.export.onnx_classifier import classifier_graph
    from rnnlab.models.classifier import build_classifier

    model = build_classifier(
        vocab_size=40, embedding_dim=6, units=5, cell=cell, bidirectional=bidirectional, mask_zero=mask,
        pooling=pooling, num_layers=layers, num_classes=labels, sequence_length=None if mask else 12,
    )  # fmt: skip
    rng = np.random.default_rng(0)
    for weight in model.weights:  # large weights, so that every gate matters
        weight.assign(rng.normal(0.0, 0.6, weight.shape).astype("float32"))
    sequences = [rng.integers(1, 40, n).astype("int32") for n in (1, 4, 9, 12, 12)]
    expected = np.asarray(model.predict_on_batch(pad(sequences, 12)))  # rnnlab pads at the front
    ids = pad(sequences, 12, side="back") if mask else pad(sequences, 12)
    graph = classifier_graph(model)
    got = onnxruntime.InferenceSession(graph.SerializeToString()).run(None, {"token_ids": ids})[0]
    np.testing.assert_allclose(got, expected, atol=1e-5)
    assert {"simple": "RNN", "lstm": "LSTM", "gru": "GRU"}[cell] in {
        node.op_type for node in graph.graph.node
    }
    assert all(node.domain == "" for node in graph.graph.node)  # ONNX's own operators


def _reviews(path):
    rng = np.random.default_rng(1)
    words = {"good": "wonderful great superb moving", "meh": "plain average usual", "bad": "awful dull weak"}
    rows = [f"{' '.join(rng.choice(w.split(), 4))} film number {i}\t{label}" for i in range(30)
            for label, w in words.items()]  # fmt: skip
    path.write_text("text\tlabel\n" + "\n".join(rows) + "\n", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """A three-label run (bidirectional GRU, masked, concat pooling) and its export."""
    folder = tmp_path_factory.mktemp("export")
    data = _reviews(folder / "reviews.tsv")
    run = folder / "run"
    args = (
        "--epochs 2 --units 8 --embedding-dim 8 --cell gru --bidirectional --mask --bucket --pooling concat"
    )
    assert main(["train", "sentiment", *args.split(), "--data", str(data), "--output", str(run)]) == 0
    assert main(["export", str(run), "--output", str(folder / "export")]) == 0
    return run, folder / "export"


TEXTS = ["a wonderful, moving film", "dull", "plain average", "Ein schöner Film", "", "great " * 300]


def test_an_export_predicts_what_its_run_predicts(exported, capsys):
    from rnnlab.export.runtime import ExportedClassifier
    from rnnlab.tasks.sentiment.task import SentimentPredictor

    run, export = exported
    want = SentimentPredictor(run).predict(TEXTS)
    got = ExportedClassifier(export).predict(TEXTS)
    for a, b in zip(got, want, strict=True):
        assert a["label"] == b["label"] and a["known_words"] == b["known_words"]
        assert a["probabilities"] == pytest.approx(b["probabilities"], abs=1e-4)
    manifest = json.loads((export / "manifest.json").read_text())
    assert manifest["labels"] == ["bad", "good", "meh"] and manifest["inputs"][0]["padding"] == "back"
    assert set(manifest["files"]) == {"model.onnx", "preprocessor.json", "README.md"}
    run_metrics = json.loads((run / "metrics.json").read_text())
    assert manifest["metrics"]["test_accuracy"] == run_metrics["test_accuracy"]
    capsys.readouterr()
    assert main(["predict", str(export), "a wonderful, moving film", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["label"] == want[0]["label"]


def test_predict_on_an_export_imports_no_keras_or_backend(exported):
    _, export = exported
    codes, backends, out, _ = cli_in_fresh_process(["predict", export, "a wonderful film"])
    assert (codes, backends) == ([0], [])
    assert "a wonderful film" in out


def test_a_changed_file_and_foreign_outputs_are_refused(exported, tmp_path, capsys):
    import shutil

    run, export = exported
    copy = tmp_path / "copy"
    shutil.copytree(export, copy)
    model = copy / "model.onnx"
    model.write_bytes(model.read_bytes()[:-10])
    assert main(["predict", str(copy), "good"]) == 2
    assert "model.onnx is not the file `rnnlab export` wrote" in capsys.readouterr().err
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep me")
    for extra in ([], ["--overwrite"]):
        assert main(["export", str(run), "--output", str(mine), *extra]) == 2
        assert (mine / "notes.txt").read_text() == "keep me" and len(list(mine.iterdir())) == 1
    assert "rnnlab will not replace it" in capsys.readouterr().err
    (copy / "extra.txt").write_text("mine")
    assert main(["export", str(run), "--output", str(copy), "--overwrite"]) == 2
    assert "holds files rnnlab did not write (extra.txt)" in capsys.readouterr().err
    (copy / "extra.txt").unlink()
    assert main(["export", str(run), "--output", str(copy), "--overwrite"]) == 0  # its own export: replaced
    assert main(["predict", str(copy), "good"]) == 0
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temp folder left


@pytest.mark.parametrize("cell, layers, tied", [("simple", 1, False), ("lstm", 2, True), ("lstm", 1, False),
                                                ("gru", 2, False), ("gru", 1, True)])  # fmt: skip
def test_one_step_of_a_language_model_gives_the_keras_cells_logits_and_states(cell, layers, tied):
    from rnnlab.export.onnx_lm import lm_step_graph
    from rnnlab.export.runtime import OnnxStepper
    from rnnlab.models.language_model import Generator, build_language_model

    model = build_language_model(30, embedding_dim=8, units=8, cell=cell, num_layers=layers, tie_weights=tied)
    rng = np.random.default_rng(0)
    for weight in model.weights:
        weight.assign(rng.normal(0.0, 0.5, weight.shape).astype("float32"))
    graph, sizes = lm_step_graph(model)
    keras_step = Generator(model)
    onnx_step = OnnxStepper(onnxruntime.InferenceSession(graph.SerializeToString()), sizes)
    assert sizes == keras_step.state_sizes
    tokens, states, mine = np.array([1, 5, 29]), keras_step.initial_states(3), onnx_step.initial_states(3)
    for _ in range(4):  # states carried over steps
        want, states = keras_step.step(tokens, states)
        got, mine = onnx_step.step(tokens, mine)
        np.testing.assert_allclose(got, want, atol=1e-5)
        for a, b in zip(mine, states, strict=True):
            np.testing.assert_allclose(np.array(a), np.array(b), atol=1e-5)
        tokens = (tokens * 7 + 3) % 30


def test_a_language_model_export_generates_the_runs_text(tmp_path, capsys):
    from rnnlab.tasks.lm.task import LMPredictor

    text = tmp_path / "book.txt"
    text.write_text("the cat sat on the mat and the dog ran far away to sea\n" * 80, encoding="utf-8")
    run, export = tmp_path / "lm", tmp_path / "lm-export"
    args = "--epochs 1 --units 16 --embedding-dim 16 --num-layers 2 --seq-len 16 --batch-size 16".split()
    assert main(["train", "lm", *args, "--data", str(text), "--output", str(run)]) == 0
    assert main(["export", str(run), "--output", str(export)]) == 0
    want = LMPredictor(run).predict(["the cat"], length=60, temperature=0.8, seed=3)
    capsys.readouterr()
    flags = ["--length", "60", "--temperature", "0.8", "--seed", "3", "--json"]
    assert main(["predict", str(export), "the cat", *flags]) == 0
    assert [json.loads(capsys.readouterr().out)] == want
    manifest = json.loads((export / "manifest.json").read_text())
    assert manifest["state_sizes"] == [[16, 16], [16, 16]] and manifest["level"] == "char"
    assert main(["predict", str(export), "the cat", "--top-k", "0"]) == 2  # out of range: one line
    assert "top_k" in capsys.readouterr().err


def test_every_task_exports():
    from rnnlab.export.exporter import GRAPHS
    from rnnlab.tasks import TASKS

    assert set(GRAPHS) == set(TASKS)


def test_int8_quantisation_keeps_the_predictions_close(exported, tmp_path):
    import onnx

    from rnnlab.export.runtime import ExportedClassifier

    run, export = exported
    assert main(["export", str(run), "--output", str(tmp_path / "int8"), "--quantize", "int8"]) == 0
    full, small = ExportedClassifier(export), ExportedClassifier(tmp_path / "int8")
    assert small.manifest["quantization"].startswith("int8") and full.manifest["quantization"] is None
    np.testing.assert_allclose(small.probabilities(TEXTS), full.probabilities(TEXTS), atol=0.02)
    operators = {node.op_type for node in onnx.load(tmp_path / "int8" / "model.onnx").graph.node}
    assert "MatMulInteger" in operators and "DynamicQuantizeLinear" in operators
    assert (tmp_path / "int8" / "model.onnx").stat().st_size < (export / "model.onnx").stat().st_size / 2
    with pytest.raises(SystemExit):  # argparse: "invalid choice: 'int4' (choose from 'int8')"
        main(["export", str(run), "--output", str(tmp_path / "x"), "--quantize", "int4"])
    assert not (tmp_path / "x").exists()
