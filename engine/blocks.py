"""Long audio block by block, in bounded memory: spans of a block stream, the raw float32 file a
streamed render is joined into and read back from, and the output written a block at a time.

Reading a file in blocks is :func:`engine.audio_io.read_blocks`; the output's encoding is
:class:`engine.audio_io.Encoder`'s (the same as a whole clip written by
:func:`engine.audio_io.write_audio`). Every write failure is raised as :func:`engine.files.write_errors`
says (``disk_full`` or ``write_failed``), naming the output.
"""
from __future__ import annotations

import contextlib
import math
import os
from pathlib import Path
from typing import Callable, Iterator, Optional

import numpy as np

from .audio_io import Encoder
from .errors import GramophoneError
from .files import write_errors
from .progress import CancelToken, check_cancel

#: Frames per block for the passes that only read, sum or write (about 5 s at 48 kHz).
BLOCK_FRAMES = 1 << 18


class SpanReader:
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


class RawFile:
    """Float32 frames appended to a temporary file (``path``; ``out``: the output its write errors
    name), with their RMS and peak; read back in blocks of ``block_frames``."""

    def __init__(self, path: Path, channels: int, sample_rate: int, out: Path, block_frames: int = BLOCK_FRAMES) -> None:
        self.path, self.channels, self.sample_rate, self.out = path, channels, sample_rate, out
        self.block_frames = block_frames
        self.frames, self.peak, self._squares = 0, 0.0, 0.0
        self.fraction_read = 0.0
        with write_errors(out):
            self._file = open(path, "wb")

    def __enter__(self) -> "RawFile":
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

    def rewrite(self, start: int, stop: int, change: Callable[[np.ndarray], np.ndarray]) -> None:
        """Replace frames ``[start, stop)`` (after everything is written) by ``change`` of them, a
        block of the same shape. The RMS and peak are not recounted: :meth:`recount` once after
        the last rewrite."""
        frame_bytes = 4 * self.channels
        self._flush()
        with write_errors(self.out), open(self.path, "r+b") as f:
            f.seek(start * frame_bytes)
            data = np.fromfile(f, dtype=np.float32, count=(stop - start) * self.channels)
            new = change(np.ascontiguousarray(data.reshape(-1, self.channels).T))
            f.seek(start * frame_bytes)
            f.write(np.ascontiguousarray(new.T, dtype=np.float32).tobytes())

    def recount(self, cancel: Optional[CancelToken] = None) -> None:
        """The RMS and peak counted again over the whole file (one read), after :meth:`rewrite`."""
        self._squares, self.peak = 0.0, 0.0
        for block in self.blocks(lambda block: block, 0, cancel):
            self._squares += float(np.square(block, dtype=np.float64).sum())
            self.peak = max(self.peak, float(np.abs(block).max(initial=0.0)))

    def _flush(self) -> None:
        """Every frame written so far onto the disk, where a reader opens the file anew."""
        if not self._file.closed:
            with write_errors(self.out):
                self._file.flush()

    def blocks(self, process: Callable[[np.ndarray], np.ndarray], context: int,
               cancel: Optional[CancelToken]) -> Iterator[np.ndarray]:
        """``process`` applied to every block read with ``context`` frames more each side (where
        the file has them), cut back to the block: equal to processing the whole file at once
        when a processed sample depends on at most ``context`` frames around it."""
        frame_bytes, size = 4 * self.channels, self.block_frames
        self._flush()
        with open(self.path, "rb") as f:
            for start in range(0, self.frames, size):
                check_cancel(cancel)
                lo, hi = max(0, start - context), min(self.frames, start + size + context)
                f.seek(lo * frame_bytes)
                data = np.fromfile(f, dtype=np.float32, count=(hi - lo) * self.channels)
                block = process(np.ascontiguousarray(data.reshape(-1, self.channels).T))
                self.fraction_read = min(self.frames, start + size) / self.frames
                yield block[:, start - lo:start - lo + min(size, self.frames - start)]


@contextlib.contextmanager
def block_writer(path: Path, out: Path, sample_rate: int, channels: int) -> Iterator["BlockWriter"]:
    """A :class:`BlockWriter` into ``path``, closed at the end, abandoned (closed quietly) on an error."""
    writer = BlockWriter(path, out, sample_rate, channels)
    try:
        yield writer
    except BaseException:
        writer.abandon()
        raise
    writer.close()


class BlockWriter:
    """Writes ``[channels, frames]`` blocks into ``path`` in the format :func:`engine.audio_io.write_audio`
    gives the extension of ``out``: float32 WAV, 24-bit FLAC/AIFF (soundfile), ogg/mp3 (pedalboard)."""

    def __init__(self, path: Path, out: Path, sample_rate: int, channels: int) -> None:
        self.out = out
        with write_errors(out):
            self._encoder = Encoder(path, out.suffix.lower(), sample_rate, channels)

    def write(self, block: np.ndarray) -> None:
        with write_errors(self.out):
            self._encoder.write(np.ascontiguousarray(block, dtype=np.float32))

    def close(self) -> None:
        with write_errors(self.out):
            self._encoder.close()

    def abandon(self) -> None:
        with contextlib.suppress(Exception):
            self._encoder.close()
