"""What is measured: the article's model and its LSTM/GRU variants, and one larger setting."""

from dataclasses import asdict, dataclass

GATES = {"simple": 1, "lstm": 4, "gru": 3}


@dataclass(frozen=True)
class Workload:
    """One model shape and mode.

    Args:
        cell: 'simple', 'lstm' or 'gru'.
        mode: 'train' (forward, backward and Adam update) or 'infer' (forward only).
        batch_size: reviews per step.
        maxlen, vocab_size, embedding_dim, units: the model (article: 100, 10000, 32, 64).
    """

    cell: str
    mode: str = "train"
    batch_size: int = 32
    maxlen: int = 100
    vocab_size: int = 10000
    embedding_dim: int = 32
    units: int = 64

    @property
    def name(self):
        size = "" if (self.maxlen, self.units) == (100, 64) else f"/T{self.maxlen}-H{self.units}"
        return f"{self.cell}/{self.mode}/b{self.batch_size}{size}"

    def flops_per_sample(self):
        """Matrix-multiply FLOPs per review: forward, or forward + backward (x3) for training."""
        gates = GATES[self.cell]
        recurrent = self.maxlen * 2 * gates * self.units * (self.embedding_dim + self.units)
        forward = recurrent + 2 * self.units
        return 3 * forward if self.mode == "train" else forward

    def to_dict(self):
        return {**asdict(self), "name": self.name}


def full_suite():
    """Every workload of the full benchmark."""
    suite = [Workload(cell, "train", batch) for cell in GATES for batch in (32, 128)]
    suite += [Workload(cell, "infer", 256) for cell in GATES]
    suite += [Workload(cell, "train", 32, maxlen=400, units=256) for cell in GATES]
    return suite


def quick_suite():
    """The article's model, training at batch 32."""
    return [Workload("simple", "train", 32)]
