"""The gate's ``library`` check on a library of the new shape: a pass names its steps,
dataclass returns and parameters (proposed ones counted), never a display flag."""

from __future__ import annotations

from pathlib import Path

from nbops.core.notebook import read_notebook
from nbops.core.snippets import notebook_from_snippet
from nbops.modularize import ModularizeOptions, modularize
from nbops.review.library import library_status

NOTEBOOK = '''
# %% [markdown]
# Toy model

Simulated numbers, their mean and spread.
# %%
import numpy as np
N_SAMPLES = 50  # rows to simulate
# %% [markdown]
## Load data
# %%
data = np.random.default_rng(0).normal(size=N_SAMPLES)
# %% [markdown]
## Train model
# %%
def summarise(values):
    return values.mean(), values.std()


mean, spread = summarise(data)
# %%
print(mean / spread)
'''


def test_a_passing_library_check_says_the_library_shape(tmp_path: Path) -> None:
    path = tmp_path / "toy.ipynb"
    path.write_text(notebook_from_snippet(NOTEBOOK).dumps())
    modularize(path, ModularizeOptions())
    check = library_status(read_notebook(path), path)
    assert check.status == "pass", check.message
    assert check.message.startswith("toy.py (2 steps (1 returns a dataclass), 1 parameter (1 proposed)): tests pass")
    assert "show" not in check.message


def test_without_a_library_the_check_plans_nothing(tmp_path: Path) -> None:
    # an R notebook cannot be modularized: had the check planned it, it would say so; with
    # no library on disk it only looks where the library would be (nbops.core.layout)
    nb = notebook_from_snippet(NOTEBOOK)
    nb.metadata["kernelspec"] = {"name": "ir", "language": "R", "display_name": "R"}
    nb.metadata["language_info"] = {"name": "R"}
    path = tmp_path / "toy.ipynb"
    path.write_text(nb.dumps())
    check = library_status(read_notebook(path), path)
    assert (check.status, check.message) == ("fail", "no generated library (toy.py is missing)")
    assert check.fix == f"nbops modularize {path}"
