"""Host clients in max_patches/: the Max patches are checked box by box against the server's
address table; the SuperCollider and Pure Data clients render a clip through the real server
with the real sclang and pd."""
import json
import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from gramophone.bridge import addresses as A
from gramophone.engine.audio_io import read_audio

from gramophone.bridge.osc_client import free_port

ROOT = Path(__file__).resolve().parents[1]
PATCHES = ROOT / "max_patches"

# Every Max object or UI class the patches may use.
KNOWN_MAX_OBJECTS = {
    "udpsend", "udpreceive", "route", "prepend", "pack", "counter", "int", "delay", "t", "trigger", "sprintf",
    "zl", "buffer~", "dropfile", "loadbang", "play~", "ezdac~", "opendialog", "conformpath", "clip", "adc~",
    "record~", "plugin~", "plugout~", "message", "comment", "textbutton", "umenu", "flonum", "toggle", "live.dial",
    "live.text",
}
MAXPATS = sorted(PATCHES.glob("*.maxpat")) + sorted(PATCHES.glob("*.amxd"))


def load_patch(path):
    data = json.loads(path.read_text())
    boxes = {b["box"]["id"]: b["box"] for b in data["patcher"]["boxes"]}
    assert len(boxes) == len(data["patcher"]["boxes"]), "box ids must be unique"
    return boxes, [line["patchline"] for line in data["patcher"]["lines"]]


def object_name(box):
    return box["text"].split()[0] if box["maxclass"] == "newobj" else box["maxclass"]


def example_args(box):
    """Arguments a box sends, for checking an OSC message built from them."""
    words = box["text"].split()[1:] if box["maxclass"] == "newobj" else box["text"].split()
    if object_name(box) == "int":
        return [1]
    return [int(w) if w.lstrip("-").isdigit() else float(w) if w.replace(".", "", 1).isdigit() else w
            for w in words]


@pytest.mark.parametrize("path", MAXPATS, ids=lambda p: p.name)
def test_max_patch_structure(path):
    boxes, lines = load_patch(path)
    for box in boxes.values():
        assert object_name(box) in KNOWN_MAX_OBJECTS, f"unknown Max object {object_name(box)!r}"
    for line in lines:
        (src, outlet), (dst, inlet) = line["source"], line["destination"]
        assert src in boxes and dst in boxes, line
        assert outlet < boxes[src]["numoutlets"], f"{src} has no outlet {outlet}"
        assert inlet < boxes[dst]["numinlets"], f"{dst} has no inlet {inlet}"
    connected = {l["source"][0] for l in lines} | {l["destination"][0] for l in lines}
    loose = [b for b, box in boxes.items() if b not in connected and box["maxclass"] != "comment"]
    assert not loose, f"unconnected boxes: {loose}"
    assert sum(box["maxclass"] == "comment" for box in boxes.values()) >= 6  # each step explained


@pytest.mark.parametrize("path", MAXPATS, ids=lambda p: p.name)
def test_max_patch_speaks_the_servers_address_table(path):
    boxes, lines = load_patch(path)
    feeds = {}
    for line in lines:
        feeds.setdefault(line["destination"][0], []).append(line["source"][0])
    sent = set()
    for name, box in boxes.items():
        text = box.get("text", "")
        if box["maxclass"] == "message" and text.startswith("/gramophone/"):
            address, *args = text.split()
            A.parse(address, example_args({"maxclass": "message", "text": " ".join(args)}))
            sent.add(address)
        elif box["maxclass"] == "newobj" and text.startswith("prepend /gramophone/"):
            address = text.split()[1]
            for source in feeds[name]:
                A.parse(address, example_args(boxes[source]))
            sent.add(address)
        elif text.startswith("route /gramophone/"):
            for reply in text.split()[1:]:
                assert reply in A.REPLY_BY_PATH, reply
        elif text.startswith(("udpsend", "udpreceive")):
            port = int(text.split()[-1])
            assert port == (A.DEFAULT_PORT if text.startswith("udpsend") else A.DEFAULT_REPLY_PORT)
    assert {"/gramophone/render", "/gramophone/cancel", "/gramophone/presets", "/gramophone/reply"} <= sent


def test_generated_clients_are_current():
    from gramophone.clients import build_max, build_pd

    for name, m4l in (("gramophone.maxpat", False), ("gramophone_m4l.maxpat", True)):
        assert json.loads((PATCHES / name).read_text()) == build_max.build(m4l).json(), \
            f"{name} is stale: run python -m gramophone.clients.build_max"
    assert (PATCHES / "gramophone.pd").read_text() == build_pd.render(), "run python -m gramophone.clients.build_pd"


def test_pd_abstraction_structure():
    lines = [l for l in (PATCHES / "gramophone.pd").read_text().split(";\n") if l.strip()]
    objects = [l for l in lines if l.startswith("#X ") and not l.startswith("#X connect")]
    for line in lines:
        if line.startswith("#X connect"):
            src, _, dst, _ = map(int, line.split()[2:6])
            assert src < len(objects) and dst < len(objects)
    texts = " ".join(objects)
    for address in ("render", "cancel", "reply"):
        assert f"oscformat gramophone {address}" in texts and f"{A.PREFIX}/{address}" in A.BY_PATH
    assert "netsend -u -b" in texts and "oscparse" in texts and "soundfiler" in texts


@pytest.mark.skipif(shutil.which("pd") is None, reason="Pure Data (Debian puredata-core) is not installed; "
                    ".ci/run installs it")
def test_pure_data_client_renders_through_the_server(served, tmp_path, melody):
    reply_port = free_port()
    result = tmp_path / "pd-result.wav"
    harness = "\n".join([
        "#N canvas 0 50 600 400 12;",
        "#X obj 10 10 loadbang;",                                                   # 0
        "#X obj 10 40 t b b b;",                                                    # 1
        f"#X msg 250 70 read -resize {tmp_path}/clip.wav src;",                    # 2
        "#X obj 250 100 soundfiler;",                                               # 3
        f"#X msg 130 70 connect localhost {served.port};",                         # 4
        "#X msg 10 70 render rain iterations 3;",                                   # 5
        f"#X obj 10 130 gramophone src dst {tmp_path} {reply_port};",              # 6
        "#X obj 10 160 route done error;",                                          # 7
        f"#X msg 10 190 write -wave -bytes 4 {result} dst;",                       # 8
        "#X obj 10 220 soundfiler;",                                                # 9
        "#X msg 10 250 \\; pd quit;",                                               # 10
        "#X obj 200 190 print gramophone-error;",                                   # 11
        "#X obj 400 10 table src;",                                                 # 12
        "#X obj 400 40 table dst;",                                                 # 13
        "#X obj 300 160 print gramophone;",                                         # 14
        "#X connect 0 0 1 0;", "#X connect 1 2 2 0;", "#X connect 2 0 3 0;", "#X connect 1 1 4 0;",
        "#X connect 4 0 6 0;", "#X connect 1 0 5 0;", "#X connect 5 0 6 0;", "#X connect 6 0 7 0;",
        "#X connect 6 0 14 0;", "#X connect 7 0 8 0;", "#X connect 8 0 9 0;", "#X connect 9 0 10 0;",
        "#X connect 7 1 11 0;", "#X connect 7 1 10 0;", ""])
    (tmp_path / "harness.pd").write_text(harness)
    # Not -batch: Pd 0.53's batch scheduler never polls its sockets, so [netreceive] would never
    # see a reply (measured: the request goes out, the replies are never read). -nogui -noaudio
    # runs the normal scheduler headless; the harness quits Pd itself when the render is done.
    proc = subprocess.run(["pd", "-nogui", "-noaudio", "-nomidi", "-nrt", "-stderr", "-path", str(PATCHES), "-open",
                           str(tmp_path / "harness.pd")], capture_output=True, text=True, timeout=120)
    log = proc.stdout + proc.stderr
    assert "gramophone: queued 0" in log and "gramophone: progress 1" in log, log + served.output()
    out, _ = read_audio(result)
    assert out.shape[1] == melody.shape[1]
    assert np.abs(out).max() > 0.01


SC_SCRIPT = """
(
var g = "{scd}".load.connect("127.0.0.1", {port});
var results = List.new;
fork {{
    var c = Condition.new, id;
    g.renderFile("{missing}", "rain", "{out0}", {{ c.unhang }}, nil, {{ |code| results.add("error " ++ code); c.unhang }});
    c.hang;
    c = Condition.new;
    g.renderFile("{clip}", "rain", "{out}", {{ |path| results.add("done " ++ path); c.unhang }},
        {{ |f| results.add("progress") }}, {{ |code, msg| results.add("error " ++ code ++ " " ++ msg); c.unhang }},
        [\\iterations, 3, \\strength, 0.8]);
    c.hang;
    c = Condition.new;
    id = g.renderFile("{clip}", "rain", "{out2}", {{ c.unhang }}, nil,
        {{ |code| results.add("error " ++ code); c.unhang }}, [\\iterations, 5000]);
    1.5.wait;
    g.cancel(id);
    c.hang;
    results.asSet.asArray.sort.do {{ |r| ("RESULT " ++ r).postln }};
    g.free;
    0.exit;
}};
)
"""


@pytest.mark.skipif(shutil.which("sclang") is None, reason="SuperCollider (Debian supercollider-language) is not "
                    "installed; .ci/run installs it")
def test_supercollider_client_renders_through_the_server(served, tmp_path, melody):
    out = tmp_path / "sc out.wav"  # a space, as user folders have
    script = SC_SCRIPT.format(scd=PATCHES / "gramophone.scd", port=served.port, missing=tmp_path / "missing.wav",
                              clip=tmp_path / "clip.wav", out0=tmp_path / "o0.wav", out=out, out2=tmp_path / "o2.wav")
    (tmp_path / "test.scd").write_text(script)
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", QTWEBENGINE_DISABLE_SANDBOX="1")
    proc = subprocess.run(["sclang", str(tmp_path / "test.scd")], capture_output=True, text=True, timeout=180,
                          env=env, cwd=tmp_path)
    log = proc.stdout + proc.stderr
    results = [line[len("RESULT "):] for line in log.splitlines() if line.startswith("RESULT ")]
    assert results == ["done " + str(out), "error cancelled", "error not_found", "progress"], log
    data, _ = read_audio(out)
    assert data.shape == melody.shape
    assert not (tmp_path / "o2.wav").exists()
