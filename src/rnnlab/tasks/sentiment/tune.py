"""Hyperparameter search with KerasTuner (article 9.1).

Searches embedding size, units, learning rate, batch size, dropout and L2
around a base config, scoring each trial by its best validation accuracy
(validation reviews come out of the training set, never the test set).
Writes `trials.csv`, `trials.md` and the best config as `best.toml`, a recipe
that `rnnlab train sentiment --config` runs.
"""

import csv
import dataclasses
import io
import time
from pathlib import Path

from rnnlab import backend as backends
from rnnlab import config as configs
from rnnlab import runs
from rnnlab.tasks.sentiment.task import (
    batches,
    build_model,
    load_sequences,
    make_preprocessor,
    seed_everything,
)

SEARCH_SPACE = {
    "embedding_dim": [32, 64, 128],
    "units": [32, 64, 128],
    "learning_rate": (1e-4, 1e-2),  # log-uniform
    "batch_size": [32, 64, 128],
    "dropout": (0.0, 0.5),
    "l2": (1e-7, 1e-3),  # log-uniform
}


def _config_from(hp, base):
    return dataclasses.replace(
        base,
        embedding_dim=hp.Choice("embedding_dim", SEARCH_SPACE["embedding_dim"]),
        units=hp.Choice("units", SEARCH_SPACE["units"]),
        learning_rate=hp.Float("learning_rate", *SEARCH_SPACE["learning_rate"], sampling="log"),
        batch_size=hp.Choice("batch_size", SEARCH_SPACE["batch_size"]),
        dropout=hp.Float("dropout", *SEARCH_SPACE["dropout"], step=0.1),
        l2=hp.Float("l2", *SEARCH_SPACE["l2"], sampling="log"),
    )


def tune(base, output, trials=10, overwrite=False):
    """Runs `trials` random-search trials and writes the results to `output`.

    Args:
        base: the `SentimentConfig` whose other settings every trial keeps.
        output: folder for the tuner's state, the trial table and `best.toml`.
        trials: number of configurations to try.

    Returns:
        The best `SentimentConfig`.
    """
    if trials < 1:
        raise ValueError(f"Expected trials >= 1. Received: trials={trials}")
    backend = backends.select(base.backend)  # before keras_tuner imports Keras
    try:
        import keras_tuner
    except ImportError as error:
        raise ImportError("Tuning needs KerasTuner: pip install keras-tuner") from error
    preprocessor = make_preprocessor(base)
    sequences, labels = load_sequences(base, "train", preprocessor)
    n_val = max(1, int(round(len(sequences) * base.validation_split)))
    train_part = (sequences[:-n_val], labels[:-n_val])
    val_inputs = batches(base, sequences[-n_val:], labels[-n_val:], shuffle=False)

    class SentimentHyperModel(keras_tuner.HyperModel):
        def build(self, hp):
            seed_everything(base.seed, backend)
            return build_model(_config_from(hp, base), preprocessor.vocab_size)

        def fit(self, hp, model, **kwargs):
            config = _config_from(hp, base)
            inputs = batches(config, *train_part, shuffle=True)
            validation = val_inputs[0] if len(val_inputs) == 1 else val_inputs
            return model.fit(
                *inputs,
                batch_size=None if config.bucket else config.batch_size,
                epochs=config.epochs,
                validation_data=validation,
                verbose=2,
                **kwargs,
            )

    with runs.run_folder(output, overwrite) as folder:
        start = time.perf_counter()
        tuner = keras_tuner.RandomSearch(
            SentimentHyperModel(),
            objective=keras_tuner.Objective("val_accuracy", direction="max"),
            max_trials=trials,
            seed=base.seed,
            directory=str(folder),
            project_name="tuner",
        )
        tuner.search()
        rows = []
        for trial in tuner.oracle.get_best_trials(num_trials=trials):
            rows.append(
                {"trial": trial.trial_id, "val_accuracy": trial.score, **trial.hyperparameters.values}
            )
        best = _config_from(tuner.get_best_hyperparameters(1)[0], base)
        _write_tables(folder, rows)
        runs.write_text(
            folder / "best.toml",
            f"# Best of {trials} KerasTuner trials (val_accuracy {rows[0]['val_accuracy']:.4f}).\n"
            + "# Trials ran on "
            + (f"{base.limit} reviews (--limit)" if base.limit else "all training reviews")
            + "; this recipe trains on all of them.\n"
            + configs.to_toml(dataclasses.replace(best, backend=None, limit=None)),
        )
        runs.write_json(
            folder / "tuning.json",
            {
                "trials": rows,
                "best_config": dataclasses.asdict(best),
                "wall_time_s": round(time.perf_counter() - start, 2),
                **runs.provenance(backend),
            },
        )
    print(f"Best validation accuracy {rows[0]['val_accuracy']:.4f}; recipe: {Path(output) / 'best.toml'}")
    return best


def _write_tables(folder, rows):
    columns = list(rows[0])
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns)
    writer.writeheader()
    writer.writerows(rows)
    runs.write_text(folder / "trials.csv", buffer.getvalue())
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for row in rows:
        cells = [f"{v:.4g}" if isinstance(v, float) else str(v) for v in row.values()]
        lines.append("| " + " | ".join(cells) + " |")
    runs.write_text(folder / "trials.md", "\n".join(lines) + "\n")
