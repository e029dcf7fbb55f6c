"""`gramophone serve` with one suspect of ping latency changed, for ``bench/soak.py --variant``.

Each variant undoes or changes one thing the server does (or does not do) for its ping latency,
so a short soak can measure what that thing is worth (``before`` undoes all of them: the server
as the first soak measured it). Every variant also times, and prints when the server stops:

* each ping inside the server, in two parts: *wake*, from the kernel's receipt of the datagram
  (``SO_TIMESTAMPNS`` on the server's socket) to the socket thread having read it (waiting for a
  core, and for the GIL where another thread holds it), and *handle*, from there to the pong
  sent (decoding, dispatch, waiting for the GIL);
* the server process's garbage collections (``gc.callbacks``): a collection holds the GIL, so a
  ping arriving during one waits for it.

    python -m bench.serve_variant VARIANT SERVE-ARGS...
"""
from __future__ import annotations

import gc
import os
import socket
import struct
import sys
import time
from typing import Any, Callable, Iterator

from gramophone.bridge import cli

_pauses: list[tuple[int, float]] = []
_started = [0.0]
#: per ping: (wake, handle) in ms
_server_pings: list[tuple[float, float]] = []
SO_TIMESTAMPNS = getattr(socket, "SO_TIMESTAMPNS", 35)


def _instrument() -> None:
    """Time each ping inside the server (see the module docstring)."""
    from gramophone.bridge import osc_transport, server
    from gramophone.engine.limits import MAX_OSC_PACKET

    current: dict[str, Any] = {"arrived": None, "read": 0}

    def receive(self: osc_transport.OscTransport, stop: Any) -> Iterator[tuple[bytes, tuple[str, int]]]:
        self.sock.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
        while not stop.is_set():
            try:
                data, ancillary, _, sender = self.sock.recvmsg(MAX_OSC_PACKET, socket.CMSG_SPACE(16))
            except socket.timeout:
                continue
            except OSError:
                if stop.is_set():
                    return
                continue
            current["read"] = time.time_ns()
            stamps = [struct.unpack("qq", v[:16]) for level, kind, v in ancillary if kind == SO_TIMESTAMPNS]
            current["arrived"] = stamps[0][0] * 1_000_000_000 + stamps[0][1] if stamps else None
            yield data, sender[:2]

    ping = server.GramophoneServer._ping

    def timed_ping(self: server.GramophoneServer, sender: Any, a: dict) -> None:
        ping(self, sender, a)
        if current["arrived"] is not None:
            _server_pings.append(((current["read"] - current["arrived"]) / 1e6, (time.time_ns() - current["read"]) / 1e6))

    osc_transport.OscTransport.receive = receive  # type: ignore[method-assign]
    server.GramophoneServer._ping = timed_ping  # type: ignore[method-assign]


def _figures(values: list[float]) -> str:
    v = sorted(values)
    if not v:
        return "none"
    return f"p50 {v[len(v) // 2]:.2f}, p99 {v[min(len(v) - 1, int(0.99 * len(v)))]:.2f}, max {v[-1]:.1f} ms"


def _time_gc(phase: str, info: dict) -> None:
    if phase == "start":
        _started[0] = time.perf_counter()
    else:
        _pauses.append((info["generation"], time.perf_counter() - _started[0]))


def _switch(seconds: float) -> Callable[[], None]:
    def apply() -> None:
        from gramophone.bridge import responsiveness

        responsiveness.SWITCH_INTERVAL = seconds
    return apply


def _worker_nice(nice: int) -> Callable[[], None]:
    def apply() -> None:
        backend = cli._backend
        cli._backend = lambda args, **_: backend(args, nice=nice)  # type: ignore[assignment]
    return apply


def _log_pings() -> None:
    """The old dispatcher: one log line per message, pings included."""
    import logging

    from gramophone.bridge import dispatch

    message = dispatch.Dispatcher.message

    def logged(self, path, params, sender):  # noqa: ANN001
        if path.endswith("/ping"):
            logging.getLogger("gramophone.server").info("%s:%d %s %s", *sender, path, params)
        return message(self, path, params, sender)
    dispatch.Dispatcher.message = logged  # type: ignore[method-assign]


def _no_gc_freeze() -> None:
    """Leave the start-up's objects (torch's, numpy's) in the collector's generations."""
    from gramophone.bridge import responsiveness

    responsiveness.freeze_startup_objects = lambda: None  # type: ignore[assignment]


def _socket_slice_only() -> None:
    """Only the socket thread asks for the short slice (the other threads keep the default)."""
    from gramophone.bridge import responsiveness

    responsiveness.server_threads = lambda: [0]  # type: ignore[assignment]


def _worker_same_group() -> None:
    """The workers only lower their nice value, in the server's session (and scheduling group)."""
    import os

    from gramophone.bridge import responsiveness

    responsiveness.yield_cpu = lambda nice: os.nice(nice) and None  # type: ignore[assignment]


def _worker_group_nice(group_nice: int) -> Callable[[], None]:
    """The workers start a session (and scheduling group) of their own, as by default, and lower
    that group's priority to ``group_nice`` too (so that they yield to other sessions' programs)."""
    def apply() -> None:
        from gramophone.bridge import responsiveness

        def yield_cpu(nice: int) -> None:
            import os

            os.nice(nice)
            os.setsid()
            with open("/proc/self/autogroup", "w") as f:
                f.write(str(group_nice))
        responsiveness.yield_cpu = yield_cpu  # type: ignore[assignment]
    return apply


def _no_slice() -> None:
    """The server's threads keep the kernel's default time slice."""
    from gramophone.bridge import responsiveness

    responsiveness.request_short_slice = lambda *a, **k: False  # type: ignore[assignment]


def _no_realtime() -> None:
    """The server's threads stay at normal priority (as without the right to real-time priority)."""
    from gramophone.bridge import responsiveness

    responsiveness.request_realtime = lambda *a, **k: False  # type: ignore[assignment]


def _realtime_socket_only() -> None:
    """Only the socket thread (the main thread) runs real-time; the others stay at normal priority."""
    from gramophone.bridge import responsiveness

    realtime = responsiveness.request_realtime

    def socket_only(priority: int = responsiveness.REALTIME_PRIORITY, thread: int = 0) -> bool:
        return realtime(priority, thread) if thread in (0, os.getpid()) else False
    responsiveness.request_realtime = socket_only  # type: ignore[assignment]


#: what a variant changes in the render workers: they are spawned, so they import this module
#: afresh (as ``__mp_main__``) and apply it from the environment variable below
WORKER_SIDE: dict[str, Callable[[], None]] = {
    "worker-same-group": _worker_same_group,
    "worker-group-nice-10": _worker_group_nice(10),
    "before": _worker_same_group,
}
ENV = "GRAMOPHONE_BENCH_VARIANT"

VARIANTS: dict[str, Callable[[], None]] = {
    "as-is": lambda: None,
    "switch-5ms": _switch(0.005),
    "worker-nice-0": _worker_nice(0),
    "worker-nice-19": _worker_nice(19),
    "log-pings": _log_pings,
    "no-slice": _no_slice,
    "no-gc-freeze": _no_gc_freeze,
    "socket-slice-only": _socket_slice_only,
    "worker-same-group": lambda: None,  # the workers' side: WORKER_SIDE
    "worker-group-nice-10": lambda: None,  # the workers' side: WORKER_SIDE
    "no-realtime": _no_realtime,
    "realtime-socket-only": _realtime_socket_only,
    "before": lambda: (_switch(0.0005)(), _log_pings(), _no_gc_freeze(), _no_slice(), _no_realtime()),
}


def main() -> int:
    variant, argv = sys.argv[1], sys.argv[2:]
    os.environ[ENV] = variant
    VARIANTS[variant]()
    _instrument()
    gc.callbacks.append(_time_gc)
    try:
        return cli.main(argv)
    finally:
        long = ", ".join(f"gen{g} {p * 1000:.1f}" for g, p in _pauses if p > 0.001)
        print(f"server [{variant}] gc: {len(_pauses)} collections, {sum(p for _, p in _pauses) * 1000:.1f} ms in all; "
              f"over 1 ms: {long or 'none'} (the first full one is start-up's)", file=sys.stderr, flush=True)
        print(f"server [{variant}] pings inside the server: {len(_server_pings)}; wake {_figures([w for w, _ in _server_pings])}"
              f"; handle {_figures([h for _, h in _server_pings])}", file=sys.stderr, flush=True)


if __name__ == "__mp_main__" and os.environ.get(ENV) in WORKER_SIDE:  # a render worker of the variant
    WORKER_SIDE[os.environ[ENV]]()

if __name__ == "__main__":
    sys.exit(main())
