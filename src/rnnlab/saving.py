"""Loading saved Keras models with errors that say what is wrong with the file.

`keras.saving.load_model` answers "File not found" for a truncated or
overwritten `.keras` file and a bare JSON or deserialisation error for an
edited one; `load_model` checks the file first and names it in every error.
It also imports `rnnlab.layers` so that models using rnnlab's layers load in
a fresh process.
"""

import json
import zipfile
from pathlib import Path

import keras

import rnnlab.finetuning  # noqa: F401  (registers the per-layer-rate optimizers and schedule)
import rnnlab.layers  # noqa: F401  (registers FastRNN and rnnlab's other layers)
import rnnlab.losses  # noqa: F401  (registers the losses and metrics models are compiled with)

REQUIRED_MEMBERS = ("config.json", "metadata.json")  # what Keras writes into every `.keras` zip
WEIGHT_MEMBERS = ("model.weights.h5", "model.weights.npz")  # one of these


def _first_line(error, limit=300):
    text = " ".join(str(error).split()) or type(error).__name__
    return text if len(text) <= limit else text[: limit - 3] + "..."


def check_model_file(path):
    """Raises `ValueError` unless `path` looks like a readable `.keras` file.

    Checks that it exists, is a zip archive whose members pass their CRC
    check, holds `config.json`, `metadata.json` and the weights, and that
    `config.json` is JSON: reads the archive itself, before Keras is asked to.

    Args:
        path: the `.keras` file.

    Example:
    >>> check_model_file("runs/imdb-lstm/model.keras")  # doctest: +SKIP
    """
    path = Path(path)
    if not path.exists():
        raise ValueError(
            f"{path} is missing: no such file. Expected a .keras model file, e.g. the model.keras "
            "of a run folder written by `rnnlab train`."
        )
    if path.is_dir():
        raise ValueError(f"{path} is a folder, not a Keras model file. Expected a .keras file.")
    if path.suffix != ".keras":
        raise ValueError(f"Expected a .keras model file. Received: {path}")
    invalid = f"{path} is not a valid Keras model file"
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
            missing = [name for name in REQUIRED_MEMBERS if name not in names]
            if missing:
                raise ValueError(f"{invalid} (no {', '.join(missing)} inside; it was damaged or edited).")
            if not names & set(WEIGHT_MEMBERS):
                raise ValueError(f"{invalid} (no {' or '.join(WEIGHT_MEMBERS)} inside).")
            damaged = archive.testzip()
            if damaged is not None:
                raise ValueError(f"{invalid} ({damaged} inside it is damaged: CRC mismatch).")
            config = archive.read("config.json")
            weights_bytes = sum(archive.getinfo(name).file_size for name in names & set(WEIGHT_MEMBERS))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError) as error:
        raise ValueError(
            f"{invalid} ({_first_line(error)}; a .keras file is a zip archive: this one is truncated, "
            "empty or overwritten)."
        ) from error
    try:
        parsed = json.loads(config)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ValueError(f"{invalid} (its config.json is not valid JSON: {_first_line(error)}).") from error
    except RecursionError:
        raise ValueError(f"{invalid} (its config.json is nested too deeply to be a model's).") from None
    floor = parameter_floor(parsed)
    if 4 * floor > weights_bytes + 2**20:  # Keras would allocate them all before reading any weight
        raise ValueError(
            f"{invalid} (its config.json asks for at least {floor:,} parameters, {4 * floor:,} bytes, but "
            f"its weights file holds {weights_bytes:,} bytes; the config was edited)."
        )


def parameter_floor(config):
    """A lower bound on the float parameters a saved model's `config.json` asks for: each
    embedding's `input_dim * output_dim`, and each layer's `units` times its input size
    (when its `build_config` says it). Keras allocates every variable when it rebuilds
    a model, before it reads a weight, so a config edited to ask for 10**12 rows would
    exhaust memory first; comparing this floor with the size of the weights refuses it.

    Example:
    >>> parameter_floor({"class_name": "Embedding", "config": {"input_dim": 10, "output_dim": 2}})
    20
    """
    total, stack = 0, [config]
    while stack:
        node = stack.pop()
        if isinstance(node, list):
            stack.extend(node)
            continue
        if not isinstance(node, dict):
            continue
        stack.extend(node.values())
        layer = node.get("config")
        if "class_name" not in node or not isinstance(layer, dict):
            continue
        sizes = [layer.get(key) for key in ("input_dim", "output_dim", "units")]
        input_dim, output_dim, units = (
            v if isinstance(v, int) and not isinstance(v, bool) else 0 for v in sizes
        )
        total += max(0, input_dim) * max(0, output_dim)
        build = node.get("build_config")
        shape = build.get("input_shape") if isinstance(build, dict) else None
        last = shape[-1] if isinstance(shape, list) and shape and isinstance(shape[-1], int) else 1
        total += max(0, units) * max(1, last)
    return total


def load_model(path, compile=True):
    """Loads a `.keras` model file, with rnnlab's custom layers registered.

    Args:
        path: the `.keras` file.
        compile: also restore the optimizer, loss and metrics (as Keras).

    Returns:
        The `keras.Model`.

    Raises:
        ValueError: the file is missing, not a `.keras` zip (truncated,
            empty, overwritten), or its config cannot be turned back into a
            model (edited, unknown layer class, invalid arguments); the
            message names the file and the reason.

    Example:
    >>> model = load_model("runs/imdb-lstm/model.keras")  # doctest: +SKIP
    >>> model.predict(x).shape  # doctest: +SKIP
    (32, 1)
    """
    check_model_file(path)
    try:
        return keras.saving.load_model(path, compile=compile)
    except MemoryError:
        raise ValueError(
            f"{path} asks for more memory than this machine has (was its config.json edited?)."
        ) from None
    except (ValueError, TypeError, KeyError, AttributeError, IndexError, OSError, RuntimeError) as error:
        # RuntimeError: e.g. JAX failing to allocate a layer of 10**12 rows from an edited config
        raise ValueError(
            f"{path} is not a valid Keras model file (Keras could not rebuild the model from its "
            f"config.json and weights: {_first_line(error)})."
        ) from error
