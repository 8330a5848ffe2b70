"""The import contracts of pyproject.toml ([tool.importlinter], docs/architecture.md) hold,
and would catch a lower layer importing a higher one, a front importing another front, or
an import cycle."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


def _lint_imports(src: Path | None = None) -> subprocess.CompletedProcess[str]:
    """``lint-imports`` on the repository's contracts; ``src``: check this copy of nbops."""
    env = dict(os.environ)
    if src is not None:
        env["PYTHONPATH"] = os.pathsep.join([str(src), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", "--no-logo", str(ROOT / "pyproject.toml")],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False,
    )


def test_the_import_contracts_hold() -> None:
    proc = _lint_imports()
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "3 kept, 0 broken" in proc.stdout, proc.stdout


@pytest.fixture
def copy_of_nbops(tmp_path: Path) -> Path:
    """The Python files of src/nbops in ``tmp_path/src``, to break on purpose."""
    shutil.copytree(
        ROOT / "src" / "nbops", tmp_path / "src" / "nbops",
        ignore=shutil.ignore_patterns("labextension", "__pycache__", "templates"),
    )
    return tmp_path / "src"


@pytest.mark.parametrize(
    ("module", "line", "broken"),
    [
        # a lower layer importing a higher one
        ("core/layout.py", "import nbops.modularize.api", "errors/config < core"),
        ("run/runner.py", "import nbops.modularize.api", "errors/config < core"),
        # a front importing another (the server reusing the CLI's helpers)
        ("server/routes.py", "import nbops.cli.main", "independent of each other"),
        # a cycle inside a package (both in the lint layer)
        ("lint/codes.py", "import nbops.lint.rule", "no import cycles"),
    ],
)
def test_the_contracts_catch_a_bad_import(copy_of_nbops: Path, module: str, line: str, broken: str) -> None:
    target = copy_of_nbops / "nbops" / module
    target.write_text(target.read_text(encoding="utf-8") + f"\n{line}  # noqa\n", encoding="utf-8")
    proc = _lint_imports(copy_of_nbops)
    assert proc.returncode != 0, proc.stdout
    broken_section = proc.stdout.split("Broken contracts", 1)[-1]
    assert broken in broken_section, proc.stdout
