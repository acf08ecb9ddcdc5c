"""`rnnlab export RUN --format onnx --output DIR`: a folder that runs without rnnlab's training
code, Keras or a backend:

    model.onnx          the graph (`rnnlab.export.onnx_classifier`, `onnx_lm`, `onnx_acoustic`)
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
from rnnlab.export.onnx_acoustic import FRAMES, acoustic_graph
from rnnlab.export.onnx_classifier import INPUT, OUTPUT, classifier_graph
from rnnlab.export.onnx_graph import OPSET, state_count
from rnnlab.export.onnx_lm import LOGITS, TOKEN, lm_step_graph
from rnnlab.export.onnx_seq2seq import seq2seq_graphs
from rnnlab.export.tensorflow_formats import write_tensorflow
from rnnlab.io import describe_path, umask
from rnnlab.models.recurrent import layers_by_depth
from rnnlab.optional import require
from rnnlab.tasks.base import load_run, load_run_model
from rnnlab.tasks.speech.decoding import DECODING_FIELDS
from rnnlab.tasks.translation.preprocessor import END_ID, START_ID

FORMATS = manifests.FORMATS
QUANTIZATIONS = ("int8",)


def export_run(run_dir, output, format="onnx", overwrite=False, quantize=None):
    """Exports a finished run; returns the manifest written.

    Args:
        run_dir: a run folder written by `rnnlab train`.
        output: the export folder to write.
        format: 'onnx' (every task), 'saved_model' or 'tflite' (sentiment and language models,
            written through Keras' TensorFlow backend).
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
    if task.name not in GRAPHS:
        raise ValueError(
            f"rnnlab export writes {' and '.join(GRAPHS)} runs so far. Received: {run_dir}, a "
            f"{task.name!r} run."
        )
    if format in manifests.TENSORFLOW_FORMATS:
        if task.name not in TENSORFLOW_TASKS:
            raise ValueError(
                f"--format {format} writes {' and '.join(TENSORFLOW_TASKS)} runs. Received: {run_dir}, a "
                f"{task.name!r} run; export it with --format onnx."
            )
        if quantize:
            raise ValueError(f"--quantize {quantize} quantises ONNX exports. Received: --format {format}.")
    output = Path(output)
    _check_output(output, overwrite)
    model = load_run_model(folder)
    preprocessor = task.load_preprocessor(folder / "preprocessor.json")
    task.check_run(config, preprocessor, model, folder)
    graphs, described = GRAPHS[task.name](model, config, preprocessor, format)
    metrics = json.loads((folder / "metrics.json").read_text(encoding="utf-8"))
    _, info = runs.open_run(folder)
    manifest = {
        "task": task.name,
        "format": format,
        **({"opset": OPSET} if format == "onnx" else {}),
        "graphs": list(graphs),
        **described,
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
        for file_name, graph in graphs.items():
            if graph is None:  # a TensorFlow format
                write_tensorflow(task.name, model, preprocessor, work / file_name, format)
                continue
            (work / file_name).write_bytes(graph.SerializeToString())
            if quantize:
                _quantize(work / file_name)
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


def classifier_export(model, config, preprocessor, format="onnx"):
    """`(graphs, manifest fields)` of a text classifier: token ids in, probabilities out."""
    masked = bool(config.mask) and format == "onnx"  # TensorFlow's formats keep rnnlab's padding
    labels = list(preprocessor.labels)
    padding = (
        "after each text (the graph reads each row's length from its non-zero ids)"
        if masked
        else f"before each text to exactly {preprocessor.maxlen} steps"
    )
    described = {
        "inputs": [
            {
                "name": INPUT,
                "dtype": "int32",
                "shape": [1, preprocessor.maxlen]
                if format == "tflite"
                else ["batch", model.input_shape[1] or "steps"],
                "padding": "back" if masked else "front",
                "max_steps": preprocessor.maxlen,
                "meaning": f"token ids from preprocessor.json, padded with 0 {padding}",
            }
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
    }
    if format != "onnx":
        return {TENSORFLOW_FILES[format]: None}, described
    return {"model.onnx": classifier_graph(model)}, described


def lm_export(model, config, preprocessor, format="onnx"):
    """`(graphs, manifest fields)` of a language model: one step, the states carried by the caller."""
    if format == "onnx":
        graph, sizes = lm_step_graph(model)
        graphs = {"model.onnx": graph}
    else:
        sizes = [[int(layer.cell.units)] * state_count(layer) for layer in layers_by_depth(model, "rnn_")]
        graphs = {TENSORFLOW_FILES[format]: None}
    states = [
        (f"state_{depth}_{k}", size) for depth, layer in enumerate(sizes) for k, size in enumerate(layer)
    ]
    described = {
        "inputs": [
            {"name": TOKEN, "dtype": "int32", "shape": ["batch"],
             "meaning": "the token just read (ids of preprocessor.json)"},
            *({"name": name, "dtype": "float32", "shape": ["batch", size],
               "meaning": "a layer's state before the token (h, then c for an LSTM); zeros at the start"}
              for name, size in states),
        ],
        "outputs": [
            {"name": LOGITS, "dtype": "float32", "shape": ["batch", len(preprocessor)],
             "meaning": "the next token's logits"},
            *({"name": f"new_{name}", "dtype": "float32", "shape": ["batch", size],
               "meaning": "the state after the token"} for name, size in states),
        ],
        "state_sizes": sizes,
        "level": preprocessor.level,
    }  # fmt: skip
    return graphs, described


def speech_export(model, config, preprocessor, format="onnx"):
    """`(graphs, manifest fields)` of an acoustic model: frames in, posteriors out; the decoder's
    settings go in the manifest (CTC decoding runs outside the graph)."""
    graph, output = acoustic_graph(model)
    ctc = output == "logits"
    labels = preprocessor.alphabet or [str(d) for d in range(10)]
    described = {
        "inputs": [
            {"name": FRAMES, "dtype": "float32", "padding": "back",
             "shape": ["batch", "steps", preprocessor.features.num_features],
             "meaning": "MFCC frames of each utterance (settings in preprocessor.json), padded with all-zero "
                        "frames after each utterance"},
        ],
        "outputs": [
            {"name": output, "dtype": "float32",
             "shape": ["batch", "steps", len(labels) + 1] if ctc else ["batch", 10],
             "meaning": "CTC logits per step over ['<blank>', *labels]" if ctc
                        else "the probability of each digit 0-9"},
        ],
        "labels": (["<blank>"] if ctc else []) + labels,
        "decoding": {name: getattr(config, name) for name in DECODING_FIELDS},
    }  # fmt: skip
    if config.lexicon:  # the words are in preprocessor.json; not the training machine's path
        described["decoding"]["lexicon"] = "preprocessor.json"
    return {"model.onnx": graph}, described


def translation_export(model, config, preprocessor, format="onnx"):
    """`(graphs, manifest fields)` of an encoder-decoder: the encoder and one decoder step; the
    search (greedy or beam) runs outside the graphs, with the run's settings in the manifest."""
    attention = config.attention != "none"
    states = state_count(model.get_layer("decoder"))
    described = {
        "inputs": [
            {"name": "source", "dtype": "int32", "shape": ["batch", "source_steps"], "padding": "back",
             "graph": "encoder.onnx",
             "meaning": "source subword ids (preprocessor.json), padded with 0 after each sentence"},
            {"name": "token", "dtype": "int32", "shape": ["batch"], "graph": "decoder_step.onnx",
             "meaning": f"the target token just emitted (start: {START_ID}; the search stops at {END_ID})"},
        ],
        "outputs": [
            {"name": "encoder_outputs", "dtype": "float32", "shape": ["batch", "source_steps", "features"],
             "graph": "encoder.onnx", "meaning": "the encoder's outputs: an input of every decoder step"},
            *({"name": f"state_{k}", "dtype": "float32", "shape": ["batch", config.units],
               "graph": "encoder.onnx",
               "meaning": "the decoder's initial state (h, then c for an LSTM): the step's state_K"}
              for k in range(states)),
            {"name": "log_probs", "dtype": "float32", "shape": ["batch", preprocessor.target_vocab],
             "graph": "decoder_step.onnx", "meaning": "the next target token's log-probabilities"},
            *([{"name": "attention", "dtype": "float32", "shape": ["batch", "source_steps"],
                "graph": "decoder_step.onnx", "meaning": "the attention over the source"}]
              if attention else []),
        ],
        "decoding": {"max_len": config.max_len, "length_penalty": config.length_penalty,
                     "start_id": START_ID, "end_id": END_ID},
    }  # fmt: skip
    return seq2seq_graphs(model), described


GRAPHS = {
    "sentiment": classifier_export,
    "lm": lm_export,
    "speech": speech_export,
    "translation": translation_export,
}  # task -> what its export holds
TENSORFLOW_TASKS = ("sentiment", "lm")
TENSORFLOW_FILES = {"saved_model": "saved_model", "tflite": "model.tflite"}

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


FORMAT_NAMES = {
    "onnx": "ONNX (opset {opset})",
    "saved_model": "a TensorFlow SavedModel (signature `serve`)",
    "tflite": "TensorFlow Lite (signature `serving_default`)",
}
USAGE = {
    "onnx": """With rnnlab (ONNX Runtime only; no Keras, no backend):

    rnnlab predict THIS_FOLDER {example}

With ONNX Runtime alone:

    import onnxruntime
    session = onnxruntime.InferenceSession("{graphs[0]}")  # the graphs: {joined}
    outputs = session.run(None, {{...the inputs above...}})
""",
    "saved_model": """With TensorFlow (no Keras, no rnnlab):

    import tensorflow as tf
    model = tf.saved_model.load("saved_model")
    outputs = model.serve(...the inputs above, in order...)  # a dict of the outputs above
""",
    "tflite": """With TensorFlow Lite (`tf.lite.Interpreter`, or LiteRT's `ai_edge_litert`):

    interpreter = tf.lite.Interpreter("model.tflite")
    serve = interpreter.get_signature_runner("serving_default")
    outputs = serve(...the inputs above, by name...)  # a dict of the outputs above
""",
}


def readme(manifest, run_dir):
    """The export's README: what it is and how to run it."""
    metrics = ", ".join(f"{k} {v:.4f}" for k, v in manifest["metrics"].items() if isinstance(v, float))
    lines = "\n".join(
        f"- {kind} `{t['name']}`" + (f" of {t['graph']}" if "graph" in t else "") + f": {t['dtype']} "
        f"{t['shape']}, {t['meaning']}."
        for kind, tensors in (("Input", manifest["inputs"]), ("Output", manifest["outputs"]))
        for t in tensors
    )
    example = {"sentiment": '"a wonderful film" --json', "lm": '"ROMEO:" --length 100',
               "speech": "recording.wav --json", "translation": '"Ein Mann fährt Fahrrad." --beam-size 5'
               }[manifest["task"]]  # fmt: skip
    graphs = manifest["graphs"]
    kind = FORMAT_NAMES[manifest["format"]].format(**manifest)
    return f"""# rnnlab export: {manifest["task"]}

Exported from the run `{run_dir}` (run id {manifest["run"]["run_id"]}; {metrics or "no test metrics"}) as
{kind} (quantisation: {manifest["quantization"] or "none, float32"}).
`manifest.json` lists every file with its sha256; `preprocessor.json` turns text into the ids.

{lines}

{USAGE[manifest["format"]].format(example=example, graphs=graphs, joined=", ".join(graphs))}"""


def describe_export(manifest):
    """One line for the terminal."""
    files = ", ".join(manifest["files"])
    return f"Exported {manifest['task']} as {manifest['format']} ({files}); checksums in manifest.json"
