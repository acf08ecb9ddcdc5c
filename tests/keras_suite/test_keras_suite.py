"""Keras' own tests of SimpleRNN, LSTM, GRU and Bidirectional, run against rnnlab's layers.

The test files come from the installed Keras package; `rnnlab_keras_plugin`
swaps `layers.SimpleRNN/LSTM/GRU` for rnnlab's classes in them. Each backend
runs in its own process (the backend is fixed when Keras is imported).
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from exclusions import EXCLUDED, KERAS_TEST_FILES, MIN_PASS_RATE

HERE = Path(__file__).parent


def run_keras_suite(backend, folder):
    """Runs Keras' RNN test files on `backend` against rnnlab's layers; returns the per-test report."""
    import keras

    tests = Path(keras.__file__).parent / "src" / "layers" / "rnn"
    report = folder / f"report-{backend}.json"
    env = {
        **os.environ,
        "KERAS_BACKEND": backend,
        "RNNLAB_KERAS_SUITE_REPORT": str(report),
        "PYTHONPATH": os.pathsep.join(filter(None, [str(HERE), os.environ.get("PYTHONPATH")])),
    }
    command = [sys.executable, "-m", "pytest", "-p", "rnnlab_keras_plugin", "-p", "no:cacheprovider"]
    command += ["-c", os.devnull, "--rootdir", str(folder), "-q", "-W", "ignore"]
    command += [str(tests / name) for name in KERAS_TEST_FILES]
    done = subprocess.run(command, cwd=folder, env=env, capture_output=True, text=True, timeout=900)
    if not report.exists():
        raise AssertionError(f"Keras' tests did not run:\n{done.stdout[-4000:]}\n{done.stderr[-4000:]}")
    return json.loads(report.read_text()), done.stdout


def summary(report):
    """Per file: (passed, built the layer, failed) over the tests that built one of rnnlab's layers."""
    counts = {}
    for entry in report.values():
        if entry["outcome"] == "skipped" or not entry.get("built"):
            continue
        passed, built, failed = counts.get(entry["file"], (0, 0, 0))
        ok = entry["outcome"] in ("passed", "xfailed")
        counts[entry["file"]] = (passed + ok, built + 1, failed + (not ok))
    return counts


@pytest.mark.parametrize("backend", ["jax", "tensorflow", "torch"])
def test_keras_rnn_tests_pass_with_rnnlab_layers(backend, tmp_path):
    report, output = run_keras_suite(backend, tmp_path)
    assert set(entry["file"] for entry in report.values()) == set(KERAS_TEST_FILES), output[-2000:]
    failed = {name for name, entry in report.items() if entry["outcome"] in ("failed", "error")}
    assert failed <= set(EXCLUDED[backend]), f"unexpected failures: {sorted(failed - set(EXCLUDED[backend]))}"
    counts = summary(report)
    passed = sum(p for p, _, _ in counts.values())
    built = sum(b for _, b, _ in counts.values())
    assert built >= 25, counts  # the swap happened: Keras' tests built rnnlab's layers
    assert passed / built >= MIN_PASS_RATE, counts
    if backend == "jax":  # and most of their calls ran the native loop
        native = sum(entry.get("native", 0) for entry in report.values())
        keras_loop = sum(entry.get("keras_loop", 0) for entry in report.values())
        assert native > 2 * keras_loop, (native, keras_loop)
