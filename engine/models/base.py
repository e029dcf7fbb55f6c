"""The texture-model interface every model implements, and the statistics container."""
from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, ClassVar, Mapping, Sequence

import torch

from ..spectral import StftConfig

#: A model's statistics of a sound: named tensors (what a preset stores).
Stats = dict[str, torch.Tensor]


class TextureModel(ABC):
    """Turns log-magnitude frames into texture statistics and scores a candidate against them.

    Models are configured by JSON-able ``params`` (everything the statistics depend on) and
    work on ``log1p(|STFT|)`` frames ``[bins, frames]`` computed at ``stft.sample_rate``.
    """

    name: ClassVar[str]
    #: Defaults for every parameter; callers override a subset.
    defaults: ClassVar[Mapping[str, Any]]

    def __init__(self, **params: Any) -> None:
        unknown = set(params) - set(self.defaults)
        if unknown:
            from ..errors import GramophoneError

            raise GramophoneError(f"model '{self.name}' has no parameter(s) {', '.join(sorted(unknown))}; "
                                  f"known: {', '.join(sorted(self.defaults))}", "bad_parameter")
        self.params: dict[str, Any] = {**self.defaults, **params}
        self.stft = StftConfig(int(self.params["sample_rate"]), int(self.params["n_fft"]),
                               int(self.params["hop"]))
        self.device = torch.device("cpu")

    def to(self, device: torch.device) -> "TextureModel":
        """Move whatever the model holds (e.g. filters) to ``device``."""
        self.device = torch.device(device)
        return self

    @property
    def min_frames(self) -> int:
        """Fewest frames a segment must have to yield any statistics."""
        return 1

    @abstractmethod
    def statistics(self, segments: Sequence[torch.Tensor]) -> Stats:
        """Statistics pooled over ``segments`` (each ``[bins, frames]``, e.g. channels or files)."""

    @abstractmethod
    def blend(self, parts: Sequence[tuple[float, Stats]]) -> Stats:
        """Statistics of the weighted mixture of several sounds (weights sum to 1)."""

    @abstractmethod
    def loss(self, frames: torch.Tensor, target: Stats) -> torch.Tensor:
        """Relative style loss ``‖G(frames) − G_target‖² / ‖G_target‖²`` (a scalar tensor)."""
