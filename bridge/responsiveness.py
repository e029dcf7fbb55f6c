"""What ``gramophone serve`` does so that a ping is answered within a millisecond while renders
run beside it (issue #24; figures in bench/RESULTS.md, "Soak").

The server process computes nothing: renders run in worker processes at nice 10, in a session
(so a scheduling group) of their own (:func:`yield_cpu`). So a ping waits only for a core, the
GIL and the garbage collector, each handled here:

* **a core** — where the user may (Linux: an ``rtprio`` limit, which the ``audio`` group has on
  systems set up for JACK, or root), :func:`request_realtime` puts every server thread under
  ``SCHED_RR`` at :data:`REALTIME_PRIORITY` (``serve --realtime-priority``; 0: never): a waking
  thread then preempts every normal-priority program at once, while a DAW's audio threads (JACK
  and PipeWire use 70-95) still preempt it. Its children, and threads started later, fall back
  to normal scheduling (``SCHED_RESET_ON_FORK``), so render workers never run real-time.
  The server's threads sleep but for a fraction of a millisecond per request, and Linux caps
  all real-time work at 95 % of each core anyway. Measured beside 4 spinners and a busy machine
  (load 10; figures in bench/RESULTS.md, "Soak"): the pong's arrival p99 0.43-0.53 ms real-time
  against 2.4-3.7 ms without. All the threads, not only the socket's: with the socket thread
  alone real-time, a ping still waited up to 20 ms for the GIL held by a descheduled thread.
  Elsewhere, and without the right, :func:`request_short_slice` asks Linux's scheduler (EEVDF, kernel 6.12 and
  later) for a short time slice for each of the server's threads. A task with a short slice has
  an early deadline, so when a packet wakes the socket thread, it preempts whatever runs on the
  core instead of waiting for that task's slice to end; the other threads get it too, because a
  ping also waits for whichever of them holds the GIL, and one that is descheduled while holding
  it would otherwise wait its turn behind every other process. No privilege is needed (unlike a
  negative nice or a real-time policy), a thread's share of the CPU is unchanged, and older
  kernels and other systems ignore it;
* **the GIL** — :data:`SWITCH_INTERVAL`: a thread of the server holds the GIL at most 0.5 ms
  while another waits for it (Python's default: 5 ms);
* **the garbage collector** — :func:`freeze_startup_objects` moves the objects made while
  starting (torch's and numpy's modules: hundreds of thousands) out of the collector's
  generations, so that a collection, which holds the GIL, looks only at what the server made
  since. Without it, a full collection during the soak held the GIL for 640 ms, and a ping
  waited as long.

Pings and status polls are not logged (:class:`bridge.dispatch.Route`'s ``quiet``): a log line
per ping doubled the socket thread's median time per ping (0.35 ms against 0.18 ms).
"""
from __future__ import annotations

import ctypes
import gc
import logging
import os
import platform
import sys

log = logging.getLogger("gramophone.server")

#: seconds a thread of `serve` holds the GIL while another waits for it (Python's default: 0.005)
SWITCH_INTERVAL = 0.0005
#: the server threads' real-time (SCHED_RR) priority where allowed: above every normal program,
#: under a DAW's audio threads (JACK and PipeWire use 70-95); 0: normal scheduling only
REALTIME_PRIORITY = 10
#: the server threads' time slice, in seconds (the kernel accepts 0.1-100 ms; its default is ~3 ms)
SERVER_SLICE = 0.0001
#: sched_setattr's system call number, by machine (it has no libc wrapper)
_SCHED_SETATTR = {"x86_64": 314, "aarch64": 274, "arm64": 274, "riscv64": 274, "ppc64le": 355, "s390x": 345,
                  "i686": 351, "i386": 351, "armv7l": 380}


class _SchedAttr(ctypes.Structure):
    """``struct sched_attr`` (linux/sched/types.h), up to ``sched_period``."""
    _fields_ = [("size", ctypes.c_uint32), ("sched_policy", ctypes.c_uint32), ("sched_flags", ctypes.c_uint64),
                ("sched_nice", ctypes.c_int32), ("sched_priority", ctypes.c_uint32),
                ("sched_runtime", ctypes.c_uint64), ("sched_deadline", ctypes.c_uint64),
                ("sched_period", ctypes.c_uint64)]


def request_short_slice(seconds: float = SERVER_SLICE, thread: int = 0) -> bool:
    """Ask for a ``seconds`` time slice for ``thread`` (a thread id of this process; 0: the
    calling thread) (Linux: ``sched_setattr`` with ``SCHED_OTHER`` and ``sched_runtime``; threads
    it starts later keep the default). Returns whether the kernel took the request; it is ignored
    (True, no effect) before kernel 6.12, so a False means only that the call is unavailable here."""
    number = _SCHED_SETATTR.get(platform.machine())
    if not sys.platform.startswith("linux") or number is None:
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
    except OSError:
        return False
    attr = _SchedAttr(size=ctypes.sizeof(_SchedAttr), sched_policy=0,  # SCHED_OTHER
                      sched_nice=os.getpriority(os.PRIO_PROCESS, thread), sched_runtime=int(seconds * 1e9))
    if libc.syscall(number, thread, ctypes.byref(attr), 0) != 0:
        log.info("could not ask for a short time slice: %s", os.strerror(ctypes.get_errno()))
        return False
    return True


def request_realtime(priority: int = REALTIME_PRIORITY, thread: int = 0) -> bool:
    """Put ``thread`` (0: the calling thread) under ``SCHED_RR`` at ``priority``, its future
    children and threads reset to normal scheduling. Returns whether the system allowed it
    (Linux, with an ``rtprio`` limit of at least ``priority`` or the right to raise it)."""
    if priority <= 0 or not hasattr(os, "sched_setscheduler") or not hasattr(os, "SCHED_RESET_ON_FORK"):
        return False
    try:
        os.sched_setscheduler(thread, os.SCHED_RR | os.SCHED_RESET_ON_FORK, os.sched_param(priority))
    except OSError as exc:  # EPERM: no rtprio limit for this user; EINVAL: out of range
        log.debug("no real-time priority %d: %s", priority, exc.strerror or exc)
        return False
    return True


def yield_cpu(nice: int) -> None:
    """Lower the calling process's CPU priority by ``nice`` and, on Linux, give it a session of
    its own (a render worker, as it starts).

    Where Linux schedules each session as a group (autogroups, on unless
    ``kernel.sched_autogroup_enabled`` is 0), a worker in the server's session keeps the server's
    group busy, so that a waking server thread waits for its group's turn behind every other
    session's work, whatever its nice value says. In a session of its own the worker's group
    competes with other sessions' programs as the server's group did before (its nice value then
    only counts where autogroups are off). Its parent still controls it (a pipe; it ignores Ctrl-C
    already)."""
    if nice <= 0 or not hasattr(os, "nice"):
        return
    os.nice(nice)
    if os.path.exists("/proc/self/autogroup"):
        try:
            os.setsid()
        except OSError as exc:  # already a session leader
            log.debug("render worker keeps its session: %s", exc)


def freeze_startup_objects() -> None:
    """Collect once, then leave every object that exists now out of later collections."""
    gc.collect()
    gc.freeze()


def server_threads() -> list[int]:
    """The ids of this process's threads (Linux; elsewhere the calling thread's, 0)."""
    try:
        return [int(t) for t in os.listdir("/proc/self/task")]
    except OSError:
        return [0]


def prepare_server(realtime_priority: int = REALTIME_PRIORITY) -> bool:
    """All of the above (call it once the server is built and its threads have started, just
    before it serves; threads started later keep the defaults). Returns whether the threads run
    real-time."""
    sys.setswitchinterval(SWITCH_INTERVAL)
    freeze_startup_objects()
    threads = server_threads()
    for thread in threads:
        request_short_slice(thread=thread)
    realtime = all([request_realtime(realtime_priority, thread) for thread in threads])
    if realtime:
        log.info("server threads at real-time priority %d (renders at normal priority, nice +10)", realtime_priority)
    elif realtime_priority > 0:
        log.info("server threads at normal priority: this user may not use real-time priority %d "
                 "(Linux: an rtprio limit, e.g. the audio group's); pings may wait for a busy core", realtime_priority)
    return realtime
