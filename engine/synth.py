"""Built-in sounds, synthesised from a seed: the demo's content and style, and test material.

Everything here is made by the project's own code, so it can be redistributed freely and
needs no files or downloads. Each function returns ``float32 [1, samples]``.
"""
from __future__ import annotations

from typing import Callable

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


def _one_pole_lowpass(x: np.ndarray, cutoff: float, sample_rate: int) -> np.ndarray:
    """A one-pole low-pass, applied as an exponential-decay FFT convolution (fast, vectorised)."""
    tau = 1.0 / (2 * np.pi * cutoff)
    t = np.arange(int(tau * sample_rate * 8) + 1) / sample_rate
    kernel = np.exp(-t / tau)
    return _fft_convolve(x, kernel / kernel.sum())


def fire(sample_rate: int = 44_100, seconds: float = 6.0, seed: int = 0) -> np.ndarray:
    """Fire crackle: a low roar of filtered noise with sharp, sparse pops and hisses."""
    rng = np.random.default_rng(seed)
    n = int(seconds * sample_rate)
    roar = _one_pole_lowpass(rng.standard_normal(n), 300, sample_rate)
    roar *= 1 + 0.5 * _one_pole_lowpass(rng.standard_normal(n), 2, sample_rate) * 20
    pops = np.zeros(n)
    count = int(seconds * 70)
    pops[rng.integers(0, n, count)] = np.minimum(rng.pareto(2.0, count), 4.0) * rng.choice([-1, 1], count)
    t = np.arange(int(0.004 * sample_rate)) / sample_rate
    crack = rng.standard_normal(len(t)) * np.exp(-t / 0.0006)
    return _normalise(roar + 2 * _fft_convolve(pops, crack))


def stream(sample_rate: int = 44_100, seconds: float = 6.0, seed: int = 0) -> np.ndarray:
    """Running water: band-limited noise plus many bubbles (short upward chirps)."""
    rng = np.random.default_rng(seed)
    n = int(seconds * sample_rate)
    noise = rng.standard_normal(n)
    out = (noise - _one_pole_lowpass(noise, 2000, sample_rate)) * 0.15  # bright rush
    for _ in range(int(seconds * 120)):
        f0, dur = rng.uniform(500, 3000), rng.uniform(0.01, 0.04)
        t = np.arange(int(dur * sample_rate)) / sample_rate
        bubble = np.sin(2 * np.pi * f0 * (t + 2.0 * t * t / dur)) * np.exp(-t / (dur / 3)) * rng.uniform(0.1, 0.5)
        start = int(rng.integers(0, max(1, n - len(t))))
        out[start:start + len(t)] += bubble
    return _normalise(out)


def wind(sample_rate: int = 44_100, seconds: float = 6.0, seed: int = 0) -> np.ndarray:
    """Wind: noise through a slowly sweeping resonance, with gusts."""
    rng = np.random.default_rng(seed)
    n = int(seconds * sample_rate)
    t = np.arange(n) / sample_rate
    gust = 0.5 + 0.5 * np.sin(2 * np.pi * 0.15 * t + rng.uniform(0, 6)) ** 2
    noise = rng.standard_normal(n)
    low, high = _one_pole_lowpass(noise, 120, sample_rate), _one_pole_lowpass(noise, 500, sample_rate)
    return _normalise((high - low) * gust + 0.5 * low * gust)  # dark, howling band


def percussion(sample_rate: int = 44_100, seconds: float = 6.0, tempo: float = 110.0, seed: int = 0) -> np.ndarray:
    """A percussive groove: kick, snare and hats on a 16-step pattern, with slight humanising."""
    rng = np.random.default_rng(seed)
    n = int(seconds * sample_rate)
    out = np.zeros(n)
    step = 60.0 / tempo / 4
    t = np.arange(int(0.3 * sample_rate)) / sample_rate
    kick = np.sin(2 * np.pi * (50 * t + 60 * 0.03 * (1 - np.exp(-t / 0.03)))) * np.exp(-t / 0.12)
    snare = (rng.standard_normal(len(t)) * 0.7 + np.sin(2 * np.pi * 190 * t)) * np.exp(-t / 0.06)
    hat = np.diff(rng.standard_normal(len(t) + 1)) * np.exp(-t / 0.012) * 0.4
    pattern = {0: kick, 4: snare, 8: kick, 10: kick, 12: snare}
    for i in range(int(seconds / step)):
        start = int((i * step + rng.normal(0, 0.004)) * sample_rate)
        for hit in ([pattern[i % 16]] if i % 16 in pattern else []) + ([hat] if i % 2 == 0 else []):
            if 0 <= start < n:
                seg = hit[: n - start]
                out[start:start + len(seg)] += seg * rng.uniform(0.8, 1.0)
    return _normalise(out)


def plucked_cloud(sample_rate: int = 44_100, seconds: float = 6.0, seed: int = 0) -> np.ndarray:
    """A cloud of plucked strings: random notes of a pentatonic scale at random times."""
    rng = np.random.default_rng(seed)
    n = int(seconds * sample_rate)
    out = np.zeros(n)
    scale = [0, 2, 4, 7, 9]
    t = np.arange(int(1.5 * sample_rate)) / sample_rate
    for _ in range(int(seconds * 6)):
        note = 57 + scale[rng.integers(5)] + 12 * rng.integers(0, 3)
        f0 = A4 * 2 ** ((note - 69) / 12)
        tone = sum(np.sin(2 * np.pi * h * f0 * t) * np.exp(-t * (3 + 2 * h)) / h ** 1.5
                   for h in range(1, 12) if h * f0 < sample_rate / 2.2)
        start = int(rng.integers(0, n))
        seg = tone[: n - start]
        out[start:start + len(seg)] += seg * rng.uniform(0.3, 1.0)
    return _normalise(out)


def vinyl(sample_rate: int = 44_100, seconds: float = 6.0, seed: int = 0) -> np.ndarray:
    """Vinyl surface noise: soft hiss, a low rumble and dense random clicks."""
    rng = np.random.default_rng(seed)
    n = int(seconds * sample_rate)
    hiss = np.diff(rng.standard_normal(n + 1)) * 0.03
    rumble = _one_pole_lowpass(rng.standard_normal(n), 40, sample_rate) * 2
    clicks = np.zeros(n)
    count = int(seconds * 40)
    clicks[rng.integers(0, n, count)] = np.minimum(rng.pareto(3.0, count), 3.0) * rng.choice([-1, 1], count)
    click = np.exp(-np.arange(40) / 6.0)
    return _normalise(hiss + rumble + _fft_convolve(clicks, click))


#: The built-in textures, by name: each is ``f(sample_rate, seconds) -> float32 [1, samples]``.
#: name -> texture function ``(sample_rate, seconds) -> float32 [1, samples]``
TEXTURES: dict[str, Callable[[int, float], np.ndarray]] = {"rain": rain, "fire": fire, "stream": stream, "wind": wind, "drone": bowed_drone,
            "percussion": percussion, "plucks": plucked_cloud, "vinyl": vinyl}
