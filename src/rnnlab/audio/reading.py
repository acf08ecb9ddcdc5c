"""Reading audio files as float32 mono samples at a chosen sample rate.

`read_audio` accepts a path or the file's bytes in any format libsndfile reads
(WAV, FLAC, OGG/Vorbis, AIFF, ...), averages the channels, resamples with
soxr (through librosa), and refuses what a model cannot use, with a message
saying what was received and what is expected.

Example:
>>> samples = read_audio("7_theo_12.wav", sample_rate=8000)  # doctest: +SKIP
>>> samples.dtype, samples.ndim  # doctest: +SKIP
(dtype('float32'), 1)
"""

import io
from pathlib import Path

import numpy as np

from rnnlab.errors import InputError
from rnnlab.io import describe_path
from rnnlab.optional import require

MAX_SECONDS = 60.0  # default cap on one input's duration
MAX_RATE = 384_000  # the highest sample rate accepted
MAX_CHANNELS = 32
MAX_PEAK = 1000.0  # float files hold about [-1, 1]; far beyond is not sound at a usable scale
SILENCE = 1e-4  # a file whose peak is below this holds nothing to hear
BLOCK = 1 << 16  # frames read at a time (channels are mixed down block by block)


class AudioError(InputError):
    """Input that is not usable audio (not a sound file, empty, too long, a bad sample rate)."""


def read_audio(source, sample_rate=8000, max_seconds=MAX_SECONDS, name=None):
    """Samples of a sound file, mono, at `sample_rate`.

    Args:
        source: a path, or the file's bytes.
        sample_rate: rate of the result; files at a higher rate are resampled
            (down), files below it are refused (their missing high
            frequencies would not match what the model was trained on).
        max_seconds: longest duration accepted.
        name: how to call the input in messages (default: the path, or 'the audio').

    Returns:
        float32 array `(samples,)` in about [-1, 1].

    Raises:
        AudioError: not a readable sound file, no samples, a sample rate below
            `sample_rate` or above 384 kHz, more than 32 channels, longer than
            `max_seconds`, samples that are not finite numbers or far outside
            [-1, 1], or silence.
    """
    soundfile = require("soundfile", "Reading audio")
    if isinstance(source, (bytes, bytearray, memoryview)):
        name = name or "the audio"
        if not len(source):
            raise AudioError(f"{name} is empty (0 bytes). Expected a sound file such as a WAV.")
        handle = io.BytesIO(bytes(source))
    else:
        name = name or str(source)
        path = Path(source)
        try:
            if path.is_dir():
                raise AudioError(f"Expected a sound file. Received: {name} (a folder)")
            if not path.is_file():
                raise AudioError(f"Expected a sound file. Received: {name} ({describe_path(path)})")
            size = path.stat().st_size
        except OSError as error:  # e.g. a name too long for the file system
            raise AudioError(f"Expected a sound file. Received: {name[:200]} ({error.strerror})") from None
        if size == 0:
            raise AudioError(f"{name} is empty (0 bytes). Expected a sound file such as a WAV.")
        handle = str(path)
    try:
        with soundfile.SoundFile(handle) as f:
            rate, frames, channels = f.samplerate, f.frames, f.channels
            if rate < sample_rate or rate > MAX_RATE:
                raise AudioError(
                    f"{name} has a sample rate of {rate} Hz. Expected {sample_rate} Hz to {MAX_RATE} Hz "
                    f"(the model hears {sample_rate} Hz audio; higher rates are resampled)."
                )
            if channels > MAX_CHANNELS:
                raise AudioError(f"{name} has {channels} channels. Expected at most {MAX_CHANNELS}.")
            if frames <= 0:
                raise AudioError(f"{name} holds no samples. Expected at least one sample of sound.")
            if frames > max_seconds * rate:
                raise AudioError(
                    f"{name} is {frames / rate:.1f} s long. Expected at most {max_seconds:g} s; cut it "
                    "into shorter pieces."
                )
            # Mixed down block by block: memory stays that of one channel, whatever the channel count.
            blocks = [block.mean(axis=1) for block in f.blocks(BLOCK, dtype="float32", always_2d=True)]
            mono = np.concatenate(blocks) if blocks else np.zeros(0, np.float32)
    except AudioError:
        raise
    except (RuntimeError, TypeError, ValueError, OSError) as error:  # libsndfile's errors
        detail = str(error).split(": ")[-1] if str(error) else type(error).__name__
        raise AudioError(
            f"{name} is not a readable sound file ({detail}). Expected WAV, FLAC, OGG or another "
            "format libsndfile reads."
        ) from None
    if not np.all(np.isfinite(mono)):
        raise AudioError(f"{name} holds samples that are not finite numbers (NaN or infinity).")
    if len(mono) == 0:
        raise AudioError(f"{name} holds no samples. Expected at least one sample of sound.")
    peak = float(np.max(np.abs(mono)))
    if peak > MAX_PEAK:
        raise AudioError(f"{name} has samples as large as {peak:.3g}. Expected sound in about [-1, 1].")
    if peak < SILENCE:
        raise AudioError(f"{name} is silent (peak amplitude {peak:.2g}). Expected some sound to transcribe.")
    if rate != sample_rate:
        librosa = require("librosa", "Resampling audio")
        mono = librosa.resample(mono, orig_sr=rate, target_sr=sample_rate, res_type="soxr_hq")
    return np.ascontiguousarray(mono, dtype=np.float32)
