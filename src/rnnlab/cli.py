"""The `rnnlab` command: chooses the Keras backend from the command line, then runs the verb
(`rnnlab.commands`: the verbs and the parser).

Keras reads `KERAS_BACKEND` once, when it is imported, and the verbs' modules import Keras. So
the backend is read from the arguments alone first (`backend_for`: `--backend`, a recipe's
`backend`, `KERAS_BACKEND`, the backend a run folder was trained on, else JAX), and Keras is
imported only after the backend is chosen. Importing this module does not import Keras.
"""

import signal
import sys
import threading
import tomllib
from pathlib import Path

import rnnlab
from rnnlab import backend as backends
from rnnlab import packs, runs
from rnnlab.datasets import DatasetError
from rnnlab.export import manifest as manifests
from rnnlab.export import runtime
from rnnlab.training.signals import TrainingInterrupted

USER_ERRORS = (ValueError, DatasetError, OSError, ImportError)  # OSError: FileExists, Permission, ...
RECIPE_VERBS = ("train", "tune")  # verbs whose `--config` recipe may name the backend


def backend_for(argv, environment=None, imported=None):
    """The Keras backend the command line `argv` runs on, read before anything imports Keras.

    The first that applies: `--backend NAME` (or `--backend=NAME`); TensorFlow for `export
    --format saved_model|tflite`; for `train` and `tune`, the
    `backend` of the `--config` recipe; `environment`, the `KERAS_BACKEND` the user set; `imported`,
    the backend of a Keras this process imported already (it cannot change); the backend recorded
    in the `config.toml` of the first run folder after the verb (`evaluate`, `predict`, `serve`,
    `lab states`, a task's verbs), when it is installed; else None: the default of
    `rnnlab.backend.select` (JAX). What cannot be read here (an unknown name, a missing folder, a
    broken recipe) is passed over: the verb reports it when it parses its arguments or opens the folder.

    Args:
        argv: the arguments after `rnnlab`.
        environment: `KERAS_BACKEND` as the user set it (`rnnlab.ENVIRONMENT_BACKEND`), or None.
        imported: the backend of the Keras already imported (`rnnlab.backend.in_force()`), or None.

    Example:
    >>> backend_for(["predict", "runs/article", "--backend", "torch", "a fine film"])
    'torch'
    >>> backend_for(["train", "sentiment", "--epochs", "2"], environment="tensorflow")
    'tensorflow'
    """
    flag = _option_value(argv, "--backend")
    if flag in backends.BACKENDS:
        return flag
    verb = next((arg for arg in argv if not arg.startswith("-")), None)
    if verb == "export" and _option_value(argv, "--format") in manifests.TENSORFLOW_FORMATS:
        return "tensorflow"  # written through Keras' TensorFlow backend
    if verb in RECIPE_VERBS:
        recipe = _option_value(argv, "--config")
        recipe_backend = _recorded_backend(recipe) if recipe else None
        if recipe_backend:
            return recipe_backend
    if environment or imported:
        return environment or imported
    if verb is None or verb in RECIPE_VERBS:
        return None
    for arg in argv[argv.index(verb) + 1 :]:
        if arg and not arg.startswith("-") and _is_run(arg):
            trained = _recorded_backend(Path(arg) / "config.toml")
            return trained if trained and backends.is_available(trained) else None
    return None


def _option_value(argv, name):
    """The value of the last `name VALUE` or `name=VALUE` in `argv`, or None."""
    value = None
    for index, arg in enumerate(argv):
        if arg == name and index + 1 < len(argv):
            value = argv[index + 1]
        elif arg.startswith(name + "="):
            value = arg[len(name) + 1 :]
    return value


def _is_run(path):
    try:
        return runs.is_run(path)
    except (OSError, ValueError):  # a name the file system refuses
        return False


def _recorded_backend(path):
    """The `backend` key of a TOML file, or None when it names none or cannot be read."""
    path = Path(path)
    try:
        if not path.is_file():  # never a FIFO: reading it would block
            return None
        value = tomllib.loads(path.read_text(encoding="utf-8")).get("backend")
    except (OSError, ValueError, RecursionError):  # ValueError: bad TOML, bytes that are not UTF-8
        return None
    return value if value in backends.BACKENDS else None


def _predicts_with_export(argv):
    """Whether `argv` is `predict EXPORT_DIR ...` of a folder written by `rnnlab export`."""
    if not argv or argv[0] != "predict":
        return False
    target = next((arg for arg in argv[1:] if not arg.startswith("-")), None)
    return target is not None and manifests.is_export(target)


def _import_commands():
    """`rnnlab.commands`, which imports Keras: only once its backend is chosen. A Ctrl-C meanwhile
    is held back until the import is done, then raised: inside an import it could land in a
    callback (JAX's garbage-collection hook), which would print a traceback and lose it."""
    received = []
    held = threading.current_thread() is threading.main_thread()  # the thread signals go to
    previous = signal.signal(signal.SIGINT, lambda *_: received.append(True)) if held else None
    try:
        from rnnlab import commands
    finally:
        if held:
            signal.signal(signal.SIGINT, previous)
    if received:
        raise KeyboardInterrupt
    return commands


def main(argv=None):
    """Runs `rnnlab ARGV...`; returns the exit code (2: a user error, printed as one line)."""
    argv = sys.argv[1:] if argv is None else list(argv)
    try:
        argv = packs.resolve_argv(argv)  # a .rnnlab file or URL -> the folder it unpacks to
        if _predicts_with_export(argv):  # ONNX Runtime alone: no Keras, no backend
            return runtime.predict_command(argv[1:])
        backends.select(backend_for(argv, rnnlab.ENVIRONMENT_BACKEND, backends.in_force()))
        commands = _import_commands()
        return commands.run(commands.parse_args(argv))
    except TrainingInterrupted as interrupted:
        print(f"\nrnnlab: {interrupted.message}", file=sys.stderr)
        return interrupted.exit_code
    except KeyboardInterrupt:  # Ctrl-C at any moment, even while the verb's modules are imported
        print("\nrnnlab: interrupted", file=sys.stderr)
        return 130
    except RecursionError:  # a reader that does not name its file: still one line
        message = "the input is nested too deeply to read (Python's recursion limit)"
        print(f"rnnlab: error: {message}", file=sys.stderr)
        return 2
    except USER_ERRORS as error:
        if isinstance(error, OSError) and error.filename and error.strerror:
            error = f"{error.strerror}: {error.filename}"
        print(f"rnnlab: error: {error}", file=sys.stderr)
        return 2
