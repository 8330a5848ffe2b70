"""``nbops.log_model`` under ``nbops run``: checked in the kernel, logged by nbops while the notebook
runs on (the recorder helper, or the runner when the helper is gone), complete when the CLI returns."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from nbops.core.snippets import notebook_from_snippet

pytestmark = pytest.mark.slow

# the prediction path lives in a module of the notebook's folder (nb/), not of the runner's:
# the pickled call refers to it by name
MODULE = """
def predict(model, frame):
    return model.predict(frame)
"""

NOTEBOOK = """
# %% tags=parameters
pause = 0.0
# %%
import sys
import time
import nbops
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression
from mymodels import predict
x, y = load_iris(return_X_y=True, as_frame=True)
model = LogisticRegression(max_iter=500).fit(x, y)
time.sleep(pause)
uri = nbops.log_model(model, x, predict=predict, eval_data=(x, y),
                      pip_requirements=["scikit-learn"])
nbops.log_metric("returned_ms", time.time() * 1000)
nbops.log_metric("mlflow_in_kernel", float("mlflow" in sys.modules))
nbops.log_param("uri", uri)
"""

FAILING = """
import os
import nbops
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression
x, y = load_iris(return_X_y=True)


def _load(pid):
    if os.getpid() != pid:
        raise RuntimeError("this model loads only in its kernel")
    return LogisticRegression()


class Local(LogisticRegression):
    def __reduce__(self):
        return (_load, (os.getpid(),))


nbops.log_model(Local(max_iter=500).fit(x, y), name="local")
# %%
nbops.log_metric("after", 1.0)
"""


def _project(tmp_path: Path, source: str) -> Path:
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "toy"\n')
    (tmp_path / "nb").mkdir()
    (tmp_path / "nb" / "mymodels.py").write_text(MODULE)
    (tmp_path / "nb" / "iris.ipynb").write_text(notebook_from_snippet(source).dumps())
    return tmp_path


def _env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW_", "NBOPS_RUN"))}


def _nbops_run(root: Path, *options: str) -> subprocess.CompletedProcess[str]:
    """``nbops run nb/iris.ipynb`` in the project, as a user runs it."""
    return subprocess.run(
        [sys.executable, "-m", "nbops", "run", "nb/iris.ipynb", *options],
        cwd=root, capture_output=True, text=True, timeout=600, env=_env(), check=False,
    )


@contextlib.contextmanager
def _mlflow(root: Path) -> Iterator[Any]:
    """MLflow pointed at the project's store for the block; its global put back after."""
    from nbops.run.tracking import import_mlflow

    uri = f"sqlite:///{root / '.nbops' / 'mlflow.db'}"
    mlflow = import_mlflow()
    utils = import_mlflow("mlflow.tracking._tracking_service.utils")
    before = utils._tracking_uri
    with pytest.MonkeyPatch.context() as patch:  # MLflow's setter writes os.environ: undone
        patch.setenv("MLFLOW_TRACKING_URI", uri)
        mlflow.set_tracking_uri(uri)
        try:
            yield mlflow
        finally:
            utils._tracking_uri = before


def _check_model(root: Path, run_id: str) -> None:
    """The run holds the model (loadable through the URI the kernel got), its reference and
    its explanation."""
    from sklearn.datasets import load_iris

    x, _ = load_iris(return_X_y=True, as_frame=True)
    with _mlflow(root) as mlflow:
        client = mlflow.MlflowClient()
        run = client.get_run(run_id)
        uri = run.data.params["uri"]
        assert uri == f"runs:/{run_id}/model"
        loaded = mlflow.pyfunc.load_model(uri)
        assert set(loaded.predict(x.head(5))) <= {0, 1, 2}
        assert loaded.metadata.signature.inputs.input_names()[0] == "sepal length (cm)"
        names = {a.path for a in client.list_artifacts(run_id, "reference")}
    assert names == {"reference/profile.json", "reference/sample.parquet"}
    assert json.loads(run.data.tags["nbops.explain.top"])


def test_the_kernel_hands_the_model_over_and_the_run_holds_it_when_the_cli_returns(
    tmp_path: Path,
) -> None:
    root = _project(tmp_path, NOTEBOOK)
    ran = _nbops_run(root, "--format", "json")
    assert ran.returncode == 0, ran.stdout + ran.stderr
    (outcome,) = json.loads(ran.stdout)["runs"]
    assert outcome["status"] == "FINISHED"
    assert outcome["metrics"]["mlflow_in_kernel"] == 0.0  # the kernel never imported MLflow
    _check_model(root, outcome["run_id"])  # nb/mymodels.py was found by the helper
    with _mlflow(root) as mlflow:
        (logged,) = mlflow.search_logged_models(
            experiment_ids=[mlflow.MlflowClient().get_run(outcome["run_id"]).info.experiment_id],
            output_format="list")
    # log_model returned before the model existed in the store
    assert outcome["metrics"]["returned_ms"] < logged.creation_timestamp


def test_a_deferred_log_model_that_fails_fails_the_run_naming_log_model(tmp_path: Path) -> None:
    root = _project(tmp_path, FAILING)
    ran = _nbops_run(root, "--format", "json")
    assert ran.returncode == 1, ran.stdout + ran.stderr
    (outcome,) = json.loads(ran.stdout)["runs"]
    assert outcome["status"] == "FAILED"
    assert outcome["failed_cell"] == 1  # the cell that called log_model
    assert "nbops.log_model" in outcome["error"] and "model 'local'" in outcome["error"]
    assert "this model loads only in its kernel" in outcome["error"]
    assert "Traceback" not in ran.stderr
    with _mlflow(root) as mlflow:
        run = mlflow.MlflowClient().get_run(outcome["run_id"])
    assert run.info.status == "FAILED"
    assert run.data.tags["nbops.error_name"] == "nbops.log_model"
    assert "model 'local'" in run.data.tags["nbops.error_message"]
    assert run.data.metrics["after"] == 1.0  # the notebook ran on
    shown = _nbops_run(root)
    assert shown.returncode == 1 and "cell 1 raised nbops.log_model: model 'local'" in shown.stdout


# the helper killed once the run is open, before the notebook logs its model
SCRIPT = textwrap.dedent("""
    import json, os, signal, sys, threading, time
    from pathlib import Path
    from nbops.run import recorder
    from nbops.run.runner import RunSettings, run_notebook

    root = Path(sys.argv[1])
    recorder.prestart()
    helper = recorder._prestarted

    def kill_helper_once_open():
        while not list(root.glob("nbops-runs/iris/.*.journal/run_id")):
            time.sleep(0.05)
        os.kill(helper.pid, signal.SIGKILL)

    threading.Thread(target=kill_helper_once_open, daemon=True).start()
    settings = RunSettings(root, root / "nbops-runs", "toy")
    outcome = run_notebook(root / "nb" / "iris.ipynb", {"pause": 3.0}, settings)
    print(json.dumps({"run_id": outcome.run_id, "status": outcome.status,
                      "helper_exit": helper._proc.poll(), "mlflow_here": "mlflow" in sys.modules}))
""")


def test_a_helper_killed_before_the_model_arrives_logs_it_in_the_runner(tmp_path: Path) -> None:
    root = _project(tmp_path, NOTEBOOK)
    proc = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(root)], cwd=root, capture_output=True, text=True,
        timeout=600, env=_env(), check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["helper_exit"] == -9 and result["mlflow_here"] is True
    assert result["status"] == "FINISHED"
    _check_model(root, result["run_id"])


def test_a_helper_that_stops_answering_is_killed_and_the_call_runs_here(tmp_path: Path) -> None:
    from nbops.run import recorder
    from nbops.run.tracking import default_tracking_uri

    recorder.prestart()
    helper = recorder.take()
    assert helper is not None
    helper.TIMEOUT_S = 3.0
    os.kill(helper.pid, signal.SIGSTOP)  # alive, never answers
    started = time.monotonic()
    try:
        helper.open(default_tracking_uri(tmp_path))
        assert helper.local  # the call was repeated in this process
        assert helper._proc.poll() is not None  # and the stuck helper is gone
        assert time.monotonic() - started < 60
        helper.set_tags(helper.start_run("exp", "nb", {}, {}), {"k": "v"})
    finally:
        helper.close()
