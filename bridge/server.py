"""The OSC server: the address table's handlers, wired to a transport and the job layer.

Three parts, each in its own module, as python-osc keeps wire format, dispatch and transport
apart: :mod:`bridge.osc_transport` (the socket, encoding replies), :mod:`bridge.dispatch`
(address → handler, arguments checked once where they enter, errors → replies) and
:mod:`bridge.jobs` (queue, cancel, progress, one final event per job). This module holds the
handlers: what each request means.

The socket thread only decodes, checks arguments and answers ``ping``, ``reply`` and
``status`` (pings and status polls are not logged); requests that touch the disk (path checks,
audio headers, preset metadata) run on the dispatcher's intake thread, renders run in worker
processes (:mod:`bridge.workers`, or Ray tasks with ``serve --ray``), and preset analysis runs
in a process of its own. What ``serve`` does so that pings stay quick: :mod:`bridge.responsiveness`. Loading a preset
and building its model happen in the worker, once per worker.
"""
from __future__ import annotations

import logging
import multiprocessing as mp
import threading
from pathlib import Path
from typing import Any, Callable, Iterable, Optional

from .. import engine
from ..engine import RenderSettings
from ..engine.audio_io import check_length
from ..engine.errors import GramophoneError
from ..engine.models import check_model_name
from ..engine.memory_budget import check_budget, estimate_mb, preset_style_frames
from ..engine.preset_format import read_metadata
from ..engine.preset_store import PresetStore
from ..engine.device import resolve_device

from . import addresses as A
from .dispatch import Dispatcher, Route
from .jobs import Backend, Emit, Job, JobQueue, Target
from .osc_transport import OscTransport, ReplyRoutes
from .paths import PathPolicy
from .render_task import RenderTask, StyleSource

log = logging.getLogger("gramophone.server")


class GramophoneServer:
    def __init__(self, host: str = "127.0.0.1", port: int = A.DEFAULT_PORT, reply_port: Optional[int] = None,
                 allowed_dirs: Iterable[str | Path] = (), store: Optional[PresetStore] = None,
                 device: str = "auto", max_queue: int = 8, weights: Iterable[str | Path] = (),
                 max_seconds: float = 900.0, jobs: int = 1,
                 backend: Optional[Callable[[Emit], Backend]] = None, max_memory: Optional[float] = None) -> None:
        from ..engine.files import file_sha256
        from ..engine.models.weights import check_weights_file

        self.policy = PathPolicy(allowed_dirs)
        self.max_seconds = max_seconds  # longer clips are refused: their audio would not fit in memory safely
        self.max_memory = max_memory  # MB a render may need at its peak (None: what is available when it arrives)
        # each file checked against the weights bounds before it is hashed
        self.weights = {file_sha256(check_weights_file(w)): str(Path(w).resolve()) for w in weights}  # for vgg19/soundnet presets
        self.store = store or PresetStore()
        self.device = device
        self.device_name = str(resolve_device(device))
        self.routes = ReplyRoutes(reply_port)
        self.transport = OscTransport(host, port)
        self.address = self.transport.address
        self._creating = threading.Lock()  # one preset analysis at a time
        self._creator: Optional[Any] = None  # the process analysing a preset, if any
        self._stop = threading.Event()
        if backend is None:
            from .workers import LocalWorkers

            def backend(emit: Emit) -> Backend:
                return LocalWorkers(emit, jobs=jobs, nice=10)  # renders yield the CPU to the socket and the host
        self.queue = JobQueue(backend, self._job_event, max_queue)
        self.dispatcher = Dispatcher({
            f"{A.PREFIX}/ping": Route(self._ping, quiet=True), f"{A.PREFIX}/reply": Route(self._reply),
            f"{A.PREFIX}/status": Route(self._status, quiet=True),
            f"{A.PREFIX}/render": Route(self._render, blocking=True),
            f"{A.PREFIX}/cancel": Route(self._cancel, blocking=True),  # after any render still in intake
            f"{A.PREFIX}/presets": Route(self._presets, blocking=True),
            f"{A.PREFIX}/preset/show": Route(self._preset_show, blocking=True),
            f"{A.PREFIX}/preset/create": Route(self._preset_create, blocking=True),
        }, self._send_error)

    # ---- lifetime ------------------------------------------------------------------------
    def serve_forever(self) -> None:
        """Serve until :meth:`shutdown`; then cancel the queue (no partial files) and close."""
        log.info("listening on %s:%d (replies also to port %s); allowed folders: %s", *self.address,
                 self.routes.default_port, self.policy.describe())
        try:
            for data, sender in self.transport.receive(self._stop):
                self.dispatcher.packet(data, sender)
        finally:
            self.dispatcher.close()
            self.queue.stop()
            creator = self._creator
            if creator is not None and creator.is_alive():
                creator.kill()
            self.transport.close()
            log.info("stopped")

    def shutdown(self) -> None:
        """Ask :meth:`serve_forever` to stop (safe from signal handlers and other threads)."""
        self._stop.set()

    def handle_packet(self, data: bytes, sender: Target) -> None:
        self.dispatcher.packet(data, sender)

    # ---- replies -------------------------------------------------------------------------
    def _send(self, targets: Iterable[Target], reply: str, *args: Any) -> None:
        self.transport.send(targets, reply, *args)

    def _send_error(self, sender: Target, where: Any, code: str, message: str) -> None:
        self._send(self.routes.targets(sender), "error", where, code, message)

    def _job_event(self, job: Job, event: str, *args: Any) -> None:
        if event == "started":
            return  # the client already has its queued reply and progress 0
        if event == "done":
            log.info("job %r done in %.2f s -> %s", job.id, args[1], args[0])
        elif event in ("error", "cancelled"):
            log.info("job %r %s %s", job.id, event, " ".join(map(str, args)))
        self._send(job.targets, event, job.id, *args)
        if event == "done" and job.audition:
            threading.Thread(target=self._audition, args=(job, args[0]), name="gramophone-audition",
                             daemon=True).start()

    def _audition(self, job: Job, path: str) -> None:
        from .audition import play

        try:
            play(Path(path))
        except GramophoneError as exc:
            self._send(job.targets, "error", job.id, exc.code, str(exc))

    # ---- handlers on the socket thread ---------------------------------------------------
    def _ping(self, sender: Target, a: dict) -> None:
        self._send(self.routes.targets(sender, a.get("reply_port")), "pong", engine.__version__)

    def _reply(self, sender: Target, a: dict) -> None:
        host = a.get("host") or sender[0]
        if not 1 <= a["port"] <= 65535:
            raise GramophoneError(f"reply port must be 1-65535, got {a['port']}", "bad_args")
        self.routes.registered[host] = a["port"]
        self._send(self.routes.targets(sender), "reply/ok", host, a["port"])

    def _status(self, sender: Target, a: dict) -> None:
        queued, running = self.queue.status()
        self._send(self.routes.targets(sender), "status", queued, ",".join(map(str, running)), self.device_name)

    # ---- handlers on the intake thread (they touch the disk) -----------------------------
    def _render(self, sender: Target, a: dict) -> None:
        opts = a["options"]
        targets = self.routes.targets(sender, opts.get("reply_port"))
        content = self.policy.readable(a["content_path"], "content")
        rate, channels, frames = self._check_length(content, "content")  # a bad file is an error now
        entry = self.store.find(a["preset"])
        meta = read_metadata(entry.path)
        weights = self._weights_for(meta)
        output = self.policy.writable(a["out_path"], content)
        settings = RenderSettings(device=self.device, **A.render_settings(opts)).validated()
        blend_to = self._blend_to(opts.get("blend_to"), meta, settings)
        memory = estimate_mb(frames, channels, rate, meta["model"], meta["params"], preset_style_frames(meta), settings)
        check_budget(memory, self.max_memory, f"job {a['id']!r}")  # refused before it is queued
        task = RenderTask(a["id"], str(content), str(output), StyleSource(preset_path=str(entry.path), weights=weights),
                          settings, staging=RenderTask.staging_for(output), memory_mb=memory, blend_to=blend_to)
        job = Job(task, targets, bool(opts.get("audition", 0)))
        position = self.queue.submit(job)
        self._send(targets, "queued", job.id, position)

    def _blend_to(self, name: Optional[str], meta: dict, settings: RenderSettings) -> Optional[StyleSource]:
        """The second style of a blend (the ``blend_to`` option), checked now: a preset of the first's
        model (else ``model_mismatch``); a blend without one is ``no_style``."""
        from ..engine.pipeline import check_blend
        from ..engine.recorded_style import check_same_statistics

        if not name:
            check_blend(settings, None)
            return None
        entry = self.store.find(name)
        second = read_metadata(entry.path)
        check_same_statistics(meta["model"], meta["params"], second["model"], second["params"],
                              f"blend_to '{second['name']}'")
        return StyleSource(preset_path=str(entry.path), weights=self._weights_for(second))

    def _check_length(self, path: Path, what: str) -> tuple[int, int, int]:
        """``probe_audio``'s ``(rate, channels, frames)``, after refusing a clip over ``max_seconds``."""
        return check_length(path, self.max_seconds, f"the {what} clip")

    def _weights_for(self, meta: dict) -> Optional[str]:
        """The weights file a vgg19/soundnet preset needs (by the hash it records); missing: an error now."""
        recorded = meta["params"].get("weights")
        if recorded in (None, "random"):
            return None
        if recorded not in self.weights:
            raise GramophoneError(f"preset '{meta['name']}' needs the {meta['model']} weights file of sha256 "
                                  f"{recorded[:12]}…; start the server with --weights PATH", "no_weights")
        return self.weights[recorded]

    def _cancel(self, sender: Target, a: dict) -> None:
        if self.queue.cancel(a["id"]) is None:
            raise GramophoneError(f"no queued or running job with id {a['id']!r}", "unknown_job")
        # the queue acknowledges with "cancelled": queued jobs at once, running ones when they stop

    def _presets(self, sender: Target, a: dict) -> None:
        targets = self.routes.targets(sender)
        entries = [e for e in self.store.entries() if not e.shadowed]
        for e in entries:
            self._send(targets, "preset", e.name, e.model, e.origin, e.description)
        self._send(targets, "presets/end", len(entries))

    def _preset_show(self, sender: Target, a: dict) -> None:
        entry = self.store.find(a["name"])
        meta = read_metadata(entry.path)
        seconds = sum(float(s.get("duration", 0.0)) for s in meta["sources"])
        self._send(self.routes.targets(sender), "preset/info", entry.name, entry.model, entry.origin,
                   entry.description, seconds, entry.path.stat().st_size, meta["stats_sha256"])

    def _preset_create(self, sender: Target, a: dict) -> None:
        from ..engine import preset_format

        targets = self.routes.targets(sender)
        opts = a["options"]
        style = self.policy.readable(a["style_path"], "style")
        self._check_length(style, "style")
        preset_format.check_name(a["name"])
        model = opts.get("model", engine.DEFAULT_MODEL)
        check_model_name(model)
        weights = opts.get("weights")
        if weights is None:
            if "weights" in engine.MODELS[model].defaults:  # a pretrained network: say so now, not after a spawn
                raise GramophoneError(f"model '{model}' needs pretrained weights: add the option weights with a "
                                      "weights file (absolute path) or random", "no_weights")
            extra = {}
        elif weights == "random":
            extra = {"weights": "random"}
        else:
            extra = {"weights_path": str(self.policy.readable(weights, "weights"))}
        if not self._creating.acquire(blocking=False):
            raise GramophoneError("another preset is being created; try again when it is done", "busy")
        args = (str(self.store.user_dir), str(self.store.shipped_dir), a["name"], str(style), model, extra,
                opts.get("description", ""), bool(opts.get("force", 0)))
        threading.Thread(target=self._create_in_process, args=(targets, a["name"], args),
                         name="gramophone-preset", daemon=True).start()

    def _create_in_process(self, targets: list[Target], name: str, args: tuple) -> None:
        """Analyse in a spawned process (model building and analysis never share the server's
        interpreter), wait for it here, reply, and let the next creation in."""
        ctx = mp.get_context("spawn")
        receive, send = ctx.Pipe(duplex=False)
        self._creator = process = ctx.Process(target=_create_preset_child, args=(send, args), daemon=True,
                                              name="gramophone-preset")
        try:
            process.start()
            send.close()
            try:
                outcome = receive.recv()
            except EOFError:
                process.join(5)
                outcome = ("worker_died", f"the preset analysis process stopped unexpectedly "
                                          f"(exit status {process.exitcode})")
            process.join(5)
        finally:
            receive.close()
            self._creator = None
            self._creating.release()  # before replying, so the client's next request is not "busy"
        if outcome is None:
            self._send(targets, "preset/created", name)
        else:
            self._send(targets, "error", f"{A.PREFIX}/preset/create", *outcome)


def _create_preset_child(conn: Any, args: tuple) -> None:
    from .render_task import create_preset, error_fields

    try:
        create_preset(*args)
        conn.send(None)
    except Exception as exc:
        conn.send(error_fields(exc))
