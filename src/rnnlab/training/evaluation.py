"""`rnnlab evaluate RUN`: the test metrics of a saved run, recomputed (optionally with other
decoding settings) and written to `evaluation*.json`."""

import dataclasses
import hashlib
import os
import re
import time
from pathlib import Path

from rnnlab import backend as backends
from rnnlab import config as configs
from rnnlab import plots, runs
from rnnlab.datasets import versions
from rnnlab.tasks.base import load_run, load_run_model


def evaluate_run(run_dir, backend=None, task=None, settings=None):
    """Recomputes the test metrics of a saved run and writes `evaluation.json`
    (`evaluation-NAME-VALUE....json` with `settings`).

    Args:
        run_dir: a run folder written by `rnnlab train`.
        backend: Keras backend (default: the one in force; see `rnnlab.tasks.base.load_run`).
        task: the task the run must be of (None: any).
        settings: changed evaluation settings, e.g. `{"beam_size": 5}` or
            `{"test_data": "newstest2014.tsv"}`; only the task's `evaluation_fields`.

    Returns:
        dict with each test metric (`test_<name>`), `num_test`, the settings, `wall_time_s`
        (loading and evaluating) and provenance.
    """
    start = time.perf_counter()
    found, config, folder = load_run(run_dir, backend)
    if task is not None and task.name != found.name:
        raise ValueError(f"{run_dir} is a {found.name!r} run, not {task.name!r}.")
    task = found
    settings = dict(settings or {})
    unknown = sorted(set(settings) - set(task.evaluation_fields))
    if unknown:
        allowed = ", ".join(task.evaluation_fields) or "none"
        raise ValueError(
            f"{run_dir} is a {task.name!r} run; its evaluation settings are: {allowed}. Received: {unknown}"
        )
    if settings:
        config = dataclasses.replace(config, **settings)
        configs.validate(config)
        settings = {key: getattr(config, key) for key in settings}  # as the config keeps them
    if not set(settings) & set(versions.DATA_FIELDS):  # the test texts come from the training files
        recorded = (runs.read_run_file(folder) or {}).get("data")
        versions.check_unchanged(recorded, config, "or give the test texts with --test-data FILE")
    model = load_run_model(folder)
    preprocessor = task.load_preprocessor(folder / "preprocessor.json")
    task.check_run(config, preprocessor, model, folder)
    test = task.examples(config, "test", preprocessor)
    metrics = task.evaluate_examples(model, config, test, preprocessor)
    details = task.test_details(model, config, test, preprocessor)
    result = {
        "task": task.name,
        **{f"test_{name}": value for name, value in metrics.items()},
        "num_test": len(test),
        **details,
        "settings": settings,
        "wall_time_s": round(time.perf_counter() - start, 2),
        **runs.provenance(backends.select(None)),
    }
    name = "".join(f"-{key}-{_file_name_part(value)}" for key, value in sorted(settings.items()))
    plots.details(details, folder, suffix=name, title=f"{folder.name}{name}")
    runs.write_json(folder / f"evaluation{name}.json", result)
    return result


def _file_name_part(value):
    """A setting's value as part of a file name: numbers and words as they are; a path's last
    part, with other characters than letters, digits, `.`, `_` and `-` replaced by `_`, and 8
    hex digits of the whole path, so that two test sets of one name keep two records.

    Example:
    >>> _file_name_part(5), _file_name_part("ngram"), _file_name_part("data/test 2017.tsv")
    ('5', 'ngram', 'test_2017.tsv-262ee326')
    """
    text = str(value)
    if not isinstance(value, str) or not any(mark in text for mark in ("/", ",", os.sep)):
        return re.sub(r"[^A-Za-z0-9._-]+", "_", text)
    name = re.sub(r"[^A-Za-z0-9._-]+", "_", Path(text.split(",")[-1]).name)
    return f"{name}-{hashlib.sha256(text.encode()).hexdigest()[:8]}"
