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
   consecutive outputs are crossfaded (:func:`engine.render.join_chunks`, in the short-time spectrum).
   The joined output goes to a temporary float32 file beside the output.
3. **Loudness.** As :func:`engine.loudness.match_loudness` on one array: the gains come from
   passes over the temporary file that only sum squares; the look-ahead limiter runs block by
   block with enough context on both sides that each block comes out as in the whole file.
   A LUFS target (``settings.loudness``) then does what :func:`engine.loudness.normalise_lufs`
   does, each pass measuring the whole file's integrated loudness block by block
   (:class:`engine.loudness.LoudnessMeter`).
4. **Write.** A last pass writes the output's temporary file block by block (format from the
   extension, as :func:`engine.audio_io.write_audio` writes it); it is renamed over the output.

Every temporary file is removed on any error or cancel, so nothing partial is ever left under
the output's name; a full disk is a ``disk_full`` :class:`GramophoneError`. The content file is
only read, front to back (so any readable format streams, mp3 included).
"""
from __future__ import annotations

import contextlib
import ctypes
import functools
import math
import os
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable, Iterator, Optional

import numpy as np

from .audio_io import probe_audio, unreadable
from .automation import span
from .files import PART, temporary_beside, write_errors
from .loudness import PEAK_CEILING, LoudnessMeter, limit_peaks, limited_target, lufs_target
from .errors import GramophoneError
from .models import Stats, TextureModel
from .progress import CancelToken, ProgressCallback, check_cancel
from .chunks import chunk_frames, chunk_spans, join_chunks
from .render import render
from .render_settings import RenderSettings

#: Frames per block for the passes that only read, sum or write (about 5 s at 48 kHz).
BLOCK_FRAMES = 1 << 18
#: Context each side of a block for one limiter pass: its output at a sample depends on ±15 ms
#: of input (3 x its 5 ms window); 50 ms leaves room should the window grow.
LIMITER_CONTEXT_SECONDS = 0.05
#: The passes :func:`engine.loudness.match_loudness` makes at most (each limits once).
LOUDNESS_PASSES = 4
#: Shares of the progress bar: measuring, and matching loudness + writing; rendering is the rest.
MEASURE_SHARE, FINISH_SHARE = 0.01, 0.03

#: ``chunk_report(clip, sample_rate)``: the model's figures of merit for one rendered chunk.
ChunkReport = Callable[[np.ndarray, int], dict[str, float]]


def render_streamed(content_path: str | os.PathLike, output_path: str | os.PathLike, model: TextureModel,
                    style: Stats, settings: RenderSettings = RenderSettings(),
                    progress: Optional[ProgressCallback] = None, cancel: Optional[CancelToken] = None,
                    chunk_report: Optional[ChunkReport] = None) -> tuple[int, int, int, dict[str, float]]:
    """Render the file ``content_path`` into ``output_path`` chunk by chunk (see the module's notes).

    Returns ``(sample_rate, channels, frames, report)``; ``report`` is the length-weighted mean
    of ``chunk_report`` over the rendered chunks (each chunk is optimised on its own, so its
    figures are the meaningful ones). Raises :class:`GramophoneError` and
    :class:`~engine.errors.RenderCancelled` like :func:`engine.render.render`.
    """
    settings = settings.validated()
    out = Path(output_path)
    report = _Monotone(progress)
    report(0.0)
    with _Temporaries(out) as temp:
        measured = _measure(content_path, model.sample_rate, report, cancel)
        sr, channels = measured.sample_rate, measured.channels
        figures: dict[str, float] = {}
        target = lufs_target(settings.loudness)
        unchanged = (span(settings.strength, 0.0, measured.frames / sr)[1] == 0.0
                     or measured.analysis_rms <= 1e-9)  # render returns the content
        with _output_writer(temp.output, out, sr, channels) as writer:
            if unchanged and target is None:
                for block in _read_blocks(content_path, BLOCK_FRAMES):
                    check_cancel(cancel)
                    writer.write(block)
            else:
                with _RawFile(temp.raw, channels, sr, out) as raw:
                    if unchanged:
                        for block in _read_blocks(content_path, BLOCK_FRAMES):
                            check_cancel(cancel)
                            raw.write(block)
                    else:
                        figures = _render_chunks(content_path, measured, model, style, settings, raw, report,
                                                 cancel, chunk_report)
                process, context = (lambda block: block), 0
                if not unchanged:
                    process, context = _loudness(raw, measured.rms, settings, report, cancel)
                if target is not None:
                    process, context = _to_lufs(raw, process, context, target, settings.peaks == "limit",
                                                report, cancel)
                for block in raw.blocks(process, context, cancel):
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


def _measure(path: str | os.PathLike, analysis_rate: int, report: "_Monotone",
             cancel: Optional[CancelToken]) -> _Measured:
    """Length, RMS and analysis-rate RMS of the file, and a check that every sample is finite."""
    from pedalboard.io import StreamResampler

    sr, channels, header_frames = probe_audio(path)
    resamplers = None
    if sr != analysis_rate:
        resamplers = [StreamResampler(float(sr), float(analysis_rate), 1) for _ in range(channels)]
    frames, squares, resampled, resampled_squares = 0, 0.0, 0, 0.0
    for block in _read_blocks(path, BLOCK_FRAMES):
        check_cancel(cancel)
        if not np.isfinite(block).all():
            raise GramophoneError(f"{path} contains NaN or infinite samples", "bad_samples")
        frames += block.shape[1]
        squares += float(np.square(block, dtype=np.float64).sum())
        if resamplers is not None:
            low = [r.process(block[c:c + 1]) for c, r in enumerate(resamplers)]
            resampled += low[0].shape[1]
            resampled_squares += sum(float(np.square(x, dtype=np.float64).sum()) for x in low)
        report(MEASURE_SHARE * min(1.0, frames / max(header_frames, 1)))
    if frames == 0:
        raise GramophoneError(f"{path} has no samples", "empty")
    if resamplers is None:
        analysis_rms = math.sqrt(squares / (channels * frames))
    else:  # render's resample keeps round(frames * ratio) samples of the flushed stream
        length = max(1, int(round(frames * analysis_rate / sr)))
        tail = [r.process(None)[:, :max(0, length - resampled)] for r in resamplers]
        resampled_squares += sum(float(np.square(x, dtype=np.float64).sum()) for x in tail)
        analysis_rms = math.sqrt(resampled_squares / (channels * length))
    return _Measured(sr, channels, frames, math.sqrt(squares / (channels * frames)), analysis_rms)


def _render_chunks(path: str | os.PathLike, measured: _Measured, model: TextureModel, style: Stats,
                   settings: RenderSettings, raw: "_RawFile", report: "_Monotone",
                   cancel: Optional[CancelToken], chunk_report: Optional[ChunkReport]) -> dict[str, float]:
    """Render each chunk, crossfade it into its neighbours and append the result to ``raw``."""
    sr, frames = measured.sample_rate, measured.frames
    fade = int(settings.crossfade_seconds * sr)
    spans = chunk_spans(frames, chunk_frames(settings, sr), fade)
    # One chunk per call: the span at the analysis rate may round a sample over render's own limit.
    inner = replace(settings, match_loudness=False, chunk_seconds=settings.chunk_seconds + 1.0)
    share = 1.0 - MEASURE_SHARE - FINISH_SHARE
    reader = _SpanReader(_read_blocks(path, min(BLOCK_FRAMES, spans[0][1])), measured.channels, path)
    carry: Optional[np.ndarray] = None  # the end of the previous chunk, to crossfade
    sums: dict[str, float] = {}  # chunk reports, weighted by length
    for index, (start, stop) in enumerate(spans):
        def chunk_progress(done: float, loss: float, index: int = index) -> None:
            report(MEASURE_SHARE + share * (index + done) / len(spans), loss)

        piece = reader.read(start, stop)
        rendered = render(piece, sr, model, style, inner, chunk_progress, cancel, level=measured.analysis_rms,
                          offset=start / sr)
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
        _release_free_memory()
    return {key: total / sum(stop - start for start, stop in spans) for key, total in sums.items()}


def _release_free_memory() -> None:
    """Hand memory freed by the last chunk back to the system (glibc's ``malloc_trim``), so that
    holes left by one chunk's tensors need not stay resident: a 600 s render made without it
    crept up 54 MB from its first chunk to its end (with it: not measured yet). Elsewhere than
    glibc this does nothing."""
    libc = _glibc()
    if libc is not None:
        libc.malloc_trim(0)


@functools.lru_cache(maxsize=1)
def _glibc() -> Optional[ctypes.CDLL]:
    try:
        libc = ctypes.CDLL(None)
        libc.malloc_trim  # glibc only
        return libc
    except (OSError, AttributeError):
        return None


def _loudness(raw: "_RawFile", target: float, settings: RenderSettings, report: "_Monotone",
              cancel: Optional[CancelToken]) -> tuple[Callable[[np.ndarray], np.ndarray], int]:
    """What :func:`engine.loudness.match_loudness` does to the whole of ``raw``, as a function for
    its blocks and the context each block needs: the same gains (found by passes over ``raw``
    that only sum squares) and the same limiter, so the result equals it to float rounding."""
    level = raw.rms
    if not settings.match_loudness or level <= 1e-12:
        return (lambda block: block), 0
    if settings.peaks != "limit":
        gain = min(target / level, PEAK_CEILING / raw.peak)
        return (lambda block: block * gain), 0
    target = limited_target(target, level, raw.peak)
    step = FINISH_SHARE / (LOUDNESS_PASSES + 1)
    gains: list[float] = []
    for done in range(LOUDNESS_PASSES):  # limiting lowers the RMS a little; further passes make up for it
        if level <= 1e-12:
            break
        gains.append(target / level)
        squares = 0.0
        for block in raw.blocks(_limiter_chain(gains, raw.sample_rate), _context(gains, raw), cancel):
            squares += float(np.square(block, dtype=np.float64).sum())
            report(1.0 - FINISH_SHARE + step * (done + raw.fraction_read))
        level = math.sqrt(squares / (raw.channels * raw.frames))
        if abs(level / target - 1) < 0.01:
            break
    return _limiter_chain(gains, raw.sample_rate), _context(gains, raw)


def _to_lufs(raw: "_RawFile", process: Callable[[np.ndarray], np.ndarray], context: int, target: float,
             limit: bool, report: "_Monotone", cancel: Optional[CancelToken]
             ) -> tuple[Callable[[np.ndarray], np.ndarray], int]:
    """What :func:`engine.loudness.normalise_lufs` does to the whole of ``process(raw)``, as a
    function for its blocks and their context: each pass measures the integrated loudness of the
    output so far (:class:`LoudnessMeter`, block by block) and adds a gain, then (``limit``) the
    limiter, or (without) just the gain that keeps the loudest peak under the ceiling."""
    gains: list[float] = []

    def chain(gains: list[float]) -> tuple[Callable[[np.ndarray], np.ndarray], int]:
        if not limit:
            scale = math.prod(gains)
            return (lambda block: process(block) * scale), context
        after = _limiter_chain(gains, raw.sample_rate)
        return (lambda block: after(process(block))), context + _context(gains, raw)

    for _ in range(LOUDNESS_PASSES if limit else 1):  # the same passes as normalise_lufs
        meter, peak = LoudnessMeter(raw.sample_rate, raw.channels, raw.frames), 0.0
        for block in raw.blocks(*chain(gains), cancel):
            meter.add(block)
            peak = max(peak, float(np.abs(block).max()))
            report(report.last)  # a pass over a long file: still alive
        level = meter.lufs()
        if not math.isfinite(level) or abs(level - target) < 0.05:
            break
        gain = 10 ** ((target - level) / 20)
        gains.append(gain if limit else min(gain, PEAK_CEILING / peak))
    return chain(gains)


def _limiter_chain(gains: list[float], sample_rate: int) -> Callable[[np.ndarray], np.ndarray]:
    """What ``match_loudness`` does to the samples: gain then limit, once per gain."""
    def apply(block: np.ndarray) -> np.ndarray:
        for gain in gains:
            block = limit_peaks(block * gain, sample_rate)
        return block
    return apply


def _context(gains: list[float], raw: "_RawFile") -> int:
    return len(gains) * int(math.ceil(LIMITER_CONTEXT_SECONDS * raw.sample_rate))


class _Monotone:
    """Forwards progress, never backwards (each stage reports its own share of 0 → 1)."""

    def __init__(self, callback: Optional[ProgressCallback]) -> None:
        self.callback, self.last = callback, 0.0

    def __call__(self, fraction: float, loss: float = float("nan")) -> None:
        self.last = min(1.0, max(self.last, fraction))
        if self.callback is not None:
            self.callback(self.last, loss)


# ----------------------------------------------------------------------------- reading

def _read_blocks(path: str | os.PathLike, frames: int) -> Iterator[np.ndarray]:
    """The file's samples front to back, as ``float32 [channels, <= frames]`` blocks."""
    from pedalboard.io import AudioFile

    try:
        with AudioFile(str(path)) as f:
            while True:
                block = f.read(frames)
                if block.shape[-1] == 0:
                    return
                yield np.ascontiguousarray(block, dtype=np.float32)
    except GramophoneError:
        raise
    except Exception as exc:  # pedalboard raises ValueError/RuntimeError for undecodable data
        raise unreadable(path, exc) from exc


class _SpanReader:
    """Spans ``[start, stop)`` of a block stream, in order; each may overlap the one before.
    Holds at most one span plus one block."""

    def __init__(self, blocks: Iterator[np.ndarray], channels: int, path: str | os.PathLike) -> None:
        self._blocks, self._path = blocks, path
        self._buffer = np.zeros((channels, 0), np.float32)
        self._offset = 0  # file position of the buffer's first frame

    def read(self, start: int, stop: int) -> np.ndarray:
        self._buffer = self._buffer[:, start - self._offset:]
        self._offset = start
        parts = [self._buffer]
        have = self._buffer.shape[1]
        while self._offset + have < stop:
            block = next(self._blocks, None)
            if block is None:
                raise GramophoneError(f"{self._path} ended early: was it changed during the render?", "not_audio")
            parts.append(block)
            have += block.shape[1]
        self._buffer = np.concatenate(parts, axis=1) if len(parts) > 1 else self._buffer
        return self._buffer[:, :stop - start]  # a view: the caller must not write to it


# ----------------------------------------------------------------------------- writing

class _Temporaries:
    """The output's temporary file and the raw render's, beside the output; both are removed
    unless :meth:`commit` renames the first over the output."""

    def __init__(self, out: Path) -> None:
        self.out = out
        self.output = temporary_beside(out, f"{PART}{out.suffix.lower()}")
        self.raw = temporary_beside(out, f"{PART}.raw")
        self._done = False

    def __enter__(self) -> "_Temporaries":
        return self

    def commit(self) -> None:
        with write_errors(self.out):
            os.replace(self.output, self.out)
        self._done = True

    def __exit__(self, *exc: object) -> None:
        for path in (self.raw,) if self._done else (self.raw, self.output):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)


class _RawFile:
    """The joined render, float32 frames appended to a temporary file; read back in blocks."""

    def __init__(self, path: Path, channels: int, sample_rate: int, out: Path) -> None:
        self.path, self.channels, self.sample_rate, self.out = path, channels, sample_rate, out
        self.frames, self.peak, self._squares = 0, 0.0, 0.0
        self.fraction_read = 0.0
        with write_errors(out):
            self._file = open(path, "wb")

    def __enter__(self) -> "_RawFile":
        return self

    def __exit__(self, kind: object, *exc: object) -> None:
        """Close the file; a failure to flush it counts only when nothing else failed first."""
        if kind is None:
            with write_errors(self.out):
                self._file.close()
        else:
            with contextlib.suppress(OSError):
                self._file.close()

    def write(self, block: np.ndarray) -> None:
        with write_errors(self.out):
            self._file.write(np.ascontiguousarray(block.T, dtype=np.float32).tobytes())
        self.frames += block.shape[1]
        self._squares += float(np.square(block, dtype=np.float64).sum())
        if block.size:
            self.peak = max(self.peak, float(np.abs(block).max()))

    @property
    def rms(self) -> float:
        return math.sqrt(self._squares / max(1, self.channels * self.frames))

    def blocks(self, process: Callable[[np.ndarray], np.ndarray], context: int,
               cancel: Optional[CancelToken]) -> Iterator[np.ndarray]:
        """``process`` applied to every block read with ``context`` frames more each side (where
        the file has them), cut back to the block: equal to processing the whole file at once
        when a processed sample depends on at most ``context`` frames around it."""
        frame_bytes = 4 * self.channels
        with open(self.path, "rb") as f:
            for start in range(0, self.frames, BLOCK_FRAMES):
                check_cancel(cancel)
                lo, hi = max(0, start - context), min(self.frames, start + BLOCK_FRAMES + context)
                f.seek(lo * frame_bytes)
                data = np.fromfile(f, dtype=np.float32, count=(hi - lo) * self.channels)
                block = process(np.ascontiguousarray(data.reshape(-1, self.channels).T))
                self.fraction_read = min(self.frames, start + BLOCK_FRAMES) / self.frames
                yield block[:, start - lo:start - lo + min(BLOCK_FRAMES, self.frames - start)]


@contextlib.contextmanager
def _output_writer(path: Path, out: Path, sample_rate: int, channels: int) -> Iterator["_BlockWriter"]:
    writer = _BlockWriter(path, out, sample_rate, channels)
    try:
        yield writer
    except BaseException:
        writer.abandon()
        raise
    writer.close()


class _BlockWriter:
    """Writes ``[channels, frames]`` blocks in the format :func:`engine.audio_io.write_audio` gives
    the extension of ``out``: float32 WAV, 24-bit FLAC/AIFF (soundfile), ogg/mp3 (pedalboard)."""

    def __init__(self, path: Path, out: Path, sample_rate: int, channels: int) -> None:
        self.out = out
        ext = out.suffix.lower()
        with write_errors(out):
            if ext in (".wav", ".flac", ".aif", ".aiff"):
                import soundfile as sf

                fmt = {".wav": "WAV", ".flac": "FLAC", ".aif": "AIFF", ".aiff": "AIFF"}[ext]
                self._file = sf.SoundFile(str(path), "w", sample_rate, channels, "FLOAT" if ext == ".wav" else "PCM_24",
                                          format=fmt)
                self._write = lambda block: self._file.write(block.T)
            else:
                from pedalboard.io import AudioFile

                self._file = AudioFile(str(path), "w", samplerate=sample_rate, num_channels=channels,
                                       quality="V0" if ext == ".mp3" else "320 kbps")
                self._write = self._file.write

    def write(self, block: np.ndarray) -> None:
        with write_errors(self.out):
            self._write(np.ascontiguousarray(block, dtype=np.float32))

    def close(self) -> None:
        with write_errors(self.out):
            self._file.close()

    def abandon(self) -> None:
        with contextlib.suppress(Exception):
            self._file.close()
