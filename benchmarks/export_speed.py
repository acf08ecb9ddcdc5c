"""A sentiment run against its ONNX exports (float32 and int8): test accuracy on the whole test
set, inference speed at batch 1 and batch 256 (interleaved rounds, one process, the same texts),
and the cold start of `rnnlab predict` on the run and on the export (whole processes).

    python benchmarks/export_speed.py runs/article --output results/export/article.json

The exports go to a temporary folder, removed at the end.
"""

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from rnnlab import runs  # noqa: E402
from rnnlab.datasets import imdb  # noqa: E402
from rnnlab.export.exporter import export_run  # noqa: E402
from rnnlab.export.runtime import ExportedClassifier  # noqa: E402
from rnnlab.tasks.sentiment import labelled  # noqa: E402
from rnnlab.tasks.sentiment.task import SentimentPredictor  # noqa: E402


def test_texts(predictor):
    """The run's test texts and label names, as its own evaluation reads them."""
    if labelled.reads_imdb(predictor.config, "test"):
        texts, targets = imdb.load_texts("test")
        return texts, [predictor.preprocessor.labels[int(t)] for t in targets]
    return labelled.texts_and_labels(predictor.config, "test")


def accuracy(predict, texts, names, batch=256):
    found = []
    for start in range(0, len(texts), batch):
        found += [record["label"] for record in predict(texts[start : start + batch])]
    return float(np.mean([a == b for a, b in zip(found, names, strict=True)]))


def timed(predict, batches):
    """Seconds per call of `predict` over `batches` (after one warm-up call)."""
    predict(batches[0])
    start = time.perf_counter()
    for batch in batches:
        predict(batch)
    return (time.perf_counter() - start) / len(batches)


def cold_start(target, repeats, *inputs):
    """Seconds of whole `rnnlab predict TARGET INPUTS...` processes: min, median, max."""
    seconds = []
    for _ in range(repeats):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "rnnlab", "predict", str(target), *inputs],
                       check=True, capture_output=True, cwd=ROOT)  # fmt: skip
        seconds.append(time.perf_counter() - start)
    return {"min": min(seconds), "median": statistics.median(seconds), "max": max(seconds), "runs": repeats}


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("run", help="a sentiment run folder")
    parser.add_argument("--output", required=True, help="the JSON record to write")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved timing rounds (default: 3)")
    parser.add_argument("--cold", type=int, default=5, help="processes per cold-start measure (default: 5)")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    predictor = SentimentPredictor(args.run)
    texts, names = test_texts(predictor)
    names = [str(n) for n in names]
    with tempfile.TemporaryDirectory(prefix="export-speed-") as folder:
        folder = Path(folder)
        export_run(args.run, folder / "fp32")
        export_run(args.run, folder / "int8", quantize="int8")
        models = {
            "rnnlab (Keras, " + predictor.config.backend + ")": predictor.predict,
            "onnx fp32": ExportedClassifier(folder / "fp32", threads=None).predict,
            "onnx int8": ExportedClassifier(folder / "int8", threads=None).predict,
        }
        record = {"accuracy": {name: accuracy(predict, texts, names) for name, predict in models.items()}}
        rng = np.random.default_rng(0)
        ones = [[texts[i]] for i in rng.choice(len(texts), 100, replace=False)]
        batches = [[texts[i] for i in rng.choice(len(texts), 256, replace=False)] for _ in range(4)]
        timings = {name: {"batch_1_ms": [], "batch_256_texts_per_s": []} for name in models}
        for _ in range(args.rounds):  # interleaved: every model sees the same machine state
            for name, predict in models.items():
                timings[name]["batch_1_ms"].append(1000 * timed(predict, ones))
                timings[name]["batch_256_texts_per_s"].append(256 / timed(predict, batches))
        record["speed"] = {name: {key: statistics.median(values) for key, values in timing.items()}
                           for name, timing in timings.items()}  # fmt: skip
        record["speed_rounds"] = timings
        record["cold_start_s"] = {
            "rnnlab predict RUN": cold_start(args.run, args.cold, "a wonderful film"),
            "rnnlab predict EXPORT_DIR": cold_start(folder / "fp32", args.cold, "a wonderful film"),
        }
        record["model_bytes"] = {
            name: (folder / name / "model.onnx").stat().st_size for name in ("fp32", "int8")
        }
    record.update(
        benchmark="export_speed",
        run=args.run,
        num_test=len(texts),
        run_test_accuracy=runs_metrics(args.run).get("test_accuracy"),
        wall_time_s=round(time.perf_counter() - start, 2),
        **runs.provenance(predictor.config.backend),
    )
    runs.write_json(args.output, record)
    print(record["accuracy"], record["speed"], record["cold_start_s"], sep="\n")
    return 0


def runs_metrics(run):
    return json.loads((Path(run) / "metrics.json").read_text(encoding="utf-8"))


if __name__ == "__main__":
    sys.exit(main())
