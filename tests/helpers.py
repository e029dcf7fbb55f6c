"""Plain helpers the tests import by name (``from helpers import SR, write_wav``): the test clips'
sample rate, writing a WAV, and an in-process server. ``tests/`` is on pytest's ``pythonpath``."""
from __future__ import annotations

import shlex
import subprocess
import sys
from pathlib import Path

import numpy as np
import soundfile as sf

ROOT = Path(__file__).resolve().parent.parent

#: The sample rate of the built-in test clips (conftest's ``melody`` and ``rain``).
SR = 22_050


def write_wav(path: Path, data: np.ndarray, sr: int = SR, subtype: str = "FLOAT") -> Path:
    sf.write(str(path), np.asarray(data).T, sr, subtype=subtype)
    return path


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


def readme_command(command: str, holding: str) -> list[str]:
    """The words of the README's first line that starts with ``command`` and holds ``holding``."""
    readme = (ROOT / "README.md").read_text()
    line = next(x for x in readme.splitlines() if x.startswith(command) and holding in x)
    return shlex.split(line, comments=True)


def run_gramophone(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    """``gramophone ARGS`` in a process of its own, as a user types it."""
    gramophone = Path(sys.executable).with_name("gramophone")
    return subprocess.run([str(gramophone), *args], capture_output=True, text=True, timeout=300, cwd=cwd)
