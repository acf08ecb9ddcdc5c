"""`rnnlab tune TASK`: hyperparameter search with KerasTuner (article 9.1) for
any task that declares a search space (`Task.search_space`).

Each trial is scored by its best validation score (the task's monitor;
validation examples come out of the training set, never the test set).
Writes `trials.csv`, `trials.md`, `tuning.json` and the best config as
`best.toml`, a recipe that `rnnlab train TASK --config` runs.
"""

import csv
import dataclasses
import io
import time
from pathlib import Path

from rnnlab import backend as backends
from rnnlab import config as configs
from rnnlab import runs
from rnnlab.data.batches import epoch_batches
from rnnlab.optional import require
from rnnlab.training.setup import compiled_model, seed_everything, steps_per_epoch
from rnnlab.training.trainer import train_and_validation


def tune(task, base, output, trials=10, overwrite=False):
    """Runs `trials` random-search trials and writes the results to `output`.

    Args:
        task: a `Task` with a `search_space`.
        base: the config whose other settings every trial keeps.
        output: the run folder for the tuner's state, the tables and `best.toml`.
        trials: number of configurations to try.
        overwrite: replace an earlier tuning run at `output`.

    Returns:
        The best config.
    """
    if not isinstance(trials, int) or trials < 1:
        raise ValueError(f"Expected trials >= 1. Received: trials={trials!r}")
    backend = backends.select(base.backend)
    keras_tuner = require("keras_tuner", "rnnlab tune (KerasTuner)")
    probe = keras_tuner.HyperParameters()
    if task.search_space(probe, base) is None:
        raise ValueError(f"The {task.name!r} task declares no search space; it cannot be tuned.")
    writer = runs.RunWriter(output, f"tune-{task.name}", overwrite=overwrite)
    folder = writer.folder
    preprocessor = task.make_preprocessor(base)
    train, validation = train_and_validation(task, base, preprocessor)

    class TaskHyperModel(keras_tuner.HyperModel):
        def build(self, hp):
            config = task.search_space(hp, base)
            seed_everything(base.seed, backend)
            prepared = task.prepare(config, preprocessor)
            config = prepared.config
            # per trial: batch_size is tuned
            return compiled_model(
                task, config, preprocessor, prepared.start, backend, steps_per_epoch(task, config, train)
            )

        def fit(self, hp, model, **kwargs):
            config = task.search_space(hp, base)
            order = task.batch_order(config, train, shuffle=True)
            val_data = epoch_batches(validation, task.batch_order(config, validation), 0)
            return model.fit(
                epoch_batches(train, order, 0, advance=True),
                epochs=config.epochs,
                validation_data=val_data,
                shuffle=False,  # the order is ours; Keras would reshuffle a PyDataset's batches
                verbose=2,
                **kwargs,
            )

    start = time.perf_counter()
    tuner = keras_tuner.RandomSearch(
        TaskHyperModel(),
        objective=keras_tuner.Objective(task.monitor, direction=task.monitor_mode),
        max_trials=trials,
        seed=base.seed,
        directory=str(folder),
        project_name="tuner",
    )
    tuner.search()
    rows = [
        {"trial": trial.trial_id, task.monitor: trial.score, **trial.hyperparameters.values}
        for trial in tuner.oracle.get_best_trials(num_trials=trials)
    ]
    best = task.search_space(tuner.get_best_hyperparameters(1)[0], base)
    _write_tables(folder, rows)
    limit = f"{base.limit} examples (--limit)" if base.limit else "all training examples"
    runs.write_text(
        folder / "best.toml",
        f"# Best of {trials} KerasTuner trials ({task.monitor} {rows[0][task.monitor]:.4f}).\n"
        f"# Trials ran on {limit}; this recipe trains on all of them.\n"
        + configs.to_toml(dataclasses.replace(best, backend=None, limit=None)),
    )
    runs.write_json(
        folder / "tuning.json",
        {
            "task": task.name,
            "trials": rows,
            "best_config": dataclasses.asdict(best),
            "wall_time_s": round(time.perf_counter() - start, 2),
            **runs.provenance(backend),
        },
    )
    writer.finish()
    print(f"Best {task.monitor} {rows[0][task.monitor]:.4f}; recipe: {Path(output) / 'best.toml'}")
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
