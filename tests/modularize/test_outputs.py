"""What a generated step returns: one value, or a frozen dataclass of the values later steps,
or the step's displays, read; loop counters, timers and scratch values stay inside the step."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from pathlib import Path

import pytest
from modularize_helpers import load_module, make, run_notebook_cells, run_pipeline, undefined_names

SIX_OUTPUTS = """
# %% [markdown]
## Prepare data
# %%
import time
start = time.time()
raw = sorted([42, 8, 15, 16, 23, 4])
count = 0
for value in raw:
    count += 1
scaled = [v / 42 for v in raw]
total = sum(raw)
low, high = min(raw), max(raw)
spread = high - low
scratch = [v * 2 for v in raw]
elapsed = time.time() - start
print(f"prepared {count} values in {elapsed:.2f}s")
# %% [markdown]
## Summarize
# %%
mean = total / len(raw)
ratio = spread / high
summary = {"mean": mean, "ratio": ratio, "first": scaled[0], "low": low}
summary
"""


def test_several_outputs_become_a_frozen_dataclass_without_counters_or_timers(tmp_path: Path) -> None:
    result, source = make(SIX_OUTPUTS, tmp_path)
    prepare, summarize = result.plan.steps
    # what the next step reads: nothing else (not count, start, elapsed, scratch, value)
    assert set(prepare.outputs) | set(prepare.results) == {"high", "low", "raw", "scaled", "spread", "total"}
    assert prepare.returns == "PrepareDataResult"
    assert "class PrepareDataResult:" in source and "@dataclass(frozen=True)" in source
    assert "-> PrepareDataResult:" in source
    # the last step returns what the notebook ends on
    assert summarize.returns == "SummarizeResult" and summarize.results == ("mean", "ratio", "summary")
    assert not undefined_names(source)

    module = load_module(source, tmp_path)
    returned = module.prepare_data()
    assert dataclasses.is_dataclass(returned)
    assert [f.name for f in dataclasses.fields(returned)] == [*prepare.outputs, *prepare.results]
    with pytest.raises(dataclasses.FrozenInstanceError):
        returned.total = 0  # type: ignore[misc]
    assert returned.spread == 38

    # run() reads the dataclass by attribute and computes what the notebook computes
    assert run_pipeline(module) == run_notebook_cells(result)
    assert module.run()["summary"]["mean"] == pytest.approx(108 / 6)


def test_generated_tests_and_slim_notebook_unpack_by_attribute(tmp_path: Path) -> None:
    result, _ = make(SIX_OUTPUTS, tmp_path)
    slim = next(f for f in result.files if f.kind == "notebook")
    cells = ["".join(c["source"]) for c in json.loads(slim.content)["cells"] if c["cell_type"] == "code"]
    call = next(c for c in cells if "prepare_data(" in c)
    assert call.splitlines()[0] == "prepare_data_result = prepare_data()"
    assert "spread = prepare_data_result.spread" in call
    tests = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"],
        cwd=tmp_path, capture_output=True, text=True, timeout=600, check=False,
    )
    assert tests.returncode == 0, tests.stdout[-3000:]
    assert "3 passed" in tests.stdout


ONE_AND_NONE = """
# %% [markdown]
## Load
# %%
rows = list(range(1, 4))
i = 0
while i < 3:
    i += 1
# %% [markdown]
## Use
# %%
print(sum(rows))
"""


def test_one_value_is_returned_as_is(tmp_path: Path) -> None:
    result, source = make(ONE_AND_NONE, tmp_path)
    # "Use" only prints: exploration, kept in the slim notebook, not a step
    (load,) = result.plan.steps
    assert (load.outputs, load.results, load.returns) == (("rows",), (), None)
    assert load.exploration == (3,)  # the 0-based index of the print cell
    assert "    return rows\n" in source and "dataclass" not in source
    module = load_module(source, tmp_path)
    assert module.load() == [1, 2, 3]
    assert module.run() == {"rows": [1, 2, 3]}


IMPORTS_THEN_DATA = """
# %% [markdown]
## Load
# %%
import math
# %%
rows = [math.sqrt(v) for v in range(4)]
rows
# %%
total = sum(rows)
"""


def test_code_cells_leave_out_an_imports_only_cell(tmp_path: Path) -> None:
    result, _ = make(IMPORTS_THEN_DATA, tmp_path)
    (load,) = result.plan.steps
    assert load.cells == (1, 2, 3)  # 0-based: the imports, the data, the sum
    assert load.code_cells == (2, 3)  # the import is hoisted to the module's top


def test_result_class_never_takes_a_notebook_name(tmp_path: Path) -> None:
    snippet = SIX_OUTPUTS.replace("scratch = ", "PrepareDataResult = ")
    result, source = make(snippet, tmp_path)
    name = result.plan.steps[0].returns
    assert name is not None and name != "PrepareDataResult" and len(name) <= 30
    assert f"class {name}:" in source
    assert run_pipeline(load_module(source, tmp_path)) == run_notebook_cells(result)


TYPED = """
# %% [markdown]
## Load
# %%
import numpy as np
import pandas as pd
from sklearn.linear_model import LinearRegression
frame = pd.DataFrame({"x": [1.0, 2.0, 3.0], "y": [2.0, 4.0, 6.0]})
clean = frame.dropna()
grid = np.linspace(0, 1, 3)
model = LinearRegression()
name = "demo"
rows = len(clean)
# %% [markdown]
## Fit
# %%
model.fit(clean[["x"]], clean["y"])
slope = float(model.coef_[0]) * len(grid)
print(name, rows, slope)
"""


def test_known_types_annotate_fields_arguments_and_returns_never_any_for_them(tmp_path: Path) -> None:
    result, source = make(TYPED, tmp_path)
    load = result.plan.steps[0]
    assert load.returns == "LoadResult"
    for field in ("clean: pd.DataFrame", "grid: np.ndarray", "model: LinearRegression"):
        assert f"    {field}\n" in source, field
    assert 'name: str = "demo"' in source  # a proposed parameter, typed by its literal
    assert "    rows: Any\n" in source  # len(...) is not a literal: unknown, so Any in a field
    assert "clean: pd.DataFrame," in source.split("def fit(", 1)[1].split(")", 1)[0] + ","
    module = load_module(source, tmp_path)
    assert module.run()["slope"] == pytest.approx(6.0)
