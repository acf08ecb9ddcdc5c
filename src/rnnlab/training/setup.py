"""What every training run and every tuning trial do before fitting: seed, distribute,
build the task's model and compile it with the config's optimizer, loss and metrics."""

import os

import keras

from rnnlab.training.optimizer import make_optimizer

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
    keras.utils.set_random_seed(seed)
    if backend == "tensorflow":
        import tensorflow as tf  # only on that backend

        tf.config.experimental.enable_op_determinism()


def distribute(config, backend, log=print, processes=1):
    """Turns on data parallelism over every device (Keras' distribution API); returns the
    number of devices, or None when `config.data_parallel` is off in a run of one process.

    In a run of several processes (`rnnlab.training.processes.join` first), the devices are
    every process's, and each process feeds its own part of every batch (no automatic sharding).
    """
    if not config.data_parallel and processes == 1:
        return None
    if backend != "jax":
        raise ValueError(f"data_parallel needs the jax backend. Received: backend={backend!r}")
    devices = keras.distribution.list_devices()
    keras.distribution.set_distribution(
        keras.distribution.DataParallel(devices=devices, auto_shard_dataset=processes == 1)
    )
    where = f" in {processes} processes" if processes > 1 else ""
    log(f"Data parallel over {len(devices)} devices{where}: {', '.join(map(str, devices))}")
    return len(devices)


def steps_per_epoch(task, config, train):
    """Batches in one training epoch."""
    return len(task.batch_order(config, train, shuffle=True).plan(0))


def compiled_model(task, config, preprocessor, start, backend, steps):
    """The task's model for `config`, compiled for `steps` batches per epoch.

    Args:
        start: what the task's `prepare` returned for the model (pretrained weights, vectors), or None.
    """
    model = task.build_model(config, preprocessor, start)
    optimizer = make_optimizer(config, steps, task.layer_rates(config, model, steps))
    loss, metrics = task.loss_and_metrics(config, preprocessor)
    model.compile(
        optimizer=optimizer,
        loss=loss,
        metrics=metrics,
        steps_per_execution=config.steps_per_execution_for(backend),
    )
    return model
