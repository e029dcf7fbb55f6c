"""``gramophone doctor``: check an installation, one line per finding, with what to do.

Each check gives ``ok``, ``warn`` or ``FAIL``. FAIL is something that stops Gramophone from
rendering or serving (no compute device that renders, the OSC port taken by another program, no
shipped presets, a missing folder); it makes the exit status 1. ``warn`` is something that only an
optional feature needs: with no audio output device (or no PortAudio) only ``audition`` is lost,
so a headless server or a CI machine passes.
"""
from __future__ import annotations

import socket
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Optional

OK, WARN, FAIL = "ok", "warn", "FAIL"


@dataclass(frozen=True)
class Finding:
    status: str
    what: str
    #: what the user does next (for warn and FAIL)
    fix: str = ""

    def line(self) -> str:
        return f"{self.status:<5} {self.what}" + (f" -> {self.fix}" if self.fix else "")


def versions() -> list[Finding]:
    import torch

    from .. import __version__

    found = [Finding(OK, f"gramophone {__version__}, Python {sys.version.split()[0]}, torch {torch.__version__}")]
    if sys.version_info < (3, 10):
        found.append(Finding(FAIL, f"Python {sys.version.split()[0]} is too old", "use Python 3.10 or newer"))
    return found


def compute_device(device: str = "auto") -> list[Finding]:
    """The device renders run on, and whether a 1 s render works there."""
    import numpy as np
    import torch

    from ..engine import GramophoneError, RenderSettings, analyse_style, get_model, render, synth
    from ..engine.device import PRECISION_VARIABLE, describe_precision, precision, resolve_device

    found = []
    if torch.cuda.is_available():
        found.append(Finding(OK, f"CUDA GPU: {torch.cuda.get_device_name(0)}"))
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        found.append(Finding(WARN, "Apple MPS GPU found; this version renders on the CPU there",
                             "nothing to do: renders work on the CPU"))
    try:
        resolved = resolve_device(device)
    except GramophoneError as exc:
        return found + [Finding(FAIL, f"device '{device}': {exc}", "use --device auto or cpu")]
    try:
        precision()
    except GramophoneError as exc:
        return found + [Finding(FAIL, str(exc), f"set {PRECISION_VARIABLE} to auto or float32, or unset it")]
    sr = 22_050
    try:
        model = get_model("kernel")
        style = analyse_style([(synth.rain(sr, 1.0), sr)], model)
        started = time.perf_counter()
        out = render(synth.plucked_melody(sr, 1.0), sr, model, style, RenderSettings(iterations=2, device=device))
        seconds = time.perf_counter() - started
        if out.shape != (1, sr) or not np.isfinite(out).all():
            raise RuntimeError(f"the output is wrong (shape {out.shape})")
    except Exception as exc:  # any failure here is the finding
        return found + [Finding(FAIL, f"a 1 s test render on {resolved} failed: {type(exc).__name__}: {exc}",
                                "reinstall torch for this machine (see README, set-up), or try --device cpu")]
    return found + [Finding(OK, f"compute device {resolved}: a 1 s test render took {seconds:.2f} s; "
                                f"{describe_precision(resolved)}")]


def thread_policy() -> list[Finding]:
    """The thread policy renders run under, and what auto would choose now (``bridge/threads.py``)."""
    from ..engine.errors import GramophoneError
    from . import threads

    try:
        setting = threads.from_env()
    except GramophoneError as exc:
        return [Finding(FAIL, f"${threads.ENV}: {exc}",
                        f"set {threads.ENV} to auto or a number of threads, or unset it")]
    busy = threads.LoadProbe().other_busy()
    now = threads.choose(setting, threads.cores(), busy)
    load = f"other programs keep {busy:.1f} cores busy" if busy is not None else "the load is unknown here"
    return [Finding(OK, f"{threads.describe(setting)}; {load}, so a render now would take {now} thread(s)")]


def audio_output() -> list[Finding]:
    """Audio output devices (only ``audition`` needs one)."""
    try:
        import sounddevice
    except (ImportError, OSError) as exc:
        return [Finding(WARN, f"no PortAudio, so no audition ({exc})",
                        "to audition renders on this machine, install PortAudio "
                        "(Debian: apt-get install libportaudio2)")]
    try:
        outputs = [d for d in sounddevice.query_devices() if d["max_output_channels"] > 0]
    except Exception as exc:  # PortAudio errors when the audio system is unusable
        outputs, error = [], f" ({exc})"
    else:
        error = ""
    if not outputs:
        return [Finding(WARN, f"no audio output device{error}, so no audition",
                        "connect or enable an output device to audition renders here (rendering works without)")]
    return [Finding(OK, f"audio output: {len(outputs)} device(s), e.g. {outputs[0]['name']}")]


def osc_port(host: str, port: int) -> list[Finding]:
    """Whether ``gramophone serve`` can listen on ``host:port`` (or a Gramophone server already does)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_DGRAM) as s:
        try:
            s.bind((host, port))
            return [Finding(OK, f"OSC port {host}:{port} is free for `gramophone serve`")]
        except OSError as exc:
            reason = exc.strerror or str(exc)
    version = _ping(host, port)
    if version is not None:
        return [Finding(OK, f"OSC port {host}:{port}: a Gramophone server ({version}) is answering there")]
    return [Finding(FAIL, f"OSC port {host}:{port} is taken by another program ({reason})",
                    "stop that program, or run `gramophone serve --port N` and point the host clients at N")]


def _ping(host: str, port: int) -> Optional[str]:
    from .osc_client import Client

    client = Client(("127.0.0.1" if host in ("0.0.0.0", "") else host, port))
    try:
        return str(client.request("/gramophone/ping", reply="/gramophone/pong", timeout=1.0)[0])
    except (TimeoutError, OSError):
        return None
    finally:
        client.close()


def presets(store) -> list[Finding]:
    """Shipped and user presets, and any that cannot be read."""
    entries = store.entries()
    shipped = [e for e in entries if e.origin == "shipped"]
    user = [e for e in entries if e.origin == "user"]
    found = []
    if shipped:
        found.append(Finding(OK, f"{len(shipped)} shipped presets in {store.shipped_dir}"))
    else:
        found.append(Finding(FAIL, f"no shipped presets in {store.shipped_dir}",
                             "reinstall gramophone (the wheel ships 8 presets), or unset GRAMOPHONE_SHIPPED_PRESETS"))
    found.append(Finding(OK, f"{len(user)} user presets in {store.user_dir}"))
    for e in entries:
        if e.model == "?":
            found.append(Finding(FAIL, f"preset '{e.name}' ({e.path}) is {e.description}",
                                 "delete it or re-create it with `gramophone preset create`"))
    return found


def allowed_folders(extra: Iterable[str | Path] = ()) -> list[Finding]:
    """The folders `gramophone serve` would read and write under."""
    from .paths import default_allowed_dirs

    folders = dict.fromkeys(str(d.resolve()) for d in default_allowed_dirs())
    found = [Finding(OK, "allowed folders (serve): " + ", ".join(folders))]
    for d in extra:
        if Path(d).is_dir():
            found.append(Finding(OK, f"allowed folder (--allow-dir): {d}"))
        else:
            found.append(Finding(FAIL, f"--allow-dir {d}: no such folder", "create it or correct the path"))
    return found


def host_clients() -> list[Finding]:
    from .clients import client_files, installed_folder

    folder, names = installed_folder(), client_files()
    if not names:
        return [Finding(FAIL, f"no host-client files in {folder}", "reinstall gramophone")]
    return [Finding(OK, f"host clients ({len(names)} files) in {folder}; copy them with `gramophone clients DEST`")]


def run(store, host: str, port: int, allow_dirs: Iterable[str | Path] = (), device: str = "auto") -> list[Finding]:
    """Every check, in the order a user would fix them."""
    return (versions() + compute_device(device) + thread_policy() + audio_output() + osc_port(host, port)
            + presets(store) + allowed_folders(allow_dirs) + host_clients())
