"""Preset benchmark: creation from 30 s of style audio, load time, file size per model, and
what the random model's low-rank storage costs in style-loss accuracy.

    .venv/bin/python -m bench.preset_speed
"""
from __future__ import annotations

import tempfile
from pathlib import Path


import numpy as np
import torch

from bench.common import machine, save_json, timed
from gramophone.engine import get_model, preset_format, synth
from gramophone.engine.audio_io import write_audio
from gramophone.engine.render import to_analysis_rate
from gramophone.engine.spectral import log_magnitude

SR = 44_100


def main() -> None:
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        style = write_audio(Path(tmp) / "style.wav", np.concatenate([synth.rain(SR, 30.0)] * 2), SR)  # 30 s stereo
        for name in ("kernel", "random"):
            model = get_model(name)
            t_create, preset = timed(lambda: preset_format.save(preset_format.create(name, [style], model),
                                                         Path(tmp) / f"{name}.gpreset"), repeats=2)
            path = Path(tmp) / f"{name}.gpreset"
            preset_format.load(path)  # warm the file cache, as a server would after its first load
            t_load, _ = timed(lambda: preset_format.load(path), repeats=5)
            size = path.stat().st_size / 1e6
            results[name] = dict(create_s=t_create, load_ms=t_load * 1000, size_mb=size)
            print(f"{name:7s} create from 30 s stereo: {t_create:.2f} s   load: {t_load * 1000:.1f} ms   "
                  f"file: {size:.2f} MB", flush=True)

    # What the low-rank factor costs: relative style loss against exact vs truncated statistics.
    content, style_clip = synth.plucked_melody(22_050, 10.0), synth.rain(22_050, 30.0)
    exact = get_model("random", rank=10**6)
    frames = log_magnitude(torch.from_numpy(to_analysis_rate(style_clip, 22_050, exact)), exact.stft)
    x = log_magnitude(torch.from_numpy(to_analysis_rate(content, 22_050, exact)), exact.stft)[0]
    full = exact.statistics(list(frames))
    for rank in (64, 256, 768):
        low = get_model("random", rank=rank)
        a, b = float(exact.loss(x, full)), float(low.loss(x, low.statistics(list(frames))))
        mb = 4096 * rank * 4 / 1e6
        results[f"random_rank_{rank}"] = dict(loss_exact=a, loss_truncated=b, relative_error=abs(b - a) / a, mb=mb)
        print(f"random rank {rank:4d} ({mb:5.1f} MB): style loss {b:.6f} vs exact {a:.6f} "
              f"(relative error {abs(b - a) / a:.1e})")
    print(f"machine: {machine()}")
    save_json("presets.json", dict(results=results, machine=machine()))


if __name__ == "__main__":
    main()
