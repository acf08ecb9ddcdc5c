"""`rnnlab export` of speech runs: the acoustic model as ONNX (frames in, posteriors out) giving the
Keras model's outputs, and an export that transcribes FSDD recordings as its run does, with the
run's CTC decoder, without Keras."""

import json

import numpy as np
import pytest

pytest.importorskip("onnxruntime")
import onnxruntime  # noqa: E402

from helpers import cli_in_fresh_process  # noqa: E402
from rnnlab.cli import main  # noqa: E402

TINY = "--epochs 1 --units 8 --num-layers 1 --limit 40 --no-bucket".split()


@pytest.mark.parametrize(
    "output, cell, bidirectional, layers",
    [("digit", "gru", True, 2), ("digit", "lstm", False, 1), ("ctc", "gru", True, 2),
     ("ctc", "simple", False, 1), ("ctc", "lstm", True, 1)],
)  # fmt: skip
def test_the_graph_gives_the_acoustic_models_outputs(output, cell, bidirectional, layers):
    from rnnlab.export.onnx_acoustic import acoustic_graph
    from rnnlab.models.acoustic import build_acoustic_model

    model = build_acoustic_model(
        7, 10, output=output, cell=cell, units=6, num_layers=layers, bidirectional=bidirectional
    )
    rng = np.random.default_rng(0)
    for weight in model.weights:
        weight.assign(rng.normal(0.0, 0.6, weight.shape).astype("float32"))
    lengths = [3, 11, 8]
    frames = np.zeros((3, 11, 7), "float32")  # padded at the back with all-zero frames
    for row, length in enumerate(lengths):
        frames[row, :length] = rng.normal(size=(length, 7))
    expected = np.asarray(model.predict_on_batch(frames))
    graph, name = acoustic_graph(model)
    got = onnxruntime.InferenceSession(graph.SerializeToString()).run(None, {"frames": frames})[0]
    assert name == ("probabilities" if output == "digit" else "logits") and got.shape == expected.shape
    if output == "digit":
        np.testing.assert_allclose(got, expected, atol=1e-5)
    else:  # the steps of each utterance
        for row, length in enumerate(lengths):
            np.testing.assert_allclose(got[row, :length], expected[row, :length], atol=1e-5)
    assert all(node.domain == "" for node in graph.graph.node)


@pytest.fixture(scope="module", params=["digits", "digit-strings"])
def speech_export(request, real_fsdd, tmp_path_factory):
    folder = tmp_path_factory.mktemp(request.param)
    run, export = folder / "run", folder / "export"
    assert main(["train", "speech", "--mode", request.param, *TINY, "--output", str(run)]) == 0
    assert main(["export", str(run), "--output", str(export)]) == 0
    return run, export


def _string_wav(fsdd_wavs, folder):
    """The two recordings one after the other: a digit string '73'."""
    import soundfile

    parts = [soundfile.read(path, dtype="float32") for path in fsdd_wavs]
    path = folder / "73.wav"
    soundfile.write(path, np.concatenate([p[0] for p in parts]), parts[0][1])
    return str(path)


def test_a_speech_export_transcribes_as_its_run(speech_export, fsdd_wavs, tmp_path, capsys):
    from rnnlab.export.runtime import ExportedSpeech
    from rnnlab.tasks.base import load_predictor

    run, export = speech_export
    files = [*fsdd_wavs, _string_wav(fsdd_wavs, tmp_path)]
    predictor, exported = load_predictor(run), ExportedSpeech(export)
    want, got = predictor.predict(files), exported.predict(files)
    assert [r["text"] for r in got] == [r["text"] for r in want]
    for a, b in zip(got, want, strict=True):
        assert a["duration_s"] == b["duration_s"]
        np.testing.assert_allclose(a["posteriors"], b["posteriors"], atol=2e-4)  # rounded to 4 digits
        if b["probability"] is not None:
            assert a["probability"] == pytest.approx(b["probability"], abs=1e-4)
    manifest = json.loads((export / "manifest.json").read_text())
    assert manifest["decoding"]["mode"] == predictor.config.mode
    if predictor.config.mode == "digit-strings":
        for beam, lm in ((1, None), (8, "grammar"), (4, "ngram")):
            want = predictor.predict(files, beam_size=beam, lm=lm)
            assert [r["text"] for r in exported.predict(files, beam_size=beam, lm=lm)] == [
                r["text"] for r in want
            ]
        capsys.readouterr()
        assert main(["predict", str(export), files[2], "--beam-size", "4", "--lm", "grammar", "--json"]) == 0
        record = json.loads(capsys.readouterr().out)
        assert record["text"] == predictor.predict(files[2:], beam_size=4, lm="grammar")[0]["text"]
    else:
        capsys.readouterr()
        assert main(["predict", str(export), files[0], "--beam-size", "4"]) == 2
        assert "this run classifies digits" in capsys.readouterr().err


def test_a_speech_export_runs_without_keras_and_refuses_bad_audio(speech_export, fsdd_wavs, tmp_path):
    _, export = speech_export
    text = tmp_path / "notes.wav"
    text.write_text("not a sound")
    codes, backends, out, err = cli_in_fresh_process(
        ["predict", export, fsdd_wavs[0]], ["predict", export, text]
    )
    assert (codes, backends) == ([0, 2], [])
    assert "7_theo_1.wav" in out and "notes.wav" in err
