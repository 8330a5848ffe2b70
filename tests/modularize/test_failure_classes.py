"""The failure classes of issue 13, each on a small notebook like the real ones that broke: a
star import of a package the notebook pip-installs, a notebook variable named ``Out``/``In``,
a class left in its step whose methods read other steps' values, a constant written as a
bare tuple, and notebooks without headings (or with one) that chained into one step. Each
module compiles, has no undefined name, and runs; where the notebook runs here, the
generated tests pass."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from modularize_helpers import load_module, make, run_notebook_cells, run_pipeline, undefined_names

from nbops.modularize import ModularizeResult


def module_of(result: ModularizeResult, source: str, folder: Path) -> object:
    compile(source, "module.py", "exec")
    assert undefined_names(source) == []
    assert result.refusal is None
    (folder / "loaded").mkdir(exist_ok=True)
    return load_module(source, folder / "loaded")


def generated_tests_pass(folder: Path) -> None:
    tests = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"],
        cwd=folder, capture_output=True, text=True, timeout=600, check=False,
    )
    assert tests.returncode == 0, tests.stdout[-3000:]


# -- a star import of a package the notebook pip-installs (fastai style) ----------------------

STAR_OF_INSTALLED = """
# %%
!pip install -q tqdm
# %%
from tqdm.auto import *
import json
# %% [markdown]
## Squares
# %%
items = list(range(5))
squares = [x * x for x in tqdm(items, disable=True)]
squares
# %% [markdown]
## Save
# %%
payload = json.dumps(squares)
payload
"""


def test_a_star_import_of_an_installed_package_is_hoisted_to_the_module(tmp_path: Path) -> None:
    # it stayed inside its step function, where Python refuses `import *`: nothing was written
    result, source = make(STAR_OF_INSTALLED, tmp_path)
    # module level, by the names the module uses (the only star import)
    assert re.search(r"^from tqdm\.auto import \w", source, re.MULTILINE)
    assert not re.search(r"^[ \t]+from tqdm\.auto import", source, re.MULTILINE)
    assert result.requirements == ["tqdm"]
    module = module_of(result, source, tmp_path)
    assert module.run()["payload"] == "[0, 1, 4, 9, 16]"  # type: ignore[attr-defined]
    assert not any("does not compile" in p.message for p in result.plan.problems)


def test_a_plain_import_of_an_installed_package_still_stays_in_its_step(tmp_path: Path) -> None:
    snippet = STAR_OF_INSTALLED.replace("from tqdm.auto import *", "from tqdm.auto import tqdm")
    result, source = make(snippet, tmp_path)
    assert "\n    from tqdm.auto import tqdm\n" in source  # in its step: it needs the install
    assert "\nfrom tqdm.auto import tqdm\n" not in source
    assert module_of(result, source, tmp_path).run()["payload"] == "[0, 1, 4, 9, 16]"  # type: ignore[attr-defined]


# -- `Out` / `In` as the notebook's own variables -------------------------------------------

OWN_OUT = """
# %% [markdown]
## Data
# %%
In = [1, 2, 3]
Out = [x * 2 for x in In]
# %% [markdown]
## Model
# %%
def scale(k):
    return [k * v for v in Out][: len(In)]

scaled = scale(3)
print(scaled)
# %% [markdown]
## Report
# %%
total = sum(Out) + len(In)
total
"""


def test_out_and_in_the_notebook_binds_are_ordinary_values(tmp_path: Path) -> None:
    # they were taken for IPython's history: `Out` undefined in two steps, nothing written
    result, source = make(OWN_OUT, tmp_path)
    steps = {s.name: s for s in result.plan.steps}
    assert set(steps["data"].outputs) == {"In", "Out"}
    assert set(steps["model"].inputs) == {"In", "Out"}
    assert not any("IPython" in p.message for p in result.plan.problems)
    module = module_of(result, source, tmp_path)
    assert module.run()["scaled"] == [6, 12, 18]  # type: ignore[attr-defined]
    assert run_pipeline(module) == run_notebook_cells(result)  # type: ignore[arg-type]
    generated_tests_pass(tmp_path)


# -- a class left in its step, reading other steps' values -----------------------------------

NESTED_CLASS = """
# %% [markdown]
## Rates
# %%
rates = {"eur": 1.1, "gbp": 1.3}
base = "usd"
# %% [markdown]
## Converter
# %%
class Converter:
    def convert(self, amount, currency):
        return amount * rates[currency]

    def label(self):
        return base.upper()
# %% [markdown]
## Convert
# %%
converter = Converter()
total = converter.convert(10, "eur")
print(converter.label(), total)
"""


def test_a_class_in_its_step_gets_the_values_its_methods_read(tmp_path: Path) -> None:
    # `rates` and `base` were undefined inside the step that defines the class
    result, source = make(NESTED_CLASS, tmp_path)
    converter = result.plan.steps[1]  # the step defining the class
    assert converter.inputs == ("rates",) and converter.parameters == ("base",)
    assert "rates" in result.plan.steps[0].outputs
    module = module_of(result, source, tmp_path)
    assert module.run()["total"] == 11.0  # type: ignore[attr-defined]
    assert module.run({"base": "chf"})["converter"].label() == "CHF"  # type: ignore[attr-defined]
    generated_tests_pass(tmp_path)


def test_a_function_defined_twice_reads_the_earlier_steps_value(tmp_path: Path) -> None:
    # defined twice, so never hoisted: the second definition stays in its step as a closure
    snippet = """
# %% [markdown]
## Prices
# %%
prices = list(range(3, 6))
def cost(n):
    return n
# %% [markdown]
## Cost
# %%
def cost(n):
    return n * max(prices)
# %% [markdown]
## Bill
# %%
bill = cost(2)
bill
"""
    result, source = make(snippet, tmp_path)
    assert result.plan.steps[1].inputs == ("prices",)
    module = module_of(result, source, tmp_path)
    assert module.run()["bill"] == 10  # type: ignore[attr-defined]


# -- a constant written as a bare tuple (nbsphinx's doc/code-cells.ipynb) ---------------------

BARE_TUPLES = """
# %%
start = 255, 0, 0
end = 0, 0, 255
length = 8
# %%
ramp = [tuple(start[c] + (end[c] - start[c]) * i // length for c in range(3)) for i in range(length)]
ramp[-1]
"""


def test_a_bare_tuple_constant_is_a_parenthesized_default(tmp_path: Path) -> None:
    # `"start": 255, 0, 0,` split the PARAMETERS dict: the module did not compile
    result, source = make(BARE_TUPLES, tmp_path)
    defaults = {p.name: p.default for p in result.plan.parameters}
    assert defaults == {"start": "(255, 0, 0)", "end": "(0, 0, 255)", "length": "8"}
    assert '"start": (255, 0, 0),' in source
    module = module_of(result, source, tmp_path)
    assert module.PARAMETERS["start"] == (255, 0, 0)  # type: ignore[attr-defined]
    module.run({"start": (0, 0, 0)})  # type: ignore[attr-defined]
    assert run_pipeline(module) == run_notebook_cells(result)  # type: ignore[arg-type]


def test_bare_tuples_in_a_parameters_cell_and_marked_lines(tmp_path: Path) -> None:
    snippet = """
# %% tags=["parameters"]
size = 3, 4
origin = (0, 0)
pair = (1), (2)
# %%
scale = 2, 2  # nbops: parameter
area = size[0] * size[1] * scale[0] + origin[0] + pair[1]
print(area)
"""
    result, source = make(snippet, tmp_path)
    defaults = {p.name: p.default for p in result.plan.parameters}
    assert defaults == {"size": "(3, 4)", "origin": "(0, 0)", "pair": "((1), (2))", "scale": "(2, 2)"}
    module = module_of(result, source, tmp_path)
    assert module.PARAMETERS["pair"] == (1, 2)  # type: ignore[attr-defined]
    assert run_pipeline(module) == run_notebook_cells(result)  # type: ignore[arg-type]


# -- notebooks without headings, or with one: several named steps -----------------------------

IRIS = """
# %%
import pandas as pd
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
# %%
iris = load_iris(as_frame=True).frame
iris.head()
# %%
iris = iris.dropna()
iris["ratio"] = iris["petal length (cm)"] / iris["petal width (cm)"]
# %%
X = iris.drop(columns=["target"])
y = iris["target"]
# %%
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, random_state=0)
# %%
model = LogisticRegression(max_iter=500)
model.fit(X_train, y_train)
# %%
accuracy = model.score(X_test, y_test)
print(f"accuracy: {accuracy:.3f}")
"""


def test_a_chain_of_cells_without_headings_splits_into_named_steps(tmp_path: Path) -> None:
    # every cell read the one before: clustering chained them into one step
    result, source = make(IRIS, tmp_path)
    assert result.plan.strategy == "clusters"
    names = [s.name for s in result.plan.steps]
    assert len(names) >= 3 and not any(n.startswith("step_") for n in names)
    assert {"split_data", "train_model"} <= set(names)
    assert names[0].startswith("load_iris")
    module = module_of(result, source, tmp_path)
    assert 0.9 < module.run()["accuracy"] <= 1.0  # type: ignore[attr-defined]
    generated_tests_pass(tmp_path)


def test_a_single_heading_above_the_code_splits_the_same_way(tmp_path: Path) -> None:
    result, _ = make("# %% [markdown]\n## Iris classifier\n" + IRIS, tmp_path)
    (tmp_path / "without").mkdir()
    without, _ = make(IRIS, tmp_path / "without")
    assert [s.name for s in result.plan.steps] == [s.name for s in without.plan.steps]
