"""Max patchers from descriptions: a patch is a list of named boxes and a list of patch cords
(the Max counterpart of build_pd.py's tables), numbered ``obj-1``, ``obj-2`` ... on output.

A box is a tuple ``(name, maxclass, text, x, y[, w[, h]][, attrs])``:

* ``maxclass`` as Max saves it (``newobj`` for an object box, ``message``, ``comment``, ``umenu`` ...);
  ``text`` is None for boxes without text;
* ``w`` left out (or 0) gives the width Max would choose for the text; ``h`` left out is 22, or
  20 per line for a comment (its ``linecount`` attribute);
* ``attrs`` are saved in the box as given, after the text. A box whose ``attrs`` hold a
  ``patcher`` (a ``[p name]`` subpatcher) gets its inlets and outlets from that patcher, as Max
  counts them; every other box gets them from max_objects.json (maxobjects.py), or, for an
  abstraction such as ``[gramophone]``, from the patcher passed under its name to :func:`patcher`.

A patch cord is ``(source, outlet, destination, inlet)``, by box name; :func:`chain` writes a
row of outlet-0-to-inlet-0 cords. The order of both lists is the order Max saves them in.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .maxobjects import Ports, expected, object_name

#: the Max that saved the real patches this layout is taken from
APPVERSION = {"major": 9, "minor": 0, "revision": 7, "architecture": "x64", "modernui": 1}

Box = tuple[Any, ...]
Cord = tuple[str, int, str, int]


@dataclass(frozen=True)
class Patch:
    """One patcher (or a part of one, spliced into another's lists) as data."""
    boxes: list[Box]
    cords: list[Cord] = field(default_factory=list)


def chain(*names: str) -> list[Cord]:
    """Cords from outlet 0 of each box to inlet 0 of the next."""
    return [(a, 0, b, 0) for a, b in zip(names, names[1:])]


def counted(patcher: dict) -> Ports:
    """The ports of a box holding ``patcher`` (a subpatcher or an abstraction): one per inlet and
    outlet box inside, as Max counts them."""
    classes = [b["box"]["maxclass"] for b in patcher["boxes"]]
    outlets = classes.count("outlet")
    return Ports(classes.count("inlet"), outlets, ("",) * outlets)


def _box(spec: Box, box_id: str, abstractions: Mapping[str, dict]) -> dict:
    name, maxclass, text, *rest = spec
    attrs: dict[str, Any] = rest.pop() if rest and isinstance(rest[-1], dict) else {}
    if len(rest) not in (2, 3, 4):
        raise ValueError(f"box {name!r}: give x, y and optionally w and h, not {rest}")
    x, y, *size = rest
    w = size[0] if size else 0
    h = size[1] if len(size) == 2 else 20.0 * attrs.get("linecount", 1) if maxclass == "comment" else 22.0
    if "patcher" in attrs:
        ports = counted(attrs["patcher"])
    elif maxclass == "newobj" and object_name(maxclass, text) in abstractions:
        ports = counted(abstractions[object_name(maxclass, text)])
    else:
        ports = expected(maxclass, text)
    box: dict[str, Any] = {"id": box_id, "maxclass": maxclass, "numinlets": ports.inlets,
                           "numoutlets": ports.outlets}
    if ports.outlets:
        box["outlettype"] = list(ports.outlettype)
    box["patching_rect"] = [float(x), float(y), float(w or max(40, 7 * len(text or "") + 14)), float(h)]
    if text is not None:
        box["text"] = text
    box.update(attrs)
    return {"box": box}


def patcher(patch: Patch, rect: list[float], abstractions: Mapping[str, dict] | None = None,
            **extra: Any) -> dict:
    """The patcher dict Max saves for ``patch`` (``extra`` goes before the boxes and lines, as Max
    orders them). ``abstractions`` maps an abstraction's name to its patcher, for its ports."""
    ids: dict[str, str] = {}
    boxes = []
    for spec in patch.boxes:
        if spec[0] in ids:
            raise ValueError(f"two boxes are named {spec[0]!r}")
        ids[spec[0]] = f"obj-{len(ids) + 1}"
        boxes.append(_box(spec, ids[spec[0]], abstractions or {}))
    unknown = sorted({n for src, _, dst, _ in patch.cords for n in (src, dst) if n not in ids})
    if unknown:
        raise KeyError(f"patch cords name boxes that do not exist: {unknown}")
    lines = [{"patchline": {"destination": [ids[dst], inlet], "source": [ids[src], outlet]}}
             for src, outlet, dst, inlet in patch.cords]
    return {"fileversion": 1, "appversion": dict(APPVERSION), "classnamespace": "box", "rect": rect,
            "gridsize": [15.0, 15.0], **extra, "boxes": boxes, "lines": lines}
