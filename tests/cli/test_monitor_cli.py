"""``nbops monitor``: the verdict as the exit code (0 OK, 1 WARN, 5 ALERT), text and JSON, the
reports' folder, and bad input as one line naming the problem (exit 2)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from monitorproject import SHIFTED, WineProject, current, wine_project

from nbops.cli import exits

__all__ = ["wine_project"]

NBOPS = [sys.executable, "-m", "nbops"]


def _env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k != "MLFLOW_TRACKING_URI"}


def _monitor(project: WineProject, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*NBOPS, "monitor", "wine", *args], cwd=project.root, env=_env(),
                          capture_output=True, text=True, timeout=300, check=False)


@pytest.fixture(scope="module")
def data(wine_project: WineProject) -> dict[str, str]:
    folder = wine_project.root / "cli-data"
    folder.mkdir(exist_ok=True)
    current(wine_project, shifted=False).to_csv(folder / "same.csv", index=False)
    current(wine_project, shifted=True).to_csv(folder / "moved.csv", index=False)
    return {"same": "cli-data/same.csv", "moved": "cli-data/moved.csv"}


@pytest.fixture
def health_table(wine_project: WineProject) -> Iterator[Path]:
    pyproject = wine_project.root / "pyproject.toml"
    before = pyproject.read_text(encoding="utf-8")
    yield pyproject
    pyproject.write_text(before, encoding="utf-8")


def test_ok_exits_0_and_writes_the_reports(wine_project: WineProject,
                                           data: dict[str, str]) -> None:
    done = _monitor(wine_project, "--current", data["same"], "-o", "reports/same")
    assert done.returncode == exits.OK, done.stderr
    assert done.stdout.startswith("OK: wine version 1 on 3000 rows of cli-data/same.csv")
    assert "report: reports/same/report.html" in done.stdout
    assert (wine_project.root / "reports/same/report.json").is_file()


def test_alert_exits_5_naming_the_features_and_json_is_the_report(
    wine_project: WineProject, data: dict[str, str]
) -> None:
    done = _monitor(wine_project, "--current", data["moved"], "--labels", "target",
                    "--format", "json")
    assert done.returncode == exits.ALERT == 5, done.stderr
    report = json.loads(done.stdout)
    assert report["verdict"]["level"] == "ALERT"
    assert sorted(report["verdict"]["drifted"]) == sorted(SHIFTED)
    assert report["performance"]["accuracy"] < 1
    written = list((wine_project.root / "nbops-health" / "wine").glob("*/report.html"))
    assert written, "the default folder nbops-health/wine/TIMESTAMP/"
    text = _monitor(wine_project, "--current", data["moved"])
    assert "ALERT: psi of 'alcohol'" in text.stdout and "'hue'" not in text.stdout


def test_warn_exits_1_with_the_project_s_triggers(wine_project: WineProject,
                                                  data: dict[str, str],
                                                  health_table: Path) -> None:
    health_table.write_text(
        health_table.read_text(encoding="utf-8")
        + "\n[tool.nbops.health]\npsi = {warn = 0.5}\nks-pvalue = {}\nprediction-psi = {}\n",
        encoding="utf-8")
    done = _monitor(wine_project, "--current", data["moved"], "-o", "reports/warn")
    assert done.returncode == exits.FAILED == 1, done.stdout + done.stderr
    assert done.stdout.startswith("WARN: ")


def test_bad_triggers_name_the_key_in_one_line(wine_project: WineProject,
                                               data: dict[str, str], health_table: Path) -> None:
    health_table.write_text(
        health_table.read_text(encoding="utf-8")
        + '\n[tool.nbops.health]\npsi = {alert = "high"}\n', encoding="utf-8")
    done = _monitor(wine_project, "--current", data["same"])
    assert done.returncode == exits.USAGE
    assert done.stderr.startswith("nbops: error: pyproject.toml: [tool.nbops.health] "
                                  "psi.alert must be a number, not 'high'")
    assert "Traceback" not in done.stderr and str(wine_project.root) not in done.stderr


def test_bad_input_is_one_line(wine_project: WineProject, data: dict[str, str]) -> None:
    missing = _monitor(wine_project, "--current", "nowhere.csv")
    assert missing.returncode == exits.USAGE
    assert missing.stderr == "nbops: error: no such file: nowhere.csv (--current DATA)\n"
    (wine_project.root / "cli-data/other.csv").write_text("a\n1\n", encoding="utf-8")
    nothing = _monitor(wine_project, "--current", "cli-data/other.csv")
    assert nothing.returncode == exits.USAGE
    assert "nothing to compare" in nothing.stderr and "Traceback" not in nothing.stderr
    no_model = subprocess.run([*NBOPS, "monitor", "red", "--current", data["same"]],
                              cwd=wine_project.root, env=_env(), capture_output=True,
                              text=True, timeout=300, check=False)
    assert no_model.returncode == exits.USAGE and "no registered model 'red'" in no_model.stderr
