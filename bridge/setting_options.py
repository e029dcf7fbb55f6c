"""The settings table (:mod:`engine.settings`) as command-line options, and the options back as
:class:`RenderSettings`.

Every option defaults to None here, so that ``render --like`` can tell the options given on the
command line from the ones the sidecar holds; the table's defaults fill the rest. Values of the
wrong type are argparse's usage errors; values of the right type out of range or not among the
choices are ``bad_parameter``, as over OSC and in manifests (:meth:`RenderSettings.validated`).
"""
from __future__ import annotations

import argparse
import dataclasses
from typing import Any, Callable

from ..engine import RenderSettings
from ..engine.settings import Setting, exposed_in


def add_options(parser: argparse.ArgumentParser, front_end: str, extra_help: dict[str, str] | None = None) -> None:
    """Add an option for every setting ``front_end`` (``cli`` or ``batch``) exposes.

    ``extra_help``: text to append to a setting's help (e.g. each model's default iterations)."""
    for s in exposed_in(front_end):
        text = s.help + (f"; {extra_help[s.name]}" if extra_help and s.name in extra_help else "")
        crossed = front_end == "batch" and s.crossed
        default = f"default {s.default_doc()}" + ("; repeatable, every value is rendered" if crossed else "")
        help_text = f"{text} ({default})".replace("%", "%%")
        if s.type is bool:
            parser.add_argument(s.flag, action="store_true", default=None, help=help_text)
            continue
        metavar = s.metavar or ("{" + ",".join(s.choices) + "}" if s.choices else s.name.upper())
        repeatable: dict[str, Any] = {"action": "append", "default": []} if crossed else {}
        parser.add_argument(s.flag, type=_parser_of(s), metavar=metavar, help=help_text, **repeatable)


def _parser_of(s: Setting) -> Callable[[str], Any]:
    """``s.parse`` named after its type, so argparse says "invalid int value: 'x'"."""
    def parse(text: str) -> Any:
        return s.parse(text)

    parse.__name__ = s.type.__name__
    return parse


def settings_from(args: argparse.Namespace, front_end: str, base: RenderSettings = RenderSettings()) -> RenderSettings:
    """``base`` with every option of ``front_end`` given on the command line, validated (once, here
    where they enter). A batch's crossed settings (strength) are the batch's to expand, not here."""
    given = {s.name: getattr(args, s.name) for s in exposed_in(front_end)
             if getattr(args, s.name, None) is not None and not (front_end == "batch" and s.crossed)}
    return dataclasses.replace(base, **given).validated()
