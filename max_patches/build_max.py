"""Write every Max file of the Gramophone Max package from one description:

* ``patchers/gramophone.maxpat``: the reusable ``[gramophone]`` abstraction (all OSC traffic);
* ``help/gramophone.maxhelp``: its help patch;
* ``examples/gramophone-example.maxpat``: the full patch (drop, record, render, play) built on it;
* ``Gramophone.amxd``: the Max for Live audio effect; it embeds the same abstraction as
  ``[p gramophone]`` (started by ``live.thisdevice``, ``---`` names) so it needs no other file;
* ``package-info.json``: the package description Max reads.

    .venv/bin/python -m gramophone.clients.build_max --out max_patches

Each patch is data: a list of named boxes and a list of patch cords (see maxpatch.py, which
numbers them as Max saves them), like build_pd.py's tables. Every box gets its inlet/outlet
counts and outlet types from ``max_objects.json`` (the table of what real patches store, see
maxobjects.py); OSC addresses come from the server's address table. ``--out`` names the folder
the files are written to (see generated.py); tests/test_max_clients.py checks the committed
files are exactly what this writes.
"""
from __future__ import annotations

import json
from typing import Any

from .. import __version__
from ..bridge import addresses as A
from . import amxd
from .generated import main as write_main
from .maxpatch import Box, Patch, chain, patcher

SERVER_PORT, REPLY_PORT = A.DEFAULT_PORT, A.DEFAULT_REPLY_PORT
DEFAULT_FOLDER = "/tmp"
#: Live's device strip is 169 px high; the device is this wide
DEVICE_HEIGHT, DEVICE_WIDTH = 169.0, 440.0
OUTLET_EVENTS = ("ready", "connected", "queued", "cancelled", "newfile", "take")


def osc(name: str) -> str:
    """An address of the server's table (a KeyError here means the patch would send a typo)."""
    path = f"{A.PREFIX}/{name}"
    if path not in A.BY_PATH and path not in A.REPLY_BY_PATH:
        raise KeyError(path)
    return path


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
#: the folder registers (zl reg) of the three kinds of file the abstraction writes, left to right
FOLDER_REGISTERS = ("reg_folder_out", "reg_folder_new", "reg_folder_buf")


def path_in_folder(prefix: str, gate_outlet: int, reg: str, x: float) -> Patch:
    """stamp -> FOLDER/PREFIX-STAMP.wav, in box path_PREFIX (the folder is banged into sprintf's
    left inlet last)."""
    fmt, trig, path = f"fmt_{prefix}", f"t_{prefix}", f"path_{prefix}"
    return Patch(
        [(fmt, "newobj", f"sprintf symout {prefix}-%s", x, 480),
         (trig, "newobj", "t b s", x, 510),
         (path, "newobj", "sprintf symout %s/%s.wav", x, 590)],
        [("gate", gate_outlet, fmt, 0), (fmt, 0, trig, 0), (trig, 1, path, 1), (trig, 0, reg, 0), (reg, 0, path, 0)])


def abstraction(m4l: bool) -> Patch:
    """All OSC traffic with the server. In Max it is the file patchers/gramophone.maxpat; in the
    device it is embedded (started by live.thisdevice, device-local ``---`` buffer name)."""
    local = "---" if m4l else "#0-"
    capture = path_in_folder("gramophone-capture", 1, "reg_folder_new", 760)
    buffer = path_in_folder("gramophone-buffer", 2, "reg_folder_buf", 900)
    boxes: list[Box] = [
        *[(name, "inlet", None, 20 + 170 * i, 10, 30, 30, {"comment": note}) for i, (name, note) in enumerate(INLETS)],
        *[(name, "outlet", None, 20 + 240 * i, 1000, 30, 30, {"comment": note})
          for i, (name, note) in enumerate(OUTLETS)],
        ("c_about", "comment", "Gramophone client: talks OSC to gramophone serve on 127.0.0.1 "
         f"{SERVER_PORT}; replies on the reply port ({REPLY_PORT} unless set with replyport N).", 20, 50, 700),
        # start: a random token for file names, the default folder, pinging, then "ready"
        ("start", "newobj", "live.thisdevice" if m4l else "loadbang", 20, 90),
        ("t_start", "newobj", "t b b b b", 20, 120),
        ("token", "newobj", "random 1000000", 330, 150),
        ("msg_default_folder", "message", DEFAULT_FOLDER, 240, 150),
        ("msg_metro_on", "message", "1", 160, 150),
        ("msg_ready", "message", "ready", 20, 150),
        # commands on the render inlet
        ("c_cmd", "comment", "Commands: bang renders; folder, replyport, presets, ping, newfile (a fresh "
         "unique path for a recording, answered as newfile PATH), variations N (takes per render).", 520, 50, 560),
        ("route_cmd", "newobj", "route bang folder replyport presets ping newfile variations", 520, 90),
        ("pre_bad", "newobj", "prepend bad_message", 1000, 120),
        # folder: conformed to a POSIX path, kept for the three kinds of file this writes
        ("conform_folder", "newobj", "conformpath slash boot", 600, 150),
        ("t_folder", "newobj", "t s s s", 600, 180),
        *[(reg, "newobj", "zl reg", 600 + 130 * i, 560) for i, reg in enumerate(FOLDER_REGISTERS)],
        # reply port: udpreceive listens there, pings and registrations name it, renders carry it
        ("t_port", "newobj", "t i i i i", 760, 150),
        ("pre_port", "newobj", "prepend port", 760, 180),
        ("port_ping", "newobj", f"int {REPLY_PORT}", 880, 180),
        ("port_reply", "newobj", f"int {REPLY_PORT}", 960, 180),
        ("udp_out", "newobj", f"udpsend 127.0.0.1 {SERVER_PORT}", 520, 940),
        ("udp_in", "newobj", f"udpreceive {REPLY_PORT}", 20, 600),
        # connection: a ping every 3 s; no pong within 1.5 s means the server is not running
        ("c_ping", "comment", "Connection: ping every 3 s; a pong within 1.5 s means connected.", 20, 200, 420),
        ("metro", "newobj", "metro 3000", 160, 230),
        ("t_ping", "newobj", "t b b", 160, 260),
        ("timeout", "newobj", "delay 1500", 240, 290),
        ("pre_ping", "newobj", f"prepend {osc('ping')}", 160, 320),
        ("msg_stop", "message", "stop", 330, 260),
        ("msg_on", "message", "1", 400, 260),
        ("msg_off", "message", "0", 240, 320),
        ("change", "newobj", "change -1", 240, 350),
        ("t_conn", "newobj", "t i i", 240, 380),
        ("pre_connected", "newobj", "prepend connected", 330, 410),
        ("sel_conn", "newobj", "sel 0 1", 240, 410),
        ("msg_no_server", "message", f"no_server Gramophone server not answering on 127.0.0.1:{SERVER_PORT} - "
         "start it with: gramophone serve", 20, 440, 420),
        # presets: register the reply port, clear the menu, ask (on connect and on "presets")
        ("t_presets", "newobj", "t b b b", 330, 470),
        ("pre_reply", "newobj", f"prepend {osc('reply')}", 480, 500),
        ("msg_clear", "message", "clear", 400, 500),
        ("msg_presets", "message", osc("presets"), 330, 530),
        # replies: the job id is dropped
        ("c_replies", "comment", "Replies: the job id is dropped; done gives the path, error gives CODE MESSAGE.",
         20, 630, 560),
        ("route_reply", "newobj", "route " + " ".join(osc(r) for r in REPLIES), 20, 660),
        ("slice_queued", "newobj", "zl slice 1", 20, 700),
        ("pre_queued", "newobj", "prepend queued", 20, 730),
        ("slice_progress", "newobj", "zl slice 1", 140, 700),
        ("slice_done", "newobj", "zl slice 1", 260, 700),
        ("slice_path", "newobj", "zl slice 1", 260, 730),
        ("slice_error", "newobj", "zl slice 1", 380, 700),
        ("t_cancelled", "newobj", "t b", 500, 700),
        ("msg_cancelled", "message", "cancelled", 500, 730),
        ("slice_preset", "newobj", "zl slice 1", 620, 700),
        ("pre_append", "newobj", "prepend append", 620, 730),
        ("t_end", "newobj", "t b", 760, 700),
        ("msg_first", "message", "0", 760, 730),
        ("t_pong", "newobj", "t b b", 860, 700),
        # take: with variations N, one per take before done (id dropped): take NUMBER COUNT PATH
        ("slice_take", "newobj", "zl slice 1", 980, 700),
        ("pre_take", "newobj", "prepend take", 980, 730),
        # unique names: date, time, this instance's random token and a counter; a gate sends the stamp
        # to whoever asked (1 render, 2 newfile, 3 buffer)
        ("c_names", "comment", "File names never repeat: gramophone-YYYYMMDD-HHMMSS-TOKEN-N.wav in the folder.",
         600, 240, 560),
        ("t_gen", "newobj", "t b b b", 600, 270),
        ("counter", "newobj", "counter 1 1000000", 760, 300),
        ("msg_time", "message", "time", 680, 300),
        ("msg_date", "message", "date", 600, 300),
        ("date", "newobj", "date", 600, 330),
        ("unpack_time", "newobj", "unpack 0 0 0", 680, 360),
        ("msg_ymd", "message", "$3 $1 $2", 600, 360),
        ("stamp", "newobj", "pack 0 0 0 0 0 0 0 0", 600, 390),
        ("fmt_stamp", "newobj", "sprintf symout %04ld%02ld%02ld-%02ld%02ld%02ld-%ld-%ld", 600, 420),
        ("gate", "newobj", "gate 3", 600, 450),
        # render: id and output path from a fresh stamp, then the message
        ("c_render", "comment", f"Render: {osc('render')} id clip preset out strength S reply_port P variations N "
         "(N > 1: takes OUT-v1.wav ...).", 20, 780, 560),
        ("t_render", "newobj", "t b b", 520, 120),
        ("msg_gate_render", "message", "1", 560, 240),
        ("fmt_id", "newobj", "sprintf symout gramophone-%s", 20, 810),
        ("t_id", "newobj", "t s s", 20, 840),
        ("t_outpath", "newobj", "t b s", 160, 870),
        ("path_out", "newobj", "sprintf symout %s/%s.wav", 160, 900),
        ("t_last", "newobj", "t s s", 20, 870),
        ("reg_last", "newobj", "zl reg", 20, 940),
        ("render", "newobj", f"pack s s s s strength 1. reply_port {REPLY_PORT} variations 1", 340, 870),
        ("pre_render", "newobj", f"prepend {osc('render')}", 340, 900),
        # inputs
        ("route_file", "newobj", "route buffer", 20, 90),
        ("conform_file", "newobj", "conformpath slash boot", 60, 260),
        ("symbol_preset", "newobj", "tosymbol", 190, 90),
        ("clip_strength", "newobj", "clip 0. 1.", 360, 90),
        ("clip_variations", "newobj", f"clip 1 {MAX_TAKES}", 1000, 150),
        ("t_cancel", "newobj", "t b", 200, 940),
        ("pre_cancel", "newobj", f"prepend {osc('cancel')}", 20, 970),
        # newfile: a fresh path for a recording, answered on the event outlet
        ("t_new", "newobj", "t b b", 900, 240),
        ("msg_gate_new", "message", "2", 940, 270),
        *capture.boxes,
        ("pre_newfile", "newobj", "prepend newfile", 760, 620),
        # buffer NAME: point a buffer~ at NAME, write it to a fresh file, use that file
        ("c_buffer", "comment", "buffer NAME: the buffer~ is written as a float WAV to the folder first.",
         900, 440, 300),
        ("t_buffer", "newobj", "t b b s", 1000, 470),
        ("pre_name", "newobj", "prepend name", 1100, 500),
        ("buffer", "newobj", f"buffer~ {local}gramophone", 1100, 680),
        ("msg_gate_buffer", "message", "3", 1050, 500),
        *buffer.boxes,
        ("t_written", "newobj", "t s s", 900, 620),
        ("pre_write", "newobj", "prepend writewave", 1000, 650),
    ]
    cords = [
        # start
        ("start", 0, "t_start", 0), ("t_start", 3, "token", 0), ("t_start", 2, "msg_default_folder", 0),
        ("t_start", 1, "msg_metro_on", 0), ("t_start", 0, "msg_ready", 0), ("msg_ready", 0, "out_event", 0),
        # commands
        ("in_render", 0, "route_cmd", 0), ("route_cmd", 7, "pre_bad", 0), ("pre_bad", 0, "out_error", 0),
        # folder
        ("route_cmd", 1, "conform_folder", 0), ("msg_default_folder", 0, "conform_folder", 0),
        ("conform_folder", 0, "t_folder", 0),
        *[("t_folder", 2 - i, reg, 1) for i, reg in enumerate(FOLDER_REGISTERS)],
        # reply port
        ("route_cmd", 2, "t_port", 0), ("t_port", 3, "pre_port", 0), ("t_port", 2, "port_ping", 1),
        ("t_port", 1, "port_reply", 1), ("pre_port", 0, "udp_in", 0),
        # connection
        ("msg_metro_on", 0, "metro", 0), ("metro", 0, "t_ping", 0), ("route_cmd", 4, "t_ping", 0),
        ("t_ping", 1, "timeout", 0), ("t_ping", 0, "port_ping", 0),
        *chain("port_ping", "pre_ping", "udp_out"),
        *chain("timeout", "msg_off", "change"),
        *chain("msg_on", "change", "t_conn"),
        ("msg_stop", 0, "timeout", 0), ("t_conn", 1, "pre_connected", 0), ("pre_connected", 0, "out_event", 0),
        ("t_conn", 0, "sel_conn", 0), ("sel_conn", 0, "msg_no_server", 0), ("msg_no_server", 0, "out_error", 0),
        # presets
        ("sel_conn", 1, "t_presets", 0), ("route_cmd", 3, "t_presets", 0), ("t_presets", 2, "port_reply", 0),
        *chain("port_reply", "pre_reply", "udp_out"),
        ("t_presets", 1, "msg_clear", 0), ("msg_clear", 0, "out_event", 0),
        ("t_presets", 0, "msg_presets", 0), ("msg_presets", 0, "udp_out", 0),
        # replies
        ("udp_in", 0, "route_reply", 0),
        ("route_reply", 0, "slice_queued", 0), ("slice_queued", 1, "pre_queued", 0), ("pre_queued", 0, "out_event", 0),
        ("route_reply", 1, "slice_progress", 0), ("slice_progress", 1, "out_progress", 0),
        ("route_reply", 2, "slice_done", 0), ("slice_done", 1, "slice_path", 0), ("slice_path", 0, "out_done", 0),
        ("route_reply", 3, "slice_error", 0), ("slice_error", 1, "out_error", 0),
        ("route_reply", 4, "t_cancelled", 0), *chain("t_cancelled", "msg_cancelled", "out_event"),
        ("route_reply", 5, "slice_preset", 0), *chain("slice_preset", "pre_append", "out_event"),
        ("route_reply", 6, "t_end", 0), *chain("t_end", "msg_first", "out_event"),
        ("route_reply", 7, "t_pong", 0),
        ("route_reply", 8, "slice_take", 0), ("slice_take", 1, "pre_take", 0), ("pre_take", 0, "out_event", 0),
        ("t_pong", 1, "msg_stop", 0), ("t_pong", 0, "msg_on", 0),
        # unique names
        ("token", 0, "stamp", 6), ("t_gen", 2, "counter", 0), ("counter", 0, "stamp", 7),
        ("t_gen", 1, "msg_time", 0), ("t_gen", 0, "msg_date", 0), ("msg_time", 0, "date", 0),
        ("msg_date", 0, "date", 0), ("date", 1, "unpack_time", 0),
        *[("unpack_time", i, "stamp", 3 + i) for i in range(3)],
        ("date", 0, "msg_ymd", 0), *chain("msg_ymd", "stamp", "fmt_stamp"), ("fmt_stamp", 0, "gate", 1),
        # render
        ("route_cmd", 0, "t_render", 0), ("t_render", 1, "msg_gate_render", 0), ("msg_gate_render", 0, "gate", 0),
        ("t_render", 0, "t_gen", 0), ("gate", 0, "fmt_id", 0), ("fmt_id", 0, "t_id", 0),
        ("t_id", 1, "t_outpath", 0), ("t_outpath", 1, "path_out", 1), ("t_outpath", 0, "reg_folder_out", 0),
        ("reg_folder_out", 0, "path_out", 0), ("path_out", 0, "render", 3), ("t_id", 0, "t_last", 0),
        ("t_last", 1, "reg_last", 1), ("t_last", 0, "render", 0),
        *chain("render", "pre_render", "udp_out"),
        ("t_port", 0, "render", 7),
        # inputs
        ("in_file", 0, "route_file", 0), ("route_file", 1, "conform_file", 0), ("conform_file", 0, "render", 1),
        ("in_preset", 0, "symbol_preset", 0), ("symbol_preset", 0, "render", 2),
        ("in_strength", 0, "clip_strength", 0), ("clip_strength", 0, "render", 5),
        ("route_cmd", 6, "clip_variations", 0), ("clip_variations", 0, "render", 9),
        *chain("in_cancel", "t_cancel", "reg_last"),
        *chain("reg_last", "pre_cancel", "udp_out"),
        # newfile
        ("route_cmd", 5, "t_new", 0), ("t_new", 1, "msg_gate_new", 0), ("msg_gate_new", 0, "gate", 0),
        ("t_new", 0, "t_gen", 0),
        *capture.cords,
        *chain("path_gramophone-capture", "pre_newfile", "out_event"),
        # buffer NAME
        ("route_file", 0, "t_buffer", 0), ("t_buffer", 2, "pre_name", 0), ("pre_name", 0, "buffer", 0),
        ("t_buffer", 1, "msg_gate_buffer", 0), ("msg_gate_buffer", 0, "gate", 0), ("t_buffer", 0, "t_gen", 0),
        *buffer.cords,
        ("path_gramophone-buffer", 0, "t_written", 0), ("t_written", 1, "pre_write", 0),
        ("pre_write", 0, "buffer", 0), ("t_written", 0, "render", 1),
    ]
    return Patch(boxes, cords)


# --- parts every host patch shares --------------------------------------------------------------------
#: the box that routes the abstraction's events (its outlet 0 is ready, 4 newfile: see OUTLET_EVENTS)
EVENTS = "route_event"


def hook_outlets(gram: str, status: str, menu: str, progress: str, connected: str) -> Patch:
    """The wiring every host shares: errors, progress, connection, queue state and the preset menu,
    with the event router EVENTS for the host's own use of newfile and ready."""
    return Patch(
        [("pre_error", "newobj", "prepend set error:", 620, 520),
         (EVENTS, "newobj", "route " + " ".join(OUTLET_EVENTS), 620, 460),
         ("pre_queued", "newobj", "prepend set queued at position", 760, 490),
         ("msg_cancelled", "message", "set cancelled", 900, 490),
         ("pre_take", "newobj", "prepend set take", 900, 520)],  # take N COUNT PATH: one per take
        [(gram, 2, "pre_error", 0), ("pre_error", 0, status, 0), (gram, 1, progress, 0), (gram, 3, EVENTS, 0),
         (EVENTS, 1, connected, 0), (EVENTS, 2, "pre_queued", 0), ("pre_queued", 0, status, 0),
         (EVENTS, 3, "msg_cancelled", 0), ("msg_cancelled", 0, status, 0),
         (EVENTS, 5, "pre_take", 0), ("pre_take", 0, status, 0),
         (EVENTS, 6, menu, 0), (menu, 1, gram, 1)])


def recorder(gram: str, source: str, switch: str, status: str, x: float, y: float) -> Patch:
    """switch 1: ask the abstraction for a fresh path (newfile), open it in sfrecord~ 2, record;
    switch 0: stop, close the file and make it the clip to render."""
    return Patch(
        [("sel_rec", "newobj", "sel 1 0", x, y),
         ("msg_newfile", "message", "newfile", x, y + 30),
         ("t_newfile", "newobj", "t s s", x + 160, y + 30),
         ("t_open", "newobj", "t b s", x + 160, y + 60),
         ("pre_open_rec", "newobj", "prepend open wave", x + 240, y + 90),
         ("msg_rec_on", "message", "1", x + 160, y + 90),
         ("t_stop", "newobj", "t b b", x + 60, y + 60),
         ("msg_rec_off", "message", "0", x + 100, y + 90),
         ("sfrecord", "newobj", "sfrecord~ 2", x + 160, y + 130),
         ("reg_rec", "newobj", "zl reg", x, y + 130),
         ("t_recorded", "newobj", "t s s", x, y + 160),
         ("pre_recorded", "newobj", "prepend set recorded:", x + 60, y + 190)],
        [(switch, 0, "sel_rec", 0), ("sel_rec", 0, "msg_newfile", 0), ("msg_newfile", 0, gram, 3),
         (EVENTS, 4, "t_newfile", 0), ("t_newfile", 1, "reg_rec", 1), ("t_newfile", 0, "t_open", 0),
         ("t_open", 1, "pre_open_rec", 0), ("pre_open_rec", 0, "sfrecord", 0),
         ("t_open", 0, "msg_rec_on", 0), ("msg_rec_on", 0, "sfrecord", 0),
         ("sel_rec", 1, "t_stop", 0), ("t_stop", 1, "msg_rec_off", 0), ("msg_rec_off", 0, "sfrecord", 0),
         ("t_stop", 0, "reg_rec", 0), ("reg_rec", 0, "t_recorded", 0),
         ("t_recorded", 1, "pre_recorded", 0), ("pre_recorded", 0, status, 0), ("t_recorded", 0, gram, 0),
         (source, 0, "sfrecord", 0), (source, 1, "sfrecord", 1)])


# --- the example and help patches -------------------------------------------------------------------------
def example() -> Patch:
    """examples/gramophone-example.maxpat: the whole flow in Max, on the [gramophone] abstraction."""
    hooks = hook_outlets("gram", "status", "menu", "progress", "led")
    rec = recorder("gram", "adc", "record", "status", 760, 40)
    boxes: list[Box] = [
        ("title", "comment", "Gramophone: render a sound in the style of a preset. Start the server first: "
         "gramophone serve", 20, 10, 700),
        ("c1", "comment", "1. Drop an audio file on the box, open one, or record (turn audio on; the recording is "
         "written to the folder exactly as long as you played).", 20, 40, 700),
        ("drop", "dropfile", None, 20, 70, 200, 22),
        ("open", "textbutton", "Open sound…", 240, 70, 100),
        ("dialog_sound", "newobj", "opendialog sound", 240, 100),
        ("record", "toggle", None, 360, 70, 22, 22),
        ("c_record", "comment", "record", 388, 70, 60),
        ("adc", "newobj", "adc~", 460, 70),
        ("dac", "ezdac~", None, 540, 70, 45, 45),
        ("c2", "comment", "2. Pick a preset and a strength; the menu fills from the server when it answers (the dot).",
         20, 140, 700),
        ("menu", "umenu", None, 20, 170, 160, 22),
        ("refresh", "textbutton", "Refresh presets", 190, 170, 110),
        ("msg_refresh", "message", "presets", 190, 200),
        ("strength", "flonum", None, 320, 170, 50, 22, {"minimum": 0.0, "maximum": 1.0}),
        ("led", "led", None, 390, 170, 22, 22),
        ("c_led", "comment", "server", 416, 170, 60),
        ("c3", "comment", "3. Render (or Cancel). Renders land in the folder as gramophone-DATE-TIME-TOKEN-N.wav and "
         "never overwrite a file; choose a folder the server allows (temporary folder, ~/Music, ~/Documents).",
         20, 230, 700, {"linecount": 2}),
        ("render", "textbutton", "Render", 20, 280, 80),
        ("t_render", "newobj", "t b", 20, 310),
        ("cancel", "textbutton", "Cancel", 110, 280, 80),
        ("t_cancel", "newobj", "t b", 110, 310),
        ("choose", "textbutton", "Choose folder…", 200, 280, 110),
        ("dialog_folder", "newobj", "opendialog fold", 200, 310),
        ("t_folder", "newobj", "t s s", 200, 340),
        ("pre_folder", "newobj", "prepend folder", 200, 370),
        ("pre_show_folder", "newobj", "prepend set", 330, 370),
        ("folder", "comment", DEFAULT_FOLDER, 330, 400, 390),
        ("gram", "newobj", "gramophone", 20, 430, 440),
        ("c4", "comment", "4. Status, progress; on done the result opens in sfplay~: 1 plays it, 0 stops.",
         20, 560, 700),
        ("progress", "slider", None, 20, 590, 300, 16, {"size": 1.0, "floatoutput": 1, "ignoreclick": 1}),
        ("status", "comment", "status", 20, 620, 700),
        ("t_done", "newobj", "t s s", 20, 480),
        ("pre_done", "newobj", "prepend set done:", 140, 520),
        ("pre_open", "newobj", "prepend open", 20, 660),
        ("msg_play", "message", "1", 120, 660),
        ("msg_stop", "message", "0", 160, 660),
        ("player", "newobj", "sfplay~ 2", 20, 690),
        *hooks.boxes,
        ("msg_strength", "message", "set 1.", 620, 430),  # show the abstraction's default strength
        *rec.boxes,
    ]
    cords = [
        *chain("drop", "gram"),
        *chain("open", "dialog_sound", "gram"),
        ("refresh", 0, "msg_refresh", 0), ("msg_refresh", 0, "gram", 3),
        ("strength", 0, "gram", 2),
        *chain("render", "t_render"), ("t_render", 0, "gram", 3),
        *chain("cancel", "t_cancel"), ("t_cancel", 0, "gram", 4),
        *chain("choose", "dialog_folder", "t_folder"),
        ("t_folder", 1, "pre_show_folder", 0), ("pre_show_folder", 0, "folder", 0),
        ("t_folder", 0, "pre_folder", 0), ("pre_folder", 0, "gram", 3),
        ("gram", 0, "t_done", 0), ("t_done", 1, "pre_done", 0), ("pre_done", 0, "status", 0),
        ("t_done", 0, "pre_open", 0),
        *[(src, 0, "player", 0) for src in ("pre_open", "msg_play", "msg_stop")],
        ("player", 0, "dac", 0), ("player", 1, "dac", 1),
        *hooks.cords,
        (EVENTS, 0, "msg_strength", 0), ("msg_strength", 0, "strength", 0),
        *rec.cords,
    ]
    return Patch(boxes, cords)


#: the help patch's print boxes, one per outlet of [gramophone]
PRINTS = ("done", "progress", "error", "event")


def help_patch() -> Patch:
    """help/gramophone.maxhelp: each inlet and outlet of [gramophone], with messages to click."""
    boxes: list[Box] = [
        ("title", "comment", "gramophone: render a sound in the style of a preset through the Gramophone server",
         20, 10, 700),
        ("c_server", "comment", "Start the server in a terminal first: gramophone serve (it answers on 127.0.0.1 "
         f"{SERVER_PORT}; the dot below lights when it does).", 20, 35, 700),
        ("c_file", "comment", "inlet 1: an absolute audio file path, or buffer NAME", 20, 70, 330),
        ("msg_path", "message", "/tmp/gramophone-help-input.wav", 20, 95),
        ("msg_read", "message", "read", 20, 125),
        ("buffer", "newobj", "buffer~ gramophone-help 10000 2", 70, 125),
        ("c_buffer", "comment", "a sized buffer~ (10 s, stereo): read loads a file without audio on; recording into "
         "it needs audio on", 20, 150, 330, {"linecount": 2}),
        ("msg_buffer", "message", "buffer gramophone-help", 20, 195),
        ("c_preset", "comment", "inlet 2: preset", 360, 70, 120),
        ("msg_rain", "message", "rain", 360, 95),
        ("msg_vinyl", "message", "vinyl", 410, 95),
        ("c_strength", "comment", "inlet 3: strength 0-1", 480, 70, 150),
        ("strength", "flonum", None, 480, 95, 50, 22, {"minimum": 0.0, "maximum": 1.0}),
        ("c_render", "comment", "inlet 4: bang renders; settings", 640, 70, 220),
        ("msg_bang", "message", "bang", 640, 95),
        ("msg_folder", "message", f"folder {DEFAULT_FOLDER}", 640, 125),
        ("msg_port", "message", f"replyport {REPLY_PORT}", 640, 155),
        ("msg_presets", "message", "presets", 640, 185),
        ("msg_ping", "message", "ping", 720, 185),
        ("msg_newfile", "message", "newfile", 780, 185),
        ("msg_variations", "message", "variations 3", 640, 215),
        ("c_variations", "comment", "3 takes per render: FILE-v1.wav ... (events: take N COUNT PATH)", 730, 215, 260),
        ("c_cancel", "comment", "inlet 5: bang cancels", 880, 70, 150),
        ("msg_cancel", "message", "bang", 880, 95),
        ("gram", "newobj", "gramophone", 20, 260, 900),
        ("c_out", "comment", "outlets: done path (with variations: the first take's) | progress 0-1 | errors: CODE "
         "MESSAGE | events: ready, connected 0/1, queued N, cancelled, newfile PATH, take N COUNT PATH, clear / "
         "append NAME / 0 (for a umenu)", 20, 290, 900, {"linecount": 2}),
        *[(f"print_{name}", "newobj", f"print gramophone-{name}", 20 + 230 * i, 340) for i, name in enumerate(PRINTS)],
        ("led", "led", None, 20, 380, 22, 22),
        ("route_connected", "newobj", "route connected", 20 + 230 * 3, 380),
    ]
    cords = [
        *[("gram", i, f"print_{name}", 0) for i, name in enumerate(PRINTS)],
        ("gram", 3, "route_connected", 0), ("route_connected", 0, "led", 0),
        *[(name, 0, "gram", 0) for name in ("msg_path", "msg_buffer")],
        ("msg_read", 0, "buffer", 0),
        *[(name, 0, "gram", 1) for name in ("msg_rain", "msg_vinyl")],
        ("strength", 0, "gram", 2),
        *[(name, 0, "gram", 3) for name in ("msg_bang", "msg_folder", "msg_port", "msg_presets", "msg_ping",
                                             "msg_newfile", "msg_variations")],
        ("msg_cancel", 0, "gram", 4),
    ]
    return Patch(boxes, cords)


# --- the Max for Live device ----------------------------------------------------------------------------
#: where the device's [p gramophone] opens when double-clicked
EMBEDDED_RECT = [100.0, 100.0, 1250.0, 1080.0]


def shown(pres: tuple) -> dict:
    """The attributes that put a box in the device view (presentation mode) at ``pres``."""
    return {"presentation": 1, "presentation_rect": list(map(float, pres))}


def param(name: str, maxclass: str, text: str | None, pres: tuple[float, float, float, float],
          longname: str, ptype: int, invisible: int, x: float, y: float, valueof: dict | None = None,
          **attrs: Any) -> Box:
    """A live.* box as Max saves one: varname, parameter_enable and its parameter attributes.
    invisible: 0 automatable and stored, 1 stored only, 2 neither (actions such as Render)."""
    values = {"parameter_longname": longname, "parameter_shortname": attrs.pop("shortname", longname),
              "parameter_type": ptype}
    if invisible:
        values["parameter_invisible"] = invisible
    values.update(valueof or {})
    return (name, maxclass, text, x, y, pres[2], pres[3],
            {"parameter_enable": 1, **shown(pres), "saved_attribute_attributes": {"valueof": values},
             "varname": name, **attrs})


def button(name: str, label: str, pres: tuple, x: float, y: float) -> Box:
    """A momentary live.text (button mode), hidden from automation and not stored."""
    return param(name, "live.text", label, pres, label, 2, 2, x, y,
                 {"parameter_enum": ["val1", "val2"], "parameter_mmax": 1}, mode=0)


def toggle(name: str, label: str, label_on: str, pres: tuple, x: float, y: float) -> Box:
    """A live.text toggle sending 1/0 (toggle is live.text's default mode, so no mode is saved)."""
    return param(name, "live.text", label, pres, label, 2, 2, x, y,
                 {"parameter_enum": ["off", "on"], "parameter_mmax": 1}, texton=label_on)


def device_patch() -> Patch:
    """The device's boxes and cords: an audio effect that passes its track through."""
    hooks = hook_outlets("gram", "status", "menu", "progress", "led")
    rec = recorder("gram", "plugin", "capture", "status", 760, 120)
    embedded = patcher(abstraction(True), list(EMBEDDED_RECT))
    boxes: list[Box] = [
        ("title", "comment", "Gramophone for Max for Live: the controls are in presentation mode (the device view). "
         "Start the server first: gramophone serve", 20, 10, 700),
        ("plugin", "newobj", "plugin~", 20, 40),
        ("plugout", "newobj", "plugout~", 20, 760),
        ("gram", "newobj", "p gramophone", 300, 420, 300, {"patcher": embedded}),
        # inputs: a dropped file, the clip selected in Live, or a capture of the track
        param("drop", "live.drop", None, (4, 4, 130, 70), "Drop", 4, 1, 300, 40, legend="Drop audio here"),
        button("render_clip", "Render clip", (140, 4, 90, 17), 460, 40),
        ("t_clip", "newobj", "t b", 460, 70),
        ("msg_detail_clip", "message", "path live_set view detail_clip", 460, 100),
        ("path_clip", "newobj", "live.path", 460, 130),
        ("t_clip_id", "newobj", "t b l l", 460, 160),
        ("msg_get_file", "message", "get file_path", 460, 190),
        ("clip", "newobj", "live.object", 460, 220),
        ("route_file", "newobj", "route file_path", 460, 250),
        ("t_clip_file", "newobj", "t b s", 460, 280),
        ("route_clip_id", "newobj", "route id", 620, 190),
        ("sel_no_clip", "newobj", "sel 0", 620, 220),
        ("msg_no_clip", "message", "set error: select an audio clip in Live first (its clip view shows the file)",
         620, 250, 300),
        toggle("capture", "Capture", "Capturing", (140, 25, 90, 17), 760, 40),
        button("render", "Render", (140, 46, 90, 17), 900, 40),
        ("t_render", "newobj", "t b", 900, 70),
        button("cancel", "Cancel", (140, 67, 90, 17), 980, 40),
        ("t_cancel", "newobj", "t b", 980, 70),
        # preset, strength, reply port, connection
        ("label_preset", "live.comment", "Preset", 1060, 40, 40, 18, shown((236, 4, 40, 18))),
        ("menu", "umenu", None, 1060, 70, 120, 22, shown((276, 4, 120, 18))),
        button("refresh", "Presets", (400, 4, 36, 17), 1200, 40),
        ("msg_refresh", "message", "presets", 1200, 70),
        param("strength", "live.dial", None, (236, 26, 44, 48), "Strength", 0, 0, 1060, 110,
              {"parameter_mmin": 0.0, "parameter_mmax": 1.0, "parameter_initial": [1.0],
               "parameter_initial_enable": 1, "parameter_unitstyle": 1}),
        ("led", "led", None, 1200, 110, 18, 18, shown((290, 28, 16, 16))),
        ("label_server", "live.comment", "Server", 1230, 110, 50, 18, shown((306, 27, 44, 18))),
        param("port", "live.numbox", None, (352, 27, 84, 17), "Reply Port", 1, 1, 1200, 150,
              {"parameter_mmin": 1024, "parameter_mmax": 65535, "parameter_initial": [REPLY_PORT],
               "parameter_initial_enable": 1, "parameter_unitstyle": 0}, shortname="Port"),
        ("pre_port", "newobj", "prepend replyport", 1200, 180),
        # takes: how many variations each render makes (by seed); they land beside the result as -v1, -v2 ...
        ("label_takes", "live.comment", "Takes", 1060, 180, 40, 18, shown((290, 69, 36, 18))),
        param("takes", "live.numbox", None, (326, 70, 34, 15), "Takes", 1, 0, 1060, 210,
              {"parameter_mmin": 1, "parameter_mmax": MAX_TAKES, "parameter_initial": [1],
               "parameter_initial_enable": 1, "parameter_unitstyle": 0}),
        ("pre_takes", "newobj", "prepend variations", 1060, 240),
        # the result: preview through the device, insert into Live, status
        toggle("preview", "Preview", "Previewing", (290, 50, 70, 17), 20, 560),
        ("player", "newobj", "sfplay~ 2", 20, 700),
        ("t_done", "newobj", "t s s s", 160, 560),
        ("reg_result", "newobj", "zl reg", 160, 600),
        ("pre_open", "newobj", "prepend open", 160, 630),
        ("pre_done", "newobj", "prepend set done:", 300, 630),
        button("insert", "Insert", (366, 50, 70, 17), 700, 560),
        ("msg_slot", "message", "path live_set view highlighted_clip_slot", 700, 590),
        ("path_slot", "newobj", "live.path", 700, 620),
        ("t_slot", "newobj", "t b l l", 700, 650),
        ("msg_has_clip", "message", "get has_clip", 700, 680),
        ("slot", "newobj", "live.object", 700, 710),
        ("route_has_clip", "newobj", "route has_clip", 700, 740),
        ("sel_has_clip", "newobj", "sel 0 1", 700, 770),
        ("t_insert", "newobj", "t b s", 700, 800),
        ("pre_insert", "newobj", "prepend call create_audio_clip", 780, 830),
        ("verify_delay", "newobj", "delay 500", 700, 860),
        ("msg_has_clip_again", "message", "get has_clip", 700, 890),
        ("slot_check", "newobj", "live.object", 700, 920),
        ("route_check", "newobj", "route has_clip", 700, 950),
        ("sel_check", "newobj", "sel 0 1", 700, 980),
        ("msg_not_inserted", "message", "set no clip was created: Insert needs Live 12.0.5 or later and an empty "
         "slot on an audio track - else drag the file from the folder in the browser", 700, 1010, 400),
        ("msg_inserted", "message", "set inserted: the result is a new clip in the selected slot", 1000, 1040, 300),
        ("msg_slot_full", "message", "set that slot holds a clip: select the empty slot below the source and press "
         "Insert", 1000, 800, 300),
        # folder: chosen once, saved with the Live set (a stored, non-automatable pattr parameter)
        button("choose", "Folder…", (4, 146, 60, 17), 20, 860),
        ("dialog_folder", "newobj", "opendialog fold", 20, 890),
        ("folder_store", "newobj", "pattr gramophone_folder @type symbol @parameter_enable 1", 20, 920, 330,
         {"saved_object_attributes": {"parameter_enable": 1}, "varname": "gramophone_folder",
          "saved_attribute_attributes": {"valueof": {
              "parameter_longname": "Folder", "parameter_shortname": "Folder", "parameter_type": 3,
              "parameter_invisible": 1, "parameter_initial": [DEFAULT_FOLDER], "parameter_initial_enable": 1}}}),
        ("t_folder", "newobj", "t s s", 20, 950),
        ("pre_folder", "newobj", "prepend folder", 20, 980),
        ("pre_show_folder", "newobj", "prepend set", 140, 980),
        ("folder", "comment", DEFAULT_FOLDER, 140, 1010, 300, shown((68, 146, 368, 18))),
        ("progress", "slider", None, 300, 480, 300, 12,
         {"size": 1.0, "floatoutput": 1, "ignoreclick": 1, **shown((4, 88, 432, 8))}),
        ("status", "comment", "status", 300, 520, 400, {**shown((4, 100, 432, 42)), "linecount": 2}),
        *hooks.boxes,
        *rec.boxes,
    ]
    cords = [
        ("plugin", 0, "plugout", 0), ("plugin", 1, "plugout", 1),
        # inputs
        ("drop", 0, "gram", 0),
        *chain("render_clip", "t_clip", "msg_detail_clip", "path_clip", "t_clip_id"),
        ("t_clip_id", 2, "route_clip_id", 0),
        *chain("route_clip_id", "sel_no_clip", "msg_no_clip"),
        ("t_clip_id", 1, "clip", 1), ("t_clip_id", 0, "msg_get_file", 0),
        *chain("msg_get_file", "clip", "route_file", "t_clip_file"),
        ("t_clip_file", 1, "gram", 0), ("t_clip_file", 0, "gram", 3),
        *chain("render", "t_render"), ("t_render", 0, "gram", 3),
        *chain("cancel", "t_cancel"), ("t_cancel", 0, "gram", 4),
        # preset, strength, reply port, takes
        *chain("refresh", "msg_refresh"), ("msg_refresh", 0, "gram", 3),
        ("strength", 0, "gram", 2),
        *chain("port", "pre_port"), ("pre_port", 0, "gram", 3),
        *chain("takes", "pre_takes"), ("pre_takes", 0, "gram", 3),
        # the result
        ("preview", 0, "player", 0), ("player", 0, "plugout", 0), ("player", 1, "plugout", 1),
        ("gram", 0, "t_done", 0), ("t_done", 2, "reg_result", 1), ("t_done", 1, "pre_open", 0),
        ("pre_open", 0, "player", 0), ("t_done", 0, "pre_done", 0),
        *chain("insert", "msg_slot", "path_slot", "t_slot"),
        ("t_slot", 2, "slot_check", 1), ("t_slot", 1, "slot", 1), ("t_slot", 0, "msg_has_clip", 0),
        *chain("msg_has_clip", "slot", "route_has_clip", "sel_has_clip"),
        ("sel_has_clip", 0, "reg_result", 0), ("reg_result", 0, "t_insert", 0), ("t_insert", 1, "pre_insert", 0),
        ("pre_insert", 0, "slot", 0), ("t_insert", 0, "verify_delay", 0),
        *chain("verify_delay", "msg_has_clip_again", "slot_check", "route_check", "sel_check"),
        ("sel_check", 0, "msg_not_inserted", 0), ("sel_check", 1, "msg_inserted", 0),
        ("sel_has_clip", 1, "msg_slot_full", 0),
        # folder
        *chain("choose", "dialog_folder", "folder_store", "t_folder"),
        ("t_folder", 1, "pre_show_folder", 0), ("pre_show_folder", 0, "folder", 0),
        ("t_folder", 0, "pre_folder", 0), ("pre_folder", 0, "gram", 3),
        # status
        *[(src, 0, "status", 0) for src in ("msg_no_clip", "pre_done", "msg_not_inserted", "msg_inserted",
                                             "msg_slot_full")],
        *hooks.cords,
        (EVENTS, 0, "folder_store", 0),  # ready: send the saved folder to the abstraction
        *rec.cords,
    ]
    return Patch(boxes, cords)


def device() -> dict:
    """Gramophone.amxd's patcher, with the Live parameters of its live.* boxes and the device
    project Max saves with it."""
    patch = patcher(device_patch(), [100.0, 100.0, 1300.0, 1100.0], openrect=[0.0, 0.0, DEVICE_WIDTH, DEVICE_HEIGHT],
                    openinpresentation=1, default_fontsize=10.0, default_fontname="Arial Bold",
                    devicewidth=DEVICE_WIDTH, description="Gramophone: render audio in the style of a preset")
    parameters: dict[str, Any] = {}
    for b in patch["boxes"]:
        values = b["box"].get("saved_attribute_attributes", {}).get("valueof")
        if values:
            parameters[b["box"]["id"]] = [values["parameter_longname"], values["parameter_shortname"], 0]
    parameters["parameterbanks"] = {"0": {"index": 0, "name": "", "parameters": ["-"] * 8}}
    patch.update(parameters=parameters, latency=0, autosave=0,
                 project={"version": 1, "autoorganize": 1, "hideprojectwindow": 1, "showdependencies": 1,
                          "autolocalize": 0, "contents": {"patchers": {}}, "layout": {}, "searchpath": {},
                          "detailsvisible": 0, "amxdtype": amxd.amxdtype(amxd.DEVICE_TYPES["audio_effect"]),
                          "readonly": 0, "devpathtype": 0, "devpath": ".", "sortmode": 0, "viewmode": 0})
    # Max saves "boxes" and "lines" last; keep that order after the additions above
    patch["boxes"] = patch.pop("boxes")
    patch["lines"] = patch.pop("lines")
    return {"patcher": patch}


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
    """Every file this generator owns, by path relative to the clients folder (max_patches/)."""
    gramophone = patcher(abstraction(False), [50.0, 80.0, 1250.0, 1080.0])
    uses = {"gramophone": gramophone}  # [gramophone] boxes get their ports from the abstraction
    return {
        "patchers/gramophone.maxpat": dumps({"patcher": gramophone}).encode(),
        "help/gramophone.maxhelp": dumps(
            {"patcher": patcher(help_patch(), [60.0, 80.0, 1060.0, 480.0], uses)}).encode(),
        "examples/gramophone-example.maxpat": dumps(
            {"patcher": patcher(example(), [40.0, 80.0, 1120.0, 800.0], uses)}).encode(),
        "Gramophone.amxd": amxd.pack(device()),
        "package-info.json": dumps(package_info()).encode(),
    }


def main(argv: list[str] | None = None) -> int:
    """``python -m gramophone.clients.build_max --out DIR``: write files() under DIR."""
    return write_main(files, __doc__, argv)


if __name__ == "__main__":
    raise SystemExit(main())
