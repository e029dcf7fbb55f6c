"""Chunk geometry: where a long clip is cut, and how two chunks' renders are joined.

A render cuts a clip longer than ``chunk_seconds`` into chunks that overlap by
``crossfade_seconds`` (this bounds memory, the kernel loss being quadratic in a chunk's frames,
and keeps statistics local); in memory (:func:`engine.render.render`, at the analysis rate) and
streamed (:mod:`engine.streaming`, at the file's rate) alike, the spans are :func:`chunk_spans`'
and neighbouring renders are crossfaded in the short-time spectrum by :func:`join_chunks`.
"""
from __future__ import annotations

import numpy as np
import torch

from .render_settings import RenderSettings
from .spectral import inverse_stft, stft_frames
from .strength import morph_fft_size


def chunk_frames(settings: RenderSettings, sample_rate: int) -> int:
    """A chunk's least length in frames at ``sample_rate`` (``chunk_seconds``)."""
    return int(settings.chunk_seconds * sample_rate)


def fade_frames(settings: RenderSettings, sample_rate: int) -> int:
    """The frames two neighbouring chunks overlap by at ``sample_rate`` (``crossfade_seconds``)."""
    return int(settings.crossfade_seconds * sample_rate)


def single_chunk_frames(settings: RenderSettings, sample_rate: int) -> int:
    """The most frames rendered as one chunk (under twice ``chunk_seconds``); a longer clip is
    cut, and streamed file to file."""
    return 2 * chunk_frames(settings, sample_rate) - fade_frames(settings, sample_rate) - 1


def spans_of(frames: int, settings: RenderSettings, sample_rate: int) -> list[tuple[int, int]]:
    """:func:`chunk_spans` of a clip of ``frames`` at ``sample_rate`` under ``settings``."""
    return chunk_spans(frames, chunk_frames(settings, sample_rate), fade_frames(settings, sample_rate))


def chunk_spans(frames: int, size: int, fade: int) -> list[tuple[int, int]]:
    """Equal chunks of at least ``size`` frames (under twice that) that overlap by ``fade``, in
    memory and streamed. At least, not at most: the cost of a chunk grows faster than its length
    (the kernel loss is quadratic in its frames), so a long clip is cut into chunks of about
    ``size``; but a clip just over ``size`` stays whole, as chunks much shorter than ``size`` take
    less style and keep less content (measured: a 10.02 s clip cut in two 5 s chunks, piano as
    rain, style 0.43 -> 0.33, content kept 0.94 -> 0.82; bench/RESULTS.md, "Long clips")."""
    count = max(1, (frames - fade) // (size - fade))
    if count == 1:
        return [(0, frames)]
    length = -(-(frames - fade) // count) + fade
    return [(i * (length - fade), min(i * (length - fade) + length, frames)) for i in range(count)]


def join_chunks(ending: np.ndarray, starting: np.ndarray, sample_rate: int) -> np.ndarray:
    """Crossfade ``ending`` into ``starting`` (``[channels, n]``: the same stretch of two chunks'
    renders at ``sample_rate``) in the short-time spectrum: each bin's power moves linearly from
    the one to the other, its phase is the linear mix's. Why: two chunks are optimised apart, so
    their renders of the overlap are partly alike and partly opposed in phase, and a crossfade of
    the samples cancelled where they are opposed (measured on a steady tone rendered as wind: the
    level dipped 5-7 dB for 50 ms at most joins; holding each window's level instead left the
    spectrum combed there, spectral flux a third over its highest elsewhere)."""
    fade = ending.shape[-1]
    n_fft = morph_fft_size(sample_rate)
    if fade <= n_fft:  # too short for a spectrum: the samples, linearly
        ramp = (np.arange(fade, dtype=np.float32) + 0.5) / max(fade, 1)
        return (ending * (1 - ramp) + starting * ramp).astype(ending.dtype)
    hop = n_fft // 4
    window = torch.hann_window(n_fft, dtype=torch.float64)
    a, b = (stft_frames(torch.from_numpy(np.asarray(c, dtype=np.float64)), n_fft, hop, window) for c in (ending, starting))
    share = torch.from_numpy(np.clip((np.arange(a.shape[-1]) * hop + 0.5) / fade, 0.0, 1.0))
    power = (1 - share) * a.abs().square() + share * b.abs().square()
    mix = (1 - share) * a + share * b
    fallback = torch.where(share < 0.5, a, b)
    phase = torch.where(mix.abs() > 1e-12, mix, fallback)
    phase = phase / phase.abs().clamp_min(1e-30)
    out = inverse_stft(power.sqrt() * phase, n_fft, hop, window, fade)
    return out.numpy().astype(ending.dtype)
