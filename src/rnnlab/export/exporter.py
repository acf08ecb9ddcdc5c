"""`rnnlab export RUN --format onnx --output DIR`: a folder that runs without rnnlab's training
code, Keras or a backend:

    model.onnx          the graph (`rnnlab.export.onnx_classifier`)
    preprocessor.json   the run's tokenizer, vocabulary and label names
    manifest.json       task, inputs and outputs (names, shapes, dtypes, padding), the run's test
                        metrics and provenance, and the sha256 of every other file
    README.md           how to use it, with ONNX Runtime alone or `rnnlab predict DIR`

The folder is written beside `DIR` and renamed into place; an existing `DIR` is replaced only with
`--overwrite` and only when it is an rnnlab export holding nothing else.

Example:
>>> export_run("runs/article", "exports/article")  # doctest: +SKIP
"""

import json
import logging
import os
import shutil
import tempfile
from pathlib import Path

from rnnlab import runs
from rnnlab.export import manifest as manifests
from rnnlab.export.onnx_classifier import INPUT, OPSET, OUTPUT, classifier_graph, embedding_steps
from rnnlab.io import describe_path, umask
from rnnlab.optional import require
from rnnlab.tasks.base import load_run, load_run_model

FORMATS = ("onnx",)
QUANTIZATIONS = ("int8",)
EXPORTED_TASKS = ("sentiment",)


def export_run(run_dir, output, format="onnx", overwrite=False, quantize=None):
    """Exports a finished run; returns the manifest written.

    Args:
        run_dir: a run folder written by `rnnlab train`.
        output: the export folder to write.
        format: 'onnx'.
        overwrite: replace `output` when it is an rnnlab export.
        quantize: None, or 'int8': ONNX Runtime's dynamic quantisation (int8 weights of the
            embedding and the output layer, and of LSTM nodes; activations quantised on the fly).

    Raises:
        ValueError: another format or task, an output that is not an export, or a model ONNX's
            nodes cannot express; each names what was received.
    """
    if format not in FORMATS:
        raise ValueError(f"Expected --format in {list(FORMATS)}. Received: {format!r}")
    if quantize is not None and quantize not in QUANTIZATIONS:
        raise ValueError(f"Expected --quantize in {list(QUANTIZATIONS)}. Received: {quantize!r}")
    task, config, folder = load_run(run_dir)
    if task.name not in EXPORTED_TASKS:
        raise ValueError(
            f"rnnlab export writes {', '.join(EXPORTED_TASKS)} runs so far. Received: {run_dir}, a "
            f"{task.name!r} run."
        )
    output = Path(output)
    _check_output(output, overwrite)
    model = load_run_model(folder)
    preprocessor = task.load_preprocessor(folder / "preprocessor.json")
    task.check_run(config, preprocessor, model, folder)
    graph = classifier_graph(model)
    metrics = json.loads((folder / "metrics.json").read_text(encoding="utf-8"))
    _, info = runs.open_run(folder)
    masked = bool(config.mask)
    labels = list(preprocessor.labels)
    manifest = {
        "task": task.name,
        "format": format,
        "opset": OPSET,
        "inputs": [
            {
                "name": INPUT,
                "dtype": "int32",
                "shape": ["batch", embedding_steps(model) or "steps"],
                "padding": "back" if masked else "front",
                "max_steps": preprocessor.maxlen,
                "meaning": "token ids from preprocessor.json, padded with 0 "
                + (
                    "after each text (the graph reads each row's length from its non-zero ids)"
                    if masked
                    else f"before each text to exactly {preprocessor.maxlen} steps"
                ),
            }  # fmt: skip
        ],
        "outputs": [
            {
                "name": OUTPUT,
                "dtype": "float32",
                "shape": ["batch", 1 if len(labels) == 2 else len(labels)],
                "meaning": f"P({labels[1]})" if len(labels) == 2 else "the probability of each label",
            }
        ],
        "labels": labels,
        "quantization": _QUANTIZATION[quantize],
        "preprocessing": "preprocessor.json",
        "metrics": {
            key: value for key, value in metrics.items() if key.startswith("test_") or key == "num_test"
        },
        "run": {
            "path": str(folder.resolve()),
            "run_id": info.get("run_id"),
            "git_commit": metrics.get("git_commit"),
            "backend": metrics.get("backend"),
        },
    }
    work = Path(tempfile.mkdtemp(prefix=f".{output.name}.", suffix=".tmp", dir=output.parent))
    try:
        os.chmod(work, 0o777 & ~umask())  # mkdtemp makes 0700 folders
        (work / "model.onnx").write_bytes(graph.SerializeToString())
        if quantize:
            _quantize(work / "model.onnx")
        shutil.copyfile(folder / "preprocessor.json", work / "preprocessor.json")
        (work / "README.md").write_text(readme(manifest, run_dir), encoding="utf-8")
        written = manifests.write(work, manifest)
        if output.exists():
            manifests.remove_export(output)
        work.rename(output)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return written


_QUANTIZATION = {
    None: None,
    "int8": "int8, dynamic (onnxruntime.quantization.quantize_dynamic: int8 weights of Gather, MatMul and "
    "LSTM nodes, activations quantised per batch)",
}


def _quantize(path):
    """Replaces the ONNX model at `path` by its int8 dynamic quantisation."""
    require("onnxruntime", "Quantising an export (--quantize int8)")
    from onnxruntime.quantization import QuantType, quantize_dynamic

    full = path.with_name("model.fp32.onnx")
    path.rename(full)
    logger = logging.getLogger()  # onnxruntime warns through the root logger about pre-processing
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        quantize_dynamic(full, path, weight_type=QuantType.QInt8)
    finally:
        logger.setLevel(level)
    full.unlink()


def _check_output(output, overwrite):
    if not output.parent.is_dir():
        raise ValueError(f"The folder of --output {output} does not exist: {describe_path(output.parent)}.")
    if not (output.exists() or output.is_symlink()):
        return
    if not overwrite:
        raise ValueError(
            f"{output} already exists. Choose another --output, or --overwrite an rnnlab export."
        )
    manifests.check_export_folder(output)  # rnnlab replaces only its own exports


def readme(manifest, run_dir):
    """The export's README: what it is and how to run it."""
    labels = ", ".join(manifest["labels"])
    [given] = manifest["inputs"]
    [returned] = manifest["outputs"]
    accuracy = manifest["metrics"].get("test_accuracy")
    score = (
        f"; test accuracy {accuracy:.4f} on {manifest['metrics'].get('num_test')} texts" if accuracy else ""
    )
    return f"""# rnnlab export: {manifest["task"]} ({labels})

Exported from the run `{run_dir}` (run id {manifest["run"]["run_id"]}{score}) as ONNX (opset
{manifest["opset"]}; quantisation: {manifest["quantization"] or "none, float32"}). `manifest.json`
lists every file with its sha256.

- Input `{given["name"]}`: {given["dtype"]} {given["shape"]}, {given["meaning"]}.
- Output `{returned["name"]}`: {returned["dtype"]} {returned["shape"]}, {returned["meaning"]}.

With rnnlab (ONNX Runtime only; no Keras, no backend):

    rnnlab predict {Path(run_dir).name}-export "a wonderful film" --json

With ONNX Runtime alone, given token ids made as `preprocessor.json` describes:

    import onnxruntime
    session = onnxruntime.InferenceSession("model.onnx")
    probabilities = session.run(None, {{"{given["name"]}": ids}})[0]
"""


def describe_export(manifest):
    """One line for the terminal."""
    files = ", ".join(manifest["files"])
    return f"Exported {manifest['task']} as {manifest['format']} ({files}); checksums in manifest.json"
