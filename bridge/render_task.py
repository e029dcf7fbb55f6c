"""One render job as plain data, and the code that runs it wherever it runs.

A :class:`RenderTask` is what the job layer hands to a local worker process or a Ray task:
paths, where the style comes from, and the settings (all picklable, no tensors). Running it
(:func:`run_task`) resolves the style through a per-process :class:`StyleCache` (so a warm
worker builds each model and loads each preset once), renders with
``engine.pipeline.render_file`` into the task's *staging folder*, and then publishes the files
beside the output (:func:`publish`). Whoever started the task deletes the staging folder if the
process running it dies, so a killed render never leaves a file behind.
"""
from __future__ import annotations

import os
import shutil
import uuid
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Optional

from ..engine import DEFAULT_MODEL, RenderSettings
from ..engine.errors import GramophoneError
from ..engine.files import free_bytes, out_of_space

#: ``(model name, model params, weights path or None)``: what builds a model.
ModelSpec = tuple[str, tuple[tuple[str, Any], ...], Optional[str]]
STAGING_SUFFIX = ".gramophone-tmp"


@dataclass(frozen=True)
class StyleSource:
    """Where a job's style comes from: a preset file, or style audio analysed with ``model``."""

    preset_path: Optional[str] = None
    style_files: tuple[str, ...] = ()
    model: str = DEFAULT_MODEL
    #: vgg19/soundnet: the weights file (a preset names its file by hash; the caller finds it)
    weights: Optional[str] = None
    random_weights: bool = False

    def key(self) -> tuple:
        return (self.preset_path, self.style_files, self.model, self.weights, self.random_weights)


@dataclass(frozen=True)
class RenderTask:
    """One render: ``content`` → ``output`` in the style of ``style`` with ``settings``."""

    id: Any
    content: str
    output: str
    style: StyleSource
    settings: RenderSettings
    #: a private folder beside the output that the render writes into before publishing
    staging: str = ""
    #: the render's estimated peak memory in MB (``engine.memory_budget``; 0: not estimated)
    memory_mb: float = 0.0
    #: extra: statistics already resolved by the caller (Ray passes them through the object store)
    extra: dict = field(default_factory=dict, compare=False)
    #: a second style, which ``settings.blend`` moves to (:mod:`engine.style_blend`); resolved where
    #: the task runs, or by the caller as the first style is (Ray: ``extra``'s ``blend_stats``)
    blend_to: Optional[StyleSource] = None

    @staticmethod
    def staging_for(output: str | os.PathLike) -> str:
        out = Path(output)
        return str(out.parent / f".{out.name}.{uuid.uuid4().hex[:12]}{STAGING_SUFFIX}")


class StyleCache:
    """Models and style statistics a process has built, most recently used kept (a warm worker)."""

    def __init__(self, size: int = 8) -> None:
        self.size = size
        self._models: OrderedDict[ModelSpec, Any] = OrderedDict()
        self._styles: OrderedDict[tuple, tuple[Any, Any]] = OrderedDict()

    def model(self, spec: ModelSpec) -> Any:
        from ..engine import get_model

        if spec not in self._models:
            name, params, weights = spec
            kwargs = dict(params)
            if weights is not None:
                kwargs["weights_path"] = weights
            self._remember(self._models, spec, get_model(name, **kwargs))
        self._models.move_to_end(spec)
        return self._models[spec]

    def style(self, source: StyleSource) -> tuple[Any, Any]:
        """``(model, statistics)`` for ``source``; a preset file is re-read when it changes."""
        from ..engine import preset_format
        from ..engine.pipeline import style_from_files

        if source.preset_path is not None:
            path = Path(source.preset_path)
            try:
                stamp: Any = path.stat().st_mtime_ns
            except OSError:
                raise GramophoneError(f"preset file is gone: {path}", "no_preset") from None
        else:
            stamp = tuple(_stamp(f) for f in source.style_files)
        key = (source.key(), stamp)
        if key not in self._styles:
            if source.preset_path is not None:
                preset = preset_format.load(source.preset_path)
                model = self.model(model_spec(preset.model, preset.params, source.weights))
                stats = preset.stats
            else:
                params = {"weights": "random"} if source.random_weights else {}
                model = self.model(model_spec(source.model, params, source.weights))
                stats = style_from_files(list(source.style_files), model)
            self._remember(self._styles, key, (model, stats))
        self._styles.move_to_end(key)
        return self._styles[key]

    def _remember(self, table: OrderedDict, key: Any, value: Any) -> None:
        table[key] = value
        while len(table) > self.size:
            table.popitem(last=False)


def model_spec(model: str, params: dict, weights: Optional[str]) -> ModelSpec:
    """The key a model is built and cached by (hashable; the Ray backend ships it with the statistics)."""
    return (model, tuple(sorted((k, v) for k, v in params.items())), weights)


def _stamp(path: str) -> tuple[int, int]:
    try:
        st = os.stat(path)
    except OSError:
        return (0, 0)  # read_audio reports the missing file
    return (st.st_size, st.st_mtime_ns)


def run_task(task: RenderTask, cache: StyleCache, progress: Optional[Callable[[float, float], None]] = None,
             cancel: Any = None) -> dict[str, Any]:
    """Render ``task`` into its staging folder (created here) and return what was written.

    The result holds ``seconds``, ``files`` (names in the staging folder, the audio last) and
    ``outputs`` (where each take's audio lands once published: the output itself, or its
    ``-v1``, ``-v2`` ... takes, :mod:`engine.takes`); :func:`publish` moves them beside the
    output. The takes share the style, resolved once. Raises like ``render_file``; on any
    failure the staging folder is removed.
    """
    from ..engine.pipeline import render_takes

    staging = Path(task.staging or RenderTask.staging_for(task.output))
    if "model_spec" in task.extra:  # statistics resolved by the caller (Ray: from the object store)
        model, stats = cache.model(task.extra["model_spec"]), task.extra["stats"]
    else:
        model, stats = cache.style(task.style)
    blend_to = blend_named = None
    if task.blend_to is not None:
        from ..engine.recorded_style import check_same_model

        if "blend_stats" in task.extra:  # resolved by the caller, as the first style may be
            second, blend_to = cache.model(task.extra["blend_model_spec"]), task.extra["blend_stats"]
        else:
            second, blend_to = cache.style(task.blend_to)
        blend_named = _origin(task.blend_to)
        check_same_model(model, second, f"preset '{blend_named.preset}'" if blend_named.preset else "the second style")
    target = staging / Path(task.output).name
    try:
        staging.mkdir()
        results = render_takes(task.content, target, model, stats, task.settings, progress, cancel,
                               source=_origin(task.style), blend_to=blend_to, blend_source=blend_named)
    except BaseException as exc:
        shutil.rmtree(staging, ignore_errors=True)
        # the sidecar reports a full disk as write_failed (the CLI's output is there); its cause says disk_full
        full = any(getattr(e, "code", None) == "disk_full" for e in (exc, exc.__cause__))
        if full or isinstance(exc, OSError) and out_of_space(exc, staging.parent):
            raise GramophoneError(f"no space left on the disk of {staging.parent} "
                                  f"({free_bytes(staging.parent) // 1024} KiB free) to write "
                                  f"{Path(task.output).name}; nothing was written", "disk_full") from exc
        raise
    audio = [r.output_path.name for r in results]
    names = sorted(p.name for p in staging.iterdir() if p.name not in audio) + audio
    return {"seconds": sum(r.seconds for r in results), "files": names, "staging": str(staging),
            "outputs": [str(Path(task.output).with_name(name)) for name in audio]}


def _origin(source: StyleSource) -> Any:
    """What a sidecar records of ``source``: the preset's name, or the style files."""
    from ..engine import sidecar

    return sidecar.StyleOrigin(preset=Path(source.preset_path).stem if source.preset_path else None,
                               files=source.style_files)


def publish(staging: str | os.PathLike, output: str | os.PathLike, files: list[str]) -> Path:
    """Move ``files`` from ``staging`` beside ``output`` (the audio, last in ``files``, becomes
    ``output``); each move is a rename, so every file appears whole or not at all."""
    staging, out = Path(staging), Path(output)
    try:
        for name in files:  # the render wrote the output under its own name, so names carry over
            os.replace(staging / name, out.parent / name)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return out


def announce_takes(emit: Callable[..., None], job_id: Any, result: dict[str, Any]) -> None:
    """Report each published take of a job of several (``take`` events: number, count, path),
    before its ``done``; a job of one take has none, as before variations."""
    outputs = result.get("outputs", [])
    if len(outputs) > 1:
        for number, path in enumerate(outputs, start=1):
            emit(job_id, "take", number, len(outputs), path)


def discard(staging: str | os.PathLike) -> None:
    """Remove a staging folder left by a render that did not finish (a killed worker)."""
    if staging:
        shutil.rmtree(staging, ignore_errors=True)


def error_fields(exc: BaseException) -> tuple[str, str]:
    """``(code, message)`` for an exception raised by a render."""
    if isinstance(exc, GramophoneError):
        return exc.code, str(exc)
    if isinstance(exc, MemoryError):
        return "out_of_memory", "the render ran out of memory; try a shorter clip or fewer jobs at once"
    return "internal", f"{type(exc).__name__}: {exc}"


def settings_dict(settings: RenderSettings) -> dict[str, Any]:
    """The settings as a plain, JSON-safe dict (for summaries and resume checks): an automated
    setting as its envelope's text."""
    from dataclasses import asdict

    from ..engine.automation import Envelope

    return {k: str(v) if isinstance(v, Envelope) else v for k, v in asdict(settings).items()}


def create_preset(user_dir: str, shipped_dir: str, name: str, style: str, model: str, extra: dict,
                  description: str, force: bool) -> None:
    """Analyse ``style`` into the user preset ``name`` (run in its own process by the server)."""
    from ..engine import get_model, preset_format
    from ..engine.preset_store import PresetStore

    preset = preset_format.create(name, [style], get_model(model, **extra), description)
    PresetStore(Path(user_dir), Path(shipped_dir)).save(preset, force=force)
