"""The OSC address space: one table that the server, docs/osc.md and the host-client tests use.

Each :class:`Address` names its arguments with OSC type tags (``i`` int32, ``f`` float32,
``s`` string; ``x`` = an id that may be ``i`` or ``s``; ``[f]`` an OSC array of numbers;
``f|s`` either), which of them are optional, whether
``key value`` option pairs may follow, and the replies it can cause. ``parse`` checks a
message against its entry and returns the arguments by name, or raises :class:`OscArgError`.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Sequence

from ..engine.errors import GramophoneError
from ..engine.limits import MAX_OSC_ARGS, MAX_OSC_STRING
from ..engine.settings import BY_NAME as SETTINGS_BY_NAME, exposed_in

PREFIX = "/gramophone"
#: Server defaults (documented in the README; overridable on the command line).
DEFAULT_PORT = 7770
DEFAULT_REPLY_PORT = 7771


@dataclass(frozen=True)
class Arg:
    name: str
    type: str  # "i", "f", "s", or "x" (an id: int or string)
    optional: bool = False
    doc: str = ""


@dataclass(frozen=True)
class Address:
    path: str
    args: tuple[Arg, ...]
    replies: tuple[str, ...]
    doc: str
    #: option name -> (type, doc) for trailing ``key value`` pairs
    options: dict[str, tuple[str, str]] = field(default_factory=dict)


@dataclass(frozen=True)
class Reply:
    path: str
    args: tuple[Arg, ...]
    doc: str


class OscArgError(GramophoneError):
    """A message whose arguments do not fit its address (code ``bad_args``)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, "bad_args")


#: The render's options: every setting the table (:mod:`engine.settings`) exposes over OSC, then the server's own.
RENDER_OPTIONS = {
    **{s.name: (s.osc_type, f"{s.values_doc()}, default {s.default_doc()}: {s.help}") for s in exposed_in("osc")},
    "blend_to": ("s", "a second preset (made with the preset's model) that blend moves to"),
    "reply_port": ("i", "also send this job's replies to this port on the sender's host"),
    "audition": ("i", "1: play the result on the server's audio output when done"),
}

ADDRESSES: tuple[Address, ...] = (
    Address(f"{PREFIX}/ping", (Arg("reply_port", "i", True, "also reply to this port"),), ("pong",),
            "Liveness check; answered at once, even while a render runs."),
    Address(f"{PREFIX}/reply", (Arg("port", "i"), Arg("host", "s", True, "default: the sender's host")),
            ("reply/ok",), "Register where replies go (Max's udpsend and oscsend send from throwaway ports)."),
    Address(f"{PREFIX}/render",
            (Arg("id", "x", doc="your job id, echoed in every reply"), Arg("content_path", "s"),
             Arg("preset", "s", doc="preset name"), Arg("out_path", "s", doc="absolute path of an audio file to write")),
            ("queued", "progress", "take", "done", "error", "cancelled"),
            "Queue a render. Validated at once: answered with queued (with its position) or error.",
            RENDER_OPTIONS),
    Address(f"{PREFIX}/cancel", (Arg("id", "x"),), ("cancelled", "error"), "Cancel a queued or running job."),
    Address(f"{PREFIX}/presets", (), ("preset", "presets/end"), "List presets: one preset reply each, then the end."),
    Address(f"{PREFIX}/preset/show", (Arg("name", "s"),), ("preset/info", "error"), "Details of one preset."),
    Address(f"{PREFIX}/preset/create", (Arg("name", "s"), Arg("style_path", "s")), ("preset/created", "error"),
            "Analyse a style file into a user preset.",
            {"model": ("s", "kernel (default), random, auditory, vgg19 or soundnet"), "description": ("s", ""),
             "force": ("i", "1: replace a user preset of that name"),
             "weights": ("s", "vgg19/soundnet: a weights file (absolute path) or random")}),
    Address(f"{PREFIX}/status", (), ("status",), "Queue length, running job and device."),
)

REPLIES: tuple[Reply, ...] = (
    Reply(f"{PREFIX}/pong", (Arg("version", "s"),), "answer to ping"),
    Reply(f"{PREFIX}/reply/ok", (Arg("host", "s"), Arg("port", "i")), "replies now also go there"),
    Reply(f"{PREFIX}/queued", (Arg("id", "x"), Arg("position", "i")), "accepted; 0 = starts now"),
    Reply(f"{PREFIX}/progress", (Arg("id", "x"), Arg("fraction", "f")),
          "0 at start, at least once a second, 1 at the end"),
    Reply(f"{PREFIX}/take", (Arg("id", "x"), Arg("number", "i"), Arg("count", "i"), Arg("out_path", "s")),
          "with variations N > 1: take number of count is complete (OUT-v1.wav ...), one reply per take, before done"),
    Reply(f"{PREFIX}/done", (Arg("id", "x"), Arg("out_path", "s"), Arg("seconds", "f")),
          "the file is complete (with variations: every take is, out_path is take 1's, seconds all takes')"),
    Reply(f"{PREFIX}/cancelled", (Arg("id", "x"),), "the job stopped; nothing was written"),
    Reply(f"{PREFIX}/error", (Arg("id", "x"), Arg("code", "s"), Arg("message", "s")),
          "id is the job id, or the failing address for requests without one"),
    Reply(f"{PREFIX}/preset", (Arg("name", "s"), Arg("model", "s"), Arg("origin", "s"), Arg("description", "s")),
          "one per preset"),
    Reply(f"{PREFIX}/presets/end", (Arg("count", "i"),), "after the last preset reply"),
    Reply(f"{PREFIX}/preset/info", (Arg("name", "s"), Arg("model", "s"), Arg("origin", "s"), Arg("description", "s"),
                                    Arg("seconds", "f"), Arg("bytes", "i"), Arg("sha256", "s")),
          "seconds: total duration of the style audio"),
    Reply(f"{PREFIX}/preset/created", (Arg("name", "s"),), "the preset is saved"),
    Reply(f"{PREFIX}/status", (Arg("queued", "i"), Arg("running", "s"), Arg("device", "s")),
          "running: the running job's id, or empty"),
)

BY_PATH = {a.path: a for a in ADDRESSES}
REPLY_BY_PATH = {r.path: r for r in REPLIES}


def _fits(value: Any, kind: str) -> bool:
    if isinstance(value, bool):
        return False
    if kind == "i":
        return isinstance(value, int) or (isinstance(value, float) and value.is_integer())
    if kind == "f":
        return isinstance(value, (int, float))
    if kind == "s":
        return isinstance(value, str)
    if "|" in kind:
        return any(_fits(value, k) for k in kind.split("|"))
    if kind == "[f]":  # an OSC array (python-osc decodes [ ... ] into a list)
        return isinstance(value, list) and all(_fits(v, "f") for v in value)
    # "x": an id; Pure Data sends every number as a float, so integral floats count as ints
    return isinstance(value, (int, str)) or (isinstance(value, float) and value.is_integer())


def _coerce(value: Any, kind: str) -> Any:
    if kind == "i" or (kind == "x" and isinstance(value, float)):
        return int(value)
    if isinstance(value, list):
        return [float(v) for v in value]
    return float(value) if kind == "f" or ("f" in kind.split("|") and not isinstance(value, str)) else value


def check_size(path: str, values: Sequence[Any]) -> None:
    """Refuse a message larger than any address takes (:mod:`engine.limits`), before anything else
    looks at it, so that what is logged and echoed in error replies stays small."""
    if len(path) > MAX_OSC_STRING:
        raise OscArgError(f"an address of {len(path):,} characters (at most {MAX_OSC_STRING})")
    if len(values) > MAX_OSC_ARGS:
        raise OscArgError(f"{path}: {len(values):,} arguments (no address takes more than {MAX_OSC_ARGS})")
    for number, value in enumerate(values, start=1):
        if isinstance(value, (str, bytes)) and len(value) > MAX_OSC_STRING:
            raise OscArgError(f"{path}: argument {number} is {len(value):,} long (at most {MAX_OSC_STRING})")


def parse(path: str, values: Sequence[Any]) -> dict[str, Any]:
    """Check ``values`` against the table entry for ``path``; return ``{name: value}`` (options
    under ``"options"``). Raises :class:`OscArgError` with a message a user can act on."""
    spec = BY_PATH[path]
    usage = f"{path} " + " ".join(f"[{a.name}]" if a.optional else a.name for a in spec.args) + \
        (" [key value ...]" if spec.options else "")
    required = sum(not a.optional for a in spec.args)
    if len(values) < required:
        raise OscArgError(f"{path} needs {required} argument(s), got {len(values)}; usage: {usage.strip()}")
    out: dict[str, Any] = {}
    rest = list(values)
    for arg in spec.args:
        if not rest:
            break
        if arg.optional and spec.options and isinstance(rest[0], str) and rest[0] in spec.options:
            break
        value = rest.pop(0)
        if not _fits(value, arg.type):
            raise OscArgError(f"{path}: argument '{arg.name}' must be {_TYPE_NAMES[arg.type]}, got {value!r}")
        out[arg.name] = _coerce(value, arg.type)
    if rest and not spec.options:
        raise OscArgError(f"{path}: too many arguments ({len(values)}); usage: {usage.strip()}")
    if len(rest) % 2:
        raise OscArgError(f"{path}: options come in key value pairs; '{rest[-1]}' has no value")
    options = {}
    for key, value in zip(rest[::2], rest[1::2]):
        if key not in spec.options:
            raise OscArgError(f"{path}: unknown option {key!r}; known: {', '.join(spec.options)}")
        kind = spec.options[key][0]
        if not _fits(value, kind):
            raise OscArgError(f"{path}: option '{key}' must be {_TYPE_NAMES[kind]}, got {value!r}")
        options[key] = _coerce(value, kind)
    out["options"] = options
    return out


_TYPE_NAMES = {"i": "an int", "f": "a number", "s": "a string", "x": "an int or a string", "f|s": "a number or a string",
               "[f]": "an array of numbers", "f|s|[f]": "a number, a string or an array of numbers"}


def render_settings(options: dict[str, Any]) -> dict[str, Any]:
    """The render options (as :func:`parse` returns them) that are render settings, as the
    settings' values; a value of the right OSC type that the setting cannot take is ``bad_parameter``."""
    out = {}
    for key, value in options.items():
        if key in SETTINGS_BY_NAME:
            try:
                out[key] = SETTINGS_BY_NAME[key].parse(value)
            except ValueError as exc:
                raise GramophoneError(f"{key}: {exc}", "bad_parameter") from None
    return out


def markdown() -> str:
    """The address table as Markdown, for docs/osc.md (a test keeps it in step)."""
    def args(a: Sequence[Arg]) -> str:
        return " ".join(f"[{x.name}:{x.type}]" if x.optional else f"{x.name}:{x.type}" for x in a)

    lines = ["| address | arguments | replies | what it does |", "|---|---|---|---|"]
    for a in ADDRESSES:
        opts = (" [key value …]: " + ", ".join(f"`{k}` {t}".replace("|", "\\|") for k, (t, _) in a.options.items())
                if a.options else "")
        lines.append(f"| `{a.path}` | {args(a.args)}{opts} | {', '.join(a.replies)} | {a.doc} |")
    lines += ["", "| reply | arguments | meaning |", "|---|---|---|"]
    for r in REPLIES:
        lines.append(f"| `{r.path}` | {args(r.args)} | {r.doc} |")
    return "\n".join(lines)


if __name__ == "__main__":
    print(markdown())
