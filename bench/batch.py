"""Batch throughput: one local worker vs two (torch threads split), and Ray tasks on a local
2-CPU cluster against the same two local workers (Ray's overhead per task), on 10 s clips.

    .venv/bin/python -m bench.batch [--clips 8] [--no-ray]
"""
from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

from bench.common import machine, save_json
from gramophone.bridge import batch
from gramophone.bridge.batch import StyleChoice
from gramophone.bridge.workers import LocalWorkers
from gramophone.engine import RenderSettings, synth
from gramophone.engine.audio import write_audio
from gramophone.engine.preset_store import PresetStore

SR = 44_100
SECONDS = 10.0


def timed_batch(clips: Path, out: Path, backend) -> tuple[float, list[float]]:
    """Wall time of a whole batch (workers started and warmed inside it), and each render's seconds."""
    plan = batch.plan([str(clips)], out, [StyleChoice(preset="rain")], [1.0], RenderSettings(device="cpu"),
                      PresetStore())
    started = time.perf_counter()
    batch.run(plan, backend, progress_bar=False)
    wall = time.perf_counter() - started
    assert all(i.status == "done" for i in plan.items), [(i.status, i.message) for i in plan.items]
    return wall, [i.seconds for i in plan.items]


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
                "local, 2 workers x 1 thread": lambda emit: LocalWorkers(emit, jobs=2, threads=1)}
        if not args.no_ray:
            import ray

            ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, logging_level="ERROR")
            from gramophone.bridge.ray_backend import RayBackend

            runs["ray, 2 tasks x 1 CPU (local cluster)"] = lambda emit: RayBackend(emit, None)
        for n, (name, backend) in enumerate(runs.items()):
            wall, each = timed_batch(clips, Path(tmp) / f"out{n}", backend)
            results[name] = {"wall_s": round(wall, 2), "clips_per_min": round(60 * args.clips / wall, 2),
                             "render_s_median": round(sorted(each)[len(each) // 2], 2)}
            print(f"{name:<40} {wall:7.1f} s  {60 * args.clips / wall:6.1f} clips/min  "
                  f"median render {sorted(each)[len(each) // 2]:.2f} s")
    one, two = results["local, 1 worker x 2 threads"], results["local, 2 workers x 1 thread"]
    results["speedup_2_vs_1"] = round(one["wall_s"] / two["wall_s"], 2)
    print(f"2 workers vs 1: {results['speedup_2_vs_1']:.2f}x")
    if not args.no_ray:
        r = results["ray, 2 tasks x 1 CPU (local cluster)"]
        results["ray_overhead_per_task_pct"] = round(100 * (r["wall_s"] - two["wall_s"]) / two["wall_s"], 1)
        results["ray_overhead_per_task_s"] = round((r["wall_s"] - two["wall_s"]) / args.clips * 2, 3)
        print(f"Ray vs 2 local workers: {results['ray_overhead_per_task_pct']:+.1f}% wall time "
              f"({results['ray_overhead_per_task_s']:+.3f} s per task)")
    print(f"machine: {machine()}")
    save_json("batch.json", results)


if __name__ == "__main__":
    main()
