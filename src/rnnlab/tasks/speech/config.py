"""Settings of a speech run: isolated digits or connected digit strings, as digit classes or labels,
or (`targets="characters"`) as the characters of their words under CTC."""

import os
from dataclasses import dataclass

from rnnlab.cells import CELLS
from rnnlab.config import option
from rnnlab.datasets.fsdd import SPEAKERS
from rnnlab.tasks.config import TrainConfig
from rnnlab.tasks.speech.language_model import LMS

MODES = ("digits", "digit-strings")
TARGETS = ("digits", "characters")
RATE = {"min": 0.0, "max": 1.0, "max_exclusive": True}


@dataclass
class SpeechConfig(TrainConfig):
    """One speech run; every field is also a `rnnlab train speech` flag.

    `limit` caps the training and test recordings (digits) or strings (digit-strings).

    Example:
    >>> SpeechConfig(mode="digit-strings").frame_stack
    3
    """

    mode: str = option(
        "digits", "digits: one digit per recording; digit-strings: CTC over 1-7 digits", choices=MODES
    )
    targets: str = option(
        "digits",
        "digits: digit classes (digits) or digit labels (digit strings); characters: CTC over the "
        "characters of the words ('seven three')",
        choices=TARGETS,
    )
    data: str | None = option(
        None,
        "your recordings: a CSV/TSV manifest with columns path, transcript (paths absolute or relative to "
        "it) or a folder of NAME.wav + NAME.txt pairs (with --targets characters)",
    )
    valid_data: str | None = option(
        None, "validation recordings for --data (none: validation_split of --data)"
    )
    test_data: str | None = option(
        None, "test recordings for --data (none: a seeded test_split of --data); also `rnnlab evaluate RUN "
        "--test-data PATH`",
    )  # fmt: skip
    test_split: float = option(0.1, "share of --data held out to test when there is no --test-data", **RATE)
    held_out_speaker: str | None = option(
        None,
        "test on every recording of this speaker and train on the others (default: the official split, "
        "recordings 0-4 of everyone are test)",
        choices=SPEAKERS,
    )
    valid_speaker: str | None = option(
        None,
        "with --held-out-speaker: validate on every recording of this speaker, and do not train on it "
        "(early stopping then sees how the model does on a voice it has not heard)",
        choices=SPEAKERS,
    )
    # --- features (article 6.3.1) ---
    n_mfcc: int = option(20, "MFCC coefficients per 10 ms frame", min=1, max=128)
    deltas: int = option(2, "0: coefficients only; 1: + deltas; 2: + delta-deltas", min=0, max=2)
    normalize: bool = option(
        True, "per-utterance mean and variance normalisation of each feature (CMVN); --no-normalize: raw"
    )
    frame_stack: int | None = option(
        None,
        "frames joined into one recurrent step (default: 1 for digits, 3 for digit strings)",
        min=1,
        max=16,
    )
    augment: int = option(
        0,
        "extra copies of each training recording with random speed, shift and noise (seeded)",
        min=0,
        max=50,
    )
    augment_speed: float = option(
        0.1,
        "augmentation speeds are drawn from 1 - this to 1 + this (pitch and formants move too)",
        min=0.0,
        max=0.5,
    )
    vtlp: float = option(
        0.0,
        "vocal-tract-length perturbation of the augmented copies: spectra warped by a factor drawn "
        "from 1 - this to 1 + this (0: none; 0.1 is usual)",
        min=0.0,
        max=0.3,
    )
    freq_masks: int = option(
        0, "SpecAugment frequency masks per augmented copy (each 0-8 of the 40 mel channels)", min=0, max=10
    )
    time_masks: int = option(
        0,
        "SpecAugment time masks per augmented copy (each 0-10 frames, at most a fifth of the recording)",
        min=0,
        max=10,
    )
    # --- model ---
    cell: str = option("gru", "recurrent layer", choices=CELLS)
    units: int = option(128, "state size per direction", min=2, max=100_000)
    num_layers: int = option(2, "stacked recurrent layers", min=1, max=16)
    bidirectional: bool = option(True, "read the frames in both directions")
    dropout: float = option(0.1, "dropout on the recurrent layers' inputs", **RATE)
    output_dropout: float = option(0.2, "dropout before the output layer", **RATE)
    fast_layers: bool = option(True, "rnnlab's layers (native loops on JAX); --no-fast-layers: Keras' own")
    bucket: bool = option(True, "batches of similar-length utterances, padded only to their bucket")
    # --- digit strings ---
    train_strings: int = option(8000, "digit strings made from training recordings", min=1, max=10**7)
    test_strings: int = option(1000, "digit strings made from test recordings", min=1, max=10**7)
    min_digits: int = option(1, "fewest digits in a string", min=1, max=50)
    max_digits: int = option(7, "most digits in a string", min=1, max=50)
    noise_snr_db: float | None = option(
        None,
        "add white noise to every string at this signal-to-noise ratio in dB (default: none)",
        min=-20,
        max=100,
    )
    # --- decoding (digit strings) ---
    beam_size: int = option(1, "CTC beam width for the test metrics (1: greedy)", min=1, max=256)
    lm: str = option(
        "none",
        "language model in beam search: none, grammar (1-7 digits), ngram (over digits or characters), "
        "lexicon or ngram+lexicon (character targets: only the words of --lexicon)",
        choices=LMS,
    )
    lexicon: str | None = option(
        None, "a word list, one word per line: what lexicon decoding may emit (character targets)"
    )
    lm_weight: float = option(0.5, "weight of the language model's log-probability", min=0.0, max=100.0)
    insertion_bonus: float = option(0.0, "score added per digit in beam search", min=-100.0, max=100.0)

    @property
    def uses_ctc(self):
        """True when the model emits CTC labels (digit strings, or character targets)."""
        return self.mode == "digit-strings" or self.targets == "characters"

    def parameter_floor(self):
        """Each recurrent layer's `units**2` recurrent kernel."""
        return self.num_layers * self.units**2

    def __post_init__(self):
        if self.frame_stack is None:
            self.frame_stack = 1 if self.mode == "digits" else 3
        super().__post_init__()
        for name in (
            "data",
            "valid_data",
            "test_data",
            "lexicon",
        ):  # so that a run reads them from any folder
            if isinstance(getattr(self, name), str):
                setattr(self, name, os.path.abspath(getattr(self, name)))
        if self.data is None and (self.valid_data or self.test_data):
            raise ValueError(
                "--valid-data and --test-data go with --data (your recordings). Received: "
                f"valid_data={self.valid_data!r}, test_data={self.test_data!r} without data."
            )
        if self.data is not None:
            if self.targets != "characters":
                raise ValueError(
                    f"--data recordings have text transcripts: add --targets characters. Received: "
                    f"targets={self.targets!r}."
                )
            if self.mode != "digits" or self.held_out_speaker:
                raise ValueError(
                    "--data takes one utterance per recording (mode digits) and splits it itself; "
                    "--mode digit-strings and --held-out-speaker build FSDD's. Received: "
                    f"mode={self.mode!r}, held_out_speaker={self.held_out_speaker!r}."
                )
        if self.valid_speaker and not self.held_out_speaker:
            raise ValueError(
                "--valid-speaker takes a speaker out of training for validation: it goes with "
                f"--held-out-speaker. Received: valid_speaker={self.valid_speaker!r} alone."
            )
        if self.valid_speaker and self.valid_speaker == self.held_out_speaker:
            raise ValueError(
                f"Expected a validation speaker other than the held-out (test) speaker. Received: "
                f"{self.valid_speaker!r} for both."
            )
        if (self.vtlp or self.freq_masks or self.time_masks) and not self.augment:
            raise ValueError(
                "vtlp, freq_masks and time_masks perturb the augmented copies: give augment >= 1. "
                f"Received: augment=0 with vtlp={self.vtlp}, freq_masks={self.freq_masks}, "
                f"time_masks={self.time_masks}."
            )
        if self.min_digits > self.max_digits:
            raise ValueError(
                f"Expected min_digits <= max_digits. Received: {self.min_digits} > {self.max_digits}"
            )
        if not self.uses_ctc and (self.beam_size > 1 or self.lm != "none"):
            raise ValueError(
                "beam_size and lm decode CTC outputs (digit strings, or --targets characters); "
                "--mode digits with digit targets has nothing to decode."
            )
        if self.lm == "grammar" and self.targets == "characters":
            raise ValueError(
                "lm='grammar' limits digit labels; with --targets characters use ngram or lexicon."
            )
        if "lexicon" in self.lm and (self.targets != "characters" or not self.lexicon):
            raise ValueError(f"lm={self.lm!r} needs --targets characters and a --lexicon word list.")
        if self.lexicon and self.targets != "characters":
            raise ValueError("--lexicon lists words of character targets: add --targets characters.")
        if self.lm != "none" and self.beam_size == 1:
            raise ValueError(f"lm={self.lm!r} works inside beam search: give beam_size > 1.")
