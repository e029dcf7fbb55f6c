"""Loudness: RMS level, matching a reference's level, a LUFS target, and the peak ceiling.

Every output ends at or under :data:`PEAK_CEILING`. ``match_loudness`` brings a render to its
content's RMS level (what the render has always done); ``normalise_lufs`` brings it to an
integrated loudness in LUFS (ITU-R BS.1770, measured as pyloudnorm measures it, by
:class:`LoudnessMeter`, which also takes a long clip block by block), the unit producers and
streaming services work in (e.g. -14 LUFS). ``match_loudness_blocks`` and ``normalise_lufs_blocks``
do the same to a streamed render's raw output block by block (:mod:`engine.streaming`), with the
same gains and limiter, so a long file comes out as one array would.
"""
from __future__ import annotations

import math
from typing import TYPE_CHECKING, Callable, Optional

import numpy as np

if TYPE_CHECKING:
    from .blocks import RawFile
    from .progress import CancelToken

#: Output peaks never exceed this (-0.1 dBFS), so nothing a render writes can clip.
PEAK_CEILING = 10 ** (-0.1 / 20)
#: The most a limiter pulls a peak down (dB) to match loudness; past it the clip comes out quieter.
#: 3 dB, the usual bound for transparent limiting: at 6 dB the limiter flattened the broadband
#: clicks of impulsive textures (an ``auditory`` render of speech as steam: cross-band envelope
#: correlation 0.27 -> 0.06, style gain 0.29 -> 0.11, so strength 1 scored below 0.75). Measured
#: on 21 benchmark pairs (kernel, strength 1): renders 1.2 dB under their content's RMS on
#: average instead of 0.4 (worst 6.8 dB instead of 4.4; ``--loudness`` in LUFS is unaffected).
MAX_LIMITING_DB = 3.0
#: The passes :func:`match_loudness` and :func:`normalise_lufs` (with the limiter) make at most.
LOUDNESS_PASSES = 4


def rms(data: np.ndarray) -> float:
    """Root-mean-square level of all samples (0 for an empty array)."""
    return float(np.sqrt(np.mean(np.square(data, dtype=np.float64)))) if data.size else 0.0


def match_loudness(output: np.ndarray, reference: np.ndarray, sample_rate: int, limit: bool = True) -> np.ndarray:
    """Bring ``output`` to the RMS level of ``reference`` without ever exceeding :data:`PEAK_CEILING`.

    With ``limit``, peaks the gain would push over the ceiling are held down by
    :func:`limit_peaks` (a look-ahead limiter), by at most :data:`MAX_LIMITING_DB`: the loudness
    matches unless that would take more (then the clip is as loud as that much limiting allows). Without
    it, the whole clip is turned down just enough instead: transients keep their shape (what
    texture statistics measure), and a high-crest texture comes out quieter than the reference.
    """
    out = np.asarray(output, dtype=np.float32)
    level, peak = rms(out), float(np.abs(out).max()) if out.size else 0.0
    if not limit:
        return out if level <= 1e-12 else out * min(rms(reference) / level, PEAK_CEILING / peak)
    target = limited_target(rms(reference), level, peak)
    for _ in range(LOUDNESS_PASSES):  # limiting lowers the RMS a little; further passes make up for it
        level = rms(out)
        if level <= 1e-12:
            break
        out = limit_peaks(out * (target / level), sample_rate)
        if abs(rms(out) / target - 1) < 0.01:
            break
    return out


#: The most a render comes out under its target level (dB) to spare its peaks the limiter; past
#: it the limiter takes the rest. A musician drops a render into a session beside its source:
#: measured on the pitched corpus (bench/RESULTS.md, "Keeping the notes") without this bound,
#: 17 of 116 renders came out 3.4-8.8 dB under their content (loud, brick-walled speech as steam,
#: an electronic mix as sparse night sounds) and had to be gained up by hand.
MAX_QUIETER_DB = 2.5


def limited_target(target: float, level: float, peak: float) -> float:
    """The RMS ``target`` a clip at ``level`` with ``peak`` can reach with at most
    :data:`MAX_LIMITING_DB` of peak reduction, but never more than :data:`MAX_QUIETER_DB` under
    ``target``. Within the two, the clip is turned down rather than limited harder: a limiter
    pulling peaks down by much more pumps (measured: loud, brick-walled speech rendered as steam
    needed 11 dB; every band ducked together and the render kept 0.16 of the content instead of
    0.86). Past both, the level wins: the limiter takes what the clip still needs."""
    if level <= 1e-12 or peak <= 0:
        return target
    within_budget = level * 10 ** (MAX_LIMITING_DB / 20) * PEAK_CEILING / peak
    return min(target, max(within_budget, target * 10 ** (-MAX_QUIETER_DB / 20)))


def limit_peaks(data: np.ndarray, sample_rate: int, ceiling: float = PEAK_CEILING,
                window_seconds: float = 0.005) -> np.ndarray:
    """Look-ahead peak limiter: a smooth gain (linked across channels) keeps every sample under
    ``ceiling``. The gain is a moving minimum of the needed reduction, then a moving average over
    half that span, so it is in place before each peak and can never overshoot it."""
    import torch
    import torch.nn.functional as F

    peak = np.max(np.abs(data), axis=0) if data.size else np.zeros(0)
    if not data.size or float(peak.max()) <= ceiling:
        return data.astype(np.float32)
    half = max(1, int(window_seconds * sample_rate))
    need = torch.from_numpy(np.minimum(1.0, ceiling / np.maximum(peak, 1e-12)).astype(np.float32))[None, None]
    held = -F.max_pool1d(-need, 4 * half + 1, stride=1, padding=2 * half)
    padded = np.pad(held[0, 0].numpy().astype(np.float64), half, mode="edge")
    csum = np.concatenate([[0.0], np.cumsum(padded)])  # moving average by running sums: O(n)
    smooth = (csum[2 * half + 1:] - csum[:-2 * half - 1]) / (2 * half + 1)
    out = data * smooth.astype(np.float32)
    return np.clip(out, -ceiling, ceiling).astype(np.float32)




#: ``--loudness match``: keep the content's RMS level (the render's own matching).
MATCH = "match"
LUFS_RANGE = (-70.0, 0.0)


def lufs_target(loudness: str | float) -> float | None:
    """None for ``"match"``; else the LUFS target as a number (``-14``, ``"-14"``), checked."""
    from .errors import GramophoneError

    if loudness == MATCH:
        return None
    try:
        target = float(loudness)
    except (TypeError, ValueError):
        target = float("nan")
    if not LUFS_RANGE[0] <= target <= LUFS_RANGE[1]:
        raise GramophoneError(f"loudness must be '{MATCH}' or a LUFS target from {LUFS_RANGE[0]:g} to "
                              f"{LUFS_RANGE[1]:g} (e.g. -14), got {loudness!r}", "bad_parameter")
    return target


def integrated_lufs(data: np.ndarray, sample_rate: int) -> float:
    """Integrated loudness (ITU-R BS.1770-4, LUFS) of ``[channels, samples]``; ``-inf`` for silence.

    Clips under the standard's 400 ms block use one block of their length (see :class:`LoudnessMeter`)."""
    meter = LoudnessMeter(sample_rate, data.shape[0], data.shape[1])
    meter.add(data)
    return meter.lufs()


class LoudnessMeter:
    """Integrated loudness of a clip fed block by block, front to back, in flat memory: what
    pyloudnorm's ``Meter.integrated_loudness`` gives for the whole clip (the same K-weighting
    filters, 400 ms gating blocks every 100 ms, absolute and relative gates), so that a streamed
    render (:mod:`engine.streaming`) can be brought to a LUFS target however long it is.

    pyloudnorm weighs up to 5 channels; with more, each channel is measured alone and the powers
    are summed. ``frames``, the clip's length, fixes the gating blocks in advance."""

    def __init__(self, sample_rate: int, channels: int, frames: int) -> None:
        import pyloudnorm

        self.block = min(0.4, frames / sample_rate)
        meter = pyloudnorm.Meter(sample_rate, block_size=self.block)
        self._stages = [(f.passband_gain, f.b, f.a) for f in meter._filters.values()]
        self._state: list[list[np.ndarray]] = [[np.zeros(max(len(a), len(b)) - 1) for _, b, a in self._stages]
                                               for _ in range(channels)]
        self.sample_rate, self.channels, self.frames = sample_rate, channels, frames
        count = int(np.round((frames / sample_rate - self.block) / (self.block * 0.25))) + 1
        j = np.arange(max(count, 0))
        self._lower = np.minimum((self.block * j * 0.25 * sample_rate).astype(np.int64), frames)
        self._upper = np.minimum((self.block * (j * 0.25 + 1) * sample_rate).astype(np.int64), frames)
        self._bounds = np.unique(np.concatenate([[0], self._lower, self._upper]))
        self._sums = np.zeros((channels, len(self._bounds)))  # running sum of squares at each bound
        self._seen, self._total = 0, np.zeros(channels)

    def add(self, block: np.ndarray) -> None:
        """The next ``[channels, samples]`` of the clip."""
        from scipy.signal import lfilter

        x = np.asarray(block, dtype=np.float64)
        start, stop = self._seen, self._seen + x.shape[1]
        inside = (self._bounds > start) & (self._bounds <= stop)
        for c in range(self.channels):
            y = x[c]
            for s, (gain, b, a) in enumerate(self._stages):
                y, self._state[c][s] = lfilter(b, a, y, zi=self._state[c][s])
                y = gain * y
            running = self._total[c] + np.cumsum(np.square(y))
            self._sums[c, inside] = running[self._bounds[inside] - start - 1]
            self._total[c] = running[-1] if running.size else self._total[c]
        self._seen = stop

    def lufs(self) -> float:
        """The integrated loudness of everything added (``-inf`` for silence)."""
        index = {int(b): i for i, b in enumerate(self._bounds)}
        upper, lower = [index[int(u)] for u in self._upper], [index[int(v)] for v in self._lower]
        z = (self._sums[:, upper] - self._sums[:, lower]) / (self.block * self.sample_rate)
        if self.channels <= 5:
            return _gated(z, np.array([1.0, 1.0, 1.0, 1.41, 1.41][:self.channels]))
        total = sum(10 ** (_gated(z[c:c + 1], np.ones(1)) / 10) for c in range(self.channels))
        return float(10 * np.log10(total)) if total > 0 else float("-inf")


def _gated(z: np.ndarray, weights: np.ndarray) -> float:
    """BS.1770's gated loudness of per-channel block powers ``z [channels, blocks]``."""
    with np.errstate(divide="ignore", invalid="ignore"):
        block = -0.691 + 10 * np.log10(weights @ z)
        kept = block >= -70.0
        if not kept.any():
            return float("-inf")
        relative = -0.691 + 10 * np.log10(weights @ z[:, kept].mean(axis=1)) - 10.0
        kept = (block > relative) & (block > -70.0)
        if not kept.any():
            return float("-inf")
        return float(-0.691 + 10 * np.log10(weights @ z[:, kept].mean(axis=1)))


def normalise_lufs(data: np.ndarray, sample_rate: int, target: float, limit: bool = True) -> np.ndarray:
    """Bring ``data`` to ``target`` LUFS, peaks never over :data:`PEAK_CEILING`.

    With ``limit`` the look-ahead limiter holds the peaks (and a second pass makes up for the
    loudness it took); without, the whole clip is turned down just enough instead, so a target
    too loud for a spiky clip leaves it quieter than asked. Silence stays silent."""
    out = np.asarray(data, dtype=np.float32)
    for _ in range(LOUDNESS_PASSES if limit else 1):
        level = integrated_lufs(out, sample_rate)
        if not np.isfinite(level) or abs(level - target) < 0.05:
            break
        gain = 10 ** ((target - level) / 20)
        if limit:
            out = limit_peaks(out * gain, sample_rate)
        else:
            peak = float(np.abs(out).max())
            out = out * min(gain, PEAK_CEILING / peak)
    return out.astype(np.float32)


# ----------------------------------------------------------------------------- block by block

#: What a streamed render does to each block of its raw output (with the context it needs).
BlockProcess = Callable[[np.ndarray], np.ndarray]
#: Context each side of a block for one limiter pass: its output at a sample depends on ±15 ms
#: of input (3 x its 5 ms window); 50 ms leaves room should the window grow.
LIMITER_CONTEXT_SECONDS = 0.05


def match_loudness_blocks(raw: "RawFile", target: float, limit: bool, progress: Callable[[float], None],
                          cancel: Optional[CancelToken]) -> tuple[BlockProcess, int]:
    """What :func:`match_loudness` does to the whole of ``raw`` (brought to the RMS ``target``), as
    a function for its blocks and the context each block needs: the same gains (found by passes
    over ``raw`` that only sum squares) and the same limiter, so the result equals it to float
    rounding. ``progress(passes)``: the passes made so far, the current one's share included."""
    level = raw.rms
    if level <= 1e-12:
        return (lambda block: block), 0
    if not limit:
        gain = min(target / level, PEAK_CEILING / raw.peak)
        return (lambda block: block * gain), 0
    target = limited_target(target, level, raw.peak)
    gains: list[float] = []
    for done in range(LOUDNESS_PASSES):  # limiting lowers the RMS a little; further passes make up for it
        if level <= 1e-12:
            break
        gains.append(target / level)
        squares = 0.0
        for block in raw.blocks(limiter_chain(gains, raw.sample_rate), limiter_context(gains, raw.sample_rate), cancel):
            squares += float(np.square(block, dtype=np.float64).sum())
            progress(done + raw.fraction_read)
        level = math.sqrt(squares / (raw.channels * raw.frames))
        if abs(level / target - 1) < 0.01:
            break
    return limiter_chain(gains, raw.sample_rate), limiter_context(gains, raw.sample_rate)


def normalise_lufs_blocks(raw: "RawFile", process: BlockProcess, context: int, target: float, limit: bool,
                          progress: Callable[[float], None], cancel: Optional[CancelToken]
                          ) -> tuple[BlockProcess, int]:
    """What :func:`normalise_lufs` does to the whole of ``process(raw)``, as a function for its
    blocks and their context: each pass measures the integrated loudness of the output so far
    (:class:`LoudnessMeter`, block by block) and adds a gain, then (``limit``) the limiter, or
    (without) just the gain that keeps the loudest peak under the ceiling. ``progress(passes)``
    as :func:`match_loudness_blocks`'."""
    gains: list[float] = []

    def chain(gains: list[float]) -> tuple[BlockProcess, int]:
        if not limit:
            scale = math.prod(gains)
            return (lambda block: process(block) * scale), context
        after = limiter_chain(gains, raw.sample_rate)
        return (lambda block: after(process(block))), context + limiter_context(gains, raw.sample_rate)

    for done in range(LOUDNESS_PASSES if limit else 1):  # the same passes as normalise_lufs
        meter, peak = LoudnessMeter(raw.sample_rate, raw.channels, raw.frames), 0.0
        for block in raw.blocks(*chain(gains), cancel):
            meter.add(block)
            peak = max(peak, float(np.abs(block).max()))
            progress(done + raw.fraction_read)
        level = meter.lufs()
        if not math.isfinite(level) or abs(level - target) < 0.05:
            break
        gain = 10 ** ((target - level) / 20)
        gains.append(gain if limit else min(gain, PEAK_CEILING / peak))
    return chain(gains)


def limiter_chain(gains: list[float], sample_rate: int) -> BlockProcess:
    """What ``match_loudness`` does to the samples: gain then limit, once per gain."""
    def apply(block: np.ndarray) -> np.ndarray:
        for gain in gains:
            block = limit_peaks(block * gain, sample_rate)
        return block
    return apply


def limiter_context(gains: list[float], sample_rate: int) -> int:
    """Frames of context each side of a block that :func:`limiter_chain` of ``gains`` needs."""
    return len(gains) * int(math.ceil(LIMITER_CONTEXT_SECONDS * sample_rate))
