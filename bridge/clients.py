"""Where the installed host clients are (package data :mod:`gramophone.clients`), and copying them
to a folder the host can see (``gramophone clients [DEST]``)."""
from __future__ import annotations

import shutil
from fnmatch import fnmatch
from importlib.resources import files
from pathlib import Path

#: Files in the clients package that are not host-client files: the package marker and the
#: scripts that generate the Max and Pd patches.
NOT_CLIENT_FILES = ("*.py", "__pycache__", "*.pyc")  # the package marker and the generators


def installed_folder() -> Path:
    """The folder the client files are installed in (inside the package; read-only in spirit)."""
    return Path(str(files("gramophone.clients")))


def client_files(folder: Path | None = None) -> list[Path]:
    """Every host-client file (relative paths), subfolders included."""
    root = folder or installed_folder()
    relative = (p.relative_to(root) for p in sorted(root.rglob("*")) if p.is_file())
    return [rel for rel in relative
            if not any(fnmatch(part, pattern) for part in rel.parts for pattern in NOT_CLIENT_FILES)]


def copy_to(dest: str | Path) -> list[Path]:
    """Copy every client file into ``dest`` (created if needed; same-named files are replaced)."""
    root, target = installed_folder(), Path(dest).expanduser()
    copied = []
    for rel in client_files(root):
        (target / rel).parent.mkdir(parents=True, exist_ok=True)
        copied.append(Path(shutil.copy2(root / rel, target / rel)))
    return copied
