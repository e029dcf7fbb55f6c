"""The real `gramophone serve` process: a round trip with liblo's oscsend/oscdump (a third-party
OSC implementation), clean shutdown on SIGTERM, and no partial file after SIGKILL."""
import contextlib
import json
import os
import select
import shlex
import shutil
import signal
import subprocess
import sys
import time
from typing import Iterator

import pytest

from gramophone.bridge.osc_client import Client
from gramophone.bridge.osc_client import free_port
from serverprocess import ROOT


def dumped_until_done(dump: subprocess.Popen, seconds: float) -> str:
    """What ``oscdump`` printed ("TIMETAG /address types args" a line) up to the job's done or error.

    Read from the pipe's descriptor, not through Python's buffered reader: ``select`` sees only the
    descriptor, so lines a ``readline`` had already buffered (a take, then done, arriving together)
    would wait unseen."""
    text, fd = "", dump.stdout.fileno()
    deadline = time.monotonic() + seconds
    def finished() -> bool:  # a whole line (its path printed too) saying done or error
        return any("/gramophone/done" in line or "/gramophone/error" in line for line in text.splitlines()[:-1]
                   + ([text.splitlines()[-1]] if text.endswith("\n") else []))

    while time.monotonic() < deadline and not finished():
        if select.select([fd], [], [], 1.0)[0]:
            chunk = os.read(fd, 65536)
            if not chunk:
                break
            text += chunk.decode()
    return text


LIBLO = pytest.mark.skipif(shutil.which("oscsend") is None or shutil.which("oscdump") is None,
                           reason="liblo-tools (oscsend/oscdump) not installed; .ci/run installs it")


@contextlib.contextmanager
def oscdump_replies(served) -> Iterator[subprocess.Popen]:
    """liblo's oscdump on a free port, registered with the server as the reply port."""
    dump_port = free_port()
    dump = subprocess.Popen(["oscdump", "-L", str(dump_port)], stdout=subprocess.PIPE, text=True)
    try:
        time.sleep(0.3)
        subprocess.run(["oscsend", "localhost", str(served.port), "/gramophone/reply", "i", str(dump_port)], check=True)
        yield dump
    finally:
        dump.kill()
        dump.wait()


def doc_oscsend(served, tmp_path, marker: str, paths: dict[str, str]) -> list[str]:
    """docs/osc.md's oscsend line holding ``marker``, as words, its /tmp paths (``paths``) made
    this test's, its port the server's."""
    doc = (ROOT / "docs" / "osc.md").read_text()
    line = next(x for x in doc.splitlines() if x.startswith("oscsend") and marker in x)
    swap = {"/tmp/in.wav": str(tmp_path / "clip.wav"), "7770": str(served.port), **paths}
    return [swap.get(w, w) for w in shlex.split(line)]


@pytest.mark.external
@LIBLO
def test_round_trip_with_liblo_oscsend_and_oscdump(served, tmp_path):
    with oscdump_replies(served) as dump:
        out = tmp_path / "liblo out.wav"  # a space in the path, as hosts produce
        subprocess.run(["oscsend", "localhost", str(served.port), "/gramophone/render", "sssssi", "liblo",
                        str(tmp_path / "clip.wav"), "rain", str(out), "iterations", "3"], check=True)
        text = dumped_until_done(dump, 60)
    assert '/gramophone/queued si "liblo" 0' in text, text
    assert "/gramophone/progress" in text
    assert f'/gramophone/done ssf "liblo" "{out}"' in text, text
    assert out.exists()


@pytest.mark.external
@LIBLO
def test_docs_oscsend_envelope_and_variations(served, tmp_path):
    """docs/osc.md's second oscsend line as shown (its /tmp paths made this test's): a strength
    envelope as a string and two takes, each announced with /gramophone/take before done."""
    swell = tmp_path / "swell.wav"
    words = doc_oscsend(served, tmp_path, "variations", {"/tmp/swell.wav": str(swell)})
    with oscdump_replies(served) as dump:
        subprocess.run(words, check=True)
        text = dumped_until_done(dump, 180)
    takes = [tmp_path / f"swell-v{k}.wav" for k in (1, 2)]
    assert f'/gramophone/take siis "job2" 1 2 "{takes[0]}"' in text, text
    assert f'/gramophone/take siis "job2" 2 2 "{takes[1]}"' in text, text
    assert f'/gramophone/done ssf "job2" "{takes[0]}"' in text, text
    assert all(t.is_file() for t in takes) and not swell.exists()
    assert json.loads((tmp_path / "swell-v2.wav.json").read_text())["strength"] == "0:0, 2:1"


@pytest.mark.external
@LIBLO
def test_docs_oscsend_blend_from_rain_to_fire(served, tmp_path):
    """docs/osc.md's third oscsend line as shown (its /tmp paths made this test's): a blend from
    the preset rain to blend_to fire and back, recorded in the sidecar."""
    out = tmp_path / "rain-fire.wav"
    words = doc_oscsend(served, tmp_path, "blend_to", {"/tmp/rain-fire.wav": str(out)})
    with oscdump_replies(served) as dump:
        subprocess.run(words, check=True)
        text = dumped_until_done(dump, 240)
    assert f'/gramophone/done ssf "job3" "{out}"' in text, text
    recorded = json.loads((tmp_path / "rain-fire.wav.json").read_text())
    assert recorded["blend_to"]["preset"] == "fire" and recorded["settings"]["blend"] == "0:0, 1:1, 2:0"


def start_long_render(served, tmp_path) -> Client:
    client = Client(("127.0.0.1", served.port))
    client.send("/gramophone/render", "long", str(tmp_path / "clip.wav"), "rain", str(tmp_path / "out.wav"),
                "iterations", 5000)
    client.wait_for("/gramophone/progress", first="long", timeout=30)
    time.sleep(0.5)
    return client


@pytest.mark.slow
def test_sigterm_cancels_the_render_and_exits_cleanly(served, tmp_path):
    client = start_long_render(served, tmp_path)
    served.proc.send_signal(signal.SIGTERM)
    assert served.proc.wait(timeout=20) == 0, served.output()
    assert client.wait_for("/gramophone/cancelled", first="long") == ["long"]
    assert not (tmp_path / "out.wav").exists()
    assert not [p for p in os.listdir(tmp_path) if ".part" in p]
    assert "/gramophone/render" in served.output()  # one log line per request
    client.close()


@pytest.mark.slow
def test_sigkill_during_a_render_leaves_no_output(served, tmp_path):
    client = start_long_render(served, tmp_path)
    served.proc.kill()
    served.proc.wait(timeout=10)
    assert not (tmp_path / "out.wav").exists()
    client.close()


@pytest.mark.slow
def test_port_in_use_is_a_clear_error(served, tmp_path):
    proc = subprocess.run([sys.executable, "-m", "gramophone", "serve", "--port", str(served.port)], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert "cannot listen" in proc.stderr and "Traceback" not in proc.stderr



def _kernel_takes_slices() -> bool:
    """Linux 6.12 and later take a SCHED_OTHER thread's slice from sched_setattr."""
    import platform

    if not os.path.exists("/proc/self/sched"):
        return False
    try:
        major, minor = (int(x) for x in platform.release().split(".")[:2])
    except ValueError:
        return False
    return (major, minor) >= (6, 12)


def _slice_ns(pid: int, thread: str) -> int:
    with open(f"/proc/{pid}/task/{thread}/sched") as f:
        return next(int(line.split(":")[1]) for line in f if line.startswith("se.slice"))


def _realtime_allowed() -> bool:
    """Whether this user may put a thread under SCHED_RR at the server's priority (tried in a child)."""
    from gramophone.bridge.responsiveness import REALTIME_PRIORITY

    code = f"import os; os.sched_setscheduler(0, os.SCHED_RR, os.sched_param({REALTIME_PRIORITY}))"
    return subprocess.run([sys.executable, "-c", code], capture_output=True).returncode == 0


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="scheduling policies are read from Linux's /proc")
@pytest.mark.slow
def test_the_server_threads_run_realtime_where_allowed_and_the_workers_yield(served):
    """bridge/responsiveness.py in the real process: where this user may, every thread of the
    server runs under SCHED_RR (else at normal priority, saying so in its log), and asks for the
    0.1 ms slice (Linux 6.12+); its render workers run at normal priority, nice 10, with the
    default slice, in a session (so a scheduling group) of their own."""
    from bench.soak import workers_of
    from gramophone.bridge.responsiveness import REALTIME_PRIORITY, SERVER_SLICE

    pid = served.proc.pid
    threads = [int(t) for t in os.listdir(f"/proc/{pid}/task")]
    assert len(threads) >= 4  # socket, intake, progress ticker, worker watcher
    realtime = _realtime_allowed()
    expected = (os.SCHED_RR | os.SCHED_RESET_ON_FORK) if realtime else os.SCHED_OTHER
    assert {os.sched_getscheduler(t) for t in threads} == {expected}  # children fall back to normal
    if realtime:
        assert {os.sched_getparam(t).sched_priority for t in threads} == {REALTIME_PRIORITY}
    else:
        assert "server threads at normal priority" in served.output()
    if _kernel_takes_slices() and not realtime:  # a real-time thread's /proc shows no fair-scheduler slice
        assert {_slice_ns(pid, str(t)) for t in threads} == {int(SERVER_SLICE * 1e9)}
    lowered = min(19, os.getpriority(os.PRIO_PROCESS, pid) + 10)
    deadline = time.monotonic() + 60  # a worker lowers its priority once it has started (imports first)
    while time.monotonic() < deadline:
        workers = {w: _stat(w) for w in workers_of(pid)}
        if workers and all(nice == lowered for _, nice in workers.values()):
            break
        time.sleep(0.2)
    assert workers, "no render worker started"
    for worker, (session, nice) in workers.items():
        assert nice == lowered
        assert os.sched_getscheduler(worker) == os.SCHED_OTHER  # SCHED_RESET_ON_FORK
        if _kernel_takes_slices():
            assert _slice_ns(worker, str(worker)) != int(SERVER_SLICE * 1e9)
        if os.path.exists("/proc/self/autogroup"):  # a session, so a scheduling group, of its own
            assert session == worker != os.getsid(pid)


@pytest.mark.slow
def test_realtime_priority_zero_keeps_normal_scheduling(tmp_path):
    """``serve --realtime-priority 0``: every server thread at normal priority, whoever runs it."""
    from gramophone.bridge.responsiveness import SERVER_SLICE
    from serverprocess import ServerProcess

    server = ServerProcess(tmp_path, extra=["--realtime-priority", "0"])
    try:
        threads = [int(t) for t in os.listdir(f"/proc/{server.proc.pid}/task")]
        assert {os.sched_getscheduler(t) for t in threads} == {os.SCHED_OTHER}
        if _kernel_takes_slices():  # then each asks for the short slice instead
            assert {_slice_ns(server.proc.pid, str(t)) for t in threads} == {int(SERVER_SLICE * 1e9)}
    finally:
        server.stop()
    refused = subprocess.run([sys.executable, "-m", "gramophone", "serve", "--realtime-priority", "100"], cwd=ROOT,
                             capture_output=True, text=True, timeout=120)
    assert refused.returncode != 0 and "bad_input" in refused.stderr and "0-99" in refused.stderr, refused.stderr


def _stat(pid: int) -> tuple[int, int]:
    """``(session, nice)`` of a process, from /proc/PID/stat."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[3]), int(fields[16])


@pytest.mark.slow
def test_pings_are_answered_but_not_logged(served, tmp_path):
    client = Client(("127.0.0.1", served.port))
    for _ in range(5):
        assert client.request("/gramophone/ping", reply="/gramophone/pong", timeout=5)
    client.send("/gramophone/presets")
    client.wait_for("/gramophone/presets/end", timeout=30)
    client.close()
    log = served.output()
    assert "/gramophone/presets" in log and "/gramophone/ping" not in log, log
