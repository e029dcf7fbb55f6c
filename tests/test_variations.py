"""Variations (issue #23, item 3): N takes of one clip from one job, by seed or by a spread of
strengths, named OUT-v1.wav ..., each with its sidecar; the seed changes the render in both
domains; the style is analysed once; every take is reported over OSC before done."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from gramophone.bridge import batch
from gramophone.bridge.batch import StyleChoice
from gramophone.bridge.cli import main
from gramophone.engine import RenderSettings, analyse_style, render, sidecar, synth
from gramophone.engine.audio_io import read_audio
from gramophone.engine.automation import Envelope
from gramophone.engine.errors import GramophoneError
from gramophone.engine.models import get_model
from gramophone.engine.preset_store import PresetStore
from gramophone.engine.takes import MAX_VARIATIONS, take_path, take_settings

from helpers import SR, readme_command, run_gramophone, serve_in_thread, write_wav


pytestmark = pytest.mark.usefixtures("one_torch_thread")  # results, not speed, on a shared machine


def log_spectrogram(x: np.ndarray) -> np.ndarray:
    """dB magnitudes (46 ms windows) of the channels' mean."""
    window = np.hanning(1024)
    mono = x.mean(0)
    frames = np.lib.stride_tricks.sliding_window_view(mono, 1024)[::256] * window
    return 20 * np.log10(np.abs(np.fft.rfft(frames, axis=1)) + 1e-6)


def distance_db(a: np.ndarray, b: np.ndarray) -> float:
    """Mean absolute difference of two clips' log spectrograms, in dB."""
    return float(np.mean(np.abs(log_spectrogram(a) - log_spectrogram(b))))


# ---- the takes' settings and names ----------------------------------------------------------

def test_takes_differ_by_seed_or_by_a_spread_of_strengths():
    assert take_settings(RenderSettings()) == [RenderSettings()]
    by_seed = take_settings(RenderSettings(variations=3, seed=7, strength=0.8))
    assert [(t.seed, t.strength, t.variations) for t in by_seed] == [(7, 0.8, 1), (8, 0.8, 1), (9, 0.8, 1)]
    spread = take_settings(RenderSettings(variations=4, vary="strength", strength=0.8))
    assert [t.strength for t in spread] == pytest.approx([0.2, 0.4, 0.6, 0.8]) and {t.seed for t in spread} == {0}
    env = take_settings(RenderSettings(variations=2, vary="strength", strength=Envelope([0, 4], [0.5, 1])))
    assert [t.strength for t in env] == [Envelope([0, 4], [0.25, 0.5]), Envelope([0, 4], [0.5, 1])]
    assert take_path("/a/clip-rain.wav", 1, 1) == Path("/a/clip-rain.wav")
    assert take_path("/a/clip-rain.wav", 2, 3) == Path("/a/clip-rain-v2.wav")


@pytest.mark.parametrize("bad", [{"variations": 0}, {"variations": MAX_VARIATIONS + 1}, {"vary": "colour"}])
def test_bad_variations_are_bad_parameter(bad):
    with pytest.raises(GramophoneError) as err:
        RenderSettings(**bad).validated()
    assert err.value.code == "bad_parameter"


# ---- the seed matters in both domains --------------------------------------------------------

@pytest.mark.parametrize("model_name", ["kernel", pytest.param("auditory", marks=pytest.mark.slow)])
def test_the_seed_changes_the_render_and_repeats_for_the_same_seed(model_name):
    """kernel (spectrogram domain): the seed draws the random phase of the bins the render fills;
    auditory (waveform domain): a seed other than 0 starts the optimiser from the content plus
    seeded noise 60 dB under it. Either way another seed gives another texture over a similar
    spectrum, and the same seed the same render, bit for bit."""
    model = get_model(model_name)
    style = analyse_style([(synth.rain(SR, 2.0), SR)], model)
    content = synth.plucked_melody(SR, 2.0)
    takes = [render(content, SR, model, style, RenderSettings(seed=s, iterations=10)) for s in (0, 1, 1)]
    assert np.array_equal(takes[1], takes[2])
    apart = distance_db(takes[0], takes[1])
    assert apart > 2.0, apart  # measurably different spectrograms (dB, mean over bins and frames) ...
    assert apart < distance_db(takes[0], content), apart  # ... nearer each other than to the content


# ---- the command line ------------------------------------------------------------------------

@pytest.mark.slow
def test_render_variations_writes_each_take_with_its_sidecar(tmp_path, melody, rain, monkeypatch, capsys):
    from gramophone.engine import pipeline

    analysed = []
    original = pipeline.style_from_files
    monkeypatch.setattr(pipeline, "style_from_files", lambda *a, **k: analysed.append(1) or original(*a, **k))
    clip, style = write_wav(tmp_path / "clip.wav", melody), write_wav(tmp_path / "rain.wav", rain)
    out = tmp_path / "clip-rain.wav"
    assert main(["render", str(clip), "--style", str(style), "-o", str(out), "--iterations", "3",
                 "--variations", "3"]) == 0
    assert len(analysed) == 1  # the style analysed once for the three takes
    paths = [tmp_path / f"clip-rain-v{k}.wav" for k in (1, 2, 3)]
    assert capsys.readouterr().out.split() == [str(p) for p in paths] and not out.exists()
    takes = [read_audio(p)[0] for p in paths]
    records = [sidecar.read(str(p) + ".json") for p in paths]
    assert [r["seed"] for r in records] == [0, 1, 2] and {r["settings"]["variations"] for r in records} == {1}
    assert min(distance_db(a, b) for a, b in ((takes[0], takes[1]), (takes[1], takes[2]), (takes[0], takes[2]))) > 2.0
    # each take's sidecar reproduces that take
    again = tmp_path / "again.wav"
    assert main(["render", "--like", str(paths[1]) + ".json", str(clip), "-o", str(again)]) == 0
    assert np.array_equal(read_audio(again)[0], takes[1])


@pytest.mark.slow
def test_render_variations_by_strength_spread_from_subtle_to_full(tmp_path, melody, capsys):
    clip = write_wav(tmp_path / "clip.wav", melody)
    assert main(["render", str(clip), "--preset", "rain", "-o", str(tmp_path / "o.flac"), "--iterations", "3",
                 "--variations", "3", "--vary", "strength", "--strength", "0.9"]) == 0
    paths = [tmp_path / f"o-v{k}.flac" for k in (1, 2, 3)]
    assert [sidecar.read(str(p) + ".json")["strength"] for p in paths] == pytest.approx([0.3, 0.6, 0.9])
    moved = [distance_db(read_audio(p)[0], melody) for p in paths]
    assert moved[0] < moved[1] < moved[2], moved
    capsys.readouterr()


@pytest.mark.slow
def test_takes_by_strength_share_one_optimisation_and_like_repeats_each(tmp_path, melody, monkeypatch, capsys):
    """``vary strength`` of a clip rendered in one piece: the style is optimised toward once and
    every take is the content morphed toward that one render, which is what each take's own
    render does, so ``--like`` on any take's sidecar gives that take bit for bit."""
    from gramophone.engine import style_blend

    optimised = []  # every render (each optimises the style)
    original = style_blend.render
    monkeypatch.setattr(style_blend, "render", lambda *a, **k: optimised.append(1) or original(*a, **k))
    clip = write_wav(tmp_path / "clip.wav", melody)
    out = tmp_path / "o.wav"
    assert main(["render", str(clip), "--preset", "rain", "-o", str(out), "--iterations", "3",
                 "--variations", "4", "--vary", "strength", "--strength", "0:0.4, 1:1"]) == 0
    assert len(optimised) == 1  # optimised once for the four takes
    paths = [tmp_path / f"o-v{k}.wav" for k in (1, 2, 3, 4)]
    takes = [read_audio(p)[0] for p in paths]
    moved = [distance_db(t, melody) for t in takes]
    assert moved == sorted(moved) and moved[0] < moved[-1] - 1.0, moved
    for k in (0, 2, 3):
        again = tmp_path / f"again-{k}.wav"
        assert main(["render", "--like", str(paths[k]) + ".json", str(clip), "-o", str(again)]) == 0
        assert np.array_equal(read_audio(again)[0], takes[k]), k
    assert len(optimised) == 4  # each --like, a render of its own
    # a blend shares its two renders the same way
    optimised.clear()
    assert main(["render", str(clip), "--preset", "rain", "--blend-to", "fire", "--blend", "0:0, 1:1",
                 "-o", str(tmp_path / "b.wav"), "--iterations", "3", "--variations", "2", "--vary", "strength"]) == 0
    assert len(optimised) == 2
    again = tmp_path / "b-again.wav"
    assert main(["render", "--like", str(tmp_path / "b-v1.wav.json"), str(clip), "-o", str(again)]) == 0
    assert np.array_equal(read_audio(again)[0], read_audio(tmp_path / "b-v1.wav")[0])
    capsys.readouterr()


def test_takes_by_strength_of_a_streamed_clip_render_each_take(tmp_path, melody, monkeypatch):
    """A clip longer than a chunk is streamed, chunk by chunk per take: N renders (documented)."""
    from dataclasses import replace

    from gramophone.engine import streaming
    from gramophone.engine.pipeline import render_takes

    optimised = []  # every chunk's render
    original = streaming.render
    monkeypatch.setattr(streaming, "render", lambda *a, **k: optimised.append(1) or original(*a, **k))
    clip = write_wav(tmp_path / "clip.wav", synth.plucked_melody(SR, 3.5))
    model = get_model("kernel")
    stats = analyse_style([(synth.rain(SR, 2.0), SR)], model)
    settings = replace(RenderSettings(iterations=2, variations=2, vary="strength"), chunk_seconds=1.0,
                       crossfade_seconds=0.2)
    results = render_takes(clip, tmp_path / "o.wav", model, stats, settings)
    assert [r.output_path.name for r in results] == ["o-v1.wav", "o-v2.wav"]
    assert len(optimised) == 2 * 4  # four chunks (of at least 1 s, overlapping by 0.2 s), per take


@pytest.mark.slow
def test_the_readme_command_runs_as_shown(tmp_path):
    write_wav(tmp_path / "clip.wav", synth.plucked_melody(SR, 2.0))
    words = readme_command(".venv/bin/gramophone render", "--variations")
    assert words[1:] == ["render", "clip.wav", "--preset", "rain", "--variations", "3", "-o", "clip-rain.wav"], words
    done = run_gramophone(words[1:], tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == [f"clip-rain-v{k}.wav" for k in (1, 2, 3)]  # as named, one a line
    assert all((tmp_path / f"clip-rain-v{k}.wav.json").is_file() for k in (1, 2, 3))


# ---- batch -----------------------------------------------------------------------------------

def test_a_batch_plans_each_take_as_its_own_item(tmp_path, melody):
    clip = write_wav(tmp_path / "clip.wav", melody)
    planned = batch.plan([str(clip)], tmp_path / "out", [StyleChoice(preset="rain")], [1.0],
                         RenderSettings(variations=2), PresetStore(tmp_path / "user"))
    assert [i.output.name for i in planned.items] == ["clip.rain.s1-v1.wav", "clip.rain.s1-v2.wav"]
    assert [i.settings.seed for i in planned.items] == [0, 1] and [i.index for i in planned.items] == [0, 1]
    assert len({i.fingerprint for i in planned.items}) == 2


# ---- OSC -------------------------------------------------------------------------------------

@pytest.fixture
def server(tmp_path):
    yield from serve_in_thread(tmp_path, max_queue=2)


@pytest.mark.slow
def test_osc_variations_report_every_take_then_done(tmp_path, client, melody):
    work = tmp_path / "work"
    clip = write_wav(work / "clip.wav", melody)
    out = work / "out.wav"
    client.send("/gramophone/render", "j", str(clip), "rain", str(out), "iterations", 2, "variations", 2,
                "strength", [0.0, 0.0, 1.0, 1.0])  # an envelope as an OSC array, for good measure
    done = client.wait_for("/gramophone/done", timeout=120)
    takes = [p for a, p in client.received if a == "/gramophone/take"]
    paths = [str(work / "out-v1.wav"), str(work / "out-v2.wav")]
    assert takes == [["j", 1, 2, paths[0]], ["j", 2, 2, paths[1]]]
    assert done[:2] == ["j", paths[0]]
    order = [a for a, _ in client.received]
    assert order.index("/gramophone/done") > max(i for i, a in enumerate(order) if a == "/gramophone/take")
    for k, path in enumerate(paths):
        record = json.loads(Path(path + ".json").read_text())
        assert record["seed"] == k and record["strength"] == "0:0, 1:1" and Path(path).is_file()
    assert not out.exists()
