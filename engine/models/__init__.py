"""Registry of texture models: ``get_model(name, **params)``."""
from __future__ import annotations

from typing import Any

from ..errors import GramophoneError
from .auditory import AuditoryModel
from .base import Stats, TextureModel
from .kernel import KernelModel
from .random_net import RandomNetModel
from .soundnet import SoundNetModel
from .vgg19 import Vgg19Model

MODELS: dict[str, type[TextureModel]] = {m.name: m for m in (KernelModel, RandomNetModel, AuditoryModel,
                                                             Vgg19Model, SoundNetModel)}
DEFAULT_MODEL = "kernel"


def check_model_name(name: str) -> type[TextureModel]:
    """The model class called ``name``; an unknown name is ``bad_model`` wherever it is given."""
    try:
        return MODELS[name]
    except KeyError:
        raise GramophoneError(f"unknown model '{name}'; choose one of {', '.join(MODELS)}", "bad_model") from None


def get_model(name: str = DEFAULT_MODEL, **params: Any) -> TextureModel:
    """Build the texture model ``name`` with ``params`` overriding its defaults; the pretrained
    ones (``vgg19``, ``soundnet``) also take ``weights_path``, or ``weights="random"``."""
    return check_model_name(name)(**params)


__all__ = ["MODELS", "DEFAULT_MODEL", "Stats", "TextureModel", "check_model_name", "get_model"]
