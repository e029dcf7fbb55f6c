"""The benchmarks' figures, drawn with matplotlib (file output only, no display needed)."""
from __future__ import annotations

import io
from pathlib import Path

import numpy as np


def spectrograms(path: str | Path, clips: dict[str, np.ndarray], sample_rate: int, title: str = "",
                 n_fft: int = 1024, hop: int = 256, floor_db: float = -80.0) -> Path:
    """One dB spectrogram per clip (``[channels, samples]``, mixed to mono), stacked on a shared
    time axis, frequency in kHz; written as a PNG at ``path``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(len(clips), 1, figsize=(8, 2.2 * len(clips)), sharex=True, squeeze=False,
                             constrained_layout=True)
    image = None
    for ax, (label, clip) in zip(axes[:, 0], clips.items()):
        x = np.mean(clip, axis=0)
        x = np.pad(x, (0, max(0, n_fft - len(x))))
        frames = np.lib.stride_tricks.sliding_window_view(x, n_fft)[::hop] * np.hanning(n_fft)
        magnitude = np.abs(np.fft.rfft(frames, axis=1)).T
        db = 20 * np.log10(magnitude / (magnitude.max() + 1e-12) + 1e-12)
        extent = (0, len(x) / sample_rate, 0, sample_rate / 2000)
        image = ax.imshow(db, origin="lower", aspect="auto", extent=extent, vmin=floor_db, vmax=0, cmap="magma")
        ax.set_ylabel("kHz")
        ax.set_title(label, loc="left", fontsize=9)
    axes[-1, 0].set_xlabel("seconds")
    fig.colorbar(image, ax=axes[:, 0], label="dB", shrink=0.8)
    if title:
        fig.suptitle(title)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100)
    plt.close(fig)
    compact_png(buffer, path)
    return path


def spectrogram_panel(ax, clip: np.ndarray, sample_rate: int, title: str, top_hz: float,
                      vmin: float = -130.0, fontsize: int = 8) -> None:
    """A dB spectrogram of ``clip [channels, samples]`` (mixed to mono) on matplotlib's ``ax``, as
    the corpus figures draw them: 1024-point frames at 75 % overlap, magma, ``vmin`` to -20 dB."""
    ax.specgram(np.mean(clip, axis=0), NFFT=1024, Fs=sample_rate, noverlap=768, cmap="magma", vmin=vmin, vmax=-20)
    ax.set_title(title, fontsize=fontsize)
    ax.set_ylim(0, top_hz)
    ax.set_ylabel("Hz")


def save_figure(fig, path: Path, dpi: int) -> None:
    """``fig`` laid out tight and written to ``path`` (its folder made)."""
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=dpi)
    print(f"wrote {path}")


def compact_png(source: str | Path | io.BytesIO, path: str | Path) -> None:
    """Re-save a PNG with a 256-colour palette (the colour map has 256 colours): a third of the size."""
    from PIL import Image  # matplotlib's own dependency

    Image.open(source).convert("RGB").quantize(256).save(path, optimize=True)
