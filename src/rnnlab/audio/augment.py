"""Seeded augmentation of speech: speed change, time shift, background noise.

Example:
>>> rng = np.random.default_rng(0)
>>> augment(np.zeros(8000, "float32"), rng, 8000).dtype  # doctest: +SKIP
dtype('float32')
"""

import numpy as np

from rnnlab.optional import require


def add_noise(audio, rng, snr_db):
    """`audio` plus white noise at a signal-to-noise ratio of `snr_db` decibels."""
    power = float(np.mean(np.square(audio))) or 1e-8
    noise = rng.standard_normal(len(audio)).astype(np.float32)
    return audio + noise * np.float32(np.sqrt(power / 10 ** (snr_db / 10)))


def change_speed(audio, factor, sample_rate):
    """Plays `audio` `factor` times faster (pitch moves with it, as a tape would)."""
    librosa = require("librosa", "Speed augmentation")
    return librosa.resample(audio, orig_sr=sample_rate * factor, target_sr=sample_rate, res_type="soxr_hq")


def augment(audio, rng, sample_rate, speed=(0.9, 1.1), shift_s=0.1, snr_db=(10.0, 40.0)):
    """One random variant of `audio`: speed in `speed`, up to `shift_s` seconds of
    silence added at the start, noise at an SNR drawn from `snr_db`.

    Args:
        audio: float32 mono samples.
        rng: a `numpy.random.Generator` (the variant is a function of its state).
        sample_rate: samples per second.
        speed: range of speed factors, or None for none.
        shift_s: most leading silence in seconds (0: none).
        snr_db: range of signal-to-noise ratios, or None for no noise.
    """
    audio = np.asarray(audio, dtype=np.float32)
    if speed is not None:
        audio = change_speed(audio, float(rng.uniform(*speed)), sample_rate)
    if shift_s:
        audio = np.concatenate([np.zeros(int(rng.uniform(0, shift_s) * sample_rate), np.float32), audio])
    if snr_db is not None:
        audio = add_noise(audio, rng, float(rng.uniform(*snr_db)))
    return audio.astype(np.float32)
