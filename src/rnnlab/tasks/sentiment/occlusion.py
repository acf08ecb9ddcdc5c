"""Which words pushed a prediction up or down: occlusion (leave one token out).

For a text with tokens t_1..t_n, the contribution of t_i is

    p(positive | text) - p(positive | text without t_i)

so a positive contribution means the token pushed the prediction towards
'positive'. All n variants are scored in one batch. Tokens before the last
`maxlen` are not seen by the model and contribute exactly 0.
"""

import html
from dataclasses import dataclass

import numpy as np

from rnnlab.runs import write_text
from rnnlab.tasks.sentiment.preprocessor import START
from rnnlab.text.batching import pad_front


@dataclass
class Explanation:
    """A prediction and the contribution of each token to it."""

    text: str
    probability: float
    tokens: list
    contributions: np.ndarray

    @property
    def label(self):
        return "positive" if self.probability >= 0.5 else "negative"

    def top(self, k=5):
        """The k tokens that pushed most towards positive, and towards negative."""
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


def explain(model, preprocessor, text):
    """Occlusion contributions of every token of `text`.

    Returns:
        An `Explanation`.
    """
    tokens, ids = preprocessor.tokens_and_ids(text)
    if len(ids) == 0:
        raise ValueError(f"Expected a text with at least one word to explain. Received: {text!r}")
    maxlen = preprocessor.maxlen
    variants = [np.concatenate([[START], ids])[-maxlen:]]
    for i in range(len(ids)):
        variants.append(np.concatenate([[START], ids[:i], ids[i + 1 :]])[-maxlen:])
    probabilities = model.predict(pad_front(variants, maxlen), verbose=0, batch_size=256)[:, 0]
    contributions = probabilities[0] - probabilities[1:]
    contributions[: max(0, len(ids) - maxlen)] = 0.0  # cut off by maxlen: never seen by the model
    return Explanation(text, float(probabilities[0]), list(tokens), contributions)


def _scale(explanation):
    return float(np.abs(explanation.contributions).max()) or 1.0


def to_terminal(explanation):
    """The text with each token coloured: green pushed up, red pushed down (ANSI 24-bit colour)."""
    scale = _scale(explanation)
    words = []
    for token, value in zip(explanation.tokens, explanation.contributions, strict=True):
        strength = int(255 * min(1.0, abs(value) / scale))
        if abs(value) < 0.05 * scale:
            words.append(token)
        elif value > 0:
            words.append(f"\x1b[48;2;{255 - strength};255;{255 - strength}m\x1b[30m{token}\x1b[0m")
        else:
            words.append(f"\x1b[48;2;255;{255 - strength};{255 - strength}m\x1b[30m{token}\x1b[0m")
    up, down = explanation.top()
    lines = [
        f"{explanation.label} (p_positive={explanation.probability:.4f})",
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
        "<p>Occlusion: each word's colour is p(positive) minus p(positive) without that word. "
        "Green pushed towards positive, red towards negative.</p>",
    ]
    for explanation in explanations:
        scale = _scale(explanation)
        spans = []
        for token, value in zip(explanation.tokens, explanation.contributions, strict=True):
            alpha = min(1.0, abs(value) / scale)
            color = f"rgba(0,160,0,{alpha:.2f})" if value > 0 else f"rgba(220,0,0,{alpha:.2f})"
            spans.append(f"<span style='background:{color}' title='{value:+.4f}'>{html.escape(token)}</span>")
        heading = f"{explanation.label} (p_positive = {explanation.probability:.4f})"
        parts.append(f"<h2>{heading}</h2><p>{' '.join(spans)}</p>")
    write_text(path, "\n".join(parts) + "\n")
