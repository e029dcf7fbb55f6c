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
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional, Sequence

from .errors import GramophoneError
from .files import atomic_write, error_reason, file_sha256
from .limits import MAX_SIDECAR_BYTES, parse_json, read_bounded

if TYPE_CHECKING:
    from .models import Stats, TextureModel
    from .render_settings import RenderSettings

FORMAT = "gramophone-render"
FORMAT_VERSION = 1
SUFFIX = ".json"


@dataclass(frozen=True)
class StyleOrigin:
    """Where a render's style came from: a preset's name, or the style files analysed for it."""

    preset: Optional[str] = None
    files: Sequence[str | os.PathLike] = ()


def sidecar_path(output: str | os.PathLike) -> Path:
    """``OUT.wav`` -> ``OUT.wav.json``."""
    return Path(f"{os.fspath(output)}{SUFFIX}")


def stats_sha256(style: "Stats") -> str:
    """The style statistics' hash, as a preset file records it (``stats_sha256``)."""
    from .preset_format import stats_digest

    return stats_digest({k: v.detach().cpu().numpy() for k, v in style.items()})


def record(*, content: str | os.PathLike, output: str | os.PathLike, model: "TextureModel", style: "Stats",
           source: Optional[StyleOrigin], settings: "RenderSettings", seconds: float,
           duration: float, sample_rate: int, channels: int, blend_to: Optional["Stats"] = None,
           blend_source: Optional[StyleOrigin] = None) -> dict[str, Any]:
    """The sidecar's content for one finished render; ``blend_to`` (from ``blend_source``) is the
    second style of a blend, recorded as ``"blend_to"`` like ``"style"`` (null without one)."""
    from .. import __version__

    return {
        "format": FORMAT, "format_version": FORMAT_VERSION, "gramophone": __version__,
        "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "input": {"path": str(Path(content).resolve()), "sha256": file_sha256(content)},
        "output": {"path": str(Path(output).resolve()), "duration": round(duration, 6), "sample_rate": sample_rate,
                   "channels": channels},
        "model": {"name": model.name, "params": _plain(model.params)},
        "style": _style_record(style, source),
        "blend_to": None if blend_to is None else _style_record(blend_to, blend_source),
        "strength": _plain(settings.strength), "seed": settings.seed,
        "settings": _plain(dataclasses.asdict(settings)), "loudness": settings.loudness,
        "seconds": round(seconds, 3),
    }


def _style_record(style: "Stats", source: Optional[StyleOrigin]) -> dict[str, Any]:
    source = source or StyleOrigin()
    return {"preset": source.preset, "stats_sha256": stats_sha256(style),
            "files": [{"path": str(Path(f).resolve()), "sha256": file_sha256(f)} for f in source.files]}


def write(output: str | os.PathLike, data: dict[str, Any]) -> Path:
    """Write ``data`` as ``OUT.json`` beside ``output``, atomically (temporary file, then rename)."""
    path = sidecar_path(output)

    def dump(tmp: Path) -> None:
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(data, f, indent=2)
            f.write("\n")

    try:
        return atomic_write(path, dump)
    except GramophoneError as exc:  # disk_full too: the output is there, so it is not "nothing was written"
        why = "the disk is full" if exc.code == "disk_full" else error_reason(exc.__cause__ or exc)
        raise GramophoneError(f"the render is written ({output}), but its sidecar {path.name} could not be: "
                              f"{why}", "write_failed") from exc


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
    if not isinstance(data.get("blend_to"), (dict, type(None))):
        raise GramophoneError(f"{p}: 'blend_to' is not a style's record", "bad_sidecar")
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
    """The :class:`~gramophone.engine.render_settings.RenderSettings` a sidecar records (unknown keys ignored)."""
    from .render_settings import RenderSettings

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
