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
import math
import os
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, Sequence, cast

import numpy as np
import torch

from .errors import GramophoneError
from .files import atomic_write, file_sha256
from .limits import (MAX_COMPRESSION_RATIO, MAX_NPY_HEADER_BYTES, MAX_PRESET_ENTRIES, MAX_PRESET_METADATA_BYTES,
                     MAX_STATISTIC_BYTES, RATIO_CHECK_FROM_BYTES, parse_json, read_npy_header, zip_directory)
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
    """Write ``preset`` to ``path`` atomically (temporary file, then rename); a failed write is a
    ``write_failed`` or ``disk_full`` :class:`GramophoneError`."""
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

    def write(tmp: Path) -> None:
        with open(tmp, "wb") as raw, zipfile.ZipFile(raw, "w", zipfile.ZIP_STORED) as z:
            z.writestr(_entry("preset.json"), json.dumps(meta, indent=2))
            for key, a in arrays.items():
                buf = io.BytesIO()
                np.save(buf, a, allow_pickle=False)
                z.writestr(_entry(f"{key}.npy"), buf.getvalue())

    return atomic_write(path, write)


def _entry(name: str) -> zipfile.ZipInfo:
    """A zip entry with a fixed date, so identical presets are identical files."""
    return zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))


def read_metadata(path: str | os.PathLike) -> dict[str, Any]:
    """The metadata of the preset file at ``path``, validated, without loading statistics."""
    with _open(path) as z:
        return _metadata(z, path)


def load(path: str | os.PathLike) -> Preset:
    """Load and verify the preset file at ``path``. Every array's size is checked against its
    model's bound before it is read (:func:`_read_array`), so no file can make this allocate more."""
    with _open(path) as z:
        meta = _metadata(z, path)
        limit = _statistic_limit(meta, path)
        arrays = {key: _read_array(z, key, spec, limit, path) for key, spec in meta["arrays"].items()}
    if stats_digest(arrays) != meta["stats_sha256"]:
        raise PresetError(f"preset {path} is corrupt: its statistics do not match their recorded hash")
    params = {**MODELS[meta["model"]].legacy_params, **meta["params"]}
    return Preset(name=meta["name"], model=meta["model"], params=params, description=meta["description"],
                  sources=meta["sources"], engine_version=meta["engine_version"], created=meta["created"],
                  extra=meta.get("extra", {}), stats={k: torch.from_numpy(a) for k, a in arrays.items()})


def _open(path: str | os.PathLike) -> zipfile.ZipFile:
    """The preset zip, its central directory checked first (:func:`_check_directory`), then each
    entry's declared sizes (:func:`_check_entries`), before anything is decompressed."""
    p = Path(path)
    if not p.is_file():
        raise PresetError(f"no preset file at {p}", "not_found")
    try:
        with open(p, "rb") as f:
            _check_directory(f, p)
        z = zipfile.ZipFile(p)
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise PresetError(f"{p} is not a Gramophone preset (unreadable or truncated: {exc})") from exc
    try:
        _check_entries(z, p)
    except PresetError:
        z.close()
        raise
    return z


def _check_directory(f: BinaryIO, path: Path) -> None:
    """Refuse a zip whose central directory is larger than a preset's can be, from its end record
    alone: :class:`zipfile.ZipFile` would otherwise build an object per entry, millions of them."""
    found = zip_directory(f)
    if found is None:
        return  # not a zip: zipfile says so
    entries, directory = found
    if entries > MAX_PRESET_ENTRIES or directory > MAX_PRESET_ENTRIES * 1024:
        raise PresetError(f"{path} is not a Gramophone preset: its zip lists {entries} entries in "
                          f"{directory:,} bytes (a preset has at most {MAX_PRESET_ENTRIES})")


def _check_entries(z: zipfile.ZipFile, path: Path) -> None:
    """Refuse entries that declare more than a preset can hold, or expand too far (a zip bomb)."""
    infos = z.infolist()
    if len(infos) > MAX_PRESET_ENTRIES:
        raise PresetError(f"{path} is not a Gramophone preset: {len(infos)} entries (at most {MAX_PRESET_ENTRIES})")
    for info in infos:
        metadata = info.filename == "preset.json"
        limit = MAX_PRESET_METADATA_BYTES if metadata else MAX_STATISTIC_BYTES + MAX_NPY_HEADER_BYTES
        if info.file_size > limit:
            raise PresetError(f"preset {path} is corrupt: {info.filename} declares {info.file_size:,} bytes "
                              f"(at most {limit:,})")
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size >= RATIO_CHECK_FROM_BYTES and ratio > MAX_COMPRESSION_RATIO:
            raise PresetError(f"preset {path} is corrupt: {info.filename} expands {ratio:.0f}-fold "
                              f"(at most {MAX_COMPRESSION_RATIO}; presets are stored uncompressed)")
    total = sum(info.file_size for info in infos)
    if total > 2 * MAX_STATISTIC_BYTES + MAX_PRESET_METADATA_BYTES:
        raise PresetError(f"preset {path} is corrupt: its entries declare {total:,} bytes in all "
                          f"(at most {2 * MAX_STATISTIC_BYTES + MAX_PRESET_METADATA_BYTES:,})")


def _statistic_limit(meta: dict[str, Any], path: str | os.PathLike) -> int:
    """The most elements one of this preset's statistics may hold: its model's bound for the
    parameters it records (:meth:`TextureModel.max_statistic_elements`)."""
    cls = MODELS[meta["model"]]
    try:
        limit = int(cls.max_statistic_elements({**cls.defaults, **cls.legacy_params, **meta["params"]}))
    except (KeyError, TypeError, ValueError, OverflowError) as exc:
        raise PresetError(f"preset {path} is corrupt: its model parameters are malformed ({exc})") from None
    if limit * 4 > MAX_STATISTIC_BYTES:  # float32: the parameters themselves ask for too much
        raise PresetError(f"preset {path} is corrupt: its {meta['model']} parameters ask for arrays of "
                          f"{limit:,} values (at most {MAX_STATISTIC_BYTES // 4:,})")
    return limit


def _read_array(z: zipfile.ZipFile, key: str, spec: Any, limit: int, path: str | os.PathLike) -> np.ndarray:
    """Statistic ``key``: its ``.npy`` header is read alone and checked (:func:`_check_header`)
    before the data, which is then read into one buffer of exactly the size the header declares."""
    corrupt = f"preset {path} is corrupt: statistic '{key}'"
    try:
        with z.open(f"{key}.npy") as stream:
            shape, fortran, dtype = read_npy_header(stream)
            nbytes = _check_header(shape, dtype, spec, limit, corrupt)
            if z.getinfo(f"{key}.npy").file_size != stream.tell() + nbytes:
                raise PresetError(f"{corrupt} holds another amount of data than its header declares")
            data = bytearray(nbytes)
            if cast(io.BufferedIOBase, stream).readinto(data) != nbytes:  # a zip member reads into a buffer
                raise PresetError(f"{corrupt} is truncated")
    except PresetError:
        raise
    except Exception as exc:  # KeyError (missing), ValueError (header), BadZipFile (CRC), zlib.error
        raise PresetError(f"{corrupt} cannot be read ({exc})") from exc
    return np.frombuffer(data, dtype).reshape(shape, order="F" if fortran else "C")


def _check_header(shape: tuple[int, ...], dtype: np.dtype, spec: Any, limit: int, corrupt: str) -> int:
    """The data size an ``.npy`` header declares, once it is what ``preset.json`` records, a float
    array, and within ``limit`` elements and :data:`MAX_STATISTIC_BYTES`."""
    if not isinstance(spec, dict) or dtype.str != spec.get("dtype") or list(shape) != spec.get("shape"):
        raise PresetError(f"{corrupt} has the wrong shape or type")
    if dtype.kind != "f" or dtype.itemsize not in (4, 8):
        raise PresetError(f"{corrupt} is of type {dtype}, not float32 or float64")
    elements = math.prod(shape)
    if elements > limit or elements * dtype.itemsize > MAX_STATISTIC_BYTES:
        raise PresetError(f"{corrupt} declares shape {tuple(shape)}, more than its model's parameters allow "
                          f"({limit:,} values)")
    return elements * dtype.itemsize


def _metadata(z: zipfile.ZipFile, path: str | os.PathLike) -> dict[str, Any]:
    try:
        meta = parse_json(z.read("preset.json"), "bad_preset", f"the metadata of preset {path}", PresetError)
    except KeyError:
        raise PresetError(f"{path} is not a Gramophone preset (no preset.json inside)") from None
    except (zipfile.BadZipFile, OSError) as exc:  # its size is checked (_check_entries); its CRC here
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
    sources = [{"file": Path(f).name, "sha256": file_sha256(f)} for f in style_files]
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
