"""Applications. Each task package has the same shape: a config dataclass, a
preprocessor, a model builder (in `rnnlab.models`), and `train`, `evaluate`
and `predict` functions that the CLI calls by task name."""

import importlib

TASKS = {"sentiment": "rnnlab.tasks.sentiment"}


def get_task(name):
    """The task module for `name`, e.g. `get_task("sentiment")`."""
    if name not in TASKS:
        raise ValueError(f"Expected task in {set(TASKS)}. Received: task={name!r}")
    return importlib.import_module(TASKS[name])
