"""The examples end to end on a real kernel: modularize, verify, the generated tests under
pytest, and the slim notebook executed."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from nbops.lint.secrets import find_secrets

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((ROOT / "examples").glob("*.ipynb"))

pytestmark = pytest.mark.slow


def nbops(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "nbops", *args], cwd=cwd, capture_output=True, text=True,
        timeout=900, env=env, check=False,
    )


def secrets_of(example: Path) -> dict[str, str]:
    """The keys an example hard-codes (``NAME = "..."``, ``os.environ["NAME"] = "..."``) that
    nbops lint's detector flags (the churn example's CRM key, the sales example's AWS key id):
    the module reads them from the environment, where verify and the tests must find them."""
    found: dict[str, str] = {}
    for cell in json.loads(example.read_text(encoding="utf-8"))["cells"]:
        source = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
        if cell["cell_type"] != "code":
            continue
        for line in source.split("\n"):
            match = re.fullmatch(r'\s*(?:os\.environ\["(\w+)"\]|(\w+))\s*=\s*"([^"\\]+)"\s*', line)
            if match and find_secrets(line):
                found[match.group(1) or match.group(2)] = match.group(3)
    return found


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.stem)
def test_example_modularizes_verifies_and_its_tests_pass(example: Path, tmp_path: Path) -> None:
    shutil.copy(example, tmp_path / example.name)
    digest = hashlib.sha256(example.read_bytes()).hexdigest()

    made = nbops("modularize", example.name, "--package", "demo", "--format", "json", cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    plan = json.loads(made.stdout)
    assert plan["written"] and len(plan["steps"]) >= 2
    assert hashlib.sha256((tmp_path / example.name).read_bytes()).hexdigest() == digest
    # a hard-coded key is never written: the module reads it from the environment
    secrets = secrets_of(example)
    for path in tmp_path.rglob("*"):
        if path.is_file() and path.name != example.name:
            text = path.read_text(encoding="utf-8", errors="replace")
            assert not any(value in text for value in secrets.values()), path
    env = {**os.environ, **secrets}

    checked = nbops("verify", example.name, "--package", "demo", "--format", "json", cwd=tmp_path, env=env)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    report = json.loads(checked.stdout)
    assert report["equivalent"] and report["generated"] is False  # the module on disk
    statuses = {o["status"] for o in report["outputs"]}
    assert "differs" not in statuses and "equal" in statuses
    # what the notebook shows is compared with the slim notebook too, and agrees
    assert report["verdict"] == "equivalent" and report["compared"]["displays"] > 0
    assert "differs" not in {d["status"] for d in report["displays"]}

    tests = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"],
        cwd=tmp_path, capture_output=True, text=True, timeout=900, env=env, check=False,
    )
    stop = report["notebook_stopped"]
    named = [s for s in plan["steps"] if any("defined" in p["message"] for p in plan["problems"]
                                              if p["cell"] in s["cells"])]
    if stop is None or named:
        # the notebook runs top to bottom, or fails on a name nbops saw was undefined (the
        # generated smoke test expects exactly that): the generated tests pass
        assert tests.returncode == 0, tests.stdout[-3000:]
    else:
        # the notebook itself fails at run time: so does the pipeline's smoke test, same error
        assert tests.returncode == 1
        assert stop["error"].split(":")[0] in tests.stdout


def test_slim_notebook_runs_and_computes_the_same(tmp_path: Path) -> None:
    from helpers import ipc_kernel_manager

    example = ROOT / "examples" / "wine_classifier.ipynb"
    shutil.copy(example, tmp_path / example.name)
    assert nbops("modularize", example.name, "--package", "demo", cwd=tmp_path).returncode == 0
    slim = nbformat.read(tmp_path / "wine_classifier_slim.ipynb", as_version=4)
    nbformat.validate(slim)
    markdown = [c.source for c in slim.cells if c.cell_type == "markdown"]
    original = nbformat.read(example, as_version=4)
    assert markdown == [c.source for c in original.cells if c.cell_type == "markdown"]
    code = [c.source for c in slim.cells if c.cell_type == "code"]
    assert any("from demo.wine_classifier import" in c for c in code)
    assert "parameters" in slim.cells[[c.cell_type for c in slim.cells].index("code") + 1].metadata.get("tags", [])
    slim.cells.append(nbformat.v4.new_code_cell("print(round(float(accuracy), 6))"))
    client = NotebookClient(
        slim, km=ipc_kernel_manager(tmp_path / "ipc"), timeout=300,
        resources={"metadata": {"path": str(tmp_path)}},
    )
    client.execute()
    printed = "".join(o.get("text", "") for o in slim.cells[-1].outputs)
    # the original computes the same accuracy
    original.cells.append(nbformat.v4.new_code_cell("print(round(float(accuracy), 6))"))
    NotebookClient(
        original, km=ipc_kernel_manager(tmp_path / "ipc2"), timeout=300,
        resources={"metadata": {"path": str(tmp_path)}},
    ).execute()
    assert printed.strip() == "".join(o.get("text", "") for o in original.cells[-1].outputs).strip()
    assert 0.5 < float(printed) <= 1.0
