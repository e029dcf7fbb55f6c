"""Shared fixtures: short built-in clips (no files needed), the kernel model, and servers to talk to.

Plain helpers that tests import by name live in ``helpers.py`` (a conftest is not a module to import)."""
from __future__ import annotations

from gramophone.bridge import threads

threads.prepare_environment()  # how OpenMP's threads wait, as in every process that renders: before torch loads

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from gramophone.engine import synth
from gramophone.engine.models import get_model
from gramophone.engine.render import analyse_style

from helpers import SR, write_wav

torch.set_num_threads(2)


@pytest.fixture(scope="session")
def melody() -> np.ndarray:
    return synth.plucked_melody(SR, 3.0)


@pytest.fixture(scope="session")
def rain() -> np.ndarray:
    return synth.rain(SR, 3.0)


@pytest.fixture(scope="session")
def kernel_model():
    return get_model("kernel")


@pytest.fixture(scope="session")
def rain_stats(rain, kernel_model):
    return analyse_style([(rain, SR)], kernel_model)


@pytest.fixture
def wav(tmp_path):
    """``wav(name, data, sr)`` writes a float WAV under tmp_path and returns its path."""
    return lambda name, data, sr=SR: write_wav(tmp_path / name, data, sr)


@pytest.fixture
def served(tmp_path, melody):
    """A real `gramophone serve` process allowed to use tmp_path, with clip.wav (the melody) in it."""
    from serverprocess import ServerProcess

    write_wav(tmp_path / "clip.wav", melody)
    server = ServerProcess(tmp_path)
    yield server
    server.stop()


@pytest.fixture
def client(server):
    """An OSC client of the module's ``server`` fixture."""
    from gramophone.bridge.osc_client import Client

    c = Client(server.address)
    yield c
    c.close()


@pytest.fixture
def work(tmp_path, melody):
    """The server's allowed folder, with clip.wav (the melody) in it."""
    folder = tmp_path / "work"
    write_wav(folder / "clip.wav", melody)
    return folder



@pytest.fixture
def one_torch_thread():
    """One torch thread for the test (results, not speed, on a shared machine), then as before."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(autouse=True)
def fixed_render_threads(monkeypatch):
    """Renders the command line, workers and Ray start in tests use two torch threads, not ``auto``:
    a render's last bits depend on its thread count, and ``auto`` follows whatever else the machine
    runs at that moment, so two renders a test compares bit for bit could differ (tests of the
    thread policy set or remove the variable themselves)."""
    monkeypatch.setenv("GRAMOPHONE_THREADS", "2")
