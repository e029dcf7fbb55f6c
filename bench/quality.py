"""Quality benchmark: style match and content preservation for every model, domain and a few
strengths, on several content/style pairs, plus spectrogram PNGs of one pair.

    .venv/bin/python bench/quality.py [--models kernel random] [--seconds 5]

Style match is ``engine.metrics.style_distance`` (texture statistics of the output against the
style's, relative to the content's: 1 = untouched, 0 = the style's statistics), computed with
its own filterbank so that no model is judged by its own loss. Content preservation is the
correlation of the output's log band envelopes with the content's (1 = same time course).
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import OUT, machine, save_json  # noqa: E402
from bench.material import pairs  # noqa: E402
from bench.pngspec import spectrogram_image, stacked, write_png  # noqa: E402
from engine import RenderSettings, analyse_style, get_model, render  # noqa: E402
from engine.metrics import content_preservation, style_distance  # noqa: E402

SR = 22_050
STRENGTHS = (0.25, 0.5, 1.0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=["kernel", "random"])
    parser.add_argument("--seconds", type=float, default=5.0)
    args = parser.parse_args()

    material = pairs(SR, args.seconds)
    rows = []
    print("| model | domain | strength | pair | style distance | content kept | render s |")
    print("|---|---|---|---|---|---|---|")
    for name in args.models:
        model = get_model(name)
        for domain in ("waveform", "spectrogram"):
            for strength in STRENGTHS:
                for pair, (content, style) in material.items():
                    stats = analyse_style([(style, SR)], model)
                    t = time.perf_counter()
                    out = render(content, SR, model, stats, RenderSettings(strength=strength, domain=domain))
                    row = dict(model=name, domain=domain, strength=strength, pair=pair,
                               style_distance=style_distance(out, style, content, SR),
                               content_kept=content_preservation(out, content, SR), seconds=time.perf_counter() - t)
                    rows.append(row)
                    print(f"| {name} | {domain} | {strength} | {pair} | {row['style_distance']:.3f} | "
                          f"{row['content_kept']:.3f} | {row['seconds']:.2f} |", flush=True)
                    if pair == "melody->rain" and strength == 1.0:
                        images = [spectrogram_image(c, SR, height=160) for c in (content, style, out)]
                        write_png(OUT / f"melody-rain-{name}-{domain}.png", stacked(images))
    baseline = {pair: dict(style_distance_of_style=0.0,
                           content_kept_by_style=content_preservation(style, content, SR))
                for pair, (content, style) in material.items()}
    save_json("quality.json", dict(rows=rows, baseline=baseline, machine=machine()))
    print("\nmean over pairs:")
    print("| model | domain | strength | style distance | content kept |")
    print("|---|---|---|---|---|")
    for name in args.models:
        for domain in ("waveform", "spectrogram"):
            for strength in STRENGTHS:
                sel = [r for r in rows if (r["model"], r["domain"], r["strength"]) == (name, domain, strength)]
                sd = sum(r["style_distance"] for r in sel) / len(sel)
                ck = sum(r["content_kept"] for r in sel) / len(sel)
                print(f"| {name} | {domain} | {strength} | {sd:.3f} | {ck:.3f} |")
    print(f"\nreference: the style itself keeps {sum(b['content_kept_by_style'] for b in baseline.values()) / len(baseline):.3f} "
          f"of the content's envelopes (chance level); PNGs in {OUT}")


if __name__ == "__main__":
    main()
