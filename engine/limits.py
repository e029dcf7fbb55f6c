"""Bounds on everything Gramophone reads from outside, in one place.

Every reader checks a size it can learn cheaply (a file's length, a zip's central directory, an
``.npy`` header, an audio header, a datagram's argument list) against these *before* it
allocates, so a broken or hostile file is refused in milliseconds, whatever it declares. Each
bound sits far above anything Gramophone itself writes; the comment says why it is where it is.
"""
from __future__ import annotations

import json
import os
import struct
from pathlib import Path
from typing import IO, Any, BinaryIO, Callable, Optional

import numpy as np

from .errors import GramophoneError

MiB = 1 << 20

# ---- presets (engine/preset_format.py) ----
#: ``preset.json``: about 1 KB in the shipped presets; each style file adds about 150 bytes, so a
#: preset of a thousand style files records about 150 KB.
MAX_PRESET_METADATA_BYTES = 1 * MiB
#: Entries in a preset zip: ``preset.json`` and one ``.npy`` per statistic (the auditory model has 9).
MAX_PRESET_ENTRIES = 64
#: Presets are written stored (1:1); a shipped preset's frames deflate 1.2:1 if someone re-zips
#: them. A zip bomb (an array of zeros, deflated) is about 1000:1.
MAX_COMPRESSION_RATIO = 20
#: Entries below this size are not checked for their ratio: whatever they expand to is harmless
#: (a kernel preset's ``weights.npy``, 2 KB of mostly equal values, deflates 23:1).
RATIO_CHECK_FROM_BYTES = 1 * MiB
#: A kernel blend holds both presets' frames; a blend of blends, all of theirs. Sixteen styles
#: in one preset at the default ``max_frames`` is 200 MB of statistics.
MAX_BLENDED_STYLES = 16
#: Whatever a preset's parameters claim, no one statistic may exceed this (the largest a model
#: makes at its defaults: the kernel's 16-style blend, 200 MB), nor all of them together twice it.
MAX_STATISTIC_BYTES = 256 * MiB
#: The ``.npy`` header itself (numpy writes 128 bytes; its own reader allows 10000).
MAX_NPY_HEADER_BYTES = 10_000

# ---- pretrained weights (engine/models/weights.py) ----
#: A weights file: torchvision's full VGG-19 checkpoint (classifier included, which Gramophone
#: does not use) is 548 MB, SoundNet's 8-layer one about 30 MB.
MAX_WEIGHTS_BYTES = 1024 * MiB
#: Entries in a weights zip (torch.save's or an .npz): one per tensor plus a few; VGG-19 has 38 tensors.
MAX_WEIGHTS_ENTRIES = 4096

# ---- JSON records: sidecars (--like) and batch manifests ----
#: A render's sidecar is 1-3 KB.
MAX_SIDECAR_BYTES = 1 * MiB
#: A manifest row is about 80 bytes: 8 MiB is some 100 000 rows.
MAX_MANIFEST_BYTES = 8 * MiB
#: Rows (jobs) in one batch manifest; each becomes a job held in memory until it runs.
MAX_MANIFEST_ROWS = 100_000

# ---- audio headers (engine/audio_io.py) ----
#: Samples (frames x channels) one byte of file can decode to. Uncompressed WAV/AIFF hold at most
#: 2 per byte (4-bit ADPCM; GSM 6.10 in WAV: 4.9), so 8. Compressed formats: a FLAC of digital
#: silence measured 548 per byte; 4096 leaves room for its longest blocks.
MAX_SAMPLES_PER_BYTE_PCM = 8
MAX_SAMPLES_PER_BYTE_COMPRESSED = 4096

# ---- OSC (bridge/osc_transport.py, bridge/addresses.py, bridge/dispatch.py) ----
#: Bytes read per datagram: the largest a UDP datagram can be (longer ones cannot arrive).
MAX_OSC_PACKET = 65_536
#: Arguments in one message: the longest request (render with every option) has 22.
MAX_OSC_ARGS = 64
#: Characters in one string argument or address: a path is at most 4096 bytes on Linux.
MAX_OSC_STRING = 4096
#: Messages in one packet (bundles flattened): each one gets a reply, so this bounds the replies
#: one datagram can cause.
MAX_OSC_MESSAGES = 32


def read_bounded(path: str | os.PathLike, limit: int, code: str, what: str) -> bytes:
    """The bytes of ``path`` if it holds at most ``limit`` of them; ``GramophoneError(code)`` otherwise,
    before anything is read (and, should the file grow meanwhile, after ``limit + 1`` bytes)."""
    p = Path(path)
    if not p.is_file():
        raise GramophoneError(f"no such file: {p}", "not_found")
    if p.stat().st_size > limit:
        raise _too_large(p, p.stat().st_size, limit, code, what)
    try:
        with open(p, "rb") as f:
            data = f.read(limit + 1)
    except OSError as exc:
        raise GramophoneError(f"cannot read {p}: {exc.strerror or exc}", code) from exc
    if len(data) > limit:
        raise _too_large(p, len(data), limit, code, what)
    return data


def _too_large(path: Path, size: int, limit: int, code: str, what: str) -> GramophoneError:
    return GramophoneError(f"{path} is too large for {what} ({size:,} bytes; at most {limit:,})", code)


def parse_json(data: bytes, code: str, what: str,
               error: Callable[[str, str], GramophoneError] = GramophoneError) -> Any:
    """``data`` (UTF-8 JSON, a BOM allowed) decoded, or ``error(message, code)`` naming ``what``:
    also for nesting too deep for the parser, which raises ``RecursionError``, not ``ValueError``."""
    try:
        return json.loads(data.decode("utf-8-sig"))
    except (ValueError, RecursionError) as exc:  # UnicodeDecodeError is a ValueError
        reason = "nested too deeply" if isinstance(exc, RecursionError) else str(exc)
        raise error(f"{what} is not valid JSON: {reason}", code) from None


#: A zip's end-of-central-directory record: signature, disk numbers, entry counts, directory
#: size and offset, comment length (APPNOTE 4.3.16).
_END_RECORD = struct.Struct("<4s4H2LH")


def zip_directory(f: BinaryIO) -> Optional[tuple[int, int]]:
    """``(entries, directory bytes)`` from a zip's end record alone (None: not a zip), so that an
    archive listing millions of entries is refused before :class:`zipfile.ZipFile` builds an
    object for each."""
    size = f.seek(0, os.SEEK_END)
    f.seek(max(0, size - _END_RECORD.size - 0xFFFF))  # the record, after a comment of up to 64 KiB
    tail = f.read()
    at = tail.rfind(b"PK\x05\x06")
    if at < 0 or len(tail) - at < _END_RECORD.size:
        return None
    entries, directory = _END_RECORD.unpack_from(tail, at)[4:6]
    return entries, directory


def read_npy_header(stream: IO[bytes]) -> tuple[tuple[int, ...], bool, np.dtype]:
    """``(shape, fortran_order, dtype)`` from an ``.npy`` stream, reading the header alone (at
    most :data:`MAX_NPY_HEADER_BYTES`); raises ``ValueError`` on anything else."""
    version = np.lib.format.read_magic(stream)
    if version not in ((1, 0), (2, 0)):
        raise ValueError(f".npy format version {version}")
    read = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
    return read(stream, max_header_size=MAX_NPY_HEADER_BYTES)
