"""A render that moves from one style to another over time: the ``blend`` setting.

``blend`` w (a number or an :class:`~engine.automation.Envelope`, like ``strength``) places each
moment between the first style (w = 0) and a second one (w = 1, ``blend_to``). The clip is
rendered once per style at full strength (:func:`engine.render.render`, strength 1, loudness
matching off), and the two full renders A and B are combined frame by frame in the short-time
spectrum (:func:`blend_spectra`); then, as :func:`engine.render.render` does, ``strength`` morphs
the content toward that combined full render and the result is matched to the content's level
(:func:`engine.render.finish`). A blend that is 0 (or 1) over the whole clip costs one render and is that
style's render bit for bit.

Why log-magnitudes plus a level correction, and which floor? Log-magnitudes move each band's
level monotonically in dB (the strength morph, :func:`engine.strength.morph`, ends in them);
between two full renders, though, the geometric mean of two independent textures is quieter
than either (measured: a melody rendered as rain and as fire, 20 kernel iterations: 4.0 dB
under both at w = 0.5, 2.9 dB at 0.25 and 0.75), a dip a listener hears as a level jump where the blend moves. So each
frame is brought to the level interpolated in dB between A's and B's at that frame (then, since
the overlap-add of frames whose phases come from two unrelated renders partly cancels, the
output's own frames are brought there again, :data:`LEVEL_PASSES` times; measured on a tone as
rain and fire without contour or partials, the plain morph came out 9.2 dB under both renders'
RMS and the blend at the dB mean of their frames' levels, to 0.1 dB). The floor of
``morph`` exists for a content that leaves a band empty while the render fills it; here both
sides are full renders of the same content, and each side is given the floor against the other
(symmetric, faded in over the first :data:`~engine.strength.FLOOR_FADE` of its weight), so a
band only one style fills fades in with that style's envelope.

Both styles must come from the same model with the same parameters (the caller checks:
``model_mismatch``). Streamed long clips (:mod:`engine.streaming`) call :func:`render_blend` per
chunk, with the file's ``level`` and the chunk's ``offset``, so the blend runs over the whole file.
"""
from __future__ import annotations

from dataclasses import replace
from typing import Any, Callable, Optional

import numpy as np
import torch

from .automation import Automatable, span
from .models import Stats, TextureModel
from .progress import CancelToken, ProgressCallback
from .render import finish, render
from .render_settings import RenderSettings
from .spectral import inverse_stft, stft_frames
from .strength import CONTENT_FLOOR_DB, FLOOR_FADE, paired_spectra


#: Passes that bring each output frame back to its target level after the overlap-add (see blend_spectra).
LEVEL_PASSES = 2


def render_blend(content: np.ndarray, sample_rate: int, model: TextureModel, style: Stats,
                 blend_to: Optional[Stats], settings: RenderSettings = RenderSettings(),
                 progress: Optional[ProgressCallback] = None, cancel: Optional[CancelToken] = None, *,
                 level: Optional[float] = None, offset: float = 0.0) -> np.ndarray:
    """:func:`engine.render.render` of ``content`` between ``style`` and ``blend_to`` by
    ``settings.blend`` (same arguments and result); without ``blend_to``, the render in ``style``."""
    only = only_style(content.shape[-1] / sample_rate, style, blend_to, settings, offset)
    if only is not None or span(settings.strength, offset, offset + content.shape[-1] / sample_rate)[1] == 0.0:
        return render(content, sample_rate, model, only or style, settings, progress, cancel, level=level,
                      offset=offset)
    full = full_render(content, sample_rate, model, style, blend_to, settings, progress, cancel,
                       level=level, offset=offset)
    return finish(content, full, settings, sample_rate, offset)


def blending(blend_to: Optional[Stats]) -> Callable[..., np.ndarray]:
    """:func:`render_blend` toward ``blend_to`` with :func:`engine.render.render`'s arguments (what
    :mod:`engine.streaming` calls per chunk)."""
    def draw(content: np.ndarray, sample_rate: int, model: TextureModel, style: Stats, *args: Any,
             **kwargs: Any) -> np.ndarray:
        return render_blend(content, sample_rate, model, style, blend_to, *args, **kwargs)
    return draw


def only_style(seconds: float, style: Stats, blend_to: Optional[Stats], settings: RenderSettings,
               offset: float = 0.0) -> Optional[Stats]:
    """The one style a render of ``seconds`` from ``offset`` stays in: ``style`` without
    ``blend_to`` or where the blend is 0 throughout, ``blend_to`` where it is 1 throughout; None
    where it moves between them (or holds between them), which takes a render in each."""
    if blend_to is None:
        return style
    low, high = span(settings.blend, offset, offset + seconds)
    return style if high == 0.0 else blend_to if low == 1.0 else None


def full_render(content: np.ndarray, sample_rate: int, model: TextureModel, style: Stats,
                blend_to: Optional[Stats], settings: RenderSettings = RenderSettings(),
                progress: Optional[ProgressCallback] = None, cancel: Optional[CancelToken] = None, *,
                level: Optional[float] = None, offset: float = 0.0) -> np.ndarray:
    """The full-strength render (strength 1, no loudness matching) that
    :func:`engine.render.finish` morphs the content toward: in the one style the clip stays in
    (:func:`only_style`), or both styles' renders combined by ``settings.blend`` (:func:`blend_spectra`)."""
    full = replace(settings, strength=1.0, blend=0.0, match_loudness=False)
    only = only_style(content.shape[-1] / sample_rate, style, blend_to, settings, offset)
    if only is not None or blend_to is None:
        return render(content, sample_rate, model, only or style, full, progress, cancel, level=level, offset=offset)
    report = progress or (lambda fraction, loss: None)
    a = render(content, sample_rate, model, style, full, lambda f, loss: report(f / 2, loss), cancel,
               level=level, offset=offset)
    b = render(content, sample_rate, model, blend_to, full, lambda f, loss: report(0.5 + f / 2, loss), cancel,
               level=level, offset=offset)
    return blend_spectra(a, b, settings.blend, sample_rate, offset)


def blend_spectra(a: np.ndarray, b: np.ndarray, weight: Automatable, sample_rate: int,
                  offset: float = 0.0) -> np.ndarray:
    """``a`` moved ``weight`` of the way to ``b`` (both ``[channels, samples]``), frame by frame:
    log-magnitudes interpolated (each side floored against the other), the phase of the linear
    mix, and each frame brought to the level interpolated in dB between ``a``'s and ``b``'s there
    (see the module's notes). An envelope is read at each frame's centre, ``offset`` seconds being
    the first sample. Exact at a weight of 0 or 1 to float rounding (one STFT round trip)."""
    sa, sb, grid = paired_spectra(a, b, sample_rate)
    frames, length = sa.shape[-1], a.shape[-1]
    w = torch.as_tensor(grid.per_frame(weight, frames, offset), dtype=torch.float64).expand(frames)
    abs_a, abs_b = sa.abs(), sb.abs()  # once each: a complex abs is the dearest pass here
    tiny = 1e-9 * max(float(abs_a.max()), float(abs_b.max()), 1e-12)
    ma, mb = abs_a.clamp_min(tiny), abs_b.clamp_min(tiny)
    floor = 10 ** (-CONTENT_FLOOR_DB / 20)
    ma_floored = torch.maximum(ma, mb * floor * (w / FLOOR_FADE).clamp(max=1.0))
    mb_floored = torch.maximum(mb, ma * floor * ((1 - w) / FLOOR_FADE).clamp(max=1.0))
    magnitude = ma_floored ** (1 - w) * mb_floored ** w
    # Each frame's power (over channels and bins) moved in dB from a's to b's.
    pa, pb, pm = (m.square().sum(dim=tuple(range(m.dim() - 1))) for m in (abs_a, abs_b, magnitude))
    eps = tiny * tiny
    target = (pa + eps) ** (1 - w) * (pb + eps) ** w
    magnitude = magnitude * (target / (pm + eps)).sqrt()
    mix = (1 - w) * sa + w * sb
    mix_abs = mix.abs()
    audible = mix_abs > tiny
    nearer = w < 0.5  # where the two cancel, the phase of the side the blend is nearer
    side, side_abs = torch.where(nearer, sa, sb), torch.where(nearer, abs_a, abs_b)
    phase = torch.where(audible, mix, side) / torch.where(audible, mix_abs, side_abs).clamp_min(1e-300)
    window = grid.window
    out = inverse_stft(magnitude * phase, grid.n_fft, grid.hop, window, length)
    # The frames' phases come from two unrelated renders, so their overlap-add partly cancels (up
    # to 3 dB lost halfway between two textures): a second pass brings each frame of the output
    # itself to the target, a gain that moves smoothly from frame to frame, so it costs little more.
    for _ in range(LEVEL_PASSES):
        spec = stft_frames(out, grid.n_fft, grid.hop, window)
        power = spec.abs().square().sum(dim=tuple(range(spec.dim() - 1)))
        out = inverse_stft(spec * (target / (power + eps)).sqrt(), grid.n_fft, grid.hop, window, length)
    return out.numpy().astype(np.float32)
