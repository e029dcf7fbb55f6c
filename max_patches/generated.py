"""Writing the generated client files (build_max.py, build_pd.py) into a folder the caller names.

Both generators describe their files as ``{relative path: bytes}`` and write them only under the
folder given with ``--out DIR`` (or :func:`write`'s ``out``): there is no default, so running a
generator from an installed wheel never writes into site-packages. From a checkout,
``--out max_patches`` regenerates the committed files (tests check they are current).
"""
from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path


def write(files: dict[str, bytes], out: str | Path) -> list[Path]:
    """Write each file under ``out`` (folders created as needed); the paths written, in order."""
    written = []
    for rel, data in files.items():
        path = Path(out) / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        written.append(path)
    return written


def main(files: Callable[[], dict[str, bytes]], doc: str | None, argv: list[str] | None = None) -> int:
    """A generator's command line: ``--out DIR`` (required), then print each path written."""
    parser = argparse.ArgumentParser(description=(doc or "").split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", required=True, metavar="DIR",
                        help="the clients folder to write into (from a checkout: max_patches); "
                             "the files land at their paths under it, e.g. DIR/patchers/, DIR/pd/")
    args = parser.parse_args(argv)
    for path in write(files(), args.out):
        print(path)
    return 0
