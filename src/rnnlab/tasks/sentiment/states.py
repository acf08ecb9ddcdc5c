"""A sentiment run word by word (`rnnlab lab states`, article 3.1): the units of h_t after each
word, and P(positive) had the review stopped there (the model's own prediction for each prefix).
The step-by-step replay is `rnnlab.lab.states`'.

    rnnlab lab states runs/gru-fast --output results/lab --text "a fine film"
"""

import dataclasses

import numpy as np

from rnnlab.data.padding import pad as pad_front
from rnnlab.errors import InputError
from rnnlab.lab.plots import save_figure
from rnnlab.lab.states import layer_shapes, stack_states
from rnnlab.tasks.base import predict_padded
from rnnlab.tasks.sentiment.preprocessor import START


@dataclasses.dataclass
class SentimentTrace:
    """What a sentiment model does word by word.

    Attributes:
        tokens: the tokens the model reads (`[START]` first when it fits in `maxlen`).
        probabilities: `(steps,)`: P(positive) for the text cut after each token.
        layers: a `LayerStates` per recurrent layer, batch of one.
    """

    tokens: list
    probabilities: np.ndarray
    layers: list


def sentiment_trace(predictor, text):
    """The states and running P(positive) of a sentiment run (`SentimentPredictor`) on `text`.

    Only what the model reads is traced: the last `maxlen` tokens (with `[START]` first).
    An unmasked model reads front padding first, and a prefix gets more of it than the
    whole text, so its P(positive) for a prefix can differ slightly from the output
    layer applied to that step's h_t; a masked model's are equal.

    Example:
    >>> trace = sentiment_trace(SentimentPredictor("runs/gru-fast"), "a fine film")  # doctest: +SKIP
    >>> trace.tokens, trace.probabilities.shape  # doctest: +SKIP
    (['[START]', 'a', 'fine', 'film'], (4,))
    """
    if not isinstance(text, str):
        raise InputError(f"Expected a text (str). Received: {type(text).__name__}")
    tokens, ids = predictor.preprocessor.tokens_and_ids(text)
    if len(ids) == 0:
        raise InputError(
            "Expected a text with at least one word the run's tokenizer reads (IMDb runs read English "
            f"words or subwords). Received: {text[:80]!r}"
        )
    maxlen = predictor.preprocessor.maxlen
    read = np.concatenate([[START], ids]).astype("int32")[-maxlen:]
    shown = (["[START]", *tokens])[-maxlen:]
    prefixes = pad_front([read[: t + 1] for t in range(len(read))], maxlen)
    probabilities = predict_padded(predictor.model, prefixes)[:, 0]
    masked = bool(getattr(predictor.model.get_layer("embedding"), "mask_zero", False))
    steps = read[None] if masked else pad_front([read], maxlen)  # as the model reads it
    layers = stack_states(predictor.model, steps)
    for layer in layers:  # keep the steps of the text itself
        layer.states = {name: s[:, -len(read) :] for name, s in layer.states.items()}
        layer.outputs = layer.outputs[:, -len(read) :]
    return SentimentTrace(list(shown), probabilities, layers)


def states_record(predictor, text, output):
    """Draws `states-sentiment.png` into `output`; returns the record's fields: the running
    P(positive), the five words that move it most, the layers' shapes."""
    trace = sentiment_trace(predictor, text)
    figure = trace_figure(trace, output / "states-sentiment.png")
    swings = np.diff(trace.probabilities)
    order = np.argsort(np.abs(swings))[::-1][:5]
    return {
        "text": text,
        "tokens": trace.tokens,
        "probabilities": [round(float(p), 6) for p in trace.probabilities],
        "probability": float(trace.probabilities[-1]),
        "largest_changes": [
            {"token": trace.tokens[i + 1], "position": int(i + 1), "change": round(float(swings[i]), 6)}
            for i in order
        ],
        "layers": layer_shapes(trace.layers),
        "figures": [figure.name],
    }


def _labels(tokens, most=80):
    """Tick labels: every token, or every k-th when there are more than `most`."""
    every = max(1, -(-len(tokens) // most))
    return [(i, token) for i, token in enumerate(tokens) if i % every == 0]


def trace_figure(trace, path, units=24, title=""):
    """P(positive) after each word (top) and the `units` most varying units of the last
    layer's h_t over the words (bottom) of a `SentimentTrace`."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    states = trace.layers[-1].states
    h = states.get("h", states.get("forward_h"))[0]  # (steps, units)
    chosen = np.argsort(h.std(0))[::-1][:units]
    width = min(24, max(8, 0.22 * len(trace.tokens)))
    figure, (top, bottom) = plt.subplots(
        2, 1, figsize=(width, 7), sharex=True, gridspec_kw={"height_ratios": [1, 2]}
    )
    steps = np.arange(len(trace.tokens))
    top.plot(steps, trace.probabilities, "o-", markersize=3)
    top.axhline(0.5, color="gray", linestyle="--", linewidth=1)
    top.set_ylim(0, 1)
    top.set_ylabel("P(positive)\nif cut here")
    top.grid(alpha=0.3)
    image = bottom.imshow(h[:, chosen].T, aspect="auto", cmap="RdBu_r", vmin=-1, vmax=1, interpolation="none")
    bottom.set_yticks(range(len(chosen)), [str(u) for u in chosen], fontsize=6)
    bottom.set_ylabel(f"unit of h_t ({trace.layers[-1].name}, {len(chosen)} most varying)")
    ticks = _labels(trace.tokens)
    bottom.set_xticks([i for i, _ in ticks], [t for _, t in ticks], rotation=90, fontsize=7)
    figure.colorbar(image, ax=bottom, fraction=0.02, pad=0.01)
    figure.suptitle(title or "Reading a review word by word")
    figure.tight_layout()
    save_figure(figure, path)
    return path
