"""`gramophone doctor` (one line per finding, exit 1 on a problem) and `gramophone clients [DEST]`."""
from __future__ import annotations

import socket
import threading
from pathlib import Path

import pytest

from pythonosc.osc_message import OscMessage

from gramophone import __version__
from gramophone.bridge import doctor
from gramophone.bridge.cli import main
from gramophone.bridge.osc_client import encode, free_port
from gramophone.engine.preset_store import PresetStore, default_shipped_dir


@pytest.mark.slow
def test_doctor_on_this_machine_passes_and_says_what_it_checked(capsys, tmp_path):
    assert main(["--preset-dir", str(tmp_path / "user"), "doctor", "--port", str(free_port())]) == 0
    out = capsys.readouterr().out.splitlines()
    assert all(line.split()[0] in ("ok", "warn") for line in out), out
    text = "\n".join(out)
    for expected in (f"gramophone {__version__}", "torch", "a 1 s test render took", "is free", "8 shipped presets",
                     "0 user presets", "allowed folders", "host clients", "waiting: a short spin", "a render now would take", "kernel gradient products"):
        assert expected in text, expected
    assert any(line.startswith(("ok    audio output", "warn  no")) for line in out)  # audio: reported either way


def test_a_bad_precision_setting_is_a_problem_with_what_to_do(monkeypatch):
    monkeypatch.setenv("GRAMOPHONE_PRECISION", "half")
    finding = doctor.compute_device("cpu")[-1]
    assert finding.status == doctor.FAIL and "must be auto or float32" in finding.line()
    assert "GRAMOPHONE_PRECISION to auto or float32" in finding.fix


@pytest.mark.slow
def test_a_taken_port_is_a_problem_with_what_to_do():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as other:
        other.bind(("127.0.0.1", 0))
        (finding,) = doctor.osc_port("127.0.0.1", other.getsockname()[1])
    assert finding.status == doctor.FAIL and "--port" in finding.fix
    assert finding.line().startswith("FAIL  OSC port") and " -> " in finding.line()


def test_a_gramophone_server_on_the_port_is_fine():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as fake:  # answers ping like the server
        fake.bind(("127.0.0.1", 0))

        def answer() -> None:
            data, sender = fake.recvfrom(65536)
            assert OscMessage(data).address == "/gramophone/ping"
            fake.sendto(encode("/gramophone/pong", "9.9.9"), sender)

        thread = threading.Thread(target=answer, daemon=True)
        thread.start()
        (finding,) = doctor.osc_port("127.0.0.1", fake.getsockname()[1])
        thread.join(5)
    assert finding.status == doctor.OK and "9.9.9" in finding.what


def test_missing_presets_and_folders_are_problems(tmp_path, capsys):
    empty = tmp_path / "shipped"
    empty.mkdir()
    user = tmp_path / "user"
    user.mkdir()
    (user / "broken.gpreset").write_bytes(b"not a preset")
    findings = doctor.presets(PresetStore(user, empty))
    assert [f.status for f in findings].count(doctor.FAIL) == 2  # no shipped presets; one unreadable
    assert any("broken" in f.what and "re-create" in f.fix for f in findings)
    (missing,) = [f for f in doctor.allowed_folders([tmp_path / "nope"]) if f.status == doctor.FAIL]
    assert "nope" in missing.what
    assert doctor.presets(PresetStore(user, default_shipped_dir()))[0].status == doctor.OK


def test_doctor_exits_1_on_a_problem(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(doctor, "compute_device", lambda device: [doctor.Finding(doctor.OK, "device skipped")])
    assert main(["doctor", "--port", str(free_port()), "--allow-dir", str(tmp_path / "nope")]) == 1
    captured = capsys.readouterr()
    assert "FAIL  --allow-dir" in captured.out and "1 problem(s) found" in captured.err


def test_clients_prints_the_folder_and_copies_the_files(tmp_path, capsys):
    assert main(["clients"]) == 0
    folder = Path(capsys.readouterr().out.strip())
    assert (folder / "Gramophone.amxd").is_file() and (folder / "pd" / "gramophone.pd").is_file()
    dest = tmp_path / "host" / "clients"
    assert main(["clients", str(dest)]) == 0
    copied = {p.relative_to(dest).as_posix() for p in dest.rglob("*") if p.is_file()}
    assert {"Gramophone.amxd", "patchers/gramophone.maxpat", "pd/gramophone.pd", "README.md",
            "supercollider/Gramophone/Classes/Gramophone.sc"} <= copied
    assert not [c for c in copied if c.endswith((".py", ".pyc"))]  # the package marker and generators stay
    assert (dest / "Gramophone.amxd").read_bytes() == (folder / "Gramophone.amxd").read_bytes()
