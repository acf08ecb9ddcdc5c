"""Leave-one-speaker-out on FSDD's isolated digits: six trainings, each testing on
every recording of one speaker and training on the other five; writes the
per-speaker test accuracy and their mean.

python benchmarks/speech_loso.py --config recipes/speech/digits.toml --runs runs/loso \
    --output results/speech/digits-loso.json [--epochs 15]
"""

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

from rnnlab.datasets.fsdd import SPEAKERS
from rnnlab.runs import provenance, write_json


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", required=True, help="recipe for every speaker's run")
    parser.add_argument("--runs", required=True, help="folder for the six run folders")
    parser.add_argument("--output", required=True, help="JSON summary to write")
    parser.add_argument("--epochs", type=int, default=None, help="override the recipe's epochs")
    args = parser.parse_args()
    start = time.perf_counter()
    per_speaker = {}
    for speaker in sorted(SPEAKERS):
        run = Path(args.runs) / speaker
        if not (run / "metrics.json").is_file():  # finished runs are kept: the script resumes
            command = [sys.executable, "-m", "rnnlab", "train", "speech", "--config", args.config,
                       "--held-out-speaker", speaker, "--output", str(run)]  # fmt: skip
            if args.epochs:
                command += ["--epochs", str(args.epochs)]
            if Path(f"{run}.partial").is_dir():
                command.append("--resume")
            subprocess.run(command, check=True)
        metrics = json.loads((run / "metrics.json").read_text(encoding="utf-8"))
        per_speaker[speaker] = {
            "test_accuracy": metrics["test_accuracy"],
            "num_test": metrics["num_test"],
            "train_wall_time_s": metrics["train_wall_time_s"],
        }
        print(f"{speaker}: test accuracy {100 * metrics['test_accuracy']:.2f}%", flush=True)
    accuracies = [value["test_accuracy"] for value in per_speaker.values()]
    summary = {
        "task": "speech",
        "split": "leave-one-speaker-out",
        "mean_test_accuracy": sum(accuracies) / len(accuracies),
        "min_test_accuracy": min(accuracies),
        "per_speaker": per_speaker,
        "wall_time_s": round(time.perf_counter() - start, 2),
        **provenance("jax"),
    }
    summary["command"] = " ".join(["python", "benchmarks/speech_loso.py", *sys.argv[1:]])
    write_json(args.output, summary)
    mean = 100 * summary["mean_test_accuracy"]
    print(f"Mean test accuracy over {len(accuracies)} held-out speakers: {mean:.2f}%")


if __name__ == "__main__":
    main()
