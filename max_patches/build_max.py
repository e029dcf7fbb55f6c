"""Write the Max patches (gramophone.maxpat, and gramophone_m4l.maxpat for Max for Live) from
one description, so both speak the server's OSC address table the same way.

    .venv/bin/python -m gramophone.clients.build_max

tests/test_host_clients.py parses the results, checks every box, line and OSC message
against the server's table, and checks these files are what this script writes.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

HERE = Path(__file__).resolve().parent
SERVER_PORT, REPLY_PORT = 7770, 7771

# Inlets and outlets of the objects these patches use (Max 8), by object name or maxclass.
FIXED = {"udpsend": (1, 0), "udpreceive": (1, 1), "prepend": (2, 1), "counter": (3, 4), "int": (2, 1),
         "delay": (2, 1), "buffer~": (1, 2), "dropfile": (1, 2), "loadbang": (1, 1), "play~": (2, 2),
         "ezdac~": (2, 0), "opendialog": (1, 2), "conformpath": (1, 2), "clip": (3, 1), "zl": (2, 2),
         "adc~": (1, 1), "record~": (3, 1), "plugin~": (1, 2), "plugout~": (2, 0), "message": (2, 1),
         "comment": (1, 0), "textbutton": (1, 3), "umenu": (1, 3), "flonum": (1, 2), "toggle": (1, 1),
         "live.dial": (1, 2), "live.text": (1, 2), "panel": (1, 0)}


def ports(maxclass: str, text: str) -> tuple[int, int]:
    if maxclass != "newobj":
        return FIXED[maxclass]
    words = text.split()
    name, args = words[0], words[1:]
    if name in ("t", "trigger"):
        return 1, len(args)
    if name == "route":
        return 2, len(args) + 1
    if name == "pack":
        return len(args), 1
    if name == "sprintf":
        return max(1, len(re.findall(r"%[a-z]+", text))), 1
    return FIXED[name]


class Patch:
    def __init__(self, title: str) -> None:
        self.title, self.boxes, self.lines, self.y = title, [], [], {}

    def box(self, name: str, content: str, x: float, y: float, maxclass: str = "newobj", width: float = 0,
            **extra) -> str:
        inlets, outlets = ports(maxclass, content)
        box = {"id": name, "maxclass": maxclass, "numinlets": inlets, "numoutlets": outlets,
               "patching_rect": [x, y, width or max(40.0, 7.0 * len(content) + 12), 22.0]}
        if maxclass in ("newobj", "message", "comment", "textbutton"):
            box["text"] = content
        if outlets:
            box["outlettype"] = [""] * outlets
        box.update(extra)
        self.boxes.append({"box": box})
        return name

    def comment(self, name: str, text: str, x: float, y: float) -> str:
        return self.box(name, text, x, y, "comment", width=420.0)

    def connect(self, src: str, outlet: int, dst: str, inlet: int = 0) -> None:
        self.lines.append({"patchline": {"source": [src, outlet], "destination": [dst, inlet]}})

    def json(self) -> dict:
        return {"patcher": {"fileversion": 1, "appversion": {"major": 8, "minor": 6, "revision": 0,
                                                               "architecture": "x64", "modernui": 1},
                            "classnamespace": "box", "rect": [60.0, 80.0, 1180.0, 820.0], "openinpresentation": 0,
                            "default_fontsize": 12.0, "gridsize": [15.0, 15.0], "description": self.title,
                            "boxes": self.boxes, "lines": self.lines}}


def build(m4l: bool) -> Patch:
    p = Patch("Gramophone for Max for Live (audio effect)" if m4l else "Gramophone client for Max")
    c = p.comment
    c("title", "Gramophone: render a clip in the style of a preset. Start the server first: gramophone serve", 20, 10)

    # --- 1. connection and the preset menu -------------------------------------------------------------
    c("c_conn", f"1. On load: replies are registered on port {REPLY_PORT} (udpsend sends from a random port), "
      "the preset menu is filled from the server, and the work folder is set.", 20, 40)
    p.box("load", "loadbang", 20, 70)
    p.box("refresh", "Refresh presets", 110, 70, "textbutton")
    p.box("t_load", "t b b b b", 20, 100)
    p.box("msg_reply", f"/gramophone/reply {REPLY_PORT}", 330, 130, "message")
    p.box("msg_clear", "clear", 250, 130, "message")
    p.box("msg_presets", "/gramophone/presets", 110, 130, "message")
    p.box("udp_out", f"udpsend 127.0.0.1 {SERVER_PORT}", 110, 480)
    p.box("menu", "", 250, 160, "umenu", width=160.0)
    for src in ("load", "refresh"):
        p.connect(src, 0, "t_load")
    p.connect("t_load", 3, "msg_reply")
    p.connect("msg_reply", 0, "udp_out")
    p.connect("t_load", 2, "msg_clear")
    p.connect("msg_clear", 0, "menu")
    p.connect("t_load", 1, "msg_presets")
    p.connect("msg_presets", 0, "udp_out")

    # --- 2. the input clip -----------------------------------------------------------------------------
    if m4l:
        c("c_in", "2. Toggle Capture to record the track's audio into buffer~ gramophone_in "
          "(the device passes audio through).", 500, 40)
        p.box("plugin", "plugin~", 500, 70)
        p.box("plugout", "plugout~", 500, 420)
        p.box("capture", "", 600, 70, "live.text", width=60.0,
              saved_attribute_attributes={"valueof": {"parameter_longname": "Capture", "parameter_shortname":
                                                      "Capture", "parameter_type": 2, "parameter_mmax": 1}},
              text="Capture", mode=0)
        p.box("record", "record~ gramophone_in", 500, 110)
        p.box("buf_in", "buffer~ gramophone_in 60000", 500, 140)
        p.connect("plugin", 0, "record")
        p.connect("capture", 0, "record")
        p.connect("plugin", 0, "plugout", 0)
        p.connect("plugin", 1, "plugout", 1)
    else:
        c("c_in", "2. Drop an audio file on the box below, click read, or record into buffer~ gramophone_in.",
          500, 40)
        p.box("drop", "dropfile", 500, 70, width=200.0)
        p.box("pre_replace_in", "prepend replace", 500, 100)
        p.box("msg_read", "read", 640, 100, "message")
        p.box("buf_in", "buffer~ gramophone_in", 500, 140)
        p.box("adc", "adc~ 1", 760, 70)
        p.box("rec_toggle", "", 840, 70, "toggle", width=22.0)
        p.box("record", "record~ gramophone_in", 760, 110)
        p.connect("drop", 0, "pre_replace_in")
        p.connect("pre_replace_in", 0, "buf_in")
        p.connect("msg_read", 0, "buf_in")
        p.connect("adc", 0, "record")
        p.connect("rec_toggle", 0, "record")

    # --- 3. the work folder ----------------------------------------------------------------------------
    c("c_folder", "3. Work folder: the clip is written there and renders land there as gramophone-render-N.wav. "
      "It must be absolute and allowed by the server (the temporary folder, ~/Music and ~/Documents are; "
      "else start it with --allow-dir). Paths may contain spaces.", 20, 200)
    p.box("msg_folder", "/tmp", 20, 250, "message")
    p.box("choose", "Choose folder…", 110, 250, "textbutton")
    p.box("dialog", "opendialog fold", 110, 280)
    p.box("conform", "conformpath slash boot", 110, 310)
    p.box("pre_set_folder", "prepend set", 110, 340)
    p.box("t_folder", "t s s", 20, 370)
    p.box("fmt_in", "sprintf symout %s/gramophone-in.wav", 250, 400)
    p.box("t_in", "t s s", 250, 430)
    p.box("pre_write", "prepend writewave", 430, 460)
    p.box("reg_write", "zl reg", 430, 490)
    p.box("reg_folder", "zl reg", 20, 400)
    p.connect("t_load", 0, "msg_folder")
    p.connect("choose", 0, "dialog")
    p.connect("dialog", 0, "conform")
    p.connect("conform", 0, "pre_set_folder")
    p.connect("pre_set_folder", 0, "msg_folder")
    p.connect("conform", 0, "t_folder")
    p.connect("msg_folder", 0, "t_folder")
    p.connect("t_folder", 1, "fmt_in")
    p.connect("fmt_in", 0, "t_in")
    p.connect("t_in", 1, "pre_write")
    p.connect("pre_write", 0, "reg_write", 1)
    p.connect("t_folder", 0, "reg_folder", 1)

    # --- 4. render -------------------------------------------------------------------------------------
    c("c_render", "4. Render: write the clip, wait for the file, then send "
      f"/gramophone/render id clip preset out strength S reply_port {REPLY_PORT}. The menu picks the preset; "
      "the dial sets strength.",
      500, 200)
    if m4l:
        p.box("render", "", 500, 250, "live.text", width=60.0, text="Render", mode=0,
              saved_attribute_attributes={"valueof": {"parameter_longname": "Render", "parameter_shortname":
                                                      "Render", "parameter_type": 2}})
        p.box("strength", "", 700, 250, "live.dial", width=44.0,
              saved_attribute_attributes={"valueof": {"parameter_longname": "Strength", "parameter_shortname":
                                                      "Strength", "parameter_type": 0, "parameter_mmin": 0.0,
                                                      "parameter_mmax": 1.0, "parameter_initial": [1.0],
                                                      "parameter_initial_enable": 1}})
    else:
        p.box("render", "Render", 500, 250, "textbutton")
        p.box("strength", "", 700, 250, "flonum", width=50.0, minimum=0.0, maximum=1.0)
    p.box("clip_strength", "clip 0. 1.", 700, 280)
    p.box("t_render", "t b b", 500, 280)
    p.box("delay", "delay 250", 500, 310)
    p.box("counter", "counter 1 1000000", 500, 340)
    p.box("t_id", "t i b i i", 500, 370)
    p.box("fmt_out", "sprintf symout %s/gramophone-render-%ld.wav", 620, 430)
    p.box("last_id", "int", 860, 400)
    p.box("pack", f"pack 0 in rain out strength 1. reply_port {REPLY_PORT}", 500, 460)
    p.box("pre_render", "prepend /gramophone/render", 500, 490)
    p.box("cancel", "Cancel", 860, 250, "textbutton")
    p.box("pre_cancel", "prepend /gramophone/cancel", 860, 430)
    p.connect("menu", 1, "pack", 2)
    p.connect("strength", 0, "clip_strength")
    p.connect("clip_strength", 0, "pack", 5)
    p.connect("t_in", 0, "pack", 1)
    p.connect("render", 0, "t_render")
    p.connect("t_render", 1, "reg_write")
    p.connect("reg_write", 0, "buf_in")
    p.connect("t_render", 0, "delay")
    p.connect("delay", 0, "counter")
    p.connect("counter", 0, "t_id")
    p.connect("t_id", 3, "last_id", 1)
    p.connect("t_id", 2, "fmt_out", 1)
    p.connect("t_id", 1, "reg_folder")
    p.connect("reg_folder", 0, "fmt_out")
    p.connect("fmt_out", 0, "pack", 3)
    p.connect("t_id", 0, "pack", 0)
    p.connect("pack", 0, "pre_render")
    p.connect("pre_render", 0, "udp_out")
    p.connect("cancel", 0, "last_id")
    p.connect("last_id", 0, "pre_cancel")
    p.connect("pre_cancel", 0, "udp_out")

    # --- 5. replies ------------------------------------------------------------------------------------
    c("c_replies", f"5. Replies arrive on port {REPLY_PORT}: progress and errors show in the status line; "
      "on done the rendered file is loaded into buffer~ gramophone_out.", 20, 540)
    routes = ["queued", "progress", "done", "error", "cancelled", "preset", "pong"]
    p.box("udp_in", f"udpreceive {REPLY_PORT}", 20, 570)
    p.box("route", "route " + " ".join(f"/gramophone/{r}" for r in routes), 20, 600)
    p.box("status", "status", 20, 760, "message", width=520.0)
    p.box("pre_queued", "prepend set queued", 20, 640)
    p.box("slice_progress", "zl slice 1", 160, 640)
    p.box("progress", "", 160, 670, "flonum", width=50.0)
    p.box("slice_done", "zl slice 1", 280, 640)
    p.box("slice_path", "zl slice 1", 280, 670)
    p.box("t_done", "t s s", 280, 700)
    p.box("pre_replace_out", "prepend replace", 400, 730)
    p.box("buf_out", "buffer~ gramophone_out", 400, 790)
    p.box("pre_done", "prepend set done:", 280, 730)
    p.box("pre_error", "prepend set error:", 560, 640)
    p.box("pre_cancelled", "prepend set cancelled", 700, 640)
    p.box("slice_preset", "zl slice 1", 860, 640)
    p.box("pre_append", "prepend append", 860, 670)
    p.box("pre_pong", "prepend set server", 1000, 640)
    p.connect("udp_in", 0, "route")
    p.connect("route", 0, "pre_queued")
    p.connect("pre_queued", 0, "status")
    p.connect("route", 1, "slice_progress")
    p.connect("slice_progress", 1, "progress")
    p.connect("route", 2, "slice_done")
    p.connect("slice_done", 1, "slice_path")
    p.connect("slice_path", 0, "t_done")
    p.connect("t_done", 1, "pre_replace_out")
    p.connect("pre_replace_out", 0, "buf_out")
    p.connect("t_done", 0, "pre_done")
    p.connect("pre_done", 0, "status")
    p.connect("route", 3, "pre_error")
    p.connect("pre_error", 0, "status")
    p.connect("route", 4, "pre_cancelled")
    p.connect("pre_cancelled", 0, "status")
    p.connect("route", 5, "slice_preset")
    p.connect("slice_preset", 0, "pre_append")
    p.connect("pre_append", 0, "menu")
    p.connect("route", 6, "pre_pong")
    p.connect("pre_pong", 0, "status")

    # --- 6. playback -----------------------------------------------------------------------------------
    c("c_play", "6. Play the result. In Live, drag gramophone-render-N.wav from the work folder (add it to "
      "Places in the browser) into the arrangement.", 600, 700)
    p.box("msg_start", "start", 600, 730, "message")
    p.box("msg_stop", "stop", 660, 730, "message")
    p.box("play", "play~ gramophone_out", 600, 760)
    for msg in ("msg_start", "msg_stop"):
        p.connect(msg, 0, "play")
    if m4l:
        p.connect("play", 0, "plugout", 0)
        p.connect("play", 0, "plugout", 1)
    else:
        p.box("dac", "ezdac~", 600, 790)
        p.connect("play", 0, "dac", 0)
        p.connect("play", 0, "dac", 1)
    return p


def main() -> None:
    for name, m4l in (("gramophone.maxpat", False), ("gramophone_m4l.maxpat", True)):
        (HERE / name).write_text(json.dumps(build(m4l).json(), indent=1) + "\n")
        print(HERE / name)


if __name__ == "__main__":
    main()
