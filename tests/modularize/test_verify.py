"""nbops verify on small notebooks with a real kernel: equivalence, a difference it must
catch, parameters, failures on either side, and bad input answered before a kernel starts."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
from modularize_helpers import write_notebook

NOTEBOOK = """
# %% tags=parameters
n = 4
factor = 1.5
# %% [markdown]
## Make
# %%
import random
base = list(range(n))
noise = random.random()
# %%
scaled = [b * factor for b in base]
# %% [markdown]
## Summarise
# %%
total = sum(scaled)
"""

pytestmark = pytest.mark.slow


def verify(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "nbops", "verify", "analysis.ipynb", "--package", "pkg", *args],
        cwd=folder, capture_output=True, text=True, timeout=600,
    )


def report(proc: subprocess.CompletedProcess[str]) -> dict[str, object]:
    data: dict[str, object] = json.loads(proc.stdout)
    return data


def statuses(data: dict[str, object]) -> dict[str, str]:
    outputs = data["outputs"]
    assert isinstance(outputs, list)
    return {f"{o['step']}.{o['name']}": o["status"] for o in outputs}


def test_equivalent_with_the_same_parameters_and_seeds(tmp_path: Path) -> None:
    write_notebook(NOTEBOOK, tmp_path)
    proc = verify(tmp_path, "-p", "n", "6", "--format", "json")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    data = report(proc)
    assert data["equivalent"] is True and data["generated"] is True
    # unseeded random numbers agree: both runs start from the same seeds
    assert statuses(data) == {
        "make.base": "equal", "make.noise": "equal", "make.scaled": "equal",
        "summarise.total": "equal",
    }
    assert not (tmp_path / "src").exists()  # nothing written by verify


def test_a_changed_module_is_caught(tmp_path: Path) -> None:
    write_notebook(NOTEBOOK, tmp_path)
    made = subprocess.run(
        [sys.executable, "-m", "nbops", "modularize", "analysis.ipynb", "--package", "pkg"],
        cwd=tmp_path, capture_output=True, text=True, timeout=300,
    )
    assert made.returncode == 0, made.stderr
    module = tmp_path / "src" / "pkg" / "analysis.py"
    text = module.read_text()
    assert "total = sum(scaled)" in text
    module.write_text(text.replace("total = sum(scaled)", "total = sum(scaled) + 0.5"))
    proc = verify(tmp_path)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "NOT equivalent" in proc.stdout
    line = next(x for x in proc.stdout.splitlines() if " total " in x)
    assert "differs" in line and "9.0" in line and "9.5" in line


def test_same_failure_on_both_sides_is_equivalent_and_said(tmp_path: Path) -> None:
    write_notebook(NOTEBOOK + "# %%\nratio = total / (n - n)\n", tmp_path)
    proc = verify(tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "the notebook stops in step summarise: ZeroDivisionError" in proc.stdout
    assert "the pipeline stops in step summarise: ZeroDivisionError" in proc.stdout
    assert "fix the notebook so it runs top to bottom" in proc.stdout


def test_unknown_parameter_is_refused_before_any_kernel_starts(tmp_path: Path) -> None:
    write_notebook(NOTEBOOK, tmp_path)
    started = time.monotonic()
    proc = verify(tmp_path, "-p", "alpha", "1")
    assert proc.returncode == 2
    assert "unknown parameter: alpha" in proc.stderr and "n, factor" in proc.stderr.replace("factor, n", "n, factor")
    assert "Traceback" not in proc.stderr
    assert time.monotonic() - started < 60  # no kernel was started (the runs take longer)


def test_missing_kernel_is_a_clear_error(tmp_path: Path) -> None:
    write_notebook(NOTEBOOK, tmp_path)
    proc = verify(tmp_path, "--kernel", "no-such-kernel")
    assert proc.returncode == 3
    assert "no Jupyter kernel named 'no-such-kernel'" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_a_dying_kernel_is_a_clear_error(tmp_path: Path) -> None:
    write_notebook(NOTEBOOK + "# %%\nimport os\nos._exit(1)\n", tmp_path)
    proc = verify(tmp_path)
    assert proc.returncode == 3, proc.stdout + proc.stderr
    assert "kernel stopped" in proc.stderr and "analysis.ipynb" in proc.stderr
    assert "Traceback" not in proc.stderr


VOLATILE = """
# %% tags=parameters
n = 3
# %% [markdown]
## Collect
# %%
import time
stamp = time.time_ns()
names = list({"alpha", "beta", "gamma", "delta", "epsilon", "zeta"})
# %% [markdown]
## Count
# %%
count = len(names) * n
"""


def test_ignore_leaves_a_volatile_value_out_and_sets_compare_in_one_order(tmp_path: Path) -> None:
    write_notebook(VOLATILE, tmp_path)
    plain = verify(tmp_path, "--format", "json")
    assert plain.returncode == 1, plain.stdout + plain.stderr
    assert statuses(report(plain))["collect.stamp"] == "differs"
    # both the kernel and the pipeline run with PYTHONHASHSEED=0: a list made from a set of
    # strings comes out in the same order on both sides
    assert statuses(report(plain))["collect.names"] == "equal"
    proc = verify(tmp_path, "--ignore", "stamp")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    line = next(x for x in proc.stdout.splitlines() if " stamp " in x)
    assert "ignored (--ignore)" in line
    assert proc.stdout.rstrip().endswith("equivalent: 2 equal, 1 ignored")
    qualified = verify(tmp_path, "--ignore", "collect.stamp", "--format", "json")
    assert qualified.returncode == 0 and statuses(report(qualified))["collect.stamp"] == "ignored"


def test_ignore_of_an_unknown_name_is_refused_before_any_kernel_starts(tmp_path: Path) -> None:
    write_notebook(VOLATILE, tmp_path)
    proc = verify(tmp_path, "--ignore", "stmp")
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "--ignore stmp: no step output or result has this name" in proc.stderr
    assert "collect.stamp" in proc.stderr and "Traceback" not in proc.stderr
    assert not proc.stdout  # nothing ran, nothing compared
