"""Job control: the one layer the OSC server and ``gramophone batch`` hand renders to.

A :class:`JobQueue` keeps jobs waiting (bounded for the server), starts them on a *backend* as
its slots free up, and turns what the backend reports into the events everyone understands:
``progress`` (0 at the start, at least once a second, 1 at the end), then exactly one of
``done``, ``error`` or ``cancelled``. Backends: :class:`~bridge.workers.LocalWorkers`
(spawned worker processes, the default) and :class:`~bridge.ray_backend.RayBackend` (Ray tasks
on a cluster). A backend needs three methods and a slot count (:class:`Backend`).
"""
from __future__ import annotations

import collections
import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Optional, Protocol

from ..engine.errors import GramophoneError
from .render_task import RenderTask

log = logging.getLogger("gramophone.jobs")
Target = tuple[str, int]
#: notify(job, event, *args): event is "started" (args: the worker's pid, its torch threads), "progress", "take"
#: (number, count, path: each take of a job of several, before its done), "done", "error" or "cancelled"
Notify = Callable[..., None]
#: emit(job_id, event, *args): what a backend reports; events as above plus "started" (pid, threads)
#: and "rendered" is handled inside the backend.
Emit = Callable[..., None]
FINAL = ("done", "error", "cancelled")


class Backend(Protocol):
    """Runs tasks somewhere; reports through the ``emit`` it was built with."""

    slots: int

    def start(self, task: RenderTask) -> None:
        """Run ``task`` now (the queue only calls this while a slot is free)."""

    def cancel(self, job_id: Any) -> None:
        """Stop a running task within a second; it then reports ``cancelled`` and leaves no file."""

    def close(self) -> None:
        """Stop every worker; running tasks are abandoned (their staging folders removed)."""


@dataclass(eq=False)
class Job:
    task: RenderTask
    #: where the server sends this job's replies (the batch command leaves it empty)
    targets: list[Target] = field(default_factory=list)
    audition: bool = False
    fraction: float = 0.0
    last_report: float = 0.0
    sent: float = -1.0
    #: "queued", "running", or the final event
    state: str = "queued"
    pid: Optional[int] = None

    @property
    def id(self) -> Any:
        return self.task.id


class JobQueue:
    """Waiting jobs, running jobs, and one final event for each (see the module docstring)."""

    def __init__(self, backend: Callable[[Emit], Backend], notify: Notify, max_queue: Optional[int] = 8,
                 heartbeat: float = 1.0) -> None:
        self._notify, self.max_queue, self.heartbeat = notify, max_queue, heartbeat
        self._pending: collections.deque[Job] = collections.deque()
        self._running: dict[Any, Job] = {}
        self._lock = threading.RLock()
        self._idle = threading.Condition(self._lock)
        self._stopping = False
        self.backend = backend(self._on_event)
        self._ticker = threading.Thread(target=self._tick, name="gramophone-progress", daemon=True)
        self._ticker.start()

    def notify(self, job: Job, event: str, *args: Any) -> None:
        """Tell the front end; its failures are logged, never allowed to stop a backend's thread."""
        try:
            self._notify(job, event, *args)
        except Exception:
            log.exception("reporting %s for job %r failed", event, job.id)

    # ---- the front ends' side ------------------------------------------------------------
    def submit(self, job: Job) -> int:
        """Queue ``job``; returns its position (0: it starts now). Raises ``busy``/``duplicate_id``."""
        with self._lock:
            if self._stopping:
                raise GramophoneError("the server is shutting down", "shutting_down")
            if job.id in self._running or any(j.id == job.id for j in self._pending):
                raise GramophoneError(f"a job with id {job.id!r} is already queued or running", "duplicate_id")
            if self.max_queue is not None and len(self._pending) >= self.max_queue:
                raise GramophoneError(f"the queue is full ({self.max_queue} jobs); try again later", "busy")
            self._pending.append(job)
            self._pump()
            return 0 if job.state == "running" else self._pending.index(job) + 1

    def cancel(self, job_id: Any) -> Optional[str]:
        """Cancel by id: "queued" (removed, ``cancelled`` sent now), "running" (``cancelled``
        follows within a second) or None when there is no such job."""
        with self._lock:
            for job in self._pending:
                if job.id == job_id:
                    self._pending.remove(job)
                    job.state = "cancelled"
                    break
            else:
                if job_id in self._running:
                    self.backend.cancel(job_id)
                    return "running"
                return None
        self.notify(job, "cancelled")
        return "queued"

    def status(self) -> tuple[int, list[Any]]:
        """``(jobs waiting, ids of running jobs)``."""
        with self._lock:
            return len(self._pending), list(self._running)

    def wait_idle(self, timeout: Optional[float] = None) -> bool:
        """Block until nothing is waiting or running (the batch command's end)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._idle:
            while self._pending or self._running:
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    return False
                self._idle.wait(0.2 if left is None else min(left, 0.2))
        return True

    def stop(self, timeout: float = 10.0) -> None:
        """Cancel everything (queued: at once; running: within a second), then close the backend."""
        with self._lock:
            self._stopping = True
            dropped = list(self._pending)
            self._pending.clear()
            running = list(self._running)
        for job in dropped:
            job.state = "cancelled"
            self.notify(job, "cancelled")
        for job_id in running:
            self.backend.cancel(job_id)
        deadline = time.monotonic() + timeout
        with self._idle:
            while self._running and time.monotonic() < deadline:
                self._idle.wait(0.1)
        self.backend.close()

    # ---- the backend's side --------------------------------------------------------------
    def _pump(self) -> None:
        """Start waiting jobs while the backend has free slots (called with the lock held)."""
        while self._pending and len(self._running) < self.backend.slots and not self._stopping:
            job = self._pending.popleft()
            job.state = "running"
            job.last_report = time.monotonic()
            self._running[job.id] = job
            self.backend.start(job.task)
            job.sent = 0.0
            self.notify(job, "progress", 0.0)  # it has started (a worker may still be warming up)

    def _on_event(self, job_id: Any, event: str, *args: Any) -> None:
        with self._lock:
            job = self._running.get(job_id)
            if job is None:
                return  # a late report for a job that already ended
            if event in FINAL:
                del self._running[job_id]
                job.state = event
                self._pump()
                self._idle.notify_all()
        if event == "started":
            job.pid = args[0]
            self.notify(job, "started", *args)
        elif event == "progress":
            self._progress(job, float(args[0]))
        elif event == "take":  # one finished take of a job of several (number, count, path), before done
            self.notify(job, "take", *args)
        elif event in FINAL:
            if event == "done":
                self._progress(job, 1.0)
            self.notify(job, event, *args)

    def _progress(self, job: Job, fraction: float) -> None:
        """Forward progress at most 4 times a second (always 0 and 1)."""
        job.fraction = fraction
        now = time.monotonic()
        if fraction != job.sent and (fraction in (0.0, 1.0) or now - job.last_report >= 0.25):
            job.sent, job.last_report = fraction, now
            self.notify(job, "progress", fraction)

    def _tick(self) -> None:
        """Re-send a running job's progress when nothing was sent for ``heartbeat`` seconds."""
        while True:
            time.sleep(self.heartbeat / 10)
            with self._lock:
                if self._stopping and not self._running:
                    return
                running = list(self._running.values())
            for job in running:
                if job.state == "running" and time.monotonic() - job.last_report >= 0.75 * self.heartbeat:
                    job.last_report = time.monotonic()
                    self.notify(job, "progress", job.fraction)
