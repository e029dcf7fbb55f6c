"""Render workers in their own processes: the socket stays quick while presets load, a killed
worker costs its job `worker_died` (never the server), cancel stops a job within a second."""
import os
import signal
import statistics
import time

import numpy as np
import pytest
import torch

from gramophone.engine.preset_format import Preset, save

from helpers import serve_in_thread


@pytest.fixture
def server(tmp_path):
    yield from serve_in_thread(tmp_path)


def leftovers(folder):
    """Everything in ``folder`` but the content clip (partial files, staging folders)."""
    return sorted(p.name for p in folder.iterdir() if p.name != "clip.wav")


def start_long_render(client, work, job_id="long"):
    client.send("/gramophone/render", job_id, str(work / "clip.wav"), "rain", str(work / f"{job_id}.wav"),
                "iterations", 5000)
    client.wait_for("/gramophone/progress", first=job_id, timeout=120)


def ping_ms(client) -> float:
    t = time.perf_counter()
    client.request("/gramophone/ping", reply="/gramophone/pong")
    return (time.perf_counter() - t) * 1000


@pytest.mark.slow
def test_ping_stays_quick_while_a_large_preset_loads(server, client, work, tmp_path):
    # a valid kernel preset of ~120 MB: reading and verifying its hash takes a good fraction of a second
    frames = 30_000
    rng = np.random.default_rng(0)
    stats = {"frames": torch.from_numpy(np.abs(rng.standard_normal((1025, frames), dtype=np.float32))),
             "weights": torch.full((frames,), 1.0 / frames), "self_term": torch.ones(1)}
    params = {"sample_rate": 22050, "n_fft": 2048, "hop": 512, "width": 11, "max_frames": frames}
    (tmp_path / "user").mkdir()
    save(Preset("big", "kernel", params, stats), tmp_path / "user" / "big.gpreset")
    client.request("/gramophone/ping", reply="/gramophone/pong")  # the worker is started: warm up the socket
    client.received.clear()
    client.send("/gramophone/render", "big", str(work / "clip.wav"), "big", str(work / "o.wav"), "iterations", 5000)
    started, times = time.monotonic(), []
    while not any(a == "/gramophone/progress" and p[1] > 0 for a, p in client.received):  # optimising: loaded
        seen = list(client.received)
        times.append(ping_ms(client))
        client.received[:0] = seen  # keep the render's replies for the loop's condition
        assert time.monotonic() - started < 120, client.received
    load_seconds = time.monotonic() - started
    client.send("/gramophone/cancel", "big")
    client.wait_for("/gramophone/cancelled", first="big", timeout=10)
    # the preset took long to load, and pings went on throughout: a socket thread that loaded it
    # itself would have answered one ping only after the whole load
    assert load_seconds > 0.3 and len(times) >= 10, (load_seconds, len(times))
    # Latency figures belong to bench/osc.py; here one stray stall on a busy 2-core machine
    # (measured once in a full run: 390 ms, while the worker allocated) is not the defect this
    # test is about, so one ping in twenty may be slow, never the typical one.
    slow = [t for t in times if t >= 100.0]
    assert statistics.median(times) < 5.0 and len(slow) <= max(1, len(times) // 20), times


@pytest.mark.slow
def test_a_killed_worker_costs_its_job_worker_died_and_the_server_goes_on(server, client, work):
    start_long_render(client, work)
    (pid,) = server.queue.backend.pids()
    os.kill(pid, signal.SIGKILL)
    err = client.wait_for("/gramophone/error", first="long", timeout=10)
    assert err[1] == "worker_died" and "SIGKILL" in err[2]
    assert client.request("/gramophone/ping", reply="/gramophone/pong")
    client.send("/gramophone/render", "next", str(work / "clip.wav"), "rain", str(work / "next.wav"), "iterations", 2)
    assert client.wait_for("/gramophone/done", first="next", timeout=120)[1] == str(work / "next.wav")
    assert server.queue.backend.pids() != [pid]
    assert leftovers(work) == ["next.wav", "next.wav.json"]  # nothing of the killed job


def test_cancel_stops_a_running_render_within_a_second(client, work):
    start_long_render(client, work)
    t = time.monotonic()
    client.send("/gramophone/cancel", "long")
    client.wait_for("/gramophone/cancelled", first="long", timeout=10)
    assert time.monotonic() - t < 1.0
    assert leftovers(work) == []


@pytest.mark.slow
def test_a_worker_that_does_not_stop_is_ended_within_a_second(server, client, work):
    start_long_render(client, work)
    (pid,) = server.queue.backend.pids()
    os.kill(pid, signal.SIGSTOP)  # a worker stuck where it cannot look at the cancel request
    t = time.monotonic()
    client.send("/gramophone/cancel", "long")
    client.wait_for("/gramophone/cancelled", first="long", timeout=10)
    assert time.monotonic() - t < 1.0
    assert server.queue.backend.pids() != [pid]
    assert leftovers(work) == []
    client.send("/gramophone/render", "after", str(work / "clip.wav"), "rain", str(work / "a.wav"), "iterations", 2)
    assert client.wait_for("/gramophone/done", first="after", timeout=120)


def test_workers_are_spawned_not_forked(server):
    from gramophone.bridge.workers import LocalWorkers

    backend = server.queue.backend
    assert isinstance(backend, LocalWorkers) and backend._ctx.get_start_method() == "spawn"
