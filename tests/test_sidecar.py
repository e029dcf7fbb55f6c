"""Reproducible renders: the JSON sidecar next to each output, `render --like`, `--no-sidecar`, and
the LUFS loudness target."""
from __future__ import annotations

import hashlib
import json

import numpy as np
import pytest

from gramophone import __version__
from gramophone.bridge.cli import main
from gramophone.engine import RenderSettings
from gramophone.engine.audio_io import read_audio
from gramophone.engine.loudness import PEAK_CEILING, integrated_lufs, normalise_lufs, rms
from gramophone.engine.pipeline import render_file
from gramophone.engine.preset_store import PresetStore
from gramophone.engine.sidecar import stats_sha256

from helpers import SR, write_wav


def sha256(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def clips(tmp_path, melody, rain):
    return write_wav(tmp_path / "clip.wav", melody), write_wav(tmp_path / "style.wav", rain)


@pytest.mark.slow
def test_cli_render_writes_a_sidecar_with_everything(tmp_path, clips, capsys):
    clip, _ = clips
    out = tmp_path / "out.wav"
    assert main(["render", str(clip), "--preset", "rain", "-o", str(out), "--iterations", "2", "--strength", "0.7",
                 "--seed", "5", "--peaks", "scale"]) == 0
    record = json.loads((tmp_path / "out.wav.json").read_text())
    assert record["gramophone"] == __version__
    assert record["model"]["name"] == "kernel"
    rain = PresetStore().load("rain")
    assert record["style"] == {"preset": "rain", "stats_sha256": stats_sha256(rain.stats), "files": []}
    assert record["strength"] == 0.7 and record["seed"] == 5
    assert record["settings"]["iterations"] == 2 and record["settings"]["peaks"] == "scale"
    assert record["input"] == {"path": str(clip.resolve()), "sha256": sha256(clip)}
    assert record["loudness"] == "match" and record["seconds"] > 0
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no temporary left


@pytest.mark.slow
def test_no_sidecar_and_the_library_opt_out(tmp_path, clips, kernel_model, rain_stats):
    clip, style = clips
    assert main(["render", str(clip), "--style", str(style), "-o", str(tmp_path / "a.wav"), "--iterations", "1",
                 "--no-sidecar"]) == 0
    assert not (tmp_path / "a.wav.json").exists()
    one = RenderSettings(iterations=1)
    render_file(clip, tmp_path / "b.wav", kernel_model, rain_stats, one, sidecar=False)
    assert not (tmp_path / "b.wav.json").exists()
    render_file(clip, tmp_path / "c.wav", kernel_model, rain_stats, one)  # default: on, even without a named source
    assert json.loads((tmp_path / "c.wav.json").read_text())["style"]["preset"] is None


@pytest.mark.slow
def test_render_like_repeats_the_settings_on_another_clip(tmp_path, clips, melody, capsys):
    clip, style = clips
    first = tmp_path / "first.wav"
    assert main(["render", str(clip), "--style", str(style), "-o", str(first), "--iterations", "2",
                 "--strength", "0.6", "--seed", "3", "--loudness", "-20"]) == 0
    other = write_wav(tmp_path / "other.wav", melody[:, ::-1].copy())
    capsys.readouterr()
    assert main(["render", "--like", str(first) + ".json", str(other), "-o", str(tmp_path / "again.wav")]) == 0
    a = json.loads((tmp_path / "first.wav.json").read_text())
    b = json.loads((tmp_path / "again.wav.json").read_text())
    for key in ("model", "style", "settings", "strength", "seed", "loudness"):
        assert a[key] == b[key], key
    assert b["input"]["sha256"] == sha256(other)
    # Same settings and style, same content -> the same audio; and options given on the line win
    assert main(["render", "--like", str(first) + ".json", str(clip), "-o", str(tmp_path / "same.wav")]) == 0
    assert np.array_equal(read_audio(first)[0], read_audio(tmp_path / "same.wav")[0])
    assert main(["render", "--like", str(first) + ".json", str(other), "--strength", "0.2"]) == 0
    default_out = tmp_path / "other-style.wav"  # no -o: CONTENT-STYLE.EXT beside the content
    assert json.loads((tmp_path / "other-style.wav.json").read_text())["strength"] == 0.2
    assert default_out.is_file()


def test_render_like_refuses_a_changed_style(tmp_path, clips, rain, capsys):
    clip, style = clips
    assert main(["render", str(clip), "--style", str(style), "-o", str(tmp_path / "o.wav"), "--iterations", "1"]) == 0
    write_wav(style, 0.5 * rain)
    capsys.readouterr()
    assert main(["render", "--like", str(tmp_path / "o.wav.json"), str(clip), "-o", str(tmp_path / "p.wav")]) == 2
    assert "[style_changed" in capsys.readouterr().err
    assert not (tmp_path / "p.wav").exists()


@pytest.mark.slow
def test_a_sidecar_without_a_preset_name_finds_the_preset_by_its_statistics(tmp_path, clips, capsys):
    """What an OSC render records when the server passes no style source."""
    clip, _ = clips
    rain = PresetStore().load("rain")
    render_file(clip, tmp_path / "osc.wav", rain.build_model(), rain.stats, RenderSettings(iterations=1), source=None)
    assert main(["render", "--like", str(tmp_path / "osc.wav.json"), str(clip), "-o", str(tmp_path / "x.wav"),
                 "--iterations", "1"]) == 0
    assert json.loads((tmp_path / "x.wav.json").read_text())["style"]["preset"] == "rain"


@pytest.mark.slow
def test_lufs_target_cli_and_engine(tmp_path, clips, melody):
    clip, _ = clips
    out = tmp_path / "loud.wav"
    assert main(["render", str(clip), "--preset", "rain", "-o", str(out), "--iterations", "1",
                 "--loudness", "-16"]) == 0
    data, sr = read_audio(out)
    assert integrated_lufs(data, sr) == pytest.approx(-16, abs=0.2)
    assert np.abs(data).max() <= PEAK_CEILING
    assert main(["render", str(clip), "--preset", "rain", "-o", str(tmp_path / "x.wav"), "--loudness", "loud"]) == 2
    # too loud for the peaks: limit keeps the target, scale turns the whole clip down instead
    spiky = (0.01 * np.random.default_rng(0).standard_normal((1, SR))).astype(np.float32)
    spiky[0, ::5000] = 0.5
    limited = normalise_lufs(spiky, SR, -10)
    scaled = normalise_lufs(spiky, SR, -10, limit=False)
    assert integrated_lufs(limited, SR) == pytest.approx(-10, abs=0.3)
    assert np.abs(limited).max() <= PEAK_CEILING and np.abs(scaled).max() == pytest.approx(PEAK_CEILING, rel=1e-4)
    assert integrated_lufs(scaled, SR) < -15
    np.testing.assert_allclose(scaled, spiky * (scaled[0, 0] / spiky[0, 0]), rtol=1e-4, atol=1e-7)
    silence = np.zeros((2, SR), np.float32)
    assert rms(normalise_lufs(silence, SR, -14)) == 0
    six = np.tile(melody, (6, 1))  # more channels than pyloudnorm weighs
    assert integrated_lufs(normalise_lufs(six, SR, -20), SR) == pytest.approx(-20, abs=0.2)


@pytest.mark.slow
def test_a_sidecar_that_cannot_be_written_is_a_clear_error_and_the_render_stays(tmp_path, clips, kernel_model,
                                                                                rain_stats):
    from gramophone.engine.errors import GramophoneError

    clip, _ = clips
    (tmp_path / "out.wav.json").mkdir()  # something in the sidecar's way
    with pytest.raises(GramophoneError, match="sidecar") as err:
        render_file(clip, tmp_path / "out.wav", kernel_model, rain_stats, RenderSettings(iterations=1))
    assert err.value.code == "write_failed" and read_audio(tmp_path / "out.wav")[0].shape[1] > 0
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]
