"""Connected digit strings made from isolated recordings.

Each string is one speaker saying 1-7 digits: recordings of that speaker
joined with short random silences (and optionally white noise over the
whole). Which digits, which takes and which pauses are a function of the
seed, so a set of strings is the same on every machine; test strings are
made only from test recordings.

Example:
>>> strings = make_strings(test_recordings, 100, seed=1)  # doctest: +SKIP
>>> strings[0].text, strings[0].audio.dtype  # doctest: +SKIP
('4096', dtype('float32'))
"""

import sys
from collections import defaultdict
from dataclasses import dataclass

import numpy as np

from rnnlab.audio.augment import add_noise


@dataclass(frozen=True, eq=False)
class DigitString:
    """A synthetic utterance.

    Attributes:
        text: the digits spoken, e.g. '4096'.
        audio: float32 mono samples.
        speaker: who says them.
        sources: names of the recordings used, in order.
    """

    text: str
    audio: np.ndarray
    speaker: str
    sources: tuple


def make_strings(
    recordings,
    count,
    seed=0,
    min_digits=1,
    max_digits=7,
    pause_s=(0.05, 0.3),
    edge_s=(0.0, 0.2),
    noise_snr_db=None,
):
    """`count` digit strings from `recordings` (fsdd `Recording`s).

    Args:
        recordings: the pool; each string uses one speaker's recordings.
        count: strings to make.
        seed: the strings are a function of the seed and the pool.
        min_digits, max_digits: length range (uniform).
        pause_s: range of the silence between two digits, in seconds.
        edge_s: range of the silence before the first and after the last digit.
        noise_snr_db: white noise at this signal-to-noise ratio (None: none).
    """
    pool = defaultdict(list)  # speaker -> digit -> recordings
    for recording in recordings:
        pool[recording.speaker].append(recording)
    by_speaker = {}
    for speaker, items in sorted(pool.items()):
        digits = defaultdict(list)
        for recording in sorted(items, key=lambda r: (r.digit, r.index)):
            digits[recording.digit].append(recording)
        by_speaker[speaker] = digits
    speakers = [s for s, digits in by_speaker.items() if len(digits) == 10]
    if not speakers:
        raise ValueError(
            f"Expected recordings of all ten digits from at least one speaker to make strings. Received "
            f"{len(recordings)} recordings of {len(by_speaker)} speakers; use more (e.g. a larger "
            "validation_split)."
        )
    missing = sorted(set(by_speaker) - set(speakers))
    if missing:  # the strings are still a function of the pool; say who is left out
        print(
            f"rnnlab: note: no strings from {', '.join(missing)} (not every digit in this pool)",
            file=sys.stderr,
        )
    rng = np.random.default_rng(seed)
    noise_rng = np.random.default_rng(
        [seed, 1]
    )  # its own stream: noise leaves the strings' content unchanged
    strings = []
    for _ in range(count):
        speaker = speakers[rng.integers(len(speakers))]
        digits = rng.integers(0, 10, size=rng.integers(min_digits, max_digits + 1))
        chosen = [by_speaker[speaker][d][rng.integers(len(by_speaker[speaker][d]))] for d in digits]
        rate = chosen[0].sample_rate
        pieces = [np.zeros(int(rng.uniform(*edge_s) * rate), np.float32)]
        for i, recording in enumerate(chosen):
            if i:
                pieces.append(np.zeros(int(rng.uniform(*pause_s) * rate), np.float32))
            pieces.append(recording.audio)
        pieces.append(np.zeros(int(rng.uniform(*edge_s) * rate), np.float32))
        audio = np.concatenate(pieces)
        if noise_snr_db is not None:
            audio = add_noise(audio, noise_rng, noise_snr_db)
        text = "".join(str(int(d)) for d in digits)
        strings.append(DigitString(text, audio, speaker, tuple(r.name for r in chosen)))
    return strings
