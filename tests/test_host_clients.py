"""Host clients in max_patches/: the Max patches are checked box by box against the server's
address table. The SuperCollider and Pure Data clients have their own files
(test_supercollider_client.py, test_puredata_client.py)."""
import json
from pathlib import Path

import pytest

from gramophone.bridge import addresses as A

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
    from gramophone.clients import build_max

    for name, m4l in (("gramophone.maxpat", False), ("gramophone_m4l.maxpat", True)):
        assert json.loads((PATCHES / name).read_text()) == build_max.build(m4l).json(), \
            f"{name} is stale: run python -m gramophone.clients.build_max"
