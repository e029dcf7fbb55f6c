"""engine/files.py: atomic writes, file hashes, and the disk-full rule, and that the package has no
other copy of them."""
from __future__ import annotations

import errno
import hashlib
import os
import re
import subprocess
from pathlib import Path

import numpy as np
import pytest

from gramophone.engine import files
from gramophone.engine.audio_io import write_audio
from gramophone.engine.errors import GramophoneError

ROOT = Path(__file__).resolve().parents[1]


def leftovers(folder: Path) -> list[str]:
    return [p.name for p in folder.iterdir() if p.name.startswith(".")]


def test_atomic_write_replaces_the_target_with_normal_permissions(tmp_path):
    target = tmp_path / "out.json"
    target.write_text("old")
    seen = []

    def write(tmp: Path) -> None:
        seen.append(tmp)
        assert tmp.parent == tmp_path and tmp.name.startswith(".out.json.") and tmp.name.endswith(".x.part")
        assert target.read_text() == "old"  # nothing shows under the target's name until the rename
        tmp.write_text("new")

    assert files.atomic_write(target, write, suffix=".x.part") == target
    assert target.read_text() == "new" and leftovers(tmp_path) == [] and not seen[0].exists()
    umask = os.umask(0)
    os.umask(umask)
    assert target.stat().st_mode & 0o777 == 0o666 & ~umask  # not mkstemp's 0600


@pytest.mark.parametrize("error, code", [(ValueError("encoder broke\nmore"), "write_failed"),
                                         (OSError(errno.EACCES, "Permission denied"), "write_failed"),
                                         (OSError(errno.ENOSPC, "No space left on device"), "disk_full"),
                                         (OSError(errno.EDQUOT, "Disk quota exceeded"), "disk_full")])
def test_a_failed_write_leaves_the_target_as_it_was_and_says_why(tmp_path, error, code):
    target = tmp_path / "out.json"
    target.write_text("old")

    def write(tmp: Path) -> None:
        tmp.write_text("half")
        raise error

    with pytest.raises(GramophoneError) as info:
        files.atomic_write(target, write)
    assert info.value.code == code and info.value.__cause__ is error
    assert str(info.value) == {"disk_full": f"could not write {target}: the disk is full",
                               "write_failed": f"could not write {target}: {getattr(error, 'strerror', None) or 'encoder broke'}"}[code]
    assert target.read_text() == "old" and leftovers(tmp_path) == []


@pytest.mark.parametrize("error", [KeyboardInterrupt(), MemoryError(), GramophoneError("cancelled", "cancelled")])
def test_interruptions_and_errors_with_a_code_pass_through_and_leave_nothing(tmp_path, error):
    def write(tmp: Path) -> None:
        tmp.write_text("half")
        raise error

    with pytest.raises(type(error)) as info:
        files.atomic_write(tmp_path / "out.wav", write)
    assert info.value is error and os.listdir(tmp_path) == []


def test_a_folder_that_does_not_exist_is_write_failed(tmp_path):
    with pytest.raises(GramophoneError) as info:
        files.atomic_write(tmp_path / "missing" / "out.json", lambda tmp: tmp.write_text("x"))
    assert info.value.code == "write_failed" and "No such file or directory" in str(info.value)


def test_the_disk_full_rule(tmp_path, monkeypatch):
    """An errno decides; without one, the free space on the disk (measured with the partial file
    still there) under LOW_SPACE does."""
    assert files.out_of_space(OSError(errno.ENOSPC, "full"), tmp_path)
    assert not files.out_of_space(OSError(errno.EACCES, "denied"), tmp_path)
    monkeypatch.setattr(files, "free_bytes", lambda folder: files.LOW_SPACE)
    assert not files.out_of_space(RuntimeError("System error"), tmp_path)
    monkeypatch.setattr(files, "free_bytes", lambda folder: files.LOW_SPACE - 1)
    assert files.out_of_space(RuntimeError("System error"), tmp_path)
    assert not files.out_of_space(OSError(errno.EACCES, "denied"), tmp_path)  # an errno is never overruled


def test_free_bytes_is_what_statvfs_gives_an_unprivileged_writer(tmp_path):
    stat = os.statvfs(tmp_path)
    assert abs(files.free_bytes(tmp_path) - stat.f_bavail * stat.f_frsize) < 64 << 20  # other writers move it


@pytest.fixture
def tiny_disk(tmp_path):
    """A folder on a 256 KiB tmpfs (needs root and mount; skips otherwise)."""
    folder = tmp_path / "disk"
    folder.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(folder)], capture_output=True,
                          text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here ({done.stderr.strip() or 'mount failed'})")
    yield folder
    subprocess.run(["umount", str(folder)], check=False)


@pytest.mark.parametrize("name", ["out.wav", "out.flac"])
def test_audio_on_a_full_disk_is_disk_full_and_leaves_nothing(tiny_disk, name):
    """libsndfile reports a full disk without an errno; the rule still finds it, for a format whose
    size is not a float WAV's."""
    noise = np.random.default_rng(0).uniform(-1, 1, (2, 200_000)).astype(np.float32)  # 1.6 MB as float WAV
    with pytest.raises(GramophoneError, match="the disk is full") as info:
        write_audio(tiny_disk / name, noise, 44_100)
    assert info.value.code == "disk_full" and os.listdir(tiny_disk) == []


def test_file_sha256_reads_in_blocks_and_names_a_missing_file(tmp_path):
    path = tmp_path / "blob"
    data = np.random.default_rng(1).bytes((1 << 20) * 2 + 123)  # more than one block
    path.write_bytes(data)
    assert files.file_sha256(path) == hashlib.sha256(data).hexdigest()
    with pytest.raises(GramophoneError, match="no weights file at") as info:
        files.file_sha256(tmp_path / "nothing.pt", "weights file", "no_weights")
    assert info.value.code == "no_weights"
    with pytest.raises(GramophoneError) as info:
        files.file_sha256(tmp_path)  # a folder is not a file
    assert info.value.code == "not_found"


def test_no_other_module_makes_temporaries_hashes_files_or_checks_free_space():
    """The helpers are the only copies: no other module of the package or the benchmarks calls
    mkstemp, statvfs or disk_usage, or defines its own file hash."""
    pattern = re.compile(r"\bmkstemp\(|\bstatvfs\(|\bdisk_usage\(|def \w*sha256\w*\(\s*path")
    allowed = {ROOT / "engine" / "files.py", ROOT / "bench" / "busy.py"}  # busy.py: a scratch file in /tmp, no result
    found = []
    for folder in ("engine", "bridge", "gramophone", "presets", "max_patches", "bench"):
        for path in (ROOT / folder).rglob("*.py"):
            if path not in allowed:
                found += [f"{path.relative_to(ROOT)}: {m.group()}" for m in pattern.finditer(path.read_text())]
    assert found == []
