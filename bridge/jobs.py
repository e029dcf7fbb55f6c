"""The render queue: a bounded queue and one worker thread per device.

Requests are validated before they get here; the worker renders one job at a time through
``engine.pipeline.render_file`` (atomic output), reports progress at least once a second, and
turns every outcome into exactly one final event: ``done``, ``error`` or ``cancelled``.
"""
from __future__ import annotations

import collections
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Optional

from ..engine import RenderCancelled, RenderSettings
from ..engine.errors import GramophoneError
from ..engine.pipeline import render_file
from ..engine.models import Stats, TextureModel
from ..engine.progress import CancelToken

Target = tuple[str, int]
#: notify(job, event, *args): event is "progress", "done", "error" or "cancelled"
Notify = Callable[..., None]


@dataclass
class Job:
    id: Any
    content: Path
    output: Path
    model: TextureModel
    style: Stats
    settings: RenderSettings
    targets: list[Target]
    audition: bool = False
    cancel: CancelToken = field(default_factory=CancelToken)
    fraction: float = 0.0
    last_report: float = 0.0
    finished: bool = False
    sent: float = -1.0


class RenderQueue:
    def __init__(self, notify: Notify, max_queue: int = 8, heartbeat: float = 1.0) -> None:
        self.notify, self.max_queue, self.heartbeat = notify, max_queue, heartbeat
        self._queue: collections.deque[Job] = collections.deque()
        self._lock = threading.Condition()
        self._running: Optional[Job] = None
        self._stopping = False
        self._worker = threading.Thread(target=self._work, name="gramophone-render", daemon=True)
        self._ticker = threading.Thread(target=self._tick, name="gramophone-progress", daemon=True)
        self._worker.start()
        self._ticker.start()

    def submit(self, job: Job) -> int:
        """Queue ``job``; returns its position (0: it starts now). Raises ``busy``/``duplicate_id``."""
        with self._lock:
            if self._stopping:
                raise GramophoneError("the server is shutting down", "shutting_down")
            if any(j.id == job.id for j in self._jobs()):
                raise GramophoneError(f"a job with id {job.id!r} is already queued or running", "duplicate_id")
            if len(self._queue) >= self.max_queue:
                raise GramophoneError(f"the queue is full ({self.max_queue} jobs); try again later", "busy")
            self._queue.append(job)
            position = len(self._queue) - (0 if self._running else 1)
            self._lock.notify_all()
            return position

    def cancel(self, job_id: Any) -> Optional[str]:
        """Cancel by id: returns "queued" (removed now), "running" (stops within an iteration) or None."""
        with self._lock:
            for job in self._queue:
                if job.id == job_id:
                    self._queue.remove(job)
                    self.notify(job, "cancelled")
                    return "queued"
            if self._running is not None and self._running.id == job_id:
                self._running.cancel.cancel()
                return "running"
        return None

    def status(self) -> tuple[int, Any]:
        with self._lock:
            return len(self._queue), (self._running.id if self._running else None)

    def stop(self, timeout: float = 10.0) -> None:
        """Cancel everything and wait for the worker (a running render stops within one iteration)."""
        with self._lock:
            self._stopping = True
            while self._queue:
                self.notify(self._queue.popleft(), "cancelled")
            if self._running:
                self._running.cancel.cancel()
            self._lock.notify_all()
        self._worker.join(timeout)

    def _jobs(self) -> list[Job]:
        return list(self._queue) + ([self._running] if self._running else [])

    def _work(self) -> None:
        while True:
            with self._lock:
                while not self._queue and not self._stopping:
                    self._lock.wait()
                if self._stopping:
                    return
                job = self._running = self._queue.popleft()
            try:
                self._run(job)
            finally:
                with self._lock:
                    self._running = None

    def _run(self, job: Job) -> None:
        def progress(fraction: float, loss: float) -> None:
            job.fraction = fraction
            now = time.monotonic()
            if fraction != job.sent and (fraction in (0.0, 1.0) or now - job.last_report >= 0.25):
                job.sent = fraction
                job.last_report = now
                self.notify(job, "progress", fraction)

        try:
            result = render_file(job.content, job.output, job.model, job.style, job.settings, progress, job.cancel)
            final: tuple = ("done", str(result.output_path), result.seconds)
        except RenderCancelled:
            final = ("cancelled",)
        except GramophoneError as exc:
            final = ("error", exc.code, str(exc))
        except Exception as exc:  # a bug, not the user's fault: report it, keep serving
            final = ("error", "internal", f"{type(exc).__name__}: {exc}")
        job.finished = True
        self.notify(job, *final)
        if final[0] != "done":
            return
        if job.audition:
            from .audition import play

            try:
                play(result.output_path)
            except GramophoneError as exc:
                self.notify(job, "error", exc.code, str(exc))

    def _tick(self) -> None:
        """Re-send the running job's progress when nothing was sent for ``heartbeat`` seconds."""
        while True:
            time.sleep(self.heartbeat / 4)
            with self._lock:
                if self._stopping:
                    return
                job = self._running
            if job is not None and not job.finished and time.monotonic() - job.last_report >= self.heartbeat:
                job.last_report = time.monotonic()
                self.notify(job, "progress", job.fraction)
