"""Runs an `rnnlab export` folder with ONNX Runtime: the same records and lines as the run's own
predictor, without importing Keras, JAX, TensorFlow or PyTorch (`rnnlab predict EXPORT_DIR` comes
here before the CLI imports anything else).

Example:
>>> classifier = ExportedClassifier("exports/article")  # doctest: +SKIP
>>> classifier.predict(["a wonderful film"])[0]["label"]  # doctest: +SKIP
'positive'
"""

import argparse
import dataclasses
import json
import sys
from pathlib import Path

import numpy as np

from rnnlab.data.padding import pad
from rnnlab.export import manifest as manifests
from rnnlab.io import stdin_lines
from rnnlab.optional import require
from rnnlab.tasks.sentiment import records
from rnnlab.tasks.sentiment.preprocessor import load_preprocessor


class ExportedClassifier:
    """A sentiment (text classification) export, loaded once.

    Args:
        folder: a folder written by `rnnlab export` (its files' sha256 are checked).
        threads: ONNX Runtime's threads within an operation (None: its default).
    """

    def __init__(self, folder, threads=None):
        require("onnxruntime", "Running an exported model")
        import onnxruntime

        self.folder = Path(folder)
        self.manifest = manifests.read(self.folder)
        if self.manifest["task"] != "sentiment" or self.manifest["format"] != "onnx":
            raise manifests.ExportError(
                f"{folder} is a {self.manifest['task']} export as {self.manifest['format']}; this runtime "
                "runs sentiment exports as onnx."
            )
        self.preprocessor = load_preprocessor(self.folder / self.manifest["preprocessing"])
        [self.input] = self.manifest["inputs"]
        options = onnxruntime.SessionOptions()
        if threads:
            options.intra_op_num_threads = threads
        self.session = onnxruntime.InferenceSession(
            str(self.folder / "model.onnx"), options, providers=["CPUExecutionProvider"]
        )

    def token_ids(self, texts):
        """The graph's input for texts: ids padded as the manifest says."""
        sequences = self.preprocessor.sequences(texts)
        if self.input["padding"] == "front":
            return pad(sequences, self.input["max_steps"], side="front", dtype=np.int32)
        return pad(sequences, max(len(s) for s in sequences), side="back", dtype=np.int32)

    def probabilities(self, texts):
        """The graph's output for texts: `(n, 1)` P(second label) or `(n, labels)`."""
        return self.session.run(None, {self.input["name"]: self.token_ids(texts)})[0]

    def predict(self, texts):
        """`{label, probability, known_words, probabilities}` per text, as the run's predictor."""
        texts = records.check_texts(texts)
        known = [self.preprocessor.known_tokens(text) for text in texts]
        found = records.predictions(self.probabilities(texts), known, self.preprocessor.labels)
        return [dataclasses.asdict(p) for p in found]

    line = staticmethod(records.line)
    warnings = staticmethod(records.warnings)


def predict_command(argv):
    """`rnnlab predict EXPORT_DIR [INPUT ...] [--json]`: prints one line (or JSON record) per input."""
    parser = argparse.ArgumentParser(prog="rnnlab predict", description="predict with an rnnlab export")
    parser.add_argument("export_dir", metavar="EXPORT_DIR", help="folder written by `rnnlab export`")
    parser.add_argument("texts", nargs="*", metavar="INPUT", help="texts; none reads one per line from stdin")
    parser.add_argument("--json", action="store_true", help="print one JSON record per input")
    args = parser.parse_args(argv)
    if not args.texts and sys.stdin.isatty():
        raise ValueError("Expected inputs as arguments or one per line on stdin. Received: none.")
    inputs = args.texts or stdin_lines()
    if not inputs:
        raise ValueError("Expected inputs as arguments or one per line on stdin. Received: none.")
    classifier = ExportedClassifier(args.export_dir)
    for source, record in zip(inputs, classifier.predict(inputs), strict=True):
        print(json.dumps(record, ensure_ascii=False) if args.json else classifier.line(record, source))
        for warning in classifier.warnings(record, source):
            print(f"rnnlab: warning: {warning}", file=sys.stderr)
    return 0
