"""Writing files whole or not at all, hashing them, and telling a full disk from other failures.

Every file Gramophone writes (audio, a render's sidecar, a preset, a batch summary, the streamed
render's temporaries) goes through here:

* :func:`atomic_write` writes into a temporary file beside the target (same folder, so the
  final rename stays on one disk and is atomic), then renames it over the target; on any
  failure the temporary file is removed, so a reader never sees half a file.
* :func:`write_errors` turns a failed write into a :class:`GramophoneError`: ``disk_full`` or
  ``write_failed``, by the one rule of :func:`out_of_space`.
* :func:`file_sha256` is the hash every record (sidecar, preset sources, weights, batch keys) uses.

The disk-full rule: a write ran out of space if its error says so (``ENOSPC``, ``EDQUOT``) or,
for an error that carries no ``errno`` (libsndfile reports only "System error", pedalboard
raises plain ``RuntimeError``), if under :data:`LOW_SPACE` is free on that disk *while the
partial file is still there*. At that moment a disk that really filled has nothing left
whatever the output's size or format, so the rule needs no estimate of how big the output would
have been (the job layer's former rule compared the space left after clean-up with a float WAV
of the content: wrong for FLAC or MP3 outputs and for the streamed render's two temporaries).
The classification therefore happens before the temporary file is removed.
"""
from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import shutil
import tempfile
from pathlib import Path
from typing import Callable, Iterator

from .errors import GramophoneError

#: Free space under which a write that failed without an ``errno`` is taken to have filled the disk.
LOW_SPACE = 1 << 20
#: What a temporary file's name ends in (before the target's extension, where it has to keep one).
PART = ".part"
_NO_SPACE = (errno.ENOSPC, errno.EDQUOT)


def temporary_beside(target: str | os.PathLike, suffix: str = PART) -> Path:
    """An empty temporary file ``.NAME.XXXX<suffix>`` in ``target``'s folder, with the permissions a
    normally created file gets. Raises like :func:`write_errors` if it cannot be made."""
    target = Path(target)
    with write_errors(target):
        fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=suffix, dir=target.parent)
        os.close(fd)
        try:
            make_shareable(name)
        except BaseException:
            os.unlink(name)
            raise
    return Path(name)


def atomic_write(target: str | os.PathLike, write: Callable[[Path], object], suffix: str = PART) -> Path:
    """Call ``write(temporary_path)`` and rename the temporary file over ``target``; returns ``target``.

    ``suffix`` ends the temporary file's name (an encoder that picks the format from the extension
    needs e.g. ``.part.mp3``). On any failure nothing is left: not the temporary file, and
    ``target`` keeps what it held before. Errors are raised as :func:`write_errors` says, classified
    while the partial file still exists."""
    target = Path(target)
    tmp = temporary_beside(target, suffix)
    try:
        with write_errors(target):
            write(tmp)
            os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return target


@contextlib.contextmanager
def write_errors(target: str | os.PathLike) -> Iterator[None]:
    """Raise a failed write to ``target`` as a :class:`GramophoneError`: ``disk_full`` if
    :func:`out_of_space` says so, ``write_failed`` otherwise (its message: the error's first line).
    A :class:`GramophoneError` raised inside passes through unchanged."""
    try:
        yield
    except (GramophoneError, MemoryError):  # out of memory is not a write failure (the job layer reports it)
        raise
    except Exception as exc:  # soundfile and pedalboard raise RuntimeErrors (and others) without an errno
        if out_of_space(exc, Path(target).parent):
            raise GramophoneError(f"could not write {target}: the disk is full", "disk_full") from exc
        raise GramophoneError(f"could not write {target}: {error_reason(exc)}", "write_failed") from exc


def out_of_space(exc: BaseException, folder: str | os.PathLike) -> bool:
    """Whether the failed write that raised ``exc`` ran out of space on ``folder``'s disk (the
    module's rule: its ``errno`` if it has one, else under :data:`LOW_SPACE` free; call it
    before removing the partial file)."""
    code = getattr(exc, "errno", None)
    if code is not None:
        return code in _NO_SPACE
    try:
        return free_bytes(folder) < LOW_SPACE
    except OSError:
        return False


def free_bytes(folder: str | os.PathLike) -> int:
    """Bytes an unprivileged writer may still use on ``folder``'s disk."""
    return shutil.disk_usage(folder).free


def file_sha256(path: str | os.PathLike, what: str = "file", missing: str = "not_found") -> str:
    """The SHA-256 of the file at ``path`` as hex, read in 1 MB blocks (memory does not grow with the
    file). A missing file is a :class:`GramophoneError` ``missing`` ("no ``what`` at PATH")."""
    if not Path(path).is_file():
        raise GramophoneError(f"no {what} at {path}", missing)
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def make_shareable(path: str | os.PathLike) -> None:
    """Give a temporary file the permissions a normally created file would have (mkstemp uses 0600)."""
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(path, 0o666 & ~umask)


def error_reason(exc: BaseException) -> str:
    """An error's reason in one line: an OSError's ``strerror``, else the first line of its text."""
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


class Temporaries:
    """A streamed render's two temporary files beside ``out``: :attr:`output` (the encoded output,
    with ``out``'s extension) and :attr:`raw` (the joined render). Both are removed on leaving,
    unless :meth:`commit` renamed the first over ``out``, so nothing partial is ever left."""

    def __init__(self, out: Path) -> None:
        self.out = out
        self.output = temporary_beside(out, f"{PART}{out.suffix.lower()}")
        self.raw = temporary_beside(out, f"{PART}.raw")
        self._done = False

    def __enter__(self) -> "Temporaries":
        return self

    def commit(self) -> None:
        with write_errors(self.out):
            os.replace(self.output, self.out)
        self._done = True

    def __exit__(self, *exc: object) -> None:
        for path in (self.raw,) if self._done else (self.raw, self.output):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)
