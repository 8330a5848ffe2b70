"""nbops verify imports the library's module in one process besides the notebook kernels:
the pipeline's run tells verify its step graph before it runs a step, so no second process
imports the module (and its pandas, scikit-learn) only to list the steps."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from modularize_helpers import write_notebook

pytestmark = pytest.mark.slow

NOTEBOOK = """
# %% [markdown]
## Load
# %%
import helper
x = helper.VALUE * 2
# %% [markdown]
## Show
# %%
y = x + 1
print(y)
"""

# every process that imports the module imports this helper too: it says who it is
HELPER = """
import sys
with open("imports.log", "a", encoding="utf-8") as handle:
    handle.write(" ".join(sys.argv) + "\\n")
VALUE = 3
"""


def test_the_module_is_imported_by_one_process_besides_the_kernels(tmp_path: Path) -> None:
    write_notebook(NOTEBOOK, tmp_path)
    (tmp_path / "helper.py").write_text(HELPER, encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, "-m", "nbops", "verify", "analysis.ipynb", "--package", "pkg"],
        cwd=tmp_path, capture_output=True, text=True, timeout=600, check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.strip().splitlines()[-1].startswith("equivalent: ")
    importers = (tmp_path / "imports.log").read_text(encoding="utf-8").splitlines()
    kernels = [line for line in importers if "ipykernel" in line]
    assert len(kernels) == 2, importers  # the notebook's and the slim notebook's
    assert len(importers) - len(kernels) == 1, importers  # the pipeline's run, nothing else
