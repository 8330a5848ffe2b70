"""FMT001 and its fix with each formatter (ruff format, black) on a real notebook with magics."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from nbops.config import Config
from nbops.core.notebook import read_notebook
from nbops.lint.engine import Linter
from nbops.lint.fix import FixOptions, fix_notebook
from nbops.tools import ruff_binary, ruff_format_cells

ROOT = Path(__file__).resolve().parents[2]
MAGICS = ROOT / "benchmarks" / "verify_corpus" / "magics_mix.ipynb"

# (code cell number, what to make untidy): cells with line magics, a %%time cell, plain code.
# Both formatters leave a magic's own line alone (the "%time X,y" stays as it is).
UNTIDY = {
    0: [("import numpy as np", "import numpy   as np")],
    2: [("X, y = make_classification(", "X,y = make_classification("), ("X.shape", "X .shape")],
    3: [("fit(X, y)\n", "fit( X, y )\n")],
    4: [('{"forest": forest.score(X, y), ', "{'forest': forest.score(X,y), ")],
}


def _untidy(tmp_path: Path) -> tuple[Path, set[int]]:
    data = json.loads(MAGICS.read_text(encoding="utf-8"))
    cells = data["cells"]
    code = [i for i, c in enumerate(cells) if c["cell_type"] == "code"]
    touched: set[int] = set()
    for n, edits in UNTIDY.items():
        index = code[n]
        source = "".join(cells[index]["source"])
        for old, new in edits:
            assert old in source, (n, source)
            source = source.replace(old, new, 1)
        cells[index]["source"] = source
        touched.add(index)
    path = tmp_path / "magics_mix.ipynb"
    path.write_text(json.dumps(data, indent=1), encoding="utf-8")
    return path, touched


def _fmt(path: Path, formatter: str) -> list[tuple[int | None, str, str]]:
    linter = Linter(Config(format=formatter), select=["FMT001"], cache=False, jobs=1)
    diags = linter.lint_file(path).diagnostics
    return [(d.cell_index, d.message, d.source) for d in diags if d.code == "FMT001"]


@pytest.mark.parametrize("formatter", ["ruff", "black"])
def test_fmt001_reports_exactly_the_untidy_cells(tmp_path: Path, formatter: str) -> None:
    shutil.copy(MAGICS, tmp_path / "tidy.ipynb")
    assert _fmt(tmp_path / "tidy.ipynb", formatter) == []
    path, touched = _untidy(tmp_path)
    found = _fmt(path, formatter)
    assert {cell for cell, _, _ in found} == touched
    name = "ruff format" if formatter == "ruff" else "black"
    for _, message, source in found:
        assert message.startswith(f"cell is not formatted with {name} ("), message
        assert message.endswith("would change)"), message
        assert source == formatter


def test_ruff_fmt001_agrees_with_ruff_format_on_the_file(tmp_path: Path) -> None:
    path, _ = _untidy(tmp_path)
    proc = subprocess.run(
        [ruff_binary(), "format", "--diff", "--no-cache", str(path)],
        capture_output=True, text=True, check=False, cwd=tmp_path,
    )
    # ruff names cells by their 1-based position in the notebook's cells array, and prints
    # a header without a hunk for the cells it leaves as they are
    lines = proc.stdout.splitlines()
    theirs = {
        int(line.rsplit(" ", 1)[1]) - 1
        for n, line in enumerate(lines)
        if line.startswith("--- ") and n + 2 < len(lines) and lines[n + 2].startswith("@@")
    }
    assert theirs
    assert {cell for cell, _, _ in _fmt(path, "ruff")} == theirs


@pytest.mark.parametrize("formatter", ["ruff", "black"])
def test_the_fix_changes_exactly_what_fmt001_reported(tmp_path: Path, formatter: str) -> None:
    path, touched = _untidy(tmp_path)
    reported = {cell for cell, _, _ in _fmt(path, formatter)}
    nb = read_notebook(path)
    before = [c.source for c in nb.cells]
    linter = Linter(Config(format=formatter), select=["FMT001"], cache=False, jobs=1)
    applied = fix_notebook(nb, linter, FixOptions(rules=False, ruff=False))
    name = "ruff format" if formatter == "ruff" else "black"
    assert {a.cell_index for a in applied} == reported == touched
    assert {a.message for a in applied} == {f"formatted with {name}"}
    assert {i for i, c in enumerate(nb.cells) if c.source != before[i]} == reported
    assert "%time X,y = make_classification(" in nb.cells[min(reported - {1, 6, 7})].source
    nb.write(path)
    assert _fmt(path, formatter) == []
    if formatter == "ruff":
        check = subprocess.run(
            [ruff_binary(), "format", "--check", "--no-cache", str(path)],
            capture_output=True, text=True, check=False, cwd=tmp_path,
        )
        assert check.returncode == 0, check.stdout + check.stderr


def test_ruff_format_honours_the_projects_line_length(tmp_path: Path) -> None:
    long = "result = some_function(argument_one, argument_two, argument_three)"
    assert not ruff_format_cells([long], tmp_path / "x.ipynb")[0].changed
    (tmp_path / "ruff.toml").write_text("line-length = 40\n", encoding="utf-8")
    result = ruff_format_cells([long], tmp_path / "x.ipynb")[0]
    assert result.changed and max(len(line) for line in result.formatted.splitlines()) <= 40


def test_a_cell_ruff_cannot_parse_is_skipped_and_the_others_still_checked(tmp_path: Path) -> None:
    results = ruff_format_cells(["x=1", "def f(:\n  pass", "%time y=2\nz=3", ""], tmp_path / "x.ipynb")
    assert [r.changed for r in results] == [True, False, True, False]
    assert results[1].error and not results[0].error
    assert results[2].formatted == "%time y=2\nz = 3"  # ruff leaves a magic's line alone


def test_a_broken_ruff_config_is_a_finding_naming_it_not_a_crash(tmp_path: Path) -> None:
    path, _ = _untidy(tmp_path)
    (tmp_path / "ruff.toml").write_text('extend = "missing.toml"\n', encoding="utf-8")
    diags = Linter(Config(format="ruff"), select=["FMT001", "NB005"], cache=False).lint_file(path)
    messages = [d.message for d in diags.diagnostics if d.code == "NB005"]
    assert any("ruff cannot load its configuration" in m and str(tmp_path) not in m for m in messages)


def test_a_folder_linted_with_workers_finds_what_one_process_finds(tmp_path: Path) -> None:
    """Many notebooks (the worker pool and the threads that run ruff format while the workers
    lint), in two folders with different ruff settings: each folder's line-length applies."""
    for folder in ("wide", "narrow"):
        (tmp_path / folder).mkdir()
        for n in range(6):
            path, _ = _untidy(tmp_path / folder)
            path.rename(tmp_path / folder / f"nb{n}.ipynb")
    (tmp_path / "narrow" / "ruff.toml").write_text("line-length = 30\n", encoding="utf-8")

    def lint(jobs: int) -> dict[str, list[tuple[int | None, str]]]:
        linter = Linter(Config(format="ruff"), select=["FMT001"], cache=False, jobs=jobs)
        return {
            Path(r.path).relative_to(tmp_path).as_posix(): [
                (d.cell_index, d.message) for d in r.diagnostics
            ]
            for r in linter.lint_paths([tmp_path])
        }

    pooled, alone = lint(2), lint(1)
    assert pooled == alone and len(pooled) == 12
    wide = {cell for cell, _ in pooled["wide/nb0.ipynb"]}
    narrow = {cell for cell, _ in pooled["narrow/nb0.ipynb"]}
    assert wide < narrow  # at 30 columns ruff also rewraps cells that are tidy at 88


def test_unsaved_content_is_checked_by_ruff_too(tmp_path: Path) -> None:
    """The server lints what the editor holds (a model without a file) in-process."""
    from nbops.core.notebook import notebook_from_dict

    path, touched = _untidy(tmp_path)
    nb = notebook_from_dict(json.loads(path.read_text(encoding="utf-8")), path=None)
    linter = Linter(Config(format="ruff"), select=["FMT001"], cache=False, jobs=1)
    found = [d for d in linter.lint_notebook(nb) if d.code == "FMT001"]
    assert {d.cell_index for d in found} == touched
    assert {d.path for d in found} == {"<notebook>"}


def test_fix_with_a_relative_path_reads_the_projects_ruff_config(tmp_path: Path) -> None:
    # lint reported FMT001 under the project's line-length while `nbops fix sub/x.ipynb`
    # (a relative path) formatted with ruff's default 88: "Nothing to fix"
    import subprocess
    import sys

    import nbformat

    project = tmp_path / "proj"
    (project / "sub").mkdir(parents=True)
    (project / "pyproject.toml").write_text("[tool.ruff]\nline-length = 100\n", encoding="utf-8")
    long_call = "result = some_function_name(first_argument_value, second_argument_value, third_argument_x)"
    assert 88 < len(long_call) <= 100
    wrapped = (
        "result = some_function_name(\n"
        "    first_argument_value, second_argument_value, third_argument_x\n"
        ")"
    )
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(wrapped)]
    nbformat.write(nb, project / "sub" / "x.ipynb")
    run = [sys.executable, "-m", "nbops"]
    fixed = subprocess.run(
        [*run, "fix", "--no-backup", "--select", "FMT001", "sub/x.ipynb"],
        cwd=project, capture_output=True, text=True, check=False,
    )
    assert fixed.returncode == 0, fixed.stderr
    assert nbformat.read(project / "sub" / "x.ipynb", as_version=4).cells[0].source == long_call
