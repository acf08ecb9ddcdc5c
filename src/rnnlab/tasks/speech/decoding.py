"""From an acoustic model's outputs to transcriptions, without Keras: CTC decoding with the run's
decoder (greedy, prefix beam search, with the digit grammar or the n-gram), the options a
prediction may change, and the records and lines `rnnlab predict` prints. The run's predictor
(`rnnlab.tasks.speech.task`) and an ONNX export's (`rnnlab.export.runtime`) both use it, so both
give the same records.

Example:
>>> from rnnlab.tasks.speech.config import SpeechConfig
>>> config = decoding_config(SpeechConfig(mode="digit-strings"), beam_size=1, lm=None)
>>> (config.beam_size, config.lm)
(1, 'none')
"""

import dataclasses

import numpy as np

from rnnlab.config import option
from rnnlab.ctc import greedy_decode, log_softmax, prefix_beam_search
from rnnlab.errors import InputError
from rnnlab.tasks.speech.language_model import LMS, DigitGrammar, Lexicon
from rnnlab.text.printable import printable

MAX_BEAM = 256
PRUNE = -10.0  # beam search skips labels below e^-10 at a step
DECODING_FIELDS = ("mode", "targets", "beam_size", "lm", "lm_weight", "insertion_bonus", "min_digits",
                   "max_digits", "lexicon")  # fmt: skip


def decode(logits, config, preprocessor):
    """Labels of one utterance's `(steps, labels)` CTC logits, with the config's decoder."""
    log_probs = log_softmax(logits)
    if config.beam_size == 1:
        return greedy_decode(log_probs)
    lm = language_model(config, preprocessor)
    labels, _ = prefix_beam_search(
        log_probs, config.beam_size, lm=lm, lm_weight=config.lm_weight,
        insertion_bonus=config.insertion_bonus, prune=PRUNE,
    )  # fmt: skip
    return labels


def language_model(config, preprocessor):
    """The `rnnlab.ctc.LanguageModel` of `config.lm` (None for 'none'); a lexicon's is built once
    per preprocessor.

    Raises:
        InputError: a lexicon asked of a run that has none.
    """
    if config.lm == "none":
        return None
    if config.lm == "grammar":
        return DigitGrammar(config.min_digits, config.max_digits)
    if config.lm == "ngram":
        return preprocessor.lm
    if not preprocessor.lexicon:
        raise InputError(f"--lm {config.lm} needs a run trained with --lexicon; this run has none.")
    cache = preprocessor.lexicon_models
    if config.lm not in cache:
        inner = preprocessor.lm if config.lm == "ngram+lexicon" else None
        cache[config.lm] = Lexicon(preprocessor.lexicon, preprocessor.alphabet, inner)
    return cache[config.lm]


def decoding_config(config, beam_size=None, lm=None):
    """The run's config with a prediction's decoding options (None: the run's): `beam_size=1` is
    greedy, without a language model; a language model without a beam gets a beam of 16.

    Raises:
        InputError: decoding options for a digits run.
    """
    if beam_size is None and lm is None:
        return config
    if not config.uses_ctc:
        raise InputError(
            f"A beam size and a language model decode CTC outputs (received beam_size={beam_size}, lm={lm}); "
            "this run classifies digits."
        )
    changes = {"beam_size": beam_size or config.beam_size, "lm": lm or config.lm}
    if beam_size == 1:
        changes["lm"] = "none"
    elif changes["lm"] != "none" and changes["beam_size"] == 1:
        changes["beam_size"] = 16
    try:
        return dataclasses.replace(config, **changes)
    except ValueError as error:  # a language model these targets cannot use
        raise InputError(str(error)) from None


@dataclasses.dataclass
class Transcription:
    """One file's transcription.

    Attributes:
        text: the digits heard ('7', or '4096' for digit strings).
        probability: for digits, the model's probability of `text`; None for strings.
        probabilities: per digit `(10,)` for digits; per step `(steps, labels)` (blank first) for CTC.
        audio: the samples the model heard (mono, at the run's rate).
        labels: the names of the columns of `probabilities`.
    """

    text: str
    probability: float | None
    probabilities: np.ndarray
    audio: np.ndarray
    labels: tuple = tuple(str(d) for d in range(10))

    def to_record(self, sample_rate):
        """`{text, probability, duration_s, posteriors, labels}`: posteriors per digit (digits) or
        per output step, blank first (CTC), to 4 decimals; `labels` names their columns."""
        return {
            "text": self.text,
            "probability": self.probability,
            "duration_s": round(len(self.audio) / sample_rate, 3),
            "posteriors": np.round(np.asarray(self.probabilities, dtype=float), 4).tolist(),
            "labels": list(self.labels),
        }


def transcription(output, audio, config, preprocessor):
    """The `Transcription` of one utterance from the model's output: `(10,)` digit probabilities,
    or `(steps, labels)` CTC logits over the utterance's own steps."""
    if not config.uses_ctc:
        digit = int(np.argmax(output))
        return Transcription(str(digit), float(output[digit]), output, audio)
    text = preprocessor.decode_labels(decode(output, config, preprocessor))
    names = preprocessor.alphabet or [str(d) for d in range(10)]
    return Transcription(text, None, np.exp(log_softmax(output)), audio, ("<blank>", *names))


def result_line(record, source):
    """`rnnlab predict`'s line for one file: the text, the probability (digits), the file."""
    name = printable(source) if isinstance(source, str) else "audio"
    if record["probability"] is None:
        return f"{record['text']}\t{name}"
    return f"{record['text']}\t{record['probability']:.4f}\t{name}"


@dataclasses.dataclass
class SpeechOptions:
    """What a speech prediction takes (`rnnlab predict` on a speech run or export): decoding of
    digit strings (None: the run's)."""

    beam_size: int | None = option(None, "CTC beam width (CTC outputs)", min=1, max=MAX_BEAM)
    lm: str | None = option(None, "language model in beam search (CTC outputs)", choices=LMS)
