"""The package type-checks clean (issue #25): mypy over ``gramophone`` laid out as it installs.

``pyproject.toml`` maps the source folders under one import name (``engine/`` is
``gramophone.engine``, ...), which mypy cannot read from the source tree itself; the test lays
the package out with symbolic links to the source, as the mapping says, and checks that.
"""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def package_layout(into: Path) -> Path:
    """``into/gramophone``: the source folders linked where ``[tool.setuptools.package-dir]`` puts them."""
    tomllib = pytest.importorskip("tomllib", reason="reading pyproject.toml needs Python 3.11")
    mapping = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-dir"]
    top = into / "gramophone"
    top.mkdir(parents=True)
    for entry in (ROOT / mapping["gramophone"]).iterdir():
        if entry.suffix in (".py", ".typed"):
            (top / entry.name).symlink_to(entry)
    for package, folder in mapping.items():
        if package != "gramophone":
            (into / package.replace(".", "/")).symlink_to(ROOT / folder, target_is_directory=True)
    return top


@pytest.mark.slow
def test_mypy_finds_no_errors_in_the_package(tmp_path):
    pytest.importorskip("mypy", reason="mypy is a test tool: pip install -e '.[test]'")
    package_layout(tmp_path / "site")
    result = subprocess.run([sys.executable, "-m", "mypy", "-p", "gramophone", "--ignore-missing-imports",
                             "--cache-dir", str(tmp_path / "cache")], cwd=tmp_path / "site",
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
