"""The thread policy: how many torch threads a render uses, and how its threads wait.

Gramophone renders beside a DAW whose audio engine keeps a core busy. On the 2-core machine
torch's own default (a thread per core, OpenMP threads that spin while they wait) fights the
host for the busy core: with one core busy the render took 2.9x its quiet time and the host kept
52-79 % of its core (issue #22); with the cores contended it was 3-11x slower than this policy,
and the host kept less (``bench/speed.py``; ``bench/RESULTS.md``, "Thread policy"). So, in every
process that renders (the command line, server and batch workers, Ray tasks):

* ``auto`` (the default) takes every core that other processes left idle since the last look
  (``/proc/stat`` less this process's own time; elsewhere the load average), at least one:
  on the 2-core machine both cores when it is quiet, one when a core is busy. It looks again
  while the render runs (:func:`following`, every :data:`LOOK_EVERY` seconds), so a render that
  started on an idle machine gives a core back when the DAW starts playing, and takes it again
  when the DAW stops;
* threads spin **briefly** while they wait for their siblings, then sleep (``GOMP_SPINCOUNT`` =
  :data:`SPIN_COUNT`, about a millisecond): the optimiser's parallel steps are a fraction of a
  millisecond each, so a thread that slept at once (``OMP_WAIT_POLICY=PASSIVE``, the policy
  before) paid a wake-up at every step, and two passive threads were no faster than one; OpenMP's
  default spin (300 000) held a core long after the work ran out, which is what starved the
  host. OpenMP reads this once, when torch is loaded, so :func:`prepare_environment` runs
  before torch is imported (children inherit it); an ``OMP_WAIT_POLICY``, ``GOMP_SPINCOUNT`` or
  ``KMP_BLOCKTIME`` of the user's own is kept;
* a number (``--threads N``, ``GRAMOPHONE_THREADS=N``) is used as it is, for the whole render.

The threads change a render's last bits (sums are split differently: 5e-5 at most, measured),
so a render repeats bit for bit at the same number of threads; ``auto`` follows the load.
"""
from __future__ import annotations

import math
import os
import time
from dataclasses import dataclass
from typing import Callable, Optional, Union

ENV = "GRAMOPHONE_THREADS"
#: a core counts as taken when other processes kept more than this share of it busy
BUSY_SHARE = 0.25
#: the shortest and the longest span a load reading averages over, in seconds
MIN_WINDOW, MAX_AGE = 0.1, 5.0
#: how often (seconds) an ``auto`` render looks at the load again while it runs
LOOK_EVERY = 0.5
#: how long an OpenMP thread spins before it sleeps (libgomp's units; its own default is 300 000).
#: Measured on 2 cores (bench/RESULTS.md, "Thread policy"): 10 s mono quiet 1.19 s against 1.84 s
#: waiting passively and 1.48 s with 1 000.
SPIN_COUNT = "10000"
#: the same for LLVM's OpenMP runtime, in milliseconds (not measured here: no macOS machine)
BLOCK_TIME_MS = "1"
#: a user who sets any of these chose how threads wait, and is left alone
WAIT_VARIABLES = frozenset({"OMP_WAIT_POLICY", "GOMP_SPINCOUNT", "KMP_BLOCKTIME"})

Setting = Optional[int]  # None: auto


def parse(value: Union[str, int, None]) -> Setting:
    """``'auto'``, ``None`` or ``''`` -> None (auto); a whole number 1-256 -> that number; else ``bad_parameter``."""
    if value is None or (isinstance(value, str) and value.strip().lower() in ("", "auto")):
        return None
    try:
        n = int(value)
    except (TypeError, ValueError):
        n = 0
    if not 1 <= n <= 256 or str(value).strip() != str(n):
        from ..engine.errors import GramophoneError

        raise GramophoneError(f"threads must be 'auto' or a whole number 1-256, got {value!r}", "bad_parameter")
    return n


def from_env() -> Setting:
    """The setting ``$GRAMOPHONE_THREADS`` asks for (auto when unset)."""
    return parse(os.environ.get(ENV))


def prepare_environment() -> None:
    """Make OpenMP's threads spin briefly before they sleep, unless the user chose how they wait;
    call before torch is imported. Both runtimes torch ships with are told: GNU's (Linux wheels)
    reads :data:`SPIN_COUNT`, LLVM's (macOS) :data:`BLOCK_TIME_MS`, whose own default is a 200 ms spin."""
    if not WAIT_VARIABLES & os.environ.keys():
        os.environ["GOMP_SPINCOUNT"] = SPIN_COUNT
        os.environ["KMP_BLOCKTIME"] = BLOCK_TIME_MS


def cores() -> int:
    """The cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def choose(setting: Setting, n_cores: int, other_busy: Optional[float], cap: Optional[int] = None) -> int:
    """Threads for one render: ``setting`` if a number; else the cores other processes leave
    (``other_busy``: cores they kept busy; None: unknown, one core kept for the host), at most
    ``cap`` (a worker's share of the machine), at least one."""
    if setting is not None:
        return setting
    taken = 1 if other_busy is None else max(0, math.ceil(other_busy - BUSY_SHARE))
    return max(1, min(n_cores - taken, cap or n_cores))


@dataclass
class _Snapshot:
    at: float
    busy: Optional[float]  # seconds of CPU every core spent busy since boot (None: no /proc/stat)
    own: float  # seconds of CPU this process has used


def _snapshot() -> _Snapshot:
    own = sum(os.times()[:2])
    try:
        with open("/proc/stat") as f:
            fields = [int(x) for x in f.readline().split()[1:]]
        idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
        busy: Optional[float] = (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        busy = None
    return _Snapshot(time.monotonic(), busy, own)


class LoadProbe:
    """How many cores other processes keep busy, averaged since the previous reading (at least
    ``MIN_WINDOW`` seconds; a reading older than ``MAX_AGE`` is replaced by a fresh sample)."""

    def __init__(self) -> None:
        self._last = _snapshot()

    def other_busy(self) -> Optional[float]:
        if time.monotonic() - self._last.at > MAX_AGE:
            self._last = _snapshot()
        time.sleep(max(0.0, MIN_WINDOW - (time.monotonic() - self._last.at)))
        then, now = self._last, _snapshot()
        self._last = now
        if now.busy is None or then.busy is None:
            try:
                return os.getloadavg()[0]
            except (AttributeError, OSError):
                return None
        return max(0.0, (now.busy - then.busy - (now.own - then.own)) / (now.at - then.at))


#: started when this module is imported (early in every process that renders), so the first
#: reading averages over the start-up and costs nothing
_probe = LoadProbe()


def apply(setting: Setting = None, cap: Optional[int] = None) -> int:
    """Choose the threads for the next render (see :func:`choose`) and give them to torch."""
    import torch

    n = choose(setting, cores(), None if setting is not None else _probe.other_busy(), cap)
    if n != torch.get_num_threads():
        torch.set_num_threads(n)
    return n


def following(progress: Callable[[float, float], None], setting: Setting = None, cap: Optional[int] = None
              ) -> Callable[[float, float], None]:
    """``progress`` for a render whose threads were chosen by :func:`apply`: with ``auto``, each
    call at least :data:`LOOK_EVERY` seconds after the last look chooses again, so the render
    follows the host's load while it runs (a set number is left alone)."""
    if setting is not None:
        return progress
    last = [time.monotonic()]

    def report(fraction: float, loss: float) -> None:
        now = time.monotonic()
        if now - last[0] >= LOOK_EVERY:
            last[0] = now
            apply(None, cap)
        progress(fraction, loss)
    return report


def describe(setting: Setting = None) -> str:
    """The policy in effect, in words (``info`` and ``doctor``)."""
    policy, spin = os.environ.get("OMP_WAIT_POLICY", ""), os.environ.get("GOMP_SPINCOUNT")
    if policy:
        wait = f"{policy.lower()} (OMP_WAIT_POLICY)"
    elif spin == SPIN_COUNT:
        wait = f"a short spin, then sleeping (GOMP_SPINCOUNT={spin})"
    else:
        wait = f"GOMP_SPINCOUNT={spin}" if spin is not None else "OpenMP's default"
    count = (f"{setting} (set)" if setting is not None
             else f"auto (the idle cores of {cores()}, at least 1, looked at again every {LOOK_EVERY:g} s)")
    return f"threads {count}; waiting: {wait}"
