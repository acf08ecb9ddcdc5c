"""`rnnlab gradcheck`: finite differences and Keras cross-checks in one table.

Finite differences run here (NumPy, float64); each Keras backend runs in its
own process (`python -m rnnlab.reference.keras_check`), since Keras binds its
backend at import.
"""

import json
import os
import subprocess
import sys

from rnnlab.backend import INSTALL_HINTS, available_backends, is_available
from rnnlab.reference import gradcheck, keras_check, model

FINITE_DIFFERENCE_TOLERANCE = 1e-6


def keras_errors(backend, timeout=600):
    """Runs the Keras cross-check on `backend` in a subprocess; returns its JSON."""
    env = {**os.environ, "KERAS_BACKEND": backend}
    done = subprocess.run(
        [sys.executable, "-m", "rnnlab.reference.keras_check"],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if done.returncode != 0:
        raise RuntimeError(f"Keras check on {backend} failed:\n{done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])["results"]


def run(backends=None, stream=None):
    """Prints the table; returns True when every error is within tolerance."""
    stream = stream or sys.stdout
    backends = available_backends() if backends is None else backends
    for backend in backends:
        if not is_available(backend):
            raise ImportError(
                f"The {backend!r} backend is not installed. Install it with: {INSTALL_HINTS[backend]}"
            )
    per_backend = {b: keras_errors(b) for b in backends}
    header = f"{'check':<24} {'param':<8} {'finite-diff':>11}" + "".join(
        f" {'keras-' + b:>16}" for b in backends
    )
    print(header, file=stream)
    print("-" * len(header), file=stream)
    ok = True
    for cell in model.CELLS:
        for return_sequences in (False, True):
            kind = "many_to_many" if return_sequences else "many_to_one"
            fd = gradcheck.check(cell, return_sequences)
            for name in ("outputs", "loss", *model.PARAM_ORDER, "inputs"):
                row = f"{cell + '/' + kind:<24} {name:<8} "
                if name in fd:
                    ok &= fd[name] < FINITE_DIFFERENCE_TOLERANCE
                    row += f"{fd[name]:>11.1e}"
                else:
                    row += f"{'':>11}"
                for b in backends:
                    errors = per_backend[b][f"{cell}/{kind}"]
                    if name in errors:
                        tolerance = (
                            keras_check.OUTPUT_ATOL if name == "outputs" else keras_check.GRADIENT_ATOL
                        )
                        ok &= errors[name] < tolerance
                        row += f" {errors[name]:>16.1e}"
                    else:
                        row += f" {'':>16}"
                print(row, file=stream)
    print(
        f"\nfinite-diff: max relative error, float64 (tolerance {FINITE_DIFFERENCE_TOLERANCE:g}). "
        f"keras-*: max absolute error vs Keras in float32 "
        f"(outputs {keras_check.OUTPUT_ATOL:g}, gradients {keras_check.GRADIENT_ATOL:g}).",
        file=stream,
    )
    print("PASS" if ok else "FAIL", file=stream)
    return ok
