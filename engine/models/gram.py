"""Gram-matrix statistics shared by the pretrained-network models (``vgg19``, ``soundnet``)."""
from __future__ import annotations

import operator
from functools import reduce
from typing import Any, Mapping, Sequence

import torch

from .base import Stats, stft_bins, weighted_average


class GramStatistics:
    """Statistics ``gram1..gramN`` from a model's ``grams(x)``, pooled by length; the loss is
    the mean over layers of each layer's relative squared Gram error."""

    #: The most channels a layer has: its Gram matrix is channels x channels.
    max_channels: int

    @classmethod
    def max_statistic_elements(cls, params: Mapping[str, Any]) -> int:
        """The widest layer's Gram matrix, or ``power`` (one value per bin)."""
        return max(cls.max_channels ** 2, stft_bins(params))

    def grams(self, x: torch.Tensor) -> list[torch.Tensor]:
        raise NotImplementedError

    def statistics(self, segments: Sequence[torch.Tensor]) -> Stats:
        grams = self.pooled(segments, lambda s: {f"gram{i + 1}": g for i, g in enumerate(self.grams(s))})  # type: ignore
        return {**grams, "power": self.long_term_power(segments)}  # type: ignore[attr-defined]

    def blend(self, parts: Sequence[tuple[float, Stats]]) -> Stats:
        return weighted_average(parts)

    def loss(self, frames: torch.Tensor, target: Stats) -> torch.Tensor:
        grams = self.grams(frames)
        terms = ((g - target[f"gram{i + 1}"]).square().sum() / target[f"gram{i + 1}"].square().sum()
                 for i, g in enumerate(grams))
        return reduce(operator.add, terms) / len(grams)
