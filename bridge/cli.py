"""The ``gramophone`` command line: ``render``, ``demo`` and ``info``.

A user error prints one line (``gramophone: error: …``) and exits with status 2; Ctrl-C
cancels a render cleanly (no partial output) and exits with 130.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path
from typing import Optional, Sequence

import engine
from engine import GramophoneError, RenderCancelled, RenderSettings, get_model
from engine.progress import CancelToken

from .progress_bar import ProgressBar

defaults = RenderSettings()


def _add_render_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--model", default=engine.DEFAULT_MODEL, choices=sorted(engine.MODELS),
                   help=f"texture model (default {engine.DEFAULT_MODEL})")
    p.add_argument("--strength", type=float, default=defaults.strength,
                   help="0 keeps the content, 1 matches the style's statistics fully (default %(default)s)")
    p.add_argument("--iterations", type=int, default=defaults.iterations, help="optimiser iterations (default %(default)s)")
    p.add_argument("--domain", choices=["waveform", "spectrogram"], default=defaults.domain,
                   help="optimise samples directly, or the log-magnitude then Griffin-Lim (default %(default)s)")
    p.add_argument("--optimiser", choices=["lbfgs", "adam"], default=defaults.optimiser, help="(default %(default)s)")
    p.add_argument("--seed", type=int, default=defaults.seed, help="seed for random phase (default %(default)s)")
    p.add_argument("--random-phase", action="store_true", help="spectrogram domain: start Griffin-Lim from random phase")
    p.add_argument("--device", default=defaults.device, help="auto, cpu or cuda (default %(default)s)")


def _settings(args: argparse.Namespace) -> RenderSettings:
    return RenderSettings(strength=args.strength, iterations=args.iterations, seed=args.seed, domain=args.domain,
                          optimiser=args.optimiser, device=args.device, random_phase=args.random_phase).validated()


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="gramophone", description="Render audio in the style of another sound.")
    parser.add_argument("--version", action="version", version=f"gramophone {engine.__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("render", help="render a clip in the style of one or more style files")
    p.add_argument("content", help="the clip to transform (wav, flac, aiff, ogg, mp3)")
    p.add_argument("--style", action="append", default=[], metavar="FILE", required=True,
                   help="style audio; repeat to pool several files")
    p.add_argument("-o", "--output", required=True, help="where to write the result (format from the extension)")
    _add_render_options(p)

    p = sub.add_parser("demo", help="render the built-in melody in the style of built-in rain")
    p.add_argument("-o", "--output-dir", default="gramophone-demo", help="folder for the demo files (default %(default)s)")
    _add_render_options(p)

    sub.add_parser("info", help="version, device, threads and models")
    return parser


def _render(content: str, styles: Sequence[str], output: str, args: argparse.Namespace) -> int:
    from engine.pipeline import render_file, style_from_files

    settings = _settings(args)
    model = get_model(args.model)
    style = style_from_files(styles, model)
    cancel = CancelToken()
    try:
        result = render_file(content, output, model, style, settings, ProgressBar("rendering"), cancel)
    except KeyboardInterrupt:
        cancel.cancel()
        raise
    print(result.output_path)
    print(f"rendered {result.duration:.2f} s of audio ({result.channels} ch, {result.sample_rate} Hz) "
          f"in {result.seconds:.2f} s", file=sys.stderr)
    return 0


def _demo(args: argparse.Namespace) -> int:
    from engine import synth
    from engine.audio import write_audio

    folder = Path(args.output_dir)
    folder.mkdir(parents=True, exist_ok=True)
    sr = 44_100
    content = write_audio(folder / "content-melody.wav", synth.plucked_melody(sr, 8.0), sr)
    style = write_audio(folder / "style-rain.wav", synth.rain(sr, 8.0), sr)
    print(f"content: {content}\nstyle:   {style}", file=sys.stderr)
    return _render(str(content), [str(style)], str(folder / "melody-in-the-style-of-rain.wav"), args)


def _info() -> int:
    import torch

    cuda = torch.cuda.is_available()
    print(f"gramophone {engine.__version__}")
    print(f"torch {torch.__version__}; device: {'cuda (' + torch.cuda.get_device_name(0) + ')' if cuda else 'cpu'}")
    print(f"threads: {torch.get_num_threads()} of {os.cpu_count()} cores")
    for name, cls in engine.MODELS.items():
        params = ", ".join(f"{k}={v}" for k, v in cls.defaults.items())
        print(f"model {name}{' (default)' if name == engine.DEFAULT_MODEL else ''}: {params}")
    return 0


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "render":
            return _render(args.content, args.style, args.output, args)
        if args.command == "demo":
            return _demo(args)
        return _info()
    except GramophoneError as exc:
        print(f"gramophone: error: {exc}", file=sys.stderr)
        return 2
    except (KeyboardInterrupt, RenderCancelled):
        print("\ngramophone: cancelled; no output written", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
