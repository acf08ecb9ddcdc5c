"""Settings of a sentiment run. The defaults are the article's configuration."""

import os
from dataclasses import dataclass

from rnnlab.cells import CELLS
from rnnlab.config import option
from rnnlab.data import prepared_folder
from rnnlab.embeddings import FORMATS
from rnnlab.models.classifier import POOLINGS
from rnnlab.tasks.config import TrainConfig
from rnnlab.tasks.sentiment.prepared import read_manifest

TOKENIZERS = ("word", "subword")
DATASETS = ("imdb", "sst2", "sst3", "sst5")
RATE = {"min": 0.0, "max": 1.0, "max_exclusive": True}  # a dropout rate
PENALTY = {"min": 0.0, "max": 1e6}


@dataclass
class SentimentConfig(TrainConfig):
    """One sentiment run; every field is also a `rnnlab train sentiment` flag.

    The shared training settings (epochs 10, batch 32, Adam at 0.001: the
    article's) come from `TrainConfig`.

    Example:
    >>> SentimentConfig(cell="lstm").units  # the article's 64 units
    64
    """

    # --- data ---
    dataset: str = option(
        "imdb",
        "built-in data: IMDb reviews (positive/negative) or the Stanford Sentiment Treebank with 2, 3 "
        "(negative/neutral/positive) or 5 labels",
        choices=DATASETS,
    )
    data: str | None = option(
        None, "your own labelled texts instead of --dataset: a CSV, TSV or JSON Lines file, or a folder "
        "with one subfolder of .txt files per label",
    )  # fmt: skip
    valid_data: str | None = option(None, "validation texts for --data (none: validation_split of --data)")
    test_data: str | None = option(
        None, "test texts for --data (none: a seeded, stratified test_split of --data); also "
        "`rnnlab evaluate RUN --test-data FILE`",
    )  # fmt: skip
    prepared: str | None = option(
        None,
        "a folder written by `rnnlab prepare sentiment`: train on its token ids, mapped from disk "
        "(more texts than memory holds); its vocabulary, labels and splits come with it",
    )
    test_split: float = option(0.2, "share of --data held out to test when there is no --test-data",
                               min=0.0, max=1.0, min_exclusive=True, max_exclusive=True)  # fmt: skip
    text_field: str = option("text", "the column (CSV, TSV) or key (JSON Lines) holding the text")
    label_field: str = option("label", "the column or key holding the label")
    encoding: str = option("utf-8", "encoding of --data files")
    sst_phrases: bool = option(False, "SST: train on every labelled phrase, not only whole sentences")
    # --- the article's model (section 5) ---
    cell: str = option("simple", "recurrent layer: SimpleRNN, LSTM or GRU", choices=CELLS)
    max_features: int = option(
        10000, "vocabulary size: the most frequent words kept (article: 10000)", min=4, max=10_000_000
    )
    maxlen: int = option(
        100,
        "tokens per review; longer reviews keep their last maxlen tokens (article: 100)",
        min=1,
        max=100_000,
    )
    embedding_dim: int = option(32, "size of each word vector (article: 32)", min=1, max=100_000)
    units: int = option(64, "size of the recurrent state, per direction (article: 64)", min=1, max=100_000)
    # --- architecture (article 2.3, 9.1) ---
    num_layers: int = option(1, "stacked recurrent layers", min=1, max=100)
    bidirectional: bool = option(False, "read reviews in both directions")
    pooling: str = option(
        "last", "classify from the last state, the mean of all states, or concat: [last, max, mean]",
        choices=POOLINGS,
    )  # fmt: skip
    mask: bool = option(False, "skip padded positions, so padding never changes a prediction")
    # --- regularisation (article 9.1) ---
    dropout: float = option(0.0, "dropout on the recurrent layers' inputs", **RATE)
    recurrent_dropout: float = option(0.0, "dropout on the recurrent connections", **RATE)
    output_dropout: float = option(0.0, "dropout before the output layer", **RATE)
    l1: float = option(0.0, "L1 penalty on recurrent and output kernels", **PENALTY)
    l2: float = option(0.0, "L2 penalty on recurrent and output kernels", **PENALTY)
    fast_layers: bool = option(
        True,
        "rnnlab's FastRNN layers (same weights and outputs as Keras', native loops on JAX); "
        "--no-fast-layers uses Keras' SimpleRNN/LSTM/GRU",
    )
    bucket: bool = option(False, "variable-length batches of similar-length reviews (needs --mask)")
    # --- preprocessing (article 6.1 step 2) ---
    tokenizer: str = option(
        "word", "word tokens, or BPE subwords from the tokenizers library", choices=TOKENIZERS
    )
    stop_words: bool = option(False, "drop English stop words (gensim's list, which includes 'not')")
    # --- pretrained embeddings (article 7.3) ---
    embeddings: str | None = option(None, "word2vec or GloVe file to initialise the embedding matrix from")
    embeddings_format: str = option("auto", "format of --embeddings", choices=FORMATS)
    freeze_embeddings: bool = option(False, "keep pretrained embeddings fixed during training")
    # --- a pretrained language model (Dai & Le; ULMFiT) ---
    init_from: str | None = option(
        None,
        "an `rnnlab train lm --corpus imdb` run to start from: its subword tokenizer, embedding and "
        "recurrent layers (sets --tokenizer subword, --cell, --embedding-dim, --units, --num-layers)",
    )
    # --- ULMFiT's fine-tuning (Howard & Ruder, 2018; rnnlab.finetuning) ---
    discriminative_lr: float = option(
        1.0,
        "discriminative learning rates: each layer below the output learns at the rate of the layer "
        "above it divided by this (ULMFiT: 2.6; 1: one rate for every layer)",
        min=1.0,
        max=1000.0,
    )
    unfreeze_every: float = option(
        0.0,
        "gradual unfreezing: train the output layer alone first and add one layer, top down, every "
        "this many epochs (ULMFiT: 1; 0: every layer trains from the start)",
        min=0.0,
        max=100_000.0,
    )

    def parameter_floor(self):
        """Embedding rows times width, plus each recurrent layer's `units**2` recurrent kernel."""
        return self.max_features * self.embedding_dim + self.num_layers * self.units**2

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
        if self.prepared is not None:
            self._adopt_prepared()
        if self.data is None and self.valid_data is not None:
            raise ValueError(
                f"valid_data needs data (your labelled texts). Received: valid_data={self.valid_data!r}"
            )
        if self.data is not None and self.dataset != "imdb":
            raise ValueError(
                f"data replaces dataset: give one of them. Received: data={self.data!r}, "
                f"dataset={self.dataset!r}"
            )
        if self.sst_phrases and not self.dataset.startswith("sst"):
            raise ValueError(
                "sst_phrases trains on the phrases of the Stanford Sentiment Treebank: it needs dataset "
                f"sst2, sst3 or sst5. Received: dataset={self.dataset!r}, data={self.data!r}"
            )
        if self.init_from and (self.bidirectional or self.embeddings):
            raise ValueError(
                "init_from starts from a left-to-right language model's embedding and layers: it cannot "
                f"be combined with bidirectional or embeddings. Received: init_from={self.init_from!r}, "
                f"bidirectional={self.bidirectional}, embeddings={self.embeddings!r}"
            )
        if self.bucket and not self.mask:
            raise ValueError(
                "bucket=True needs mask=True: without masking, the padding of a batch changes predictions."
            )

    def _adopt_prepared(self):
        """Takes the tokenisation and split settings of the `--prepared` folder (fixed when it was
        written); a different value given here is an error, not ignored."""
        prepared_folder.adopt(
            self, ("data", "valid_data", "init_from", "dataset"), "its own texts, vocabulary and labels",
            "prepare the texts instead; --test-data may replace the test texts",
            lambda folder: read_manifest(folder)["settings"],
        )  # fmt: skip
