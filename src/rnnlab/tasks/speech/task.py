"""Speech recognition on the Free Spoken Digit Dataset (article 6.3) as a `Task`.

rnnlab train speech --mode digits --output runs/digits
rnnlab train speech --mode digit-strings --output runs/strings
rnnlab evaluate runs/strings [--beam-size 16 --lm ngram]
rnnlab transcribe runs/digits 7_theo_12.wav [--plot mfcc.png]
"""

import json
import sys
from pathlib import Path

import keras
import numpy as np

from rnnlab.audio.augment import augment
from rnnlab.audio.features import FeatureSettings
from rnnlab.audio.perturbation import SpectralPerturbation
from rnnlab.backend import add_backend_argument
from rnnlab.data.batches import Batching, Examples
from rnnlab.data.padding import padded_length
from rnnlab.data.split import validation_count
from rnnlab.datasets import fsdd, user_text
from rnnlab.datasets.recordings import read_recordings
from rnnlab.errors import InputError, RunChanged
from rnnlab.losses import CTCLoss
from rnnlab.models.acoustic import build_acoustic_model
from rnnlab.optional import require
from rnnlab.plots import speech_outputs
from rnnlab.tasks.base import Predictor, Task, load_predictor_for
from rnnlab.tasks.speech.config import SpeechConfig
from rnnlab.tasks.speech.decoding import (
    SpeechOptions,
    decode,
    decoding_config,
    result_line,
    transcription,
)
from rnnlab.tasks.speech.language_model import LMS, LabelNgram
from rnnlab.tasks.speech.preprocessor import SpeechPreprocessor, load_preprocessor, spelled
from rnnlab.tasks.speech.strings import make_strings

TEST_STRINGS_SEED = 20_061  # test strings are the same for every run, whatever its seed
BOUNDARIES = (24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 256, 320, 384, 512, 768, 1024, 2048)
FRAME_BUCKET = 64  # transcription pads its input to a multiple of this many frames (to 512), then more
_RECORDINGS = {}
_STRINGS = {}  # the last set of strings made (one entry)


def recordings():
    """Every FSDD recording, read once per process."""
    archive = fsdd.path()
    key = str(archive.resolve())
    if key not in _RECORDINGS:
        _RECORDINGS.clear()
        _RECORDINGS[key] = fsdd.load_recordings()
    return _RECORDINGS[key]


def recording_pools(config):
    """`(train, validation, test)` recordings: the official split (or a held-out speaker), the
    training part in a seeded order with its last `validation_split` as validation (or every
    recording of `valid_speaker`, not trained on); `limit` caps the training part and the test
    recordings. With `config.data`: see `user_pools`."""
    if config.data:
        return user_pools(config)
    everything = recordings()
    if config.held_out_speaker:
        train, test = fsdd.speaker_split(everything, config.held_out_speaker)
        if config.valid_speaker:
            train, validation = fsdd.speaker_split(train, config.valid_speaker)
    else:
        train, test = fsdd.official_split(everything)
    train = [train[i] for i in np.random.default_rng(config.seed).permutation(len(train))]
    test = [test[i] for i in np.random.default_rng(TEST_STRINGS_SEED).permutation(len(test))]
    if config.limit is not None and config.mode == "digits":  # strings: limit caps the strings made
        train, test = train[: config.limit], test[: config.limit]
    if config.valid_speaker:
        validation = [validation[i] for i in np.random.default_rng(config.seed).permutation(len(validation))]
        if config.limit is not None and config.mode == "digits":
            validation = validation[: config.limit]
        return train, validation, test
    n_val = validation_count(len(train), config.validation_split)
    return train[:-n_val], train[-n_val:], test


def user_pools(config):
    """`(train, validation, test)` lists of `Recorded` from `--data` (and `--valid-data`,
    `--test-data`): without `--test-data`, a `test_split` of `--data` drawn with a fixed seed (the
    same test recordings whatever `--seed`); without `--valid-data`, the last `validation_split` of
    the rest in a seeded order; `limit` caps the training recordings and the test part of `--data`."""
    items = read_recordings(config.data)
    if config.test_data:
        test = read_recordings(config.test_data)
    else:
        fixed = np.random.default_rng(TEST_STRINGS_SEED).permutation(len(items))
        count = max(1, int(round(len(items) * config.test_split)))
        test, items = [items[i] for i in fixed[:count]], [items[i] for i in fixed[count:]]
    items = [items[i] for i in np.random.default_rng(config.seed).permutation(len(items))]
    if config.limit is not None:  # the recordings of --data (and its test part), never --test-data's
        items = items[: config.limit]
        test = test if config.test_data else test[: config.limit]
    if config.valid_data:
        train, validation = items, read_recordings(config.valid_data)
    else:
        n_val = validation_count(len(items), config.validation_split)
        train, validation = items[:-n_val], items[-n_val:]
    if not train:
        raise ValueError(
            f"{config.data} leaves no recordings to train on after the test and validation parts."
        )
    return train, validation, test


def feature_settings(config):
    return FeatureSettings(n_mfcc=config.n_mfcc, n_mels=max(40, config.n_mfcc), deltas=config.deltas,
                           normalize=config.normalize, stack=config.frame_stack)  # fmt: skip


def digit_strings(config, split, pool):
    """The seeded digit strings of `split` ('train', 'val' or 'test') made from `pool`'s recordings
    (the last set made is kept: the language model and the examples share the training strings)."""
    train, test = config.train_strings, config.test_strings
    if config.limit is not None:
        train, test = min(train, config.limit), min(test, config.limit)
    count = {"train": train, "val": max(1, int(round(train * config.validation_split))), "test": test}[split]
    seed = {"train": config.seed * 3 + 1, "val": config.seed * 3 + 2, "test": TEST_STRINGS_SEED}[split]
    key = (
        tuple(r.name for r in pool),
        count,
        seed,
        config.min_digits,
        config.max_digits,
        config.noise_snr_db,
    )
    if key not in _STRINGS:  # the training strings serve both the language model and the examples
        _STRINGS.clear()
        _STRINGS[key] = make_strings(
            pool, count, seed, config.min_digits, config.max_digits, noise_snr_db=config.noise_snr_db
        )
    return _STRINGS[key]


def _augmented(audios, config, settings):
    """`(audios, perturbations, sources)`: `audios` followed by `config.augment` seeded variants
    of each (speed, shift and noise on the samples; VTLP and SpecAugment masks, when asked, as the
    `SpectralPerturbation` its features are computed with), and the index each copy comes from."""
    out, sources = list(audios), list(range(len(audios)))
    perturbations = [None] * len(audios)
    if not config.augment:
        return out, perturbations, sources
    rng = np.random.default_rng(config.seed + 7)
    spectral = np.random.default_rng(config.seed + 11)  # its own stream: copies without it stay the same
    speed = (1 - config.augment_speed, 1 + config.augment_speed) if config.augment_speed else None
    for _ in range(config.augment):
        for i, audio in enumerate(audios):
            copy = augment(audio, rng, settings.sample_rate, speed=speed)
            out.append(copy)
            sources.append(i)
            if config.vtlp or config.freq_masks or config.time_masks:
                frames = 1 + len(copy) // settings.hop_length
                perturbations.append(SpectralPerturbation.draw(
                    spectral, config.vtlp, config.freq_masks, config.time_masks, settings.n_mels, frames
                ))  # fmt: skip
            else:
                perturbations.append(None)
    return out, perturbations, sources


def cer_and_wer(references, hypotheses, words=False):
    """jiwer's character error rate, and its word error rate: over the words between spaces
    (`words=True`), or with each digit of a digit string a word (then the same number as the CER;
    both are reported)."""
    jiwer = require("jiwer", "Speech metrics (CER, WER)")
    spaced = (lambda texts: list(texts)) if words else (lambda texts: [" ".join(t) for t in texts])  # noqa: E731
    return {
        "cer": float(jiwer.cer(list(references), hypotheses)),
        "wer": float(jiwer.wer(spaced(references), spaced(hypotheses))),
        "string_accuracy": float(np.mean([r == h for r, h in zip(references, hypotheses, strict=True)])),
    }


class SpeechTask(Task):
    """Recognise spoken digits: one per recording, or strings of them with CTC."""

    name = "speech"
    config_cls = SpeechConfig
    monitor = "val_loss"
    monitor_mode = "min"
    validation_from_train = False  # recordings are held out before augmentation (`recording_pools`)
    evaluation_fields = ("beam_size", "lm", "lm_weight", "insertion_bonus", "test_data")
    demo_page = "demo.html"  # a WAV upload or a 2-second recording made in the browser

    def make_preprocessor(self, config):
        train, _, _ = recording_pools(config)
        if config.data:
            texts = [r.transcript for r in train]
        else:
            if config.mode == "digits":
                digits = [str(r.digit) for r in train]
            else:
                digits = [s.text for s in digit_strings(config, "train", train)]
            if config.targets == "digits":
                lm = None
                if config.mode == "digit-strings":  # the LM sees training transcripts only
                    lm = LabelNgram.fit(digits, min_digits=config.min_digits, max_digits=config.max_digits)
                return SpeechPreprocessor(config.mode, feature_settings(config), lm)
            texts = [spelled(text) for text in digits]
        alphabet = sorted(set("".join(texts)))
        lexicon = read_lexicon(config.lexicon, alphabet) if config.lexicon else None
        preprocessor = SpeechPreprocessor(config.mode, feature_settings(config), None, alphabet, lexicon)
        sequences = [preprocessor.encode_text(text) for text in texts]
        preprocessor.lm = LabelNgram.fit_labels(sequences, len(alphabet))
        return preprocessor

    def load_preprocessor(self, path):
        return load_preprocessor(path)

    def _examples(self, config, split, pool, preprocessor):
        if config.data:  # the user's recordings (`Recorded`), read and checked here
            audios = [preprocessor.read(r.path, name=f"{r.where}: {r.path}") for r in pool]
            labels = [r.transcript for r in pool]
            meta = {"names": [r.where for r in pool], "texts": labels}
        elif config.mode == "digits":
            audios, labels = [r.audio for r in pool], [r.digit for r in pool]
            meta = {
                "names": [r.name for r in pool],
                "texts": [preprocessor.transcript(str(r.digit)) for r in pool],
            }
        else:
            strings = digit_strings(config, split, pool)
            audios, labels = [s.audio for s in strings], [s.text for s in strings]
            meta = {"names": [" ".join(s.sources) for s in strings],
                    "texts": [preprocessor.transcript(s.text) for s in strings]}  # fmt: skip
        perturbations = [None] * len(audios)
        if split == "train":
            audios, perturbations, sources = _augmented(audios, config, preprocessor.features)
            labels = [labels[i] for i in sources]
            meta = {name: [values[i] for i in sources] for name, values in meta.items()}
        frames = [preprocessor.frames(a, p) for a, p in zip(audios, perturbations, strict=True)]
        if not config.uses_ctc:
            targets = np.array(labels, dtype=np.int32)
        else:  # CTCLoss's packing: [valid steps, labels...]
            targets = []
            for f, text, name in zip(frames, meta["texts"], meta["names"], strict=True):
                try:
                    labels = preprocessor.encode_text(text)
                except ValueError as error:
                    raise ValueError(f"{name}: {error}") from None
                check_ctc_steps(len(f), labels, config.frame_stack, name=name)
                targets.append(np.array([len(f), *labels], dtype=np.int32))
        return Examples(frames, targets, pad_side="back", meta=meta)

    def examples(self, config, split, preprocessor):
        if split == "test" and config.data and config.test_data:  # alone: evaluation may run elsewhere
            return self._examples(config, "test", read_recordings(config.test_data), preprocessor)
        train, validation, test = recording_pools(config)
        pool = {"train": train, "validation": validation, "test": test}[split]
        return self._examples(config, "val" if split == "validation" else split, pool, preprocessor)

    def batching(self, config):
        return Batching(bucket_boundaries=BOUNDARIES) if config.bucket else Batching()

    def build_model(self, config, preprocessor, start=None):
        return build_acoustic_model(
            preprocessor.features.num_features,
            preprocessor.num_classes,
            output="ctc" if config.uses_ctc else "digit",
            cell=config.cell,
            units=config.units,
            num_layers=config.num_layers,
            bidirectional=config.bidirectional,
            dropout=config.dropout,
            output_dropout=config.output_dropout,
            fast_layers=config.fast_layers,
        )

    def loss_and_metrics(self, config, preprocessor):
        if not config.uses_ctc:
            return keras.losses.SparseCategoricalCrossentropy(), ["accuracy"]
        return CTCLoss(), []

    def evaluate_examples(self, model, config, examples, preprocessor=None):
        metrics = super().evaluate_examples(model, config, examples)
        if config.uses_ctc and preprocessor is not None:
            order = self.batch_order(config, examples)
            texts = [None] * len(examples)
            for length, indices in order.plan(0):
                x, y = examples.batch(indices, length)
                logits = np.asarray(model.predict_on_batch(x))
                for row, index in enumerate(indices):
                    labels = decode(logits[row, : y[row, 0]], config, preprocessor)
                    texts[index] = preprocessor.decode_labels(labels)
            metrics.update(cer_and_wer(examples.meta["texts"], texts, words=config.targets == "characters"))
        return metrics

    def check_run(self, config, preprocessor, model, folder):
        expected = preprocessor.features.num_features
        found = model.inputs[0].shape[-1]
        if found != expected or (preprocessor.mode, preprocessor.targets) != (config.mode, config.targets):
            raise RunChanged(
                folder,
                f"preprocessor.json ({preprocessor.mode}, {preprocessor.targets}, {expected} features per "
                f"step) does not match the run (mode {config.mode}, {config.targets}, a model reading "
                f"{found} features)",
            )

    def describe(self, metrics):
        n = metrics["num_test"]
        if "test_cer" in metrics:
            return (
                f"Test CER {100 * metrics['test_cer']:.2f}%, WER {100 * metrics['test_wer']:.2f}%, "
                f"{100 * metrics['test_string_accuracy']:.2f}% of {n} transcripts exact"
            )
        return f"Test accuracy {100 * metrics['test_accuracy']:.2f}% on {n} recordings"

    def plot_title(self, config, num_train):
        if config.data:
            return f"{Path(config.data).name}, characters, {config.cell}, {num_train} training recordings"
        split = f"held-out speaker {config.held_out_speaker}" if config.held_out_speaker else "official split"
        targets = ", characters" if config.targets == "characters" else ""
        return f"FSDD {config.mode}{targets}, {config.cell}, {split}, {num_train} training utterances"

    @property
    def predictor_cls(self):
        return SpeechPredictor

    def add_commands(self, commands):
        parser = commands.add_parser("transcribe", help="transcribe sound files with a speech run")
        parser.add_argument("run_dir", metavar="RUN_DIR", help="folder written by `rnnlab train speech`")
        parser.add_argument("files", nargs="+", metavar="FILE", help="sound files (WAV, FLAC, OGG, ...)")
        parser.add_argument("--beam", type=int, default=None, help="CTC beam width (default: the run's)")
        parser.add_argument("--lm", choices=LMS, default=None,
                            help="language model in beam search (default: the run's)")  # fmt: skip
        parser.add_argument("--plot", metavar="FILE", help="spectrogram and outputs of the first file (PNG)")
        parser.add_argument("--json", action="store_true", help="one JSON record per file")
        add_backend_argument(parser)
        parser.set_defaults(func=transcribe_command)


def check_ctc_steps(steps, labels, frame_stack, name=None):
    """Raises ValueError when `steps` outputs cannot spell `labels` under CTC (a blank must
    separate repeated labels)."""
    needed = len(labels) + sum(a == b for a, b in zip(labels[:-1], labels[1:], strict=True))
    if steps < needed:
        where = f"{name}: " if name else ""
        raise ValueError(
            f"{where}a transcript of {len(labels)} labels has {steps} steps, fewer than the {needed} "
            f"CTC needs. Expected longer audio or a smaller frame_stack (received {frame_stack})."
        )


def read_lexicon(path, alphabet):
    """The words of a word list (one per line; blank lines skipped).

    Raises:
        ValueError: an unreadable file, no words, or a word with a space or a character outside the
            alphabet (naming the file and line).
    """
    words = []
    for number, line in enumerate(user_text.read_text(path).splitlines(), 1):
        word = line.strip()
        if not word:
            continue
        unknown = sorted({c for c in word if c not in alphabet or c == " "})
        if unknown:
            raise ValueError(
                f"{path}, line {number}: the word {word!r} has characters outside the training "
                f"transcripts' alphabet (or spaces): {unknown}. Expected one word of "
                f"{''.join(alphabet)!r} per line."
            )
        words.append(word)
    if not words:
        raise ValueError(f"{path} holds no words. Expected one word per line.")
    return words


def padded_frames(steps):
    """The frames a sound of `steps` frames is padded to (see `padded_length`)."""
    return padded_length(steps, FRAME_BUCKET)


class SpeechPredictor(Predictor):
    """A speech run loaded once.

    Example:
    >>> SpeechPredictor("runs/digits").transcribe(["7_theo_12.wav"])[0].text  # doctest: +SKIP
    '7'
    """

    options_cls = SpeechOptions
    input_kind = "audio"
    input_description = "a sound file (WAV, FLAC, OGG, ...)"

    def predict(self, sources, beam_size=None, lm=None):
        """`{text, probability, duration_s, posteriors}` per sound file (path or bytes)."""
        self.options(beam_size=beam_size, lm=lm)
        rate = self.preprocessor.features.sample_rate
        return [result.to_record(rate) for result in self.transcribe(sources, beam_size, lm)]

    def line(self, record, source):
        return result_line(record, source)

    def transcribe(self, sources, beam_size=None, lm=None):
        """Transcriptions of sound files (paths, or bytes).

        Args:
            sources: paths or file contents.
            beam_size, lm: override the run's decoding (digit strings).

        Raises:
            AudioError (a ValueError): a source that is not usable audio.
        """
        sources = list(sources)
        if not sources:
            raise InputError("Expected at least one sound file. Received: none.")
        config = decoding_config(self.config, beam_size, lm)
        results = []
        for audio in [self.preprocessor.read(source) for source in sources]:
            frames = self.preprocessor.frames(audio)
            steps = len(frames)
            # Zero frames are masked: the padding changes no output and bounds the shapes
            # compiled (a server would otherwise compile one per duration).
            padded = np.pad(frames, ((0, padded_frames(steps) - steps), (0, 0)))
            output = np.asarray(self.model.predict_on_batch(padded[None]))[0]
            if config.uses_ctc:
                output = output[:steps]
            results.append(transcription(output, audio, config, self.preprocessor))
        return results


def transcribe_command(args):
    """`rnnlab transcribe RUN FILE...`: `rnnlab predict` for speech runs, with decoding flags and a
    plot of the first file (`--plot`)."""
    predictor = load_predictor_for(args.run_dir, "speech", "transcribe", backend=args.backend)
    predictor.options(beam_size=args.beam, lm=args.lm)
    results = predictor.transcribe(args.files, beam_size=args.beam, lm=args.lm)
    rate = predictor.preprocessor.features.sample_rate
    for source, result in zip(args.files, results, strict=True):
        record = result.to_record(rate)
        print(json.dumps(record) if args.json else result_line(record, source))
    if args.plot:
        speech_outputs(
            results[0], predictor.preprocessor.features, args.plot, title=args.files[0],
            labels=predictor.preprocessor.alphabet,
        )  # fmt: skip
        print(f"Wrote {args.plot}", file=sys.stderr)
    return 0


TASK = SpeechTask()
