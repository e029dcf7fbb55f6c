"""Spectrograms of the default render on benchmark pairs: content, style, strength 0.5 and 1, and
the vocoder (the style as carrier) at the knob point whose content kept is nearest the default's at 1.

    .venv/bin/python -m bench.spectrograms [PAIR ...]     # writes bench/images/spectrograms-default.png
"""
from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from bench.baselines import KNOBS, vocoder
from bench.frontier import at_strength
from gramophone.engine.metrics import content_kept
from bench.pairs import all_pairs
from gramophone.engine import RenderSettings, analyse_style, get_model, render

DEFAULT_PAIRS = ("speech_fr_tuxpaint->impulsive_fire_crackle", "instrument_piano->noise_rain",
                 "singing_solo_anditsall->noise_rain", "mix_blues->impulsive_leaves")
IMAGE = Path(__file__).resolve().parent / "images" / "spectrograms-default.png"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("pairs", nargs="*", default=list(DEFAULT_PAIRS))
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("-o", "--output", type=Path, default=IMAGE)
    args = parser.parse_args()
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    pairs = [p for p in all_pairs(args.seconds) if p.name in args.pairs]
    if not pairs:
        parser.error(f"no such pairs: {args.pairs} (see python -m bench.frontier --list)")
    fig, axes = plt.subplots(len(pairs), 5, figsize=(20, 3.2 * len(pairs)), squeeze=False)
    for row, pair in zip(axes, pairs):
        model = get_model()
        stats = analyse_style([(pair.style, pair.style_rate)], model)
        clips = [("content", pair.content, pair.content_rate), ("style", pair.style, pair.style_rate)]
        full = render(pair.content, pair.content_rate, model, stats, RenderSettings(match_loudness=False))
        for strength in (0.5, 1.0):  # what render(strength=...) returns, from the one render
            clips.append((f"strength {strength:g}", at_strength(pair.content, full, strength, pair.content_rate),
                          pair.content_rate))
        kept = content_kept(clips[-1][1], pair.content, pair.content_rate)
        voices = {k: vocoder(pair.content, pair.content_rate, pair.style, pair.style_rate, k) for k in KNOBS["vocoder"]}
        knob = min(voices, key=lambda k: abs(content_kept(voices[k], pair.content, pair.content_rate) - kept))
        clips.append((f"vocoder {knob:g} (content kept as at 1)", voices[knob], pair.content_rate))
        for ax, (label, clip, rate) in zip(row, clips):
            ax.specgram(np.mean(clip, axis=0), NFFT=1024, Fs=rate, noverlap=768, cmap="magma", vmin=-130, vmax=-20)
            ax.set_title(f"{pair.name}: {label}", fontsize=8)
            ax.set_ylim(0, 22_050)
            ax.set_xlabel("s")
        row[0].set_ylabel("Hz")
    fig.tight_layout()
    args.output.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(args.output, dpi=60)
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
