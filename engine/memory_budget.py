"""A render's peak memory, estimated before it starts, and the budget it must fit (issue #24).

A render's peak is a process's fixed cost plus what one chunk needs (a clip longer than one
chunk is streamed, so its length adds nothing beyond the first chunk):

    peak ≈ PROCESS_MB + RENDER_MB                        Python, torch, the model, the preset,
                                                          what a first render loads
         + AUDIO_BYTES  x channels x chunk samples        the chunk at the content's rate and at
                                                          the analysis rate: content, change, output
         + copies x 4 B x channels x bins x frames        the chunk's spectrogram: the optimised
                                                          frames, gradient, content, ceiling
                                                          (FRAME_COPIES) and L-BFGS's two per pair
         + PATCH_COPIES x 4 B x frames x (frames + style frames)   the kernel loss, one channel at
                                                          a time: patch pairs of the render with
                                                          itself and with the style, and their
                                                          gradients (quadratic in a chunk's frames)

``frames`` are a chunk's STFT frames at the model's rate (``engine/chunks.py``, ``chunk_spans``),
``style frames`` the preset's (``engine/models/kernel.py``). The constants were fitted to peaks
measured by ``bench/budget.py`` (a child process's ``VmHWM`` rendering from a shipped preset,
as ``bench/memory.py`` measures): 3-60 s, mono and stereo, 44.1 and 48 kHz, 2-10 iterations;
``tests/test_memory_budget.py`` checks three small configurations within 25 %. They are fitted
for the ``kernel`` model in the spectrogram domain (the default); the other models get the same
terms from their own STFT without the kernel's patch term, which is not measured.
"""
from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any, Mapping, Optional, Sequence

from .automation import Automatable, Envelope
from .errors import GramophoneError
from .optimise import HISTORY
from .render_settings import RenderSettings

MB = 1 << 20
#: Resident before the first render: the interpreter, torch, the model and a preset (227 MB measured).
PROCESS_MB = 227.0
#: What the first render adds whatever its length: libraries and buffers it loads (fitted: 22 MB).
RENDER_MB = 22.0
#: Bytes per sample and channel of a chunk held at once: content, resampled copy, change, output
#: (set, not fitted: the fit could not tell it from the frame terms).
AUDIO_BYTES = 24.0
#: Copies of a chunk's spectrogram besides L-BFGS's history (fitted: 28.6, with PATCH_COPIES held).
FRAME_COPIES = 28.5
#: float32 matrices of a chunk's patch pairs alive at the kernel loss's peak (fitted: 14.6 in the
#: seventh session; refitted it comes out at 2.7, but the fitting set has one short style, which
#: cannot tell this term apart, so it is held where a long style is safe).
PATCH_COPIES = 14.5
#: A moving style blend (:mod:`engine.style_blend`): what it adds to one render's peak, per
#: sample and channel of a chunk at the content's rate (the first render kept while the second
#: runs, both renders' float64 short-time spectra while they are combined), and whatever the
#: length (fitted on 3 s mono, 6, 10 and 28 s stereo: all four within 7 %, bench/budget.py --blend).
BLEND_BYTES, BLEND_MB = 440.0, 8.0


def estimate_mb(frames: int, channels: int, sample_rate: int, model: str, params: Mapping[str, Any],
                style_frames: int, settings: RenderSettings) -> float:
    """Estimated peak resident MB of a process rendering a clip of ``frames`` x ``channels`` at
    ``sample_rate`` with ``model`` (its ``params``) against ``style_frames`` frames of statistics."""
    from .chunks import spans_of
    from .models import MODELS

    cls = MODELS[model]
    p = {**cls.defaults, **params}
    rate, n_fft = int(p.get("sample_rate", 44_100)), int(p.get("n_fft", 2048))
    hop = int(p.get("hop", 512))
    samples = max(stop - start for start, stop in spans_of(frames, settings, sample_rate))  # the longest chunk: a clip of several streams
    analysis_samples = samples * rate / sample_rate
    analysis_frames = analysis_samples / hop + 1 + 2 * int(p.get("width", 1))  # plus the mirrored margins
    iterations = settings.iterations or cls.default_iterations
    kept = 2 * min(iterations, HISTORY) if settings.optimiser == "lbfgs" else 2
    spectrogram = 4.0 * channels * (n_fft // 2 + 1) * analysis_frames
    total = ((PROCESS_MB + RENDER_MB) * MB + AUDIO_BYTES * channels * max(samples, analysis_samples)
             + (FRAME_COPIES + kept) * spectrogram)
    if model == "kernel":
        total += PATCH_COPIES * 4.0 * analysis_frames * (analysis_frames + style_frames)
    if blend_moves(settings.blend):
        total += BLEND_MB * MB + BLEND_BYTES * channels * samples
    return total / MB


def blend_moves(blend: Automatable) -> bool:
    """Whether a render blends two styles (two full renders), not only the one at 0 or at 1.
    (An envelope counts whatever its points: the estimate does not know the clip's span of it.)"""
    return isinstance(blend, Envelope) or 0.0 < blend < 1.0


def estimate_render(content: str | os.PathLike, settings: RenderSettings, *,
                    preset_path: Optional[str | os.PathLike] = None,
                    style_files: Sequence[str | os.PathLike] = (), model: Optional[str] = None,
                    params: Optional[Mapping[str, Any]] = None, style_frames: Optional[int] = None) -> float:
    """:func:`estimate_mb` for the file ``content`` rendered from a preset (its metadata only is
    read), from style files (their headers only) or from statistics of ``style_frames`` frames
    made with ``model``; nothing is decoded."""
    from .audio_io import probe_audio
    from .models import DEFAULT_MODEL

    rate, channels, frames = probe_audio(content)
    if preset_path is not None:
        from .preset_format import read_metadata

        meta = read_metadata(preset_path)
        model, params, style_frames = meta["model"], meta["params"], preset_style_frames(meta)
    else:
        model, params = model or DEFAULT_MODEL, params or {}
        if style_frames is None:
            style_frames = style_frames_of(style_files, model, params)
    return estimate_mb(frames, channels, rate, model, params, style_frames, settings)


def preset_style_frames(meta: Mapping[str, Any]) -> int:
    """The frames a preset's statistics hold, from its metadata (``read_metadata``): the kernel's."""
    return int(meta["arrays"].get("frames", {}).get("shape", [0, 0])[-1])


def style_frames_of(files: Sequence[str | os.PathLike], model: str, params: Mapping[str, Any]) -> int:
    """The frames the kernel's statistics of ``files`` will hold: every channel's, capped at ``max_frames``."""
    from .audio_io import probe_audio
    from .models import MODELS

    p = {**MODELS[model].defaults, **params}
    total = 0
    for f in files:
        rate, channels, frames = probe_audio(f)
        total += channels * int(frames * int(p.get("sample_rate", 44_100)) / rate / int(p.get("hop", 512)) + 1)
    return min(total, int(p.get("max_frames", total)))


def available_mb() -> float:
    """The memory this machine can give a new render now: ``MemAvailable`` (Linux), else free pages."""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") / MB
    except (ValueError, OSError, AttributeError):
        return float("inf")  # unknown: no budget


def parse_size(text: str) -> float:
    """MB from ``"1500"`` (MB), ``"512M"``, ``"2G"`` or ``"1.5GB"``; a ``ValueError`` otherwise."""
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([kmgt]?)i?b?\s*", text, re.IGNORECASE)
    if not m or float(m.group(1)) <= 0:
        raise ValueError(f"not a memory size: {text!r} (e.g. 1500 for MB, 512M, 2G)")
    scale = {"k": 1 / 1024, "": 1, "m": 1, "g": 1024, "t": 1024 * 1024}[m.group(2).lower()]
    return float(m.group(1)) * scale


def check_budget(estimate: float, budget: Optional[float], what: str = "this render") -> None:
    """Raise ``over_budget`` when ``estimate`` MB exceeds ``budget`` MB (None: what is available now)."""
    limit = available_mb() if budget is None else budget
    if estimate > limit:
        origin = "--max-memory" if budget is not None else "the memory available now; --max-memory sets it"
        raise GramophoneError(f"{what} would need about {estimate:.0f} MB at its peak, over the budget of "
                              f"{limit:.0f} MB ({origin}); it was not started", "over_budget")
