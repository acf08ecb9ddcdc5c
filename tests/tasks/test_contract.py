"""The contract every registered task keeps: a tiny training run, evaluate,
predict (CLI and `Predictor`), resume after an interruption with the same final
weights, clear errors for a bad run folder, and Ctrl-C/SIGTERM handling; on
every backend. A new task adds its tiny settings to `CONTRACT`."""

import json
import os
import re
import signal
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

from rnnlab.backend import is_available
from rnnlab.cli import main
from rnnlab.tasks import TASKS, get_task

CONTRACT = {
    "sentiment": {
        "data": "small_imdb",  # the fixture that puts the task's small data on the search path
        "args": "--epochs 2 --units 8 --embedding-dim 8 --max-features 40 --maxlen 40".split(),
        "limit": "60",
        "inputs": ["a wonderful film", "boring and awful"],
    },
    "translation": {
        "data": "real_multi30k",  # a few real pairs; the test split is cut by --limit as well
        "args": "--epochs 2 --units 8 --embedding-dim 8 --vocab-size 120 --max-len 24".split(),
        "limit": "60",
        "inputs": ["Ein Mann fährt Fahrrad.", "Zwei Hunde spielen im Schnee."],
    },
    "speech": {
        "data": "real_fsdd",  # the real archive; --limit takes 60 training and 60 test recordings
        "args": "--epochs 2 --units 8 --num-layers 1 --no-bucket".split(),  # one padded length: one compile
        "limit": "60",
        "inputs": "fsdd_wavs",  # a fixture: two WAV files
    },
    "lm": {
        "data": "real_tinyshakespeare",  # --limit keeps the first 3,000 characters of each text
        # stateful: resuming must also restore the states carried between batches
        "args": (
            "--epochs 2 --units 8 --embedding-dim 8 --num-layers 1 --seq-len 16 --batch-size 16 --stateful"
        ).split(),
        "limit": "3000",
        "inputs": ["ROMEO:", "First Citizen"],
    },
}


def test_every_registered_task_has_a_contract_entry():
    assert set(CONTRACT) == set(TASKS)


def test_the_server_its_page_and_the_labs_name_no_task():
    """Adding a task touches its own folder: `serve/` (the page too) and `lab/` dispatch through
    `Task`'s hooks (`demo_section`, `states_lab`), never on a task's name."""
    src = Path(__file__).parents[2] / "src" / "rnnlab"
    paths = [*(src / "serve").glob("*.py"), src / "serve" / "page.html", *(src / "lab").glob("*.py")]
    for path in paths:
        text = path.read_text(encoding="utf-8")
        for name in TASKS:
            assert re.search(rf"\b{name}\b", text, re.IGNORECASE) is None, (path.name, name)


def _data(request, name):
    return request.getfixturevalue(CONTRACT[name]["data"])


def _inputs(request, name):
    """The inputs `predict` gets: a list, or the name of a fixture giving one (files)."""
    inputs = CONTRACT[name]["inputs"]
    return request.getfixturevalue(inputs) if isinstance(inputs, str) else inputs


def _train_args(name, output, *extra):
    spec = CONTRACT[name]
    return ["train", name, *spec["args"], "--limit", spec["limit"], "--output", str(output), *extra]


def _weights(run):
    import io

    import h5py

    with zipfile.ZipFile(run / "model.keras") as archive:
        data = archive.read("model.weights.h5")
    found = {}
    with h5py.File(io.BytesIO(data)) as f:
        f.visititems(lambda k, v: found.__setitem__(k, v[()]) if isinstance(v, h5py.Dataset) else None)
    return found


@pytest.mark.parametrize("name", sorted(TASKS))
def test_train_evaluate_predict(name, request, tmp_path, capsys):
    _data(request, name)
    run = tmp_path / "run"
    assert main(_train_args(name, run)) == 0
    info = json.loads((run / "run.json").read_text())
    assert info["task"] == name and info["status"] == "finished"
    assert not (tmp_path / "run.partial").exists() and not (run / "checkpoints").exists()
    metrics = json.loads((run / "metrics.json").read_text())
    capsys.readouterr()
    assert main(["evaluate", str(run)]) == 0
    evaluation = json.loads((run / "evaluation.json").read_text())
    for key, value in metrics["test"].items():
        assert evaluation[f"test_{key}"] == pytest.approx(value, rel=1e-5, abs=1e-6)
    from rnnlab.tasks.base import load_predictor

    predictor = load_predictor(run)
    inputs = _inputs(request, name)
    records = predictor.predict(inputs)
    assert len(records) == len(inputs) and all(isinstance(record, dict) for record in records)
    assert json.loads(json.dumps(records)) == records  # JSON-able as they are
    capsys.readouterr()
    assert main(["predict", str(run), *inputs]) == 0
    assert len(capsys.readouterr().out.strip().splitlines()) == len(inputs)
    assert main(["predict", str(run), "--json", *inputs]) == 0
    assert [json.loads(line) for line in capsys.readouterr().out.strip().splitlines()] == records


@pytest.mark.parametrize("name", sorted(TASKS))
def test_resume_after_an_interruption_gives_the_uninterrupted_weights(name, request, tmp_path, monkeypatch):
    from rnnlab import config as configs
    from rnnlab.training import checkpoints
    from rnnlab.training.signals import TrainingInterrupted
    from rnnlab.training.trainer import train_task

    _data(request, name)
    task = get_task(name)
    spec = CONTRACT[name]
    args = list(spec["args"])
    values = {}
    while args:  # --name value, --no-name for a false switch, --name alone for a true one
        flag = args.pop(0)
        if flag.startswith("--no-"):
            values[flag[5:].replace("-", "_")] = False
        elif not args or args[0].startswith("--"):
            values[flag[2:].replace("-", "_")] = True
        else:
            value = args.pop(0)
            values[flag[2:].replace("-", "_")] = int(value) if value.isdigit() else value
    config = configs.resolve(
        task.config_cls,
        overrides={**values, "epochs": 3, "limit": int(spec["limit"]), "checkpoint_every": 1,
                   "steps_per_execution": 1},
    )  # fmt: skip
    train_task(task, config, tmp_path / "whole", log=lambda *_: None)

    real_save = checkpoints.Checkpoints.save
    saves = []

    def save_then_stop(self, model, state):
        path = real_save(self, model, state)
        saves.append(state["global_step"])
        if len(saves) == 4:  # stopped mid-epoch, after the 4th step's checkpoint
            raise KeyboardInterrupt
        return path

    monkeypatch.setattr(checkpoints.Checkpoints, "save", save_then_stop)
    with pytest.raises(TrainingInterrupted) as stopped:
        train_task(task, config, tmp_path / "resumed", log=lambda *_: None)
    assert stopped.value.exit_code == 130
    assert "checkpoint" in stopped.value.message and "--resume" in stopped.value.message
    assert not (tmp_path / "resumed").exists() and (tmp_path / "resumed.partial").is_dir()
    monkeypatch.setattr(checkpoints.Checkpoints, "save", real_save)
    metrics = train_task(task, config, tmp_path / "resumed", resume=True, log=lambda *_: None)
    assert metrics["resumed"] is True
    whole, resumed = _weights(tmp_path / "whole"), _weights(tmp_path / "resumed")
    assert sorted(whole) == sorted(resumed)
    for key in whole:
        np.testing.assert_array_equal(whole[key], resumed[key])  # bitwise, JAX
    before = json.loads((tmp_path / "whole" / "metrics.json").read_text())["history"]
    assert metrics["history"] == before  # per-epoch losses and metrics too


@pytest.mark.parametrize("name", sorted(TASKS))
def test_a_bad_run_folder_is_a_clear_error(name, request, tmp_path, capsys):
    _data(request, name)
    run = tmp_path / "run"
    assert main(_train_args(name, run)) == 0
    (run / "model.keras").write_bytes((run / "model.keras").read_bytes()[:500])  # truncated
    capsys.readouterr()
    assert main(["predict", str(run), *_inputs(request, name)]) == 2
    err = capsys.readouterr().err
    assert "not a valid Keras model file" in err and "Traceback" not in err
    (run / "model.keras").unlink()
    assert main(["evaluate", str(run)]) == 2
    assert "model.keras" in capsys.readouterr().err


def _start(args, env):
    return subprocess.Popen(
        [sys.executable, "-m", "rnnlab", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **env, "PYTHONUNBUFFERED": "1"},
    )


# Ctrl-C for every task; SIGTERM (the same shared handler, another exit code) for the quickest task.
SIGNAL_CASES = [(name, signal.SIGINT, 130) for name in sorted(TASKS)] + [("lm", signal.SIGTERM, 143)]


@pytest.mark.parametrize("name, sig, code", SIGNAL_CASES)
def test_ctrl_c_and_sigterm_say_how_to_resume(name, sig, code, request, tmp_path):
    _data(request, name)
    run = tmp_path / "run"
    args = _train_args(name, run, "--epochs", "500", "--checkpoint-every", "1")
    process = _start(args, {})
    for line in process.stdout:
        if line.startswith("Epoch 3/"):
            break
    process.send_signal(sig)
    out, err = process.communicate(timeout=120)
    assert process.returncode == code
    lines = [line for line in err.splitlines() if line.startswith("rnnlab:")]
    assert len(lines) == 1 and "Traceback" not in err
    assert "Interrupted: checkpoint" in lines[0] and f"--output {run} --resume" in lines[0]
    assert (tmp_path / "run.partial" / "checkpoints").is_dir() and not run.exists()


COMMAND_MARKER = "--- rnnlab command ---"


@pytest.mark.parametrize("name", sorted(TASKS))
@pytest.mark.parametrize("backend", ["tensorflow", "torch"])
def test_every_backend_trains_evaluates_and_predicts_with_defaults(name, backend, request, tmp_path):
    if not is_available(backend):
        pytest.skip(f"{backend} is not installed")
    _data(request, name)
    run = tmp_path / "run"
    predict = ["predict", str(run), *_inputs(request, name)]
    commands = [[str(a) for a in _train_args(name, run)], ["evaluate", str(run)], predict]
    # One process runs the three commands through the CLI's `main` (two fewer imports of the
    # backend per test); each must return 0, and what `predict` prints follows the last marker.
    script = (
        "import json, sys\nfrom rnnlab.cli import main\n"
        "for args in json.loads(sys.argv[1]):\n"
        "    print(MARKER, flush=True)\n"
        "    code = main(args)\n"
        "    if code:\n"
        "        sys.exit(code)\n"
    ).replace("MARKER", repr(COMMAND_MARKER))
    process = subprocess.run(
        [sys.executable, "-c", script, json.dumps(commands)],
        capture_output=True,
        text=True,
        timeout=900,
        env={**os.environ, "KERAS_BACKEND": backend, "PYTHONUNBUFFERED": "1"},
    )
    assert process.returncode == 0, process.stderr[-3000:]
    assert process.stdout.count(COMMAND_MARKER) == 3
    out = process.stdout.rsplit(COMMAND_MARKER, 1)[1]
    metrics = json.loads((run / "metrics.json").read_text())
    evaluation = json.loads((run / "evaluation.json").read_text())
    assert metrics["backend"] == evaluation["backend"] == backend
    for key, value in metrics["test"].items():
        assert evaluation[f"test_{key}"] == pytest.approx(value, rel=1e-4, abs=1e-5)
    assert len(out.strip().splitlines()) == len(_inputs(request, name))
