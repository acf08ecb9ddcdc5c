"""Settings of a sentiment run. The defaults are the article's configuration."""

import math
from dataclasses import dataclass, field

from rnnlab.backend import BACKENDS
from rnnlab.embeddings import FORMATS
from rnnlab.models.classifier import POOLINGS, RNN_LAYERS

OPTIMIZERS = {"adam": "Adam", "adamw": "AdamW", "rmsprop": "RMSprop", "sgd": "SGD"}  # name -> Keras class
TOKENIZERS = ("word", "subword")
EMBEDDING_FORMATS = FORMATS


def _option(default, help, **extra):
    return field(default=default, metadata={"help": help, **extra})


@dataclass
class SentimentConfig:
    """One sentiment run; every field is also a `rnnlab train sentiment` flag.

    Example:
    >>> SentimentConfig(cell="lstm").units  # the article's 64 units
    64
    """

    # --- the article's model (section 5) ---
    cell: str = _option("simple", "recurrent layer: SimpleRNN, LSTM or GRU", choices=tuple(RNN_LAYERS))
    max_features: int = _option(10000, "vocabulary size: the most frequent words kept (article: 10000)")
    maxlen: int = _option(
        100, "tokens per review; longer reviews keep their last maxlen tokens (article: 100)"
    )
    embedding_dim: int = _option(32, "size of each word vector (article: 32)")
    units: int = _option(64, "size of the recurrent state, per direction (article: 64)")
    batch_size: int = _option(32, "reviews per gradient step (article: 32)")
    epochs: int = _option(10, "passes over the training reviews (article: 10)")
    learning_rate: float = _option(
        0.001, "learning rate (Keras' Adam default, as the article's optimizer='adam')"
    )
    # --- architecture (article 2.3, 9.1) ---
    num_layers: int = _option(1, "stacked recurrent layers")
    bidirectional: bool = _option(False, "read reviews in both directions")
    pooling: str = _option("last", "classify from the last state or the mean of all states", choices=POOLINGS)
    mask: bool = _option(False, "skip padded positions, so padding never changes a prediction")
    # --- regularisation (article 9.1) ---
    dropout: float = _option(0.0, "dropout on the recurrent layers' inputs")
    recurrent_dropout: float = _option(0.0, "dropout on the recurrent connections")
    output_dropout: float = _option(0.0, "dropout before the output layer")
    l1: float = _option(0.0, "L1 penalty on recurrent and output kernels")
    l2: float = _option(0.0, "L2 penalty on recurrent and output kernels")
    fast_layers: bool = _option(
        True,
        "rnnlab's FastRNN layers (same weights and outputs as Keras', native loops on JAX); "
        "--no-fast-layers uses Keras' SimpleRNN/LSTM/GRU",
    )
    # --- optimisation ---
    optimizer: str = _option("adam", "optimizer", choices=tuple(OPTIMIZERS))
    clipnorm: float | None = _option(None, "clip each gradient to this norm (none: no clipping)")
    patience: int | None = _option(None, "stop after this many epochs without a better validation accuracy")
    restore_best: bool = _option(False, "keep the weights of the epoch with the best validation accuracy")
    bucket: bool = _option(False, "variable-length batches of similar-length reviews (needs --mask)")
    steps_per_execution: int = _option(
        32,
        "batches per call into the compiled train step (Keras' steps_per_execution)",
    )
    # --- preprocessing (article 6.1 step 2) ---
    tokenizer: str = _option(
        "word", "word tokens, or BPE subwords from the tokenizers library", choices=TOKENIZERS
    )
    stop_words: bool = _option(False, "drop English stop words (gensim's list, which includes 'not')")
    # --- pretrained embeddings (article 7.3) ---
    embeddings: str | None = _option(None, "word2vec or GloVe file to initialise the embedding matrix from")
    embeddings_format: str = _option("auto", "format of --embeddings", choices=EMBEDDING_FORMATS)
    freeze_embeddings: bool = _option(False, "keep pretrained embeddings fixed during training")
    # --- the run ---
    data_parallel: bool = _option(
        False, "split each batch across every local device with Keras' DataParallel (JAX backend)"
    )
    validation_split: float = _option(
        0.2, "fraction of training reviews held out for validation (never the test set)"
    )
    seed: int = _option(0, "seed for shuffling, the split and weight initialisation")
    limit: int | None = _option(None, "use only N training and N test reviews (for smoke runs)")
    backend: str | None = _option(None, "Keras backend (default: KERAS_BACKEND or jax)", choices=BACKENDS)

    def __post_init__(self):
        choices = {
            "cell": RNN_LAYERS,
            "pooling": POOLINGS,
            "optimizer": OPTIMIZERS,
            "tokenizer": TOKENIZERS,
            "embeddings_format": EMBEDDING_FORMATS,
        }
        for name, valid in choices.items():
            if getattr(self, name) not in valid:
                raise ValueError(f"Expected {name} in {set(valid)}. Received: {name}={getattr(self, name)!r}")
        if self.backend is not None and self.backend not in BACKENDS:
            raise ValueError(f"Expected backend in {set(BACKENDS)}. Received: backend={self.backend!r}")
        for name in (
            "max_features",
            "maxlen",
            "embedding_dim",
            "units",
            "batch_size",
            "epochs",
            "num_layers",
            "steps_per_execution",
        ):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"Expected {name} to be a positive integer. Received: {name}={value!r}")
        if self.max_features < 4:
            raise ValueError(
                f"Expected max_features >= 4 (3 indices are reserved). Received: {self.max_features}"
            )
        for name in ("dropout", "recurrent_dropout", "output_dropout"):
            if not 0 <= getattr(self, name) < 1:
                raise ValueError(f"Expected 0 <= {name} < 1. Received: {name}={getattr(self, name)!r}")
        for name in ("l1", "l2"):
            if getattr(self, name) < 0:
                raise ValueError(f"Expected {name} >= 0. Received: {name}={getattr(self, name)!r}")
        if not 0 < self.learning_rate:
            raise ValueError(f"Expected learning_rate > 0. Received: learning_rate={self.learning_rate!r}")
        if self.clipnorm is not None and self.clipnorm <= 0:
            raise ValueError(f"Expected clipnorm > 0 (or none). Received: clipnorm={self.clipnorm!r}")
        if self.patience is not None and self.patience < 1:
            raise ValueError(f"Expected patience >= 1 (or none). Received: patience={self.patience!r}")
        if not 0 < self.validation_split < 1:
            raise ValueError(
                f"Expected 0 < validation_split < 1. Received: validation_split={self.validation_split!r}"
            )
        if self.seed < 0:
            raise ValueError(f"Expected seed >= 0. Received: seed={self.seed!r}")
        for name in (
            "learning_rate",
            "l1",
            "l2",
            "clipnorm",
            "dropout",
            "recurrent_dropout",
            "output_dropout",
        ):
            value = getattr(self, name)
            if value is not None and not math.isfinite(value):
                raise ValueError(f"Expected a finite {name}. Received: {name}={value!r}")
        if self.limit is not None and self.limit < 10:
            raise ValueError(f"Expected limit >= 10 reviews (or none). Received: limit={self.limit!r}")
        if self.bucket and not self.mask:
            raise ValueError(
                "bucket=True needs mask=True: without masking, the padding of a batch changes predictions."
            )
