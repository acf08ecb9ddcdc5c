"""Audio for the speech task: reading any common sound file as mono samples at
the model's rate (`reading`), MFCC features (`features`), seeded augmentation
(`augment`). Uses `soundfile` and `librosa` (the `speech` extra)."""

from rnnlab.audio.features import FeatureSettings, log_mel_spectrogram, mfcc_features
from rnnlab.audio.reading import AudioError, read_audio

__all__ = ["AudioError", "FeatureSettings", "log_mel_spectrogram", "mfcc_features", "read_audio"]
