"""A WMT-sized corpus of sentence pairs: `rnnlab prepare translation` against the in-memory
`--data` path. Records the peak resident memory of preparing, of holding the training examples
(a fresh process each) and of a short training, and the training speed in target tokens per
second on the same first `--limit` pairs.

The corpus is Multi30k's training pairs (de-en) repeated until it holds `--pairs` pairs (about
WMT14 en-de's 4.5 M), written once to `--corpus` outside the checkout. Holding the examples in
memory is measured on `--memory-pairs` of them (a prefix), as the whole would take tens of GiB.
Both paths validate on Multi30k's `val` and test on its `test_2016_flickr` pairs.

python benchmarks/prepared_translation.py --corpus ~/rnnlab-runs/multi30k-x155.tsv \
    --runs ~/rnnlab-runs/prepared-translation --output results/scaling/prepared-translation.json
"""

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

from rnnlab.datasets import multi30k
from rnnlab.runs import provenance, write_json

TRAIN = "--epochs 1 --units 128 --embedding-dim 64 --batch-size 64 --vocab-size 8000".split()
MEASURE = (
    "import resource, subprocess, sys; code = subprocess.run(sys.argv[1:]).returncode; "
    "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss); sys.exit(code)"
)
HOLD = (  # builds the training examples a run holds, as `rnnlab train` does, and reports peak RSS
    "import resource, sys; from rnnlab import config as c; "
    "from rnnlab.tasks.translation.config import TranslationConfig as T; "
    "from rnnlab.tasks.translation.task import TranslationTask; t = TranslationTask(); "
    "cfg = c.resolve(T, overrides=dict(a.split('=', 1) for a in sys.argv[1:])); "
    "p = t.make_preprocessor(cfg); e = t.examples(cfg, 'train', p); "
    "print(len(e), resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)"
)


def write_tsv(path, pairs):
    """Multi30k's training pairs (de TAB en) repeated up to `pairs` lines (kept if there)."""
    path = Path(path)
    if path.is_file():
        return
    sources, targets = multi30k.load_pairs("train", src="de", tgt="en")
    block = "".join(f"{s}\t{t}\n" for s, t in zip(sources, targets, strict=True))
    tmp = path.with_suffix(".partial")
    with open(tmp, "w", encoding="utf-8") as out:
        written = 0
        while written < pairs:
            take = min(len(sources), pairs - written)
            out.write(block if take == len(sources) else "".join(block.splitlines(True)[:take]))
            written += take
    tmp.replace(path)


def split_tsv(split, path):
    """A Multi30k split as a TSV (kept if there)."""
    path = Path(path)
    if not path.is_file():
        sources, targets = multi30k.load_pairs(split, src="de", tgt="en")
        lines = (f"{s}\t{t}\n" for s, t in zip(sources, targets, strict=True))
        path.write_text("".join(lines), encoding="utf-8")
    return str(path)


def prefix(path, pairs, target):
    """The first `pairs` lines of `path` written to `target` (kept if there)."""
    target = Path(target)
    if not target.is_file():
        with open(path, encoding="utf-8") as source, open(target, "w", encoding="utf-8") as out:
            for number, line in enumerate(source):
                if number == pairs:
                    break
                out.write(line)
    return str(target)


def measured(command):
    """`(peak RSS in MiB, seconds, stdout)` of `command` in a fresh process."""
    start = time.perf_counter()
    result = subprocess.run([sys.executable, "-c", MEASURE, *command], capture_output=True, text=True)
    if result.returncode:
        raise RuntimeError(f"{' '.join(command)} failed:\n{result.stderr[-3000:]}")
    lines = result.stdout.strip().splitlines()
    return round(int(lines[-1]) / 1024, 1), round(time.perf_counter() - start, 1), lines[:-1]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", required=True, help="the large TSV to write (or reuse)")
    parser.add_argument("--pairs", type=int, default=4_500_000)
    parser.add_argument("--memory-pairs", type=int, default=500_000, help="prefix held in memory")
    parser.add_argument("--limit", type=int, default=12_800, help="training pairs of the timed runs")
    parser.add_argument("--runs", required=True, help="folder for the prepared folder and the runs")
    parser.add_argument("--output", required=True)
    args = parser.parse_args()
    started = time.perf_counter()
    runs = Path(args.runs)
    runs.mkdir(parents=True, exist_ok=True)
    write_tsv(args.corpus, args.pairs)
    small = prefix(args.corpus, args.memory_pairs, runs / f"first-{args.memory_pairs}.tsv")
    valid, test = split_tsv("val", runs / "val.tsv"), split_tsv("test_2016_flickr", runs / "test.tsv")
    rnnlab = [sys.executable, "-m", "rnnlab"]
    record = {"corpus_pairs": args.pairs, "corpus_bytes": Path(args.corpus).stat().st_size}
    folder = runs / "prepared"
    if not (folder / "manifest.json").is_file():
        command = [*rnnlab, "prepare", "translation", "--data", args.corpus, "--src", "de", "--tgt", "en",
                   "--valid-data", valid, "--output", str(folder)]  # fmt: skip
        rss, seconds, _ = measured(command)
        record["prepare"] = {"peak_rss_mib": rss, "wall_time_s": seconds}
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    record["prepared_files"] = {name: f["sequences"] for name, f in manifest["files"].items()}
    for name, settings in (
        ("hold_prepared", [f"prepared={folder}"]),
        ("hold_in_memory", [f"data={small}", f"valid_data={valid}", "src=de", "tgt=en"]),
    ):
        rss, seconds, out = measured([sys.executable, "-c", HOLD, *settings])
        pairs = int(out[-1].split()[0])
        record[name] = {"training_pairs": pairs, "peak_rss_mib": rss, "wall_time_s": seconds}
    for name, source in (
        ("train_prepared", ["--prepared", str(folder)]),
        ("train_in_memory", ["--data", small, "--valid-data", valid, "--src", "de", "--tgt", "en"]),
    ):
        run = runs / name
        flags = [f for f in TRAIN if name == "train_in_memory" or f not in ("--vocab-size", "8000")]
        command = [*rnnlab, "train", "translation", *source, *flags, "--limit", str(args.limit),
                   "--test-data", test, "--output", str(run), "--overwrite"]  # fmt: skip
        rss, seconds, _ = measured(command)
        metrics = json.loads((run / "metrics.json").read_text(encoding="utf-8"))
        record[name] = {
            "peak_rss_mib": rss,
            "wall_time_s": seconds,
            "train_wall_time_s": metrics["train_wall_time_s"],
            "train_pairs": metrics["num_train"],
            "pairs_per_s": round(metrics["num_train"] / metrics["train_wall_time_s"], 1),
            "val_loss": metrics["history"]["val_loss"],
        }
    record["pairs_per_s_ratio"] = round(
        record["train_prepared"]["pairs_per_s"] / record["train_in_memory"]["pairs_per_s"], 3
    )
    record.update(provenance("jax"))
    record["command"] = " ".join(["python", "benchmarks/prepared_translation.py", *sys.argv[1:]])
    record["wall_time_s"] = round(time.perf_counter() - started, 1)
    write_json(args.output, record)
    print(json.dumps({k: v for k, v in record.items() if k not in ("versions", "machine")}, indent=1))


if __name__ == "__main__":
    main()
