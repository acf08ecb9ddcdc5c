"""VTLP and SpecAugment masks: the warp moves a tone's frequency by its factor, the masks set
what they cover to the mean, and features without a perturbation are librosa's MFCCs."""

import librosa
import numpy as np
import pytest

from rnnlab.audio.features import FeatureSettings, mfcc_features
from rnnlab.audio.perturbation import (
    MAX_FREQ_MASK,
    MAX_TIME_MASK,
    SpectralPerturbation,
    warp_frequencies,
    warp_power_spectrum,
)


def tone(hz, seconds=0.5, rate=8000):
    t = np.arange(int(seconds * rate)) / rate
    return (0.5 * np.sin(2 * np.pi * hz * t)).astype("float32")


def test_features_without_a_perturbation_are_librosas_mfccs():
    audio = np.random.default_rng(0).standard_normal(6000).astype("float32") * 0.1
    settings = FeatureSettings(n_mfcc=13, deltas=0, normalize=False)
    expected = librosa.feature.mfcc(
        y=audio,
        sr=8000,
        n_mfcc=13,
        n_fft=256,
        hop_length=80,
        win_length=200,
        n_mels=40,
        fmin=20.0,
        fmax=4000.0,
    ).T
    np.testing.assert_allclose(mfcc_features(audio, settings), expected, rtol=1e-5, atol=1e-4)
    np.testing.assert_array_equal(
        mfcc_features(audio, settings, SpectralPerturbation()), mfcc_features(audio, settings)
    )


def test_the_warp_keeps_zero_and_nyquist_and_is_increasing():
    grid = np.linspace(0, 4000, 257)
    for warp in (0.85, 0.9, 1.0, 1.1, 1.15):
        mapped = warp_frequencies(grid, warp, 4000.0)
        assert mapped[0] == 0 and mapped[-1] == pytest.approx(4000.0)
        assert np.all(np.diff(mapped) > 0)
        np.testing.assert_allclose(mapped[grid < 2000], grid[grid < 2000] * warp)


@pytest.mark.parametrize("warp", [0.9, 1.1])
def test_vtlp_moves_a_tones_peak_by_the_factor(warp):
    power = np.abs(librosa.stft(tone(1000.0), n_fft=512)) ** 2
    bins = np.linspace(0, 4000, power.shape[0])
    warped = warp_power_spectrum(power, warp, 8000)
    assert warped.shape == power.shape
    peak = bins[np.argmax(warped.mean(axis=1))]
    assert peak == pytest.approx(1000.0 * warp, abs=bins[1])
    np.testing.assert_array_equal(warp_power_spectrum(power, 1.0, 8000), power)


def test_masks_set_bands_and_runs_to_the_mean():
    log_mel = np.arange(40 * 30, dtype="float64").reshape(40, 30)
    masked = SpectralPerturbation(freq_masks=((3, 4),), time_masks=((10, 5),)).mask(log_mel)
    mean = log_mel.mean()
    assert np.all(masked[3:7] == mean) and np.all(masked[:, 10:15] == mean)
    untouched = np.ones_like(log_mel, bool)
    untouched[3:7], untouched[:, 10:15] = False, False
    np.testing.assert_array_equal(masked[untouched], log_mel[untouched])
    assert log_mel[3, 0] == 3 * 30  # the input is not changed


def test_draws_stay_in_their_bounds_and_are_seeded():
    draws = [
        SpectralPerturbation.draw(np.random.default_rng(seed), 0.1, 2, 2, n_mels=40, frames=60)
        for seed in range(200)
    ]
    for p in draws:
        assert 0.9 <= p.warp <= 1.1
        assert all(0 <= w <= MAX_FREQ_MASK and 0 <= first and first + w <= 40 for first, w in p.freq_masks)
        assert all(0 <= w <= min(MAX_TIME_MASK, 12) and first + w <= 60 for first, w in p.time_masks)
    assert draws[7] == SpectralPerturbation.draw(np.random.default_rng(7), 0.1, 2, 2, n_mels=40, frames=60)
    assert SpectralPerturbation.draw(np.random.default_rng(0)) == SpectralPerturbation()


def test_a_perturbed_copy_has_the_same_shape_and_different_features():
    settings = FeatureSettings()
    audio = tone(700.0) + tone(1900.0)
    plain = mfcc_features(audio, settings)
    warped = mfcc_features(audio, settings, SpectralPerturbation(warp=1.1))
    masked = mfcc_features(audio, settings, SpectralPerturbation(freq_masks=((5, 8),), time_masks=((4, 6),)))
    assert plain.shape == warped.shape == masked.shape
    assert not np.allclose(plain, warped) and not np.allclose(plain, masked)
