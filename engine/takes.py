"""Variations: N takes of one clip from one job, named ``OUT-v1.wav``, ``OUT-v2.wav``, ...

``variations`` N and ``vary`` say how the takes differ:

* ``seed`` (the default): take k renders with seed ``seed + k - 1``. In the spectrogram domain
  (the kernel model's) the seed draws the random phase of every bin the render fills with new
  energy, so each take is another instance of the texture (other raindrops, other crackle) over
  the same spectrogram; in the waveform domain (auditory, random, vgg19, soundnet) a seed other
  than 0 starts the optimiser from the content plus seeded noise 60 dB under it
  (:func:`engine.domains.seeded_start`), which it follows to another texture.
* ``strength``: take k renders at ``k/N`` of the strength (of each point of an envelope), same
  seed: a spread from subtle to the full setting, e.g. 0.25, 0.5, 0.75, 1 for N = 4.

Each take is an ordinary render with ``variations`` 1 and its own seed or strength, so its
sidecar lets ``--like`` reproduce that take. The caller analyses the style once and passes
the statistics to every take (:func:`engine.pipeline.render_takes`).
"""
from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from .automation import Envelope

if TYPE_CHECKING:
    from .render_settings import RenderSettings

VARY = ("seed", "strength")
#: Most takes one job renders (each costs a full render).
MAX_VARIATIONS = 16


def take_settings(settings: "RenderSettings") -> list["RenderSettings"]:
    """The settings of each take (one, as given, when ``variations`` is 1)."""
    n = settings.variations
    if n <= 1:
        return [settings]
    if settings.vary == "strength":
        def scaled(k: int):
            s = settings.strength
            return s.scaled(k / n) if isinstance(s, Envelope) else s * k / n
        return [replace(settings, strength=scaled(k), variations=1) for k in range(1, n + 1)]
    return [replace(settings, seed=settings.seed + k, variations=1) for k in range(n)]


def take_path(output: str | os.PathLike, number: int, count: int) -> Path:
    """``clip-rain.wav`` for one take; ``clip-rain-v2.wav`` for take 2 of several."""
    out = Path(output)
    return out if count <= 1 else out.with_name(f"{out.stem}-v{number}{out.suffix}")
