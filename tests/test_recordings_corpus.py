"""The real-recording corpus: the manifest covers what issue 11 asks, and collect.py copies verified files.

These tests need neither the audio nor the network: the manifest is checked as data, and
``collect`` runs on a manifest that points at small files written here.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import numpy as np
import pytest

from bench.recordings.collect import collect, load_manifest

CONTENT_CATEGORIES = {"speech", "singing", "instrument", "mix", "drums"}
STYLE_CATEGORIES = {"noise", "impulsive", "tonal", "sparse"}


@pytest.fixture(scope="module")
def manifest() -> dict:
    return load_manifest()


def test_clips_are_described_completely(manifest: dict) -> None:
    ids = [clip["id"] for clip in manifest["clips"]]
    assert len(ids) == len(set(ids)), "clip ids must be unique"
    for clip in manifest["clips"]:
        assert clip["role"] in {"content", "style"}, clip["id"]
        allowed = CONTENT_CATEGORIES if clip["role"] == "content" else STYLE_CATEGORIES
        assert clip["category"] in allowed, clip["id"]
        assert clip["source"].startswith("debian:") and clip["package_version"], clip["id"]
        assert clip["path"].startswith("/usr/share/"), clip["id"]
        assert clip["licence"].strip(), clip["id"]
        assert re.fullmatch(r"[0-9a-f]{64}", clip["sha256"]), clip["id"]
        assert 0 <= clip["start_s"] and clip["start_s"] + clip["excerpt_s"] <= clip["duration_s"] + 0.01, clip["id"]
        assert clip["excerpt_s"] >= 4.0, f"{clip['id']}: usable length under 4 s"
        assert (clip["hf_db"] is None) == (clip["sample_rate"] < 40000), clip["id"]
        assert (clip["hf_16_20_db"] is None) == (clip["hf_db"] is None), clip["id"]


def test_pairs_cover_the_issue_categories(manifest: dict) -> None:
    clips = {clip["id"]: clip for clip in manifest["clips"]}
    pairs = [(clips[p["content"]], clips[p["style"]]) for p in manifest["pairs"]]
    assert len(pairs) >= 10
    assert len({(c["id"], s["id"]) for c, s in pairs}) == len(pairs), "pairs must be distinct"
    assert all(c["role"] == "content" and s["role"] == "style" for c, s in pairs)
    assert {c["category"] for c, _ in pairs} == CONTENT_CATEGORIES
    assert {s["category"] for _, s in pairs} == STYLE_CATEGORIES
    speech_languages = {c["id"].split("_")[1] for c, _ in pairs if c["category"] == "speech"}
    assert len(speech_languages) >= 2
    bright_full_rate_styles = {
        s["id"] for _, s in pairs if s["sample_rate"] in (44100, 48000) and s["hf_db"] > -20
    }
    assert len(bright_full_rate_styles) >= 5, "several 44.1/48 kHz styles with energy above 11 kHz"


def fake_manifest(tmp_path: Path, payload: bytes) -> tuple[dict, Path]:
    source = tmp_path / "pkg" / "usr" / "share" / "sounds" / "clip.WAV"
    source.parent.mkdir(parents=True)
    source.write_bytes(payload)
    entry = {
        "id": "speech_xx_test",
        "source": "debian:no-such-package",
        "package_version": "1.0",
        "path": str(source),
        "sha256": hashlib.sha256(payload).hexdigest(),
    }
    return {"clips": [entry], "pairs": []}, source


def test_collect_copies_the_file_unchanged(tmp_path: Path) -> None:
    manifest, source = fake_manifest(tmp_path, b"RIFF-not-really-audio")
    dest = tmp_path / "out"
    assert collect(dest, install=False, manifest=manifest) == []
    copy = dest / "speech_xx_test.wav"
    assert copy.read_bytes() == source.read_bytes()
    assert copy.stat().st_mode & 0o777 == 0o644
    assert load_manifest(dest / "manifest.json") == manifest
    assert not list(dest.glob(".*.part"))


def test_collect_refuses_a_file_whose_hash_changed(tmp_path: Path) -> None:
    manifest, source = fake_manifest(tmp_path, b"original bytes")
    dest = tmp_path / "out"
    assert collect(dest, install=False, manifest=manifest) == []
    source.write_bytes(b"changed upstream")
    (dest / "speech_xx_test.wav").unlink()
    problems = collect(dest, install=False, manifest=manifest)
    assert len(problems) == 1 and "sha256" in problems[0] and "no-such-package" in problems[0]
    assert not (dest / "speech_xx_test.wav").exists()


def test_collect_names_the_package_of_a_missing_file(tmp_path: Path) -> None:
    manifest, source = fake_manifest(tmp_path, b"x")
    source.unlink()
    problems = collect(tmp_path / "out", install=False, manifest=manifest)
    assert len(problems) == 1 and "apt-get install no-such-package" in problems[0]


def test_hf_level_separates_full_band_from_band_limited_noise() -> None:
    from bench.recordings.measure import hf_db

    sr = 48_000
    white = np.random.default_rng(0).standard_normal(sr * 2)
    # white noise: 9 kHz of band against 3 kHz of reference, 10*log10(3) = 4.8 dB
    assert hf_db(white, sr) == pytest.approx(4.8, abs=0.3)
    spectrum = np.fft.rfft(white)
    spectrum[np.fft.rfftfreq(len(white), 1 / sr) > 8_000] = 0
    muffled = np.fft.irfft(spectrum, len(white))  # what a 16 kHz-rate analysis leaves of it
    assert hf_db(muffled, sr) < -40
    assert hf_db(white[:22_050], 22_050) is None


def test_excerpt_start_skips_silence() -> None:
    from bench.recordings.measure import best_start

    sr = 8_000
    tone = np.sin(2 * np.pi * 440 * np.arange(sr * 6) / sr)
    clip = np.concatenate([np.zeros(sr * 3), tone, np.zeros(sr * 3)])
    assert best_start(clip, sr) in (3.0, 3.25, 3.5, 3.75, 4.0)
    assert best_start(tone[: sr * 4], sr) == 0.0


def test_collect_prefers_the_unpacked_version_over_a_different_installed_one(tmp_path: Path) -> None:
    manifest, installed = fake_manifest(tmp_path, b"the manifest's version")
    dest = tmp_path / "out"
    unpacked = dest / ".debs" / "no-such-package" / str(installed).lstrip("/")
    unpacked.parent.mkdir(parents=True)
    unpacked.write_bytes(installed.read_bytes())
    installed.write_bytes(b"another version installed here")
    assert collect(dest, install=False, manifest=manifest) == []
    assert (dest / "speech_xx_test.wav").read_bytes() == b"the manifest's version"
