"""Keep the notes: the content's partials set back into the render.

A style-only loss (and the vocoder-like contour step after it) keeps the content's *envelope*:
where in time and frequency its energy is. What a listener follows in music is finer: the
partials of each note and of a voice, lines a few tens of Hz wide whose spacing is the pitch.
A texture's statistics have no place for them, so the optimiser fills them with the style's
own fine structure; measured on real recordings at strength 1, the melody was gone (peak-chroma
correlation 0.49 on a held-out corpus) and only the loudness contour was left, as in a vocoder.

The source-filter view splits each frame's log spectrum with a cepstral lifter into a smooth
part (low quefrencies: the spectral envelope, the "filter") and the rest (the "source":
harmonic ripple where the content is pitched, noise where it is not). After the optimiser,
:func:`keep_partials` takes the content's partials (where its source stands more than
:data:`PEAK_THRESHOLD_DB` above its envelope) and sets each one on the *render's* envelope,
smoothed over about 100 ms, ``share`` of its height above the content's envelope:

    log|Y'| = max(log|Y|, env_Y + share · source_C)      at the content's partials
    log|Y'| = log|Y|                                       elsewhere

So the partials take the render's spectral colour and level (the style's), the texture stays
the render's between, under and around them (and where it is louder), and content without
partials (noise, drum hits) is left as the optimiser made it. The envelope is the render's
own, smoothed in time, so a sparse or impulsive texture does not chop the notes into its clicks
(measured: setting them on the instantaneous level cost a blues mix as leaves 0.3 of content
kept). The content's phase then carries the partials through Griffin-Lim
(:func:`engine.domains.starting_phase` keeps it wherever the render did not add energy).

The measure this step answers to, peak chroma (:func:`engine.metrics.pitch_kept`), counts
peaks above a local median, much as this step sets them: it is not an independent judge of it.
:func:`engine.metrics.f0_kept` (YIN periodicity of the waveform) and the content contour are.
"""
from __future__ import annotations

import torch

from .spectral import replace_end_frames

#: Quefrencies (seconds) below this form the envelope: shorter than the period of any pitch up
#: to 1.4 kHz, so every partial series lands in the source.
ENVELOPE_QUEFRENCY_S = 0.0007
#: Source peaks count from this much (dB) above the envelope: a noise spectrum's own ripple
#: reaches a few dB (over 8 dB in 3 % of its bins, over 6 dB in 10 %), a partial 10-30 dB.
PEAK_THRESHOLD_DB = 8.0
#: The most a partial stands above the envelope (dB).
MAX_PEAK_DB = 40.0
#: Frames more than this (dB) under the content's loudest frame carry no notes.
SILENT_FRAME_DB = -50.0
#: Frames (each side) over which the render's envelope is averaged before partials are set on it.
LEVEL_SMOOTHING_FRAMES = 2


def to_db(magnitude: torch.Tensor) -> torch.Tensor:
    """``20·log10|magnitude|``, floored 120 dB under the loudest bin."""
    power = magnitude.square()
    return 10 * torch.log10(power + power.amax().clamp_min(1e-30) * 1e-12)


def spectral_envelope(db: torch.Tensor, sample_rate: int) -> torch.Tensor:
    """The cepstrally smoothed envelope of ``db [..., bins, frames]`` (same shape)."""
    bins = db.shape[-2]
    cepstrum = torch.fft.irfft(db.transpose(-1, -2), n=2 * (bins - 1))
    cut = max(2, int(ENVELOPE_QUEFRENCY_S * sample_rate))
    lifter = torch.zeros(cepstrum.shape[-1], dtype=cepstrum.dtype, device=cepstrum.device)
    lifter[:cut] = 1.0
    lifter[-cut + 1:] = 1.0
    return torch.fft.rfft(cepstrum * lifter).real.transpose(-1, -2)


def partial_peaks(content: torch.Tensor, sample_rate: int) -> torch.Tensor:
    """The content's partials ``[channels, bins, frames]`` (its magnitude in): dB by which each
    bin stands above the content's envelope where that is more than :data:`PEAK_THRESHOLD_DB`,
    else 0; 0 in silent frames and in the two end frames (the STFT folds the clip there)."""
    db = to_db(replace_end_frames(content))
    source = (db - spectral_envelope(db, sample_rate)).clamp(max=MAX_PEAK_DB)
    frame_db = 10 * torch.log10(content.square().sum(-2, keepdim=True) + 1e-30)
    sounding = frame_db > frame_db.amax() + SILENT_FRAME_DB
    sounding[..., 0] = sounding[..., -1] = False
    return torch.where((source > PEAK_THRESHOLD_DB) & sounding, source, torch.zeros_like(source))


def keep_partials(magnitude: torch.Tensor, content: torch.Tensor, share: float, sample_rate: int) -> torch.Tensor:
    """``magnitude [channels, bins, frames]`` with the content's partials (``content``: its
    magnitude, same shape) set on its time-smoothed envelope at ``share`` of their height (dB)."""
    if share <= 0:
        return magnitude
    peaks = partial_peaks(content, sample_rate)
    db = to_db(magnitude)
    level = spectral_envelope(db, sample_rate)
    k = LEVEL_SMOOTHING_FRAMES
    level = torch.nn.functional.avg_pool1d(level.reshape(-1, 1, level.shape[-1]), 2 * k + 1, 1, k,
                                           count_include_pad=False).reshape(level.shape)
    raised = torch.where(peaks > 0, (level + share * peaks - db).clamp_min(0.0), torch.zeros_like(db))
    return magnitude * 10 ** (raised / 20)
