"""The package's import structure, read from the source with ``ast`` (nothing is imported):
no import cycle between its modules, and no module using another module's private names.

Every import counts, at the top of a module or inside a function (a cycle made of lazy imports is
still two modules that each need the other); only ``if TYPE_CHECKING:`` blocks are left out, as
they never run. A module's own package ``__init__`` is imported implicitly and is not an edge;
``from . import name`` is an edge to the submodule ``name`` where there is one, else to the package.
"""
from __future__ import annotations

import ast
import tomllib
from pathlib import Path
from typing import Iterator, Optional

ROOT = Path(__file__).resolve().parents[1]


def package_dirs() -> dict[str, Path]:
    """Each package's folder, from pyproject.toml's ``package-dir`` (the source tree maps its folders)."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    mapped = {name: ROOT / folder for name, folder in config["package-dir"].items()}
    dirs = {}
    for package in config["packages"]:
        parent = max((p for p in mapped if package == p or package.startswith(p + ".")), key=len)
        dirs[package] = mapped[parent].joinpath(*package[len(parent):].split(".")[1:])
    return dirs


def modules(dirs: Optional[dict[str, Path]] = None) -> dict[str, Path]:
    """``{dotted module name: source file}`` for every module in the packages (default: this project's)."""
    found = {}
    for package, folder in (dirs or package_dirs()).items():
        for path in folder.glob("*.py"):
            found[package if path.stem == "__init__" else f"{package}.{path.stem}"] = path
    return found


def _runtime_nodes(tree: ast.AST) -> Iterator[ast.AST]:
    """Every node except those under ``if TYPE_CHECKING:``."""
    stack = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            stack.extend(node.orelse)
            continue
        yield node
        stack.extend(ast.iter_child_nodes(node))


def _base(name: str, path: Path, node: ast.ImportFrom) -> Optional[str]:
    """The absolute module a ``from ... import`` names (None: outside the package)."""
    if node.level == 0:
        return node.module if node.module and node.module.split(".")[0] == "gramophone" else None
    package = name if path.stem == "__init__" else name.rpartition(".")[0]
    for _ in range(node.level - 1):
        package = package.rpartition(".")[0]
    return f"{package}.{node.module}" if node.module else package


def imports(name: str, path: Path, known: dict[str, Path]) -> Iterator[tuple[str, list[str], ast.AST]]:
    """``(imported module, names taken from it, node)`` for each runtime import of a package module."""
    for node in _runtime_nodes(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name in known:
                    yield alias.name, [], node
        elif isinstance(node, ast.ImportFrom):
            base = _base(name, path, node)
            if base is None or base not in known:
                continue
            taken = []
            for alias in node.names:
                if f"{base}.{alias.name}" in known:
                    yield f"{base}.{alias.name}", [], node
                else:
                    taken.append(alias.name)
            if taken:
                yield base, taken, node


def graph(known: dict[str, Path]) -> dict[str, set[str]]:
    """Module -> the package modules it imports (its own ancestors' ``__init__`` left out)."""
    edges: dict[str, set[str]] = {m: set() for m in known}
    for name, path in known.items():
        for target, _, _ in imports(name, path, known):
            if target != name and not name.startswith(target + "."):
                edges[name].add(target)
    return edges


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(edges[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return found


def private_uses(known: dict[str, Path]) -> list[str]:
    """``file:line name`` for each private name (``_x``, not ``__x__``) one module takes from another:
    ``from .x import _y``, or ``x._y`` on a module it imported."""
    private = lambda n: n.startswith("_") and not (n.startswith("__") and n.endswith("__"))  # noqa: E731
    found = []
    for name, path in known.items():
        rel = path.name if path.parent.name == "gramophone" else path.relative_to(ROOT)
        module_names = set()
        for target, taken, node in imports(name, path, known):
            found += [f"{rel}:{node.lineno} {n} from {target}" for n in taken if private(n)]
            if isinstance(node, ast.Import):
                module_names |= {a.asname or a.name for a in node.names if a.name == target}
            else:
                module_names |= {a.asname or a.name for a in node.names
                                 if f"{_base(name, path, node)}.{a.name}" == target}
        for node in _runtime_nodes(ast.parse(path.read_text())):
            if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
                    and node.value.id in module_names and private(node.attr)):
                found.append(f"{rel}:{node.lineno} {node.value.id}.{node.attr}")
    return found


def test_the_package_is_found():
    found = modules()
    assert {"gramophone.engine.render", "gramophone.bridge.cli", "gramophone.engine.models.base"} <= set(found)
    assert graph(found)["gramophone.engine.pipeline"] >= {"gramophone.engine.render", "gramophone.engine.sidecar"}


def test_no_import_cycle():
    assert cycles(graph(modules())) == []


def test_no_private_name_crosses_a_module():
    assert private_uses(modules()) == []


def test_the_checks_find_a_cycle_and_private_names(tmp_path):
    """On a made-up package: a cycle through a lazy import and two private uses are found; a
    ``TYPE_CHECKING`` import, an import of the package itself and a module's own ``_x`` are not."""
    pkg = tmp_path / "gramophone"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("from .c import public\n")
    (pkg / "a.py").write_text("from .b import _hidden, shown\nfrom . import b\nb._other()\n")
    (pkg / "b.py").write_text("def f():\n    from .a import x\n\ndef _other():\n    _other()\n")
    (pkg / "c.py").write_text("from typing import TYPE_CHECKING\nfrom . import __version__\n"
                              "if TYPE_CHECKING:\n    from .a import y\npublic = 1\n")
    known = modules({"gramophone": pkg})
    edges = graph(known)
    assert edges["gramophone.c"] == set() and edges["gramophone.a"] == {"gramophone.b"}  # its own package: implicit
    assert cycles(edges) == [["gramophone.a", "gramophone.b"]]
    assert private_uses(known) == ["a.py:1 _hidden from gramophone.b", "a.py:3 b._other"]
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
