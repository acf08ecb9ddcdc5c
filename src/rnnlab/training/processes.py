"""Training in several processes (on one machine or many) with JAX's own runtime.

Each process calls `jax.distributed.initialize` (CPU collectives through gloo), then trains
with Keras' `DataParallel` over every process's devices. Each process reads only its part of
every batch (`Shard`); process 0 alone writes the run folder, its checkpoints and logs, and
evaluates the trained model. The others read what process 0 wrote (the preprocessor, and the
checkpoints when resuming), so the output folder must be on a file system they all see.

Example (two processes on one machine; `rnnlab launch` starts them):
>>> group = ProcessGroup()
>>> group.is_primary, group.count
(True, 1)
"""

import contextlib
import os
import sys
from dataclasses import dataclass

import keras
import numpy as np

DEFAULT_TIMEOUT_S = 300  # how long a process waits for the others to join
BARRIER_TIMEOUT_S = 4 * 3600  # how long a process waits at a barrier (process 0 may read a large corpus)
_joined = None  # the `ProcessGroup` this process joined, once it has


@dataclass(frozen=True)
class ProcessGroup:
    """Where this process stands among those training one run.

    Attributes:
        index: this process's id, 0 to `count - 1` (0 writes the run).
        count: processes training the run.
    """

    index: int = 0
    count: int = 1

    @property
    def is_primary(self):
        return self.index == 0

    def barrier(self, name):
        """Waits until every process reaches the barrier `name` (nothing to wait for alone),
        through JAX's coordination service (not a device collective, whose timeout is short)."""
        if self.count > 1:
            from jax._src import distributed

            distributed.global_state.client.wait_at_barrier(name, BARRIER_TIMEOUT_S * 1000)

    def agree(self, value):
        """Process 0's `value` (a bool), in every process."""
        if self.count == 1:
            return bool(value)
        from jax.experimental import multihost_utils

        return bool(multihost_utils.broadcast_one_to_all(np.array(bool(value))))


@dataclass(frozen=True)
class Shard:
    """This process's part of each batch: the batch is cut to a multiple of `multiple` rows
    (every device gets as many), then into `count` equal runs; this process reads run `index`.

    Example:
    >>> Shard(1, 2, 2).rows(list(range(7)))
    [3, 4, 5]
    """

    index: int = 0
    count: int = 1
    multiple: int = 1

    def left_out(self, plan):
        """Rows of `plan`'s batches that no process reads (each batch cut to a multiple of devices)."""
        return sum(len(i) % self.multiple if len(i) >= self.multiple else len(i) for _, i in plan)

    def rows(self, indices):
        usable = len(indices) - len(indices) % self.multiple
        if usable == 0:
            raise ValueError(
                f"A batch of {len(indices)} examples cannot be split over {self.multiple} devices. "
                f"Expected a batch size of at least {self.multiple}."
            )
        per_process = usable // self.count
        return indices[self.index * per_process : (self.index + 1) * per_process]


@contextlib.contextmanager
def without_distribution():
    """No Keras distribution inside the block: for what one process does alone with the
    weights, such as writing a checkpoint (Keras' saving makes new variables, which under a
    distribution over several processes every process would have to make together)."""
    distribution = keras.distribution.distribution()
    keras.distribution.set_distribution(None)
    try:
        yield
    finally:
        keras.distribution.set_distribution(distribution)


def join(coordinator=None, num_processes=None, process_id=None, timeout_s=DEFAULT_TIMEOUT_S):
    """Starts JAX's distributed runtime for this process and returns its `ProcessGroup`.

    Without `coordinator`, `num_processes` and `process_id`, JAX reads them from the cluster's
    environment (SLURM, Open MPI, Kubernetes, ...; see `jax.distributed.initialize`). Call it
    before anything computes with JAX.

    Args:
        coordinator: `HOST:PORT` of process 0.
        num_processes: processes in the run.
        process_id: this process's id, 0 to `num_processes - 1`.
        timeout_s: seconds to wait for every process to join.

    Raises:
        ValueError: settings given in part, or a process id out of range.
    """
    given = [value is not None for value in (coordinator, num_processes, process_id)]
    if any(given) and not all(given):
        raise ValueError(
            "--distributed needs all of --coordinator HOST:PORT, --num-processes N and --process-id I "
            "(or none: then JAX reads them from the cluster's environment). Received: "
            f"coordinator={coordinator!r}, num_processes={num_processes!r}, process_id={process_id!r}."
        )
    if num_processes is not None and not 0 <= process_id < num_processes:
        raise ValueError(
            f"Expected 0 <= --process-id < --num-processes. Received: process_id={process_id}, "
            f"num_processes={num_processes}."
        )
    if coordinator is not None and ":" not in coordinator:
        raise ValueError(f"Expected --coordinator HOST:PORT. Received: {coordinator!r}.")
    import jax

    jax.config.update("jax_cpu_collectives_implementation", "gloo")
    jax.distributed.initialize(
        coordinator_address=coordinator,
        num_processes=num_processes,
        process_id=process_id,
        initialization_timeout=timeout_s,
    )
    global _joined
    _joined = ProcessGroup(jax.process_index(), jax.process_count())
    return _joined


def leave_at_once_on_failure(code):
    """Ends a process of a distributed run that failed (`code` not 0) without JAX's shutdown,
    which would wait for the other processes (stuck in a collective with this one) for minutes;
    `rnnlab launch` then stops them. Returns `code` otherwise."""
    if code and _joined is not None and _joined.count > 1:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    return code
