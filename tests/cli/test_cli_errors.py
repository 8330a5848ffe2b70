"""How the CLI prints an error: one line, the paths under the working directory relative."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def nbops(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "nbops", *args], cwd=cwd, capture_output=True,
                          text=True, check=False)


def test_a_config_error_names_the_pyproject_as_the_user_sees_it(tmp_path: Path) -> None:
    proj = tmp_path / "proj"
    proj.mkdir()
    (proj / "pyproject.toml").write_text('[tool.nbops]\nfail-on = "nope"\n', encoding="utf-8")
    inside = nbops(proj, "lint", ".")
    assert inside.returncode == 2
    assert inside.stderr.startswith("nbops: error: pyproject.toml: fail-on must be one of"), (
        inside.stderr
    )
    above = nbops(tmp_path, "lint", "proj")
    assert above.stderr.startswith("nbops: error: proj/pyproject.toml: fail-on"), above.stderr
    assert str(tmp_path) not in inside.stderr + above.stderr


def test_a_path_outside_the_working_directory_stays_whole(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "pyproject.toml").write_text('[tool.nbops]\nfail-on = 3\n', encoding="utf-8")
    out = nbops(tmp_path / "a", "lint", str(tmp_path / "b"))
    assert out.returncode == 2
    assert f"{tmp_path / 'b' / 'pyproject.toml'}: fail-on" in out.stderr, out.stderr
