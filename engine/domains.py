"""The two domains a chunk is optimised in, as two small objects with one interface.

:class:`WaveformDomain` optimises the samples themselves (through the model's preconditioner,
if it has one); :class:`SpectrogramDomain` optimises the model's own log-magnitude frames and
gets a waveform back by Griffin-Lim. Each is built for one chunk (``[channels, samples]`` at the
analysis rate) and gives the optimiser in :func:`engine.render.render` what it needs:

* :attr:`~_Domain.start`, the starting point (one row per channel);
* :meth:`~_Domain.loss` of one channel's parameters against the style, and
  :meth:`~_Domain.converged`, whether every channel has converged (the model says);
* :meth:`~_Domain.change`, after the optimiser: the chunk's change ``[channels, samples]``.

Both domains shape the optimised output the same way after the optimiser
(:meth:`~_Domain.shaped`): the content's coarse contour back (:mod:`engine.envelope`), the
style's long-term spectrum, then the content's partials (:mod:`engine.partials`); the waveform
domain applies the three as gains on its output's STFT.
"""
from __future__ import annotations

from typing import ClassVar, Optional

import torch

from .envelope import follow_contour, frames_near_ends, hold_end_bands, match_envelope
from .errors import GramophoneError
from .models import Stats, TextureModel
from .partials import keep_partials
from .render_settings import RenderSettings
from .resampling import round_trip_response
from .spectral import griffin_lim, istft, replace_end_frames, stft

#: Waveform domain, seed other than 0: the level (dB under the content's RMS) of the seeded noise
#: added to the optimiser's starting point, so that each seed walks its own way to the style.
SEED_NOISE_DB = -60.0
#: Weight of :func:`overshoot` against the model's (relative) loss.
CEILING_WEIGHT = 10.0
#: A bin the render raised by more than this (amplitude ratio, 12 dB) over the content starts
#: Griffin-Lim from a random phase rather than the content's.
NEW_ENERGY_RATIO = 4.0


class _Domain:
    """What both domains share: the chunk, its padded copy, and the shaping after the optimiser."""

    #: Adam's step, relative to the RMS of what is optimised (samples or log-magnitudes).
    adam_rate: ClassVar[float]

    def __init__(self, x0: torch.Tensor, model: TextureModel, style: Stats, settings: RenderSettings,
                 padded: int, mirror: bool) -> None:
        self.x0, self.model, self.style, self.settings = x0, model, style, settings
        self.length, self.padded = x0.shape[1], padded
        self.content = extend(x0, padded, mirror=mirror)
        self.start: torch.Tensor

    @staticmethod
    def check_model(model: TextureModel) -> None:
        """Raise :class:`GramophoneError` if ``model`` cannot be optimised in this domain."""

    def loss(self, p: torch.Tensor, c: int) -> torch.Tensor:
        """The loss of channel ``c``'s parameters ``p`` (``[1, ...]``) against the style. (``squeeze``,
        not ``[0]``: its gradient is a view, where indexing's fills and copies a new tensor.)"""
        return self.model.loss(self.features(p, c).squeeze(0), self.style)

    def features(self, p: torch.Tensor, c: int) -> torch.Tensor:
        """The model's input that channel ``c``'s parameters ``p`` stand for."""
        raise NotImplementedError

    def converged(self, param: torch.Tensor) -> bool:
        """Whether the model says every channel of ``param`` has converged."""
        return all(self.model.converged(self.features(param[c:c + 1], c)[0], self.style)
                   for c in range(param.shape[0]))

    def output(self, param: torch.Tensor) -> torch.Tensor:
        """The optimised chunk as samples ``[channels, padded]`` at the analysis rate."""
        raise NotImplementedError

    def change(self, param: torch.Tensor) -> torch.Tensor:
        """After the optimiser: the chunk's change ``[channels, samples]`` at the analysis rate,
        the output brought back to the content's level channel by channel."""
        with torch.no_grad():
            y = self.output(param)
            return keep_level(y[:, :self.length], self.x0) - self.x0

    def shaped(self, magnitude: torch.Tensor, content: torch.Tensor,
               target_power: Optional[torch.Tensor]) -> torch.Tensor:
        """The content's coarse contour back, the style's long-term spectrum ``target_power``
        (:mod:`engine.envelope`), then the content's partials over it (:mod:`engine.partials`: set
        before the spectrum step, they kept 0.60 of the pitch on 7 pairs instead of 0.84).
        ``content``: the padded content's STFT magnitude."""
        settings, rate = self.settings, self.model.sample_rate
        magnitude = follow_contour(magnitude, content, settings.contour, rate)
        magnitude = magnitude if target_power is None else match_envelope(magnitude, target_power)
        return keep_partials(magnitude, content, settings.partials, rate, self.length // self.model.stft.hop)

    def target_power(self) -> Optional[torch.Tensor]:
        """The style's long-term power spectrum the render is brought to, where the model holds one."""
        return self.model.style_power(self.style) if self.settings.envelope else None


class WaveformDomain(_Domain):
    """The samples are optimised (as the model's preconditioner rescales their spectrum). The
    loss scores what the delivered file will hold: the content plus the change as the resampling
    round trip to the file's rate leaves it (``rate``: the file's; none when it is the model's)."""

    adam_rate = 0.05

    def __init__(self, x0: torch.Tensor, model: TextureModel, style: Stats, settings: RenderSettings,
                 generator: torch.Generator, rate: int) -> None:
        # At least one analysis window; the samples themselves are optimised, so no window past
        # the end is needed (see SpectrogramDomain); silence pads a short chunk.
        padded = max(x0.shape[1], model.min_samples)
        super().__init__(x0, model, style, settings, padded, mirror=False)
        per_channel = [model.preconditioner(style, padded) for _ in range(x0.shape[0])]
        present = [g for g in per_channel if g is not None]
        self.gains = torch.stack(present) if present and len(present) == len(per_channel) else None
        self.start = precondition(seeded_start(self.content, settings.seed, generator), self.gains, inverse=True)
        response = None
        if rate != model.sample_rate:
            response = torch.from_numpy(round_trip_response(rate, model.sample_rate)).to(x0.device)
        self.round_trip = response_spectrum(response, padded)

    def signal(self, p: torch.Tensor, c: int) -> torch.Tensor:
        """The output (channel ``c``, analysis rate) that the optimised variable stands for."""
        y = precondition(p, None if self.gains is None else self.gains[c:c + 1])
        return keep_level(y, self.content[c:c + 1]) if self.model.level_invariant else y

    def features(self, p: torch.Tensor, c: int) -> torch.Tensor:
        y = self.signal(p, c)
        if self.round_trip is not None:
            x = self.content[c:c + 1]
            y = x + torch.fft.irfft(self.round_trip * torch.fft.rfft(y - x), n=self.padded)
        return self.model.analysis(y)

    def output(self, param: torch.Tensor) -> torch.Tensor:
        y = torch.cat([self.signal(param[c:c + 1], c) for c in range(param.shape[0])])
        settings, target_power = self.settings, self.target_power()
        if settings.contour > 0 or target_power is not None or settings.partials > 0:
            cfg = self.model.stft  # the shaping as gains on the output's STFT
            spec, content = stft(y, cfg), stft(self.content, cfg).abs()
            gains = self.shaped(spec.abs(), content, target_power) / spec.abs().clamp_min(1e-20)
            y = istft(spec * gains, cfg, self.padded)
        return y


class SpectrogramDomain(_Domain):
    """The model's log-magnitude frames are optimised, held under the louder of the content and
    the style bin by bin (:func:`overshoot`); Griffin-Lim turns them back into samples, starting
    from the content's phase except where the render added energy (:func:`starting_phase`)."""

    adam_rate = 0.02

    def __init__(self, x0: torch.Tensor, model: TextureModel, style: Stats, settings: RenderSettings,
                 generator: torch.Generator, rate: int) -> None:
        # At least one analysis window, and one window past the end: the STFT's last frame is
        # centred up to a hop before the end, so without it the last samples sit under one
        # decaying window, and the inverse STFT, dividing by that window's tiny energy, magnifies
        # the rendered spectrogram's inconsistency into a burst (measured: the last 16 samples of
        # a 12 s blues mix rendered as leaves reached 3.2, the rest of the clip 0.95). Cut off in
        # change().
        super().__init__(x0, model, style, settings, max(x0.shape[1] + model.stft.n_fft, model.min_samples),
                         mirror=True)
        self.generator = generator
        with torch.no_grad():
            frames = model.analysis(self.content)
        # Frames near a chunk's ends sit in fewer patches, so the style loss barely moves them: a
        # margin of one patch of mirrored frames on each side gives them full weight (measured:
        # without it a steady tone rendered in the style of rain came out 10 dB quieter in its
        # first and last 250 ms). Mirrored magnitudes, not mirrored audio: a waveform mirror puts
        # a cusp at the clip's first sample, an odd frame that drew twice the gradient of its
        # neighbours and came out as a burst; a silent margin cost 0.03 style and 0.05 content.
        self.margin = max(0, min(model.min_frames - 1, frames.shape[-1] - 2))
        self.start = mirror_frames(frames, self.margin).contiguous()
        style_peak = model.style_ceiling(style)
        #: the most each bin may reach (see overshoot)
        self.ceiling = None if style_peak is None else torch.maximum(self.start, style_peak[:, None])
        #: the least each bin is heard at (see output)
        self.floor = model.style_floor(style)

    @staticmethod
    def check_model(model: TextureModel) -> None:
        """Refuse a model that works on the waveform: it has no frames to optimise."""
        if model.input != "spectrogram":
            raise GramophoneError(f"model '{model.name}' works on the waveform; use the waveform domain",
                                  "bad_parameter")

    def features(self, p: torch.Tensor, c: int) -> torch.Tensor:
        return p

    def loss(self, p: torch.Tensor, c: int) -> torch.Tensor:
        loss = super().loss(p, c)
        if self.ceiling is not None:
            loss = loss + CEILING_WEIGHT * overshoot(p.squeeze(0), self.ceiling[c])
        return loss

    def output(self, param: torch.Tensor) -> torch.Tensor:
        cfg, settings = self.model.stft, self.settings
        content = stft(self.content, cfg)
        frames = param.detach()[..., self.margin:param.shape[-1] - self.margin]
        if self.floor is not None:  # (the loss's blind spot: see TextureModel.style_floor)
            frames = torch.maximum(frames, self.floor[:, None])
        content_magnitude = content.abs()
        magnitude = hold_end_bands(self.model.magnitude_from_features(frames), content_magnitude,
                                   frames_near_ends(frames.shape[-1], cfg.hop, self.length), self.model.sample_rate)
        magnitude = self.shaped(magnitude, content_magnitude, self.target_power())
        phase = None if settings.random_phase else starting_phase(content, magnitude, self.generator)
        return griffin_lim(magnitude, cfg, self.padded, settings.griffin_lim_iterations, phase,
                           generator=self.generator)


#: The domains by name (the ``domain`` setting, once ``auto`` is resolved).
DOMAIN_TYPES: dict[str, type[WaveformDomain] | type[SpectrogramDomain]] = {
    "waveform": WaveformDomain, "spectrogram": SpectrogramDomain}


def seeded_start(x: torch.Tensor, seed: int, gen: torch.Generator) -> torch.Tensor:
    """The waveform domain's starting point: the content itself for seed 0 (as renders always
    were), else the content plus seeded white noise :data:`SEED_NOISE_DB` under its RMS. The
    spectrogram domain draws its seeded random phase instead (:func:`starting_phase`); without
    this, a waveform model's render would not depend on the seed at all."""
    if seed == 0:
        return x
    noise = torch.randn(x.shape, generator=gen, dtype=x.dtype).to(x.device)
    level = x.square().mean(-1, keepdim=True).sqrt()
    return x + noise * level * 10 ** (SEED_NOISE_DB / 20)


def extend(x: torch.Tensor, samples: int, mirror: bool = True) -> torch.Tensor:
    """``x [channels, n]`` continued to ``samples`` by its mirror image (as far as it reaches; with
    ``mirror``), then silence."""
    mirrored = min(samples - x.shape[1], x.shape[1] - 1) if mirror else 0
    if mirrored > 0:
        x = torch.cat([x, x[:, -mirrored - 1:-1].flip(-1)], 1)
    return torch.nn.functional.pad(x, (0, samples - x.shape[1]))


def mirror_frames(frames: torch.Tensor, margin: int) -> torch.Tensor:
    """``frames [..., T]`` with ``margin`` frames mirrored onto each end, after the two end
    frames (the STFT's fold) are replaced by their neighbours (:func:`replace_end_frames`)."""
    if margin <= 0:  # (margin <= frames - 2: the caller's bound)
        return frames
    frames = replace_end_frames(frames)
    head = frames[..., 1:margin + 1].flip(-1)
    tail = frames[..., -margin - 1:-1].flip(-1)
    return torch.cat([head, frames, tail], -1)


def overshoot(frames: torch.Tensor, ceiling: torch.Tensor) -> torch.Tensor:
    """Mean squared excess of ``frames`` over ``ceiling`` (same shape): a soft bound that keeps
    the optimiser from levels neither sound has. Without it a patch-kernel loss can be lowered
    by a few isolated, enormous frames (measured: a steady tone in the style of rain grew single
    frames to 85-146 dB, the style's loudest being 43 dB), heard as clicks and bursts.
    Differentiable in ``frames`` (by hand: one pass back over the spectrogram, not four)."""
    return _Overshoot.apply(frames, ceiling)


class _Overshoot(torch.autograd.Function):
    @staticmethod
    def forward(ctx, frames: torch.Tensor, ceiling: torch.Tensor) -> torch.Tensor:  # type: ignore[override]
        excess = (frames - ceiling).clamp_min_(0.0)
        ctx.save_for_backward(excess)
        return torch.dot(excess.view(-1), excess.view(-1)) / excess.numel()

    @staticmethod
    def backward(ctx, grad: torch.Tensor):  # type: ignore[override]
        (excess,) = ctx.saved_tensors
        return excess * (2 * grad / excess.numel()), None


def starting_phase(content: torch.Tensor, magnitude: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """Griffin-Lim's starting phase: the content's, except in bins where the render put new
    energy. There the content's phase would carry its structure into the texture: at a
    transient every bin's phase lines up, and noise given those phases comes out as one click
    (measured: speech -> steam, a first sample 18x the clip's RMS)."""
    phase = torch.angle(content)
    noise = (2 * torch.pi * torch.rand(phase.shape, generator=gen, dtype=phase.dtype)).to(phase.device)
    return torch.where(magnitude > NEW_ENERGY_RATIO * content.abs(), noise, phase)


def keep_level(y: torch.Tensor, reference: torch.Tensor) -> torch.Tensor:
    """``y`` scaled, channel by channel, to the RMS of ``reference``. Level-invariant losses (the
    auditory model's) let the level drift during optimisation; this keeps chunks from joining
    at different levels and the stereo balance where the content had it."""
    level, ref = y.square().mean(-1, keepdim=True).sqrt(), reference.square().mean(-1, keepdim=True).sqrt()
    return torch.where(level > 1e-9, y * ref / level.clamp_min(1e-9), y)


def response_spectrum(response: Optional[torch.Tensor], samples: int) -> Optional[torch.Tensor]:
    """Frequency response, for ``samples``-long signals, of a centred impulse response."""
    if response is None:
        return None
    centre = response.shape[0] // 2
    k = min(centre, (samples - 1) // 2)
    h = torch.zeros(samples, dtype=response.dtype, device=response.device)
    h[:k + 1] = response[centre:centre + k + 1]
    if k:
        h[-k:] = response[centre - k:centre]
    return torch.fft.rfft(h)


def precondition(x: torch.Tensor, gains: Optional[torch.Tensor], inverse: bool = False) -> torch.Tensor:
    """``irfft(rfft(x) · gains)`` (``/ gains`` with ``inverse``): between the optimised variable
    and the waveform (see :meth:`TextureModel.preconditioner`)."""
    if gains is None:
        return x
    spectrum = torch.fft.rfft(x)
    return torch.fft.irfft(spectrum / gains if inverse else spectrum * gains, n=x.shape[-1])
