"""Which internal analysis rate? The default kernel render at 22.05 kHz (n_fft 2048, hop 512)
against the same model at 44.1 kHz (n_fft 4096, hop 1024: the same window and hop in seconds),
on 10 s of 44.1 kHz audio: time, style match and content kept, in one run.

    .venv/bin/python -m bench.rates
"""
from __future__ import annotations



from bench.common import machine, timed
from bench.material import pairs
from gramophone.engine import RenderSettings, analyse_style, get_model, render
from gramophone.engine.metrics import content_preservation, style_distance

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
