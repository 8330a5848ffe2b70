"""The generated module and tests pass ruff's broad rule set and ``ruff format --check`` as
written: formatted in the project's line length, imports sorted, long comments and nbops'
docstrings wrapped, and only the notebook's own code exempted, line by line, in the plan."""

from __future__ import annotations

import ast
import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
from modularize_helpers import load_module

from nbops.core.notebook import read_notebook
from nbops.modularize import ModularizeOptions, ModularizeResult, modularize
from nbops.modularize.plan import make_plan
from nbops.modularize.tidy import RULES, Style, _shape, _wrap_comments, project_style, tidy
from nbops.tools import ruff_binary

LONG_PARAGRAPH = (
    "We load the measurements of every sensor, drop the readings taken while the station was "
    "being serviced, and keep the rest for the model; the thresholds come from the vendor."
)
LONG_QUERY = (
    "select station, reading, taken_at from measurements where reading is not null "
    "and station in (select id from stations where active) order by taken_at"
)

MESSY = [
    ("markdown", f"# Sensor readings\n\n{LONG_PARAGRAPH}"),
    "import sys, os\nimport json\nfrom math import *\nfrom statistics import *\n",
    (
        f'QUERY = "{LONG_QUERY}"\n'
        "# a comment that is much longer than any line should be, written by someone who never "
        "presses enter while typing\n"
        "readings = [sqrt(16.0), 3.5, 1.25, 7.0]  # the vendor's calibration readings for the "
        "first four stations\n"
    ),
    ("markdown", f"## Train and score\n\n{LONG_PARAGRAPH}"),
    "X_train = [r * 2 for r in readings]\nN_ROWS = len(X_train)\nscore = sum(X_train) / N_ROWS\n",
    "summary = json.dumps({'query': QUERY[:6], 'score': score})\n",
]


def notebook(folder: Path, cells: list[str | tuple[str, str]], name: str = "sensors.ipynb") -> Path:
    raw = []
    for n, cell in enumerate(cells):
        kind, source = cell if isinstance(cell, tuple) else ("code", cell)
        item: dict[str, Any] = {"cell_type": kind, "id": f"c{n}", "metadata": {}, "source": source}
        if kind == "code":
            item |= {"execution_count": None, "outputs": []}
        raw.append(item)
    doc = {
        "cells": raw,
        "metadata": {
            "kernelspec": {"name": "python3", "language": "python", "display_name": "Python 3"}
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    path = folder / name
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


def build(folder: Path, cells: list[str | tuple[str, str]]) -> ModularizeResult:
    return modularize(notebook(folder, cells), ModularizeOptions(package="pkg", out=folder))


def ruff(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """ruff with no configuration but what is given, run where the files were written."""
    return subprocess.run(
        [ruff_binary(), *args, "--isolated", "--no-cache"],
        cwd=folder,
        capture_output=True,
        text=True,
        check=False,
    )


def findings(folder: Path, *args: str, paths: tuple[str, ...] = ("src", "tests")) -> list[str]:
    proc = ruff(folder, "check", "--select", RULES, "--target-version", "py310",
                "--output-format", "json", *args, *paths)  # fmt: skip
    return [f"{Path(d['filename']).name}:{d['location']['row']} {d['code']} {d['message']}"
            for d in json.loads(proc.stdout)]  # fmt: skip


@pytest.fixture(scope="module")
def messy(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, ModularizeResult]:
    folder = tmp_path_factory.mktemp("messy")
    return folder, build(folder, MESSY)


def test_the_written_files_pass_the_broad_rule_set_and_the_format_check(
    messy: tuple[Path, ModularizeResult],
) -> None:
    folder, result = messy
    assert result.written
    assert findings(folder) == []
    # every exemption in the module is needed (RUF100: unused noqa), and none is file-wide
    assert findings(folder, "--extend-select", "RUF100", paths=("src",)) == []
    module = result.module_file.content
    assert "# ruff: noqa" not in module and "# flake8: noqa" not in module
    fmt = ruff(folder, "format", "--check", "src", "tests")
    assert fmt.returncode == 0, fmt.stdout + fmt.stderr


def test_only_the_notebooks_own_code_is_exempted_and_the_plan_says_so(
    messy: tuple[Path, ModularizeResult],
) -> None:
    _, result = messy
    lines = result.module_file.content.splitlines()
    exempted = {line.split("# noqa: ")[1] for line in lines if "# noqa: " in line}
    # the long string, the star imports (two: which one gives `sqrt` is not known without
    # importing them) and their use; the notebook's X_train / N_ROWS are
    # snake_case inside the step (x_train, n_rows): nothing to exempt there
    assert "import os  # noqa: F401" in lines and "import sys  # noqa: F401" in lines
    codes = {c for e in exempted for c in e.split(", ")}
    assert {"E501", "F403", "F405"} <= codes and "N806" not in codes and "N803" not in codes
    assert next(line for line in lines if LONG_QUERY in line).endswith("# noqa: E501")
    warning = next(p.message for p in result.plan.problems if "carried over" in p.message)
    assert "exempted line by line" in warning
    for code in ("E501", "F403", "F405"):
        assert code in warning
    assert "F401" not in warning  # an unused import stays quietly: importing has effects
    # the generated tests carry nothing of the notebook: nothing to exempt
    assert not any("generated tests" in p.message for p in result.plan.problems)


def test_imports_sorted_comments_and_docstrings_wrapped(
    messy: tuple[Path, ModularizeResult],
) -> None:
    _, result = messy
    module = result.module_file.content
    body = module.split("\n", 1)[1]  # below the marker line (its hash cannot be wrapped)
    # one import per line, sorted; nothing removed
    assert "import sys, os" not in module
    ours = ("import json", "import os  # noqa: F401", "import sys  # noqa: F401")
    assert [line for line in body.splitlines() if line in ours] == list(ours)
    # the long comment is wrapped, the trailing one moved above its line, same words
    comments = [line.strip() for line in body.splitlines() if line.strip().startswith("# ")]
    assert "never presses enter while typing" in " ".join(c[2:] for c in comments)
    assert all(len(line) <= 88 for line in body.splitlines() if line.strip().startswith("#"))
    above = body.splitlines().index(
        "    # the vendor's calibration readings for the first four stations"
    )
    assert body.splitlines()[above + 1].startswith("    readings = [sqrt(16.0), 3.5, 1.25, 7.0]")
    # the markdown paragraph in nbops' docstrings is wrapped: the same words, short lines
    tree = ast.parse(module)
    docs = [ast.get_docstring(n) or "" for n in tree.body if isinstance(n, ast.FunctionDef)]
    assert any(" ".join(LONG_PARAGRAPH.split()) in " ".join(d.split()) for d in docs)
    assert all(len(line) <= 88 for line in body.splitlines() if "# noqa" not in line)


def test_the_tidied_module_still_computes_what_the_notebook_does(
    messy: tuple[Path, ModularizeResult],
) -> None:
    folder, result = messy
    got = load_module(result.module_file.content, folder).run()
    assert json.loads(got["summary"]) == {"query": "select", "score": (8.0 + 7.0 + 2.5 + 14.0) / 4}


def test_the_projects_line_length_is_the_one_used(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "pkg"\nrequires-python = ">=3.11"\n\n[tool.ruff]\nline-length = 100\n',
        encoding="utf-8",
    )
    call = "total = combine_measurements(first_reading, second_reading, third_reading, 4)\n"
    cells: list[str | tuple[str, str]] = [
        "first_reading, second_reading, third_reading = 1, 2, 3\n",
        "def combine_measurements(a, b, c, d):\n    return a + b + c + d\n",
        "if first_reading:\n    " + call,  # 89 characters in the step: one line at 100
    ]
    result = build(tmp_path, cells)
    assert project_style(tmp_path) == Style(line_length=100, target_version="py311")
    module = result.module_file.content
    # one line at 100 (two at 88); `total` is unused: the notebook's F841, exempted
    assert ("    " * 2 + call.strip() + "  # noqa: F841") in module.splitlines()
    fmt = ruff(tmp_path, "format", "--check", "--line-length", "100", "src", "tests")
    assert fmt.returncode == 0, fmt.stdout
    assert findings(tmp_path, "--line-length", "100") == []


def test_project_style_reads_ruff_then_black_then_requires_python(tmp_path: Path) -> None:
    assert project_style(tmp_path / "new") == Style()  # no project: ruff's and black's defaults
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nrequires-python = ">= 3.12"\n[tool.black]\nline-length = 79\n', encoding="utf-8"
    )
    assert project_style(tmp_path, ["pkg"]) == Style(79, "py312", ("pkg",))
    (tmp_path / "ruff.toml").write_text(
        'line-length = 120\ntarget-version = "py39"\n', encoding="utf-8"
    )
    assert project_style(tmp_path / "sub") == Style(120, "py39")


def test_comments_wrapped_never_strings_pragmas_or_continuations() -> None:
    text = (
        "x = 1  # " + "word " * 20 + "\n"
        's = "# ' + "not a comment " * 8 + '"\n'
        "y = [1]  # type: ignore[assignment]  " + "and more words " * 6 + "\n"
        "#" + "-" * 100 + "\n"
    )
    out = _wrap_comments(text, 60)
    assert _shape(out) == _shape(text)
    lines = out.splitlines()
    assert lines[-3:] == text.splitlines()[1:]  # the string, the pragma, the rule: unchanged
    assert lines[-4] == "x = 1"
    assert len(lines) > 5
    assert all(line.startswith("# word") and len(line) <= 60 for line in lines[:-4])


def test_the_notebooks_own_docstring_is_never_rewrapped(tmp_path: Path) -> None:
    doc = "Combine the readings." + " This docstring belongs to the notebook and stays." * 3
    cells: list[str | tuple[str, str]] = [
        f'def combine(a):\n    """{doc}"""\n    return a\n',
        "total = combine(3)\n",
    ]
    result = build(tmp_path, cells)
    tree = ast.parse(result.module_file.content)
    fn = next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "combine")
    assert ast.get_docstring(fn, clean=False) == doc
    assert findings(tmp_path) == []


def test_without_ruff_the_text_is_still_formatted_and_the_plan_says_why(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    plan = make_plan(read_notebook(notebook(tmp_path, ["x = 1\n"])))
    monkeypatch.setattr("nbops.tools.ruff_binary", lambda: str(tmp_path / "no-ruff"))
    out = tidy("x=[1,\n 2]\n", plan, what="module", style=Style(), filename="m.py")
    assert out == "x = [1, 2]\n"  # black's layout
    assert any("could not be formatted" in p.message for p in plan.problems)


ONE_STAR = [
    "from math import *\n",
    "root = sqrt(16.0)\nangle = floor(pi)\n",
]


def test_one_star_import_becomes_the_names_the_module_uses(tmp_path: Path) -> None:
    result = build(tmp_path, ONE_STAR)
    module = result.module_file.content
    assert "from math import floor, pi, sqrt\n" in module and "import *" not in module
    assert "noqa: F40" not in module
    assert any("imported by name in the module" in p.message for p in result.plan.problems)
    assert not any("is kept at the top of the module" in p.message for p in result.plan.problems)
    assert findings(tmp_path) == []
