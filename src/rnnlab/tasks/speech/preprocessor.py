"""Audio -> model input for the speech task, and labels <-> text.

Nothing is fitted: MFCC settings and per-utterance normalisation make each
utterance's features on its own. Digits are classes 0-9; in digit strings
the CTC labels are digit + 1 (0 is the blank).
"""

from dataclasses import fields

from rnnlab.audio.features import FeatureSettings, mfcc_features
from rnnlab.audio.reading import read_audio
from rnnlab.runs import read_preprocessor_config, write_json
from rnnlab.tasks.speech.language_model import LabelNgram

MAX_SECONDS = {"digits": 10.0, "digit-strings": 30.0}  # longest input accepted for transcription


class SpeechPreprocessor:
    """Feature settings, the mode, and (digit strings) the language model's counts.

    Args:
        mode: 'digits' or 'digit-strings'.
        features: a `FeatureSettings`.
        lm: for digit strings, a `LabelNgram` fitted on the training strings (or None).

    Example:
    >>> p = SpeechPreprocessor("digit-strings", FeatureSettings(stack=3))
    >>> p.encode_text("907"), p.decode_labels([10, 1, 8])
    ([10, 1, 8], '907')
    """

    def __init__(self, mode, features, lm=None):
        self.mode, self.features, self.lm = mode, features, lm

    @property
    def num_classes(self):
        return 10

    @property
    def max_seconds(self):
        return MAX_SECONDS[self.mode]

    def frames(self, audio):
        """`(steps, features)` float32 of mono samples at the settings' rate."""
        return mfcc_features(audio, self.features)

    def read(self, source, name=None):
        """Samples of a sound file (path or bytes), checked and resampled (see `read_audio`)."""
        return read_audio(source, self.features.sample_rate, self.max_seconds, name=name)

    def encode_text(self, text):
        """Digit string -> CTC labels (digit + 1)."""
        if not text or not text.isdigit() or not text.isascii():
            raise ValueError(f"Expected a string of digits 0-9. Received: {text!r}")
        return [int(c) + 1 for c in text]

    def decode_labels(self, labels):
        return "".join(str(int(label) - 1) for label in labels if int(label) > 0)

    def get_config(self):
        return {
            "kind": "speech",
            "mode": self.mode,
            "features": self.features.to_dict(),
            "lm": None if self.lm is None else self.lm.to_dict(),
        }

    def save(self, path):
        write_json(path, self.get_config())


def load_preprocessor(path):
    """Reads a `SpeechPreprocessor` saved by `save`; malformed files are a clear ValueError."""
    config = read_preprocessor_config(path, "speech", "speech")
    try:
        names = {f.name for f in fields(FeatureSettings)}
        settings = config["features"]
        if set(settings) != names:
            raise ValueError(f"feature settings {sorted(settings)}, expected {sorted(names)}")
        if config["mode"] not in MAX_SECONDS:
            raise ValueError(f"mode {config['mode']!r}")
        lm = None if config.get("lm") is None else LabelNgram.from_dict(config["lm"])
        return SpeechPreprocessor(config["mode"], FeatureSettings(**settings), lm)
    except Exception as error:  # any malformed content
        raise ValueError(
            f"Cannot read a speech preprocessor from {path}: {type(error).__name__}: {error}"
        ) from None
