"""nbops._version: the version is the installed distribution's, read only when asked for."""

from __future__ import annotations

import subprocess
import sys
from importlib import metadata
from pathlib import Path

import nbops
from nbops._version import version


def test_version_is_the_distributions() -> None:
    assert version() == metadata.version("nbops") == nbops.__version__


def test_cli_prints_the_version_on_stdout() -> None:
    done = subprocess.run([sys.executable, "-m", "nbops", "--version"],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"nbops {metadata.version('nbops')}\n"


def test_a_lint_does_not_read_package_metadata() -> None:
    # importlib.metadata was a fifth of a cold `nbops lint`'s start-up; a text lint never
    # shows the version, so it must not load it
    code = (
        "import sys\n"
        "from nbops.cli.main import main\n"
        "main(['lint', '--no-cache', 'examples/wine'])\n"
        "print('metadata loaded:', 'importlib.metadata' in sys.modules)\n"
    )
    root = Path(__file__).resolve().parents[1]
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=False, cwd=root)
    assert done.stdout.strip().splitlines()[-1] == "metadata loaded: False", done.stderr
