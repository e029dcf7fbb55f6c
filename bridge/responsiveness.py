"""What ``gramophone serve`` does so that a ping is answered within a millisecond while renders
run beside it (issue #24; figures in bench/RESULTS.md, "Soak").

The server process computes nothing (renders run in worker processes at a lower priority, see
:mod:`bridge.workers`), so a ping waits only for three things, each handled here:

* **a core** — :func:`request_short_slice` asks Linux's scheduler (EEVDF, kernel 6.12 and
  later) for a short time slice for the socket thread. A task with a short slice has an early
  deadline, so when a packet wakes it, it preempts whatever runs on the core instead of waiting
  for that task's slice to end. No privilege is needed (unlike a negative nice or a real-time
  policy), the thread's share of the CPU is unchanged, and older kernels and other systems
  ignore it;
* **the GIL** — :data:`SWITCH_INTERVAL`: a thread of the server holds the GIL at most 0.5 ms
  while another waits for it (Python's default: 5 ms);
* **the garbage collector** — :func:`freeze_startup_objects` moves the objects made while
  starting (torch's and numpy's modules: hundreds of thousands) out of the collector's
  generations, so that a collection, which holds the GIL, looks only at what the server made
  since; a young collection took up to 8 ms before.
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
#: the socket thread's time slice, in seconds (the kernel accepts 0.1-100 ms; its default is ~3 ms)
SOCKET_SLICE = 0.0001
#: sched_setattr's system call number, by machine (it has no libc wrapper)
_SCHED_SETATTR = {"x86_64": 314, "aarch64": 274, "arm64": 274, "riscv64": 274, "ppc64le": 355, "s390x": 345,
                  "i686": 351, "i386": 351, "armv7l": 380}


class _SchedAttr(ctypes.Structure):
    """``struct sched_attr`` (linux/sched/types.h), up to ``sched_period``."""
    _fields_ = [("size", ctypes.c_uint32), ("sched_policy", ctypes.c_uint32), ("sched_flags", ctypes.c_uint64),
                ("sched_nice", ctypes.c_int32), ("sched_priority", ctypes.c_uint32),
                ("sched_runtime", ctypes.c_uint64), ("sched_deadline", ctypes.c_uint64),
                ("sched_period", ctypes.c_uint64)]


def request_short_slice(seconds: float = SOCKET_SLICE) -> bool:
    """Ask for a ``seconds`` time slice for the calling thread (Linux: ``sched_setattr`` with
    ``SCHED_OTHER`` and ``sched_runtime``; threads it starts later keep the default). Returns
    whether the kernel took the request; it is ignored (True, no effect) before kernel 6.12 and
    refused nowhere else, so a False means only that the call is unavailable here."""
    number = _SCHED_SETATTR.get(platform.machine())
    if not sys.platform.startswith("linux") or number is None:
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
    except OSError:
        return False
    attr = _SchedAttr(size=ctypes.sizeof(_SchedAttr), sched_policy=0,  # SCHED_OTHER
                      sched_nice=os.getpriority(os.PRIO_PROCESS, 0), sched_runtime=int(seconds * 1e9))
    if libc.syscall(number, 0, ctypes.byref(attr), 0) != 0:
        log.info("could not ask for a short time slice: %s", os.strerror(ctypes.get_errno()))
        return False
    return True


def freeze_startup_objects() -> None:
    """Collect once, then leave every object that exists now out of later collections."""
    gc.collect()
    gc.freeze()


def prepare_server_thread() -> None:
    """All of the above, for the thread that will read the socket (call it on that thread,
    after the server is built and before it serves)."""
    sys.setswitchinterval(SWITCH_INTERVAL)
    freeze_startup_objects()
    request_short_slice()
