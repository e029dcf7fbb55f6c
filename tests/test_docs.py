"""The README (the user guide) and docs/ (how it works, architecture, the reference tables): every
relative link resolves, every page in docs/ is linked from the README, and the README's first
screen still gives the two set-up commands. The generated tables are checked where they live by
test_settings.py (docs/settings.md), test_server.py (docs/osc.md) and test_errors.py (docs/errors.md)."""
from __future__ import annotations

import re
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
