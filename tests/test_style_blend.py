"""A blend between two styles automated over time (issue #23, item 2): ``blend`` 0 the first style,
1 the second (``blend_to``), a number or an envelope.

The engine (:mod:`engine.style_blend`): a constant 0 or 1 is the one style's render bit for bit,
a render from rain to fire and back follows the envelope with no seam and no level jump at the
breakpoints or at a streamed clip's chunk joins (compared with what a constant blend shows, as
tests/test_automation.py does for strength), and the combination keeps the level where a plain
log-magnitude morph dips. Front ends: the command line (``--blend-to``, ``--blend-to-style``),
the sidecar and ``--like``; bad envelopes and a second style of another model give the error
table's codes. (OSC: tests/test_server.py; the manifest column: tests/test_batch.py.)
"""
from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest

from gramophone.bridge.cli import main
from gramophone.engine import RenderSettings, analyse_style, render, sidecar, synth
from gramophone.engine.chunks import chunk_frames, chunk_spans
from gramophone.engine.audio_io import read_audio
from gramophone.engine.automation import Envelope
from gramophone.engine.errors import GramophoneError
from gramophone.engine.loudness import rms
from gramophone.engine.pipeline import render_file
from gramophone.engine.strength import morph
from gramophone.engine.style_blend import blend_spectra, render_blend

from helpers import SR, write_wav
from test_automation import assert_no_seams, frame_levels, seams, tone

pytestmark = pytest.mark.usefixtures("one_torch_thread")  # results, not speed, on a shared machine


@pytest.fixture(scope="module")
def fire_stats(kernel_model):
    return analyse_style([(synth.fire(SR, 3.0), SR)], kernel_model)


@pytest.fixture(scope="module")
def wind_stats(kernel_model):
    return analyse_style([(synth.wind(SR, 3.0), SR)], kernel_model)


# ---- the combination -------------------------------------------------------------------------

def test_the_blend_keeps_the_level_where_a_log_morph_dips():
    """Two independent noises of different colour: their log-magnitude morph at 0.5 comes out
    quieter than either (the geometric mean), the blend holds the level between them in dB, and
    both ends are the renders themselves to float rounding."""
    rng = np.random.default_rng(0)
    a = rng.standard_normal((2, SR * 2)).astype(np.float32) * 0.1
    b = np.cumsum(rng.standard_normal((2, SR * 2)), axis=1).astype(np.float32)  # a red noise
    b = (b - b.mean(axis=1, keepdims=True)) * (0.1 / rms(b))
    db = lambda x: 20 * np.log10(rms(x))  # noqa: E731
    assert db(morph(a, b, 0.5, SR)) < min(db(a), db(b)) - 3.0  # the dip the blend is built to avoid
    assert min(db(a), db(b)) - 0.5 < db(blend_spectra(a, b, 0.5, SR)) < max(db(a), db(b)) + 0.5
    assert np.allclose(blend_spectra(a, b, 0.0, SR), a, atol=1e-5)
    assert np.allclose(blend_spectra(a, b, 1.0, SR), b, atol=1e-5)
    env = Envelope([0.5, 1.5], [0, 1])
    moved = blend_spectra(a, b, env, SR)
    assert np.allclose(moved[:, :int(0.4 * SR)], a[:, :int(0.4 * SR)], atol=1e-5)
    assert np.allclose(moved[:, int(1.6 * SR):], b[:, int(1.6 * SR):], atol=1e-5)


# ---- renders ---------------------------------------------------------------------------------

def test_a_constant_blend_of_0_or_1_is_one_styles_render_bit_for_bit(monkeypatch):
    """A blend held at 0 or 1 is one call of render() in that style, bit for bit. A model and
    statistics of its own: with the session's kernel model, after test_bad_inputs' renders of a
    1-sample clip and of other rates in the same process, this comparison once came out different
    (by more than 1e-6) between the blend's render and render()'s; not reproduced in a script nor
    with those tests and a plain render twice, so the cause is not pinned down (session note)."""
    from gramophone.engine import get_model, style_blend

    model = get_model("kernel")
    rain_stats, fire_stats = (analyse_style([(clip, SR)], model) for clip in (synth.rain(SR, 3.0), synth.fire(SR, 3.0)))
    content = synth.plucked_melody(SR, 2.0)
    settings = RenderSettings(iterations=2)
    calls = []
    counted = style_blend.render
    monkeypatch.setattr(style_blend, "render", lambda *a, **k: (calls.append(1), counted(*a, **k))[1])
    first = render_blend(content, SR, model, rain_stats, fire_stats, settings)
    second = render_blend(content, SR, model, rain_stats, fire_stats, replace(settings, blend=1.0))
    held = render_blend(content, SR, model, rain_stats, fire_stats, replace(settings, blend=Envelope([0, 5], [1, 1])))
    assert len(calls) == 3  # one render each
    assert np.array_equal(first, render(content, SR, model, rain_stats, settings))
    assert np.array_equal(second, render(content, SR, model, fire_stats, settings))
    assert np.array_equal(held, second)
    assert not np.array_equal(first, second)


def test_a_render_from_rain_to_fire_and_back_follows_the_envelope(kernel_model, rain_stats, fire_stats):
    """0 -> 1 -> 0: where the blend is 0 the output is the rain render's, at 1 the fire render's
    (each up to the one gain of the loudness match), and in between it moves."""
    content = synth.plucked_melody(SR, 6.0)
    settings = RenderSettings(iterations=3)
    env = Envelope([1, 3, 5], [0, 1, 0])
    out = render_blend(content, SR, kernel_model, rain_stats, fire_stats, replace(settings, blend=env))
    rain_out = render(content, SR, kernel_model, rain_stats, settings)
    fire_out = render(content, SR, kernel_model, fire_stats, settings)

    def like(x: np.ndarray, y: np.ndarray, where: slice) -> float:
        return float(np.corrcoef(x[:, where].ravel(), y[:, where].ravel())[0, 1])

    start, middle, end = slice(int(0.1 * SR), int(0.8 * SR)), slice(int(2.9 * SR), int(3.1 * SR)), \
        slice(int(5.2 * SR), int(5.9 * SR))
    assert like(out, rain_out, start) > 0.99 and like(out, rain_out, end) > 0.99
    assert like(out, fire_out, middle) > 0.99
    assert like(out, fire_out, start) < 0.9 and like(out, rain_out, middle) < 0.9
    halfway = slice(int(1.9 * SR), int(2.1 * SR))
    assert like(out, rain_out, halfway) < 0.99 and like(out, fire_out, halfway) < 0.99


@pytest.mark.slow
def test_no_seam_and_no_level_jump_at_the_blends_breakpoints(kernel_model, rain_stats, fire_stats):
    """A steady tone from rain to fire and back: no level step or spectral flux at the
    breakpoints larger than elsewhere, and no dip on the way: the level of each quarter second,
    less the level interpolated in dB between the constant blends' (by the blend there), stays
    within 1.5 dB over the whole clip (a plain log-magnitude morph of the two renders dips 3 dB
    halfway; the loudness match adds one gain to the whole clip, hence the spread, not the value)."""
    content = tone(6.0)
    settings = RenderSettings(iterations=3)
    points = [0.5, 2.0, 2.5, 4.5]
    env = Envelope(points, [0, 1, 1, 0])
    out = render_blend(content, SR, kernel_model, rain_stats, fire_stats, replace(settings, blend=env))
    assert_no_seams(out, SR, points)
    low, high = (frame_levels(render_blend(content, SR, kernel_model, rain_stats, fire_stats,
                                           replace(settings, blend=w)), SR, 0.25) for w in (0.0, 1.0))
    weight = env.at((np.arange(low.size) + 0.5) * 0.25)
    spread = frame_levels(out, SR, 0.25) - ((1 - weight) * low + weight * high)
    assert np.ptp(spread) < 1.5, spread


@pytest.mark.slow
def test_a_long_streamed_clip_blends_over_the_whole_file(tmp_path, kernel_model, wind_stats, fire_stats):
    """A 10 s tone in chunks of about 1 s, from wind to fire and back over the file's time: the chunk joins
    step no more than those of the constant blends' streamed renders, nor do the breakpoints."""
    content = tone(10.0)
    path = write_wav(tmp_path / "long.wav", content)
    settings = RenderSettings(iterations=2, chunk_seconds=1.2, crossfade_seconds=0.2)
    env = Envelope([1, 5, 9], [0, 1, 0])
    render_file(path, tmp_path / "out.wav", kernel_model, wind_stats, replace(settings, blend=env),
                blend_to=fire_stats)
    out, _ = read_audio(tmp_path / "out.wav")
    fade = int(settings.crossfade_seconds * SR)
    spans = chunk_spans(content.shape[1], chunk_frames(settings, SR), fade)
    assert len(spans) == 9  # of at least 1.2 s: 1.29 s, so that a breakpoint (5 s) lies away from the joins
    joins = [s / SR for s, _ in spans[1:]] + [e / SR for _, e in spans[:-1]]
    points = [p for p in (1.0, 5.0, 9.0) if min(abs(p - j) for j in joins) > 0.15]
    assert points
    assert_no_seams(out, SR, points)
    step, _, change, _ = seams(out, SR, joins)
    for w, name in ((0.0, "wind"), (1.0, "fire")):
        render_file(path, tmp_path / f"{name}.wav", kernel_model, wind_stats, replace(settings, blend=w),
                    blend_to=fire_stats)
        const, _ = read_audio(tmp_path / f"{name}.wav")
        const_step, const_elsewhere, const_change, const_change_elsewhere = seams(const, SR, joins)
        assert step <= max(const_step, const_elsewhere) + 1.0, (step, const_step, name)
        assert change <= max(const_change, const_change_elsewhere) * 1.25, (change, const_change, name)
        if w == 0.0:  # where the blend is 0 (the first second) the output is the wind render's
            where = slice(int(0.1 * SR), int(0.7 * SR))
            assert np.corrcoef(out[:, where].ravel(), const[:, where].ravel())[0, 1] > 0.99
        else:
            where = slice(int(4.8 * SR), int(5.2 * SR))
            assert np.corrcoef(out[:, where].ravel(), const[:, where].ravel())[0, 1] > 0.99
    recorded = json.loads((tmp_path / "out.wav.json").read_text())
    assert recorded["settings"]["blend"] == "1:0, 5:1, 9:0" and recorded["blend_to"]["stats_sha256"]


def test_a_blend_without_a_second_style_is_no_style(tmp_path, kernel_model, rain_stats, melody):
    path = write_wav(tmp_path / "c.wav", melody)
    with pytest.raises(GramophoneError) as err:
        render_file(path, tmp_path / "o.wav", kernel_model, rain_stats, RenderSettings(blend=0.5))
    assert err.value.code == "no_style" and "--blend-to" in str(err.value)
    assert not (tmp_path / "o.wav").exists()


# ---- the command line, the sidecar and --like ------------------------------------------------

def test_the_command_line_blends_rain_to_fire_and_like_repeats_it(tmp_path, melody, capsys):
    clip = write_wav(tmp_path / "clip.wav", melody)
    first = tmp_path / "first.wav"
    assert main(["render", str(clip), "--preset", "rain", "--blend-to", "fire", "--blend", "0:0, 1:1, 2:0",
                 "--iterations", "2", "-o", str(first)]) == 0
    data = sidecar.read(str(first) + ".json")
    assert data["settings"]["blend"] == "0:0, 1:1, 2:0" and data["blend_to"]["preset"] == "fire"
    assert data["style"]["preset"] == "rain"
    again = tmp_path / "again.wav"
    assert main(["render", "--like", str(first) + ".json", str(clip), "-o", str(again)]) == 0
    assert np.array_equal(read_audio(first)[0], read_audio(again)[0])  # bit for bit on the CPU
    assert sidecar.read(str(again) + ".json")["blend_to"] == data["blend_to"]
    # --like with another second style overrides the recorded one
    other = tmp_path / "other.wav"
    assert main(["render", "--like", str(first) + ".json", str(clip), "-o", str(other), "--blend-to", "wind"]) == 0
    assert sidecar.read(str(other) + ".json")["blend_to"]["preset"] == "wind"
    capsys.readouterr()


def test_the_second_style_may_be_style_files(tmp_path, melody, rain, capsys):
    clip, style = write_wav(tmp_path / "clip.wav", melody), write_wav(tmp_path / "fire.wav", synth.fire(SR, 3.0))
    out = tmp_path / "out.wav"
    assert main(["render", str(clip), "--style", str(write_wav(tmp_path / "rain.wav", rain)), "--blend-to-style",
                 str(style), "--blend", "0.5", "--iterations", "2", "-o", str(out)]) == 0
    data = sidecar.read(str(out) + ".json")
    assert data["blend_to"]["preset"] is None and data["blend_to"]["files"][0]["path"] == str(style.resolve())
    again = tmp_path / "again.wav"
    assert main(["render", "--like", str(out) + ".json", str(clip), "-o", str(again)]) == 0
    assert np.array_equal(read_audio(out)[0], read_audio(again)[0])
    capsys.readouterr()


def test_bad_blends_give_the_tables_codes(tmp_path, melody, capsys):
    from gramophone.engine import get_model, preset_format
    from gramophone.engine.preset_store import PresetStore

    clip = write_wav(tmp_path / "clip.wav", melody)
    out = str(tmp_path / "o.wav")
    for blend, says in (("0:0, 4:9", "blend must be in 0..1"), ("4:0, 1:1", "ascending"), ("loud", "blend")):
        assert main(["render", str(clip), "--preset", "rain", "--blend-to", "fire", "--blend", blend, "-o", out]) == 2
        err = capsys.readouterr().err
        assert "[bad_parameter" in err and says in err, err
    assert main(["render", str(clip), "--preset", "rain", "--blend", "0.5", "-o", out]) == 2
    assert "[no_style" in capsys.readouterr().err
    user = tmp_path / "presets"
    other = preset_format.from_clips("noise-random", [(synth.rain(SR, 2.0), SR)], [{"file": "rain.wav"}],
                                     get_model("random"))
    PresetStore(user).save(other)
    assert main(["--preset-dir", str(user), "render", str(clip), "--preset", "rain", "--blend-to", "noise-random",
                 "--blend", "0.5", "-o", out]) == 2
    assert "[model_mismatch" in capsys.readouterr().err
    assert not (tmp_path / "o.wav").exists()


@pytest.mark.slow
def test_the_readme_command_runs_as_shown(tmp_path):
    """The README's blend example, as a user types it (in a process of its own; the clip is the built-in melody)."""
    from helpers import readme_command, run_gramophone

    write_wav(tmp_path / "guitar.wav", synth.plucked_melody(SR, 3.0))
    words = readme_command(".venv/bin/gramophone render", "--blend-to")
    assert words[1:] == ["render", "guitar.wav", "--preset", "rain", "--blend-to", "fire", "--blend", "0:0, 4:1, 8:0",
                         "-o", "guitar-rain-fire.wav"], words
    done = run_gramophone(words[1:] + ["--iterations", "2"], tmp_path)
    assert done.returncode == 0, done.stderr
    recorded = json.loads((tmp_path / "guitar-rain-fire.wav.json").read_text())
    assert recorded["settings"]["blend"] == "0:0, 4:1, 8:0" and recorded["blend_to"]["preset"] == "fire"
