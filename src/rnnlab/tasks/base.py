"""A task is a declaration: it names its config class, its preprocessor, its examples, its
model, its loss and metrics, the validation score early stopping watches, and its predictor,
the way keras-hub tasks name a backbone and a preprocessor. Training, resume, evaluation and
tuning are `rnnlab.training`'s; loading a run for predictions is `Predictor`'s (below).

Example:
>>> from rnnlab.tasks import get_task
>>> task = get_task("sentiment")  # a Task instance
>>> task.monitor
'val_accuracy'
"""

import dataclasses
import json
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import numpy as np

from rnnlab import backend as backends
from rnnlab import config as configs
from rnnlab import runs, saving
from rnnlab.data.batches import Batching, epoch_batches
from rnnlab.errors import InputError
from rnnlab.models.predict import predict_rows
from rnnlab.tasks import TASKS, get_task


@dataclass
class Prepared:
    """What a task's `prepare` gives the trainer before the model is built.

    Attributes:
        config: the config to train with (a task may adjust it, e.g. to pretrained vectors' size).
        start: what the task's `build_model` starts from (pretrained weights or vectors), or None.
        metrics: extra numbers for `metrics.json` (e.g. the vocabulary's coverage by the vectors).
    """

    config: object
    start: object = None
    metrics: dict = field(default_factory=dict)


class Task:
    """A trainable application. Subclasses set the class attributes and the methods below.

    Attributes:
        name: the CLI name (`rnnlab train NAME`).
        config_cls: its config dataclass (a `TrainConfig` subclass).
        predictor_cls: its `Predictor` subclass.
        monitor, monitor_mode: the validation score early stopping and
            `restore_best` watch, e.g. ('val_accuracy', 'max').
        validation_from_train: the last `validation_split` of the training examples become
            validation; False: the task has its own validation split (`examples(..., 'validation')`).
        evaluation_fields: config fields `rnnlab evaluate` may change (decoding settings).
        demo_page: the file in the task's package holding its section of `rnnlab serve`'s page
            (`demo_section`), or None: the page has no section for it.
    """

    name = None
    config_cls = None
    predictor_cls = None
    monitor = "val_loss"
    monitor_mode = "min"
    validation_from_train = True
    evaluation_fields = ()
    demo_page = None

    # ---- the parts a task provides ----
    def make_preprocessor(self, config):
        """A preprocessor fitted on training data only; it has `save(path)`."""
        raise NotImplementedError

    def load_preprocessor(self, path):
        raise NotImplementedError

    def prepare(self, config, preprocessor):
        """A `Prepared` before the model is built (the config, what the model starts from)."""
        return Prepared(config)

    def examples(self, config, split, preprocessor):
        """`rnnlab.data.batches.Examples` of 'train' (in a seeded order), 'validation' (only when not
        `validation_from_train`) or 'test'."""
        raise NotImplementedError

    def batching(self, config):
        """How batches are padded and ordered (`rnnlab.data.Batching`)."""
        return Batching()

    def batch_order(self, config, examples, shuffle=False):
        """The `rnnlab.data.batches.BatchOrder` of `examples` by the task's `batching` with the config's
        batch size and seed; `shuffle` for training."""
        return self.batching(config).order(examples, config.batch_size, config.seed, shuffle=shuffle)

    def holds_out_validation(self, config):
        """True: the last `validation_split` of the training examples validate; False: the
        run has its own validation examples. The task's `validation_from_train` by default."""
        return self.validation_from_train

    def build_model(self, config, preprocessor, start=None):
        """The uncompiled Keras model; `start` is `Prepared.start`."""
        raise NotImplementedError

    def loss_and_metrics(self, config, preprocessor):
        """`(loss, metrics)` for `model.compile`."""
        raise NotImplementedError

    def layer_rates(self, config, model, steps_per_epoch):
        """Per-variable learning-rate factors and start steps (`rnnlab.finetuning.layer_rates`),
        or None: one learning rate for every weight (the default)."""
        return None

    def callbacks(self, config, model, start_step=0):
        """Extra Keras callbacks for a `fit` of one epoch from batch `start_step` (above 0
        when resuming within the epoch), e.g. resetting states."""
        return []

    def evaluate_examples(self, model, config, examples, preprocessor=None):
        """Test metrics as a dict (Keras' metric names; a task may add its own)."""
        order = self.batch_order(config, examples)
        values = model.evaluate(epoch_batches(examples, order, 0), verbose=0, return_dict=True)
        return {name: float(value) for name, value in values.items()}

    def test_details(self, model, config, examples, preprocessor):
        """More about the test set than `evaluate_examples`' numbers, for `metrics.json` and
        `evaluation*.json` (e.g. a classifier's `confusion_matrix`: `{"labels", "counts"}`,
        which is also drawn as `confusion_matrix*.png`); `{}` by default."""
        return {}

    def summary_metrics(self, config, history, best_epoch):
        """Extra numbers for `metrics.json` from the training history (e.g. validation
        perplexity); `best_epoch` is 1-based or None."""
        return {}

    def check_run(self, config, preprocessor, model, folder):
        """Raises ValueError when a saved run's parts disagree (called when a run is opened)."""

    def search_space(self, hp, base):
        """A config drawn from KerasTuner's `hp` around `base`, or None when the
        task cannot be tuned."""
        return None

    # ---- presentation and the CLI ----
    def describe(self, metrics):
        """One line of the run's main numbers, printed at the end of training."""
        return ", ".join(f"{k} {v:.4f}" for k, v in metrics.get("test", {}).items())

    def plot_title(self, config, num_train):
        return f"{self.name}, {num_train} training examples"

    def add_predict_arguments(self, parser):
        """Task-specific `rnnlab predict` flags."""

    def add_commands(self, commands):
        """Task-specific top-level verbs (`rnnlab NAME ...`); each sets `func=callable(args)`."""

    def report(self, predictor, records, inputs, args):
        """After `rnnlab predict` printed its records: write what the task's own flags ask for."""

    def demo_section(self):
        """The task's part of `rnnlab serve`'s page: the HTML of its `demo_page` file (inputs,
        outputs and the `<script>` calling `POST /v1/NAME`), or '' when it has none.

        The server (`rnnlab.serve.app.demo_page`) puts it in a hidden `<section id="NAME">`, shown
        when the run is served, after the page's script helpers (`$(id)`, `call(path, options)`,
        `postJSON(path, data)`, `guard(prefix, button, work)`: errors go to `#PREFIX-error`) and with
        its styles (classes `result`, `error`, `words`, `attention`, `generated`).
        """
        if self.demo_page is None:
            return ""
        package = type(self).__module__.rpartition(".")[0]
        return resources.files(package).joinpath(self.demo_page).read_text(encoding="utf-8")

    # ---- labs ----
    def states_lab(self, predictor, output, text=None, chars=None):
        """`rnnlab lab states` on a run of this task (`rnnlab.lab.states.run` calls it): reads a
        text through the model step by step (`rnnlab.lab.states.stack_states`), draws what the
        task shows into the folder `output`, and returns the record's own fields.

        Args:
            predictor: the run's `Predictor`.
            output: the folder (a `Path`) for the figures; files written there make it.
            text: the text to read, or None: the task's default (a task without one raises).
            chars: characters of the task's default text to read (None: the task's choice).

        Returns:
            A JSON-able dict for `states-NAME.json`, with `figures`: the files written into `output`.

        Raises:
            ValueError: the task has no states lab (this default), or `text` does not suit it.
        """
        raise missing_hook_error(self, "states_lab", "rnnlab lab states", predictor.folder)


def implementing(method):
    """The names of the registered tasks whose `Task` implements the optional `method` (e.g.
    'states_lab'), in registration order."""
    return [name for name in TASKS if getattr(type(get_task(name)), method) is not getattr(Task, method)]


def missing_hook_error(task, method, command, run):
    """The ValueError for `command` given `run`, a run of `task`, whose `Task` lacks the optional
    `method`: it names the tasks that have it."""
    *others, last = implementing(method) or ["no"]
    readers = f"{', '.join(others)} or {last}" if others else last
    article = "an" if task.name[0] in "aeiou" else "a"
    return ValueError(f"`{command}` reads {readers} runs; {run} is {article} {task.name} run.")


def load_run(run_dir, backend=None):
    """`(task, config, folder)` of a finished run, on the backend in force.

    A run loads on any backend (its model file is Keras'). In a process, that is the backend Keras
    was imported with; `rnnlab` chooses the one the run was trained on before it imports Keras
    (`rnnlab.cli.backend_for`).

    Raises:
        ValueError: `backend` is not the backend of the Keras already imported (`rnnlab.backend.select`).
    """
    folder, info = runs.open_run(run_dir)
    task = get_task(info["task"])
    config = configs.resolve(task.config_cls, folder / "config.toml")
    backends.select(backend)
    return task, config, folder


def load_run_model(folder):
    """The run's Keras model (rnnlab's layers registered), with clear errors."""
    return saving.load_model(Path(folder) / "model.keras")


class Predictor:
    """A saved run, loaded once, answering many calls.

    `predict(inputs, **options)` gives one JSON-able record (a dict) per input: the contract
    `rnnlab predict`, the task verbs (`translate`, `transcribe`, `generate`) and the web API
    answer with. A subclass implements `predict` and `line`, and declares its options.

    Args:
        run_dir: a folder written by `rnnlab train`.
        backend: Keras backend (default: the one in force; see `load_run`).

    Attributes:
        options_cls: a dataclass of the options `predict` takes, with `rnnlab.config.option`
            fields (they become `rnnlab predict` flags and web API fields, checked the same way), or None.
        input_kind: 'text' (a str per input) or 'audio' (a sound file's path or bytes).
        input_description: what an input is (the web API's documentation).
        batches_requests: the web API may answer queued requests with one `predict` call.

    Example:
    >>> predictor = load_predictor("runs/article")  # doctest: +SKIP
    >>> predictor.predict(["a wonderful film"])  # doctest: +SKIP
    [{'label': 'positive', 'probability': 0.93, 'known_words': 3}]
    """

    options_cls = None
    input_kind = "text"
    input_description = "the text to predict from"
    batches_requests = False

    def __init__(self, run_dir, backend=None):
        self.task, self.config, self.folder = load_run(run_dir, backend)
        self.model = load_run_model(self.folder)
        self.preprocessor = self.task.load_preprocessor(self.folder / "preprocessor.json")
        self.task.check_run(self.config, self.preprocessor, self.model, self.folder)

    def predict(self, inputs, **options):
        """One JSON-able record (a dict) per input."""
        raise NotImplementedError

    def line(self, record, source):
        """One line of text for a terminal: the record of input `source`."""
        return json.dumps(record, ensure_ascii=False)

    def warnings(self, record, source):
        """Warnings about an input (e.g. words never seen in training), for stderr."""
        return []

    def options(self, **given):
        """The options dataclass of `given` (the rest defaults), checked.

        Raises:
            InputError: an option this task does not take, or a value out of range.
        """
        fields = {f.name for f in dataclasses.fields(self.options_cls)} if self.options_cls else set()
        unknown = sorted(set(given) - fields)
        if unknown:
            allowed = ", ".join(sorted(fields)) or "none"
            raise InputError(
                f"{', '.join(unknown)} {'is not an option' if len(unknown) == 1 else 'are not options'} of "
                f"{self.task.name} runs; their options are: {allowed}."
            )
        if self.options_cls is None:
            return None
        options = self.options_cls(**given)
        try:
            configs.validate(options)
        except ValueError as error:
            raise InputError(str(error)) from None
        return options

    def warm_up(self, max_batch):
        """Compiles what answering batches of up to `max_batch` inputs needs (a server calls it at start)."""


def load_predictor_for(run_dir, task_name, verb, backend=None):
    """The `Predictor` of a run that must be of task `task_name` (for a task's own verb).

    Raises:
        ValueError: `run_dir` is a run of another task.
    """
    predictor = load_predictor(run_dir, backend)
    if predictor.task.name != task_name:
        raise ValueError(
            f"{run_dir} is a {predictor.task.name!r} run; `rnnlab {verb}` needs "
            f"{'an' if task_name[0] in 'aeiou' or task_name == 'lm' else 'a'} {task_name} run."
        )
    return predictor


def predict_padded(model, x, chunk=256):
    """`model`'s outputs for the rows of `x`, `chunk` rows per call, each call's rows padded
    (`rnnlab.models.predict.padded_rows`): a server compiles a handful of shapes."""
    return np.concatenate(
        [predict_rows(model, [x[start : start + chunk]])[0] for start in range(0, len(x), chunk)]
    )


def load_predictor(run_dir, backend=None):
    """The task's `Predictor` for a run folder (dispatching on its `run.json`)."""
    _, info = runs.open_run(run_dir)
    return get_task(info["task"]).predictor_cls(run_dir, backend)
