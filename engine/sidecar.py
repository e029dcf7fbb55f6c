"""A render's record: a small JSON file next to each output (``OUT.wav.json``) saying how it was made.

It holds the Gramophone version, the model and its parameters, where the style came from (preset
name, or style files with their hashes) with the style statistics' hash, every render setting, the
input file and its hash, and the seconds taken: enough to render another clip the same way
(``gramophone render --like OUT.wav.json NEWCLIP.wav``) and to tell whether anything changed since.
Written atomically, like the audio.
"""
from __future__ import annotations

import dataclasses
import datetime as _dt
import hashlib
import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional, Sequence

from .errors import GramophoneError
from .limits import MAX_SIDECAR_BYTES, parse_json, read_bounded

if TYPE_CHECKING:
    from .models import Stats, TextureModel
    from .preset_store import PresetStore
    from .render import RenderSettings

FORMAT = "gramophone-render"
FORMAT_VERSION = 1
SUFFIX = ".json"


@dataclass(frozen=True)
class StyleSource:
    """Where a render's style came from: a preset's name, or the style files analysed for it."""

    preset: Optional[str] = None
    files: Sequence[str | os.PathLike] = ()


def sidecar_path(output: str | os.PathLike) -> Path:
    """``OUT.wav`` -> ``OUT.wav.json``."""
    return Path(f"{os.fspath(output)}{SUFFIX}")


def file_sha256(path: str | os.PathLike) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def stats_sha256(style: "Stats") -> str:
    """The style statistics' hash, as a preset file records it (``stats_sha256``)."""
    from .preset_format import stats_digest

    return stats_digest({k: v.detach().cpu().numpy() for k, v in style.items()})


def record(*, content: str | os.PathLike, output: str | os.PathLike, model: "TextureModel", style: "Stats",
           source: Optional[StyleSource], settings: "RenderSettings", seconds: float,
           duration: float, sample_rate: int, channels: int) -> dict[str, Any]:
    """The sidecar's content for one finished render."""
    from .. import __version__

    source = source or StyleSource()
    return {
        "format": FORMAT, "format_version": FORMAT_VERSION, "gramophone": __version__,
        "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "input": {"path": str(Path(content).resolve()), "sha256": file_sha256(content)},
        "output": {"path": str(Path(output).resolve()), "duration": round(duration, 6), "sample_rate": sample_rate,
                   "channels": channels},
        "model": {"name": model.name, "params": _plain(model.params)},
        "style": {"preset": source.preset, "stats_sha256": stats_sha256(style),
                  "files": [{"path": str(Path(f).resolve()), "sha256": file_sha256(f)} for f in source.files]},
        "strength": _plain(settings.strength), "seed": settings.seed,
        "settings": _plain(dataclasses.asdict(settings)), "loudness": settings.loudness,
        "seconds": round(seconds, 3),
    }


def write(output: str | os.PathLike, data: dict[str, Any]) -> Path:
    """Write ``data`` as ``OUT.json`` beside ``output``, atomically (temporary file, then rename)."""
    from .audio_io import make_shareable

    path = sidecar_path(output)
    tmp = None
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
        make_shareable(tmp)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(data, f, indent=2)
            f.write("\n")
        os.replace(tmp, path)
    except BaseException as exc:
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise GramophoneError(f"the render is written ({output}), but its sidecar {path.name} could not be: "
                                  f"{exc.strerror or exc}", "write_failed") from exc
        raise
    return path


def read(path: str | os.PathLike) -> dict[str, Any]:
    """A sidecar written by :func:`write`, checked enough to render from it again."""
    p = Path(path)
    data = parse_json(read_bounded(p, MAX_SIDECAR_BYTES, "bad_sidecar", "a render's sidecar"), "bad_sidecar",
                      f"{p} (a render's sidecar)")
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise GramophoneError(f"{p} is not a render's sidecar (no \"format\": \"{FORMAT}\")", "bad_sidecar")
    if data.get("format_version") != FORMAT_VERSION:
        raise GramophoneError(f"{p} has sidecar version {data.get('format_version')}; this Gramophone reads "
                              f"version {FORMAT_VERSION}", "bad_sidecar")
    for key, kind in (("model", dict), ("style", dict), ("settings", dict)):
        if not isinstance(data.get(key), kind):
            raise GramophoneError(f"{p} is not a render's sidecar: '{key}' is missing", "bad_sidecar")
    return data


def _plain(value: Any) -> Any:
    """JSON-safe copy (paths and other objects as strings)."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return str(value)


def settings_from(data: dict[str, Any]) -> "RenderSettings":
    """The :class:`~gramophone.engine.render.RenderSettings` a sidecar records (unknown keys ignored)."""
    from .render import RenderSettings

    from .settings import BY_NAME

    names = {f.name for f in dataclasses.fields(RenderSettings)}
    values = {k: v for k, v in data["settings"].items() if k in names}
    values.setdefault("loudness", data.get("loudness", "match"))  # sidecars from before it was a setting
    for name, value in values.items():  # each setting's own type (JSON keeps 1.0 as 1, and old loudness as text)
        if name in BY_NAME and value is not None:
            try:
                values[name] = BY_NAME[name].parse(value)
            except ValueError as exc:
                raise GramophoneError(f"the sidecar's {name}: {exc}", "bad_sidecar") from None
    try:
        return RenderSettings(**values).validated()
    except TypeError as exc:
        raise GramophoneError(f"the sidecar's settings are not this Gramophone's: {exc}", "bad_sidecar") from exc


def restore_style(data: dict[str, Any], store: "PresetStore",
                  weights_path: str | os.PathLike | None = None) -> tuple["TextureModel", "Stats", StyleSource]:
    """``(model, statistics, StyleSource)`` of the render a sidecar records, from the same preset or
    the same style files; raises ``style_changed`` if they are not what they were then.

    A sidecar without a preset name or files (e.g. from a server that does not pass them) is
    matched to an installed preset by its statistics' hash."""
    style, recorded = data["style"], data["style"].get("stats_sha256")
    if style.get("preset"):
        preset = store.load(style["preset"])
        if recorded and stats_sha256(preset.stats) != recorded:
            raise GramophoneError(f"preset '{preset.name}' has changed since that render (its statistics' sha256 "
                                  f"is not {recorded[:12]}…)", "style_changed")
        return preset.build_model(weights_path), preset.stats, StyleSource(preset=preset.name)
    if style.get("files"):
        from .models import get_model
        from .pipeline import style_from_files

        files = [f["path"] for f in style["files"]]
        for f in style["files"]:
            if not Path(f["path"]).is_file():
                raise GramophoneError(f"style file of that render is gone: {f['path']}", "not_found")
            if file_sha256(f["path"]) != f["sha256"]:
                raise GramophoneError(f"style file has changed since that render: {f['path']}", "style_changed")
        params = dict(data["model"].get("params", {}))
        if weights_path is not None:
            params["weights_path"] = weights_path
        model = get_model(data["model"]["name"], **params)
        return model, style_from_files(files, model), StyleSource(files=files)
    from .preset_format import PresetError, read_metadata

    for entry in store.entries():
        if entry.shadowed or entry.model != data["model"].get("name"):
            continue
        try:
            if read_metadata(entry.path)["stats_sha256"] == recorded:
                preset = store.load(entry.name)
                return preset.build_model(weights_path), preset.stats, StyleSource(preset=preset.name)
        except PresetError:
            continue
    raise GramophoneError(f"no installed preset has the statistics that render used (sha256 "
                          f"{str(recorded)[:12]}…)", "style_changed")
