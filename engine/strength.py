"""Strength: how far a render moves from the content toward the full style, as a morph.

A render optimises toward the style itself; ``strength`` s then places the output on the way
from the content (s = 0) to that full render (s = 1) by morphing their short-time spectra:

    |X_s| = ((1−s)·|C|^p + s·|Y|^p)^(1/p),  p = (1−s)²   (a power mean of the magnitudes)
    ∠X_s  = ∠((1−s)·C + s·Y)                   (the phase of the linear mix: continuous at both ends)

then one inverse STFT. The mean's exponent falls with strength (:func:`mean_exponent`): near 0 it
is a mean of magnitudes, so the texture comes in where the content is quiet (between notes,
under a voice) while the content's loud bins stay, as in a mix; towards 1 it becomes the mean of
log-magnitudes (``|C|^(1−s)·|Y|^s``: levels move in dB), so the last steps move every band's
level to the render's. Where the content is more than :data:`CONTENT_FLOOR_DB` under the full
render (a band it leaves empty: a mix cut at 16 kHz, the gaps between notes), its magnitude is
raised to that floor first, so the style's texture fades into the band with the render's own
envelope instead of following the content's noise floor. Both ends are exact (s = 0 is the
content, s = 1 the full render), within the floor's range every band's level moves
monotonically, and the cost is three STFTs whatever the model.

Why the falling exponent? The log-magnitude mean alone (the morph until the twelfth session) left
a band the content holds quiet 30 dB under the render at 0.25: little texture at low strength,
where a Match EQ had as much style with more of the content. Measured on the 16 pitched pairs of
``bench/notes.py`` (excerpts | whole clips), at 0.25: style gain 0.085 -> 0.102 | 0.085 -> 0.109,
content kept 0.962 -> 0.971 | 0.966 -> 0.972, pitch kept 0.971 -> 0.962 | 0.972 -> 0.965 (at 0.5
+0.01 style and content, -0.003 pitch; at 0.75 and 1 the same), and a Match EQ setting at least
as good on all three as some strength on 1 of 13 whole clips instead of 4. A plain mean of
magnitudes at every strength (p = 1) took in more texture still, but on a clip whose full render
has little style left after the limiter (brick-walled speech as steam) style stopped rising with
strength, and with p falling as 1 − s it still did; falling as (1 − s)², style rises at every
step on every pair.

Why not a blend of statistics as target (the earlier knob)? Measured on real recordings, a
mixed target did not give more style for more strength on several pairs (speech → guitar went
0.00 → −0.07 from strength 0.25 to 1), and in the spectrogram domain it could drive the
optimiser to outputs further from both sounds than either (piano → water at 0.25: style
gain −0.55, content kept −0.04). The morph is monotone by construction.

Why the floor? Without it, a band the content leaves (near) silent keeps, at low strength, the
content's noise floor raised to 1−s: a tiny signal whose envelope jumps by tens of dB. Measured on
the 16 pitched pairs of ``bench/notes.py`` (3 s excerpts), the style gain of a blues mix as leaves
was −0.10 at strength 0.25 (its envelope statistics further from the style than the content's),
and a Match EQ dominated a default point on 5 pairs; with a 40 dB floor: +0.09, 2 pairs, style at
0.25 up from 0.064 to 0.085 on average with content and pitch kept within 0.002.

Automated strength (an :class:`~engine.automation.Envelope`) is the same morph with s per STFT
frame: each frame takes the envelope's value at its centre, in seconds from the start of the
file (``offset``: where a streamed chunk starts), and the overlap-add of the inverse STFT
(75 % overlap) turns the frame-wise steps into a smooth curve. Where the envelope is 0 the
output is the content to float rounding (it has passed through the STFT), not bit for bit.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from .automation import Automatable, Envelope
from .spectral import inverse_stft, stft_frames


#: How far under the full render the content's magnitude may lie before the morph (dB); see above.
CONTENT_FLOOR_DB = 40.0
#: The strength over which the floor fades in from nothing (the morph is continuous at 0).
FLOOR_FADE = 0.1


def morph_fft_size(sample_rate: int) -> int:
    """A ~46 ms window (2048 at 44.1/48 kHz): long enough for bass, short enough for onsets."""
    return 1 << int(round(np.log2(0.046 * sample_rate)))


@dataclass(frozen=True)
class FrameGrid:
    """The short-time frames two signals are morphed on (:func:`paired_spectra`)."""

    n_fft: int
    sample_rate: int

    @property
    def hop(self) -> int:
        return self.n_fft // 4

    @property
    def window(self) -> torch.Tensor:
        return torch.hann_window(self.n_fft, dtype=torch.float64)

    def per_frame(self, value: Automatable, frames: int, offset: float = 0.0) -> float | torch.Tensor:
        """``value`` as is, or an envelope read at each frame's centre (``offset``: the first sample's seconds)."""
        if not isinstance(value, Envelope):
            return value
        return torch.from_numpy(value.at(offset + np.arange(frames) * self.hop / self.sample_rate))

    def inverse(self, spectrum: torch.Tensor, length: int) -> np.ndarray:
        """``float32`` samples of a spectrum on this grid."""
        return inverse_stft(spectrum, self.n_fft, self.hop, self.window, length).numpy().astype(np.float32)


def paired_spectra(a: np.ndarray, b: np.ndarray, sample_rate: int) -> tuple[torch.Tensor, torch.Tensor, FrameGrid]:
    """The short-time spectra (float64, :func:`morph_fft_size` windows, 75 % overlap) of two
    signals of one shape, and their grid: what the strength morph and the style blend both read."""
    grid = FrameGrid(morph_fft_size(sample_rate), sample_rate)
    window = grid.window
    x, y = (torch.from_numpy(np.asarray(c, dtype=np.float64)) for c in (a, b))
    return stft_frames(x, grid.n_fft, grid.hop, window), stft_frames(y, grid.n_fft, grid.hop, window), grid


def morph(content: np.ndarray, rendered: np.ndarray, strength: Automatable, sample_rate: int,
          offset: float = 0.0) -> np.ndarray:
    """``content`` morphed ``strength`` of the way to ``rendered`` (both ``[channels, samples]``);
    an envelope is evaluated at each frame's centre, ``offset`` seconds being the clip's first sample."""
    if not isinstance(strength, Envelope):
        if strength >= 1.0:
            return rendered
        if strength <= 0.0:
            return content
    sc, sy, grid = paired_spectra(content, rendered, sample_rate)
    s = grid.per_frame(strength, sc.shape[-1], offset)
    # Each complex magnitude once: a float64 complex abs is the morph's dearest pass (it took
    # 0.41 of 0.46 s on 10 s of stereo at 48 kHz when each use took its own).
    content_abs, rendered_abs = sc.abs(), sy.abs()
    floor = 1e-9 * max(float(content_abs.max()), float(rendered_abs.max()), 1e-12)
    rendered_magnitude = rendered_abs.clamp_min(floor)
    # The floor fades in over the first FLOOR_FADE of strength, so the morph stays continuous at s = 0.
    fade_in = torch.as_tensor(s / FLOOR_FADE, dtype=torch.float64).clamp(max=1.0)  # per frame if automated
    content_floor = rendered_magnitude * (10 ** (-CONTENT_FLOOR_DB / 20) * fade_in)
    content_magnitude = torch.maximum(content_abs.clamp_min(floor), content_floor)
    magnitude = power_mean(content_magnitude, rendered_magnitude, s)
    mix = (1 - s) * sc + s * sy
    mix_abs = mix.abs()
    # The phase of the mix, or the content's where the two cancel.
    audible = mix_abs > floor
    unit = torch.where(audible, mix, sc).div_(torch.where(audible, mix_abs, content_abs).clamp_min_(floor))
    return grid.inverse(unit.mul_(magnitude), content.shape[-1])


def mean_exponent(strength: float | torch.Tensor) -> float | torch.Tensor:
    """The exponent of :func:`power_mean` at ``strength``: 1 (magnitudes) at 0, falling to 0 (dB) at 1."""
    return (1 - strength) ** 2


def power_mean(a: torch.Tensor, b: torch.Tensor, strength: float | torch.Tensor) -> torch.Tensor:
    """``((1−s)·a^p + s·b^p)^(1/p)`` with ``p`` = :func:`mean_exponent` (``s``), for positive ``a``
    and ``b``; ``a^(1−s)·b^s`` where ``p`` is 0. ``strength``: a number, or one per frame (the last
    axis). Computed from logarithms, so a 120 dB range between the two stays exact."""
    s = torch.as_tensor(strength, dtype=a.dtype)
    p = torch.as_tensor(mean_exponent(s), dtype=a.dtype)
    log_a, log_b = a.log(), b.log()
    small = p < 1e-6  # the geometric mean there (the limit as p -> 0)
    q = torch.where(small, torch.ones_like(p), p)
    mean = torch.logaddexp(torch.log1p(-s) + q * log_a, s.log() + q * log_b) / q
    if bool(small.any()):
        mean = torch.where(small, torch.lerp(log_a, log_b, s), mean)
    return mean.exp()
