"""OSC benchmark: ping round trip (p50/p99) idle and while a 60 s clip renders (in the server's
worker process), and the time from a render request to its `queued` reply, against a real
`gramophone serve` process.

    .venv/bin/python -m bench.osc
"""
from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

from bench.common import machine, save_json
from gramophone.engine import synth
from gramophone.engine.audio_io import write_audio
from gramophone.bridge.osc_client import Client, free_port

PINGS = 500


def percentiles(samples: list[float]) -> tuple[float, float]:
    ms = sorted(s * 1000 for s in samples)
    return statistics.median(ms), ms[min(len(ms) - 1, int(0.99 * len(ms)))]


def pings(client: Client, n: int) -> list[float]:
    out = []
    for _ in range(n):
        t = time.perf_counter()
        client.request("/gramophone/ping", reply="/gramophone/pong")
        out.append(time.perf_counter() - t)
    return out


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        clip = write_audio(Path(tmp) / "clip.wav", synth.plucked_melody(44_100, 60.0), 44_100)
        port = free_port()
        proc = subprocess.Popen([sys.executable, "-m", "gramophone", "--preset-dir", f"{tmp}/user", "serve",
                                 "--port", str(port), "--reply-port", "0", "--allow-dir", tmp],
                                cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        client = Client(("127.0.0.1", port))
        try:
            for _ in range(100):
                try:
                    client.request("/gramophone/ping", reply="/gramophone/pong", timeout=0.5)
                    break
                except TimeoutError:
                    pass
            pings(client, 50)  # warm up
            idle = percentiles(pings(client, PINGS))
            client.received.clear()
            client.send("/gramophone/render", "busy", str(clip), "rain", f"{tmp}/out.wav", "iterations", 10_000)
            client.wait(lambda rs: any(a == "/gramophone/progress" and p[0] == "busy" and p[1] > 0 for a, p in rs),
                        timeout=120)  # the worker is optimising, not still loading
            busy = percentiles(pings(client, PINGS))
            status = client.request("/gramophone/status", reply="/gramophone/status")
            assert status[1] == "busy", f"the render ended before the pings did: {status}"
            queued = []
            for i in range(50):
                t = time.perf_counter()
                client.request("/gramophone/render", f"q{i}", str(clip), "rain", f"{tmp}/o{i}.wav",
                               reply="/gramophone/queued")
                queued.append(time.perf_counter() - t)
                client.request("/gramophone/cancel", f"q{i}", reply="/gramophone/cancelled")
            q = percentiles(queued)
            client.request("/gramophone/cancel", "busy", reply="/gramophone/cancelled", timeout=30)
        finally:
            client.close()
            proc.terminate()
            proc.wait(30)
    print(f"ping round trip, idle:            p50 {idle[0]:.2f} ms  p99 {idle[1]:.2f} ms  ({PINGS} pings)")
    print(f"ping round trip, while rendering: p50 {busy[0]:.2f} ms  p99 {busy[1]:.2f} ms  ({PINGS} pings)")
    print(f"render request -> queued (60 s 44.1 kHz wav, validated): p50 {q[0]:.2f} ms  p99 {q[1]:.2f} ms")
    print(f"machine: {machine()}")
    save_json("osc.json", dict(idle_ms=idle, busy_ms=busy, queued_ms=q, machine=machine()))


if __name__ == "__main__":
    main()
