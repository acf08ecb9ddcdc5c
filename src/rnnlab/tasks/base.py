"""What every task shares: the `Task` a package declares, training with
checkpoints and resume, evaluation, and a `Predictor` that loads a run once.

A task names its parts, the way keras-hub tasks name a backbone and a
preprocessor: its config class (extending `TrainConfig`), how to make and
load its preprocessor, its examples, its model, its loss and metrics, the
validation score that early stopping watches, and its predictor. Seeding,
the distribution, the optimizer, the fit loop, the validation split, run
folders, checkpoints, resume, `evaluate` and `predict` plumbing live here.

Example:
>>> from rnnlab.tasks import get_task
>>> task = get_task("sentiment")  # a Task instance
>>> task.train(task.config_cls(epochs=1, limit=200), "runs/smoke")  # doctest: +SKIP
"""

import dataclasses
import json
import os
import signal
import sys
import time
from pathlib import Path

import numpy as np

from rnnlab import backend as backends
from rnnlab import config as configs
from rnnlab import plots, runs
from rnnlab.data.batches import DEFAULT_BOUNDARIES, BatchOrder, epoch_batches
from rnnlab.tasks.config import OPTIMIZERS


class TrainingInterrupted(Exception):
    """Training stopped by Ctrl-C or SIGTERM; the run can be resumed.

    Attributes:
        exit_code: 130 for SIGINT, 143 for SIGTERM.
        message: one line: where the checkpoint is and how to resume.
    """

    def __init__(self, message, exit_code):
        super().__init__(message)
        self.message = message
        self.exit_code = exit_code


class _Terminated(KeyboardInterrupt):
    """Raised in the main thread by the SIGTERM handler."""


class Task:
    """A trainable application. Subclasses set the class attributes and the methods below.

    Attributes:
        name: the CLI name (`rnnlab train NAME`).
        config_cls: its config dataclass (a `TrainConfig` subclass).
        monitor, monitor_mode: the validation score early stopping and
            `restore_best` watch, e.g. ('val_accuracy', 'max').
        extras: pip extras the task needs beyond the core install.
    """

    name = None
    config_cls = None
    monitor = "val_loss"
    monitor_mode = "min"
    extras = ()

    # ---- parts a task provides ----
    def make_preprocessor(self, config):
        """A preprocessor fitted on training data only; it has `save(path)`."""
        raise NotImplementedError

    def load_preprocessor(self, path):
        raise NotImplementedError

    def prepare(self, config, preprocessor):
        """`(config, extras)` before the model is built: a task may adjust the
        config (e.g. to pretrained vectors' size) and pass extras to `build_model`."""
        return config, {}

    def examples(self, config, split, preprocessor):
        """`rnnlab.data.Examples` of 'train' (all training examples, in a
        seeded order; the last `validation_split` become validation) or 'test'."""
        raise NotImplementedError

    def build_model(self, config, preprocessor, **extras):
        """The uncompiled Keras model."""
        raise NotImplementedError

    def loss_and_metrics(self, config):
        """`(loss, metrics)` for `model.compile`."""
        raise NotImplementedError

    def summary_metrics(self, config, history, best_epoch):
        """Extra numbers for `metrics.json` from the training history (e.g. validation
        perplexity); `best_epoch` is 1-based or None."""
        return {}

    def callbacks(self, config, model, start_step=0):
        """Extra Keras callbacks for a `fit` of one epoch from batch `start_step` (above 0
        when resuming within the epoch), e.g. resetting states."""
        return []

    def check_run(self, config, preprocessor, model, folder):
        """Raises ValueError when a saved run's parts disagree (called when a run is opened)."""

    def describe(self, metrics):
        """One line of the run's main numbers, printed at the end of training."""
        return ", ".join(f"{k} {v:.4f}" for k, v in metrics.get("test", {}).items())

    def plot_title(self, config, num_train):
        return f"{self.name}, {num_train} training examples"

    predictor_cls = None

    # ---- optional CLI hooks ----
    def add_predict_arguments(self, parser):
        """Task-specific `rnnlab predict` flags."""

    def add_commands(self, commands):
        """Task-specific top-level verbs (`rnnlab NAME ...`); each sets `func=callable(args)`."""

    def predict_command(self, predictor, inputs, args):
        """Prints predictions for `rnnlab predict`."""
        raise NotImplementedError

    def search_space(self, hp, base):
        """A config drawn from KerasTuner's `hp` around `base`, or None when the
        task cannot be tuned."""
        return None

    # ---- shared machinery ----
    def sequence_length(self, config):
        """The length every batch is padded to when not bucketing (None: the longest)."""
        return getattr(config, "maxlen", None)

    def batch_order(self, config, examples, shuffle):
        bucket = getattr(config, "bucket", False)
        return BatchOrder(
            examples.lengths(),
            config.batch_size,
            shuffle=shuffle,
            seed=config.seed,
            fixed_length=None if bucket else self.sequence_length(config),
            bucket_boundaries=self.bucket_boundaries(config) if bucket else None,
        )

    evaluation_fields = ()  # config fields `rnnlab evaluate` may change (decoding settings)

    def bucket_boundaries(self, config):
        """Lengths that batches are padded to when `config.bucket` is on."""
        return DEFAULT_BOUNDARIES

    def layer_rates(self, config, model, steps_per_epoch):
        """Per-variable learning-rate factors and start steps (`rnnlab.finetuning.layer_rates`),
        or None: one learning rate for every weight (the default)."""
        return None

    def compile(self, model, config, backend, steps_per_epoch=None):
        """Compiles with the config's optimizer, schedule, loss and metrics.

        Args:
            steps_per_epoch: batches per epoch, for a schedule over the whole run.
        """
        import keras

        learning_rate = config.learning_rate
        if config.lr_schedule == "cosine":
            total = config.epochs * (steps_per_epoch or 1)
            learning_rate = keras.optimizers.schedules.CosineDecay(
                0.0 if config.warmup_steps else config.learning_rate,
                decay_steps=max(1, total - config.warmup_steps),
                warmup_target=config.learning_rate if config.warmup_steps else None,
                warmup_steps=config.warmup_steps,
            )
        elif config.lr_schedule == "step":  # constant, then x lr_decay after each later epoch
            per_epoch = steps_per_epoch or 1
            decays = range(max(0, config.epochs - config.lr_decay_start))
            if decays:
                learning_rate = keras.optimizers.schedules.PiecewiseConstantDecay(
                    [per_epoch * (config.lr_decay_start + k) - 1 for k in decays],  # step <= boundary
                    [config.learning_rate * config.lr_decay**k for k in range(len(decays) + 1)],
                )
        elif config.lr_schedule == "slanted":
            from rnnlab.finetuning import SlantedTriangular

            learning_rate = SlantedTriangular(config.learning_rate, config.epochs * (steps_per_epoch or 1))
        rates = self.layer_rates(config, model, steps_per_epoch or 1)
        if rates:
            from rnnlab.finetuning import layerwise_optimizer

            optimizer = layerwise_optimizer(config.optimizer)(
                learning_rate=learning_rate, clipnorm=config.clipnorm, layer_rates=rates
            )
        else:
            optimizer = getattr(keras.optimizers, OPTIMIZERS[config.optimizer])(
                learning_rate=learning_rate, clipnorm=config.clipnorm
            )
        loss, metrics = self.loss_and_metrics(config)
        model.compile(
            optimizer=optimizer,
            loss=loss,
            metrics=metrics,
            steps_per_execution=config.steps_per_execution_for(backend),
        )
        return model

    def train_and_validation(self, config, preprocessor):
        """`(train, validation)` Examples; by default the last `validation_split` of 'train'
        (a task with an official validation split overrides this)."""
        return self.split(config, self.examples(config, "train", preprocessor))

    def split(self, config, examples):
        """`(train, validation)`: the last `validation_split` of the (seeded) training examples."""
        n_val = max(1, int(round(len(examples) * config.validation_split)))
        n_train = len(examples) - n_val
        if n_train < 1:
            raise ValueError(
                f"Expected at least 2 training examples to split off validation. Received: {len(examples)}"
            )
        return examples.subset(np.arange(n_train)), examples.subset(np.arange(n_train, len(examples)))

    def evaluate_examples(self, model, config, examples, preprocessor=None):
        """Test metrics as a dict (Keras' metric names; a task may add its own)."""
        data = epoch_batches(examples, self.batch_order(config, examples, shuffle=False), 0)
        values = model.evaluate(data, verbose=0, return_dict=True)
        return {name: float(value) for name, value in values.items()}

    def train(self, config, output, overwrite=False, resume=False):
        """Trains `config` and writes a run folder at `output`; see `train_task`."""
        return train_task(self, config, output, overwrite=overwrite, resume=resume)

    def evaluate(self, run_dir, backend=None):
        """Recomputes the test metrics of a saved run and writes `evaluation.json`."""
        return evaluate_run(run_dir, backend, task=self)

    def load_config(self, path):
        return configs.resolve(self.config_cls, path)


BYTES_PER_PARAMETER = 16  # float32 weights, their gradients and Adam's two moments


def check_memory(config):
    """Refuses, before any data is read, settings whose parameters alone cannot fit in memory.

    Raises:
        ValueError: naming the estimate and the machine's memory.
    """
    floor = config.parameter_floor()
    need = floor * BYTES_PER_PARAMETER
    have = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    if need > have:
        raise ValueError(
            f"These settings need at least {need / 2**30:,.1f} GiB for the model's parameters alone "
            f"(weights, gradients and Adam's moments: {floor:,} parameters or more), "
            f"more than this machine's {have / 2**30:,.1f} GiB of memory. Expected smaller --units, "
            "--embedding-dim or vocabulary."
        )


def seed_everything(seed, backend):
    """Seeds Python, NumPy and the backend; deterministic ops on TensorFlow."""
    import keras

    keras.utils.set_random_seed(seed)
    if backend == "tensorflow":
        import tensorflow as tf

        tf.config.experimental.enable_op_determinism()


def distribute(config, backend, log=print):
    """Turns on data parallelism over every local device (Keras' distribution API).

    Across machines, start each process with `jax.distributed.initialize()`
    first; `keras.distribution.list_devices()` then lists every host's devices.
    """
    if not config.data_parallel:
        return None
    if backend != "jax":
        raise ValueError(f"data_parallel needs the jax backend. Received: backend={backend!r}")
    import keras

    devices = keras.distribution.list_devices()
    keras.distribution.set_distribution(keras.distribution.DataParallel(devices=devices))
    log(f"Data parallel over {len(devices)} devices: {', '.join(map(str, devices))}")
    return len(devices)


def _check_resumed_config(saved, given, fields_given):
    """A resumed run keeps its saved settings; flags that contradict them are an error."""
    for name in fields_given:
        if name == "backend":
            continue
        if getattr(saved, name) != getattr(given, name):
            raise ValueError(
                f"--resume continues the interrupted run with its saved settings; received "
                f"{name}={getattr(given, name)!r} but the run has {name}={getattr(saved, name)!r}. "
                "Drop the flag, or start a new run."
            )


def _progress_callback(total_epochs):
    import keras

    class EpochProgress(keras.callbacks.ProgbarLogger):
        """Keras' progress output, numbering epochs of the whole run (one `fit` per epoch)."""

        def set_params(self, params):
            super().set_params(params)
            self.epochs = total_epochs

    return EpochProgress()


def _checkpoint_callback(checkpoints, state, every, resumed_metrics):
    import keras

    from rnnlab.tasks.checkpoints import assign_metric_values

    class Checkpointing(keras.callbacks.Callback):
        """Saves a checkpoint every `every` training steps, at the data position reached."""

        def __init__(self):
            super().__init__()
            self.since = 0
            self.last = -1

        def on_epoch_begin(self, epoch, logs=None):
            if resumed_metrics is not None:  # the resumed epoch's metrics continue where they stopped
                assign_metric_values(self.model, resumed_metrics)

        def on_train_batch_end(self, batch, logs=None):
            _check_stop()
            done = batch - self.last  # batches run since the last call (steps_per_execution)
            self.last = batch
            self.since += done
            state["step"] += done
            state["global_step"] += done
            if self.since >= every:
                self.since = 0
                checkpoints.save(self.model, state)

    return Checkpointing()


def _improved(value, best, mode):
    if best is None:
        return True
    return value > best if mode == "max" else value < best


def fit(task, config, model, train, validation, folder, backend, log=print):
    """Fits epoch by epoch from the last checkpoint in `folder`; returns the state
    (history, best epoch). One `model.fit` call per epoch, on the batches of
    that epoch's seeded order from the step reached."""
    from rnnlab.tasks.checkpoints import Checkpoints

    checkpoints = Checkpoints(Path(folder) / "checkpoints", log=log)
    state = checkpoints.restore(model)
    if state is None:
        state = {"epoch": 0, "step": 0, "global_step": 0, "history": {}, "best": None, "best_epoch": None}
        state["wait"] = 0
    else:
        where = (
            f"epoch {state['epoch'] + 1}/{config.epochs}, step {state['step']}"
            if state["epoch"] < config.epochs and not state.get("stopped")
            else "training had finished"
        )
        log(f"Resuming from checkpoint {checkpoints.latest().name}: {where}")
    train_order = task.batch_order(config, train, shuffle=True)
    val_data = epoch_batches(validation, task.batch_order(config, validation, shuffle=False), 0)
    verbose = 1 if sys.stdout.isatty() else 2  # progress bars on a terminal, a line per epoch in logs
    metric_values = state.pop("metric_values", None)
    if not state["step"]:  # an epoch-end checkpoint: the next epoch starts its metrics afresh
        metric_values = None
    stopped = state.get("stopped", False)
    while state["epoch"] < config.epochs and not stopped:
        epoch = state["epoch"]
        data = epoch_batches(train, train_order, epoch, start=state["step"])
        callbacks = [
            _checkpoint_callback(checkpoints, state, config.checkpoint_every, metric_values),
            _progress_callback(config.epochs),
            *task.callbacks(config, model, start_step=state["step"]),
        ]
        metric_values = None
        result = model.fit(
            data,
            validation_data=val_data,
            shuffle=False,  # the order is ours (replayable); Keras would reshuffle a PyDataset's batches
            initial_epoch=epoch,
            epochs=epoch + 1,
            callbacks=callbacks,
            verbose=verbose,
        ).history
        for name, values in result.items():
            state["history"].setdefault(name, []).append(float(values[-1]))
        score = state["history"][task.monitor][-1]
        if _improved(score, state["best"], task.monitor_mode):
            state["best"], state["best_epoch"], state["wait"] = score, epoch + 1, 0
            if config.restore_best:
                checkpoints.save_best(model)
        else:
            state["wait"] += 1
        _check_stop()
        state["epoch"], state["step"] = epoch + 1, 0
        stopped = config.patience is not None and state["wait"] >= config.patience
        state["stopped"] = stopped
        checkpoints.save(model, state)
    if stopped and state["epoch"] < config.epochs:
        log(f"Early stopping: no better {task.monitor} for {config.patience} epochs")
    if config.restore_best and checkpoints.restore_best(model):
        log(f"Restored the weights of epoch {state['best_epoch']} (best {task.monitor})")
    return state, checkpoints


def train_task(task, config, output, overwrite=False, resume=False, fields_given=(), log=print):
    """Trains a task's model and writes a run folder; resumable.

    The run is written into `OUTPUT.partial` with checkpoints (every epoch and
    every `config.checkpoint_every` steps) and swapped into `output` when
    complete. Ctrl-C or SIGTERM raise `TrainingInterrupted` with the line to
    resume.

    Args:
        task: a `Task`.
        config: the task's config.
        output: the run folder to make.
        overwrite: replace an existing run at `output` (never anything else).
        resume: continue the interrupted run of `output` (its saved settings).
        fields_given: config fields set explicitly (they must agree with a resumed run).

    Returns:
        The metrics dict also written to `output/metrics.json`.
    """
    backend = backends.select(config.backend)
    check_memory(config)
    start = time.perf_counter()
    if resume:
        runs.recover(output, log=log)  # e.g. a kill right after the finished run was swapped in
        if runs.is_run(output) and not runs.partial_path(output).exists():
            log(f"{output} is already a finished run; nothing to resume.")
            return json.loads((Path(output) / "metrics.json").read_text(encoding="utf-8"))
    writer = runs.RunWriter(output, task.name, overwrite=overwrite, resume=resume, log=log)
    folder = writer.folder
    _STOP.clear()
    previous = {sig: signal.signal(sig, _on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        if writer.resumed and (folder / "config.toml").is_file():
            saved = task.load_config(folder / "config.toml")
            _check_resumed_config(saved, config, fields_given)
            config = saved
        if writer.resumed and (folder / "preprocessor.json").is_file():
            preprocessor = task.load_preprocessor(folder / "preprocessor.json")
        else:
            preprocessor = task.make_preprocessor(config)
            preprocessor.save(folder / "preprocessor.json")
        config, extras = task.prepare(config, preprocessor)
        runs.write_text(folder / "config.toml", configs.to_toml(dataclasses.replace(config, backend=backend)))
        train_examples, validation = task.train_and_validation(config, preprocessor)
        test = task.examples(config, "test", preprocessor)
        sizes = f"{len(train_examples)} train, {len(validation)} validation, {len(test)} test examples"
        log(f"{task.name}: {sizes}")

        seed_everything(config.seed, backend)
        num_devices = distribute(config, backend, log=log)
        steps_per_epoch = len(task.batch_order(config, train_examples, shuffle=True).plan(0))
        model = task.compile(
            task.build_model(config, preprocessor, **extras), config, backend, steps_per_epoch
        )
        if not writer.resumed:
            model.summary()
        fit_start = time.perf_counter()
        state, checkpoints = fit(task, config, model, train_examples, validation, folder, backend, log=log)
        fit_seconds = time.perf_counter() - fit_start
        test_metrics = task.evaluate_examples(model, config, test, preprocessor)
        history = state["history"]
        metrics = {
            "task": task.name,
            "test": test_metrics,
            **{f"test_{name}": value for name, value in test_metrics.items()},
            "monitor": task.monitor,
            "best_epoch": state["best_epoch"],
            f"best_{task.monitor}": state["best"],
            f"final_{task.monitor}": history[task.monitor][-1],
            "epochs_run": len(history["loss"]),
            "history": history,
            **task.summary_metrics(config, history, state["best_epoch"]),
            "num_train": len(train_examples),
            "num_validation": len(validation),
            "num_test": len(test),
            "num_params": int(model.count_params()),
            "num_devices": num_devices or 1,
            "resumed": writer.resumed,
            "train_wall_time_s": round(fit_seconds, 2),
            "wall_time_s": None,
            "config": dataclasses.asdict(config),
            **extras.get("metrics", {}),
            **runs.provenance(backend),
        }
        model.save(folder / "model.keras")
        plots.learning_curve(
            history,
            folder / "learning_curve.png",
            title=task.plot_title(config, len(train_examples)),
            test_metrics=test_metrics,
        )
        metrics["wall_time_s"] = round(time.perf_counter() - start, 2)
        runs.write_json(folder / "metrics.json", metrics)
        writer.finish()
        checkpoints.folder = Path(output) / checkpoints.folder.name  # now inside the finished run
        checkpoints.remove()
        log(
            f"\n{task.describe(metrics)}; best {task.monitor} {state['best']:.4f} "
            f"at epoch {state['best_epoch']}; "
            f"trained in {fit_seconds:.1f} s on {backend}. Run saved to {output}"
        )
        return metrics
    except KeyboardInterrupt as interrupt:
        code = 143 if isinstance(interrupt, _Terminated) or _STOP.get("signal") == signal.SIGTERM else 130
        raise TrainingInterrupted(_interrupted_message(task, writer, output), code) from None
    except Exception:
        # A failure before the first checkpoint (bad data, a bad setting) leaves nothing to
        # resume: the partial run goes, so that the next run is not told of an interruption.
        if not writer.resumed and _latest_checkpoint(writer) is None:
            writer.discard()
        raise
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        writer.close()


_STOP = {}  # the signal received, so that a swallowed KeyboardInterrupt still stops training


def _on_signal(signum, frame):
    _STOP["signal"] = signum
    raise _Terminated() if signum == signal.SIGTERM else KeyboardInterrupt()


def _check_stop():
    """Raises at a batch boundary if a signal arrived (even if its exception was swallowed)."""
    if _STOP.get("signal") is not None:
        raise _Terminated() if _STOP["signal"] == signal.SIGTERM else KeyboardInterrupt()


def _latest_checkpoint(writer):
    from rnnlab.tasks.checkpoints import Checkpoints

    return Checkpoints(writer.folder / "checkpoints", log=lambda *_: None).latest()


def _interrupted_message(task, writer, output):
    latest = _latest_checkpoint(writer)
    where = f"checkpoint {latest}" if latest else f"no checkpoint yet (run folder {writer.folder})"
    return f"Interrupted: {where}. Resume with: rnnlab train {task.name} --output {output} --resume"


def open_run(run_dir, backend=None):
    """`(task, config, folder)` of a finished run; selects the backend: `backend`, else
    `KERAS_BACKEND`, else the one the run was trained on."""
    from rnnlab.tasks import get_task

    folder, info = runs.open_run(run_dir)
    task = get_task(info["task"])
    config = task.load_config(folder / "config.toml")
    backends.select(backend or os.environ.get("KERAS_BACKEND") or config.backend)
    return task, config, folder


def load_model(folder):
    """The run's Keras model (rnnlab's layers registered), with clear errors."""
    from rnnlab import saving

    return saving.load_model(Path(folder) / "model.keras")


class Predictor:
    """A saved run, loaded once, answering many calls (the CLI and the web API use it).

    Args:
        run_dir: a folder written by `rnnlab train`.
        backend: Keras backend (default: the run's, or `KERAS_BACKEND`).

    Example:
    >>> predictor = load_predictor("runs/article")  # doctest: +SKIP
    >>> predictor.predict(["a wonderful film"])  # doctest: +SKIP
    """

    def __init__(self, run_dir, backend=None):
        self.task, self.config, self.folder = open_run(run_dir, backend)
        self.model = load_model(self.folder)
        self.preprocessor = self.task.load_preprocessor(self.folder / "preprocessor.json")
        self.task.check_run(self.config, self.preprocessor, self.model, self.folder)

    def predict(self, inputs):
        raise NotImplementedError

    def warm_up(self, max_batch):
        """Compiles what answering batches of up to `max_batch` inputs needs (a server calls it at start)."""


def predict_padded(model, x, chunk=256):
    """`model`'s outputs for the rows of `x`, `chunk` rows per call, each call's rows padded
    (`rnnlab.models.predict.padded_rows`): a server compiles a handful of shapes."""
    from rnnlab.models.predict import predict_rows

    return np.concatenate(
        [predict_rows(model, [x[start : start + chunk]])[0] for start in range(0, len(x), chunk)]
    )


def load_predictor(run_dir, backend=None):
    """The task's `Predictor` for a run folder (dispatching on its `run.json`)."""
    from rnnlab.tasks import get_task

    _, info = runs.open_run(run_dir)
    return get_task(info["task"]).predictor_cls(run_dir, backend)


def evaluate_run(run_dir, backend=None, task=None, settings=None):
    """Recomputes the test metrics of a saved run and writes `evaluation.json`
    (`evaluation-NAME-VALUE....json` with `settings`).

    Args:
        settings: changed evaluation settings, e.g. `{"beam_size": 5}`; only the
            task's `evaluation_fields`.

    Returns:
        dict with each test metric (`test_<name>`), `num_test`, the settings and provenance.
    """
    found, config, folder = open_run(run_dir, backend)
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
    model = load_model(folder)
    preprocessor = task.load_preprocessor(folder / "preprocessor.json")
    task.check_run(config, preprocessor, model, folder)
    test = task.examples(config, "test", preprocessor)
    metrics = task.evaluate_examples(model, config, test, preprocessor)
    result = {
        "task": task.name,
        **{f"test_{name}": value for name, value in metrics.items()},
        "num_test": len(test),
        "settings": settings,
        **runs.provenance(backends.select(None)),
    }
    name = "".join(f"-{key}-{value}" for key, value in sorted(settings.items()))
    runs.write_json(folder / f"evaluation{name}.json", result)
    return result
