"""Which torch device a render runs on: the one rule for the ``device`` setting (``auto``, ``cpu``, ``cuda``),
and whether the loss's largest products may run in bfloat16 there (:func:`bfloat16_products`).

Its own module because both the settings table (to check a value where it enters) and the render
(to place the model) need it, and the render imports the settings table.
"""
from __future__ import annotations

import os

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


#: ``auto`` (the default): bfloat16 products where :func:`bfloat16_products` allows them;
#: ``float32``: every product in float32, so renders do not depend on whether a CPU has bfloat16 products.
PRECISION_VARIABLE = "GRAMOPHONE_PRECISION"
PRECISIONS = ("auto", "float32")


def precision() -> str:
    """``$GRAMOPHONE_PRECISION``, one of :data:`PRECISIONS` (unset: ``auto``); ``bad_parameter`` otherwise."""
    chosen = os.environ.get(PRECISION_VARIABLE, "auto").strip().lower() or "auto"
    if chosen not in PRECISIONS:
        raise GramophoneError(f"{PRECISION_VARIABLE} must be auto or float32, got '{chosen}'", "bad_parameter")
    return chosen


def bfloat16_products(device: torch.device) -> bool:
    """Whether the kernel loss's gradient products run in bfloat16 on ``device``: only on a CPU
    that multiplies bfloat16 natively (AVX512-BF16 or AMX), where they take half the time of
    float32 ones, and unless ``$GRAMOPHONE_PRECISION`` is ``float32``. Elsewhere bfloat16 is
    emulated and slower than float32 (and CUDA's float32 products are fast already)."""
    if precision() == "float32" or device.type != "cpu":
        return False
    capabilities = getattr(torch.cpu, "get_capabilities", None)  # torch >= 2.9
    if capabilities is None:
        return False
    found = capabilities()
    return bool(found.get("avx512_bf16") or found.get("amx_bf16"))


def describe_precision(device: torch.device) -> str:
    """One line for ``gramophone info`` and ``doctor``: the precision of the kernel's gradient products here, and why."""
    try:
        if bfloat16_products(device):
            return (f"kernel gradient products: bfloat16 (this CPU multiplies it natively; "
                    f"{PRECISION_VARIABLE}=float32 for float32)")
    except GramophoneError as exc:
        return str(exc)
    return "kernel gradient products: float32 (" + (f"${PRECISION_VARIABLE}" if precision() == "float32" else
                                                    "no native bfloat16 products on this device") + ")"
