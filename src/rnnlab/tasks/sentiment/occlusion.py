"""Which words pushed a prediction up or down: occlusion (leave one token out).

For a text with tokens t_1..t_n, the contribution of t_i is

    p(y | text) - p(y | text without t_i)

where y is the explained label: a two-label run's second label ('positive'),
or with more labels the predicted one; a positive contribution means the
token pushed the prediction towards y. The preprocessor keeps the last `maxlen` indices (front
truncation), so tokens before the last `maxlen` are not seen by the model and
contribute exactly 0 without being scored: at most `maxlen + 1` copies are
scored, `chunk_size` at a time, so memory and time do not grow with the
square of the text length.
"""

import html
import itertools
from dataclasses import dataclass

import numpy as np

from rnnlab.data.padding import pad as pad_front
from rnnlab.errors import InputError
from rnnlab.runs import write_text
from rnnlab.tasks.base import predict_padded
from rnnlab.tasks.sentiment.preprocessor import START
from rnnlab.text.printable import printable


@dataclass
class Explanation:
    """A prediction and the contribution of each token to it."""

    text: str
    probability: float  # of the explained label
    tokens: list
    contributions: np.ndarray
    label: str = "positive"  # the predicted label
    explained: str = "positive"  # the label whose probability the contributions change

    def to_record(self):
        """The JSON-able part a prediction record adds: `explained`, `tokens` and `contributions`."""
        return {
            "explained": self.explained,
            "tokens": list(self.tokens),
            "contributions": [float(c) for c in self.contributions],
        }

    @classmethod
    def from_record(cls, record, text):
        """The explanation of `text` from its prediction record (`to_record` fields included)."""
        return cls(
            text,
            record["probabilities"][record["explained"]],
            record["tokens"],
            np.asarray(record["contributions"]),
            record["label"],
            record["explained"],
        )

    def top(self, k=5):
        """The k tokens that pushed most towards the explained label, and away from it."""
        order = np.argsort(self.contributions)
        up = [
            (self.tokens[i], float(self.contributions[i]))
            for i in order[::-1][:k]
            if self.contributions[i] > 0
        ]
        down = [
            (self.tokens[i], float(self.contributions[i])) for i in order[:k] if self.contributions[i] < 0
        ]
        return up, down


MAX_WORDS = 10_000  # 4x the longest IMDb review (~2,500 words); bounds tokenising and the output
CHUNK_SIZE = 256  # occluded copies scored per `model.predict` call


def explain(
    model, preprocessor, text, max_words=None, chunk_size=CHUNK_SIZE, labels=("negative", "positive")
):
    """Occlusion contributions of every token of `text`.

    Only the tokens among the last `preprocessor.maxlen` can change the
    prediction (the preprocessor keeps the last `maxlen` indices); they are
    left out one at a time and scored `chunk_size` copies per batch, so memory
    is `chunk_size * maxlen` indices whatever the text length. Earlier tokens
    get exactly 0.

    Args:
        model: a Keras model (or anything with Keras' `predict`) mapping
            `(batch, maxlen)` indices to `(batch, 1)` probabilities of the second label, or
            `(batch, len(labels))` probabilities of each label.
        preprocessor: the run's preprocessor (`tokens_and_ids`, `maxlen`).
        text: the text to explain.
        max_words: longest text accepted, in tokens; None means
            `max(MAX_WORDS, preprocessor.maxlen)`.
        chunk_size: occluded copies scored per `model.predict` call.
        labels: the label names, in the order of the model's outputs (None: the preprocessor's).

    Returns:
        An `Explanation`.

    Example:
    >>> explanation = explain(model, preprocessor, "a wonderful film")  # doctest: +SKIP
    >>> explanation.tokens, explanation.contributions.shape  # doctest: +SKIP
    (['a', 'wonderful', 'film'], (3,))
    """
    if chunk_size < 1:
        raise ValueError(f"Expected chunk_size >= 1. Received: chunk_size={chunk_size}")
    labels = labels or getattr(preprocessor, "labels", ("negative", "positive"))
    maxlen = preprocessor.maxlen
    limit = max(MAX_WORDS, maxlen) if max_words is None else max_words
    tokens, ids = preprocessor.tokens_and_ids(text)
    n = len(ids)
    if n == 0:
        raise InputError(f"Expected a text with at least one word to explain. Received: {text!r}")
    if n > limit:
        raise InputError(
            f"Expected a text of at most {limit} tokens to explain. Received: {n} tokens. "
            f"The model reads only the last {maxlen}; explain that part of the text."
        )
    first = max(0, n - maxlen)  # tokens before this one never reach the model
    copies = _occluded_copies(np.concatenate([[START], ids]).astype(np.int32), maxlen, first)
    outputs = []
    while chunk := list(itertools.islice(copies, chunk_size)):
        batch = pad_front(chunk, maxlen)  # (len(chunk), maxlen)
        outputs.append(predict_padded(model, batch, chunk_size))  # few shapes compiled
    outputs = np.concatenate(outputs)  # (1 + n - first, outputs)
    if outputs.shape[1] == 1:  # P(second label)
        column, label = 0, labels[int(outputs[0, 0] >= 0.5)]
        explained = labels[1]
    else:
        column = int(np.argmax(outputs[0]))
        label = explained = labels[column]
    probabilities = outputs[:, column]
    contributions = np.zeros(n, dtype=probabilities.dtype)
    contributions[first:] = probabilities[0] - probabilities[1:]
    return Explanation(text, float(probabilities[0]), list(tokens), contributions, label, explained)


def _occluded_copies(sequence, maxlen, first):
    """Yields what the model sees of `sequence` (START then the n token ids), then of each copy
    without token `i` for `i` in `first..n-1`; each at most `maxlen` long, built on demand."""
    yield sequence[-maxlen:]
    tail = sequence[-(maxlen + 1) :]  # a copy's last maxlen indices all come from here
    offset = len(sequence) - len(tail)
    for i in range(first, len(sequence) - 1):
        yield np.delete(tail, i + 1 - offset)[-maxlen:]


def _scale(explanation):
    return float(np.abs(explanation.contributions).max()) or 1.0


def to_terminal(explanation):
    """The text with each token coloured: green pushed up, red pushed down (ANSI 24-bit colour)."""
    scale = _scale(explanation)
    words = []
    for token, value in zip(explanation.tokens, explanation.contributions, strict=True):
        token = printable(token)
        strength = int(255 * min(1.0, abs(value) / scale))
        if abs(value) < 0.05 * scale:
            words.append(token)
        elif value > 0:
            words.append(f"\x1b[48;2;{255 - strength};255;{255 - strength}m\x1b[30m{token}\x1b[0m")
        else:
            words.append(f"\x1b[48;2;255;{255 - strength};{255 - strength}m\x1b[30m{token}\x1b[0m")
    up, down = explanation.top()
    lines = [
        f"{explanation.label} (p_{explanation.explained}={explanation.probability:.4f})",
        " ".join(words),
        "pushed up:   " + ", ".join(f"{t} {v:+.3f}" for t, v in up),
        "pushed down: " + ", ".join(f"{t} {v:+.3f}" for t, v in down),
    ]
    return "\n".join(lines)


def to_html(explanations, path):
    """Writes the explanations as one HTML page (temp file, then rename)."""
    parts = [
        "<!doctype html><meta charset='utf-8'><title>rnnlab: why this prediction</title>",
        "<style>body{font-family:sans-serif;max-width:60em;margin:2em auto;line-height:1.8}"
        "span{padding:0 2px;border-radius:3px}</style>",
        "<h1>Which words pushed the prediction</h1>",
        "<p>Occlusion: each word's colour is the probability of the label named in the heading minus "
        "that probability without the word. Green pushed towards that label, red away from it.</p>",
    ]
    for explanation in explanations:
        scale = _scale(explanation)
        spans = []
        for token, value in zip(explanation.tokens, explanation.contributions, strict=True):
            alpha = min(1.0, abs(value) / scale)
            color = f"rgba(0,160,0,{alpha:.2f})" if value > 0 else f"rgba(220,0,0,{alpha:.2f})"
            spans.append(f"<span style='background:{color}' title='{value:+.4f}'>{html.escape(token)}</span>")
        label, explained = html.escape(explanation.label), html.escape(explanation.explained)
        heading = f"{label} (p_{explained} = {explanation.probability:.4f})"
        parts.append(f"<h2>{heading}</h2><p>{' '.join(spans)}</p>")
    write_text(path, "\n".join(parts) + "\n")
