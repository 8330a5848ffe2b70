"""verify and the tracked run on one execution of a team's notebook (nbops.hackathon.shared):
the tracked run is a real MLflow run of the notebook as it is (no cell added), and verify
compares the pipeline with the captures taken hidden in its kernel, so a planted difference
is still caught."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from helpers import SEEDED_STEPS_NOTEBOOK

from nbops.core.snippets import notebook_from_snippet

pytestmark = pytest.mark.slow

NOTEBOOK = SEEDED_STEPS_NOTEBOOK


def shared(folder: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW_", "NBOPS_RUN"))}
    env["MLFLOW_TRACKING_URI"] = f"sqlite:///{(folder / 'mlflow.db').as_posix()}"
    env["PYTHONPATH"] = os.pathsep.join([str(folder / "src"), env.get("PYTHONPATH", "")])
    proc = subprocess.run(
        [sys.executable, "-m", "nbops.hackathon.shared", "analysis.ipynb", "300", "hackathon analysis",
         str(folder / "runs")],
        cwd=folder, env=env, capture_output=True, text=True, timeout=600, check=False,
    )
    assert proc.returncode == 0, proc.stderr
    answer: dict = json.loads(proc.stdout.strip().splitlines()[-1])
    return answer


@pytest.fixture
def team(tmp_path: Path) -> Path:
    (tmp_path / "analysis.ipynb").write_text(notebook_from_snippet(NOTEBOOK).dumps(), encoding="utf-8")
    made = subprocess.run([sys.executable, "-m", "nbops", "modularize", "analysis.ipynb", "--package", "pkg"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=300, check=False)
    assert made.returncode == 0, made.stderr
    (tmp_path / "pyproject.toml").write_text('[tool.nbops.modularize]\npackage = "pkg"\n', encoding="utf-8")
    return tmp_path


def test_one_execution_is_the_tracked_run_and_verifys_notebook(team: Path) -> None:
    answer = shared(team)
    assert answer["shared"] is True, answer
    assert answer["verify_exit"] == 0 and answer["verify_last"].startswith("equivalent: "), answer
    run = answer["run"]
    assert run["status"] == "FINISHED" and run["parameters"] == {}
    # the executed notebook is the notebook as it is: verify's captures added no cell
    source = nbformat.read(team / "analysis.ipynb", as_version=4)
    executed = nbformat.read(run["output"], as_version=4)
    assert [c.source for c in executed.cells] == [c.source for c in source.cells]
    assert [c.execution_count for c in executed.cells if c.cell_type == "code"] == [1, 2, 3, 4]
    assert "total 9.0, noise 0.844422" in json.dumps(executed.cells[-1].outputs)  # seeded as verify seeds
    # a real tracked run, in the store
    with sqlite3.connect(team / "mlflow.db") as db:
        rows = db.execute("select run_uuid, status from runs").fetchall()
    assert rows == [(run["run_id"], "FINISHED")]


def test_a_planted_difference_is_caught_on_the_shared_execution(team: Path) -> None:
    module = team / "src" / "pkg" / "analysis.py"
    module.write_text(module.read_text().replace("total = sum(scaled)", "total = sum(scaled) + 0.5"))
    answer = shared(team)
    assert answer["shared"] is True, answer
    assert answer["verify_exit"] == 1 and answer["verify_last"].startswith("NOT equivalent: "), answer
    assert answer["run"]["status"] == "FINISHED"
