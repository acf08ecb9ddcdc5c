"""Applications. Each task package has the same shape: a config dataclass
(extending `rnnlab.tasks.config.TrainConfig`), a preprocessor, a model builder
(in `rnnlab.models`), and a `Task` subclass naming them; training, resume,
evaluation, prediction and the CLI come from `rnnlab.tasks.base`.

Adding a task: write `rnnlab/tasks/NAME/` with a `Task` subclass as `TASK`,
and register it below.
"""

import importlib

TASKS = {
    "sentiment": "rnnlab.tasks.sentiment.task",
    "translation": "rnnlab.tasks.translation.task",
    "speech": "rnnlab.tasks.speech.task",
    "lm": "rnnlab.tasks.lm.task",
}  # name -> module holding `TASK`


def get_task(name):
    """The `Task` registered as `name`, e.g. `get_task("sentiment")`."""
    if name not in TASKS:
        raise ValueError(f"Expected task in {set(TASKS)}. Received: task={name!r}")
    return importlib.import_module(TASKS[name]).TASK
