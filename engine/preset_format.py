"""Style presets: a style's statistics computed once, saved, and loaded in milliseconds.

A preset is one file, ``NAME.gpreset``: a zip archive (stored, not compressed, so loading is a
plain read) holding ``preset.json`` (metadata) and one ``.npy`` array per statistic, read with
``numpy.load(allow_pickle=False)``: loading a preset can never execute code. The metadata
records the format version, the engine version, the model and every parameter the statistics
depend on, the source files, and a SHA-256 of the statistics, checked on every load.

Anything wrong with a file (not a zip, truncated, missing parts, wrong hash, foreign format
version, unknown model) raises :class:`PresetError` with a one-line reason.
"""
from __future__ import annotations

import datetime as _dt
import hashlib
import io
import json
import os
import re
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import torch

from .audio_io import make_shareable
from .errors import GramophoneError
from .models import MODELS, Stats, TextureModel, get_model

FORMAT = "gramophone-preset"
#: 2: full-band kernel statistics (44.1 kHz analysis); 1: the same layout, analysed at 22.05 kHz.
FORMAT_VERSION = 2
#: Versions this engine reads. A parameter a preset does not record takes the value it had
#: before the parameter existed (``TextureModel.legacy_params``), so older presets render as they
#: did when they were made.
READABLE_VERSIONS = (1, 2)
EXTENSION = ".gpreset"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 _.+-]{0,63}$")


class PresetError(GramophoneError):
    def __init__(self, message: str, code: str = "bad_preset") -> None:
        super().__init__(message, code)


@dataclass
class Preset:
    """A named style: its model and parameters, its statistics, and where it came from."""

    name: str
    model: str
    params: dict[str, Any]
    stats: Stats
    description: str = ""
    sources: list[dict[str, Any]] = field(default_factory=list)
    engine_version: str = ""
    created: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def build_model(self, weights_path: str | os.PathLike | None = None) -> TextureModel:
        """The texture model these statistics belong to (pretrained models need their weights file)."""
        if weights_path is not None:
            return get_model(self.model, weights_path=weights_path, **self.params)
        return get_model(self.model, **self.params)


def check_name(name: str) -> str:
    """Return ``name`` if it can be a preset name (letters, digits, space, ``_.+-``; no paths)."""
    if not isinstance(name, str) or not _NAME.match(name) or name in (".", ".."):
        raise PresetError(f"invalid preset name {name!r}: use 1-64 letters, digits, spaces or _ . + - "
                          "(no slashes), starting with a letter or digit", "bad_name")
    return name


def stats_digest(arrays: dict[str, np.ndarray]) -> str:
    h = hashlib.sha256()
    for key in sorted(arrays):
        a = np.ascontiguousarray(arrays[key])
        h.update(f"{key}:{a.dtype.str}:{a.shape}".encode())
        h.update(a.tobytes())
    return h.hexdigest()


def save(preset: Preset, path: str | os.PathLike) -> Path:
    """Write ``preset`` to ``path`` atomically (temporary file, then rename)."""
    from . import __version__

    path = Path(path)
    arrays = {k: v.detach().cpu().numpy() for k, v in preset.stats.items()}
    meta = {
        "format": FORMAT, "format_version": FORMAT_VERSION, "engine_version": preset.engine_version or __version__,
        "name": preset.name, "description": preset.description, "model": preset.model, "params": preset.params,
        "sources": preset.sources, "created": preset.created or _dt.datetime.now(_dt.timezone.utc).isoformat(
            timespec="seconds"), "arrays": {k: {"dtype": a.dtype.str, "shape": list(a.shape)} for k, a in arrays.items()},
        "stats_sha256": stats_digest(arrays), **({"extra": preset.extra} if preset.extra else {}),
    }
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=".part", dir=path.parent)
    make_shareable(tmp)
    try:
        with os.fdopen(fd, "wb") as raw, zipfile.ZipFile(raw, "w", zipfile.ZIP_STORED) as z:
            z.writestr(_entry("preset.json"), json.dumps(meta, indent=2))
            for key, a in arrays.items():
                buf = io.BytesIO()
                np.save(buf, a, allow_pickle=False)
                z.writestr(_entry(f"{key}.npy"), buf.getvalue())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def _entry(name: str) -> zipfile.ZipInfo:
    """A zip entry with a fixed date, so identical presets are identical files."""
    return zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))


def read_metadata(path: str | os.PathLike) -> dict[str, Any]:
    """The metadata of the preset file at ``path``, validated, without loading statistics."""
    with _open(path) as z:
        return _metadata(z, path)


def load(path: str | os.PathLike) -> Preset:
    """Load and verify the preset file at ``path``."""
    with _open(path) as z:
        meta = _metadata(z, path)
        arrays = {}
        for key, spec in meta["arrays"].items():
            try:
                a = np.load(io.BytesIO(z.read(f"{key}.npy")), allow_pickle=False)
            except Exception as exc:
                raise PresetError(f"preset {path} is corrupt: statistic '{key}' cannot be read ({exc})") from exc
            if a.dtype.str != spec["dtype"] or list(a.shape) != spec["shape"]:
                raise PresetError(f"preset {path} is corrupt: statistic '{key}' has the wrong shape or type")
            arrays[key] = a
    if stats_digest(arrays) != meta["stats_sha256"]:
        raise PresetError(f"preset {path} is corrupt: its statistics do not match their recorded hash")
    params = {**MODELS[meta["model"]].legacy_params, **meta["params"]}
    return Preset(name=meta["name"], model=meta["model"], params=params, description=meta["description"],
                  sources=meta["sources"], engine_version=meta["engine_version"], created=meta["created"],
                  extra=meta.get("extra", {}), stats={k: torch.from_numpy(a) for k, a in arrays.items()})


def _open(path: str | os.PathLike) -> zipfile.ZipFile:
    p = Path(path)
    if not p.is_file():
        raise PresetError(f"no preset file at {p}", "not_found")
    try:
        return zipfile.ZipFile(p)
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise PresetError(f"{p} is not a Gramophone preset (unreadable or truncated: {exc})") from exc


def _metadata(z: zipfile.ZipFile, path: str | os.PathLike) -> dict[str, Any]:
    try:
        meta = json.loads(z.read("preset.json"))
    except KeyError:
        raise PresetError(f"{path} is not a Gramophone preset (no preset.json inside)") from None
    except (ValueError, zipfile.BadZipFile, OSError) as exc:
        raise PresetError(f"preset {path} is corrupt: its metadata cannot be read ({exc})") from exc
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise PresetError(f"{path} is not a Gramophone preset")
    version = meta.get("format_version")
    if version not in READABLE_VERSIONS:
        raise PresetError(f"preset {path} has format version {version}; this Gramophone reads versions "
                          f"{', '.join(map(str, READABLE_VERSIONS))} (re-create it from its style files)",
                          "preset_version")
    required = {"name": str, "model": str, "params": dict, "arrays": dict, "stats_sha256": str, "sources": list,
                "description": str, "engine_version": str, "created": str}
    for key, kind in required.items():
        if not isinstance(meta.get(key), kind):
            raise PresetError(f"preset {path} is corrupt: metadata field '{key}' is missing or malformed")
    if meta["model"] not in MODELS:
        raise PresetError(f"preset {path} uses model '{meta['model']}', which this Gramophone does not have",
                          "bad_model")
    return meta


def blend(name: str, a: Preset, b: Preset, weight: float, description: str = "") -> Preset:
    """The preset whose statistics are those of the mixture ``(1 − weight)·a + weight·b``.

    Both presets must use the same model with the same parameters. What is mixed is the
    sounds' statistics, not the audio: for ``kernel`` the union of both styles' patch sets
    with weights scaled; for ``random`` the Gram matrices, re-factored to the model's rank.
    """
    if not 0.0 <= weight <= 1.0:
        raise PresetError(f"blend weight must be in [0, 1], got {weight}", "bad_parameter")
    if (a.model, a.params) != (b.model, b.params):
        raise PresetError(f"cannot blend '{a.name}' ({a.model}) with '{b.name}' ({b.model}): "
                          "presets must share the model and its parameters", "model_mismatch")
    model = a.build_model()
    with torch.no_grad():
        stats = model.blend([(1.0 - weight, _float(a.stats)), (weight, _float(b.stats))])
    return Preset(name=name, model=a.model, params=dict(a.params), stats=stats,
                  description=description or f"{1 - weight:.2f} x {a.name} + {weight:.2f} x {b.name}",
                  sources=a.sources + b.sources, extra={"blend": {"a": a.name, "b": b.name, "weight": weight}})


def _float(stats: Stats) -> Stats:
    return {k: v.float() for k, v in stats.items()}


def create(name: str, style_files: Sequence[str | os.PathLike], model: TextureModel, description: str = "") -> Preset:
    """Analyse ``style_files`` under ``model`` into a new preset (nothing is written)."""
    from .audio_io import read_audio

    check_name(name)
    if not style_files:
        raise PresetError("no style files given", "no_style")
    clips = [read_audio(f) for f in style_files]
    sources = [{"file": Path(f).name, "sha256": hashlib.sha256(Path(f).read_bytes()).hexdigest()} for f in style_files]
    return from_clips(name, clips, sources, model, description)


def from_clips(name: str, clips: Sequence[tuple[np.ndarray, int]], sources: Sequence[dict[str, Any]],
               model: TextureModel, description: str = "") -> Preset:
    """A preset from in-memory ``(audio [channels, samples], sample_rate)`` clips; ``sources``
    describes each clip (at least ``file``); duration, rate and channels are added."""
    from .render import analyse_style

    check_name(name)
    stats = analyse_style(list(clips), model)
    described = [{**src, "duration": round(clip.shape[1] / sr, 3), "sample_rate": sr, "channels": clip.shape[0]}
                 for src, (clip, sr) in zip(sources, clips)]
    params = {k: v for k, v in model.params.items() if k not in model.loss_params}
    return Preset(name=name, model=model.name, params=params, stats={k: v.cpu() for k, v in stats.items()},
                  description=description, sources=described)
