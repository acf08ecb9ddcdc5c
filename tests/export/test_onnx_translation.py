"""`rnnlab export` of translation runs: an encoder graph and a decoder-step graph that give the
Keras model's states, log-probabilities and attention, the same greedy and beam-search translations
through ONNX Runtime, and an export that translates as its run does without Keras."""

import json

import numpy as np
import pytest

pytest.importorskip("onnxruntime")
import onnxruntime  # noqa: E402

from helpers import cli_in_fresh_process  # noqa: E402
from rnnlab.cli import main  # noqa: E402

SOURCE = np.array([[5, 6, 7, 9, 4], [8, 9, 0, 0, 0], [3, 0, 0, 0, 0]], "int32")  # padded at the back


def _sessions(model):
    from rnnlab.export.onnx_seq2seq import seq2seq_graphs

    graphs = seq2seq_graphs(model)
    for graph in graphs.values():
        assert all(node.domain == "" for node in graph.graph.node)
    return [
        onnxruntime.InferenceSession(graphs[n].SerializeToString())
        for n in ("encoder.onnx", "decoder_step.onnx")
    ]


@pytest.mark.parametrize(
    "cell, attention, bidirectional, layers",
    [("gru", "luong", True, 1), ("lstm", "bahdanau", True, 2), ("lstm", "none", False, 1),
     ("simple", "luong", False, 2), ("gru", "bahdanau", False, 1)],
)  # fmt: skip
def test_the_graphs_give_the_translators_steps_and_translations(cell, attention, bidirectional, layers):
    from rnnlab.export.runtime import OnnxTranslator
    from rnnlab.models.seq2seq import Translator, build_seq2seq

    model = build_seq2seq(
        30, 25, embedding_dim=8, units=6, cell=cell, attention=attention, bidirectional=bidirectional,
        encoder_layers=layers,
    )  # fmt: skip
    rng = np.random.default_rng(0)
    for weight in model.weights:  # large weights, so that every gate and score matters
        weight.assign(rng.normal(0.0, 0.7, weight.shape).astype("float32"))
    keras_side, onnx_side = Translator(model, 1, 3), OnnxTranslator(*_sessions(model), 1, 3)
    source, want_outputs, want_states = keras_side.encode(SOURCE)
    _, got_outputs, got_states = onnx_side.encode(SOURCE)
    for row, length in enumerate((5, 2, 1)):  # padding steps are never attended to
        np.testing.assert_allclose(got_outputs[row, :length], want_outputs[row, :length], atol=1e-5)
    for got, want in zip(got_states, want_states, strict=True):
        np.testing.assert_allclose(got, want, atol=1e-5)
    tokens = np.array([1, 7, 24], "int32")
    for _ in range(3):  # states carried over steps
        want_logp, want_states, want_weights = keras_side.step(tokens, want_states, want_outputs, source)
        got_logp, got_states, got_weights = onnx_side.step(tokens, got_states, got_outputs, source)
        np.testing.assert_allclose(got_logp, want_logp, atol=1e-4)
        if attention == "none":
            assert got_weights is None and want_weights is None
        else:
            np.testing.assert_allclose(got_weights, want_weights, atol=1e-5)
        tokens = want_logp.argmax(-1).astype("int32")
    assert onnx_side.greedy(SOURCE, 8)[0] == keras_side.greedy(SOURCE, 8)[0]
    assert onnx_side.beam(SOURCE, 8, beam_size=3)[0] == keras_side.beam(SOURCE, 8, beam_size=3)[0]


@pytest.fixture(scope="module")
def translation_export(tmp_path_factory):
    folder = tmp_path_factory.mktemp("translation")
    pairs = folder / "pt-en.tsv"
    pairs.write_text(
        "Um gato dorme.\tA cat sleeps.\nDois cães correm.\tTwo dogs run.\nO gato corre.\tThe cat runs.\n"
        * 12,
        encoding="utf-8",
    )
    run, export = folder / "run", folder / "export"
    args = "--epochs 3 --units 8 --embedding-dim 8 --vocab-size 60 --max-len 12 --cell lstm".split()
    assert main(["train", "translation", *args, "--data", str(pairs), "--src", "pt", "--tgt", "en",
                 "--output", str(run)]) == 0  # fmt: skip
    assert main(["export", str(run), "--output", str(export)]) == 0
    return run, export


SENTENCES = ["Um gato dorme.", "Dois cães correm muito depressa.", "O gato", "Ωμέγα 北京"]


def test_a_translation_export_translates_as_its_run(translation_export, capsys):
    from rnnlab.export.runtime import ExportedTranslation
    from rnnlab.tasks.base import load_predictor

    run, export = translation_export
    predictor, exported = load_predictor(run), ExportedTranslation(export)
    for beam in (1, 4):
        want, got = predictor.predict(SENTENCES, beam_size=beam), exported.predict(SENTENCES, beam_size=beam)
        assert [r["translation"] for r in got] == [r["translation"] for r in want]
        for a, b in zip(got, want, strict=True):
            assert (a["source_tokens"], a["target_tokens"], a["unknown_words"]) == (
                b["source_tokens"], b["target_tokens"], b["unknown_words"])  # fmt: skip
            if b["attention"] is not None:
                np.testing.assert_allclose(a["attention"], b["attention"], atol=1e-4)
    manifest = json.loads((export / "manifest.json").read_text())
    assert manifest["graphs"] == ["encoder.onnx", "decoder_step.onnx"]
    capsys.readouterr()
    assert main(["predict", str(export), SENTENCES[0], "--beam-size", "4", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["translation"] == want[0]["translation"]
    assert main(["predict", str(export), "  "]) == 2
    assert "Expected a non-empty sentence" in capsys.readouterr().err


def test_a_translation_export_runs_without_keras(translation_export):
    _, export = translation_export
    codes, backends, out, _ = cli_in_fresh_process(["predict", export, "Um gato dorme."])
    assert (codes, backends) == ([0], [])
    assert "Um gato dorme." in out


def test_int8_translation_export_is_smaller_and_translates(translation_export, tmp_path):
    from rnnlab.export.runtime import ExportedTranslation

    run, export = translation_export
    assert main(["export", str(run), "--output", str(tmp_path / "int8"), "--quantize", "int8"]) == 0
    small = ExportedTranslation(tmp_path / "int8")
    assert small.manifest["quantization"].startswith("int8")
    assert len(small.predict(SENTENCES)) == len(SENTENCES)
    for name in ("encoder.onnx", "decoder_step.onnx"):
        assert (tmp_path / "int8" / name).stat().st_size < (export / name).stat().st_size


def test_a_translation_run_exports_to_onnx_only(translation_export, tmp_path):
    from rnnlab.export.exporter import export_run

    run, _ = translation_export
    for format in ("tflite", "saved_model"):  # refused before anything is written
        with pytest.raises(ValueError, match=f"--format {format} writes sentiment and lm runs"):
            export_run(run, tmp_path / format, format=format)
        assert not (tmp_path / format).exists()
