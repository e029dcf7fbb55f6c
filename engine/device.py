"""Which torch device a render runs on: the one rule for the ``device`` setting (``auto``, ``cpu``, ``cuda``).

Its own module because both the settings table (to check a value where it enters) and the render
(to place the model) need it, and the render imports the settings table.
"""
from __future__ import annotations

import torch

from .errors import GramophoneError


def resolve_device(name: str) -> torch.device:
    """``auto`` → CUDA when available, else CPU; ``cuda`` without a GPU is a clear error."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cpu":
        return torch.device("cpu")
    if name.startswith("cuda"):
        if not torch.cuda.is_available():
            raise GramophoneError("device 'cuda' requested but no CUDA GPU is available", "no_device")
        return torch.device(name)
    raise GramophoneError(f"device must be auto, cpu or cuda, got '{name}'", "bad_parameter")
