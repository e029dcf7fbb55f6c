"""The style of a recorded render, rebuilt from its sidecar (``gramophone render --like OUT.wav.json``).

The sidecar (:mod:`.sidecar`) only says where the style came from; this module finds it again (the
same preset, the same style files, or an installed preset with the same statistics) and refuses
if it has changed since. It sits above both the record format and the file-level render, so
neither imports the other's job.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Mapping, Optional

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
    return _restore(data["style"], data, store, weights_path)


def restore_blend(data: dict[str, Any], store: PresetStore, model: TextureModel,
                  weights_path: str | os.PathLike | None = None) -> tuple[Optional[Stats], Optional[StyleOrigin]]:
    """The second style (``blend_to``) of the render a sidecar records, found as
    :func:`restore_style` finds the first, under ``model`` (the first style's); ``(None, None)``
    for a render without one."""
    if not data.get("blend_to"):
        return None, None
    second, stats, origin = _restore(data["blend_to"], data, store, weights_path, model)
    check_same_model(model, second, origin.preset or "the second style")
    return stats, origin


def check_same_model(model: TextureModel, other: TextureModel, name: str) -> None:
    """Refuse (``model_mismatch``) a second style made with another model or other parameters."""
    check_same_statistics(model.name, model.params, other.name, other.params, name)


def check_same_statistics(model: str, params: Optional[Mapping[str, Any]], other: str,
                          other_params: Mapping[str, Any], name: str) -> None:
    """:func:`check_same_model` from names and parameters (a preset's metadata: nothing built);
    ``params`` None: the first style's are not known yet (style files), so the model alone."""
    if other != model or params is not None and dict(other_params) != dict(params):
        raise GramophoneError(f"{name} holds {other} statistics, but the first style is {model}'s: both styles "
                              "of a blend must come from the same model (and parameters)", "model_mismatch")


def _restore(style: dict[str, Any], data: dict[str, Any], store: PresetStore,
             weights_path: str | os.PathLike | None = None, model: Optional[TextureModel] = None
             ) -> tuple[TextureModel, Stats, StyleOrigin]:
    """One recorded style (``data["style"]`` or ``data["blend_to"]``); style files are analysed with
    ``model`` where given, else the model the sidecar records."""
    recorded = style.get("stats_sha256")
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
        if model is None:
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
