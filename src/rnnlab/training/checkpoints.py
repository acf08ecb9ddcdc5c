"""Training checkpoints: weights with optimizer state, metric state, the data
position (epoch, step) and the training history, written so that a kill at any
moment leaves the previous checkpoint intact.

Each checkpoint is a folder `step-NNNNNNNNNN` (the global step), written as a
temporary folder and renamed into place; the newest two are kept. Restoring
falls back to the older one when the newest cannot be read.
"""

import json
import os
import secrets
import shutil
from pathlib import Path

import numpy as np
from keras import ops

from rnnlab.training.processes import without_distribution

KEEP = 2
STATE = "state.json"
WEIGHTS = "model.weights.h5"
METRICS = "metrics.npz"
RANDOM = "non_trainable.npz"  # every non-trainable variable, incl. dropout seed states (not in .weights.h5)
BEST = "best.weights.h5"


class Checkpoints:
    """The checkpoints of one run, in `folder`.

    Args:
        folder: where checkpoints live (made on the first save).
        log: where messages go.

    Example:
    >>> checkpoints = Checkpoints("runs/demo.partial/checkpoints")  # doctest: +SKIP
    >>> checkpoints.save(model, {"epoch": 1, "step": 0, "global_step": 625})  # doctest: +SKIP
    >>> checkpoints.restore(model)["epoch"]  # doctest: +SKIP
    1
    """

    def __init__(self, folder, log=print):
        self.folder = Path(folder)
        self.log = log
        if self.folder.is_dir():
            for stale in self.folder.glob(".tmp-*"):  # a save that was killed
                shutil.rmtree(stale)

    def _saved(self):
        if not self.folder.is_dir():
            return []
        return sorted(p for p in self.folder.glob("step-*") if (p / STATE).is_file())

    def latest(self):
        """The newest checkpoint folder, or None."""
        saved = self._saved()
        return saved[-1] if saved else None

    def save(self, model, state):
        """Saves the model's weights (with optimizer state), its metric state and `state`."""
        self.folder.mkdir(parents=True, exist_ok=True)
        tmp = self.folder / f".tmp-{secrets.token_hex(4)}"
        tmp.mkdir()
        try:
            with without_distribution():  # one process writes (see `without_distribution`)
                model.save_weights(tmp / WEIGHTS)
            np.savez(tmp / METRICS, *[np.asarray(v) for v in _metric_values(model)])
            np.savez(tmp / RANDOM, *[_value(v) for v in model.non_trainable_variables])
            (tmp / STATE).write_text(json.dumps(state), encoding="utf-8")
            final = self.folder / f"step-{state['global_step']:010d}"
            if final.exists():
                shutil.rmtree(final)
            os.replace(tmp, final)
        finally:
            if tmp.exists():
                shutil.rmtree(tmp)
        for old in self._saved()[:-KEEP]:
            shutil.rmtree(old)
        return final

    def restore(self, model):
        """Loads the newest readable checkpoint into `model`; returns its state (None if none).

        The metric state is returned as `state["metric_values"]` for the caller to
        assign when the resumed epoch begins (Keras resets metrics at each epoch).
        """
        for folder in reversed(self._saved()):
            try:
                state = json.loads((folder / STATE).read_text(encoding="utf-8"))
                if not model.optimizer.built:
                    model.optimizer.build(model.trainable_variables)
                model.load_weights(folder / WEIGHTS)
                with np.load(folder / METRICS) as saved:
                    state["metric_values"] = [saved[f"arr_{i}"] for i in range(len(saved.files))]
                with np.load(folder / RANDOM) as saved:
                    values = [saved[f"arr_{i}"] for i in range(len(saved.files))]
                variables = model.non_trainable_variables
                if len(values) != len(variables):
                    raise ValueError(
                        f"{len(values)} non-trainable variables saved, the model has {len(variables)}"
                    )
                for variable, value in zip(variables, values, strict=True):
                    variable.assign(value)
                return state
            except (OSError, ValueError, KeyError, json.JSONDecodeError) as error:
                self.log(f"rnnlab: checkpoint {folder} cannot be read ({error}); trying an older one")
        return None

    def save_best(self, model):
        """Keeps the current weights as the best so far."""
        self.folder.mkdir(parents=True, exist_ok=True)
        tmp = self.folder / f".best-{secrets.token_hex(4)}.weights.h5"  # Keras wants this suffix
        try:
            with without_distribution():
                model.save_weights(tmp)
            os.replace(tmp, self.folder / BEST)
        finally:
            tmp.unlink(missing_ok=True)

    def restore_best(self, model):
        """Loads the best weights kept by `save_best`; False when there are none."""
        path = self.folder / BEST
        if not path.is_file():
            return False
        model.load_weights(path)
        return True

    def remove(self):
        """Deletes every checkpoint (once the run is complete)."""
        if self.folder.exists():
            shutil.rmtree(self.folder)


def _value(variable):
    return ops.convert_to_numpy(variable)


def _metric_values(model):
    return [_value(v) for v in model.metrics_variables]


def assign_metric_values(model, values):
    """Puts saved metric state back (Keras resets metrics when an epoch begins)."""
    variables = model.metrics_variables
    if len(variables) != len(values):
        return False
    for variable, value in zip(variables, values, strict=True):
        variable.assign(value)
    return True
