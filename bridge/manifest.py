"""What ``gramophone batch`` reads: files, folders (recursive, audio files only) and manifests.

A manifest is a CSV file (a header row, then one row per render) or a JSON file (a list of
objects, or ``{"items": [...]}``) with these fields; only ``content`` is required, the rest fall
back to the command line's options:

=============  ==============================================================================
``content``    the clip (relative paths are relative to the manifest's folder)
``preset``     a preset name, or
``style``      style audio file(s) (CSV: separated by ``;``), analysed with ``model``
``model``      the model for ``style`` files
``output``     where to write, relative to ``-o`` (must stay inside it); default: the name template
``blend_to``   a second preset (the first style's model) that ``blend`` moves to
=============  ==============================================================================

and every render setting the settings table (:mod:`engine.settings`) exposes in manifests, as
``gramophone render`` takes it (``strength``, ``iterations``, ``loudness``, …).
"""
from __future__ import annotations

import csv
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Optional

from ..engine.audio_io import READ_EXTENSIONS
from ..engine.errors import GramophoneError
from ..engine.limits import MAX_MANIFEST_BYTES, MAX_MANIFEST_ROWS, parse_json, read_bounded
from ..engine.settings import exposed_in

MANIFEST_EXTENSIONS = (".csv", ".json")
#: column -> its type, or the render setting that parses it
FIELDS: dict[str, Any] = {"content": str, "preset": str, "style": list, "model": str, "output": str, "blend_to": str,
                          **{s.name: s for s in exposed_in("manifest")}}


@dataclass(frozen=True)
class Row:
    """One content clip to render, with what its source (a manifest row) fixed."""

    content: Path
    #: the sub-folder the clip sits in below the folder it was found in (mirrored under -o)
    subfolder: Path = Path()
    #: fields a manifest row set (preset, style, strength, settings, output)
    fixed: dict[str, Any] = field(default_factory=dict)
    #: found by scanning a folder (not named one by one)
    scanned: bool = False


def collect(inputs: Iterable[str | os.PathLike]) -> list[Row]:
    """Every clip the inputs name: a manifest's rows, a folder's audio files (sorted, recursive),
    or a file as given. A missing input is refused before any work (``not_found``)."""
    rows: list[Row] = []
    for given in inputs:
        path = Path(given).expanduser()
        if path.is_dir():
            for clip in sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in READ_EXTENSIONS
                               and not any(part.startswith(".") for part in p.relative_to(path).parts)):
                rows.append(Row(clip.resolve(), clip.parent.relative_to(path), scanned=True))
        elif path.suffix.lower() in MANIFEST_EXTENSIONS:
            rows.extend(read_manifest(path))
        elif path.exists() or path.is_symlink():
            rows.append(Row(path.resolve()))
        else:
            raise GramophoneError(f"no such file or folder: {path}", "not_found")
    return rows


def read_manifest(path: Path) -> list[Row]:
    """The rows of a CSV or JSON manifest; a malformed one is refused whole (``bad_manifest``), and
    so is one over :data:`~engine.limits.MAX_MANIFEST_BYTES` or ``MAX_MANIFEST_ROWS``, before it is parsed."""
    if not path.is_file():
        raise GramophoneError(f"no such manifest: {path}", "not_found")
    data = read_bounded(path, MAX_MANIFEST_BYTES, "bad_manifest", "a batch manifest")
    is_json = path.suffix.lower() == ".json"
    _check_row_count(data, path, b"{" if is_json else b"\n")
    try:
        if is_json:
            data = parse_json(data, "bad_manifest", f"the manifest {path}")
            records = data.get("items") if isinstance(data, dict) else data
            if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
                raise ValueError('expected a list of objects (or {"items": [...]})')
        else:
            text = data.decode("utf-8-sig")
            records = [{k: v for k, v in r.items() if v not in (None, "")} for r in csv.DictReader(text.splitlines())]
    except (UnicodeDecodeError, ValueError, csv.Error) as exc:
        raise GramophoneError(f"cannot read the manifest {path}: {exc}", "bad_manifest") from exc
    return [_row(record, path, number) for number, record in enumerate(records, start=2 if path.suffix == ".csv" else 1)]


def _check_row_count(data: bytes, path: Path, per_row: bytes) -> None:
    """Refuse a manifest with more rows than a batch takes, counted cheaply before parsing: lines of
    a CSV file, objects (``{``) of a JSON one (an upper bound either way)."""
    rows = data.count(per_row)
    if rows > MAX_MANIFEST_ROWS + 1:
        raise GramophoneError(f"the manifest {path} has about {rows:,} rows; a batch takes at most "
                              f"{MAX_MANIFEST_ROWS:,} (split it into several)", "bad_manifest")


def _row(record: dict[str, Any], manifest: Path, number: int) -> Row:
    where = f"{manifest.name}, {'line' if manifest.suffix.lower() == '.csv' else 'item'} {number}"
    unknown = sorted(set(record) - set(FIELDS))
    if unknown:
        raise GramophoneError(f"{where}: unknown field(s) {', '.join(unknown)}; known: {', '.join(FIELDS)}",
                              "bad_manifest")
    if not record.get("content"):
        raise GramophoneError(f"{where}: no content", "bad_manifest")
    if "preset" in record and "style" in record:
        raise GramophoneError(f"{where}: give a preset or a style, not both", "bad_manifest")
    fixed: dict[str, Any] = {}
    for key, value in record.items():
        kind = FIELDS[key]
        try:
            if kind is list:
                files = value.split(";") if isinstance(value, str) else list(value)
                fixed[key] = tuple(str(_relative_to(manifest, f.strip())) for f in files if str(f).strip())
            elif kind is str:
                if not isinstance(value, str):
                    raise ValueError(f"expected text, got {value!r}")
                fixed[key] = value
            else:
                fixed[key] = kind.parse(value)
        except (TypeError, ValueError) as exc:
            raise GramophoneError(f"{where}: field '{key}': {exc}", "bad_manifest") from None
    content = _relative_to(manifest, fixed.pop("content"))
    return Row(content, Path(), fixed)


def _relative_to(manifest: Path, value: str) -> Path:
    p = Path(value).expanduser()
    return Path(os.path.abspath(p if p.is_absolute() else manifest.parent / p))


def style_label(preset: Optional[str], style: tuple[str, ...]) -> str:
    """What ``{preset}`` in a name template stands for: the preset, or the style files' stems."""
    return preset if preset else "+".join(Path(s).stem for s in style)
