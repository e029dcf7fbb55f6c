"""Local render workers: one spawned process per slot, warm between jobs, replaced when they die.

Each worker is started with the ``spawn`` method (never ``fork``: forking a process that has
imported torch can deadlock in its thread pools) and keeps a :class:`~bridge.render_task.StyleCache`,
so a preset is loaded and its model built once per worker, not once per job. One thread in the
parent watches every worker's pipe and process handle (``multiprocessing.connection.wait``):

* progress and results travel over the pipe; the parent publishes a finished render's files
  (renames out of the staging folder), so a cancel can never race a half-published output;
* cancel asks the worker (its render stops at the next iteration); a worker that has not
  stopped after ``cancel_grace`` seconds is killed and replaced, and its staging folder deleted;
* a worker that dies (killed, crashed, out of memory) costs its job ``error worker_died`` and
  is replaced at once; the other workers and the caller carry on.
"""
from __future__ import annotations

import logging
import multiprocessing as mp
import os
import queue
import signal
import threading
import time
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from typing import Any, Optional

from . import threads as thread_policy
from .jobs import Emit
from .render_task import RenderTask, announce_takes, discard, error_fields, publish

log = logging.getLogger("gramophone.workers")
#: seconds a running render gets to stop by itself after a cancel before its worker is killed
CANCEL_GRACE = 0.5
PROGRESS_EVERY = 0.2


def default_jobs(cores: Optional[int] = None) -> int:
    """One worker per two cores (the optimiser uses two threads well), at least one."""
    return max(1, (cores or os.cpu_count() or 1) // 2)


def threads_per_job(jobs: int, cores: Optional[int] = None) -> int:
    """The most torch threads a worker takes, so that all workers together use every core once."""
    return max(1, (cores or thread_policy.cores()) // max(1, jobs))


@dataclass(eq=False)
class _Worker:
    process: Any
    conn: Connection
    task: Optional[RenderTask] = None
    cancel_at: Optional[float] = None  # when a cancel was asked for the running task
    oom_kills: Optional[int] = None  # the kernel's out-of-memory kill count when the task started


class LocalWorkers:
    """The default backend: ``jobs`` worker processes on this machine (see the module docstring)."""

    def __init__(self, emit: Emit, jobs: int = 1, threads: thread_policy.Setting = None,
                 cancel_grace: float = CANCEL_GRACE, nice: int = 0) -> None:
        """``threads``: torch threads per render (None: the thread policy's auto, within
        :func:`threads_per_job`). ``nice``: how much lower the workers' CPU priority is (the server
        passes 10, so that a render never delays its socket thread, or the music software on the
        same machine)."""
        self.emit, self.slots, self.cancel_grace, self.nice = emit, max(1, jobs), cancel_grace, nice
        self.threads, self.cap = threads, threads_per_job(self.slots)
        thread_policy.prepare_environment()  # the workers inherit it, before they import torch
        self._ctx = mp.get_context("spawn")
        self._lock = threading.Lock()
        self._closing = False
        self._workers = [self._spawn() for _ in range(self.slots)]
        self._thread = threading.Thread(target=self._watch, name="gramophone-workers", daemon=True)
        self._thread.start()

    # ---- the job queue's side ------------------------------------------------------------
    def start(self, task: RenderTask) -> None:
        with self._lock:
            worker = next(w for w in self._workers if w.task is None)
            worker.task, worker.cancel_at, worker.oom_kills = task, None, oom_kills()
            worker.conn.send(("run", task))

    def cancel(self, job_id: Any) -> None:
        with self._lock:
            for w in self._workers:
                if w.task is not None and w.task.id == job_id and w.cancel_at is None:
                    w.cancel_at = time.monotonic()
                    try:
                        w.conn.send(("cancel", job_id))
                    except OSError:
                        pass  # it is dying; the watcher reports it

    def pids(self) -> list[int]:
        """The worker processes' ids (for tests and ``status``)."""
        with self._lock:
            return [w.process.pid for w in self._workers]

    def close(self) -> None:
        with self._lock:
            self._closing = True
            workers = list(self._workers)
        for w in workers:
            try:
                w.conn.send(("stop",))
            except OSError:
                pass
        deadline = time.monotonic() + 0.3  # idle workers exit at once; one still importing torch is killed
        for w in workers:
            w.process.join(max(0.0, deadline - time.monotonic()))
            if w.process.is_alive():
                w.process.kill()
                w.process.join(5)
            if w.task is not None:
                discard(w.task.staging)
        self._thread.join(2)

    # ---- the watcher thread --------------------------------------------------------------
    def _spawn(self) -> _Worker:
        parent, child = self._ctx.Pipe()
        process = self._ctx.Process(target=worker_main, args=(child, self.threads, self.cap, self.nice),
                                    name="gramophone-worker", daemon=True)
        process.start()
        child.close()
        return _Worker(process, parent)

    def _watch(self) -> None:
        while True:
            with self._lock:
                if self._closing:
                    return
                handles: dict[Any, _Worker] = {w.conn: w for w in self._workers}
                handles.update({w.process.sentinel: w for w in self._workers})
            for ready in wait(list(handles), timeout=0.05):
                worker = handles[ready]
                if ready is worker.conn:
                    self._drain(worker)
                elif not self._closing:
                    self._drain(worker)
                    self._replace(worker, died=True)
            self._enforce_cancels()

    def _drain(self, worker: _Worker) -> None:
        """Handle every message waiting on the worker's pipe."""
        try:
            while worker.conn.poll():
                self._handle(worker, worker.conn.recv())
        except (EOFError, OSError):
            pass  # the process is gone; its sentinel reports it

    def _handle(self, worker: _Worker, message: tuple) -> None:
        kind, job_id, *args = message
        task = worker.task
        if task is None or task.id != job_id:
            return
        if kind == "rendered":
            result = args[0]
            if worker.cancel_at is not None:  # asked to stop while it finished: honour the cancel
                discard(result["staging"])
                self._finish(worker, "cancelled")
                return
            try:
                publish(result["staging"], task.output, result["files"])
            except OSError as exc:
                discard(result["staging"])
                self._finish(worker, "error", "write_failed", f"could not move the render into place: {exc}")
                return
            announce_takes(self.emit, task.id, result)
            self._finish(worker, "done", result.get("outputs", [task.output])[0], result["seconds"])
        elif kind in ("error", "cancelled"):
            self._finish(worker, kind, *args)
        else:  # "started", "progress"
            self.emit(job_id, kind, *args)

    def _finish(self, worker: _Worker, event: str, *args: Any) -> None:
        task = worker.task
        assert task is not None, "a worker finished without a task"
        with self._lock:
            worker.task, worker.cancel_at = None, None
        self.emit(task.id, event, *args)

    def _enforce_cancels(self) -> None:
        now = time.monotonic()
        with self._lock:
            late = [w for w in self._workers if w.task is not None and w.cancel_at is not None
                    and now - w.cancel_at > self.cancel_grace]
        for worker in late:
            log.info("worker %d did not stop within %.1f s of a cancel; ending it", worker.process.pid,
                     self.cancel_grace)
            worker.process.kill()
            worker.process.join(5)
            self._drain(worker)  # it may have finished after all
            self._replace(worker, died=False)

    def _replace(self, worker: _Worker, died: bool) -> None:
        """Put a fresh process in ``worker``'s place; its unfinished job is cancelled or lost."""
        with self._lock:
            if self._closing or worker not in self._workers:
                return
            task, cancelled = worker.task, worker.cancel_at is not None
            worker.task = None
            self._workers[self._workers.index(worker)] = self._spawn()
        worker.process.join(1)
        worker.conn.close()
        if task is None:
            if died:
                log.warning("an idle worker stopped (%s); started another", _exit_reason(worker.process.exitcode))
            return
        discard(task.staging)
        if cancelled:
            self.emit(task.id, "cancelled")
        else:
            reason = death_cause(worker.process.exitcode, worker.oom_kills, task.memory_mb)
            log.warning("worker running job %r stopped (%s); started another", task.id, reason)
            self.emit(task.id, "error", "worker_died",
                      f"the render process stopped unexpectedly ({reason}); nothing was written, and a new "
                      "worker has started: send the job again")


def _exit_reason(code: Optional[int]) -> str:
    if code is None:
        return "no exit status"
    if code < 0:
        name = signal.Signals(-code).name if -code in signal.Signals._value2member_map_ else str(-code)
        return f"signal {name}"
    return f"exit status {code}"


def oom_kills() -> Optional[int]:
    """How many processes the kernel's out-of-memory killer has ended since boot (``oom_kill`` in
    /proc/vmstat, Linux 4.13+); None where that is not known."""
    try:
        with open("/proc/vmstat") as f:
            for line in f:
                if line.startswith("oom_kill "):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return None


def death_cause(code: Optional[int], oom_before: Optional[int], memory_mb: float = 0.0) -> str:
    """How a worker stopped and its likely cause: the kernel's out-of-memory killer when its kill
    count rose while the job ran (with the job's estimated peak and the memory available now)."""
    from ..engine.memory_budget import available_mb

    reason = _exit_reason(code)
    now = oom_kills()
    if code == -signal.SIGKILL and oom_before is not None and now is not None and now > oom_before:
        estimate = f"estimated at {memory_mb:.0f} MB, " if memory_mb else ""
        return (f"{reason}: likely cause: out of memory, the kernel's out-of-memory killer ended a process while "
                f"it ran ({estimate}{available_mb():.0f} MB available now; see --max-memory)")
    if code == -signal.SIGKILL:
        return f"{reason}: killed by another process or a user (the kernel reports no out-of-memory kill)"
    if code is not None and code < 0:
        return f"{reason}: the render process crashed"
    return reason


# ---- inside the worker process -------------------------------------------------------------
def worker_main(conn: Connection, threads: thread_policy.Setting, cap: int, nice: int = 0) -> None:
    """A worker process: render the tasks the parent sends, one at a time, until told to stop;
    each render's threads are chosen as it starts (``threads``, or auto within ``cap``)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the whole process group: the parent decides
    from .responsiveness import yield_cpu

    yield_cpu(nice)  # nice, and on Linux a scheduling group of its own (see there)
    from ..engine import CancelToken, RenderCancelled
    from .render_task import StyleCache, run_task

    cache = StyleCache()
    tasks: queue.Queue[Optional[RenderTask]] = queue.Queue()
    state: dict[str, Any] = {"id": None, "token": None, "cancelled": set()}
    lock, send_lock = threading.Lock(), threading.Lock()

    def send(message: tuple) -> None:
        with send_lock:
            conn.send(message)

    def read() -> None:
        while True:
            try:
                message = conn.recv()
            except (EOFError, OSError):  # the parent is gone: stop the render, then exit
                message = ("stop",)
            if message[0] == "run":
                tasks.put(message[1])
            elif message[0] == "cancel":
                with lock:
                    if state["id"] == message[1]:
                        state["token"].cancel()
                    else:
                        state["cancelled"].add(message[1])
            else:
                with lock:
                    if state["token"] is not None:
                        state["token"].cancel()
                tasks.put(None)
                return

    threading.Thread(target=read, name="gramophone-worker-pipe", daemon=True).start()
    while True:
        task = tasks.get()
        if task is None:
            return
        token = CancelToken()
        with lock:
            state["id"], state["token"] = task.id, token
            if task.id in state["cancelled"]:
                token.cancel()
        last = [0.0]

        def progress(fraction: float, loss: float, job_id: Any = task.id) -> None:
            now = time.monotonic()
            if fraction in (0.0, 1.0) or now - last[0] >= PROGRESS_EVERY:
                last[0] = now
                send(("progress", job_id, fraction))

        try:
            send(("started", task.id, os.getpid(), thread_policy.apply(threads, cap)))
            token.check()
            send(("rendered", task.id, run_task(task, cache, thread_policy.following(progress, threads, cap), token)))
        except RenderCancelled:
            send(("cancelled", task.id))
        except Exception as exc:
            send(("error", task.id, *error_fields(exc)))
        with lock:
            state["id"], state["token"] = None, None
