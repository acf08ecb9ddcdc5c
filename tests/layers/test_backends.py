"""The equality tests of rnnlab's layers with Keras' (outputs, states, gradients), on every backend.

This process runs them on one backend (`KERAS_BACKEND`, jax by default); each
other backend runs them in its own process, since Keras fixes its backend at import.
"""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).parent
EQUALITY_TESTS = ("test_states_and_cells.py", "test_fast_rnn.py")


@pytest.mark.parametrize("backend", ["jax", "tensorflow", "torch"])
def test_layers_equal_keras_on_backend(backend, tmp_path):
    import keras

    if keras.backend.backend() == backend:
        pytest.skip(f"this process runs them on {backend}")
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-W", "ignore"]
    command += [str(HERE / name) for name in EQUALITY_TESTS]
    env = {**os.environ, "KERAS_BACKEND": backend}
    done = subprocess.run(
        command, cwd=HERE.parent.parent, env=env, capture_output=True, text=True, timeout=900
    )
    summary = done.stdout.strip().splitlines()[-1] if done.stdout.strip() else done.stderr[-2000:]
    assert done.returncode == 0, done.stdout[-6000:]
    passed = int(re.search(r"(\d+) passed", summary).group(1))
    assert passed >= 80, summary  # the equality tests ran, not only skipped
