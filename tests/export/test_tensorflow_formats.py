"""`rnnlab export --format saved_model|tflite` of sentiment and language-model runs: written through
Keras' TensorFlow backend (the CLI picks it), giving the run's probabilities and the run's generated
text through TensorFlow alone; other tasks and int8 are clear errors."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

pytest.importorskip("tensorflow")

from rnnlab.cli import main  # noqa: E402

TEXTS = ["a wonderful, moving film", "dull", "plain average", "Ein schöner Film", "great " * 300]


def _export(*jobs):
    """`rnnlab export RUN --format FORMAT --output DIR` for each `(run, format, output)`, in one fresh
    process (this one's Keras runs on JAX; the CLI picks TensorFlow for these formats)."""
    calls = [
        ["export", str(run), "--format", format, "--output", str(output)] for run, format, output in jobs
    ]
    code = f"from rnnlab.cli import main\nfor argv in {calls!r}:\n    assert main(argv) == 0, argv\n"
    env = {**os.environ, "KERAS_BACKEND": ""}
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=600, env=env)


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("tf-formats")
    rows = [f"{w} film number {i}\t{label}" for i in range(20)
            for label, w in (("pos", "wonderful great"), ("neg", "awful dull"))]  # fmt: skip
    (folder / "reviews.tsv").write_text("text\tlabel\n" + "\n".join(rows) + "\n", encoding="utf-8")
    sentiment = folder / "sentiment"
    args = "--epochs 1 --units 8 --embedding-dim 8 --cell lstm --bidirectional --mask --maxlen 40".split()
    assert (
        main(["train", "sentiment", *args, "--data", str(folder / "reviews.tsv"), "--output", str(sentiment)])
        == 0
    )
    (folder / "book.txt").write_text("the cat sat on the mat and ran away\n" * 60, encoding="utf-8")
    lm = folder / "lm"
    args = "--epochs 1 --units 16 --embedding-dim 16 --num-layers 2 --seq-len 16 --batch-size 16".split()
    args += ["--cell", "lstm"]
    assert main(["train", "lm", *args, "--data", str(folder / "book.txt"), "--output", str(lm)]) == 0
    jobs = [(sentiment, "saved_model", folder / "sm"), (sentiment, "tflite", folder / "lite"),
            (lm, "tflite", folder / "lm-tflite"), (lm, "saved_model", folder / "lm-saved_model")]  # fmt: skip
    done = _export(*jobs)
    assert done.returncode == 0, done.stderr[-3000:]
    return folder, sentiment, lm


def test_a_classifier_as_saved_model_and_tflite_gives_the_runs_probabilities(runs):
    import tensorflow as tf

    from rnnlab.data.padding import pad
    from rnnlab.tasks.base import load_predictor

    folder, run, _ = runs
    predictor = load_predictor(run)
    ids = predictor.preprocessor(TEXTS)
    want = np.asarray(predictor.model.predict_on_batch(ids))
    manifest = json.loads((folder / "sm" / "manifest.json").read_text())
    assert manifest["format"] == "saved_model" and manifest["run"]["backend"] == "jax"
    assert "saved_model/saved_model.pb" in manifest["files"]
    saved = tf.saved_model.load(str(folder / "sm" / "saved_model"))  # kept: its functions need it
    served = saved.serve(tf.constant(ids))
    np.testing.assert_allclose(served["probabilities"].numpy(), want, atol=1e-5)

    manifest = json.loads((folder / "lite" / "manifest.json").read_text())
    assert manifest["inputs"][0]["shape"] == [1, predictor.preprocessor.maxlen]
    serve = tf.lite.Interpreter(str(folder / "lite" / "model.tflite")).get_signature_runner("serving_default")
    one_row = pad(predictor.preprocessor.sequences(TEXTS), predictor.preprocessor.maxlen, dtype=np.int32)
    got = np.concatenate([serve(token_ids=row[None])["probabilities"] for row in one_row])
    np.testing.assert_allclose(got, want, atol=1e-5)


class _TFLiteStepper:
    """One step of a language model's TFLite export, as `rnnlab.sampling` expects."""

    def __init__(self, path, state_sizes):
        import tensorflow as tf

        self.serve = tf.lite.Interpreter(str(path)).get_signature_runner("serving_default")
        self.state_sizes = state_sizes
        self.names = [f"state_{d}_{k}" for d, sizes in enumerate(state_sizes) for k in range(len(sizes))]

    def initial_states(self, batch_size):
        return [[np.zeros((batch_size, size), "float32") for size in sizes] for sizes in self.state_sizes]

    def step(self, tokens, states):
        flat = [np.asarray(s, "float32") for layer in states for s in layer]
        out = self.serve(token=np.asarray(tokens, "int32"), **dict(zip(self.names, flat, strict=True)))
        flat = iter(out[f"new_{name}"] for name in self.names)
        return np.asarray(out["logits"], np.float64), [
            [next(flat) for _ in sizes] for sizes in self.state_sizes
        ]


def test_a_language_model_as_tflite_and_saved_model_generates_the_runs_text(runs):
    import tensorflow as tf

    from rnnlab.models.language_model import Generator
    from rnnlab.tasks.base import load_predictor
    from rnnlab.tasks.lm import generation

    folder, _, run = runs
    predictor = load_predictor(run)
    sizes = json.loads((folder / "lm-tflite" / "manifest.json").read_text())["state_sizes"]
    stepper = _TFLiteStepper(folder / "lm-tflite" / "model.tflite", sizes)
    want = predictor.predict(["the cat"], length=40, temperature=0.8, seed=3)[0]["text"]
    got = generation.continue_text(predictor.preprocessor, stepper, "the cat", 40, 0.8, None, 3)
    assert got == want
    keras_step = Generator(predictor.model)
    saved = tf.saved_model.load(str(folder / "lm-saved_model" / "saved_model"))
    tokens, states = np.array([3, 5], "int32"), keras_step.initial_states(2)
    logits, _ = keras_step.step(tokens, states)
    out = saved.serve(tf.constant(tokens), *[tf.constant(s) for layer in states for s in layer])
    np.testing.assert_allclose(out["logits"].numpy(), logits, atol=1e-5)


def test_tensorflow_formats_say_what_they_cannot_write(runs, tmp_path, capsys):
    from rnnlab.export.exporter import export_run

    folder, run, _ = runs
    with pytest.raises(ValueError, match="--quantize int8 quantises ONNX exports"):
        export_run(run, tmp_path / "int8", format="saved_model", quantize="int8")  # refused before writing
    assert not (tmp_path / "int8").exists()
    assert main(["predict", str(folder / "sm"), "good"]) == 2  # rnnlab predicts with ONNX exports
    assert "this rnnlab runs" in capsys.readouterr().err
