"""One process against N (`rnnlab launch`): the same training, the same global batch; records
each run's training time, its examples per second, and how far their losses are apart.

python benchmarks/processes.py --runs runs/processes --output results/scaling/sentiment-2-processes.json \
    -- train sentiment --limit 2000 --epochs 1
"""

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

from rnnlab.runs import provenance, write_json


def run(command, output):
    """Runs `python -m rnnlab COMMAND --output OUTPUT` unless it finished before; its metrics."""
    if not (output / "metrics.json").is_file():
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "rnnlab", *command, "--output", str(output)], check=True)
        print(f"{output}: {time.perf_counter() - start:.1f} s", flush=True)
    return json.loads((output / "metrics.json").read_text(encoding="utf-8"))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", required=True, help="folder for the two run folders")
    parser.add_argument("--output", required=True, help="JSON record to write")
    parser.add_argument("--processes", type=int, default=2, help="processes of the second run")
    parser.add_argument("--note", default="", help="for the record")
    args, command = parser.parse_known_args()
    command = [part for part in command if part != "--"]
    if not command or command[0] != "train":
        parser.error("give the training command after --, e.g. -- train sentiment --limit 2000")
    runs = Path(args.runs)
    single = run(command, runs / "one-process")
    launched = run(["launch", "--processes", str(args.processes), "--", *command], runs / "processes")

    def speed(metrics):
        return {
            "num_processes": metrics["num_processes"],
            "num_devices": metrics["num_devices"],
            "train_wall_time_s": metrics["train_wall_time_s"],
            "train_examples_per_s": round(
                metrics["num_train"] * metrics["epochs_run"] / metrics["train_wall_time_s"], 1
            ),
            "loss": metrics["history"]["loss"],
            "test": metrics["test"],
        }

    record = {
        "task": single["task"],
        "one_process": speed(single),
        "processes": speed(launched),
        "speedup": round(single["train_wall_time_s"] / launched["train_wall_time_s"], 3),
        "max_loss_difference": max(
            abs(a - b) for a, b in zip(single["history"]["loss"], launched["history"]["loss"], strict=True)
        ),
        **provenance("jax"),
        "note": args.note,
    }
    record["command"] = " ".join(["python", "benchmarks/processes.py", *sys.argv[1:]])
    write_json(args.output, record)
    print(json.dumps({k: record[k] for k in ("speedup", "max_loss_difference")}))


if __name__ == "__main__":
    main()
