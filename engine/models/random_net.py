"""The ``random`` model: the paper's wide-shallow-random network.

One 1-D convolution over ``log1p(|STFT|)`` frames (frequency bins are the input channels),
``filters`` random filters of ``width`` frames with N(0, 1) weights and no bias, a ReLU, and
the Gram matrix ``G = F·Fᵀ/T`` of the K feature maps. The filters come from a seeded generator
on the CPU, so the same seed gives the same model on every device.

Statistics are kept as a factor ``L`` with ``G ≈ L·Lᵀ`` (``[filters, rank]``), never as the
K x K Gram itself (64 MB at K = 4096): ``G = F·Fᵀ/T`` has rank at most T, so up to ``rank``
columns it is exact, and beyond that the top ``rank`` principal directions are kept. The loss
``‖F·Fᵀ/T − L·Lᵀ‖²`` then needs only small matrices (``FᵀF``, ``FᵀL``, ``LᵀL``).

Analysis is at 44.1 kHz (n_fft 2048, hop 512: 46 ms windows every 12 ms), not the paper's
22.05 kHz, so the texture reaches 20 kHz. Measured on the 21 benchmark pairs (strength 1, with
the spectrum step): 22.05 kHz 0.18 / 0.70 (style gain / content kept), style rising with
strength on 18; 44.1 kHz with hop 1024, 0.25 / 0.76 on 20 (piano -> water's modulation fell at
1: the optimiser left flutter between 23 ms frames); hop 512, 0.26 / 0.75 on 21, at about twice the
time (10 s mono: 52 s against 27 s). Statistics also hold the style's long-term spectrum (``power``, see
:meth:`TextureModel.long_term_power`), which the Gram loss leaves loose. The paper's own
configuration is ``bench/paper.py``; presets record their parameters, so older ones keep theirs.
"""
from __future__ import annotations

from typing import Any, Mapping, Sequence

import torch
import torch.nn.functional as F

from .base import Stats, TextureModel, stft_bins, weighted_average


class RandomNetModel(TextureModel):
    name = "random"
    defaults = {"sample_rate": 44_100, "n_fft": 2048, "hop": 512, "width": 11, "filters": 4096, "seed": 0,
                "rank": 256}

    @classmethod
    def max_statistic_elements(cls, params: Mapping[str, Any]) -> int:
        """``factor``: ``filters`` x at most ``rank`` columns; ``power``: one value per bin; and the
        filters themselves (``filters`` x bins x ``width``), which building the model allocates."""
        filters, bins = int(params["filters"]), stft_bins(params)
        return max(filters * int(params["rank"]), bins, filters * bins * int(params["width"]))

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
        """The paper's Gram matrix ``F·Fᵀ/T`` (K x K; for tests and inspection)."""
        f = self.features(frames)
        return f @ f.transpose(0, 1) / f.shape[1]

    def statistics(self, segments: Sequence[torch.Tensor]) -> Stats:
        usable = [s for s in segments if s.shape[1] >= self.min_frames]
        counts = [s.shape[1] - self.min_frames + 1 for s in usable]
        total = sum(counts)
        # G = Σ (n/total)·F Fᵀ/n = Σ F Fᵀ / total, so the factor is all feature columns / √total
        factor = torch.cat([self.features(s) for s in usable], 1) / total ** 0.5
        return {"factor": self._truncate(factor), "power": self.long_term_power(usable)}

    def blend(self, parts: Sequence[tuple[float, Stats]]) -> Stats:
        others = weighted_average([(w, {k: v for k, v in s.items() if k != "factor"}) for w, s in parts])
        return {**others, "factor": self._truncate(torch.cat([w ** 0.5 * s["factor"] for w, s in parts], 1))}

    def _truncate(self, factor: torch.Tensor) -> torch.Tensor:
        """Keep the top ``rank`` principal directions of ``factor·factorᵀ``."""
        rank = int(self.params["rank"])
        if factor.shape[1] <= rank:
            return factor
        small = factor.transpose(0, 1) @ factor  # [n, n]: same non-zero eigenvalues as F Fᵀ
        values, vectors = torch.linalg.eigh(small.double())
        top = vectors[:, -rank:].to(factor.dtype)
        return factor @ top  # (F v)(F v)ᵀ = Σ λ u uᵀ over the top eigenpairs

    def loss(self, frames: torch.Tensor, target: Stats) -> torch.Tensor:
        f = self.features(frames)
        f = f / f.shape[1] ** 0.5
        lt = target["factor"]
        xx = (f.transpose(0, 1) @ f).square().sum()
        xy = (f.transpose(0, 1) @ lt).square().sum()
        yy = (lt.transpose(0, 1) @ lt).square().sum()
        return (xx - 2 * xy + yy) / yy
