"""``gramophone batch``: render many clips × styles × strengths in one run, resumably.

1. **Plan** (:func:`plan`): the inputs' clips crossed with the presets/styles and strengths
   (a manifest row fixes its own), each given an output under ``-o`` from the name template,
   mirroring sub-folders. Problems that could lose data refuse the whole batch before any work:
   an output outside ``-o`` (``forbidden_path``), an output that is one of the content files or
   not an audio file (``bad_output``), two items with one output (``duplicate_output``). Problems
   with one item (missing or unreadable clip, unknown preset, bad setting) are recorded for that
   item and the rest go on.
2. **Resume**: each item has a *fingerprint* (the content's hash, the style's identity, every
   setting, the output). ``DIR/batch.json``, rewritten atomically after every finished item,
   records it; an item whose output still exists as recorded with the same fingerprint is
   skipped. Outputs are published by rename, so an interrupted run leaves no partial file.
3. **Run** (:func:`run`): the items go to the job layer (:class:`~bridge.jobs.JobQueue`) on local
   worker processes or Ray; one progress bar (done/total, clips per minute, ETA), one line per
   failure; at the end ``batch.json`` and a table.
"""
from __future__ import annotations

import hashlib
import json
import os
import sys
import threading
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable, Optional, Sequence, TextIO

from .. import __version__
from ..engine import RenderSettings
from ..engine import automation
from ..engine.audio_io import WRITE_EXTENSIONS, probe_audio
from ..engine.automation import Automatable
from ..engine.takes import take_path, take_settings
from ..engine.errors import GramophoneError
from ..engine.models import check_model_name
from ..engine.settings import exposed_in
from ..engine.files import atomic_write, file_sha256
from ..engine.preset_store import PresetStore

from .jobs import Backend, Emit, Job, JobQueue
from .manifest import Row, collect, style_label
from .render_task import RenderTask, StyleSource, settings_dict

DEFAULT_NAME = "{stem}.{preset}.s{strength}.wav"
SUMMARY = "batch.json"
SUMMARY_VERSION = 1
#: render settings a manifest row may set (the rest come from the command line); strength, which
#: the batch crosses, is set on the item itself
ROW_SETTINGS = tuple(s.name for s in exposed_in("manifest") if not s.crossed)


@dataclass(frozen=True)
class StyleChoice:
    """A style the command line names: a preset, or style files (pooled) analysed with ``model``."""

    preset: Optional[str] = None
    style: tuple[str, ...] = ()


@dataclass
class Item:
    """One render of the batch and, once known, its outcome."""

    index: int
    content: Path
    label: str
    #: a number, or an envelope (:mod:`engine.automation`)
    strength: Automatable
    output: Path
    source: Optional[StyleSource] = None
    settings: Optional[RenderSettings] = None
    #: the second style a blend moves to (``--blend-to``, a manifest's ``blend_to``)
    blend_to: Optional[StyleSource] = None
    fingerprint: str = ""
    #: "pending", "done", "skipped" (done by an earlier run), "error" or "cancelled"
    status: str = "pending"
    seconds: float = 0.0
    code: str = ""
    message: str = ""

    def record(self, out_dir: Path) -> dict[str, Any]:
        entry: dict[str, Any] = {
            "content": str(self.content), "style": self.label,
            "strength": self.strength if isinstance(self.strength, float) else str(self.strength),
            "output": str(self.output.relative_to(out_dir)), "status": self.status, "seconds": round(self.seconds, 3),
            "error": {"code": self.code, "message": self.message} if self.code else None,
            "fingerprint": self.fingerprint,
            "settings": settings_dict(self.settings) if self.settings else None,
        }
        if self.status in ("done", "skipped") and self.output.exists():
            st = self.output.stat()
            entry["file"] = {"bytes": st.st_size, "mtime_ns": st.st_mtime_ns}
        return entry


@dataclass
class Plan:
    out_dir: Path
    items: list[Item] = field(default_factory=list)


# ---- planning -----------------------------------------------------------------------------
def plan(inputs: Sequence[str], out_dir: str | os.PathLike, styles: Sequence[StyleChoice], strengths: Sequence[Automatable],
         base: RenderSettings, store: PresetStore, name: str = DEFAULT_NAME, model: Optional[str] = None,
         weights: Optional[str] = None, random_weights: bool = False, blend_to: Optional[str] = None) -> Plan:
    """Every item of the batch, validated (see the module docstring); nothing is written.
    ``blend_to``: the preset a blend moves to (a manifest row's ``blend_to`` overrides it)."""
    out = Path(os.path.realpath(Path(out_dir).expanduser()))
    _check_template(name)
    # files found by scanning a folder that holds -o are earlier outputs, not inputs
    rows = [r for r in collect(inputs) if not (r.scanned and str(r.content).startswith(str(out) + os.sep))]
    if not rows:
        raise GramophoneError("no audio files found in the inputs", "no_input")
    items: list[Item] = []
    for row in rows:
        choices = _row_styles(row, styles)
        for choice in choices:
            for strength in ([row.fixed["strength"]] if "strength" in row.fixed else list(strengths)):
                item = _item(len(items), row, choice, strength, out, name, base, store,
                             row.fixed.get("model", model), weights, random_weights,
                             row.fixed.get("blend_to", blend_to))
                items.extend(_takes(item, len(items)))
    _check_outputs(items, out)
    for item in items:
        if item.status == "pending":
            item.fingerprint = fingerprint(item, out)
    return Plan(out, items)


def check_lengths(batch: Plan, max_seconds: Optional[float]) -> None:
    """Refuse (``too_long``, before any work) each pending item whose content or style clip is
    longer than ``max_seconds`` (None: no limit), from the files' headers; the rest go on."""
    from ..engine.audio_io import check_length

    if max_seconds is None:
        return
    for item in batch.items:
        if item.status != "pending":
            continue
        try:
            check_length(item.content, max_seconds, "the content clip")
            for style in (item.source.style_files if item.source is not None else ()) or ():
                check_length(style, max_seconds, "the style clip")
        except GramophoneError as exc:
            item.status, item.code, item.message = "error", exc.code, str(exc)


def check_memory(batch: Plan, budget: Optional[float]) -> None:
    """Refuse (``over_budget``, before any work) each pending item whose estimated peak memory is
    over ``budget`` MB (None: what the machine has available now); the rest go on."""
    from ..engine.memory_budget import check_budget, estimate_render

    for item in batch.items:
        if item.status != "pending" or item.source is None or item.settings is None:
            continue
        src = item.source
        try:
            check_budget(estimate_render(item.content, item.settings, preset_path=src.preset_path,
                                         style_files=src.style_files, model=src.model), budget)
        except GramophoneError as exc:
            item.status, item.code, item.message = "error", exc.code, str(exc)


def _row_styles(row: Row, styles: Sequence[StyleChoice]) -> list[StyleChoice]:
    if "preset" in row.fixed:
        return [StyleChoice(preset=row.fixed["preset"])]
    if "style" in row.fixed:
        return [StyleChoice(style=row.fixed["style"])]
    if not styles:
        raise GramophoneError(f"no style for {row.content}: give --preset NAME or --style FILE "
                              "(or a preset/style column in the manifest)", "no_style")
    return list(styles)


def _item(index: int, row: Row, choice: StyleChoice, strength: Automatable, out: Path, name: str, base: RenderSettings,
          store: PresetStore, model: Optional[str], weights: Optional[str], random_weights: bool,
          blend_to: Optional[str] = None) -> Item:
    label = style_label(choice.preset, choice.style) + (f"-to-{blend_to}" if blend_to else "")
    settings = replace(base, strength=strength, **{k: row.fixed[k] for k in ROW_SETTINGS if k in row.fixed})
    if "output" in row.fixed:
        given = Path(row.fixed["output"]).expanduser()
        output = given if given.is_absolute() else out / given
    else:
        fields = {"stem": row.content.stem, "preset": label, "strength": automation.slug(strength), "seed": settings.seed,
                  "iterations": settings.iterations if settings.iterations is not None else "default",
                  "model": model or ""}
        output = out / row.subfolder / name.format(**fields)
    item = Item(index, row.content, label, strength, Path(os.path.abspath(output)))
    try:  # problems with this item alone: recorded, the rest go on
        item.settings = settings.validated()
        item.source = _source(choice, store, model, weights, random_weights)
        item.blend_to = _second_source(blend_to, item.source, store, weights)
        if item.blend_to is None:
            from ..engine.pipeline import check_blend

            check_blend(item.settings, None)
        probe_audio(row.content)
    except GramophoneError as exc:
        item.status, item.code, item.message = "error", exc.code, str(exc)
    return item


def _takes(item: Item, index: int) -> list[Item]:
    """``item``, or with ``variations`` N > 1 its N takes (:mod:`engine.takes`): items of their own,
    ``NAME-v1.wav`` ..., each with its take's settings (a worker analyses the style once for all)."""
    settings = item.settings
    if settings is None or settings.variations <= 1:
        return [item]
    takes = take_settings(settings)
    return [replace(item, index=index + k, strength=take.strength, settings=take,
                    output=take_path(item.output, k + 1, len(takes))) for k, take in enumerate(takes)]


def _source(choice: StyleChoice, store: PresetStore, model: Optional[str], weights: Optional[str],
            random_weights: bool) -> StyleSource:
    from .. import engine

    if model is not None:
        check_model_name(model)
    if choice.preset is not None:
        entry = store.find(choice.preset)
        if model not in (None, entry.model):
            raise GramophoneError(f"preset '{entry.name}' holds {entry.model} statistics, not {model}",
                                  "model_mismatch")
        return StyleSource(preset_path=str(entry.path), weights=weights)
    for f in choice.style:
        probe_audio(f)
    name = model or engine.DEFAULT_MODEL
    check_model_name(name)
    return StyleSource(style_files=tuple(choice.style), model=name, weights=weights, random_weights=random_weights)


def _second_source(name: Optional[str], first: StyleSource, store: PresetStore,
                   weights: Optional[str]) -> Optional[StyleSource]:
    """The preset ``name`` a blend moves to, refused (``model_mismatch``) where its model is not the
    first style's (the worker checks the models' parameters too)."""
    if not name:
        return None
    from ..engine.preset_format import read_metadata

    from ..engine.recorded_style import check_same_statistics

    entry = store.find(name)
    second = read_metadata(entry.path)
    if first.preset_path is not None:
        meta = read_metadata(first.preset_path)
        model, params = meta["model"], meta["params"]
    else:
        model, params = first.model, None  # style files: their parameters are the model's defaults, checked later
    check_same_statistics(model, params, second["model"], second["params"], f"blend_to '{entry.name}'")
    return StyleSource(preset_path=str(entry.path), weights=weights)


def _check_template(name: str) -> None:
    try:
        sample = name.format(stem="a", preset="b", strength="1", seed=0, iterations=1, model="kernel")
    except (KeyError, IndexError, ValueError) as exc:
        raise GramophoneError(f"--name {name!r}: unknown field {exc}; use {{stem}}, {{preset}}, {{strength}}, "
                              "{seed}, {iterations}, {model}", "bad_args") from None
    if Path(sample).suffix.lower() not in WRITE_EXTENSIONS:
        raise GramophoneError(f"--name {name!r} must end in an audio extension ({', '.join(WRITE_EXTENSIONS)})",
                              "bad_output")


def _check_outputs(items: list[Item], out: Path) -> None:
    """Refuse, before any work, outputs that could lose data or collide."""
    contents = {os.path.realpath(i.content) for i in items}
    seen: dict[str, Item] = {}
    for item in items:
        real = os.path.realpath(item.output)
        if not real.startswith(str(out) + os.sep):
            raise GramophoneError(f"output {item.output} is outside the output folder {out}", "forbidden_path")
        if item.output.suffix.lower() not in WRITE_EXTENSIONS:
            raise GramophoneError(f"output {item.output} must end in one of {', '.join(WRITE_EXTENSIONS)}",
                                  "bad_output")
        if real in contents:
            raise GramophoneError(f"output {item.output} is a content file of this batch; it would be overwritten",
                                  "bad_output")
        if real in seen:
            raise GramophoneError(f"two items write {item.output}: {seen[real].content} and {item.content} "
                                  f"({seen[real].label} / {item.label}); give each its own output", "duplicate_output")
        seen[real] = item


def fingerprint(item: Item, out: Path) -> str:
    """What makes an output what it is: content, style, settings and where it goes."""
    source = item.source
    assert source is not None and item.settings is not None
    if source.preset_path is not None:
        from ..engine.preset_format import read_metadata

        meta = read_metadata(source.preset_path)
        style: Any = {"preset": meta["stats_sha256"], "model": meta["model"], "params": meta["params"]}
    else:
        style = {"files": [file_sha256(f) for f in source.style_files], "model": source.model,
                 "random_weights": source.random_weights}
    style["weights"] = file_sha256(source.weights) if source.weights else None
    if item.blend_to is not None and item.blend_to.preset_path is not None:
        from ..engine.preset_format import read_metadata

        style["blend_to"] = read_metadata(item.blend_to.preset_path)["stats_sha256"]
    settings = settings_dict(item.settings)
    blob = json.dumps({"content": file_sha256(item.content), "style": style, "settings": settings,
                       "output": str(item.output.relative_to(out)), "engine": __version__}, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()


def mark_finished(batch: Plan) -> int:
    """Mark items an earlier run finished (same fingerprint, output as recorded) ``skipped``."""
    try:
        earlier = json.loads((batch.out_dir / SUMMARY).read_text())
        records = {r["output"]: r for r in earlier.get("items", []) + earlier.get("other_items", [])
                   if r.get("status") in ("done", "skipped")}
    except (OSError, ValueError, AttributeError, TypeError):
        return 0
    skipped = 0
    for item in batch.items:
        record = records.get(str(item.output.relative_to(batch.out_dir)))
        if item.status != "pending" or not record or record.get("fingerprint") != item.fingerprint:
            continue
        try:
            st = item.output.stat()
        except OSError:
            continue
        if record.get("file") == {"bytes": st.st_size, "mtime_ns": st.st_mtime_ns}:
            item.status = "skipped"
            skipped += 1
    return skipped


# ---- running ------------------------------------------------------------------------------
class Summary:
    """``DIR/batch.json``, rewritten atomically whenever an item finishes (the resume record)."""

    def __init__(self, batch: Plan, started: float) -> None:
        self.batch, self.started = batch, started
        self.lock = threading.Lock()
        self.write_error: Optional[str] = None
        # other batches' records in the same folder stay, so each of them can still resume
        ours = {str(i.output.relative_to(batch.out_dir)) for i in batch.items}
        try:
            data = json.loads((batch.out_dir / SUMMARY).read_text())
            earlier = data.get("items", []) + data.get("other_items", [])
            self.others = [r for r in earlier if isinstance(r, dict) and r.get("output") not in ours]
        except (OSError, ValueError, AttributeError):
            self.others = []

    def data(self) -> dict[str, Any]:
        counts: dict[str, int] = {}
        for item in self.batch.items:
            counts[item.status] = counts.get(item.status, 0) + 1
        return {"format": "gramophone-batch", "version": SUMMARY_VERSION, "gramophone": __version__,
                "output_folder": str(self.batch.out_dir), "seconds": round(time.monotonic() - self.started, 3),
                "counts": counts, "items": [i.record(self.batch.out_dir) for i in self.batch.items],
                "other_items": self.others}

    def write(self) -> None:
        with self.lock:
            path = self.batch.out_dir / SUMMARY
            data = self.data()
            try:
                atomic_write(path, lambda tmp: tmp.write_text(json.dumps(data, indent=1)))
                self.write_error = None
            except GramophoneError as exc:
                self.write_error = str(exc)


def run(batch: Plan, backend: Callable[[Emit], Backend], stream: TextIO = sys.stderr,
        on_event: Optional[Callable[..., None]] = None, progress_bar: bool = True) -> Summary:
    """Render every pending item; returns the summary (also in ``DIR/batch.json``).

    ``on_event(item, event, *args)`` sees every job event (tests use it to kill a worker).
    Ctrl-C cancels what runs (no partial files), records it, and re-raises."""
    from tqdm import tqdm

    todo = [i for i in batch.items if i.status == "pending"]
    summary = Summary(batch, time.monotonic())
    batch.out_dir.mkdir(parents=True, exist_ok=True)
    if not todo:
        for item in batch.items:
            if item.status == "error":
                print(_failure_line(item), file=stream)
        summary.write()
        return summary
    for item in todo:
        item.output.parent.mkdir(parents=True, exist_ok=True)
    by_id = {item.index: item for item in todo}
    bar = tqdm(total=len(todo), unit="clip", desc="batch", file=stream, disable=not progress_bar or not todo,
               dynamic_ncols=True, mininterval=0.5)
    for item in batch.items:
        if item.status == "error":
            bar.write(_failure_line(item), file=stream)
    started = time.monotonic()

    def notify(job: Job, event: str, *args: Any) -> None:
        item = by_id[job.id]
        if on_event is not None:
            on_event(item, event, *args)
        if event not in ("done", "error", "cancelled"):
            return
        item.status = event
        if event == "done":
            item.seconds = float(args[1])
        elif event == "error":
            item.code, item.message = args[0], args[1]
        summary.write()
        if event != "cancelled":
            with summary.lock:
                bar.update(1)
                minutes = (time.monotonic() - started) / 60
                bar.set_postfix_str(f"{bar.n / minutes:.1f} clips/min" if minutes > 0 else "", refresh=False)
                if event == "error":
                    bar.write(_failure_line(item), file=stream)

    queue = JobQueue(backend, notify, max_queue=None)
    try:
        for item in todo:
            assert item.source is not None and item.settings is not None
            queue.submit(Job(RenderTask(item.index, str(item.content), str(item.output), item.source,
                                        item.settings, staging=RenderTask.staging_for(item.output),
                                        blend_to=item.blend_to)))
        queue.wait_idle()
    except KeyboardInterrupt:
        queue.stop()
        summary.write()
        bar.close()
        raise
    queue.stop()
    bar.close()
    summary.write()
    return summary


def _failure_line(item: Item) -> str:
    return f"failed: {item.content.name} ({item.label}, strength {automation.text(item.strength)}): {item.code}: {item.message}"


def table(summary: Summary) -> str:
    """A readable table of the batch: status, seconds, output, error."""
    items = summary.batch.items
    rows = [(i.status, f"{i.seconds:.1f}" if i.status == "done" else "", str(i.output.relative_to(summary.batch.out_dir)),
             f"{i.code}: {i.message}" if i.code else "") for i in items]
    widths = [max(len(h), *(len(r[c]) for r in rows)) for c, h in enumerate(("status", "s", "output"))]
    lines = [f"{'status':<{widths[0]}}  {'s':>{widths[1]}}  {'output':<{widths[2]}}  error"]
    lines += [f"{r[0]:<{widths[0]}}  {r[1]:>{widths[1]}}  {r[2]:<{widths[2]}}  {r[3]}".rstrip() for r in rows]
    counts = summary.data()["counts"]
    lines.append(", ".join(f"{n} {k}" for k, n in sorted(counts.items())) +
                 f"; summary in {summary.batch.out_dir / SUMMARY}")
    return "\n".join(lines)
