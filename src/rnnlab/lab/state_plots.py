"""Figures of `rnnlab lab states`: a sentiment model word by word, and language-model units
coloured over text (Karpathy et al., 2015)."""

import html

import numpy as np

from rnnlab.lab.plots import save_figure
from rnnlab.runs import write_text


def _labels(tokens, most=80):
    """Tick labels: every token, or every k-th when there are more than `most`."""
    every = max(1, -(-len(tokens) // most))
    return [(i, token) for i, token in enumerate(tokens) if i % every == 0]


def sentiment_figure(trace, path, units=24, title=""):
    """P(positive) after each word (top) and the `units` most varying units of the last
    layer's h_t over the words (bottom)."""
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


def _display(char):
    return {"\n": "↵", " ": "·"}.get(char, char)


def unit_text_figure(tokens, panels, path, columns=80, rows=8):
    """Characters coloured by a unit's activation (blue negative, red positive), one panel per
    `(title, activations (steps,))`; the first `columns * rows` tokens, wrapped at newlines."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(len(panels), 1, figsize=(columns * 0.13, len(panels) * (rows * 0.28 + 0.5)))
    axes = np.atleast_1d(axes)
    cmap = plt.get_cmap("RdBu_r")
    for axis, (title, values) in zip(axes, panels, strict=True):
        scale = float(np.abs(values).max()) or 1.0
        row = column = 0
        for token, value in zip(tokens, values, strict=False):
            for char in token:
                if row >= rows:
                    break
                color = cmap(0.5 + 0.5 * float(value) / scale)
                axis.add_patch(plt.Rectangle((column, -row - 1), 1, 1, color=color, linewidth=0))
                axis.text(column + 0.5, -row - 0.5, _display(char), ha="center", va="center",
                          fontsize=7, family="monospace")  # fmt: skip
                column += 1
                if char == "\n" or column >= columns:
                    row, column = row + 1, 0
        axis.set_xlim(0, columns)
        axis.set_ylim(-rows, 0)
        axis.axis("off")
        axis.set_title(title, fontsize=9, loc="left")
    figure.tight_layout()
    save_figure(figure, path)
    return path


def unit_text_html(tokens, panels, path):
    """The same colouring as `unit_text_figure` over the whole text, as one HTML page
    (temp file, then rename); hovering a token shows its activation."""
    parts = [
        "<!doctype html><meta charset='utf-8'><title>rnnlab: units over text</title>",
        "<style>body{font-family:sans-serif;margin:2em}pre{font-family:monospace;white-space:pre-wrap;"
        "line-height:1.5}</style>",
        "<h1>What single units of a language model track</h1>",
        "<p>Each character's background: the unit's activation after reading it (red positive, "
        "blue negative).</p>",
    ]
    for title, values in panels:
        scale = float(np.abs(values).max()) or 1.0
        spans = []
        for token, value in zip(tokens, values, strict=False):
            strength = min(1.0, abs(float(value)) / scale)
            color = f"rgba(220,0,0,{strength:.2f})" if value > 0 else f"rgba(0,60,220,{strength:.2f})"
            tip = f"{float(value):+.3f}"
            spans.append(f"<span style='background:{color}' title='{tip}'>{html.escape(token)}</span>")
        parts.append(f"<h2>{html.escape(title)}</h2><pre>{''.join(spans)}</pre>")
    write_text(path, "\n".join(parts) + "\n")
    return path
