"""Ray tasks behind the job layer's backend interface (``gramophone batch/serve --ray``).

Each job is one Ray task (``max_retries=0``: a task whose worker dies is reported as
``worker_died``, as locally, and a re-run of the batch resumes). A style's statistics are put
in Ray's object store once per driver (``ray.put``) and every task that uses the style gets the
same object; Ray worker processes are reused, so each keeps its models warm. Tasks ask for
``cpus_per_job`` CPUs (their torch threads) and ``gpus_per_job`` GPUs. Progress and the
worker's process id travel through a small actor the driver polls. Results:

* shared paths (the default): the task renders into the output's staging folder, which every
  node sees; the driver publishes it (a rename) as the local backend does;
* ``ship_audio``: the task renders into a temporary folder on its node and returns the bytes;
  the driver writes them beside the output and publishes them the same way.

Cancel asks the task to stop (``ray.cancel``), and ends its worker (``force=True``) if it has
not stopped after ``cancel_grace`` seconds.
"""
from __future__ import annotations

import logging
import os
import threading
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Optional

from ..engine.errors import GramophoneError
from . import threads as thread_policy
from .jobs import Emit
from .ray_progress import ProgressSink
from .render_task import RenderTask, StyleCache, StyleSource, announce_takes, discard, publish
from .workers import CANCEL_GRACE

log = logging.getLogger("gramophone.ray")
#: a Ray worker process's models and statistics, kept between tasks (keyed by the object's id)
_WORKER_CACHE: Optional[StyleCache] = None
_WORKER_STATS: dict[str, Any] = {}


@dataclass(eq=False)
class _Running:
    task: RenderTask
    ref: Any
    cancel_at: Optional[float] = None
    forced: bool = False


def _import_ray() -> Any:
    try:
        import ray
    except ImportError:
        raise GramophoneError("--ray needs Ray: pip install 'gramophone[ray]'", "no_ray") from None
    return ray


class RayBackend:
    """Runs each task as a Ray task on the cluster at ``address`` (see the module docstring)."""

    def __init__(self, emit: Emit, address: Optional[str] = "auto", gpus_per_job: float = 0.0,
                 ship_audio: bool = False, cpus_per_job: int = 1, cancel_grace: float = CANCEL_GRACE,
                 threads: thread_policy.Setting = None) -> None:
        """``threads``: torch threads per task (None: the thread policy's auto, within ``cpus_per_job``)."""
        ray = self.ray = _import_ray()
        self.emit, self.ship_audio, self.cancel_grace = emit, ship_audio, cancel_grace
        if not ray.is_initialized():
            try:
                ray.init(address=address, logging_level=logging.WARNING, log_to_driver=False)
            except (ConnectionError, RuntimeError, ValueError) as exc:
                raise GramophoneError(f"cannot connect to the Ray cluster at {address!r}: {exc} (start one with "
                                      "'ray start --head', or give its address)", "no_cluster") from exc
        resources = ray.cluster_resources()
        if gpus_per_job > 0 and resources.get("GPU", 0) < gpus_per_job:
            raise GramophoneError(f"--gpus-per-job {gpus_per_job:g}, but the cluster has "
                                  f"{resources.get('GPU', 0):g} GPUs", "no_device")
        by_cpu = int(resources.get("CPU", 1) // cpus_per_job)
        by_gpu = int(resources.get("GPU", 0) // gpus_per_job) if gpus_per_job > 0 else by_cpu
        self.slots = max(1, min(by_cpu, by_gpu))
        thread_policy.prepare_environment()  # for the task's worker process, which imports torch when it starts
        wait = {k: os.environ[k] for k in sorted(thread_policy.WAIT_VARIABLES) if k in os.environ}
        self._remote = ray.remote(_render_task).options(num_cpus=cpus_per_job, num_gpus=gpus_per_job,
                                                         max_retries=0, runtime_env={"env_vars": wait})
        self._threads = (threads, cpus_per_job)
        self._sink = ray.remote(ProgressSink).options(num_cpus=0).remote()
        self._styles: dict[tuple, Any] = {}  # style key -> ObjectRef of its statistics
        self._driver_cache = StyleCache()
        self._running: dict[Any, _Running] = {}
        self._lock = threading.Lock()
        self._closing = False
        self._thread = threading.Thread(target=self._watch, name="gramophone-ray", daemon=True)
        self._thread.start()

    # ---- the job queue's side ------------------------------------------------------------
    def start(self, task: RenderTask) -> None:
        try:
            style = self._style_ref(task.style)
            blend = None if task.blend_to is None else self._style_ref(task.blend_to)
        except Exception as exc:  # a bad preset or style: this job's error, reported like any other
            from .render_task import error_fields

            threading.Thread(target=self.emit, args=(task.id, "error", *error_fields(exc)), daemon=True).start()
            return
        ref = self._remote.remote(task, style, self._sink, self.ship_audio, self._threads, blend)
        with self._lock:
            self._running[task.id] = _Running(task, ref)

    def cancel(self, job_id: Any) -> None:
        with self._lock:
            running = self._running.get(job_id)
            if running is None or running.cancel_at is not None:
                return
            running.cancel_at = time.monotonic()
        self.ray.cancel(running.ref, force=False)

    def close(self) -> None:
        with self._lock:
            self._closing = True
            running = list(self._running.values())
            self._running.clear()
        for r in running:
            try:
                self.ray.cancel(r.ref, force=True)
            except Exception:
                pass
            discard(r.task.staging)
        self._thread.join(2)

    # ---- driver side ---------------------------------------------------------------------
    def _style_ref(self, source: StyleSource) -> Any:
        """The object-store reference of a style's statistics (a task's, or its blend's second
        style), put there once per style."""
        key = source.key()
        if key not in self._styles:
            import numpy as np

            from .render_task import model_spec

            model, stats = self._driver_cache.style(source)
            spec = model_spec(model.name, model.params, source.weights)
            payload = {"key": repr(key), "model_spec": spec,
                       "stats": {k: np.ascontiguousarray(v.detach().cpu().numpy()) for k, v in stats.items()}}
            self._styles[key] = self.ray.put(payload)
        return self._styles[key]

    def _watch(self) -> None:
        ray = self.ray
        while not self._closing:
            with self._lock:
                refs = {r.ref: r for r in self._running.values()}
            if refs:
                ready, _ = ray.wait(list(refs), num_returns=len(refs), timeout=0.1, fetch_local=True)
            else:
                ready = []
                time.sleep(0.05)
            self._forward_progress()
            for ref in ready:
                self._finish(refs[ref])
            self._enforce_cancels()

    def _forward_progress(self) -> None:
        try:
            events = self.ray.get(self._sink.drain.remote(), timeout=5)
        except Exception:
            return
        for job_id, event, *args in events:
            with self._lock:
                known = job_id in self._running
            if known:
                self.emit(job_id, event, *args)

    def _finish(self, running: _Running) -> None:
        ray, task = self.ray, running.task
        with self._lock:
            if self._running.get(task.id) is not running:
                return
            del self._running[task.id]
        try:
            outcome = ray.get(running.ref)
        except Exception as exc:
            discard(task.staging)
            if running.cancel_at is not None:
                self.emit(task.id, "cancelled")
            else:
                log.warning("Ray task for job %r failed: %s", task.id, exc)
                self.emit(task.id, "error", "worker_died",
                          f"the Ray worker running this render stopped unexpectedly ({type(exc).__name__}); "
                          "nothing was written: run it again")
            return
        kind, *args = outcome
        if kind != "rendered":
            discard(task.staging)
            self.emit(task.id, kind, *args)
            return
        result = args[0]
        if running.cancel_at is not None:
            if not self.ship_audio:
                discard(result["staging"])
            self.emit(task.id, "cancelled")
            return
        try:
            if self.ship_audio:
                staging = Path(task.staging)
                staging.mkdir()
                for name in result["files"]:
                    (staging / name).write_bytes(result["data"][name])
                result["staging"] = str(staging)
            publish(result["staging"], task.output, result["files"])
        except OSError as exc:
            discard(task.staging)
            self.emit(task.id, "error", "write_failed", f"could not write {task.output}: {exc.strerror or exc}")
            return
        announce_takes(self.emit, task.id, result)
        self.emit(task.id, "done", result.get("outputs", [task.output])[0], result["seconds"])

    def _enforce_cancels(self) -> None:
        now = time.monotonic()
        with self._lock:
            late = [r for r in self._running.values() if r.cancel_at is not None and not r.forced
                    and now - r.cancel_at > self.cancel_grace]
        for r in late:
            r.forced = True
            try:
                self.ray.cancel(r.ref, force=True)
            except Exception as exc:  # it may have finished in between
                log.info("could not end the Ray task of job %r: %s", r.task.id, exc)


def _render_task(task: RenderTask, style: dict, sink: Any, ship_audio: bool,
                 threads: tuple[thread_policy.Setting, int], blend: Optional[dict] = None) -> tuple:
    """The Ray task: render one job (in a Ray worker process, which keeps its cache between tasks)."""
    import shutil
    import tempfile

    import torch

    from ..engine import RenderCancelled
    from .render_task import error_fields, run_task

    global _WORKER_CACHE
    if _WORKER_CACHE is None:
        _WORKER_CACHE = StyleCache()
    used = thread_policy.apply(*threads)
    def worker_stats(payload: dict) -> dict:
        """The object store's arrays are read-only: copied once per worker (the last two styles kept)."""
        if payload["key"] not in _WORKER_STATS:
            while len(_WORKER_STATS) >= 2:
                _WORKER_STATS.pop(next(iter(_WORKER_STATS)))
            _WORKER_STATS[payload["key"]] = {k: torch.from_numpy(v.copy()) for k, v in payload["stats"].items()}
        return _WORKER_STATS[payload["key"]]

    stats = worker_stats(style)
    second = None if blend is None else {"blend_model_spec": blend["model_spec"], "blend_stats": worker_stats(blend)}
    sink.put.remote((task.id, "started", os.getpid(), used))
    last = [0.0]

    def progress(fraction: float, loss: float) -> None:
        now = time.monotonic()
        if fraction in (0.0, 1.0) or now - last[0] >= 0.2:
            last[0] = now
            sink.put.remote((task.id, "progress", fraction))

    local = tempfile.mkdtemp(prefix="gramophone-ray-") if ship_audio else None
    run = replace(task, staging=str(Path(local) / "out") if local else task.staging,
                  extra={"model_spec": style["model_spec"], "stats": stats, **(second or {})})
    try:
        result = run_task(run, _WORKER_CACHE, thread_policy.following(progress, *threads))
        if local:
            staging = Path(result["staging"])
            result["data"] = {name: (staging / name).read_bytes() for name in result["files"]}
        return ("rendered", result)
    except (RenderCancelled, KeyboardInterrupt):
        return ("cancelled",)
    except Exception as exc:
        return ("error", *error_fields(exc))
    finally:
        if local:
            shutil.rmtree(local, ignore_errors=True)
