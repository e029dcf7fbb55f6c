"""Automated strength (issue #23, item 2): ``strength`` as a breakpoint envelope "seconds:value, ...".

Parsing and its errors from every front end (command line, OSC, manifests), the morph read frame
by frame at absolute file time (so a streamed chunk gives what the whole clip gives), renders
that go 0 -> 1 -> 0 with no seam or level step at breakpoints or chunk joins, and the sidecar and
``--like`` round trip.
"""
from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest

from gramophone.bridge import addresses as A
from gramophone.bridge import manifest
from gramophone.bridge.cli import main
from gramophone.engine import RenderSettings, analyse_style, render, sidecar, synth
from gramophone.engine.audio_io import read_audio
from gramophone.engine.automation import MAX_POINTS, Envelope
from gramophone.engine.chunks import chunk_frames, chunk_spans
from gramophone.engine.errors import GramophoneError
from gramophone.engine.pipeline import render_file
from gramophone.engine.settings import BY_NAME
from gramophone.engine.strength import morph, morph_fft_size

from helpers import SR, readme_command, run_gramophone, write_wav

STRENGTH = BY_NAME["strength"]


pytestmark = pytest.mark.usefixtures("one_torch_thread")  # results, not speed, on a shared machine


def setting(value):
    """``value`` as the table reads it from any front end, then checked (raises bad_parameter)."""
    parsed = STRENGTH.parse(value)
    STRENGTH.check(parsed)
    return parsed


# ---- parsing ---------------------------------------------------------------------------------

def test_an_envelope_parses_from_text_and_from_a_list_and_a_number_stays_a_number():
    env = setting("0:0, 4:1, 8:0.3")
    assert isinstance(env, Envelope) and env.times == (0, 4, 8) and env.values == (0, 1, 0.3)
    assert setting([0, 0, 4, 1, 8, 0.3]) == env and setting("0:0,4:1,8:0.3") == env
    assert setting("0:0/4:1/8:0.3") == env  # for Pd and Max, where a comma ends a message
    assert str(env) == "0:0, 4:1, 8:0.3" and setting(str(env)) == env  # the text is what a sidecar keeps
    assert setting("0.5") == 0.5 and isinstance(setting("0.5"), float) and setting(1) == 1.0
    assert np.allclose(env.at([-1, 0, 2, 4, 6, 8, 100]), [0, 0, 0.5, 1, 0.65, 0.3, 0.3])  # held beyond the ends


@pytest.mark.parametrize("value, says", [
    ("0:0, 4:x", "'4:x'"), ("4:0, 2:1", "ascending"), ("0:0, 0:1", "ascending"), ("0:1.5", "0..1"),
    ("-1:0", ">= 0"), ("0:0,, 4:1", "''"), ("fast", "'fast'"), ("0:nan", "0..1"), ("inf:0", ">= 0"),
    ([0, 0, 4], "even length"), (", ".join(f"{i}:0" for i in range(MAX_POINTS + 1)), f"at most {MAX_POINTS}"),
])
def test_bad_envelopes_are_bad_parameter_with_the_offending_text(value, says):
    with pytest.raises(GramophoneError) as err:
        setting(value)
    assert err.value.code == "bad_parameter" and says in str(err.value) and "strength" in str(err.value)


def test_every_front_end_takes_an_envelope_and_refuses_a_bad_one(tmp_path, capsys):
    env = Envelope([0, 4, 8], [0, 1, 0.3])
    # command line
    from gramophone.bridge.cli import _parser
    from gramophone.bridge.setting_options import settings_from

    args = _parser().parse_args(["render", "c.wav", "--style", "s.wav", "-o", "o.wav", "--strength", "0:0, 4:1, 8:0.3"])
    assert settings_from(args, "cli").strength == env
    assert main(["render", str(tmp_path / "c.wav"), "--style", "s.wav", "-o", "o.wav", "--strength", "0:0, 4:9"]) == 2
    assert "[bad_parameter" in capsys.readouterr().err
    # OSC: a string, an array of numbers; a bad one is bad_parameter once the settings are built
    for sent in ("0:0, 4:1, 8:0.3", [0.0, 0.0, 4.0, 1.0, 8.0, 0.3]):
        options = A.parse("/gramophone/render", ["j", "/c.wav", "rain", "/o.wav", "strength", sent])["options"]
        assert RenderSettings(**A.render_settings(options)).validated().strength == env
    options = A.parse("/gramophone/render", ["j", "/c.wav", "rain", "/o.wav", "strength", "8:0, 4:1"])["options"]
    with pytest.raises(GramophoneError) as err:
        RenderSettings(**A.render_settings(options)).validated()
    assert err.value.code == "bad_parameter" and "'8:0, 4:1'" in str(err.value)
    with pytest.raises(A.OscArgError):
        A.parse("/gramophone/render", ["j", "/c.wav", "rain", "/o.wav", "strength", ["a", 1.0]])
    # manifests: CSV (quoted, it holds commas) and JSON (text or a list)
    (tmp_path / "m.csv").write_text('content,strength\nc.wav,"0:0, 4:1, 8:0.3"\nd.wav,0.5\n')
    (tmp_path / "m.json").write_text(json.dumps([{"content": "c.wav", "strength": "0:0, 4:1, 8:0.3"},
                                                 {"content": "d.wav", "strength": [0, 0, 4, 1, 8, 0.3]}]))
    rows = manifest.read_manifest(tmp_path / "m.csv")
    assert rows[0].fixed["strength"] == env and rows[1].fixed["strength"] == 0.5
    assert [r.fixed["strength"] for r in manifest.read_manifest(tmp_path / "m.json")] == [env, env]


def test_a_batch_names_and_records_an_envelope(tmp_path, melody):
    from gramophone.bridge import batch
    from gramophone.bridge.batch import StyleChoice
    from gramophone.engine.preset_store import PresetStore

    clip = write_wav(tmp_path / "clip.wav", melody)
    planned = batch.plan([str(clip)], tmp_path / "out", [StyleChoice(preset="rain")],
                         [0.5, Envelope([0, 2], [0, 1])], RenderSettings(), PresetStore(tmp_path / "user"))
    assert [i.output.name for i in planned.items] == ["clip.rain.s0.5.wav", "clip.rain.s0-0_2-1.wav"]
    assert all(i.status == "pending" and i.fingerprint for i in planned.items)
    assert json.loads(json.dumps(planned.items[1].record(planned.out_dir)))["strength"] == "0:0, 2:1"


# ---- the morph at absolute time --------------------------------------------------------------

def test_a_flat_envelope_is_the_number_and_zero_is_the_content():
    rng = np.random.default_rng(0)
    content, rendered = (rng.standard_normal((2, SR * 2)).astype(np.float32) * 0.1 for _ in range(2))
    flat = morph(content, rendered, Envelope([0, 1], [0.4, 0.4]), SR)
    assert np.allclose(flat, morph(content, rendered, 0.4, SR), atol=1e-6)
    assert np.allclose(morph(content, rendered, Envelope([0], [0.0]), SR), content, atol=1e-6)
    assert np.allclose(morph(content, rendered, Envelope([0], [1.0]), SR), rendered, atol=1e-6)


def test_a_piece_morphed_at_its_offset_is_the_whole_clips_morph():
    """What a streamed chunk does: the envelope is read at file time, so a piece morphed on its
    own (with its offset) matches the whole clip's morph away from the piece's edges, and
    without the offset it would not. (The piece starts on the whole clip's frame grid: off it,
    frames fall elsewhere and the morph of two unrelated signals differs as for any strength.)"""
    rng = np.random.default_rng(1)
    content, rendered = (rng.standard_normal((1, SR * 4)).astype(np.float32) * 0.1 for _ in range(2))
    env = Envelope([0, 1, 3], [0, 1, 0.2])
    whole = morph(content, rendered, env, SR)
    hop = morph_fft_size(SR) // 4
    start, stop = int(1.7 * SR) // hop * hop, int(3.7 * SR)
    piece = morph(content[:, start:stop], rendered[:, start:stop], env, SR, offset=start / SR)
    blind = morph(content[:, start:stop], rendered[:, start:stop], env, SR)
    edge = morph_fft_size(SR)
    inner = slice(edge, stop - start - edge)
    error = np.abs(piece[:, inner] - whole[:, start:stop][:, inner]).max()
    assert error < 1e-5 * np.abs(whole).max(), error
    assert np.abs(blind[:, inner] - whole[:, start:stop][:, inner]).max() > 100 * error


# ---- renders ---------------------------------------------------------------------------------

def frame_levels(x: np.ndarray, sr: int, seconds: float = 0.05) -> np.ndarray:
    """Level in dB of consecutive frames of ``seconds`` (all channels together)."""
    n = int(seconds * sr)
    frames = x[:, :x.shape[1] // n * n].reshape(x.shape[0], -1, n)
    return 10 * np.log10(np.mean(frames ** 2, axis=(0, 2)) + 1e-12)


def flux(x: np.ndarray, sr: int, seconds: float = 0.05) -> np.ndarray:
    """Spectral flux between consecutive frames: the summed rise of each bin's magnitude."""
    n = int(seconds * sr)
    frames = x.mean(0)[:x.shape[1] // n * n].reshape(-1, n) * np.hanning(n)
    mag = np.abs(np.fft.rfft(frames, axis=1))
    return np.maximum(np.diff(mag, axis=0), 0).sum(axis=1) / (mag[1:].sum(axis=1) + 1e-12)


def seams(out: np.ndarray, sr: int, points: list[float], seconds: float = 0.05) -> tuple[float, float, float, float]:
    """``(level step near, elsewhere, flux near, elsewhere)``: the largest frame-to-frame level
    step (dB) and spectral flux within two frames of ``points`` (seconds) and elsewhere."""
    levels, changes = frame_levels(out, sr, seconds), flux(out, sr, seconds)
    steps = np.abs(np.diff(levels))
    near = sorted({int(round(p / seconds)) + d for p in points for d in (-2, -1, 0, 1)} & set(range(steps.size)))
    elsewhere = np.delete(np.arange(steps.size), near)
    return steps[near].max(), steps[elsewhere].max(), changes[near].max(), changes[elsewhere].max()


def assert_no_seams(out: np.ndarray, sr: int, points: list[float], seconds: float = 0.05) -> None:
    """No level step or spectral flux near ``points`` is larger than the largest elsewhere in
    the clip (plus 1 dB for the level, 25 % for the flux)."""
    step, step_elsewhere, change, change_elsewhere = seams(out, sr, points, seconds)
    assert step <= step_elsewhere + 1.0, (step, step_elsewhere)
    assert change <= change_elsewhere * 1.25, (change, change_elsewhere)


def tone(seconds: float) -> np.ndarray:
    """A steady tone: its level and spectrum barely change, so a seam would stand out."""
    t = np.arange(int(SR * seconds)) / SR
    return (0.3 * np.sin(2 * np.pi * 220 * t) + 0.05 * np.sin(2 * np.pi * 331 * t)).astype(np.float32)[None]


@pytest.fixture(scope="module")
def wind_stats(kernel_model):
    """A steady texture, so that the render's level is steady too (as tests/test_streaming.py does)."""
    return analyse_style([(synth.wind(SR, 3.0), SR)], kernel_model)


def relative_change(out: np.ndarray, content: np.ndarray, gain: float, seconds: float) -> np.ndarray:
    """How far each ``seconds`` of ``out`` is from ``gain`` x the content, relative to the content's level."""
    n = int(seconds * SR)
    return np.array([np.sqrt(np.mean((out - gain * content)[:, a:a + n] ** 2) / np.mean(content[:, a:a + n] ** 2))
                     for a in range(0, content.shape[1] - n + 1, n)])


def gain_where(out: np.ndarray, content: np.ndarray, where) -> float:
    """The one gain (the loudness match's) that takes the content to ``out`` over ``where``."""
    return float(np.sum(out[:, where] * content[:, where]) / np.sum(content[:, where] ** 2))


def test_a_render_from_0_to_1_and_back_follows_the_envelope(kernel_model, rain_stats):
    content = synth.plucked_melody(SR, 6.0)
    env = Envelope([0, 2, 4], [0, 1, 0])  # 0 -> 1 -> 0, held at 0 after 4 s
    out = render(content, SR, kernel_model, rain_stats, RenderSettings(iterations=3, strength=env))
    full = render(content, SR, kernel_model, rain_stats, RenderSettings(iterations=3))
    # where the envelope is 0 the output is the content, up to the one gain of the loudness match
    quiet = slice(int(4.25 * SR), None)
    gain = gain_where(out, content, quiet)
    assert 0.5 < gain < 2 and np.abs(out[:, quiet] - gain * content[:, quiet]).max() < 1e-4
    change = relative_change(out, content, gain, 0.5)
    assert change[1] < change[2] < change[3] and change[4] > change[6] > change[7]
    assert change[3] > 0.5 and change[3] > 5 * change[0] and change[3] > 1000 * change[-3:].max()
    # and around 2 s the full render (up to a gain: the loudness match of the whole clips differs)
    near = slice(int(1.97 * SR), int(2.03 * SR))
    assert np.corrcoef(out[:, near].ravel(), full[:, near].ravel())[0, 1] > 0.99


def test_no_seam_at_the_breakpoints(kernel_model, wind_stats):
    """A steady tone taken 0 -> 1 -> 0 in the style of wind: no level step or spectral flux at
    the breakpoints larger than elsewhere (the envelope bends there; the sound must not jump)."""
    content = tone(6.0)
    out = render(content, SR, kernel_model, wind_stats,
                 RenderSettings(iterations=3, strength=Envelope([0.5, 2, 2.5, 4.5], [0, 1, 1, 0])))
    assert relative_change(out, content, gain_where(out, content, slice(int(4.75 * SR), None)), 0.5)[4] > 0.5
    assert_no_seams(out, SR, [0.5, 2.0, 2.5, 4.5])


@pytest.mark.slow
def test_a_long_streamed_clip_follows_the_envelope_over_the_whole_file(tmp_path, kernel_model, wind_stats):
    """A 10 s tone in chunks of about 1 s: the envelope runs over the file's time, not each chunk's (a
    chunk reading it from its own start would stay near the content in every chunk), and
    neither the breakpoints nor the chunk joins step."""
    content = tone(10.0)
    path = write_wav(tmp_path / "long.wav", content)
    env = Envelope([1, 5, 9], [0, 1, 0])
    settings = RenderSettings(iterations=2, chunk_seconds=1.2, crossfade_seconds=0.2, strength=env)
    render_file(path, tmp_path / "out.wav", kernel_model, wind_stats, settings)
    out, _ = read_audio(tmp_path / "out.wav")
    fade = int(settings.crossfade_seconds * SR)
    spans = chunk_spans(content.shape[1], chunk_frames(settings, SR), fade)
    assert len(spans) == 9  # of at least 1.2 s: 1.29 s, so that a breakpoint (5 s) lies away from the joins
    # where the envelope is 0 (before 1 s, after 9 s) the content, up to the loudness match's one gain
    still = np.r_[0:int(0.9 * SR), int(9.1 * SR):content.shape[1]]
    gain = gain_where(out, content, still)
    assert np.abs(out[:, still] - gain * content[:, still]).max() < 1e-4
    change = relative_change(out, content, gain, 1.0)
    assert change[4] > 0.5 and change[4] > 10 * max(change[0], change[9])
    assert change[1] < change[2] < change[3] < change[4] and change[5] > change[6] > change[7] > change[8]
    joins = [s / SR for s, _ in spans[1:]] + [e / SR for _, e in spans[:-1]]
    points = [p for p in (1.0, 5.0, 9.0) if min(abs(p - j) for j in joins) > 0.15]
    assert points
    assert_no_seams(out, SR, points)
    # A join of a streamed render dips the level a little at any strength (neighbouring chunks'
    # textures are only partly alike; tests/test_streaming.py): up to 5.6 dB at strength 1 here
    # (1 s chunks, 2 iterations). The envelope's joins step no more than the constant render's.
    render_file(path, tmp_path / "full.wav", kernel_model, wind_stats, replace(settings, strength=1.0))
    full, _ = read_audio(tmp_path / "full.wav")
    step, _, change, _ = seams(out, SR, joins)
    full_step, full_step_elsewhere, full_change, full_change_elsewhere = seams(full, SR, joins)
    assert step <= max(full_step, full_step_elsewhere) + 1.0, (step, full_step)
    assert change <= max(full_change, full_change_elsewhere) * 1.25, (change, full_change)
    recorded = json.loads((tmp_path / "out.wav.json").read_text())
    assert recorded["strength"] == recorded["settings"]["strength"] == "1:0, 5:1, 9:0"


def test_an_envelope_at_zero_over_a_streamed_clip_is_the_content_unrendered(tmp_path, kernel_model, rain_stats):
    content = synth.plucked_melody(SR, 3.0)
    path = write_wav(tmp_path / "c.wav", content)
    settings = RenderSettings(chunk_seconds=1.0, crossfade_seconds=0.2, strength=Envelope([0, 10], [0, 0]))
    render_file(path, tmp_path / "out.wav", kernel_model, rain_stats, settings)
    assert np.array_equal(read_audio(tmp_path / "out.wav")[0], content)


# ---- sidecar and --like ----------------------------------------------------------------------

@pytest.mark.slow
def test_the_sidecar_records_the_envelope_and_like_reproduces_it(tmp_path, melody, rain, capsys):
    clip, style = write_wav(tmp_path / "clip.wav", melody), write_wav(tmp_path / "rain.wav", rain)
    first = tmp_path / "first.wav"
    assert main(["render", str(clip), "--style", str(style), "-o", str(first), "--iterations", "2",
                 "--strength", "0:0, 1.5:1, 3:0.3"]) == 0
    data = sidecar.read(str(first) + ".json")
    assert data["strength"] == data["settings"]["strength"] == "0:0, 1.5:1, 3:0.3"
    assert sidecar.settings_from(data).strength == Envelope([0, 1.5, 3], [0, 1, 0.3])
    again = tmp_path / "again.wav"
    assert main(["render", "--like", str(first) + ".json", str(clip), "-o", str(again)]) == 0
    assert np.array_equal(read_audio(first)[0], read_audio(again)[0])  # bit for bit on the CPU
    assert main(["render", "--like", str(first) + ".json", str(clip), "-o", str(tmp_path / "n.wav"),
                 "--strength", "0.5"]) == 0
    assert sidecar.read(str(tmp_path / "n.wav") + ".json")["strength"] == 0.5  # a number stays a number
    capsys.readouterr()


@pytest.mark.slow
def test_the_readme_command_runs_as_shown(tmp_path):
    """The README's example, as a user types it (in a process of its own; the clip is the built-in melody)."""
    write_wav(tmp_path / "guitar.wav", synth.plucked_melody(SR, 3.0))
    words = readme_command(".venv/bin/gramophone render", "--strength \"0:")
    assert words[1:] == ["render", "guitar.wav", "--preset", "rain", "--strength", "0:0, 4:1, 8:0.3",
                         "-o", "guitar-rain-swell.wav"], words
    done = run_gramophone(words[1:], tmp_path)
    assert done.returncode == 0, done.stderr
    assert json.loads((tmp_path / "guitar-rain-swell.wav.json").read_text())["strength"] == "0:0, 4:1, 8:0.3"
