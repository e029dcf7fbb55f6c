"""Content-initialised style transfer (Grinstein et al. 2018): start from the content, minimise
a style-only loss.

``render`` is a pure function: a content clip and a style target in, a clip of exactly the
content's length, rate and channel count out. The steps:

1. Resample the content to the model's analysis rate and bring it to a reference level (style
   statistics are made at the same level, so loudness does not leak into the texture).
2. Cut long clips into chunks (``chunk_seconds``) that overlap by ``crossfade_seconds``; this
   bounds memory (the kernel loss is quadratic in a chunk's frames) and keeps statistics local.
   Neighbouring chunks' renders are crossfaded in the short-time spectrum (:func:`join_chunks`).
3. For each chunk, optimise every channel against the *same* style target. Each channel is
   initialised with its own content, so the stereo image survives; the per-channel loss asks
   each channel to carry the full texture (joint statistics would let one channel carry it).
   A model may rescale the spectrum it optimises (:meth:`TextureModel.preconditioner`), and
   the render stops early once the model says every channel has converged (checked every
   :data:`CONVERGENCE_CHECK_EVERY` iterations). Each optimised channel is brought back to its
   content's level, so a level-invariant loss cannot drift the level between chunks. In the
   spectrogram domain each bin is also held under the louder of the content and the style
   (:func:`overshoot`). After the optimiser, the render's coarse energy contour (octave bands,
   frame by frame) is moved ``contour`` of the way back to the content's, in both domains
   (:func:`engine.envelope.follow_contour`), then the long-term spectrum is brought to the
   style's where the model's statistics hold it (:mod:`engine.envelope`), and the content's
   partials, its notes, are set back over the render's envelope (:mod:`engine.partials`; in the
   waveform domain all three as gains on the output's STFT). In the spectrogram domain Griffin-Lim then starts from
   the content's phase except where the render added energy (:func:`_starting_phase`).
4. Every chunk is optimised toward the style itself. ``strength`` s then morphs the content
   into that full render (:func:`engine.strength.morph`: log-magnitudes interpolated, the phase
   of the linear mix), so s = 0 is the content bit for bit, s = 1 the full render, and every
   band moves monotonically in between. An automated strength (an envelope) is read frame by
   frame at the frame's time in the file (:mod:`engine.automation`).
5. Only the *change* is resampled back and added to the original content, so whatever lies
   above the analysis band (e.g. 11-22 kHz of a 44.1 kHz clip) is kept, not lost. In the
   waveform domain the loss already scores the change as that round trip leaves it (the
   resampler drops the last few hundred Hz below the analysis Nyquist), so the delivered file
   has the statistics the optimiser reached.
6. The result is matched to the content's RMS level; a look-ahead limiter keeps peaks under
   -0.1 dBFS, or with ``peaks="scale"`` the whole clip is turned down instead (see
   :func:`engine.loudness.match_loudness`).
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Optional, Union

import numpy as np
import torch

from .audio_io import check_clip
from .automation import Automatable, span
from .device import resolve_device
from .loudness import match_loudness, rms
from .resampling import resample, round_trip_response
from .envelope import follow_contour, match_envelope
from .errors import GramophoneError
from .models import Stats, TextureModel
from .partials import keep_partials
from .progress import CancelToken, ProgressCallback, check_cancel
from .optimise import adam, lbfgs
from .settings import DOMAINS, OPTIMISERS, PEAK_MODES, SETTINGS, default  # noqa: F401 (the first three re-exported)
from .spectral import griffin_lim, inverse_stft, istft, replace_end_frames, stft, stft_frames
from .strength import morph, morph_fft_size

#: Level (RMS) content and style are brought to before analysis: -20 dBFS.
REFERENCE_RMS = 0.1
#: How often (iterations) a render asks the model whether it has converged.
CONVERGENCE_CHECK_EVERY = 10
#: Adam's step, relative to the RMS of what is optimised (samples or log-magnitudes).
DEFAULT_ADAM_RATE = {"waveform": 0.05, "spectrogram": 0.02}


@dataclass(frozen=True)
class RenderSettings:
    """What a render does. Defaults are the measured sweet spot (see bench/RESULTS.md).

    The settings a user sets take their default, values and help from the table in
    :mod:`engine.settings`; the rest are the engine's own (tests and benchmarks set them)."""

    #: a number, or an :class:`~engine.automation.Envelope` over the clip's seconds
    strength: Automatable = default("strength")
    #: with a second style: 0 the first, 1 the second, a number or an envelope (:mod:`engine.style_blend`)
    blend: Automatable = default("blend")
    #: None: the model's own default (``TextureModel.default_iterations``).
    iterations: Optional[int] = default("iterations")
    seed: int = default("seed")
    #: "auto": the model's own (``TextureModel.default_domain``).
    domain: str = default("domain")
    optimiser: str = default("optimiser")
    device: str = default("device")
    #: Adam's step relative to the parameters' RMS; None picks :data:`DEFAULT_ADAM_RATE`.
    learning_rate: Optional[float] = None
    griffin_lim_iterations: int = 16
    #: Bring the render's long-term spectrum to the style's after the optimiser
    #: (:mod:`engine.envelope`), where the model's statistics hold it (:meth:`TextureModel.style_power`).
    envelope: bool = True
    #: How far (0..1, in dB) the render's coarse energy contour is moved back to the content's
    #: after the optimiser (:func:`engine.envelope.follow_contour`): the content's syllables,
    #: notes and hits, which a style-only loss wears away. 0: the optimiser's output as it is.
    contour: float = default("contour")
    #: How much (0..1, in dB) of the content's partials (its harmonic fine structure above its
    #: spectral envelope) is set back into the render after the optimiser (:mod:`engine.partials`):
    #: the notes and the intonation, which a texture's statistics have no place for.
    partials: float = default("partials")
    random_phase: bool = default("random_phase")
    chunk_seconds: float = 30.0
    crossfade_seconds: float = 0.5
    match_loudness: bool = True
    #: "limit": loudness matched, peaks held by a limiter; "scale": turned down instead.
    peaks: str = default("peaks")
    #: "match": the content's RMS level (``render`` does it); a number: that integrated loudness in
    #: LUFS, which the file-level render (:mod:`engine.pipeline`) brings the output to.
    loudness: Union[str, float] = default("loudness")
    #: Takes of one job and how they differ (:mod:`engine.takes`); ``render`` makes one take, the
    #: file-level :func:`engine.pipeline.render_takes` makes them all.
    variations: int = default("variations")
    vary: str = default("vary")

    def validated(self) -> "RenderSettings":
        """Return self, or raise :class:`GramophoneError` naming the first bad setting."""
        for setting in SETTINGS:
            setting.check(getattr(self, setting.name))
        if self.chunk_seconds < 1.0 or not 0.0 <= self.crossfade_seconds < self.chunk_seconds / 2:
            raise GramophoneError("chunk_seconds must be >= 1 and crossfade_seconds in [0, chunk_seconds/2)",
                                  "bad_parameter")
        return self


def to_analysis_rate(clip: np.ndarray, sample_rate: int, model: TextureModel) -> np.ndarray:
    """Resample to the model's rate and scale to :data:`REFERENCE_RMS` (silence stays silent)."""
    x = resample(clip, sample_rate, model.sample_rate)
    level = rms(x)
    return x * (REFERENCE_RMS / level) if level > 1e-9 else x


def analyse_style(clips: list[tuple[np.ndarray, int]], model: TextureModel) -> Stats:
    """Pooled statistics of one or more style clips (every channel of every clip)."""
    segments: list[torch.Tensor] = []
    for i, (clip, sr) in enumerate(clips):
        check_clip(clip, sr, f"style clip {i + 1}")
        x = to_analysis_rate(clip, sr, model)
        if rms(x) <= 1e-9:
            raise GramophoneError(f"style clip {i + 1} is silent", "silent_style")
        frames = model.analysis(torch.from_numpy(x).to(model.device))
        segments.extend(f for f in frames if f.shape[-1] >= model.min_frames)
    if not segments:
        need = model.min_samples / model.sample_rate
        raise GramophoneError(f"style audio is too short: each clip needs at least {need:.2f} s", "style_too_short")
    with torch.no_grad():
        return model.statistics(segments)


def render(content: np.ndarray, sample_rate: int, model: TextureModel, style: Stats,
           settings: RenderSettings = RenderSettings(), progress: Optional[ProgressCallback] = None,
           cancel: Optional[CancelToken] = None, *, level: Optional[float] = None,
           offset: float = 0.0) -> np.ndarray:
    """Render ``content`` (``float32 [channels, samples]``) in the style given by ``style``.

    Returns ``float32 [channels, samples]`` at ``sample_rate``. Raises :class:`GramophoneError`
    for bad input and :class:`~engine.errors.RenderCancelled` when ``cancel`` is set.
    ``level``: the RMS at the analysis rate that is brought to :data:`REFERENCE_RMS`; by default
    the content's own. A streamed long clip (``engine.streaming``) passes the whole file's, so
    every chunk is scaled as one render would scale it. ``offset``: the seconds of the file at
    which ``content`` starts, where an automated strength is read (a streamed chunk's start).
    """
    settings = settings.validated()
    if settings.iterations is None:
        settings = replace(settings, iterations=model.default_iterations)
    if settings.domain == "auto":
        settings = replace(settings, domain=model.default_domain)
    if settings.domain == "spectrogram" and model.input != "spectrogram":
        raise GramophoneError(f"model '{model.name}' works on the waveform; use the waveform domain", "bad_parameter")
    check_clip(content, sample_rate, "content")
    device = resolve_device(settings.device)
    model.to(device)
    style = {k: v.to(device) for k, v in style.items()}
    report = progress or (lambda fraction, loss: None)
    report(0.0, float("nan"))

    x = resample(content, sample_rate, model.sample_rate)
    level = rms(x) if level is None else level
    if level <= 1e-9 or span(settings.strength, offset, offset + content.shape[1] / sample_rate)[1] == 0.0:
        report(1.0, 0.0)
        return content.astype(np.float32, copy=True)
    x = x * (REFERENCE_RMS / level)

    response = None  # what resampling the change back does to it, when the rates differ
    if settings.domain == "waveform" and sample_rate != model.sample_rate:
        response = torch.from_numpy(round_trip_response(sample_rate, model.sample_rate)).to(device)
    fade = int(settings.crossfade_seconds * model.sample_rate)
    chunks = chunk_spans(x.shape[1], int(settings.chunk_seconds * model.sample_rate), fade)
    delta = np.zeros_like(x)
    tail: Optional[np.ndarray] = None  # the previous chunk's change over the coming crossfade
    for index, (start, stop) in enumerate(chunks):
        # Random phase is all that is random; seeded per chunk, so a streamed render (a call per
        # chunk, engine.streaming) draws the same numbers as this one.
        gen = torch.Generator().manual_seed(settings.seed)
        def chunk_progress(done: float, loss: float, index: int = index) -> None:
            report((index + done) / len(chunks), loss)

        piece = torch.from_numpy(x[:, start:stop]).to(device)
        change = _render_chunk(piece, model, style, settings, chunk_progress, cancel, gen, response).cpu().numpy()
        delta[:, start:stop] = change
        if tail is not None:  # crossfade the two renders (content + change), then back to a change
            joined = x[:, start:start + fade]
            delta[:, start:start + fade] = join_chunks(joined + tail, joined + change[:, :fade], model.sample_rate) - joined
        tail = change[:, change.shape[1] - fade:] if stop < x.shape[1] else None
    out = content + resample(delta * (level / REFERENCE_RMS), model.sample_rate, sample_rate,
                             content.shape[1])
    out = morph(content, out, settings.strength, sample_rate, offset)
    if settings.match_loudness:
        out = match_loudness(out, content, sample_rate, limit=settings.peaks == "limit")
    report(1.0, float("nan"))
    return out.astype(np.float32)


def _render_chunk(x0: torch.Tensor, model: TextureModel, style: Stats, settings: RenderSettings,
                  progress: ProgressCallback, cancel: Optional[CancelToken], gen: torch.Generator,
                  response: Optional[torch.Tensor] = None) -> torch.Tensor:
    """Optimise one chunk; return its change ``[channels, samples]`` at the analysis rate.

    In the waveform domain the loss scores what the delivered file will hold: the content plus
    the change as ``response`` (the resampling round trip's impulse response) leaves it."""
    iterations = settings.iterations
    assert iterations is not None, "render() sets the model's iterations before any chunk"
    cfg = model.stft
    length = x0.shape[1]
    # At least one patch / analysis window; in the spectrogram domain also one window past the
    # end: the STFT's last frame is centred up to a hop before the end, so without it the last
    # samples sit under one decaying window, and the inverse STFT, dividing by that window's tiny
    # energy, magnifies the rendered spectrogram's inconsistency into a burst (measured: the last
    # 16 samples of a 12 s blues mix rendered as leaves reached 3.2, the rest of the clip 0.95).
    # The waveform domain optimises the samples themselves and needs none. Cut off below.
    tail = cfg.n_fft if settings.domain == "spectrogram" else 0
    padded = max(length + tail, model.min_samples)
    x0p = extend(x0, padded, mirror=tail > 0)  # the waveform domain: silence, as before
    with torch.no_grad():
        content_frames = model.analysis(x0p)
        targets = [style for _ in content_frames]
    # Frames near a chunk's ends sit in fewer patches, so the style loss barely moves them: a
    # margin of one patch of mirrored frames on each side gives them full weight (measured:
    # without it a steady tone rendered in the style of rain came out 10 dB quieter in its first
    # and last 250 ms). Mirrored magnitudes, not mirrored audio: a waveform mirror puts a cusp
    # at the clip's first sample, an odd frame that drew twice the gradient of its neighbours
    # and came out as a burst; a silent margin cost 0.03 style and 0.05 content (benchmark).
    margin = max(0, min(model.min_frames - 1, content_frames.shape[-1] - 2)) if settings.domain == "spectrogram" else 0
    ceiling = None  # spectrogram domain: the most each bin may reach (see overshoot)
    if settings.domain == "waveform":
        per_channel = [model.preconditioner(t, padded) for t in targets]
        present = [g for g in per_channel if g is not None]
        gains = torch.stack(present) if present and len(present) == len(per_channel) else None
        start = _precondition(_seeded_start(x0p, settings.seed, gen), gains, inverse=True)
        round_trip = _response_spectrum(response, padded)

        def signal(p: torch.Tensor, c: int) -> torch.Tensor:
            """The output (channel ``c``, analysis rate) that the optimised variable stands for."""
            y = _precondition(p, None if gains is None else gains[c:c + 1])
            return _keep_level(y, x0p[c:c + 1]) if model.level_invariant else y

        def features(p: torch.Tensor, c: int) -> torch.Tensor:
            y = signal(p, c)
            if round_trip is not None:
                change = torch.fft.irfft(round_trip * torch.fft.rfft(y - x0p[c:c + 1]), n=padded)
                y = x0p[c:c + 1] + change
            return model.analysis(y)
    else:
        start = _mirror_frames(content_frames, margin).contiguous()
        style_peak = model.style_ceiling(style)
        ceiling = None if style_peak is None else torch.maximum(start, style_peak[:, None])

        def features(p: torch.Tensor, c: int) -> torch.Tensor:
            return p

    def objective(param: torch.Tensor) -> tuple[float, torch.Tensor]:
        check_cancel(cancel)
        grad, total = torch.zeros_like(param), 0.0
        for c, target in enumerate(targets):  # one channel at a time bounds autograd memory
            p = param[c:c + 1].clone().requires_grad_(True)
            loss = model.loss(features(p, c)[0], target)
            if ceiling is not None:
                loss = loss + CEILING_WEIGHT * overshoot(p[0], ceiling[c])
            loss.backward()
            assert p.grad is not None
            grad[c:c + 1] = p.grad
            total += loss.item()
        return total / len(targets), grad

    def step(i: int, loss: float, param: torch.Tensor) -> bool:
        progress((i + 1) / iterations, loss)
        check_cancel(cancel)
        if (i + 1) % CONVERGENCE_CHECK_EVERY or i + 1 == iterations:
            return False
        with torch.no_grad():
            return all(model.converged(features(param[c:c + 1], c)[0], t) for c, t in enumerate(targets))

    if settings.optimiser == "lbfgs":
        param = lbfgs(objective, start, iterations, step)
    else:
        lr = settings.learning_rate or DEFAULT_ADAM_RATE[settings.domain]
        param = adam(objective, start, iterations, lr, step)

    with torch.no_grad():
        content_spec = stft(x0p, cfg)
        target_power = model.style_power(style) if settings.envelope else None

        def finish(magnitude: torch.Tensor) -> torch.Tensor:
            """The content's coarse contour back, the style's long-term spectrum (:mod:`engine.envelope`),
            then the content's partials over it (:mod:`engine.partials`: set before the spectrum
            step, they kept 0.60 of the pitch on 7 pairs instead of 0.84)."""
            magnitude = follow_contour(magnitude, content_spec.abs(), settings.contour, model.sample_rate)
            magnitude = magnitude if target_power is None else match_envelope(magnitude, target_power)
            return keep_partials(magnitude, content_spec.abs(), settings.partials, model.sample_rate)

        if settings.domain == "waveform":
            y = torch.cat([signal(param[c:c + 1], c) for c in range(param.shape[0])])
            if settings.contour > 0 or target_power is not None or settings.partials > 0:  # as gains on its STFT
                spec = stft(y, cfg)
                y = istft(spec * (finish(spec.abs()) / spec.abs().clamp_min(1e-20)), cfg, padded)
        else:
            magnitude = finish(model.magnitude_from_features(param.detach()[..., margin:param.shape[-1] - margin]))
            phase = None if settings.random_phase else _starting_phase(content_spec, magnitude, gen)
            y = griffin_lim(magnitude, cfg, padded, settings.griffin_lim_iterations, phase, generator=gen)
        return _keep_level(y[:, :length], x0) - x0


#: Waveform domain, seed other than 0: the level (dB under the content's RMS) of the seeded noise
#: added to the optimiser's starting point, so that each seed walks its own way to the style.
SEED_NOISE_DB = -60.0


def _seeded_start(x: torch.Tensor, seed: int, gen: torch.Generator) -> torch.Tensor:
    """The waveform domain's starting point: the content itself for seed 0 (as renders always
    were), else the content plus seeded white noise :data:`SEED_NOISE_DB` under its RMS. The
    spectrogram domain draws its seeded random phase instead (:func:`_starting_phase`); without
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


def _mirror_frames(frames: torch.Tensor, margin: int) -> torch.Tensor:
    """``frames [..., T]`` with ``margin`` frames mirrored onto each end, after the two end
    frames (the STFT's fold) are replaced by their neighbours (:func:`replace_end_frames`)."""
    if margin <= 0:  # (margin <= frames - 2: the caller's bound)
        return frames
    frames = replace_end_frames(frames)
    head = frames[..., 1:margin + 1].flip(-1)
    tail = frames[..., -margin - 1:-1].flip(-1)
    return torch.cat([head, frames, tail], -1)


#: Weight of :func:`overshoot` against the model's (relative) loss.
CEILING_WEIGHT = 10.0


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
        return excess.square().mean()

    @staticmethod
    def backward(ctx, grad: torch.Tensor):  # type: ignore[override]
        (excess,) = ctx.saved_tensors
        return excess * (2 * grad / excess.numel()), None


#: A bin the render raised by more than this (amplitude ratio, 12 dB) over the content starts
#: Griffin-Lim from a random phase rather than the content's.
NEW_ENERGY_RATIO = 4.0


def _starting_phase(content: torch.Tensor, magnitude: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """Griffin-Lim's starting phase: the content's, except in bins where the render put new
    energy. There the content's phase would carry its structure into the texture: at a
    transient every bin's phase lines up, and noise given those phases comes out as one click
    (measured: speech -> steam, a first sample 18x the clip's RMS)."""
    phase = torch.angle(content)
    noise = (2 * torch.pi * torch.rand(phase.shape, generator=gen, dtype=phase.dtype)).to(phase.device)
    return torch.where(magnitude > NEW_ENERGY_RATIO * content.abs(), noise, phase)


def _keep_level(y: torch.Tensor, reference: torch.Tensor) -> torch.Tensor:
    """``y`` scaled, channel by channel, to the RMS of ``reference``. Level-invariant losses (the
    auditory model's) let the level drift during optimisation; this keeps chunks from joining
    at different levels and the stereo balance where the content had it."""
    level, ref = y.square().mean(-1, keepdim=True).sqrt(), reference.square().mean(-1, keepdim=True).sqrt()
    return torch.where(level > 1e-9, y * ref / level.clamp_min(1e-9), y)


def _response_spectrum(response: Optional[torch.Tensor], samples: int) -> Optional[torch.Tensor]:
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


def _precondition(x: torch.Tensor, gains: Optional[torch.Tensor], inverse: bool = False) -> torch.Tensor:
    """``irfft(rfft(x) · gains)`` (``/ gains`` with ``inverse``): between the optimised variable
    and the waveform (see :meth:`TextureModel.preconditioner`)."""
    if gains is None:
        return x
    spectrum = torch.fft.rfft(x)
    return torch.fft.irfft(spectrum / gains if inverse else spectrum * gains, n=x.shape[-1])


def chunk_spans(frames: int, size: int, fade: int) -> list[tuple[int, int]]:
    """Equal chunks of at most ``size`` frames that overlap by ``fade`` (in memory and streamed)."""
    if frames <= size:
        return [(0, frames)]
    count = -(-(frames - fade) // (size - fade))
    length = -(-(frames - fade) // count) + fade
    return [(i * (length - fade), min(i * (length - fade) + length, frames)) for i in range(count)]


def join_chunks(ending: np.ndarray, starting: np.ndarray, sample_rate: int) -> np.ndarray:
    """Crossfade ``ending`` into ``starting`` (``[channels, n]``: the same stretch of two chunks'
    renders at ``sample_rate``) in the short-time spectrum: each bin's power moves linearly from
    the one to the other, its phase is the linear mix's. Why: two chunks are optimised apart, so
    their renders of the overlap are partly alike and partly opposed in phase, and a crossfade of
    the samples cancelled where they are opposed (measured on a steady tone rendered as wind: the
    level dipped 5-7 dB for 50 ms at most joins; holding each window's level instead left the
    spectrum combed there, spectral flux a third over its highest elsewhere)."""
    fade = ending.shape[-1]
    n_fft = morph_fft_size(sample_rate)
    if fade <= n_fft:  # too short for a spectrum: the samples, linearly
        ramp = (np.arange(fade, dtype=np.float32) + 0.5) / max(fade, 1)
        return (ending * (1 - ramp) + starting * ramp).astype(ending.dtype)
    hop = n_fft // 4
    window = torch.hann_window(n_fft, dtype=torch.float64)
    a, b = (stft_frames(torch.from_numpy(np.asarray(c, dtype=np.float64)), n_fft, hop, window) for c in (ending, starting))
    share = torch.from_numpy(np.clip((np.arange(a.shape[-1]) * hop + 0.5) / fade, 0.0, 1.0))
    power = (1 - share) * a.abs().square() + share * b.abs().square()
    mix = (1 - share) * a + share * b
    fallback = torch.where(share < 0.5, a, b)
    phase = torch.where(mix.abs() > 1e-12, mix, fallback)
    phase = phase / phase.abs().clamp_min(1e-30)
    out = inverse_stft(power.sqrt() * phase, n_fft, hop, window, fade)
    return out.numpy().astype(ending.dtype)
