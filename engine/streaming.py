"""Render a long clip file to file in flat memory: read, render and write one chunk at a time.

:func:`engine.render.render` holds a whole clip, its copy at the analysis rate, the change and
the output at once, so its memory grows with the clip's length (1.37 GB for 180 s of stereo
48 kHz). :func:`render_streamed` holds about one chunk (``chunk_seconds``) of each, whatever the
length, in four steps:

1. **Measure.** One pass over the content file finds what must hold over the whole file: its
   length, its RMS (the loudness the output is matched to) and its RMS at the model's analysis
   rate (the level every chunk is normalised by, so all chunks are scaled as one render scales
   them).
2. **Render.** Chunks that overlap by ``crossfade_seconds`` (the same spans ``render`` cuts) are
   read in turn and each is rendered by the public :func:`engine.render.render`, loudness
   matching off, at its offset in the file (an automated strength runs over the whole file);
   consecutive outputs are crossfaded (:func:`engine.chunks.join_chunks`, in the short-time spectrum).
   The joined output goes to a temporary float32 file beside the output (:class:`engine.blocks.RawFile`).
3. **Loudness.** As :func:`engine.loudness.match_loudness` on one array: the gains come from
   passes over the temporary file that only sum squares; the look-ahead limiter runs block by
   block with enough context on both sides that each block comes out as in the whole file
   (:func:`engine.loudness.match_loudness_blocks`).
   A LUFS target (``settings.loudness``) then does what :func:`engine.loudness.normalise_lufs`
   does, each pass measuring the whole file's integrated loudness block by block
   (:class:`engine.loudness.LoudnessMeter`, :func:`engine.loudness.normalise_lufs_blocks`).
   One more pass finds the output's peaks at its ends and between, and an end that peaks louder
   against the rest than the content's does is held, as :func:`engine.ends.hold_ends` holds a
   clip's (:func:`engine.ends.held_blocks`).
4. **Write.** A last pass writes the output's temporary file block by block (format from the
   extension, as :func:`engine.audio_io.write_audio` writes it: :class:`engine.blocks.BlockWriter`); it is
   renamed over the output (:class:`engine.files.Temporaries`).

Every temporary file is removed on any error or cancel, so nothing partial is ever left under
the output's name; a full disk is a ``disk_full`` :class:`GramophoneError`. The content file is
only read, front to back (so any readable format streams, mp3 included).
"""
from __future__ import annotations

import math
import os
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable, Optional

import numpy as np

from .audio_io import probe_audio, read_blocks
from .automation import span
from .blocks import BLOCK_FRAMES, RawFile, SpanReader, block_writer
from .chunks import join_chunks, spans_of
from .ends import EndPeaks, end_ceilings, end_frames, held_blocks, hold_end, hold_in_rounds, hold_start
from .errors import GramophoneError
from .files import Temporaries
from .loudness import LOUDNESS_PASSES, lufs_target, match_loudness_blocks, normalise_lufs_blocks
from .memory import release_free_memory
from .models import Stats, TextureModel
from .progress import CancelToken, ProgressCallback, check_cancel
from .render import render
from .render_settings import RenderSettings
from .resampling import QUALITY as RESAMPLE_QUALITY
from .style_blend import blending

#: Shares of the progress bar: measuring, and matching loudness + writing; rendering is the rest.
MEASURE_SHARE, FINISH_SHARE = 0.01, 0.03

#: ``chunk_report(clip, sample_rate)``: the model's figures of merit for one rendered chunk.
ChunkReport = Callable[[np.ndarray, int], dict[str, float]]


def render_streamed(content_path: str | os.PathLike, output_path: str | os.PathLike, model: TextureModel,
                    style: Stats, settings: RenderSettings = RenderSettings(),
                    progress: Optional[ProgressCallback] = None, cancel: Optional[CancelToken] = None,
                    chunk_report: Optional[ChunkReport] = None, *, blend_to: Optional[Stats] = None
                    ) -> tuple[int, int, int, dict[str, float]]:
    """Render the file ``content_path`` into ``output_path`` chunk by chunk (see the module's notes).
    ``blend_to``: a second style, which ``settings.blend`` moves to (:mod:`engine.style_blend`).

    Returns ``(sample_rate, channels, frames, report)``; ``report`` is the length-weighted mean
    of ``chunk_report`` over the rendered chunks (each chunk is optimised on its own, so its
    figures are the meaningful ones). Raises :class:`GramophoneError` and
    :class:`~engine.errors.RenderCancelled` like :func:`engine.render.render`.
    """
    settings = settings.validated()
    out = Path(output_path)
    report = _Monotone(progress)
    report(0.0)
    with Temporaries(out) as temp:
        measured = _measure(content_path, model.sample_rate, report, cancel)
        sr, channels = measured.sample_rate, measured.channels
        figures: dict[str, float] = {}
        target = lufs_target(settings.loudness)
        unchanged = (span(settings.strength, 0.0, measured.frames / sr)[1] == 0.0
                     or measured.analysis_rms <= 1e-9)  # render returns the content
        with block_writer(temp.output, out, sr, channels) as writer:
            if unchanged and target is None:
                for block in read_blocks(content_path, BLOCK_FRAMES):
                    check_cancel(cancel)
                    writer.write(block)
            else:
                with RawFile(temp.raw, channels, sr, out, BLOCK_FRAMES) as raw:
                    if unchanged:
                        for block in read_blocks(content_path, BLOCK_FRAMES):
                            check_cancel(cancel)
                            raw.write(block)
                    else:
                        figures = _render_chunks(content_path, measured, model, style, settings, raw, report,
                                                 cancel, chunk_report, blend_to)
                        if settings.match_loudness:
                            _hold_raw_ends(raw, measured.ends, cancel)
                process, context = (lambda block: block), 0
                limit, step = settings.peaks == "limit", FINISH_SHARE / (LOUDNESS_PASSES + 1)
                if not unchanged and settings.match_loudness:
                    process, context = match_loudness_blocks(
                        raw, measured.rms, limit, lambda passes: report(1.0 - FINISH_SHARE + step * passes), cancel)
                if target is not None:  # each pass over a long file: still alive
                    process, context = normalise_lufs_blocks(raw, process, context, target, limit,
                                                             lambda passes: report(report.last), cancel)
                blocks = raw.blocks(process, context, cancel)
                if not unchanged and settings.match_loudness:  # and again after the limiter, as render does
                    ceilings = end_ceilings(_peaks(raw, process, context, cancel), measured.ends)
                    blocks = held_blocks(blocks, *ceilings, sr)
                for block in blocks:
                    writer.write(block)
                    report(1.0 - FINISH_SHARE / (LOUDNESS_PASSES + 1) * (1.0 - raw.fraction_read))
        temp.commit()
    report(1.0)
    return sr, channels, measured.frames, figures


@dataclass(frozen=True)
class _Measured:
    sample_rate: int
    channels: int
    frames: int
    #: the content's RMS: what the output's loudness is matched to
    rms: float
    #: its RMS at the analysis rate: what every chunk is normalised by (``render``'s ``level``)
    analysis_rms: float
    #: the most each end of the output may peak against the rest (``EndPeaks.bounds``)
    ends: tuple[float, float]


def _measure(path: str | os.PathLike, analysis_rate: int, report: "_Monotone",
             cancel: Optional[CancelToken]) -> _Measured:
    """Length, RMS and analysis-rate RMS of the file, and a check that every sample is finite."""
    import soxr

    sr, channels, header_frames = probe_audio(path)
    resampler = None
    if sr != analysis_rate:  # soxr's stream gives what one ``resample`` of the whole file would
        resampler = soxr.ResampleStream(sr, analysis_rate, channels, dtype="float32", quality=RESAMPLE_QUALITY)
    frames, squares, resampled, resampled_squares = 0, 0.0, 0, 0.0
    ends = EndPeaks(sr)
    for block in read_blocks(path, BLOCK_FRAMES):
        check_cancel(cancel)
        if not np.isfinite(block).all():
            raise GramophoneError(f"{path} contains NaN or infinite samples", "bad_samples")
        frames += block.shape[1]
        ends.add(block)
        squares += float(np.square(block, dtype=np.float64).sum())
        if resampler is not None:
            low = resampler.resample_chunk(np.ascontiguousarray(block.T, dtype=np.float32))
            resampled += low.shape[0]
            resampled_squares += float(np.square(low, dtype=np.float64).sum())
        report(MEASURE_SHARE * min(1.0, frames / max(header_frames, 1)))
    if frames == 0:
        raise GramophoneError(f"{path} has no samples", "empty")
    if resampler is None:
        analysis_rms = math.sqrt(squares / (channels * frames))
    else:  # render's resample keeps round(frames * ratio) samples of the flushed stream
        length = max(1, int(round(frames * analysis_rate / sr)))
        tail = resampler.resample_chunk(np.zeros((0, channels), np.float32), last=True)[:max(0, length - resampled)]
        resampled_squares += float(np.square(tail, dtype=np.float64).sum())
        analysis_rms = math.sqrt(resampled_squares / (channels * length))
    return _Measured(sr, channels, frames, math.sqrt(squares / (channels * frames)), analysis_rms, ends.bounds())


def _peaks(raw: RawFile, process: Callable[[np.ndarray], np.ndarray], context: int,
           cancel: Optional[CancelToken]) -> EndPeaks:
    """One pass over ``process`` of ``raw``: the peaks of its ends and of the rest."""
    peaks = EndPeaks(raw.sample_rate)
    for block in raw.blocks(process, context, cancel):
        peaks.add(block)
    return peaks


def _hold_raw_ends(raw: RawFile, bounds: tuple[float, float], cancel: Optional[CancelToken]) -> None:
    """What :func:`engine.ends.hold_ends` does to a clip, done to the render in ``raw`` before its
    loudness is matched (so that an end's burst does not turn the whole file down): each end over
    its bound is limited in place, and the file's RMS and peak recounted once if any was."""
    span, sr = 2 * end_frames(raw.sample_rate), raw.sample_rate
    if hold_in_rounds(lambda: _peaks(raw, lambda block: block, 0, cancel), bounds,
                      lambda ceiling: raw.rewrite(0, span, lambda head: hold_start(head, ceiling, sr)),
                      lambda ceiling: raw.rewrite(raw.frames - span, raw.frames,
                                                  lambda tail: hold_end(tail, ceiling, sr))):
        raw.recount(cancel)


def _render_chunks(path: str | os.PathLike, measured: _Measured, model: TextureModel, style: Stats,
                   settings: RenderSettings, raw: RawFile, report: "_Monotone",
                   cancel: Optional[CancelToken], chunk_report: Optional[ChunkReport],
                   blend_to: Optional[Stats] = None) -> dict[str, float]:
    """Render each chunk, crossfade it into its neighbours and append the result to ``raw``."""
    sr, frames = measured.sample_rate, measured.frames
    spans = spans_of(frames, settings, sr)
    # One chunk per call: the span at the analysis rate may round a sample over render's own limit.
    inner = replace(settings, match_loudness=False, chunk_seconds=settings.chunk_seconds + 1.0)
    share = 1.0 - MEASURE_SHARE - FINISH_SHARE
    reader = SpanReader(read_blocks(path, min(BLOCK_FRAMES, spans[0][1])), measured.channels, path)
    carry: Optional[np.ndarray] = None  # the end of the previous chunk, to crossfade
    sums: dict[str, float] = {}  # chunk reports, weighted by length
    for index, (start, stop) in enumerate(spans):
        def chunk_progress(done: float, loss: float, index: int = index) -> None:
            report(MEASURE_SHARE + share * (index + done) / len(spans), loss)

        piece = reader.read(start, stop)
        rendered = (render if blend_to is None else blending(blend_to))(
            piece, sr, model, style, inner, chunk_progress, cancel, level=measured.analysis_rms, offset=start / sr)
        del piece
        if chunk_report is not None:
            for key, value in chunk_report(rendered, sr).items():
                sums[key] = sums.get(key, 0.0) + (stop - start) * value
        if carry is not None:
            rendered[:, :carry.shape[1]] = join_chunks(carry, rendered[:, :carry.shape[1]], sr)
        keep = spans[index + 1][0] - start if index + 1 < len(spans) else stop - start
        raw.write(rendered[:, :keep])
        carry = rendered[:, keep:].copy()
        del rendered
        release_free_memory()
    return {key: total / sum(stop - start for start, stop in spans) for key, total in sums.items()}


class _Monotone:
    """Forwards progress, never backwards (each stage reports its own share of 0 → 1)."""

    def __init__(self, callback: Optional[ProgressCallback]) -> None:
        self.callback, self.last = callback, 0.0

    def __call__(self, fraction: float, loss: float = float("nan")) -> None:
        self.last = min(1.0, max(self.last, fraction))
        if self.callback is not None:
            self.callback(self.last, loss)
