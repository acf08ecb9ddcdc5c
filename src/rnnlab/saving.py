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

REQUIRED_MEMBERS = ("config.json", "metadata.json")  # what Keras writes into every `.keras` zip
WEIGHT_MEMBERS = ("model.weights.h5", "model.weights.npz")  # one of these


def _first_line(error, limit=300):
    text = " ".join(str(error).split()) or type(error).__name__
    return text if len(text) <= limit else text[: limit - 3] + "..."


def check_model_file(path):
    """Raises `ValueError` unless `path` looks like a readable `.keras` file.

    Checks that it exists, is a zip archive whose members pass their CRC
    check, holds `config.json`, `metadata.json` and the weights, and that
    `config.json` is JSON. Does not import Keras.

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
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError) as error:
        raise ValueError(
            f"{invalid} ({_first_line(error)}; a .keras file is a zip archive: this one is truncated, "
            "empty or overwritten)."
        ) from error
    try:
        json.loads(config)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ValueError(f"{invalid} (its config.json is not valid JSON: {_first_line(error)}).") from error


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
    import keras

    import rnnlab.finetuning  # noqa: F401  (registers the per-layer-rate optimizers and schedule)
    import rnnlab.layers  # noqa: F401  (registers FastRNN and rnnlab's other layers)
    import rnnlab.losses  # noqa: F401  (registers the losses and metrics models are compiled with)

    try:
        return keras.saving.load_model(path, compile=compile)
    except (ValueError, TypeError, KeyError, AttributeError, IndexError, OSError) as error:
        raise ValueError(
            f"{path} is not a valid Keras model file (Keras could not rebuild the model from its "
            f"config.json and weights: {_first_line(error)})."
        ) from error
