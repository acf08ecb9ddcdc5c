"""Data-parallel training through Keras' distribution API, on two virtual CPU devices."""

import json
import os
import subprocess
import sys

import pytest

from helpers import write_small_imdb


def _train(tmp_path, name, extra):
    env = {**os.environ, "KERAS_BACKEND": "jax", "XLA_FLAGS": "--xla_force_host_platform_device_count=2"}
    out = tmp_path / name
    subprocess.run(
        [
            sys.executable,
            "-m",
            "rnnlab",
            "train",
            "sentiment",
            "--epochs",
            "2",
            "--units",
            "8",
            "--embedding-dim",
            "8",
            "--max-features",
            "40",
            "--maxlen",
            "30",
            "--limit",
            "100",
            "--batch-size",
            "10",
            "--output",
            str(out),
            *extra,
        ],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads((out / "metrics.json").read_text())


@pytest.mark.slow  # 25 s; two processes against one (tests/training/test_processes.py) run by default
def test_two_devices_give_the_single_device_losses(tmp_path, monkeypatch, cache):
    import random

    write_small_imdb(tmp_path / "data" / "aclImdb", random.Random(0))
    monkeypatch.setenv("RNNLAB_DATASETS", str(tmp_path / "data"))
    single = _train(tmp_path, "single", [])
    parallel = _train(tmp_path, "parallel", ["--data-parallel"])
    assert single["num_devices"] == 1 and parallel["num_devices"] == 2
    for key in ("loss", "val_loss"):
        assert parallel["history"][key] == pytest.approx(single["history"][key], rel=1e-4)
    assert parallel["test_loss"] == pytest.approx(single["test_loss"], rel=1e-4)


def test_data_parallel_needs_jax(small_imdb, tmp_path):
    from rnnlab.backend import is_available

    if not is_available("torch"):
        pytest.skip("torch is not installed")
    code = subprocess.run(
        [
            sys.executable,
            "-m",
            "rnnlab",
            "train",
            "sentiment",
            "--data-parallel",
            "--backend",
            "torch",
            "--limit",
            "20",
            "--output",
            str(tmp_path / "r"),
        ],
        capture_output=True,
        text=True,
        env={**os.environ},
    )
    assert code.returncode == 2 and "data_parallel needs the jax backend" in code.stderr
