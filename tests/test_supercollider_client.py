"""The SuperCollider client (max_patches/supercollider/Gramophone, a Quark) run as its README and
help file show it: installed with Quarks.install, then every code block evaluated in a real sclang
against a real scsynth (on JACK's dummy driver) and the real server. Buffer in, Buffer out."""
from __future__ import annotations

import os
import re
import shutil
import shlex
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import numpy as np
import pytest

from helpers import write_wav
from gramophone.bridge.osc_client import free_port
from gramophone.engine.audio_io import read_audio

ROOT = Path(__file__).resolve().parents[1]
QUARK = ROOT / "max_patches" / "supercollider" / "Gramophone"
README = ROOT / "max_patches" / "README.md"
SCHELP = QUARK / "HelpSource" / "Classes" / "Gramophone.schelp"
#: The only edits made to the documented code: where this checkout is, and the test server's port.
DOC_PATH, DOC_PORT = "/path/to/gramophone", "7770"

needs_sc = pytest.mark.skipif(
    not all(shutil.which(p) for p in ("sclang", "scsynth", "jackd")),
    reason="needs SuperCollider and JACK (Debian supercollider-language, supercollider-server, jackd2); "
           ".ci/run installs them")


def readme_blocks() -> list[str]:
    """The ```supercollider blocks of the README's SuperCollider section, unindented."""
    text = README.read_text()
    section = text[text.index("## SuperCollider"):text.index("## Pure Data")]
    blocks = re.findall(r"^( *)```supercollider\n(.*?)^\1```", section, re.S | re.M)
    return [re.sub(rf"^{indent}", "", body, flags=re.M) for indent, body in blocks]


def schelp_examples() -> list[str]:
    """The code:: blocks of the help file's examples:: section."""
    examples = SCHELP.read_text().split("examples::", 1)[1]
    return re.findall(r"^code::\n(.*?)^::", examples, re.S | re.M)


def as_run(code: str, port: int) -> str:
    return code.replace(DOC_PATH, str(ROOT)).replace(DOC_PORT, str(port))


@pytest.fixture
def jack(tmp_path):
    """A JACK server on the dummy driver (no audio device needed), under a name of its own so
    that parallel runs never share one; scsynth finds it through JACK_DEFAULT_SERVER."""
    name = f"gramophone-test-{uuid.uuid4().hex[:8]}"
    log = open(tmp_path / "jackd.log", "w+")
    proc = subprocess.Popen(["jackd", "-n", name, "--no-realtime", "-d", "dummy", "-r", "48000"],
                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        waited = subprocess.run(["jack_wait", "-s", name, "-w", "-t", "20"], capture_output=True, text=True,
                                timeout=30)
        if waited.returncode != 0 or proc.poll() is not None:
            log.seek(0)
            raise RuntimeError(f"jackd did not start: {waited.stdout}{waited.stderr}{log.read()}")
        yield name
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


#: Evaluates STEPS/step-N.scd in order, each when it appears, and says so first.
LOOP = """var i = 0;
PRELUDE
Routine {
    loop {
        var path = "STEPS/step-%.scd".format(i);
        if(File.exists(path)) {
            "<<step % >>".format(i).postln;
            try { thisProcess.interpreter.executeFile(path) } { |error| error.reportError };
            i = i + 1
        };
        0.05.wait
    }
}.play(AppClock);
"""


class Sclang:
    """A real sclang that evaluates code the way a user does in the IDE: one block at a time,
    the next when the previous one has shown its result. Blocks are handed over as files that a
    small loop (on AppClock, like the IDE's evaluation) executes in order."""

    def __init__(self, home: Path, env: dict, prelude: str = "") -> None:
        self.dir = home / "sclang-steps"
        self.dir.mkdir()
        self.step = 0
        self.lines: list[str] = []
        loop = LOOP.replace("STEPS", str(self.dir)).replace("PRELUDE", prelude)
        (self.dir / "loop.scd").write_text(loop)
        # stdbuf: sclang posts through stdio, which holds a pipe's output back until it exits.
        self.proc = subprocess.Popen(["stdbuf", "-oL", "sclang", str(self.dir / "loop.scd")], stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, text=True, env=env, cwd=home, start_new_session=True)
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.proc.stdout:
            self.lines.append(line.rstrip("\n"))

    def log(self) -> str:
        return "\n".join(self.lines)

    def run(self, code: str, until: str, timeout: float = 30) -> re.Match:
        """Evaluate ``code``; wait for a posted line matching ``until`` (after this step began)."""
        marker = f"<<step {self.step} >>"
        self._hand_over(code)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.proc.poll() is None:
            lines = list(self.lines)
            if marker in lines:
                for line in lines[lines.index(marker):]:
                    match = re.search(until, line)
                    if match:
                        return match
            time.sleep(0.05)
        raise AssertionError(f"no line matching {until!r} after evaluating:\n{code}\n--- sclang:\n{self.log()}")

    def _hand_over(self, code: str) -> None:
        tmp = self.dir / f"tmp-{self.step}.scd"
        tmp.write_text(code)
        tmp.rename(self.dir / f"step-{self.step}.scd")  # atomic: the loop never sees half a file
        self.step += 1

    def stop(self) -> None:
        """Quit scsynth and sclang; if they hang, end the process group sclang started."""
        if self.proc.poll() is None:
            self._hand_over("s.quit({ 0.exit }, { 0.exit });")
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()


def sclang_env(home: Path, jack_name: str) -> dict:
    return dict(os.environ, HOME=str(home), JACK_DEFAULT_SERVER=jack_name, QT_QPA_PLATFORM="offscreen",
                QTWEBENGINE_DISABLE_SANDBOX="1")  # Qt WebEngine refuses to start as root without it


def test_documented_code_blocks_are_the_tested_ones():
    readme, examples = readme_blocks(), schelp_examples()
    assert len(readme) == 3 and readme[0].startswith("Quarks.install(")
    assert any("progress:" in b and "g.render(" in b for b in readme + examples)
    for call in ("g.presets", "g.renderFile(", "g.cancel(", "g.free"):
        assert any(call in b for b in readme) and any(call in b for b in examples), call


def test_readme_command_finds_the_installed_client_folder():
    section = README.read_text().split("## SuperCollider", 1)[1]
    command = re.search(r'`(python -c "import gramophone\.clients[^`]*)`', section)[1]
    out = subprocess.run([sys.executable, *shlex.split(command)[1:]], capture_output=True, text=True, check=True)
    folder = Path(out.stdout.strip())
    assert (folder / "supercollider" / "Gramophone" / "Gramophone.quark").is_file()
    assert (folder / "pd" / "gramophone.pd").is_file()


def test_quark_file_names_the_package_version():
    from gramophone import __version__

    quark = (QUARK / "Gramophone.quark").read_text()
    assert f'version: "{__version__}"' in quark and 'schelp: "Gramophone"' in quark


@pytest.mark.external
@needs_sc
def test_supercollider_class_renders_a_buffer_as_documented(served, tmp_path, melody, jack):
    home = tmp_path / "home"
    (home / "Music").mkdir(parents=True)
    write_wav(home / "Music" / "in.wav", melody)
    env = sclang_env(home, jack)
    readme = [as_run(b, served.port) for b in readme_blocks()]
    examples = [as_run(b, served.port) for b in schelp_examples()]

    # README step 2: install the Quark, then restart sclang (what "recompile" does).
    install = home / "install.scd"
    install.write_text(readme[0] + "\n0.exit;\n")
    proc = subprocess.run(["sclang", str(install)], capture_output=True, text=True, env=env, cwd=home, timeout=60)
    assert "Gramophone installed" in proc.stdout, proc.stdout + proc.stderr
    assert str(QUARK) in (home / ".config" / "SuperCollider" / "sclang_conf.yaml").read_text()

    # scsynth on a free port, so parallel runs never meet (the documented s.boot is unchanged).
    started = time.time()
    sc = Sclang(home, env, prelude=f's.addr = NetAddr("127.0.0.1", {free_port()});')
    try:
        # Before s.boot: a Buffer on a server that is not running is a readable error, not a hang.
        sc.run(f'(var x = Gramophone("127.0.0.1", {served.port}); x.render(Buffer(s, 100), "rain"); x.free)',
               r"WARNING: Gramophone: the Buffer's server is not running: boot it first \(s\.boot\) \(server_not_running\)")
        resources = sc.run('("resourceDir " ++ Platform.resourceDir).postln;', r"^resourceDir (.+)$")[1]
        original, _ = read_audio(Path(resources) / "sounds" / "a11wlk01.wav")
        # README steps 3-4: Buffer in, Buffer out, with progress: and error: keywords.
        match = sc.run(readme[1], r"^Buffer\((\d+), (\d+), 1, 44100\.0", timeout=120)
        bufnum, frames = int(match[1]), int(match[2])
        assert frames == original.shape[1]
        assert re.search(r"^progress 0\.0$", sc.log(), re.M) and re.search(r"^progress 1\.0$", sc.log(), re.M)
        # Read the new Buffer back out of scsynth: it holds the server's render, not the input.
        check = tmp_path / "rendered.wav"
        sc.run(f'fork {{ Buffer.cachedBufferAt(s, {bufnum}).write("{check}", "wav", "float"); s.sync; '
               f'"written".postln }};', r"^written$")
        rendered, rate = read_audio(check)
        assert rate == 44100 and rendered.shape == original.shape
        assert np.abs(rendered).max() > 0.01 and not np.allclose(rendered, original, atol=1e-3)
        leftovers = [p for p in Path(tempfile.gettempdir()).glob("gramophone-sc*.wav") if p.stat().st_mtime >= started]
        assert not leftovers, "render deletes its temporary files"

        # README step 5, one line at a time.
        presets, render_file, cancel, takes, free = readme[2].strip().splitlines()
        names = sc.run(presets, r"^\[ (.*) \]$")[1].split(", ")
        assert {"rain", "fire"} <= set(names)
        sc.run(render_file, rf"^{re.escape(str(home / 'Music' / 'in-fire.wav'))}$", timeout=120)
        data, _ = read_audio(home / "Music" / "in-fire.wav")
        assert data.shape == melody.shape
        # "stops a job that still runs": evaluated together with the renderFile line.
        (home / "Music" / "in-fire.wav").unlink()
        sc.run(render_file + "\n" + cancel, r"WARNING: Gramophone: cancelled \(cancelled\)")
        assert not (home / "Music" / "in-fire.wav").exists()
        # An envelope strength and two takes: take: posts each as it is written.
        second = sc.run(takes, r"^take 2 of 2: (.+)$", timeout=180)[1]
        first = re.search(r"^take 1 of 2: (.+)$", sc.log(), re.M)[1]
        assert [first, second] == [str(home / "Music" / f"in-swell-v{k}.wav") for k in (1, 2)]
        import json as _json

        for k, path in enumerate((first, second)):
            record = _json.loads(Path(path + ".json").read_text())
            assert record["strength"] == "0:0, 2:1" and record["seed"] == k

        # Cancelled before its Buffer was even written: nothing reaches the server.
        requests = served.output().count("/gramophone/render ")
        sc.run('(var id = g.render(b, "rain", error: { |code| ("early " ++ code).postln }); g.cancel(id))',
               r"^early cancelled$")
        time.sleep(0.5)
        assert served.output().count("/gramophone/render ") == requests

        # The help file's examples: the same first render, then errors as readable messages.
        first, calls, errors, done = examples
        assert first.strip() == readme[1].strip(), "the help file's first render is the README's"
        for line in calls.strip().splitlines():
            assert line.strip() in readme[2], line
        unknown, forbidden, other_port, no_server = errors.strip().splitlines()
        sc.run(unknown, r"WARNING: Gramophone: no preset named 'no-such-preset'; known: .*rain.* \(no_preset\)")
        sc.run(forbidden, r"WARNING: Gramophone: content path is outside the allowed folders .* \(forbidden_path\)")
        sc.run(other_port + "\n'created'.postln;", r"^created$")
        sc.run(no_server, r"^\[ timeout, no reply from the Gramophone server at 127\.0\.0\.1:7779 within 5 s: "
                          r"is `gramophone serve` running there\? \]$", timeout=15)

        # The help file parses, and every method it documents exists (SCDoc warns otherwise).
        mark = len(sc.lines)
        sc.run(f'(var doc = SCDoc.parseFileFull("{SCHELP}"); SCDocHTMLRenderer.renderToFile("{tmp_path}/help.html", '
               f'SCDocEntry(doc, "Classes/Gramophone"), doc); "rendered".postln)', r"^rendered$", timeout=60)
        warnings = [line for line in sc.lines[mark:] if "WARNING" in line or "ERROR" in line]
        assert not warnings and "method-name" in (tmp_path / "help.html").read_text(), sc.log()

        # free removes the responders (they survive Cmd-period, so only free removes them).
        count = ('OSCFunc.allFuncProxies.values.flat.select { |f| f.path.asString.beginsWith("/gramophone") }'
                 '.size.postln;')
        assert sc.run("CmdPeriod.run;\n" + count, r"^(\d+)$")[1] == "16"  # g and h
        assert sc.run(free + "\n" + count, r"^(\d+)$")[1] == "8"
        assert done.strip().splitlines()[0] == free.split(";")[0] + ";"
        assert sc.run(done + "\n" + count, r"^(\d+)$")[1] == "0"
        assert "ERROR" not in sc.log(), sc.log()
    finally:
        sc.stop()
