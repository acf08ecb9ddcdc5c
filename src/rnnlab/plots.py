"""Plots that teach: learning curves, attention, speech features and CTC alignments."""

import numpy as np

from rnnlab.audio.features import log_mel_spectrogram, mfcc_features
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


def confusion_matrix(counts, labels, path, title=""):
    """Saves a classifier's confusion matrix as a PNG: one row per true label, one column per
    predicted label; each cell shows its count and its share of the row (the label's recall on
    the diagonal), coloured by that share.

    Args:
        counts: `(labels, labels)` integers, `counts[true][predicted]`.
        labels: the label names, in the order of the rows.
        path: where to write the PNG (through a temp file and a rename).
        title: figure title.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    counts = np.asarray(counts)
    shares = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)
    size = len(labels)
    figure, axis = plt.subplots(figsize=(max(4.5, 1.1 * size + 2.5), max(4, 1.0 * size + 2)))
    image = axis.imshow(shares, cmap="Blues", vmin=0.0, vmax=1.0)
    for row in range(size):
        for column in range(size):
            colour = "white" if shares[row, column] > 0.6 else "black"
            axis.text(column, row, f"{counts[row, column]}\n{shares[row, column]:.0%}",
                      ha="center", va="center", color=colour, fontsize=9)  # fmt: skip
    axis.set_xticks(range(size), labels, rotation=30, ha="right")
    axis.set_yticks(range(size), labels)
    axis.set_xlabel("predicted")
    axis.set_ylabel("true")
    accuracy = np.trace(counts) / max(counts.sum(), 1)
    axis.set_title(f"{title}\naccuracy {accuracy:.1%} on {counts.sum()} test examples".strip())
    figure.colorbar(image, ax=axis, fraction=0.046, label="share of the true label")
    figure.tight_layout()
    with atomic_path(path) as tmp:
        figure.savefig(tmp, dpi=100, format="png")
    plt.close(figure)


def details(details, folder, suffix="", title=""):
    """Draws what a task's `test_details` holds that has a figure: `confusion_matrix` ->
    `folder/confusion_matrix{suffix}.png`."""
    if "confusion_matrix" in details:
        matrix = details["confusion_matrix"]
        confusion_matrix(matrix["counts"], matrix["labels"], folder / f"confusion_matrix{suffix}.png", title)


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


def speech_outputs(transcription, settings, path, title="", labels=None):
    """Saves a speech prediction as a PNG: the log-mel spectrogram, the MFCC features, and
    the model's output (digit probabilities, or the CTC posteriors of every step: the
    alignment of each label to the frames where it fires).

    Args:
        transcription: an `rnnlab.tasks.speech.decoding.Transcription`.
        settings: the run's `rnnlab.audio.FeatureSettings`.
        path: where to write the PNG (through a temp file and a rename).
        title: the figure's title.
        labels: the names of the CTC labels after the blank (default: the digits 0-9).
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    unstacked = type(settings)(**{**settings.to_dict(), "stack": 1})
    spectrogram = log_mel_spectrogram(transcription.audio, settings)
    mfcc = mfcc_features(transcription.audio, unstacked)
    seconds = len(transcription.audio) / settings.sample_rate
    figure, axes = plt.subplots(3, 1, figsize=(9, 8), gridspec_kw={"height_ratios": [2, 2, 1.6]})
    extent = (0, seconds)
    axes[0].imshow(
        spectrogram.T, origin="lower", aspect="auto", cmap="magma", extent=(*extent, 0, spectrogram.shape[1])
    )
    axes[0].set_ylabel("mel band")
    axes[0].set_title(f"{title}: heard {transcription.text!r}")
    axes[1].imshow(mfcc.T, origin="lower", aspect="auto", cmap="coolwarm", extent=(*extent, 0, mfcc.shape[1]))
    axes[1].set_ylabel("MFCC (+ deltas)")
    probabilities = np.asarray(transcription.probabilities)
    if probabilities.ndim == 1:  # a digit
        axes[2].bar(range(len(probabilities)), probabilities, color="tab:blue")
        axes[2].set_xticks(range(len(probabilities)))
        axes[2].set_xlabel("digit")
        axes[2].set_ylabel("probability")
        axes[2].set_ylim(0, 1)
    else:  # CTC: one line per label, the blank shaded
        times = (np.arange(len(probabilities)) + 0.5) * seconds / len(probabilities)
        axes[2].fill_between(times, probabilities[:, 0], color="lightgray", label="blank")
        names = (
            [str(d) for d in range(10)] if labels is None else [c if c != " " else "space" for c in labels]
        )
        colours = plt.get_cmap("tab10" if len(names) <= 10 else "tab20")
        for index, name in enumerate(names):
            axes[2].plot(times, probabilities[:, index + 1], color=colours(index % 20), label=name)
        axes[2].set_xlim(*extent)
        axes[2].set_ylim(0, 1.02)
        axes[2].set_ylabel("P(label | step)")
        axes[2].legend(
            ncol=min(len(names) + 1, 12), fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.25)
        )
    axes[1].set_xlabel("seconds")
    figure.tight_layout()
    with atomic_path(path) as tmp:
        figure.savefig(tmp, dpi=100, format="png")
    plt.close(figure)
