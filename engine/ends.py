"""Hold a render's ends: its first and last moments never peak louder, against the rest of the
clip, than the content's do.

Why: a listener hears an end that jumps out of the clip as a click or a burst, and the loudness
match would turn the whole render down to make room for it. Chunks are rendered a window past
their ends (:mod:`engine.domains`), but the strength morph and the texture still move peaks: a
piano whose first chord peaks 20 ms after the clip's first 50 ms came out at strength 0.5 with
its first 50 ms 1.17x the rest's peak, where the content's were 0.96x; and with very few
iterations a steady tone's render ends in a real burst (as rain in 2 iterations, 32x the rest;
bench/RESULTS.md, "Keeping the notes"). :func:`hold_ends` pulls such an end down with the
look-ahead limiter (:func:`engine.loudness.limit_peaks`), and nothing else: an end within its
bound is left as it is, and the rest of the clip is touched only by the limiter's release, a few
milliseconds past the end. :func:`engine.render.finish` holds the ends before the loudness match
(so a burst does not turn the clip down) and after it (the limiter may move peaks again). A
streamed file (:mod:`engine.streaming`) is held the same way, from :class:`EndPeaks` taken block
by block, on its raw render in place and on its first and last output blocks (:func:`held_blocks`).
"""
from __future__ import annotations

from typing import Callable, Iterable, Iterator, Optional

import numpy as np

from .loudness import limit_peaks

#: The span of each end that is held (the first and last 50 ms: a click or a burst).
END_SECONDS = 0.05
#: How often the limiter is run again where its release (a few ms past an end) lowered the rest's peak.
ROUNDS = 4


def end_frames(sample_rate: int) -> int:
    """The frames in each end at ``sample_rate``."""
    return int(END_SECONDS * sample_rate)


class EndPeaks:
    """The peaks (over all channels) of a clip's first and last :data:`END_SECONDS` and of the
    rest between, from its blocks ``[channels, frames]`` in order: one block, or a long file's."""

    def __init__(self, sample_rate: int) -> None:
        self.n = end_frames(sample_rate)
        self.first = self.rest = 0.0
        self.frames = 0  # frames seen
        self._head = 0  # frames of the first end seen so far
        self._tail = np.zeros(0, np.float32)  # per-frame peaks of the latest ``n`` frames after the first end

    def add(self, block: np.ndarray) -> "EndPeaks":
        peaks = np.abs(block).max(0) if block.size else np.zeros(0, np.float32)
        self.frames += peaks.size
        if self._head < self.n:
            take = min(self.n - self._head, peaks.size)
            self.first = max(self.first, float(peaks[:take].max(initial=0.0)))
            self._head += take
            peaks = peaks[take:]
        pending = np.concatenate([self._tail, peaks])
        if pending.size > self.n:
            self.rest = max(self.rest, float(pending[:-self.n].max()))
            pending = pending[-self.n:]
        self._tail = pending
        return self

    @property
    def last(self) -> float:
        return float(self._tail.max(initial=0.0))

    @property
    def has_rest(self) -> bool:
        """Whether the clip is long enough (four ends, 200 ms) and loud enough between them to be held."""
        return self.n >= 1 and self.frames >= 4 * self.n and self.rest > 0

    def bounds(self) -> tuple[float, float]:
        """The most each end of a render of this clip may peak, as a multiple of the rest's peak:
        this clip's own ratio for that end, or 1 where its end is quieter than its rest."""
        if self.rest <= 0:
            return 1.0, 1.0
        return max(self.first / self.rest, 1.0), max(self.last / self.rest, 1.0)


def hold_start(output: np.ndarray, ceiling: float, sample_rate: int) -> np.ndarray:
    """``output`` (at least two ends long) with its first end's peaks limited to ``ceiling`` (a
    copy). The limiter runs over twice the end, so its gain is back at 1 inside the clip; the
    samples after the end are under the ceiling already, so only the end's own peaks are pulled down."""
    out = np.array(output, dtype=np.float32)
    _limit(out, slice(0, 2 * end_frames(sample_rate)), ceiling, sample_rate)
    return out


def hold_end(output: np.ndarray, ceiling: float, sample_rate: int) -> np.ndarray:
    """:func:`hold_start` for the last end."""
    out = np.array(output, dtype=np.float32)
    _limit(out, slice(out.shape[-1] - 2 * end_frames(sample_rate), None), ceiling, sample_rate)
    return out


def _limit(out: np.ndarray, span: slice, ceiling: float, sample_rate: int) -> None:
    """The look-ahead limiter on ``out[:, span]``, in place (its gain is symmetric in time, so
    either end is limited alike)."""
    out[:, span] = limit_peaks(out[:, span], sample_rate, ceiling=ceiling)


def end_ceilings(peaks: EndPeaks, bounds: tuple[float, float]) -> tuple[Optional[float], Optional[float]]:
    """The peak each end of a clip with ``peaks`` must be limited to, where it is over its bound
    (``bounds``: the content's :meth:`EndPeaks.bounds`) times the rest's peak, else None; (None,
    None) for a clip without :attr:`EndPeaks.has_rest`."""
    if not peaks.has_rest:
        return None, None
    (first, last), rest = bounds, peaks.rest
    return (first * rest if peaks.first > first * rest else None,
            last * rest if peaks.last > last * rest else None)


def hold_in_rounds(measure: Callable[[], EndPeaks], bounds: tuple[float, float],
                   limit_first: Callable[[float], None], limit_last: Callable[[float], None]) -> bool:
    """Measure a clip's ends (``measure``) and limit each one over its bound to its ceiling, again
    until none is over (the limiter's release may lower the rest's peak), at most :data:`ROUNDS`
    times: one loop for an array (:func:`hold_ends`) and a streamed file's raw render. Returns
    whether anything was limited."""
    held = False
    for _ in range(ROUNDS):
        first, last = end_ceilings(measure(), bounds)
        if first is None and last is None:
            break
        if first is not None:
            limit_first(first)
        if last is not None:
            limit_last(last)
        held = True
    return held


def hold_ends(output: np.ndarray, content: np.ndarray, sample_rate: int) -> np.ndarray:
    """``output [channels, samples]`` with each end's peak held to ``content``'s
    :meth:`EndPeaks.bounds` (same length) times the peak of the rest of ``output``; a clip
    shorter than four ends (200 ms) is returned as it is, as is one within its bounds."""
    span, held = 2 * end_frames(sample_rate), [output]  # held[0]: one copy, whatever the rounds

    def limit(where: slice, ceiling: float) -> None:
        if held[0] is output:
            held[0] = np.array(output, dtype=np.float32)
        _limit(held[0], where, ceiling, sample_rate)

    hold_in_rounds(lambda: EndPeaks(sample_rate).add(held[0]), EndPeaks(sample_rate).add(content).bounds(),
                   lambda ceiling: limit(slice(0, span), ceiling),
                   lambda ceiling: limit(slice(output.shape[-1] - span, None), ceiling))
    return held[0]


def held_blocks(blocks: Iterable[np.ndarray], first: Optional[float], last: Optional[float],
                sample_rate: int) -> Iterator[np.ndarray]:
    """A long clip's ``blocks`` in order, with its first end limited to the ceiling ``first`` and
    its last to ``last`` (None: left as it is), as :func:`hold_start` and :func:`hold_end` do to
    one array. Holds back at most two ends' worth of frames beyond a block."""
    span = 2 * end_frames(sample_rate)
    pending: list[np.ndarray] = []
    for block in blocks:
        pending.append(block)
        if first is not None and sum(b.shape[1] for b in pending) >= span:
            pending, first = [hold_start(np.concatenate(pending, 1), first, sample_rate)], None
        while first is None and len(pending) > 1 and sum(b.shape[1] for b in pending[1:]) >= span:
            yield pending.pop(0)
    if not pending:
        return
    tail = np.concatenate(pending, 1)
    if first is not None:
        tail = hold_start(tail, first, sample_rate)
    yield tail if last is None else hold_end(tail, last, sample_rate)
