"""A speech or translation run against its ONNX exports (float32 and int8): the task's metric on
the whole test set (digit accuracy, or CER and WER of digit strings; BLEU and chrF), inference
speed at batch 1 and batch 256 (interleaved rounds, one process, the same inputs), and the cold
start of `rnnlab predict` on the run and on the export (whole processes).

    python benchmarks/export_sequences.py runs/speech-strings --output results/export/digit-strings.json
    python benchmarks/export_sequences.py runs/de-en --output results/export/translation-de-en.json

Translation decodes greedily (beam 1). The exports go to a temporary folder, removed at the end.
"""

import argparse
import io
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "benchmarks"))

from export_speed import cold_start, timed  # noqa: E402

from rnnlab import runs  # noqa: E402
from rnnlab.export.exporter import export_run  # noqa: E402
from rnnlab.export.runtime import load_export  # noqa: E402
from rnnlab.tasks.base import load_predictor  # noqa: E402


def _wav(audio, rate):
    import soundfile

    buffer = io.BytesIO()
    soundfile.write(buffer, np.asarray(audio, "float32"), rate, format="WAV", subtype="FLOAT")
    return buffer.getvalue()


def speech_test(predictor):
    """`(inputs, references, score(found, references))`: the run's test recordings (or digit
    strings, or --test-data recordings) as WAV bytes, with the transcripts its targets spell."""
    from rnnlab.tasks.speech.task import cer_and_wer

    examples = predictor.task.examples(predictor.config, "test", predictor.preprocessor)
    config, preprocessor = predictor.config, predictor.preprocessor
    rate = preprocessor.features.sample_rate
    inputs = [_wav(frames_source, rate) for frames_source in _test_audio(predictor)]
    references = list(examples.meta["texts"])
    if not config.uses_ctc:

        def score(found, references):
            return {"accuracy": float(np.mean([a == b for a, b in zip(found, references, strict=True)]))}
    else:

        def score(found, references):
            return cer_and_wer(references, found, words=config.targets == "characters")

    return inputs, references, score


def _test_audio(predictor):
    """The samples of the run's test utterances, in the order of its test examples."""
    from rnnlab.tasks.speech import task

    config = predictor.config
    if config.data:
        pool = task.read_recordings(config.test_data) if config.test_data else task.recording_pools(config)[2]
        return [predictor.preprocessor.read(r.path) for r in pool]
    _, _, pool = task.recording_pools(config)
    if config.mode == "digits":
        return [r.audio for r in pool]
    return [s.audio for s in task.digit_strings(config, "test", pool)]


def translation_test(predictor):
    """`(sources, references, score(found, references))` of the run's test split."""
    from rnnlab.tasks.translation.pairs import load_pairs
    from rnnlab.tasks.translation.task import bleu_and_chrf

    sources, references = load_pairs(predictor.config, "test")
    return list(sources), list(references), bleu_and_chrf


def outputs(predict, inputs, batch=256):
    """The text each input gives (`text` of a transcription, `translation` of a translation)."""
    found = []
    for start in range(0, len(inputs), batch):
        for record in predict(inputs[start : start + batch]):
            found.append(record.get("text", record.get("translation")))
    return found


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("run", help="a speech or translation run folder")
    parser.add_argument("--output", required=True, help="the JSON record to write")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved timing rounds (default: 3)")
    parser.add_argument("--cold", type=int, default=5, help="processes per cold-start measure (default: 5)")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    predictor = load_predictor(args.run)
    task = predictor.task.name
    inputs, references, score = {"speech": speech_test, "translation": translation_test}[task](predictor)
    with tempfile.TemporaryDirectory(prefix="export-sequences-") as folder:
        folder = Path(folder)
        export_run(args.run, folder / "fp32")
        export_run(args.run, folder / "int8", quantize="int8")
        models = {
            "rnnlab (Keras, " + predictor.config.backend + ")": predictor.predict,
            "onnx fp32": load_export(folder / "fp32").predict,
            "onnx int8": load_export(folder / "int8").predict,
        }
        found = {name: outputs(predict, inputs) for name, predict in models.items()}
        reference = next(iter(found.values()))
        record = {
            "test": {name: score(texts, references) for name, texts in found.items()},
            "same_output_as_the_run": {
                name: sum(a == b for a, b in zip(texts, reference, strict=True))
                for name, texts in found.items()
            },
        }
        rng = np.random.default_rng(0)
        ones = [[inputs[i]] for i in rng.choice(len(inputs), min(50, len(inputs)), replace=False)]
        batches = [[inputs[i] for i in rng.choice(len(inputs), min(256, len(inputs)), replace=False)]
                   for _ in range(2)]  # fmt: skip
        timings = {name: {"batch_1_ms": [], "batch_256_inputs_per_s": []} for name in models}
        for _ in range(args.rounds):  # interleaved: every model sees the same machine state
            for name, predict in models.items():
                timings[name]["batch_1_ms"].append(1000 * timed(predict, ones))
                timings[name]["batch_256_inputs_per_s"].append(len(batches[0]) / timed(predict, batches))
        record["speed"] = {name: {key: statistics.median(values) for key, values in timing.items()}
                           for name, timing in timings.items()}  # fmt: skip
        record["speed_rounds"] = timings
        if task == "speech":
            cold_input = folder / "input.wav"
            cold_input.write_bytes(inputs[0])
            cold_input = str(cold_input)
        else:
            cold_input = "Ein Mann fährt Fahrrad."
        record["cold_start_s"] = {
            "rnnlab predict RUN": cold_start(args.run, args.cold, cold_input),
            "rnnlab predict EXPORT_DIR": cold_start(folder / "fp32", args.cold, cold_input),
        }
        record["model_bytes"] = {
            name: sum(p.stat().st_size for p in (folder / name).glob("*.onnx")) for name in ("fp32", "int8")
        }
    metrics = json.loads((Path(args.run) / "metrics.json").read_text(encoding="utf-8"))
    record.update(
        benchmark="export_sequences",
        task=task,
        run=args.run,
        num_test=len(inputs),
        run_metrics={k: v for k, v in metrics.items() if k.startswith("test_")},
        wall_time_s=round(time.perf_counter() - start, 2),
        **runs.provenance(predictor.config.backend),
    )
    runs.write_json(args.output, record)
    print(record["test"], record["same_output_as_the_run"], record["speed"], record["cold_start_s"], sep="\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
