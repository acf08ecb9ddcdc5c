"""Choosing the Keras backend before Keras is imported.

Keras reads `KERAS_BACKEND` once, at import. rnnlab defaults to JAX (fastest
for the article's model on a CPU); `--backend` or `KERAS_BACKEND` picks
TensorFlow or PyTorch instead. Importing this module does not import Keras; the
`rnnlab` command chooses its backend (`rnnlab.cli.backend_for`) before anything does.
"""

import importlib.util
import os
import sys

BACKENDS = ("jax", "tensorflow", "torch")
DEFAULT_BACKEND = "jax"
# The package that must be installed for each backend, and how to get it.
INSTALL_HINTS = {
    "jax": "pip install 'rnnlab'  (jax is a core dependency)",
    "tensorflow": "pip install 'rnnlab[tensorflow]'",
    "torch": "pip install 'rnnlab[torch]'",
}


def is_available(backend):
    """Whether the library behind `backend` is installed."""
    return importlib.util.find_spec(backend) is not None


def available_backends():
    """The backends whose library is installed, in `BACKENDS` order."""
    return [name for name in BACKENDS if is_available(name)]


def in_force():
    """The backend of Keras when this process has imported it already (then it is fixed), else None."""
    keras = sys.modules.get("keras")
    return keras.backend.backend() if keras is not None else None


def select(backend=None):
    """Sets `KERAS_BACKEND` and returns the name in force.

    Args:
        backend: 'jax', 'tensorflow' or 'torch'; None: the backend of Keras when it is imported
            already, else `KERAS_BACKEND`, else JAX.

    Raises:
        ValueError: for an unknown name, or when Keras was already imported
            with another backend.
        ImportError: when the backend's library is not installed.
    """
    imported = in_force()
    backend = backend or imported or os.environ.get("KERAS_BACKEND") or DEFAULT_BACKEND
    if backend not in BACKENDS:
        raise ValueError(f"Expected backend in {set(BACKENDS)}. Received: backend={backend!r}")
    if not is_available(backend):
        raise ImportError(
            f"The {backend!r} backend is not installed. Install it with: {INSTALL_HINTS[backend]}"
        )
    if imported is not None and imported != backend:
        raise ValueError(
            f"Keras was already imported with backend={imported!r}; "
            f"cannot switch to backend={backend!r} in this process."
        )
    os.environ["KERAS_BACKEND"] = backend
    return backend


def add_backend_argument(
    parser, help="Keras backend (default: KERAS_BACKEND, else the one the run was trained on)"
):
    """Adds `--backend {jax,tensorflow,torch}` (default None) to an argparse parser."""
    parser.add_argument("--backend", choices=BACKENDS, default=None, help=help)
