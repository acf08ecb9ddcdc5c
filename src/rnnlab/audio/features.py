"""MFCC features (article 6.3.1): what the speech models read.

Frames of 25 ms every 10 ms, a mel filter bank, the log, the DCT: `n_mfcc`
coefficients per frame, with their first and second differences (deltas)
and per-utterance normalisation (each coefficient to zero mean and unit
variance over the utterance), computed with librosa.

Example:
>>> settings = FeatureSettings()
>>> settings.num_features
60
>>> mfcc_features(np.zeros(8000, "float32"), settings).shape  # doctest: +SKIP
(101, 60)
"""

import warnings
from dataclasses import asdict, dataclass

import numpy as np

from rnnlab.audio.perturbation import warp_power_spectrum
from rnnlab.optional import require


@dataclass(frozen=True)
class FeatureSettings:
    """How audio becomes feature frames.

    Args:
        sample_rate: samples per second the audio is read at.
        n_mfcc: cepstral coefficients per frame.
        n_mels: mel filters.
        frame_ms: window length in milliseconds.
        hop_ms: step between frames in milliseconds.
        deltas: 0 (coefficients only), 1 (+ first differences) or 2 (+ second).
        normalize: per-utterance mean and variance normalisation.
        stack: frames concatenated into one model step (1: none); 3 gives one
            step per 30 ms, a third of the recurrent steps.
    """

    sample_rate: int = 8000
    n_mfcc: int = 20
    n_mels: int = 40
    frame_ms: float = 25.0
    hop_ms: float = 10.0
    deltas: int = 2
    normalize: bool = True
    stack: int = 1

    def __post_init__(self):
        if self.deltas not in (0, 1, 2):
            raise ValueError(f"Expected deltas in (0, 1, 2). Received: {self.deltas!r}")
        if not 1 <= self.n_mfcc <= self.n_mels:
            raise ValueError(f"Expected 1 <= n_mfcc <= n_mels. Received: {self.n_mfcc}, {self.n_mels}")
        if self.stack < 1:
            raise ValueError(f"Expected stack >= 1. Received: {self.stack!r}")

    @property
    def num_features(self):
        """Numbers per model step."""
        return self.n_mfcc * (1 + self.deltas) * self.stack

    @property
    def hop_length(self):
        return int(round(self.sample_rate * self.hop_ms / 1000))

    @property
    def win_length(self):
        return int(round(self.sample_rate * self.frame_ms / 1000))

    @property
    def n_fft(self):
        return 1 << (self.win_length - 1).bit_length()  # the next power of two

    def steps(self, num_samples):
        """Model steps of `num_samples` samples of audio."""
        frames = 1 + num_samples // self.hop_length
        return -(-frames // self.stack)

    def to_dict(self):
        return asdict(self)


def _spectrum_kwargs(settings):
    return {
        "sr": settings.sample_rate,
        "n_fft": settings.n_fft,
        "hop_length": settings.hop_length,
        "win_length": settings.win_length,
        "n_mels": settings.n_mels,
        "fmin": 20.0,
        "fmax": settings.sample_rate / 2,
    }


def log_mel_spectrogram(audio, settings):
    """`(frames, n_mels)` log-mel energies in dB (for plots)."""
    librosa = require("librosa", "Audio features")
    mel = librosa.feature.melspectrogram(y=np.asarray(audio, "float32"), **_spectrum_kwargs(settings))
    return librosa.power_to_db(mel, ref=np.max).T.astype(np.float32)


def mfcc_features(audio, settings, perturbation=None):
    """`(steps, settings.num_features)` float32 features of mono samples.

    The power spectrum, the mel filter bank, the log (dB) and the DCT, as
    `librosa.feature.mfcc` computes them, with room between the steps for a
    training copy's perturbation.

    Args:
        audio: float32 samples at `settings.sample_rate`.
        settings: a `FeatureSettings`.
        perturbation: a `SpectralPerturbation` (VTLP and masks) or None.
    """
    librosa = require("librosa", "Audio features")
    audio = np.asarray(audio, dtype=np.float32)
    if audio.ndim != 1 or not len(audio):
        raise ValueError(f"Expected mono samples (a non-empty 1-D array). Received shape {audio.shape}")
    kwargs = _spectrum_kwargs(settings)
    with warnings.catch_warnings():  # audio shorter than one window still gives a (padded) frame
        warnings.filterwarnings("ignore", message="n_fft=.* is too large")
        stft = librosa.stft(audio, n_fft=kwargs["n_fft"], hop_length=kwargs["hop_length"],
                            win_length=kwargs["win_length"])  # fmt: skip
    power = np.abs(stft) ** 2
    if perturbation is not None:
        power = warp_power_spectrum(power, perturbation.warp, settings.sample_rate)
    mel = librosa.feature.melspectrogram(S=power, **kwargs)
    log_mel = librosa.power_to_db(mel)
    if perturbation is not None:
        log_mel = perturbation.mask(log_mel)
    mfcc = librosa.feature.mfcc(S=log_mel, n_mfcc=settings.n_mfcc)
    parts = [mfcc]
    for order in range(1, settings.deltas + 1):
        parts.append(librosa.feature.delta(mfcc, order=order, width=9, mode="nearest"))
    frames = np.concatenate(parts, axis=0).T  # (frames, features)
    if settings.normalize:
        frames = (frames - frames.mean(axis=0)) / (frames.std(axis=0) + 1e-5)
    if settings.stack > 1:
        extra = -len(frames) % settings.stack
        frames = np.concatenate([frames, np.repeat(frames[-1:], extra, axis=0)])
        frames = frames.reshape(len(frames) // settings.stack, -1)
    return np.ascontiguousarray(frames, dtype=np.float32)
