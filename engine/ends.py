"""Hold a render's ends: its first and last moments never peak louder, against the rest of the
clip, than the content's do.

Why: a listener hears an end that jumps out of the clip as a click or a burst, and the loudness
match would turn the whole render down to make room for it. The render's own ends are no longer
bursts (chunks are rendered a window past their ends, :mod:`engine.render`), but the strength
morph and the texture move peaks: a piano whose first chord peaks 20 ms after the clip's first
50 ms came out at strength 0.5 with its first 50 ms 1.17x the rest's peak, where the content's
were 0.96x (bench/RESULTS.md, "Keeping the notes"). :func:`hold_ends` pulls such an end down with
the look-ahead limiter (:func:`engine.loudness.limit_peaks`), and nothing else: the rest of the
clip is never touched, and an end within its bound is left as it is.
"""
from __future__ import annotations

import numpy as np

from .loudness import limit_peaks

#: The span of each end that is held (the first and last 50 ms: a click or a burst).
END_SECONDS = 0.05
#: How often the limiter is run again where its release (a few ms past an end) lowered the rest's peak.
_ROUNDS = 4


def end_bounds(content: np.ndarray, sample_rate: int) -> tuple[float, float]:
    """The most each end of a render of ``content`` may peak, as a multiple of the peak of the
    rest: the content's own ratio for that end, or 1 where the content's end is quieter than its rest."""
    n = int(END_SECONDS * sample_rate)
    rest = _peak(content[:, n:-n])
    if rest <= 0:
        return 1.0, 1.0
    return max(_peak(content[:, :n]) / rest, 1.0), max(_peak(content[:, -n:]) / rest, 1.0)


def hold_ends(output: np.ndarray, content: np.ndarray, sample_rate: int) -> np.ndarray:
    """``output [channels, samples]`` with each end's peak held to :func:`end_bounds` of
    ``content`` (same length) times the peak of the rest of ``output``; a clip shorter than four
    ends (200 ms) is returned as it is."""
    n = int(END_SECONDS * sample_rate)
    if output.shape[-1] < 4 * n or n < 1:
        return output
    first, last = end_bounds(content, sample_rate)
    out = output
    for _ in range(_ROUNDS):
        rest = _peak(out[:, n:-n])
        over_first, over_last = _peak(out[:, :n]) > first * rest, _peak(out[:, -n:]) > last * rest
        if rest <= 0 or not (over_first or over_last):
            break
        out = np.array(out, dtype=np.float32)  # (a copy: the caller's array is left as it is)
        # The limiter runs over twice the end, so its gain is back at 1 inside the clip; the rest's
        # samples are all under the ceiling, so only the end's own peaks are pulled down.
        if over_first:
            out[:, :2 * n] = limit_peaks(out[:, :2 * n], sample_rate, ceiling=first * rest)
        if over_last:
            out[:, -2 * n:] = limit_peaks(out[:, -2 * n:], sample_rate, ceiling=last * rest)
    return out


def _peak(x: np.ndarray) -> float:
    return float(np.abs(x).max()) if x.size else 0.0
