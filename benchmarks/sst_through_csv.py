"""Trains one sentiment recipe twice on the whole Stanford Sentiment Treebank: once with
`--dataset sst5`, once with `--data` on SST written out as CSV files (train, dev and test, SST's own
0-4 labels), and records whether both runs give the same history and test accuracy.

    python benchmarks/sst_through_csv.py --output results/sentiment/sst5-through-csv.json \\
        -- --config recipes/sentiment/sst-bigru-word2vec.toml

Everything after `--` is passed to both `rnnlab train sentiment` commands. The CSV files and both
runs go to a temporary folder, removed at the end.
"""

import argparse
import csv
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from rnnlab import runs  # noqa: E402
from rnnlab.datasets import sst  # noqa: E402


def write_splits(folder, labels="sst5"):
    """Writes SST's train, dev and test sentences to `folder/SPLIT.csv` (columns text, label) with
    the label's index in `sst.LABEL_SETS[labels]`; returns the three paths by split name."""
    names = sst.LABEL_SETS[labels]
    files = {}
    for split in sst.SPLITS:
        texts, targets = sst.load_split(split, labels)
        files[split] = folder / f"{split}.csv"
        with open(files[split], "w", encoding="utf-8", newline="") as file:
            writer = csv.writer(file)
            writer.writerow(["text", "label"])
            writer.writerows((text, names.index(target)) for text, target in zip(texts, targets, strict=True))
    return files


def train(arguments, output):
    """Runs `rnnlab train sentiment ARGUMENTS --output OUTPUT`; returns its metrics.json."""
    command = [sys.executable, "-m", "rnnlab", "train", "sentiment", *arguments, "--output", str(output)]
    subprocess.run(command, check=True, cwd=ROOT)
    return json.loads((output / "metrics.json").read_text())


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--output", required=True, help="the JSON record to write")
    parser.add_argument("train_arguments", nargs="*", help="after --: arguments of both trainings")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="sst-through-csv-") as folder:
        folder = Path(folder)
        files = write_splits(folder)
        builtin = train([*args.train_arguments, "--dataset", "sst5"], folder / "builtin")
        through_csv = train(
            [
                *args.train_arguments,
                "--data",
                str(files["train"]),
                "--valid-data",
                str(files["dev"]),
                "--test-data",
                str(files["test"]),
            ],  # fmt: skip
            folder / "csv",
        )
    keys = ("test_accuracy", "test_loss", "best_epoch", "num_train", "num_validation", "num_test")
    record = {
        "benchmark": "sst_through_csv",
        "builtin": {key: builtin[key] for key in keys},
        "csv": {key: through_csv[key] for key in keys},
        "same_history": builtin["history"] == through_csv["history"],
        "same_test_accuracy": builtin["test_accuracy"] == through_csv["test_accuracy"],
        "history": builtin["history"],
        "train_arguments": args.train_arguments,
        "wall_time_s": round(time.perf_counter() - start, 2),
        **runs.provenance(builtin["backend"]),
    }
    runs.write_json(args.output, record)
    print(json.dumps({key: record[key] for key in ("builtin", "csv", "same_history", "same_test_accuracy")}))
    return 0 if record["same_history"] and record["same_test_accuracy"] else 1


if __name__ == "__main__":
    sys.exit(main())
