"""The package as a user installs it: the wheel (and sdist) hold the presets and host clients, and an
installed wheel, with no source tree anywhere on the path, renders by a shipped preset name from
the command line and over OSC.

Fast by design: the wheel is built without build isolation, installed with ``--no-deps`` into a
venv made ``--without-pip``, and that venv reaches the main venv's dependencies (torch and the
rest) through a ``.pth`` file holding a plain path, which does not run the editable install's
finder; so ``gramophone`` can only come from the wheel (checked).
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import tarfile
import time
import zipfile
from pathlib import Path

import pytest

from gramophone.bridge.osc_client import Client, free_port

from helpers import write_wav

pytestmark = pytest.mark.external  # builds the wheel and the sdist, and installs the wheel in a venv

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = {"rain", "fire", "stream", "wind", "drone", "percussion", "plucks", "vinyl"}
NOT_SOURCE = shutil.ignore_patterns(".git", ".venv", "build", "dist", "*.egg-info", "__pycache__", ".pytest_cache",
                                    "out", "gramophone-demo")


@pytest.fixture(scope="module")
def source(tmp_path_factory) -> Path:
    """A copy of the source tree, so building leaves the checkout untouched."""
    src = tmp_path_factory.mktemp("src") / "gramophone"
    shutil.copytree(ROOT, src, ignore=NOT_SOURCE)
    return src


@pytest.fixture(scope="module")
def wheel(source, tmp_path_factory) -> Path:
    dist = tmp_path_factory.mktemp("dist")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation",
                    "--disable-pip-version-check", "-w", str(dist), str(source)], check=True, capture_output=True)
    (found,) = dist.glob("gramophone-*.whl")
    return found


@pytest.fixture(scope="module")
def venv(wheel, tmp_path_factory) -> Path:
    """A fresh venv with only the wheel installed, plus the main venv's dependencies by a .pth path."""
    env = tmp_path_factory.mktemp("venv") / "env"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(env)], check=True)
    python = env / "bin" / "python"
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "-q", "--no-deps",
                    "--disable-pip-version-check", str(wheel)], check=True, capture_output=True)
    purelib = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                             check=True, capture_output=True, text=True).stdout.strip()
    deps = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    (Path(purelib) / "main-venv-deps.pth").write_text("".join(f"{d}\n" for d in sorted(deps)))
    return env


@pytest.fixture
def run(venv, tmp_path):
    """Run a command of the installed venv from a folder with no source tree, no PYTHONPATH."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "GRAMOPHONE_SHIPPED_PRESETS")}
    env["GRAMOPHONE_PRESETS"] = str(tmp_path / "user-presets")

    def run(*argv: str, check: bool = True) -> subprocess.CompletedProcess:
        proc = subprocess.run([str(venv / "bin" / argv[0]), *argv[1:]], cwd=tmp_path, env=env, capture_output=True,
                              text=True, timeout=600)
        assert not check or proc.returncode == 0, proc.stderr
        return proc
    run.env = env
    return run


def test_wheel_has_one_top_level_package_with_presets_and_clients(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    assert {n.split("/")[0] for n in names if not n.startswith("gramophone-")} == {"gramophone"}
    assert {Path(n).stem for n in names if n.startswith("gramophone/presets/") and n.endswith(".gpreset")} == SHIPPED
    clients = {n[len("gramophone/clients/"):] for n in names if n.startswith("gramophone/clients/")}
    assert {"Gramophone.amxd", "patchers/gramophone.maxpat", "pd/gramophone.pd",
            "supercollider/Gramophone/Classes/Gramophone.sc"} <= clients
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc")]


def test_sdist_has_presets_clients_and_tests(source, tmp_path):
    out = subprocess.run([sys.executable, "-c", "import sys; from setuptools import build_meta as b; "
                          "print(b.build_sdist(sys.argv[1]))", str(tmp_path)], cwd=source, check=True,
                         capture_output=True, text=True).stdout.strip().splitlines()[-1]
    names = [n.split("/", 1)[1] for n in tarfile.open(tmp_path / out).getnames() if "/" in n]
    assert {Path(n).stem for n in names if n.startswith("presets/") and n.endswith(".gpreset")} == SHIPPED
    assert "max_patches/Gramophone.amxd" in names and "max_patches/pd/gramophone.pd" in names
    assert "tests/test_installed_wheel.py" in names and "pyproject.toml" in names
    assert {"docs/osc.md", "docs/errors.md", "docs/settings.md"} <= set(names)  # the tests check them


def test_installed_package_comes_from_the_wheel(run, venv):
    where = run("python", "-c", "import gramophone; print(gramophone.__file__)").stdout.strip()
    assert Path(where).is_relative_to(venv), where
    assert not run("python", "-c", "import engine", check=False).returncode == 0  # no top-level engine module
    assert not run("python", "-c", "import bridge", check=False).returncode == 0


def test_cli_renders_by_shipped_preset_name(run, tmp_path, melody, venv):
    listing = run("gramophone", "preset", "list").stdout
    assert SHIPPED <= {line.split()[0] for line in listing.splitlines()}
    clip, out = write_wav(tmp_path / "clip.wav", melody), tmp_path / "out.wav"
    proc = run("gramophone", "render", str(clip), "--preset", "rain", "-o", str(out), "--iterations", "2")
    assert proc.stdout.strip() == str(out) and out.stat().st_size > 1000
    assert json.loads((tmp_path / "out.wav.json").read_text())["style"]["preset"] == "rain"
    copied = run("gramophone", "clients", str(tmp_path / "host")).stdout.split()
    assert {Path(p).name for p in copied} >= {"Gramophone.amxd", "gramophone.maxpat", "Gramophone.sc", "gramophone.pd"}
    assert Path(run("gramophone", "clients").stdout.strip()).is_relative_to(venv)


def test_osc_renders_by_shipped_preset_name(run, venv, tmp_path, melody):
    clip, out = write_wav(tmp_path / "clip.wav", melody), tmp_path / "osc.wav"
    port = free_port()
    log = open(tmp_path / "server.log", "w+")
    server = subprocess.Popen([str(venv / "bin" / "gramophone"), "serve", "--port", str(port), "--reply-port", "0",
                               "--allow-dir", str(tmp_path)], cwd=tmp_path, env=run.env, stdout=log,
                              stderr=subprocess.STDOUT)
    client = Client(("127.0.0.1", port))
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                client.request("/gramophone/ping", reply="/gramophone/pong", timeout=0.5)
                break
            except TimeoutError:
                assert server.poll() is None and time.monotonic() < deadline, (log.seek(0), log.read())
        client.received.clear()
        client.send("/gramophone/render", "w1", str(clip), "rain", str(out), "iterations", 2)
        final = ("/gramophone/done", "/gramophone/error")
        replies = client.wait(lambda rs: any(a in final for a, _ in rs), 300)
        assert [p[:2] for a, p in replies if a in final] == [["w1", str(out)]], replies
        assert out.stat().st_size > 1000
    finally:
        client.close()
        server.kill()
        server.wait()
        log.close()
