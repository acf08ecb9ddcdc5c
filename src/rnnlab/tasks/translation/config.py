"""Settings of a translation run. Defaults: German -> English on Multi30k, a
bidirectional-GRU encoder and a GRU decoder with Luong attention."""

import os
import re
from dataclasses import dataclass

from rnnlab.cells import CELLS
from rnnlab.config import option
from rnnlab.data import prepared_folder
from rnnlab.models.seq2seq import ATTENTIONS
from rnnlab.tasks.config import TrainConfig
from rnnlab.tasks.translation.prepared import read_manifest

LANGUAGES = ("en", "de", "fr")  # Multi30k's; --data takes any language code
LANGUAGE_CODE = re.compile(r"[A-Za-z][A-Za-z0-9_-]{0,15}")  # en, pt-BR, zh_Hans, ...
RATE = {"min": 0.0, "max": 1.0, "max_exclusive": True}


@dataclass
class TranslationConfig(TrainConfig):
    """One translation run; every field is also a `rnnlab train translation` flag.

    `validation_split` is not used on Multi30k (its own `val` split validates); with `data` and
    no `valid_data` it is the share of the training pairs (a seeded draw) that validates.

    Example:
    >>> TranslationConfig(src="en", tgt="de").attention
    'luong'
    """

    src: str = option("de", "source language: en, de or fr on Multi30k; any code with --data")
    tgt: str = option("en", "target language: en, de or fr on Multi30k; any code with --data")
    data: str | None = option(
        None,
        "your own sentence pairs instead of Multi30k: a TSV file, a prefix of PREFIX.SRC and PREFIX.TGT "
        "files, or two files (plain or .sgm) joined by a comma",
    )
    valid_data: str | None = option(None, "validation pairs for --data (none: a share of --data)")
    prepared: str | None = option(
        None,
        "a folder written by `rnnlab prepare translation`: train on its subword ids, mapped from disk "
        "(corpora larger than memory); its BPE models, languages, max_len and validation pairs come with it",
    )
    test_data: str | None = option(
        None, "test pairs for --data, or for `rnnlab evaluate RUN --test-data` (none: the validation pairs)"
    )
    # --- model (article 6.2, 8.1) ---
    cell: str = option("gru", "recurrent layer of encoder and decoder", choices=CELLS)
    attention: str = option(
        "luong",
        "none: the article's fixed-length vector; luong (h W s) or bahdanau (v.tanh(W h + U s)): "
        "attention over the source",
        choices=ATTENTIONS,
    )
    bidirectional: bool = option(True, "read the source in both directions")
    encoder_layers: int = option(1, "stacked encoder layers", min=1, max=16)
    embedding_dim: int = option(128, "size of each subword vector", min=1, max=100_000)
    units: int = option(256, "state size of the decoder and each encoder direction", min=2, max=100_000)
    dropout: float = option(0.2, "dropout on the recurrent layers' inputs", **RATE)
    output_dropout: float = option(0.2, "dropout before the output layer", **RATE)
    embedding_dropout: float = option(0.0, "dropout on the subword vectors", **RATE)
    label_smoothing: float = option(0.0, "target probability spread over all subwords", **RATE)
    fast_layers: bool = option(True, "rnnlab's layers (native loops on JAX); --no-fast-layers: Keras' own")
    # --- text ---
    vocab_size: int = option(8000, "BPE subwords per language (including 4 reserved)", min=16, max=1_000_000)
    shared_vocabulary: bool = option(False, "one BPE model for both languages (vocab_size in all)")
    max_len: int = option(
        60, "longest sentence in subwords; longer ones are cut in training", min=2, max=10_000
    )
    bucket: bool = option(True, "batches of similar-length sentences, padded only to their bucket")
    # --- decoding and evaluation ---
    beam_size: int = option(
        1, "beam width for the test metrics (1: greedy, as the references)", min=1, max=64
    )
    length_penalty: float = option(0.6, "beam search length normalisation exponent", min=0.0, max=10.0)

    def parameter_floor(self):
        """Both embeddings, the output layer and the recurrent kernels (encoder and decoder)."""
        return (
            self.vocab_size * (2 * self.embedding_dim + self.units)
            + (self.encoder_layers + 1) * self.units**2
        )

    def __post_init__(self):
        super().__post_init__()
        if isinstance(self.prepared, str):
            self.prepared = os.path.abspath(self.prepared)
            self._adopt_prepared()
        for name in ("data", "valid_data", "test_data"):  # so that a run reads them from any folder
            value = getattr(self, name)
            if isinstance(value, str):
                parts = [part.strip() for part in value.split(",")]
                if not all(parts):
                    raise ValueError(f"Expected a path, or two joined by a comma. Received: {name}={value!r}")
                setattr(self, name, ",".join(os.path.abspath(part) for part in parts))
        for name in ("src", "tgt"):
            code = getattr(self, name)
            if not isinstance(code, str):
                continue  # `config.validate` names the type
            if self.data is None and self.prepared is None and code not in LANGUAGES:
                raise ValueError(
                    f"Expected {name} in {LANGUAGES} (Multi30k's languages; --data takes any). "
                    f"Received: {name}={code!r}"
                )
            if not LANGUAGE_CODE.fullmatch(code):
                raise ValueError(
                    f"Expected {name} to be a language code such as 'en' or 'pt-BR'. "
                    f"Received: {name}={code!r}"
                )
        if self.data is None and self.valid_data is not None:
            raise ValueError(
                f"valid_data needs data (your training pairs). Received: valid_data={self.valid_data!r}"
            )
        if self.src == self.tgt:
            raise ValueError(
                f"Expected different source and target languages. Received: src=tgt={self.src!r}"
            )

    def _adopt_prepared(self):
        """Takes the languages and the tokenisation settings of the `--prepared` folder (they are
        fixed when it is written); a different value given here is an error, not ignored."""
        prepared_folder.adopt(
            self, ("data", "valid_data"), "its own pairs",
            "prepare them instead, or use --test-data for test pairs", _folder_settings,
        )  # fmt: skip


def _folder_settings(folder):
    """The settings a prepared folder fixes, its validation draw's share included."""
    manifest = read_manifest(folder)
    settings = dict(manifest["settings"])
    if isinstance(manifest.get("validation"), dict):  # a draw of the training pairs validates
        settings["validation_split"] = manifest["validation"]["split"]
    return settings
