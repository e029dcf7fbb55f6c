"""The one table of render settings (engine/settings.py): RenderSettings agrees with it, every front
end (command line, batch, OSC, manifest, sidecar) offers exactly the settings the table says, a
value set there reaches the render, and the same mistake is the same error code everywhere."""
from __future__ import annotations

import argparse
import dataclasses
import typing
from pathlib import Path
from typing import Any

import pytest

from gramophone.bridge import addresses as A
from gramophone.bridge import batch, manifest
from gramophone.bridge.batch import StyleChoice
from gramophone.bridge.cli import _parser, main
from gramophone.bridge.setting_options import settings_from
from gramophone.engine import RenderSettings, sidecar
from gramophone.engine.errors import GramophoneError
from gramophone.engine.preset_store import PresetStore, default_shipped_dir
from gramophone.engine.settings import BY_NAME, ENGINE_ONLY, FRONT_ENDS, SETTINGS, exposed_in, markdown

ROOT = Path(__file__).resolve().parents[1]
FIELDS = {f.name for f in dataclasses.fields(RenderSettings)}
RENDER = ["render", "c.wav", "--style", "s.wav", "-o", "o.wav"]


def other_value(name: str) -> Any:
    """A value of the setting that is not its default (what each front end must carry through)."""
    s = BY_NAME[name]
    if s.choices:
        return next(c for c in reversed(s.choices) if c != s.default)
    if s.type is bool:
        return not s.default
    return {"iterations": 7, "seed": 5, "loudness": -14.0, "device": "cpu", "variations": 3}.get(name, 0.25)


def bad_value(name: str) -> Any:
    """A value of the right type that the setting does not take, or None if every value is one."""
    s = BY_NAME[name]
    if s.choices:
        return "nope"
    if s.bounds:
        return s.bounds[1] + 1
    return {"loudness": "loud", "device": "tpu"}.get(name)


def text(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


# ---- the table and RenderSettings ----------------------------------------------------------

def test_every_render_settings_field_is_a_setting_or_the_engines_own():
    assert not FIELDS - set(BY_NAME) - set(ENGINE_ONLY), "add it to engine/settings.py SETTINGS (or ENGINE_ONLY)"
    assert not (set(BY_NAME) | set(ENGINE_ONLY)) - FIELDS, "a table entry without a RenderSettings field"
    assert not set(BY_NAME) & set(ENGINE_ONLY) and all(ENGINE_ONLY.values())


def test_defaults_and_types_are_the_tables():
    hints = typing.get_type_hints(RenderSettings)
    defaults = RenderSettings()
    for s in SETTINGS:
        assert getattr(defaults, s.name) == s.default, s.name
        assert s.type in (typing.get_args(hints[s.name]) or (hints[s.name],)), s.name
        s.check(s.default)
        assert s.help and s.help == s.help.strip() and "\n" not in s.help


def test_every_setting_left_out_of_a_front_end_says_why():
    for s in SETTINGS:
        for front_end, why in s.hidden:
            assert front_end in FRONT_ENDS and front_end != "sidecar" and why, (s.name, front_end)


# ---- each front end offers exactly what the table says -------------------------------------

def _dests(parser: argparse.ArgumentParser) -> set[str]:
    return {a.dest for a in parser._actions}


def surfaces() -> dict[str, set[str]]:
    """Which settings (RenderSettings fields) each front end actually offers."""
    commands = _parser()._subparsers._group_actions[0].choices  # type: ignore[union-attr]
    record = sidecar._plain(dataclasses.asdict(RenderSettings()))
    return {"cli": _dests(commands["render"]) & FIELDS, "demo": _dests(commands["demo"]) & FIELDS,
            "batch": _dests(commands["batch"]) & FIELDS, "osc": set(A.BY_PATH["/gramophone/render"].options) & FIELDS,
            "manifest": set(manifest.FIELDS) & FIELDS,
            "sidecar": set(record) & set(BY_NAME)}  # (it records the engine's own fields too)


def test_each_front_end_offers_every_setting_the_table_exposes_there_and_no_other():
    got = surfaces()
    for front_end in FRONT_ENDS:
        want = {s.name for s in exposed_in(front_end)}
        assert got[front_end] == want, (f"{front_end}: missing {want - got[front_end]}, not in the table's "
                                        f"{front_end} column: {got[front_end] - want}")
    assert got["demo"] == got["cli"]


@pytest.mark.parametrize("name", [s.name for s in exposed_in("cli")])
def test_a_value_reaches_the_settings_from_the_command_line(name):
    s, value = BY_NAME[name], other_value(name)
    given = [s.flag] if s.type is bool else [s.flag, text(value)]
    assert getattr(settings_from(_parser().parse_args(RENDER + given), "cli"), name) == value
    args = _parser().parse_args(["batch", "in", "-o", "out"] + given)
    got = getattr(args, name) if s.crossed else getattr(settings_from(args, "batch"), name)
    assert got == ([value] if s.crossed else value)


@pytest.mark.parametrize("name", [s.name for s in exposed_in("osc")])
def test_a_value_reaches_the_settings_over_osc(name):
    value = other_value(name)
    sent = int(value) if isinstance(value, bool) else value
    options = A.parse("/gramophone/render", ["j", "/c.wav", "rain", "/o.wav", name, sent])["options"]
    assert getattr(RenderSettings(**A.render_settings(options)).validated(), name) == value


@pytest.mark.parametrize("name", [s.name for s in exposed_in("manifest")])
def test_a_value_reaches_the_row_from_a_manifest(tmp_path, name):
    value = other_value(name)
    (tmp_path / "jobs.csv").write_text(f"content,{name}\nc.wav,{text(int(value) if isinstance(value, bool) else value)}\n")
    (tmp_path / "jobs.json").write_text(f'[{{"content": "c.wav", "{name}": {_json(value)}}}]')
    for path in ("jobs.csv", "jobs.json"):
        assert manifest.read_manifest(tmp_path / path)[0].fixed[name] == value, path


def _json(value: Any) -> str:
    import json

    return json.dumps(value)


@pytest.mark.parametrize("name", [s.name for s in exposed_in("sidecar")])
def test_a_value_is_restored_from_a_sidecar(name):
    settings = RenderSettings(**{name: other_value(name)})
    data = {"settings": sidecar._plain(dataclasses.asdict(settings))}
    assert getattr(sidecar.settings_from(data), name) == other_value(name)


def test_a_sidecar_from_before_loudness_was_a_setting_keeps_its_loudness():
    data = {"settings": {"strength": 1}, "loudness": "-16"}
    restored = sidecar.settings_from(data)
    assert restored.loudness == -16.0 and isinstance(restored.strength, float)
    assert sidecar.settings_from({"settings": {}}).loudness == "match"
    with pytest.raises(GramophoneError) as err:
        sidecar.settings_from({"settings": {"iterations": "many"}})
    assert err.value.code == "bad_sidecar"


# ---- the same mistake, the same code -------------------------------------------------------

BAD = [s.name for s in SETTINGS if bad_value(s.name) is not None]


def cli_code(argv: list[str], capsys) -> str:
    assert main(argv) == 2
    return capsys.readouterr().err.rsplit("[", 1)[1].split(":")[0]


@pytest.mark.parametrize("name", BAD)
def test_a_value_a_setting_does_not_take_is_bad_parameter_everywhere(tmp_path, capsys, name):
    s, value = BY_NAME[name], bad_value(name)
    out = str(tmp_path / "o.wav")
    if s.exposed_in("cli"):
        argv = ["render", str(tmp_path / "c.wav"), "--style", str(tmp_path / "s.wav"), "-o", out, s.flag, text(value)]
        assert cli_code(argv, capsys) == "bad_parameter"
    if s.exposed_in("osc"):
        options = A.parse("/gramophone/render", ["j", "/c.wav", "rain", "/o.wav", name, value])["options"]
        with pytest.raises(GramophoneError) as err:
            RenderSettings(**A.render_settings(options)).validated()
        assert err.value.code == "bad_parameter"
    if s.exposed_in("manifest"):
        (tmp_path / "jobs.csv").write_text(f"content,preset,{name}\nc.wav,rain,{text(value)}\n")
        planned = batch.plan([str(tmp_path / "jobs.csv")], tmp_path / "out", [], [1.0], RenderSettings(),
                             PresetStore(tmp_path / "user", default_shipped_dir()))
        assert planned.items[0].code == "bad_parameter"


def test_an_unknown_model_is_bad_model_everywhere(tmp_path, capsys):
    out = str(tmp_path / "o.wav")
    assert cli_code(["render", str(tmp_path / "c.wav"), "--style", "s.wav", "-o", out, "--model", "nope"],
                    capsys) == "bad_model"
    assert cli_code(["render", str(tmp_path / "c.wav"), "--preset", "rain", "-o", out, "--model", "nope"],
                    capsys) == "bad_model"
    assert cli_code(["preset", "create", "x", "s.wav", "--model", "nope"], capsys) == "bad_model"
    store = PresetStore(tmp_path / "user", default_shipped_dir())
    (tmp_path / "jobs.csv").write_text("content,style,model\nc.wav,s.wav,nope\nc.wav,,\n")
    planned = batch.plan([str(tmp_path / "jobs.csv")], tmp_path / "out", [StyleChoice(preset="rain")], [1.0],
                         RenderSettings(), store, model="nope")
    assert [i.code for i in planned.items] == ["bad_model", "bad_model"]
    # over OSC, preset/create's model option: tests/test_server.py


# ---- the docs ------------------------------------------------------------------------------

def test_docs_show_the_settings_table(capsys):
    assert main(["settings"]) == 0
    assert capsys.readouterr().out.strip() == markdown()
    assert markdown() in (ROOT / "docs" / "settings.md").read_text(), \
        "regenerate the settings table in docs/settings.md: gramophone settings"
