"""The OSC server's dispatch: address → handler, arguments checked once, errors turned into replies.

Every message is checked against the address table (:func:`bridge.addresses.parse`) where it
enters, on the socket thread, which costs microseconds. Handlers that touch the disk (path
checks, reading audio headers and preset metadata, listing presets) are marked ``blocking`` and
run on one *intake* thread, in arrival order, so the socket thread only decodes, parses and
answers ``ping``, ``reply`` and ``status`` itself: nothing a client sends can delay a ping.
"""
from __future__ import annotations

import logging
import queue
import threading
from dataclasses import dataclass
from typing import Any, Callable

from ..engine.errors import GramophoneError
from ..engine.limits import MAX_OSC_STRING
from . import addresses as A
from .osc_transport import Target, decode

log = logging.getLogger("gramophone.server")
#: send_error(sender, id_or_address, code, message)
SendError = Callable[[Target, Any, str, str], None]


@dataclass(frozen=True)
class Route:
    handler: Callable[[Target, dict], None]
    #: True: the handler touches the disk, so it runs on the intake thread
    blocking: bool = False
    #: True: logged only at debug level (hosts poll it several times a second; a log line per
    #: poll costs the socket thread a write)
    quiet: bool = False


class Dispatcher:
    def __init__(self, routes: dict[str, Route], send_error: SendError) -> None:
        assert set(routes) == set(A.BY_PATH), "every address in the table needs a handler"
        self.routes, self.send_error = routes, send_error
        self._intake: queue.Queue = queue.Queue()
        self._thread = threading.Thread(target=self._run_intake, name="gramophone-intake", daemon=True)
        self._thread.start()

    def packet(self, data: bytes, sender: Target) -> None:
        """Handle one datagram (on the socket thread)."""
        try:
            messages = decode(data)
        except ValueError as exc:
            log.info("%s:%d malformed packet (%d bytes)", *sender, len(data))
            self.send_error(sender, "", "malformed", str(exc))
            return
        for path, params in messages:
            self.message(path, params, sender)

    def message(self, path: str, params: list[Any], sender: Target) -> None:
        try:
            A.check_size(path, params)
        except A.OscArgError as exc:
            log.info("%s:%d oversized message refused: %s", *sender, exc)
            error_id = _error_id(path, params)
            self.send_error(sender, error_id if len(str(error_id)) <= MAX_OSC_STRING else "", exc.code, str(exc))
            return
        route = self.routes.get(path)
        log.log(logging.DEBUG if route is not None and route.quiet else logging.INFO, "%s:%d %s %s", *sender, path,
                params)
        if route is None:
            self.send_error(sender, path, "unknown_address", f"unknown address {path}; known: {', '.join(A.BY_PATH)}")
            return
        try:
            args = A.parse(path, params)
        except A.OscArgError as exc:
            self.send_error(sender, _error_id(path, params), exc.code, str(exc))
            return
        if route.blocking:
            self._intake.put((route, path, params, args, sender))
        else:
            self._call(route, path, params, args, sender)

    def close(self) -> None:
        self._intake.put(None)
        self._thread.join(5)

    def _run_intake(self) -> None:
        while True:
            item = self._intake.get()
            if item is None:
                return
            self._call(*item)

    def _call(self, route: Route, path: str, params: list[Any], args: dict, sender: Target) -> None:
        try:
            route.handler(sender, args)
        except GramophoneError as exc:
            self.send_error(sender, _error_id(path, params), exc.code, str(exc))
        except Exception as exc:  # never let a request take the server down
            log.exception("internal error handling %s", path)
            self.send_error(sender, path, "internal", f"{type(exc).__name__}: {exc}")


def _error_id(path: str, params: list[Any]) -> Any:
    """Errors about a render carry its job id (empty when it has no usable one); others the address."""
    if not path.endswith("/render"):
        return path
    usable = params and isinstance(params[0], (int, str)) and not isinstance(params[0], bool)
    return params[0] if usable else ""
