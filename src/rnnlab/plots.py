"""Plots that teach: learning curves now; gradients, attention and hidden states next."""

from rnnlab.io import atomic_path


def learning_curve(history, path, title="", test_metrics=None):
    """Saves loss and accuracy per epoch (train and validation) as a PNG.

    Args:
        history: dict metric -> list per epoch, as `keras.callbacks.History.history`.
        path: where to write the PNG (through a temp file and a rename).
        title: figure title.
        test_metrics: optional `{"loss": ..., "accuracy": ...}` drawn as
            dashed lines, to show the gap between validation and test.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    epochs = range(1, len(history["loss"]) + 1)
    metrics = [m for m in ("loss", "accuracy") if m in history]
    figure, axes = plt.subplots(1, len(metrics), figsize=(5 * len(metrics), 4), squeeze=False)
    for axis, metric in zip(axes[0], metrics, strict=True):
        axis.plot(epochs, history[metric], "o-", label=f"train {metric}")
        if f"val_{metric}" in history:
            axis.plot(epochs, history[f"val_{metric}"], "s-", label=f"validation {metric}")
        if test_metrics and metric in test_metrics:
            axis.axhline(test_metrics[metric], linestyle="--", color="gray", label=f"test {metric}")
        axis.set_xlabel("epoch")
        axis.xaxis.set_major_locator(MaxNLocator(integer=True))
        axis.set_ylabel(metric)
        axis.grid(alpha=0.3)
        axis.legend()
    figure.suptitle(title)
    figure.tight_layout()
    with atomic_path(path) as tmp:
        figure.savefig(tmp, dpi=100, format="png")
    plt.close(figure)


def attention_heatmap(weights, source_tokens, target_tokens, path, title=""):
    """Saves a translation's attention weights as a heatmap PNG.

    Args:
        weights: `(target_steps, source_steps)`: row t is the distribution over
            source tokens when target token t was produced.
        source_tokens, target_tokens: the axis labels.
        path: where to write the PNG (through a temp file and a rename).
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows, cols = len(target_tokens), len(source_tokens)
    figure, axis = plt.subplots(figsize=(max(4, 0.5 * cols + 2), max(3, 0.4 * rows + 2)))
    image = axis.imshow(weights[:rows, :cols], cmap="viridis", vmin=0.0, vmax=1.0, aspect="auto")
    axis.set_xticks(range(cols), source_tokens, rotation=60, ha="right")
    axis.set_yticks(range(rows), target_tokens)
    axis.set_xlabel("source")
    axis.set_ylabel("translation")
    figure.colorbar(image, ax=axis, fraction=0.046)
    axis.set_title(title)
    figure.tight_layout()
    with atomic_path(path) as tmp:
        figure.savefig(tmp, dpi=100, format="png")
    plt.close(figure)
