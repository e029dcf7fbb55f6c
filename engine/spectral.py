"""The spectral front end shared by the spectrogram texture models, and Griffin-Lim.

All functions are pure: tensors in, tensors out, differentiable where it matters.
Features are ``log1p(|STFT|)`` frames, shaped ``[..., bins, frames]`` as in the paper.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import torch


@dataclass(frozen=True)
class StftConfig:
    """STFT parameters; ``sample_rate`` is the engine's internal analysis rate."""

    sample_rate: int = 22_050
    n_fft: int = 2048
    hop: int = 512

    @property
    def bins(self) -> int:
        return self.n_fft // 2 + 1

    def window(self, device: torch.device, dtype: torch.dtype) -> torch.Tensor:
        return torch.hann_window(self.n_fft, periodic=True, device=device, dtype=dtype)

    def frames(self, samples: int) -> int:
        """Number of STFT frames for a signal of ``samples`` (centred frames)."""
        return 1 + samples // self.hop


def stft(x: torch.Tensor, cfg: StftConfig) -> torch.Tensor:
    """Complex STFT of ``[..., samples]`` → ``[..., bins, frames]`` (centred, reflect-padded)."""
    shape = x.shape
    flat = x.reshape(-1, shape[-1])
    pad_mode = "reflect" if shape[-1] > cfg.n_fft // 2 else "constant"
    spec = torch.stft(flat, cfg.n_fft, cfg.hop, window=cfg.window(x.device, x.dtype),
                      center=True, pad_mode=pad_mode, return_complex=True)
    return spec.reshape(*shape[:-1], *spec.shape[-2:])


def istft(spec: torch.Tensor, cfg: StftConfig, length: int) -> torch.Tensor:
    """Inverse of :func:`stft` for ``[..., bins, frames]`` → ``[..., length]``."""
    shape = spec.shape
    flat = spec.reshape(-1, *shape[-2:])
    window = cfg.window(spec.device, spec.real.dtype)
    x = torch.istft(flat, cfg.n_fft, cfg.hop, window=window, center=True, length=length)
    return x.reshape(*shape[:-2], length)


def log_magnitude(x: torch.Tensor, cfg: StftConfig, gain: float = 1.0) -> torch.Tensor:
    """``log1p(gain · |STFT(x)|)`` with a gradient that stays finite at silent bins. A larger
    ``gain`` compresses more (closer to a log), so quiet bands weigh more against loud ones."""
    spec = stft(x, cfg)
    power = spec.real.square() + spec.imag.square()
    return torch.log1p(gain * torch.sqrt(power + 1e-12))


def griffin_lim(magnitude: torch.Tensor, cfg: StftConfig, length: int, iterations: int = 32,
                initial_phase: Optional[torch.Tensor] = None, momentum: float = 0.99,
                generator: Optional[torch.Generator] = None) -> torch.Tensor:
    """Phase reconstruction (fast Griffin-Lim, Perraudin et al. 2013) of ``[..., bins, frames]``.

    Starts from ``initial_phase`` (angles, e.g. the content's) or from random phase.
    """
    if initial_phase is None:
        initial_phase = 2 * torch.pi * torch.rand(magnitude.shape, generator=generator,
                                                  dtype=magnitude.dtype).to(magnitude.device)
    angles = torch.polar(torch.ones_like(magnitude), initial_phase)
    previous = torch.zeros_like(angles)
    for _ in range(iterations):
        x = istft(magnitude * angles, cfg, length)
        rebuilt = stft(x, cfg)
        accelerated = rebuilt - (momentum / (1 + momentum)) * previous
        angles = accelerated / accelerated.abs().clamp_min(1e-16)
        previous = rebuilt
    return istft(magnitude * angles, cfg, length)


def replace_end_frames(frames: torch.Tensor) -> torch.Tensor:
    """``frames [..., T]`` with the first and last frame replaced by their neighbours: a centred
    STFT folds the clip around its first and last samples, so those two frames hold a fold
    (a click) that no other frame has."""
    if frames.shape[-1] <= 2:
        return frames
    return torch.cat([frames[..., 1:2], frames[..., 1:-1], frames[..., -2:-1]], -1)
