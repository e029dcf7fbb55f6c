"""Time of N takes by ``vary strength``: one shared optimisation (``render_takes``) against a
render per take (what each take's ``--like`` does, and what takes cost before they shared one).

    .venv/bin/python bench/takes.py [--takes 4] [--seconds 8] [--threads 2]

Prints one line per way and the ratio; the takes of both ways are checked equal bit for bit.
"""
from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import torch


from gramophone.engine import RenderSettings, synth
from gramophone.engine.audio_io import read_audio, write_audio
from gramophone.engine.pipeline import render_file, render_takes
from gramophone.engine.preset_store import PresetStore
from gramophone.engine.takes import take_path, take_settings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--takes", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--preset", default="rain")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    preset = PresetStore().load(args.preset)
    model, style = preset.build_model(), preset.stats
    settings = RenderSettings(variations=args.takes, vary="strength")
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        clip = write_audio(work / "clip.wav", synth.plucked_melody(44_100, args.seconds), 44_100)
        warm = write_audio(work / "warm.wav", synth.plucked_melody(44_100, 1.0), 44_100)
        render_file(warm, work / "warm-out.wav", model, style, RenderSettings(), sidecar=False)  # first-call costs
        started = time.perf_counter()
        shared = render_takes(clip, work / "shared.wav", model, style, settings, sidecar=False)
        shared_s = time.perf_counter() - started
        started = time.perf_counter()
        for k, take in enumerate(take_settings(settings)):  # each take a render of its own
            render_file(clip, take_path(work / "each.wav", k + 1, args.takes), model, style, take, sidecar=False)
        each_s = time.perf_counter() - started
        same = all(np.array_equal(read_audio(r.output_path)[0],
                                  read_audio(take_path(work / "each.wav", k + 1, args.takes))[0])
                   for k, r in enumerate(shared))
    print(f"{args.takes} takes (vary strength) of a {args.seconds:g} s 44.1 kHz clip as {args.preset} "
          f"({model.name}, {args.threads} threads): a render each {each_s:.1f} s, one shared optimisation "
          f"{shared_s:.1f} s ({each_s / shared_s:.1f}x); takes equal bit for bit: {same}")


if __name__ == "__main__":
    main()
