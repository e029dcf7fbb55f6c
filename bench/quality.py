"""Quality benchmark: style match and content preservation for every model, domain and a few
strengths, on several content/style pairs, plus spectrogram figures of one pair (matplotlib:
``pip install -e '.[bench]'``).

    .venv/bin/python -m bench.quality                       # every model (see PLAN)
    .venv/bin/python -m bench.quality --models kernel       # one model
    .venv/bin/python -m bench.quality --figures-only        # only the figures in bench/images/ (--models too)

Style match is ``engine.metrics.style_distance`` (texture statistics of the output against the
style's, relative to the content's: 1 = untouched, 0 = the style's statistics), computed with
its own filterbank so that no model is judged by its own loss. Content preservation is the
correlation of the output's log band envelopes with the content's (1 = same time course). For
the auditory model, each render also reports its per-group statistic SNR (dB). vgg19 and
soundnet run with random weights (``weights="random"``): no pretrained file ships, and none may
be downloaded; pass real ones with ``--weights-vgg19``/``--weights-soundnet``.
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path


from bench.common import OUT, machine, save_json
from bench.material import pairs
from bench.plots import spectrograms
from gramophone.engine import RenderSettings, analyse_style, get_model, render
from gramophone.engine.metrics import content_preservation, style_distance
from gramophone.engine.pipeline import report_on

SR = 22_050
#: model -> (domains, strengths); the pretrained nets are slow, so they get one setting each
PLAN = {"kernel": (("waveform", "spectrogram"), (0.25, 0.5, 1.0)),
        "random": (("waveform", "spectrogram"), (0.25, 0.5, 1.0)),
        "auditory": (("waveform",), (0.25, 0.5, 1.0)),
        "vgg19": (("spectrogram",), (1.0,)),
        "soundnet": (("waveform",), (1.0,))}


def build(name: str, args: argparse.Namespace):
    path = getattr(args, f"weights_{name}", None)
    if name in ("vgg19", "soundnet"):
        return get_model(name, weights_path=path) if path else get_model(name, weights="random")
    return get_model(name)


#: the figures bench/RESULTS.md shows: (model, domain), melody->rain at strength 1
FIGURES = (("kernel", "waveform"), ("random", "spectrogram"), ("auditory", "waveform"))
IMAGES = Path(__file__).parent / "images"


def figure(folder: Path, name: str, domain: str, content, style, out) -> Path:
    return spectrograms(folder / f"melody-rain-{name}-{domain}.png", {"content: melody": content,
                        "style: rain": style, f"output: {name}, {domain} domain, strength 1": out}, SR)


def figures_only(args: argparse.Namespace) -> None:
    """Render just the pair the figures show and write them to bench/images/."""
    content, style = pairs(SR, args.seconds)["melody->rain"]
    for name, domain in FIGURES:
        if name not in args.models:
            continue
        model = build(name, args)
        out = render(content, SR, model, analyse_style([(style, SR)], model), RenderSettings(domain=domain))
        print(figure(IMAGES, name, domain, content, style, out))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=list(PLAN), choices=list(PLAN))
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--weights-vgg19")
    parser.add_argument("--weights-soundnet")
    parser.add_argument("--figures-only", action="store_true", help="only write the figures in bench/images/")
    args = parser.parse_args()
    if args.figures_only:
        return figures_only(args)

    material = pairs(SR, args.seconds)
    rows = []
    print("| model | domain | strength | pair | style distance | content kept | render s | statistic SNR dB |")
    print("|---|---|---|---|---|---|---|---|")
    for name in args.models:
        model = build(name, args)
        domains, strengths = PLAN[name]
        for domain in domains:
            for strength in strengths:
                for pair, (content, style) in material.items():
                    stats = analyse_style([(style, SR)], model)
                    t = time.perf_counter()
                    out = render(content, SR, model, stats, RenderSettings(strength=strength, domain=domain))
                    seconds = time.perf_counter() - t
                    snr = report_on(out, SR, model, stats)
                    row = dict(model=name, domain=domain, strength=strength, pair=pair,
                               style_distance=style_distance(out, style, content, SR),
                               content_kept=content_preservation(out, content, SR), seconds=seconds, report=snr)
                    rows.append(row)
                    snr_text = " ".join(f"{v:.0f}" for v in snr.values())
                    print(f"| {name} | {domain} | {strength} | {pair} | {row['style_distance']:.3f} | "
                          f"{row['content_kept']:.3f} | {seconds:.2f} | {snr_text} |", flush=True)
                    if pair == "melody->rain" and strength == 1.0:
                        figure(OUT, name, domain, content, style, out)
    save_json("quality.json", dict(rows=rows, seconds=args.seconds, machine=machine()))

    print(f"\nmean over pairs ({len(material)} pairs of {args.seconds:g} s):")
    print("| model | domain | strength | style distance | content kept | render s per 10 s (x2, linear) "
          "| worst / mean statistic SNR dB |")
    print("|---|---|---|---|---|---|---|")
    for name in args.models:
        domains, strengths = PLAN[name]
        for domain in domains:
            for strength in strengths:
                sel = [r for r in rows if (r["model"], r["domain"], r["strength"]) == (name, domain, strength)]
                mean = lambda key: sum(r[key] for r in sel) / len(sel)  # noqa: E731
                snrs = [v for r in sel for v in r["report"].values()]
                snr_text = f"{min(snrs):.1f} / {sum(snrs) / len(snrs):.1f}" if snrs else "-"
                print(f"| {name} | {domain} | {strength} | {mean('style_distance'):.3f} | {mean('content_kept'):.3f} | "
                      f"{mean('seconds') * 10 / args.seconds:.1f} | {snr_text} |")
    print(f"\nfigures in {OUT}; machine: {machine()}")


if __name__ == "__main__":
    main()
