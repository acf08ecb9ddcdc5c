"""Perturbations of the spectrum for training copies of a recording: vocal-tract-length
perturbation (VTLP, Jaitly & Hinton, 2013) and SpecAugment's frequency and time masks
(Park et al., 2019).

VTLP moves every frequency of the power spectrum by a factor `warp` (a longer vocal tract
lowers the formants: warp < 1), with the piecewise-linear map that keeps the Nyquist frequency
where it is; the masks set bands of mel channels, or runs of frames, of the log-mel spectrum to
its mean. Both act before the DCT, so the MFCCs, deltas and normalisation that follow see a
spectrum a new speaker (or a noisier channel) could have produced.

Example:
>>> rng = np.random.default_rng(0)
>>> p = SpectralPerturbation.draw(rng, vtlp=0.1, freq_masks=1, time_masks=1, n_mels=40, frames=80)
>>> 0.9 <= p.warp <= 1.1, len(p.freq_masks), len(p.time_masks)
(True, 1, 1)
"""

from dataclasses import dataclass

import numpy as np

MAX_FREQ_MASK = 8  # mel channels (of 40) one frequency mask covers at most
MAX_TIME_MASK = 10  # frames (100 ms) one time mask covers at most
WARP_BOUNDARY = 0.8  # VTLP's F_hi as a share of the Nyquist frequency


def warp_frequencies(frequencies, warp, nyquist):
    """VTLP's map: `f * warp` up to a boundary, then the straight line that ends at the Nyquist
    frequency (so no energy leaves the band).

    Example:
    >>> warp_frequencies(np.array([0.0, 1000.0, 4000.0]), 1.1, 4000.0).round(1).tolist()
    [0.0, 1100.0, 4000.0]
    """
    boundary = WARP_BOUNDARY * nyquist * min(warp, 1.0) / warp
    slope = (nyquist - boundary * warp) / (nyquist - boundary)
    return np.where(frequencies <= boundary, frequencies * warp, nyquist - slope * (nyquist - frequencies))


def warp_power_spectrum(power, warp, sample_rate):
    """`power` (bins, frames) with the energy at frequency f moved to `warp_frequencies(f)`,
    by linear interpolation between bins."""
    if warp == 1.0:
        return power
    nyquist = sample_rate / 2
    bins = np.linspace(0.0, nyquist, power.shape[0])
    sources = np.interp(bins, warp_frequencies(bins, warp, nyquist), bins)  # the inverse map
    position = sources / nyquist * (power.shape[0] - 1)
    low = np.clip(np.floor(position).astype(int), 0, power.shape[0] - 2)
    weight = (position - low)[:, None]
    return power[low] * (1 - weight) + power[low + 1] * weight


@dataclass(frozen=True)
class SpectralPerturbation:
    """One training copy's VTLP factor and masks.

    Attributes:
        warp: VTLP factor (1.0: none).
        freq_masks: `(first channel, channels)` of each frequency mask.
        time_masks: `(first frame, frames)` of each time mask.
    """

    warp: float = 1.0
    freq_masks: tuple = ()
    time_masks: tuple = ()

    @classmethod
    def draw(cls, rng, vtlp=0.0, freq_masks=0, time_masks=0, n_mels=40, frames=100):
        """A random perturbation: warp uniform in `1 ± vtlp`, `freq_masks` bands of 0 to
        `MAX_FREQ_MASK` channels, `time_masks` runs of 0 to `MAX_TIME_MASK` frames (at most a
        fifth of the utterance each, so a short word is not wiped out)."""
        warp = float(rng.uniform(1 - vtlp, 1 + vtlp)) if vtlp else 1.0
        bands = []
        for _ in range(freq_masks):
            width = int(rng.integers(0, min(MAX_FREQ_MASK, n_mels) + 1))
            bands.append((int(rng.integers(0, n_mels - width + 1)), width))
        runs = []
        for _ in range(time_masks):
            width = int(rng.integers(0, min(MAX_TIME_MASK, frames // 5) + 1))
            runs.append((int(rng.integers(0, frames - width + 1)), width))
        return cls(warp, tuple(bands), tuple(runs))

    def mask(self, log_mel):
        """`log_mel` (channels, frames) with the masked bands and runs set to its mean."""
        if not self.freq_masks and not self.time_masks:
            return log_mel
        log_mel = log_mel.copy()
        mean = log_mel.mean()
        for first, width in self.freq_masks:
            log_mel[first : first + width] = mean
        for first, width in self.time_masks:
            log_mel[:, first : first + width] = mean
        return log_mel
