"""Measured peak memory of renders against ``engine.memory_budget``'s estimate.

Each render runs in a child process (``render_file`` from a shipped preset, as a worker runs it)
and reports its kernel high-water mark (``VmHWM``), as ``bench/memory.py`` does; the estimate's
constants were fitted to these figures. ``tests/test_memory_budget.py`` uses :func:`measure`.

    .venv/bin/python -m bench.budget                       # the fitting set
    .venv/bin/python -m bench.budget --config 3:1:44100:10   # seconds:channels:rate:iterations
    .venv/bin/python -m bench.budget --config 10:2:48000:3 --config 28:2:48000:3 --blend fire   # a style blend
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import soundfile as sf

from gramophone.engine import synth

ROOT = Path(__file__).resolve().parents[1]
#: seconds, channels, rate, iterations (0: only build the model and load the preset)
FIT_SET = [(0, 1, 44_100, 0), (3, 1, 44_100, 10), (10, 2, 48_000, 10), (30, 1, 44_100, 10),
           (30, 2, 48_000, 10), (3, 1, 44_100, 2), (60, 2, 48_000, 3)]
CHILD = """
import json, sys, torch
from gramophone.engine import RenderSettings
from gramophone.engine.pipeline import render_file
from gramophone.engine.preset_store import PresetStore
content, output, iterations, preset, blend_to = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5]
torch.set_num_threads(1)
p = PresetStore().load(preset)
model = p.build_model(None)
settings, extra = RenderSettings(iterations=iterations), {}
if blend_to:  # from the first style to the second over the clip
    from dataclasses import replace
    from gramophone.engine.audio_io import probe_audio
    from gramophone.engine.automation import Envelope
    rate, _, frames = probe_audio(content)
    settings, extra = replace(settings, blend=Envelope([0.0, frames / rate], [0.0, 1.0])), dict(blend_to=PresetStore().load(blend_to).stats)
if iterations:
    render_file(content, output, model, p.stats, settings, sidecar=False, **extra)
status = dict(line.split(":", 1) for line in open("/proc/self/status") if ":" in line)
print(json.dumps({"peak_mb": int(status["VmHWM"].split()[0]) / 1024}))
"""


def write_content(path: Path, seconds: float, channels: int, rate: int) -> Path:
    """``seconds`` of the plucked melody, a different tempo per channel (float32 WAV)."""
    clip = np.concatenate([synth.plucked_melody(rate, max(seconds, 0.5), tempo=90 + 10 * c) for c in range(channels)])
    sf.write(str(path), clip.T, rate, subtype="FLOAT")
    return path


def measure(content: Path, iterations: int, preset: str = "rain", blend_to: str = "") -> float:
    """Peak resident MB of a child process that renders ``content`` from ``preset`` (blended over
    the clip into ``blend_to``, when given)."""
    with tempfile.TemporaryDirectory() as tmp:
        done = subprocess.run([sys.executable, "-c", CHILD, str(content), f"{tmp}/out.wav", str(iterations), preset,
                               blend_to], capture_output=True, text=True, cwd=ROOT)
    if done.returncode != 0:
        raise RuntimeError(f"render of {content.name} failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])["peak_mb"]


def estimate(content: Path, iterations: int, preset: str = "rain", blend_to: str = "") -> float:
    """The estimate for :func:`measure`'s render (iterations 0: the process alone)."""
    from gramophone.engine import RenderSettings
    from gramophone.engine.automation import Envelope
    from gramophone.engine.memory_budget import PROCESS_MB, estimate_render
    from gramophone.engine.preset_store import PresetStore

    if not iterations:
        return PROCESS_MB
    blend = Envelope([0.0, 1.0], [0.0, 1.0]) if blend_to else 0.0
    return estimate_render(content, RenderSettings(iterations=iterations, blend=blend),
                           preset_path=PresetStore().find(preset).path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", action="append", default=[], help="seconds:channels:rate:iterations")
    parser.add_argument("--no-estimate", action="store_true", help="measure only (while fitting)")
    parser.add_argument("--blend", metavar="PRESET", default="",
                        help="blend from rain into this preset over each clip (two full renders)")
    args = parser.parse_args()
    configs = [tuple(int(v) for v in c.split(":")) for c in args.config] or FIT_SET
    with tempfile.TemporaryDirectory() as tmp:
        for seconds, channels, rate, iterations in configs:
            content = write_content(Path(tmp) / "content.wav", seconds, channels, rate)
            peak = measure(content, iterations, blend_to=args.blend)
            line = f"{seconds:3d} s {channels} ch {rate} Hz {iterations:2d} it.: measured {peak:6.0f} MB"
            if not args.no_estimate:
                est = estimate(content, iterations, blend_to=args.blend)
                line += f"  estimate {est:6.0f} MB ({est / peak - 1:+.0%})"
            print(line, flush=True)


if __name__ == "__main__":
    main()
