"""Spectrograms of whole renders with and without the end hold (``engine.envelope.hold_end_bands``):
a steady 220 + 331 Hz tone in the style of rain (the swell it was made for) and the pitched
corpus's whole guitar as bell at strength 1 (where it acts most on the corpus), each with its
50 ms RMS in dBFS.

    .venv/bin/python -m bench.end_hold      # writes bench/images/end-hold.png (about 30 s)
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

import gramophone.engine.domains as domains
from bench.frontier import at_strength
from bench.notes import cases
from bench.plots import save_figure, spectrogram_panel
from gramophone.engine import RenderSettings, analyse_style, get_model, render, synth

IMAGE = Path(__file__).resolve().parent / "images" / "end-hold.png"
CORPUS_PAIR = "instrument_guitar->tonal_bell"


def tone(rate: int, seconds: float) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    return (0.3 * np.sin(2 * np.pi * 220 * t) + 0.2 * np.sin(2 * np.pi * 331 * t)).astype(np.float32)[None]


def held_and_not(content: np.ndarray, rate: int, style: np.ndarray, style_rate: int) -> dict[str, np.ndarray]:
    """The default render at strength 1 with the end hold and with the hold replaced by the identity."""
    model = get_model()
    stats = analyse_style([(style, style_rate)], model)
    hold, out = domains.hold_end_bands, {}
    try:
        for label, step in (("ends held (default)", hold), ("ends not held", lambda magnitude, *_: magnitude)):
            domains.hold_end_bands = step
            full = render(content, rate, model, stats, RenderSettings(match_loudness=False))
            out[label] = at_strength(content, full, 1.0, rate)
    finally:
        domains.hold_end_bands = hold
    return out


def main() -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rate = 44_100
    columns = [("tone 220 + 331 Hz", tone(rate, 6.0), rate, synth.rain(rate, 10.0), rate, "as rain")]
    (case,) = cases(["whole"], [CORPUS_PAIR])
    columns.append(("guitar (whole clip)", case.content, case.rate, case.style, case.style_rate, "as bell"))
    fig, axes = plt.subplots(3, len(columns), figsize=(7 * len(columns), 9), squeeze=False)
    for column, (name, content, rate_, style, style_rate, as_what) in zip(axes.T, columns):
        clips = [(name, content)] + [(f"{as_what}, strength 1, {label}", clip)
                                     for label, clip in held_and_not(content, rate_, style, style_rate).items()]
        for ax, (label, clip) in zip(column, clips):
            spectrogram_panel(ax, clip, rate_, label, 16_000, fontsize=9)
            mono = np.mean(clip, axis=0)
            window = int(0.05 * rate_)
            rms = np.sqrt(np.convolve(mono.astype(np.float64) ** 2, np.ones(window) / window, mode="same"))
            level = ax.twinx()
            level.plot(np.arange(len(rms)) / rate_, 20 * np.log10(rms + 1e-9), color="cyan", lw=0.8)
            level.set_ylim(-60, 0)
            level.set_ylabel("dBFS, 50 ms RMS", fontsize=7)
        column[-1].set_xlabel("s")
    save_figure(fig, IMAGE, dpi=70)


if __name__ == "__main__":
    main()
