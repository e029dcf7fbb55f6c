"""The thread policy (bridge/threads.py): auto takes the cores other programs leave idle, a
setting from --threads or $GRAMOPHONE_THREADS reaches torch in the worker that renders, and bad
values are refused with bad_parameter. Its timings are in bench/speed.py, not here."""
import threading

import pytest

from gramophone.bridge import cli, threads
from gramophone.bridge.render_task import RenderTask, StyleSource
from gramophone.engine import GramophoneError, RenderSettings

from helpers import write_wav


@pytest.mark.parametrize("other_busy, expected", [
    (0.0, 2),    # quiet: every core
    (0.2, 2),    # a little background work leaves the cores free
    (0.6, 1),    # a core taken, even where our own render already squeezed the host to 60 % of it
    (1.0, 1),    # one core busy (a DAW's audio engine): leave it to the host
    (2.0, 1),    # everything busy: still one thread
    (None, 1),   # load unknown: keep a core for the host
])
def test_auto_leaves_the_busy_cores(other_busy, expected):
    assert threads.choose(None, 2, other_busy) == expected


def test_auto_on_a_larger_machine_and_within_a_workers_share():
    assert threads.choose(None, 8, 1.0) == 7
    assert threads.choose(None, 8, 2.9) == 5
    assert threads.choose(None, 8, 0.0, cap=4) == 4  # two workers on 8 cores: four each at most
    assert threads.choose(3, 2, 2.0) == 3  # a number is used as it is


def test_the_probe_counts_other_processes_only(monkeypatch):
    # 2 s apart: the machine's cores were busy 3 CPU-seconds, 1 of them ours -> others kept 1 core busy
    snapshots = iter([threads._Snapshot(100.0, 50.0, 10.0), threads._Snapshot(102.0, 53.0, 11.0)])
    monkeypatch.setattr(threads, "_snapshot", lambda: next(snapshots))
    monkeypatch.setattr(threads.time, "monotonic", lambda: 101.0)
    assert threads.LoadProbe().other_busy() == pytest.approx(1.0)


@pytest.mark.parametrize("value, expected", [(None, None), ("", None), ("auto", None), (" AUTO ", None),
                                             ("1", 1), ("4", 4), (2, 2)])
def test_settings_parse(value, expected):
    assert threads.parse(value) == expected


@pytest.mark.parametrize("bad", ["0", "-1", "x", "2.5", "1e3", "257", "two"])
def test_bad_settings_are_refused_with_bad_parameter(bad):
    with pytest.raises(GramophoneError) as err:
        threads.parse(bad)
    assert err.value.code == "bad_parameter"


def test_threads_spin_briefly_unless_the_user_chose(monkeypatch):
    def clear():
        for name in threads.WAIT_VARIABLES:
            monkeypatch.delenv(name, raising=False)

    clear()
    threads.prepare_environment()
    assert threads.os.environ["GOMP_SPINCOUNT"] == threads.SPIN_COUNT
    assert threads.os.environ["KMP_BLOCKTIME"] == threads.BLOCK_TIME_MS and "OMP_WAIT_POLICY" not in threads.os.environ
    assert "a short spin" in threads.describe()
    for name, value in (("OMP_WAIT_POLICY", "PASSIVE"), ("GOMP_SPINCOUNT", "300000"), ("KMP_BLOCKTIME", "200")):
        clear()
        monkeypatch.setenv(name, value)
        threads.prepare_environment()
        assert {k: threads.os.environ[k] for k in threads.WAIT_VARIABLES if k in threads.os.environ} == {name: value}
    clear()
    monkeypatch.setenv("OMP_WAIT_POLICY", "PASSIVE")
    assert "passive" in threads.describe()


def test_an_auto_render_follows_the_load_while_it_runs(monkeypatch):
    """``following``: with auto, a progress call at least LOOK_EVERY seconds after the last look
    chooses the threads again (a DAW that starts or stops playing mid-render); a set number stays."""
    import torch

    busy = [0.0]
    monkeypatch.setattr(threads._probe, "other_busy", lambda: busy[0])
    monkeypatch.setattr(threads, "cores", lambda: 2)
    clock = [100.0]
    monkeypatch.setattr(threads.time, "monotonic", lambda: clock[0])
    seen = []
    before = torch.get_num_threads()
    try:
        assert threads.apply(None) == 2
        report = threads.following(lambda f, loss: seen.append((f, torch.get_num_threads())), None)
        busy[0] = 1.0  # the host starts playing
        report(0.1, 0.0)  # too soon to look again
        clock[0] += threads.LOOK_EVERY
        report(0.2, 0.0)
        busy[0] = 0.0  # and stops
        clock[0] += threads.LOOK_EVERY
        report(0.3, 0.0)
        assert seen == [(0.1, 2), (0.2, 1), (0.3, 2)]
        torch.set_num_threads(1)
        fixed = lambda f, loss: None  # noqa: E731
        assert threads.following(fixed, 1) is fixed  # a set number: never looked at again
    finally:
        torch.set_num_threads(before)


@pytest.mark.parametrize("command", [["render", "{clip}", "--style", "{clip}", "-o", "{out}"],
                                     ["batch", "{clip}", "-o", "{folder}"],
                                     ["serve", "--port", "0"]])
def test_cli_refuses_bad_threads_from_option_and_environment(command, tmp_path, melody, monkeypatch, capsys):
    clip = write_wav(tmp_path / "clip.wav", melody)
    argv = [a.format(clip=clip, out=tmp_path / "out.wav", folder=tmp_path / "out") for a in command]
    assert cli.main(argv + ["--threads", "0"]) == 2
    assert "[bad_parameter" in capsys.readouterr().err
    monkeypatch.setenv(threads.ENV, "many")
    assert cli.main(argv) == 2
    assert "[bad_parameter" in capsys.readouterr().err
    assert not (tmp_path / "out.wav").exists() and not (tmp_path / "out").exists()


@pytest.mark.slow
def test_setting_reaches_torch_in_the_worker(tmp_path, melody, rain, monkeypatch):
    """$GRAMOPHONE_THREADS, overridden by --threads, is what the worker process gives torch."""
    content, style = write_wav(tmp_path / "clip.wav", melody[:, :22_050]), write_wav(tmp_path / "rain.wav", rain)

    def threads_used(argv: list[str]) -> int:
        events, finished = [], threading.Event()

        def emit(job_id, event, *args):
            events.append((event, *args))
            if event in ("done", "error", "cancelled"):
                finished.set()

        backend = cli._backend(cli._parser().parse_args(["batch", str(content), "-o", str(tmp_path)] + argv))(emit)
        try:
            out = tmp_path / f"out{len(argv)}.wav"
            backend.start(RenderTask(1, str(content), str(out), StyleSource(style_files=(str(style),)),
                                     RenderSettings(iterations=2), RenderTask.staging_for(out)))
            assert finished.wait(120), events
        finally:
            backend.close()
        assert events[-1][0] == "done", events
        return next(e[2] for e in events if e[0] == "started")

    monkeypatch.setenv(threads.ENV, "3")
    assert threads_used([]) == 3
    assert threads_used(["--threads", "1"]) == 1
