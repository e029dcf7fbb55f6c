"""Where presets live: the shipped library (read-only) and the user's own folder.

* Shipped presets: the package data :mod:`gramophone.presets`, found with :mod:`importlib.resources`
  so an installed wheel finds them (override with ``GRAMOPHONE_SHIPPED_PRESETS``).
* User presets: ``GRAMOPHONE_PRESETS`` if set, else the platform's per-user data folder:
  ``$XDG_DATA_HOME/gramophone/presets`` (``~/.local/share/...``) on Linux,
  ``~/Library/Application Support/Gramophone/Presets`` on macOS,
  ``%APPDATA%\\Gramophone\\Presets`` on Windows. The command line's ``--preset-dir`` wins over both.

A user preset with the same name as a shipped one wins; both are listed.
"""
from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from .preset_format import EXTENSION, Preset, PresetError, check_name, load, read_metadata, save

SHIPPED = "shipped"
USER = "user"


def default_user_dir() -> Path:
    env = os.environ.get("GRAMOPHONE_PRESETS")
    if env:
        return Path(env).expanduser()
    home = Path.home()
    if sys.platform == "darwin":
        return home / "Library" / "Application Support" / "Gramophone" / "Presets"
    if os.name == "nt":
        return Path(os.environ.get("APPDATA", home / "AppData" / "Roaming")) / "Gramophone" / "Presets"
    return Path(os.environ.get("XDG_DATA_HOME") or home / ".local" / "share") / "gramophone" / "presets"


def default_shipped_dir() -> Path:
    env = os.environ.get("GRAMOPHONE_SHIPPED_PRESETS")
    if env:
        return Path(env)
    from importlib.resources import files

    return Path(str(files("gramophone.presets")))


@dataclass(frozen=True)
class PresetEntry:
    name: str
    origin: str  # "user" or "shipped"
    path: Path
    model: str
    description: str
    #: True for a shipped preset hidden by a user preset of the same name.
    shadowed: bool = False


class PresetStore:
    """Finds, lists, saves and deletes presets; caches loaded ones (by path and mtime)."""

    def __init__(self, user_dir: Optional[Path] = None, shipped_dir: Optional[Path] = None) -> None:
        self.user_dir = Path(user_dir) if user_dir else default_user_dir()
        self.shipped_dir = Path(shipped_dir) if shipped_dir else default_shipped_dir()
        self._cache: dict[Path, tuple[float, Preset]] = {}

    def _path(self, origin: str, name: str) -> Path:
        return (self.user_dir if origin == USER else self.shipped_dir) / f"{name}{EXTENSION}"

    def entries(self) -> list[PresetEntry]:
        """Every preset, sorted by name; unreadable files are listed with the reason as description."""
        found = []
        for origin, folder in ((USER, self.user_dir), (SHIPPED, self.shipped_dir)):
            if not folder.is_dir():
                continue
            for path in sorted(folder.glob(f"*{EXTENSION}")):
                try:
                    meta = read_metadata(path)
                    model, description = meta["model"], meta["description"]
                except PresetError as exc:
                    model, description = "?", f"unreadable: {exc}"
                found.append((path.stem, origin, path, model, description))
        user_names = {name for name, origin, *_ in found if origin == USER}
        return sorted((PresetEntry(n, o, p, m, d, shadowed=(o == SHIPPED and n in user_names))
                       for n, o, p, m, d in found), key=lambda e: (e.name.lower(), e.origin != USER))

    def find(self, name: str) -> PresetEntry:
        check_name(name)
        for entry in self.entries():
            if entry.name == name and not entry.shadowed:
                return entry
        known = sorted({e.name for e in self.entries()})
        raise PresetError(f"no preset named '{name}'" + (f"; known: {', '.join(known)}" if known else ""),
                          "no_preset")

    def load(self, name: str) -> Preset:
        path = self.find(name).path
        mtime = path.stat().st_mtime
        cached = self._cache.get(path)
        if cached and cached[0] == mtime:
            return cached[1]
        preset = load(path)
        self._cache[path] = (mtime, preset)
        return preset

    def save(self, preset: Preset, force: bool = False) -> Path:
        """Save as a user preset; an existing user preset of that name needs ``force``."""
        check_name(preset.name)
        path = self._path(USER, preset.name)
        if path.exists() and not force:
            raise PresetError(f"a user preset named '{preset.name}' already exists (use --force to replace it)",
                              "exists")
        self.user_dir.mkdir(parents=True, exist_ok=True)
        return save(preset, path)

    def delete(self, name: str) -> Path:
        """Delete a user preset (shipped presets are read-only)."""
        check_name(name)
        path = self._path(USER, name)
        if not path.exists():
            if self._path(SHIPPED, name).exists():
                raise PresetError(f"'{name}' is a shipped preset and cannot be deleted", "read_only")
            raise PresetError(f"no user preset named '{name}'", "no_preset")
        path.unlink()
        self._cache.pop(path, None)
        return path
