"""Parameters nbops proposes without a parameters cell: top-level literal constants the
notebook assigns once and reads later, with the comment beside them as help."""

from __future__ import annotations

import json
from pathlib import Path

from modularize_helpers import load_module, make, run_notebook_cells, run_pipeline, undefined_names

from nbops.modularize.api import plan_to_dict

CONSTANTS = """
# %% [markdown]
## Settings
# %%
ALPHA = 0.1  # smoothing
DATA_PATH = "data/sales.csv"  # where the export lands
USE_LOG = True
COLUMNS = ["a", "b"]  # the columns kept
# %% [markdown]
## Smooth
# %%
def smooth(values):
    return [v * (1 - ALPHA) for v in values]

series = smooth(list(range(4)))
label = DATA_PATH.upper() if USE_LOG else DATA_PATH
kept = [c.upper() for c in COLUMNS]
series
"""


def test_constants_with_comments_become_parameters_with_help(tmp_path: Path) -> None:
    result, source = make(CONSTANTS, tmp_path)
    params = {p.name: p for p in result.plan.parameters}
    assert list(params) == ["ALPHA", "DATA_PATH", "USE_LOG", "COLUMNS"]
    assert all(p.proposed for p in params.values())
    assert params["ALPHA"].default == "0.1" and params["ALPHA"].comment == "smoothing"
    assert params["USE_LOG"].comment == ""
    assert '    "ALPHA": 0.1,  # smoothing\n' in source
    assert '    "COLUMNS": ["a", "b"],  # the columns kept\n' in source
    # the function that reads it takes it as a parameter, and so does its step
    assert "def smooth(values, *, ALPHA):" in source
    smooth_step = next(s for s in result.plan.steps if "series" in s.results)
    assert set(smooth_step.parameters) == {"ALPHA", "DATA_PATH", "USE_LOG", "COLUMNS"}
    assert not undefined_names(source)

    module = load_module(source, tmp_path)
    assert module.PARAMETERS == {"ALPHA": 0.1, "DATA_PATH": "data/sales.csv", "USE_LOG": True, "COLUMNS": ["a", "b"]}
    assert run_pipeline(module) == run_notebook_cells(result)
    assert module.run({"ALPHA": 0.5})["series"] == [0.0, 0.5, 1.0, 1.5]

    # the plan lists them, as proposed, with their help
    listed = plan_to_dict(result, tmp_path)["parameters"]
    assert listed[0] == {"name": "ALPHA", "default": "0.1", "cell": 2, "help": "smoothing", "proposed": True}
    # the slim notebook still defines them (as `# nbops: parameter` lines) before the call
    slim = next(f for f in result.files if f.kind == "notebook")
    code = "\n".join("".join(c["source"]) for c in json.loads(slim.content)["cells"] if c["cell_type"] == "code")
    assert "ALPHA = 0.1  # nbops: parameter smoothing" in code
    assert code.index("ALPHA = 0.1") < code.index("alpha=ALPHA")  # the step's snake_case argument


NOT_PROPOSED = """
# %% [markdown]
## Settings
# %%
def late():
    return LATE

RATE = 0.5
RATE = 0.7  # assigned twice
LIMIT = 3
LIMIT += 1  # stepped
for K in [1, 2]:
    pass
BUFFER = [1, 2]
BUFFER.append(3)  # changed in place
LATE = 4  # read before it is assigned (below)
UNUSED = 9  # nothing reads it
_PRIVATE = 1
HUGE = list(range(3))  # not a literal
BIG = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]  # not a small list
API_TOKEN = "abc"  # a secret's name
GOOD = 2
# %% [markdown]
## Use
# %%
total = RATE + LIMIT + K + sum(BUFFER) + _PRIVATE + len(HUGE) + len(BIG) + len(API_TOKEN) + GOOD + late()
total
"""


def test_reassigned_names_loop_variables_and_others_are_not_proposed(tmp_path: Path) -> None:
    result, source = make(NOT_PROPOSED, tmp_path)
    assert [p.name for p in result.plan.parameters] == ["GOOD"]
    assert not undefined_names(source)
    module = load_module(source, tmp_path)
    assert run_pipeline(module) == run_notebook_cells(result)
    assert module.run({"GOOD": 3})["total"] == module.run()["total"] + 1


def test_a_tagged_parameters_cell_keeps_its_parameters_and_constants_join_them(tmp_path: Path) -> None:
    snippet = CONSTANTS.replace("## Settings\n# %%\n", "## Settings\n# %% tags=parameters\nSCALE = 2\n# %%\n")
    snippet = snippet.replace("series = smooth(", "series = SCALE * smooth(")
    result, source = make(snippet, tmp_path)
    params = result.plan.parameters
    assert [(p.name, p.proposed) for p in params][:2] == [("SCALE", False), ("ALPHA", True)]
    module = load_module(source, tmp_path)
    assert run_pipeline(module) == run_notebook_cells(result)
