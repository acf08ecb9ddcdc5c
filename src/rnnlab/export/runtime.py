"""Runs an `rnnlab export` folder with ONNX Runtime: the same records and lines as the run's own
predictor, without importing Keras, JAX, TensorFlow or PyTorch (`rnnlab predict EXPORT_DIR` comes
here before the CLI imports anything else). A classifier's export gives labels; a language model's
generates text with the same sampling as the run, so the same seed gives the same text; a speech
model's transcribes sound files with the run's CTC decoder; a translation model's translates with
the run's greedy or beam search.

Example:
>>> load_export("exports/article").predict(["a wonderful film"])[0]["label"]  # doctest: +SKIP
'positive'
>>> load_export("exports/shakespeare").predict(["ROMEO:"], length=50, seed=0)[0]["text"]  # doctest: +SKIP
"""

import argparse
import dataclasses
import json
import sys
from pathlib import Path

import numpy as np

from rnnlab import config as configs
from rnnlab.data.padding import pad
from rnnlab.decoder_search import DecoderSearch
from rnnlab.errors import InputError
from rnnlab.export import manifest as manifests
from rnnlab.io import stdin_lines
from rnnlab.optional import require
from rnnlab.tasks.lm import generation
from rnnlab.tasks.lm.generation import GenerateOptions
from rnnlab.tasks.lm.preprocessor import load_preprocessor as load_lm_preprocessor
from rnnlab.tasks.sentiment import records
from rnnlab.tasks.sentiment.preprocessor import load_preprocessor
from rnnlab.tasks.speech import decoding
from rnnlab.tasks.speech.config import SpeechConfig
from rnnlab.tasks.speech.preprocessor import load_preprocessor as load_speech_preprocessor
from rnnlab.tasks.translation import records as translation_records
from rnnlab.tasks.translation.preprocessor import END_ID, START_ID
from rnnlab.tasks.translation.preprocessor import load_preprocessor as load_translation_preprocessor


def _session(path, threads=None):
    require("onnxruntime", "Running an exported model")
    import onnxruntime

    options = onnxruntime.SessionOptions()
    if threads:
        options.intra_op_num_threads = threads
    return onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


class Exported:
    """An export folder loaded once: its checked manifest, preprocessor and ONNX Runtime session.

    Args:
        folder: a folder written by `rnnlab export` (its files' sha256 are checked).
        threads: ONNX Runtime's threads within an operation (None: its default).
        manifest: the folder's manifest, when already read and checked.
    """

    options_cls = None  # the dataclass of `predict`'s options, if it takes any
    load_preprocessor = None  # the task's preprocessor reader

    def __init__(self, folder, threads=None, manifest=None):
        self.folder = Path(folder)
        self.manifest = manifest or manifests.read(self.folder)
        unlisted = [
            n
            for n in [*self.manifest["graphs"], self.manifest["preprocessing"]]
            if n not in self.manifest["files"]
        ]
        if unlisted:  # every file opened is one whose sha256 was checked
            raise manifests.ExportError(
                f"{self.folder}: {unlisted[0]} is not among the files manifest.json checks."
            )
        self.preprocessor = type(self).load_preprocessor(self.folder / self.manifest["preprocessing"])
        self.sessions = {name: _session(self.folder / name, threads) for name in self.manifest["graphs"]}
        self.session = self.sessions.get("model.onnx")  # the one graph of most tasks


class ExportedClassifier(Exported):
    """A sentiment (text classification) export."""

    load_preprocessor = staticmethod(load_preprocessor)

    def __init__(self, folder, threads=None, manifest=None):
        super().__init__(folder, threads, manifest)
        [self.input] = self.manifest["inputs"]

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


class OnnxStepper:
    """One step of an exported language model: `initial_states(batch)` and `step(tokens, states)`,
    as `rnnlab.sampling` expects."""

    def __init__(self, session, state_sizes):
        self.session, self.state_sizes = session, state_sizes
        self.names = [f"state_{d}_{k}" for d, sizes in enumerate(state_sizes) for k in range(len(sizes))]

    def initial_states(self, batch_size):
        return [[np.zeros((batch_size, size), "float32") for size in sizes] for sizes in self.state_sizes]

    def step(self, tokens, states):
        """`(logits (batch, vocab) float64, states)` after reading `tokens` `(batch,)`."""
        flat = [np.asarray(s, "float32") for layer in states for s in layer]
        feed = {"token": np.asarray(tokens, "int32"), **dict(zip(self.names, flat, strict=True))}
        logits, *flat = self.session.run(None, feed)
        new_states, position = [], 0
        for sizes in self.state_sizes:
            new_states.append(flat[position : position + len(sizes)])
            position += len(sizes)
        return np.asarray(logits, dtype=np.float64), new_states


class ExportedLM(Exported):
    """A language model's export: generation outside Keras, the states carried in NumPy."""

    options_cls = GenerateOptions
    load_preprocessor = staticmethod(load_lm_preprocessor)

    def __init__(self, folder, threads=None, manifest=None):
        super().__init__(folder, threads, manifest)
        self.stepper = OnnxStepper(self.session, self.manifest["state_sizes"])

    def predict(self, prompts, length=200, temperature=1.0, top_k=None, seed=0):
        """`{text}` per prompt, as the run's predictor: `length` tokens continuing it."""
        return [
            {
                "text": generation.continue_text(
                    self.preprocessor, self.stepper, p, length, temperature, top_k, seed
                )
            }
            for p in prompts
        ]

    def line(self, record, source):
        return generation.line(self.preprocessor, record, source)

    def warnings(self, record, source):
        return generation.warnings(self.preprocessor, source)


SPEECH_BATCH = 64  # utterances per call of a speech graph


class ExportedSpeech(Exported):
    """A speech export: MFCC frames through the acoustic model, CTC decoding in NumPy with the
    run's decoder (`rnnlab.tasks.speech.decoding`)."""

    options_cls = decoding.SpeechOptions
    load_preprocessor = staticmethod(load_speech_preprocessor)

    def __init__(self, folder, threads=None, manifest=None):
        super().__init__(folder, threads, manifest)
        self.config = SpeechConfig(**self.manifest["decoding"])

    def outputs(self, frames):
        """The graph's output for each utterance's `(steps, features)` frames: `(10,)` digit
        probabilities, or `(steps, labels)` logits over its own steps."""
        outputs = []
        for start in range(0, len(frames), SPEECH_BATCH):  # bounded memory for many files
            chunk = frames[start : start + SPEECH_BATCH]
            longest = max(len(f) for f in chunk)
            batch = np.stack([np.pad(f, ((0, longest - len(f)), (0, 0))) for f in chunk]).astype(np.float32)
            output = self.session.run(None, {"frames": batch})[0]
            if not self.config.uses_ctc:
                outputs += list(output)
            else:
                outputs += [row[: len(f)] for row, f in zip(output, chunk, strict=True)]
        return outputs

    def predict(self, sources, beam_size=None, lm=None):
        """`{text, probability, duration_s, posteriors}` per sound file (path or bytes), as the
        run's predictor."""
        sources = list(sources)
        if not sources:
            raise InputError("Expected at least one sound file. Received: none.")
        config = decoding.decoding_config(self.config, beam_size, lm)
        audios = [self.preprocessor.read(source) for source in sources]
        outputs = self.outputs([self.preprocessor.frames(audio) for audio in audios])
        rate = self.preprocessor.features.sample_rate
        return [
            decoding.transcription(output, audio, config, self.preprocessor).to_record(rate)
            for output, audio in zip(outputs, audios, strict=True)
        ]

    line = staticmethod(decoding.result_line)

    def warnings(self, record, source):
        return []


class OnnxTranslator(DecoderSearch):
    """Greedy and beam search (`rnnlab.decoder_search`) over an exported encoder and decoder step.

    Args:
        encoder, step: ONNX Runtime sessions of `encoder.onnx` and `decoder_step.onnx`.
        start_id, end_id: the target vocabulary's start and end ids.
    """

    def __init__(self, encoder, step, start_id, end_id):
        super().__init__(start_id, end_id)
        self.encoder, self.step_session = encoder, step
        outputs = [output.name for output in step.get_outputs()]
        self.attention = "attention" in outputs
        self.state_names = [name for name in outputs if name.startswith("new_")]

    def encode(self, source_ids):
        source = np.asarray(source_ids, "int32")
        encoder_outputs, *states = self.encoder.run(None, {"source": source})
        return source, encoder_outputs, states

    def step(self, tokens, states, encoder_outputs, source):
        feed = {"token": np.asarray(tokens, "int32"), "encoder_outputs": encoder_outputs, "source": source}
        feed.update(
            (name[len("new_") :], state) for name, state in zip(self.state_names, states, strict=True)
        )
        log_probs, *rest = self.step_session.run(None, feed)
        if self.attention:
            return log_probs, rest[1:], rest[0]
        return log_probs, rest, None


class ExportedTranslation(Exported):
    """A translation export: the encoder once, then greedy or beam search over the decoder step."""

    options_cls = translation_records.TranslationOptions
    load_preprocessor = staticmethod(load_translation_preprocessor)

    def __init__(self, folder, threads=None, manifest=None):
        super().__init__(folder, threads, manifest)
        self.translator = OnnxTranslator(
            self.sessions["encoder.onnx"], self.sessions["decoder_step.onnx"], START_ID, END_ID
        )

    def translate(self, sentences, beam_size=1):
        """`Translation`s of sentences, as the run's predictor gives them."""
        settings = self.manifest["decoding"]
        return translation_records.translations(
            self.translator, self.preprocessor, sentences, beam_size, settings["max_len"],
            settings["length_penalty"],
        )  # fmt: skip

    def predict(self, sentences, beam_size=1):
        """`{translation, source_tokens, target_tokens, attention, unknown_words}` per sentence."""
        return [translation.to_record() for translation in self.translate(sentences, beam_size)]

    line = staticmethod(translation_records.line)
    warnings = staticmethod(translation_records.warnings)


RUNTIMES = {
    "sentiment": ExportedClassifier,
    "lm": ExportedLM,
    "speech": ExportedSpeech,
    "translation": ExportedTranslation,
}


def load_export(folder, threads=None):
    """The runtime of an export folder, by its manifest's task.

    Raises:
        ExportError: not an export, a changed file, or a task or format this runtime does not run.
    """
    manifest = manifests.read(folder)
    if manifest["task"] not in RUNTIMES or manifest.get("format") != "onnx":
        raise manifests.ExportError(
            f"{folder} is a {manifest['task']} export as {manifest.get('format')}; this rnnlab runs "
            f"{', '.join(RUNTIMES)} exports as onnx."
        )
    return RUNTIMES[manifest["task"]](folder, threads, manifest)


def predict_command(argv):
    """`rnnlab predict EXPORT_DIR [INPUT ...] [--json]` and the export's own options (a language
    model's generation, a speech model's decoding): prints one line (or JSON record) per input."""
    first = argparse.ArgumentParser(add_help=False)
    first.add_argument("export_dir")
    known, _ = first.parse_known_args(argv)
    exported = load_export(known.export_dir)
    parser = argparse.ArgumentParser(
        prog="rnnlab predict", description=f"predict with an rnnlab {exported.manifest['task']} export"
    )
    parser.add_argument("export_dir", metavar="EXPORT_DIR", help="folder written by `rnnlab export`")
    parser.add_argument(
        "texts", nargs="*", metavar="INPUT", help="inputs; none reads one per line from stdin"
    )
    parser.add_argument("--json", action="store_true", help="print one JSON record per input")
    if exported.options_cls:
        configs.add_arguments(parser, exported.options_cls)
    args = parser.parse_args(argv)
    if not args.texts and sys.stdin.isatty():
        raise ValueError("Expected inputs as arguments or one per line on stdin. Received: none.")
    inputs = args.texts or stdin_lines()
    if not inputs:
        raise ValueError("Expected inputs as arguments or one per line on stdin. Received: none.")
    options = {}
    if exported.options_cls:
        names = [field.name for field in dataclasses.fields(exported.options_cls)]
        given = {name: getattr(args, name) for name in names if getattr(args, name) is not None}
        options = vars(configs.resolve(exported.options_cls, overrides=given))
    for source, record in zip(inputs, exported.predict(inputs, **options), strict=True):
        print(json.dumps(record, ensure_ascii=False) if args.json else exported.line(record, source))
        for warning in exported.warnings(record, source):
            print(f"rnnlab: warning: {warning}", file=sys.stderr)
    return 0
