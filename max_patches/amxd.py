"""The binary container of a Max for Live device (.amxd) around the patcher JSON.

Layout, matched byte for byte with public devices saved by Max 8 and Max 9 (spleeter.amxd in
diracdeltas/spleeter4max, Project/*.amxd in zsteinkamp/m4l-Knobbler4); all integers are
little-endian uint32:

    offset  bytes  content
    0       4      b"ampf"                       container magic
    4       4      4                             length of the device type that follows
    8       4      b"aaaa"                       device type: audio effect ("mmmm" MIDI effect,
                                                 "iiii" instrument); the patcher's
                                                 project.amxdtype holds the same four bytes
                                                 as a big-endian integer (0x61616161)
    12      4      b"meta"                       chunk tag
    16      4      4                             meta length
    20      4      1                             meta value: 1 for an unfrozen device (frozen
                                                 devices store 7 and an "mx@c" archive instead)
    24      4      b"ptch"                       chunk tag
    28      4      N                             length of the patcher text including its NUL
    32      N      patcher JSON (UTF-8) + b"\\0"  the file ends right after the NUL

tests/test_max_clients.py parses Gramophone.amxd back with :func:`parse` and checks each field.
"""
from __future__ import annotations

import json
import struct
from dataclasses import dataclass

MAGIC, META, PATCH = b"ampf", b"meta", b"ptch"
DEVICE_TYPES = {"audio_effect": b"aaaa", "midi_effect": b"mmmm", "instrument": b"iiii"}
UNFROZEN = 1


def amxdtype(device_type: bytes) -> int:
    """The number Max stores as ``project.amxdtype`` for a device type (b"aaaa" -> 1633771873)."""
    return int.from_bytes(device_type, "big")


def pack(patcher: dict, device_type: bytes = DEVICE_TYPES["audio_effect"]) -> bytes:
    """The .amxd bytes of an unfrozen device holding ``patcher`` (a dict with a "patcher" key)."""
    text = json.dumps(patcher, indent="\t", ensure_ascii=False).encode("utf-8") + b"\n\0"
    return (MAGIC + struct.pack("<I", len(device_type)) + device_type
            + META + struct.pack("<II", 4, UNFROZEN)
            + PATCH + struct.pack("<I", len(text)) + text)


@dataclass(frozen=True)
class Device:
    device_type: bytes
    meta: int
    patcher: dict


def parse(data: bytes) -> Device:
    """Read an unfrozen .amxd; raises ValueError where the layout differs from the one above."""
    if data[:4] != MAGIC:
        raise ValueError(f"not an amxd file: magic {data[:4]!r}")
    (type_len,) = struct.unpack_from("<I", data, 4)
    device_type = data[8:8 + type_len]
    pos = 8 + type_len
    if data[pos:pos + 4] != META:
        raise ValueError("no meta chunk")
    meta_len, meta = struct.unpack_from("<II", data, pos + 4)
    pos += 8 + meta_len
    if meta_len != 4 or data[pos:pos + 4] != PATCH:
        raise ValueError("no ptch chunk after a 4-byte meta chunk")
    (patch_len,) = struct.unpack_from("<I", data, pos + 4)
    body = data[pos + 8:]
    if len(body) != patch_len or not body.endswith(b"\0"):
        raise ValueError(f"ptch length {patch_len} does not match the {len(body)} bytes that follow, "
                         "or the text is not NUL-terminated")
    return Device(device_type, meta, json.loads(body[:-1].decode("utf-8")))
