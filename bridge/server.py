"""The OSC server: validates requests at once, queues renders, replies from its own socket.

One thread reads the socket and answers every request immediately (validation, queue
position, preset listings); renders run on the :class:`~bridge.jobs.RenderQueue` worker, and
preset creation on a short-lived thread, so nothing a client sends can stall ``ping``.

Replies go to the sender's address and, where known, to a reply port on the sender's host:
one registered with ``/gramophone/reply``, one given with the request (``reply_port``), and
the server's default (``--reply-port``). Only ``i``, ``f`` and ``s`` arguments are sent.
"""
from __future__ import annotations

import logging
import socket
import threading
from pathlib import Path
from typing import Any, Callable, Iterable, Optional

from pythonosc.osc_message_builder import OscMessageBuilder
from pythonosc.osc_packet import OscPacket, ParseError

from .. import engine
from ..engine import RenderSettings
from ..engine.audio import probe_audio
from ..engine.errors import GramophoneError
from ..engine.preset_store import PresetStore
from ..engine.render import resolve_device

from . import addresses as A
from .jobs import Job, RenderQueue, Target
from .paths import PathPolicy

log = logging.getLogger("gramophone.server")
#: OSC render options that are RenderSettings fields (reply_port and audition are the server's own).
SETTING_OPTIONS = tuple(k for k in A.RENDER_OPTIONS if k not in ("reply_port", "audition"))
MAX_PACKET = 65_536


class GramophoneServer:
    def __init__(self, host: str = "127.0.0.1", port: int = A.DEFAULT_PORT, reply_port: Optional[int] = None,
                 allowed_dirs: Iterable[str | Path] = (), store: Optional[PresetStore] = None,
                 device: str = "auto", max_queue: int = 8, weights: Iterable[str | Path] = (),
                 max_seconds: float = 900.0) -> None:
        from ..engine.models.weights import file_sha256

        self.policy = PathPolicy(allowed_dirs)
        self.max_seconds = max_seconds  # longer clips are refused: their audio would not fit in memory safely
        self.weights = {file_sha256(w): Path(w) for w in weights}  # for vgg19/soundnet presets
        self._models: dict[int, tuple[Any, Any]] = {}  # id(preset) -> (preset, its model), built once
        self.store = store or PresetStore()
        self.device = device
        self.device_name = str(resolve_device(device))
        self.default_reply_port = reply_port
        self.reply_ports: dict[str, int] = {}
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.sock = socket.socket(family, socket.SOCK_DGRAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
        self.sock.bind((host, port))
        self.sock.settimeout(0.2)
        self.address = self.sock.getsockname()[:2]
        self._send_lock = threading.Lock()
        self._creating = threading.Lock()  # one preset analysis at a time
        self._stop = threading.Event()
        self.queue = RenderQueue(self._job_event, max_queue)
        self._handlers: dict[str, Callable[[Target, dict], None]] = {
            f"{A.PREFIX}/ping": self._ping, f"{A.PREFIX}/reply": self._reply, f"{A.PREFIX}/render": self._render,
            f"{A.PREFIX}/cancel": self._cancel, f"{A.PREFIX}/presets": self._presets,
            f"{A.PREFIX}/preset/show": self._preset_show, f"{A.PREFIX}/preset/create": self._preset_create,
            f"{A.PREFIX}/status": self._status,
        }
        assert set(self._handlers) == set(A.BY_PATH), "every address in the table needs a handler"

    # ---- socket loop -------------------------------------------------------------------
    def serve_forever(self) -> None:
        """Serve until :meth:`shutdown`; then cancel the queue (no partial files) and close."""
        log.info("listening on %s:%d (replies also to port %s); allowed folders: %s", *self.address,
                 self.default_reply_port, self.policy.describe())
        try:
            while not self._stop.is_set():
                try:
                    data, sender = self.sock.recvfrom(MAX_PACKET)
                except socket.timeout:
                    continue
                except OSError:  # e.g. ICMP port-unreachable reported on Windows; the socket is still fine
                    continue
                self.handle_packet(data, sender[:2])
        finally:
            self.queue.stop()
            self.sock.close()
            log.info("stopped")

    def shutdown(self) -> None:
        """Ask :meth:`serve_forever` to stop (safe from signal handlers and other threads)."""
        self._stop.set()

    def handle_packet(self, data: bytes, sender: Target) -> None:
        try:
            messages = [m.message for m in OscPacket(data).messages]
        except (ParseError, Exception) as exc:  # python-osc raises assorted errors on garbage
            log.info("%s:%d malformed packet (%d bytes)", *sender, len(data))
            self._send([sender], "error", "", "malformed", f"could not parse the OSC packet: {type(exc).__name__}")
            return
        for msg in messages:
            self._dispatch(msg.address, list(msg.params), sender)

    def _dispatch(self, path: str, params: list[Any], sender: Target) -> None:
        log.info("%s:%d %s %s", *sender, path, params)
        handler = self._handlers.get(path)
        if handler is None:
            self._send(self._targets(sender), "error", path, "unknown_address",
                       f"unknown address {path}; known: {', '.join(A.BY_PATH)}")
            return
        try:
            handler(sender, A.parse(path, params))
        except (A.OscArgError, GramophoneError) as exc:
            self._send(self._targets(sender), "error", _job_id(params) if path.endswith("render") else path,
                       exc.code, str(exc))
        except Exception as exc:  # never let a request take the server down
            log.exception("internal error handling %s", path)
            self._send(self._targets(sender), "error", path, "internal", f"{type(exc).__name__}: {exc}")

    # ---- replies -----------------------------------------------------------------------
    def _targets(self, sender: Target, extra_port: Optional[int] = None) -> list[Target]:
        host = sender[0]
        ports = [self.reply_ports.get(host), extra_port, self.default_reply_port]
        targets = [sender] + [(host, p) for p in ports if p]
        return list(dict.fromkeys(targets))

    def _send(self, targets: Iterable[Target], reply: str, *args: Any) -> None:
        path = f"{A.PREFIX}/{reply}"
        spec = A.REPLY_BY_PATH[path]
        builder = OscMessageBuilder(path)
        for arg, value in zip(spec.args, args):
            kind = arg.type if arg.type != "x" else ("i" if isinstance(value, int) else "s")
            value = int(value) if kind == "i" else float(value) if kind == "f" else str(value)
            builder.add_arg(value, kind)
        dgram = builder.build().dgram
        with self._send_lock:
            for target in targets:
                try:
                    self.sock.sendto(dgram, target)
                except OSError as exc:
                    log.info("could not reply to %s:%d: %s", *target, exc)

    def _job_event(self, job: Job, event: str, *args: Any) -> None:
        if event == "done":
            log.info("job %r done in %.2f s -> %s", job.id, args[1], args[0])
        elif event in ("error", "cancelled"):
            log.info("job %r %s %s", job.id, event, " ".join(map(str, args)))
        self._send(job.targets, event, job.id, *args)

    # ---- handlers ----------------------------------------------------------------------
    def _ping(self, sender: Target, a: dict) -> None:
        self._send(self._targets(sender, a.get("reply_port")), "pong", engine.__version__)

    def _reply(self, sender: Target, a: dict) -> None:
        host = a.get("host") or sender[0]
        if not 1 <= a["port"] <= 65535:
            raise GramophoneError(f"reply port must be 1-65535, got {a['port']}", "bad_args")
        self.reply_ports[host] = a["port"]
        self._send(self._targets(sender), "reply/ok", host, a["port"])

    def _render(self, sender: Target, a: dict) -> None:
        opts = a["options"]
        targets = self._targets(sender, opts.get("reply_port"))
        content = self.policy.readable(a["content_path"], "content")
        self._check_length(content, "content")  # a bad file is an error now, not a failed job later
        preset = self.store.load(a["preset"])
        model = self._model_for(preset)
        output = self.policy.writable(a["out_path"], content)
        chosen = {k: v for k, v in opts.items() if k in SETTING_OPTIONS}  # the rest keep RenderSettings' defaults
        settings = RenderSettings(device=self.device, **chosen).validated()
        job = Job(a["id"], content, output, model, preset.stats, settings, targets, bool(opts.get("audition", 0)))
        position = self.queue.submit(job)
        self._send(targets, "queued", job.id, position)

    def _check_length(self, path: Path, what: str) -> None:
        rate, _, frames = probe_audio(path)
        if frames / rate > self.max_seconds:
            raise GramophoneError(f"{what} is {frames / rate / 60:.1f} min long; this server accepts clips of up to "
                                  f"{self.max_seconds / 60:.1f} min (gramophone serve --max-seconds)", "too_long")

    def _model_for(self, preset: Any) -> Any:
        """The preset's model, built once per loaded preset (a missing weights file is an error now)."""
        cached = self._models.get(id(preset))  # the entry holds the preset, so its id stays unique
        if cached is None:
            cached = self._models[id(preset)] = (preset, preset.build_model(self.weights.get(preset.params.get("weights", ""))))
            while len(self._models) > 16:
                self._models.pop(next(iter(self._models)))
        return cached[1]

    def _cancel(self, sender: Target, a: dict) -> None:
        state = self.queue.cancel(a["id"])
        if state is None:
            raise GramophoneError(f"no queued or running job with id {a['id']!r}", "unknown_job")
        # queued jobs are acknowledged by the queue at once; running ones when they stop

    def _presets(self, sender: Target, a: dict) -> None:
        targets = self._targets(sender)
        entries = [e for e in self.store.entries() if not e.shadowed]
        for e in entries:
            self._send(targets, "preset", e.name, e.model, e.origin, e.description)
        self._send(targets, "presets/end", len(entries))

    def _preset_show(self, sender: Target, a: dict) -> None:
        from ..engine.preset_format import read_metadata

        entry = self.store.find(a["name"])
        meta = read_metadata(entry.path)
        seconds = sum(float(s.get("duration", 0.0)) for s in meta["sources"])
        self._send(self._targets(sender), "preset/info", entry.name, entry.model, entry.origin, entry.description,
                   seconds, entry.path.stat().st_size, meta["stats_sha256"])

    def _preset_create(self, sender: Target, a: dict) -> None:
        from ..engine import get_model, preset_format

        targets = self._targets(sender)
        opts = a["options"]
        style = self.policy.readable(a["style_path"], "style")
        self._check_length(style, "style")
        preset_format.check_name(a["name"])
        weights = opts.get("weights")
        if weights is None:
            extra = {}
        elif weights == "random":
            extra = {"weights": "random"}
        else:
            extra = {"weights_path": self.policy.readable(weights, "weights")}
        if not self._creating.acquire(blocking=False):
            raise GramophoneError("another preset is being created; try again when it is done", "busy")

        def work() -> None:  # off the socket thread: building a model and analysing take a while
            error = f"{A.PREFIX}/preset/create"
            try:
                model = get_model(opts.get("model", engine.DEFAULT_MODEL), **extra)
                preset = preset_format.create(a["name"], [style], model, opts.get("description", ""))
                self.store.save(preset, force=bool(opts.get("force", 0)))
                reply: tuple = ("preset/created", a["name"])
            except GramophoneError as exc:
                reply = ("error", error, exc.code, str(exc))
            except Exception as exc:
                reply = ("error", error, "internal", f"{type(exc).__name__}: {exc}")
            self._creating.release()  # before replying, so the client's next request is not "busy"
            self._send(targets, *reply)

        threading.Thread(target=work, name="gramophone-preset", daemon=True).start()

    def _status(self, sender: Target, a: dict) -> None:
        queued, running = self.queue.status()
        self._send(self._targets(sender), "status", queued, "" if running is None else str(running), self.device_name)


def _job_id(params: list[Any]) -> Any:
    return params[0] if params and isinstance(params[0], (int, str)) and not isinstance(params[0], bool) else ""
