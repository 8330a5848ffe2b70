"""``nbops fix --propose-parameters``: the constants ``nbops modularize`` proposes become a
cell tagged ``parameters`` (opt-in, one reported change per moved line, guarded like every
fix); the notebook computes the same, and ``nbops run -p`` now changes the values."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from nbops.cli.main import main
from nbops.core.notebook import notebook_from_dict, read_notebook
from nbops.core.snippets import notebook_from_snippet
from nbops.lint.engine import Linter
from nbops.lint.fix import AppliedFix, FixOptions, UnreportedChangeError, fix_notebook
from nbops.modularize.parameters_cell import FIX_CODE, ProposeParameters

SNIPPET = """
# %% [markdown]
# Scores
# %%
import math
%matplotlib inline
# %% [markdown]
## Load
# %%
SEED = 3  # random seed
values = [SEED * k for k in range(4)]
# %%
SCALE = 2.5  # how much to scale
OFFSET = 1
# %% [markdown]
## Score
# %%
score = math.fsum(values) * SCALE + OFFSET
print("score", score)
"""


def _write(folder: Path, snippet: str = SNIPPET, name: str = "scores.ipynb") -> Path:
    path = folder / name
    path.write_text(notebook_from_snippet(snippet).dumps(), encoding="utf-8")
    return path


def _cells(path: Path) -> list[tuple[str, str, tuple[str, ...]]]:
    return [(c.cell_type, c.source, c.tags) for c in read_notebook(path).cells]


def _fix(*args: str) -> list[str]:
    """Only the parameters move: no other fix (--select of a rule with no finding here)."""
    return ["fix", "--propose-parameters", "--select", "NB103", *args]


def test_the_constants_move_to_a_tagged_cell_after_the_imports(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _write(tmp_path)
    assert main(_fix(str(path))) == 0
    out = capsys.readouterr().out
    cells = _cells(path)
    assert cells[:3] == [
        ("markdown", "# Scores", ()),
        ("code", "import math\n%matplotlib inline", ()),
        ("code", "SEED = 3  # random seed\nSCALE = 2.5  # how much to scale\nOFFSET = 1", ("parameters",)),
    ]
    # the assignments left their cells; the cell left empty is gone
    assert [c[1] for c in cells[3:]] == [
        "## Load",
        "values = [SEED * k for k in range(4)]",
        "## Score",
        'score = math.fsum(values) * SCALE + OFFSET\nprint("score", score)',
    ]
    # one change per moved line: its cell (numbered as before), line and what moved
    assert "cell 4: propose-parameters line 1: moved `SEED = 3  # random seed` into a new cell tagged 'parameters' (before cell 3)" in out
    assert "cell 5: propose-parameters line 1: moved `SCALE = 2.5  # how much to scale`" in out
    assert "cell 5: propose-parameters line 2: moved `OFFSET = 1`" in out and "the cell, left empty, is deleted" in out
    assert "Applied 3 fix(es)" in out
    assert list((tmp_path / ".nbops_backup").glob("scores.*.ipynb"))


def test_it_is_opt_in_and_diff_writes_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _write(tmp_path)
    before = path.read_bytes()
    assert main(["fix", "--select", "NB103", str(path)]) == 0
    assert path.read_bytes() == before and "Nothing to fix." in capsys.readouterr().out
    assert main([*_fix(str(path)), "--diff", "--format", "json"]) == 1
    (entry,) = json.loads(capsys.readouterr().out)["results"]
    assert path.read_bytes() == before
    assert [(a["code"], a["cell"]) for a in entry["applied"]] == [(FIX_CODE, 4), (FIX_CODE, 5), (FIX_CODE, 5)]
    assert entry["notes"] == [] and "tags=parameters" in entry["diff"]


def test_a_notebook_with_a_parameters_cell_is_skipped_with_a_note(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _write(tmp_path, SNIPPET.replace("# %%\nimport math", "# %% tags=parameters\nN = 1\n# %%\nimport math"))
    before = path.read_bytes()
    assert main(_fix(str(path))) == 0
    out = capsys.readouterr().out
    assert "scores.ipynb: cell 2 is tagged 'parameters' already: no parameters proposed" in out
    assert path.read_bytes() == before


def test_a_constant_sharing_its_line_stays_with_a_note(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _write(tmp_path, "# %%\nimport math\n# %%\nLIMIT = 4; other = 1\n# %%\nprint(math.sqrt(LIMIT), other)\n")
    before = path.read_bytes()
    assert main(_fix(str(path))) == 0
    assert "cell 2: `LIMIT` shares its line with other code: left where it is" in capsys.readouterr().out
    assert path.read_bytes() == before


def test_the_guard_refuses_a_cell_inserted_without_a_report(tmp_path: Path) -> None:
    """lint/fix's guard: a fix that adds a cell must report the insertion."""
    nb = read_notebook(_write(tmp_path))

    def sneaky(nb: Any) -> list[AppliedFix]:
        nb.insert_cell(0, {"cell_type": "code", "metadata": {}, "outputs": [],
                           "execution_count": None, "source": "x = 1"})
        return [AppliedFix("sneaky", 0, "changed nothing", ((0, "source"),))]

    options = FixOptions(rules=False, ruff=False, format=False, prepare=(sneaky,))
    with pytest.raises(UnreportedChangeError, match="a new cell 1 that no fix reports"):
        fix_notebook(nb, Linter(select=["NB"]), options)


# ---------------------------------------------------------------------------------- real runs

RUN_SNIPPET = """
# %% [markdown]
# Toy
# %%
import nbops
# %%
SEED = 3  # the seed
values = [SEED * k for k in range(4)]
# %%
SCALE = 2  # scale
score = sum(values) * SCALE
nbops.log_metric("score", score)
"""


def _nbops(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW_", "NBOPS_RUN"))}
    return subprocess.run(
        [sys.executable, "-m", "nbops", *args], cwd=cwd, capture_output=True, text=True,
        timeout=600, env=env, check=False,
    )


def _score(proc: subprocess.CompletedProcess[str]) -> float:
    assert proc.returncode == 0, proc.stdout + proc.stderr
    (run,) = json.loads(proc.stdout)["runs"]
    return float(run["metrics"]["score"])


@pytest.mark.slow
def test_the_fixed_notebook_runs_the_same_and_takes_parameters(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "toy"\n')
    path = _write(tmp_path, RUN_SNIPPET, "toy.ipynb")
    assert _score(_nbops(tmp_path, "run", "toy.ipynb", "--format", "json")) == 36.0
    refused = _nbops(tmp_path, "run", "toy.ipynb", "-p", "SEED", "5")
    assert refused.returncode == 2  # no parameters cell: nothing to inject into
    fixed = _nbops(tmp_path, *_fix("toy.ipynb"))
    assert fixed.returncode == 0, fixed.stderr
    assert ("code", "SEED = 3  # the seed\nSCALE = 2  # scale", ("parameters",)) in _cells(path)
    # papermill runs it with the same result, and now with other values
    assert _score(_nbops(tmp_path, "run", "toy.ipynb", "--format", "json")) == 36.0
    assert _score(_nbops(tmp_path, "run", "toy.ipynb", "-p", "SEED", "5", "--format", "json")) == 60.0
    assert _score(_nbops(tmp_path, "run", "toy.ipynb", "-p", "SCALE", "1", "--format", "json")) == 18.0


# ------------------------------------------------------------------------------ property test

NAMES = [f"P{n}" for n in range(40)]  # many: a name bound twice is not proposed
_name = st.sampled_from(NAMES)
_assign = st.one_of(
    st.builds(lambda n, v: f"{n} = {v}", _name, st.integers(-5, 99)),
    st.builds(lambda n, v: f"{n} = {v!r}  # help", _name, st.text("abc xyz", max_size=5)),
)
_line = st.one_of(
    _assign,
    _assign,
    _assign,
    st.builds(lambda n: f"print({n}, {n})" if n < "P3" else f"{n} += 1", _name),
    st.sampled_from(["import os", "%matplotlib inline", "x = os.sep", "", "# a comment",
                     "for i in range(2):\n    print(i)", "y = [\n    1,\n    2,\n]"]),
)
_cell = st.one_of(
    st.builds(lambda t: {"cell_type": "markdown", "metadata": {}, "source": t},
              st.sampled_from(["# Title", "## Part", "text"])),
    st.builds(
        lambda lines, tags, outs: {
            "cell_type": "code", "metadata": {"tags": tags} if tags else {},
            "execution_count": 1 if outs else None,
            "outputs": [{"output_type": "stream", "name": "stdout", "text": "out\n"}] if outs else [],
            "source": "\n".join(lines),
        },
        st.lists(_line, min_size=1, max_size=5),
        st.sampled_from([[], ["keep"]]),
        st.booleans(),
    ),
)


@settings(max_examples=150, deadline=None, database=None, derandomize=True,
          suppress_health_check=list(HealthCheck))
@given(st.lists(_cell, min_size=1, max_size=8), st.booleans(), st.sampled_from([True, True, True, False]))
def test_the_rewrite_never_loses_or_changes_another_cell(
    cells: list[dict[str, Any]], ids: bool, read_at_end: bool
) -> None:
    if read_at_end:  # most constants are then read after they are set
        cells = [*cells, {"cell_type": "code", "metadata": {}, "execution_count": None, "outputs": [],
                          "source": "\n".join(f"print({n})" for n in NAMES)}]
    if ids:
        cells = [{**c, "id": f"c{n}"} for n, c in enumerate(cells)]
    raw = {"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5 if ids else 4}
    nb = notebook_from_dict(json.loads(json.dumps(raw)))
    before = [json.loads(json.dumps(c.raw)) for c in nb.cells]
    applied = ProposeParameters()(nb)
    event(f"moved {len(applied)}")
    after = [c.raw for c in nb.cells]
    if not applied:
        assert after == before
        return
    (new,) = [c for c in after if "parameters" in c.get("metadata", {}).get("tags", [])]
    moved = "".join(new["source"]).split("\n")
    assert len(applied) == len(moved) == len(set(moved))  # one report per moved line
    assert not ids or new["id"] not in {c.get("id") for c in before}
    moved_from = {a.cell_index for a in applied}
    expected: list[dict[str, Any]] = []  # every other cell as it was; moved lines gone
    for index, old in enumerate(before):
        if index not in moved_from:
            expected.append(old)
            continue
        rest = [ln for ln in "".join(old["source"]).split("\n") if ln not in moved]
        if any(ln.strip() for ln in rest) or old["metadata"] or old["outputs"]:
            expected.append({**old, "source": rest})
        # else: emptied, without tags or outputs: deleted
    kept = [c for c in after if c is not new]
    assert len(kept) == len(expected)
    for got, want in zip(kept, expected):
        assert {k: v for k, v in got.items() if k != "source"} == {k: v for k, v in want.items() if k != "source"}
        lines = [ln for ln in "".join(got["source"]).split("\n") if ln.strip()]
        if isinstance(want["source"], list):  # lines of a cell the move changed
            assert lines == [ln for ln in want["source"] if ln.strip()]
        else:
            assert got["source"] == want["source"]
    # before every cell that sets or reads a moved name
    position = after.index(new)
    names = {ln.split(" = ")[0] for ln in moved}
    assert not any(
        any(name in "".join(c["source"]) for name in names) for c in after[:position] if c["cell_type"] == "code"
    )
    # and the guard accepts it: every change is reported
    again = notebook_from_dict(json.loads(json.dumps(raw)))
    fix_notebook(again, Linter(select=["NB"]), FixOptions(rules=False, ruff=False, format=False,
                                                          prepare=(ProposeParameters(),)))
    assert [c.raw for c in again.cells] == after
