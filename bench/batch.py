"""Batch throughput on 10 s clips: one local worker against two, and Ray tasks on a local 2-CPU
cluster against the same two local workers.

Two figures per run: the whole batch's wall time (workers started and warmed inside it) and
the steady state (seconds per clip between the second and the last completion: what each
further clip costs once every worker is warm). "One worker" is measured twice: with both
torch threads (what ``--jobs 1`` gets on 2 cores) and with one (the same per-worker budget as
each of the two workers).

    .venv/bin/python -m bench.batch [--clips 8] [--no-ray]
"""
from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

from bench.common import machine, save_json
from gramophone.bridge import batch
from gramophone.bridge.batch import StyleChoice
from gramophone.bridge.workers import LocalWorkers
from gramophone.engine import RenderSettings, synth
from gramophone.engine.audio_io import write_audio
from gramophone.engine.preset_store import PresetStore

SR = 44_100
SECONDS = 10.0


#: completions left out of the steady-state figure (each worker's first render includes its warm-up)
WARM_UP = 2


def timed_batch(clips: Path, out: Path, backend) -> tuple[float, float, list[float]]:
    """Wall time of a whole batch (workers started and warmed inside it), the steady-state
    seconds per clip (between the WARM_UP-th and the last completion), and each render's seconds."""
    plan = batch.plan([str(clips)], out, [StyleChoice(preset="rain")], [1.0], RenderSettings(device="cpu"),
                      PresetStore())
    finished: list[float] = []

    def on_event(item, event: str, *args) -> None:
        if event == "done":
            finished.append(time.perf_counter())

    started = time.perf_counter()
    batch.run(plan, backend, progress_bar=False, on_event=on_event)
    wall = time.perf_counter() - started
    assert all(i.status == "done" for i in plan.items), [(i.status, i.message) for i in plan.items]
    steady = (finished[-1] - finished[WARM_UP - 1]) / (len(finished) - WARM_UP)
    return wall, steady, [i.seconds for i in plan.items]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clips", type=int, default=8)
    parser.add_argument("--no-ray", action="store_true")
    args = parser.parse_args()
    results: dict = {"clips": args.clips, "clip_seconds": SECONDS, "cores": os.cpu_count(), "machine": machine()}
    with tempfile.TemporaryDirectory() as tmp:
        clips = Path(tmp) / "clips"
        clips.mkdir()
        for n in range(args.clips):
            write_audio(clips / f"clip{n:02d}.wav", synth.plucked_melody(SR, SECONDS, tempo=100.0 + 5 * n), SR)
        runs = {"local, 1 worker x 2 threads": lambda emit: LocalWorkers(emit, jobs=1, threads=2),
                "local, 1 worker x 1 thread": lambda emit: LocalWorkers(emit, jobs=1, threads=1),
                "local, 2 workers x 1 thread": lambda emit: LocalWorkers(emit, jobs=2, threads=1)}
        if not args.no_ray:
            import ray

            ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, logging_level="ERROR")
            from gramophone.bridge.ray_backend import RayBackend

            runs["ray, 2 tasks x 1 CPU (local cluster)"] = lambda emit: RayBackend(emit, None)
        for n, (name, backend) in enumerate(runs.items()):
            wall, steady, each = timed_batch(clips, Path(tmp) / f"out{n}", backend)
            median = statistics.median_high(each)
            results[name] = {"wall_s": round(wall, 2), "clips_per_min": round(60 * args.clips / wall, 2),
                             "steady_s_per_clip": round(steady, 3), "render_s_median": round(median, 2)}
            print(f"{name:<40} {wall:7.1f} s  {60 * args.clips / wall:6.1f} clips/min  "
                  f"steady {steady:.2f} s/clip  median render {median:.2f} s")
    one, single, two = (results[f"local, {k}"] for k in ("1 worker x 2 threads", "1 worker x 1 thread",
                                                           "2 workers x 1 thread"))
    results["speedup_2_vs_1"] = round(one["wall_s"] / two["wall_s"], 2)
    results["speedup_2_vs_1_steady"] = round(one["steady_s_per_clip"] / two["steady_s_per_clip"], 2)
    results["speedup_2_vs_1_same_threads"] = round(single["wall_s"] / two["wall_s"], 2)
    print(f"2 workers vs 1 worker x 2 threads: {results['speedup_2_vs_1']:.2f}x "
          f"(steady state {results['speedup_2_vs_1_steady']:.2f}x); "
          f"vs 1 worker x 1 thread: {results['speedup_2_vs_1_same_threads']:.2f}x")
    if not args.no_ray:
        r = results["ray, 2 tasks x 1 CPU (local cluster)"]
        results["ray_overhead_pct"] = round(100 * (r["wall_s"] - two["wall_s"]) / two["wall_s"], 1)
        results["ray_overhead_steady_pct"] = round(
            100 * (r["steady_s_per_clip"] - two["steady_s_per_clip"]) / two["steady_s_per_clip"], 1)
        results["ray_overhead_per_task_s"] = round(2 * (r["steady_s_per_clip"] - two["steady_s_per_clip"]), 3)
        results["ray_start_up_s"] = round((r["wall_s"] - two["wall_s"]) - args.clips / 2 * results["ray_overhead_per_task_s"], 2)
        print(f"Ray vs 2 local workers: whole batch {results['ray_overhead_pct']:+.1f}%, steady state "
              f"{results['ray_overhead_steady_pct']:+.1f}% ({results['ray_overhead_per_task_s']:+.3f} s per task), "
              f"start-up {results['ray_start_up_s']:+.2f} s once")
    print(f"machine: {machine()}")
    save_json("batch.json", results)


if __name__ == "__main__":
    main()
