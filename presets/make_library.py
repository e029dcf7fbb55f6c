"""Regenerate the shipped preset library from the engine's own synthesised textures.

    .venv/bin/python -m gramophone.presets.make_library

Every sound is made by ``engine/synth.py`` from a fixed seed, so the library is reproducible
and free to redistribute under the project's licence (GPL-3.0-or-later). Each preset is the
``kernel`` model's statistics of 12 s of the texture at 44.1 kHz.
"""
from __future__ import annotations

from pathlib import Path

HERE = Path(__file__).resolve().parent

from gramophone.engine import get_model, preset_format, synth

SECONDS, RATE = 12.0, 44_100
#: name -> (texture in engine.synth.TEXTURES, description)
LIBRARY = {
    "rain": ("rain", "rain on a roof: bright hiss with many small drops"),
    "fire": ("fire", "fire crackle: low roar with sharp pops"),
    "stream": ("stream", "running water: rushing noise and bubbles"),
    "wind": ("wind", "wind: noise through a sweeping resonance, in gusts"),
    "drone": ("drone", "bowed-string drone on A2 with vibrato and bow noise"),
    "percussion": ("percussion", "kick, snare and hats at 110 BPM"),
    "plucks": ("plucks", "a cloud of plucked strings on a pentatonic scale"),
    "vinyl": ("vinyl", "vinyl surface: hiss, rumble and clicks"),
}


def main() -> None:
    model = get_model("kernel")
    for name, (texture, description) in LIBRARY.items():
        clip = synth.TEXTURES[texture](RATE, SECONDS)
        source = {"file": f"engine.synth.{synth.TEXTURES[texture].__name__}(seed=0)",
                  "licence": "GPL-3.0-or-later (synthesised by Gramophone)"}
        preset = preset_format.from_clips(name, [(clip, RATE)], [source], model, description)
        preset.created = "reproducible build"
        path = preset_format.save(preset, HERE / f"{name}{preset_format.EXTENSION}")
        print(f"{path.name}: {path.stat().st_size / 1e6:.2f} MB")


if __name__ == "__main__":
    main()
