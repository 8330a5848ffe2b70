"""``nbops monitor --retrain``: an ALERT starts a real tracked ``nbops run`` of the notebook on
the new data (its data parameter), tagged with the check; it never registers a version nor
moves champion; OK starts nothing; a notebook without a data parameter is refused up front."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import nbformat
import pytest
from monitorproject import WineProject, current, wine_project

from nbops.cli import exits
from nbops.deploy.retrain import RETRAIN_TAG

__all__ = ["wine_project"]


def _monitor(project: WineProject, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "MLFLOW_TRACKING_URI"}
    return subprocess.run([sys.executable, "-m", "nbops", "monitor", "wine", *args],
                          cwd=project.root, env=env, capture_output=True, text=True,
                          timeout=600, check=False)


def _notebook(project: WineProject, name: str, parameters: str) -> str:
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell(parameters)
    params.metadata["tags"] = ["parameters"]
    nb.cells = [
        nbformat.v4.new_markdown_cell("# Retrain on new data"),
        params,
        nbformat.v4.new_code_cell(
            "import nbops\nimport pandas as pd\n\n"
            "frame = pd.read_csv(data_path) if data_path else pd.DataFrame()\n"
            "nbops.log_metric('rows', len(frame))"
        ),
    ]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    nbformat.write(nb, project.root / name)
    return name


@pytest.fixture(scope="module")
def files(wine_project: WineProject) -> dict[str, str]:
    folder = wine_project.root / "retrain-data"
    folder.mkdir(exist_ok=True)
    current(wine_project, shifted=False, rows=500).to_csv(folder / "same.csv", index=False)
    current(wine_project, shifted=True, rows=500).to_csv(folder / "moved.csv", index=False)
    return {"same": "retrain-data/same.csv", "moved": "retrain-data/moved.csv"}


def test_an_alert_starts_a_tracked_run_on_the_new_data(
    wine_project: WineProject, files: dict[str, str]
) -> None:
    from mlflow import MlflowClient

    notebook = _notebook(wine_project, "retrain.ipynb", 'data_path = ""  # the training data')
    client = MlflowClient(wine_project.uri)
    versions = {v.version for v in client.search_model_versions("name='wine'")}
    done = _monitor(wine_project, "--current", files["moved"], "--retrain", notebook,
                    "--format", "json")
    assert done.returncode == exits.ALERT, done.stderr
    report = json.loads(done.stdout)
    retrain = report["retrain"]
    assert (retrain["notebook"], retrain["parameter"], retrain["status"]) == (
        "retrain.ipynb", "data_path", "FINISHED")
    run = client.get_run(retrain["run_id"])
    assert run.data.metrics["rows"] == 500  # the notebook read the new data
    assert run.data.tags[RETRAIN_TAG]  # the check that started it
    check = client.get_run(run.data.tags[RETRAIN_TAG])
    assert check.data.tags["nbops.health.verdict"] == "ALERT"
    # never straight to production: no new version, champion where it was
    assert {v.version for v in client.search_model_versions("name='wine'")} == versions
    assert str(client.get_model_version_by_alias("wine", "champion").version) == "1"


def test_ok_starts_nothing_and_says_so(wine_project: WineProject, files: dict[str, str]) -> None:
    notebook = _notebook(wine_project, "retrain_ok.ipynb", 'data_path = ""')
    done = _monitor(wine_project, "--current", files["same"], "--retrain", notebook)
    assert done.returncode == exits.OK, done.stderr
    assert "retrain: not started (the verdict is OK, not ALERT)" in done.stdout


def test_a_notebook_without_a_data_parameter_is_refused_before_the_check(
    wine_project: WineProject, files: dict[str, str]
) -> None:
    notebook = _notebook(wine_project, "no_data.ipynb", "data_path = ''\nC = 1.0")
    # the notebook reads data_path, but it is asked for another name
    done = _monitor(wine_project, "--current", files["moved"], "--retrain", notebook,
                    "--retrain-param", "train_csv")
    assert done.returncode == exits.USAGE, done.stderr
    assert done.stderr.startswith("nbops: error: no_data.ipynb has no parameter 'train_csv'")
    assert "its parameters: data_path, C" in done.stderr
    assert "Traceback" not in done.stderr
