"""`rnnlab.cli`: the backend a command line runs on is read from its arguments alone, before Keras
is imported, and Keras then runs on it."""

import json
import os
import subprocess
import sys

import pytest

from rnnlab import backend as backends
from rnnlab.cli import backend_for


def fake_run(folder, backend):
    """A finished run folder as far as `backend_for` reads one: `run.json` and `config.toml`."""
    folder.mkdir()
    (folder / "run.json").write_text(json.dumps({"task": "sentiment", "status": "finished"}))
    (folder / "config.toml").write_text(f'epochs = 1\nbackend = "{backend}"\n')
    return folder


@pytest.fixture
def torch_run(tmp_path, monkeypatch):
    """A run trained on torch (its library taken as installed)."""
    monkeypatch.setattr(backends, "is_available", lambda name: True)
    return str(fake_run(tmp_path / "run", "torch"))


def test_the_backend_flag_wins_in_either_spelling(torch_run):
    argv = ["predict", torch_run, "--backend", "tensorflow", "a fine film"]
    assert backend_for(argv, environment="torch", imported="torch") == "tensorflow"
    assert backend_for(["evaluate", torch_run, "--backend=jax"], environment="torch") == "jax"
    assert (
        backend_for(["train", "lm", "--backend", "jax", "--backend", "torch"]) == "torch"
    )  # argparse: the last


def test_an_unknown_backend_name_is_left_for_the_parser_to_refuse(torch_run):
    assert (
        backend_for(["evaluate", torch_run, "--backend", "theano"], environment="tensorflow") == "tensorflow"
    )
    assert backend_for(["train", "sentiment", "--backend"]) is None


def test_a_recipe_names_the_backend_of_train_and_tune(tmp_path):
    recipe = tmp_path / "recipe.toml"
    recipe.write_text('epochs = 2\nbackend = "torch"\n')
    assert backend_for(["train", "sentiment", "--config", str(recipe)], environment="tensorflow") == "torch"
    assert backend_for(["tune", "sentiment", f"--config={recipe}", "--trials", "2"]) == "torch"
    assert backend_for(["train", "sentiment", "--config", str(recipe), "--backend", "jax"]) == "jax"
    assert backend_for(["evaluate", "runs/x", "--config", str(recipe)]) is None  # no recipe there


@pytest.mark.parametrize("text", ["not = [toml", "epochs = 2\n", 'backend = "theano"\n', "\udcff"])
def test_a_recipe_that_names_no_backend_leaves_the_choice_to_the_environment(tmp_path, text):
    recipe = tmp_path / "recipe.toml"
    recipe.write_bytes(text.encode("utf-8", "surrogateescape"))
    assert (
        backend_for(["train", "sentiment", "--config", str(recipe)], environment="tensorflow") == "tensorflow"
    )
    assert backend_for(["train", "sentiment", "--config", str(tmp_path / "missing.toml")]) is None


def test_a_run_folder_runs_on_the_backend_it_was_trained_on(tmp_path, torch_run):
    assert backend_for(["predict", torch_run, "a fine film"]) == "torch"
    assert backend_for(["predict", "--json", torch_run, "a fine film"]) == "torch"
    assert backend_for(["lab", "states", torch_run, "--output", str(tmp_path / "lab")]) == "torch"
    jax_run = str(fake_run(tmp_path / "jax-run", "jax"))
    assert backend_for(["serve", jax_run, torch_run]) == "jax"  # the first run folder
    assert backend_for(["generate", torch_run, "--prompt", "The"]) == "torch"  # a task's own verb


def test_the_environment_and_an_imported_keras_come_before_the_run(torch_run):
    assert backend_for(["evaluate", torch_run], environment="tensorflow") == "tensorflow"
    assert backend_for(["evaluate", torch_run], imported="jax") == "jax"


def test_train_does_not_take_the_backend_of_its_output_folder(torch_run):
    assert backend_for(["train", "sentiment", "--output", torch_run, "--resume"]) is None
    assert backend_for(["train", "sentiment", "--output", torch_run], environment="jax") == "jax"


def test_a_run_trained_on_a_backend_not_installed_here_runs_on_the_default(tmp_path, monkeypatch):
    run = str(fake_run(tmp_path / "run", "tensorflow"))
    monkeypatch.setattr(backends, "is_available", lambda name: name != "tensorflow")
    assert backend_for(["predict", run, "text"]) is None


def test_what_is_not_a_readable_run_is_passed_over(tmp_path):
    (tmp_path / "not-a-run").mkdir()
    bad_toml = fake_run(tmp_path / "bad-toml", "torch")
    (bad_toml / "config.toml").write_text("backend = [")
    fifo = fake_run(tmp_path / "fifo", "torch")
    (fifo / "config.toml").unlink()
    os.mkfifo(fifo / "config.toml")  # reading it would block
    for folder in ("not-a-run", "bad-toml", "fifo", "missing", "a\0b"):
        assert backend_for(["evaluate", str(tmp_path / folder)]) is None, folder
    assert backend_for([]) is None and backend_for(["--help"]) is None


@pytest.mark.parametrize("how", ["flag", "run"])
def test_keras_runs_on_the_backend_the_command_line_chose(tmp_path, how):
    """The command imports Keras on the chosen backend: `--backend torch`, or (no flag, no
    KERAS_BACKEND) the backend the run folder was trained on."""
    if not backends.is_available("torch"):
        pytest.skip("torch is not installed")
    if how == "flag":
        argv = ["evaluate", str(tmp_path / "missing"), "--backend", "torch"]
    else:
        argv = ["evaluate", str(fake_run(tmp_path / "run", "torch"))]  # no model.keras: evaluate fails
    code = (
        "import sys\nfrom rnnlab.cli import main\ncode = main(sys.argv[1:])\n"
        "import keras\nprint(code, keras.backend.backend())"
    )
    env = {name: value for name, value in os.environ.items() if name != "KERAS_BACKEND"}
    done = subprocess.run(
        [sys.executable, "-c", code, *argv], capture_output=True, text=True, timeout=300, env=env
    )
    assert done.stdout.strip().splitlines()[-1] == "2 torch", done.stderr[-2000:]
    assert "rnnlab: error: " in done.stderr
