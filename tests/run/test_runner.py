"""nbops run end to end: a real kernel through papermill, a real MLflow store on disk."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import pytest

from nbops.core.snippets import notebook_from_snippet

pytestmark = pytest.mark.slow

NOTEBOOK = """
# %% [markdown]
# Toy model
# %% tags=parameters
alpha = 0.5  # smoothing
n = 3
fail = False
pause = 0.0
# %%
import time
import nbops
time.sleep(pause)
score = alpha * n
nbops.log_metric("score", score)
nbops.log_param("derived", n * 2)
# %%
if fail:
    raise ValueError("asked to fail")
"""


def project(tmp_path: Path) -> Path:
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "toy"\n')
    (tmp_path / "toy.ipynb").write_text(notebook_from_snippet(NOTEBOOK).dumps())
    return tmp_path


def nbops(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW_", "NBOPS_RUN"))}
    return subprocess.run(
        [sys.executable, "-m", "nbops", *args], cwd=cwd, capture_output=True, text=True,
        timeout=600, env=env, check=False,
    )


def client(root: Path) -> object:
    from mlflow.tracking import MlflowClient

    return MlflowClient(tracking_uri=f"sqlite:///{root / '.nbops' / 'mlflow.db'}")


def test_a_run_is_tracked_with_params_metrics_artifacts_and_lineage(tmp_path: Path) -> None:
    root = project(tmp_path)
    proc = nbops(root, "run", "toy.ipynb", "-p", "alpha", "2", "--format", "json")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    report = json.loads(proc.stdout)
    (run,) = report["runs"]
    assert run["status"] == "FINISHED" and run["parameters"] == {"alpha": 2.0}
    assert run["metrics"] == {"score": 6.0}
    executed = Path(run["output"])
    assert executed.exists() and executed.parent.parent == root / "nbops-runs"
    assert "alpha = 2.0" in executed.read_text() or "alpha = 2" in executed.read_text()
    record = client(root).get_run(run["run_id"])  # type: ignore[attr-defined]
    assert record.data.params["alpha"] == "2.0" and record.data.params["derived"] == "6"
    tags = record.data.tags
    assert tags["nbops.notebook.sha256"] and tags["nbops.version.papermill"]
    assert tags["nbops.git.commit"] == "none"  # not a git repository
    artifacts = {a.path for a in client(root).list_artifacts(run["run_id"], "notebook")}  # type: ignore[attr-defined]
    assert any(p.endswith(".ipynb") for p in artifacts) and any(p.endswith(".html") for p in artifacts)
    assert client(root).list_artifacts(run["run_id"], "environment")  # type: ignore[attr-defined]


def test_a_failing_cell_fails_the_run_with_its_cell(tmp_path: Path) -> None:
    root = project(tmp_path)
    proc = nbops(root, "run", "toy.ipynb", "-p", "fail", "true")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "FAILED" in proc.stdout
    assert "cell 4 raised ValueError: asked to fail" in proc.stdout
    runs = nbops(root, "runs", "--format", "json")
    (record,) = json.loads(runs.stdout)
    assert record["status"] == "FAILED"
    assert record["tags"]["nbops.failed_cell"] == "4"
    assert record["tags"]["nbops.error_name"] == "ValueError"
    assert list((root / "nbops-runs" / "toy").glob("*.ipynb"))  # partial output kept


def test_sweep_groups_children_under_a_parent_and_ranks_them(tmp_path: Path) -> None:
    root = project(tmp_path)
    proc = nbops(root, "run", "toy.ipynb", "--grid", "alpha=1,3", "--grid", "n=1,2",
                 "--parallel", "2", "--rank-by", "score", "--format", "json")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    report = json.loads(proc.stdout)
    assert [r["metrics"]["score"] for r in report["runs"]] == [6.0, 3.0, 2.0, 1.0]
    parent = report["parent_run_id"]
    for run in report["runs"]:
        tags = client(root).get_run(run["run_id"]).data.tags  # type: ignore[attr-defined]
        assert tags["mlflow.parentRunId"] == parent
    assert client(root).get_run(parent).info.status == "FINISHED"  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["-p", "alpah", "1"], "alpha"),
        (["-p", "n", "three"], "n"),
        (["--grid", "n="], "n"),
        (["-f", "bad.yaml"], "bad.yaml"),
    ],
    ids=["unknown-name", "wrong-type", "empty-grid", "broken-yaml"],
)
def test_bad_parameters_are_refused_before_any_kernel(args: list[str], message: str, tmp_path: Path) -> None:
    root = project(tmp_path)
    (root / "bad.yaml").write_text("alpha: [1, 2\n")
    proc = nbops(root, "run", "toy.ipynb", *args)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert message in proc.stderr and "Traceback" not in proc.stderr
    assert not (root / "nbops-runs").exists()


def test_ctrl_c_stops_kernels_keeps_finished_runs_and_marks_the_rest_killed(tmp_path: Path) -> None:
    root = project(tmp_path)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW_", "NBOPS_RUN"))}
    proc = subprocess.Popen(
        [sys.executable, "-m", "nbops", "run", "toy.ipynb", "--grid", "pause=0,60,61",
         "--parallel", "2", "--format", "json"],
        cwd=root, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:  # wait for the quick run to be recorded
        done = list((root / "nbops-runs" / "toy").glob("*.html")) if (root / "nbops-runs" / "toy").exists() else []
        if done:
            break
        time.sleep(0.5)
    time.sleep(3)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, out + err
    report = json.loads(out)
    statuses = sorted(r["status"] for r in report["runs"])
    assert "FINISHED" in statuses and "KILLED" in statuses
    assert report["interrupted"] is True
    assert client(root).get_run(report["parent_run_id"]).info.status == "KILLED"  # type: ignore[attr-defined]


def test_the_generated_pipeline_runs_tracked_next_to_the_notebook(tmp_path: Path) -> None:
    root = project(tmp_path)
    missing = nbops(root, "run", "toy.ipynb", "--pipeline")
    assert missing.returncode == 2 and "nbops modularize" in missing.stderr
    assert nbops(root, "modularize", "toy.ipynb").returncode == 0
    notebook = json.loads(nbops(root, "run", "toy.ipynb", "-p", "alpha", "2", "--format", "json").stdout)
    proc = nbops(root, "run", "toy.ipynb", "--pipeline", "-p", "alpha", "2", "--format", "json")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    (pipeline,) = json.loads(proc.stdout)["runs"]
    assert pipeline["status"] == "FINISHED"
    # the same metric, computed by the notebook and by its generated pipeline
    assert pipeline["metrics"]["score"] == notebook["runs"][0]["metrics"]["score"] == 6.0
    listed = json.loads(nbops(root, "runs", "--format", "json").stdout)
    kinds = sorted(r["tags"]["nbops.kind"] for r in listed)
    assert kinds == ["notebook", "pipeline"]
    failing = nbops(root, "run", "toy.ipynb", "--pipeline", "-p", "fail", "true")
    assert failing.returncode == 1 and "ValueError: asked to fail" in failing.stdout


MODEL_NOTEBOOK = """
# %% tags=parameters
C = 1.0
# %%
import nbops
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression
x, y = load_iris(return_X_y=True)
model = LogisticRegression(C=C, max_iter=500).fit(x, y)
nbops.log_metric("accuracy", model.score(x, y))
nbops.log_model(model)
"""


def test_promote_registers_the_model_as_challenger_and_compare_shows_differences(tmp_path: Path) -> None:
    root = project(tmp_path)
    (root / "iris.ipynb").write_text(notebook_from_snippet(MODEL_NOTEBOOK).dumps())
    first = json.loads(nbops(root, "run", "iris.ipynb", "-p", "C", "0.01", "--format", "json").stdout)
    second = json.loads(nbops(root, "run", "iris.ipynb", "-p", "C", "10", "--format", "json").stdout)
    a, b = first["runs"][0]["run_id"], second["runs"][0]["run_id"]
    compared = nbops(root, "runs", "compare", a[:8], b[:8], "--format", "json")
    assert compared.returncode == 0, compared.stderr
    diff = json.loads(compared.stdout)
    assert diff["params"]["changed"]["C"] == {"a": "0.01", "b": "10.0"}
    assert "accuracy" in diff["metrics"]["changed"]
    promoted = nbops(root, "promote", b[:8], "--model", "iris")
    # no [tool.nbops.promote] thresholds: registered as challenger, HOLD, champion not moved
    assert promoted.returncode == 1, promoted.stderr
    assert "registered iris version 1; alias 'challenger'" in promoted.stdout
    assert "no thresholds" in promoted.stdout
    version = client(root).get_model_version_by_alias("iris", "challenger")  # type: ignore[attr-defined]
    assert version.run_id == b
    unknown = nbops(root, "promote", "ffffffff", "--model", "iris")
    assert unknown.returncode == 2 and "Traceback" not in unknown.stderr


LIVE_NOTEBOOK = """
# %% tags=parameters
pause = 3.0
# %%
import time
import nbops
nbops.log_metric("early", 1.0)
assert nbops.active_run_id()  # waits until nbops has opened the run (it opens in parallel)
time.sleep(pause)
nbops.log_metric("late", 2.0)
"""


def test_metrics_reach_the_store_while_the_notebook_still_runs(tmp_path: Path) -> None:
    from nbops.run.tracking import mlflow_client

    root = project(tmp_path)
    (root / "live.ipynb").write_text(notebook_from_snippet(LIVE_NOTEBOOK).dumps())
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW_", "NBOPS_RUN"))}
    proc = subprocess.Popen(
        [sys.executable, "-m", "nbops", "run", "live.ipynb", "-p", "pause", "6", "--format", "json"],
        cwd=root, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )
    seen_live = None
    deadline = time.monotonic() + 120
    store: Any = None
    while proc.poll() is None and time.monotonic() < deadline:
        if (root / ".nbops" / "mlflow.db").exists():
            # nbops' own opener: it waits on the lock nbops holds while it creates the tables
            store = store or mlflow_client(f"sqlite:///{root / '.nbops' / 'mlflow.db'}")
            ids = [e.experiment_id for e in store.search_experiments()]
            for run in store.search_runs(ids) if ids else []:
                if "early" in run.data.metrics and proc.poll() is None:
                    seen_live = dict(run.data.metrics)
            if seen_live is not None:
                break
        time.sleep(0.3)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, out + err
    assert seen_live is not None and "late" not in seen_live  # logged before the run ended
    (run,) = json.loads(out)["runs"]
    assert run["metrics"] == {"early": 1.0, "late": 2.0}
    executed = Path(run["output"])
    assert executed.name.endswith(f"-{run['run_id'][:8]}.ipynb") and executed.exists()
    tags = client(root).get_run(run["run_id"]).data.tags  # type: ignore[attr-defined]
    assert tags["nbops.output"] == str(executed.resolve())
    assert not list((root / "nbops-runs" / "live").glob(".*journal"))  # cleaned up


ENV_NOTEBOOK = """
# %% tags=parameters
x = 1
# %%
import os
import nbops
nbops.log_param("store_seen", os.environ["MLFLOW_TRACKING_URI"].endswith("team-store.db"))
nbops.log_param("stale_run_id", os.environ.get("NBOPS_RUN_ID", "unset"))
"""


def test_the_kernel_gets_the_run_in_its_environment_and_the_executed_copy_shows_none_of_it(
    tmp_path: Path,
) -> None:
    """The tracking URI (which may hold credentials) and the journal's path reach the kernel
    through its environment, never through a cell of the executed notebook (an artifact)."""
    root = project(tmp_path)
    (root / "env.ipynb").write_text(notebook_from_snippet(ENV_NOTEBOOK).dumps())
    store = tmp_path / "elsewhere" / "team-store.db"
    store.parent.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW_", "NBOPS_RUN"))}
    env.update({"MLFLOW_TRACKING_URI": f"sqlite:///{store}", "NBOPS_RUN_ID": "stale-from-the-shell"})
    proc = subprocess.run([sys.executable, "-m", "nbops", "run", "env.ipynb"], cwd=root,
                          capture_output=True, text=True, timeout=600, env=env, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert f"tracking store: {store}" in proc.stdout  # where the runs really went
    from mlflow.tracking import MlflowClient

    (record,) = MlflowClient(tracking_uri=f"sqlite:///{store}").search_runs(
        [e.experiment_id for e in MlflowClient(tracking_uri=f"sqlite:///{store}").search_experiments()]
    )
    assert record.data.params["store_seen"] == "True"
    assert record.data.params["stale_run_id"] == "unset"  # the shell's stale id never reached it
    (executed,) = (root / "nbops-runs" / "env").glob("*.ipynb")
    text = executed.read_text()
    assert str(store.parent) not in text and ".journal" not in text and "NBOPS_RUN_DIR" not in text
    doc = json.loads(text)
    assert doc["metadata"]["nbops"]["executed_from"] == "env.ipynb"
    assert len(doc["cells"]) == 2  # the notebook's own cells (no -p: papermill injects none)


@pytest.mark.parametrize(
    ("uri", "message"),
    [
        ("http://127.0.0.1:{port}", "cannot reach the MLflow tracking server http://127.0.0.1:"),
        ("https://ana:s3cret@127.0.0.1:{port}/mlflow", "https://ana:***@127.0.0.1:"),
        ("mongo://somewhere/db", "has a scheme MLflow does not know (mongo:)"),
        ("sqlite:///{folder}", "is a folder, not a database file"),
    ],
    ids=["no-server", "password-hidden", "unknown-scheme", "folder"],
)
def test_a_tracking_uri_that_cannot_work_is_refused_before_any_kernel(
    uri: str, message: str, tmp_path: Path
) -> None:
    import socket

    root = project(tmp_path)
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("MLFLOW_", "NBOPS_RUN")) and "proxy" not in k.lower()}
    env["MLFLOW_TRACKING_URI"] = uri.format(port=port, folder=tmp_path)
    proc = subprocess.run([sys.executable, "-m", "nbops", "run", "toy.ipynb"], cwd=root,
                          capture_output=True, text=True, timeout=600, env=env, check=False)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert message in proc.stderr and "MLFLOW_TRACKING_URI" in proc.stderr
    assert "s3cret" not in proc.stderr + proc.stdout and "Traceback" not in proc.stderr
    assert not (root / "nbops-runs").exists()  # nothing ran


@pytest.mark.parametrize("declared", [False, True], ids=["--kernel", "kernelspec"])
def test_a_kernel_that_is_not_installed_is_refused_before_anything_starts(
    declared: bool, tmp_path: Path
) -> None:
    root = project(tmp_path)
    args = ["run", "toy.ipynb"]
    if declared:  # the notebook names a kernel this machine does not have
        doc = json.loads((root / "toy.ipynb").read_text())
        doc["metadata"]["kernelspec"] = {"name": "nosuch", "display_name": "No", "language": "python"}
        (root / "toy.ipynb").write_text(json.dumps(doc))
    else:
        args += ["--kernel", "nosuch"]
    started = time.monotonic()
    proc = nbops(root, *args)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert proc.stderr.startswith("nbops: error: toy.ipynb: "), proc.stderr
    assert "'nosuch'" in proc.stderr and "jupyter kernelspec list" in proc.stderr
    assert "installed kernels: python3" in proc.stderr and "Traceback" not in proc.stderr
    assert time.monotonic() - started < 30
    assert not (root / "nbops-runs").exists() and not (root / ".nbops").exists()  # no run
    if declared:  # --kernel overrides the notebook's kernelspec
        ok = nbops(root, "run", "toy.ipynb", "--kernel", "python3")
        assert ok.returncode == 0, ok.stdout + ok.stderr


@pytest.mark.parametrize("pipeline", [False, True], ids=["notebook", "pipeline"])
def test_without_mlflow_a_run_is_refused_before_any_kernel(pipeline: bool, tmp_path: Path) -> None:
    # the runner imports MLflow in the background: without this check the notebook ran first
    root = project(tmp_path)
    hide = "import sys; sys.modules['mlflow'] = None; from nbops.cli.main import run; run()"
    args = ["run", "toy.ipynb", "-p", "pause", "30"] + (["--pipeline"] if pipeline else [])
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW_", "NBOPS_RUN"))}
    started = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-c", hide, *args], cwd=root, capture_output=True, text=True,
        timeout=120, env=env, check=False,
    )
    assert proc.returncode == 3, proc.stdout + proc.stderr
    assert "MLflow is not installed" in proc.stderr and "pip install 'nbops[run]'" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert time.monotonic() - started < 25  # the notebook (pause 30) never started
    assert not (root / "nbops-runs").exists() and not (root / ".nbops").exists()


DIES = """
# %% tags=parameters
code = 9
# %%
import os
os.kill(os.getpid(), code)
"""


def test_a_kernel_that_dies_exits_3_and_fails_the_run(tmp_path: Path) -> None:
    root = project(tmp_path)
    (root / "dies.ipynb").write_text(notebook_from_snippet(DIES).dumps())
    proc = nbops(root, "run", "dies.ipynb", "--format", "json")
    assert proc.returncode == 3, proc.stdout + proc.stderr  # a tool failure (nbops.errors)
    (run,) = json.loads(proc.stdout)["runs"]
    assert run["status"] == "FAILED" and "DeadKernelError" in run["error"]
    assert run["error"].startswith("dies.ipynb: ")  # named as given, not by its absolute path
    record = client(root).get_run(run["run_id"])  # type: ignore[attr-defined]
    assert record.info.status == "FAILED" and "DeadKernelError" in record.data.tags["nbops.error"]


WHERE = """
# %% tags=parameters
pause = 1.0
# %%
import os, time
import nbops
time.sleep(pause)
nbops.log_param("cwd", os.getcwd())
"""


def test_a_run_from_another_folder_keeps_the_process_directory_and_runs_in_the_notebooks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The demo's race: papermill's cwd= changed the process's directory while the tracking
    thread resolved the notebook's relative path (`build/demo/build/demo/...: no such notebook`)."""
    import threading

    from nbops.run.runner import RunSettings, run_notebook

    (tmp_path / "proj").mkdir()
    root = project(tmp_path / "proj")
    (root / "where.ipynb").write_text(notebook_from_snippet(WHERE).dumps())
    monkeypatch.chdir(tmp_path)
    for key in [k for k in os.environ if k.startswith(("MLFLOW_", "NBOPS_RUN"))]:
        monkeypatch.delenv(key)
    seen: set[str] = set()
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            seen.add(os.getcwd())
            stop.wait(0.001)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    settings = RunSettings(Path("proj"), Path("proj/out"), "where")  # relative, as typed
    try:
        outcome = run_notebook(Path("proj/where.ipynb"), {}, settings)
    finally:
        stop.set()
        sampler.join()
    assert seen == {str(tmp_path)}
    assert outcome.status == "FINISHED", outcome
    assert outcome.output is not None and outcome.output.parent == root / "out" / "where"
    record = client(root).get_run(outcome.run_id)  # type: ignore[attr-defined]
    assert record.data.params["cwd"] == str(root.resolve())
    assert record.data.tags["nbops.notebook.path"] == str(root / "where.ipynb")


# --------------------------------------------------------------------------- stopping runs


def _started(root: Path, *args: str, ignore_sigint: bool = False) -> subprocess.Popen[str]:
    """``nbops run toy.ipynb -p pause 60 ARGS`` once its MLflow run is open and the kernel is in
    the long cell (the journal has the run id). ``ignore_sigint``: started as a server in the
    background starts it, SIGINT ignored (SIG_IGN survives exec)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW_", "NBOPS_RUN"))}

    def ignore() -> None:
        signal.signal(signal.SIGINT, signal.SIG_IGN)

    proc = subprocess.Popen(
        [sys.executable, "-m", "nbops", "run", "toy.ipynb", "-p", "pause", "60", *args],
        cwd=root, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
        preexec_fn=ignore if ignore_sigint else None,  # noqa: PLW1509 - a test's own child
    )
    deadline = time.monotonic() + 120
    while not list(root.glob("nbops-runs/toy/.*.journal/run_id")):
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "the run never opened"
        time.sleep(0.2)
    return proc


def _journals(root: Path) -> list[Path]:
    return list(root.glob("nbops-runs/**/.*.journal"))


@pytest.mark.parametrize(
    ("sig", "ignore_sigint"),
    [(signal.SIGINT, False), (signal.SIGINT, True), (signal.SIGTERM, False)],
    ids=["ctrl-c", "ctrl-c-with-sigint-ignored", "sigterm"],
)
def test_a_stopped_run_ends_killed_with_its_json_report_and_no_journal(
    sig: int, ignore_sigint: bool, tmp_path: Path
) -> None:
    root = project(tmp_path)
    proc = _started(root, "--format", "json", "--progress", "json", ignore_sigint=ignore_sigint)
    began = time.monotonic()
    proc.send_signal(sig)
    out, err = proc.communicate(timeout=60)
    assert time.monotonic() - began < 20, "the run took too long to stop"
    assert proc.returncode == 130, out + err
    report = json.loads(out)  # the whole document, valid JSON
    assert report["interrupted"] is True
    (run,) = report["runs"]
    assert run["status"] == "KILLED" and run["run_id"]
    assert json.loads(err.strip().splitlines()[-1]) == {"done": 1, "failed": 1, "running": 0,
                                                        "total": 1}
    assert client(root).get_run(run["run_id"]).info.status == "KILLED"  # type: ignore[attr-defined]
    assert _journals(root) == []


def test_a_sigkilled_run_is_ended_killed_by_the_next_history_read(tmp_path: Path) -> None:
    root = project(tmp_path)
    proc = _started(root)
    proc.kill()
    proc.communicate(timeout=30)
    assert len(_journals(root)) == 1  # what a killed process leaves
    (left,) = client(root).search_runs(["1"])  # type: ignore[attr-defined]
    assert left.info.status == "RUNNING"
    runs = nbops(root, "runs", "--format", "json")
    assert runs.returncode == 0, runs.stderr
    (record,) = json.loads(runs.stdout)
    assert record["status"] == "KILLED"
    assert f"pid {proc.pid}" in record["tags"]["nbops.killed_reason"]
    assert client(root).get_run(left.info.run_id).info.status == "KILLED"  # type: ignore[attr-defined]
    assert _journals(root) == []


def test_no_journal_is_left_by_runs_that_finish_or_fail(tmp_path: Path) -> None:
    root = project(tmp_path)
    assert nbops(root, "run", "toy.ipynb").returncode == 0
    assert nbops(root, "run", "toy.ipynb", "-p", "fail", "true").returncode == 1
    assert nbops(root, "run", "toy.ipynb", "--grid", "n=1,2").returncode == 0
    assert _journals(root) == []


def _marked(mark: str) -> set[int]:
    """The live processes whose environment holds ``mark`` (every descendant inherits it, also
    those reparented when their parent died)."""
    found = set()
    needle = mark.encode()
    for environ in Path("/proc").glob("[0-9]*/environ"):
        try:
            if needle in environ.read_bytes() and _alive(int(environ.parent.name)):
                found.add(int(environ.parent.name))
        except (OSError, ValueError):
            continue
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="reads the process tree from /proc")
def test_nbops_ui_takes_the_mlflow_server_down_on_sigterm(tmp_path: Path) -> None:
    root = project(tmp_path)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    mark = f"NBOPS_UI_TEST={uuid.uuid4().hex}"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW_", "NBOPS_RUN"))}
    env["NBOPS_UI_TEST"] = mark.split("=", 1)[1]
    proc = subprocess.Popen([sys.executable, "-m", "nbops", "ui", "--port", str(port)], cwd=root,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    try:
        deadline = time.monotonic() + 120
        while True:  # the server answers
            assert proc.poll() is None and time.monotonic() < deadline, "the UI never started"
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.3)
        assert len(_marked(mark)) > 2  # nbops, mlflow ui, its uvicorn server and workers
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
        deadline = time.monotonic() + 15
        while _marked(mark):
            assert time.monotonic() < deadline, "the MLflow server outlived nbops ui"
            time.sleep(0.2)
        with socket.socket() as s:  # the port is free again
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind(("127.0.0.1", port))
    finally:
        for pid in _marked(mark):  # what a failure leaves behind
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
