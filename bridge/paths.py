"""Which files the server may read and write.

The server reads and writes only under allowed folders (symlinks resolved, so a link that
points outside is refused), writes only files with an audio extension, and never writes over
the content file. The default folders are where hosts usually keep temporary buffers and
renders: the system temporary folder (``$TMPDIR``, ``/tmp``, macOS's ``/var/folders/…``),
``~/Music`` and ``~/Documents`` (Max and Ableton projects live there); add more with
``gramophone serve --allow-dir DIR``.
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Iterable

from ..engine.audio_io import check_output_path
from ..engine.errors import GramophoneError


def default_allowed_dirs() -> list[Path]:
    home = Path.home()
    dirs = [Path(tempfile.gettempdir()), Path("/tmp"), home / "Music", home / "Documents"]
    return [d for d in dirs if d.is_dir()]


class PathPolicy:
    def __init__(self, allowed: Iterable[str | os.PathLike]) -> None:
        self.allowed = list(dict.fromkeys(Path(os.path.realpath(d)) for d in allowed))

    def _inside(self, real: Path) -> bool:
        return any(real == d or d in real.parents for d in self.allowed)

    def _absolute(self, path: str, what: str) -> Path:
        if not path or "\x00" in path:
            raise GramophoneError(f"{what} path is empty or invalid", "bad_path")
        p = Path(path).expanduser()
        if not p.is_absolute():
            raise GramophoneError(f"{what} path must be absolute (the server does not know your host's "
                                  f"current folder): {path}", "bad_path")
        return p

    def readable(self, path: str, what: str = "content") -> Path:
        p = self._absolute(path, what)
        real = Path(os.path.realpath(p))
        if not self._inside(real):
            raise GramophoneError(f"{what} path is outside the allowed folders ({self.describe()}): {path}",
                                  "forbidden_path")
        return real

    def writable(self, path: str, content: Path | None = None) -> Path:
        """The output path, resolved, once it is absolute, inside the allowed folders, not a symbolic
        link, and passes the engine's output rules (:func:`~gramophone.engine.audio_io.check_output_path`)."""
        p = self._absolute(path, "output")
        if p.is_symlink():
            raise GramophoneError(f"output path is a symbolic link; refusing to write through it: {path}",
                                  "forbidden_path")
        real = Path(os.path.realpath(p))
        if not self._inside(real):
            raise GramophoneError(f"output path is outside the allowed folders ({self.describe()}): {path}",
                                  "forbidden_path")
        return check_output_path(real, content)

    def describe(self) -> str:
        return ", ".join(str(d) for d in self.allowed)
