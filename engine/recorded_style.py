"""The style of a recorded render, rebuilt from its sidecar (``gramophone render --like OUT.wav.json``).

The sidecar (:mod:`.sidecar`) only says where the style came from; this module finds it again (the
same preset, the same style files, or an installed preset with the same statistics) and refuses
if it has changed since. It sits above both the record format and the file-level render, so
neither imports the other's job.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from .errors import GramophoneError
from .files import file_sha256
from .models import Stats, TextureModel, get_model
from .pipeline import style_from_files
from .preset_format import PresetError, read_metadata
from .preset_store import PresetStore
from .sidecar import StyleOrigin, stats_sha256


def restore_style(data: dict[str, Any], store: PresetStore,
                  weights_path: str | os.PathLike | None = None) -> tuple[TextureModel, Stats, StyleOrigin]:
    """``(model, statistics, StyleOrigin)`` of the render a sidecar records, from the same preset or
    the same style files; raises ``style_changed`` if they are not what they were then.

    A sidecar without a preset name or files (e.g. from a server that does not pass them) is
    matched to an installed preset by its statistics' hash."""
    style, recorded = data["style"], data["style"].get("stats_sha256")
    if style.get("preset"):
        preset = store.load(style["preset"])
        if recorded and stats_sha256(preset.stats) != recorded:
            raise GramophoneError(f"preset '{preset.name}' has changed since that render (its statistics' sha256 "
                                  f"is not {recorded[:12]}…)", "style_changed")
        return preset.build_model(weights_path), preset.stats, StyleOrigin(preset=preset.name)
    if style.get("files"):
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
        return model, style_from_files(files, model), StyleOrigin(files=files)
    for entry in store.entries():
        if entry.shadowed or entry.model != data["model"].get("name"):
            continue
        try:
            if read_metadata(entry.path)["stats_sha256"] == recorded:
                preset = store.load(entry.name)
                return preset.build_model(weights_path), preset.stats, StyleOrigin(preset=preset.name)
        except PresetError:
            continue
    raise GramophoneError(f"no installed preset has the statistics that render used (sha256 "
                          f"{str(recorded)[:12]}…)", "style_changed")
