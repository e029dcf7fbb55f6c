"""The ``random`` model: the paper's wide-shallow-random network.

One 1-D convolution over ``log1p(|STFT|)`` frames (frequency bins are the input channels),
``filters`` random filters of ``width`` frames with N(0, 1) weights and no bias, a ReLU, and
the Gram matrix ``F·Fᵀ/T`` of the K feature maps. The filters come from a seeded generator on
the CPU, so the same seed gives the same model on every device.
"""
from __future__ import annotations

from typing import Sequence

import torch
import torch.nn.functional as F

from .base import Stats, TextureModel


class RandomNetModel(TextureModel):
    name = "random"
    defaults = {"sample_rate": 22_050, "n_fft": 2048, "hop": 512, "width": 11, "filters": 4096, "seed": 0}

    def __init__(self, **params) -> None:
        super().__init__(**params)
        gen = torch.Generator().manual_seed(int(self.params["seed"]))
        shape = (int(self.params["filters"]), self.stft.bins, int(self.params["width"]))
        self.weight = torch.randn(shape, generator=gen)

    @property
    def min_frames(self) -> int:
        return int(self.params["width"])

    def to(self, device: torch.device) -> "RandomNetModel":
        super().to(device)
        self.weight = self.weight.to(self.device)
        return self

    def features(self, frames: torch.Tensor) -> torch.Tensor:
        """ReLU feature maps ``[filters, frames - width + 1]`` of ``[bins, frames]``."""
        return F.relu(F.conv1d(frames[None], self.weight.to(frames.dtype)))[0]

    def gram(self, frames: torch.Tensor) -> torch.Tensor:
        f = self.features(frames)
        return f @ f.transpose(0, 1) / f.shape[1]

    def statistics(self, segments: Sequence[torch.Tensor]) -> Stats:
        usable = [s for s in segments if s.shape[1] >= self.min_frames]
        counts = [s.shape[1] - self.min_frames + 1 for s in usable]
        total = sum(counts)
        gram = sum(self.gram(s) * (n / total) for s, n in zip(usable, counts))
        return {"gram": gram}

    def blend(self, parts: Sequence[tuple[float, Stats]]) -> Stats:
        return {"gram": sum(w * s["gram"] for w, s in parts)}

    def loss(self, frames: torch.Tensor, target: Stats) -> torch.Tensor:
        g = target["gram"]
        return (self.gram(frames) - g).square().sum() / g.square().sum()
