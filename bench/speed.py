"""Speed benchmark: the default render's time on a quiet machine and with one core busy, per
thread policy, in-process and as a whole process; and the default against the paper's configuration.

    .venv/bin/python -m bench.speed                           # thread policies (old and new), ~5 minutes quiet
    .venv/bin/python -m bench.speed --policies old new 1 2    # and candidates (see POLICIES)
    .venv/bin/python -m bench.speed --budgets 10 30 100 300   # also the paper's configuration
    .venv/bin/python -m bench.speed --policies new short-spin-fixed --late 0.3   # a DAW starts mid-render
    .venv/bin/python -m bench.speed --policies new --against ../before          # a change, side by side
    .venv/bin/python -m bench.speed --policies new float32 --no-memory         # bfloat16 gradient against float32

Thread policies: each configuration renders in a fresh process (``bench/inprocess.py``; OpenMP
reads its wait policy when torch loads) with its environment, quiet and then with a competing
process spinning on a core (``bench/busy.py``; as a DAW's audio engine does), whose rate during
the renders against its rate alone is the share of its core it kept. Clips: 10 s mono 44.1 kHz,
10 s stereo 48 kHz, 30 s mono 44.1 kHz (the plucked melody, in the style of 10 s of rain), best
of ``--repeats`` (fewer once a configuration's renders pass ``BUDGET`` seconds); whole process:
``python -m gramophone render`` of the 10 s mono clip from start to written file, so start-up
shows. The machine's load from other processes is printed (cores busy before each configuration),
as it moves every figure (at load average 5-7 the default run took 13-16 minutes); each
configuration runs quiet and then busy at once, and the competitor's rate alone is taken just
before and after.

The paper configuration (``--budgets``): the 4096-filter random net on log1p STFT at 22.05 kHz
(n_fft 2048, hop 512) with its full 4096 x 4096 Gram matrices, spectrogram domain, L-BFGS,
Griffin-Lim 500 iterations; the paper ran 300 L-BFGS iterations, and smaller budgets are timed
too, each end to end. Style match is judged three ways: the paper's own loss with its own filters
(seed 0, which the paper's optimiser fits directly), the same architecture with held-out filters
(seed 1: the texture statistic itself, with no reward for fitting particular random filters), and
the model-independent ``style_gain``. "Equal style match" is the smallest paper budget whose
held-out loss is at or below the default render's. Also: peak memory of a 60 s stereo render.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

from bench.busy import Competitor
from bench.common import machine, save_json, timed
from bench.inprocess import CLIPS
from bench.paper import paper_model
from gramophone.bridge.threads import LoadProbe, cores
from gramophone.engine import RenderSettings, analyse_style, get_model, render, synth
from gramophone.engine.audio_io import write_audio
from gramophone.engine.metrics import content_kept, style_gain
from gramophone.engine.render import to_analysis_rate
from gramophone.engine.spectral import log_magnitude

SR = 44_100
PAPER_GRIFFIN_LIM = 500
ROOT = Path(__file__).resolve().parents[1]
#: seconds of renders after which a configuration is not repeated (a slow one is timed fewer times)
BUDGET = 20.0
#: the thread settings a policy's process starts with (everything else as the user's environment)
POLICY_VARS = ("GRAMOPHONE_THREADS", "OMP_WAIT_POLICY", "GOMP_SPINCOUNT", "KMP_BLOCKTIME", "BENCH_THREADS_ONCE",
               "MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_", "GRAMOPHONE_PRECISION")
#: name -> (what it is, its environment). "old": torch's default before the policy (a thread per
#: core; libgomp's default spin of 300 000 before a waiting thread sleeps); "new": the default now
POLICIES = {
    "old": ("old default: a thread per core, OpenMP's spin-wait", {"GRAMOPHONE_THREADS": str(cores()),
                                                                   "GOMP_SPINCOUNT": "300000"}),
    "new": ("new default: auto threads (following the load), a short spin", {}),
    "passive": ("auto threads (following the load), passive wait", {"OMP_WAIT_POLICY": "PASSIVE"}),
    "1": ("1 thread, passive wait", {"GRAMOPHONE_THREADS": "1", "OMP_WAIT_POLICY": "PASSIVE"}),
    "2": ("2 threads, passive wait", {"GRAMOPHONE_THREADS": "2", "OMP_WAIT_POLICY": "PASSIVE"}),
    "auto-spin": ("auto threads, OpenMP's spin-wait", {"GOMP_SPINCOUNT": "300000"}),
    "short-spin": ("auto threads, a short spin (10 000) before sleeping", {"GOMP_SPINCOUNT": "10000"}),
    "shorter-spin": ("auto threads, a shorter spin (1 000) before sleeping", {"GOMP_SPINCOUNT": "1000"}),
    "2-short-spin": ("2 threads, a short spin (10 000) before sleeping", {"GRAMOPHONE_THREADS": "2",
                                                                         "GOMP_SPINCOUNT": "10000"}),
    "short-spin-fixed": ("auto threads chosen once, a short spin (10 000)", {"GOMP_SPINCOUNT": "10000",
                                                                            "BENCH_THREADS_ONCE": "1"}),
    "float32": ("new default, every product in float32 (no bfloat16 gradient)", {"GRAMOPHONE_PRECISION": "float32"}),
    "keep-freed": ("new default, glibc keeps freed memory (mmap threshold 32 MB, trim 256 MB)",
                   {"MALLOC_MMAP_THRESHOLD_": "33554432", "MALLOC_TRIM_THRESHOLD_": "268435456"}),
}


def policy_env(name: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in POLICY_VARS}
    return {**env, **POLICIES[name][1]}


def python_of(root: Path) -> str:
    """The interpreter that runs checkout ``root``'s code: this one, or the checkout's own
    ``.venv`` (``scripts/bootstrap.sh`` makes it; the package is installed from its folder)."""
    if root == ROOT:
        return sys.executable
    python = root / ".venv" / "bin" / "python"
    if not python.exists():
        raise SystemExit(f"{root} has no .venv: run scripts/bootstrap.sh there first")
    return str(python)


def in_process(policy: str, clip: str, repeats: int, counter: str | None, late: float | None = None,
               root: Path = ROOT) -> dict:
    """Best-of-``repeats`` render time of ``clip`` in a fresh process under ``policy`` (``late``: a
    competitor starts that many seconds into each render), with checkout ``root``'s code."""
    cmd = [python_of(root), "-m", "bench.inprocess", clip, "--repeats", str(repeats), "--budget", str(BUDGET)]
    cmd += (["--counter", counter] if counter else []) + (["--late", str(late)] if late is not None else [])
    out = subprocess.run(cmd, env=policy_env(policy), cwd=root,
                         capture_output=True, text=True, check=True)
    r = json.loads(out.stdout.strip().splitlines()[-1])
    return dict(seconds=min(r["seconds"]), threads=r["threads"], all_seconds=r["seconds"],
                counted=sum(r["counts"]), counted_over=sum(r["seconds"]))


def whole_process(policy: str, files: dict[str, Path], repeats: int, spin: Competitor | None,
                  root: Path = ROOT) -> dict:
    """Best-of-``repeats`` wall time of ``python -m gramophone render`` under ``policy`` (checkout ``root``)."""
    cmd = [python_of(root), "-m", "gramophone", "render", str(files["content"]), "--style", str(files["style"]),
           "-o", str(files["out"]), "--no-sidecar"]
    seconds, counted = [], 0
    for _ in range(repeats):
        c0, t0 = spin.count() if spin else 0, time.perf_counter()
        subprocess.run(cmd, env=policy_env(policy), cwd=root, capture_output=True, check=True)
        seconds.append(time.perf_counter() - t0)
        counted += spin.count() - c0 if spin else 0
        if sum(seconds) > BUDGET:
            break
    return dict(seconds=min(seconds), all_seconds=seconds, counted=counted, counted_over=sum(seconds))


def thread_policies(policies: list[str], clips: list[str], repeats: int, pin: int | None,
                    own_session: bool = True, against: Path | None = None) -> list[dict]:
    """Every policy on every clip (and the whole process), quiet then with one core busy; printed as a
    table. ``against``: another checkout of the project, whose code renders each configuration
    right after this one's, in the same run (a change's speed, side by side)."""
    roots = [ROOT] + ([against.resolve()] if against else [])
    codes = {root: _code(root) for root in roots}
    folder = Path(tempfile.mkdtemp(prefix="gramophone-speed-"))
    files = dict(content=write_audio(folder / "content.wav", synth.plucked_melody(SR, 10.0), SR),
                 style=write_audio(folder / "rain.wav", synth.rain(SR, 10.0), SR), out=folder / "out.wav")
    probe, results = LoadProbe(), {}
    jobs = [(clip, "in-process", policy, root) for clip in clips for policy in policies for root in roots] + \
           [("mono44", "whole process", policy, root) for policy in policies for root in roots]
    for clip, mode, policy, root in jobs:  # quiet, then busy at once, so that other users' load drifts less between them
        for state in ("quiet", "busy"):
            background = probe.other_busy()  # other users' load, before the configuration starts
            with Competitor(pin, own_session) if state == "busy" else _nothing() as spin:
                alone = spin.rate(1.0) if spin else 0.0
                r = (in_process(policy, clip, repeats, spin.path if spin else None, root=root) if mode == "in-process"
                     else whole_process(policy, files, repeats, spin, root))
                if spin:  # its rate alone before and after, as other users' load drifts
                    r["kept"] = r["counted"] / r["counted_over"] / ((alone + spin.rate(1.0)) / 2)
            results[clip, mode, policy, root, state] = dict(r, background=background)
            print(f"{state}: {clip} {mode} {policy} {codes[root]}: {r['seconds']:.2f} s (background {background:.2f} cores"
                  + (f", competitor kept {100 * r['kept']:.0f} %)" if spin else ")"), flush=True)
    shutil.rmtree(folder, ignore_errors=True)
    print("\n| clip | run | policy | code | quiet s | one core busy s | busy / quiet | busy / old quiet "
          "| threads quiet / busy | competitor kept |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    rows = []
    for clip, mode, policy, root in jobs:
        q, b = results[clip, mode, policy, root, "quiet"], results[clip, mode, policy, root, "busy"]
        old = results.get((clip, mode, "old", root, "quiet"), q)
        t = (f"{'/'.join(map(str, sorted(set(q['threads']))))} / {'/'.join(map(str, sorted(set(b['threads']))))}"
             if "threads" in q else "")
        rows.append(dict(clip=clip, mode=mode, policy=policy, code=codes[root], quiet=q, busy=b))
        print(f"| {_clip_label(clip)} | {mode} | {POLICIES[policy][0]} | {codes[root]} "
              f"| {q['seconds']:.2f} | {b['seconds']:.2f} | {b['seconds'] / q['seconds']:.2f} "
              f"| {b['seconds'] / old['seconds']:.2f} | {t} | {100 * b['kept']:.0f} % |")
    return rows


def late_start(policies: list[str], clips: list[str], repeats: int, late: float) -> list[dict]:
    """Each policy quiet, and with a competitor that starts ``late`` seconds into each render (a
    DAW that starts playing while a render runs: ``auto`` chose its threads on an idle machine)."""
    rows = []
    for clip in clips:
        for policy in policies:
            quiet, started = in_process(policy, clip, repeats, None), in_process(policy, clip, repeats, None, late)
            rows.append(dict(clip=clip, policy=policy, quiet=quiet, late=started))
            print(f"{clip} {policy}: quiet {quiet['seconds']:.2f} s, competitor from {late:g} s {started['seconds']:.2f} s",
                  flush=True)
    print(f"\n| clip | policy | quiet s | a competitor from {late:g} s into the render, s | ratio |")
    print("|---|---|---|---|---|")
    for r in rows:
        print(f"| {_clip_label(r['clip'])} | {POLICIES[r['policy']][0]} "
              f"| {r['quiet']['seconds']:.2f} | {r['late']['seconds']:.2f} | {r['late']['seconds'] / r['quiet']['seconds']:.2f} |")
    return rows


def _clip_label(clip: str) -> str:
    """A benchmark clip in the tables, e.g. "10 s stereo 48 kHz"."""
    seconds, sr, channels = CLIPS[clip]
    return f"{seconds:.0f} s {'mono' if channels == 1 else 'stereo'} {sr / 1000:g} kHz"


def _code(root: Path) -> str:
    """A checkout's name in the tables: its commit, and whether it is this one."""
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True, text=True).stdout.strip()
    return f"{commit or root.name}{'' if root == ROOT else ' (against)'}"


class _nothing:
    def __enter__(self) -> None:
        return None  # as spin: no competitor

    def __exit__(self, *exc) -> None:
        return None

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


def paper_comparison(budgets: list[int]) -> dict:
    """The default render (in this process, its threads as torch's default) against the paper's configuration."""
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
    paper = paper_model()
    for budget in budgets:
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
    return dict(rows=rows, style_analysis_s=t_style)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--policies", nargs="+", default=["old", "new"], choices=sorted(POLICIES),
                        help="thread policies to compare (default: old new)")
    parser.add_argument("--clips", nargs="+", default=list(CLIPS), choices=list(CLIPS))
    parser.add_argument("--repeats", type=int, default=3, help="renders per configuration; the best counts")
    parser.add_argument("--pin", type=int, default=None, metavar="CORE", help="pin the competitor to this core")
    parser.add_argument("--same-session", action="store_true",
                        help="run the competitor in the benchmark's session (see bench/busy.py)")
    parser.add_argument("--budgets", type=int, nargs="+", default=[],
                        help="also time the paper's configuration at these L-BFGS budgets (e.g. 10 30 100 300)")
    parser.add_argument("--no-memory", action="store_true", help="skip the 60 s peak-memory render")
    parser.add_argument("--against", type=Path, default=None, metavar="CHECKOUT",
                        help="also render every configuration with another checkout's code (its own .venv), "
                             "in the same run (e.g. a git worktree of the commit before a change)")
    parser.add_argument("--late", type=float, default=None, metavar="SECONDS",
                        help="instead of quiet and busy: quiet, and a competitor that starts SECONDS into each render")
    args = parser.parse_args()

    load = os.getloadavg()
    if args.late is not None:
        results = dict(late=late_start(args.policies, args.clips, args.repeats, args.late))
    else:
        results = dict(policies=thread_policies(args.policies, args.clips, args.repeats, args.pin,
                                                not args.same_session, args.against))
    if args.budgets:
        results["paper"] = paper_comparison(args.budgets)
    if not args.no_memory:
        results["peak_mb_60s_stereo"] = peak = peak_memory_60s_stereo()
        print(f"peak memory, 60 s stereo 44.1 kHz default render: {peak:.0f} MB")
    results.update(machine=machine(), load_before=load, load_after=os.getloadavg())
    print(f"machine: {machine()}; load average before {load[0]:.2f}, after {os.getloadavg()[0]:.2f}")
    save_json("speed.json", results)


if __name__ == "__main__":
    main()
