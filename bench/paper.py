"""The paper's configuration (Grinstein et al. 2018), as the benchmarks' reference.

A 4096-filter wide-shallow-random net on ``log1p|STFT|`` at 22.05 kHz (n_fft 2048, hop 512),
full 4096 x 4096 Gram matrices (computed from their factors), the spectrogram initialised with the content's and optimised by
L-BFGS, then Griffin-Lim from the content's phase. The result is the paper's: 22.05 kHz audio
(resampled to the content's rate to be compared), nothing added back.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
import torch

from gramophone.engine.loudness import rms
from gramophone.engine.resampling import resample
from gramophone.engine.models.random_net import RandomNetModel
from gramophone.engine.optimise import lbfgs
from gramophone.engine.render import to_analysis_rate
from gramophone.engine.spectral import griffin_lim, log_magnitude, stft

GRIFFIN_LIM = 100


def paper_model(seed: int = 0) -> RandomNetModel:
    """The paper's net and loss ``‖G_x − G_y‖² / ‖G_y‖²`` over the full 4096 x 4096 Gram matrices,
    computed exactly from their factors (the engine's ``random`` model with no rank cut: a Gram
    of T frames has rank T), 2.6x faster on 2 cores than forming the Grams, same values."""
    return RandomNetModel(filters=4096, sample_rate=22_050, n_fft=2048, hop=512, seed=seed, rank=4096)


def paper_sweep(content: np.ndarray, content_rate: int, style: np.ndarray, style_rate: int,
                budgets: Sequence[int] = (10, 30, 100, 300)) -> dict[int, np.ndarray]:
    """The paper's render of mono ``content`` after each L-BFGS budget, from one optimisation run
    (snapshots), each ``[1, samples]`` at ``content_rate`` and the content's RMS level."""
    model = paper_model()
    cfg = model.stft
    y = torch.from_numpy(to_analysis_rate(style, style_rate, model))
    target = model.statistics([log_magnitude(y, cfg)[0]])
    x = torch.from_numpy(to_analysis_rate(content, content_rate, model))
    start = log_magnitude(x, cfg)[0].contiguous()
    phase = torch.angle(stft(x, cfg))

    def objective(p):
        p = p.clone().requires_grad_(True)
        loss = model.loss(p, target)
        loss.backward()
        return float(loss.detach()), lambda: p.grad

    snapshots: dict[int, torch.Tensor] = {}

    def step(i, loss, p):
        if i + 1 in budgets:
            snapshots[i + 1] = p.detach().clone()

    final = lbfgs(objective, start, max(budgets), step)
    out = {}
    for budget in budgets:
        p = snapshots.get(budget, final)
        magnitude = torch.expm1(p.clamp_min(0))[None]
        with torch.no_grad():
            audio = griffin_lim(magnitude, cfg, x.shape[1], GRIFFIN_LIM, phase)
        audio = resample(audio.numpy().astype(np.float32), model.sample_rate, content_rate, content.shape[1])
        out[budget] = (audio * rms(content) / max(rms(audio), 1e-9)).astype(np.float32)
    return out
