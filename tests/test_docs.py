"""The README (the user guide) and docs/ (how it works, architecture, the reference tables): every
relative link resolves, every page in docs/ is linked from the README, and the README's first
screen still gives the two set-up commands and the tests' fast layer, which leaves out the
`external` and `slow` tests while CI runs everything. The generated tables are checked where they live by
test_settings.py (docs/settings.md), test_server.py (docs/osc.md) and test_errors.py (docs/errors.md)."""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
FENCE = re.compile(r"^```.*?^```", re.M | re.S)


def relative_links(page: Path) -> list[str]:
    text = FENCE.sub("", page.read_text())
    return [t for t in LINK.findall(text) if not re.match(r"[a-z][a-z0-9+.-]*:", t) and not t.startswith("#")]


def test_docs_exist():
    names = {p.name for p in PAGES}
    assert {"how-it-works.md", "architecture.md", "osc.md", "errors.md", "settings.md"} <= names


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_relative_link_resolves(page):
    broken = [t for t in relative_links(page) if not (page.parent / t.split("#", 1)[0]).exists()]
    assert not broken, f"{page.relative_to(ROOT)}: links to missing files: {broken}"


def test_the_readme_links_every_page_in_docs():
    readme = ROOT / "README.md"
    linked = {(readme.parent / t.split("#", 1)[0]).resolve() for t in relative_links(readme)}
    assert not [p.name for p in PAGES[1:] if p.resolve() not in linked]


def test_the_first_screen_gives_the_two_set_up_commands():
    first_screen = "\n".join((ROOT / "README.md").read_text().splitlines()[:24])
    assert "scripts/demo.sh" in first_screen and "scripts/test.sh" in first_screen


def test_the_link_check_sees_a_broken_link(tmp_path):
    page = tmp_path / "page.md"
    page.write_text("[ok](page.md) [web](https://example.org) [here](#top) [gone](nope.md#x)\n"
                    "```\n[not a link](in-code.md)\n```\n")
    assert relative_links(page) == ["page.md", "nope.md#x"]


def test_the_architecture_lists_every_module():
    """docs/architecture.md's layout names every module of engine/ and bridge/ (a module split or
    added shows up there)."""
    text = (ROOT / "docs" / "architecture.md").read_text()
    modules = [p for folder in ("engine", "bridge") for p in sorted((ROOT / folder).glob("*.py")) if p.stem != "__init__"]
    assert len(modules) > 20
    assert not [str(p.relative_to(ROOT)) for p in modules if not re.search(rf"\b{re.escape(p.name)}\b", text)]


FAST_LAYER = re.compile(r'^\.venv/bin/python -m pytest -m "([^"]+)"$', re.M)


@pytest.mark.slow
def test_the_readmes_fast_layer_leaves_out_external_and_slow_tests():
    """The README's fast-layer command as written (collection only, on two files): it keeps the
    auditory model's quick tests and leaves out its converging renders and the wheel's tests."""
    (expression,) = FAST_LAYER.findall((ROOT / "README.md").read_text())
    files = ["tests/test_auditory_model.py", "tests/test_installed_wheel.py"]
    proc = subprocess.run([sys.executable, "-m", "pytest", "-m", expression, "--collect-only", "-q",
                           "-p", "no:cacheprovider", *files], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    selected = [line for line in proc.stdout.splitlines() if "::" in line]
    assert "tests/test_auditory_model.py::test_half_cosine_bank_squares_sum_to_one" in selected
    assert not [t for t in selected if "installed_wheel" in t or "converged_to" in t], selected


def test_ci_runs_every_layer():
    """``.ci/run`` runs scripts/test.sh, whose pytest (and pytest's own options) select no marker."""
    assert "scripts/test.sh" in (ROOT / ".ci" / "run").read_text()
    pytest_lines = [line.split(" pytest", 1)[1] for line in (ROOT / "scripts" / "test.sh").read_text().splitlines()
                    if " pytest" in line]  # its options, after `python -m pytest`
    addopts = re.search(r"^addopts = (.*)$", (ROOT / "pyproject.toml").read_text(), re.M)
    assert pytest_lines and addopts
    assert not [line for line in [*pytest_lines, addopts.group(1)] if re.search(r"(^|\s)-m\b", line)]
