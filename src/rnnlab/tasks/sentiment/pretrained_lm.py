"""Start a sentiment classifier from a language model trained on IMDb reviews
(`rnnlab train lm --corpus imdb`): its subword tokenizer, its embedding matrix and
its recurrent layers (Dai & Le's LM pretraining; ULMFiT's first stage).

The language model reads the 75,000 training and unlabelled reviews, never the test
reviews, so the classifier's test accuracy stays clean.

Example:
>>> lm = load_pretrained_lm("runs/imdb-lm")  # doctest: +SKIP
>>> lm.architecture()  # doctest: +SKIP
{'cell': 'lstm', 'embedding_dim': 256, 'units': 256, 'num_layers': 2}
"""

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from keras import ops

from rnnlab import config as configs
from rnnlab import runs
from rnnlab.tasks import get_task
from rnnlab.tasks.base import load_run_model
from rnnlab.tasks.lm.preprocessor import load_preprocessor


@dataclass
class PretrainedLM:
    """A finished subword language-model run.

    Attributes:
        folder: the run folder.
        config: its `LMConfig`.
        preprocessor: its `LMPreprocessor` (level 'subword').
    """

    folder: Path
    config: object
    preprocessor: object

    def architecture(self):
        """The classifier settings that must match the language model."""
        c = self.config
        return {
            "cell": c.cell,
            "embedding_dim": c.embedding_dim,
            "units": c.units,
            "num_layers": c.num_layers,
        }

    def weights(self):
        """`{'embedding': matrix, 'rnn_0': [cell weights], ...}` as NumPy arrays."""
        model = load_run_model(self.folder)
        weights = {"embedding": np.asarray(ops.convert_to_numpy(model.get_layer("embedding").embeddings))}
        for depth in range(self.config.num_layers):
            cell = model.get_layer(f"rnn_{depth}").cell
            weights[f"rnn_{depth}"] = [np.asarray(ops.convert_to_numpy(w)) for w in cell.weights]
        return weights


def load_pretrained_lm(run_dir):
    """Opens a finished `rnnlab train lm --corpus imdb` run; clear errors for anything else."""
    folder, info = runs.open_run(run_dir)
    if info.get("task") != "lm":
        raise ValueError(
            f"--init-from {run_dir}: expected a language-model run (rnnlab train lm --corpus imdb). "
            f"Received: a {info.get('task')!r} run"
        )
    config = configs.resolve(get_task("lm").config_cls, folder / "config.toml")
    preprocessor = load_preprocessor(folder / "preprocessor.json")
    if preprocessor.level != "subword":
        raise ValueError(
            f"--init-from {run_dir}: expected a subword language model of reviews (--corpus imdb). "
            f"Received: a {preprocessor.level}-level model of {config.text_name!r}"
        )
    return PretrainedLM(folder, config, preprocessor)


def copy_into(classifier, weights, num_layers):
    """Sets a classifier's embedding and recurrent cells to a language model's `weights`."""
    classifier.get_layer("embedding").embeddings.assign(weights["embedding"])
    for depth in range(num_layers):
        layer = classifier.get_layer(f"rnn_{depth}" if num_layers > 1 else "rnn")
        for variable, value in zip(layer.cell.weights, weights[f"rnn_{depth}"], strict=True):
            variable.assign(value)
