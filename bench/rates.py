"""Which internal analysis rate? The default kernel render at 22.05 kHz (n_fft 2048, hop 512)
against the same model at 44.1 kHz (n_fft 4096, hop 1024: the same window and hop in seconds),
on 10 s of 44.1 kHz audio: time, style match and content kept, in one run.

    .venv/bin/python bench/rates.py
"""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import machine, timed  # noqa: E402
from bench.material import pairs  # noqa: E402
from engine import RenderSettings, analyse_style, get_model, render  # noqa: E402
from engine.metrics import content_preservation, style_distance  # noqa: E402

SR = 44_100


def main() -> None:
    print("| analysis rate | n_fft / hop | pair | render s | style distance | content kept |")
    print("|---|---|---|---|---|---|")
    for rate, n_fft, hop in ((22_050, 2048, 512), (44_100, 4096, 1024)):
        model = get_model("kernel", sample_rate=rate, n_fft=n_fft, hop=hop)
        for pair, (content, style) in pairs(SR, 10.0).items():
            stats = analyse_style([(style, SR)], model)
            seconds, out = timed(lambda: render(content, SR, model, stats, RenderSettings()), repeats=1)
            print(f"| {rate} | {n_fft} / {hop} | {pair} | {seconds:.2f} | "
                  f"{style_distance(out, style, content, SR):.3f} | {content_preservation(out, content, SR):.3f} |",
                  flush=True)
    print(f"machine: {machine()}")


if __name__ == "__main__":
    main()
