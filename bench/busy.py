"""A competing process for the speed benchmark: it spins on one core and counts, as a DAW's audio
engine keeps a core busy; its rate while a render runs, against its rate alone, is the share of
its core it kept.

    with Competitor() as spin:
        alone = spin.rate(2.0)            # count per second, nothing else of ours running
        before = spin.count(); ...; kept = (spin.count() - before) / seconds / alone
"""
from __future__ import annotations

import mmap
import os
import struct
import subprocess
import sys
import tempfile
import time
from typing import Optional

# a tight loop that adds 10 000 to a shared counter every 10 000 iterations (and stops when the
# benchmark that started it has gone)
_SPIN = """
import mmap, os, struct, sys
if sys.argv[2] != "-":
    os.sched_setaffinity(0, {int(sys.argv[2])})
with open(sys.argv[1], "r+b") as f:
    counter = mmap.mmap(f.fileno(), 8)
parent, n = os.getppid(), 0
while os.getppid() == parent:
    for _ in range(10_000):
        pass
    n += 10_000
    counter[:8] = struct.pack("q", n)
"""


class Counter:
    """Reads a competitor's counter from any process (by the file's path)."""

    def __init__(self, path: str) -> None:
        with open(path, "r+b") as f:
            self._map = mmap.mmap(f.fileno(), 8)

    def count(self) -> int:
        return struct.unpack("q", self._map[:8])[0]


class Competitor:
    """A separate Python process spinning in a tight loop (pinned to ``core``, or wherever the
    scheduler puts it); :meth:`count` reads how far it has counted. ``own_session``: in a session
    of its own, as a program started apart from the renders (a DAW) is; Linux's autogroup
    scheduling then shares the CPU between sessions first, so in the benchmark's session it
    would split one session's share with the renders (the harsher case)."""

    def __init__(self, core: Optional[int] = None, own_session: bool = True) -> None:
        self.core, self.own_session = core, own_session

    def __enter__(self) -> "Competitor":
        fd, self.path = tempfile.mkstemp(prefix="gramophone-spin-")
        os.write(fd, bytes(8))
        os.close(fd)
        self._counter = Counter(self.path)
        self._process = subprocess.Popen([sys.executable, "-c", _SPIN, self.path,
                                          "-" if self.core is None else str(self.core)],
                                         start_new_session=self.own_session)
        while self.count() == 0:
            time.sleep(0.01)
        return self

    def __exit__(self, *exc) -> None:
        self._process.kill()
        self._process.wait()
        os.unlink(self.path)

    def count(self) -> int:
        return self._counter.count()

    def rate(self, seconds: float) -> float:
        """Its count per second over the next ``seconds``."""
        c0, t0 = self.count(), time.perf_counter()
        time.sleep(seconds)
        return (self.count() - c0) / (time.perf_counter() - t0)
