"""File-level rendering: read the content, render, write the result atomically.

This is the one place the command line and the OSC bridge call, so both get the same checks:
the content file is only ever read, the output never replaces it, and a failed or cancelled
render leaves no file behind. Each output gets a JSON sidecar (``OUT.wav.json``, see
:mod:`.sidecar`) saying how it was made, unless the caller opts out.
"""
from __future__ import annotations

import os
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Optional, Sequence

import numpy as np

from .audio_io import check_output_path, probe_audio, read_audio, write_audio
from .errors import GramophoneError
from .loudness import lufs_target, normalise_lufs
from .models import Stats, TextureModel
from .progress import CancelToken, ProgressCallback
from .automation import span
from .chunks import single_chunk_frames
from .render import analyse_style, finish
from .render_settings import RenderSettings
from . import sidecar as _sidecar
from .streaming import render_streamed
from .style_blend import full_render, render_blend
from .takes import take_path, take_settings


@dataclass(frozen=True)
class RenderResult:
    output_path: Path
    seconds: float
    duration: float
    sample_rate: int
    channels: int
    #: the model's figures of merit for the result (e.g. per-group SNR for ``auditory``)
    report: dict[str, float]


def style_from_files(paths: Sequence[str | os.PathLike], model: TextureModel) -> Stats:
    """Pooled statistics of the style files at ``paths``."""
    if not paths:
        raise GramophoneError("no style given: name at least one style file", "no_style")
    return analyse_style([read_audio(p) for p in paths], model)


def render_file(content_path: str | os.PathLike, output_path: str | os.PathLike, model: TextureModel,
                style: Stats, settings: RenderSettings = RenderSettings(),
                progress: Optional[ProgressCallback] = None, cancel: Optional[CancelToken] = None, *,
                loudness: str | float | None = None, source: Optional[_sidecar.StyleOrigin] = None,
                sidecar: bool = True, blend_to: Optional[Stats] = None,
                blend_source: Optional[_sidecar.StyleOrigin] = None, full: Optional[np.ndarray] = None
                ) -> RenderResult:
    """Render the audio file ``content_path`` into ``output_path`` (format from its extension).

    ``settings.loudness``: ``"match"`` keeps the content's RMS level (the render's own matching), a
    number is an integrated-loudness target in LUFS; ``loudness``, if given, overrides it. ``source`` (preset name or style files) goes into
    the sidecar; ``sidecar=False`` writes none. ``blend_to`` (from ``blend_source``): the second
    style ``settings.blend`` moves to (:mod:`engine.style_blend`). ``full``: this content's
    full-strength render, already made (:func:`render_takes` shares one between takes that differ
    in strength only); only for a clip rendered in one piece.

    A clip longer than one chunk is streamed (``engine.streaming``), so memory does not grow with
    its length; a shorter one is rendered in memory, in one piece.
    """
    if loudness is not None:
        settings = replace(settings, loudness=loudness)
    settings = settings.validated()
    check_blend(settings, blend_to)
    out = check_output_path(output_path, content_path)
    target_lufs = lufs_target(settings.loudness)
    started = time.perf_counter()
    sample_rate, _, frames = probe_audio(content_path)
    if frames > single_chunk_frames(settings, sample_rate):  # streamed; it brings the output to the LUFS target itself
        sample_rate, channels, frames, report = render_streamed(
            content_path, out, model, style, settings, progress, cancel,
            lambda clip, sr: report_on(clip, sr, model, style), blend_to=blend_to)
        result = RenderResult(out, time.perf_counter() - started, frames / sample_rate, sample_rate, channels,
                              report)
    else:
        content, sample_rate = read_audio(content_path)
        if full is None:
            rendered = render_blend(content, sample_rate, model, style, blend_to, settings, progress, cancel)
        else:
            if full.shape != content.shape:
                raise ValueError(f"a full render of shape {full.shape} for content of shape {content.shape}")
            rendered = finish(content, full, settings, sample_rate)
        if target_lufs is not None:
            rendered = normalise_lufs(rendered, sample_rate, target_lufs, limit=settings.peaks == "limit")
        write_audio(out, rendered, sample_rate)
        result = RenderResult(out, time.perf_counter() - started, content.shape[1] / sample_rate, sample_rate,
                              content.shape[0], report_on(rendered, sample_rate, model, style))
    if sidecar:
        _sidecar.write(out, _sidecar.record(content=content_path, output=out, model=model, style=style, source=source,
                                            settings=settings, seconds=result.seconds,
                                            duration=result.duration, sample_rate=sample_rate,
                                            channels=result.channels, blend_to=blend_to,
                                            blend_source=blend_source))
    return result


def render_takes(content_path: str | os.PathLike, output_path: str | os.PathLike, model: TextureModel,
                 style: Stats, settings: RenderSettings = RenderSettings(),
                 progress: Optional[ProgressCallback] = None, cancel: Optional[CancelToken] = None, *,
                 source: Optional[_sidecar.StyleOrigin] = None, sidecar: bool = True,
                 blend_to: Optional[Stats] = None,
                 blend_source: Optional[_sidecar.StyleOrigin] = None) -> list[RenderResult]:
    """Every take ``settings.variations`` asks for (:mod:`engine.takes`), each by
    :func:`render_file` with its own settings and sidecar, from the one ``style`` the caller
    analysed: ``output_path`` itself for one take, ``OUT-v1.wav`` ... for several. Takes written
    before a failure or cancel stay (each is complete); the one in progress leaves nothing.

    Takes that differ in strength only (``vary strength``) of a clip rendered in one piece share
    one optimisation: the full-strength render is made once and each take is the content morphed
    toward it (:func:`engine.render.finish`), which is what each take's own render does, bit
    for bit. A streamed clip renders each take in full."""
    settings = settings.validated()
    check_blend(settings, blend_to)
    takes = take_settings(settings)
    report = progress or (lambda fraction, loss: None)
    full: Optional[np.ndarray] = None
    shared = False
    if len(takes) > 1 and settings.vary == "strength":
        rate, _, frames = probe_audio(content_path)
        shared = frames <= single_chunk_frames(settings, rate) and span(settings.strength, 0.0, frames / rate)[1] > 0.0
    if shared:
        check_output_path(take_path(output_path, 1, len(takes)), content_path)  # before the optimisation
        content, sample_rate = read_audio(content_path)
        share = 1.0 - 0.02 * len(takes)  # the optimisation; each take's morph and writing the rest
        full = full_render(content, sample_rate, model, style, blend_to, settings,
                           lambda fraction, loss: report(share * fraction, loss), cancel)
        if np.array_equal(full, content):  # silent: render returns the content itself, so each take does too
            full = None
        del content
    results = []
    for k, take in enumerate(takes):
        def take_progress(fraction: float, loss: float, k: int = k) -> None:
            if full is None:
                report((k + fraction) / len(takes), loss)
            else:
                report(share + (1.0 - share) * (k + fraction) / len(takes), loss)

        results.append(render_file(content_path, take_path(output_path, k + 1, len(takes)), model, style, take,
                                   take_progress, cancel, source=source, sidecar=sidecar, blend_to=blend_to,
                                   blend_source=blend_source, full=full))
    return results


def check_blend(settings: RenderSettings, blend_to: Optional[Stats]) -> None:
    """Refuse (``no_style``) a blend that moves away from the first style with no second style."""
    if blend_to is None and span(settings.blend, 0.0, float("inf"))[1] > 0.0:
        raise GramophoneError("blend is set but there is no second style to blend to: name one with "
                              "--blend-to PRESET (OSC, manifest: blend_to)", "no_style")


def report_on(clip, sample_rate: int, model: TextureModel, style: Stats) -> dict[str, float]:
    """The model's figures for ``clip`` against ``style``, averaged over channels."""
    import torch

    from .render import to_analysis_rate

    x = model.analysis(torch.from_numpy(to_analysis_rate(clip, sample_rate, model)).to(model.device))
    reports = [model.report(channel, style) for channel in x]
    return {k: sum(r[k] for r in reports) / len(reports) for k in reports[0]} if reports and reports[0] else {}
