"""The Pure Data client (max_patches/pd: the [gramophone] abstraction and its help patch) run in a
real `pd -nogui -noaudio` against the real server: an array in, an array out, as the README and
the help patch show it, and user errors arriving in Pd as readable messages."""
from __future__ import annotations

import json
import re
import shutil
import socket
import subprocess
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from helpers import write_wav
from gramophone.bridge import addresses as A
from gramophone.bridge.osc_client import free_port
from gramophone.engine.audio_io import read_audio

ROOT = Path(__file__).resolve().parents[1]
PD_DIR = ROOT / "max_patches" / "pd"
README = ROOT / "max_patches" / "README.md"
#: Objects Pd vanilla 0.51 has; the client may use no others (no externals to install).
VANILLA = {"inlet", "outlet", "route", "t", "list", "soundfiler", "f", "+", "*", ">", "oscformat", "oscparse",
           "netsend", "fudiparse", "delay", "spigot", "sel", "symbol", "loadbang", "print", "table", "openpanel", "bng", "tabplay~",
           "dac~", "gramophone"}

needs_pd = pytest.mark.skipif(shutil.which("pd") is None,
                              reason="Pure Data (Debian puredata-core) is not installed; .ci/run installs it")


def pd_records(text: str) -> list[str]:
    return [r.strip() for r in re.split(r"(?<!\\);\n", text) if r.strip()]


def boxes(text: str) -> list[list[str]]:
    """Each box's record as words: kind, x, y, text..."""
    return [r.split()[1:] for r in pd_records(text) if r.startswith("#X ") and not r.startswith("#X connect")]


def test_generated_pd_files_are_current():
    from gramophone.clients import build_pd

    for rel, data in build_pd.files().items():
        assert (PD_DIR.parent / rel).read_bytes() == data, \
            f"{rel} is stale: run python -m gramophone.clients.build_pd --out max_patches"


@pytest.mark.parametrize("name", ["gramophone.pd", "gramophone-help.pd"])
def test_pd_patch_structure(name):
    text = (PD_DIR / name).read_text()
    items = boxes(text)
    for record in pd_records(text):
        if record.startswith("#X connect"):
            src, _, dst, _ = map(int, record.split()[2:6])
            assert src < len(items) and dst < len(items), record
    objects = {words[3] for words in items if words[0] == "obj"}
    assert objects <= VANILLA, f"not vanilla: {objects - VANILLA}"
    if name == "gramophone.pd":
        texts = " ".join(" ".join(words[3:]) for words in items)
        for address in ("render", "cancel", "presets"):
            assert f"oscformat gramophone {address}" in texts and f"{A.PREFIX}/{address}" in A.BY_PATH
        route = next(w for w in items if w[3:5] == ["route", "queued"])
        for reply in route[4:]:  # /gramophone/presets/end goes on through [route end]
            path = f"{A.PREFIX}/{reply}" + ("/end" if reply == "presets" else "")
            assert path in A.REPLY_BY_PATH, reply
        assert ["route", "end"] in [w[3:] for w in items]


class PdSession:
    """A real `pd -nogui -noaudio` (not -batch: its scheduler never polls sockets, so no reply
    would be read) with a small driver patch: the test sends `RECEIVER MESSAGE;` over TCP and the
    driver forwards it to that receiver, as a click or a typed message would arrive."""

    DRIVER = "\n".join([
        "#N canvas 0 50 400 300 12;",
        "#X obj 10 10 netreceive {port};",  # 0
        "#X obj 10 40 list;",               # 1: any message -> a list: RECEIVER MESSAGE...
        "#X obj 10 70 t a a;",              # 2
        "#X obj 10 100 list split 1;",      # 3: (right first) the receiver's name -> [send]'s right inlet
        "#X obj 150 100 list split 1;",     # 4: then the message
        "#X obj 150 130 list trim;",        # 5
        "#X obj 10 160 send;",              # 6
        "#X connect 0 0 1 0;", "#X connect 1 0 2 0;", "#X connect 2 1 3 0;", "#X connect 3 0 6 1;",
        "#X connect 2 0 4 0;", "#X connect 4 1 5 0;", "#X connect 5 0 6 0;", ""])

    def __init__(self, folder: Path, *patches: Path) -> None:
        port = free_port()
        (folder / "driver.pd").write_text(self.DRIVER.format(port=port))
        opens = [arg for p in (folder / "driver.pd", *patches) for arg in ("-open", str(p))]
        self.lines: list[str] = []
        self.proc = subprocess.Popen(["pd", "-nogui", "-noaudio", "-nomidi", "-stderr", "-path", str(PD_DIR), *opens],
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        threading.Thread(target=self._read, daemon=True).start()
        deadline = time.monotonic() + 20
        while True:
            try:
                self.sock = socket.create_connection(("127.0.0.1", port), timeout=1)
                break
            except OSError:
                if time.monotonic() > deadline or self.proc.poll() is not None:
                    raise RuntimeError("pd did not start:\n" + self.log())
                time.sleep(0.1)

    def _read(self) -> None:
        for line in self.proc.stdout:
            self.lines.append(line.rstrip("\n"))

    def log(self) -> str:
        return "\n".join(self.lines)

    def send(self, receiver: str, message: str) -> None:
        self.sock.sendall(f"{receiver} {message};\n".encode())

    def wait(self, pattern: str, timeout: float = 30, after: int = 0) -> re.Match:
        """The first printed line (from line ``after`` on) matching ``pattern``."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.proc.poll() is None:
            for line in list(self.lines)[after:]:
                match = re.search(pattern, line)
                if match:
                    return match
            time.sleep(0.05)
        raise AssertionError(f"pd printed no line matching {pattern!r}:\n{self.log()}")

    def mark(self) -> int:
        return len(self.lines)

    def stop(self) -> None:
        self.sock.close()
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def readme_pd_section() -> str:
    text = README.read_text()
    return text[text.index("## Pure Data"):text.index("## Troubleshooting")]


@pytest.mark.external
@needs_pd
def test_readme_steps_render_an_array(served, tmp_path, melody):
    """The README's five steps as a patch: [table src] [table dst], a file read into src with
    soundfiler, [gramophone src dst /tmp], `render rain iterations 3`, and dst holds the result."""
    section = readme_pd_section()
    clip, result = tmp_path / "clip.wav", tmp_path / "pd-result.wav"
    documented = ["[table src]", "[table dst]", "[read -resize /path/to/clip.wav src(", "[soundfiler]",
                  "[gramophone src dst /tmp]", "[render rain iterations 3(", "[print gramophone]", "[tabplay~ dst]"]
    for box in documented:
        assert f"`{box}`" in section, box
    patch = "\n".join([
        "#N canvas 0 50 600 400 12;",
        "#X obj 400 10 table src;",                                   # 0
        "#X obj 400 40 table dst;",                                   # 1
        f"#X msg 10 10 read -resize {clip} src;",                     # 2 (the README's path, filled in)
        "#X obj 10 40 soundfiler;",                                   # 3
        "#X obj 10 130 gramophone src dst /tmp;",                     # 4
        "#X msg 10 100 render rain iterations 3;",                    # 5
        "#X obj 10 160 print gramophone;",                            # 6
        "#X obj 200 10 r click-read;", "#X obj 200 70 r click-render;",  # 7, 8
        "#X obj 200 100 r to-gramophone;",                            # 9
        f"#X msg 200 190 write -wave -bytes 4 {result} dst;",         # 10: the test reads dst back out
        "#X obj 200 220 soundfiler;", "#X obj 400 190 r save-dst;",   # 11, 12
        "#X obj 10 70 print loaded;", "#X obj 200 250 print saved;",  # 13, 14
        "#X connect 2 0 3 0;", "#X connect 4 0 6 0;", "#X connect 5 0 4 0;", "#X connect 7 0 2 0;",
        "#X connect 8 0 5 0;", "#X connect 9 0 4 0;", "#X connect 12 0 10 0;", "#X connect 10 0 11 0;",
        "#X connect 3 0 13 0;", "#X connect 11 0 14 0;", ""])
    (tmp_path / "readme.pd").write_text(patch)
    pd = PdSession(tmp_path, tmp_path / "readme.pd")
    try:
        pd.send("to-gramophone", f"connect localhost {served.port}")  # the test server's port
        pd.send("click-read", "bang")
        assert int(pd.wait(r"^loaded: (\d+)")[1]) == melody.shape[1]
        pd.send("click-render", "bang")
        done = pd.wait(r"^gramophone: done (/tmp/gramophone-\d+-out\.wav)$", timeout=120)
        assert "gramophone: queued 0" in pd.log() and "gramophone: progress 1" in pd.log()
        pd.send("save-dst", "bang")
        pd.wait(r"^saved: ")
        out, _ = read_audio(result)
        assert out.shape == melody.shape
        assert np.abs(out).max() > 0.01 and not np.allclose(out, melody, atol=1e-3)
        assert Path(done[1]).exists()
        # job ids are $0*10000 + n, unique among the objects of a Pd session ($0 starts at 1000)
        assert re.search(r"job 1\d{7} done", served.output()), served.output()
    finally:
        pd.stop()


@pytest.mark.external
@needs_pd
def test_help_patch_renders_and_reports_errors(served, tmp_path, melody):
    """The help patch's own boxes, clicked in the order of its numbered steps, then the user
    errors: each arrives in Pd as a readable `error CODE MESSAGE`."""
    help_patch = PD_DIR / "gramophone-help.pd"
    items = boxes(help_patch.read_text())
    index = {" ".join(words[3:]).replace("\\", ""): i for i, words in enumerate(items)}
    pd = PdSession(tmp_path, help_patch)
    try:
        canvas = "pd-gramophone-help.pd"
        for label in ("read -resize $1 src", "presets", "render rain", "cancel", "gramophone src dst /tmp"):
            name = "click-" + re.sub(r"\W+", "-", label)
            pd.send(canvas, f"obj 600 {20 * len(index)} r {name}")  # a receiver inside the help patch ...
            pd.send(canvas, f"connect {len(items)} 0 {index[label]} 0")  # ... wired to that box
            items.append(["obj", "600", "0", "r", name])
        gramophone = "click-gramophone-src-dst-tmp"
        pd.send(gramophone, f"connect localhost {served.port}")  # the test server's port

        # step 2: what openpanel gives the read box when a file is picked
        write_wav(tmp_path / "picked.wav", melody)
        pd.send("click-read-resize-1-src", f"symbol {tmp_path / 'picked.wav'}")
        # step 3: presets, then a render; step 5: dst holds it
        pd.send("click-presets", "bang")
        pd.wait(r"^gramophone: preset rain$")
        assert int(pd.wait(r"^gramophone: presets-end (\d+)$")[1]) >= 8
        mark = pd.mark()
        pd.send("click-render-rain", "bang")
        pd.wait(r"^gramophone: done /tmp/gramophone-\d+-out\.wav$", timeout=120, after=mark)

        # strength over time and two takes: the help box as shown, on this test's files
        swell = next(label for label in index if label.startswith("render-file /tmp/in.wav rain /tmp/in-swell.wav"))
        assert "strength 0:0/2:1 variations 2" in swell
        mark = pd.mark()
        pd.send(gramophone, swell.replace("/tmp/in.wav", str(tmp_path / "picked.wav"))
                .replace("/tmp/in-swell.wav", str(tmp_path / "in-swell.wav")) + " iterations 3")
        takes = [str(tmp_path / f"in-swell-v{k}.wav") for k in (1, 2)]
        pd.wait(rf"^gramophone: done {re.escape(takes[0])}$", timeout=120, after=mark)
        for k, path in enumerate(takes, start=1):
            assert re.search(rf"^gramophone: take {k} 2 {re.escape(path)}$", pd.log(), re.M), pd.log()
            record = json.loads(Path(path + ".json").read_text())
            assert record["strength"] == "0:0, 2:1" and record["seed"] == k - 1

        # cancel: a long render, stopped
        mark = pd.mark()
        pd.send(gramophone, "render rain iterations 5000")
        pd.wait(r"^gramophone: queued 0$", after=mark)
        pd.send("click-cancel", "bang")
        pd.wait(r"^gramophone: cancelled$", after=mark)

        # user errors, as messages a patch can print or route
        mark = pd.mark()
        pd.send(gramophone, "render no-such-preset")
        pd.wait(r"^gramophone: error no_preset no preset named 'no-such-preset' known: drone fire .*rain", after=mark)
        pd.send(gramophone, f"render-file /gramophone-not-allowed/in.wav rain {tmp_path}/out.wav")
        pd.wait(r"^gramophone: error forbidden_path content path is outside the allowed folders .*: "
                r"/gramophone-not-allowed/in\.wav$", after=mark)
        pd.send(gramophone, "render-file /tmp/only-one-argument")
        pd.wait(r"^gramophone: error bad_args render-file needs IN-PATH PRESET OUT-PATH$", after=mark)
        # an array that cannot be written: an error, and no request with a stale file
        requests = served.output().count("/gramophone/render ")
        pd.send(canvas, "obj 600 500 gramophone no-such-array dst /tmp")
        pd.send(canvas, f"connect {len(items)} 0 {index['print gramophone']} 0")
        pd.send(canvas, "obj 600 530 r click-missing")
        pd.send(canvas, f"connect {len(items) + 1} 0 {len(items)} 0")
        pd.send("click-missing", "render rain")
        pd.wait(r"^gramophone: error write_failed the input array is empty or could not be written", after=mark)
        time.sleep(0.5)
        assert served.output().count("/gramophone/render ") == requests
        pd.send(gramophone, f"connect localhost {free_port()}")  # nobody listens there
        pd.send("click-presets", "bang")
        pd.wait(r"^gramophone: error timeout no reply from the Gramophone server within 5 s: "
                r"is gramophone serve running\?$", timeout=15, after=mark)
        assert "couldn't create" not in pd.log(), pd.log()  # every box of the help patch and abstraction exists
    finally:
        pd.stop()
