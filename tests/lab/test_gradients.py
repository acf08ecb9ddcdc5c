"""The vanishing-gradient lab: its problems, dL/dh_t from the NumPy reference against Keras'
autodiff (every backend) and against finite differences, and its output rules."""

import json
import subprocess
import sys

import numpy as np
import pytest

from rnnlab.backend import is_available
from rnnlab.lab import gradients, problems


def test_adding_problem_marks_one_step_per_half_and_sums_them():
    x, y = problems.adding_problem(200, 30, np.random.default_rng(1))
    markers = x[..., 1]
    assert (markers.sum(axis=1) == 2).all()
    assert (markers[:, :15].sum(axis=1) == 1).all() and (markers[:, 15:].sum(axis=1) == 1).all()
    np.testing.assert_allclose(y[:, 0], (x[..., 0] * markers).sum(axis=1), rtol=1e-6)
    # predicting the mean leaves the variance of a sum of two uniforms
    big_x, big_y = problems.adding_problem(20000, 10, np.random.default_rng(2))
    assert np.mean((big_y - 1.0) ** 2) == pytest.approx(problems.ADDING_BASELINE_MSE, rel=0.05)


def test_copy_task_repeats_the_symbols_after_the_delimiter():
    x, y = problems.copy_task(50, 7, np.random.default_rng(3))
    ids = x.argmax(-1)
    assert x.shape == (50, 27, problems.COPY_CLASSES) and y.shape == (50, 27)
    assert (ids[:, 16] == problems.COPY_SYMBOLS + 1).all()  # the delimiter, 10 steps before the end
    assert (ids[:, 10:16] == 0).all() and (ids[:, 17:] == 0).all()
    np.testing.assert_array_equal(y[:, -10:], ids[:, :10])
    assert (y[:, :-10] == 0).all() and (ids[:, :10] >= 1).all() and (ids[:, :10] <= 8).all()


@pytest.mark.parametrize("problem", gradients.PROBLEMS)
@pytest.mark.parametrize("variant", ["simple", "orthogonal", "lstm", "gru"])
def test_reference_bptt_and_keras_autodiff_give_the_same_hidden_gradients(problem, variant):
    x, y = gradients.make_data(problem, 12, 4, np.random.default_rng(0))
    model = gradients.build_model(problem, variant, 5, x.shape[-1], seed=0)
    keras_grads = gradients.hidden_gradients_keras(problem, model, x, y)
    reference = gradients.hidden_gradients_reference(problem, variant, model, x, y)
    assert keras_grads.shape == reference.shape == (4, x.shape[1], 5)
    np.testing.assert_allclose(keras_grads, reference, atol=1e-6 * np.abs(reference).max() + 1e-9, rtol=1e-3)


def test_hidden_gradients_equal_finite_differences_also_for_relu():
    """irnn has no reference cell: check Keras' dL/dh_t against perturbing h_t by hand."""
    import keras

    from rnnlab.lab.perturbed import PerturbedCell

    x, y = gradients.make_data("adding", 6, 3, np.random.default_rng(4))
    model = gradients.build_model("adding", "irnn", 4, 2, seed=1)
    model.get_layer("rnn").cell.recurrent_kernel.assign(0.9 * np.eye(4) + 0.05)  # away from ReLU's kinks
    grads = gradients.hidden_gradients_keras("adding", model, x, y)
    probe = keras.layers.RNN(PerturbedCell(model.get_layer("rnn").cell))

    def loss(perturbation):
        inputs = np.concatenate([x, perturbation], axis=-1).astype("float64")
        out = model.layers[-1](probe(inputs.astype("float32")))
        return float(keras.ops.convert_to_numpy(gradients.loss_fn("adding")(y, out)))

    zeros = np.zeros((3, 6, 4))
    for t, unit in [(0, 1), (2, 3), (5, 0)]:
        step = zeros.copy()
        step[:, t, unit] = 1e-2
        numeric = (loss(step) - loss(-step)) / 2e-2  # d/de of the loss with every row perturbed
        assert numeric == pytest.approx(grads[:, t, unit].sum(), rel=2e-2, abs=1e-5)


def test_irnn_has_no_reference_cell():
    x, y = gradients.make_data("adding", 5, 2, np.random.default_rng(0))
    model = gradients.build_model("adding", "irnn", 3, 2, seed=0)
    assert gradients.hidden_gradients_reference("adding", "irnn", model, x, y) is None


@pytest.mark.parametrize("backend", ["tensorflow", "torch"])
def test_other_backends_agree_with_the_reference(backend):
    if not is_available(backend):
        pytest.skip(f"{backend} is not installed")
    script = (
        "import json, numpy as np\n"
        "from rnnlab.lab import gradients\n"
        "out = {}\n"
        "for problem, variant in [('adding', 'simple'), ('copy', 'lstm'), ('adding', 'gru')]:\n"
        "    x, y = gradients.make_data(problem, 8, 3, np.random.default_rng(0))\n"
        "    model = gradients.build_model(problem, variant, 4, x.shape[-1], seed=0)\n"
        "    out[variant] = gradients.probe(problem, variant, model, x, y)['max_difference_relative']\n"
        "print(json.dumps(out))\n"
    )
    import os

    process = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=300,
        env={**os.environ, "KERAS_BACKEND": backend},
    )  # fmt: skip
    assert process.returncode == 0, process.stderr[-2000:]
    differences = json.loads(process.stdout.strip().splitlines()[-1])
    assert set(differences) == {"simple", "lstm", "gru"}
    assert max(differences.values()) < 1e-5


def test_a_tiny_lab_writes_its_record_and_plots(tmp_path):
    config = gradients.GradientLabConfig(
        problems=("adding", "copy"), variants=("simple", "irnn"), lengths=(4,), units=4,
        train_size=64, test_size=32, epochs=1, probe_size=4,
    )  # fmt: skip
    record = gradients.run(config, tmp_path / "lab", log=lambda *_: None)
    saved = json.loads((tmp_path / "lab" / "gradients.json").read_text())
    assert saved["lab"] == "gradients" and len(saved["results"]) == 4 == len(record["results"])
    written = sorted(p.name for p in (tmp_path / "lab").iterdir())
    assert written == sorted(["gradients.json", *saved["figures"]])
    assert len(saved["figures"]) == 4
    first = saved["results"][0]
    assert len(first["gradient_norms"]["initial"]["keras"]) == first["steps"] == 4
    assert first["gradient_norms"]["trained"]["max_difference_relative"] < 1e-5
    assert "reference" not in saved["results"][1]["gradient_norms"]["trained"]  # irnn
    assert saved["summary"]["copy"]["simple"]["max_gradient_difference_relative"] < 1e-5
    copy_test = saved["results"][2]["test"]
    assert set(copy_test) == {"loss", "recall_accuracy", "solved"} and 0 <= copy_test["recall_accuracy"] <= 1


def test_the_output_folder_rules(tmp_path):
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "gradients.json").write_text('{"mine": true}')
    with pytest.raises(ValueError, match="was not written by"):
        gradients.check_output(foreign, overwrite=True)
    assert (foreign / "gradients.json").read_text() == '{"mine": true}'
    ours = tmp_path / "ours"
    ours.mkdir()
    (ours / "gradients.json").write_text('{"lab": "gradients"}')
    with pytest.raises(ValueError, match="already exists"):
        gradients.check_output(ours)
    gradients.check_output(ours, overwrite=True)
    (tmp_path / "file").write_text("x")
    with pytest.raises(ValueError, match="is a file"):
        gradients.check_output(tmp_path / "file")
    gradients.check_output(tmp_path / "new")  # a new folder is fine


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"variants": ("simple", "elman")}, "variants"),
        ({"problems": ()}, "problems"),
        ({"lengths": (1,)}, "lengths >= 2"),
        ({"units": 0}, "units"),
    ],
)
def test_bad_settings_are_clear_errors(changes, message):
    import dataclasses

    with pytest.raises(ValueError, match=message):
        dataclasses.replace(gradients.GradientLabConfig(), **changes).check()


def test_the_cli_refuses_an_unknown_variant(tmp_path, capsys):
    from rnnlab.cli import main

    assert main(["lab", "gradients", "--output", str(tmp_path / "x"), "--variants", "elman"]) == 2
    assert "Expected variants among" in capsys.readouterr().err
    assert not (tmp_path / "x").exists()
