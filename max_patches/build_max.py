"""Write every Max file of the Gramophone Max package from one description:

* ``patchers/gramophone.maxpat``: the reusable ``[gramophone]`` abstraction (all OSC traffic);
* ``help/gramophone.maxhelp``: its help patch;
* ``examples/gramophone-example.maxpat``: the full patch (drop, record, render, play) built on it;
* ``Gramophone.amxd``: the Max for Live audio effect; it embeds the same abstraction as
  ``[p gramophone]`` (started by ``live.thisdevice``, ``---`` names) so it needs no other file;
* ``package-info.json``: the package description Max reads.

    .venv/bin/python -m gramophone.clients.build_max

Every box gets its inlet/outlet counts and outlet types from ``max_objects.json`` (the table of
what real patches store, see maxobjects.py); OSC addresses come from the server's address table.
tests/test_max_clients.py checks the files on disk are exactly what this writes.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .. import __version__
from ..bridge import addresses as A
from . import amxd
from .maxobjects import Ports, expected

HERE = Path(__file__).resolve().parent
SERVER_PORT, REPLY_PORT = A.DEFAULT_PORT, A.DEFAULT_REPLY_PORT
DEFAULT_FOLDER = "/tmp"
#: Live's device strip is 169 px high; the device is this wide
DEVICE_HEIGHT, DEVICE_WIDTH = 169.0, 440.0
APPVERSION = {"major": 9, "minor": 0, "revision": 7, "architecture": "x64", "modernui": 1}
OUTLET_EVENTS = ("ready", "connected", "queued", "cancelled", "newfile", "take")


def osc(name: str) -> str:
    """An address of the server's table (a KeyError here means the patch would send a typo)."""
    path = f"{A.PREFIX}/{name}"
    if path not in A.BY_PATH and path not in A.REPLY_BY_PATH:
        raise KeyError(path)
    return path


class Patch:
    """Boxes and patch cords of one patcher; boxes are named here and saved with ids obj-N."""

    def __init__(self) -> None:
        self.boxes: list[dict] = []
        self.lines: list[dict] = []
        self.ids: dict[str, str] = {}

    def box(self, name: str, maxclass: str, text: str | None, x: float, y: float, w: float = 0, h: float = 22.0,
            ports: Ports | None = None, **attrs: Any) -> str:
        ports = ports or expected(maxclass, text)
        box_id = f"obj-{len(self.boxes) + 1}"
        self.ids[name] = box_id
        box: dict[str, Any] = {"id": box_id, "maxclass": maxclass, "numinlets": ports.inlets,
                               "numoutlets": ports.outlets}
        if ports.outlets:
            box["outlettype"] = list(ports.outlettype)
        box["patching_rect"] = [float(x), float(y), float(w or max(40, 7 * len(text or "") + 14)), float(h)]
        if text is not None:
            box["text"] = text
        box.update(attrs)
        self.boxes.append({"box": box})
        return name

    def obj(self, name: str, text: str, x: float, y: float, **attrs: Any) -> str:
        return self.box(name, "newobj", text, x, y, **attrs)

    def msg(self, name: str, text: str, x: float, y: float, **attrs: Any) -> str:
        return self.box(name, "message", text, x, y, **attrs)

    def comment(self, name: str, text: str, x: float, y: float, w: float = 430.0, lines: int = 1, **attrs: Any) -> str:
        if lines > 1:
            attrs["linecount"] = lines
        return self.box(name, "comment", text, x, y, w, 20.0 * lines, **attrs)

    def sub(self, name: str, text: str, inner: "Patch", x: float, y: float, embed: bool = False,
            **attrs: Any) -> str:
        """An abstraction box, or with ``embed`` a [p ...] subpatcher holding ``inner``; the ports
        are counted from the inner patch as Max does."""
        outs = sum(b["box"]["maxclass"] == "outlet" for b in inner.boxes)
        ports = Ports(sum(b["box"]["maxclass"] == "inlet" for b in inner.boxes), outs, ("",) * outs)
        if embed:
            attrs["patcher"] = inner.patcher([100.0, 100.0, 1250.0, 1080.0])
        return self.box(name, "newobj", text, x, y, ports=ports, **attrs)

    def connect(self, src: str, outlet: int, dst: str, inlet: int = 0) -> None:
        self.lines.append({"patchline": {"destination": [self.ids[dst], inlet], "source": [self.ids[src], outlet]}})

    def chain(self, *names: str) -> None:
        """Connect outlet 0 of each box to inlet 0 of the next."""
        for a, b in zip(names, names[1:]):
            self.connect(a, 0, b)

    def patcher(self, rect: list[float], **extra: Any) -> dict:
        return {"fileversion": 1, "appversion": dict(APPVERSION), "classnamespace": "box", "rect": rect,
                "gridsize": [15.0, 15.0], **extra, "boxes": self.boxes, "lines": self.lines}


# --- the [gramophone] abstraction ---------------------------------------------------------------------
INLETS = (("in_file", "file: an absolute path, or buffer NAME (written to the folder first)"),
          ("in_preset", "preset name (symbol)"),
          ("in_strength", "strength 0-1 (float)"),
          ("in_render", "bang: render; folder PATH, replyport N, presets, ping, newfile, variations N"),
          ("in_cancel", "bang: cancel the last render"))
OUTLETS = (("out_done", "done: absolute path of the rendered file"),
           ("out_progress", "progress 0-1"),
           ("out_error", "errors: CODE MESSAGE (server errors, no_server, bad_message)"),
           ("out_event", "events: ready, connected 0/1, queued N, cancelled, newfile PATH, take N COUNT PATH; "
                         "clear, append NAME, 0 for a preset umenu"))
REPLIES = ("queued", "progress", "done", "error", "cancelled", "preset", "presets/end", "pong", "take")
#: Most takes the device and the abstraction ask for (the server's bound, engine/takes.py)
MAX_TAKES = 16


def abstraction(m4l: bool) -> Patch:
    """All OSC traffic with the server. In Max it is the file patchers/gramophone.maxpat; in the
    device it is embedded (started by live.thisdevice, device-local ``---`` buffer name)."""
    p = Patch()
    local = "---" if m4l else "#0-"
    for i, (name, note) in enumerate(INLETS):
        p.box(name, "inlet", None, 20 + 170 * i, 10, 30, 30, comment=note)
    for i, (name, note) in enumerate(OUTLETS):
        p.box(name, "outlet", None, 20 + 240 * i, 1000, 30, 30, comment=note)
    p.comment("c_about", "Gramophone client: talks OSC to gramophone serve on 127.0.0.1 "
              f"{SERVER_PORT}; replies on the reply port ({REPLY_PORT} unless set with replyport N).", 20, 50, 700)

    # start: a random token for file names, the default folder, pinging, then "ready"
    p.obj("start", "live.thisdevice" if m4l else "loadbang", 20, 90)
    p.obj("t_start", "t b b b b", 20, 120)
    p.obj("token", "random 1000000", 330, 150)
    p.msg("msg_default_folder", DEFAULT_FOLDER, 240, 150)
    p.msg("msg_metro_on", "1", 160, 150)
    p.msg("msg_ready", "ready", 20, 150)
    p.connect("start", 0, "t_start")
    p.connect("t_start", 3, "token")
    p.connect("t_start", 2, "msg_default_folder")
    p.connect("t_start", 1, "msg_metro_on")
    p.connect("t_start", 0, "msg_ready")
    p.connect("msg_ready", 0, "out_event")

    # commands on the render inlet
    p.comment("c_cmd", "Commands: bang renders; folder, replyport, presets, ping, newfile (a fresh "
              "unique path for a recording, answered as newfile PATH), variations N (takes per render).", 520, 50, 560)
    p.obj("route_cmd", "route bang folder replyport presets ping newfile variations", 520, 90)
    p.obj("pre_bad", "prepend bad_message", 1000, 120)
    p.connect("in_render", 0, "route_cmd")
    p.connect("route_cmd", 7, "pre_bad")
    p.connect("pre_bad", 0, "out_error")

    # folder: conformed to a POSIX path, kept for the three kinds of file this writes
    p.obj("conform_folder", "conformpath slash boot", 600, 150)
    p.obj("t_folder", "t s s s", 600, 180)
    p.connect("route_cmd", 1, "conform_folder")
    p.connect("msg_default_folder", 0, "conform_folder")
    p.connect("conform_folder", 0, "t_folder")
    for i, reg in enumerate(("reg_folder_out", "reg_folder_new", "reg_folder_buf")):
        p.obj(reg, "zl reg", 600 + 130 * i, 560)
        p.connect("t_folder", 2 - i, reg, 1)

    # reply port: udpreceive listens there, pings and registrations name it, renders carry it
    p.obj("t_port", "t i i i i", 760, 150)
    p.obj("pre_port", "prepend port", 760, 180)
    p.obj("port_ping", f"int {REPLY_PORT}", 880, 180)
    p.obj("port_reply", f"int {REPLY_PORT}", 960, 180)
    p.connect("route_cmd", 2, "t_port")
    p.connect("t_port", 3, "pre_port")
    p.connect("t_port", 2, "port_ping", 1)
    p.connect("t_port", 1, "port_reply", 1)

    p.obj("udp_out", f"udpsend 127.0.0.1 {SERVER_PORT}", 520, 940)
    p.obj("udp_in", f"udpreceive {REPLY_PORT}", 20, 600)
    p.connect("pre_port", 0, "udp_in")

    # connection: a ping every 3 s; no pong within 1.5 s means the server is not running
    p.comment("c_ping", "Connection: ping every 3 s; a pong within 1.5 s means connected.", 20, 200, 420)
    p.obj("metro", "metro 3000", 160, 230)
    p.obj("t_ping", "t b b", 160, 260)
    p.obj("timeout", "delay 1500", 240, 290)
    p.obj("pre_ping", f"prepend {osc('ping')}", 160, 320)
    p.msg("msg_stop", "stop", 330, 260)
    p.msg("msg_on", "1", 400, 260)
    p.msg("msg_off", "0", 240, 320)
    p.obj("change", "change -1", 240, 350)
    p.obj("t_conn", "t i i", 240, 380)
    p.obj("pre_connected", "prepend connected", 330, 410)
    p.obj("sel_conn", "sel 0 1", 240, 410)
    p.msg("msg_no_server", f"no_server Gramophone server not answering on 127.0.0.1:{SERVER_PORT} - start it "
          "with: gramophone serve", 20, 440, w=420)
    p.connect("msg_metro_on", 0, "metro")
    p.connect("metro", 0, "t_ping")
    p.connect("route_cmd", 4, "t_ping")
    p.connect("t_ping", 1, "timeout")
    p.connect("t_ping", 0, "port_ping")
    p.chain("port_ping", "pre_ping", "udp_out")
    p.chain("timeout", "msg_off", "change")
    p.chain("msg_on", "change", "t_conn")
    p.connect("msg_stop", 0, "timeout")
    p.connect("t_conn", 1, "pre_connected")
    p.connect("pre_connected", 0, "out_event")
    p.connect("t_conn", 0, "sel_conn")
    p.connect("sel_conn", 0, "msg_no_server")
    p.connect("msg_no_server", 0, "out_error")

    # presets: register the reply port, clear the menu, ask (on connect and on "presets")
    p.obj("t_presets", "t b b b", 330, 470)
    p.obj("pre_reply", f"prepend {osc('reply')}", 480, 500)
    p.msg("msg_clear", "clear", 400, 500)
    p.msg("msg_presets", osc("presets"), 330, 530)
    p.connect("sel_conn", 1, "t_presets")
    p.connect("route_cmd", 3, "t_presets")
    p.connect("t_presets", 2, "port_reply")
    p.chain("port_reply", "pre_reply", "udp_out")
    p.connect("t_presets", 1, "msg_clear")
    p.connect("msg_clear", 0, "out_event")
    p.connect("t_presets", 0, "msg_presets")
    p.connect("msg_presets", 0, "udp_out")

    # replies
    p.comment("c_replies", "Replies: the job id is dropped; done gives the path, error gives CODE MESSAGE.",
              20, 630, 560)
    p.obj("route_reply", "route " + " ".join(osc(r) for r in REPLIES), 20, 660)
    p.connect("udp_in", 0, "route_reply")
    p.obj("slice_queued", "zl slice 1", 20, 700)
    p.obj("pre_queued", "prepend queued", 20, 730)
    p.connect("route_reply", 0, "slice_queued")
    p.connect("slice_queued", 1, "pre_queued")
    p.connect("pre_queued", 0, "out_event")
    p.obj("slice_progress", "zl slice 1", 140, 700)
    p.connect("route_reply", 1, "slice_progress")
    p.connect("slice_progress", 1, "out_progress")
    p.obj("slice_done", "zl slice 1", 260, 700)
    p.obj("slice_path", "zl slice 1", 260, 730)
    p.connect("route_reply", 2, "slice_done")
    p.connect("slice_done", 1, "slice_path")
    p.connect("slice_path", 0, "out_done")
    p.obj("slice_error", "zl slice 1", 380, 700)
    p.connect("route_reply", 3, "slice_error")
    p.connect("slice_error", 1, "out_error")
    p.obj("t_cancelled", "t b", 500, 700)
    p.msg("msg_cancelled", "cancelled", 500, 730)
    p.connect("route_reply", 4, "t_cancelled")
    p.chain("t_cancelled", "msg_cancelled", "out_event")
    p.obj("slice_preset", "zl slice 1", 620, 700)
    p.obj("pre_append", "prepend append", 620, 730)
    p.connect("route_reply", 5, "slice_preset")
    p.chain("slice_preset", "pre_append", "out_event")
    p.obj("t_end", "t b", 760, 700)
    p.msg("msg_first", "0", 760, 730)
    p.connect("route_reply", 6, "t_end")
    p.chain("t_end", "msg_first", "out_event")
    p.obj("t_pong", "t b b", 860, 700)
    p.connect("route_reply", 7, "t_pong")
    # take: with variations N, one per take before done (id dropped): take NUMBER COUNT PATH
    p.obj("slice_take", "zl slice 1", 980, 700)
    p.obj("pre_take", "prepend take", 980, 730)
    p.connect("route_reply", 8, "slice_take")
    p.connect("slice_take", 1, "pre_take")
    p.connect("pre_take", 0, "out_event")
    p.connect("t_pong", 1, "msg_stop")
    p.connect("t_pong", 0, "msg_on")

    # unique names: date, time, this instance's random token and a counter; a gate sends the stamp
    # to whoever asked (1 render, 2 newfile, 3 buffer)
    p.comment("c_names", "File names never repeat: gramophone-YYYYMMDD-HHMMSS-TOKEN-N.wav in the folder.",
              600, 240, 560)
    p.obj("t_gen", "t b b b", 600, 270)
    p.obj("counter", "counter 1 1000000", 760, 300)
    p.msg("msg_time", "time", 680, 300)
    p.msg("msg_date", "date", 600, 300)
    p.obj("date", "date", 600, 330)
    p.obj("unpack_time", "unpack 0 0 0", 680, 360)
    p.msg("msg_ymd", "$3 $1 $2", 600, 360)
    p.obj("stamp", "pack 0 0 0 0 0 0 0 0", 600, 390)
    p.obj("fmt_stamp", "sprintf symout %04ld%02ld%02ld-%02ld%02ld%02ld-%ld-%ld", 600, 420)
    p.obj("gate", "gate 3", 600, 450)
    p.connect("token", 0, "stamp", 6)
    p.connect("t_gen", 2, "counter")
    p.connect("counter", 0, "stamp", 7)
    p.connect("t_gen", 1, "msg_time")
    p.connect("t_gen", 0, "msg_date")
    p.connect("msg_time", 0, "date")
    p.connect("msg_date", 0, "date")
    p.connect("date", 1, "unpack_time")
    for i in range(3):
        p.connect("unpack_time", i, "stamp", 3 + i)
    p.connect("date", 0, "msg_ymd")
    p.chain("msg_ymd", "stamp", "fmt_stamp")
    p.connect("fmt_stamp", 0, "gate", 1)

    def path_in_folder(prefix: str, reg: str, x: float) -> str:
        """stamp -> FOLDER/PREFIX-STAMP.wav (the folder is banged into sprintf's left inlet last)."""
        p.obj(f"fmt_{prefix}", f"sprintf symout {prefix}-%s", x, 480)
        p.obj(f"t_{prefix}", "t b s", x, 510)
        p.obj(f"path_{prefix}", "sprintf symout %s/%s.wav", x, 590)
        p.connect("gate", {"gramophone-capture": 1, "gramophone-buffer": 2}[prefix], f"fmt_{prefix}")
        p.connect(f"fmt_{prefix}", 0, f"t_{prefix}")
        p.connect(f"t_{prefix}", 1, f"path_{prefix}", 1)
        p.connect(f"t_{prefix}", 0, reg)
        p.connect(reg, 0, f"path_{prefix}")
        return f"path_{prefix}"

    # render: id and output path from a fresh stamp, then the message
    p.comment("c_render", f"Render: {osc('render')} id clip preset out strength S reply_port P variations N "
              "(N > 1: takes OUT-v1.wav ...).", 20, 780, 560)
    p.obj("t_render", "t b b", 520, 120)
    p.msg("msg_gate_render", "1", 560, 240)
    p.connect("route_cmd", 0, "t_render")
    p.connect("t_render", 1, "msg_gate_render")
    p.connect("msg_gate_render", 0, "gate")
    p.connect("t_render", 0, "t_gen")
    p.obj("fmt_id", "sprintf symout gramophone-%s", 20, 810)
    p.obj("t_id", "t s s", 20, 840)
    p.obj("t_outpath", "t b s", 160, 870)
    p.obj("path_out", "sprintf symout %s/%s.wav", 160, 900)
    p.obj("t_last", "t s s", 20, 870)
    p.obj("reg_last", "zl reg", 20, 940)
    p.obj("render", f"pack s s s s strength 1. reply_port {REPLY_PORT} variations 1", 340, 870)
    p.obj("pre_render", f"prepend {osc('render')}", 340, 900)
    p.connect("gate", 0, "fmt_id")
    p.connect("fmt_id", 0, "t_id")
    p.connect("t_id", 1, "t_outpath")
    p.connect("t_outpath", 1, "path_out", 1)
    p.connect("t_outpath", 0, "reg_folder_out")
    p.connect("reg_folder_out", 0, "path_out")
    p.connect("path_out", 0, "render", 3)
    p.connect("t_id", 0, "t_last")
    p.connect("t_last", 1, "reg_last", 1)
    p.connect("t_last", 0, "render", 0)
    p.chain("render", "pre_render", "udp_out")
    p.connect("t_port", 0, "render", 7)

    # inputs
    p.obj("route_file", "route buffer", 20, 90 + 0)
    p.connect("in_file", 0, "route_file")
    p.obj("conform_file", "conformpath slash boot", 60, 260 + 0)
    p.connect("route_file", 1, "conform_file")
    p.connect("conform_file", 0, "render", 1)
    p.obj("symbol_preset", "tosymbol", 190, 90)
    p.connect("in_preset", 0, "symbol_preset")
    p.connect("symbol_preset", 0, "render", 2)
    p.obj("clip_strength", "clip 0. 1.", 360, 90)
    p.connect("in_strength", 0, "clip_strength")
    p.connect("clip_strength", 0, "render", 5)
    p.obj("clip_variations", f"clip 1 {MAX_TAKES}", 1000, 150)
    p.connect("route_cmd", 6, "clip_variations")
    p.connect("clip_variations", 0, "render", 9)
    p.obj("t_cancel", "t b", 200, 940)
    p.obj("pre_cancel", f"prepend {osc('cancel')}", 20, 970)
    p.chain("in_cancel", "t_cancel", "reg_last")
    p.chain("reg_last", "pre_cancel", "udp_out")

    # newfile: a fresh path for a recording, answered on the event outlet
    p.obj("t_new", "t b b", 900, 240)
    p.msg("msg_gate_new", "2", 940, 270)
    p.connect("route_cmd", 5, "t_new")
    p.connect("t_new", 1, "msg_gate_new")
    p.connect("msg_gate_new", 0, "gate")
    p.connect("t_new", 0, "t_gen")
    newpath = path_in_folder("gramophone-capture", "reg_folder_new", 760)
    p.obj("pre_newfile", "prepend newfile", 760, 620)
    p.chain(newpath, "pre_newfile", "out_event")

    # buffer NAME: point a buffer~ at NAME, write it to a fresh file, use that file
    p.comment("c_buffer", "buffer NAME: the buffer~ is written as a float WAV to the folder first.", 900, 440, 300)
    p.obj("t_buffer", "t b b s", 1000, 470)
    p.obj("pre_name", "prepend name", 1100, 500)
    p.obj("buffer", f"buffer~ {local}gramophone", 1100, 680)
    p.msg("msg_gate_buffer", "3", 1050, 500)
    p.connect("route_file", 0, "t_buffer")
    p.connect("t_buffer", 2, "pre_name")
    p.connect("pre_name", 0, "buffer")
    p.connect("t_buffer", 1, "msg_gate_buffer")
    p.connect("msg_gate_buffer", 0, "gate")
    p.connect("t_buffer", 0, "t_gen")
    bufpath = path_in_folder("gramophone-buffer", "reg_folder_buf", 900)
    p.obj("t_written", "t s s", 900, 620)
    p.obj("pre_write", "prepend writewave", 1000, 650)
    p.connect(bufpath, 0, "t_written")
    p.connect("t_written", 1, "pre_write")
    p.connect("pre_write", 0, "buffer")
    p.connect("t_written", 0, "render", 1)
    return p


def hook_outlets(p: Patch, gram: str, status: str, menu: str, progress: str, connected: str) -> str:
    """The wiring every host shares: errors, progress, connection, queue state and the preset menu.
    Returns the event router so the host can use newfile and ready."""
    p.obj("pre_error", "prepend set error:", 620, 520)
    p.connect(gram, 2, "pre_error")
    p.connect("pre_error", 0, status)
    p.connect(gram, 1, progress)
    p.obj("route_event", "route " + " ".join(OUTLET_EVENTS), 620, 460)
    p.connect(gram, 3, "route_event")
    p.connect("route_event", 1, connected)
    p.obj("pre_queued", "prepend set queued at position", 760, 490)
    p.connect("route_event", 2, "pre_queued")
    p.connect("pre_queued", 0, status)
    p.msg("msg_cancelled", "set cancelled", 900, 490)
    p.connect("route_event", 3, "msg_cancelled")
    p.connect("msg_cancelled", 0, status)
    p.obj("pre_take", "prepend set take", 900, 520)  # take N COUNT PATH: one per take of a render of several
    p.connect("route_event", 5, "pre_take")
    p.connect("pre_take", 0, status)
    p.connect("route_event", 6, menu)
    p.connect(menu, 1, gram, 1)
    return "route_event"


def recorder(p: Patch, gram: str, events: str, source: str, switch: str, status: str, x: float, y: float) -> None:
    """switch 1: ask the abstraction for a fresh path (newfile), open it in sfrecord~ 2, record;
    switch 0: stop, close the file and make it the clip to render."""
    p.obj("sel_rec", "sel 1 0", x, y)
    p.msg("msg_newfile", "newfile", x, y + 30)
    p.obj("t_newfile", "t s s", x + 160, y + 30)
    p.obj("t_open", "t b s", x + 160, y + 60)
    p.obj("pre_open_rec", "prepend open wave", x + 240, y + 90)
    p.msg("msg_rec_on", "1", x + 160, y + 90)
    p.obj("t_stop", "t b b", x + 60, y + 60)
    p.msg("msg_rec_off", "0", x + 100, y + 90)
    p.obj("sfrecord", "sfrecord~ 2", x + 160, y + 130)
    p.obj("reg_rec", "zl reg", x, y + 130)
    p.obj("t_recorded", "t s s", x, y + 160)
    p.obj("pre_recorded", "prepend set recorded:", x + 60, y + 190)
    p.connect(switch, 0, "sel_rec")
    p.connect("sel_rec", 0, "msg_newfile")
    p.connect("msg_newfile", 0, gram, 3)
    p.connect(events, 4, "t_newfile")
    p.connect("t_newfile", 1, "reg_rec", 1)
    p.connect("t_newfile", 0, "t_open")
    p.connect("t_open", 1, "pre_open_rec")
    p.connect("pre_open_rec", 0, "sfrecord")
    p.connect("t_open", 0, "msg_rec_on")
    p.connect("msg_rec_on", 0, "sfrecord")
    p.connect("sel_rec", 1, "t_stop")
    p.connect("t_stop", 1, "msg_rec_off")
    p.connect("msg_rec_off", 0, "sfrecord")
    p.connect("t_stop", 0, "reg_rec")
    p.connect("reg_rec", 0, "t_recorded")
    p.connect("t_recorded", 1, "pre_recorded")
    p.connect("pre_recorded", 0, status)
    p.connect("t_recorded", 0, gram, 0)
    p.connect(source, 0, "sfrecord", 0)
    p.connect(source, 1, "sfrecord", 1)


def example() -> Patch:
    """examples/gramophone-example.maxpat: the whole flow in Max, on the [gramophone] abstraction."""
    p = Patch()
    c = p.comment
    c("title", "Gramophone: render a sound in the style of a preset. Start the server first: gramophone serve",
      20, 10, 700)
    c("c1", "1. Drop an audio file on the box, open one, or record (turn audio on; the recording is written to "
      "the folder exactly as long as you played).", 20, 40, 700)
    p.box("drop", "dropfile", None, 20, 70, 200, 22)
    p.box("open", "textbutton", "Open sound…", 240, 70, 100)
    p.obj("dialog_sound", "opendialog sound", 240, 100)
    p.box("record", "toggle", None, 360, 70, 22, 22)
    c("c_record", "record", 388, 70, 60)
    p.obj("adc", "adc~", 460, 70)
    p.box("dac", "ezdac~", None, 540, 70, 45, 45)
    c("c2", "2. Pick a preset and a strength; the menu fills from the server when it answers (the dot).", 20, 140, 700)
    p.box("menu", "umenu", None, 20, 170, 160, 22)
    p.box("refresh", "textbutton", "Refresh presets", 190, 170, 110)
    p.msg("msg_refresh", "presets", 190, 200)
    p.box("strength", "flonum", None, 320, 170, 50, 22, minimum=0.0, maximum=1.0)
    p.box("led", "led", None, 390, 170, 22, 22)
    c("c_led", "server", 416, 170, 60)
    c("c3", "3. Render (or Cancel). Renders land in the folder as gramophone-DATE-TIME-TOKEN-N.wav and never "
      "overwrite a file; choose a folder the server allows (temporary folder, ~/Music, ~/Documents).", 20, 230,
      700, lines=2)
    p.box("render", "textbutton", "Render", 20, 280, 80)
    p.obj("t_render", "t b", 20, 310)
    p.box("cancel", "textbutton", "Cancel", 110, 280, 80)
    p.obj("t_cancel", "t b", 110, 310)
    p.box("choose", "textbutton", "Choose folder…", 200, 280, 110)
    p.obj("dialog_folder", "opendialog fold", 200, 310)
    p.obj("t_folder", "t s s", 200, 340)
    p.obj("pre_folder", "prepend folder", 200, 370)
    p.obj("pre_show_folder", "prepend set", 330, 370)
    c("folder", DEFAULT_FOLDER, 330, 400, 390)
    p.sub("gram", "gramophone", abstraction(False), 20, 430, w=440)
    c("c4", "4. Status, progress; on done the result opens in sfplay~: 1 plays it, 0 stops.", 20, 560, 700)
    p.box("progress", "slider", None, 20, 590, 300, 16, size=1.0, floatoutput=1, ignoreclick=1)
    c("status", "status", 20, 620, 700)
    p.obj("t_done", "t s s", 20, 480)
    p.obj("pre_done", "prepend set done:", 140, 520)
    p.obj("pre_open", "prepend open", 20, 660)
    p.msg("msg_play", "1", 120, 660)
    p.msg("msg_stop", "0", 160, 660)
    p.obj("player", "sfplay~ 2", 20, 690)
    p.chain("drop", "gram")
    p.chain("open", "dialog_sound", "gram")
    p.connect("refresh", 0, "msg_refresh")
    p.connect("msg_refresh", 0, "gram", 3)
    p.connect("strength", 0, "gram", 2)
    p.chain("render", "t_render")
    p.connect("t_render", 0, "gram", 3)
    p.chain("cancel", "t_cancel")
    p.connect("t_cancel", 0, "gram", 4)
    p.chain("choose", "dialog_folder", "t_folder")
    p.connect("t_folder", 1, "pre_show_folder")
    p.connect("pre_show_folder", 0, "folder")
    p.connect("t_folder", 0, "pre_folder")
    p.connect("pre_folder", 0, "gram", 3)
    p.connect("gram", 0, "t_done")
    p.connect("t_done", 1, "pre_done")
    p.connect("pre_done", 0, "status")
    p.connect("t_done", 0, "pre_open")
    for src in ("pre_open", "msg_play", "msg_stop"):
        p.connect(src, 0, "player")
    p.connect("player", 0, "dac", 0)
    p.connect("player", 1, "dac", 1)
    events = hook_outlets(p, "gram", "status", "menu", "progress", "led")
    p.msg("msg_strength", "set 1.", 620, 430)  # show the abstraction's default strength
    p.connect(events, 0, "msg_strength")
    p.connect("msg_strength", 0, "strength")
    recorder(p, "gram", events, "adc", "record", "status", 760, 40)
    return p


def help_patch() -> Patch:
    """help/gramophone.maxhelp: each inlet and outlet of [gramophone], with messages to click."""
    p = Patch()
    c = p.comment
    c("title", "gramophone: render a sound in the style of a preset through the Gramophone server", 20, 10, 700)
    c("c_server", "Start the server in a terminal first: gramophone serve (it answers on 127.0.0.1 "
      f"{SERVER_PORT}; the dot below lights when it does).", 20, 35, 700)
    c("c_file", "inlet 1: an absolute audio file path, or buffer NAME", 20, 70, 330)
    p.msg("msg_path", "/tmp/gramophone-help-input.wav", 20, 95)
    p.msg("msg_read", "read", 20, 125)
    p.obj("buffer", "buffer~ gramophone-help 10000 2", 70, 125)
    c("c_buffer", "a sized buffer~ (10 s, stereo): read loads a file without audio on; recording into it "
      "needs audio on", 20, 150, 330, lines=2)
    p.msg("msg_buffer", "buffer gramophone-help", 20, 195)
    c("c_preset", "inlet 2: preset", 360, 70, 120)
    p.msg("msg_rain", "rain", 360, 95)
    p.msg("msg_vinyl", "vinyl", 410, 95)
    c("c_strength", "inlet 3: strength 0-1", 480, 70, 150)
    p.box("strength", "flonum", None, 480, 95, 50, 22, minimum=0.0, maximum=1.0)
    c("c_render", "inlet 4: bang renders; settings", 640, 70, 220)
    p.msg("msg_bang", "bang", 640, 95)
    p.msg("msg_folder", f"folder {DEFAULT_FOLDER}", 640, 125)
    p.msg("msg_port", f"replyport {REPLY_PORT}", 640, 155)
    p.msg("msg_presets", "presets", 640, 185)
    p.msg("msg_ping", "ping", 720, 185)
    p.msg("msg_newfile", "newfile", 780, 185)
    p.msg("msg_variations", "variations 3", 640, 215)
    c("c_variations", "3 takes per render: FILE-v1.wav ... (events: take N COUNT PATH)", 730, 215, 260)
    c("c_cancel", "inlet 5: bang cancels", 880, 70, 150)
    p.msg("msg_cancel", "bang", 880, 95)
    p.sub("gram", "gramophone", abstraction(False), 20, 260, w=900)
    c("c_out", "outlets: done path (with variations: the first take's) | progress 0-1 | errors: CODE MESSAGE | "
      "events: ready, connected 0/1, queued N, cancelled, newfile PATH, take N COUNT PATH, clear / append NAME / 0 "
      "(for a umenu)", 20, 290, 900, lines=2)
    for i, name in enumerate(("done", "progress", "error", "event")):
        p.obj(f"print_{name}", f"print gramophone-{name}", 20 + 230 * i, 340)
        p.connect("gram", i, f"print_{name}")
    p.box("led", "led", None, 20, 380, 22, 22)
    p.obj("route_connected", "route connected", 20 + 230 * 3, 380)
    p.connect("gram", 3, "route_connected")
    p.connect("route_connected", 0, "led")
    for name in ("msg_path", "msg_buffer"):
        p.connect(name, 0, "gram", 0)
    p.connect("msg_read", 0, "buffer")
    for name in ("msg_rain", "msg_vinyl"):
        p.connect(name, 0, "gram", 1)
    p.connect("strength", 0, "gram", 2)
    for name in ("msg_bang", "msg_folder", "msg_port", "msg_presets", "msg_ping", "msg_newfile", "msg_variations"):
        p.connect(name, 0, "gram", 3)
    p.connect("msg_cancel", 0, "gram", 4)
    return p


# --- the Max for Live device ----------------------------------------------------------------------------
def param(p: Patch, name: str, maxclass: str, text: str | None, pres: tuple[float, float, float, float],
          longname: str, ptype: int, invisible: int, x: float, y: float, valueof: dict | None = None,
          **attrs: Any) -> str:
    """A live.* box as Max saves one: varname, parameter_enable and its parameter attributes.
    invisible: 0 automatable and stored, 1 stored only, 2 neither (actions such as Render)."""
    values = {"parameter_longname": longname, "parameter_shortname": attrs.pop("shortname", longname),
              "parameter_type": ptype}
    if invisible:
        values["parameter_invisible"] = invisible
    values.update(valueof or {})
    return p.box(name, maxclass, text, x, y, pres[2], pres[3], parameter_enable=1, presentation=1,
                 presentation_rect=list(map(float, pres)), saved_attribute_attributes={"valueof": values},
                 varname=name, **attrs)


def button(p: Patch, name: str, label: str, pres: tuple, x: float, y: float) -> str:
    """A momentary live.text (button mode), hidden from automation and not stored."""
    return param(p, name, "live.text", label, pres, label, 2, 2, x, y,
                 {"parameter_enum": ["val1", "val2"], "parameter_mmax": 1}, mode=0)


def toggle(p: Patch, name: str, label: str, label_on: str, pres: tuple, x: float, y: float) -> str:
    """A live.text toggle sending 1/0 (toggle is live.text's default mode, so no mode is saved)."""
    return param(p, name, "live.text", label, pres, label, 2, 2, x, y,
                 {"parameter_enum": ["off", "on"], "parameter_mmax": 1}, texton=label_on)


def shown(pres: tuple) -> dict:
    return {"presentation": 1, "presentation_rect": list(map(float, pres))}


def device() -> dict:
    """Gramophone.amxd's patcher: an audio effect that passes its track through."""
    p = Patch()
    c = p.comment
    c("title", "Gramophone for Max for Live: the controls are in presentation mode (the device view). "
      "Start the server first: gramophone serve", 20, 10, 700)
    p.obj("plugin", "plugin~", 20, 40)
    p.obj("plugout", "plugout~", 20, 760)
    p.connect("plugin", 0, "plugout", 0)
    p.connect("plugin", 1, "plugout", 1)
    p.sub("gram", "p gramophone", abstraction(True), 300, 420, embed=True, w=300)

    # inputs: a dropped file, the clip selected in Live, or a capture of the track
    param(p, "drop", "live.drop", None, (4, 4, 130, 70), "Drop", 4, 1, 300, 40, legend="Drop audio here")
    p.connect("drop", 0, "gram", 0)
    button(p, "render_clip", "Render clip", (140, 4, 90, 17), 460, 40)
    p.obj("t_clip", "t b", 460, 70)
    p.msg("msg_detail_clip", "path live_set view detail_clip", 460, 100)
    p.obj("path_clip", "live.path", 460, 130)
    p.obj("t_clip_id", "t b l l", 460, 160)
    p.msg("msg_get_file", "get file_path", 460, 190)
    p.obj("clip", "live.object", 460, 220)
    p.obj("route_file", "route file_path", 460, 250)
    p.obj("t_clip_file", "t b s", 460, 280)
    p.obj("route_clip_id", "route id", 620, 190)
    p.obj("sel_no_clip", "sel 0", 620, 220)
    p.msg("msg_no_clip", "set error: select an audio clip in Live first (its clip view shows the file)", 620, 250,
          w=300)
    p.chain("render_clip", "t_clip", "msg_detail_clip", "path_clip", "t_clip_id")
    p.connect("t_clip_id", 2, "route_clip_id")
    p.chain("route_clip_id", "sel_no_clip", "msg_no_clip")
    p.connect("t_clip_id", 1, "clip", 1)
    p.connect("t_clip_id", 0, "msg_get_file")
    p.chain("msg_get_file", "clip", "route_file", "t_clip_file")
    p.connect("t_clip_file", 1, "gram", 0)
    p.connect("t_clip_file", 0, "gram", 3)
    toggle(p, "capture", "Capture", "Capturing", (140, 25, 90, 17), 760, 40)
    button(p, "render", "Render", (140, 46, 90, 17), 900, 40)
    p.obj("t_render", "t b", 900, 70)
    p.chain("render", "t_render")
    p.connect("t_render", 0, "gram", 3)
    button(p, "cancel", "Cancel", (140, 67, 90, 17), 980, 40)
    p.obj("t_cancel", "t b", 980, 70)
    p.chain("cancel", "t_cancel")
    p.connect("t_cancel", 0, "gram", 4)

    # preset, strength, reply port, connection
    p.box("label_preset", "live.comment", "Preset", 1060, 40, 40, 18, **shown((236, 4, 40, 18)))
    p.box("menu", "umenu", None, 1060, 70, 120, 22, **shown((276, 4, 120, 18)))
    button(p, "refresh", "Presets", (400, 4, 36, 17), 1200, 40)
    p.msg("msg_refresh", "presets", 1200, 70)
    p.chain("refresh", "msg_refresh")
    p.connect("msg_refresh", 0, "gram", 3)
    param(p, "strength", "live.dial", None, (236, 26, 44, 48), "Strength", 0, 0, 1060, 110,
          {"parameter_mmin": 0.0, "parameter_mmax": 1.0, "parameter_initial": [1.0], "parameter_initial_enable": 1,
           "parameter_unitstyle": 1})
    p.connect("strength", 0, "gram", 2)
    p.box("led", "led", None, 1200, 110, 18, 18, **shown((290, 28, 16, 16)))
    p.box("label_server", "live.comment", "Server", 1230, 110, 50, 18, **shown((306, 27, 44, 18)))
    param(p, "port", "live.numbox", None, (352, 27, 84, 17), "Reply Port", 1, 1, 1200, 150,
          {"parameter_mmin": 1024, "parameter_mmax": 65535, "parameter_initial": [REPLY_PORT],
           "parameter_initial_enable": 1, "parameter_unitstyle": 0}, shortname="Port")
    p.obj("pre_port", "prepend replyport", 1200, 180)
    p.chain("port", "pre_port")
    p.connect("pre_port", 0, "gram", 3)
    # takes: how many variations each render makes (by seed); they land beside the result as -v1, -v2 ...
    p.box("label_takes", "live.comment", "Takes", 1060, 180, 40, 18, **shown((290, 69, 36, 18)))
    param(p, "takes", "live.numbox", None, (326, 70, 34, 15), "Takes", 1, 0, 1060, 210,
          {"parameter_mmin": 1, "parameter_mmax": MAX_TAKES, "parameter_initial": [1],
           "parameter_initial_enable": 1, "parameter_unitstyle": 0})
    p.obj("pre_takes", "prepend variations", 1060, 240)
    p.chain("takes", "pre_takes")
    p.connect("pre_takes", 0, "gram", 3)

    # the result: preview through the device, insert into Live, status
    toggle(p, "preview", "Preview", "Previewing", (290, 50, 70, 17), 20, 560)
    p.obj("player", "sfplay~ 2", 20, 700)
    p.connect("preview", 0, "player")
    p.connect("player", 0, "plugout", 0)
    p.connect("player", 1, "plugout", 1)
    p.obj("t_done", "t s s s", 160, 560)
    p.obj("reg_result", "zl reg", 160, 600)
    p.obj("pre_open", "prepend open", 160, 630)
    p.obj("pre_done", "prepend set done:", 300, 630)
    p.connect("gram", 0, "t_done")
    p.connect("t_done", 2, "reg_result", 1)
    p.connect("t_done", 1, "pre_open")
    p.connect("pre_open", 0, "player")
    p.connect("t_done", 0, "pre_done")
    button(p, "insert", "Insert", (366, 50, 70, 17), 700, 560)
    p.msg("msg_slot", "path live_set view highlighted_clip_slot", 700, 590)
    p.obj("path_slot", "live.path", 700, 620)
    p.obj("t_slot", "t b l l", 700, 650)
    p.msg("msg_has_clip", "get has_clip", 700, 680)
    p.obj("slot", "live.object", 700, 710)
    p.obj("route_has_clip", "route has_clip", 700, 740)
    p.obj("sel_has_clip", "sel 0 1", 700, 770)
    p.obj("t_insert", "t b s", 700, 800)
    p.obj("pre_insert", "prepend call create_audio_clip", 780, 830)
    p.obj("verify_delay", "delay 500", 700, 860)
    p.msg("msg_has_clip_again", "get has_clip", 700, 890)
    p.obj("slot_check", "live.object", 700, 920)
    p.obj("route_check", "route has_clip", 700, 950)
    p.obj("sel_check", "sel 0 1", 700, 980)
    p.msg("msg_not_inserted", "set no clip was created: Insert needs Live 12.0.5 or later and an empty slot on an "
          "audio track - else drag the file from the folder in the browser", 700, 1010, w=400)
    p.msg("msg_inserted", "set inserted: the result is a new clip in the selected slot", 1000, 1040, w=300)
    p.msg("msg_slot_full", "set that slot holds a clip: select the empty slot below the source and press Insert",
          1000, 800, w=300)
    p.chain("insert", "msg_slot", "path_slot", "t_slot")
    p.connect("t_slot", 2, "slot_check", 1)
    p.connect("t_slot", 1, "slot", 1)
    p.connect("t_slot", 0, "msg_has_clip")
    p.chain("msg_has_clip", "slot", "route_has_clip", "sel_has_clip")
    p.connect("sel_has_clip", 0, "reg_result")
    p.connect("reg_result", 0, "t_insert")
    p.connect("t_insert", 1, "pre_insert")
    p.connect("pre_insert", 0, "slot")
    p.connect("t_insert", 0, "verify_delay")
    p.chain("verify_delay", "msg_has_clip_again", "slot_check", "route_check", "sel_check")
    p.connect("sel_check", 0, "msg_not_inserted")
    p.connect("sel_check", 1, "msg_inserted")
    p.connect("sel_has_clip", 1, "msg_slot_full")

    # folder: chosen once, saved with the Live set (a stored, non-automatable pattr parameter)
    button(p, "choose", "Folder…", (4, 146, 60, 17), 20, 860)
    p.obj("dialog_folder", "opendialog fold", 20, 890)
    p.obj("folder_store", "pattr gramophone_folder @type symbol @parameter_enable 1", 20, 920, w=330,
          saved_object_attributes={"parameter_enable": 1}, varname="gramophone_folder",
          saved_attribute_attributes={"valueof": {"parameter_longname": "Folder", "parameter_shortname": "Folder",
                                                  "parameter_type": 3, "parameter_invisible": 1,
                                                  "parameter_initial": [DEFAULT_FOLDER],
                                                  "parameter_initial_enable": 1}})
    p.obj("t_folder", "t s s", 20, 950)
    p.obj("pre_folder", "prepend folder", 20, 980)
    p.obj("pre_show_folder", "prepend set", 140, 980)
    c("folder", DEFAULT_FOLDER, 140, 1010, 300, **shown((68, 146, 368, 18)))
    p.chain("choose", "dialog_folder", "folder_store", "t_folder")
    p.connect("t_folder", 1, "pre_show_folder")
    p.connect("pre_show_folder", 0, "folder")
    p.connect("t_folder", 0, "pre_folder")
    p.connect("pre_folder", 0, "gram", 3)

    p.box("progress", "slider", None, 300, 480, 300, 12, size=1.0, floatoutput=1, ignoreclick=1,
          **shown((4, 88, 432, 8)))
    c("status", "status", 300, 520, 400, lines=2, **shown((4, 100, 432, 42)))
    for src in ("msg_no_clip", "pre_done", "msg_not_inserted", "msg_inserted", "msg_slot_full"):
        p.connect(src, 0, "status")
    events = hook_outlets(p, "gram", "status", "menu", "progress", "led")
    p.connect(events, 0, "folder_store")  # ready: send the saved folder to the abstraction
    recorder(p, "gram", events, "plugin", "capture", "status", 760, 120)

    patcher = p.patcher([100.0, 100.0, 1300.0, 1100.0], openrect=[0.0, 0.0, DEVICE_WIDTH, DEVICE_HEIGHT],
                        openinpresentation=1, default_fontsize=10.0, default_fontname="Arial Bold",
                        devicewidth=DEVICE_WIDTH, description="Gramophone: render audio in the style of a preset")
    parameters: dict[str, Any] = {}
    for b in p.boxes:
        values = b["box"].get("saved_attribute_attributes", {}).get("valueof")
        if values:
            parameters[b["box"]["id"]] = [values["parameter_longname"], values["parameter_shortname"], 0]
    parameters["parameterbanks"] = {"0": {"index": 0, "name": "", "parameters": ["-"] * 8}}
    patcher.update(parameters=parameters, latency=0, autosave=0,
                   project={"version": 1, "autoorganize": 1, "hideprojectwindow": 1, "showdependencies": 1,
                            "autolocalize": 0, "contents": {"patchers": {}}, "layout": {}, "searchpath": {},
                            "detailsvisible": 0, "amxdtype": amxd.amxdtype(amxd.DEVICE_TYPES["audio_effect"]),
                            "readonly": 0, "devpathtype": 0, "devpath": ".", "sortmode": 0, "viewmode": 0})
    # Max saves "boxes" and "lines" last; keep that order after the additions above
    patcher["boxes"] = patcher.pop("boxes")
    patcher["lines"] = patcher.pop("lines")
    return {"patcher": patcher}


def package_info() -> dict:
    """package-info.json, as in Cycling '74's max-package-template."""
    return {"author": "Gramophone contributors",
            "description": "Render audio in the style of a preset with the Gramophone server: the [gramophone] "
                           "abstraction, its help, an example patch and the Gramophone.amxd Max for Live device.",
            "homepatcher": "gramophone-example.maxpat", "max_version_min": "8.0", "max_version_max": "none",
            "name": "Gramophone",
            "os": {"macintosh": {"platform": ["x64", "arm64"], "min_version": "none"},
                   "windows": {"platform": ["x64"], "min_version": "none"}},
            "package_extra": {"reverse_domain": "org.gramophone", "copyright": "GPL-3.0-or-later"},
            "tags": ["audio", "style transfer", "osc", "max for live"], "version": __version__, "website": ""}


def dumps(data: dict) -> str:
    return json.dumps(data, indent="\t", ensure_ascii=False) + "\n"


def files() -> dict[str, bytes]:
    """Every file this generator owns, by path relative to max_patches/."""
    return {
        "patchers/gramophone.maxpat": dumps({"patcher": abstraction(False).patcher([50.0, 80.0, 1250.0, 1080.0])}).encode(),
        "help/gramophone.maxhelp": dumps({"patcher": help_patch().patcher([60.0, 80.0, 1060.0, 480.0])}).encode(),
        "examples/gramophone-example.maxpat": dumps({"patcher": example().patcher([40.0, 80.0, 1120.0, 800.0])}).encode(),
        "Gramophone.amxd": amxd.pack(device()),
        "package-info.json": dumps(package_info()).encode(),
    }


def main() -> None:
    for rel, data in files().items():
        path = HERE / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        print(path)


if __name__ == "__main__":
    main()
