"""The one table of render settings: each declared once, with its type, values, default, help and
the front ends it is exposed in.

:class:`~engine.render_settings.RenderSettings` takes its defaults and its validation from :data:`SETTINGS`;
the bridge makes from it the command line's options (``render``, ``demo``, ``batch``), the OSC
render options, the batch manifest's columns, and the settings table in docs/settings.md
(:func:`markdown`); every setting is recorded in the render's sidecar. ``tests/test_settings.py``
checks each front end against the table, so a setting cannot be exposed in one and silently left
out of another: where a setting is left out, :attr:`Setting.hidden` says why.

Adding a setting is one entry here (and the RenderSettings field the render reads), then
regenerating the table in docs/settings.md (``gramophone settings`` prints it).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Optional

from .errors import GramophoneError
from .takes import MAX_VARIATIONS, VARY

#: Where a setting can be exposed: ``cli`` (``gramophone render`` and ``demo``), ``batch``
#: (``gramophone batch``'s options), ``osc`` (``/gramophone/render``'s ``key value`` options),
#: ``manifest`` (a batch manifest's columns), ``sidecar`` (recorded beside the output, reused by ``--like``).
FRONT_ENDS = ("cli", "batch", "osc", "manifest", "sidecar")

DOMAINS = ("auto", "waveform", "spectrogram")
OPTIMISERS = ("lbfgs", "adam")
#: How the output's peaks are kept under -0.1 dBFS (see :func:`engine.loudness.match_loudness`).
PEAK_MODES = ("limit", "scale")
_TRUE, _FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off")


@dataclass(frozen=True)
class Setting:
    """One render setting: what it is, which values it takes, and where a user can set it."""

    name: str
    #: float, int, str or bool
    type: type
    default: Any
    #: one line, for ``--help``, the OSC docs and docs/settings.md
    help: str
    choices: tuple[str, ...] = ()
    #: inclusive (low, high) for numbers
    bounds: Optional[tuple[float, float]] = None
    #: front ends (of :data:`FRONT_ENDS`) it is left out of, each with the reason
    hidden: tuple[tuple[str, str], ...] = ()
    #: what the default means when it is None (e.g. "the model's")
    default_text: str = ""
    #: values the type and bounds cannot describe, for the docs (e.g. "match, or -70..0 LUFS")
    values_text: str = ""
    #: a check beyond type, bounds and choices; raises :class:`GramophoneError` (``bad_parameter``)
    check_value: Optional[Callable[[Any], Any]] = field(default=None, compare=False)
    #: a value from any front end -> this setting's value, where the type alone does not say how
    parse_value: Optional[Callable[[Any], Any]] = field(default=None, compare=False)
    #: the OSC type tag(s) of its value, where not the type's own
    osc: str = ""
    #: batch: repeatable on the command line, every value rendered for every clip
    crossed: bool = False
    #: the value's name in ``--help``, where not the setting's
    metavar: str = ""
    #: may be a breakpoint envelope over time instead of one number (:mod:`engine.automation`)
    automatable: bool = False

    @property
    def flag(self) -> str:
        """The command-line option: ``--random-phase`` for ``random_phase``."""
        return "--" + self.name.replace("_", "-")

    @property
    def osc_type(self) -> str:
        return self.osc or {float: "f", int: "i", str: "s", bool: "i"}[self.type]

    def exposed_in(self, front_end: str) -> bool:
        return front_end not in dict(self.hidden)

    def default_doc(self) -> str:
        return self.default_text or ("off" if self.default is False else str(self.default))

    def values_doc(self) -> str:
        if self.values_text:
            return self.values_text
        if self.choices:
            return ", ".join(self.choices)
        if self.bounds:
            return f"{self.bounds[0]:g}..{self.bounds[1]:g}"
        return {bool: "on or off (OSC, manifest: 1 or 0)", int: "a whole number", float: "a number"}.get(
            self.type, "text")

    def parse(self, value: Any) -> Any:
        """A value from text (command line, CSV) or JSON/OSC, as this setting's type; ``ValueError``
        if it is not one (a syntax error of the front end; a value of the right type that is out of
        range is :meth:`check`'s)."""
        if self.parse_value is not None:
            return self.parse_value(value)
        if self.automatable:
            from .automation import parse

            return parse(value)
        if self.type is bool:
            if isinstance(value, bool):
                return value
            if isinstance(value, (int, float)) and value in (0, 1):
                return bool(value)
            if isinstance(value, str) and value.strip().lower() in _TRUE + _FALSE:
                return value.strip().lower() in _TRUE
            raise ValueError(f"expected 1 or 0 (true or false), got {value!r}")
        if self.type is str:
            if not isinstance(value, str):
                raise ValueError(f"expected text, got {value!r}")
            return value
        if isinstance(value, bool):
            raise ValueError(f"expected a number, got {value!r}")
        number = float(value)
        if self.type is int:
            if not number.is_integer():
                raise ValueError(f"expected a whole number, got {value!r}")
            return int(number)
        return number

    def check(self, value: Any) -> None:
        """Raise ``bad_parameter`` unless ``value`` is one this setting takes."""
        if value is None and self.default is None:
            return
        if self.automatable:
            from .automation import check

            problem = check(value, self.bounds or (-float("inf"), float("inf")), self.name)
            if problem:
                raise GramophoneError(problem, "bad_parameter")
            return
        if self.choices and value not in self.choices:
            raise GramophoneError(f"{self.name} must be one of {', '.join(self.choices)}, got {value!r}",
                                  "bad_parameter")
        if self.bounds and not (isinstance(value, (int, float)) and self.bounds[0] <= value <= self.bounds[1]):
            low, high = self.bounds
            raise GramophoneError(f"{self.name} must be in {low:g}..{high:g}, got {value!r}", "bad_parameter")
        if self.check_value is not None:
            self.check_value(value)


def _loudness(value: Any) -> Any:
    """``match``, or a LUFS number (``-14`` or ``"-14"``); other text is kept for the check to
    refuse with its message."""
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise ValueError(f"expected match or a number, got {value!r}")
    try:
        return float(value)
    except ValueError:
        return value


def _check_loudness(value: Any) -> None:
    from .loudness import lufs_target

    lufs_target(value)


def _check_device(value: Any) -> None:
    from .device import resolve_device

    resolve_device(value)


SETTINGS: tuple[Setting, ...] = (
    Setting("strength", float, 1.0, "how far the clip moves from itself (0: unchanged, bit for bit) to the full "
            "render in the style (1); an envelope \"seconds:value, ...\" automates it over the clip (linear between "
            "points, held beyond the ends)", bounds=(0.0, 1.0), crossed=True, automatable=True, osc="f|s|[f]",
            values_text="0..1, or an envelope such as \"0:0, 4:1, 8:0.3\" (at most 1000 points)",
            metavar="S|ENVELOPE"),
    Setting("blend", float, 0.0, "with a second style (blend_to): where the render lies between the first style (0) "
            "and the second (1); an envelope \"seconds:value, ...\" moves it over the clip, e.g. \"0:0, 4:1, 8:0\" "
            "from the first to the second and back (each style rendered once, combined frame by frame)",
            bounds=(0.0, 1.0), automatable=True, osc="f|s|[f]",
            values_text="0..1, or an envelope such as \"0:0, 4:1, 8:0\" (at most 1000 points)", metavar="B|ENVELOPE"),
    Setting("iterations", int, None, "optimiser iterations per chunk (10-20 s); fewer keep more content",
            bounds=(1, 10_000), default_text="the model's"),
    Setting("contour", float, 0.4, "how far the render's loud and quiet moments are moved back to the content's "
            "after the optimiser (0: the optimiser's output as it is)", bounds=(0.0, 1.0)),
    Setting("partials", float, 0.75, "how much of the content's partials (its notes and intonation) is set back "
            "into the render after the optimiser (0: none; 1: at their full height over the render's envelope, raised "
            "over a tonal texture's own partials)",
            bounds=(0.0, 1.0)),
    Setting("seed", int, 0, "seeds the render's randomness: the random phase of the bins the render fills "
            "(spectrogram domain), seeded starting noise 60 dB under the content for seeds other than 0 (waveform "
            "domain); renders are bit-identical for a seed on the same kind of CPU at the same number of threads"),
    Setting("domain", str, "auto", "auto: the model's own; spectrogram: optimise the log-magnitude, then "
            "Griffin-Lim; waveform: optimise the samples", choices=DOMAINS),
    Setting("optimiser", str, "lbfgs", "the optimiser", choices=OPTIMISERS),
    Setting("peaks", str, "limit", "limit: peaks held under -0.1 dBFS by a limiter (at most 3 dB); scale: the "
            "whole clip turned down instead, transients untouched", choices=PEAK_MODES),
    Setting("loudness", str, "match", "match: the content's RMS level; a number such as -14: that integrated "
            "loudness in LUFS (ITU-R BS.1770)", values_text="match, or -70..0 (LUFS)", metavar="match|LUFS", parse_value=_loudness,
            check_value=_check_loudness, osc="f|s"),
    Setting("random_phase", bool, False, "spectrogram domain: start Griffin-Lim from random phase, not the "
            "content's"),
    Setting("variations", int, 1, "takes of the clip from one job, OUT-v1.wav, OUT-v2.wav, ... (1: one output, "
            "named as given); how they differ: vary", bounds=(1, MAX_VARIATIONS)),
    Setting("vary", str, "seed", "what changes from take to take: seed (take k: seed + k - 1, another instance of "
            "the texture) or strength (take k: k/N of the strength, a spread up to the setting)", choices=VARY),
    Setting("device", str, "auto", "where the render runs: auto (CUDA when present), cpu or cuda",
            check_value=_check_device, values_text="auto, cpu, cuda, cuda:N",
            hidden=(("osc", "the server's own --device"), ("manifest", "one device for the whole batch: --device"))),
)

BY_NAME: dict[str, Setting] = {s.name: s for s in SETTINGS}

#: RenderSettings fields that are the engine's own (tests and benchmarks set them; no front end
#: does), each with why. Every other field is a row of :data:`SETTINGS` (a test checks).
ENGINE_ONLY: dict[str, str] = {
    "learning_rate": "Adam's step; the measured default per domain is right for every model",
    "griffin_lim_iterations": "the phase reconstruction's effort, fixed at the measured 16",
    "envelope": "switches the style's long-term spectrum off, for benchmarks comparing with the paper",
    "chunk_seconds": "the chunk length, which bounds memory; tests make it short to exercise streaming",
    "crossfade_seconds": "the overlap of chunks, tied to chunk_seconds",
    "match_loudness": "off only inside streaming, which matches the whole file's loudness itself",
}


def exposed_in(front_end: str) -> tuple[Setting, ...]:
    """The settings a front end offers, in the table's order."""
    return tuple(s for s in SETTINGS if s.exposed_in(front_end))


def default(name: str) -> Any:
    """The table's default for ``name`` (RenderSettings' fields read theirs here)."""
    return BY_NAME[name].default


def markdown() -> str:
    """The settings table as Markdown, for docs/settings.md (a test keeps it in step)."""
    def where(s: Setting, front_end: str, text: str) -> str:
        return text if s.exposed_in(front_end) else "–"

    lines = ["| setting | command line | OSC key | manifest | default | values | what it does |",
             "|---|---|---|---|---|---|---|"]
    for s in SETTINGS:
        cli = f"`{s.flag}`" + (" (batch: repeatable)" if s.crossed else "") + \
            ("" if s.exposed_in("batch") else " (not in batch)")
        lines.append(f"| {s.name} | {where(s, 'cli', cli)} | {where(s, 'osc', f'`{s.name}` ' + s.osc_type.replace('|', chr(92) + '|'))} | "
                     f"{where(s, 'manifest', f'`{s.name}`')} | {s.default_doc()} | {s.values_doc()} | {s.help} |")
    hidden = [f"{s.name}: not in {front_end} ({why})" for s in SETTINGS for front_end, why in s.hidden]
    return "\n".join(lines + ([""] + ["Left out: " + "; ".join(hidden) + "."] if hidden else []))

