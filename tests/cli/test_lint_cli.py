"""The ``nbops lint`` / ``rules`` / ``rule`` commands, end to end, on real files and tools."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from nbops.cli.main import main

ROOT = Path(__file__).resolve().parents[2]
BAD = ROOT / "tests" / "notebooks" / "bad"
EXAMPLES = ROOT / "examples"


def _write(path: Path, cells: list[nbformat.NotebookNode]) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    nb.cells = cells
    nbformat.write(nb, path)
    return path


def clean_notebook(path: Path) -> Path:
    md, code = nbformat.v4.new_markdown_cell, nbformat.v4.new_code_cell
    params = code("alpha = 0.5")
    params.metadata["tags"] = ["parameters"]
    return _write(
        path,
        [
            md("# Clean analysis\n\nWhat this notebook does."),
            params,
            code("import math"),
            md("## Compute"),
            code("result = math.sqrt(alpha)\nprint(result)"),
            md("Done: the result is printed above."),
        ],
    )


def run_cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "nbops", *args],
        capture_output=True,
        text=True,
        cwd=cwd or ROOT,
        timeout=300,
    )


def test_clean_notebook_exits_zero(tmp_path: Path) -> None:
    clean_notebook(tmp_path / "clean.ipynb")
    proc = run_cli("lint", "--no-cache", str(tmp_path))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "All checks passed on 1 notebook" in proc.stdout


def test_examples_report_planted_problems() -> None:
    expected = json.loads((EXAMPLES / "expected_findings.json").read_text())
    proc = run_cli("lint", "--no-cache", "--format", "json", "examples/")
    assert proc.returncode == 1, proc.stderr
    data = json.loads(proc.stdout)
    found: dict[str, set[str]] = {}
    for d in data["diagnostics"]:
        found.setdefault(Path(d["path"]).name, set()).add(d["code"])
    for name, codes in expected.items():
        if name.startswith("_"):
            continue
        missing = set(codes) - found.get(name, set())
        assert not missing, f"{name}: planted problems not found: {sorted(missing)}"
    assert any(d["source"] == "ruff" for d in data["diagnostics"])
    assert any(d["code"] == "FMT001" for d in data["diagnostics"])


def test_json_shape(tmp_path: Path) -> None:
    md, code = nbformat.v4.new_markdown_cell, nbformat.v4.new_code_cell
    _write(tmp_path / "a.ipynb", [md("# T"), code("import os\nx=1"), code('p = "/home/jane/data.csv"')])
    proc = run_cli("lint", "--no-cache", "--format", "json", str(tmp_path / "a.ipynb"))
    data = json.loads(proc.stdout)
    assert set(data) == {"version", "summary", "diagnostics", "errors"}
    keys = {"code", "name", "source", "severity", "message", "path", "cell", "cell_index",
            "cell_id", "line", "column", "end_line", "end_column", "fix", "url"}
    assert data["diagnostics"]
    for d in data["diagnostics"]:
        assert set(d) == keys
    absolute = [d for d in data["diagnostics"] if d["code"] == "NB301"]
    assert absolute and absolute[0]["cell"] == 3 and absolute[0]["cell_index"] == 2
    assert absolute[0]["line"] == 1
    f401 = [d for d in data["diagnostics"] if d["code"] == "F401"]
    # ruff calls removing an unused import safe; in notebooks nbops makes it unsafe
    assert f401 and f401[0]["cell"] == 2 and f401[0]["fix"]["applicability"] == "unsafe"
    fmt = [d for d in data["diagnostics"] if d["code"] == "FMT001"]
    assert fmt and fmt[0]["fix"]["edits"][0]["content"] == "import os\n\nx = 1"


@pytest.mark.parametrize("fmt", ["text", "json", "sarif", "github", "concise"])
def test_bad_inputs_in_every_format(fmt: str) -> None:
    proc = run_cli("lint", "--no-cache", "--format", fmt, str(BAD))
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout
    out = proc.stdout
    for name in ("broken_json.ipynb", "truncated.ipynb", "latin1.ipynb", "empty_file.ipynb",
                 "not_a_notebook.ipynb"):
        assert name in out, f"{name} missing from {fmt} output"
    if fmt == "json":
        data = json.loads(out)
        unreadable = {Path(e["path"]).name for e in data["errors"]}
        assert {"broken_json.ipynb", "truncated.ipynb", "latin1.ipynb"} <= unreadable
        assert any(d["code"] == "NB001" for d in data["diagnostics"])
        codes = {(Path(d["path"]).name, d["code"]) for d in data["diagnostics"]}
        assert ("syntax_error.ipynb", "NB003") in codes
        assert ("r_kernel.ipynb", "NB004") in codes
        assert ("schema_invalid.ipynb", "NB002") in codes
        assert ("v3_notebook.ipynb", "NB002") in codes
    if fmt == "sarif":
        data = json.loads(out)
        run = data["runs"][0]
        assert data["version"] == "2.1.0"
        notes = run["invocations"][0]["toolExecutionNotifications"]
        assert any("truncated.ipynb" in n["message"]["text"] for n in notes)
        assert all(r["ruleId"] == run["tool"]["driver"]["rules"][r["ruleIndex"]]["id"]
                   for r in run["results"])
    if fmt == "github":
        assert all(line.startswith(("::error", "::warning", "::notice"))
                   for line in out.splitlines())


@pytest.mark.parametrize("fmt", ["text", "json", "sarif", "github", "concise"])
def test_deeply_nested_notebooks_are_nb001_in_every_format(tmp_path: Path, fmt: str) -> None:
    """Was ``internal error: RecursionError`` (exit 70) with truncated JSON."""
    clean_notebook(tmp_path / "clean.ipynb")
    for depth in (150, 990, 1_000, 100_000):
        value = "[" * depth + "]" * depth
        cell = {"cell_type": "code", "id": "a", "metadata": {"deep": "DEEP"}, "outputs": [],
                "execution_count": None, "source": "x = 1"}
        raw = {"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [cell]}
        (tmp_path / f"deep{depth}.ipynb").write_text(json.dumps(raw).replace('"DEEP"', value))
    proc = run_cli("lint", "--no-cache", "--format", fmt, str(tmp_path))
    assert proc.returncode == 2, proc.stderr
    assert "internal error" not in proc.stderr and "Traceback" not in proc.stderr
    out = proc.stdout
    for depth in (150, 990, 1_000, 100_000):
        assert f"deep{depth}.ipynb" in out, f"deep{depth}.ipynb missing from {fmt} output"
    if fmt in ("json", "sarif"):
        data = json.loads(out)
        if fmt == "json":
            nb001 = {Path(d["path"]).name for d in data["diagnostics"] if d["code"] == "NB001"}
            assert nb001 == {f"deep{d}.ipynb" for d in (150, 990, 1_000, 100_000)}
            assert all("nested more than 100 levels" in e["message"] for e in data["errors"])
            assert data["summary"]["files"] == 5 and data["summary"]["unreadable"] == 4
    else:
        assert "NB001" in out


def test_ruff_config_that_cannot_load_is_a_finding_per_notebook(tmp_path: Path) -> None:
    """Was exit 3 for the whole folder with truncated JSON, while the panel showed one
    finding: now each notebook under the broken ruff.toml gets the same NB005 finding."""
    from nbops.config import load_config
    from nbops.core.notebook import read_notebook
    from nbops.lint.engine import Linter

    code = nbformat.v4.new_code_cell
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    broken, fine = tmp_path / "copied", tmp_path / "fine"
    broken.mkdir()
    fine.mkdir()
    (broken / "ruff.toml").write_text('extend = "../missing/pyproject.toml"\n')
    for folder in (broken, fine):
        for name in ("a", "b"):
            _write(folder / f"{name}.ipynb", [code("import os\nx = 1")])
    proc = run_cli("lint", "--no-cache", "--format", "json", "--select", "NB005,F401",
                   str(tmp_path))
    assert proc.returncode == 1, proc.stderr  # findings, not a tool failure
    data = json.loads(proc.stdout)
    found = {(Path(d["path"]).parent.name, Path(d["path"]).name, d["code"])
             for d in data["diagnostics"]}
    assert found == {
        ("copied", "a.ipynb", "NB005"), ("copied", "b.ipynb", "NB005"),
        ("fine", "a.ipynb", "F401"), ("fine", "b.ipynb", "F401"),
    }
    (message,) = {d["message"] for d in data["diagnostics"] if d["code"] == "NB005"}
    assert "ruff cannot load its configuration" in message
    assert "`ruff.toml` extends `../missing/pyproject.toml`" in message
    assert "fix or remove that setting" in message and str(tmp_path) not in message
    # the JupyterLab panel's path (one notebook, in-process) says the same
    linter = Linter(load_config(broken), select=["NB005", "F401"], cache=False)
    panel = linter.lint_notebook(read_notebook(broken / "a.ipynb"))
    assert [d.message for d in panel] == [message]


def test_syntax_error_cell_does_not_hide_other_cells(tmp_path: Path) -> None:
    code = nbformat.v4.new_code_cell
    _write(tmp_path / "s.ipynb", [code("def f(:\n    pass"), code('import os\nx = f"abc"')])
    proc = run_cli("lint", "--no-cache", "--format", "json", str(tmp_path / "s.ipynb"))
    data = json.loads(proc.stdout)
    by_cell = {(d["cell"], d["code"]) for d in data["diagnostics"]}
    assert (1, "NB003") in by_cell
    assert (2, "F401") in by_cell and (2, "F541") in by_cell, by_cell


def test_select_and_ignore_prefixes(tmp_path: Path) -> None:
    code = nbformat.v4.new_code_cell
    _write(tmp_path / "u.ipynb", [code('import os\np = "/home/jane/x.csv"\nprint(undefined_thing)')])
    path = str(tmp_path / "u.ipynb")
    only_nb3 = json.loads(run_cli("lint", "--no-cache", "--format", "json", "--select", "NB3", path).stdout)
    assert {d["code"][:3] for d in only_nb3["diagnostics"]} == {"NB3"}
    no_nb3 = json.loads(
        run_cli("lint", "--no-cache", "--format", "json", "--ignore", "NB3,FMT", path).stdout
    )
    codes = {d["code"] for d in no_nb3["diagnostics"]}
    assert "NB301" not in codes and "FMT001" not in codes and "NB206" in codes and "F401" in codes


def test_unknown_code_is_a_usage_error(tmp_path: Path) -> None:
    clean_notebook(tmp_path / "c.ipynb")
    proc = run_cli("lint", "--select", "ZZ9", str(tmp_path))
    assert proc.returncode == 2
    assert "unknown rule code" in proc.stderr and "Traceback" not in proc.stderr


def test_missing_path_is_reported(tmp_path: Path) -> None:
    clean_notebook(tmp_path / "c.ipynb")
    proc = run_cli("lint", "--no-cache", str(tmp_path / "c.ipynb"), str(tmp_path / "gone.ipynb"))
    assert proc.returncode == 2
    assert "gone.ipynb" in proc.stdout and "no such file" in proc.stdout


def test_config_in_pyproject(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[tool.nbops]\nignore = ["NB301"]\nformat-check = false\n'
        '[tool.nbops.severity]\nNB206 = "info"\n'
    )
    code = nbformat.v4.new_code_cell
    _write(tmp_path / "n.ipynb", [code('p = "/home/jane/x.csv"\nprint(nope)\nx=1')])
    data = json.loads(run_cli("lint", "--no-cache", "--format", "json", "n.ipynb", cwd=tmp_path).stdout)
    codes = {d["code"]: d for d in data["diagnostics"]}
    assert "NB301" not in codes and "FMT001" not in codes
    assert codes["NB206"]["severity"] == "info"


def test_bad_config_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.nbops]\nselct = ["NB"]\n')
    clean_notebook(tmp_path / "c.ipynb")
    proc = run_cli("lint", "c.ipynb", cwd=tmp_path)
    assert proc.returncode == 2
    assert "unknown key(s) in [tool.nbops]: selct" in proc.stderr


def test_cell_tag_and_comment_suppression(tmp_path: Path) -> None:
    code = nbformat.v4.new_code_cell
    tagged = code('p = "/home/jane/x.csv"')
    tagged.metadata["tags"] = ["nbops:ignore:NB3"]
    commented = code('# nbops: ignore[NB301]\nq = "/home/jane/y.csv"')
    noqa = code('r = "/home/jane/z.csv"  # noqa: NB301')
    plain = code('s = "/home/jane/w.csv"')
    _write(tmp_path / "t.ipynb", [tagged, commented, noqa, plain])
    data = json.loads(
        run_cli("lint", "--no-cache", "--format", "json", "--select", "NB301",
                str(tmp_path / "t.ipynb")).stdout
    )
    assert [d["cell"] for d in data["diagnostics"]] == [4]


def test_fail_on_threshold(tmp_path: Path) -> None:
    code = nbformat.v4.new_code_cell
    a, b = code("x = 1"), code("y = x")
    a.execution_count, b.execution_count = 1, 5  # a gap: NB203, severity info
    _write(tmp_path / "i.ipynb", [a, b])
    path = str(tmp_path / "i.ipynb")
    assert run_cli("lint", "--no-cache", "--select", "NB203", path).returncode == 1
    assert run_cli("lint", "--no-cache", "--select", "NB203", "--fail-on", "warning", path).returncode == 0
    assert run_cli("lint", "--no-cache", "--select", "NB203", "--exit-zero", path).returncode == 0


def test_cache_gives_same_results(tmp_path: Path) -> None:
    for i in range(3):
        code = nbformat.v4.new_code_cell
        _write(tmp_path / f"n{i}.ipynb", [code(f'import os\np = "/home/u/{i}.csv"\nx=1')])
    cache = tmp_path / "cache"
    first = run_cli("lint", "--cache-dir", str(cache), "--format", "json", str(tmp_path / "n0.ipynb"),
                    str(tmp_path / "n1.ipynb"), str(tmp_path / "n2.ipynb"))
    second = run_cli("lint", "--cache-dir", str(cache), "--format", "json", str(tmp_path / "n0.ipynb"),
                     str(tmp_path / "n1.ipynb"), str(tmp_path / "n2.ipynb"))
    assert json.loads(first.stdout)["diagnostics"] == json.loads(second.stdout)["diagnostics"]
    assert (cache / "files.sqlite3").exists()
    # an edited file is re-linted, not served stale from the cache
    _write(tmp_path / "n1.ipynb", [nbformat.v4.new_code_cell("y = 2")])
    third = json.loads(run_cli("lint", "--cache-dir", str(cache), "--format", "json",
                               str(tmp_path / "n1.ipynb")).stdout)
    assert not any(d["code"] == "NB301" for d in third["diagnostics"])


def test_parallel_and_serial_agree(tmp_path: Path) -> None:
    for i in range(10):
        code = nbformat.v4.new_code_cell
        _write(tmp_path / f"n{i}.ipynb", [code(f'import os\np = "/home/u/{i}.csv"'), code("x=1")])
    serial = run_cli("lint", "--no-cache", "-j", "1", "--format", "json", str(tmp_path))
    parallel = run_cli("lint", "--no-cache", "-j", "2", "--format", "json", str(tmp_path))
    assert json.loads(serial.stdout)["diagnostics"] == json.loads(parallel.stdout)["diagnostics"]
    assert json.loads(serial.stdout)["summary"]["files"] == 10


def test_rules_and_rule_commands(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["rules", "--format", "json"]) == 0
    rules = json.loads(capsys.readouterr().out)
    assert len(rules) >= 25
    assert len({r["code"] for r in rules}) == len(rules)
    for r in rules:
        assert r["explanation"] and r["bad_example"] and r["good_example"] and r["summary"]
        assert r["severity"] in ("error", "warning", "info") and r["fix"] in ("none", "safe", "unsafe")
    assert main(["rules", "--select", "NB2"]) == 0
    text = capsys.readouterr().out
    assert "NB201" in text and "NB301" not in text
    assert main(["rule", "NB205"]) == 0
    assert "hidden-state-name" in capsys.readouterr().out
    assert main(["rule", "NB999"]) == 2
    assert "unknown rule" in capsys.readouterr().err


def test_docs_rules_md_is_generated_from_the_rules() -> None:
    from nbops.lint.docs import catalogue_markdown
    from nbops.lint.registry import all_rules

    committed = (ROOT / "docs" / "rules.md").read_text(encoding="utf-8")
    assert committed == catalogue_markdown(all_rules()), (
        "docs/rules.md is stale: run `nbops rules --format markdown > docs/rules.md`"
    )


def test_python_dash_m_works() -> None:
    proc = run_cli("--version")
    assert proc.returncode == 0 and proc.stdout.startswith("nbops ")


def test_format_with_chooses_the_formatter_of_fmt001(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.nbops]\n\n[tool.black]\n", encoding="utf-8")
    path = _write(tmp_path / "untidy.ipynb", [nbformat.v4.new_code_cell("x=[1,2]")])
    detected = run_cli("lint", "--select", "FMT001", "--no-cache", "--format", "json", str(path))
    chosen = run_cli("lint", "--select", "FMT001", "--no-cache", "--format", "json",
                     "--format-with", "ruff", str(path))
    sources = [
        {d["source"] for d in json.loads(p.stdout)["diagnostics"]}
        for p in (detected, chosen)
    ]
    assert sources == [{"black"}, {"ruff"}], (detected.stdout, chosen.stdout)
    bad = run_cli("lint", "--format-with", "yapf", str(path))
    assert bad.returncode == 2 and "--format-with" in bad.stderr and "Traceback" not in bad.stderr
