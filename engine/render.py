"""Content-initialised style transfer (Grinstein et al. 2018): start from the content, minimise
a style-only loss.

``render`` is a pure function: a content clip and a style target in, a clip of exactly the
content's length, rate and channel count out. The steps:

1. Resample the content to the model's analysis rate and bring it to a reference level (style
   statistics are made at the same level, so loudness does not leak into the texture).
2. Cut long clips into chunks (``chunk_seconds``) that overlap by ``crossfade_seconds``; this
   bounds memory (the kernel loss is quadratic in a chunk's frames) and keeps statistics local.
   Neighbouring chunks' renders are crossfaded in the short-time spectrum (:mod:`engine.chunks`).
3. For each chunk, optimise every channel against the *same* style target, in the chunk's domain
   (:mod:`engine.domains`: the samples, or the model's spectrogram frames). Each channel is
   initialised with its own content, so the stereo image survives; the per-channel loss asks
   each channel to carry the full texture (joint statistics would let one channel carry it).
   A model may rescale the spectrum it optimises (:meth:`TextureModel.preconditioner`), and
   the render stops early once the model says every channel has converged (checked every
   :data:`CONVERGENCE_CHECK_EVERY` iterations). Each optimised channel is brought back to its
   content's level, so a level-invariant loss cannot drift the level between chunks. In the
   spectrogram domain each bin is also held under the louder of the content and the style
   (:func:`engine.domains.overshoot`). After the optimiser, the render's coarse energy contour (octave bands,
   frame by frame) is moved ``contour`` of the way back to the content's, in both domains
   (:func:`engine.envelope.follow_contour`), then the long-term spectrum is brought to the
   style's where the model's statistics hold it (:mod:`engine.envelope`), and the content's
   partials, its notes, are set back over the render's envelope (:mod:`engine.partials`; in the
   waveform domain all three as gains on the output's STFT). In the spectrogram domain Griffin-Lim then starts from
   the content's phase except where the render added energy (:func:`engine.domains.starting_phase`).
4. Every chunk is optimised toward the style itself. ``strength`` s then morphs the content
   into that full render (:func:`engine.strength.morph`: a power mean of the magnitudes whose
   exponent falls from 1 to 0, dB, as s rises; the phase of the linear mix), so s = 0 is the
   content bit for bit, s = 1 the full render, and every band moves monotonically in between.
   An automated strength (an envelope) is read frame by frame at the frame's time in the file
   (:mod:`engine.automation`).
5. Only the *change* is resampled back and added to the original content, so whatever lies
   above the analysis band (e.g. 11-22 kHz of a 44.1 kHz clip) is kept, not lost. In the
   waveform domain the loss already scores the change as that round trip leaves it (the
   resampler drops the last few hundred Hz below the analysis Nyquist), so the delivered file
   has the statistics the optimiser reached.
6. The result is matched to the content's RMS level; a look-ahead limiter keeps peaks under
   -0.1 dBFS, or with ``peaks="scale"`` the whole clip is turned down instead (see
   :func:`engine.loudness.match_loudness`).
"""
from __future__ import annotations

from dataclasses import replace
from typing import Optional

import numpy as np
import torch

from .audio_io import check_clip
from .automation import span
from .chunks import fade_frames, join_chunks, spans_of
from .device import resolve_device
from .domains import DOMAIN_TYPES, SpectrogramDomain, WaveformDomain
from .ends import hold_ends
from .errors import GramophoneError
from .loudness import match_loudness, rms
from .models import Stats, TextureModel
from .optimise import Gradient, adam, lbfgs
from .progress import CancelToken, ProgressCallback, check_cancel
from .render_settings import RenderSettings
from .resampling import resample
from .strength import morph

#: Level (RMS) content and style are brought to before analysis: -20 dBFS.
REFERENCE_RMS = 0.1
#: How often (iterations) a render asks the model whether it has converged.
CONVERGENCE_CHECK_EVERY = 10


def to_analysis_rate(clip: np.ndarray, sample_rate: int, model: TextureModel) -> np.ndarray:
    """Resample to the model's rate and scale to :data:`REFERENCE_RMS` (silence stays silent)."""
    x = resample(clip, sample_rate, model.sample_rate)
    level = rms(x)
    return x * (REFERENCE_RMS / level) if level > 1e-9 else x


def analyse_style(clips: list[tuple[np.ndarray, int]], model: TextureModel) -> Stats:
    """Pooled statistics of one or more style clips (every channel of every clip)."""
    segments: list[torch.Tensor] = []
    for i, (clip, sr) in enumerate(clips):
        check_clip(clip, sr, f"style clip {i + 1}")
        x = to_analysis_rate(clip, sr, model)
        if rms(x) <= 1e-9:
            raise GramophoneError(f"style clip {i + 1} is silent", "silent_style")
        frames = model.analysis(torch.from_numpy(x).to(model.device))
        segments.extend(f for f in frames if f.shape[-1] >= model.min_frames)
    if not segments:
        need = model.min_samples / model.sample_rate
        raise GramophoneError(f"style audio is too short: each clip needs at least {need:.2f} s", "style_too_short")
    with torch.no_grad():
        return model.statistics(segments)


def render(content: np.ndarray, sample_rate: int, model: TextureModel, style: Stats,
           settings: RenderSettings = RenderSettings(), progress: Optional[ProgressCallback] = None,
           cancel: Optional[CancelToken] = None, *, level: Optional[float] = None,
           offset: float = 0.0) -> np.ndarray:
    """Render ``content`` (``float32 [channels, samples]``) in the style given by ``style``.

    Returns ``float32 [channels, samples]`` at ``sample_rate``. Raises :class:`GramophoneError`
    for bad input and :class:`~engine.errors.RenderCancelled` when ``cancel`` is set.
    ``level``: the RMS at the analysis rate that is brought to :data:`REFERENCE_RMS`; by default
    the content's own. A streamed long clip (``engine.streaming``) passes the whole file's, so
    every chunk is scaled as one render would scale it. ``offset``: the seconds of the file at
    which ``content`` starts, where an automated strength is read (a streamed chunk's start).
    """
    settings = settings.validated()
    if settings.iterations is None:
        settings = replace(settings, iterations=model.default_iterations)
    if settings.domain == "auto":
        settings = replace(settings, domain=model.default_domain)
    domain = DOMAIN_TYPES[settings.domain]
    domain.check_model(model)
    check_clip(content, sample_rate, "content")
    device = resolve_device(settings.device)
    model.to(device)
    style = {k: v.to(device) for k, v in style.items()}
    report = progress or (lambda fraction, loss: None)
    report(0.0, float("nan"))

    x = resample(content, sample_rate, model.sample_rate)
    level = rms(x) if level is None else level
    if level <= 1e-9 or span(settings.strength, offset, offset + content.shape[1] / sample_rate)[1] == 0.0:
        report(1.0, 0.0)
        return content.astype(np.float32, copy=True)
    x = x * (REFERENCE_RMS / level)

    fade = fade_frames(settings, model.sample_rate)
    chunks = spans_of(x.shape[1], settings, model.sample_rate)
    delta = np.zeros_like(x)
    tail: Optional[np.ndarray] = None  # the previous chunk's change over the coming crossfade
    for index, (start, stop) in enumerate(chunks):
        # Random phase is all that is random; seeded per chunk, so a streamed render (a call per
        # chunk, engine.streaming) draws the same numbers as this one.
        gen = torch.Generator().manual_seed(settings.seed)
        def chunk_progress(done: float, loss: float, index: int = index) -> None:
            report((index + done) / len(chunks), loss)

        piece = torch.from_numpy(x[:, start:stop]).to(device)
        chunk = domain(piece, model, style, settings, gen, sample_rate)
        change = _optimise(chunk, settings, chunk_progress, cancel).cpu().numpy()
        del chunk
        delta[:, start:stop] = change
        if tail is not None:  # crossfade the two renders (content + change), then back to a change
            joined = x[:, start:start + fade]
            delta[:, start:start + fade] = join_chunks(joined + tail, joined + change[:, :fade], model.sample_rate) - joined
        tail = change[:, change.shape[1] - fade:] if stop < x.shape[1] else None
    out = content + resample(delta * (level / REFERENCE_RMS), model.sample_rate, sample_rate,
                             content.shape[1])
    out = finish(content, out, settings, sample_rate, offset)
    report(1.0, float("nan"))
    return out


def finish(content: np.ndarray, full: np.ndarray, settings: RenderSettings, sample_rate: int,
           offset: float = 0.0) -> np.ndarray:
    """What :func:`render` does after its full-strength render: ``strength`` morphs ``content``
    toward ``full``, then the level is matched to the content's (``match_loudness``), with the ends
    held before and after the match (:func:`engine.ends.hold_ends`; like the level, they need the
    whole clip, so a streamed file's are held in :mod:`engine.streaming`). The takes of
    ``vary strength`` share one ``full`` (:func:`engine.pipeline.render_takes`), and a style blend
    finishes its combined render here too (:mod:`engine.style_blend`)."""
    if span(settings.strength, offset, offset + content.shape[-1] / sample_rate)[1] == 0.0:
        return content.astype(np.float32, copy=True)
    out = morph(content, full, settings.strength, sample_rate, offset)
    if settings.match_loudness:  # the ends held before (a burst would turn the whole clip down) and after the limiter
        out = hold_ends(out, content, sample_rate)
        out = match_loudness(out, content, sample_rate, limit=settings.peaks == "limit")
        out = hold_ends(out, content, sample_rate)
    return out.astype(np.float32)


def _optimise(chunk: WaveformDomain | SpectrogramDomain, settings: RenderSettings, progress: ProgressCallback,
              cancel: Optional[CancelToken]) -> torch.Tensor:
    """Optimise one chunk in its domain; return its change ``[channels, samples]`` at the analysis rate."""
    iterations = settings.iterations
    assert iterations is not None, "render() sets the model's iterations before any chunk"

    def objective(param: torch.Tensor) -> tuple[float, Gradient]:
        check_cancel(cancel)
        n = param.shape[0]
        grads, total = [], 0.0
        for c in range(n):  # one channel at a time bounds autograd memory
            p = param[c:c + 1].detach().requires_grad_(True)  # (a view: nothing is copied)
            loss = chunk.loss(p, c)
            total += loss.item()
            if c < n - 1:
                grads.append(_backward(p, loss))
        last = (p, loss)

        def gradient() -> torch.Tensor:  # the last channel's backward waits until the line search asks
            grads.append(_backward(*last))
            return grads[0] if n == 1 else torch.cat(grads).div_(n)  # the mean over channels' gradient
        return total / n, gradient

    def step(i: int, loss: float, param: torch.Tensor) -> bool:
        progress((i + 1) / iterations, loss)
        check_cancel(cancel)
        if (i + 1) % CONVERGENCE_CHECK_EVERY or i + 1 == iterations:
            return False
        with torch.no_grad():
            return chunk.converged(param)

    if settings.optimiser == "lbfgs":
        param = lbfgs(objective, chunk.start, iterations, step)
    else:
        param = adam(objective, chunk.start, iterations, settings.learning_rate or chunk.adam_rate, step)
    return chunk.change(param)


def _backward(p: torch.Tensor, loss: torch.Tensor) -> torch.Tensor:
    """``d loss / d p``, by autograd (which frees the evaluation's graph)."""
    loss.backward()
    assert p.grad is not None
    return p.grad
