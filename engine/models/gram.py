"""Gram-matrix statistics shared by the pretrained-network models (``vgg19``, ``soundnet``)."""
from __future__ import annotations

from typing import Sequence

import torch

from .base import Stats


class GramStatistics:
    """Statistics ``gram1..gramN`` from a model's ``grams(x)``, pooled by length; the loss is
    the mean over layers of each layer's relative squared Gram error."""

    min_frames: int

    def grams(self, x: torch.Tensor) -> list[torch.Tensor]:
        raise NotImplementedError

    def statistics(self, segments: Sequence[torch.Tensor]) -> Stats:
        usable = [s for s in segments if s.shape[-1] >= self.min_frames]
        weights = [s.shape[-1] for s in usable]
        return self.blend([(w / sum(weights), {f"gram{i + 1}": g for i, g in enumerate(self.grams(s))})
                           for w, s in zip(weights, usable)])

    def blend(self, parts: Sequence[tuple[float, Stats]]) -> Stats:
        return {k: sum(w * s[k] for w, s in parts) for k in parts[0][1]}

    def loss(self, frames: torch.Tensor, target: Stats) -> torch.Tensor:
        grams = self.grams(frames)
        return sum((g - target[f"gram{i + 1}"]).square().sum() / target[f"gram{i + 1}"].square().sum()
                   for i, g in enumerate(grams)) / len(grams)
