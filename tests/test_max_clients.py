"""The Max package and the Max for Live device (max_patches/). Max and Live cannot run here, so:

* every box of every patch (and of the .amxd) is checked against max_objects.json, a table of the
  box class, inlet/outlet counts and outlet types that real public patches store (each entry cites
  its source), and each rule of that table against the real boxes it cites;
* the .amxd container is parsed back and compared with the header of a real device;
* presentation, Live-parameter and naming rules of real devices are checked;
* the patches' message logic runs in a small interpreter (tests/maxsim.py) wired to the real
  server, so the errors a user can cause (unknown preset, file outside the allowed folders, no
  server) are shown to arrive in the status display, and a render round-trips.
"""
from __future__ import annotations

import fnmatch
import json
import re
import socket
import struct
import time
import tomllib
from pathlib import Path

import pytest
from pythonosc.osc_message import OscMessage

import maxsim
from helpers import SR, write_wav
from gramophone import __version__
from gramophone.bridge import addresses as A
from gramophone.bridge.osc_client import encode, free_port
from gramophone.clients import amxd, build_max
from gramophone.clients.maxobjects import TABLE, expected, object_name

ROOT = Path(__file__).resolve().parents[1]
PATCHES = ROOT / "max_patches"
ABSTRACTION = PATCHES / "patchers" / "gramophone.maxpat"
EXAMPLE = PATCHES / "examples" / "gramophone-example.maxpat"
HELP = PATCHES / "help" / "gramophone.maxhelp"
DEVICE = PATCHES / "Gramophone.amxd"
#: the first 28 bytes of diracdeltas/spleeter4max spleeter.amxd (commit 85dce7bd) and of every unfrozen
#: device in zsteinkamp/m4l-Knobbler4 Project/ (commit 2d7570a1): magic, type length 4, "aaaa",
#: "meta", 4, 1, "ptch"; then the patcher length, the JSON and one NUL.
REAL_AMXD_HEADER = bytes.fromhex("616d7066" "04000000" "61616161" "6d657461" "04000000" "01000000" "70746368")
STAMP = r"\d{8}-\d{6}-\d+-\d+"


def load(path: Path) -> dict:
    if path.suffix == ".amxd":
        return amxd.parse(path.read_bytes()).patcher["patcher"]
    return json.loads(path.read_text())["patcher"]


ALL = [ABSTRACTION, HELP, EXAMPLE, DEVICE]


def walk(patcher: dict, where: str = ""):
    """(path, patcher) for a patcher and every subpatcher inside it."""
    yield where or "top", patcher
    for b in patcher["boxes"]:
        if "patcher" in b["box"]:
            yield from walk(b["box"]["patcher"], f"{where}/{b['box']['text']}")


def boxes(patcher: dict):
    for _, p in walk(patcher):
        for b in p["boxes"]:
            yield b["box"]


# --- generated files --------------------------------------------------------------------------------
def test_files_on_disk_are_what_build_max_writes():
    for rel, data in build_max.files().items():
        assert (PATCHES / rel).read_bytes() == data, \
            f"{rel} is stale: run python -m gramophone.clients.build_max --out max_patches"
    assert not list(PATCHES.glob("*.maxpat")), "the Max patches live in patchers/ and examples/ now"


def test_amxd_container_layout_matches_real_devices():
    data = DEVICE.read_bytes()
    assert data[:28] == REAL_AMXD_HEADER
    assert data[:4] == b"ampf" and struct.unpack_from("<I", data, 4) == (4,) and data[8:12] == b"aaaa"
    assert data[12:16] == b"meta" and struct.unpack_from("<II", data, 16) == (4, 1)
    assert data[24:28] == b"ptch"
    (length,) = struct.unpack_from("<I", data, 28)
    assert length == len(data) - 32, "the ptch length counts the JSON and its NUL, and the file ends there"
    assert data.endswith(b"}\n\0") and data[32:].count(b"\0") == 1
    device = amxd.parse(data)
    assert device.device_type == b"aaaa" and device.meta == 1
    assert device.patcher["patcher"]["project"]["amxdtype"] == 0x61616161 == 1633771873
    with pytest.raises(ValueError):
        amxd.parse(data[:-1])  # a truncated file is refused


# --- every box against real objects -----------------------------------------------------------------
def test_object_table_rules_reproduce_the_real_boxes_they_cite():
    for name, entry in TABLE.items():
        assert entry["seen"], f"{name}: no real patch cited"
        for seen in entry["seen"]:
            assert re.fullmatch(r"[0-9a-f]{40}", seen["commit"]) and seen["repo"].count("/") == 1 and seen["path"]
            ports = expected(entry["maxclass"], seen.get("text") if entry["maxclass"] == "newobj" else None)
            assert (ports.inlets, ports.outlets, list(ports.outlettype)) == \
                   (seen["numinlets"], seen["numoutlets"], seen["outlettype"]), (name, seen)


@pytest.mark.parametrize("path", ALL, ids=lambda p: p.name)
def test_every_box_has_the_ports_real_patches_store(path):
    abstraction_ports = sum(b["box"]["maxclass"] == "inlet" for b in load(ABSTRACTION)["boxes"]), \
        sum(b["box"]["maxclass"] == "outlet" for b in load(ABSTRACTION)["boxes"])
    for box in boxes(load(path)):
        name = object_name(box["maxclass"], box.get("text"))
        if "patcher" in box or name == "gramophone":
            inner = box["patcher"] if "patcher" in box else load(ABSTRACTION)
            want = (sum(b["box"]["maxclass"] == "inlet" for b in inner["boxes"]),
                    sum(b["box"]["maxclass"] == "outlet" for b in inner["boxes"]))
            assert want == abstraction_ports, "the device embeds the same abstraction"
            got = (box["numinlets"], box["numoutlets"])
            assert got == want and box["outlettype"] == [""] * want[1], box
            continue
        assert name in TABLE, f"{path.name}: {name!r} is not in max_objects.json (no real patch to compare with)"
        ports = expected(box["maxclass"], box.get("text"))
        assert (box["numinlets"], box["numoutlets"]) == (ports.inlets, ports.outlets), box
        assert box.get("outlettype", []) == list(ports.outlettype), box


@pytest.mark.parametrize("path", ALL, ids=lambda p: p.name)
def test_patch_structure(path):
    for where, patcher in walk(load(path)):
        ids = [b["box"]["id"] for b in patcher["boxes"]]
        assert len(set(ids)) == len(ids) and all(re.fullmatch(r"obj-\d+", i) for i in ids), where
        by_id = {b["box"]["id"]: b["box"] for b in patcher["boxes"]}
        for line in patcher["lines"]:
            (src, outlet), (dst, inlet) = line["patchline"]["source"], line["patchline"]["destination"]
            assert outlet < by_id[src]["numoutlets"] and inlet < by_id[dst]["numinlets"], (where, line)
        wired = {l["patchline"][k][0] for l in patcher["lines"] for k in ("source", "destination")}
        loose = [b for b in by_id.values() if b["id"] not in wired and b["maxclass"] not in ("comment", "live.comment")]
        assert not loose, (where, loose)


def test_abstraction_inlets_and_outlets_are_in_documented_order():
    patcher = load(ABSTRACTION)
    for kind, spec in (("inlet", build_max.INLETS), ("outlet", build_max.OUTLETS)):
        ports = sorted((b["box"] for b in patcher["boxes"] if b["box"]["maxclass"] == kind),
                       key=lambda b: b["patching_rect"][0])  # Max numbers them left to right
        assert [b["comment"] for b in ports] == [note for _, note in spec]


@pytest.mark.parametrize("path", ALL, ids=lambda p: p.name)
def test_every_osc_address_is_in_the_servers_table(path):
    sent, routed = set(), set()
    for box in boxes(load(path)):
        text = box.get("text") or ""
        words = text.split()
        if box["maxclass"] == "message" and text.startswith(A.PREFIX):
            sent.add(words[0])
        elif words[:1] == ["prepend"] and words[1].startswith(A.PREFIX):
            sent.add(words[1])
        elif words[:1] == ["route"] and words[1].startswith(A.PREFIX):
            routed |= set(words[1:])
        elif words[:1] == ["udpsend"]:
            assert words[1:] == ["127.0.0.1", str(A.DEFAULT_PORT)]
        elif words[:1] == ["udpreceive"]:
            assert words[1:] == [str(A.DEFAULT_REPLY_PORT)]
    assert sent <= set(A.BY_PATH) and routed <= set(A.REPLY_BY_PATH), (sent - set(A.BY_PATH), routed)
    if path in (ABSTRACTION, DEVICE):
        assert {"/gramophone/render", "/gramophone/cancel", "/gramophone/presets", "/gramophone/reply",
                "/gramophone/ping"} <= sent
        assert {"/gramophone/done", "/gramophone/error", "/gramophone/pong", "/gramophone/preset"} <= routed


# --- issue 13's Max fixes ---------------------------------------------------------------------------
def test_max_objects_are_saved_as_real_patches_save_them():
    example = list(boxes(load(EXAMPLE)))
    drop = [b for b in example if b["maxclass"] == "dropfile"]
    assert len(drop) == 1 and drop[0]["patching_rect"][2:] == [200.0, 22.0]
    assert [b["maxclass"] for b in example if b["maxclass"] == "ezdac~"] == ["ezdac~"]
    assert not any((b.get("text") or "").split()[:1] in (["dropfile"], ["ezdac~"]) for b in example)
    everything = [b for p in ALL for b in boxes(load(p))]
    assert not any((b.get("text") or "").startswith("record~") for b in everything), "sfrecord~ writes what played"
    for b in everything:
        if (b.get("text") or "").startswith("buffer~ gramophone"):
            assert re.fullmatch(r"buffer~ \S+ \d+ \d", b["text"]), f"a named buffer~ needs a size: {b['text']}"
    assert sum(b.get("text") == "sfrecord~ 2" for b in boxes(load(DEVICE))) == 1
    assert sum(b.get("text") == "sfrecord~ 2" for b in example) == 1


def test_max_package_layout():
    info = json.loads((PATCHES / "package-info.json").read_text())
    assert info["name"] == "Gramophone" and info["version"] == __version__ and info["max_version_min"] == "8.0"
    assert {"author", "description", "os", "tags", "website", "package_extra"} <= set(info)
    for patch in (HELP, EXAMPLE):
        assert any(b["box"].get("text") == "gramophone" for b in load(patch)["boxes"]), f"{patch.name} uses [gramophone]"
    names = [p.name for p in PATCHES.rglob("*.maxpat")] + [p.name for p in PATCHES.rglob("*.maxhelp")]
    assert names.count("gramophone.maxpat") == 1, "one file answers to [gramophone] in Max's search path"


def test_wheel_ships_the_max_package():
    patterns = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"][
        "gramophone.clients"]
    for rel in list(build_max.files()) + ["max_objects.json", "README.md"]:
        assert any(fnmatch.fnmatch(rel, pat) for pat in patterns), f"{rel} is not package data"


# --- the device: presentation, parameters, names ----------------------------------------------------
def device_patcher() -> dict:
    return load(DEVICE)


def test_device_opens_in_presentation_in_a_device_strip():
    top = device_patcher()
    assert top["openinpresentation"] == 1 and top["devicewidth"] == build_max.DEVICE_WIDTH
    assert top["openrect"] == [0.0, 0.0, build_max.DEVICE_WIDTH, build_max.DEVICE_HEIGHT]
    shown = [b["box"] for b in top["boxes"] if b["box"].get("presentation")]
    for box in shown:
        x, y, w, h = box["presentation_rect"]
        assert 0 <= x and x + w <= top["devicewidth"] and 0 <= y and y + h <= build_max.DEVICE_HEIGHT, box
    for i, a in enumerate(shown):  # nothing in the device view hides another control
        ax, ay, aw, ah = a["presentation_rect"]
        for b in shown[i + 1:]:
            bx, by, bw, bh = b["presentation_rect"]
            assert ax + aw <= bx or bx + bw <= ax or ay + ah <= by or by + bh <= ay, (a, b)
    kinds = {b["maxclass"] for b in shown}
    assert {"live.drop", "live.dial", "live.text", "umenu", "led", "slider", "comment", "live.numbox"} <= kinds
    labels = {b.get("text") for b in shown}
    assert {"Render clip", "Capture", "Render", "Cancel", "Insert", "Folder…", "status"} <= labels
    for box in top["boxes"]:
        b = box["box"]
        if b["maxclass"].startswith("live.") and b["maxclass"] != "live.comment" or b["maxclass"] == "umenu":
            assert b.get("presentation") == 1, f"{b['maxclass']} {b.get('text')} is not in the device view"


def test_device_parameters_are_declared_as_real_devices_do():
    top = device_patcher()
    params = {k: v for k, v in top["parameters"].items() if k != "parameterbanks"}
    declared = {}
    for b in boxes(top):
        values = b.get("saved_attribute_attributes", {}).get("valueof")
        if b["maxclass"].startswith("live.") and b["maxclass"] != "live.comment":
            assert b.get("parameter_enable") == 1 and b.get("varname") and values, b
        if values:
            declared[b["id"]] = [values["parameter_longname"], values["parameter_shortname"], 0]
            assert values["parameter_type"] in (0, 1, 2, 3, 4)
    assert params == declared
    longnames = [v[0] for v in params.values()]
    assert len(set(longnames)) == len(longnames)
    by_name = {b.get("varname"): b for b in boxes(top)}
    for action in ("render", "render_clip", "capture", "cancel", "insert", "refresh", "preview", "choose"):
        assert by_name[action]["saved_attribute_attributes"]["valueof"]["parameter_invisible"] == 2, action
    for momentary in ("render", "render_clip", "cancel", "insert", "refresh", "choose"):
        assert by_name[momentary]["mode"] == 0
    capture = by_name["capture"]
    assert "mode" not in capture and capture["texton"] and \
        capture["saved_attribute_attributes"]["valueof"]["parameter_enum"] == ["off", "on"]
    strength = by_name["strength"]["saved_attribute_attributes"]["valueof"]
    assert (strength["parameter_mmin"], strength["parameter_mmax"], strength["parameter_initial"]) == (0.0, 1.0, [1.0])
    assert "parameter_invisible" not in strength, "Strength stays automatable"
    assert by_name["gramophone_folder"]["saved_attribute_attributes"]["valueof"]["parameter_invisible"] == 1


def test_device_starts_with_live_thisdevice_and_keeps_its_names_local():
    texts = [b.get("text") or "" for b in boxes(device_patcher())]
    assert "live.thisdevice" in texts and "loadbang" not in texts
    buffers = [t for t in texts if t.startswith("buffer~")]
    assert buffers and all(t.split()[1].startswith("---") for t in buffers)
    assert all(t.split()[1].startswith("#0") for t in (b.get("text") or "" for b in boxes(load(ABSTRACTION)))
               if t.startswith("buffer~"))


def test_device_reads_the_selected_clip_through_the_live_api():
    texts = [b.get("text") or "" for b in boxes(device_patcher())]
    assert "path live_set view detail_clip" in texts and "get file_path" in texts and "route file_path" in texts
    assert "prepend call create_audio_clip" in texts and "path live_set view highlighted_clip_slot" in texts


# --- the message logic, run against the real server -------------------------------------------------
class Host:
    """A patch running in maxsim, its udpsend/udpreceive connected to a real server."""

    def __init__(self, path: Path, server_port: int) -> None:
        self.sim = maxsim.Sim(load(path), {"gramophone": load(ABSTRACTION)})
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.server = ("127.0.0.1", server_port)
        self.forwarded = 0
        self.replies: list[tuple[str, list]] = []
        self.gram = self.sim.find(lambda n: n.name == "subpatch")
        self.status = self.sim.find(lambda n: n.maxclass == "comment" and n.text == "status")

    def pump(self, until, timeout: float = 60.0) -> None:
        """Send what the patch sent, feed the server's replies to udpreceive until ``until()``."""
        deadline = time.monotonic() + timeout
        while True:
            while self.forwarded < len(self.sim.sent):
                address, *args = self.sim.sent[self.forwarded]
                self.sock.sendto(encode(address, *args), self.server)
                self.forwarded += 1
            if until():
                return
            self.sock.settimeout(max(0.01, deadline - time.monotonic()))
            try:
                data, _ = self.sock.recvfrom(65536)
            except socket.timeout:
                raise AssertionError(f"timed out; status {self.text()!r}; replies {self.replies}")
            m = OscMessage(data)
            self.replies.append((m.address, list(m.params)))
            self.sim.reply(m.address, *m.params)

    def text(self) -> str:
        return self.status.state["text"]

    def connect(self, folder: Path) -> None:
        self.sim.start()
        self.gram.recv(3, ["replyport", free_port()])
        self.gram.recv(3, ["folder", str(folder)])
        self.pump(lambda: any(a == "/gramophone/presets/end" for a, _ in self.replies))

    def press(self, label: str) -> None:
        node = self.sim.find(lambda n: n.maxclass in ("textbutton", "live.text") and n.text == label)
        node.out(0, [1])

    def drop(self, path: Path | str) -> None:
        node = self.sim.find(lambda n: n.maxclass in ("dropfile", "live.drop"))
        node.out(0, ["symbol", str(path)])

    def error_reply(self) -> bool:
        return any(a == "/gramophone/error" for a, _ in self.replies)


HOSTS = [EXAMPLE, DEVICE]


@pytest.mark.parametrize("path", HOSTS, ids=lambda p: p.name)
@pytest.mark.slow
def test_menu_connection_and_user_errors_reach_the_display(served, path, tmp_path):
    host = Host(path, served.port)
    host.connect(tmp_path)
    # connected: the dot is lit and the menu holds the server's presets, its first one selected and
    # the same one in the render message
    names = [args[0] for a, args in host.replies if a == "/gramophone/preset"]
    menu = host.sim.find(lambda n: n.maxclass == "umenu")
    assert names and menu.state["items"] == names and menu.state["value"] == 0
    render = host.sim.find(lambda n: n.text.startswith("pack s s s s"))
    assert render.state["v"][2] == names[0], "the render message uses the preset the menu shows"
    assert host.sim.find(lambda n: n.maxclass == "led").state["v"] == 1
    # a file outside the allowed folders
    host.drop("/etc/passwd")
    host.press("Render")
    host.pump(host.error_reply)
    assert host.text().startswith("error: forbidden_path content path is outside the allowed folders"), host.text()
    # an unknown preset
    host.replies.clear()
    host.drop(tmp_path / "clip.wav")
    host.gram.recv(1, ["symbol", "no-such-preset"])
    host.press("Render")
    host.pump(host.error_reply)
    assert host.text().startswith("error: ") and "no-such-preset" in host.text(), host.text()
    # the server stops answering: the next ping gets no pong
    served.stop()
    host.sim.fire("metro")
    host.pump(lambda: True)
    host.sim.fire("delay")
    assert host.text().startswith(f"error: no_server Gramophone server not answering on 127.0.0.1:{A.DEFAULT_PORT}")
    assert host.sim.find(lambda n: n.maxclass == "led").state["v"] == 0


@pytest.mark.parametrize("path", HOSTS, ids=lambda p: p.name)
@pytest.mark.slow
def test_a_render_round_trips_and_never_reuses_a_name(served, path, tmp_path, melody):
    short = write_wav(tmp_path / "short.wav", melody[:, :SR // 4])  # a short clip: this machine is shared
    host = Host(path, served.port)
    host.connect(tmp_path)
    host.drop(short)
    host.gram.recv(1, ["symbol", "rain"])
    host.press("Render")
    host.pump(lambda: any(a in ("/gramophone/done", "/gramophone/error") for a, _ in host.replies), timeout=120)
    assert host.text().startswith("done: "), host.text()
    result = Path(host.text()[len("done: "):])
    assert result.parent == tmp_path and result.is_file() and re.fullmatch(f"gramophone-{STAMP}\\.wav", result.name)
    before = result.read_bytes()
    host.press("Render")  # a second render gets a new id and a new file name
    first, second = [m for m in host.sim.sent if m[0] == "/gramophone/render"]
    assert first[1] != second[1] and first[4] != second[4] and first[4] == str(result)
    options = A.parse(second[0], second[1:])["options"]
    assert options["strength"] == 1.0 and options["reply_port"] == host.sim.find(
        lambda n: n.name == "udpreceive").state["port"]
    for message in host.sim.sent:  # ping, reply, presets, render: each fits the server's table
        A.parse(message[0], message[1:])
    host.gram.recv(4, ["bang"])  # Cancel
    assert host.sim.sent[-1] == ["/gramophone/cancel", second[1]]
    host.pump(lambda: any(a in ("/gramophone/cancelled", "/gramophone/done") and args[0] == second[1]
                          for a, args in host.replies), timeout=120)
    assert result.read_bytes() == before, "an earlier result is never overwritten"


@pytest.mark.parametrize("path", HOSTS, ids=lambda p: p.name)
@pytest.mark.slow
def test_variations_render_takes_beside_the_result(served, path, tmp_path, melody):
    """variations N (the device: its Takes box; the abstraction: a message on inlet 4) asks for N
    takes; each take's reply reaches the status as take N COUNT PATH, then done names take 1."""
    short = write_wav(tmp_path / "short.wav", melody[:, :SR // 4])
    host = Host(path, served.port)
    host.connect(tmp_path)
    host.drop(short)
    host.gram.recv(1, ["symbol", "rain"])
    if path == DEVICE:
        host.sim.find(lambda n: n.maxclass == "live.numbox" and n.box.get("varname") == "takes").out(0, [2])
    else:
        host.gram.recv(3, ["variations", 2])
    host.press("Render")
    host.pump(lambda: any(a in ("/gramophone/done", "/gramophone/error") for a, _ in host.replies), timeout=120)
    render = [m for m in host.sim.sent if m[0] == "/gramophone/render"][-1]
    assert A.parse(render[0], render[1:])["options"]["variations"] == 2
    takes = [args for a, args in host.replies if a == "/gramophone/take"]
    assert [t[1:3] for t in takes] == [[1, 2], [2, 2]] and all(Path(t[3]).is_file() for t in takes)
    assert re.fullmatch(f"gramophone-{STAMP}-v2\\.wav", Path(takes[1][3]).name)
    assert host.text() == f"done: {takes[0][3]}", host.text()


@pytest.mark.parametrize("path", HOSTS, ids=lambda p: p.name)
def test_recording_goes_to_a_fresh_file_that_becomes_the_clip(path, tmp_path):
    sim = maxsim.Sim(load(path), {"gramophone": load(ABSTRACTION)})
    sim.start()
    gram = sim.find(lambda n: n.name == "subpatch")
    gram.recv(3, ["folder", str(tmp_path)])
    switch = sim.find(lambda n: n.maxclass in ("toggle", "live.text") and n.text in ("", "Capture")
                      and any(d.name == "sel" for c in n.outs for d, _ in c))
    recorder = sim.find(lambda n: n.name == "sfrecord~")
    switch.out(0, [1])
    opened = [m for _, m in recorder.received]
    assert opened[0][:2] == ["open", "wave"] and opened[1] == [1]
    recorded = Path(opened[0][2])
    assert recorded.parent == tmp_path and re.fullmatch(f"gramophone-capture-{STAMP}\\.wav", recorded.name)
    switch.out(0, [0])
    assert recorder.received[-1] == (0, [0])
    sim.find(lambda n: n.maxclass in ("textbutton", "live.text") and n.text == "Render").out(0, [1])
    assert sim.sent[-1][2] == str(recorded), "the recording is what Render sends"


def test_device_renders_the_clip_selected_in_live(tmp_path):
    sim = maxsim.Sim(device_patcher(), {})
    sim.start()
    status = sim.find(lambda n: n.maxclass == "comment" and n.text == "status")
    sim.find(lambda n: n.text == "Render clip").out(0, [1])
    path = sim.find(lambda n: n.name == "live.path" and n.received and n.received[-1][1][-1] == "detail_clip")
    clip = sim.find(lambda n: n.name == "live.object" and any(d.name == "route" and d.text == "route file_path"
                                                               for c in n.outs for d, _ in c))
    path.out(0, ["id", 0])  # Live: nothing selected
    assert status.state["text"].startswith("error: select an audio clip")
    path.out(0, ["id", 7])
    assert clip.received[-2:] == [(1, ["id", 7]), (0, ["get", "file_path"])]
    clip.out(0, ["file_path", str(tmp_path / "clip.wav")])
    assert sim.sent[-1][0] == "/gramophone/render" and sim.sent[-1][2] == str(tmp_path / "clip.wav")


def test_device_inserts_the_result_where_live_allows_it(tmp_path):
    sim = maxsim.Sim(device_patcher(), {})
    sim.start()
    status = sim.find(lambda n: n.maxclass == "comment" and n.text == "status")
    result = str(tmp_path / "gramophone-x.wav")
    sim.reply("/gramophone/done", "gramophone-x", result, 1.0)
    assert status.state["text"] == f"done: {result}"
    sim.find(lambda n: n.text == "Insert").out(0, [1])
    slot_path = sim.find(lambda n: n.name == "live.path" and n.received and
                         n.received[-1][1][-1] == "highlighted_clip_slot")
    slot, check = sorted((n for n in sim.nodes if n.name == "live.object" and
                          any(d.text == "route has_clip" for c in n.outs for d, _ in c)), key=lambda n: n.box["id"])
    slot_path.out(0, ["id", 12])
    assert slot.received[-1] == (0, ["get", "has_clip"]) and check.received[-1] == (1, ["id", 12])
    slot.out(0, ["has_clip", 1])
    assert status.state["text"].startswith("that slot holds a clip")
    slot.out(0, ["has_clip", 0])
    assert slot.received[-1] == (0, ["call", "create_audio_clip", result])
    sim.fire("delay")
    assert check.received[-1] == (0, ["get", "has_clip"])
    check.out(0, ["has_clip", 0])  # Live before 12.0.5, or a MIDI track: nothing was created
    assert status.state["text"].startswith("no clip was created: Insert needs Live 12.0.5")
    check.out(0, ["has_clip", 1])
    assert status.state["text"].startswith("inserted")


def test_help_patch_messages_do_what_the_help_says(tmp_path):
    sim = maxsim.Sim(load(HELP), {"gramophone": load(ABSTRACTION)})
    sim.start()

    def click(text: str, inlet: int | None = None) -> None:
        sim.find(lambda n: n.maxclass == "message" and n.text == text
                 and (inlet is None or n.outs[0][0][1] == inlet)).recv(0, ["bang"])

    click(f"folder {build_max.DEFAULT_FOLDER}")
    click("buffer gramophone-help")  # the sized buffer~ is written to the folder, then used
    buffers = [n for n in sim.nodes if n.name == "buffer~" and n.text.startswith("buffer~ #0-")]
    assert len(buffers) == 1
    (_, named), (_, written) = buffers[0].received
    assert named == ["name", "gramophone-help"] and written[0] == "writewave"
    assert re.fullmatch(f"{build_max.DEFAULT_FOLDER}/gramophone-buffer-{STAMP}\\.wav", written[1])
    click("vinyl")
    click("bang", inlet=3)
    render = sim.sent[-1]
    assert render[0] == "/gramophone/render" and render[2] == written[1] and render[3] == "vinyl"
    click(f"replyport {A.DEFAULT_REPLY_PORT}")
    assert sim.find(lambda n: n.name == "udpreceive").state["port"] == A.DEFAULT_REPLY_PORT
    sim.find(lambda n: n.name == "subpatch").recv(3, ["replyport", A.DEFAULT_REPLY_PORT + 5])
    click("presets")
    click("ping")
    assert sim.find(lambda n: n.name == "udpreceive").state["port"] == A.DEFAULT_REPLY_PORT + 5
    assert sim.sent[-1] == ["/gramophone/ping", A.DEFAULT_REPLY_PORT + 5]
    assert ["/gramophone/reply", A.DEFAULT_REPLY_PORT + 5] in sim.sent and ["/gramophone/presets"] in sim.sent
    for message in sim.sent:
        A.parse(message[0], message[1:])
    printed = sim.find(lambda n: n.text == "print gramophone-error")
    click("bang", inlet=4)
    assert sim.sent[-1] == ["/gramophone/cancel", render[1]]
    sim.find(lambda n: n.name == "route" and n.text.startswith("route bang")).recv(0, ["nonsense", 1])
    assert printed.received[-1] == (0, ["bad_message", "nonsense", 1])
