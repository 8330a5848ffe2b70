"""Kernels a LocalCluster's workers start ahead for their first task: real kernels, a real
LocalCluster, a real MLflow store on disk."""

from __future__ import annotations

import contextlib
import json
import os
import time
from concurrent.futures import Future
from pathlib import Path
from typing import Any

import pytest

from nbops.core.snippets import notebook_from_snippet
from nbops.run.executors import EXECUTORS, ExecutorOptions
from nbops.run.executors.dask import _Task, run_task
from nbops.run.runner import RunSettings

pytestmark = pytest.mark.slow

# what a kernel sees: the run's variables, its folder, which process it is
PROBE = """
# %% tags=parameters
alpha = 0.5
# %%
import json, os
print(json.dumps({"env": {k: v for k, v in os.environ.items()
                          if k.startswith(("NBOPS_", "MLFLOW_"))},
                  "cwd": os.getcwd(), "pid": os.getpid()}))
"""


def project(root: Path) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "pyproject.toml").write_text('[project]\nname = "toy"\n')
    (root / "toy.ipynb").write_text(notebook_from_snippet(PROBE).dumps())
    return root


def task(root: Path) -> _Task:
    store = f"sqlite:///{root / '.nbops' / 'mlflow.db'}"
    return _Task(
        notebook=str(root / "toy.ipynb"), parameters={"alpha": 2}, name="toy", experiment="toy",
        kernel=None, timeout=None, store_uri=store, parent_run_id=None,
        tags={"nbops.kind": "notebook"}, out_dir=str(root / "nbops-runs" / "toy"), retries=0,
        stop="",
    )


def seen(result: dict[str, Any]) -> dict[str, Any]:
    """What the probe printed in the executed notebook."""
    assert result["status"] == "FINISHED", result
    nb = json.loads(result["notebook"])
    (printed,) = [out["text"] for cell in nb["cells"] for out in cell.get("outputs", [])
                  if out.get("name") == "stdout"]
    return dict(json.loads("".join(printed)))


def alive(pid: int) -> bool:
    """A process that exists and is not a zombie."""
    with contextlib.suppress(OSError):
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] != "Z"
    return False


def spare_pid() -> int | None:
    """In a worker: its kernel started ahead, if it has one."""
    from nbops.run.executors import dask

    spare = dask._spare
    return None if spare is None else int(spare.km.provisioner.pid)


def test_the_first_task_runs_in_the_kernel_started_ahead_which_sees_a_fresh_kernels_world(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from nbops.run.executors import dask

    root = project(tmp_path)
    # the worker's environment when the kernel started: a stale run id, a value that changes
    monkeypatch.setenv("NBOPS_RUN_ID", "stale")
    monkeypatch.setenv("NBOPS_PROBE", "at launch")
    dask._start_spare("python3", str(root))
    assert dask._spare is not None
    ahead = int(dask._spare.km.provisioner.pid)
    monkeypatch.setenv("NBOPS_PROBE", "at the task")
    monkeypatch.setenv("MLFLOW_EXPERIMENT_NAME", "set later")

    first = seen(run_task(task(root), None))
    assert first["pid"] == ahead and dask._spare is None  # taken, by this task only
    assert not alive(ahead)  # stopped with its run: one kernel per task
    second = seen(run_task(task(root), None))  # no kernel ahead: it starts one
    assert second["pid"] != ahead

    for kernel in (first, second):  # what a kernel launched with the run's environment sees
        assert kernel["cwd"] == str(root)
        assert "NBOPS_RUN_ID" not in kernel["env"]
        assert kernel["env"]["NBOPS_PROBE"] == "at the task"
        assert kernel["env"]["MLFLOW_EXPERIMENT_NAME"] == "set later"
        assert kernel["env"]["MLFLOW_TRACKING_URI"] == task(root).store_uri
        assert json.loads(kernel["env"]["NBOPS_RUN_PARAMS"]) == {"alpha": "2"}
        assert kernel["env"]["NBOPS_RUN_DIR"].endswith(".journal")  # each run's own
    assert set(first["env"]) == set(second["env"])
    assert first["env"]["NBOPS_RUN_DIR"] != second["env"]["NBOPS_RUN_DIR"]


def test_a_kernel_started_ahead_in_another_folder_is_shut_down_not_used(
    tmp_path: Path,
) -> None:
    from nbops.run.executors import dask

    root = project(tmp_path / "toy")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    dask._start_spare("python3", str(elsewhere))
    assert dask._spare is not None
    ahead = int(dask._spare.km.provisioner.pid)
    kernel = seen(run_task(task(root), None))
    assert kernel["pid"] != ahead and kernel["cwd"] == str(root)
    assert dask._spare is None and not alive(ahead)


def test_a_local_clusters_kernels_started_ahead_are_shut_down_when_it_closes(
    tmp_path: Path,
) -> None:
    from nbops.run.dask_client import Connection
    from nbops.run.executors.dask import _warm_workers

    root = project(tmp_path)
    settings = RunSettings(project_root=root, runs_dir=root / "nbops-runs", experiment="toy",
                           tracking_uri=task(root).store_uri)
    executor = EXECUTORS.create("dask", ExecutorOptions(parallel=2))
    pids: list[int] = []
    # the executor's way: every worker starts the run's kernel; none is taken by a task
    with executor._checked(root / "toy.ipynb", "toy.ipynb", settings, 2) as connection:
        client = connection.client()
        deadline = time.monotonic() + 90
        while len(pids) < 2:
            assert time.monotonic() < deadline, client.run(spare_pid)
            pids = [pid for pid in client.run(spare_pid).values() if pid is not None]
            time.sleep(0.2)
        assert all(alive(pid) for pid in pids)
    assert not any(alive(pid) for pid in pids)

    # a cluster closed without the executor's clean-up: its workers stop theirs as they exit
    ahead: Future[tuple[str, str] | None] = Future()
    ahead.set_result(("python3", str(root)))
    with contextlib.closing(Connection(None, 1, ready=lambda c, local: _warm_workers(
            c, local, ahead=ahead))) as connection:
        client = connection.client()
        deadline = time.monotonic() + 90
        while not (pids := [p for p in client.run(spare_pid).values() if p is not None]):
            assert time.monotonic() < deadline
            time.sleep(0.2)
    deadline = time.monotonic() + 10
    while any(alive(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not any(alive(pid) for pid in pids)


def test_a_local_clusters_workers_run_the_preload_script_as_they_start(tmp_path: Path) -> None:
    from nbops.run.dask_client import Connection

    marker = tmp_path / "started"
    script = ("import os\n\ndef dask_setup(worker):\n"
              f"    open({str(marker)!r}, 'w').write(str(os.getpid()))\n")
    with contextlib.closing(Connection(None, 1, preload=lambda: script)) as connection:
        client = connection.client()
        (pid,) = client.run(os.getpid).values()
        assert marker.read_text() == str(pid)  # before the client could reach the worker


def test_a_run_given_a_recorder_does_its_mlflow_work_there(tmp_path: Path) -> None:
    from nbops.run import recorder
    from nbops.run.executors import dask

    root = project(tmp_path)
    recorder.prestart()  # what the warm-up of a worker made for one run does
    result = run_task(task(root), None)
    assert seen(result)["env"]["MLFLOW_TRACKING_URI"] == task(root).store_uri
    assert recorder.take() is None  # the run took it
    assert task(root).store_uri not in dask._trackers  # MLflow was not opened in this process
    from mlflow.tracking import MlflowClient

    run = MlflowClient(tracking_uri=task(root).store_uri).get_run(result["run_id"])
    assert run.info.status == "FINISHED" and run.data.params == {"alpha": "2"}

