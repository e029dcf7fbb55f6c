"""Hashes of a fixed set of renders, to check that a refactoring leaves every output bit for bit
as it was (a test cannot hold the old code to compare with; this script is run before and after).

    python -m bench.identical > before.json          # on the old code
    python -m bench.identical --check before.json    # on the new: exit 1 and name the renders that differ

The renders cover both domains (the kernel model in the spectrogram domain, with and without
random phase; the auditory, random and kernel models in the waveform domain, Adam and L-BFGS, a
nonzero seed), mono and stereo, a rate other than the model's (the waveform domain's resampling
round trip), a clip cut into three chunks, an automated strength, and streamed file-to-file
renders (``engine.streaming.render_streamed``) with loudness matched, scaled and brought to a
LUFS target, written as WAV and FLAC, and a clip written whole in every output format. One torch thread, so the figures do not depend on the load.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import sys
import tempfile
from pathlib import Path

import numpy as np
import soundfile as sf
import torch

from gramophone.engine import RenderSettings, analyse_style, get_model, render, synth
from gramophone.engine.audio_io import WRITE_EXTENSIONS, read_audio, write_audio
from gramophone.engine.automation import Envelope
from gramophone.engine.streaming import render_streamed

SR = 22_050


def digest(data: np.ndarray | bytes) -> str:
    raw = data if isinstance(data, bytes) else np.ascontiguousarray(data, dtype=np.float32).tobytes()
    return hashlib.sha256(raw).hexdigest()[:16]


def stereo(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.concatenate([a, 0.7 * b], axis=0).astype(np.float32)


def hashes() -> dict[str, str]:
    """``{case: hash of its output}`` for every case."""
    torch.set_num_threads(1)
    out: dict[str, str] = {}
    melody, long_melody = synth.plucked_melody(SR, 3.0), synth.plucked_melody(SR, 5.0)
    melody_44 = synth.plucked_melody(44_100, 2.0)
    two = stereo(melody, synth.bowed_drone(SR, 3.0))
    two_44 = stereo(melody_44, synth.bowed_drone(44_100, 2.0))
    rain = synth.rain(SR, 3.0)
    models = {name: get_model(name) for name in ("kernel", "auditory", "random")}
    stats = {name: analyse_style([(rain, SR)], m) for name, m in models.items()}

    def case(name: str, clip: np.ndarray, rate: int, model: str, **settings) -> None:
        y = render(clip, rate, models[model], stats[model], RenderSettings(**settings))
        out[name] = digest(y)

    case("kernel-spectrogram-mono", melody, SR, "kernel", iterations=6)
    case("kernel-spectrogram-stereo-44k-random-phase", two_44, 44_100, "kernel", iterations=4,
         random_phase=True, strength=0.7, seed=2)
    case("kernel-spectrogram-three-chunks", long_melody, SR, "kernel", iterations=4, chunk_seconds=2.0,
         crossfade_seconds=0.5)
    case("kernel-spectrogram-adam-peaks-scale", melody, SR, "kernel", iterations=5, optimiser="adam", peaks="scale")
    case("kernel-spectrogram-automated-strength", melody, SR, "kernel", iterations=4,
         strength=Envelope([0.5, 2.5], [0.0, 1.0]))
    case("kernel-waveform-stereo", two, SR, "kernel", iterations=4, domain="waveform")
    case("kernel-waveform-bare", melody, SR, "kernel", iterations=4, domain="waveform", contour=0.0,
         partials=0.0, envelope=False)
    case("auditory-waveform-stereo-44k-seeded", two_44, 44_100, "auditory", iterations=12, seed=3)
    case("auditory-waveform-two-chunks", long_melody, SR, "auditory", iterations=4, chunk_seconds=3.0)
    case("random-waveform-adam", melody, SR, "random", iterations=5, domain="waveform", optimiser="adam")
    case("kernel-strength-zero", melody, SR, "kernel", strength=0.0)
    from gramophone.engine.style_blend import render_blend
    fire = {name: analyse_style([(synth.wind(SR, 3.0), SR)], m) for name, m in models.items()}
    out["kernel-blend-automated"] = digest(render_blend(
        melody, SR, models["kernel"], stats["kernel"], fire["kernel"],
        RenderSettings(iterations=4, blend=Envelope([0.5, 2.5], [0.0, 1.0]), strength=0.8)))

    with tempfile.TemporaryDirectory() as folder:
        content = Path(folder) / "content.wav"
        sf.write(content, stereo(synth.plucked_melody(44_100, 4.0), synth.wind(44_100, 4.0)).T, 44_100,
                 subtype="FLOAT")
        streamed = [("streamed-lufs-limit.wav", dict(loudness=-16.0)),
                    ("streamed-match-scale.flac", dict(peaks="scale")),
                    ("streamed-lufs-scale-automated.wav", dict(loudness=-20.0, peaks="scale",
                                                               strength=Envelope([0.0, 4.0], [1.0, 0.2]))),
                    ("streamed-unchanged-lufs.wav", dict(strength=0.0, loudness=-18.0))]
        target = Path(folder) / "streamed-blend.wav"
        render_streamed(content, target, models["kernel"], stats["kernel"],
                        RenderSettings(iterations=3, chunk_seconds=1.5, crossfade_seconds=0.2,
                                       blend=Envelope([0.0, 4.0], [1.0, 0.0])),
                        blend_to=analyse_style([(synth.wind(SR, 3.0), SR)], models["kernel"]))
        out["streamed-blend.wav"] = digest(sf.read(target, dtype="float32", always_2d=True)[0].T)
        for name, extra in streamed:
            target = Path(folder) / name
            settings = RenderSettings(**{"iterations": 3, "chunk_seconds": 1.5, "crossfade_seconds": 0.2, **extra})
            render_streamed(content, target, models["kernel"], stats["kernel"], settings)
            out[name] = digest(sf.read(target, dtype="float32", always_2d=True)[0].T)
        clip = stereo(synth.plucked_melody(44_100, 1.0), synth.rain(44_100, 1.0))
        for ext in WRITE_EXTENSIONS:  # whole-clip writes: the decoded samples, and the bytes where they are fixed
            target = write_audio(Path(folder) / f"written{ext}", clip, 44_100)
            out[f"written{ext}"] = digest(read_audio(target)[0])
            if ext in (".flac", ".aif", ".aiff"):  # (a float WAV's PEAK chunk holds the time, an ogg stream a random serial)
                out[f"written{ext} bytes"] = digest(target.read_bytes())
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", type=Path, help="a JSON file this script wrote before: compare with it")
    args = parser.parse_args()
    now = hashes()
    if args.check is None:
        print(json.dumps(now, indent=2))
        return 0
    before = json.loads(args.check.read_text())
    differ = sorted(k for k in before.keys() | now.keys() if before.get(k) != now.get(k))
    for k in differ:
        print(f"DIFFERS {k}: {before.get(k)} -> {now.get(k)}")
    print(f"{len(now) - len(differ)} of {len(now)} renders identical")
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
