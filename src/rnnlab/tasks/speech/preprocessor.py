"""Audio -> model input for the speech task, and labels <-> text.

The features are not fitted: MFCC settings and per-utterance normalisation make each utterance's
features on its own. With digit targets, digits are classes 0-9, and in digit strings the CTC
labels are digit + 1 (0 is the blank). With character targets, transcripts are words (FSDD's '7'
is 'seven', '73' is 'seven three') and the CTC labels are 1 + the index of each character in the
alphabet of the training transcripts; an optional lexicon (word list) constrains beam search.
"""

from dataclasses import fields

from rnnlab.audio.features import FeatureSettings, mfcc_features
from rnnlab.audio.reading import read_audio
from rnnlab.runs import read_preprocessor_config, write_json
from rnnlab.tasks.speech.language_model import LabelNgram

MAX_SECONDS = {"digits": 10.0, "digit-strings": 30.0}  # longest input accepted for transcription
WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")


def spelled(digits):
    """The words of a digit string: '73' -> 'seven three'."""
    return " ".join(WORDS[int(d)] for d in digits)


class SpeechPreprocessor:
    """Feature settings, the mode, the targets, and the language model's counts.

    Args:
        mode: 'digits' or 'digit-strings'.
        features: a `FeatureSettings`.
        lm: a `LabelNgram` fitted on the training transcripts' labels (or None).
        alphabet: the characters of character targets, in label order (None: digit targets).
        lexicon: the words beam search may emit (character targets; None: any).

    Example:
    >>> p = SpeechPreprocessor("digit-strings", FeatureSettings(stack=3))
    >>> p.encode_text("907"), p.decode_labels([10, 1, 8])
    ([10, 1, 8], '907')
    >>> p = SpeechPreprocessor("digits", FeatureSettings(), alphabet=list(" eno"))
    >>> p.transcript("1"), p.encode_text("one"), p.decode_labels([4, 3, 2])
    ('one', [4, 3, 2], 'one')
    """

    def __init__(self, mode, features, lm=None, alphabet=None, lexicon=None):
        self.mode, self.features, self.lm = mode, features, lm
        self.alphabet = None if alphabet is None else list(alphabet)
        self.lexicon = None if lexicon is None else sorted(lexicon)
        self._index = {c: i + 1 for i, c in enumerate(self.alphabet or ())}
        self.lexicon_models = {}  # decoding's lexicon language models, built once (`decoding.language_model`)

    @property
    def targets(self):
        return "digits" if self.alphabet is None else "characters"

    @property
    def num_classes(self):
        """Classes (digits) or CTC labels without the blank."""
        return 10 if self.alphabet is None else len(self.alphabet)

    def transcript(self, digits):
        """The text a model of these targets learns for an FSDD digit string: the digits, or their
        words ('73' -> 'seven three')."""
        return digits if self.alphabet is None else spelled(digits)

    @property
    def max_seconds(self):
        """The longest recording accepted: 10 s for digits, 30 s for digit strings or characters."""
        return MAX_SECONDS[self.mode] if self.alphabet is None else MAX_SECONDS["digit-strings"]

    def frames(self, audio, perturbation=None):
        """`(steps, features)` float32 of mono samples at the settings' rate (a training copy's
        `SpectralPerturbation` applied when given)."""
        return mfcc_features(audio, self.features, perturbation)

    def read(self, source, name=None):
        """Samples of a sound file (path or bytes), checked and resampled (see `read_audio`)."""
        return read_audio(source, self.features.sample_rate, self.max_seconds, name=name)

    def encode_text(self, text):
        """Transcript -> CTC labels: digit + 1, or 1 + the character's place in the alphabet.

        Raises:
            ValueError: an empty transcript, or a character the targets do not have (named).
        """
        if self.alphabet is None:
            if not text or not text.isdigit() or not text.isascii():
                raise ValueError(f"Expected a string of digits 0-9. Received: {text!r}")
            return [int(c) + 1 for c in text]
        if not text:
            raise ValueError("Expected a non-empty transcript. Received: ''")
        unknown = sorted({c for c in text if c not in self._index})
        if unknown:
            raise ValueError(
                f"The transcript {text!r} has characters outside the run's alphabet: {unknown}. "
                f"Expected only {''.join(self.alphabet)!r}."
            )
        return [self._index[c] for c in text]

    def decode_labels(self, labels):
        if self.alphabet is None:
            return "".join(str(int(label) - 1) for label in labels if int(label) > 0)
        return "".join(self.alphabet[int(label) - 1] for label in labels if int(label) > 0)

    def get_config(self):
        return {
            "kind": "speech",
            "mode": self.mode,
            "features": self.features.to_dict(),
            "lm": None if self.lm is None else self.lm.to_dict(),
            "alphabet": self.alphabet,
            "lexicon": self.lexicon,
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
        alphabet, lexicon = config.get("alphabet"), config.get("lexicon")  # absent: digit targets
        if alphabet is not None and not (
            isinstance(alphabet, list) and all(isinstance(c, str) and len(c) == 1 for c in alphabet)
        ):
            raise ValueError(f"alphabet {alphabet!r}")
        return SpeechPreprocessor(config["mode"], FeatureSettings(**settings), lm, alphabet, lexicon)
    except Exception as error:  # any malformed content
        raise ValueError(
            f"Cannot read a speech preprocessor from {path}: {type(error).__name__}: {error}"
        ) from None
