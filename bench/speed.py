"""Speed benchmark: the default render against the paper's configuration, in one run.

    .venv/bin/python bench/speed.py                 # full paper run (300 L-BFGS + 500 Griffin-Lim)
    .venv/bin/python bench/speed.py --paper-iterations 10   # measure 10, extrapolate to 300 (labelled)

Reports wall time and real-time factor of a default render of a 10 s mono 44.1 kHz clip,
the same clip through the paper configuration (4096-filter random net on log1p STFT at
22.05 kHz, n_fft 2048, hop 512, spectrogram domain, L-BFGS 300 iterations, Griffin-Lim 500),
the ratio, the style match of both, and the peak memory of a 60 s stereo render.
"""
from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import machine, save_json, timed  # noqa: E402
from engine import RenderSettings, analyse_style, get_model, render, synth  # noqa: E402
from engine.metrics import content_preservation, style_distance  # noqa: E402
from engine.render import to_analysis_rate  # noqa: E402
from engine.spectral import log_magnitude  # noqa: E402
import torch  # noqa: E402

SR = 44_100
PAPER_ITERATIONS, PAPER_GRIFFIN_LIM = 300, 500


def paper_render(content, style, iterations: int, progress=None):
    model = get_model("random", filters=4096, sample_rate=22_050, n_fft=2048, hop=512)
    stats = analyse_style([(style, SR)], model)
    settings = RenderSettings(iterations=iterations, domain="spectrogram", griffin_lim_iterations=PAPER_GRIFFIN_LIM)
    return render(content, SR, model, stats, settings, progress)


def peak_memory_60s_stereo() -> float:
    """Peak RSS (MB) of a child process that renders 60 s of stereo 44.1 kHz with defaults."""
    code = ("import numpy as np, resource; from engine import *; from engine import synth\n"
            "c = np.concatenate([synth.plucked_melody(44100, 60.0)] * 2); s = synth.rain(44100, 20.0)\n"
            "m = get_model(); out = render(c, 44100, m, analyse_style([(s, 44100)], m))\n"
            "assert out.shape == c.shape\n"
            "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=Path(__file__).resolve().parents[1])
    return float(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--paper-iterations", type=int, default=PAPER_ITERATIONS,
                        help="L-BFGS iterations actually run for the paper config; fewer are extrapolated")
    args = parser.parse_args()

    content, style = synth.plucked_melody(SR, 10.0), synth.rain(SR, 10.0)
    model = get_model()
    t_style, stats = timed(lambda: analyse_style([(style, SR)], model))
    t_default, ours = timed(lambda: render(content, SR, model, stats, RenderSettings()))
    print(f"default render, 10 s mono 44.1 kHz: {t_default:.2f} s (RTF {t_default / 10:.3f}); "
          f"style analysis {t_style * 1000:.0f} ms", flush=True)

    stamps = []
    t0 = time.perf_counter()
    paper = paper_render(content, style, args.paper_iterations, lambda f, loss: stamps.append(time.perf_counter()))
    t_paper_run = time.perf_counter() - t0
    # stamps: [0] start, [1..n] after each iteration, [-1] after Griffin-Lim and write-back
    t_setup, t_iters, t_tail = stamps[0] - t0, stamps[-2] - stamps[0], stamps[-1] - stamps[-2]
    per_iteration = t_iters / args.paper_iterations
    t_paper = t_setup + per_iteration * PAPER_ITERATIONS + t_tail
    label = "measured" if args.paper_iterations == PAPER_ITERATIONS else \
        f"extrapolated from {args.paper_iterations} measured iterations"
    print(f"paper config: {t_paper:.1f} s ({label}; {per_iteration:.2f} s per L-BFGS iteration, "
          f"Griffin-Lim {PAPER_GRIFFIN_LIM} it. + tail {t_tail:.1f} s)", flush=True)

    judge = get_model("random", filters=4096)  # the paper's own texture model as the style-match judge
    judge_stats = analyse_style([(style, SR)], judge)
    loss = lambda clip: float(judge.loss(log_magnitude(torch.from_numpy(to_analysis_rate(clip, SR, judge)),  # noqa
                                                       judge.stft)[0], judge_stats))
    gram_content, gram_ours, gram_paper = loss(content), loss(ours), loss(paper)
    print(f"paper-model (4096-filter Gram) style loss: content {gram_content:.3f}, default {gram_ours:.4f}, "
          f"paper {gram_paper:.4f}")
    sd_ours, sd_paper = style_distance(ours, style, content, SR), style_distance(paper, style, content, SR)
    cp_ours, cp_paper = content_preservation(ours, content, SR), content_preservation(paper, content, SR)
    print(f"speed-up: {t_paper / t_default:.0f}x", flush=True)
    print(f"style distance (lower = closer to style): default {sd_ours:.3f}, paper {sd_paper:.3f}")
    print(f"content preservation (higher = more kept): default {cp_ours:.3f}, paper {cp_paper:.3f}", flush=True)

    peak = peak_memory_60s_stereo()
    print(f"peak memory, 60 s stereo 44.1 kHz default render: {peak:.0f} MB")
    print(f"machine: {machine()}")
    save_json("speed.json", dict(default_s=t_default, style_analysis_s=t_style, paper_s=t_paper, paper_label=label,
                                 paper_run_s=t_paper_run, ratio=t_paper / t_default, gram_loss_content=gram_content,
                                 gram_loss_default=gram_ours, gram_loss_paper=gram_paper, style_distance_default=sd_ours,
                                 style_distance_paper=sd_paper, content_default=cp_ours, content_paper=cp_paper,
                                 peak_mb_60s_stereo=peak, machine=machine()))


if __name__ == "__main__":
    main()
