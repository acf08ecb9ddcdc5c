"""A classifier's outputs as prediction records, and how `rnnlab predict` prints them. No Keras:
the run's predictor and an exported model's runtime (`rnnlab.export.runtime`) share them.

Example:
>>> import numpy as np
>>> [p.label for p in predictions(np.array([[0.8], [0.1]]), [3, 0], ("negative", "positive"))]
['positive', 'negative']
"""

import dataclasses

import numpy as np

from rnnlab.errors import InputError
from rnnlab.text.printable import printable


@dataclasses.dataclass
class Prediction:
    """One text's prediction.

    Attributes:
        label: the predicted label ('positive' or 'negative' for IMDb).
        probability: a two-label run's probability of its second label (P(positive) for IMDb);
            with more labels, the predicted label's.
        known_words: how many of its tokens the vocabulary knows (0: the
            prediction only reflects the model's bias).
        probabilities: every label's probability.
    """

    label: str
    probability: float
    known_words: int
    probabilities: dict


def check_texts(texts):
    """`texts` as a list of one or more str.

    Raises:
        InputError: no text, or one that is not a str.
    """
    texts = list(texts)
    if not texts:
        raise InputError("Expected at least one text to classify. Received: none.")
    for text in texts:
        if not isinstance(text, str):
            raise InputError(f"Expected texts as str. Received: {type(text).__name__}")
    return texts


def predictions(outputs, known, labels):
    """`Prediction`s from a classifier's outputs: `(n, 1)` P(second label) for two labels, else
    `(n, labels)` probabilities; `known` counts each text's known tokens."""
    found = []
    for row, count in zip(np.asarray(outputs), known, strict=True):
        if len(labels) == 2:
            p = float(row[0])
            label, probabilities = labels[int(p >= 0.5)], {labels[0]: 1.0 - p, labels[1]: p}
        else:
            best = int(np.argmax(row))
            label, p = labels[best], float(row[best])
            probabilities = {name: float(q) for name, q in zip(labels, row, strict=True)}
        found.append(Prediction(label, p, int(count), probabilities))
    return found


def line(record, source):
    """The terminal line of a record: label, probability, the text (and every label's, for 3+)."""
    if len(record["probabilities"]) == 2:
        return f"{record['label']}\t{record['probability']:.4f}\t{printable(source)}"
    others = "  ".join(f"{label} {p:.4f}" for label, p in record["probabilities"].items())
    return f"{record['label']}\t{record['probability']:.4f}\t{printable(source)}\t({others})"


def warnings(record, source):
    """Warnings for a record: none of its words is known."""
    if record["known_words"]:
        return []
    return [
        f"none of the words of {source[:40]!r} is in the model's vocabulary (another language?); "
        "its prediction means nothing."
    ]
