"""The texture-model interface every model implements, and the statistics container."""
from __future__ import annotations

import operator
from abc import ABC, abstractmethod
from functools import reduce
from typing import Any, Callable, ClassVar, Mapping, Optional, Sequence

import torch

from ..spectral import StftConfig

#: A model's statistics of a sound: named tensors (what a preset stores).
Stats = dict[str, torch.Tensor]


def stft_bins(params: Mapping[str, Any]) -> int:
    """Frequency bins of the STFT that ``params`` configure (``n_fft`` 2048 where they do not say)."""
    return int(params.get("n_fft", 2048)) // 2 + 1


def weighted_average(parts: Sequence[tuple[float, Stats]]) -> Stats:
    """Each statistic averaged over ``parts`` with their weights (the mixture of their sounds for
    Gram matrices; an approximation for nonlinear statistics). A statistic that not every part
    holds (``power``, absent from presets made before it) is left out."""
    return {k: reduce(operator.add, (w * s[k] for w, s in parts)) for k in parts[0][1] if all(k in s for _, s in parts)}


class TextureModel(ABC):
    """Turns log-magnitude frames into texture statistics and scores a candidate against them.

    Models are configured by JSON-able ``params`` (everything the statistics depend on) and
    work on ``log1p(|STFT|)`` frames ``[bins, frames]`` computed at ``stft.sample_rate``.
    """

    name: ClassVar[str]
    #: Defaults for every parameter; callers override a subset.
    defaults: ClassVar[Mapping[str, Any]]
    #: "spectrogram": statistics of log1p|STFT| frames ``[bins, frames]``, so a render can
    #: optimise either the samples or the spectrogram; "waveform": statistics of the samples
    #: ``[samples]`` themselves (waveform domain only).
    input: ClassVar[str] = "spectrogram"
    #: True when the loss ignores the level of what it scores: a render then holds each channel
    #: at its content's level while optimising, so the level cannot drift.
    level_invariant: ClassVar[bool] = False
    #: Values of parameters added after presets were first saved: a preset that does not record
    #: one was made with this value (see :mod:`engine.preset_format`).
    legacy_params: ClassVar[Mapping[str, Any]] = {}
    #: Parameters that only weigh the loss, not what the statistics are: presets do not record
    #: them, so a preset renders with the engine's current weights.
    loss_params: ClassVar[frozenset[str]] = frozenset()
    #: The domain a render optimises in when the caller says ``auto``.
    default_domain: ClassVar[str] = "waveform"
    #: Optimiser iterations a render uses when the caller does not say (measured per model).
    default_iterations: ClassVar[int] = 20

    def __init__(self, weights_path: Any = None, **params: Any) -> None:
        from ..errors import GramophoneError

        if weights_path is not None:
            raise GramophoneError(f"model '{self.name}' takes no weights file", "bad_parameter")
        unknown = set(params) - set(self.defaults)
        if unknown:
            raise GramophoneError(f"model '{self.name}' has no parameter(s) {', '.join(sorted(unknown))}; "
                                  f"known: {', '.join(sorted(self.defaults))}", "bad_parameter")
        self.params: dict[str, Any] = {**self.defaults, **params}
        self.stft = StftConfig(int(self.params["sample_rate"]), int(self.params.get("n_fft", 2048)),
                               int(self.params.get("hop", 512)))
        self.device = torch.device("cpu")

    @classmethod
    def max_statistic_elements(cls, params: Mapping[str, Any]) -> int:
        """The most elements any one statistic of this model can hold with ``params`` (every
        parameter given), blends included, or any array the model itself builds from them: a
        preset's arrays are checked against it before any of them is read, and parameters that
        make it exceed :data:`~engine.limits.MAX_STATISTIC_BYTES` are refused
        (:mod:`engine.preset_format`). This default: the long-term ``power`` per bin."""
        return stft_bins(params)

    @property
    def sample_rate(self) -> int:
        """The rate the model analyses audio at (content and style are resampled to it)."""
        return self.stft.sample_rate

    def analysis(self, x: torch.Tensor) -> torch.Tensor:
        """The model's input for waveforms ``[..., samples]``: log1p|STFT| frames, or the samples."""
        from ..spectral import log_magnitude

        return log_magnitude(x, self.stft, float(self.params.get("gain", 1.0))) if self.input == "spectrogram" else x

    def magnitude_from_features(self, frames: torch.Tensor) -> torch.Tensor:
        """STFT magnitudes whose :meth:`analysis` features are ``frames`` (negative ones: silence)."""
        return torch.expm1(frames.clamp_min(0)) / float(self.params.get("gain", 1.0))

    @property
    def min_samples(self) -> int:
        """Fewest samples a clip needs to yield any statistics (shorter ones are zero-padded)."""
        return (self.min_frames - 1) * self.stft.hop if self.input == "spectrogram" else self.min_frames

    def to(self, device: torch.device) -> "TextureModel":
        """Move whatever the model holds (e.g. filters) to ``device``."""
        self.device = torch.device(device)
        return self

    @property
    def min_frames(self) -> int:
        """Fewest frames (samples, for waveform models) a segment needs to yield statistics."""
        return 1

    def pooled(self, segments: Sequence[torch.Tensor], describe: Callable[[torch.Tensor], Stats]) -> Stats:
        """``describe`` each long-enough segment and average the results, weighted by length."""
        usable = [s for s in segments if s.shape[-1] >= self.min_frames]
        total = sum(s.shape[-1] for s in usable)
        return weighted_average([(s.shape[-1] / total, describe(s)) for s in usable])

    @abstractmethod
    def statistics(self, segments: Sequence[torch.Tensor]) -> Stats:
        """Statistics pooled over ``segments`` (each one :meth:`analysis` output: a channel or a file)."""

    @abstractmethod
    def blend(self, parts: Sequence[tuple[float, Stats]]) -> Stats:
        """Statistics of the weighted mixture of several sounds (weights sum to 1)."""

    def report(self, x: torch.Tensor, target: Stats) -> dict[str, float]:
        """Figures worth showing the user about how well ``x`` (an :meth:`analysis` output)
        matches ``target``; none by default (the auditory model gives per-group SNRs)."""
        return {}

    def preconditioner(self, target: Stats, samples: int) -> Optional[torch.Tensor]:
        """Gains ``[samples // 2 + 1]`` on the one-sided spectrum for waveform-domain optimisation,
        or None (the default: optimise the samples as they are). A render optimises ``z`` with
        ``x = irfft(rfft(z) · gains)``: the same minima, but steps scaled per frequency."""
        return None

    def style_power(self, target: Stats) -> Optional[torch.Tensor]:
        """The style's long-term mean power per STFT bin ``[bins]`` (at the reference level), for
        a render to match after its optimiser (:mod:`engine.envelope`): the statistics' ``power``
        (:meth:`long_term_power`), or None where they do not hold it (presets made before it),
        and the render leaves the spectrum to the loss."""
        return target.get("power")

    def long_term_power(self, segments: Sequence[torch.Tensor]) -> torch.Tensor:
        """Mean power per bin of :attr:`stft` ``[bins]`` over ``segments`` (:meth:`analysis`
        outputs), without each segment's first and last frame: the centred STFT folds the clip
        there into a broadband click the sound does not have (measured with the kernel model: on a
        style with nothing above 6.5 kHz one such frame in 130 put 7-20 kHz 15-26 dB over its level)."""
        from ..spectral import stft

        total: torch.Tensor | float = 0.0
        count = 0
        for s in segments:
            magnitude = self.magnitude_from_features(s) if self.input == "spectrogram" else stft(s[None], self.stft)[0].abs()
            if magnitude.shape[-1] > 2:
                magnitude = magnitude[:, 1:-1]
            total = total + magnitude.square().sum(-1)
            count += magnitude.shape[-1]
        return torch.as_tensor(total) / max(count, 1)

    def style_ceiling(self, target: Stats) -> Optional[torch.Tensor]:
        """Per bin, the loudest feature value the style reaches ``[bins]``: a spectrogram-domain
        render keeps each bin under it (or under the content's own level there); None where the
        statistics do not hold it (the default)."""
        return None

    def style_floor(self, target: Stats) -> Optional[torch.Tensor]:
        """Per bin, the feature value the style stays above but for its quietest moments ``[bins]``:
        a spectrogram-domain render's bins are raised to it before they are heard; None where the
        statistics do not hold it (the default). Why: features are ``log1p`` of magnitudes, so a
        bin 40 dB under the style's level and a silent one differ by under 0.01, and the optimiser
        leaves bins below zero, which are silence (measured: a solo voice as singing bowl had a
        third of its 2-4 kHz bins so, in blocks of digital silence the bowl does not have)."""
        return None

    def converged(self, frames: torch.Tensor, target: Stats) -> bool:
        """Whether ``frames`` (an :meth:`analysis` output) match ``target`` so well that a render
        may stop before its last iteration; never, by default."""
        return False

    @abstractmethod
    def loss(self, frames: torch.Tensor, target: Stats) -> torch.Tensor:
        """Style loss of one :meth:`analysis` output against target statistics (a scalar tensor,
        relative: the style's own statistics score 0, and the scale is comparable across clips)."""
