"""Spectrogram images for the benchmarks, written as greyscale PNGs with no plotting library."""
from __future__ import annotations

import struct
import zlib
from pathlib import Path

import numpy as np


def spectrogram_image(clip: np.ndarray, sample_rate: int, n_fft: int = 1024, hop: int = 256,
                      height: int = 256, floor_db: float = -80.0) -> np.ndarray:
    """``uint8 [height, frames]`` image of a mono mix's dB spectrogram, low frequencies at the bottom."""
    x = np.mean(clip, axis=0)
    x = np.pad(x, (0, max(0, n_fft - len(x))))
    frames = np.lib.stride_tricks.sliding_window_view(x, n_fft)[::hop] * np.hanning(n_fft)
    mag = np.abs(np.fft.rfft(frames, axis=1)).T
    db = 20 * np.log10(mag / (mag.max() + 1e-12) + 1e-12)
    rows = np.linspace(0, db.shape[0] - 1, height).astype(int)
    img = np.clip((db[rows] - floor_db) / -floor_db, 0, 1)[::-1]
    return (img * 255).astype(np.uint8)


def write_png(path: str | Path, image: np.ndarray) -> None:
    """Write a ``uint8 [rows, cols]`` greyscale image as PNG."""
    rows, cols = image.shape
    raw = b"".join(b"\x00" + image[r].tobytes() for r in range(rows))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", cols, rows, 8, 0, 0, 0, 0)
    Path(path).write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw, 9))
                           + chunk(b"IEND", b""))


def stacked(images: list[np.ndarray], gap: int = 4) -> np.ndarray:
    """Stack images vertically (cropped to the narrowest) with a white gap between them."""
    width = min(i.shape[1] for i in images)
    parts = []
    for i in images:
        parts += [i[:, :width], np.full((gap, width), 255, np.uint8)]
    return np.vstack(parts[:-1])
