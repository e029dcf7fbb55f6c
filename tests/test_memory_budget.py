"""A render's memory budget (issue #24 item 2): the estimate against measured peaks, refusals
over the budget before any work (OSC, render, batch), and a killed worker's likely cause."""
import signal

import pytest

from bench.budget import estimate, measure, write_content
from gramophone.bridge import batch, workers
from gramophone.bridge.batch import StyleChoice
from gramophone.bridge.cli import main
from gramophone.engine import RenderSettings
from gramophone.engine.memory_budget import check_budget, parse_size
from gramophone.engine.errors import GramophoneError
from gramophone.engine.preset_store import PresetStore, default_shipped_dir

from helpers import serve_in_thread


@pytest.mark.parametrize("seconds, channels, rate, iterations",
                         [(2, 1, 44_100, 3), (6, 2, 48_000, 3), (15, 1, 22_050, 2)])
@pytest.mark.slow
def test_the_estimate_is_within_25_percent_of_a_measured_peak(tmp_path, seconds, channels, rate, iterations):
    content = write_content(tmp_path / "c.wav", seconds, channels, rate)
    measured = measure(content, iterations)
    assert estimate(content, iterations) == pytest.approx(measured, rel=0.25)


@pytest.mark.slow
def test_a_style_blend_is_estimated_within_25_percent():
    """A moving blend renders twice and combines the two: about twice a render's peak, estimated."""
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as tmp:
        content = write_content(Path(tmp) / "c.wav", 6, 2, 48_000)
        measured, alone = measure(content, 2, blend_to="fire"), estimate(content, 2)
        assert measured > 1.3 * alone  # the blend's own cost shows, so the test can tell
        assert estimate(content, 2, blend_to="fire") == pytest.approx(measured, rel=0.25)


def test_sizes():
    assert parse_size("1500") == 1500 and parse_size("512M") == 512 and parse_size("2G") == 2048
    assert parse_size("1.5GB") == 1536 and parse_size("2gib") == 2048
    for bad in ("", "0", "-1G", "2X", "lots"):
        with pytest.raises(ValueError):
            parse_size(bad)


def test_over_budget_is_a_clear_error():
    check_budget(100.0, 200.0)
    with pytest.raises(GramophoneError) as exc:
        check_budget(300.0, 200.0, "job 'a'")
    assert exc.value.code == "over_budget" and "300 MB" in str(exc.value) and "--max-memory" in str(exc.value)


def _refuse_work(monkeypatch):
    """Make any loading or rendering fail the test: a refusal must come before all of it."""
    from gramophone.engine import pipeline, preset_format

    def forbidden(*args, **kwargs):
        raise AssertionError("work started for a render over its budget")

    monkeypatch.setattr(preset_format, "load", forbidden)
    monkeypatch.setattr(pipeline, "render_file", forbidden)


def test_render_over_the_budget_is_refused_before_any_work(tmp_path, monkeypatch, capsys):
    content = write_content(tmp_path / "c.wav", 2, 1, 44_100)
    _refuse_work(monkeypatch)
    out = tmp_path / "o.wav"
    assert main(["render", str(content), "--preset", "rain", "-o", str(out), "--max-memory", "100M"]) == 2
    err = capsys.readouterr().err
    assert "[over_budget:" in err and "100 MB" in err and not out.exists()
    assert main(["render", str(content), "--style", str(content), "-o", str(out), "--max-memory", "1"]) == 2
    assert "[over_budget:" in capsys.readouterr().err and not out.exists()


def test_a_bad_size_is_a_usage_error(tmp_path, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["render", "c.wav", "--preset", "rain", "-o", "o.wav", "--max-memory", "lots"])
    assert exc.value.code == 2 and "not a memory size" in capsys.readouterr().err


def test_batch_items_over_the_budget_are_refused(tmp_path):
    content = write_content(tmp_path / "c.wav", 2, 1, 44_100)
    store = PresetStore(tmp_path / "user", default_shipped_dir())
    planned = batch.plan([str(content)], tmp_path / "out", [StyleChoice(preset="rain")], [1.0],
                         RenderSettings(iterations=2), store)
    batch.check_memory(planned, 1.0)
    assert [(i.status, i.code) for i in planned.items] == [("error", "over_budget")]
    planned = batch.plan([str(content)], tmp_path / "out", [StyleChoice(preset="rain")], [1.0],
                         RenderSettings(iterations=2), store)
    batch.check_memory(planned, 1e6)
    assert [i.status for i in planned.items] == ["pending"]


@pytest.fixture
def server(tmp_path):
    yield from serve_in_thread(tmp_path, max_memory=100.0)


def test_osc_render_over_the_budget_is_refused_and_never_queued(server, client, work):
    client.send("/gramophone/render", "big", str(work / "clip.wav"), "rain", str(work / "o.wav"))
    err = client.wait_for("/gramophone/error")
    assert err[:2] == ["big", "over_budget"] and "100 MB" in err[2]
    assert server.queue.status() == (0, []) and not (work / "o.wav").exists()


def test_a_kernel_oom_kill_is_named_as_the_likely_cause(monkeypatch):
    monkeypatch.setattr(workers, "oom_kills", lambda: 8)
    oom = workers.death_cause(-signal.SIGKILL, 7, 812.0)
    assert "SIGKILL" in oom and "out of memory" in oom and "812 MB" in oom
    other = workers.death_cause(-signal.SIGKILL, 8, 812.0)
    assert "SIGKILL" in other and "no out-of-memory kill" in other
    assert "crashed" in workers.death_cause(-signal.SIGSEGV, 8)
    assert workers.death_cause(3, 8) == "exit status 3"
