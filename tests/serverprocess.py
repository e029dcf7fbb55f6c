"""Start the real `gramophone serve` in a subprocess for tests ."""
from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path
from typing import Sequence

from gramophone.bridge.osc_client import Client, free_port

ROOT = Path(__file__).resolve().parents[1]


class ServerProcess:
    def __init__(self, tmp_path: Path, extra: Sequence[str] = ()) -> None:
        self.port = free_port()
        self.log = open(tmp_path / "server.log", "w+")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "gramophone", "--preset-dir", str(tmp_path / "user"), "serve", "--port",
             str(self.port), "--reply-port", "0", "--allow-dir", str(tmp_path), *extra],
            cwd=ROOT, stdout=self.log, stderr=subprocess.STDOUT)
        client = Client(("127.0.0.1", self.port))
        deadline = time.monotonic() + 60
        while True:  # wait until it answers
            try:
                client.request("/gramophone/ping", reply="/gramophone/pong", timeout=0.5)
                break
            except TimeoutError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"server did not start: {self.output()}")
        client.close()

    def output(self) -> str:
        self.log.flush()
        self.log.seek(0)
        return self.log.read()

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.log.close()
