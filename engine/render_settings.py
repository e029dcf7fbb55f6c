"""What a render does: :class:`RenderSettings`, the one value every front end builds and every
render reads, with its validation.

The settings a user sets take their default, values, help and checks from the table in
:mod:`engine.settings` (one entry each); the fields that are the engine's own (tests and
benchmarks set them) are declared here, each listed with why in :data:`engine.settings.ENGINE_ONLY`.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Union

from .automation import Automatable
from .errors import GramophoneError
from .settings import SETTINGS, default


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
    #: Adam's step relative to the parameters' RMS; None picks the domain's own
    #: (:attr:`engine.domains.WaveformDomain.adam_rate`, :attr:`engine.domains.SpectrogramDomain.adam_rate`).
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
    chunk_seconds: float = 10.0
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
