"""What Max stores for each object the Gramophone patches use: its box class, inlet and outlet
counts and outlet types, as Max 8/9 save them in real patches.

The data is ``max_objects.json``. Each entry is either fixed (``inlets``, ``outlets``,
``outlettype``) or names a ``rule`` for objects whose ports follow their arguments (``route a b``
has 3 inlets and 3 outlets). Every entry lists under ``seen`` boxes copied from public patches
(repository, commit, path, box text and the stored numbers), so a reader can check the table
against real files; tests/test_max_clients.py checks that each rule reproduces its examples and
that every box of every generated patch matches the table. build_max.py takes its numbers from
here, so the generator and the check share one source.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

TABLE_PATH = Path(__file__).resolve().parent / "max_objects.json"
TABLE: dict = json.loads(TABLE_PATH.read_text())["objects"]

#: trigger/unpack argument letters and the outlet type Max stores for them
_TYPE_OF = {"b": "bang", "i": "int", "f": "float", "l": "", "s": "", "a": ""}
#: sprintf conversions (%% is a literal percent sign, not an argument)
_FORMAT = re.compile(r"%(?!%)[-+ #0-9.]*[a-zA-Z]")


@dataclass(frozen=True)
class Ports:
    inlets: int
    outlets: int
    outlettype: tuple[str, ...]


def object_name(maxclass: str, text: str | None) -> str:
    """The table key of a box: the first word of an object box, else the box class."""
    return text.split()[0] if maxclass == "newobj" and text else maxclass


def _unpack_type(arg: str) -> str:
    if arg in _TYPE_OF:
        return _TYPE_OF[arg]
    if re.fullmatch(r"-?\d+", arg):
        return "int"
    return "float" if re.fullmatch(r"-?\d*\.\d*", arg) else ""


def _by_rule(rule: str, args: list[str], text: str) -> Ports:
    n = len(args)
    if rule == "selector":  # route, select: one outlet per argument plus "no match"; an inlet per argument
        first = ["bang"] * n if text.split()[0] in ("sel", "select") else [""] * n
        return Ports(n + 1, n + 1, tuple(first + [""]))
    if rule == "trigger":
        return Ports(1, n, tuple(_TYPE_OF.get(a, "") for a in args))
    if rule == "pack":
        return Ports(n or 2, 1, ("",))
    if rule == "unpack":
        return Ports(1, n, tuple(_unpack_type(a) for a in args))
    if rule == "sprintf":
        return Ports(max(1, len(_FORMAT.findall(text))), 1, ("",))
    if rule == "gate":
        outs = int(args[0]) if args else 1
        return Ports(2, outs, ("",) * outs)
    if rule == "channels_in":  # sfrecord~ N: one signal inlet per channel
        chans = int(args[0]) if args else 1
        return Ports(chans, 1, ("signal",))
    if rule == "player":  # sfplay~ N: N signal outlets and a bang when done
        chans = int(args[0]) if args else 1
        return Ports(2, chans + 1, ("signal",) * chans + ("bang",))
    if rule == "plug":  # plugin~/plugout~: two channels unless the channels are listed
        chans = n or 2
        return Ports(chans, chans, ("signal",) * chans)
    if rule == "adc":
        chans = n or 2
        return Ports(1, chans, ("signal",) * chans)
    raise KeyError(f"unknown rule {rule!r}")


def expected(maxclass: str, text: str | None) -> Ports:
    """The ports Max stores for a box of this class and text. Raises KeyError for an object that
    is not in the table (subpatchers and abstractions are counted from their contents instead)."""
    name = object_name(maxclass, text)
    entry = TABLE[name]
    if entry["maxclass"] != maxclass:
        raise KeyError(f"{name} is saved as maxclass {entry['maxclass']!r}, not {maxclass!r}")
    if "rule" in entry:
        return _by_rule(entry["rule"], (text or "").split()[1:], text or "")
    return Ports(entry["inlets"], entry["outlets"], tuple(entry["outlettype"]))
