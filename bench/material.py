"""Test material for the quality benchmark: the engine's synthesised sounds, plus speech from
espeak-ng (installed with apt-get when missing and allowed; skipped with a note otherwise)."""
from __future__ import annotations

import os
import shutil
import subprocess
import tempfile

import numpy as np

from gramophone.engine import synth
from gramophone.engine.audio_io import read_audio
from gramophone.engine.resampling import resample

SENTENCE = ("The quick brown fox jumps over the lazy dog, while the rain keeps falling "
            "on the old tin roof of the music room.")


def speech(sample_rate: int, seconds: float) -> np.ndarray | None:
    """English speech from espeak-ng, looped to length; None if espeak-ng cannot be had."""
    if shutil.which("espeak-ng") is None and shutil.which("apt-get") and os.geteuid() == 0:
        subprocess.run("apt-get install -y -qq espeak-ng >/dev/null 2>&1 || "
                       "(apt-get update -qq && apt-get install -y -qq espeak-ng) >/dev/null 2>&1",
                       shell=True, check=False)
    if shutil.which("espeak-ng") is None:
        return None
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "speech.wav")
        subprocess.run(["espeak-ng", "-s", "150", "-w", path, SENTENCE], check=True)
        clip, sr = read_audio(path)
    clip = resample(clip, sr, sample_rate)
    reps = int(np.ceil(seconds * sample_rate / clip.shape[1]))
    return (np.tile(clip, reps)[:, : int(seconds * sample_rate)] * 0.8).astype(np.float32)


def pairs(sample_rate: int, seconds: float) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Named (content, style) pairs of real-sounding material."""
    melody = synth.plucked_melody(sample_rate, seconds)
    out = {"melody->rain": (melody, synth.rain(sample_rate, seconds)),
           "melody->drone": (melody, synth.bowed_drone(sample_rate, seconds))}
    voice = speech(sample_rate, seconds)
    if voice is not None:
        out["speech->rain"] = (voice, synth.rain(sample_rate, seconds, seed=1))
    else:
        print("note: espeak-ng is not available, so the speech pair is left out")
    return out
