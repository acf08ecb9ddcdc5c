"""The fit loop: one `model.fit` per epoch on that epoch's replayable batch order, from the
step a checkpoint reached, with checkpoints every N steps, early stopping and best-epoch
selection on the task's monitor."""

import sys
from pathlib import Path

import keras

from rnnlab.data.batches import epoch_batches
from rnnlab.training.checkpoints import Checkpoints, assign_metric_values
from rnnlab.training.state import TrainingState


class EpochProgress(keras.callbacks.ProgbarLogger):
    """Keras' progress output, numbering epochs of the whole run (one `fit` per epoch)."""

    def __init__(self, total_epochs):
        super().__init__()
        self.total_epochs = total_epochs

    def set_params(self, params):
        super().set_params(params)
        self.epochs = self.total_epochs


class Checkpointing(keras.callbacks.Callback):
    """Saves a checkpoint every `every` training steps, at the data position reached.

    Args:
        checkpoints: the run's `Checkpoints`.
        state: the `TrainingState`, advanced here batch by batch.
        every: steps between checkpoints.
        signals: the run's `StopSignals`, checked at every batch boundary.
        resumed_metrics: metric state to put back when a resumed epoch begins, or None.
        write: save checkpoints (False: another process writes them).
    """

    def __init__(self, checkpoints, state, every, signals, resumed_metrics=None, write=True):
        super().__init__()
        self.checkpoints, self.state, self.every, self.signals = checkpoints, state, every, signals
        self.write = write
        self.resumed_metrics = resumed_metrics
        self.since = 0
        self.last = -1

    def on_epoch_begin(self, epoch, logs=None):
        if self.resumed_metrics is not None:  # the resumed epoch's metrics continue where they stopped
            assign_metric_values(self.model, self.resumed_metrics)

    def on_train_batch_end(self, batch, logs=None):
        self.signals.check()
        steps = (self.params or {}).get("steps")
        if steps:  # Keras numbers an execution's last batch as if it were full (steps_per_execution)
            batch = min(batch, steps - 1)
        done = batch - self.last  # batches run since the last call (steps_per_execution)
        self.last = batch
        self.since += done
        self.state.step += done
        self.state.global_step += done
        if steps and batch >= steps - 1:
            return  # the epoch's data is done: its checkpoint comes after validation, at the epoch's end
        if self.since >= self.every:
            self.since = 0
            if self.write:
                self.checkpoints.save(self.model, self.state.to_dict())


def fit(task, config, model, train, validation, folder, signals, log=print, group=None, shard=None):
    """Fits epoch by epoch from the last checkpoint in `folder`.

    In a run of several processes (`group`), each reads its `shard` of every batch and only
    process 0 writes checkpoints; the best weights are restored by the caller.

    Returns:
        `(state, checkpoints)`: the final `TrainingState` and the run's `Checkpoints`.
    """
    checkpoints = Checkpoints(Path(folder) / "checkpoints", log=log)
    saved = checkpoints.restore(model)
    metric_values = None
    if saved is None:
        state = TrainingState()
    else:
        state = TrainingState.from_dict(saved)
        if state.step:  # mid-epoch: the epoch's metrics continue (an epoch end starts them afresh)
            metric_values = saved.get("metric_values")
        where = (
            f"epoch {state.epoch + 1}/{config.epochs}, step {state.step}"
            if state.epoch < config.epochs and not state.stopped
            else "training had finished"
        )
        log(f"Resuming from checkpoint {checkpoints.latest().name}: {where}")
    train_order = task.batch_order(config, train, shuffle=True)
    writes = group is None or group.is_primary
    val_data = epoch_batches(validation, task.batch_order(config, validation), 0, shard=shard)
    verbose = 1 if sys.stdout.isatty() else 2  # progress bars on a terminal, a line per epoch in logs
    while state.epoch < config.epochs and not state.stopped:
        epoch = state.epoch
        callbacks = [
            Checkpointing(checkpoints, state, config.checkpoint_every, signals, metric_values, writes),
            EpochProgress(config.epochs),
            *task.callbacks(config, model, start_step=state.step),
        ]
        metric_values = None
        result = model.fit(
            epoch_batches(train, train_order, epoch, start=state.step, shard=shard),
            validation_data=val_data,
            shuffle=False,  # the order is ours (replayable); Keras would reshuffle a PyDataset's batches
            initial_epoch=epoch,
            epochs=epoch + 1,
            callbacks=callbacks,
            verbose=verbose,
        ).history
        for name, values in result.items():
            state.history.setdefault(name, []).append(float(values[-1]))
        score = state.history[task.monitor][-1]
        if state.improved(score, task.monitor_mode):
            state.best, state.best_epoch, state.wait = score, epoch + 1, 0
            if config.restore_best and writes:
                checkpoints.save_best(model)
        else:
            state.wait += 1
        signals.check()
        state.epoch, state.step = epoch + 1, 0
        state.stopped = config.patience is not None and state.wait >= config.patience
        if writes:
            checkpoints.save(model, state.to_dict())
    if state.stopped and state.epoch < config.epochs:
        log(f"Early stopping: no better {task.monitor} for {config.patience} epochs")
    if config.restore_best and group is None and checkpoints.restore_best(model):
        log(f"Restored the weights of epoch {state.best_epoch} (best {task.monitor})")
    return state, checkpoints
