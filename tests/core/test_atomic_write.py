"""Atomic writes: new files get the usual mode (0o666 less the umask), existing ones keep theirs."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from nbops.core.notebook import write_bytes_atomic, write_text_atomic


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_new_file_gets_umask_mode_not_mkstemps_0600(tmp_path: Path) -> None:
    target = tmp_path / "module.py"
    old = os.umask(0o022)
    try:
        write_text_atomic(target, "x = 1\n")
    finally:
        os.umask(old)
    assert target.read_text() == "x = 1\n"
    assert _mode(target) == 0o644


@pytest.mark.parametrize("umask", [0o002, 0o027, 0o077])
def test_new_file_follows_the_callers_umask(tmp_path: Path, umask: int) -> None:
    # a separate process, so the umask is its own from the start (as for a user's shell)
    target = tmp_path / "leaderboard.html"
    code = (
        "import os, sys; from pathlib import Path; os.umask(int(sys.argv[2], 8));"
        "from nbops.core.notebook import write_bytes_atomic;"
        "write_bytes_atomic(Path(sys.argv[1]), b'<html></html>')"
    )
    subprocess.run([sys.executable, "-c", code, str(target), oct(umask)], check=True)
    assert _mode(target) == 0o666 & ~umask


def test_existing_file_keeps_its_mode(tmp_path: Path) -> None:
    target = tmp_path / "nb.ipynb"
    target.write_bytes(b"old")
    target.chmod(0o640)
    write_bytes_atomic(target, b"new")
    assert target.read_bytes() == b"new"
    assert _mode(target) == 0o640


def test_failed_write_leaves_the_original_and_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "nb.ipynb"
    target.write_text("original")
    with pytest.raises(TypeError):
        write_bytes_atomic(target, "not bytes")  # type: ignore[arg-type]
    assert target.read_text() == "original"
    assert [p.name for p in tmp_path.iterdir()] == ["nb.ipynb"]
