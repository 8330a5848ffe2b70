"""The ``nbops`` console script and the LocalCluster workers nbops starts keep jsonschema from
building the optional rfc3987-syntax grammars (~1 s of CPU per process that validates a
notebook), and notebooks still validate."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("rfc3987_syntax") is None,
    reason="rfc3987-syntax is not installed: jsonschema has no grammars to build here")

_SCRIPT = """
import sys
from nbops._process import without_iri_grammars

without_iri_grammars()  # first, as the console script does
import nbformat
nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1")])
nbformat.validate(nb)
nb.cells[0]["source"] = 1
try:
    nbformat.validate(nb)
except nbformat.ValidationError:
    print("invalid refused")
print(sorted(m for m in sys.modules if m.startswith(("lark", "rfc3987_syntax."))))
"""


def test_validation_works_without_the_grammars() -> None:
    done = subprocess.run([sys.executable, "-c", _SCRIPT], capture_output=True, text=True,
                          check=True)
    assert done.stdout.splitlines() == ["invalid refused", "[]"]


def test_the_console_script_skips_them(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\nversion = "0"\n')
    import nbformat

    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1")])
    nbformat.write(nb, str(tmp_path / "t.ipynb"))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW_", "NBOPS_RUN"))}
    env["PYTHONPROFILEIMPORTTIME"] = "1"
    done = subprocess.run([sys.executable, "-m", "nbops", "run", "t.ipynb"], cwd=tmp_path,
                          env=env, capture_output=True, text=True, check=False, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    imported = [line.rsplit("|", 1)[-1].strip() for line in done.stderr.splitlines()
                if line.startswith("import time:")]
    assert "jsonschema" in imported  # nbformat validated the notebook in this process
    assert not [m for m in imported if m.startswith("lark")]


def test_a_local_clusters_worker_skips_them_too() -> None:
    pytest.importorskip("distributed")
    script = ("import sys\nfrom nbops.run.executors.dask import warm_worker\nwarm_worker()\n"
              "print(sys.modules.get('rfc3987_syntax', 'imported later'))")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          check=True, timeout=300)
    assert done.stdout.split() == ["None"]
