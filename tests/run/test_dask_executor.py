"""The dask executor end to end: real Dask clusters, real kernels, a real MLflow store on disk."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from nbops.core.snippets import notebook_from_snippet
from nbops.errors import UsageError
from nbops.run.executors import EXECUTORS, ExecutorOptions
from nbops.run.executors.dask import RETRIES_TAG, _pack, _Task, run_task
from nbops.run.runner import RunSettings, read_run_index

pytestmark = pytest.mark.slow

NOTEBOOK = """
# %% tags=parameters
alpha = 0.5
pause = 0.0
# %%
import time
import nbops
time.sleep(pause)
nbops.log_metric("score", alpha * 2)
"""


def project(root: Path, source: str = NOTEBOOK) -> Path:
    (root / "pyproject.toml").write_text('[project]\nname = "toy"\n')
    (root / "toy.ipynb").write_text(notebook_from_snippet(source).dumps())
    return root


def settings(root: Path) -> RunSettings:
    return RunSettings(project_root=root, runs_dir=root / "nbops-runs", experiment="toy",
                       tracking_uri=f"sqlite:///{root / '.nbops' / 'mlflow.db'}")


def client(root: Path) -> Any:
    from mlflow.tracking import MlflowClient

    return MlflowClient(tracking_uri=f"sqlite:///{root / '.nbops' / 'mlflow.db'}")


def children(root: Path, parent: str) -> list[Any]:
    mlflow = client(root)
    experiment = mlflow.get_run(parent).info.experiment_id
    return list(mlflow.search_runs([experiment], f"tags.`mlflow.parentRunId` = '{parent}'"))


def nbops(cwd: Path, *args: str, **kwargs: Any) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW_", "NBOPS_RUN"))}
    return subprocess.Popen([sys.executable, "-m", "nbops", *args], cwd=cwd, env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kwargs)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def cluster() -> Iterator[str]:
    """One 2-worker LocalCluster for the module (each costs seconds to start)."""
    import logging

    from distributed import LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      dashboard_address=None, silence_logs=logging.ERROR) as local:
        yield str(local.scheduler_address)


def dask(address: str | None, retries: int = 1) -> Any:
    return EXECUTORS.create("dask", ExecutorOptions(scheduler=address, retries=retries))


def test_a_sweep_of_four_on_two_workers_nests_four_finished_children(
    tmp_path: Path, cluster: str
) -> None:
    root = project(tmp_path)
    sets = [{"alpha": a} for a in (1.0, 2.0, 3.0, 4.0)]
    seen: list[tuple[int, int, int, int]] = []
    sweep = dask(cluster).run_sweep(root / "toy.ipynb", sets, settings(root),
                                    progress=lambda *a: seen.append(a))
    assert [r.status for r in sweep.runs] == ["FINISHED"] * 4
    assert [r.metrics["score"] for r in sweep.runs] == [2.0, 4.0, 6.0, 8.0]
    runs = children(root, sweep.parent_run_id)
    assert len(runs) == 4 and {r.info.status for r in runs} == {"FINISHED"}
    assert {r.info.run_id for r in runs} == {r.run_id for r in sweep.runs}
    assert all(r.data.tags[RETRIES_TAG] == "0" and r.data.tags["nbops.executor"] == "dask"
               for r in runs)
    assert client(root).get_run(sweep.parent_run_id).info.status == "FINISHED"
    for outcome in sweep.runs:  # copied back where the local executor puts them
        assert outcome.output is not None and outcome.output.parent == root / "nbops-runs" / "toy"
        assert outcome.output.exists() and outcome.output.with_suffix(".html").exists()
        tag = client(root).get_run(outcome.run_id).data.tags["nbops.output"]
        assert tag == str(outcome.output)
    assert len(read_run_index(root / "nbops-runs", root / "toy.ipynb")) == 4
    assert seen[-1][:2] == (4, 0) and seen[-1][3] == 4


def test_a_kernel_that_dies_is_retried_once_and_the_retry_is_recorded(
    tmp_path: Path, cluster: str
) -> None:
    root = project(tmp_path, """
# %% tags=parameters
marker = "died-once"
# %%
import os, pathlib
if not pathlib.Path(marker).exists():
    pathlib.Path(marker).write_text("x")
    os._exit(1)
""")
    outcome = dask(cluster).run_notebook(root / "toy.ipynb", {}, settings(root))
    assert outcome.status == "FINISHED", outcome
    assert client(root).get_run(outcome.run_id).data.tags[RETRIES_TAG] == "1"
    (root / "died-once").unlink()
    again = dask(cluster, retries=0).run_notebook(root / "toy.ipynb", {}, settings(root))
    assert again.status == "FAILED" and "kernel" in (again.error or "")


def test_a_task_runs_in_its_own_copy_of_the_notebooks_folder(tmp_path: Path) -> None:
    root = project(tmp_path, """
# %%
import pathlib
text = pathlib.Path("data.txt").read_text()
pathlib.Path("written.txt").write_text(text)
print(text)
""")
    (root / "data.txt").write_text("from the client")
    folder = _pack(root)
    (root / "data.txt").unlink()  # only the copy has it now
    result = run_task(_Task(
        notebook=str(root / "toy.ipynb"), parameters={}, name="toy", experiment="toy",
        kernel=None, timeout=None, store_uri=settings(root).store_uri, parent_run_id=None,
        tags={"nbops.kind": "notebook"}, out_dir=str(root / "nbops-runs" / "toy"), retries=0,
        stop="",
    ), folder)
    assert result["status"] == "FINISHED", result
    assert b"from the client" in result["notebook"]
    assert not (root / "written.txt").exists()  # written in the copy, not in the original


def test_an_unreachable_scheduler_fails_fast_naming_it(tmp_path: Path) -> None:
    root = project(tmp_path)
    address = f"tcp://127.0.0.1:{free_port()}"
    began = time.monotonic()
    proc = nbops(root, "run", "toy.ipynb", "--executor", "dask", "--scheduler", address)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 2, out + err
    assert f"cannot reach the Dask scheduler at {address}" in err and "Traceback" not in err
    assert time.monotonic() - began < 60
    assert not (root / "nbops-runs").exists()  # no kernel, no run


def test_a_local_sqlite_store_with_a_remote_scheduler_is_refused_before_anything(
    tmp_path: Path,
) -> None:
    root = project(tmp_path)
    with pytest.raises(UsageError) as caught:
        dask("tcp://10.9.8.7:8786").run_sweep(root / "toy.ipynb", [{}, {}], settings(root))
    message = str(caught.value) + " " + (caught.value.hint or "")
    assert "tcp://10.9.8.7:8786" in message and "nbops tracking-server" in message
    assert str(root) not in str(caught.value)  # the store's path relative to the project
    assert not (root / "nbops-runs").exists() and not (root / ".nbops").exists()


def test_a_single_run_without_a_scheduler_writes_its_notebook_like_local(tmp_path: Path) -> None:
    root = project(tmp_path)
    proc = nbops(root, "run", "toy.ipynb", "--executor", "dask", "-p", "alpha", "3",
                 "--format", "json")
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, out + err
    (run,) = json.loads(out)["runs"]
    assert run["status"] == "FINISHED" and run["metrics"] == {"score": 6.0}
    executed = Path(run["output"])
    assert executed.parent == root / "nbops-runs" / "toy" and executed.exists()
    assert "alpha = 3" in executed.read_text()
    (entry,) = read_run_index(root / "nbops-runs", root / "toy.ipynb")
    assert entry["run_id"] == run["run_id"] and entry["output"] == str(executed)
    tags = client(root).get_run(run["run_id"]).data.tags
    assert tags["nbops.executor"] == "dask"
    assert tags["nbops.scheduler"] == "local"  # a LocalCluster, as the parent of a sweep says


def test_stop_during_a_sweep_ends_its_runs_killed(tmp_path: Path, cluster: str) -> None:
    root = project(tmp_path)
    proc = nbops(root, "run", "toy.ipynb", "--executor", "dask", "--scheduler", cluster,
                 "--grid", "pause=60,61,62", "--format", "json", "--progress", "json")
    assert proc.stderr is not None
    from nbops.run.tracking import mlflow_client

    store = settings(root).store_uri
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:  # the parent and two children running
        mlflow = mlflow_client(store)  # under nbops' lock: the run may be creating the store
        running = mlflow.search_runs([e.experiment_id for e in mlflow.search_experiments()],
                                     "attributes.status = 'RUNNING'")
        if len(running) >= 3:
            break
        time.sleep(0.5)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, out + err
    report = json.loads(out)
    assert report["interrupted"] and len(report["runs"]) == 3
    assert {r["status"] for r in report["runs"]} == {"KILLED"}
    parent = report["parent_run_id"]
    assert client(root).get_run(parent).info.status == "KILLED"
    kids = children(root, parent)
    assert len(kids) >= 2 and {k.info.status for k in kids} == {"KILLED"}


def test_a_real_scheduler_and_two_workers_run_a_sweep(tmp_path: Path) -> None:
    root = project(tmp_path)
    port = free_port()
    address = f"tcp://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW_", "NBOPS_RUN"))}
    started = [subprocess.Popen(
        [sys.executable, "-m", "distributed.cli.dask_scheduler", "--host", "127.0.0.1",
         "--port", str(port), "--no-dashboard"], env=env, stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL)]
    try:
        for _ in range(2):
            started.append(subprocess.Popen(
                [sys.executable, "-m", "distributed.cli.dask_worker", address, "--nthreads", "1",
                 "--no-dashboard"], env=env, stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL))
        proc = nbops(root, "run", "toy.ipynb", "--executor", "dask", "--scheduler", address,
                     "--grid", "alpha=1,2", "--format", "json")
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, out + err
        report = json.loads(out)
        assert [r["status"] for r in report["runs"]] == ["FINISHED", "FINISHED"]
        kids = children(root, report["parent_run_id"])
        assert {k.data.tags["mlflow.runName"] for k in kids} == {"toy #1", "toy #2"}
        assert {k.data.tags["nbops.scheduler"] for k in kids} == {address}
    finally:
        for process in reversed(started):
            process.terminate()
        for process in started:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()


def test_a_sweeps_end_fails_its_lost_children_and_keeps_the_stopped_ones(tmp_path: Path) -> None:
    """A child still RUNNING, or ended KILLED by the orphan check (its worker process died on
    this host), is a lost attempt: FAILED; one stopped by the user stays KILLED."""
    from nbops.run.executors.dask import _end_running_children
    from nbops.run.journal import KILLED_REASON_TAG
    from nbops.run.tracking import MlflowTracker

    tracker = MlflowTracker(settings(project(tmp_path)).store_uri)
    parent = tracker.start_run("toy", "toy sweep", {}, {})
    kids = {name: tracker.start_run("toy", name, {}, {}, parent_run_id=parent)
            for name in ("running", "orphan", "stopped", "finished")}
    tracker.set_tags(kids["orphan"], {KILLED_REASON_TAG: "its process is gone"})
    for name, status in (("orphan", "KILLED"), ("stopped", "KILLED"), ("finished", "FINISHED")):
        tracker.end_run(kids[name], status)
    _end_running_children(tracker, parent, "FAILED", {"nbops.error": "lost"}, orphans=True)
    runs = {name: tracker.client.get_run(run_id) for name, run_id in kids.items()}
    assert {name: run.info.status for name, run in runs.items()} == {
        "running": "FAILED", "orphan": "FAILED", "stopped": "KILLED", "finished": "FINISHED"}
    assert runs["orphan"].data.tags["nbops.error"] == "lost"
    assert "nbops.error" not in runs["stopped"].data.tags


def _kernels_of(pid: int) -> list[int]:
    """The live kernel processes (ipykernel) that ``pid`` started, from /proc."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            cmdline = (stat.parent / "cmdline").read_bytes()
        except (OSError, IndexError):
            continue
        if fields[0] != "Z" and int(fields[1]) == pid and b"ipykernel" in cmdline:
            found.append(int(stat.parent.name))
    return found


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="reads the process tree from /proc")
def test_a_worker_killed_mid_run_leaves_no_child_running(tmp_path: Path) -> None:
    """SIGKILL one of two workers while its kernel runs: Dask runs the task again on the
    other worker (or it fails); the sweep ends, every child is ended, so is the parent."""
    root = project(tmp_path)
    port = free_port()
    address = f"tcp://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW_", "NBOPS_RUN"))}
    started = [subprocess.Popen(
        [sys.executable, "-m", "distributed.cli.dask_scheduler", "--host", "127.0.0.1",
         "--port", str(port), "--no-dashboard"], env=env, stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL)]
    kernels: list[int] = []
    try:
        workers = [subprocess.Popen(  # no nanny: the worker is the process that dies
            [sys.executable, "-m", "distributed.cli.dask_worker", address, "--nthreads", "1",
             "--no-nanny", "--no-dashboard"], env=env, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL) for _ in range(2)]
        started += workers
        proc = nbops(root, "run", "toy.ipynb", "--executor", "dask", "--scheduler", address,
                     "--grid", "pause=10,11", "--format", "json")
        from nbops.run.tracking import mlflow_client

        store = settings(root).store_uri
        deadline = time.monotonic() + 180
        while True:  # both children opened, so both workers are in their runs' kernels
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "the two runs never ran at the same time"
            mlflow = mlflow_client(store)  # under nbops' lock: the run may be creating the store
            running = mlflow.search_runs([e.experiment_id for e in mlflow.search_experiments()],
                                         "attributes.status = 'RUNNING'")
            busy = [w for w in workers if _kernels_of(w.pid)]
            if len(running) >= 3 and busy:  # the parent and two children
                break
            time.sleep(0.3)
        victim = busy[0]
        kernels = _kernels_of(victim.pid)
        victim.send_signal(signal.SIGKILL)
        out, err = proc.communicate(timeout=300)  # the sweep ends
        # 0: retried elsewhere; 1 or 3: a run ended FAILED (3: its task was lost)
        assert proc.returncode in (0, 1, 3), (proc.returncode, err[-3000:])
        report = json.loads(out)
        assert len(report["runs"]) == 2 and "Traceback" not in err
        assert {r["status"] for r in report["runs"]} <= {"FINISHED", "FAILED"}
        parent = report["parent_run_id"]
        assert client(root).get_run(parent).info.status in ("FINISHED", "FAILED")
        kids = children(root, parent)
        assert len(kids) >= 2  # the lost attempt's child and the retry's, when it was retried
        assert {k.info.status for k in kids} <= {"FINISHED", "FAILED"}, [
            (k.info.run_name, k.info.status) for k in kids]
        assert all(k.info.end_time for k in kids)
        lost = [k for k in kids if k.info.status == "FAILED"]
        assert lost, "no child was lost: the killed worker was running none"
        assert all(k.data.tags.get("nbops.error") for k in lost)
    finally:
        for pid in kernels:  # the killed worker's kernel, orphaned
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
        for process in reversed(started):
            process.terminate()
        for process in started:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()


def _warm() -> bool:
    return all(name in sys.modules for name in ("papermill", "nbformat", "mlflow", "nbconvert"))


def _warming() -> bool:
    from nbops.run.executors import dask as executor

    return executor._warming is not None


def test_a_local_clusters_workers_warm_up_before_their_first_task(cluster: str) -> None:
    from distributed import Client

    from nbops.run.dask_client import Connection
    from nbops.run.executors.dask import _warm_workers

    connection = Connection(None, 2, ready=_warm_workers)
    with contextlib.closing(connection):
        client = connection.client()
        deadline = time.monotonic() + 90
        while not all(client.run(_warm).values()):  # no task has run on them
            assert time.monotonic() < deadline, client.run(_warm)
            time.sleep(0.2)
    with Client(cluster) as other:  # a scheduler nbops did not start: its workers are theirs
        _warm_workers(other, False)
        assert not any(other.run(_warming).values())


def test_a_worker_opens_the_store_once_for_its_tasks(tmp_path: Path) -> None:
    from nbops.run.executors.dask import _trackers

    root = project(tmp_path)
    store = settings(root).store_uri
    task = _Task(
        notebook=str(root / "toy.ipynb"), parameters={}, name="toy", experiment="toy",
        kernel=None, timeout=None, store_uri=store, parent_run_id=None,
        tags={"nbops.kind": "notebook"}, out_dir=str(root / "nbops-runs" / "toy"), retries=0,
        stop="",
    )
    assert store not in _trackers
    first = run_task(task, None)
    tracker = _trackers[store]  # opened by the first task
    second = run_task(task, None)
    assert _trackers[store] is tracker  # and used by the second
    assert first["status"] == second["status"] == "FINISHED"
    assert first["run_id"] != second["run_id"]
    assert tracker.get_run(first["run_id"]).status == "FINISHED"
    assert tracker.get_run(second["run_id"]).status == "FINISHED"


def test_a_single_run_on_its_own_local_cluster_leaves_nothing_on_stderr(tmp_path: Path) -> None:
    # the task's Stop watcher is gone when the cluster closes: no wait of it at the scheduler
    # for the close to cancel (Dask logs each cancelled wait as an ERROR with a traceback)
    root = project(tmp_path)
    proc = nbops(root, "run", "toy.ipynb", "--executor", "dask", "--format", "json")
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, out + err
    assert json.loads(out)["runs"][0]["status"] == "FINISHED"
    assert err == "", err


def test_a_tasks_stop_watcher_waits_here_never_at_the_scheduler() -> None:
    # a wait at the scheduler is what a finished task used to sit out (WATCH_S) before
    # returning its result; polling here ends as soon as the task is done
    import threading

    from distributed import Client, Event, LocalCluster

    from nbops.run.executors.dask import _watch

    with LocalCluster(n_workers=0, processes=False, dashboard_address=None) as cluster, \
            Client(cluster) as dask_client:
        name = "nbops-stop-watcher-test"
        waiters = cluster.scheduler.extensions["events"]._waiter_count
        cancelled, done = threading.Event(), threading.Event()
        watcher = threading.Thread(target=_watch, args=(name, cancelled, done), daemon=True)
        watcher.start()
        seen = []
        for _ in range(30):  # a few of its looks
            seen.append(waiters.get(name, 0))
            time.sleep(0.05)
        Event(name, client=dask_client).set()  # Stop: it still sees it
        assert cancelled.wait(30)
        done.set()
        watcher.join(timeout=30)
        assert not watcher.is_alive()
        assert max(seen) == 0, seen


def test_the_console_script_exits_without_freeing_dasks_modules(tmp_path: Path) -> None:
    # a dask run's CLI has neither MLflow nor papermill loaded: Dask's modules alone took
    # ~0.2 s to free at exit (the fast exit of nbops.cli.main skips the teardown)
    code = (
        "import sys, distributed\n"
        "class Witness:\n"
        "    def __del__(self):\n"
        "        print('freed', flush=True)\n"
        "distributed.nbops_witness = Witness()\n"
        "sys.argv = ['nbops', 'lint', 'missing.ipynb']\n"
        "from nbops.cli.main import run\n"
        "run()\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True,
                         text=True, timeout=120, check=False)
    assert out.returncode == 2, out.stderr  # what `nbops lint` of a missing notebook exits with
    assert "NB001" in out.stdout  # its report was written
    assert "freed" not in out.stdout
