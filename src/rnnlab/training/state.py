"""Where a training run is: epoch, step, history and the early-stopping state. It is saved
with every checkpoint, so that `--resume` continues exactly there."""

import dataclasses
from dataclasses import dataclass, field


@dataclass
class TrainingState:
    """The progress of one run.

    Attributes:
        epoch: epochs finished.
        step: batches of the current epoch done (0 at an epoch boundary).
        global_step: batches done since the start.
        history: per-epoch values of every metric (Keras' names).
        best: the best value of the task's monitor so far.
        best_epoch: its epoch (1-based).
        wait: epochs since the best one (for `patience`).
        stopped: early stopping ended the run.

    Example:
    >>> TrainingState.from_dict(TrainingState(epoch=2).to_dict()).epoch
    2
    """

    epoch: int = 0
    step: int = 0
    global_step: int = 0
    history: dict = field(default_factory=dict)
    best: float | None = None
    best_epoch: int | None = None
    wait: int = 0
    stopped: bool = False

    def to_dict(self):
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values):
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{key: value for key, value in values.items() if key in names})

    def improved(self, score, mode):
        """Whether `score` beats the best so far ('max' or 'min' is better)."""
        if self.best is None:
            return True
        return score > self.best if mode == "max" else score < self.best
