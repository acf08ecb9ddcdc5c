"""From sentences to translations with any `DecoderSearch` (a Keras model's or an ONNX export's),
without Keras: batching, checks of the input, and the records and lines `rnnlab predict` prints.

Example:
>>> line({"translation": "A man rides a bike."}, "Ein Mann fährt Fahrrad.")
'A man rides a bike.\tEin Mann fährt Fahrrad.'
"""

import dataclasses

import numpy as np

from rnnlab.config import option
from rnnlab.data.padding import pad, padded_length
from rnnlab.errors import InputError
from rnnlab.tasks.translation.preprocessor import MAX_CHARS, UNK_ID
from rnnlab.text.printable import printable

SOURCE_BUCKET = 8  # sources are padded to a multiple of this many tokens (to 64), then geometrically
DECODE_BATCH = 128
MAX_BEAM = 64


def padded_source_length(steps):
    """The length a source of `steps` tokens is padded to (padding is masked): see
    `padded_length`. A server compiles a few dozen shapes, not one per length."""
    return padded_length(steps, SOURCE_BUCKET)


def translate_all(
    translator, preprocessor, sentences, beam_size, max_len, length_penalty=0.6, with_attention=False
):
    """Translations of many sentences, decoded in batches of similar lengths.

    Args:
        translator: a `rnnlab.decoder_search.DecoderSearch` (a Keras model's or an export's).
        preprocessor: the run's `TranslationPreprocessor`.
        sentences: source sentences.
        beam_size: 1 for greedy.
        max_len, length_penalty: the run's settings (at most `max_len + 10` target tokens).
        with_attention: also return `(ids, attention weights, source ids)` per sentence.
    """
    encoded = preprocessor.encode_source(sentences)
    order = np.argsort([len(s) for s in encoded], kind="stable")  # similar lengths per batch
    texts, details = [None] * len(sentences), [None] * len(sentences)
    for start in range(0, len(order), DECODE_BATCH):
        rows = order[start : start + DECODE_BATCH]
        longest = max(1, max(len(encoded[i]) for i in rows))
        source = pad([encoded[i] for i in rows], padded_source_length(longest), side="back")
        max_steps = min(2 * longest + 10, max_len + 10)
        if beam_size > 1:
            ids, attention = translator.beam(source, max_steps, beam_size, length_penalty)
        else:
            ids, attention = translator.greedy(source, max_steps)
        for row, hyp, weights in zip(rows, ids, attention, strict=True):
            texts[row] = preprocessor.decode_target(hyp)
            if weights is not None:
                weights = np.asarray(weights)[:, : len(encoded[row])]  # not the padding
            details[row] = (hyp, weights, encoded[row])
    return (texts, details) if with_attention else texts


@dataclasses.dataclass
class Translation:
    """One sentence's translation.

    Attributes:
        text: the translation, detokenised.
        target_tokens, source_tokens: subword pieces (for plots).
        attention: `(target_steps, source_steps)` weights, or None without attention.
        unknown: source pieces never seen in training (`[UNK]`).
    """

    text: str
    target_tokens: list
    source_tokens: list
    attention: object
    unknown: int

    def to_record(self):
        attention = None
        if self.attention is not None and len(self.target_tokens):
            attention = np.round(np.asarray(self.attention, dtype=float), 5).tolist()
        return {
            "translation": self.text,
            "source_tokens": list(self.source_tokens),
            "target_tokens": list(self.target_tokens),
            "attention": attention,
            "unknown_words": self.unknown,
        }


@dataclasses.dataclass
class TranslationOptions:
    """What `TranslationPredictor.predict` (and `rnnlab predict` on a translation run) takes."""

    beam_size: int = option(1, "beam width (1: greedy)", min=1, max=MAX_BEAM)


def translations(translator, preprocessor, sentences, beam_size, max_len, length_penalty):
    """`Translation`s of sentences, checked first (see `translate_all` for the arguments).

    Raises:
        InputError: no sentence, an empty or over-long one, or a beam size below 1.
    """
    sentences = list(sentences)
    if not sentences:
        raise InputError("Expected at least one sentence to translate. Received: none.")
    for sentence in sentences:
        if not isinstance(sentence, str) or not sentence.strip():
            raise InputError(f"Expected a non-empty sentence. Received: {sentence!r}")
        if len(sentence) > MAX_CHARS:
            raise InputError(
                f"Expected a sentence of at most {MAX_CHARS} characters. Received: {len(sentence)}; "
                "split long texts into sentences."
            )
    if not isinstance(beam_size, int) or beam_size < 1:
        raise InputError(f"Expected beam_size >= 1. Received: {beam_size!r}")
    texts, details = translate_all(
        translator, preprocessor, sentences, beam_size, max_len, length_penalty, with_attention=True
    )
    results = []
    for sentence, text, (ids, weights, source_ids) in zip(sentences, texts, details, strict=True):
        results.append(
            Translation(
                text,
                preprocessor.target_tokens(ids),
                preprocessor.source_tokens(sentence)[: len(source_ids)],
                weights,
                int(np.count_nonzero(np.asarray(source_ids) == UNK_ID)),
            )
        )
    return results


def line(record, source):
    """`rnnlab predict`'s line: the translation, then the source."""
    return f"{printable(record['translation'])}\t{printable(source)}"


def warnings(record, source):
    """Source pieces never seen in training, as a warning."""
    if not record["unknown_words"]:
        return []
    return [
        f"{record['unknown_words']} piece(s) of {source[:40]!r} were never seen in training "
        "(unknown characters?)"
    ]
