"""Gramophone's style-transfer engine: audio in, audio "in the style of" another sound out.

The engine is a library of pure functions (tensors or arrays in, arrays out) plus audio file
I/O; it never imports the OSC bridge. Typical use::

    from gramophone.engine import get_model, analyse_style, render, RenderSettings
    model = get_model("kernel")
    style = analyse_style([(style_audio, 44100)], model)
    out = render(content_audio, 44100, model, style, RenderSettings(strength=0.8))
"""
from .errors import GramophoneError, RenderCancelled
from .models import DEFAULT_MODEL, MODELS, get_model
from .progress import CancelToken
from . import synth
from .render import analyse_style, render
from .render_settings import RenderSettings

from .. import __version__

__all__ = ["__version__", "synth", "CancelToken", "DEFAULT_MODEL", "GramophoneError", "MODELS", "RenderCancelled",
           "RenderSettings", "analyse_style", "get_model", "render"]
