"""The gradient lab's figures: what each cell reached per length, and ||dL/dh_t|| against t."""

from rnnlab.io import atomic_path
from rnnlab.lab import problems

STYLES = {"initial": ":", "trained": "-"}


def save_figure(figure, path):
    import matplotlib.pyplot as plt

    with atomic_path(path) as tmp:
        figure.savefig(tmp, dpi=100, format="png")
    plt.close(figure)


def draw_all(record, output):
    """Writes `gradients-<problem>-results.png` and `gradients-<problem>-norms.png` per problem;
    returns their paths."""
    import matplotlib

    matplotlib.use("Agg")
    paths = []
    for problem in record["config"]["problems"]:
        results = [r for r in record["results"] if r["problem"] == problem]
        paths.append(results_by_length(results, problem, output / f"gradients-{problem}-results.png"))
        paths.append(norms_over_time(results, problem, output / f"gradients-{problem}-norms.png"))
    return paths


def results_by_length(results, problem, path):
    """Test loss (and the copy task's recall accuracy) against sequence length, per variant."""
    import matplotlib.pyplot as plt

    metrics = ["loss"] + (["recall_accuracy"] if problem == "copy" else [])
    figure, axes = plt.subplots(1, len(metrics), figsize=(5.5 * len(metrics), 4), squeeze=False)
    variants = list(dict.fromkeys(r["variant"] for r in results))
    for axis, metric in zip(axes[0], metrics, strict=True):
        for variant in variants:
            points = sorted((r["length"], r["test"][metric]) for r in results if r["variant"] == variant)
            axis.plot(*zip(*points, strict=True), "o-", label=variant)
        if problem == "adding":
            axis.axhline(problems.ADDING_BASELINE_MSE, color="gray", linestyle="--", label="predict 1.0")
            axis.set_yscale("log")
        elif metric == "recall_accuracy":
            axis.axhline(1 / problems.COPY_SYMBOLS, color="gray", linestyle="--", label="chance")
        axis.set_xscale("log")
        axis.set_xlabel("sequence length" if problem == "adding" else "delay (steps)")
        axis.set_ylabel(f"test {metric.replace('_', ' ')}")
        axis.grid(alpha=0.3, which="both")
        axis.legend(fontsize=8)
    figure.suptitle(f"{problem}: what each cell learns, by length")
    figure.tight_layout()
    save_figure(figure, path)
    return path


def norms_over_time(results, problem, path):
    """||dL/dh_t|| against t at the longest length, initial (dotted) and trained (solid), Keras'
    autodiff (lines) and the NumPy reference (crosses)."""
    import matplotlib.pyplot as plt

    longest = max(r["length"] for r in results)
    chosen = [r for r in results if r["length"] == longest]
    figure, axis = plt.subplots(figsize=(8, 4.5))
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for index, result in enumerate(chosen):
        color = colors[index % len(colors)]
        for stage, style in STYLES.items():
            norms = result["gradient_norms"][stage]
            label = f"{result['variant']} ({stage})"
            axis.plot(range(1, len(norms["keras"]) + 1), norms["keras"], style, color=color, label=label)
            if stage == "trained" and "reference" in norms:
                every = max(1, len(norms["reference"]) // 20)
                steps = list(range(1, len(norms["reference"]) + 1))[::every]
                axis.plot(steps, norms["reference"][::every], "x", color=color, markersize=4)
    axis.set_yscale("log")
    axis.set_xlabel("step t")
    axis.set_ylabel("||dL/dh_t||")
    axis.grid(alpha=0.3, which="both")
    axis.legend(fontsize=7, ncol=2)
    axis.set_title(f"{problem}, {longest} steps: gradient reaching each step (x: NumPy BPTT)")
    figure.tight_layout()
    save_figure(figure, path)
    return path
