"""Gramophone: render a clip "in the style of" another sound, from the command line or over OSC.

The public API, importable from here (each name is loaded on first use, so ``import gramophone``
stays light: the command line and the OSC server start without torch until they render)::

    import gramophone
    model = gramophone.get_model("kernel")
    style = gramophone.analyse_style([(style_audio, 44100)], model)
    out = gramophone.render(content_audio, 44100, model, style, gramophone.RenderSettings(strength=0.8))
    gramophone.render_file("clip.wav", "clip-rain.wav", model, style)   # files, any length, streamed

* :func:`render` — arrays in, array out (:mod:`gramophone.engine.render`);
* :func:`render_file` — a file in, a file (and its sidecar) out (:mod:`gramophone.engine.pipeline`);
* :func:`analyse_style`, :func:`get_model`, :class:`RenderSettings` — a style's statistics, a
  texture model by name, every render setting (declared once in :mod:`gramophone.engine.settings`);
* :class:`PresetStore` — the preset library (shipped and the user's);
* :class:`GramophoneError` (with its ``code`` from the one error table), :class:`RenderCancelled`,
  :class:`CancelToken`.

One import name for everything that installs:

* :mod:`gramophone.engine` — the style-transfer library (pure render, texture models, presets);
* :mod:`gramophone.bridge` — the ``gramophone`` command line and the OSC server;
* :mod:`gramophone.presets` — the shipped preset library (package data);
* :mod:`gramophone.clients` — the Max, Max for Live, SuperCollider and Pure Data clients.

The source tree keeps the design's top-level folders (``engine/``, ``bridge/``, ``presets/``,
``max_patches/``); ``pyproject.toml`` maps them under this package.
"""
from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

__version__ = "0.2.0"

#: public name -> the module that defines it
_EXPORTS = {
    "render": "gramophone.engine.render",
    "analyse_style": "gramophone.engine.render",
    "RenderSettings": "gramophone.engine.render_settings",
    "get_model": "gramophone.engine.models",
    "render_file": "gramophone.engine.pipeline",
    "RenderResult": "gramophone.engine.pipeline",
    "PresetStore": "gramophone.engine.preset_store",
    "GramophoneError": "gramophone.engine.errors",
    "RenderCancelled": "gramophone.engine.errors",
    "CancelToken": "gramophone.engine.progress",
}

__all__ = ["__version__", *_EXPORTS]

if TYPE_CHECKING:  # what type checkers and editors see; at run time, __getattr__ below
    from .engine.errors import GramophoneError, RenderCancelled
    from .engine.models import get_model
    from .engine.pipeline import RenderResult, render_file
    from .engine.preset_store import PresetStore
    from .engine.progress import CancelToken
    from .engine.render import analyse_style, render
    from .engine.render_settings import RenderSettings


def __getattr__(name: str) -> Any:
    """Load a public name from its module on first use (PEP 562)."""
    if name not in _EXPORTS:
        raise AttributeError(f"module 'gramophone' has no attribute {name!r}")
    value = getattr(import_module(_EXPORTS[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))
