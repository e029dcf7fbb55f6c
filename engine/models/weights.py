"""Loading pretrained weights safely, only from a file the user names.

Nothing is ever downloaded. Accepted files: a PyTorch state dict (``.pt``/``.pth``, read with
``torch.load(weights_only=True)``, which refuses anything but tensors and plain containers, so
a checkpoint cannot run code) or a NumPy ``.npz`` archive (read with ``allow_pickle=False``).

Before either reader allocates anything, :func:`check_weights_file` bounds what the file can
make it allocate: its size, and for a zip (``torch.save``'s format and ``.npz``) the entries its
directory lists, the sizes they declare and how far they expand, and each ``.npy`` header's shape
against the bytes its entry holds. (torch's older, non-zip format holds each tensor's bytes in
the file itself, so the file's size bounds it.)
"""
from __future__ import annotations

import math
import os
import zipfile
from pathlib import Path

import numpy as np
import torch

from ..errors import GramophoneError
from ..files import file_sha256
from ..limits import (MAX_COMPRESSION_RATIO, MAX_WEIGHTS_BYTES, MAX_WEIGHTS_ENTRIES, RATIO_CHECK_FROM_BYTES,
                      read_npy_header, zip_directory)


def check_weights_file(path: str | os.PathLike) -> Path:
    """``path``, once it is a file whose reading stays within :data:`MAX_WEIGHTS_BYTES`
    (``no_weights`` when missing, ``bad_weights`` otherwise; see the module docstring)."""
    p = Path(path)
    if not p.is_file():
        raise GramophoneError(f"no weights file at {p}", "no_weights")
    size = p.stat().st_size
    if size > MAX_WEIGHTS_BYTES:
        raise GramophoneError(f"{p} is too large for a weights file ({size:,} bytes; at most "
                              f"{MAX_WEIGHTS_BYTES:,})", "bad_weights")
    try:
        with open(p, "rb") as f:
            directory = zip_directory(f)
        if directory is not None:
            _check_zip(p, directory)
    except GramophoneError:
        raise
    except (OSError, ValueError, zipfile.BadZipFile) as exc:
        raise GramophoneError(f"cannot read the weights file {p} ({exc})", "bad_weights") from exc
    return p


def _check_zip(p: Path, directory: tuple[int, int]) -> None:
    """A weights zip's entries: how many, the bytes they declare, how far each expands, and for
    ``.npy`` entries that the header's shape is the data the entry holds."""
    entries, directory_bytes = directory
    if entries > MAX_WEIGHTS_ENTRIES or directory_bytes > MAX_WEIGHTS_ENTRIES * 1024:
        raise GramophoneError(f"{p} lists {entries:,} entries in {directory_bytes:,} bytes; a weights file has at "
                              f"most {MAX_WEIGHTS_ENTRIES:,}", "bad_weights")
    with zipfile.ZipFile(p) as z:
        infos = z.infolist()
        total = sum(info.file_size for info in infos)
        if total > MAX_WEIGHTS_BYTES:
            raise GramophoneError(f"{p}: its entries declare {total:,} bytes in all (at most {MAX_WEIGHTS_BYTES:,})",
                                  "bad_weights")
        for info in infos:
            ratio = info.file_size / max(info.compress_size, 1)
            if info.file_size >= RATIO_CHECK_FROM_BYTES and ratio > MAX_COMPRESSION_RATIO:
                raise GramophoneError(f"{p}: {info.filename} expands {ratio:.0f}-fold (at most "
                                      f"{MAX_COMPRESSION_RATIO}; weights hardly compress)", "bad_weights")
            if p.suffix.lower() == ".npz" and info.filename.endswith(".npy"):
                with z.open(info) as stream:
                    shape, _, dtype = read_npy_header(stream)
                    declared = math.prod(shape) * dtype.itemsize
                    if stream.tell() + declared != info.file_size:
                        raise GramophoneError(f"{p}: {info.filename} declares shape {tuple(shape)} of {dtype} "
                                              f"({declared:,} bytes) but holds {info.file_size - stream.tell():,}",
                                              "bad_weights")




def read_state_dict(path: str | os.PathLike) -> dict[str, torch.Tensor]:
    """The tensors in the weights file at ``path`` (nested ``state_dict`` keys are unwrapped)."""
    p = check_weights_file(path)
    try:
        if p.suffix.lower() == ".npz":
            with np.load(p, allow_pickle=False) as z:
                state = {k: torch.from_numpy(z[k]) for k in z.files}
        else:
            state = torch.load(p, map_location="cpu", weights_only=True)
    except Exception as exc:
        raise GramophoneError(f"cannot load weights from {p} safely ({type(exc).__name__}: "
                              f"{str(exc).splitlines()[0] if str(exc) else ''}); expected a PyTorch state dict "
                              "(.pt/.pth) or an .npz of arrays", "bad_weights") from exc
    if isinstance(state, dict) and "state_dict" in state and isinstance(state["state_dict"], dict):
        state = state["state_dict"]
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise GramophoneError(f"{p} does not hold a state dict of tensors", "bad_weights")
    return {k.removeprefix("module."): v for k, v in state.items()}


def load_into(module: torch.nn.Module, path: str | os.PathLike, model_name: str) -> None:
    """Load the weights file into ``module``; every expected tensor must be there, with its shape."""
    state = read_state_dict(path)
    expected = module.state_dict()
    missing = [k for k in expected if k not in state]
    if missing:
        raise GramophoneError(f"{path} is not a {model_name} checkpoint: missing {', '.join(missing[:4])}"
                              f"{' …' if len(missing) > 4 else ''} (see the model's docs for the key names)",
                              "bad_weights")
    for k, v in expected.items():
        if state[k].shape != v.shape:
            raise GramophoneError(f"{path}: '{k}' has shape {tuple(state[k].shape)}, {model_name} needs "
                                  f"{tuple(v.shape)}", "bad_weights")
    module.load_state_dict({k: state[k].to(v.dtype) for k, v in expected.items()})


class PretrainedMixin:
    """Weights handling shared by the pretrained-network models.

    The ``weights`` parameter records what the statistics depend on: ``"random"`` (random
    weights from ``seed``; only when asked for explicitly) or the SHA-256 of the weights file.
    """

    net: torch.nn.Module

    def __init__(self, weights_path: str | os.PathLike | None = None, **params) -> None:
        super().__init__(**params)  # type: ignore[call-arg]
        self.net = self.build_network()
        self._init_weights(self.net, weights_path)

    def build_network(self) -> torch.nn.Module:
        raise NotImplementedError

    def to(self, device: torch.device):
        super().to(device)  # type: ignore[misc]
        self.net.to(self.device)  # type: ignore[attr-defined]
        return self

    def _init_weights(self, network: torch.nn.Module, weights_path: str | os.PathLike | None) -> None:
        name, recorded = self.name, self.params.get("weights")  # type: ignore[attr-defined]
        if weights_path is not None:
            digest = file_sha256(check_weights_file(weights_path))  # checked first: bounded
            if recorded not in (None, "random", digest):
                raise GramophoneError(f"these {name} statistics were made with another weights file "
                                      f"(sha256 {recorded[:12]}…); pass that file", "weights_mismatch")
            load_into(network, weights_path, name)
            self.params["weights"] = digest  # type: ignore[attr-defined]
        elif recorded == "random":
            with torch.random.fork_rng():
                torch.manual_seed(int(self.params["seed"]))  # type: ignore[attr-defined]
                for m in network.modules():
                    reset = getattr(m, "reset_parameters", None)
                    if callable(reset):
                        reset()
        elif recorded is None:
            raise GramophoneError(f"model '{name}' needs pretrained weights: give --weights PATH (a state dict "
                                  f"file), or --random-weights for random ones (not the paper's model)",
                                  "no_weights")
        else:
            raise GramophoneError(f"these {name} statistics were made with the weights file of sha256 "
                                  f"{recorded[:12]}…; pass it with --weights PATH", "no_weights")
        network.eval()
        for p in network.parameters():
            p.requires_grad_(False)
