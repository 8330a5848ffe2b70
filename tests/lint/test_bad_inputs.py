"""Every bad input named in the spec: a clear error or finding, the run goes on, nothing written."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from nbops.config import Config
from nbops.lint.engine import Linter

ROOT = Path(__file__).resolve().parents[2]
BAD = ROOT / "tests" / "notebooks" / "bad"
sys.path.insert(0, str(ROOT / "tests" / "notebooks"))

from make_large import make_large_notebook  # noqa: E402


def _digest(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


@pytest.fixture(scope="module")
def bad_results(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[dict[str, object]]]:
    folder = tmp_path_factory.mktemp("bad")
    for p in BAD.glob("*.ipynb"):
        shutil.copy(p, folder / p.name)
    before = _digest(folder)
    proc = subprocess.run(
        [sys.executable, "-m", "nbops", "lint", "--no-cache", "--format", "json", str(folder)],
        capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    assert _digest(folder) == before, "lint must never write"
    data = json.loads(proc.stdout)
    by_file: dict[str, list[dict[str, object]]] = {p.name: [] for p in folder.glob("*.ipynb")}
    for d in data["diagnostics"]:
        by_file[Path(str(d["path"])).name].append(d)
    return by_file


def codes(results: dict[str, list[dict[str, object]]], name: str) -> set[str]:
    return {str(d["code"]) for d in results[name]}


@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("broken_json.ipynb", "broken JSON"),
        ("truncated.ipynb", "truncated JSON"),
        ("latin1.ipynb", "not UTF-8"),
        ("empty_file.ipynb", "file is empty"),
        ("not_a_notebook.ipynb", "not a notebook"),
    ],
)
def test_unreadable_file_is_one_error_entry(bad_results: dict[str, list[dict[str, object]]], name: str, words: str) -> None:
    entries = bad_results[name]
    assert [d["code"] for d in entries] == ["NB001"]
    assert words in str(entries[0]["message"])


def test_v3_notebook_is_linted_after_upgrade(bad_results: dict[str, list[dict[str, object]]]) -> None:
    found = codes(bad_results, "v3_notebook.ipynb")
    assert "NB002" in found and "NB001" not in found


def test_schema_invalid_is_linted_with_a_warning(bad_results: dict[str, list[dict[str, object]]]) -> None:
    entries = [d for d in bad_results["schema_invalid.ipynb"] if d["code"] == "NB002"]
    messages = " ".join(str(d["message"]) for d in entries)
    assert "has outputs" in messages and "cell ids need nbformat 4.5" in messages


def test_null_source_and_prose_cell(bad_results: dict[str, list[dict[str, object]]]) -> None:
    entries = bad_results["null_source.ipynb"]
    assert any(d["code"] == "NB002" and "null" in str(d["message"]) for d in entries)
    prose = [d for d in entries if d["code"] == "NB003"]
    assert prose and "markdown cell" in str(prose[0]["message"])


def test_syntax_error_cell_is_reported_and_others_linted(bad_results: dict[str, list[dict[str, object]]]) -> None:
    entries = bad_results["syntax_error.ipynb"]
    broken = {d["cell"] for d in entries if d["code"] == "NB003"}
    assert len(broken) == 1
    assert any(d["cell"] not in broken and d["source"] in ("ruff", "black", "nbops")
               and d["code"] not in ("NB003", "NB005") for d in entries)


def test_indented_magics_parse(bad_results: dict[str, list[dict[str, object]]]) -> None:
    found = codes(bad_results, "indented_magics.ipynb")
    assert "NB003" not in found, "valid IPython syntax must not be a syntax error"
    assert "NB302" in found  # the pip install inside `if COLAB:`


@pytest.mark.parametrize("name", ["r_kernel.ipynb", "julia_kernel.ipynb"])
def test_non_python_kernels(bad_results: dict[str, list[dict[str, object]]], name: str) -> None:
    entries = bad_results[name]
    assert "NB004" in {d["code"] for d in entries}
    assert not any(d["source"] in ("ruff", "black") for d in entries)
    assert not any(d["code"] == "NB003" for d in entries)


def test_empty_notebook_is_fine(bad_results: dict[str, list[dict[str, object]]]) -> None:
    assert not {"NB001", "NB003", "NB005"} & codes(bad_results, "empty_notebook.ipynb")


def test_50_mb_notebook_with_images(tmp_path: Path) -> None:
    path = tmp_path / "huge.ipynb"
    make_large_notebook(path, megabytes=50)
    assert path.stat().st_size > 45_000_000
    reports = Linter(Config(), cache=False).lint_paths([path])
    found = {d.code for d in reports[0].diagnostics}
    assert reports[0].error is None
    assert "NB504" in found, "large outputs are reported"
    assert "NB402" not in found, "base64 images are not scanned as secrets"


def test_fix_leaves_every_unparseable_file_untouched(tmp_path: Path) -> None:
    for name in ("broken_json.ipynb", "truncated.ipynb", "latin1.ipynb", "empty_file.ipynb",
                 "not_a_notebook.ipynb"):
        shutil.copy(BAD / name, tmp_path / name)
    before = _digest(tmp_path)
    proc = subprocess.run(
        [sys.executable, "-m", "nbops", "fix", str(tmp_path)], capture_output=True, text=True,
        timeout=300,
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert proc.stderr.count("left untouched") == 5
    assert _digest(tmp_path) == before
