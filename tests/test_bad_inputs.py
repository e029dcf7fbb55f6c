"""Every bad input either renders correctly or raises GramophoneError with a message; the
content file is never touched and no partial output is ever left."""
import hashlib
import os

import numpy as np
import pytest
import soundfile as sf

from gramophone.engine import RenderSettings
from gramophone.engine.audio_io import read_audio
from gramophone.engine.errors import GramophoneError
from gramophone.engine.pipeline import render_file, style_from_files

from helpers import SR, write_wav

QUICK = RenderSettings(iterations=3)


def digest(path):
    return hashlib.sha256(open(path, "rb").read()).hexdigest()


def only(tmp_path, *names):
    return sorted(p.name for p in tmp_path.iterdir()) == sorted(names)


def expect_error(tmp_path, content, kernel_model, rain_stats, match):
    before = sorted(os.listdir(tmp_path))
    with pytest.raises(GramophoneError, match=match) as info:
        render_file(content, tmp_path / "out.wav", kernel_model, rain_stats, QUICK)
    assert str(info.value)
    assert sorted(os.listdir(tmp_path)) == before  # nothing written, nothing half-written


def test_missing_file(tmp_path, kernel_model, rain_stats):
    expect_error(tmp_path, tmp_path / "nope.wav", kernel_model, rain_stats, "no such file")


def test_directory(tmp_path, kernel_model, rain_stats):
    (tmp_path / "folder.wav").mkdir()
    expect_error(tmp_path, tmp_path / "folder.wav", kernel_model, rain_stats, "directory")


def test_non_audio_file(tmp_path, kernel_model, rain_stats):
    (tmp_path / "notes.wav").write_text("these are not samples " * 50)
    expect_error(tmp_path, tmp_path / "notes.wav", kernel_model, rain_stats, "not a readable audio file")


def test_empty_file(tmp_path, kernel_model, rain_stats):
    (tmp_path / "empty.wav").write_bytes(b"")
    expect_error(tmp_path, tmp_path / "empty.wav", kernel_model, rain_stats, "empty")


def test_wav_with_no_samples(tmp_path, kernel_model, rain_stats):
    write_wav(tmp_path / "zero.wav", np.zeros((1, 0), np.float32))
    expect_error(tmp_path, tmp_path / "zero.wav", kernel_model, rain_stats, "no samples")


def test_nan_samples(tmp_path, kernel_model, rain_stats, melody):
    bad = melody.copy()
    bad[0, 100] = np.nan
    write_wav(tmp_path / "nan.wav", bad)
    expect_error(tmp_path, tmp_path / "nan.wav", kernel_model, rain_stats, "NaN")


def test_output_may_not_replace_content(tmp_path, kernel_model, rain_stats, melody):
    content = write_wav(tmp_path / "song.wav", melody)
    h = digest(content)
    with pytest.raises(GramophoneError, match="overwrite the content"):
        render_file(content, tmp_path / "." / "song.wav", kernel_model, rain_stats, QUICK)
    assert digest(content) == h


def test_output_needs_audio_extension_and_existing_folder(tmp_path, kernel_model, rain_stats, melody):
    content = write_wav(tmp_path / "song.wav", melody)
    for out in (tmp_path / "out.txt", tmp_path / "missing" / "out.wav"):
        with pytest.raises(GramophoneError):
            render_file(content, out, kernel_model, rain_stats, QUICK)
    assert only(tmp_path, "song.wav")


def test_silent_clip_renders_silence(tmp_path, kernel_model, rain_stats):
    content = write_wav(tmp_path / "silence.wav", np.zeros((1, SR), np.float32))
    render_file(content, tmp_path / "out.wav", kernel_model, rain_stats, QUICK)
    out, sr = read_audio(tmp_path / "out.wav")
    assert sr == SR and out.shape == (1, SR) and not out.any()


@pytest.mark.slow
def test_one_sample_clip(tmp_path, kernel_model, rain_stats):
    content = write_wav(tmp_path / "one.wav", np.full((1, 1), 0.5, np.float32))
    render_file(content, tmp_path / "out.wav", kernel_model, rain_stats, QUICK)
    out, _ = read_audio(tmp_path / "out.wav")
    assert out.shape == (1, 1) and np.isfinite(out).all() and np.abs(out).max() <= 1


@pytest.mark.parametrize("sr,channels", [(8_000, 1), (192_000, 1), pytest.param(48_000, 2, marks=pytest.mark.slow),
                                         pytest.param(44_100, 6, marks=pytest.mark.slow)])
def test_rates_and_channel_counts(tmp_path, kernel_model, rain_stats, sr, channels):
    t = np.arange(int(1.5 * sr)) / sr
    clip = np.stack([0.2 * np.sin(2 * np.pi * (220 + 110 * c) * t) * (1 + np.sin(2 * np.pi * 2 * t))
                     for c in range(channels)]).astype(np.float32)
    content = write_wav(tmp_path / "in.wav", clip, sr)
    h = digest(content)
    result = render_file(content, tmp_path / "out.flac", kernel_model, rain_stats, QUICK)
    out, out_sr = read_audio(result.output_path)
    assert out_sr == sr and out.shape == clip.shape
    assert np.isfinite(out).all() and np.abs(out).max() <= 1
    assert digest(content) == h
    assert only(tmp_path, "in.wav", "out.flac", "out.flac.json")  # the output and its sidecar, nothing partial


def test_unsupported_rate_and_channels_are_clear(tmp_path, kernel_model, rain_stats):
    sf.write(str(tmp_path / "low.wav"), np.zeros(4000, np.float32), 4000)
    expect_error(tmp_path, tmp_path / "low.wav", kernel_model, rain_stats, "sample rate")
    sf.write(str(tmp_path / "many.wav"), np.zeros((1000, 9), np.float32), SR)
    expect_error(tmp_path, tmp_path / "many.wav", kernel_model, rain_stats, "channels")


def test_bad_style_files(tmp_path, kernel_model):
    silent = write_wav(tmp_path / "silent.wav", np.zeros((1, SR), np.float32))
    short = write_wav(tmp_path / "short.wav", np.full((1, 100), 0.3, np.float32))
    with pytest.raises(GramophoneError, match="silent"):
        style_from_files([silent], kernel_model)
    with pytest.raises(GramophoneError, match="too short"):
        style_from_files([short], kernel_model)
    with pytest.raises(GramophoneError, match="no style"):
        style_from_files([], kernel_model)
