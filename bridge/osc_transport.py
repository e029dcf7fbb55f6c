"""The OSC server's transport: a UDP socket, packets in, replies out (wire format by python-osc).

Nothing here knows what an address means: :meth:`OscTransport.receive` yields decoded
messages (or a ``malformed`` marker), and :meth:`OscTransport.send` encodes a reply by its entry
in the address table (only ``i``, ``f`` and ``s`` arguments are sent, as every host reads them).
"""
from __future__ import annotations

import logging
import socket
import threading
from typing import Any, Iterable, Iterator, Optional

from pythonosc.osc_message_builder import OscMessageBuilder
from pythonosc.osc_packet import OscPacket

from ..engine.limits import MAX_OSC_MESSAGES, MAX_OSC_PACKET
from . import addresses as A

log = logging.getLogger("gramophone.server")
Target = tuple[str, int]
BUNDLE = b"#bundle\0"


def decode(data: bytes) -> list[tuple[str, list[Any]]]:
    """The messages in an OSC packet (bundles flattened); raises ``ValueError`` on garbage, and on
    a packet of more than :data:`~engine.limits.MAX_OSC_MESSAGES`, counted before it is decoded."""
    if count_elements(data, MAX_OSC_MESSAGES) > MAX_OSC_MESSAGES:
        raise ValueError(f"a packet of more than {MAX_OSC_MESSAGES} messages and bundles (send them in several)")
    try:
        return [(m.message.address, list(m.message.params)) for m in OscPacket(data).messages]
    except Exception as exc:  # python-osc raises assorted errors on garbage
        raise ValueError(f"could not parse the OSC packet: {type(exc).__name__}") from exc


def count_elements(data: bytes, limit: int) -> int:
    """Messages and nested bundles in a packet, from the bundles' element sizes alone (no decoding:
    python-osc took 160 ms for 2000 messages), stopping once past ``limit``, so nesting stays shallow."""
    if not data.startswith(BUNDLE):
        return 1
    count, at = 0, len(BUNDLE) + 8  # after the time tag
    while at + 4 <= len(data) and count <= limit:
        size = int.from_bytes(data[at:at + 4], "big")
        element = data[at + 4:at + 4 + size]
        count += 1 + (count_elements(element, limit - count) if element.startswith(BUNDLE) else 0)
        at += 4 + size
    return count


def encode_reply(reply: str, *args: Any) -> bytes:
    """The datagram for ``/gramophone/<reply>`` with ``args`` typed as the reply table says."""
    path = f"{A.PREFIX}/{reply}"
    spec = A.REPLY_BY_PATH[path]
    builder = OscMessageBuilder(path)
    for arg, value in zip(spec.args, args):
        kind = arg.type if arg.type != "x" else ("i" if isinstance(value, int) else "s")
        value = int(value) if kind == "i" else float(value) if kind == "f" else str(value)
        builder.add_arg(value, kind)
    return builder.build().dgram


class OscTransport:
    """A bound UDP socket: :meth:`receive` for the socket thread, :meth:`send` from any thread."""

    def __init__(self, host: str, port: int) -> None:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.sock = socket.socket(family, socket.SOCK_DGRAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
        self.sock.bind((host, port))
        self.sock.settimeout(0.2)
        self.address: Target = self.sock.getsockname()[:2]
        self._send_lock = threading.Lock()

    def receive(self, stop: threading.Event) -> Iterator[tuple[bytes, Target]]:
        """Datagrams and their senders until ``stop`` is set."""
        while not stop.is_set():
            try:
                data, sender = self.sock.recvfrom(MAX_OSC_PACKET)
            except socket.timeout:
                continue
            except OSError:  # e.g. ICMP port-unreachable reported on Windows; the socket is still fine
                if stop.is_set():
                    return
                continue
            yield data, sender[:2]

    def send(self, targets: Iterable[Target], reply: str, *args: Any) -> None:
        dgram = encode_reply(reply, *args)
        with self._send_lock:
            for target in targets:
                try:
                    self.sock.sendto(dgram, target)
                except OSError as exc:
                    log.info("could not reply to %s:%d: %s", *target, exc)

    def close(self) -> None:
        self.sock.close()


class ReplyRoutes:
    """Where a sender's replies go: the sender, its registered port, a per-request port, the default."""

    def __init__(self, default_port: Optional[int] = None) -> None:
        self.default_port = default_port
        self.registered: dict[str, int] = {}

    def targets(self, sender: Target, extra_port: Optional[int] = None) -> list[Target]:
        host = sender[0]
        ports = [self.registered.get(host), extra_port, self.default_port]
        return list(dict.fromkeys([sender] + [(host, p) for p in ports if p]))
