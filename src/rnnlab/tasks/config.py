"""`TrainConfig`: the settings every task shares. A task's config extends it
with its own fields; every field is a `rnnlab train TASK` flag and a TOML key,
checked in one place (`rnnlab.config.validate`) from its metadata."""

from dataclasses import dataclass

from rnnlab.backend import BACKENDS
from rnnlab.config import option, validate

OPTIMIZERS = {"adam": "Adam", "adamw": "AdamW", "rmsprop": "RMSprop", "sgd": "SGD"}  # name -> Keras class
SCHEDULES = ("constant", "cosine", "step", "slanted")
# Keras' steps_per_execution on each backend when a config leaves it unset: JAX and
# TensorFlow compile several steps into one call; PyTorch runs steps eagerly and its
# trainer does not support more than one.
STEPS_PER_EXECUTION = {"jax": 32, "tensorflow": 32, "torch": 1}


@dataclass
class TrainConfig:
    """Settings of any training run (optimisation, validation, seed, backend, checkpoints).

    Example:
    >>> TrainConfig(epochs=3).learning_rate
    0.001
    """

    # --- optimisation ---
    epochs: int = option(10, "passes over the training examples", min=1, max=100_000)
    batch_size: int = option(32, "examples per gradient step", min=1, max=1_000_000)
    learning_rate: float = option(0.001, "learning rate (Keras' Adam default)", min=0, min_exclusive=True)
    optimizer: str = option("adam", "optimizer", choices=OPTIMIZERS)
    lr_schedule: str = option(
        "constant",
        "learning-rate schedule: constant; cosine decay to 0 over the run; or step: multiplied by "
        "--lr-decay after every epoch from --lr-decay-start on (Zaremba et al.); or slanted: ULMFiT's "
        "slanted triangular rate, a linear rise over the first tenth of the steps, then a linear decay to "
        "1/32 of the peak",
        choices=SCHEDULES,
    )
    lr_decay: float = option(
        0.5, "with --lr-schedule step: factor applied to the learning rate after each epoch", min=0, max=1,
        min_exclusive=True,
    )  # fmt: skip
    lr_decay_start: int = option(
        4, "with --lr-schedule step: epochs at the full learning rate before it decays", min=0, max=100_000
    )
    warmup_steps: int = option(
        0, "with --lr-schedule cosine: steps of linear warm-up from 0 first", min=0, max=10**9
    )
    clipnorm: float | None = option(
        None, "clip each gradient to this norm (none: no clipping)", min=0, min_exclusive=True
    )
    patience: int | None = option(
        None, "stop after this many epochs without a better validation score", min=1, max=100_000
    )
    restore_best: bool = option(False, "keep the weights of the epoch with the best validation score")
    steps_per_execution: int | None = option(
        None,
        "batches per call into the compiled train step (Keras' steps_per_execution; "
        "default: 32 on JAX and TensorFlow, 1 on PyTorch)",
        min=1,
        max=100_000,
    )
    # --- the run ---
    validation_split: float = option(
        0.2,
        "fraction of training examples held out for validation (never the test set)",
        min=0,
        max=1,
        min_exclusive=True,
        max_exclusive=True,
    )
    seed: int = option(0, "seed for shuffling, the split and weight initialisation", min=0, max=2**32 - 1)
    limit: int | None = option(
        None, "use only N training and N test examples (for smoke runs)", min=10, max=10**9
    )
    checkpoint_every: int = option(
        200, "also checkpoint every N training steps (besides every epoch), for --resume", min=1, max=10**9
    )
    data_parallel: bool = option(
        False, "split each batch across every local device with Keras' DataParallel (JAX backend)"
    )
    backend: str | None = option(None, "Keras backend (default: KERAS_BACKEND or jax)", choices=BACKENDS)

    def __post_init__(self):
        validate(self)
        if self.warmup_steps and self.lr_schedule != "cosine":
            raise ValueError(
                f"warmup_steps needs lr_schedule='cosine'. Received: warmup_steps={self.warmup_steps}, "
                f"lr_schedule={self.lr_schedule!r}"
            )

    def parameter_floor(self):
        """A lower bound on the model's parameters from these settings alone (before any data
        is read), so that a model that cannot fit in memory is refused at once; 0 = unknown."""
        return 0

    def steps_per_execution_for(self, backend):
        """`steps_per_execution`, or the backend's default when unset."""
        return self.steps_per_execution or STEPS_PER_EXECUTION[backend]
