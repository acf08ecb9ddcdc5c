"""The native loops over time (`rnn_loops.cc`) as XLA custom calls on JAX's CPU backend.

The C++ source is compiled on first use with the machine's C++ compiler
against the XLA FFI headers that ship with jaxlib, and cached under
`RNNLAB_CACHE` (default `~/.cache/rnnlab`) by a hash of the source, the
flags, jaxlib's version and the CPU, so later processes only load it.
`RNNLAB_NATIVE_FLAGS` adds compiler flags, e.g. `-mno-avx512f` to build and
test the AVX2 code on a CPU that has AVX-512.
`RNNLAB_NATIVE=0` turns the native path off; where it cannot be built
(no compiler, another platform) `FastRNN` uses its portable loop and
`build_error()` says why.

Example:
>>> from rnnlab.layers import native
>>> native.available()  # doctest: +SKIP
True
"""

import ctypes
import hashlib
import os
import platform
import shutil
import subprocess
import threading
from pathlib import Path

from rnnlab.datasets.storage import cache_dir
from rnnlab.io import atomic_path

SOURCE = Path(__file__).with_name("rnn_loops.cc")
FLAGS = ["-O3", "-march=native", "-std=c++17", "-fPIC", "-shared", "-fno-math-errno"]


def flags():
    """The compiler flags: `FLAGS`, then any in `RNNLAB_NATIVE_FLAGS`."""
    return [*FLAGS, *os.environ.get("RNNLAB_NATIVE_FLAGS", "").split()]


TARGETS = {
    "rnnlab_simple_forward": "RnnlabSimpleForward",
    "rnnlab_simple_backward": "RnnlabSimpleBackward",
    "rnnlab_lstm_forward": "RnnlabLstmForward",
    "rnnlab_lstm_backward": "RnnlabLstmBackward",
    "rnnlab_gru_forward": "RnnlabGruForward",
    "rnnlab_gru_backward": "RnnlabGruBackward",
}

_lock = threading.Lock()
_state = {"loaded": False, "error": None}


class NativeBuildError(RuntimeError):
    """The native loops could not be compiled or loaded."""


def _cpu_signature():
    """What the compiled code depends on: architecture and the CPU's feature flags."""
    flags = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith(("flags", "Features")):
                flags = line
                break
    except OSError:
        pass
    return f"{platform.machine()} {flags}"


def library_path(cache=None):
    """Where the compiled library for this source, jaxlib and CPU lives."""
    import jaxlib

    key = hashlib.sha256()
    for part in (
        SOURCE.read_bytes(),
        " ".join(flags()).encode(),
        jaxlib.__version__.encode(),
        _cpu_signature().encode(),
    ):
        key.update(part)
    root = Path(cache) if cache is not None else cache_dir() / "native"
    return root / f"rnn_loops-{key.hexdigest()[:16]}.so"


def build(cache=None):
    """Compiles `rnn_loops.cc` into the cache (if not already there); returns the library's path.

    Raises:
        NativeBuildError: no C++ compiler, or the compiler failed (its output is in the message).
    """
    import jax.ffi

    path = library_path(cache)
    if path.exists():
        return path
    compiler = os.environ.get("CXX") or shutil.which("g++") or shutil.which("c++") or shutil.which("clang++")
    if compiler is None:
        raise NativeBuildError("no C++ compiler found (looked for $CXX, g++, c++, clang++)")
    with atomic_path(path) as tmp:
        command = [compiler, *flags(), "-I", jax.ffi.include_dir(), str(SOURCE), "-o", tmp]
        done = subprocess.run(command, capture_output=True, text=True)
        if done.returncode != 0:
            raise NativeBuildError(f"{' '.join(command)} failed:\n{done.stderr[-4000:]}")
    return path


def _register():
    import jax.ffi

    library = ctypes.cdll.LoadLibrary(str(build()))
    for target, symbol in TARGETS.items():
        jax.ffi.register_ffi_target(target, jax.ffi.pycapsule(getattr(library, symbol)), platform="cpu")


def available():
    """True when the native loops are compiled, loaded and registered with XLA (CPU)."""
    if os.environ.get("RNNLAB_NATIVE", "1") == "0":
        return False
    with _lock:
        if not _state["loaded"] and _state["error"] is None:
            try:
                _register()
                _state["loaded"] = True
            except (NativeBuildError, OSError, AttributeError) as error:
                _state["error"] = str(error)
        return _state["loaded"]


def build_error():
    """Why the native loops are unavailable (None when they are available or not tried yet)."""
    return _state["error"]
