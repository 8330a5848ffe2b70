"""The recorder helper of ``nbops run``: MLflow's work in another process, nothing lost when it dies."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from nbops.core.snippets import notebook_from_snippet

pytestmark = pytest.mark.slow

NOTEBOOK = """
# %% tags=parameters
pause = 0.0
# %%
import time
import nbops
nbops.log_metric("early", 1.0)
time.sleep(pause)
nbops.log_metric("late", 2.0)
nbops.log_param("derived", "yes")
"""

# runs one notebook in a fresh process the way `nbops run` does (helper started first), then
# says what it got and whether MLflow was ever imported in that process
SCRIPT = textwrap.dedent("""
    import json, os, signal, sys, threading, time
    from pathlib import Path
    from nbops.run import recorder
    from nbops.run.runner import RunSettings, run_notebook

    root, pause, kill = Path(sys.argv[1]), float(sys.argv[2]), sys.argv[3] == "kill"
    recorder.prestart()
    helper = recorder._prestarted

    def kill_helper_once_open():  # the run is open: its id is in the journal
        while not list(root.glob("nbops-runs/toy/.*.journal/run_id")):
            time.sleep(0.05)
        os.kill(helper.pid, signal.SIGKILL)

    if kill:
        threading.Thread(target=kill_helper_once_open, daemon=True).start()
    settings = RunSettings(root, root / "nbops-runs", "toy")
    outcome = run_notebook(root / "toy.ipynb", {"pause": pause}, settings)
    print(json.dumps({"run_id": outcome.run_id, "status": outcome.status,
                      "metrics": outcome.metrics, "helper_exit": helper._proc.poll(),
                      "mlflow_here": "mlflow" in sys.modules}))
""")


def _run(tmp_path: Path, pause: float, kill: bool) -> dict[str, object]:
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "toy"\n')
    (tmp_path / "toy.ipynb").write_text(notebook_from_snippet(NOTEBOOK).dumps())
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW_", "NBOPS_RUN"))}
    proc = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(tmp_path), str(pause), "kill" if kill else "-"],
        cwd=tmp_path, capture_output=True, text=True, timeout=600, env=env, check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    result: dict[str, object] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


def _recorded(root: Path, run_id: str) -> tuple[object, set[str]]:
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=f"sqlite:///{root / '.nbops' / 'mlflow.db'}")
    artifacts = {Path(a.path).suffix for a in client.list_artifacts(run_id, "notebook")}
    return client.get_run(run_id), artifacts


def test_the_helper_records_the_whole_run_and_mlflow_never_loads_in_the_runner(
    tmp_path: Path,
) -> None:
    result = _run(tmp_path, 0.0, kill=False)
    assert result["status"] == "FINISHED" and result["metrics"] == {"early": 1.0, "late": 2.0}
    assert result["mlflow_here"] is False  # the helper did MLflow's work
    assert result["helper_exit"] == 0  # and was waited for: the run was complete by then
    run, artifacts = _recorded(tmp_path, str(result["run_id"]))
    assert run.info.status == "FINISHED"  # type: ignore[attr-defined]
    assert run.data.params == {"pause": "0.0", "derived": "yes"}  # type: ignore[attr-defined]
    assert run.data.tags["nbops.owner.pid"]  # type: ignore[attr-defined]
    assert artifacts == {".ipynb", ".html"}
    assert not list(tmp_path.glob("nbops-runs/toy/.*.journal"))


def test_a_helper_killed_mid_run_loses_nothing(tmp_path: Path) -> None:
    result = _run(tmp_path, 3.0, kill=True)
    assert result["helper_exit"] == -9  # it died while the notebook ran
    assert result["mlflow_here"] is True  # the runner carried on with MLflow itself
    assert result["status"] == "FINISHED" and result["metrics"] == {"early": 1.0, "late": 2.0}
    run, artifacts = _recorded(tmp_path, str(result["run_id"]))
    assert run.info.status == "FINISHED"  # type: ignore[attr-defined]
    assert run.data.metrics == {"early": 1.0, "late": 2.0}  # type: ignore[attr-defined]
    assert run.data.params["derived"] == "yes"  # type: ignore[attr-defined]
    assert artifacts == {".ipynb", ".html"}
