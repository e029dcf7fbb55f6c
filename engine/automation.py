"""Automation over time: a setting given as a breakpoint envelope instead of one number.

``"0:0, 4:1, 8:0.3"`` is three breakpoints, ``seconds:value``: the value is linear between them,
held at the first value before the first point and at the last after the last. Times are in
seconds from the clip's start (a streamed clip's chunks evaluate it at their own offset, so the
curve runs over the whole file). The same text is what a sidecar records, so ``--like``
reproduces it, and what the command line, OSC and manifests take; OSC and JSON may also give
the alternating ``time, value, time, value`` numbers as a list. Points may also be separated by
``/`` (``0:0/4:1``): in Pure Data and Max a comma ends a message, so their users write that.

An :class:`Envelope` is deliberately not a dataclass: ``dataclasses.asdict`` (which records
RenderSettings) would turn it into a dict, where its text is what every front end reads back.
"""
from __future__ import annotations

import math
import re
from typing import Any, Optional, Sequence, Union

import numpy as np

#: Most breakpoints an envelope may have (a minute of automation at 60 points a second is 3,600:
#: 1,000 covers drawn curves and keeps a sidecar, an OSC string and the parse small).
MAX_POINTS = 1000

_POINT = re.compile(r"^\s*([^:\s]+)\s*:\s*([^:\s]+)\s*$")


class Envelope:
    """Breakpoints ``(seconds, value)`` with times ascending; see the module's notes."""

    __slots__ = ("times", "values")

    def __init__(self, times: Sequence[float], values: Sequence[float]) -> None:
        self.times = tuple(float(t) for t in times)
        self.values = tuple(float(v) for v in values)

    @classmethod
    def parse(cls, value: Any) -> "Envelope":
        """From ``"t:v, t:v, ..."`` or a list ``[t, v, t, v, ...]``; ``ValueError`` saying what is
        wrong (syntax only: :func:`check` judges times and values)."""
        if isinstance(value, str):
            parts = re.split(r"[,/]", value)
            if len(parts) > MAX_POINTS:
                raise ValueError(f"{len(parts)} points; an envelope has at most {MAX_POINTS}")
            times, values = [], []
            for part in parts:
                match = _POINT.match(part)
                if match is None:
                    raise ValueError(f"{part.strip()!r} is not seconds:value")
                try:
                    times.append(float(match.group(1)))
                    values.append(float(match.group(2)))
                except ValueError:
                    raise ValueError(f"{part.strip()!r} is not seconds:value (two numbers)") from None
            return cls(times, values)
        if isinstance(value, (list, tuple)):
            if len(value) % 2 or not value:
                raise ValueError(f"a list of alternating seconds and values has an even length, got {len(value)}")
            if len(value) > 2 * MAX_POINTS:
                raise ValueError(f"{len(value) // 2} points; an envelope has at most {MAX_POINTS}")
            if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value):
                raise ValueError(f"a list of alternating seconds and values holds numbers only, got {list(value)!r}")
            return cls(value[::2], value[1::2])
        raise ValueError(f"expected seconds:value pairs, got {value!r}")

    def check(self, bounds: tuple[float, float], name: str) -> None:
        """``ValueError`` unless times are finite, >= 0 and strictly ascending, values within
        ``bounds``, and there are 1 to :data:`MAX_POINTS` points; the message names the point."""
        if not 1 <= len(self.times) <= MAX_POINTS:
            raise ValueError(f"an envelope has 1 to {MAX_POINTS} points, got {len(self.times)}")
        low, high = bounds
        previous = -math.inf
        for t, v in zip(self.times, self.values):
            point = f"{t:g}:{v:g}"
            if not math.isfinite(t) or t < 0:
                raise ValueError(f"point {point}: times are seconds >= 0")
            if t <= previous:
                raise ValueError(f"point {point}: times must be ascending (after {previous:g})")
            if not (math.isfinite(v) and low <= v <= high):
                raise ValueError(f"point {point}: {name} must be in {low:g}..{high:g}")
            previous = t

    def at(self, seconds: np.ndarray) -> np.ndarray:
        """The value at each time (linear between points, held beyond the ends)."""
        return np.interp(np.asarray(seconds, dtype=np.float64), self.times, self.values)

    def span(self, start: float, stop: float) -> tuple[float, float]:
        """The lowest and highest value over ``[start, stop]`` seconds (at the ends or a breakpoint)."""
        inside = [v for t, v in zip(self.times, self.values) if start <= t <= stop]
        ends = self.at(np.array([start, stop])).tolist()
        return min(inside + ends), max(inside + ends)

    def scaled(self, factor: float) -> "Envelope":
        """Every value times ``factor`` (the takes of ``vary strength``)."""
        return Envelope(self.times, [v * factor for v in self.values])

    def __str__(self) -> str:
        return ", ".join(f"{t:g}:{v:g}" for t, v in zip(self.times, self.values))

    def __repr__(self) -> str:
        return f"Envelope({str(self)!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Envelope) and (self.times, self.values) == (other.times, other.values)

    def __hash__(self) -> int:
        return hash((self.times, self.values))

    def __reduce__(self) -> tuple:  # (pickled to worker processes and Ray tasks)
        return (Envelope, (self.times, self.values))


#: A setting that may be automated: one number, or an envelope over time.
Automatable = Union[float, Envelope]


def parse(value: Any) -> Any:
    """A number (or numeric text) as a float; an envelope's text or list as an :class:`Envelope`;
    anything else is returned as given, for :func:`check` to refuse with the reason (as the
    settings table does for text it cannot read, so every front end says ``bad_parameter``)."""
    if isinstance(value, Envelope):
        return value
    if isinstance(value, bool):
        raise ValueError(f"expected a number or seconds:value pairs, got {value!r}")
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str) and ":" not in value:
        try:
            return float(value)
        except ValueError:
            return value
    try:
        return Envelope.parse(value)
    except ValueError:
        return value


def check(value: Any, bounds: tuple[float, float], name: str) -> Optional[str]:
    """Why ``value`` (as :func:`parse` returns it) is not a number or envelope within ``bounds``,
    or None if it is."""
    if isinstance(value, Envelope):
        try:
            value.check(bounds, name)
        except ValueError as exc:
            return f"{name} envelope {_quote(value)}: {exc}"
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return None if bounds[0] <= value <= bounds[1] else f"{name} must be in {bounds[0]:g}..{bounds[1]:g}, got {value!r}"
    try:
        Envelope.parse(value)
        reason = "not a number"
    except ValueError as exc:
        reason = str(exc)
    return (f"{name} must be a number in {bounds[0]:g}..{bounds[1]:g} or an envelope of seconds:value "
            f"points such as \"0:0, 4:1\"; got {_quote(value)}: {reason}")


def _quote(value: Any) -> str:
    text = str(value) if not isinstance(value, str) else value
    return repr(text if len(text) <= 200 else text[:200] + "…")


def span(value: Automatable, start: float, stop: float) -> tuple[float, float]:
    """The lowest and highest value over ``[start, stop]`` seconds."""
    if isinstance(value, Envelope):
        return value.span(start, stop)
    return float(value), float(value)


def text(value: Automatable) -> str:
    """For names and messages: ``0.5``, or an envelope's ``0:0, 4:1``."""
    return str(value) if isinstance(value, Envelope) else f"{value:g}"


def slug(value: Automatable) -> str:
    """For file names (a batch's ``{strength}``): ``0.5``, or ``0-0_4-1`` for ``0:0, 4:1``;
    a long envelope is cut and given a short hash, so names stay short and distinct."""
    if not isinstance(value, Envelope):
        return f"{value:g}"
    name = "_".join(f"{t:g}-{v:g}" for t, v in zip(value.times, value.values))
    if len(name) <= 48:
        return name
    import hashlib

    return name[:32] + "~" + hashlib.sha256(str(value).encode()).hexdigest()[:8]
