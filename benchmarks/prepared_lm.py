"""Text larger than memory: a word-level LM trained from `rnnlab prepare lm` token files against
the in-memory `--data` path. Records each step's peak resident memory (a fresh process each) and
the training speed in tokens per second on the same first `--limit` tokens.

The text is IMDb's unlabelled reviews, one per line, repeated until the file reaches `--megabytes`
(written once to `--text`, outside the checkout). The in-memory path reads and encodes the whole
file, so it runs on `--memory-megabytes` of it (a prefix) when the whole would not fit.

python benchmarks/prepared_lm.py --text ~/rnnlab-runs/imdb-1gb.txt --megabytes 1024 \
    --memory-megabytes 256 --runs runs/prepared --output results/scaling/prepared-lm.json
"""

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

from rnnlab.datasets import imdb
from rnnlab.runs import provenance, write_json

VOCABULARY = 10_000
TRAIN = (
    f"--level word --max-vocab {VOCABULARY} --epochs 1 --units 128 --embedding-dim 64 --num-layers 1 "
    "--seq-len 64 --batch-size 64"
)
MEASURE = (
    "import resource, subprocess, sys; code = subprocess.run(sys.argv[1:]).returncode; "
    "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss); sys.exit(code)"
)


def write_text(path, megabytes):
    """IMDb's unlabelled reviews, a review a line, repeated up to `megabytes` MiB (kept if there)."""
    path = Path(path)
    if path.is_file() and path.stat().st_size >= megabytes * 2**20:
        return
    reviews = imdb.load_texts("unsup")[0]
    lines = "".join(" ".join(review.replace("<br />", " ").split()) + "\n" for review in reviews)
    data = lines.encode("utf-8")
    tmp = path.with_suffix(".partial")
    with open(tmp, "wb") as out:
        written = 0
        while written < megabytes * 2**20:
            out.write(data)
            written += len(data)
    tmp.replace(path)


def prefix(path, megabytes, target):
    """The first `megabytes` MiB of `path` (whole lines) written to `target` (kept if there)."""
    target = Path(target)
    if not target.is_file():
        with open(path, "rb") as source, open(target, "wb") as out:
            out.write(source.read(megabytes * 2**20).rsplit(b"\n", 1)[0] + b"\n")
    return target


def measured(args):
    """`(peak RSS in MiB, seconds)` of `python -m rnnlab ARGS` in a fresh process."""
    start = time.perf_counter()
    result = subprocess.run([sys.executable, "-c", MEASURE, sys.executable, "-m", "rnnlab", *args],
                            capture_output=True, text=True)  # fmt: skip
    if result.returncode:
        raise RuntimeError(f"rnnlab {' '.join(args)} failed:\n{result.stderr[-3000:]}")
    return round(int(result.stdout.strip().splitlines()[-1]) / 1024, 1), round(time.perf_counter() - start, 1)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--text", required=True, help="the large text file to write (or reuse)")
    parser.add_argument("--megabytes", type=int, default=1024)
    parser.add_argument("--memory-megabytes", type=int, default=256, help="prefix the in-memory path reads")
    parser.add_argument("--limit", type=int, default=500_000, help="training and validation tokens")
    parser.add_argument("--runs", required=True, help="folder for the prepared folders and the runs")
    parser.add_argument("--output", required=True)
    args = parser.parse_args()
    runs = Path(args.runs)
    runs.mkdir(parents=True, exist_ok=True)
    write_text(args.text, args.megabytes)
    small = prefix(args.text, args.memory_megabytes, runs / f"first-{args.memory_megabytes}mb.txt")
    record = {"text_bytes": Path(args.text).stat().st_size, "in_memory_text_bytes": small.stat().st_size}
    train = [*TRAIN.split(), "--limit", str(args.limit)]
    for name, text in (("prepared", args.text), ("prepared_small", str(small))):
        folder = runs / name
        if not (folder / "manifest.json").is_file():
            rss, seconds = measured(["prepare", "lm", "--data", text, "--level", "word", "--max-vocab",
                                     str(VOCABULARY), "--output", str(folder)])  # fmt: skip
            record[f"{name}_prepare"] = {"peak_rss_mib": rss, "wall_time_s": seconds}
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
        record[f"{name}_tokens"] = {k: v["tokens"] for k, v in manifest["splits"].items()}
    for name, source in (
        ("train_prepared", ["--prepared", str(runs / "prepared")]),
        ("train_in_memory", ["--data", str(small)]),
    ):
        run = runs / name
        own = ("--level", "word", "--max-vocab", str(VOCABULARY))  # a prepared folder brings them
        flags = [flag for flag in train if name == "train_in_memory" or flag not in own]
        rss, seconds = measured(["train", "lm", *source, *flags, "--output", str(run), "--overwrite"])
        metrics = json.loads((run / "metrics.json").read_text(encoding="utf-8"))
        tokens = metrics["num_train"] * 64
        record[name] = {
            "peak_rss_mib": rss,
            "wall_time_s": seconds,
            "train_wall_time_s": metrics["train_wall_time_s"],
            "train_tokens": tokens,
            "tokens_per_s": round(tokens / metrics["train_wall_time_s"], 1),
            "val_loss": metrics["history"]["val_loss"],
        }
    record["tokens_per_s_ratio"] = round(
        record["train_prepared"]["tokens_per_s"] / record["train_in_memory"]["tokens_per_s"], 3
    )
    record.update(provenance("jax"))
    record["command"] = " ".join(["python", "benchmarks/prepared_lm.py", *sys.argv[1:]])
    write_json(args.output, record)
    print(json.dumps({k: v for k, v in record.items() if k not in ("versions", "machine")}, indent=1))


if __name__ == "__main__":
    main()
