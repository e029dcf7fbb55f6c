"""The ``soundnet`` model: Gram matrices of all eight conv layers of SoundNet on the waveform.

SoundNet (Aytar, Vondrick & Torralba 2016), the 8-layer version: 1-D convolutions over raw
audio at 22.05 kHz (scaled to ±256 as in the original), each followed by batch norm (inference
statistics) and ReLU, with max-pooling after layers 1, 2 and 5; conv8 is the 1000-way object
head. The statistics are the Gram matrices ``F·Fᵀ/T`` of every conv layer's output. conv8
sees 8 steps of 32768 samples (about 12 s); for shorter clips its input is zero-padded to that
width, so every clip has all eight statistics.

Weights come only from a file the user names: a state dict with the keys ``conv1.weight``,
``conv1.bias``, ``bn1.weight``, ``bn1.bias``, ``bn1.running_mean``, ``bn1.running_var`` …
``conv7.*``, ``bn7.*``, ``conv8.weight``, ``conv8.bias`` (convert other ports' names to these),
or random ones when asked for.
"""
from __future__ import annotations

from typing import cast

import torch
from torch import nn

from .base import TextureModel
from .gram import GramStatistics
from .weights import PretrainedMixin

#: (in, out, kernel, stride, padding, max-pool after) per conv layer
_LAYERS = [(1, 16, 64, 2, 32, 8), (16, 32, 32, 2, 16, 8), (32, 64, 16, 2, 8, 0), (64, 128, 8, 2, 4, 0),
           (128, 256, 4, 2, 2, 4), (256, 512, 4, 2, 2, 0), (512, 1024, 4, 2, 2, 0)]


class SoundNet8(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        for i, (cin, cout, k, s, p, _) in enumerate(_LAYERS, 1):
            setattr(self, f"conv{i}", nn.Conv1d(cin, cout, k, s, p))
            setattr(self, f"bn{i}", nn.BatchNorm1d(cout))
        self.conv8 = nn.Conv1d(1024, 1000, 8, 2)

    def layer_outputs(self, x: torch.Tensor) -> list[torch.Tensor]:
        """Outputs ``[channels, time]`` of the eight conv layers (after ReLU for 1-7) for ``[samples]``."""
        h, outs = x[None, None] * 256.0, []
        for i, (*_, pool) in enumerate(_LAYERS, 1):
            h = torch.relu(getattr(self, f"bn{i}")(getattr(self, f"conv{i}")(h)))
            outs.append(h[0])
            if pool:
                h = nn.functional.max_pool1d(h, pool, pool)
        if h.shape[-1] < 8:  # clips under ~12 s: pad conv8's input to one kernel width
            h = nn.functional.pad(h, (0, 8 - h.shape[-1]))
        outs.append(self.conv8(h)[0])
        return outs


class SoundNetModel(GramStatistics, PretrainedMixin, TextureModel):
    name = "soundnet"
    max_channels = 1024
    input = "waveform"
    defaults = {"sample_rate": 22_050, "weights": None, "seed": 0}

    def build_network(self) -> nn.Module:
        return SoundNet8()

    @property
    def min_frames(self) -> int:
        return 2 ** 15  # samples for conv7 to see one step (about 1.5 s)

    def grams(self, x: torch.Tensor) -> list[torch.Tensor]:
        network = cast(SoundNet8, self.net)
        return [f @ f.T / f.shape[1] for f in network.layer_outputs(x.to(next(network.parameters()).dtype))]
