"""Settings of a language-model run."""

import os
from dataclasses import dataclass

from rnnlab.cells import CELLS
from rnnlab.config import option
from rnnlab.tasks.config import TrainConfig
from rnnlab.tasks.lm.prepared import read_manifest

CORPORA = ("tinyshakespeare", "ptb", "wikitext-2", "imdb")
LEVELS = {"tinyshakespeare": "char", "ptb": "word", "wikitext-2": "word", "imdb": "subword"}
TOKEN_LEVELS = ("char", "word", "subword")


@dataclass
class LMConfig(TrainConfig):
    """One language-model run; every field is also a `rnnlab train lm` flag.

    `limit` keeps the first N tokens (characters for Tiny Shakespeare; for IMDb the
    reviews holding the first N words) of the training text and of the evaluation
    text; `validation_split` is not used (each corpus has its own validation text).

    `data` trains on the user's text instead of a corpus: `level` says how it is cut into tokens
    (characters; words, a line ending in `<eos>`; or BPE subwords, a line a document), and its
    last 10% validates and evaluates unless `valid_data` is given. Paths are kept absolute.

    Example:
    >>> LMConfig(corpus="ptb").token_level
    'word'
    >>> LMConfig(data="book.txt").token_level
    'char'
    """

    corpus: str = option(
        "tinyshakespeare",
        "text to model: characters (Tiny Shakespeare), words (PTB, WikiText-2), BPE subwords (IMDb reviews)",
        choices=CORPORA,
    )
    data: str | None = option(
        None, "your own text instead of --corpus: a UTF-8 file, or a folder (its .txt files in sorted order)"
    )
    valid_data: str | None = option(None, "validation text for --data (none: the last tenth of --data)")
    prepared: str | None = option(
        None,
        "a folder written by `rnnlab prepare lm`: train on its token ids, mapped from disk (text larger "
        "than memory); its vocabulary and validation text come with it",
    )
    test_data: str | None = option(
        None,
        "evaluation text, for --data or for `rnnlab evaluate RUN --test-data` (none: the validation text)",
    )
    level: str | None = option(
        None, "tokens of --data: char, word (space-separated) or subword (BPE) (none: char)",
        choices=TOKEN_LEVELS,
    )  # fmt: skip
    seq_len: int = option(128, "tokens per training window (truncated BPTT length)", min=2, max=100_000)
    cell: str = option("lstm", "recurrent layer", choices=CELLS)
    embedding_dim: int = option(256, "size of each token vector", min=1, max=100_000)
    units: int = option(512, "state size of each recurrent layer", min=2, max=100_000)
    num_layers: int = option(2, "stacked recurrent layers", min=1, max=16)
    dropout: float = option(0.2, "dropout on the embeddings and each layer's output", min=0.0, max=1.0,
                            max_exclusive=True)  # fmt: skip
    tie_weights: bool = option(
        False, "share the embedding matrix with the output layer (units = embedding_dim)"
    )
    stateful: bool = option(
        False,
        "carry each layer's states from one window to the next (the text read as batch_size parallel "
        "streams); --no-stateful: independent windows from zero states, shuffled",
    )
    max_vocab: int | None = option(
        None, "keep the most frequent tokens (none: all); subwords: the BPE vocabulary size (none: 8,000)",
        min=4, max=10_000_000,
    )  # fmt: skip
    clipnorm: float | None = option(1.0, "clip each gradient to this norm (none: no clipping)", min=0,
                                    min_exclusive=True)  # fmt: skip
    fast_layers: bool = option(True, "rnnlab's layers (native loops on JAX); --no-fast-layers: Keras' own")
    init_from: str | None = option(
        None,
        "start from this lm run's vocabulary and weights (pretraining in stages, or adapting a model to "
        "new text); the architecture follows that run",
    )

    @property
    def token_level(self):
        """The tokens the run reads: `level` for the user's text (default 'char'), a prepared
        folder's, else the corpus's."""
        if self.prepared is not None:
            return self.level
        if self.data is None:
            return LEVELS[self.corpus]
        return self.level or "char"

    @property
    def text_name(self):
        """What the run reads: the corpus's name, or the path of the user's text."""
        return self.prepared or self.data or self.corpus

    def parameter_floor(self):
        """Each recurrent layer's `units**2` recurrent kernel (the vocabulary comes from the data)."""
        return self.num_layers * self.units**2 + (self.max_vocab or 0) * self.embedding_dim

    def __post_init__(self):
        super().__post_init__()
        for name in (
            "data",
            "valid_data",
            "test_data",
            "prepared",
        ):  # so that a run reads them from any folder
            if isinstance(getattr(self, name), str):
                setattr(self, name, os.path.abspath(getattr(self, name)))
        if self.data is None and self.prepared is None:  # a corpus: `level` stays None in config.toml
            if self.valid_data is not None:
                raise ValueError(
                    f"valid_data needs data (your training text). Received: valid_data={self.valid_data!r}"
                )
            if self.level not in (None, LEVELS[self.corpus]):
                raise ValueError(
                    f"level is for --data: corpus {self.corpus!r} is {LEVELS[self.corpus]}-level. "
                    f"Received: level={self.level!r}"
                )
        if self.prepared is not None:
            given = [name for name in ("data", "valid_data", "init_from", "max_vocab") if getattr(self, name)]
            if given or self.stateful:
                flags = ", ".join("--" + name.replace("_", "-") for name in given) or "--stateful"
                raise ValueError(
                    "--prepared brings its own text, vocabulary and level, and trains on independent "
                    f"windows (a stateful layout would copy the text into memory). Received: {flags} with it."
                )
            if self.level is None or os.path.isfile(os.path.join(self.prepared, "manifest.json")):
                level = read_manifest(self.prepared)["level"]
                if self.level not in (None, level):
                    raise ValueError(
                        f"--prepared {self.prepared} holds {level} tokens. Received: level={self.level!r}"
                    )
                self.level = level  # kept in the run's config: the run loads without the folder
        if self.stateful and self.data_parallel:
            raise ValueError(
                "stateful training keeps one state per batch row and cannot split batches over devices. "
                "Received: stateful=True, data_parallel=True"
            )
        if self.tie_weights and self.units != self.embedding_dim:
            raise ValueError(
                f"tie_weights needs units == embedding_dim. Received: units={self.units}, "
                f"embedding_dim={self.embedding_dim}"
            )
