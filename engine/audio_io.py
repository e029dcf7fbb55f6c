"""Audio files in and out: read (whole or in blocks), probe, validate, write atomically (through
the one table of encodings), and the rules for an output path.

Arrays are ``float32`` and channel-first: ``[channels, samples]``. Reading goes through
pedalboard (wav, flac, aiff, ogg, mp3 on every platform); float WAV is written with soundfile.
Every write is atomic: the data goes to a temporary file beside the target, which is then
renamed over it, so a crash or a kill never leaves a partial file under the requested name.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Callable, Iterator, Optional

import numpy as np

from .errors import GramophoneError
from .files import PART, atomic_write
from .limits import MAX_SAMPLES_PER_BYTE_COMPRESSED, MAX_SAMPLES_PER_BYTE_PCM

MIN_SAMPLE_RATE = 8_000
MAX_SAMPLE_RATE = 192_000
MAX_CHANNELS = 8
#: Extensions of the audio files read (what `gramophone batch` picks up from a folder).
READ_EXTENSIONS = (".wav", ".wave", ".flac", ".aif", ".aiff", ".ogg", ".mp3", ".bwf")
WRITE_EXTENSIONS = (".wav", ".flac", ".aif", ".aiff", ".ogg", ".mp3")
#: Uncompressed formats: their samples take a fixed number of bytes (see engine/limits.py).
PCM_EXTENSIONS = (".wav", ".wave", ".aif", ".aiff", ".bwf")


def probe_audio(path: str | os.PathLike) -> tuple[int, int, int]:
    """``(sample_rate, channels, frames)`` from the file's header, after the same checks as
    :func:`read_audio` except for the samples themselves. Cheap: nothing is decoded."""
    _, info = _open_checked(path, read=False)
    return info


def check_length(path: str | os.PathLike, max_seconds: Optional[float], what: str = "the clip") -> tuple[int, int, int]:
    """:func:`probe_audio`'s ``(sample_rate, channels, frames)``, after refusing (``too_long``) a
    clip whose header declares more than ``max_seconds`` (None: no limit). Nothing is decoded, so
    a long or lying file is refused before any of it is read (``--max-seconds``)."""
    rate, channels, frames = probe_audio(path)
    if max_seconds is not None and frames / rate > max_seconds:
        raise GramophoneError(f"{what} ({path}) is {frames / rate / 60:.1f} min long; at most {max_seconds / 60:.1f} "
                              f"min ({max_seconds:g} s) are accepted (--max-seconds)", "too_long")
    return rate, channels, frames


def read_audio(path: str | os.PathLike) -> tuple[np.ndarray, int]:
    """Read an audio file as ``(float32 [channels, samples], sample_rate)``.

    Raises :class:`GramophoneError` with a one-line reason for anything that is not a
    readable clip of 1-8 channels at 8-192 kHz with finite samples.
    """
    data, (sample_rate, channels, _) = _open_checked(path, read=True)
    data = np.ascontiguousarray(np.asarray(data, dtype=np.float32).reshape(channels, -1))
    check_clip(data, sample_rate, str(path))
    return data, sample_rate


def _open_checked(path: str | os.PathLike, read: bool) -> tuple[np.ndarray | None, tuple[int, int, int]]:
    from pedalboard.io import AudioFile

    p = Path(path)
    if not p.exists():
        raise GramophoneError(f"no such file: {p}", "not_found")
    if p.is_dir():
        raise GramophoneError(f"{p} is a directory, not an audio file", "not_audio")
    if p.stat().st_size == 0:
        raise GramophoneError(f"{p} is empty (0 bytes)", "not_audio")
    try:
        with AudioFile(str(p)) as f:
            info = (int(round(f.samplerate)), int(f.num_channels), int(f.frames))
            if info[2] == 0:
                raise GramophoneError(f"{p} has no samples", "empty")
            check_clip(np.zeros((info[1], 1), np.float32), info[0], str(p))
            _check_declared_length(p, info[1], info[2])
            data = f.read(f.frames) if read else None
    except GramophoneError:
        raise
    except Exception as exc:  # pedalboard raises ValueError/RuntimeError for undecodable data
        raise unreadable(p, exc) from exc
    return data, info


def _check_declared_length(p: Path, channels: int, frames: int) -> None:
    """Refuse a header that declares more samples than the file's bytes can hold, before they are
    read: the decoder would allocate them all (a 8 KB WAV declaring 2^29 frames took 4 GB)."""
    pcm = p.suffix.lower() in PCM_EXTENSIONS
    per_byte = MAX_SAMPLES_PER_BYTE_PCM if pcm else MAX_SAMPLES_PER_BYTE_COMPRESSED
    size = p.stat().st_size
    if frames * channels > size * per_byte:
        raise GramophoneError(f"{p} is damaged: its header declares {frames:,} frames of {channels} channel(s), "
                              f"more than its {size:,} bytes can hold", "not_audio")


def check_clip(data: np.ndarray, sample_rate: int, what: str = "clip") -> None:
    """Validate a ``[channels, samples]`` clip; raise :class:`GramophoneError` if it cannot be used."""
    if data.ndim != 2:
        raise GramophoneError(f"{what}: expected [channels, samples], got shape {data.shape}")
    if not MIN_SAMPLE_RATE <= sample_rate <= MAX_SAMPLE_RATE:
        raise GramophoneError(
            f"{what}: sample rate {sample_rate} Hz is outside {MIN_SAMPLE_RATE}-{MAX_SAMPLE_RATE} Hz",
            "bad_rate")
    if not 1 <= data.shape[0] <= MAX_CHANNELS:
        raise GramophoneError(f"{what}: {data.shape[0]} channels (1-{MAX_CHANNELS} supported)", "bad_channels")
    if data.shape[1] == 0:
        raise GramophoneError(f"{what} has no samples", "empty")
    if not np.isfinite(data).all():
        raise GramophoneError(f"{what} contains NaN or infinite samples", "bad_samples")


def write_audio(path: str | os.PathLike, data: np.ndarray, sample_rate: int) -> Path:
    """Write ``[channels, samples]`` atomically; the format follows the extension.

    ``.wav`` is float32; ``.flac`` and ``.aiff`` are 24-bit; ``.ogg`` and ``.mp3`` use
    pedalboard's encoders at high quality. Returns the final path.
    """
    p = Path(path)
    ext = p.suffix.lower()
    if ext not in WRITE_EXTENSIONS:  # the encoder follows the extension; the other rules: check_output_path
        raise GramophoneError(
            f"cannot write {p.name}: output must end in one of {', '.join(WRITE_EXTENSIONS)}", "bad_output")
    data = np.ascontiguousarray(data, dtype=np.float32)
    return atomic_write(p, lambda tmp: _encode(str(tmp), ext, data, sample_rate), suffix=f"{PART}{ext}")


def check_output_path(output_path: str | os.PathLike, content_path: str | os.PathLike | None = None) -> Path:
    """The one set of rules for where a render may write, applied where a path enters (the command
    line, the OSC server's path policy, :func:`~gramophone.engine.pipeline.render_file`): an audio
    extension, not a folder, in a folder that exists, and never the content file itself."""
    out = Path(output_path)
    if out.suffix.lower() not in WRITE_EXTENSIONS:
        raise GramophoneError(f"output must end in one of {', '.join(WRITE_EXTENSIONS)}: {out}", "bad_output")
    if out.is_dir():
        raise GramophoneError(f"output is a directory: {out}", "bad_output")
    if content_path is not None and os.path.realpath(out) == os.path.realpath(content_path):
        raise GramophoneError("the output would overwrite the content file; choose another name", "bad_output")
    if not out.parent.resolve().is_dir():
        raise GramophoneError(f"output folder does not exist: {out.parent}", "bad_output")
    return out


#: How each written extension is encoded by soundfile: (format, subtype). The others (ogg, mp3)
#: go through pedalboard's encoders (:data:`PEDALBOARD_QUALITY`).
SOUNDFILE_ENCODINGS = {".wav": ("WAV", "FLOAT"), ".flac": ("FLAC", "PCM_24"), ".aif": ("AIFF", "PCM_24"),
                       ".aiff": ("AIFF", "PCM_24")}
#: pedalboard's encoder quality by extension (any other: 320 kbps).
PEDALBOARD_QUALITY = {".mp3": "V0"}


class Encoder:
    """An audio file open for writing, encoded as ``ext`` says (the one table of encodings:
    :func:`write_audio` writes a whole clip through it, the streamed render block by block)."""

    def __init__(self, path: str | os.PathLike, ext: str, sample_rate: int, channels: int) -> None:
        if ext in SOUNDFILE_ENCODINGS:
            import soundfile as sf

            fmt, subtype = SOUNDFILE_ENCODINGS[ext]
            self._file: Any = sf.SoundFile(str(path), "w", sample_rate, channels, subtype, format=fmt)
            self._write: Callable[[np.ndarray], Any] = lambda block: self._file.write(block.T)
        else:
            from pedalboard.io import AudioFile

            self._file = AudioFile(str(path), "w", samplerate=sample_rate, num_channels=channels,
                                   quality=PEDALBOARD_QUALITY.get(ext, "320 kbps"))
            self._write = self._file.write

    def write(self, block: np.ndarray) -> None:
        """Append ``float32 [channels, frames]``."""
        self._write(block)

    def close(self) -> None:
        self._file.close()


def _encode(tmp_name: str, ext: str, data: np.ndarray, sample_rate: int) -> None:
    encoder = Encoder(tmp_name, ext, sample_rate, data.shape[0])
    try:
        encoder.write(data)
    finally:
        encoder.close()


def read_blocks(path: str | os.PathLike, frames: int) -> Iterator[np.ndarray]:
    """The file's samples front to back, as ``float32 [channels, <= frames]`` blocks (a streamed
    read: any readable format, mp3 included, and memory bounded by ``frames``)."""
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


def unreadable(path: str | os.PathLike, exc: BaseException) -> GramophoneError:
    """The ``not_audio`` error for a file the decoder refused with ``exc`` (whole reads and streamed blocks)."""
    return GramophoneError(f"{path} is not a readable audio file ({_first_line(exc)})", "not_audio")


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
