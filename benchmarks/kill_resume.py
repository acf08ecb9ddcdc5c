"""Kills `rnnlab train` with SIGKILL at random moments, resumes each run with
`--resume`, and compares the final weights with an uninterrupted run.

    python benchmarks/kill_resume.py --trials 20 --output results/resume/kill-resume.json

Each trial starts the same training command and kills it after a random
delay: in three trials of four, drawn uniformly over the training phase (from
the first "Epoch" line to the end of the uninterrupted run: kills land in
training steps, checkpoint writes, evaluation, saving and the final swap); in
the others, over the whole process (loading data too). It then runs the
command again with `--resume` (killing that one too in some trials) until it
finishes. The
final `model.keras` weights are compared with the reference run's, bitwise
and by their largest absolute difference.
"""

import argparse
import io
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
from pathlib import Path

import h5py
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from rnnlab import runs  # noqa: E402

TRAIN = [
    "train", "sentiment", "--limit", "8000", "--epochs", "4", "--checkpoint-every", "10",
    "--steps-per-execution", "4",
]  # fmt: skip


def weights(run):
    """Every weight array of a run's `model.keras`, by name."""
    with zipfile.ZipFile(run / "model.keras") as archive:
        data = archive.read("model.weights.h5")
    found = {}
    with h5py.File(io.BytesIO(data)) as f:
        f.visititems(
            lambda name, obj: found.__setitem__(name, obj[()]) if isinstance(obj, h5py.Dataset) else None
        )
    return found


def start(output, extra=()):
    command = [sys.executable, "-m", "rnnlab", *TRAIN, "--output", str(output), *extra]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)


def run_until(process, delay, after_training_starts):
    """Lets `process` run for `delay` s (counted from its first "Epoch" line if asked), then
    kills it; returns (output, killed). Sets `process.returncode`."""
    lines = []
    if after_training_starts:
        for line in process.stdout:
            lines.append(line)
            if line.startswith("Epoch ") or line.startswith("Resuming from checkpoint"):
                break
    reader = threading.Thread(target=lambda: lines.extend(process.stdout))
    reader.start()
    try:
        process.wait(timeout=delay)
        killed = False
    except subprocess.TimeoutExpired:
        process.kill()
        killed = True
    process.wait()
    reader.join()
    return "".join(lines), killed


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--output", default="results/resume/kill-resume.json")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    work = Path(tempfile.mkdtemp(prefix="kill-resume-"))
    try:
        began = time.perf_counter()
        done = start(work / "reference")
        log, training_began = [], None
        for line in done.stdout:
            log.append(line)
            if training_began is None and line.startswith("Epoch "):
                training_began = time.perf_counter()
        done.wait()
        if done.returncode != 0:
            sys.exit("reference run failed:\n" + "".join(log)[-3000:])
        reference_seconds = time.perf_counter() - began
        training_seconds = time.perf_counter() - training_began
        reference = weights(work / "reference")
        print(f"reference run: {reference_seconds:.1f} s, of which training onwards {training_seconds:.1f} s")
        trials = []
        for trial in range(args.trials):
            output = work / f"trial-{trial}"
            kills, resumed_from, attempts = [], [], 0
            extra = ()
            while True:
                attempts += 1
                process = start(output, extra)
                if attempts == 1:  # always killed: a shorter delay when the run ended first
                    during_training = trial % 4 != 3
                    delay = rng.uniform(0.05, training_seconds if during_training else reference_seconds)
                    out, killed = run_until(process, delay, during_training)
                    while not killed:
                        shutil.rmtree(output)
                        delay /= 2
                        out, killed = run_until(start(output), delay, during_training)
                    kills.append(
                        {"after_s": round(delay, 2), "from": "training" if during_training else "start"}
                    )
                    process.returncode = -9
                elif attempts <= 3 and rng.random() < 1 / 3:  # some resumed runs are killed too
                    delay = rng.uniform(0.05, training_seconds)
                    out, killed = run_until(process, delay, True)
                    if killed:
                        kills.append({"after_s": round(delay, 2), "from": "training"})
                else:
                    out = process.communicate()[0]
                for line in out.splitlines():
                    if line.startswith("Resuming from checkpoint"):
                        resumed_from.append(line.split(": ", 1)[1])
                if process.returncode == 0:
                    break
                if process.returncode not in (-9,):
                    sys.exit(f"trial {trial}: exit {process.returncode}:\n{out[-3000:]}")
                extra = ("--resume",)
            final = weights(output)
            same_names = sorted(final) == sorted(reference)
            diffs = [
                float(np.max(np.abs(final[k] - reference[k]))) if final[k].size else 0.0 for k in reference
            ]
            equal = same_names and all(np.array_equal(final[k], reference[k]) for k in reference)
            leftovers = sorted(p.name for p in work.iterdir() if p.name.startswith(output.name + "."))
            trials.append(
                {
                    "trial": trial,
                    "kills": kills,
                    "attempts": attempts,
                    "resumed_from": resumed_from,
                    "bitwise_equal": equal,
                    "max_abs_diff": max(diffs),
                    "leftover_folders": leftovers,
                }
            )
            print(json.dumps(trials[-1]))
            shutil.rmtree(output)
        record = {
            "command": "python benchmarks/kill_resume.py " + " ".join(sys.argv[1:]),
            "train_command": "rnnlab " + " ".join(TRAIN) + " --output DIR [--resume]",
            "trials": trials,
            "num_trials": len(trials),
            "num_killed": sum(bool(t["kills"]) for t in trials),
            "num_kills": sum(len(t["kills"]) for t in trials),
            "num_resumed_from_a_checkpoint": sum(bool(t["resumed_from"]) for t in trials),
            "num_bitwise_equal": sum(t["bitwise_equal"] for t in trials),
            "max_abs_diff": max(t["max_abs_diff"] for t in trials),
            "reference_wall_time_s": round(reference_seconds, 2),
            "reference_training_onwards_s": round(training_seconds, 2),
            "wall_time_s": round(time.perf_counter() - began, 1),
            **runs.provenance("jax"),
        }
        runs.write_json(args.output, record)
        print(
            f"{record['num_bitwise_equal']}/{record['num_trials']} trials bitwise equal to the reference "
            f"({record['num_killed']} killed); record: {args.output}"
        )
        return 0 if record["num_bitwise_equal"] == record["num_trials"] else 1
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    os.environ.setdefault("KERAS_BACKEND", "jax")
    sys.exit(main())
