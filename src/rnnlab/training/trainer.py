"""Training a task: `train_task` writes a run folder, resumable from its checkpoints.

Every task trains through here: seeding, the distribution, the optimizer, the fit loop with
checkpoints, resume, signals and early stopping, the validation split, the test metrics, the
run folder and its provenance. A task only declares its parts (`rnnlab.tasks.base.Task`).

Example:
>>> from rnnlab.tasks import get_task
>>> task = get_task("sentiment")
>>> train_task(task, task.config_cls(epochs=1, limit=200), "runs/smoke")  # doctest: +SKIP
"""

import dataclasses
import json
import time
from pathlib import Path

import keras

from rnnlab import backend as backends
from rnnlab import config as configs
from rnnlab import plots, runs
from rnnlab.data.split import hold_out
from rnnlab.datasets import versions
from rnnlab.layers.loop_report import recurrent_loops
from rnnlab.training import processes
from rnnlab.training.checkpoints import Checkpoints
from rnnlab.training.loop import fit
from rnnlab.training.setup import check_memory, compiled_model, distribute, seed_everything, steps_per_epoch
from rnnlab.training.signals import StopSignals, TrainingInterrupted


def train_and_validation(task, config, preprocessor):
    """`(train, validation)` Examples: the task's own validation split, or the last
    `validation_split` of its training examples (`task.holds_out_validation`)."""
    if task.holds_out_validation(config):
        return hold_out(task.examples(config, "train", preprocessor), config.validation_split)
    return task.examples(config, "train", preprocessor), task.examples(config, "validation", preprocessor)


def train_task(
    task, config, output, overwrite=False, resume=False, fields_given=(), log=print, distributed=None
):
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
        distributed: `rnnlab.training.processes.join`'s arguments for one of several processes
            training the run (data parallel over all their devices; process 0 writes the run),
            or None for a run of one process.

    Returns:
        The metrics dict also written to `output/metrics.json` (None in processes other than 0).
    """
    backend = backends.select(config.backend)
    group = processes.ProcessGroup()
    if distributed is not None:
        if backend != "jax":
            raise ValueError(f"--distributed trains with JAX's runtime: it needs the jax backend. "
                             f"Received: backend={backend!r}.")  # fmt: skip
        if getattr(config, "stateful", False):
            raise ValueError(
                "stateful training keeps one state per batch row in order and cannot split batches over "
                "processes: drop --stateful or --distributed (rnnlab launch)."
            )
        group = processes.join(**distributed)
        log(f"Process {group.index} of {group.count}")
    check_memory(config)
    start = time.perf_counter()
    if resume:
        finished = False
        if group.is_primary:
            runs.recover(output, log=log)  # e.g. a kill right after the finished run was swapped in
            finished = runs.is_run(output) and not runs.partial_path(output).exists()
        if group.agree(finished):  # every process hears process 0's answer
            log(f"{output} is already a finished run; nothing to resume.")
            if not group.is_primary:
                return None
            return json.loads((Path(output) / "metrics.json").read_text(encoding="utf-8"))
    if not group.is_primary:
        return _follow(task, config, output, resume, backend, group, log)
    writer = runs.RunWriter(output, task.name, overwrite=overwrite, resume=resume, log=log)
    folder = writer.folder
    signals = StopSignals()
    try:
        with signals:
            metrics = _train(task, config, writer, backend, signals, fields_given, start, log, group)
        log(
            f"\n{task.describe(metrics)}; best {task.monitor} {metrics[f'best_{task.monitor}']:.4f} "
            f"at epoch {metrics['best_epoch']}; "
            f"trained in {metrics['train_wall_time_s']:.1f} s on {backend}. Run saved to {output}"
        )
        return metrics
    except KeyboardInterrupt as interrupt:
        raise TrainingInterrupted(
            _interrupted_message(task, folder, output), signals.exit_code(interrupt)
        ) from None
    except Exception:
        # A failure before the first checkpoint (bad data, a bad setting) leaves nothing to
        # resume: the partial run goes, so that the next run is not told of an interruption.
        if not writer.resumed and _latest_checkpoint(folder) is None:
            writer.discard()
        raise
    finally:
        writer.close()


def _train(task, config, writer, backend, signals, fields_given, start, log, group):
    folder = writer.folder
    if writer.resumed and (folder / "config.toml").is_file():
        saved = configs.resolve(task.config_cls, folder / "config.toml")
        _check_resumed_config(saved, config, fields_given)
        config = saved
    if writer.resumed:
        versions.check_unchanged(writer.info.get("data"), config, "or train a new run")
    else:
        writer.record(data=versions.versions(config))
    if writer.resumed and (folder / "preprocessor.json").is_file():
        preprocessor = task.load_preprocessor(folder / "preprocessor.json")
    else:
        preprocessor = task.make_preprocessor(config)
        preprocessor.save(folder / "preprocessor.json")
    prepared = task.prepare(config, preprocessor)
    config = prepared.config
    runs.write_text(folder / "config.toml", configs.to_toml(dataclasses.replace(config, backend=backend)))
    group.barrier("preprocessor written")  # the other processes read it (`_follow`)
    train, validation = train_and_validation(task, config, preprocessor)
    test = task.examples(config, "test", preprocessor)
    log(f"{task.name}: {len(train)} train, {len(validation)} validation, {len(test)} test examples")

    model, num_devices = _seeded_model(task, config, preprocessor, prepared, backend, train, group, log)
    if not writer.resumed:
        model.summary()
    loops = recurrent_loops(model)
    for name, loop in loops.items():
        log(f"{name}: {loop}")
    _check_devices(writer, num_devices or 1, group.count)
    shard = batch_shard(group, num_devices)
    _log_left_out(task, config, train, validation, shard, log)
    fit_start = time.perf_counter()
    several = (num_devices or 1) > 1
    state, checkpoints = fit(
        task, config, model, train, validation, folder, signals, log=log,
        group=group if several else None, shard=shard,
    )  # fmt: skip
    fit_seconds = time.perf_counter() - fit_start
    if several:  # process 0 evaluates alone, on a copy of the trained weights in its memory
        model = local_copy(task, config, preprocessor, prepared.start, backend, model)
        if config.restore_best and checkpoints.restore_best(model):
            log(f"Restored the weights of epoch {state.best_epoch} (best {task.monitor})")
    test_metrics = task.evaluate_examples(model, config, test, preprocessor)
    details = task.test_details(model, config, test, preprocessor)
    history = state.history
    metrics = {
        "task": task.name,
        "test": test_metrics,
        **{f"test_{name}": value for name, value in test_metrics.items()},
        "monitor": task.monitor,
        "best_epoch": state.best_epoch,
        f"best_{task.monitor}": state.best,
        f"final_{task.monitor}": history[task.monitor][-1],
        "epochs_run": len(history["loss"]),
        "history": history,
        **task.summary_metrics(config, history, state.best_epoch),
        "num_train": len(train),
        "num_validation": len(validation),
        "num_test": len(test),
        **details,
        "num_params": int(model.count_params()),
        "recurrent_loops": loops,
        "num_devices": num_devices or 1,
        "num_processes": group.count,
        "resumed": writer.resumed,
        "train_wall_time_s": round(fit_seconds, 2),
        "wall_time_s": None,
        "config": dataclasses.asdict(config),
        **prepared.metrics,
        **runs.provenance(backend),
    }
    model.save(folder / "model.keras")
    plots.learning_curve(
        history,
        folder / "learning_curve.png",
        title=task.plot_title(config, len(train)),
        test_metrics=test_metrics,
    )
    plots.details(details, folder, title=task.plot_title(config, len(train)))
    metrics["wall_time_s"] = round(time.perf_counter() - start, 2)
    runs.write_json(folder / "metrics.json", metrics)
    writer.finish()
    checkpoints.folder = Path(writer.output) / checkpoints.folder.name  # now inside the finished run
    checkpoints.remove()
    group.barrier("run written")
    return metrics


def _seeded_model(task, config, preprocessor, prepared, backend, train, group, log):
    """`(model, num_devices)`: seeds, the distribution, and the task's compiled model (the same in
    every process of a run)."""
    seed_everything(config.seed, backend)
    num_devices = distribute(config, backend, log=log, processes=group.count)
    steps = steps_per_epoch(task, config, train)
    return compiled_model(task, config, preprocessor, prepared.start, backend, steps), num_devices


def _follow(task, config, output, resume, backend, group, log):
    """Training in a process other than 0: the same steps on its part of every batch, reading
    the preprocessor (and, when resuming, the settings and checkpoints) process 0 wrote."""
    folder = runs.partial_path(output)
    signals = StopSignals()
    with signals:
        group.barrier("preprocessor written")
        if resume:
            config = configs.resolve(task.config_cls, folder / "config.toml")
        preprocessor = task.load_preprocessor(folder / "preprocessor.json")
        prepared = task.prepare(config, preprocessor)
        config = prepared.config
        train, validation = train_and_validation(task, config, preprocessor)
        model, num_devices = _seeded_model(task, config, preprocessor, prepared, backend, train, group, log)
        fit(task, config, model, train, validation, folder, signals, log=log, group=group,
            shard=batch_shard(group, num_devices))  # fmt: skip
    group.barrier("run written")
    log(f"Process {group.index}: training done; process 0 wrote the run to {output}")
    return None


def _check_devices(writer, num_devices, num_processes):
    """Records the devices and processes a run starts with; a resumed run must have the same (its
    batches are cut to a multiple of the devices, so the steps of an epoch depend on them)."""
    started = writer.info.get("devices")
    now = {"devices": num_devices, "processes": num_processes}
    if started is None:
        writer.record(devices=now)
    elif started != now:
        raise ValueError(
            f"This run started on {started['devices']} device(s) in {started['processes']} process(es); "
            f"resuming on {num_devices} in {num_processes} would change its batches. Expected the same "
            "--data-parallel and rnnlab launch --processes as when it started."
        )


def _log_left_out(task, config, train, validation, shard, log):
    if shard is None:
        return
    for name, examples, shuffle in (("training", train, True), ("validation", validation, False)):
        plan = task.batch_order(config, examples, shuffle=shuffle).plan(0)
        left = shard.left_out(plan)
        if left:
            log(
                f"{left} of {len(examples)} {name} examples are left out of each epoch (every batch is "
                f"cut to a multiple of {shard.multiple} devices; a batch size that is one keeps them all)"
            )


def batch_shard(group, num_devices):
    """This process's `Shard` of every batch (None: the whole batch, one device)."""
    if not num_devices or num_devices == 1:
        return None
    return processes.Shard(group.index, group.count, num_devices)


def local_copy(task, config, preprocessor, start, backend, model):
    """The task's model with `model`'s weights, in this process's memory alone (no distribution):
    what process 0 evaluates and saves after a run of several processes."""
    keras.distribution.set_distribution(None)
    local = compiled_model(task, dataclasses.replace(config, data_parallel=False), preprocessor, start,
                           backend, steps=1)  # fmt: skip
    local.set_weights(model.get_weights())
    return local


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


def _latest_checkpoint(folder):
    return Checkpoints(folder / "checkpoints", log=lambda *_: None).latest()


def _interrupted_message(task, folder, output):
    latest = _latest_checkpoint(folder)
    where = f"checkpoint {latest}" if latest else f"no checkpoint yet (run folder {folder})"
    return f"Interrupted: {where}. Resume with: rnnlab train {task.name} --output {output} --resume"
