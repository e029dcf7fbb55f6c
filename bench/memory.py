"""Peak memory and time of long renders: stereo 48 kHz clips of 60 s, 180 s and 600 s rendered
file to file with the default settings (``engine.pipeline.render_file``, which streams clips
longer than one chunk), and, for comparison, the same clips rendered in memory in one piece
(``read_audio`` + ``render`` + ``write_audio``, what ``render_file`` did before).

Each render runs in its own child process; its peak resident memory is the kernel's high-water
mark (``VmHWM`` in /proc/self/status), read by the child when it is done, so it includes
Python, torch and the model. The time is the render call's wall time (style analysis and
start-up excluded), and the child's CPU time (start-up included), which a shared machine's load
disturbs far less. The content is the built-in plucked melody (a different tempo per channel),
written once to a temporary folder.

    .venv/bin/python -m bench.memory                          # 60, 180 and 600 s, streamed
    .venv/bin/python -m bench.memory --seconds 60 180 --in-memory 60 180 --threads 1 --iterations 2
    .venv/bin/python -m bench.memory --seconds 10 600 --threads 1   # cost per second: 10 min against 10 s

The time per second of audio of each clip is also given against the shortest clip's (wall, and the
render's own CPU time, which excludes start-up and the style analysis).
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import soundfile as sf

from gramophone.engine import synth

from .common import save_json

SR = 48_000
CHILD = """
import json, sys, time, torch
from gramophone.engine import analyse_style, get_model, synth
from gramophone.engine.audio_io import read_audio, write_audio
from gramophone.engine.pipeline import render_file
from gramophone.engine import RenderSettings, render
content, output, mode, threads, iterations = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
if threads:
    torch.set_num_threads(threads)
model = get_model()
style = analyse_style([(synth.rain({sr}, 20.0), {sr})], model)
settings = RenderSettings(iterations=iterations or None)
started, cpu = time.perf_counter(), time.process_time()
if mode == "streamed":
    render_file(content, output, model, style, settings)
else:
    clip, rate = read_audio(content)
    write_audio(output, render(clip, rate, model, style, settings), rate)
seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
status = dict(line.split(":", 1) for line in open("/proc/self/status") if ":" in line)
print(json.dumps({{"seconds": seconds, "render_cpu_seconds": cpu, "peak_mb": int(status["VmHWM"].split()[0]) / 1024,
                  "threads": torch.get_num_threads()}}))
""".format(sr=SR)


def write_content(path: Path, seconds: int) -> None:
    """``seconds`` of stereo melody, written a minute at a time (the tune loops every minute)."""
    minute = np.concatenate([synth.plucked_melody(SR, 60.0), synth.plucked_melody(SR, 60.0, tempo=100)]).T
    with sf.SoundFile(str(path), "w", SR, 2, "FLOAT") as f:
        for start in range(0, seconds, 60):
            f.write(minute[:min(60, seconds - start) * SR])


def measure(content: Path, output: Path, mode: str, threads: int, iterations: int) -> dict:
    load, cpu = os.getloadavg()[0], resource.getrusage(resource.RUSAGE_CHILDREN)
    done = subprocess.run([sys.executable, "-c", CHILD, str(content), str(output), mode, str(threads), str(iterations)],
                          capture_output=True, text=True, cwd=Path(__file__).resolve().parents[1])
    if done.returncode != 0:
        raise SystemExit(f"{mode} render of {content.name} failed:\n{done.stderr}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    result["cpu_seconds"] = after.ru_utime + after.ru_stime - cpu.ru_utime - cpu.ru_stime  # start-up included
    result["load"] = [round(load, 1), round(os.getloadavg()[0], 1)]
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, nargs="+", default=[60, 180, 600], help="clip lengths, streamed")
    parser.add_argument("--in-memory", type=int, nargs="*", default=[], help="clip lengths also rendered in memory")
    parser.add_argument("--threads", type=int, default=0, help="torch threads in each child (0: torch's default)")
    parser.add_argument("--iterations", type=int, default=0, help="optimiser iterations per chunk (0: the model's default)")
    args = parser.parse_args()

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for seconds in sorted(set(args.seconds) | set(args.in_memory)):
            content = Path(tmp) / f"melody{seconds}.wav"
            write_content(content, seconds)
            for mode in ("streamed", "in memory"):
                if seconds not in (args.seconds if mode == "streamed" else args.in_memory):
                    continue
                r = measure(content, Path(tmp) / "out.wav", mode.replace(" ", "-"), args.threads, args.iterations)
                r.update(clip_seconds=seconds, mode=mode, per_second=r["seconds"] / seconds,
                         iterations=args.iterations or "default")
                rows.append(r)
                print(f"{seconds:4d} s {mode:9s}  peak {r['peak_mb']:6.0f} MB  {r['seconds']:7.1f} s "
                      f"({r['per_second']:.2f} s per s of audio, {r['cpu_seconds']:.0f} CPU s)  {r['iterations']} it., {r['threads']} threads, "
                      f"load {r['load'][0]} -> {r['load'][1]}", flush=True)
    shortest = min(rows, key=lambda r: r["clip_seconds"])
    for r in rows:  # per second of audio against the shortest clip's, in this run
        r["per_second_ratio"] = r["per_second"] / shortest["per_second"]
        r["cpu_per_second_ratio"] = (r["render_cpu_seconds"] / r["clip_seconds"]) / (shortest["render_cpu_seconds"] / shortest["clip_seconds"])
        print(f"{r['clip_seconds']:4d} s {r['mode']:9s}  per second of audio against {shortest['clip_seconds']} s: "
              f"wall {r['per_second_ratio']:.2f}x, render CPU {r['cpu_per_second_ratio']:.2f}x")
    print(f"\nsaved {save_json(f'memory-it{args.iterations}.json', {'rows': rows})}")


if __name__ == "__main__":
    main()
