"""The lint and fix paths format notebook cells with plain black: IPython is never imported
(the light core installs ``black``, not ``black[jupyter]``)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

SCRIPT = """
import sys
from pathlib import Path
from nbops.config import load_config
from nbops.core.notebook import read_notebook
from nbops.lint.engine import Linter, lint_notebook
from nbops.lint.fix import fix_notebook

path = Path(sys.argv[1])
found = [d.code for d in lint_notebook(path, cache=False)]
assert "FMT001" in found, found
nb = read_notebook(path)
applied = fix_notebook(nb, Linter(load_config(path.parent), select=["FMT001"], cache=False))
assert applied, "black's fix was not applied"
print(nb.cells[1].source)
bad = sorted(m for m in sys.modules if m.split(".")[0] in ("IPython", "tokenize_rt"))
assert not bad, bad
"""


def test_lint_and_fix_format_magics_without_importing_ipython(tmp_path: Path) -> None:
    cell = "%matplotlib inline\nfiles = !ls\nx=[1,2];"
    nb = {
        "cells": [
            {"cell_type": "markdown", "metadata": {}, "source": "# Title"},
            {"cell_type": "code", "metadata": {}, "source": cell, "outputs": [], "execution_count": None},
        ],
        "metadata": {"language_info": {"name": "python"}, "kernelspec": {"name": "python3", "language": "python", "display_name": "Python 3"}},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    path = tmp_path / "magic.ipynb"
    path.write_text(json.dumps(nb))
    proc = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(path)], capture_output=True, text=True, timeout=300, check=False
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "%matplotlib inline\nfiles = !ls\nx = [1, 2];" in proc.stdout
