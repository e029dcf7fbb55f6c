"""Spectral envelope: bring a render's long-term spectrum to the style's.

A texture's long-term spectrum (how loud each band is on average) is the first thing a
listener hears of it, and the one statistic a patch-kernel loss on log-magnitudes matches
least well: it weighs every bin's log-level alike, so a few dB of error in the loudest bins
(sub-bass, say) go unpunished although they set the balance of the whole spectrum. Measured on
the real-recording benchmark, renders overshot the style's band levels so far that the 0.75
morph sounded closer to the style than the full render (guitar -> clock: the 50-90 Hz band 6 dB
over the style's, everything else 12 dB under). After the optimiser, :func:`match_envelope`
applies one smooth gain per frequency bin, the same for every frame, so the render's mean power
spectrum (smoothed over about a sixth of an octave) equals the style's. Frames keep their own
dynamics: onsets, syllables and notes move exactly as the optimiser left them.

The content's coarse contour: a style loss knows nothing of the content, so every iteration
wears away the content's loud and quiet moments (a noise style fills speech's pauses, a drone
flattens a melody's notes). :func:`follow_contour` moves the render's energy contour, in
octave bands and frame by frame, part of the way back to the content's: the content's
structure (syllables, notes, hits) at the resolution of a vocoder, the style's texture within
it. Measured on the real-recording benchmark (bench/RESULTS.md), a share of 0.4 with 30
optimiser iterations (it leaves room for them) against 12 without it: content kept at strength 1
0.60 -> 0.71 for about the same style (0.40 -> 0.39), and style rising with strength on every pair.

A chunk's ends: the optimiser moves the frames near a chunk's first and last samples further than
the rest (the loss constrains them least: ten loud frames shift a patch's log-magnitude norm by
some 20 %), and a steady tone rendered as rain swelled to 1.6-1.8x its RMS over its last 200 ms.
:func:`hold_end_bands` holds each octave band there under the level the render reaches inside.
"""
from __future__ import annotations

import torch

from .spectral import replace_end_frames

#: Smoothing half-width as a share of a bin's frequency (~1/6 octave in all) and at least a bin.
SMOOTHING = 0.06
#: The gain a bin may get or lose (dB): past this a band is empty in one of the two sounds.
MAX_GAIN_DB = 30.0


def smooth_spectrum(power: torch.Tensor, share: float = SMOOTHING) -> torch.Tensor:
    """``power [..., bins]`` averaged over a window of ``± share × bin`` bins (at least ±1)."""
    bins = power.shape[-1]
    index = torch.arange(bins, device=power.device)
    half = torch.clamp((index * share).round().long(), min=1)
    lo, hi = (index - half).clamp(min=0), (index + half + 1).clamp(max=bins)
    csum = torch.cat([power.new_zeros(*power.shape[:-1], 1), power.double().cumsum(-1)], -1)
    return ((csum[..., hi] - csum[..., lo]) / (hi - lo)).to(power.dtype)


def envelope_gains(power: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Amplitude gains ``[..., bins]`` taking the smoothed ``power`` to the smoothed ``target``
    (both mean powers per bin; only their shapes matter, levels are matched later)."""
    ratio = smooth_spectrum(target) / smooth_spectrum(power).clamp_min(1e-20)
    ratio = ratio * (power.sum(-1, keepdim=True) / (ratio * power).sum(-1, keepdim=True).clamp_min(1e-20))
    limit = 10 ** (MAX_GAIN_DB / 10)
    return ratio.clamp(1 / limit, limit).sqrt()


def match_envelope(magnitude: torch.Tensor, target_power: torch.Tensor) -> torch.Tensor:
    """``magnitude [channels, bins, frames]`` with each channel's long-term mean power spectrum
    brought to ``target_power [bins]`` (one gain per bin, the same for every frame)."""
    power = magnitude.square().mean(-1)
    return magnitude * envelope_gains(power, target_power)[..., None]


#: Bands per octave of the contour that :func:`follow_contour` carries over.
CONTOUR_BANDS_PER_OCTAVE = 1.0
#: Lowest band centre (Hz): one band takes everything below it.
CONTOUR_LOW_HZ = 62.5
#: Contour differences are taken within this range (dB): past it one of the two sounds is
#: silent in that band and frame, and how silent says nothing about the content's structure.
MAX_CONTOUR_DB = 30.0
#: A frame more than this (dB) under its band's mean energy counts as silent.
CONTOUR_FLOOR_DB = -60.0


def band_weights(bins: int, sample_rate: int, bands_per_octave: float = CONTOUR_BANDS_PER_OCTAVE,
                 low_hz: float = CONTOUR_LOW_HZ) -> torch.Tensor:
    """Triangular bands ``[bands, bins]`` on a log-frequency axis; every bin's weights sum to one."""
    freqs = torch.linspace(0, sample_rate / 2, bins, dtype=torch.float64)
    position = torch.log2(freqs.clamp_min(low_hz) / low_hz) * bands_per_octave
    centres = torch.arange(int(position.max().ceil()) + 1, dtype=torch.float64)
    weights = (1 - (position[None, :] - centres[:, None]).abs()).clamp_min(0)
    return (weights / weights.sum(0, keepdim=True)).float()


def band_energies(magnitude: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    """Each band's (``weights``: :func:`band_weights`) energy frame by frame ``[channels, bands, frames]``."""
    return torch.einsum("kb,cbt->ckt", weights, magnitude.square())


def bin_gains(weights: torch.Tensor, gain_db: torch.Tensor) -> torch.Tensor:
    """Amplitude gains per bin ``[channels, bins, frames]`` from gains per band in dB
    ``[channels, bands, frames]``, interpolated across bins by the bands' ``weights``."""
    return 10 ** (torch.einsum("kb,ckt->cbt", weights, gain_db) / 20)


def energy_contour(magnitude: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    """Each band's energy frame by frame, in dB relative to the band's mean energy
    ``[channels, bands, frames]``, floored at :data:`CONTOUR_FLOOR_DB`."""
    energy = band_energies(magnitude, weights)
    relative = energy / energy.mean(-1, keepdim=True).clamp_min(1e-30)
    return (10 * relative.clamp_min(1e-30).log10()).clamp_min(CONTOUR_FLOOR_DB)


def follow_contour(magnitude: torch.Tensor, content: torch.Tensor, share: float, sample_rate: int) -> torch.Tensor:
    """``magnitude [channels, bins, frames]`` with its coarse energy contour moved ``share`` of
    the way (in dB) to that of ``content`` (same shape): ``magnitude`` x :func:`contour_gains`."""
    return magnitude if share <= 0 else magnitude * contour_gains(magnitude, content, share, sample_rate)


def contour_gains(magnitude: torch.Tensor, content: torch.Tensor, share: float, sample_rate: int) -> torch.Tensor:
    """Amplitude gains ``[channels, bins, frames]`` that move the energy contour of ``magnitude``
    ``share`` of the way (in dB) to that of ``content``. The contour is each octave band's
    energy frame by frame relative to the band's mean (:func:`energy_contour`), so levels and
    the spectrum stay the render's; the gains are interpolated across bins, so there are no
    steps between bands. At most ``share`` x :data:`MAX_CONTOUR_DB` up or down. Bands the
    content hardly has (:data:`CONTOUR_FLOOR_DB` under its loudest) are left alone, and the two
    end frames take their neighbours' gains: the STFT folds the clip around its first and last
    samples, so those frames hold a click that neither sound has."""
    weights = band_weights(magnitude.shape[-2], sample_rate).to(magnitude.device, magnitude.dtype)
    content, inner = replace_end_frames(content), replace_end_frames(magnitude)
    difference = energy_contour(content, weights) - energy_contour(inner, weights)
    band_energy = torch.einsum("kb,cbt->ck", weights, content.square())
    present = band_energy > band_energy.amax(-1, keepdim=True) * 10 ** (CONTOUR_FLOOR_DB / 10)
    gain_db = share * difference.clamp(-MAX_CONTOUR_DB, MAX_CONTOUR_DB) * present[..., None]
    return bin_gains(weights, gain_db)


#: :func:`hold_end_bands`: frames whose centre lies within this many hops of a chunk's first or
#: last sample (one patch of the kernel model: the frames its loss constrains least).
END_FRAMES = 11
#: ... are held under this quantile of the band's energy over the frames inside.
END_QUANTILE = 0.95


def frames_near_ends(frames: int, hop: int, samples: int) -> torch.Tensor:
    """Which of a chunk's ``frames`` (centred every ``hop`` samples) lie within :data:`END_FRAMES`
    hops of its first or last sample, or past it: ``[frames]`` bool."""
    centres = torch.arange(frames, dtype=torch.float64) * hop
    return torch.minimum(centres, samples - centres) < END_FRAMES * hop


def hold_end_bands(magnitude: torch.Tensor, content: torch.Tensor, ends: torch.Tensor,
                   sample_rate: int) -> torch.Tensor:
    """``magnitude [channels, bins, frames]`` with each octave band, in the frames ``ends`` marks
    (:func:`frames_near_ends`), held under :data:`END_QUANTILE` of that band's energy over the other
    frames, raised by as much as ``content`` (same shape) is itself louder there than its own
    quantile inside (a final chord stays). Gains interpolated across bins, as the contour's.
    Spectrogram domain only: the swell is the optimised frames', and a waveform render of a drone
    in its own style lost 24 dB of statistic SNR to it (its 1 s chunk is mostly ends).
    Measured on a steady 220 + 331 Hz tone as rain: its last 200 ms 1.56-1.80x the clip's RMS
    before, 0.99-1.05x after (1.00-1.13x once the partials step left the fold frames out)."""
    inside = ~ends
    if int(inside.sum()) < 4 * END_FRAMES:  # too short a chunk to say what its inside is (1 s at 44.1 kHz)
        return magnitude
    weights = band_weights(magnitude.shape[-2], sample_rate).to(magnitude.device, magnitude.dtype)
    rendered = band_energies(magnitude, weights)
    own = band_energies(replace_end_frames(content), weights)  # (the fold's click: see contour_gains)
    inside = inside.to(magnitude.device)
    ceiling = torch.quantile(rendered[..., inside], END_QUANTILE, dim=-1, keepdim=True)
    content_level = torch.quantile(own[..., inside], END_QUANTILE, dim=-1, keepdim=True)
    present = content_level > content_level.amax(-2, keepdim=True) * 10 ** (CONTOUR_FLOOR_DB / 10)
    raised = torch.where(present, own / content_level.clamp_min(1e-30), torch.zeros_like(own)).clamp_min(1.0)
    ends = ends.to(magnitude.device)
    gain = (ceiling * raised[..., ends] / rendered[..., ends].clamp_min(1e-30)).clamp(10 ** (-MAX_GAIN_DB / 10), 1.0)
    held = magnitude.clone()
    held[..., ends] *= bin_gains(weights, 10 * gain.log10())  # (only the ends: 15 -> 9 ms on 10 s of stereo)
    return held
