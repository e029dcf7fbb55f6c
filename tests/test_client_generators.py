"""The generators of the Max and Pd clients (max_patches/build_max.py, build_pd.py): they write only
where --out says, the README's commands regenerate exactly the committed files, and the shared
writer of Max patches (maxpatch.py) numbers boxes and cords as described and refuses bad ones.
That the committed files are current is checked in test_max_clients.py and test_puredata_client.py."""
from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from gramophone.clients import build_max, build_pd, maxpatch
from gramophone.clients.maxpatch import Patch, chain

ROOT = Path(__file__).resolve().parents[1]
PATCHES = ROOT / "max_patches"
README = PATCHES / "README.md"


def readme_commands() -> list[str]:
    """The generator commands of the README's code block, as written there."""
    text = README.read_text()
    block = next(b for b in re.findall(r"```sh\n(.*?)```", text, re.S) if "build_max --out" in b)
    return [line for line in block.splitlines() if line.strip()]


@pytest.mark.slow
def test_the_readme_commands_write_the_committed_files_and_nothing_else(tmp_path):
    commands = readme_commands()
    assert [shlex.split(c)[2] for c in commands] == ["gramophone.clients.build_max", "gramophone.clients.build_pd"]
    for command in commands:
        words = shlex.split(command)
        assert words[0] == ".venv/bin/python"
        subprocess.run([sys.executable, *words[1:]], cwd=tmp_path, check=True, capture_output=True, timeout=120)
    out = tmp_path / "max_patches"
    written = sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file())
    assert written == sorted([*build_max.files(), *build_pd.files()])
    for rel in written:
        assert (out / rel).read_bytes() == (PATCHES / rel).read_bytes(), rel
    assert [p.name for p in tmp_path.iterdir()] == ["max_patches"], "wrote outside --out"


@pytest.mark.parametrize("module", [build_max, build_pd], ids=["build_max", "build_pd"])
def test_a_generator_needs_out_and_prints_what_it_wrote(module, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as exit_:
        module.main([])
    assert exit_.value.code == 2 and "--out" in capsys.readouterr().err
    assert not list(tmp_path.iterdir()), "wrote without --out"
    assert module.main(["--out", str(tmp_path / "x")]) == 0
    printed = capsys.readouterr().out.split()
    assert printed == [str(tmp_path / "x" / rel) for rel in module.files()]


def test_maxpatch_numbers_boxes_and_cords_in_order():
    patch = Patch([("a", "message", "hello", 10, 20),
                   ("note", "comment", "two lines", 0, 0, 100, {"linecount": 2}),
                   ("b", "newobj", "t b b", 10, 60, 50, 30)],
                  [("a", 0, "b", 0), *chain("b", "a")])
    built = maxpatch.patcher(patch, [0.0, 0.0, 100.0, 100.0], description="x")
    assert list(built)[-3:] == ["description", "boxes", "lines"]
    a, note, b = (box["box"] for box in built["boxes"])
    assert (a["id"], note["id"], b["id"]) == ("obj-1", "obj-2", "obj-3")
    assert a["patching_rect"] == [10.0, 20.0, float(7 * len("hello") + 14), 22.0]
    assert note["patching_rect"] == [0.0, 0.0, 100.0, 40.0] and note["linecount"] == 2
    assert b["patching_rect"] == [10.0, 60.0, 50.0, 30.0] and (b["numinlets"], b["numoutlets"]) == (1, 2)
    assert [line["patchline"] for line in built["lines"]] == [
        {"destination": ["obj-3", 0], "source": ["obj-1", 0]},
        {"destination": ["obj-1", 0], "source": ["obj-3", 0]}]


def test_maxpatch_counts_ports_of_subpatchers_and_abstractions():
    inner = maxpatch.patcher(Patch([("i1", "inlet", None, 0, 0, 30, 30), ("i2", "inlet", None, 40, 0, 30, 30),
                                    ("o1", "outlet", None, 0, 90, 30, 30)]), [0.0, 0.0, 10.0, 10.0])
    outer = maxpatch.patcher(Patch([("sub", "newobj", "p inner", 0, 0, {"patcher": inner}),
                                    ("abs", "newobj", "inner 1 2", 0, 40)]), [0.0, 0.0, 10.0, 10.0],
                             abstractions={"inner": inner})
    for box in outer["boxes"]:
        assert (box["box"]["numinlets"], box["box"]["numoutlets"], box["box"]["outlettype"]) == (2, 1, [""])
    with pytest.raises(KeyError):  # an abstraction nobody described has no known ports
        maxpatch.patcher(Patch([("abs", "newobj", "inner", 0, 40)]), [0.0, 0.0, 10.0, 10.0])


def test_maxpatch_refuses_duplicate_names_unknown_cords_and_bad_rects():
    rect = [0.0, 0.0, 10.0, 10.0]
    with pytest.raises(ValueError, match="two boxes are named 'a'"):
        maxpatch.patcher(Patch([("a", "message", "x", 0, 0), ("a", "message", "y", 0, 0)]), rect)
    with pytest.raises(KeyError, match="nope"):
        maxpatch.patcher(Patch([("a", "message", "x", 0, 0)], [("a", 0, "nope", 0)]), rect)
    with pytest.raises(ValueError, match="give x, y"):
        maxpatch.patcher(Patch([("a", "message", "x", 0)]), rect)
