"""Same accuracy within noise? The article's run with FastRNN and with Keras' layers, several seeds.

Runs `rnnlab train sentiment` (article defaults: SimpleRNN(64), 10 epochs) once
per seed with the default FastRNN layers and once with `--no-fast-layers`, one
after the other, and records every run's test accuracy, best validation
accuracy and training time, the means and standard deviations, and the
per-seed differences. With the same seed both start from the same weights.

    python benchmarks/fast_vs_stock_accuracy.py --seeds 0 1 2 --output results/sentiment/fast-vs-stock.json
"""

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

from rnnlab import runs

VARIANTS = {"fast": [], "stock": ["--no-fast-layers"]}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--cell", default="simple", choices=["simple", "lstm", "gru"])
    parser.add_argument("--runs-dir", default="runs/fast-vs-stock")
    parser.add_argument("--output")
    args = parser.parse_args()
    start = time.perf_counter()
    records = {name: [] for name in VARIANTS}
    for seed in args.seeds:
        for name, flags in VARIANTS.items():
            folder = Path(args.runs_dir) / f"{args.cell}-{name}-seed{seed}"
            command = [sys.executable, "-m", "rnnlab", "train", "sentiment", "--cell", args.cell]
            command += ["--seed", str(seed), *flags, "--output", str(folder), "--overwrite"]
            print(" ".join(command[2:]), flush=True)
            subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
            metrics = json.loads((folder / "metrics.json").read_text())
            records[name].append(
                {
                    "seed": seed,
                    "test_accuracy": metrics["test_accuracy"],
                    "best_val_accuracy": metrics["best_val_accuracy"],
                    "train_wall_time_s": metrics["train_wall_time_s"],
                }
            )
            print(f"  {name} seed {seed}: test {metrics['test_accuracy']:.4f}", flush=True)
    summary = {}
    for name, rows in records.items():
        for key in ("test_accuracy", "best_val_accuracy", "train_wall_time_s"):
            values = [row[key] for row in rows]
            summary[f"{name}_{key}_mean"] = statistics.mean(values)
            summary[f"{name}_{key}_std"] = statistics.stdev(values) if len(values) > 1 else 0.0
    differences = [
        f["test_accuracy"] - s["test_accuracy"]
        for f, s in zip(records["fast"], records["stock"], strict=True)
    ]
    summary["test_accuracy_difference_per_seed"] = differences
    result = {"cell": args.cell, "seeds": args.seeds, "runs": records, "summary": summary}
    result.update(runs.provenance("jax"))
    result["wall_time_s"] = round(time.perf_counter() - start, 1)
    print(json.dumps(summary, indent=2))
    if args.output:
        runs.write_json(args.output, result)


if __name__ == "__main__":
    main()
