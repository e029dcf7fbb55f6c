"""Spectrograms of renders with and without the style's floor (``TextureModel.style_floor``): the
pitched corpus's solo voice as singing bowl and guitar as bell (3 s excerpts, strength 1), where
the optimiser had left the most bins under zero (silence). Each title gives the render's style
gain, content kept and pitch kept, and the share of the optimised spectrogram's bins under 8 kHz
that the optimiser left under zero: silent without the floor, raised to it with it.

    .venv/bin/python -m bench.style_floor      # writes bench/images/style-floor.png (about 20 s)
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

import gramophone.engine.domains as domains
from bench.notes import Case, axes, cases
from bench.plots import save_figure, spectrogram_panel
from gramophone.engine import RenderSettings, analyse_style, get_model, render
from gramophone.engine.models.kernel import KernelModel

IMAGE = Path(__file__).resolve().parent / "images" / "style-floor.png"
PAIRS = ("singing_solo_anditsall->tonal_singing_bowl", "instrument_guitar->tonal_bell")
#: the optimised frames' bins counted for "under zero" (44.1 kHz analysis, 2048-point frames)
LOW_BINS = 372  # 8 kHz


def with_and_without(case: Case) -> dict[str, tuple[np.ndarray, float]]:
    """The default render at strength 1 with the floor and without it, and the share of the
    optimised frames' bins under 8 kHz that were under zero."""
    model = get_model()
    stats = analyse_style([(case.style, case.style_rate)], model)
    floor, output, out = KernelModel.style_floor, domains.SpectrogramDomain.output, {}
    under: list[float] = []

    def counted(domain: domains.SpectrogramDomain, param: torch.Tensor) -> torch.Tensor:
        under.append(float((param[:, :LOW_BINS] < 0).float().mean()))
        return output(domain, param)

    try:
        domains.SpectrogramDomain.output = counted  # type: ignore[method-assign]
        for label, step in (("floor (default)", floor), ("no floor", lambda self, target: None)):
            KernelModel.style_floor = step  # type: ignore[method-assign]
            under.clear()
            clip = render(case.content, case.rate, model, stats, RenderSettings(match_loudness=False))
            out[label] = (clip, float(np.mean(under)))
    finally:
        KernelModel.style_floor, domains.SpectrogramDomain.output = floor, output  # type: ignore[method-assign]
    return out


def main() -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    columns = cases(["excerpt"], list(PAIRS))
    fig, grid = plt.subplots(3, len(columns), figsize=(7 * len(columns), 9), squeeze=False)
    for column, case in zip(grid.T, columns):
        rows = [(f"{case.name}: content", case.content)]
        for label, (clip, under) in with_and_without(case).items():
            a = axes(clip, case)
            rows.append((f"strength 1, {label}: style {a['style']:.3f}, content {a['content']:.3f}, "
                         f"pitch {a['pitch']:.3f}; optimised bins < 8 kHz under zero {under:.0%}", clip))
        for ax, (label, clip) in zip(column, rows):
            spectrogram_panel(ax, clip, case.rate, label, 12_000, vmin=-150)
        column[-1].set_xlabel("s")
    save_figure(fig, IMAGE, dpi=70)

if __name__ == "__main__":
    main()
