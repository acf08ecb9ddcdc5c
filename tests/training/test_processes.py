"""Training in several processes (`rnnlab launch`, `--distributed`): two processes train as one
with the same global batch, each runs the native loop on its own rows, a killed process stops
the run at once, and the run resumes to the same weights; and the pieces and their refusals."""

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from helpers import write_small_imdb
from rnnlab.training.launcher import check_command, free_port
from rnnlab.training.loop import Checkpointing
from rnnlab.training.processes import Shard, join
from rnnlab.training.state import TrainingState

TRAIN = ("train sentiment --epochs 2 --units 8 --embedding-dim 8 --max-features 40 --maxlen 30 --limit 100 "
         "--batch-size 10 --steps-per-execution 1 --checkpoint-every 3").split()  # fmt: skip


ENV = {}  # the small IMDb and a private cache (set by `two_runs`)


def _command(args):
    return [sys.executable, "-m", "rnnlab", *args]


def _rnnlab(args):
    env = {**os.environ, "KERAS_BACKEND": "jax", **ENV}
    return subprocess.run(_command(args), env=env, capture_output=True, text=True, timeout=600)


def _weights(run):
    from rnnlab import saving

    return [np.asarray(w) for w in saving.load_model(Path(run) / "model.keras").get_weights()]


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory):
    """The same training in one process and in two (`rnnlab launch`)."""
    data, out = tmp_path_factory.mktemp("data"), tmp_path_factory.mktemp("runs")
    write_small_imdb(data / "aclImdb", random.Random(0))
    ENV.update(RNNLAB_DATASETS=str(data), RNNLAB_CACHE=str(tmp_path_factory.mktemp("cache")))
    one = _rnnlab([*TRAIN, "--output", str(out / "one")])
    assert one.returncode == 0, one.stderr[-2000:]
    two = _rnnlab(["launch", "--processes", "2", "--", *TRAIN, "--output", str(out / "two")])
    assert two.returncode == 0, two.stderr[-2000:]
    return out


def test_two_processes_train_as_one_process_with_the_same_global_batch(two_runs):
    one = json.loads((two_runs / "one" / "metrics.json").read_text())
    two = json.loads((two_runs / "two" / "metrics.json").read_text())
    assert (one["num_processes"], one["num_devices"]) == (1, 1)
    assert (two["num_processes"], two["num_devices"]) == (2, 2)
    for key in ("loss", "val_loss"):
        np.testing.assert_allclose(two["history"][key], one["history"][key], rtol=0, atol=1e-5)
    assert two["test_loss"] == pytest.approx(one["test_loss"], abs=1e-5)
    for a, b in zip(_weights(two_runs / "one"), _weights(two_runs / "two"), strict=True):
        np.testing.assert_allclose(b, a, rtol=0, atol=1e-5)
    assert sorted(p.name for p in two_runs.iterdir() if p.name.startswith("two")) == ["two"]


def test_a_killed_process_stops_the_run_and_it_resumes_to_the_same_weights(two_runs):
    output = two_runs / "killed"
    launch = _command(["launch", "--processes", "2", "--", *TRAIN, "--output", str(output)])
    env = {**os.environ, "KERAS_BACKEND": "jax", **ENV}
    process = subprocess.Popen(launch, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    checkpoints = Path(f"{output}.partial") / "checkpoints"
    deadline = time.monotonic() + 300
    while not list(checkpoints.glob("step-*")) and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.05)
    found = subprocess.run(["pgrep", "-f", f"{output} --distributed .*--process-id 1"], capture_output=True,
                           text=True).stdout.split()  # fmt: skip
    assert found, "process 1 was not running when the first checkpoint appeared"
    killed = time.monotonic()
    os.kill(int(found[0]), signal.SIGKILL)
    _, err = process.communicate(timeout=120)
    assert time.monotonic() - killed < 30  # not JAX's collective timeout
    assert process.returncode == 137
    assert "process 1 of 2 was killed by signal 9; stopped the others" in err
    assert f"Resume with: rnnlab launch --processes 2 -- {' '.join(TRAIN)} --output {output} --resume" in err
    assert not subprocess.run(["pgrep", "-f", f"{output} --distributed"], capture_output=True).stdout
    resumed = _rnnlab(["launch", "--processes", "2", "--", *TRAIN, "--output", str(output), "--resume"])
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert "Resuming from checkpoint" in resumed.stdout
    for a, b in zip(_weights(two_runs / "two"), _weights(output), strict=True):
        np.testing.assert_array_equal(b, a)


def test_each_process_runs_the_native_loop_on_its_own_rows():
    script = Path(__file__).with_name("native_in_process.py")
    coordinator = f"127.0.0.1:{free_port()}"
    env = {**os.environ, "KERAS_BACKEND": "jax"}
    processes = [subprocess.Popen([sys.executable, str(script), coordinator, "2", str(i)], env=env,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                 for i in range(2)]  # fmt: skip
    reports = []
    for process in processes:
        out, err = process.communicate(timeout=300)
        assert process.returncode == 0, err[-2000:]
        reports.append(json.loads(out.strip().splitlines()[-1]))
    for index, report in enumerate(reports):
        assert report["process"] == index
        assert report["native_calls"] >= 2  # forward and backward
        assert report["batches"] == [8]  # its half of the global batch of 16, not the gathered batch
        assert not report["gathers_inputs"]


def test_shards_split_each_batch_into_equal_parts_per_device():
    rows = np.arange(11)
    assert Shard(0, 2, 2).rows(rows).tolist() == [0, 1, 2, 3, 4]
    assert Shard(1, 2, 2).rows(rows).tolist() == [5, 6, 7, 8, 9]
    assert Shard(1, 2, 4).rows(rows).tolist() == [4, 5, 6, 7]  # 8 rows: 2 per device, 4 per process
    with pytest.raises(ValueError, match="A batch of 3 examples cannot be split over 4 devices"):
        Shard(0, 2, 4).rows(np.arange(3))


def test_launch_and_distributed_settings_are_checked():
    assert check_command(["--", "train", "lm"]) == ["train", "lm"]
    with pytest.raises(ValueError, match="Expected the training command after --"):
        check_command(["evaluate", "runs/x"])
    with pytest.raises(ValueError, match="Received: nothing"):
        check_command([])
    with pytest.raises(ValueError, match="sets --process-id itself"):
        check_command(["train", "lm", "--process-id", "1"])
    with pytest.raises(ValueError, match="needs all of --coordinator"):
        join(coordinator="127.0.0.1:1234")
    with pytest.raises(ValueError, match="Expected 0 <= --process-id < --num-processes"):
        join("127.0.0.1:1234", 2, 2)
    with pytest.raises(ValueError, match="Expected --coordinator HOST:PORT"):
        join("localhost", 2, 0)


@pytest.mark.parametrize(
    "args, message",
    [
        (["train", "sentiment", "--coordinator", "127.0.0.1:1"], "go with --distributed"),
        (["train", "sentiment", "--distributed", "--backend", "tensorflow"], "needs the jax backend"),
        (["launch", "--processes", "0", "--", "train", "sentiment"], "Expected --processes >= 1"),
        (["launch", "--processes", "2", "--", "evaluate", "x"], "Expected the training command"),
    ],
)
def test_bad_launch_flags_are_one_clear_line(args, message, tmp_path):
    result = _rnnlab([*args, *([] if args[0] == "launch" else ["--output", str(tmp_path / "r")])])
    assert result.returncode == 2
    assert message in result.stderr and "Traceback" not in result.stderr
    assert not list(tmp_path.iterdir())


class _Recorder:
    def __init__(self):
        self.saved = []

    def save(self, model, state):
        self.saved.append(dict(state))


class _Signals:
    def check(self):
        pass


def test_checkpoint_steps_stop_at_the_epochs_end_whatever_steps_per_execution():
    # Keras numbers the last batch of an execution as if it were full: 23 steps run as
    # executions of 32 report batch 31. A checkpoint must never claim a step past the epoch's
    # data, and none is written once the epoch's data is done (the epoch-end one follows).
    recorder, state = _Recorder(), TrainingState()
    callback = Checkpointing(recorder, state, every=5, signals=_Signals())
    callback.set_params({"steps": 23})
    callback.on_train_batch_end(31)
    assert (state.step, state.global_step, recorder.saved) == (23, 23, [])
    recorder, state = _Recorder(), TrainingState()
    callback = Checkpointing(recorder, state, every=5, signals=_Signals())
    callback.set_params({"steps": 23})
    for batch in range(23):
        callback.on_train_batch_end(batch)
    assert [saved["step"] for saved in recorder.saved] == [5, 10, 15, 20]


def test_a_failing_process_0_ends_the_launch_at_once_with_its_error(tmp_path):
    bad = tmp_path / "reviews.csv"
    bad.write_text("words,stars\nhello,5\n", encoding="utf-8")
    start = time.monotonic()
    command = ["train", "sentiment", "--data", str(bad), "--output", str(tmp_path / "run")]
    result = _rnnlab(["launch", "--processes", "2", "--", *command])
    assert time.monotonic() - start < 60  # not JAX's shutdown or collective timeouts (minutes)
    assert result.returncode == 2
    assert f"rnnlab: error: {bad}, line 1: no column 'text'" in result.stderr
    assert "process 0 of 2 exited with code 2; stopped the others" in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["reviews.csv"]


def test_batches_with_fewer_rows_than_devices_are_left_out_in_every_process():
    from rnnlab.data.batches import Batching, Examples, epoch_batches

    examples = Examples([np.arange(1, n + 2) for n in range(7)], np.arange(7, dtype="float32"))
    order = Batching().order(examples, 3, seed=0)  # batches of 3, 3 and 1
    assert [len(indices) for _, indices in order.plan(0)] == [3, 3, 1]
    parts = [epoch_batches(examples, order, 0, shard=Shard(i, 2, 2)) for i in range(2)]
    assert [len(part) for part in parts] == [2, 2]  # the batch of 1 is left out
    rows = [np.concatenate([part[b][1] for part in parts]) for b in range(2)]
    expected = [examples.targets[indices[:2]] for _, indices in order.plan(0)[:2]]
    for got, want in zip(rows, expected, strict=True):
        np.testing.assert_array_equal(got, want)


def test_resuming_a_finished_run_in_two_processes_ends_at_once(two_runs):
    start = time.monotonic()
    result = _rnnlab(
        ["launch", "--processes", "2", "--", *TRAIN, "--output", str(two_runs / "two"), "--resume"]
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "is already a finished run; nothing to resume" in result.stdout
    assert time.monotonic() - start < 60
