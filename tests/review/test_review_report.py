"""The review report's library section: the generated library in its new shape (steps that
take inputs and parameters and return one value or a ``<Step>Result`` dataclass, ``run(params)``,
proposed parameters, the slim notebook's exploration), never a display flag."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from nbops.core.snippets import notebook_from_snippet
from nbops.review.checks import GateReport
from nbops.review.policy import Policy
from nbops.review.report import ReportInput, library_markdown, library_summary, render_report

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
data[:5]
# %% [markdown]
## Train model
# %%
def summarise(values):
    return values.mean(), values.std()


mean, spread = summarise(data)
# %% [markdown]
## Report
# %%
score = mean / spread
print(score)
'''

# the plan JSON of `nbops modularize --dry-run --format json` (docs/modularize.md) for a
# module of the new shape
PLAN: dict[str, Any] = {
    "version": 1, "notebook": "toy.ipynb", "package": "toy", "module": "toy",
    "parameters": [
        {"name": "SEED", "default": "0", "cell": 2, "help": "random seed", "proposed": False},
        {"name": "N_SAMPLES", "default": "50", "cell": 3, "help": "rows to simulate", "proposed": True},
    ],
    "steps": [
        {"name": "load_data", "title": "Load data", "cells": [5, 6], "inputs": [], "outputs": ["data"],
         "results": [], "returns": None, "fields": [], "parameters": ["N_SAMPLES"], "doc": "",
         "lines": 2, "exploration": [6]},
        {"name": "train_model", "title": "Train model", "cells": [8], "inputs": ["data"],
         "outputs": ["mean", "spread"], "results": [], "returns": "TrainModelResult",
         "fields": ["mean", "spread"], "parameters": ["SEED"], "doc": "", "lines": 3, "exploration": []},
    ],
    "files": [
        {"path": "src/toy/toy.py", "kind": "module", "action": "unchanged"},
        {"path": "tests/test_toy.py", "kind": "tests", "action": "unchanged"},
        {"path": "toy_slim.ipynb", "kind": "notebook", "action": "unchanged"},
    ],
    "problems": [],
}


def report(library: dict[str, Any] | None) -> str:
    nb = notebook_from_snippet(NOTEBOOK)
    return render_report(ReportInput(notebook=nb, path="toy.ipynb", gate=GateReport("toy.ipynb", Policy(), []),
                                     params=None, library=library))


def test_the_library_section_lists_steps_dataclass_returns_and_proposed_parameters() -> None:
    text = report(PLAN)
    section = text[text.index("## Library"):text.index("## Latest tracked run")]
    assert "`src/toy/toy.py`, written by `nbops modularize`: 2 steps (1 returns a dataclass), " \
           "2 parameters (1 proposed)." in section
    assert "`run(params)` runs them in order and returns every step's values by name" in section
    assert "The slim notebook `toy_slim.ipynb` calls the steps and shows their results, and " \
           "keeps the exploration of cells 6." in section
    assert "| `load_data` | 5-6 | 2 | `N_SAMPLES` | `data` |" in section
    assert "| `train_model` | 8 | 3 | `data`, `SEED` | `TrainModelResult` (`mean`, `spread`) |" in section
    assert "| `N_SAMPLES` | `50` | rows to simulate | proposed by nbops: a constant of cell 3, " \
           "not yet in a parameters cell |" in section
    assert "| `SEED` | `0` | random seed | cell 2 |" in section
    assert "show" not in section.replace("shows their results", "")


def test_no_library_no_section_and_the_report_is_deterministic() -> None:
    assert "## Library" not in report(None)
    assert report(PLAN) == report(PLAN)


def test_a_step_returning_nothing_and_a_plan_without_sizes() -> None:
    plan = {**PLAN, "steps": [{**PLAN["steps"][0], "outputs": [], "lines": 0}], "parameters": []}
    lines = library_markdown(plan)
    assert "| step | cells | takes | returns |" in lines
    assert "| `load_data` | 5-6 | `N_SAMPLES` | nothing |" in lines
    assert library_summary(plan) == "1 step, 0 parameters"


def test_the_report_of_a_real_modularized_notebook_names_its_dataclass(tmp_path: Path) -> None:
    from nbops.modularize import ModularizeOptions, modularize, plan_to_dict

    path = tmp_path / "toy.ipynb"
    path.write_text(notebook_from_snippet(NOTEBOOK).dumps())
    result = modularize(path, ModularizeOptions(dry_run=True))
    plan = plan_to_dict(result, tmp_path)
    classes = [s["returns"] for s in plan["steps"] if s["returns"]]
    assert classes, plan  # mean and spread leave their step together
    text = report(plan)
    section = text[text.index("## Library"):text.index("## Latest tracked run")]
    assert f"`{classes[0]}` (`mean`, `spread`)" in section
    assert "N_SAMPLES" in section and "proposed by nbops" in section
    assert "show=" not in text and "show:" not in text


def test_the_report_shows_the_verdict_the_merge_will_get_when_thresholds_exist() -> None:
    from nbops.config import PromoteConfig

    def card(promote: PromoteConfig | None) -> str:
        return render_report(ReportInput(
            notebook=notebook_from_snippet(NOTEBOOK), path="toy.ipynb",
            gate=GateReport("toy.ipynb", Policy(), []), params=None,
            latest_run={"run_id": "r1", "status": "FINISHED", "metrics": {"accuracy": 0.93}},
            champion={"model": "toy", "version": "1", "run_id": "r0", "metrics": {"accuracy": 0.91}},
            promote=promote))

    text = card(PromoteConfig("accuracy", min_value=0.85, min_absolute_change=0.01))
    assert ("**On merge**: PASS: accuracy 0.93 >= min-value 0.85: ok; +0.02 vs champion 0.91 >= "
            "min-absolute-change 0.01: ok") in text
    held = card(PromoteConfig("accuracy", min_absolute_change=0.05))
    assert "**On merge**: HOLD: +0.02 vs champion 0.91 < min-absolute-change 0.05: HOLD" in held
    assert "On merge" not in card(None) and "On merge" not in card(PromoteConfig())
