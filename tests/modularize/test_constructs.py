"""nbops modularize on notebooks with every construct the issue lists.

The core check, per snippet: the generated module compiles, has no undefined names (ruff
F821), leaves the input notebook byte-identical, and its pipeline computes, step by step,
the values the notebook's cells compute when run top to bottom in one namespace.
"""

from __future__ import annotations

import ast
import hashlib
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import black
import pytest
from modularize_helpers import (
    load_module,
    make,
    ruff_findings,
    run_notebook_cells,
    run_pipeline,
    undefined_names,
    write_notebook,
)

from nbops.errors import ConflictError, NotebookReadError, NotFoundError, UsageError
from nbops.modularize import ModularizeOptions, modularize

GLOBALS_IN_FUNCTIONS = """
# %% [markdown]
## Setup
# %%
threshold = 3
scale = 10
# %% [markdown]
## Scoring
# %%
def score(x):
    return x * scale if x > threshold else 0

def total(values):
    return sum(score(v) for v in values)

values = [1, 5, 7]
scores = list(map(score, values))
result = total(values)
"""

MUTATION_ACROSS_STEPS = """
# %% [markdown]
## Load
# %%
rows = [3, 1, 2]
meta = {"n": 3}
# %% [markdown]
## Clean
# %%
rows.sort()
rows.append(4)
meta["n"] = len(rows)
# %% [markdown]
## Report
# %%
summary = f"{meta['n']} rows, first {rows[0]}"
"""

REDEFINITION = """
# %% [markdown]
## One
# %%
data = [1, 2, 3]
total = sum(data)
# %% [markdown]
## Two
# %%
data = [d * 2 for d in data]
total = sum(data)
# %% [markdown]
## Three
# %%
final = total + len(data)
"""

LOOPS_AND_BRANCHES = """
# %% [markdown]
## Build
# %%
squares = {}
for i in range(5):
    if i % 2:
        squares[i] = i * i
    else:
        continue
mode = "odd" if squares else "none"
while len(squares) < 4:
    squares[len(squares) * 10] = 0
# %% [markdown]
## Use
# %%
try:
    biggest = max(squares.values())
except ValueError:
    biggest = None
with open(__file__ if False else "/dev/null") as handle:
    lines = handle.readlines()
"""

STAR_IMPORT = """
# %%
from math import *
# %% [markdown]
## Compute
# %%
angle = pi / 4
value = round(sin(angle) ** 2 + cos(angle) ** 2, 6)
"""

LAMBDAS = """
# %% [markdown]
## Functions
# %%
offset = 2
def apply_all(items, fn=lambda v: v):
    return [fn(v) for v in items]

def shifted(items):
    helper = lambda v: v + offset
    return apply_all(items, lambda v: helper(v) * 2)
# %% [markdown]
## Use
# %%
out = apply_all([1, 2], lambda v: v + offset)
out2 = shifted([1, 2])
key = sorted(["bb", "a"], key=lambda s: (len(s), s))
"""

CLASSES = """
# %% [markdown]
## Model
# %%
class Counter:
    def __init__(self, start):
        self.count = start

    def bump(self):
        self.count += 1
        return self

limit = 5
class Capped:
    def value(self, x):
        return min(x, limit)
# %% [markdown]
## Use
# %%
c = Counter(1).bump().bump()
capped = Capped().value(10)
count = c.count
"""

NO_HEADINGS = """
# %%
import statistics
# %%
xs = [1.0, 2.0, 4.0]
# %%
mean = statistics.mean(xs)
# %%
ys = [10, 20]
# %%
spread = max(ys) - min(ys)
"""

STEP_TAGS = """
# %% tags=parameters
n = 4
factor = 1.5
# %% tags=step:make
base = list(range(n))
# %%
scaled = [b * factor for b in base]
# %% tags=step:summarise
total = sum(scaled)
"""

SHADOWED_BUILTIN = """
# %% [markdown]
## Stats
# %%
values = [4, 9, 2]
top = max(values)
max = top * 2
# %% [markdown]
## Later
# %%
doubled = max + 1
low = min(values)
"""

MULTILINE_STRINGS = '''
# %% [markdown]
## Query
# %%
query = """
SELECT *
  FROM t
"""
# a comment that must survive
note = f"""rows:
{len(query)}"""
'''

DISPLAYS = """
# %% [markdown]
## Data
# %%
table = {"a": 1}
table
# %%
print("rows", len(table))
len(table), 2
# %% [markdown]
## More
# %%
size = len(table)
size;
"""

GLOBAL_STATEMENT = """
# %% [markdown]
## Setup
# %%
calls = 0

def bump():
    global calls
    calls += 1
    return calls
# %% [markdown]
## Use
# %%
bump()
bump()
seen = calls
"""

DELETED = """
# %% [markdown]
## Parse
# %%
tmp = [1, 2, 3]
total = sum(tmp)
del tmp
# %% [markdown]
## Double
# %%
double = total * 2
"""

STAR_IMPORT_NAMES = """
# %%
from math import *
# %% [markdown]
## Pi
# %%
area = pi * 2
# %% [markdown]
## E
# %%
growth = e ** area
"""

SNIPPETS = {
    "global-statement": GLOBAL_STATEMENT,
    "deleted-name": DELETED,
    "star-import-names": STAR_IMPORT_NAMES,
    "globals-in-functions": GLOBALS_IN_FUNCTIONS,
    "mutation-across-steps": MUTATION_ACROSS_STEPS,
    "redefinition-in-later-step": REDEFINITION,
    "loops-and-branches": LOOPS_AND_BRANCHES,
    "star-import": STAR_IMPORT,
    "lambdas": LAMBDAS,
    "classes": CLASSES,
    "no-headings": NO_HEADINGS,
    "step-tags": STEP_TAGS,
    "shadowed-builtin": SHADOWED_BUILTIN,
    "multiline-strings": MULTILINE_STRINGS,
    "displays": DISPLAYS,
}


def equal(a: Any, b: Any) -> bool:
    if type(a).__name__ != type(b).__name__:
        return False
    if isinstance(a, type):
        return a.__name__ == b.__name__
    if hasattr(a, "__dict__") and not isinstance(a, type):
        return vars(a) == vars(b)
    return bool(a == b)


@pytest.mark.parametrize("snippet", list(SNIPPETS.values()), ids=list(SNIPPETS))
def test_pipeline_computes_what_the_notebook_computes(
    snippet: str, tmp_path: Path
) -> None:
    notebook = write_notebook(snippet, tmp_path)
    before = hashlib.sha256(notebook.read_bytes()).hexdigest()
    result, source = make(snippet, tmp_path)
    assert hashlib.sha256(notebook.read_bytes()).hexdigest() == before
    compile(source, "module.py", "exec")
    assert undefined_names(source) == []
    assert ruff_findings(source) == []
    # ruff format writes black's style: black itself changes nothing, in the module or tests
    tests = next(f for f in result.files if f.kind == "tests").content
    assert black.format_str(source, mode=black.Mode()) == source
    assert black.format_str(tests, mode=black.Mode()) == tests
    module = load_module(source, tmp_path)
    expected = run_notebook_cells(result)
    got = run_pipeline(module)
    assert list(got) == list(expected)
    for step, values in expected.items():
        assert list(got[step]) == list(values), step
        for name, value in values.items():
            assert equal(
                got[step][name], value
            ), f"{step}.{name}: {got[step][name]!r} != {value!r}"


def test_function_globals_become_keyword_parameters(tmp_path: Path) -> None:
    result, source = make(GLOBALS_IN_FUNCTIONS, tmp_path)
    tree = ast.parse(source)
    defs = {n.name: n for n in tree.body if isinstance(n, ast.FunctionDef)}
    # in the order the function reads them (the condition runs first)
    assert [a.arg for a in defs["score"].args.kwonlyargs] == ["threshold", "scale"]
    # total calls score, so it needs score's globals too
    assert [a.arg for a in defs["total"].args.kwonlyargs] == ["threshold", "scale"]
    assert "functools.partial(score, threshold=threshold, scale=scale)" in source
    assert "score(v, threshold=threshold, scale=scale)" in source
    assert result.to_dict()["globals_to_parameters"] == [
        {"function": "score", "name": "threshold", "cell": 4},
        {"function": "score", "name": "scale", "cell": 4},
        {"function": "total", "name": "threshold", "cell": 4},
        {"function": "total", "name": "scale", "cell": 4},
    ]


def test_class_reading_a_global_stays_in_its_step_and_is_reported(
    tmp_path: Path,
) -> None:
    result, source = make(CLASSES, tmp_path)
    top = {n.name for n in ast.parse(source).body if isinstance(n, ast.ClassDef)}
    assert top - {s.returns for s in result.plan.steps} == {"Counter"}  # and steps' dataclasses
    assert any("class `Capped`" in p.message for p in result.problems)


def test_parameters_become_function_arguments_with_defaults(tmp_path: Path) -> None:
    result, source = make(STEP_TAGS, tmp_path)
    plan = result.to_dict()
    assert [s["name"] for s in plan["steps"]] == ["make", "summarise"]
    assert plan["steps"][0]["parameters"] == ["factor", "n"]
    assert plan["parameters"] == [
        {"name": "n", "default": "4", "cell": 1, "help": "", "proposed": False},
        {"name": "factor", "default": "1.5", "cell": 1, "help": "", "proposed": False},
    ]
    module = load_module(source, tmp_path)
    assert module.PARAMETERS == {"n": 4, "factor": 1.5}
    assert module.make() == ([0, 1.5, 3.0, 4.5], [0, 1, 2, 3]) or module.make()
    assert module.run({"n": 2})["total"] == 1.5
    with pytest.raises(TypeError, match="unknown parameters: nope"):
        module.run({"nope": 1})


MAGICS = """
# %%
%matplotlib inline
!pip install tabulate==0.9 -q
%load_ext autoreload
import os
# %% [markdown]
## Work
# %%
%time x = sum(range(10))
%%capture
# %%
if x > 3:
    %env MODE=fast
    !mkdir -p out_dir
files = !ls
# %%
%sql SELECT 1
y = x + 1
"""


def test_magics_are_translated_dropped_or_left_as_todo(tmp_path: Path) -> None:
    result, source = make(MAGICS, tmp_path)
    compile(source, "module.py", "exec")
    assert undefined_names(source) == []
    assert result.requirements == ["tabulate==0.9"]
    assert "x = sum(range(10))" in source
    assert "matplotlib" not in source and "load_ext" not in source
    assert "os.environ['MODE'] = 'fast'" in source.replace('"', "'")
    assert 'subprocess.run(["mkdir", "-p", "out_dir"], check=False)' in source
    assert "files = subprocess.run" in source
    assert "TODO(nbops): %sql SELECT 1" in source
    assert any("`%sql`" in p.message and p.severity == "error" for p in result.problems)


def test_exec_defined_name_is_reported_with_its_cell(tmp_path: Path) -> None:
    snippet = """
# %%
exec("hidden = 41")
# %% [markdown]
## Use
# %%
answer = hidden + 1
"""
    result, source = make(snippet, tmp_path)
    compile(source, "module.py", "exec")
    assert undefined_names(source) == []
    problem = next(p for p in result.problems if "`hidden`" in p.message)
    assert problem.cell == 2 and problem.severity == "error"
    assert "exec" in problem.message


def test_undefined_name_stops_the_pipeline_like_the_notebook(tmp_path: Path) -> None:
    snippet = """
# %%
a = 1
# %% [markdown]
## Use
# %%
b = a + later
# %%
later = 2
"""
    result, source = make(snippet, tmp_path)
    assert undefined_names(source) == []
    module = load_module(source, tmp_path)
    with pytest.raises(NameError, match="'later' is not defined"):
        module.run()
    assert any("defined only later, in cell 4" in p.message for p in result.problems)


def test_syntax_error_cell_becomes_a_todo_and_the_rest_is_kept(tmp_path: Path) -> None:
    snippet = """
# %%
a = 1
# %% [markdown]
## Broken
# %%
b = (
# %% [markdown]
## Fine
# %%
c = a + 1
"""
    result, source = make(snippet, tmp_path)
    compile(source, "module.py", "exec")
    assert "# TODO(nbops): cell is not valid Python on its own" in source
    assert "c = a + 1" in source
    assert any(p.cell == 2 and "does not parse" in p.message for p in result.problems)


def test_displays_stay_in_the_slim_notebook_and_the_library_shows_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    result, source = make(DISPLAYS, tmp_path)
    steps = source.split("\ndef run(")[0]
    # no display flag, no helper, no print, no bare value in the library
    assert "show" not in steps and "print(" not in steps and "_nb_show" not in source
    assert "    table\n" not in steps and "size;" not in steps
    module = load_module(source, tmp_path)
    assert module.run() == {"table": {"a": 1}, "size": 1}
    assert capsys.readouterr().out == ""
    # the slim notebook shows them, as the notebook wrote them
    slim = next(f for f in result.files if f.kind == "notebook")
    cells = ["".join(c["source"]) for c in json.loads(slim.content)["cells"] if c["cell_type"] == "code"]
    assert "table" in cells and 'print("rows", len(table))\nlen(table), 2' in cells


def test_comments_and_multiline_strings_survive(tmp_path: Path) -> None:
    _, source = make(MULTILINE_STRINGS, tmp_path)
    assert '    query = """\nSELECT *\n  FROM t\n"""' in source
    assert "    # a comment that must survive" in source


def test_shadowed_builtin_is_renamed_after_its_binding(tmp_path: Path) -> None:
    _, source = make(SHADOWED_BUILTIN, tmp_path)
    assert "top = max(values)" in source and "max_ = top * 2" in source
    module = load_module(source, tmp_path)
    assert module.run()["max"] == 18


def test_dry_run_writes_nothing_and_reports_files(tmp_path: Path) -> None:
    result, _ = make(STEP_TAGS, tmp_path, dry_run=True)
    plan = result.to_dict(tmp_path)
    assert plan["dry_run"] is True and plan["written"] is False
    assert [(f["path"], f["kind"], f["action"]) for f in plan["files"]] == [
        ("src/pkg/__init__.py", "init", "create"),
        ("src/pkg/analysis.py", "module", "create"),
        ("tests/test_analysis.py", "tests", "create"),
        ("analysis_slim.ipynb", "notebook", "create"),
    ]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["analysis.ipynb"]


def test_rewrites_its_own_files_but_never_a_users(tmp_path: Path) -> None:
    make(STEP_TAGS, tmp_path)
    again, _ = make(STEP_TAGS, tmp_path)
    assert {f.action for f in again.files} == {"unchanged"}
    # an edited generated file, and a hand-written one, are conflicts
    module = tmp_path / "src" / "pkg" / "analysis.py"
    module.write_text(module.read_text() + "\n# my change\n")
    with pytest.raises(ConflictError) as info:
        make(STEP_TAGS.replace("n = 4", "n = 5"), tmp_path)
    assert "src/pkg/analysis.py" in str(info.value)
    assert module.read_text().endswith("# my change\n")
    result, _ = make(STEP_TAGS.replace("n = 4", "n = 5"), tmp_path, force=True)
    assert "n = 5" not in module.read_text() or '"n": 5' in module.read_text()
    assert {f.kind: f.action for f in result.files}["module"] == "overwrite"
    # a dry run reports the conflict instead of raising
    module.write_text("# hand written\n")
    dry, _ = make(STEP_TAGS, tmp_path, dry_run=True)
    assert {f.kind: f.action for f in dry.files}["module"] == "conflict"


def test_existing_init_is_never_rewritten(tmp_path: Path) -> None:
    init = tmp_path / "src" / "pkg" / "__init__.py"
    init.parent.mkdir(parents=True)
    init.write_text("VERSION = 1\n")
    result, _ = make(STEP_TAGS, tmp_path)
    assert init.read_text() == "VERSION = 1\n"
    assert {f.kind: f.action for f in result.files}["init"] == "unchanged"


@pytest.mark.parametrize(
    ("content", "error"),
    [
        (None, NotFoundError),
        ("{not json", NotebookReadError),
        (
            '{"cells": [], "metadata": {"kernelspec": {"name": "ir", "language": "R"}, '
            '"language_info": {"name": "R"}}, "nbformat": 4, "nbformat_minor": 5}',
            UsageError,
        ),
    ],
    ids=["missing", "broken-json", "r-kernel"],
)
def test_bad_input_gets_a_clear_error(
    content: str | None, error: type[Exception], tmp_path: Path
) -> None:
    path = tmp_path / "nb.ipynb"
    if content is not None:
        path.write_text(content)
    with pytest.raises(error) as info:
        modularize(path, ModularizeOptions(out=tmp_path, package="pkg"))
    assert "nb.ipynb" in str(info.value)


def test_bad_package_name_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="not a Python package name"):
        make(STEP_TAGS, tmp_path, package="my-package")


def test_package_defaults_to_the_project_name(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "churn-models"\n')
    nb_dir = tmp_path / "notebooks"
    nb_dir.mkdir()
    path = write_notebook(STEP_TAGS, nb_dir)
    result = modularize(path, ModularizeOptions(dry_run=True))
    assert result.package == "churn_models"
    paths = {f.kind: f.path for f in result.files}
    assert paths["module"] == tmp_path / "src" / "churn_models" / "analysis.py"
    assert paths["notebook"] == nb_dir / "analysis_slim.ipynb"


MARKED = """
# %% [markdown]
## Prepare
# %%
rate = 0.25  # nbops: parameter learning rate
steps = len("abc")
# %% [markdown]
## Train
# %%
history = [rate * i for i in range(steps)]
"""


def test_marked_literals_become_parameters(tmp_path: Path) -> None:
    result, source = make(MARKED, tmp_path)
    plan = result.to_dict()
    assert plan["parameters"] == [
        {"name": "rate", "default": "0.25", "cell": 2, "help": "learning rate", "proposed": False}
    ]
    assert plan["steps"][0]["parameters"] == ["rate"] and plan["steps"][1]["parameters"] == ["rate"]
    assert "def prepare(rate: float = 0.25)" in source and "rate = 0.25" not in source
    module = load_module(source, tmp_path)
    assert module.run()["history"] == [0.0, 0.25, 0.5]
    assert module.run({"rate": 1})["history"] == [0, 1, 2]
    assert run_pipeline(module) == run_notebook_cells(result)


@pytest.mark.parametrize(
    ("snippet", "needle"),
    [
        ("# %%\ndef sum(x, y):\n    return x + y\n# %%\ntotal = sum(1, 2)\n", "total = sum(1, 2)"),
        ("# %%\nx = 1\n# %%\nwith open('/dev/null') as f:\n    display(x)\n",
         "from IPython.display import display"),
        # between two library statements get_ipython() stays in the step (alone it would be
        # kernel-only code, kept in the slim notebook)
        ("# %%\nx = 1\nip = get_ipython()\ny = x + 1\n", "from IPython import get_ipython"),
    ],
    ids=["def-shadowing-a-builtin", "display-in-a-block", "get-ipython"],
)
def test_kernel_names_and_hoisted_builtin_shadows_stay_defined(snippet: str, needle: str, tmp_path: Path) -> None:
    _, source = make(snippet, tmp_path)
    assert needle in source
    assert undefined_names(source) == []



def test_pylab_becomes_imports(tmp_path: Path) -> None:
    result, source = make("# %%\n%pylab inline\n# %%\nx = linspace(0, 1, 3)\n", tmp_path)
    # the one star import is imported by the names the module uses from it
    assert "from matplotlib.pylab import linspace" in source and "import numpy as np" in source
    assert undefined_names(source) == []
    assert not [p for p in result.problems if p.severity == "error"]
    module = load_module(source, tmp_path)
    assert list(module.run()["x"]) == [0.0, 0.5, 1.0]


def test_star_import_never_shadowed_by_a_step_name(tmp_path: Path) -> None:
    result, _ = make(STAR_IMPORT_NAMES, tmp_path)
    assert [s.name for s in result.plan.steps] == ["pi_step", "e_step"]


@pytest.mark.parametrize(
    ("snippet", "check"),
    [
        ("# %%\nB = (1, 2)\ndef f(x=B):\n    return x\n# %% [markdown]\n## Use\n# %%\ny = f()\n",
         "default-argument"),
        ("# %%\nimport functools\nw = 3\n@functools.lru_cache(maxsize=w)\ndef g(a):\n    return a\n"
         "# %% [markdown]\n## Use\n# %%\nz = g(1)\n", "decorator"),
        ("# %%\noptions = ['a']\nclass C:\n    choices = options\n    more = choices * 2\n"
         "# %% [markdown]\n## Use\n# %%\nn = len(C.more)\n", "class-attribute"),
        ("# %%\nflag = 1\ndef f():\n    return flag\ncb = [f]\n# %% [markdown]\n## Two\n# %%\n"
         "def outer():\n    def f():\n        return 2\n    return [f]\nr = outer()[0]()\n", "nested-same-name"),
        ("# %%\nimport math\n# %%\n%%timeit a = 2\nmath.sqrt(a)\n", "timeit-setup"),
    ],
    ids=lambda v: v if isinstance(v, str) and "\n" not in v else "",
)
def test_definition_time_reads_scopes_and_magic_setup(snippet: str, check: str, tmp_path: Path) -> None:
    result, source = make(snippet, tmp_path)
    compile(source, "module.py", "exec")
    assert undefined_names(source) == []
    if check != "timeit-setup":
        module = load_module(source, tmp_path)
        got, expected = run_pipeline(module), run_notebook_cells(result)
        assert list(got) == list(expected)
        for step, values in expected.items():
            for name, value in values.items():
                if callable(value) or (isinstance(value, list) and value and callable(value[0])):
                    continue  # functions and classes: compared through what they compute
                assert got[step][name] == value, f"{step}.{name}"


def test_ipython_history_is_reported_and_required(tmp_path: Path) -> None:
    result, source = make("# %%\n1 + 1\n# %% [markdown]\n## Use\n# %%\nx = _ * 2\ny = Out[1]\n", tmp_path)
    assert undefined_names(source) == []
    assert {p.message.split("`")[1] for p in result.problems if "output history" in p.message} == {"_", "Out"}
    module = load_module(source, tmp_path)
    with pytest.raises(NameError, match="'Out' is not defined|'_' is not defined"):
        module.run()


def test_top_level_await_makes_an_async_step(tmp_path: Path) -> None:
    result, source = make(
        "# %%\nimport asyncio\n# %% [markdown]\n## Wait\n# %%\nawait asyncio.sleep(0)\ndone = 1\n", tmp_path
    )
    assert "async def wait(" in source and "asyncio.run(wait())" in source
    module = load_module(source, tmp_path)
    assert module.run()["done"] == 1


def test_module_state_is_declared_for_readers_and_type_checkers(tmp_path: Path) -> None:
    _, source = make(GLOBAL_STATEMENT, tmp_path)
    assert "\ncalls: Any  # module state, set by the steps (`global calls`)\n" in source
    module = tmp_path / "declared.py"
    module.write_text(source, encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, "-m", "mypy", "--config-file=", "--no-error-summary", str(module)],
        capture_output=True, text=True, timeout=300, check=False,
    )
    assert "name-defined" not in proc.stdout, proc.stdout
    assert load_module(source, tmp_path).run()["seen"] == 2
