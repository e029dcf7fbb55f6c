"""The measured fields of the recordings manifest, recomputed from the collected copies.

``hf_db`` is the level in 11-20 kHz relative to 1-4 kHz (issue 11's full-band check),
from one Hann-windowed FFT of the mono mix of the clip's excerpt; ``hf_16_20_db`` the
same for 16-20 kHz (many Ogg files stop at 16 kHz); both are None below a 40 kHz rate,
where 20 kHz does not exist.  ``start_s`` is where the benchmark's 5 s
excerpt starts: the window (0.25 s steps) with the most 50 ms frames within 30 dB of
the clip's loudest frame, ties going to the louder window.

    python -m bench.recordings.measure [--dest DIR]

prints each clip's recomputed values beside the manifest's and exits 1 on a mismatch.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import soundfile as sf

from .collect import DEFAULT_DEST, load_manifest

EXCERPT_S = 5.0
FRAME_S = 0.05
STEP_S = 0.25


def band_level_db(mono: np.ndarray, sr: int, band: tuple[float, float], reference: tuple[float, float]) -> float:
    """Energy in ``band`` relative to ``reference`` (Hz ranges), in dB."""
    spectrum = np.abs(np.fft.rfft(mono * np.hanning(len(mono)))) ** 2
    freqs = np.fft.rfftfreq(len(mono), 1 / sr)
    inside = spectrum[(freqs >= band[0]) & (freqs <= band[1])].sum()
    ref = spectrum[(freqs >= reference[0]) & (freqs <= reference[1])].sum()
    return float(10 * np.log10((inside + 1e-30) / (ref + 1e-30)))


def hf_db(mono: np.ndarray, sr: int) -> float | None:
    """Level in 11-20 kHz relative to 1-4 kHz, rounded to 0.1 dB; None below a 40 kHz rate."""
    if sr < 40_000:
        return None
    return round(band_level_db(mono, sr, (11_000, 20_000), (1_000, 4_000)), 1)


def top_band_db(mono: np.ndarray, sr: int) -> float | None:
    """Level in 16-20 kHz relative to 1-4 kHz: shows whether a clip (often an Ogg cut at 16 kHz) reaches 20 kHz."""
    if sr < 40_000:
        return None
    return round(band_level_db(mono, sr, (16_000, 20_000), (1_000, 4_000)), 1)


def best_start(mono: np.ndarray, sr: int, excerpt_s: float = EXCERPT_S) -> float:
    """Start (s) of the ``excerpt_s`` window with the most active frames (0 for shorter clips)."""
    duration = len(mono) / sr
    if duration <= excerpt_s:
        return 0.0
    hop = int(FRAME_S * sr)
    frames = mono[: len(mono) // hop * hop].reshape(-1, hop)
    level = 10 * np.log10((frames**2).mean(axis=1) + 1e-12)
    active = level > level.max() - 30
    width = int(round(excerpt_s / FRAME_S))
    best_score, best = None, 0.0
    for start in np.arange(0, duration - excerpt_s + 1e-9, STEP_S):
        first = int(round(start / FRAME_S))
        if first + width > len(level):
            break
        score = (round(float(active[first : first + width].mean()), 2), float(level[first : first + width].mean()))
        if best_score is None or score > best_score:
            best_score, best = score, float(start)
    return round(best, 2)


def measure_file(path: Path, excerpt_s: float = EXCERPT_S) -> dict:
    """The manifest's measured fields for one audio file."""
    audio, sr = sf.read(str(path), always_2d=True)
    mono = audio.mean(axis=1)
    start = best_start(mono, sr, excerpt_s)
    excerpt = mono[int(start * sr) : int((start + excerpt_s) * sr)]
    return {
        "sample_rate": sr,
        "channels": audio.shape[1],
        "duration_s": round(len(mono) / sr, 2),
        "start_s": start,
        "hf_db": hf_db(excerpt, sr),
        "hf_16_20_db": top_band_db(excerpt, sr),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dest", type=Path, default=DEFAULT_DEST, help="folder that collect.py filled")
    args = parser.parse_args(argv)
    manifest = load_manifest()
    mismatches = 0
    for clip in manifest["clips"]:
        path = args.dest / (clip["id"] + Path(clip["path"]).suffix.lower())
        if not path.is_file():
            print(f"missing {path} (run python -m bench.recordings.collect --install)")
            mismatches += 1
            continue
        measured = measure_file(path, manifest["excerpt_s"])
        differing = {key: (clip[key], value) for key, value in measured.items() if clip[key] != value}
        mismatches += bool(differing)
        print(f"{'DIFF' if differing else 'ok  '} {clip['id']:24s} start {measured['start_s']:7.2f} s  hf {measured['hf_db']}"
              + (f"  manifest/measured: {differing}" if differing else ""))
    return 1 if mismatches else 0


if __name__ == "__main__":
    sys.exit(main())
