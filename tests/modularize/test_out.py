"""``--out DIR`` is self-contained and the package is never named after a folder: the
package comes from ``--package``, the project (``pyproject.toml``) or the notebook; every
file (package, tests, slim notebook) is under DIR; bad ``--out``/``--package`` is a clear
error (exit 2, no traceback) and nothing is written."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from modularize_helpers import write_notebook

from nbops.cli.main import main
from nbops.errors import UsageError
from nbops.kernel import execute_notebook
from nbops.modularize import ModularizeOptions, modularize

SNIPPET = """
# %% [markdown]
# Demand
# %% tags=parameters
n = 4
factor = 1.5
# %% [markdown]
## Make the base
# %%
base = list(range(n))
# %% [markdown]
## Summarise
# %%
total = sum(b * factor for b in base)
print("total", total)
"""


def _files(folder: Path) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())


def test_out_outside_any_project_names_the_package_after_the_notebook(tmp_path: Path) -> None:
    notebooks = tmp_path / "notebooks"
    notebooks.mkdir()
    path = write_notebook(SNIPPET, notebooks, "Demand Model.ipynb")
    out = tmp_path / "w"
    result = modularize(path, ModularizeOptions(out=out))
    # before: the package was `w`, the out folder's name, and the slim notebook beside the
    # notebook, outside DIR
    assert result.package == "demand_model"
    assert _files(out) == [
        "Demand Model_slim.ipynb",
        "src/demand_model/__init__.py",
        "src/demand_model/demand_model.py",
        "tests/test_demand_model.py",
    ]
    assert _files(notebooks) == ["Demand Model.ipynb"]
    assert any("slim notebook goes to" in p.message for p in result.problems)


def test_the_slim_notebook_under_out_runs_from_there(tmp_path: Path) -> None:
    """The slim notebook imports the package from DIR/src (not installed) when run from DIR,
    on a real kernel, and shows what the notebook showed."""
    path = write_notebook(SNIPPET, tmp_path, "demand.ipynb")
    out = tmp_path / "elsewhere" / "lib"
    modularize(path, ModularizeOptions(out=out))
    slim = out / "demand_slim.ipynb"
    run = execute_notebook(slim, tmp_path / "executed.ipynb", cwd=out, timeout=120,
                           env={"PYTHONPATH": None})
    assert run.failure is None, run.failure
    printed = "".join(
        o.get("text", "") for c in run.notebook.cells for o in c.get("outputs", [])
    )
    assert "total 9.0" in printed


def test_the_project_names_the_package_not_the_folder(tmp_path: Path) -> None:
    project = tmp_path / "repo"
    (project / "notebooks").mkdir(parents=True)
    (project / "pyproject.toml").write_text('[project]\nname = "Churn-Models.v2"\n')
    path = write_notebook(SNIPPET, project / "notebooks", "analysis.ipynb")
    # DIR inside the project: the project's name, normalised to an identifier
    result = modularize(path, ModularizeOptions(out=project / "build" / "lib", dry_run=True))
    assert result.package == "churn_models_v2"
    kinds = {f.kind: f.path for f in result.files}
    assert kinds["notebook"] == project / "build" / "lib" / "analysis_slim.ipynb"
    # DIR outside: the notebook's project still names it
    result = modularize(path, ModularizeOptions(out=tmp_path / "w", dry_run=True))
    assert result.package == "churn_models_v2"
    # DIR is the project: the slim notebook stays beside the notebook (under DIR)
    result = modularize(path, ModularizeOptions(out=project, dry_run=True))
    kinds = {f.kind: f.path for f in result.files}
    assert kinds["module"] == project / "src" / "churn_models_v2" / "analysis.py"
    assert kinds["notebook"] == project / "notebooks" / "analysis_slim.ipynb"
    # DIR's own project goes first
    (tmp_path / "w").mkdir()
    (tmp_path / "w" / "pyproject.toml").write_text('[project]\nname = "team-lib"\n')
    assert modularize(path, ModularizeOptions(out=tmp_path / "w", dry_run=True)).package == "team_lib"


def test_a_project_name_that_another_package_has_is_passed_over(tmp_path: Path) -> None:
    """A package named after the project in DIR/src would hide (or be hidden by) an installed
    one of that name: the notebook's name instead, with a warning."""
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "pytest"\n')
    path = write_notebook(SNIPPET, tmp_path, "demand.ipynb")
    result = modularize(path, ModularizeOptions(out=tmp_path / "build", dry_run=True))
    assert result.package == "demand"
    assert any("not named `pytest`" in p.message for p in result.problems)
    # a notebook named like a standard module does not become a package hiding it
    (tmp_path / "other").mkdir()
    json_nb = write_notebook(SNIPPET, tmp_path / "other", "json.ipynb")
    assert modularize(json_nb, ModularizeOptions(out=tmp_path / "elsewhere", dry_run=True)).package == "json_lib"


@pytest.mark.parametrize("package", ["class", "team.def", "my-package", "1abc", ""])
def test_a_bad_package_is_a_usage_error(package: str, tmp_path: Path) -> None:
    path = write_notebook(SNIPPET, tmp_path, "demand.ipynb")
    with pytest.raises(UsageError, match="not a Python package name"):
        modularize(path, ModularizeOptions(out=tmp_path / "w", package=package))
    assert not (tmp_path / "w").exists()


def _not_writable(tmp_path: Path) -> Path:
    """A folder this process cannot create files in (root ignores permission bits: /sys)."""
    if os.geteuid() != 0:
        folder = tmp_path / "ro"
        folder.mkdir()
        folder.chmod(0o555)
        return folder / "out"
    candidate = Path("/sys/nbops-test-out")
    try:
        candidate.mkdir()
    except OSError:
        return candidate
    candidate.rmdir()
    pytest.skip("no folder here that root cannot write to")


@pytest.mark.parametrize("case", ["file", "under-a-file", "not-writable", "keyword", "not-identifier"])
def test_bad_out_or_package_exits_2_without_a_traceback(
    case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    write_notebook(SNIPPET, tmp_path, "demand.ipynb")
    (tmp_path / "afile").write_text("x")
    args = {
        "file": ["--out", "afile"],
        "under-a-file": ["--out", "afile/sub"],
        "not-writable": ["--out", str(_not_writable(tmp_path))] if case == "not-writable" else [],
        "keyword": ["--out", "w", "--package", "import"],
        "not-identifier": ["--out", "w", "--package", "team.my-lib"],
    }[case]
    before = _files(tmp_path)
    code = main(["modularize", "demand.ipynb", *args])
    _, err = capsys.readouterr()
    assert code == 2
    assert err.startswith("nbops: error: ") and err.count("\n") == 1 and "Traceback" not in err
    expected = {
        "file": "the --out folder is a file",
        "under-a-file": "the --out folder is inside a file (afile)",
        "not-writable": "cannot write into the --out folder",
        "keyword": "'import' is not a Python package name (a Python keyword)",
        "not-identifier": "'team.my-lib' is not a Python package name",
    }[case]
    assert expected in err
    assert str(tmp_path) not in err  # the path as given, relative
    assert _files(tmp_path) == before  # nothing written
