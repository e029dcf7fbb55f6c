"""Content/style pairs for the quality benchmarks: real recordings at their own rates (from
``bench/recordings/manifest.json``, collected into ``bench/out/recordings``), then the
synthesised pairs of :mod:`bench.material`."""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bench.material import pairs as synthesised_pairs
from gramophone.engine.audio_io import read_audio

HERE = Path(__file__).parent
MANIFEST = HERE / "recordings" / "manifest.json"
RECORDINGS = HERE / "out" / "recordings"
SYNTH_RATE = 44_100


@dataclass(frozen=True)
class Pair:
    name: str
    content: np.ndarray  # mono [1, samples]
    content_rate: int
    style: np.ndarray
    style_rate: int
    description: str = ""


def excerpt(path: Path, start: float, seconds: float) -> tuple[np.ndarray, int]:
    """``seconds`` of the mono mix of ``path`` from ``start`` (as much as there is)."""
    clip, rate = read_audio(path)
    a = int(start * rate)
    mono = clip.mean(0, keepdims=True)[:, a:a + int(seconds * rate)]
    return np.ascontiguousarray(mono, dtype=np.float32), rate


def real_pairs(seconds: float) -> list[Pair]:
    """The manifest's pairs whose files have been collected (others are left out, with a note)."""
    if not MANIFEST.exists():
        return []
    manifest = json.loads(MANIFEST.read_text())
    clips = {c["id"]: c for c in manifest["clips"]}
    out, missing = [], []
    for pair in manifest["pairs"]:
        content_id, style_id = pair["content"], pair["style"]
        c, s = clips[content_id], clips[style_id]
        paths = [collected(content_id), collected(style_id)]
        if not all(paths):
            missing.append(f"{content_id}->{style_id}")
            continue
        content, rate = excerpt(paths[0], c.get("start_s", 0.0), seconds)
        style, style_rate = excerpt(paths[1], s.get("start_s", 0.0), 2 * seconds)
        out.append(Pair(f"{content_id}->{style_id}", content, rate, style, style_rate,
                        f"{c.get('description', '')} <- {s.get('description', '')}"))
    if missing:
        print(f"note: {len(missing)} pairs left out (run python -m bench.recordings.collect): {', '.join(missing)}")
    return out


def collected(clip_id: str) -> Path | None:
    """The collected copy of a manifest clip (any audio extension), or None if not collected yet."""
    found = [p for p in RECORDINGS.glob(f"{clip_id}.*") if p.suffix != ".json"]
    return found[0] if found else None


def all_pairs(seconds: float = 5.0) -> list[Pair]:
    synth = [Pair(f"synth-{name.replace('->', '->synth-')}", c[:1], SYNTH_RATE, s[:1], SYNTH_RATE, "synthesised")
             for name, (c, s) in synthesised_pairs(SYNTH_RATE, seconds).items()]
    return real_pairs(seconds) + synth
