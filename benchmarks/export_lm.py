"""A language-model run against its ONNX exports (float32 and int8): the text each generates for the
same prompts and seeds, generation speed (tokens per second, one prompt at a time, interleaved
rounds in one process), and the cold start of `rnnlab predict` on the run and on the export.

    python benchmarks/export_lm.py runs/shakespeare --output results/export/shakespeare-char.json

The exports go to a temporary folder, removed at the end.
"""

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from rnnlab import runs  # noqa: E402
from rnnlab.export.exporter import export_run  # noqa: E402
from rnnlab.export.runtime import load_export  # noqa: E402
from rnnlab.tasks.lm.task import LMPredictor  # noqa: E402

sys.path.insert(0, str(ROOT / "benchmarks"))
from export_speed import cold_start  # noqa: E402

COLD_INPUTS = ("ROMEO:", "--length", "100")
PROMPTS = ["ROMEO:", "First Citizen:\nBefore we proceed", "KING HENRY", "O, ", "What say you"]


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("run", help="a language-model run folder")
    parser.add_argument("--output", required=True, help="the JSON record to write")
    parser.add_argument("--length", type=int, default=200, help="tokens per generated text (default: 200)")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved timing rounds (default: 3)")
    parser.add_argument("--cold", type=int, default=3, help="processes per cold-start measure (default: 3)")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    predictor = LMPredictor(args.run)
    with tempfile.TemporaryDirectory(prefix="export-lm-") as folder:
        folder = Path(folder)
        export_run(args.run, folder / "fp32")
        export_run(args.run, folder / "int8", quantize="int8")
        models = {
            "rnnlab (Keras, " + predictor.config.backend + ")": predictor,
            "onnx fp32": load_export(folder / "fp32"),
            "onnx int8": load_export(folder / "int8"),
        }
        texts = {name: [model.predict([p], length=args.length, temperature=0.8, seed=seed)[0]["text"]
                        for seed, p in enumerate(PROMPTS)] for name, model in models.items()}  # fmt: skip
        reference = next(iter(texts.values()))
        record = {
            "same_text": {
                name: sum(a == b for a, b in zip(t, reference, strict=True)) for name, t in texts.items()
            },
            "texts": len(PROMPTS),
            "samples": {name: t[0] for name, t in texts.items()},
        }
        speed = {name: [] for name in models}
        for _ in range(args.rounds):
            for name, model in models.items():
                began = time.perf_counter()
                model.predict(["ROMEO:"], length=args.length, seed=0)
                speed[name].append(args.length / (time.perf_counter() - began))
        record["tokens_per_s"] = {name: statistics.median(values) for name, values in speed.items()}
        record["tokens_per_s_rounds"] = speed
        record["cold_start_s"] = {
            "rnnlab predict RUN": cold_start(args.run, args.cold, *COLD_INPUTS),
            "rnnlab predict EXPORT_DIR": cold_start(folder / "fp32", args.cold, *COLD_INPUTS),
        }
        record["model_bytes"] = {
            name: (folder / name / "model.onnx").stat().st_size for name in ("fp32", "int8")
        }
    metrics = json.loads((Path(args.run) / "metrics.json").read_text(encoding="utf-8"))
    record.update(
        benchmark="export_lm",
        run=args.run,
        length=args.length,
        run_metrics={
            k: v for k, v in metrics.items() if k.startswith(("test_", "val_perplexity", "best_val"))
        },
        wall_time_s=round(time.perf_counter() - start, 2),
        **runs.provenance(predictor.config.backend),
    )
    runs.write_json(args.output, record)
    print(record["same_text"], record["tokens_per_s"], record["cold_start_s"], sep="\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
