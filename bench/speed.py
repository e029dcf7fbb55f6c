"""Speed benchmark: the default render against the paper's configuration, in one run.

    .venv/bin/python -m bench.speed                       # paper budgets 10, 30, 100, 300 iterations
    .venv/bin/python -m bench.speed --budgets 10 30       # quicker

The clip is 10 s of mono 44.1 kHz (a plucked melody) in the style of 10 s of rain. The paper
configuration: the 4096-filter random net on log1p STFT at 22.05 kHz (n_fft 2048, hop 512) with
its full 4096 x 4096 Gram matrices, spectrogram domain, L-BFGS, Griffin-Lim 500 iterations;
the paper ran 300 L-BFGS iterations, and smaller budgets are timed too, each end to end.

Style match is judged three ways: the paper's own loss with its own filters (seed 0, which the
paper's optimiser fits directly), the same architecture with held-out filters (seed 1: the
texture statistic itself, with no reward for fitting particular random filters), and the
model-independent ``style_gain``. "Equal style match" is the smallest paper budget whose
held-out loss is at or below the default render's. Also: peak memory of a 60 s stereo render.
"""
from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path


import numpy as np
import torch

from bench.common import machine, save_json, timed
from bench.paper import paper_model
from gramophone.engine import RenderSettings, analyse_style, get_model, render, synth
from gramophone.engine.metrics import content_kept, style_gain
from gramophone.engine.render import to_analysis_rate
from gramophone.engine.spectral import log_magnitude

SR = 44_100
PAPER_GRIFFIN_LIM = 500


def peak_memory_60s_stereo() -> float:
    """Peak RSS (MB) of a child process that renders 60 s of stereo 44.1 kHz with defaults."""
    code = ("import numpy as np, resource; from gramophone.engine import *; from gramophone.engine import synth\n"
            "c = np.concatenate([synth.plucked_melody(44100, 60.0)] * 2); s = synth.rain(44100, 20.0)\n"
            "m = get_model(); out = render(c, 44100, m, analyse_style([(s, 44100)], m))\n"
            "assert out.shape == c.shape\n"
            "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=Path(__file__).resolve().parents[1])
    return float(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budgets", type=int, nargs="+", default=[10, 30, 100, 300],
                        help="paper L-BFGS iteration budgets to time end to end")
    args = parser.parse_args()

    content, style = synth.plucked_melody(SR, 10.0), synth.rain(SR, 10.0)
    judges = [paper_model(seed) for seed in (0, 1)]
    judge_stats = [analyse_style([(style, SR)], j) for j in judges]

    def judged(clip) -> dict:
        losses = [float(j.loss(log_magnitude(torch.from_numpy(to_analysis_rate(clip, SR, j)), j.stft)[0], s))
                  for j, s in zip(judges, judge_stats)]
        return dict(loss_own_filters=losses[0], loss_held_out=losses[1],
                    style_gain=style_gain(clip, style, content, SR)["style"],
                    content_kept=content_kept(clip, content, SR))

    model = get_model()
    t_style, stats = timed(lambda: analyse_style([(style, SR)], model))
    t_default, ours = timed(lambda: render(content, SR, model, stats, RenderSettings()))
    rows = [dict(config=f"default (kernel, 44.1 kHz, spectrogram, {model.default_iterations} it.)", seconds=t_default,
                 **judged(ours))]
    print(f"default render, 10 s mono 44.1 kHz: {t_default:.2f} s (real-time factor {t_default / 10:.3f}); "
          f"style analysis {t_style * 1000:.0f} ms", flush=True)
    melody48 = synth.plucked_melody(48_000, 10.0)[0]
    stereo48 = np.stack([melody48, 0.7 * np.roll(melody48, 960)])
    stats48 = analyse_style([(synth.rain(48_000, 10.0), 48_000)], model)
    t_stereo, _ = timed(lambda: render(stereo48, 48_000, model, stats48, RenderSettings()))
    print(f"default render, 10 s stereo 48 kHz: {t_stereo:.2f} s", flush=True)

    paper = paper_model()
    for budget in args.budgets:
        settings = RenderSettings(iterations=budget, domain="spectrogram", griffin_lim_iterations=PAPER_GRIFFIN_LIM)
        t0 = time.perf_counter()
        out = render(content, SR, paper, analyse_style([(style, SR)], paper), settings)
        seconds = time.perf_counter() - t0
        rows.append(dict(config=f"paper, {budget} L-BFGS it. + Griffin-Lim {PAPER_GRIFFIN_LIM}", seconds=seconds,
                         **judged(out)))
        print(f"paper config, {budget} iterations: {seconds:.1f} s", flush=True)

    print("\n| configuration | wall s | x default | Gram loss, paper's filters | Gram loss, held-out filters "
          "| style gain | content kept |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['config']} | {r['seconds']:.2f} | {r['seconds'] / t_default:.0f} | {r['loss_own_filters']:.4f} "
              f"| {r['loss_held_out']:.4f} | {r['style_gain']:.3f} | {r['content_kept']:.3f} |")
    equal = next((r for r in rows[1:] if r["loss_held_out"] <= rows[0]["loss_held_out"]), None)
    if equal:
        print(f"\nequal or better style match (held-out filters): {equal['config']} takes "
              f"{equal['seconds'] / t_default:.0f}x the default's time")
    else:
        print("\nno paper budget reached the default's held-out style match")
    full = [r for r in rows[1:] if r["config"].startswith("paper, 300 ")]
    if full:
        print(f"the paper's configuration (300 iterations) takes {full[0]['seconds'] / t_default:.0f}x the default's time")

    peak = peak_memory_60s_stereo()
    print(f"peak memory, 60 s stereo 44.1 kHz default render: {peak:.0f} MB")
    print(f"machine: {machine()}")
    save_json("speed.json", dict(rows=rows, style_analysis_s=t_style, stereo_48k_s=t_stereo, peak_mb_60s_stereo=peak,
                                 machine=machine()))


if __name__ == "__main__":
    main()
