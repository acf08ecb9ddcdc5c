"""Settings of a sentiment run. The defaults are the article's configuration."""

from dataclasses import dataclass, field

from rnnlab.backend import BACKENDS
from rnnlab.models.classifier import RNN_LAYERS


@dataclass
class SentimentConfig:
    """One sentiment run; every field is also a `rnnlab train sentiment` flag.

    Example:
    >>> SentimentConfig(cell="lstm").units  # the article's 64 units
    64
    """

    cell: str = field(
        default="simple",
        metadata={"help": "recurrent layer: SimpleRNN, LSTM or GRU", "choices": tuple(RNN_LAYERS)},
    )
    max_features: int = field(
        default=10000, metadata={"help": "vocabulary size: the most frequent words kept (article: 10000)"}
    )
    maxlen: int = field(
        default=100,
        metadata={"help": "words per review; longer reviews keep their last maxlen words (article: 100)"},
    )
    embedding_dim: int = field(default=32, metadata={"help": "size of each word vector (article: 32)"})
    units: int = field(default=64, metadata={"help": "size of the recurrent state (article: 64)"})
    batch_size: int = field(default=32, metadata={"help": "reviews per gradient step (article: 32)"})
    epochs: int = field(default=10, metadata={"help": "passes over the training reviews (article: 10)"})
    learning_rate: float = field(
        default=0.001,
        metadata={"help": "Adam learning rate (Keras' default, as the article's optimizer='adam')"},
    )
    validation_split: float = field(
        default=0.2,
        metadata={"help": "fraction of the training reviews held out for validation (never the test set)"},
    )
    seed: int = field(default=0, metadata={"help": "seed for shuffling, the split and weight initialisation"})
    limit: int | None = field(
        default=None, metadata={"help": "use only N training and N test reviews (for smoke runs)"}
    )
    backend: str | None = field(
        default=None, metadata={"help": "Keras backend (default: KERAS_BACKEND or jax)", "choices": BACKENDS}
    )

    def __post_init__(self):
        if self.cell not in RNN_LAYERS:
            raise ValueError(f"Expected cell in {set(RNN_LAYERS)}. Received: cell={self.cell!r}")
        if self.backend is not None and self.backend not in BACKENDS:
            raise ValueError(f"Expected backend in {set(BACKENDS)}. Received: backend={self.backend!r}")
        for name in ("max_features", "maxlen", "embedding_dim", "units", "batch_size", "epochs"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"Expected {name} to be a positive integer. Received: {name}={value!r}")
        if self.max_features < 4:
            raise ValueError(
                f"Expected max_features >= 4 (3 indices are reserved). Received: {self.max_features}"
            )
        if not 0 < self.learning_rate:
            raise ValueError(f"Expected learning_rate > 0. Received: learning_rate={self.learning_rate!r}")
        if not 0 < self.validation_split < 1:
            raise ValueError(
                f"Expected 0 < validation_split < 1. Received: validation_split={self.validation_split!r}"
            )
        if self.limit is not None and self.limit < 10:
            raise ValueError(f"Expected limit >= 10 reviews (or none). Received: limit={self.limit!r}")
