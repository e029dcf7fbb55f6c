"""Model-independent measures of a render: how much style it took on, how much content it kept.

These use their own filterbank and statistics (not any texture model's), so they can judge
every model fairly. Inputs are ``float32 [channels, samples]`` arrays; channels are averaged.
"""
from __future__ import annotations

import numpy as np

from .audio import resample

RATE = 22_050
N_FFT, HOP, BANDS = 1024, 256, 24


def band_envelopes(clip: np.ndarray, sample_rate: int) -> np.ndarray:
    """Amplitude envelopes ``[bands, frames]`` in log-spaced bands (50 Hz-10 kHz), mono mix."""
    x = resample(np.mean(clip, axis=0, keepdims=True), sample_rate, RATE)[0]
    x = np.pad(x, (0, max(0, N_FFT - len(x))))
    frames = np.lib.stride_tricks.sliding_window_view(x, N_FFT)[::HOP] * np.hanning(N_FFT)
    power = np.abs(np.fft.rfft(frames, axis=1)) ** 2
    freqs = np.fft.rfftfreq(N_FFT, 1 / RATE)
    edges = np.geomspace(50, 10_000, BANDS + 1)
    bands = [power[:, (freqs >= lo) & (freqs < hi)].sum(1) for lo, hi in zip(edges[:-1], edges[1:])]
    return np.sqrt(np.stack(bands) + 1e-12)


def texture_statistics(clip: np.ndarray, sample_rate: int) -> np.ndarray:
    """A texture fingerprint from per-band marginal statistics of compressed envelopes: level
    profile, modulation depth (std/mean) and skewness, as in McDermott & Simoncelli's marginals.

    Cross-band correlations are deliberately left out: in a content-initialised render they
    mostly carry the content's timing (which a render is meant to keep), not the style.
    """
    env = band_envelopes(clip, sample_rate)
    env = env / (np.sqrt(np.mean(env ** 2)) + 1e-12)  # level-independent
    c = env ** 0.3
    mean, std = c.mean(1), c.std(1) + 1e-9
    skew = (((c - mean[:, None]) / std[:, None]) ** 3).mean(1)
    return np.concatenate([mean, std / mean, 0.1 * skew])


def style_distance(output: np.ndarray, style: np.ndarray, content: np.ndarray, sample_rate: int,
                   style_rate: int | None = None) -> float:
    """Distance of the output's texture statistics to the style's, relative to the content's.

    1.0: as far from the style as the content was; 0.0: the style's statistics exactly.
    """
    s = texture_statistics(style, style_rate or sample_rate)
    far = np.linalg.norm(texture_statistics(content, sample_rate) - s)
    return float(np.linalg.norm(texture_statistics(output, sample_rate) - s) / (far + 1e-12))


def content_preservation(output: np.ndarray, content: np.ndarray, sample_rate: int) -> float:
    """Correlation (−1..1) of the log band envelopes' time courses of output and content."""
    a = np.log(band_envelopes(output, sample_rate))
    b = np.log(band_envelopes(content, sample_rate))
    a, b = a - a.mean(1, keepdims=True), b - b.mean(1, keepdims=True)
    return float((a * b).sum() / (np.sqrt((a * a).sum() * (b * b).sum()) + 1e-12))
