"""A small Python OSC client for Gramophone's server: send messages, collect replies.

Used by the tests and benchmarks, and handy for scripting the server from Python
(python-osc does the encoding)."""
from __future__ import annotations

import socket
import time
from typing import Any, Callable

from pythonosc.osc_message import OscMessage
from pythonosc.osc_message_builder import OscMessageBuilder


def free_port() -> int:
    """A UDP port on 127.0.0.1 that is free right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def encode(address: str, *args: Any) -> bytes:
    b = OscMessageBuilder(address)
    for a in args:
        b.add_arg(a)
    return b.build().dgram


class Client:
    def __init__(self, server: tuple[str, int]) -> None:
        self.server = server
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.received: list[tuple[str, list]] = []

    def send(self, address: str, *args: Any) -> None:
        self.sock.sendto(encode(address, *args), self.server)

    def send_raw(self, data: bytes) -> None:
        self.sock.sendto(data, self.server)

    def wait(self, until: Callable[[list], bool], timeout: float = 10.0) -> list[tuple[str, list]]:
        """Collect replies until ``until(received)`` is true; raises on timeout."""
        deadline = time.monotonic() + timeout
        while not until(self.received):
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"no matching reply; got {self.received}")
            self.sock.settimeout(left)
            try:
                data, _ = self.sock.recvfrom(65_536)
            except socket.timeout:
                continue
            m = OscMessage(data)
            self.received.append((m.address, list(m.params)))
        return self.received

    def wait_for(self, address: str, timeout: float = 10.0, **match: Any) -> list:
        """The arguments of the first reply at ``address`` (optionally with ``first=value``)."""
        def find(rs):
            return [p for a, p in rs if a == address and ("first" not in match or p[:1] == [match["first"]])]
        return find(self.wait(lambda rs: bool(find(rs)), timeout))[0]

    def request(self, address: str, *args: Any, reply: str, timeout: float = 10.0) -> list:
        self.received.clear()
        self.send(address, *args)
        return self.wait_for(reply, timeout)

    def close(self) -> None:
        self.sock.close()
