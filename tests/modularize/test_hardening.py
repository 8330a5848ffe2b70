"""Modularize never writes broken code or a secret (issue 12): each notebook here broke the
old generator; now the module compiles, imports and runs, or nothing is written and the
error names the cell."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from modularize_helpers import load_module, undefined_names

from nbops.errors import CellError, exit_code
from nbops.modularize import ModularizeOptions, ModularizeResult, NotWrittenError, modularize
from nbops.modularize.plan import python_lines

ROOT = Path(__file__).resolve().parents[2]
CHURN = ROOT / "examples" / "churn_classifier.ipynb"
CHURN_KEY = "sk_live_51HxExample" + "ExampleExample00"  # the example's (fake) live key


def notebook(folder: Path, *cells: str | tuple[str, str], name: str = "nb.ipynb") -> Path:
    """A notebook of code cells (``("markdown", text)`` for a markdown cell)."""
    raw = []
    for n, cell in enumerate(cells):
        kind, source = cell if isinstance(cell, tuple) else ("code", cell)
        item: dict[str, Any] = {"cell_type": kind, "id": f"c{n}", "metadata": {}, "source": source}
        if kind == "code":
            item |= {"execution_count": None, "outputs": []}
        raw.append(item)
    doc = {
        "cells": raw,
        "metadata": {"kernelspec": {"name": "python3", "language": "python", "display_name": "Python 3"}},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    path = folder / name
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


def written(folder: Path) -> list[Path]:
    return sorted(
        p for p in folder.rglob("*")
        if p.is_file() and p.name != "nb.ipynb" and "loaded" not in p.parts and "__pycache__" not in p.parts
    )


def build(path: Path, **options: Any) -> ModularizeResult:
    return modularize(path, ModularizeOptions(package="pkg", out=path.parent, **options))


def module_of(result: ModularizeResult, folder: Path) -> Any:
    source = result.module_file.content
    compile(source, "module.py", "exec")
    assert undefined_names(source) == []
    (folder / "loaded").mkdir(exist_ok=True)
    return load_module(source, folder / "loaded")


# -- line breaks inside string literals ------------------------------------------------------


def test_python_lines_split_only_where_python_does() -> None:
    text = 'a = "x\u2028y\x85z\x0c"\r\nb = 1\rc = 2\n'
    assert python_lines(text) == ['a = "x\u2028y\x85z\x0c"', "b = 1", "c = 2"]
    assert "".join(python_lines(text, keepends=True)) == text


def test_strings_holding_unicode_line_separators_survive(tmp_path: Path) -> None:
    # str.splitlines() split these literals across lines: a module that did not compile
    values = {"s": "a\u2028b", "t": "c\x85d", "u": "e\x0cf", "v": "g\x1ch\x0bi", "w": "j\u2029k"}
    source = "\n".join(f"{k} = {json.dumps(v, ensure_ascii=False)}" for k, v in values.items())
    source = source.replace("\\f", "\x0c").replace("\\u001c", "\x1c").replace("\\u000b", "\x0b")
    path = notebook(tmp_path, source + "\nprint(s, t)\ns\n")
    result = build(path)
    module = module_of(result, tmp_path)
    assert module.run() == values
    assert result.refusal is None and len(written(tmp_path)) == 4


def test_carriage_return_line_endings(tmp_path: Path) -> None:
    path = notebook(tmp_path, 'x = """a\r\nb"""\ry = 2\r\nif y:\r    y = y + 1\r\nz = y\n')
    module = module_of(build(path), tmp_path)
    assert module.run() == {"x": "a\nb", "y": 3, "z": 3}


def test_form_feed_at_the_start_of_a_line(tmp_path: Path) -> None:
    path = notebook(tmp_path, "x = 1\n\x0cy = x + 1\n")
    module = module_of(build(path), tmp_path)
    assert module.PARAMETERS == {"x": 1}  # a constant read later: a proposed parameter
    assert module.run() == {"y": 2}


# -- code that only compiles as a fragment, and global + annotation -----------------------------


@pytest.mark.parametrize(
    "fragment",
    ["break", "continue", "return 3", "yield 1", "nonlocal q"],
)
def test_a_cell_that_only_compiles_as_a_fragment_becomes_a_todo(tmp_path: Path, fragment: str) -> None:
    path = notebook(tmp_path, "a = 1\n", f"{fragment}\n", "b = a + 1\n")
    result = build(path)
    module = module_of(result, tmp_path)
    assert "# TODO(nbops): cell is not valid Python on its own" in result.module_file.content
    assert f"#   {fragment}\n" in result.module_file.content
    assert [(p.cell, p.severity) for p in result.problems if "does not compile" in p.message] == [(1, "error")]
    assert module.run()["b"] == 2


def test_global_in_a_function_and_an_annotation_in_another_cell(tmp_path: Path) -> None:
    path = notebook(tmp_path, "def f():\n    global x\n    x = 1\n", "x: int = 2\nf()\ny = x + 1\ny\n", "z: int\n")
    module = module_of(build(path), tmp_path)
    assert module.run()["y"] == 2


def test_broken_generated_code_writes_nothing_and_names_the_cell(tmp_path: Path) -> None:
    # a star import under an `if` stays in its step, where Python refuses it: nothing is
    # written, the error names the cell
    path = notebook(tmp_path, "x = 1\n", "%pip install json5\nif x:\n    from json5 import *\ny = loads('1')\n")
    plan = build(path, dry_run=True)
    assert plan.refusal is not None and plan.refusal.cell == 1
    assert any(p.severity == "error" and p.cell == 1 and "does not compile" in p.message for p in plan.problems)
    with pytest.raises(NotWrittenError) as caught:
        build(path)
    assert isinstance(caught.value, CellError) and exit_code(caught.value) == 2
    assert caught.value.cell == 1 and "nothing is written" in str(caught.value)
    assert written(tmp_path) == []


# -- generated names never shadow the notebook's ----------------------------------------------


def test_a_notebook_function_named_show(tmp_path: Path) -> None:
    path = notebook(
        tmp_path,
        "def show(v):\n    return v + 1\n",
        "val = 3\ny = show(val)\nprint(y)\ny\n",
    )
    result = build(path)
    module = module_of(result, tmp_path)
    # `val = 3` is a proposed parameter now
    assert module.PARAMETERS == {"val": 3}
    assert module.run() == {"y": 4}
    # the library shows nothing (no display flag); the slim notebook prints and shows y
    source = result.module_file.content
    steps = source.split("def run(")[0]  # the step functions, before the module's own run/main
    assert "show_=" not in steps and "show_: bool" not in steps and "print(" not in steps
    slim = json.loads((tmp_path / "nb_slim.ipynb").read_text())
    cells = ["".join(c["source"]) for c in slim["cells"] if c["cell_type"] == "code"]
    assert cells[-1] == "print(y)\ny"


def test_an_imported_show_and_names_of_the_module(tmp_path: Path) -> None:
    path = notebook(
        tmp_path,
        "from pprint import pformat as show\nfrom subprocess import run\n",
        "params = {'a': 1}\nPARAMETERS = 2\n_nb_show = 3\non_step = 4\n",
        "text = show(params)\nout = run(['true']).returncode\nprint(text)\nPARAMETERS + _nb_show + on_step\n",
    )
    module = module_of(build(path), tmp_path)
    values = module.run()
    assert values["text"] == "{'a': 1}" and values["out"] == 0
    assert module.run({}) == values and callable(module.run)


def test_a_step_never_shadows_a_builtin(tmp_path: Path) -> None:
    path = notebook(tmp_path, ("markdown", "## Print"), "y = len([1])\nprint('x')\nz = y + 1\n")
    result = build(path)
    assert [s.name for s in result.plan.steps] == ["print_step"]
    assert module_of(result, tmp_path).run() == {"y": 1, "z": 2}


# -- secrets ------------------------------------------------------------------------------


def test_the_churn_key_is_read_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    shutil.copy(CHURN, tmp_path / "churn_classifier.ipynb")
    result = modularize(tmp_path / "churn_classifier.ipynb", ModularizeOptions(package="demo", out=tmp_path))
    assert result.written
    for path in written(tmp_path):
        if path.name != "churn_classifier.ipynb":
            assert CHURN_KEY not in path.read_text(encoding="utf-8"), path
    source = result.module_file.content
    assert 'crm_api_key = os.environ["CRM_API_KEY"]' in source  # snake_case inside the step
    assert "# nbops: a secret was here; set CRM_API_KEY in the environment" in source
    problem = next(p for p in result.problems if "CRM_API_KEY" in p.message)
    assert problem.severity == "error" and problem.cell == 4
    assert CHURN_KEY not in json.dumps(result.to_dict(tmp_path))
    # the module runs with the key from the environment
    monkeypatch.setenv("CRM_API_KEY", "from-the-environment")
    module = module_of(result, tmp_path)
    # the step that prints the headers returns them (with the export), read by attribute
    step = next(s for s in result.plan.steps if "headers" in s.results)
    returned = getattr(module, step.name)(data_path="missing.csv", n_customers=10, seed=0)
    assert returned.headers["Authorization"] == "Bearer from-the-environment"


@pytest.mark.parametrize(
    ("code", "env"),
    [
        ('client = dict(api_key="{key}")\n', "API_KEY"),
        ('settings = {{"stripe_key": "{key}"}}\n', "STRIPE_KEY"),
        ('import os\nos.environ["PAY_KEY"] = "{key}"\n', "PAY_KEY"),
    ],
    ids=["keyword", "dict", "environ"],
)
def test_a_key_given_to_a_name_is_read_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, code: str, env: str
) -> None:
    path = notebook(tmp_path, code.format(key=CHURN_KEY) + "# also here: " + CHURN_KEY + "\n")
    result = build(path)
    assert all(CHURN_KEY not in p.read_text(encoding="utf-8") for p in written(tmp_path))
    assert f'os.environ["{env}"]' in result.module_file.content
    monkeypatch.setenv(env, "secret-from-env")
    module_of(result, tmp_path).run()


@pytest.mark.parametrize(
    "cells",
    [
        ('token = "Bearer " + "{key}"\nheaders = f"Bearer {key}"\n',),
        ('headers = {{"Authorization": "Bearer {key}"}}\n',),
        ("# %% tags=parameters", 'KEY = "{key}"\n'),
    ],
    ids=["expression", "longer-string", "parameters-cell"],
)
def test_a_key_that_cannot_be_replaced_refuses_the_write(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], cells: tuple[str, ...]
) -> None:
    from nbops.cli.main import main

    sources = [c.format(key=CHURN_KEY) for c in cells if not c.startswith("# %%")]
    path = notebook(tmp_path, "x = 1\n", *sources)
    if cells[0].startswith("# %%"):  # tag the key's cell as the parameters cell
        doc = json.loads(path.read_text())
        doc["cells"][1]["metadata"]["tags"] = ["parameters"]
        path.write_text(json.dumps(doc))
    plan = build(path, dry_run=True)
    assert plan.refusal is not None and plan.refusal.cell == 1
    assert any(p.severity == "error" and p.cell == 1 for p in plan.problems)
    code = main(["modularize", str(path), "--package", "pkg", "--out", str(tmp_path)])
    _, err = capsys.readouterr()
    assert code == 2 and "cell 2" in err and "nothing is written" in err and CHURN_KEY not in err
    assert written(tmp_path) == []


def test_a_key_in_markdown_is_not_copied(tmp_path: Path) -> None:
    path = notebook(tmp_path, ("markdown", f"# Title\n\n## Load\nkey: {CHURN_KEY}"), "x = 1\n")
    result = build(path)
    assert result.written
    assert all(CHURN_KEY not in p.read_text(encoding="utf-8") for p in written(tmp_path))


# -- the generated tests ------------------------------------------------------------------


def test_generated_tests_use_no_process_wide_chdir(tmp_path: Path) -> None:
    data = tmp_path / "nbdir"
    data.mkdir()
    (data / "rows.txt").write_text("1\n2\n")
    path = notebook(data, "rows = open('rows.txt').read().split()\n", "n = len(rows)\n")
    result = modularize(path, ModularizeOptions(package="pkg", out=tmp_path))
    tests = next(f for f in result.files if f.kind == "tests").content
    assert "os.chdir" not in tests and "monkeypatch.chdir" in tests
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"],
        cwd=tmp_path, capture_output=True, text=True, timeout=300, check=False,
    )
    assert proc.returncode == 0, proc.stdout[-2000:]


def test_a_notebook_of_parameters_only_is_written_with_a_slim_notebook_that_compiles(
    tmp_path: Path,
) -> None:
    # papermill's result_no_exec.ipynb: one '# Parameters' cell; the slim notebook used to get
    # an empty `from pkg.nb import (\n)`, which the write check (rightly) refused
    path = notebook(tmp_path, '# Parameters\nfoo = 1\nbar = "hello"\n')
    result = build(path)
    assert result.written and result.refusal is None
    slim = next(f for f in result.files if f.path.name.endswith("_slim.ipynb"))
    for cell in json.loads(slim.path.read_text())["cells"]:
        if cell["cell_type"] == "code":
            compile("".join(cell["source"]), "cell", "exec")
