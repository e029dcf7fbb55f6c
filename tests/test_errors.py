"""The one error table: every code the source uses is in it, docs/errors.md shows it, every error is a
GramophoneError, and each code is triggered at least once (through the real engine, command line
and `gramophone serve` where practical)."""
from __future__ import annotations

import ast
import json
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from gramophone.bridge import addresses as A
from gramophone.bridge.addresses import OscArgError, parse
from gramophone.bridge.cli import main
from gramophone.bridge.osc_client import Client, free_port
from gramophone.engine import RenderSettings, analyse_style, get_model
from gramophone.engine.errors import BY_CODE, ERRORS, GramophoneError, markdown

from helpers import SR, write_wav

ROOT = Path(__file__).resolve().parents[1]
SOURCE_DIRS = ("engine", "bridge", "gramophone")


def codes_in_source() -> dict[str, str]:
    """Every error code the source raises or sends, with where: the second argument (or ``code=``)
    of a call to a ``…Error`` class, and the string that follows an ``"error"`` reply name (after
    at most one id, and before a message) in a call or tuple."""
    found: dict[str, str] = {}
    for folder in SOURCE_DIRS:
        for path in sorted((ROOT / folder).rglob("*.py")):
            tree = ast.parse(path.read_text(), str(path))
            for node in ast.walk(tree):
                where = f"{path.relative_to(ROOT)}:{getattr(node, 'lineno', 0)}"
                if isinstance(node, ast.Call):
                    name = getattr(node.func, "id", getattr(node.func, "attr", ""))
                    if name.endswith("Error"):
                        candidates = node.args[1:2] + [k.value for k in node.keywords if k.arg == "code"]
                        found.update({c.value: where for c in candidates if _is_str(c)})
                    items = node.args
                elif isinstance(node, ast.Tuple):
                    items = node.elts
                else:
                    continue
                for i, item in enumerate(items):
                    if _is_str(item) and item.value == "error":  # then [id,] code, message
                        following = [j for j in range(i + 1, min(i + 3, len(items) - 1))
                                     if _is_str(items[j]) and items[j].value]
                        if following:
                            found[items[following[0]].value] = where
    return found


def _is_str(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant) and isinstance(node.value, str)


@pytest.mark.slow
def test_every_code_in_the_source_is_in_the_table():
    found = codes_in_source()
    assert len(found) >= 30, found  # the scan itself works
    missing = {code: where for code, where in found.items() if code not in BY_CODE}
    assert not missing, f"add these codes to engine/errors.py ERRORS: {missing}"


def test_table_entries_are_complete_and_unique():
    assert len(BY_CODE) == len(ERRORS)
    for e in ERRORS:
        assert e.code.isidentifier() and e.code.islower() and e.when and e.next, e


def test_docs_show_the_error_table(capsys):
    assert main(["errors"]) == 0
    assert capsys.readouterr().out.strip() == markdown()
    doc = (ROOT / "docs" / "errors.md").read_text()
    assert markdown() in doc, "regenerate the error table in docs/errors.md: gramophone errors"


def test_osc_argument_errors_are_gramophone_errors():
    with pytest.raises(GramophoneError) as err:
        parse("/gramophone/render", ["only-an-id"])
    assert isinstance(err.value, OscArgError) and err.value.code == "bad_args"


def test_the_command_line_names_the_code_and_what_to_do(tmp_path, capsys):
    assert main(["render", str(tmp_path / "missing.wav"), "--preset", "rain", "-o", str(tmp_path / "o.wav")]) == 2
    line = capsys.readouterr().err.strip()
    assert line.startswith("gramophone: error: no such file") and f"[not_found: {BY_CODE['not_found'].next}]" in line


# ---- each code, triggered ------------------------------------------------------------------

class Server:
    """A real `gramophone serve` with a 1-job queue and a 1 s clip limit, and an OSC client."""

    def __init__(self, folder: Path) -> None:
        self.folder, self.port = folder, free_port()
        self.log = open(folder / "server.log", "w+")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "gramophone", "--preset-dir", str(folder / "user"), "serve", "--port",
             str(self.port), "--reply-port", "0", "--allow-dir", str(folder), "--queue", "1", "--max-seconds", "1"],
            cwd=folder, stdout=self.log, stderr=subprocess.STDOUT)
        self.client = Client(("127.0.0.1", self.port))
        deadline = time.monotonic() + 120
        while True:
            try:
                self.client.request("/gramophone/ping", reply="/gramophone/pong", timeout=0.5)
                return
            except TimeoutError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    self.log.seek(0)
                    raise RuntimeError(f"server did not start: {self.log.read()}")

    def error(self, address: str, *args, raw: bytes | None = None) -> str:
        """Send a request; the code of the error reply it gets."""
        self.client.received.clear()
        if raw is None:
            self.client.send(address, *args)
        else:
            self.client.send_raw(raw)
        return self.client.wait_for("/gramophone/error", timeout=60)[1]

    def stop(self) -> None:
        self.client.close()
        self.proc.kill()
        self.proc.wait()
        self.log.close()


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("errors")
    rng = np.random.default_rng(0)
    write_wav(folder / "short.wav", 0.1 * rng.standard_normal((1, SR // 2)).astype(np.float32))
    write_wav(folder / "long.wav", 0.1 * rng.standard_normal((1, 2 * SR)).astype(np.float32))
    return folder


@pytest.fixture(scope="module")
def server(folder):
    srv = Server(folder)
    yield srv
    srv.stop()


def raised(fn, *args, **kwargs) -> str:
    with pytest.raises(GramophoneError) as err:
        fn(*args, **kwargs)
    return err.value.code


def cli_code(argv: list[str], capsys) -> str:
    assert main(argv) == 2
    return capsys.readouterr().err.rsplit("[", 1)[1].split(":")[0]


def _server_codes(server: Server, folder: Path) -> dict[str, str]:
    short, out = str(folder / "short.wav"), str(folder / "o.wav")
    codes = {
        "malformed": server.error("", raw=b"not OSC at all"),
        "unknown_address": server.error("/gramophone/nope"),
        "bad_args": server.error("/gramophone/render", "j"),
        "bad_path": server.error("/gramophone/render", "j", "short.wav", "rain", out),
        "forbidden_path": server.error("/gramophone/render", "j", "/etc/hostname", "rain", out),
        "too_long": server.error("/gramophone/render", "j", str(folder / "long.wav"), "rain", out),
        "unknown_job": server.error("/gramophone/cancel", "nobody"),
    }
    server.client.send("/gramophone/render", "a", short, "rain", str(folder / "a.wav"), "iterations", 10_000)
    server.client.send("/gramophone/render", "b", short, "rain", str(folder / "b.wav"), "iterations", 10_000)
    codes["duplicate_id"] = server.error("/gramophone/render", "a", short, "rain", str(folder / "c.wav"))
    codes["busy"] = server.error("/gramophone/render", "c", short, "rain", str(folder / "c.wav"))
    for job in ("b", "a"):
        server.client.send("/gramophone/cancel", job)
    return codes


def _preset_file_codes(folder: Path) -> dict[str, str]:
    from gramophone.engine.preset_format import FORMAT, load

    garbage = folder / "garbage.gpreset"
    garbage.write_bytes(b"not a zip")
    old = folder / "old.gpreset"
    with zipfile.ZipFile(old, "w") as z:
        z.writestr("preset.json", json.dumps({"format": FORMAT, "format_version": 999}))
    return {"bad_preset": raised(load, garbage), "preset_version": raised(load, old)}


@pytest.mark.slow
def test_each_code_is_triggered(server, folder, tmp_path, capsys, kernel_model, monkeypatch):
    from gramophone.engine import sidecar
    from gramophone.engine.recorded_style import restore_style
    from gramophone.engine.audio_io import check_clip, check_output_path, read_audio, write_audio
    from gramophone.engine.pipeline import style_from_files
    from gramophone.engine.preset_format import check_name
    from gramophone.engine.preset_store import PresetStore
    from gramophone.engine.device import resolve_device

    codes = _server_codes(server, folder)
    codes.update(_preset_file_codes(tmp_path))
    short = str(folder / "short.wav")
    text = tmp_path / "notes.txt"
    text.write_text("not audio")
    sf.write(str(tmp_path / "empty.wav"), np.zeros((0, 1), np.float32), SR)
    sf.write(str(tmp_path / "low.wav"), np.zeros((4000, 1), np.float32), 4000)
    store = PresetStore(tmp_path / "user")
    weights = tmp_path / "w.pt"
    weights.write_bytes(b"not a state dict")

    codes.update({
        "not_found": raised(read_audio, tmp_path / "missing.wav"),
        "not_audio": raised(read_audio, text),
        "empty": raised(read_audio, tmp_path / "empty.wav"),
        "bad_rate": raised(read_audio, tmp_path / "low.wav"),
        "bad_channels": raised(check_clip, np.zeros((9, 100), np.float32), SR),
        "bad_samples": raised(check_clip, np.full((1, 100), np.nan, np.float32), SR),
        "bad_output": raised(check_output_path, tmp_path / "out.txt"),
        "write_failed": raised(write_audio, tmp_path / "no-such-folder" / "o.wav", np.zeros((1, 10), np.float32), SR),
        "bad_parameter": raised(RenderSettings(strength=2.0).validated),
        "bad_model": raised(get_model, "nope"),
        "no_weights": raised(get_model, "vgg19"),
        "bad_weights": raised(get_model, "soundnet", weights_path=weights),
        "weights_mismatch": raised(get_model, "soundnet", weights_path=weights, weights="0" * 64),
        "no_style": raised(style_from_files, [], kernel_model),
        "silent_style": raised(analyse_style, [(np.zeros((1, SR), np.float32), SR)], kernel_model),
        "style_too_short": raised(analyse_style, [(np.ones((1, 64), np.float32), SR)], kernel_model),
        "no_preset": raised(store.load, "nope"),
        "bad_name": raised(check_name, "../escape"),
        "read_only": raised(store.delete, "rain"),
        "bad_sidecar": raised(sidecar.read, text),
        "model_mismatch": cli_code(["render", short, "--preset", "rain", "--model", "random", "-o",
                                    str(tmp_path / "o.wav")], capsys),
        "bad_input": cli_code(["serve", "--allow-dir", str(tmp_path / "no-such-folder")], capsys),
    })
    preset = store.load("rain")
    preset.name = "mine"
    store.save(preset)
    codes["exists"] = raised(store.save, preset)
    record = {"style": {"preset": "rain", "stats_sha256": "0" * 64}, "model": {"name": "kernel"}}
    codes["style_changed"] = raised(restore_style, record, store)

    if not __import__("torch").cuda.is_available():
        codes["no_device"] = raised(resolve_device, "cuda")
    try:
        import sounddevice
        has_output = any(d["max_output_channels"] > 0 for d in sounddevice.query_devices())
    except Exception:
        has_output = False
    if not has_output:
        from gramophone.bridge.audition import play

        codes["no_audio_device"] = raised(play, Path(short))

    # Not practical through a real server: a request racing the shutdown, a bug, memory running out,
    # Ray missing or unreachable (a stand-in module: the real cluster is tested in test_ray.py).
    import types

    from gramophone.bridge import ray_backend
    from gramophone.bridge.dispatch import Dispatcher, Route
    from gramophone.bridge.jobs import Job, JobQueue
    from gramophone.bridge.render_task import RenderTask, StyleSource, error_fields

    idle = types.SimpleNamespace(start=lambda task: None, cancel=lambda job_id: None, close=lambda: None)
    queue = JobQueue(lambda emit: idle, lambda *a: None)
    queue.stop()
    task = RenderTask("x", short, str(tmp_path / "x.wav"), StyleSource(), RenderSettings())
    codes["shutting_down"] = raised(queue.submit, Job(task))
    sent = []
    dispatcher = Dispatcher({path: Route(lambda sender, args: 1 / 0) for path in A.BY_PATH},
                            lambda target, job, code, message: sent.append(code))
    dispatcher._call(dispatcher.routes["/gramophone/presets"], "/gramophone/presets", [], {}, ("127.0.0.1", 9))
    codes["internal"] = sent[-1]
    codes["out_of_memory"] = error_fields(MemoryError())[0]
    from gramophone.bridge import batch

    (tmp_path / "nothing").mkdir()
    codes["no_input"] = raised(batch.plan, [str(tmp_path / "nothing")], tmp_path / "out", [], [1.0],
                               RenderSettings(), store)
    monkeypatch.setitem(sys.modules, "ray", None)
    codes["no_ray"] = raised(ray_backend.RayBackend, lambda *a: None, "auto")

    def refuse(**kwargs):
        raise ConnectionError("nothing listens there")

    fake = types.SimpleNamespace(is_initialized=lambda: False, init=refuse)
    monkeypatch.setitem(sys.modules, "ray", fake)
    codes["no_cluster"] = raised(ray_backend.RayBackend, lambda *a: None, "127.0.0.1:1")
    # Triggered by the batch, worker and streaming tests, against real processes and a real tmpfs:
    elsewhere = {"worker_died": "test_workers.py", "disk_full": "test_batch.py", "duplicate_output": "test_batch.py",
                 "bad_manifest": "test_batch.py", "over_budget": "test_memory_budget.py"}
    for code, test_file in elsewhere.items():
        assert f'"{code}"' in (ROOT / "tests" / test_file).read_text(), (code, test_file)
        codes[code] = code

    skipped = {"no_device", "no_audio_device"} - set(codes)
    wrong = {expected: got for expected, got in codes.items() if expected != got}
    assert not wrong, f"expected code: got code {wrong}"
    assert set(codes) | skipped == set(BY_CODE), f"no trigger for {set(BY_CODE) - set(codes) - skipped}"
