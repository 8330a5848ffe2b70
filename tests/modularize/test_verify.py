"""nbops verify on small notebooks with a real kernel: equivalence, a difference it must
catch, parameters, failures on either side, and bad input answered before a kernel starts;
what the notebook shows compared with the slim notebook; changes planted in the written
library (the wine example and a notebook of our own) caught; "nothing to compare"."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from helpers import SEEDED_STEPS_NOTEBOOK
from modularize_helpers import write_notebook

NOTEBOOK = SEEDED_STEPS_NOTEBOOK

pytestmark = pytest.mark.slow


def verify(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "nbops", "verify", "analysis.ipynb", "--package", "pkg", *args],
        cwd=folder, capture_output=True, text=True, timeout=600, check=False,
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
    # unseeded random numbers agree: both runs start from the same seeds (the noise is a
    # value the next step reads, and printed)
    found = statuses(data)
    assert found["make.noise"] == "equal" and found["make.scaled"] == "equal"
    assert set(found.values()) == {"equal"}
    printed = [(d["step"], d["output"], d["status"]) for d in data["displays"]]  # type: ignore[union-attr]
    assert printed == [("summarise", "stdout", "equal")]
    assert data["verdict"] == "equivalent"
    assert data["compared"] == {"values": len(found), "displays": 1}
    assert not (tmp_path / "src").exists()  # nothing written by verify


def test_a_changed_module_is_caught(tmp_path: Path) -> None:
    write_notebook(NOTEBOOK, tmp_path)
    made = subprocess.run(
        [sys.executable, "-m", "nbops", "modularize", "analysis.ipynb", "--package", "pkg"],
        cwd=tmp_path, capture_output=True, text=True, timeout=300, check=False,
    )
    assert made.returncode == 0, made.stderr
    module = tmp_path / "src" / "pkg" / "analysis.py"
    text = module.read_text()
    assert "total = sum(scaled)" in text
    module.write_text(text.replace("total = sum(scaled)", "total = sum(scaled) + 0.5"))
    proc = verify(tmp_path)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "NOT equivalent" in proc.stdout
    # caught where the notebook prints it (and as a value where the step returns it)
    line = next(x for x in proc.stdout.splitlines() if " stdout " in x)
    assert "summarise" in line and "differs ('total 9.0," in line and "vs 'total 9.5," in line


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
import os
import time
started = time.time_ns()
stamp = os.getpid()
names = list({"alpha", "beta", "gamma", "delta", "epsilon", "zeta"})
# %% [markdown]
## Count
# %%
count = len(names) * n
print(count, stamp > 0, started > 0)
"""


def test_ignore_leaves_a_volatile_value_out_and_sets_compare_in_one_order(tmp_path: Path) -> None:
    write_notebook(VOLATILE, tmp_path)
    plain = verify(tmp_path, "--format", "json")
    assert plain.returncode == 1, plain.stdout + plain.stderr
    assert statuses(report(plain))["collect.stamp"] == "differs"
    # a clock reading is never compared: it differs from run to run
    assert statuses(report(plain))["collect.started"] == "not comparable"
    # both the kernel and the pipeline run with PYTHONHASHSEED=0: a list made from a set of
    # strings comes out in the same order on both sides
    assert statuses(report(plain))["collect.names"] == "equal"
    proc = verify(tmp_path, "--ignore", "stamp")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    line = next(x for x in proc.stdout.splitlines() if " stamp " in x)
    assert "ignored (--ignore)" in line
    assert proc.stdout.rstrip().endswith(
        "equivalent: 2 values, 1 display compared (1 not comparable; ignored: collect.stamp)"
    ), proc.stdout
    qualified = verify(tmp_path, "--ignore", "collect.stamp", "--format", "json")
    assert qualified.returncode == 0 and statuses(report(qualified))["collect.stamp"] == "ignored"


def test_ignore_of_an_unknown_name_is_refused_before_any_kernel_starts(tmp_path: Path) -> None:
    write_notebook(VOLATILE, tmp_path)
    proc = verify(tmp_path, "--ignore", "stmp")
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "--ignore stmp: no step output or result has this name" in proc.stderr
    assert "collect.stamp" in proc.stderr and "Traceback" not in proc.stderr
    assert not proc.stdout  # nothing ran, nothing compared


# --- what the notebook shows, and planted changes ---------------------------------------

SHOWN = """
# %% tags=parameters
threshold = 2
# %% [markdown]
## Load
# %%
import pandas as pd
df = pd.DataFrame({"a": [1.0, None, 3.0, 4.0], "b": [1, 2, 3, 5]})
df = df.dropna()
df.head()
# %% [markdown]
## Score
# %%
def score(frame, t):
    return float((frame["b"] > t).mean())
print("rows:", len(df))
score(df, threshold)
"""

ROOT = Path(__file__).resolve().parents[2]


def modularized(snippet_or_example: str | Path, folder: Path, package: str = "pkg") -> Path:
    """The notebook modularized into ``folder`` (files written); returns the module."""
    if isinstance(snippet_or_example, Path):
        shutil.copy(snippet_or_example, folder / "analysis.ipynb")
    else:
        write_notebook(snippet_or_example, folder)
    made = subprocess.run(
        [sys.executable, "-m", "nbops", "modularize", "analysis.ipynb", "--package", package],
        cwd=folder, capture_output=True, text=True, timeout=300, check=False,
    )
    assert made.returncode == 0, made.stdout + made.stderr
    return folder / "src" / package / "analysis.py"


def plant(module: Path, pattern: str, replacement: str) -> None:
    """Change the written library: ``pattern`` (a regex) must be there."""
    text = module.read_text(encoding="utf-8")
    changed, n = re.subn(pattern, replacement, text, count=1, flags=re.MULTILINE)
    assert n == 1, f"{pattern!r} not in the module:\n{text}"
    module.write_text(changed, encoding="utf-8")


def differences(data: dict[str, object]) -> list[str]:
    """One line per difference: step, name or cells, how."""
    outputs, displays = data["outputs"], data["displays"]
    assert isinstance(outputs, list) and isinstance(displays, list)
    return [f"{o['step']} {o['name']}: {o['detail']}" for o in outputs if o["status"] == "differs"] + [
        f"{d['step']} {d['cells']} {d['output']}: {d['detail']}" for d in displays if d["status"] == "differs"
    ]


def test_what_the_notebook_shows_is_compared_with_the_slim_notebook(tmp_path: Path) -> None:
    modularized(SHOWN, tmp_path)
    proc = verify(tmp_path, "--format", "json")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    data = report(proc)
    shown = {(d["step"], d["output"]): d["status"] for d in data["displays"]}  # type: ignore[union-attr]
    assert set(shown.values()) == {"equal"} and len(shown) == 3, shown
    assert data["compared"] == {"values": 1, "displays": 3}
    text = verify(tmp_path)
    assert text.stdout.rstrip().endswith("equivalent: 1 value, 3 displays compared"), text.stdout


def test_a_displayed_metric_multiplied_by_zero_is_caught(tmp_path: Path) -> None:
    module = modularized(SHOWN, tmp_path)
    # the score is only displayed: no step value holds it
    plant(module, r"score\(df, threshold\)", "score(df, threshold) * 0")
    proc = verify(tmp_path, "--format", "json")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    data = report(proc)
    assert data["verdict"] == "not equivalent"
    lines = differences(data)
    assert len(lines) == 1 and "cell 5 display 1 (text/plain): '0.6666666666666666' vs '0.0'" in lines[0], lines
    assert set(statuses(data).values()) == {"equal"}  # the values alone would have said equivalent


def test_a_dropped_transformation_is_caught(tmp_path: Path) -> None:
    module = modularized(SHOWN, tmp_path)
    plant(module, r"^\s*df = df\.dropna\(\)\n", "")
    proc = verify(tmp_path)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "NOT equivalent: 1 of 1 values and 3 of 3 displays differ" in proc.stdout
    line = next(x for x in proc.stdout.splitlines() if " df " in x)
    assert "differs (shape (3, 2) vs (4, 2))" in line
    assert re.search(r"cell 3 +display 1 \(table\) +differs \(table of 4 rows vs 5 rows\)", proc.stdout)
    assert re.search(r"cell 5 +stdout +differs \('rows: 3' vs 'rows: 4'\)", proc.stdout)


NOTHING = """
# %% [markdown]
## Make
# %%
numbers = (i for i in range(3))
"""


def test_nothing_to_compare_is_its_own_verdict_and_exit_code(tmp_path: Path) -> None:
    write_notebook(NOTHING, tmp_path)
    proc = verify(tmp_path)
    assert proc.returncode == 5, proc.stdout + proc.stderr
    # the generator is not comparable (when the step returns it), and nothing is shown
    last = proc.stdout.rstrip().splitlines()[-1]
    assert last in ("nothing to compare: 0 values, 0 displays compared",
                    "nothing to compare: 0 values, 0 displays compared (1 not comparable)"), proc.stdout
    data = report(verify(tmp_path, "--format", "json"))
    assert data["equivalent"] is False and data["verdict"] == "nothing to compare"


@pytest.fixture(scope="module")
def wine(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wine example modularized once; each test plants its change in a copy."""
    folder = tmp_path_factory.mktemp("wine")
    modularized(ROOT / "examples" / "wine_classifier.ipynb", folder, "wine")
    return folder


def wine_copy(wine: Path, tmp_path: Path) -> Path:
    shutil.copytree(wine, tmp_path, dirs_exist_ok=True)
    return tmp_path / "src" / "wine" / "analysis.py"


def verify_wine(folder: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "nbops", "verify", "analysis.ipynb", "--package", "wine", "--format", "json"],
        cwd=folder, capture_output=True, text=True, timeout=600, check=False,
    )


def test_wine_a_displayed_confusion_matrix_multiplied_by_zero_is_caught(wine: Path, tmp_path: Path) -> None:
    module = wine_copy(wine, tmp_path)
    # the displayed matrix is computed by the library under a name, shown by the slim notebook
    plant(module, r"= confusion_matrix\(y_test, predictions\)$", "= confusion_matrix(y_test, predictions) * 0")
    proc = verify_wine(tmp_path)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    data = report(proc)
    lines = differences(data)
    assert len(lines) == 1, lines
    assert "cells 8-9 display 1 (text/plain): line 1: 'array([[15,  0,  0],' vs 'array([[0, 0, 0],'" in lines[0]
    assert set(statuses(data).values()) == {"equal"}  # no step value holds the matrix


def test_wine_a_changed_parameter_default_is_caught(wine: Path, tmp_path: Path) -> None:
    module = wine_copy(wine, tmp_path)
    plant(module, r'("C":\s*)1\.0', r"\g<1>0.001")  # in PARAMETERS: what run() uses
    proc = verify_wine(tmp_path)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    lines = differences(report(proc))
    assert any(" model: " in x and "C" in x and "1.0 vs 0.001" in x for x in lines), lines


KERNEL_AND_FIGURES = """
# %%
%matplotlib inline
import tempfile
import time
from pathlib import Path
import matplotlib.pyplot as plt
from IPython.display import display
# %% [markdown]
## Prepare
# %%
started = time.time()
out_dir = Path(tempfile.mkdtemp())
values = [4, 1, 3, 1, 2]
# %% [markdown]
## Clean
# %%
print("before:", len(values))
values = sorted(set(values))
print("after:", len(values))
# %% [markdown]
## Draw
# %%
fig, ax = plt.subplots(figsize=(3, 2))
ax.plot(values, [v * v for v in values])
total = sum(values)
ax.set_title(f"total {total}")
# %%
handle = display("working...", display_id=True)
handle.update(f"done: {total}")
ip = get_ipython()
print(type(ip).__name__)
# %%
elapsed = time.time() - started
(out_dir / "total.txt").write_text(str(total))
print("elapsed", elapsed >= 0)
"""


def test_kernel_code_leading_prints_and_interleaved_drawing_verify_equivalent(tmp_path: Path) -> None:
    modularized(KERNEL_AND_FIGURES, tmp_path)
    module = (tmp_path / "src" / "pkg" / "analysis.py").read_text(encoding="utf-8")
    assert "get_ipython" not in module and "display_id" not in module and "ax.plot" not in module
    proc = verify(tmp_path, "--format", "json")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    data = report(proc)
    by_name = {o["name"]: o for o in data["outputs"]}  # type: ignore[union-attr]
    # a clock reading is never compared; each run's temp folder compares without its random part
    assert by_name["started"]["status"] == "not comparable"
    assert by_name["out_dir"]["status"] == "equal" and "temporary" in by_name["out_dir"]["detail"]
    shown = [(d["output"], d["status"]) for d in data["displays"]]  # type: ignore[union-attr]
    assert ("image 1", "equal") in shown and all(status == "equal" for _, status in shown), shown
    # the leading and trailing prints, the figure drawn whole, the updated display, the kernel's name
    assert len(shown) >= 4 and data["compared"]["values"] >= 3  # type: ignore[index]
    # a planted change in the library still shows
    plant(tmp_path / "src" / "pkg" / "analysis.py", r"sorted\(set\(values\)\)", "sorted(values)")
    changed = report(verify(tmp_path, "--format", "json"))
    assert changed["verdict"] == "not equivalent"
    assert any("after:" in line or "values" in line for line in differences(changed)), differences(changed)
