"""Shared fixtures: short built-in clips (no files needed) and a helper to write them."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch

from gramophone.engine import synth
from gramophone.engine.models import get_model
from gramophone.engine.render import analyse_style

SR = 22_050

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


def write_wav(path: Path, data: np.ndarray, sr: int = SR, subtype: str = "FLOAT") -> Path:
    sf.write(str(path), np.asarray(data).T, sr, subtype=subtype)
    return path


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


def serve_in_thread(tmp_path: Path, **options):
    """An in-process `GramophoneServer` allowed to use ``tmp_path/work``, serving on a thread;
    a generator for a module's ``server`` fixture (the ``client`` and ``work`` fixtures use it)."""
    import threading

    from gramophone.bridge.server import GramophoneServer
    from gramophone.engine.preset_store import PresetStore, default_shipped_dir

    (tmp_path / "work").mkdir()
    srv = GramophoneServer("127.0.0.1", 0, None, [tmp_path / "work"],
                           PresetStore(tmp_path / "user", default_shipped_dir()), "cpu", **options)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield srv
    srv.shutdown()
    thread.join(15)


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

