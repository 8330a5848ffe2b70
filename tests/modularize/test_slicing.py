"""Library code and exploration: what stays in the slim notebook, what the library computes,
where a step is cut so a display sees what the notebook showed."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from modularize_helpers import load_module, make, ruff_findings, undefined_names

from nbops.core.dataflow import CodeCellInput, analyze_notebook
from nbops.core.notebook import Notebook
from nbops.core.snippets import notebook_from_snippet
from nbops.modularize.slicing import slice_notebook

EXPLORED = """
# %% [markdown]
## Load
# %%
import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns
df = pd.DataFrame({"a": [1.0, 2.0, None, 4.0], "b": [1, 0, 1, 0]})
df.head()
# %%
df.describe()
# %%
summary = df.groupby("b").a.describe()
summary
# %%
fig, ax = plt.subplots()
sns.histplot(df.a, ax=ax)
ax.set_title("a")
# %% [markdown]
## Model
# %%
clean = df.dropna()
total = clean.a.sum()
print("total", total)
"""


def slim_cells(result: object) -> list[str]:
    slim = next(f for f in result.files if f.kind == "notebook")  # type: ignore[attr-defined]
    return ["".join(c["source"]) for c in json.loads(slim.content)["cells"] if c["cell_type"] == "code"]


def test_exploration_stays_in_the_slim_notebook(tmp_path: Path) -> None:
    result, source = make(EXPLORED, tmp_path)
    load, model = result.plan.steps
    # the cells that only look are in no step; the ends of cells that look stay too
    assert load.cells == (1,) and load.exploration == (1, 2, 3, 4)
    assert model.cells == (6,) and model.exploration == (6,)
    steps = source.split("\ndef run(")[0]
    for shown in ("head()", "describe()", "histplot", "set_title", "print(", "show"):
        assert shown not in steps, shown
    # seaborn is only used by the exploration: imported by the slim notebook, not the module
    assert "import seaborn" not in source and "import matplotlib" not in source
    cells = slim_cells(result)
    assert any("import seaborn as sns" in c for c in cells)
    assert "df.head()" in cells and "df.describe()" in cells
    assert 'summary = df.groupby("b").a.describe()\nsummary' in cells
    assert 'print("total", total)' in cells
    # the library computes what the notebook computes
    module = load_module(source, tmp_path)
    values = module.run()
    assert values["total"] == 7.0 and list(values) == ["df", "clean", "total"]
    assert not undefined_names(source) and ruff_findings(source) == []


CAPTURED = """
# %% [markdown]
## Score
# %%
def score(values, t):
    return sum(v > t for v in values) / len(values)

values = [1, 2, 3, 4]
score(values, 2)
# %% [markdown]
## Setup
# %%
import warnings
warnings.filterwarnings("ignore")
"""


def test_a_shown_score_is_computed_by_the_library_under_a_name(tmp_path: Path) -> None:
    result, source = make(CAPTURED, tmp_path)
    step = result.plan.steps[0]
    assert "score_" in step.results or "score_value" in step.results or any(
        r.startswith("score") for r in step.results
    )
    name = next(r for r in step.results if r.startswith("score"))
    assert f"    {name} = score(values, 2)\n" in source
    assert load_module(source, tmp_path).run()[name] == 0.5
    # the slim notebook displays it from the step's result
    assert any(c.endswith(f"\n{name}") or c == name for c in slim_cells(result))
    # a call made for its effect is not a result
    assert "filterwarnings =" not in source and 'warnings.filterwarnings("ignore")' in source


LOOP = """
# %% [markdown]
## Train
# %%
import matplotlib.pyplot as plt
losses = []
weight = 0.0
for epoch in range(3):
    weight += 0.5
    losses.append(1 / (1 + weight))
    print("epoch", epoch, "loss", round(losses[-1], 3))
    plt.plot(losses)
done = 0
done += 1
print(f"trained {done} model")
"""


def test_prints_inside_library_code_are_logged_and_plots_there_are_left_out(tmp_path: Path) -> None:
    result, source = make(LOOP, tmp_path)
    steps = source.split("\ndef run(")[0]
    assert 'logger.info("%s %s %s %s", "epoch", epoch, "loss", round(losses[-1], 3))' in steps
    assert 'logger.info(f"trained {done} model")' in steps  # a counter: progress, logged
    assert "plt.plot" not in steps and "print(" not in steps
    assert "import logging" in source and "logger = logging.getLogger(__name__)" in source
    warning = next(p for p in result.plan.problems if "plt.plot(...)" in p.message)
    assert warning.severity == "warning" and warning.cell == 1
    module = load_module(source, tmp_path)
    assert module.run()["losses"] == [1 / 1.5, 0.5, 1 / 2.5]
    # the slim notebook shows the log on stdout, as the notebook printed it
    assert any("logging.basicConfig(" in c and "stream=sys.stdout" in c for c in slim_cells(result))


SAVED = """
# %% [markdown]
## Plot
# %%
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt
values = [1, 3, 2]
fig, ax = plt.subplots()
ax.plot(values)
ax.set_title("values")
plt.savefig("values.png")
"""


def test_a_figure_written_to_a_file_keeps_its_drawing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _, source = make(SAVED, tmp_path)
    assert "ax.plot(values)" in source and 'plt.savefig("values.png")' in source
    monkeypatch.chdir(tmp_path)
    load_module(source, tmp_path).run()
    assert (tmp_path / "values.png").stat().st_size > 1000


SNAKE = """
# %% tags=parameters
TEST_SIZE = 0.5
# %% [markdown]
## Split
# %%
X = [[0], [1], [2], [3]]
Y = [0, 1, 0, 1]
n_test = int(len(X) * TEST_SIZE)
X_train, X_test = X[n_test:], X[:n_test]
# %% [markdown]
## Use
# %%
rows = len(X_train) + len(X_test) + len(Y)
"""


def test_names_that_are_not_snake_case_are_inside_the_library(tmp_path: Path) -> None:
    result, source = make(SNAKE, tmp_path)
    steps = source[source.index("\ndef split(") : source.index("\ndef run(")]
    assert "x_train, x_test = x[n_test:], x[:n_test]" in steps
    assert "test_size: float = 0.5" in steps and "X_train" not in steps
    assert ruff_findings(source) == []
    module = load_module(source, tmp_path)
    values = module.run({"TEST_SIZE": 0.25})  # the notebook's names outside the library
    assert values["X_train"] == [[1], [2], [3]] and values["rows"] == 8
    call = next(c for c in slim_cells(result) if "= split(" in c or "split(" in c)
    assert "test_size=TEST_SIZE" in call and "X_train = split_result.x_train" in call


CUT = """
# %% [markdown]
## Clean
# %%
import pandas as pd
df = pd.DataFrame({"a": [1.0, None, 3.0]})
# %%
df.head()
# %%
df.dropna(inplace=True)
print(len(df))
"""


def test_a_display_before_a_later_change_cuts_the_step(tmp_path: Path) -> None:
    result, _ = make(CUT, tmp_path)
    # one section, two steps: `df.head()` must show the frame before dropna changes it
    first, second = result.plan.steps
    assert first.cells == (1,) and second.cells == (3,) and 2 in first.exploration
    assert second.title == "Clean (part 2)"
    proc = subprocess.run(
        [sys.executable, "-m", "nbops", "verify", "analysis.ipynb", "--package", "pkg", "--format", "json"],
        cwd=tmp_path, capture_output=True, text=True, timeout=600, check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    report = json.loads(proc.stdout)
    assert report["verdict"] == "equivalent" and report["compared"]["displays"] >= 2


# --- the slice never loses a value the library needs (property) --------------------------

POOL = [
    "x = [1, 2, 3]",
    "y = sum(x)",
    "x.append(4)",
    "x = x + [5]",
    "print(x)",
    "len(x)",
    "summary = sorted(x)",
    "s = str(y).upper()",
    "z = y * 2",
    "print(y, z)",
    "for v in x:\n    print(v)",
    "for v in x:\n    y = y + v",
    "if y > 3:\n    print('big')",
    "t = x.count(1)",
    "x",
    "y",
]


def _statements(tree: ast.Module) -> list[ast.stmt]:
    return list(tree.body)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.lists(st.sampled_from(POOL), min_size=1, max_size=4), min_size=1, max_size=6))
def test_no_statement_the_library_needs_stays_in_the_slim_notebook(cells: list[list[str]]) -> None:
    snippet = "".join("# %%\n" + "\n".join(cell) + "\n" for cell in cells)
    nb: Notebook = notebook_from_snippet(snippet)
    flow = analyze_notebook([CodeCellInput(c.index, c.source, c.execution_count) for c in nb.code_cells])
    sliced = slice_notebook(nb, flow, hoisted={}, skip_cells=(), taken=set())
    order: list[tuple[int, int, ast.stmt, bool]] = []
    for cell in nb.code_cells:
        tree = flow.symbols[cell.index].tree
        assert tree is not None
        slim = sliced.slim_statements(cell.index)
        for pos, stmt in enumerate(_statements(tree)):
            in_slim = cell.index in sliced.explored or id(stmt) in slim
            order.append((cell.index, pos, stmt, in_slim))
    for i, (_, _, stmt, in_slim) in enumerate(order):
        if not in_slim:
            continue
        bound = {n.id for n in ast.walk(stmt) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
        for _, _, later, later_slim in order[i + 1 :]:
            if later_slim:
                continue
            read = {n.id for n in ast.walk(later) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
            assert not bound & read, (ast.unparse(stmt), ast.unparse(later))
        # a slim statement changes nothing: no append, no augmented assignment
        assert not any(isinstance(n, ast.AugAssign) for n in ast.walk(stmt))
        assert "append" not in ast.unparse(stmt)


MIDDLE = """
# %% [markdown]
## Work
# %%
import matplotlib.pyplot as plt
values = [3, 1, 2]
plt.plot(values)
values.sort()
values
"""


def test_a_plot_between_library_statements_is_left_out_of_the_module(tmp_path: Path) -> None:
    result, source = make(MIDDLE, tmp_path)
    steps = source.split("\ndef run(")[0]
    assert "plt.plot" not in steps and "values.sort()" in steps
    assert any("plt.plot(...)" in p.message for p in result.plan.problems)
    assert load_module(source, tmp_path).run()["values"] == [1, 2, 3]


METRIC = """
# %% [markdown]
## Evaluate
# %%
from sklearn.metrics import accuracy_score
truth, guess = [1, 0, 1, 1], [1, 1, 1, 1]
acc = accuracy_score(truth, guess)
print(f"accuracy {acc:.2f}")
"""


def test_a_metric_is_a_float_result(tmp_path: Path) -> None:
    result, source = make(METRIC, tmp_path)
    (step,) = result.plan.steps
    assert "acc" in step.results
    assert "    acc: float\n" in source or "-> float:" in source
    assert load_module(source, tmp_path).run()["acc"] == 0.75


GLOBALS_AND_COMPREHENSIONS = """
# %% [markdown]
## Features
# %%
import pandas as pd
DTI_CAP = 2.5

def capped(v):
    return min(v, DTI_CAP)

def add_features(frame):
    frame["capped"] = frame["x"].apply(capped)
    return frame

frame = add_features(pd.DataFrame({"x": [1.0, 3.0]}))
pairs = [(f, f * 2) for f in frame.capped]
pd.DataFrame(pairs).describe()
"""


def test_globals_of_functions_and_comprehension_variables(tmp_path: Path) -> None:
    result, source = make(GLOBALS_AND_COMPREHENSIONS, tmp_path)
    # inside the notebook's functions the global keeps its name (their own parameter); the
    # step passes its snake_case local; `f` of the comprehension is no step value
    assert "functools.partial(capped, DTI_CAP=DTI_CAP)" in source
    assert "DTI_CAP=dti_cap)" in source and "def features(dti_cap: float = 2.5)" in source
    assert not undefined_names(source)
    assert all("f" not in (*s.outputs, *s.results) for s in result.plan.steps)
    assert load_module(source, tmp_path).run()["pairs"] == [(1.0, 2.0), (2.5, 5.0)]


REBOUND_BY_EXPLORATION = """
# %% [markdown]
## First
# %%
import pandas as pd
df = pd.DataFrame({"a": [1.0, 2.0, 4.0]})
view = df.a.tolist()
total = sum(view)
# %% [markdown]
## Second
# %%
df2 = df * 2
view = df2.describe()
view
# %% [markdown]
## Third
# %%
view.loc["mean"]
"""


def test_a_name_the_exploration_binds_again_is_no_value_of_the_step(tmp_path: Path) -> None:
    result, source = make(REBOUND_BY_EXPLORATION, tmp_path)
    _, second = result.plan.steps
    assert "view" not in (*second.outputs, *second.results) and "df2" in second.results
    assert not undefined_names(source)
    assert list(load_module(source, tmp_path).run()["df2"].a) == [2.0, 4.0, 8.0]
    assert 'view.loc["mean"]' in slim_cells(result)


SHOWN_MAGIC = """
# %% [markdown]
## Data
# %%
values = list(range(1, 4))
# %%
%%html
<b>three values</b>
# %%
total = sum(values)
"""


def test_a_cell_that_only_shows_html_stays_in_the_slim_notebook(tmp_path: Path) -> None:
    result, source = make(SHOWN_MAGIC, tmp_path)
    steps = result.plan.steps
    assert all(2 not in s.cells for s in steps) and any(2 in s.exploration for s in steps)
    assert "TODO" not in source and "three values" not in source
    assert "%%html\n<b>three values</b>" in slim_cells(result)


FITTED = """
# %% [markdown]
## Model
# %%
from sklearn.linear_model import LogisticRegression
x, y = [[0.0], [1.0], [2.0], [3.0]], [0, 0, 1, 1]
model = LogisticRegression(C=0.5)
model.fit(x, y)
"""


def test_a_cell_ending_in_fit_shows_the_model_in_the_slim_notebook(tmp_path: Path) -> None:
    result, source = make(FITTED, tmp_path)
    (step,) = result.plan.steps
    assert "model" in (*step.outputs, *step.results) and step.exploration == (1,)
    assert "    model.fit(x, y)\n" in source  # the library fits; it shows nothing
    assert slim_cells(result)[-1] == "model"  # what the notebook showed: the estimator


KERNEL = """
# %% [markdown]
## Load
# %%
from IPython.display import clear_output, display
values = [3, 1, 2]
total = sum(values)
# %% [markdown]
## Kernel
# %%
ip = get_ipython()
formats = sorted(ip.display_formatter.formatters)
# %%
handle = display("working", display_id=True)
# %%
def announce(text):
    ip.display_pub.publish({"text/plain": text})
# %%
for step in range(3):
    clear_output(wait=True)
    print(step)
handle.update("done")
announce(f"total {total}")
# %% [markdown]
## Report
# %%
doubled = [v * 2 for v in values]
doubled
"""


def test_what_only_a_running_kernel_has_stays_in_the_slim_notebook(tmp_path: Path) -> None:
    result, source = make(KERNEL, tmp_path)
    names = [s.name for s in result.plan.steps]
    # the get_ipython() cells, the display handle, the function using it, the loop
    # clearing output: all in the slim notebook, no step of theirs
    assert names == ["load", "report"], names
    for text in ("get_ipython", "display_id", "handle", "announce", "clear_output", "ip."):
        assert text not in source, text
    slim = "\n".join(slim_cells(result))
    for text in ("ip = get_ipython()", 'display("working", display_id=True)', "def announce(text):",
                 'handle.update("done")', "clear_output(wait=True)"):
        assert text in slim, text
    assert any("`announce` uses the running kernel (`ip`)" in p.message for p in result.plan.problems)
    assert not undefined_names(source)
    module = load_module(source, tmp_path)
    assert module.run()["doubled"] == [6, 2, 4]


def test_clock_readings_and_arithmetic_on_them_are_known() -> None:
    from nbops.modularize.slicing import clock_names

    nb = notebook_from_snippet(
        "# %%\nimport time, datetime\nt0 = time.perf_counter()\nstamp = datetime.datetime.now()\n"
        "rows = [1, 2]\n# %%\nelapsed = time.perf_counter() - t0\nminutes = elapsed / 60\n"
        "label = f'{minutes:.1f}'\ncount = len(rows)\n"
    )
    flow = analyze_notebook([CodeCellInput(c.index, c.source, c.execution_count) for c in nb.code_cells])
    assert clock_names(flow) == {"t0", "stamp", "elapsed", "minutes"}


INTERLEAVED = """
# %% [markdown]
## Draw
# %%
import matplotlib.pyplot as plt
xs = [1, 2, 3]
fig, ax = plt.subplots()
ax.plot(xs, [v * v for v in xs])
total = sum(xs)
ax.set_title(f"total {total}")
"""


def test_drawing_between_library_statements_joins_the_slim_part_when_it_can(tmp_path: Path) -> None:
    result, source = make(INTERLEAVED, tmp_path)
    assert len(result.plan.steps) == 1
    body = source.split("\ndef run(")[0]
    assert "ax.plot" not in body and "set_title" not in body and "total = sum(xs)" in body
    # the call, then every drawing of the cell, in one slim cell: the figure is shown whole
    cell = next(c for c in slim_cells(result) if "ax.plot" in c)
    assert cell.index("= draw(") < cell.index("plt.subplots()") < cell.index("ax.plot(xs") < cell.index("ax.set_title")
    assert not undefined_names(source)


def test_a_drawing_before_savefig_stays_with_it(tmp_path: Path) -> None:
    snippet = INTERLEAVED.replace('ax.set_title(f"total {total}")', 'fig.savefig("out.png")')
    _, source = make(snippet, tmp_path)
    body = source.split("\ndef run(")[0]
    # moved after savefig, the line would be missing from the file: it stays in the library
    assert "ax.plot(xs" in body and "fig.savefig" in body


LEADING = """
# %% [markdown]
## Load
# %%
rows = [3, 1, 3, 2]
# %% [markdown]
## Dedupe
# %%
print(len(rows))
sorted(rows)
rows = sorted(set(rows))
print(len(rows))
# %%
rows.append(9)
print(rows)
"""


def test_a_cells_leading_displays_are_shown_before_its_steps_call(tmp_path: Path) -> None:
    result, source = make(LEADING, tmp_path)
    names = [s.name for s in result.plan.steps]
    body = source.split("\ndef run(")[0].split("def dedupe")[1]
    assert "print" not in body and "rows = sorted(set(rows))" in body and "rows.append(9)" in body
    cells = slim_cells(result)
    call = next(c for c in cells if "dedupe(" in c)
    # one cell: what the notebook showed first, the call, then what it showed after
    assert call.index("print(len(rows))") < call.index("dedupe(") < call.rindex("print(len(rows))")
    assert "sorted(rows)\n" in call
    # the print ending cell 3 shows rows before cell 4 changes them: a step of its own
    assert names == ["load", "dedupe", "show_rows"] and cells[-1] == "print(rows)"


SETUP = """
# %%
%matplotlib inline
import matplotlib.pyplot as plt
plt.plot([0, 1], [1, 0])
# %% tags=raises-exception
missing_name
# %%
LIMIT = 10
# %%
print(LIMIT)
# %% [markdown]
## Use
# %%
values = list(range(LIMIT))
# %%
%%capture captured
print("hidden")
# %%
captured.stdout
"""


def test_the_slim_notebook_keeps_what_sets_up_the_kernel_where_the_notebook_had_it(tmp_path: Path) -> None:
    result, _ = make(SETUP, tmp_path)
    slim = next(f for f in result.files if f.kind == "notebook")
    cells = [c for c in json.loads(slim.content)["cells"] if c["cell_type"] == "code"]
    texts = ["".join(c["source"]) for c in cells]
    # the set-up magic first, and the plot of its cell (no step: its library part was the magic)
    assert texts[0] == "%matplotlib inline" and "plt.plot([0, 1], [1, 0])" in texts
    # an error the notebook expects keeps its tag
    expected = next(c for c in cells if "".join(c["source"]) == "missing_name")
    assert expected["metadata"]["tags"] == ["raises-exception"]
    # the proposed parameter where the notebook assigned it, before the print reading it
    assert texts.index("LIMIT = 10  # nbops: parameter") < texts.index("print(LIMIT)")
    # %%capture NAME and what reads its record only exist in a kernel: as written
    assert '%%capture captured\nprint("hidden")' in texts and "captured.stdout" in texts


def test_a_cell_whose_error_the_notebook_expects_is_no_library_code(tmp_path: Path) -> None:
    snippet = '# %% tags=raises-exception\nraise ValueError("shown")\n# %%\nrows = [1, 2]\nprint(sum(rows))\n'
    result, source = make(snippet, tmp_path)
    assert "raise ValueError" not in source
    slim = next(f for f in result.files if f.kind == "notebook")
    kept = next(c for c in json.loads(slim.content)["cells"] if "raise ValueError" in "".join(c["source"]))
    assert kept["metadata"]["tags"] == ["raises-exception"]
    assert isinstance(load_module(source, tmp_path).run(), dict)  # the pipeline runs through
