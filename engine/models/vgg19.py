"""The ``vgg19`` model: Gram matrices of VGG-19's five convolutional blocks on the spectrogram.

The log-magnitude spectrogram ``[bins, frames]`` is replicated to three channels and passed
through VGG-19's convolutional part (the architecture is defined here; weights come only from
a file the user names, with torchvision's key names ``features.N.weight``/``.bias``, or are
random when asked for). The statistics are the Gram matrices ``F·Fᵀ/(H·W)`` at the output of
each block (relu1_2, relu2_2, relu3_4, relu4_4, relu5_4); the loss is the mean over blocks of
each block's relative squared Gram error.

The paper optimises a 3-channel image and averages its channels afterwards; here the three
channels are one tied variable (the same log-magnitude fed three times), which is what that
average converges to when the channels start equal, and needs no special case in the render.
Phase comes from Griffin-Lim in the spectrogram domain, or the render optimises the waveform.
"""
from __future__ import annotations

from typing import cast

import torch
from torch import nn

from .base import TextureModel
from .gram import GramStatistics
from .weights import PretrainedMixin

#: VGG-19 configuration "E": channels per conv layer, "M" for max-pooling between blocks.
_CONFIG: list[int | str] = [64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512, 512, 512, 512, "M", 512, 512, 512, 512, "M"]


def vgg19_features() -> nn.Sequential:
    """VGG-19's convolutional layers, indexed as in torchvision (``features.N``)."""
    layers: list[nn.Module] = []
    channels = 3
    for c in _CONFIG:
        if isinstance(c, str):  # "M"
            layers.append(nn.MaxPool2d(2, 2))
        else:
            layers += [nn.Conv2d(channels, c, 3, padding=1), nn.ReLU(inplace=False)]
            channels = c
    return nn.Sequential(*layers)


#: Indices of the last ReLU of each block (outputs whose Gram matrices are the statistics).
BLOCK_OUTPUTS = (3, 8, 17, 26, 35)


class _Features(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.features = vgg19_features()


class Vgg19Model(GramStatistics, PretrainedMixin, TextureModel):
    name = "vgg19"
    max_channels = 512
    defaults = {"sample_rate": 22_050, "n_fft": 2048, "hop": 512, "blocks": 5, "weights": None, "seed": 0}

    def build_network(self) -> nn.Module:
        return _Features()

    @property
    def min_frames(self) -> int:
        return 2 ** int(self.params["blocks"])  # each block halves the size

    def grams(self, frames: torch.Tensor) -> list[torch.Tensor]:
        x = frames[None, None].expand(1, 3, *frames.shape).to(next(self.net.parameters()).dtype)
        out = []
        last = BLOCK_OUTPUTS[int(self.params["blocks"]) - 1]
        for i, layer in enumerate(cast(nn.Sequential, self.net.features)):
            x = layer(x)
            if i in BLOCK_OUTPUTS:
                f = x[0].flatten(1)
                out.append(f @ f.T / f.shape[1])
            if i == last:
                break
        return out
