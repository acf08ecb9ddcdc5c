"""Reading audio (formats, channels, rates, every refusal) and MFCC features."""

import numpy as np
import pytest
import soundfile

from rnnlab.audio import AudioError, FeatureSettings, mfcc_features, read_audio
from rnnlab.audio.augment import add_noise, augment, change_speed


def tone(seconds=0.5, rate=8000, hz=440.0):
    t = np.arange(int(seconds * rate)) / rate
    return (0.5 * np.sin(2 * np.pi * hz * t)).astype("float32")


def test_a_wav_reads_back_its_samples(tmp_path):
    path = tmp_path / "a.wav"
    soundfile.write(path, tone(), 8000, subtype="PCM_16")
    samples = read_audio(path)
    assert samples.dtype == np.float32 and samples.shape == (4000,)
    np.testing.assert_allclose(samples, tone(), atol=1 / 32768)
    np.testing.assert_array_equal(read_audio(path.read_bytes()), samples)


def test_stereo_at_a_higher_rate_becomes_mono_at_the_models_rate(tmp_path):
    path = tmp_path / "stereo.flac"
    left = tone(1.0, 16000, 300.0)
    soundfile.write(path, np.stack([left, np.zeros_like(left)], axis=1), 16000)
    samples = read_audio(path, sample_rate=8000)
    assert samples.shape == (8000,)
    expected = tone(1.0, 8000, 300.0) / 2  # the mean of the channels
    np.testing.assert_allclose(samples[100:-100], expected[100:-100], atol=0.01)


@pytest.mark.parametrize(
    "data, message",
    [
        (b"", "empty"),
        (b"RIFF" + b"\0" * 40, "not a readable sound file"),
        ("这不是音频 — not audio".encode() * 20, "not a readable sound file"),
    ],
)
def test_bytes_that_are_not_audio_are_refused(data, message):
    with pytest.raises(AudioError, match=message):
        read_audio(data)


def test_files_a_model_cannot_use_are_refused(tmp_path):
    low = tmp_path / "low.wav"
    soundfile.write(low, tone(0.5, 4000), 4000)
    with pytest.raises(AudioError, match="4000 Hz. Expected 8000 Hz"):
        read_audio(low)
    empty = tmp_path / "empty.wav"
    soundfile.write(empty, np.zeros(0, "float32"), 8000)
    with pytest.raises(AudioError, match="no samples"):
        read_audio(empty)
    long = tmp_path / "long.wav"
    soundfile.write(long, np.zeros(8000 * 3, "float32"), 8000)
    with pytest.raises(AudioError, match="3.0 s long. Expected at most 2 s"):
        read_audio(long, max_seconds=2)
    nan = tmp_path / "nan.wav"
    soundfile.write(nan, np.array([0.1, np.nan, 0.2], "float32"), 8000, subtype="FLOAT")
    with pytest.raises(AudioError, match="not finite"):
        read_audio(nan)
    with pytest.raises(AudioError, match="no such file"):
        read_audio(tmp_path / "missing.wav")
    (tmp_path / "zero.wav").write_bytes(b"")
    with pytest.raises(AudioError, match="empty"):
        read_audio(tmp_path / "zero.wav")


def test_mfcc_features_have_the_settings_shape_and_are_normalised():
    settings = FeatureSettings()
    frames = mfcc_features(
        tone(1.0) + np.random.default_rng(0).normal(0, 0.01, 8000).astype("float32"), settings
    )
    assert frames.shape == (settings.steps(8000), 60) == (101, 60)
    np.testing.assert_allclose(frames.mean(axis=0), 0, atol=1e-4)
    np.testing.assert_allclose(frames.std(axis=0), 1, atol=1e-2)
    stacked = mfcc_features(tone(1.0), FeatureSettings(stack=3, deltas=0, n_mfcc=13))
    assert stacked.shape == (FeatureSettings(stack=3).steps(8000), 39) == (34, 39)
    plain = mfcc_features(tone(1.0), FeatureSettings(deltas=0, n_mfcc=13))
    np.testing.assert_array_equal(stacked[0], plain[:3].reshape(-1))


def test_mfcc_features_equal_librosa_computed_directly():
    import librosa

    audio = tone(0.3, 8000, 700.0)
    raw = mfcc_features(audio, FeatureSettings(deltas=0, normalize=False, n_mfcc=13))
    direct = librosa.feature.mfcc(y=audio, sr=8000, n_mfcc=13, n_fft=256, hop_length=80, win_length=200,
                                  n_mels=40, fmin=20.0, fmax=4000.0).T  # fmt: skip
    np.testing.assert_allclose(raw, direct, rtol=1e-5, atol=1e-4)


def test_very_short_audio_still_gives_a_frame():
    assert mfcc_features(np.zeros(10, "float32"), FeatureSettings()).shape == (1, 60)
    with pytest.raises(ValueError, match="non-empty 1-D"):
        mfcc_features(np.zeros(0, "float32"), FeatureSettings())


def test_feature_settings_refuse_impossible_values():
    with pytest.raises(ValueError, match="deltas"):
        FeatureSettings(deltas=3)
    with pytest.raises(ValueError, match="n_mfcc <= n_mels"):
        FeatureSettings(n_mfcc=50, n_mels=40)


def test_augmentation_is_seeded_and_does_what_it_says():
    audio = tone(1.0)
    a = augment(audio, np.random.default_rng(3), 8000)
    b = augment(audio, np.random.default_rng(3), 8000)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, augment(audio, np.random.default_rng(4), 8000))
    assert len(change_speed(audio, 1.25, 8000)) == pytest.approx(8000 / 1.25, abs=2)
    noisy = add_noise(audio, np.random.default_rng(0), snr_db=20.0)
    snr = 10 * np.log10(np.mean(audio**2) / np.mean((noisy - audio) ** 2))
    assert snr == pytest.approx(20.0, abs=0.3)


@pytest.mark.parametrize("subtype", ["PCM_U8", "PCM_24", "PCM_32", "FLOAT", "DOUBLE"])
def test_every_sample_format_reads_as_float32(tmp_path, subtype):
    path = tmp_path / "a.wav"
    soundfile.write(path, tone(), 8000, subtype=subtype)
    np.testing.assert_allclose(read_audio(path), tone(), atol=1 / 100 if subtype == "PCM_U8" else 1e-4)


def test_many_channels_are_averaged_and_too_many_refused(tmp_path):
    channels = np.stack([tone() * (i % 2) for i in range(6)], axis=1)  # 5.1: three channels of tone
    soundfile.write(tmp_path / "six.wav", channels, 8000, subtype="FLOAT")
    np.testing.assert_allclose(read_audio(tmp_path / "six.wav"), tone() / 2, atol=1e-6)
    soundfile.write(tmp_path / "many.wav", np.tile(tone()[:, None], (1, 40)), 8000, subtype="PCM_16")
    with pytest.raises(AudioError, match="40 channels. Expected at most 32"):
        read_audio(tmp_path / "many.wav")


def test_odd_rates_are_resampled_and_rates_above_384_khz_refused(tmp_path):
    soundfile.write(tmp_path / "odd.wav", tone(1.0, 11025, 300.0), 11025)
    assert read_audio(tmp_path / "odd.wav").shape == (8000,)
    soundfile.write(tmp_path / "fast.wav", np.full(400_000, 0.1, "float32"), 400_000, subtype="FLOAT")
    with pytest.raises(AudioError, match="400000 Hz"):
        read_audio(tmp_path / "fast.wav")


def test_huge_values_silence_and_folders_are_refused(tmp_path):
    soundfile.write(tmp_path / "huge.wav", tone() * 1e20, 8000, subtype="FLOAT")
    with pytest.raises(AudioError, match="as large as 5e"):
        read_audio(tmp_path / "huge.wav")
    soundfile.write(tmp_path / "silent.wav", np.zeros(8000, "float32"), 8000)
    with pytest.raises(AudioError, match="silent"):
        read_audio(tmp_path / "silent.wav")
    with pytest.raises(AudioError, match="a folder"):
        read_audio(tmp_path)
    with pytest.raises(AudioError, match="Expected a sound file"):
        read_audio(tmp_path / ("x" * 5000 + ".wav"))
