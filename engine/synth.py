"""Built-in sounds, synthesised from a seed: the demo's content and style, and test material.

Everything here is made by the project's own code, so it can be redistributed freely and
needs no files or downloads. Each function returns ``float32 [1, samples]``.
"""
from __future__ import annotations

import numpy as np

A4 = 440.0
#: A short tune (MIDI note, beats) for the plucked-melody content clip.
_TUNE = [(60, 1), (64, 1), (67, 1), (72, 1), (71, 0.5), (67, 0.5), (64, 1), (65, 1), (69, 1),
         (72, 2), (62, 1), (65, 1), (69, 1), (74, 1), (72, 2), (67, 2)]


def _fft_convolve(x: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    n = len(x) + len(kernel) - 1
    size = 1 << (n - 1).bit_length()
    y = np.fft.irfft(np.fft.rfft(x, size) * np.fft.rfft(kernel, size), size)
    return y[: len(x)]


def _normalise(x: np.ndarray, peak: float = 0.5) -> np.ndarray:
    m = float(np.max(np.abs(x))) or 1.0
    return (x * (peak / m)).astype(np.float32)[None]


def plucked_melody(sample_rate: int = 44_100, seconds: float = 6.0, tempo: float = 120.0) -> np.ndarray:
    """A plucked-string tune (additive partials with frequency-dependent decay), looped to length."""
    n = int(seconds * sample_rate)
    out = np.zeros(n)
    beat = 60.0 / tempo
    t0 = 0.0
    i = 0
    while t0 < seconds:
        note, beats = _TUNE[i % len(_TUNE)]
        f0 = A4 * 2 ** ((note - 69) / 12)
        dur = min(beats * beat * 1.5, seconds - t0)
        t = np.arange(int(dur * sample_rate)) / sample_rate
        tone = np.zeros_like(t)
        for h in range(1, 16):
            if h * f0 > sample_rate / 2.2:
                break
            tone += np.sin(2 * np.pi * h * f0 * t) * np.exp(-t * (2.5 + 1.2 * h)) / h
        start = int(t0 * sample_rate)
        out[start:start + len(tone)] += tone[: n - start]
        t0 += beats * beat
        i += 1
    return _normalise(out)


def rain(sample_rate: int = 44_100, seconds: float = 6.0, seed: int = 0) -> np.ndarray:
    """Rain on a roof: a bright noise bed plus many short, randomly pitched drops."""
    rng = np.random.default_rng(seed)
    n = int(seconds * sample_rate)
    bed = np.diff(rng.standard_normal(n + 1)) * 0.15
    drops = np.zeros(n)
    count = int(seconds * 180)
    drops[rng.integers(0, n, count)] = rng.exponential(1.0, count) * rng.choice([-1, 1], count)
    t = np.arange(int(0.006 * sample_rate)) / sample_rate
    click = np.sin(2 * np.pi * 3500 * t) * np.exp(-t / 0.0015)
    return _normalise(bed + _fft_convolve(drops, click))


def bowed_drone(sample_rate: int = 44_100, seconds: float = 6.0, f0: float = 110.0, seed: int = 0) -> np.ndarray:
    """A bowed-string drone: a sawtooth-like tone with vibrato and bow noise."""
    rng = np.random.default_rng(seed)
    n = int(seconds * sample_rate)
    t = np.arange(n) / sample_rate
    phase = 2 * np.pi * np.cumsum(f0 * (1 + 0.004 * np.sin(2 * np.pi * 5.5 * t))) / sample_rate
    tone = sum(np.sin(h * phase) / h for h in range(1, min(60, int(sample_rate / 2.2 / f0))))
    noise = _fft_convolve(rng.standard_normal(n), np.hanning(32)) * 0.05
    return _normalise(tone * (0.8 + 0.2 * np.sin(2 * np.pi * 0.3 * t)) + noise)
