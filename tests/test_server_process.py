"""The real `gramophone serve` process: a round trip with liblo's oscsend/oscdump (a third-party
OSC implementation), clean shutdown on SIGTERM, and no partial file after SIGKILL."""
import os
import select
import shutil
import signal
import subprocess
import sys
import time

import pytest

from gramophone.bridge.osc_client import Client
from gramophone.bridge.osc_client import free_port
from serverprocess import ROOT


@pytest.mark.external
@pytest.mark.skipif(shutil.which("oscsend") is None or shutil.which("oscdump") is None,
                    reason="liblo-tools (oscsend/oscdump) not installed; .ci/run installs it")
def test_round_trip_with_liblo_oscsend_and_oscdump(served, tmp_path):
    dump_port = free_port()
    dump = subprocess.Popen(["oscdump", "-L", str(dump_port)], stdout=subprocess.PIPE, text=True)
    try:
        time.sleep(0.3)
        subprocess.run(["oscsend", "localhost", str(served.port), "/gramophone/reply", "i", str(dump_port)], check=True)
        out = tmp_path / "liblo out.wav"  # a space in the path, as hosts produce
        subprocess.run(["oscsend", "localhost", str(served.port), "/gramophone/render", "sssssi", "liblo",
                        str(tmp_path / "clip.wav"), "rain", str(out), "iterations", "3"], check=True)
        lines = []  # oscdump prints "TIMETAG /address types args"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and select.select([dump.stdout], [], [], 1.0)[0]:
            line = dump.stdout.readline()
            lines.append(line)
            if "/gramophone/done" in line or "/gramophone/error" in line:
                break
        text = "".join(lines)
        assert '/gramophone/queued si "liblo" 0' in text, text
        assert "/gramophone/progress" in text
        assert f'/gramophone/done ssf "liblo" "{out}"' in text, text
        assert out.exists()
    finally:
        dump.kill()
        dump.wait()


def start_long_render(served, tmp_path) -> Client:
    client = Client(("127.0.0.1", served.port))
    client.send("/gramophone/render", "long", str(tmp_path / "clip.wav"), "rain", str(tmp_path / "out.wav"),
                "iterations", 5000)
    client.wait_for("/gramophone/progress", first="long", timeout=30)
    time.sleep(0.5)
    return client


def test_sigterm_cancels_the_render_and_exits_cleanly(served, tmp_path):
    client = start_long_render(served, tmp_path)
    served.proc.send_signal(signal.SIGTERM)
    assert served.proc.wait(timeout=20) == 0, served.output()
    assert client.wait_for("/gramophone/cancelled", first="long") == ["long"]
    assert not (tmp_path / "out.wav").exists()
    assert not [p for p in os.listdir(tmp_path) if ".part" in p]
    assert "/gramophone/render" in served.output()  # one log line per request
    client.close()


def test_sigkill_during_a_render_leaves_no_output(served, tmp_path):
    client = start_long_render(served, tmp_path)
    served.proc.kill()
    served.proc.wait(timeout=10)
    assert not (tmp_path / "out.wav").exists()
    client.close()


def test_port_in_use_is_a_clear_error(served, tmp_path):
    proc = subprocess.run([sys.executable, "-m", "gramophone", "serve", "--port", str(served.port)], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert "cannot listen" in proc.stderr and "Traceback" not in proc.stderr
