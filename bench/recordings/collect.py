"""Collect the benchmark's real recordings from the packages that ship them.

The clips (``manifest.json`` beside this file) are files shipped in Debian
packages; this script copies each one, unchanged, to ``bench/out/recordings/<id>.<ext>``
(git-ignored, with a copy of the manifest) and checks its sha256 against the
manifest, so every benchmark run reads exactly the recordings the manifest describes.

A file is taken from the installed package (its path under ``/usr/share``) when
present with the right hash.  With ``--install`` a missing package (or one installed
at a version whose file differs) is fetched with ``apt-get download`` and only the
clips' files are unpacked from it into ``<dest>/.debs``, instead of installing it:
that pulls in no dependencies (several of these packages are games or GUI apps),
leaves the system untouched and keeps the cache small (about 30 MB).

    python -m bench.recordings.collect [--install] [--dest DIR]
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from gramophone.engine.errors import GramophoneError
from gramophone.engine.files import atomic_write, file_sha256

MANIFEST = Path(__file__).with_name("manifest.json")
DEFAULT_DEST = Path(__file__).resolve().parents[1] / "out" / "recordings"


@dataclass(frozen=True)
class Clip:
    """One manifest entry: where the recording ships and what it must hash to."""

    id: str
    package: str
    version: str
    path: str
    sha256: str

    @property
    def file_name(self) -> str:
        """Name of the copy: the clip id with the original file's extension."""
        return self.id + Path(self.path).suffix.lower()


def load_manifest(path: Path = MANIFEST) -> dict:
    """The parsed manifest (clips, pairs, measurement notes)."""
    return json.loads(path.read_text(encoding="utf-8"))


def clips_of(manifest: dict) -> list[Clip]:
    """The manifest's clips; only Debian sources are used so far."""
    clips = []
    for entry in manifest["clips"]:
        kind, _, package = entry["source"].partition(":")
        if kind != "debian":
            raise ValueError(f"{entry['id']}: unsupported source {entry['source']!r}")
        clips.append(Clip(entry["id"], package, entry["package_version"], entry["path"], entry["sha256"]))
    return clips


def unpacked_root(cache: Path, package: str) -> Path:
    """Where ``--install`` unpacks a package's .deb."""
    return cache / package


def candidates(clip: Clip, cache: Path) -> list[Path]:
    """Existing copies of the clip's file: in the installed package, then in an unpacked .deb."""
    places = (Path(clip.path), unpacked_root(cache, clip.package) / clip.path.lstrip("/"))
    return [place for place in places if place.is_file()]


def matching_source(clip: Clip, cache: Path) -> Path | None:
    """The first candidate whose sha256 is the manifest's (an installed other version does not count)."""
    return next((place for place in candidates(clip, cache) if file_sha256(place) == clip.sha256), None)


def fetch_package(package: str, version: str, members: list[str], cache: Path) -> None:
    """Download ``package`` (the manifest's version if still offered) and unpack ``members`` under ``cache``.

    Only the clips' files are unpacked, and the .deb is deleted, so the cache stays small.
    """
    cache.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=cache) as tmp:
        for spec in (f"{package}={version}", package):
            done = subprocess.run(["apt-get", "download", spec], cwd=tmp, capture_output=True, text=True)
            debs = list(Path(tmp).glob("*.deb"))
            if done.returncode == 0 and debs:
                break
        else:
            raise RuntimeError(f"apt-get download {package} failed: {done.stderr.strip()[-400:]}")
        root = unpacked_root(cache, package)
        root.mkdir(parents=True, exist_ok=True)
        tar_members = ["." + member for member in members]
        with subprocess.Popen(["dpkg-deb", "--fsys-tarfile", str(debs[0])], stdout=subprocess.PIPE) as deb:
            untar = subprocess.run(["tar", "-x", "-C", str(root), *tar_members], stdin=deb.stdout, capture_output=True, text=True)
        if deb.returncode != 0 or untar.returncode != 0:
            raise RuntimeError(f"unpacking {debs[0].name} failed: {untar.stderr.strip()[-400:]}")


def copy_verified(source: Path, clip: Clip, dest: Path) -> None:
    """Copy ``source`` to ``dest/<id>.<ext>`` atomically; the copy's sha256 must be the manifest's."""
    target = dest / clip.file_name
    if target.is_file() and file_sha256(target) == clip.sha256:
        return

    def copy_checked(tmp: Path) -> None:
        shutil.copyfile(source, tmp)
        actual = file_sha256(tmp)
        if actual != clip.sha256:
            raise RuntimeError(f"{clip.id}: copy of {source} has sha256 {actual}, manifest says {clip.sha256}")

    atomic_write(target, copy_checked)


def write_manifest_copy(manifest: dict, dest: Path) -> None:
    """Put the manifest beside the copies (atomically), so readers of ``dest`` need nothing else."""
    atomic_write(dest / "manifest.json", lambda tmp: tmp.write_text(json.dumps(manifest, indent=1, ensure_ascii=False),
                                                                    encoding="utf-8"))


def collect(dest: Path, install: bool, manifest: dict) -> list[str]:
    """Copy every clip into ``dest``; return the problems (empty when all clips are there)."""
    dest.mkdir(parents=True, exist_ok=True)
    cache = dest / ".debs"
    clips = clips_of(manifest)
    problems = []
    if install:
        missing: dict[tuple[str, str], list[str]] = {}
        for clip in clips:
            if matching_source(clip, cache) is None:
                missing.setdefault((clip.package, clip.version), []).append(clip.path)
        for (package, version), members in sorted(missing.items()):
            print(f"fetching {package} ...", flush=True)
            try:
                fetch_package(package, version, members, cache)
            except (RuntimeError, subprocess.CalledProcessError, FileNotFoundError) as error:
                problems.append(f"{package}: {error}")
    for clip in clips:
        source = matching_source(clip, cache)
        if source is None:
            found = candidates(clip, cache)
            if found:
                problems.append(
                    f"{clip.id}: {found[0]} has sha256 {file_sha256(found[0])}, manifest says {clip.sha256} "
                    f"(package {clip.package} is not version {clip.version}; --install fetches that version)"
                )
            else:
                problems.append(f"{clip.id}: {clip.path} not found (apt-get install {clip.package}, or use --install)")
            continue
        try:
            copy_verified(source, clip, dest)
            print(f"ok  {clip.file_name:32s} <- debian:{clip.package} {clip.path}")
        except GramophoneError as error:  # a bad copy, or the disk
            problems.append(str(error))
    write_manifest_copy(manifest, dest)
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--install", action="store_true", help="apt-get download + unpack packages that are missing")
    parser.add_argument("--dest", type=Path, default=DEFAULT_DEST, help=f"output folder (default {DEFAULT_DEST})")
    args = parser.parse_args(argv)
    problems = collect(args.dest, args.install, load_manifest())
    for problem in problems:
        print("error:", problem, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
