"""Figures of `rnnlab lab states`: units coloured over text (Karpathy et al., 2015)."""

import html

import numpy as np

from rnnlab.lab.plots import save_figure
from rnnlab.runs import write_text


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
