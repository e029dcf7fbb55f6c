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

    log|Y'| = max(log|Y|, env_Y + T_Y + share · source_C)   at the content's partials
    log|Y'| = log|Y|                                          elsewhere

(``T_Y``: 0 over a noise, see below).

Over a tonal texture (a glass hum, a singing bowl, a bell) the envelope is not where the
texture's own notes are: its partials stand 10-30 dB over it, so the content's, set on the
envelope, drowned among them (a voice as a singing bowl kept 0.05 of its f0 on the corpus).
``T_Y`` raises them, frame by frame, by how far the texture's own *persistent* peaks
stand out (:func:`texture_prominence`: away from the content's partials, averaged over ~2 s, so
a drone counts and a bird's chirp or a clock's tick hardly does): the notes stand out of the
texture as its own partials do. A noise's ripple stays under :data:`TEXTURE_PEAK_FLOOR_DB`, so
renders of noise styles hardly move. Measured on the 16 pitched pairs of ``bench/notes.py`` at
strength 1 (excerpts): a voice as a glass hum keeps f0 0.14 -> 0.56 and pitch 0.31 -> 0.47 at
style 0.23 -> 0.22; a voice as a singing bowl f0 0.05 -> 0.83 (style 0.06 -> 0.04); guitar as a
bell pitch 0.68 -> 0.84 (style 0.25 -> 0.20); the noise styles' renders within 0.006.

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

from typing import Optional

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
#: Frames (each side, ~0.9 s at the kernel model's 23 ms hop) over which the texture's own peaks
#: are averaged before they count (:func:`texture_prominence`): a drone's partials persist and keep
#: their height, a bird's chirp or a clock's tick is diluted.
TEXTURE_PERSISTENCE_FRAMES = 40
#: The share of a frame's bins whose height measures how far the texture's peaks stand out (its top 1 %).
TEXTURE_PEAK_SHARE = 0.01
#: Texture peaks count from this much (dB) over the envelope, after the averaging: a noise's own
#: ripple stays under it (measured on the corpus: every noise and impulsive style's render at 0).
TEXTURE_PEAK_FLOOR_DB = 10.0


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


def texture_prominence(db: torch.Tensor, envelope: torch.Tensor, peaks: torch.Tensor) -> torch.Tensor:
    """Per frame ``[channels, 1, frames]``: how far (dB, past :data:`TEXTURE_PEAK_FLOOR_DB`) the
    render's own persistent peaks, away from the content's partials ``peaks``, stand over its
    ``envelope``: on the corpus's renders a singing bowl 8 dB on average (up to 12), a glass hum 4,
    a bell 3, birds and night sounds under 1, every noise and impulsive style 0."""
    own = _running_mean(torch.where(peaks > 0, torch.zeros_like(db), (db - envelope).clamp_min(0.0)),
                        TEXTURE_PERSISTENCE_FRAMES)
    top = max(1, int(round(TEXTURE_PEAK_SHARE * own.shape[-2])))
    height = own.topk(top, dim=-2).values[..., -1:, :]
    return _smooth_frames(height - TEXTURE_PEAK_FLOOR_DB, LEVEL_SMOOTHING_FRAMES).clamp_min(0.0)


def _running_mean(x: torch.Tensor, k: int) -> torch.Tensor:
    """``x [..., frames]`` averaged over ``k`` frames each side (fewer at the ends), by running
    sums: the cost does not grow with ``k`` (a pooling window of 81 frames took 13 ms on 10 s).
    The same average as :func:`_smooth_frames`, rounded differently: that one stays for the short
    windows, where it costs nothing and every render since the partials step has used its rounding
    (this one in its place moved renders by up to 1e-3 in a sample)."""
    frames = x.shape[-1]
    csum = x.double().cumsum(-1)
    # csum padded with k zeros in front and its last value k times behind: window sums by two slices
    padded = torch.cat([csum.new_zeros(*csum.shape[:-1], k + 1), csum,
                        csum[..., -1:].expand(*csum.shape[:-1], k)], -1)
    index = torch.arange(frames, device=x.device)
    counts = (index + k + 1).clamp(max=frames) - (index - k).clamp(min=0)
    return ((padded[..., 2 * k + 1:] - padded[..., :frames]) / counts).to(x.dtype)


def _smooth_frames(x: torch.Tensor, k: int) -> torch.Tensor:
    """``x [..., frames]`` averaged over ``k`` frames each side (fewer at the ends)."""
    return torch.nn.functional.avg_pool1d(x.reshape(-1, 1, x.shape[-1]), 2 * k + 1, 1, k,
                                          count_include_pad=False).reshape(x.shape)


def keep_partials(magnitude: torch.Tensor, content: torch.Tensor, share: float, sample_rate: int,
                  last_frame: Optional[int] = None) -> torch.Tensor:
    """``magnitude [channels, bins, frames]`` with the content's partials (``content``: its
    magnitude, same shape) set on its time-smoothed envelope at ``share`` of their height (dB),
    raised by the texture's own :func:`texture_prominence` where it is tonal.

    ``last_frame``: the frame centred on or just before the clip's last sample. The STFT folds
    the clip around its first and last samples, and the optimiser can leave a hole in those frames
    (a steady tone as wind: -83.5 dB at 220 Hz where the middle is 18.6 dB), which the dB average
    carried into its neighbours' level: the tone's partials came out 7-8 dB low over the last 70 ms.
    So the envelope is smoothed with frame 0 taken from frame 1, and the frames from ``last_frame``
    on from the one before it (the tone as wind's last 50 ms: 0.61 -> 0.78x the clip's RMS)."""
    if share <= 0:
        return magnitude
    peaks = partial_peaks(content, sample_rate)
    db = to_db(magnitude)
    envelope = spectral_envelope(db, sample_rate)
    level = _smooth_frames(_without_folds(envelope, last_frame), LEVEL_SMOOTHING_FRAMES)
    level = level + texture_prominence(db, envelope, peaks)
    raised = torch.where(peaks > 0, (level + share * peaks - db).clamp_min(0.0), torch.zeros_like(db))
    return magnitude * 10 ** (raised / 20)


def _without_folds(envelope: torch.Tensor, last_frame: Optional[int]) -> torch.Tensor:
    """``envelope [..., frames]`` with its first frame and the frames from ``last_frame`` on taken
    from their neighbours inside (see :func:`keep_partials`)."""
    frames = envelope.shape[-1]
    if last_frame is None or not 2 <= last_frame < frames or frames < 3:
        return envelope
    out = envelope.clone()
    out[..., 0] = out[..., 1]
    out[..., last_frame:] = out[..., last_frame - 1:last_frame]
    return out
