"""Run the message logic of a Max patch without Max, for the objects the Gramophone patches use.

It is not Max: it knows only the messages these patches send, each object behaving as the
Cycling '74 reference describes it (trigger and unpack fire right to left, a message box
substitutes $1.., pack outputs on its left inlet, zl reg stores on the right, ...). It exists so
the tests can put the server's real replies into udpreceive and read what the user would see in
the status box. Signal objects and the Live API are inert recorders.

Messages are lists of atoms: ``["bang"]``, ``[3]``, ``[0.5]``, ``["symbol", "a b"]``,
``["append", "rain"]`` (a selector with arguments).
"""
from __future__ import annotations

import datetime as _dt
import re
from typing import Any, Callable

Msg = list


def parse_atoms(text: str) -> list:
    out: list = []
    for word in text.split():
        if re.fullmatch(r"-?\d+", word):
            out.append(int(word))
        elif re.fullmatch(r"-?\d*\.\d*", word) and word not in (".", "-."):
            out.append(float(word))
        else:
            out.append(word)
    return out


def content(msg: Msg) -> list:
    """The atoms a message carries: bang carries none; 'symbol x' and 'list a b' drop the selector."""
    if msg == ["bang"]:
        return []
    if msg and msg[0] in ("symbol", "list"):
        return list(msg[1:])
    return list(msg)


def as_msg(atoms: list) -> Msg:
    return list(atoms) if atoms else ["bang"]


class Node:
    def __init__(self, sim: "Sim", box: dict) -> None:
        self.sim, self.box = sim, box
        self.maxclass = box["maxclass"]
        self.text = box.get("text") or ""
        words = self.text.split() if self.maxclass == "newobj" else []
        self.name = words[0] if words else self.maxclass
        self.args = parse_atoms(" ".join(words[1:])) if words else []
        self.outs: list[list[tuple["Node", int]]] = [[] for _ in range(box["numoutlets"])]
        self.received: list[tuple[int, Msg]] = []
        self.state: dict[str, Any] = {}
        self.setup()

    def x(self) -> float:
        return self.box["patching_rect"][0]

    def out(self, outlet: int, msg: Msg) -> None:
        # Max delivers one outlet's connections right to left (by the destinations' positions)
        for node, inlet in sorted(self.outs[outlet], key=lambda c: -c[0].x()):
            node.recv(inlet, msg)

    def setup(self) -> None:
        n, a = self.name, self.args
        if n == "pack":
            self.state["v"] = [0 if x in ("i", "0") else 0.0 if x == "f" else "" if x == "s" else x for x in a] or [0, 0]
        elif n == "int":
            self.state["v"] = a[0] if a else 0
        elif n == "change":
            self.state["v"] = a[0] if a else 0
        elif n == "counter":
            self.state["v"] = (a[0] if len(a) >= 2 else 0)
        elif n == "gate":
            self.state["open"] = 0
        elif n == "sprintf":
            self.state["sym"] = bool(a) and a[0] == "symout"
            fmt = self.text.split(None, 2 if self.state["sym"] else 1)[-1]
            self.state["fmt"] = fmt
            self.state["v"] = [0] * max(1, len(re.findall(r"%(?!%)[-+ #0-9.]*[a-zA-Z]", fmt)))
        elif self.maxclass in ("message", "comment"):
            self.state["text"] = self.text
        elif self.maxclass == "umenu":
            self.state["items"] = []
        elif n == "pattr":
            values = self.box.get("saved_attribute_attributes", {}).get("valueof", {})
            self.state["v"] = list(values.get("parameter_initial", []))

    def recv(self, inlet: int, msg: Msg) -> None:  # noqa: C901 - one branch per object, kept together
        self.received.append((inlet, msg))
        n, a, atoms = self.name, self.args, content(msg)
        if n == "subpatch":
            self.state["inlets"][inlet].out(0, msg)
        elif n in ("inlet", "outlet"):
            self.sim.through(self, msg)
        elif self.maxclass == "message":
            if msg[:1] == ["set"]:
                self.state["text"] = " ".join(map(str, msg[1:]))
                return
            text = re.sub(r"\$(\d)", lambda m: str(atoms[int(m.group(1)) - 1]), self.state["text"])
            self.out(0, as_msg(parse_atoms(text)))
        elif self.maxclass == "comment":
            if msg[:1] == ["set"]:
                self.state["text"] = " ".join(map(str, msg[1:]))
        elif n in ("t", "trigger"):
            for i in reversed(range(len(a))):
                kind = a[i]
                if kind == "b":
                    self.out(i, ["bang"])
                elif kind == "s":
                    self.out(i, ["symbol", str(atoms[0]) if atoms else ""])
                elif kind == "i":
                    self.out(i, [int(atoms[0]) if atoms else 0])
                elif kind == "f":
                    self.out(i, [float(atoms[0]) if atoms else 0.0])
                else:
                    self.out(i, msg)
        elif n in ("route", "sel", "select"):
            if inlet:
                return
            key = "bang" if msg == ["bang"] else (atoms[0] if atoms else None)
            for i, arg in enumerate(a):
                if key == arg:
                    self.out(i, ["bang"] if n != "route" else as_msg(atoms[1:] if key != "bang" else []))
                    return
            self.out(len(a), msg)
        elif n == "prepend":
            self.out(0, list(a) + atoms)
        elif n == "zl" and a[0] == "slice":
            if inlet == 0:
                k = a[1]
                if atoms[k:]:
                    self.out(1, as_msg(atoms[k:]))
                self.out(0, as_msg(atoms[:k]))
        elif n == "zl" and a[0] == "reg":
            if inlet == 1:
                self.state["v"] = atoms
            elif msg == ["bang"]:
                if "v" in self.state:
                    self.out(0, as_msg(self.state["v"]))
            else:
                self.state["v"] = atoms
                self.out(0, msg)
        elif n == "pack":
            v = self.state["v"]
            if inlet:
                v[inlet] = atoms[0]
                return
            if msg != ["bang"]:
                v[:len(atoms)] = atoms
            self.out(0, list(v))
        elif n == "unpack":
            for i in reversed(range(min(len(a), len(atoms)))):
                self.out(i, [atoms[i]])
        elif n == "sprintf":
            v = self.state["v"]
            if inlet:
                v[inlet] = atoms[0]
                return
            if msg != ["bang"]:
                v[:len(atoms)] = atoms
            fmt = re.sub(r"%(-?\d*)l([di])", r"%\1\2", self.state["fmt"])
            text = fmt % tuple(v)
            self.out(0, ["symbol", text] if self.state["sym"] else as_msg(parse_atoms(text)))
        elif n == "gate":
            if inlet == 0:
                self.state["open"] = int(atoms[0])
            elif self.state["open"]:
                self.out(self.state["open"] - 1, msg)
        elif n == "int":
            if inlet:
                self.state["v"] = int(atoms[0])
            else:
                if atoms:
                    self.state["v"] = int(atoms[0])
                self.out(0, [self.state["v"]])
        elif n == "change":
            if atoms and atoms[0] != self.state["v"]:
                self.state["v"] = atoms[0]
                self.out(0, [atoms[0]])
        elif n in ("delay", "metro"):
            if msg == ["stop"] or atoms == [0]:
                self.sim.timers.discard(self)
            else:
                self.sim.timers.add(self)
                if n == "metro":
                    self.out(0, ["bang"])
        elif n == "counter":
            if msg == ["bang"]:
                self.out(0, [self.state["v"]])
                self.state["v"] += 1
        elif n == "random":
            self.out(0, [self.sim.random(int(a[0]))])
        elif n == "date":
            now = self.sim.now
            if msg == ["date"]:
                self.out(0, [now.month, now.day, now.year])
            elif msg == ["time"]:
                self.out(1, [now.hour, now.minute, now.second])
        elif n == "conformpath":
            path = str(atoms[0])
            self.out(0, ["symbol", re.sub(r"^[^/:]+:(?=/)", "", path)])  # "Macintosh HD:/x" -> "/x"
        elif n == "tosymbol":
            self.out(0, ["symbol", " ".join(map(str, atoms))])
        elif n == "clip":
            self.out(0, [min(max(atoms[0], a[0]), a[1])])
        elif n == "udpsend":
            self.sim.sent.append(content(msg))
        elif n == "udpreceive":
            if msg[:1] == ["port"]:
                self.state["port"] = msg[1]
        elif n == "pattr":
            if msg == ["bang"]:
                self.out(0, as_msg(self.state["v"]))
            else:
                self.state["v"] = atoms
                self.out(0, msg)
        elif self.maxclass == "umenu":
            items = self.state["items"]
            if msg == ["clear"]:
                items.clear()
            elif msg[:1] == ["append"]:
                items.append(" ".join(map(str, msg[1:])))
            elif atoms and isinstance(atoms[0], int) and 0 <= atoms[0] < len(items):
                self.state["value"] = atoms[0]
                self.out(1, ["symbol", items[atoms[0]]])
                self.out(0, [atoms[0]])
        elif self.maxclass in ("led", "slider", "flonum", "toggle"):
            if msg[:1] == ["set"]:
                self.state["v"] = msg[1]
            else:
                self.state["v"] = atoms[0] if atoms else None
        elif n in ("loadbang", "live.thisdevice"):
            self.out(0, ["bang"])
        # everything else (buffer~, sfrecord~, sfplay~, print, live.path, live.object, plugout~, ...)
        # only records what it received

    def fire(self) -> None:
        """A scheduled delay or metro tick."""
        if self.name == "delay":
            self.sim.timers.discard(self)
        self.out(0, ["bang"])


class Sim:
    def __init__(self, patcher: dict, abstractions: dict[str, dict] | None = None,
                 now: _dt.datetime | None = None) -> None:
        self.abstractions = abstractions or {}
        self.now = now or _dt.datetime(2026, 11, 27, 9, 5, 7)
        self.timers: set[Node] = set()
        self.sent: list[list] = []
        self.nodes: list[Node] = []
        self._random = 4821
        self._parents: dict[int, tuple[Node, dict]] = {}
        self.top = self._build(patcher, parent=None)

    def random(self, limit: int) -> int:
        self._random = (self._random * 7919 + 13) % limit
        return self._random

    def _build(self, patcher: dict, parent: Node | None) -> dict[str, Node]:
        nodes: dict[str, Node] = {}
        for b in patcher["boxes"]:
            box = b["box"]
            node = Node(self, box)
            nodes[box["id"]] = node
            self.nodes.append(node)
            inner = box.get("patcher") or self.abstractions.get(node.name)
            if inner is not None and node.name != "inlet":
                node.name = "subpatch"
                node.state["inner"] = self._build(inner, node)
        for line in patcher["lines"]:
            (src, outlet), (dst, inlet) = line["patchline"]["source"], line["patchline"]["destination"]
            nodes[src].outs[outlet].append((nodes[dst], inlet))
        if parent is not None:
            ins = sorted((n for n in nodes.values() if n.maxclass == "inlet"), key=Node.x)
            outs = sorted((n for n in nodes.values() if n.maxclass == "outlet"), key=Node.x)
            parent.state["inlets"] = ins
            for i, node in enumerate(outs):
                self._parents[id(node)] = (parent, {"outlet": i})
        return nodes

    def through(self, node: Node, msg: Msg) -> None:
        if node.maxclass == "outlet":
            parent, where = self._parents[id(node)]
            parent.out(where["outlet"], msg)

    # --- driving it --------------------------------------------------------------------------------
    def find(self, pred: Callable[[Node], bool]) -> Node:
        found = [n for n in self.nodes if pred(n)]
        assert len(found) == 1, f"{len(found)} boxes match"
        return found[0]

    def named(self, maxclass: str, text: str | None = None) -> Node:
        return self.find(lambda n: n.maxclass == maxclass and (text is None or n.text == text))

    def start(self) -> None:
        for node in list(self.nodes):
            if node.name in ("loadbang", "live.thisdevice"):
                node.recv(0, ["bang"])

    def fire(self, name: str) -> None:
        """Let every pending delay (or metro) of that kind elapse once."""
        for node in [t for t in self.timers if t.name == name]:
            node.fire()

    def reply(self, address: str, *args: Any) -> None:
        """A message arriving at udpreceive, as Max outputs it: the OSC address is the selector."""
        self.find(lambda n: n.name == "udpreceive").out(0, [address, *args])
