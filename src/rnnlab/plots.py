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
    figure, axes = plt.subplots(1, 2, figsize=(10, 4))
    for axis, metric in zip(axes, ("loss", "accuracy"), strict=False):
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
