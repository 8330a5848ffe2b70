"""The Run tab's REST API on a real Jupyter server: parameters, background runs, run history.

The runs are real ``nbops run`` subprocesses on the venv's ``python3`` kernel with a real MLflow
store in a project inside the server root. Each answer is also checked against
docs/rest-api.yaml by the ``api`` fixture (conftest).
"""

from __future__ import annotations

import asyncio
import datetime as _dt
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from authz import NoKernels, ReadOnly, config_with
from jupyter_server.auth.authorizer import Authorizer
from traitlets.config import Config

import nbops.jobs
import nbops.jobs.service
import nbops.server.runs
from nbops.core.snippets import notebook_from_snippet
from nbops.server.runs import RunJob, Runs, redact

ROOT = Path(__file__).resolve().parents[2]
WINE = ROOT / "examples" / "wine_classifier.ipynb"
TOY = "proj/toy.ipynb"
RUNS, PARAMS = "nbops/runs", "nbops/params"

Api = Callable[..., Awaitable[Any]]  # the `api` fixture of conftest.py

NOTEBOOK = """
# %% [markdown]
# Toy model
# %% tags=parameters
alpha = 0.5  # smoothing
label = "x"
fail = False
pause = 0.0
pid_file = ""
# %%
import os, time
import nbops
if pid_file:
    open(pid_file, "w").write(str(os.getpid()))
time.sleep(pause)
if fail:
    raise ValueError("asked to fail")
nbops.log_metric("score", alpha * 2)
"""


@pytest.fixture
def proj(root: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """``proj/`` in the server root: a project (pyproject.toml) with the toy notebook and wine."""
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)  # the project's own store
    folder = root / "proj"
    folder.mkdir()
    (folder / "pyproject.toml").write_text('[project]\nname = "toy"\n', encoding="utf-8")
    (folder / "toy.ipynb").write_text(notebook_from_snippet(NOTEBOOK).dumps(), encoding="utf-8")
    shutil.copy(WINE, folder / "wine.ipynb")
    return folder


async def finished(api: Api, job: dict[str, Any], timeout: float = 240) -> dict[str, Any]:
    """Poll the job until it is no longer running."""
    deadline = time.monotonic() + timeout
    while job["state"] == "running":
        assert time.monotonic() < deadline, job
        await asyncio.sleep(0.3)
        reply = await api("GET", f"nbops/runs/jobs/{job['id']}")
        assert reply.status == 200, reply.body
        job = reply.body
    return job


async def start(api: Api, body: dict[str, Any]) -> dict[str, Any]:
    reply = await api("POST", RUNS, body)
    assert reply.status == 202, reply.body
    job: dict[str, Any] = reply.body["job"]
    assert job["state"] == "running" and job["ended"] is None and job["runs"] == []
    return job


async def history(api: Api, path: str = TOY) -> dict[str, Any]:
    reply = await api("GET", RUNS, params={"path": path})
    assert reply.status == 200, reply.body
    body: dict[str, Any] = reply.body
    return body


def opened(proj: Path) -> bool:
    """Whether a run of the toy notebook has its MLflow run open (its journal has the id)."""
    return bool(list(proj.glob("nbops-runs/toy/.*.journal/run_id")))


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    status = Path(f"/proc/{pid}/status")
    if status.exists():  # a zombie nobody reaped yet is gone all the same
        return "\nState:\tZ" not in status.read_text()
    return True


# --------------------------------------------------------------------------- parameters


async def test_params_of_the_wine_example_are_the_clis(api: Api, root: Path, proj: Path) -> None:
    reply = await api("GET", PARAMS, params={"path": "proj/wine.ipynb"})
    assert reply.status == 200, reply.body
    cli = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "nbops", "params", "wine.ipynb", "--format", "json"],
        cwd=proj, capture_output=True, text=True, timeout=120, check=True,
    )  # fmt: skip
    expected = json.loads(cli.stdout)
    tracking = {"available": True, "message": None, "hint": None}  # MLflow is installed here
    executors = {  # Dask is installed here; the project sets no [tool.nbops.run]
        "available": [{"name": "dask", "installed": True, "install": None},
                      {"name": "local", "installed": True, "install": None}],
        "executor": "local", "scheduler": None, "message": None,
    }  # fmt: skip
    assert reply.body == {**expected, "notebook": "proj/wine.ipynb", "tracking": tracking,
                          "executors": executors}  # fmt: skip
    assert [p["name"] for p in reply.body["parameters"]] == ["TEST_SIZE", "SEED", "C"]
    assert reply.body["parameters"][0]["type"] == "float" and reply.body["tagged"] is True
    assert "message" not in reply.body
    # JupyterLab's cache-buster (a bare number) is ignored; a misspelt argument is not
    busted = await api("GET", PARAMS, params={"path": "proj/wine.ipynb", "1763900000000": ""})
    assert busted.status == 200 and busted.body == reply.body
    typo = await api("GET", PARAMS, params={"path": "proj/wine.ipynb", "pth": "x"})
    assert typo.status == 400 and "pth" in typo.body["message"]


async def test_a_notebook_without_parameters_cell_gets_the_clis_message(
    api: Api, root: Path
) -> None:
    reply = await api("GET", PARAMS, params={"path": "sub/churn.ipynb"})
    assert reply.status == 200, reply.body
    body = reply.body
    assert body["notebook"] == "sub/churn.ipynb"
    assert body["cell"] is None and body["tagged"] is False and body["parameters"] == []
    assert "NB303" in body["message"] and "parameters" in body["message"]
    assert "nbops fix sub/churn.ipynb --select NB303" in body["message"]
    assert str(root) not in reply.raw.decode()


async def test_params_say_the_projects_executor_and_what_dask_needs(
    api: Api, proj: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (proj / "pyproject.toml").write_text(
        '[project]\nname = "toy"\n[tool.nbops.run]\nexecutor = "dask"\n'
        'scheduler = "tcp://10.9.8.7:8786"\n', encoding="utf-8")
    monkeypatch.setitem(sys.modules, "distributed", None)  # as if not installed: no spec
    reply = await api("GET", PARAMS, params={"path": TOY})
    assert reply.status == 200, reply.body
    assert reply.body["executors"] == {
        "available": [{"name": "dask", "installed": False, "install": "pip install 'nbops[dask]'"},
                      {"name": "local", "installed": True, "install": None}],
        "executor": "dask", "scheduler": "tcp://10.9.8.7:8786", "message": None,
    }  # fmt: skip
    (proj / "pyproject.toml").write_text(
        '[project]\nname = "toy"\n[tool.nbops.run]\nexecutor = 3\n', encoding="utf-8")
    reply = await api("GET", PARAMS, params={"path": TOY})  # the parameters still come
    assert reply.status == 200 and [p["name"] for p in reply.body["parameters"]][0] == "alpha"
    executors = reply.body["executors"]
    assert (executors["executor"], executors["scheduler"]) == ("local", None)
    assert executors["message"].startswith("proj/pyproject.toml: [tool.nbops.run] executor")


async def test_params_errors(api: Api, root: Path, proj: Path, outside: Path) -> None:
    cases: list[tuple[dict[str, str], int, str]] = [
        ({"path": "proj/missing.ipynb"}, 404, "NotFoundError"),
        ({"path": "broken.ipynb"}, 422, "NotebookReadError"),
        ({"path": "proj/pyproject.toml"}, 400, "UsageError"),
        ({"path": "../outside/secret.ipynb"}, 403, "AccessError"),
        ({"path": str(outside / "secret.ipynb")}, 403, "AccessError"),
        ({}, 400, "UsageError"),
        ({"path": TOY, "content": "x"}, 400, "UsageError"),
    ]
    for query, status, error in cases:
        reply = await api("GET", PARAMS, params=query)
        assert (reply.status, reply.body["error"]) == (status, error), (query, reply.body)
        assert str(root) not in reply.raw.decode() and str(outside) not in reply.raw.decode()


# --------------------------------------------------------------------------- bad requests


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ({"parameters": {"alpah": "0.1"}}, "did you mean 'alpha'"),
        ({"parameters": {"alpha": "abc"}}, "expects a number"),
        ({"parameters": {"alpha": True}}, "expects a number"),
        ({"parameters": {"label": 3}}, "expects text"),
        ({"parameters": {"fail": "maybe"}}, "expects a boolean"),
        ({"parameters": ["alpha", 1]}, "'parameters' must be an object"),
        ({"grid": {"alpha": []}}, "no values for 'alpha'"),
        ({"grid": {"alpha": ["1", 1.0]}}, "the same value twice"),
        ({"grid": {"alpha": "0.1,1"}}, "'grid' must be an object"),
        ({"grid": {"nope": [1, 2]}}, "unknown parameter 'nope'"),
        ({"grid": {"alpha": ["x", "1"]}}, "expects a number"),
        ({"parameters": {"alpha": 1}, "grid": {"alpha": [1, 2]}}, "both in 'parameters'"),
        ({"parallel": 0}, "'parallel'"),
        ({"parallel": "2"}, "'parallel'"),
        ({"parallel": True}, "'parallel'"),
        ({"timeout": -1}, "'timeout'"),
        ({"timeout": "10"}, "'timeout'"),
        ({"kernel": ""}, "'kernel'"),
        ({"kernel": "nosuch"}, "jupyter kernelspec list"),  # checked before anything starts
        ({"format": "json"}, "unknown field"),
        ({"executor": "ray"}, "choose one of: dask, local"),
        ({"executor": 3}, "'executor' must be"),
        ({"scheduler": "tcp://h:8786"}, "--scheduler is for the dask executor, not 'local'"),
        ({"executor": "local", "scheduler": "tcp://h:8786"}, "--scheduler is for the dask"),
        ({"executor": "dask", "scheduler": ""}, "'scheduler' must be"),
        # the project's SQLite store cannot be written by workers on another machine
        ({"executor": "dask", "scheduler": "tcp://10.9.8.7:8786"}, "nbops tracking-server"),
        ({"pipeline": "yes"}, "'pipeline' must be true or false"),
        ({"pipeline": True, "grid": {"alpha": ["1", "2"]}}, "a pipeline runs one parameter set"),
    ],
)
async def test_bad_run_requests_are_400_before_anything_starts(
    api: Api,
    proj: Path,
    monkeypatch: pytest.MonkeyPatch,
    body: dict[str, Any],
    fragment: str,
) -> None:
    def no_process(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("a process started for a bad request")

    monkeypatch.setattr(nbops.jobs.service.subprocess, "Popen", no_process)
    reply = await api("POST", RUNS, {"path": TOY, **body})
    assert reply.status == 400, reply.body
    assert reply.body["error"] == "UsageError"
    assert fragment in reply.body["message"] + (reply.body["hint"] or ""), reply.body
    assert not (proj / ".nbops").exists()
    assert (await history(api))["jobs"] == []


async def test_run_requests_for_missing_or_outside_notebooks(
    api: Api, root: Path, proj: Path, outside: Path
) -> None:
    missing = await api("POST", RUNS, {"path": "proj/missing.ipynb"})
    assert missing.status == 404 and missing.body["path"] == "proj/missing.ipynb"
    (root / "link.ipynb").symlink_to(outside / "secret.ipynb")
    for path in ("../outside/secret.ipynb", str(outside / "secret.ipynb"), "link.ipynb"):
        reply = await api("POST", RUNS, {"path": path})
        assert reply.status == 403, (path, reply.body)
        assert str(outside) not in reply.raw.decode()
        listed = await api("GET", RUNS, params={"path": path})
        assert listed.status == 403
    unknown = await api("GET", "nbops/runs/jobs/0123abcd")
    assert unknown.status == 404 and unknown.body["error"] == "NotFoundError"
    assert (await api("DELETE", "nbops/runs/jobs/0123abcd")).status == 404
    assert (await api("GET", RUNS, params={"path": TOY, "limit": "0"})).status == 400
    assert not (proj / ".nbops").exists()


async def test_a_project_above_the_root_is_403_and_nothing_is_written(
    api: Api, root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the nearest pyproject.toml is above the server root: a run would write nbops-runs/ and
    # .nbops/mlflow.db there (as modularize's default out would: 403 too)
    def no_process(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("a process started for a run above the root")

    monkeypatch.setattr(nbops.jobs.service.subprocess, "Popen", no_process)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    (root.parent / "pyproject.toml").write_text('[project]\nname = "above"\n', encoding="utf-8")
    (root / "toy.ipynb").write_text(notebook_from_snippet(NOTEBOOK).dumps(), encoding="utf-8")
    for body in ({"path": "toy.ipynb"}, {"path": "toy.ipynb", "grid": {"alpha": [1, 2]}}):
        reply = await api("POST", RUNS, body)
        assert reply.status == 403, reply.body
        assert reply.body["error"] == "AccessError" and reply.body["path"] == "toy.ipynb"
        assert "above the server root" in reply.body["message"]
        assert str(root.parent) not in reply.raw.decode()
    assert not (root.parent / "nbops-runs").exists() and not (root.parent / ".nbops").exists()
    assert (await history(api, "toy.ipynb"))["jobs"] == []


async def test_unauthenticated_requests_get_403(api: Api, proj: Path) -> None:
    calls: list[tuple[str, str, Any, dict[str, str] | None]] = [
        ("GET", PARAMS, None, {"path": TOY}),
        ("GET", RUNS, None, {"path": TOY}),
        ("POST", RUNS, {"path": TOY}, None),
        ("GET", "nbops/runs/jobs/abc", None, None),
        ("DELETE", "nbops/runs/jobs/abc", None, None),
    ]
    for method, path, body, query in calls:
        for headers in ({}, {"Authorization": "token wrong-token"}):
            reply = await api(method, path, body, params=query, auth=False, headers=headers)
            assert reply.status == 403, (method, path, reply.body)
            assert reply.body["error"] == "Forbidden"
    assert not (proj / ".nbops").exists()


async def test_history_without_a_store_creates_none(api: Api, proj: Path) -> None:
    body = await history(api)
    assert body["jobs"] == [] and body["runs"] == []
    assert body["tracking"]["uri"].endswith("proj/.nbops/mlflow.db")
    assert body["tracking"]["ui_command"] == "nbops ui"
    assert not (proj / ".nbops").exists()


async def test_without_mlflow_the_run_tab_is_told_and_nothing_starts(
    api: Api, root: Path, proj: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_process(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("a run started without MLflow")

    (proj / ".nbops").mkdir()
    (proj / ".nbops" / "mlflow.db").write_bytes(b"")  # a store to read: MLflow is needed
    monkeypatch.setitem(sys.modules, "mlflow", None)  # not installed: find_spec finds none
    monkeypatch.setattr(nbops.jobs.service.subprocess, "Popen", no_process)
    missing = {
        "available": False,
        "message": "MLflow is not installed: runs are tracked in MLflow",
        "hint": "pip install 'nbops[run]'",
    }
    params = await api("GET", PARAMS, params={"path": TOY})
    assert params.status == 200, params.body
    assert params.body["tracking"] == missing
    assert [p["name"] for p in params.body["parameters"]][:2] == ["alpha", "label"]
    listed = await history(api)  # not a 502: the history says why it is empty
    assert listed["runs"] == [] and listed["jobs"] == []
    assert {k: listed["tracking"][k] for k in missing} == missing
    for body in ({"path": TOY}, {"path": TOY, "grid": {"alpha": [1, 2]}}):
        refused = await api("POST", RUNS, body)
        assert refused.status == 503, refused.body
        assert refused.body["error"] == "MissingPackageError"
        assert refused.body["hint"] == "pip install 'nbops[run]'"
        assert "MLflow is not installed" in refused.body["message"]
    bad = await api("POST", RUNS, {"path": TOY, "parameters": {"alpah": 1}})
    assert bad.status == 400  # a mistake in the request is still named first
    assert (await history(api))["jobs"] == []
    assert sorted(p.name for p in proj.iterdir()) == [".nbops", "pyproject.toml", "toy.ipynb",
                                                      "wine.ipynb"]  # fmt: skip


# --------------------------------------------------------------------------- real runs


@pytest.mark.slow
async def test_a_run_finishes_and_is_listed(api: Api, root: Path, proj: Path) -> None:
    job = await start(api, {"path": TOY, "parameters": {"alpha": "2", "label": "a, b"}})
    assert (job["kind"], job["total"], job["path"]) == ("run", 1, TOY)
    assert (job["executor"], job["scheduler"]) == ("local", None)  # the project's default
    job = await finished(api, job)
    assert job["state"] == "finished", job
    assert (job["done"], job["failed"], job["running"], job["error"]) == (1, 0, 0, None)
    assert job["ended"] and job["parent_run_id"] is None
    [run] = job["runs"]
    assert run["status"] == "FINISHED" and run["metrics"] == {"score": 4.0}
    assert run["parameters"] == {"alpha": 2.0, "label": "a, b"}
    assert run["output"].startswith("proj/nbops-runs/toy/") and (root / run["output"]).is_file()

    listed = await history(api)
    assert [j["id"] for j in listed["jobs"]] == [job["id"]]
    assert listed["jobs"][0] == job
    [record] = listed["runs"]
    assert record["run_id"] == run["run_id"] and record["status"] == "FINISHED"
    assert (record["executor"], record["scheduler"]) == ("local", None)
    assert record["params"] == {"alpha": "2.0", "label": "a, b"}
    assert record["output"] in (None, run["output"])  # the nbops.output tag, once recorded
    # the store's paths are root-relative too (a relative sqlite URI, the artifacts, the tags)
    assert listed["tracking"]["uri"] == "sqlite:///proj/.nbops/mlflow.db"
    assert str(root) not in json.dumps(listed)


@pytest.mark.slow
async def test_the_history_shows_how_long_a_run_really_took(api: Api, proj: Path) -> None:
    # MLflow's run used to start when nbops' background thread opened it (after MLflow's
    # import, while the kernel already ran): a 3 s notebook was recorded as ~1 s
    job = await finished(api, await start(api, {"path": TOY, "parameters": {"pause": 3}}))
    assert job["state"] == "finished", job
    [run] = job["runs"]
    [record] = (await history(api))["runs"]
    assert record["run_id"] == run["run_id"]
    assert 3.0 <= record["duration_s"] <= run["duration_s"] + 1.0, (record, run)
    began = _dt.datetime.fromisoformat(record["start_time"])
    ended = _dt.datetime.fromisoformat(record["end_time"])
    assert began.tzinfo is not None and (ended - began).total_seconds() >= 3.0
    job_began = _dt.datetime.fromisoformat(job["started"])  # whole seconds
    job_ended = _dt.datetime.fromisoformat(job["ended"])
    assert job_began <= began and ended <= job_ended + _dt.timedelta(seconds=1), (job, record)


@pytest.mark.slow
async def test_a_kernel_that_dies_fails_the_job_with_the_reason(
    api: Api, root: Path, proj: Path
) -> None:
    dies = "# %%\nimport os, signal\nos.kill(os.getpid(), signal.SIGKILL)\n"
    (proj / "dies.ipynb").write_text(notebook_from_snippet(dies).dumps(), encoding="utf-8")
    job = await finished(api, await start(api, {"path": "proj/dies.ipynb"}))
    assert job["state"] == "failed" and job["error"] is None, job  # the CLI's exit 3, with runs
    [run] = job["runs"]
    assert run["status"] == "FAILED" and "DeadKernelError" in run["error"], run
    assert str(root) not in json.dumps(job)


@pytest.mark.slow
async def test_a_failing_cell_fails_the_job(api: Api, proj: Path) -> None:
    job = await finished(api, await start(api, {"path": TOY, "parameters": {"fail": True}}))
    assert job["state"] == "failed", job
    [run] = job["runs"]
    assert run["status"] == "FAILED"
    assert run["failed_cell"] == 3  # the markdown title, the parameters, then this one
    assert run["error"] == "ValueError: asked to fail"
    assert (job["done"], job["failed"]) == (1, 1)
    assert (await history(api))["runs"][0]["status"] == "FAILED"


@pytest.mark.slow
async def test_a_grid_sweep_runs_in_parallel_under_a_parent(api: Api, proj: Path) -> None:
    body = {"path": TOY, "grid": {"alpha": ["0.5", 1], "label": ["a,b"]}, "parallel": 2}
    job = await start(api, body)
    assert (job["kind"], job["total"]) == ("sweep", 2)
    job = await finished(api, job)
    assert job["state"] == "finished", job
    assert job["parent_run_id"]
    runs = job["runs"]
    assert [r["parameters"] for r in runs] == [
        {"alpha": 0.5, "label": "a,b"},  # a comma inside a value survives
        {"alpha": 1.0, "label": "a,b"},
    ]
    assert [r["metrics"]["score"] for r in runs] == [1.0, 2.0]
    assert (job["done"], job["failed"], job["total"]) == (2, 0, 2)
    records = (await history(api))["runs"]
    children = [r for r in records if r["parent_run_id"] == job["parent_run_id"]]
    assert sorted(r["run_id"] for r in children) == sorted(r["run_id"] for r in runs)
    assert job["parent_run_id"] in {r["run_id"] for r in records}


@pytest.mark.slow
async def test_a_sweep_on_dask_runs_on_a_local_cluster_and_says_so(
    api: Api, proj: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    started: list[list[str]] = []
    popen = nbops.jobs.service.subprocess.Popen

    def recorded(argv: list[str], *args: Any, **kwargs: Any) -> Any:
        started.append(list(argv))
        return popen(argv, *args, **kwargs)  # the real process: only its argv is kept

    monkeypatch.setattr(nbops.jobs.service.subprocess, "Popen", recorded)
    body = {"path": TOY, "grid": {"alpha": ["1", "2"]}, "parallel": 2, "executor": "dask"}
    job = await start(api, body)
    assert (job["executor"], job["scheduler"]) == ("dask", None)
    [argv] = started
    assert "--executor=dask" in argv and not any(a.startswith("--scheduler") for a in argv)
    job = await finished(api, job)
    assert job["state"] == "finished", job
    assert sorted(r["metrics"]["score"] for r in job["runs"]) == [2.0, 4.0]
    assert (job["executor"], job["scheduler"]) == ("dask", None)
    listed = await history(api)
    assert listed["jobs"][0]["executor"] == "dask"
    records = {r["run_id"]: r for r in listed["runs"]}
    family = [job["parent_run_id"], *(r["run_id"] for r in job["runs"])]
    assert {(records[i]["executor"], records[i]["scheduler"]) for i in family} == {("dask", None)}


async def in_long_cell(api: Api, proj: Path, job: dict[str, Any]) -> Path:
    """Wait until the job's kernel is in the long cell (its pid file written) and its MLflow
    run is open (on a busy machine creating the store can outlast a stop's grace: the run
    would then never exist); the pid file."""
    pid_file = proj / "kernel.pid"
    deadline = time.monotonic() + 120
    while not (pid_file.exists() and pid_file.read_text() and opened(proj)):
        assert time.monotonic() < deadline, (await api("GET", f"nbops/runs/jobs/{job['id']}")).body
        await asyncio.sleep(0.3)
    return pid_file


@pytest.mark.slow
async def test_cancel_stops_the_run_and_its_kernel(api: Api, proj: Path) -> None:
    job = await start(api, {"path": TOY, "parameters": {"pause": 60, "pid_file": "kernel.pid"}})
    pid_file = await in_long_cell(api, proj, job)
    kernel = int(pid_file.read_text())
    reply = await api("DELETE", f"nbops/runs/jobs/{job['id']}")
    assert reply.status == 202, reply.body
    job = await finished(api, reply.body, timeout=90)
    assert job["state"] == "cancelled" and job["running"] == 0 and job["ended"], job
    deadline = time.monotonic() + 20
    while _alive(kernel):
        assert time.monotonic() < deadline, "the kernel outlived its run"
        await asyncio.sleep(0.2)
    [record] = (await history(api))["runs"]
    assert record["status"] == "KILLED"
    again = await api("DELETE", f"nbops/runs/jobs/{job['id']}")  # ended: left as it is
    assert again.status == 202 and again.body == job


@pytest.mark.slow
async def test_stopping_the_server_stops_its_runs(api: Api, proj: Path, jp_serverapp: Any) -> None:
    job = await start(api, {"path": TOY, "parameters": {"pause": 60}})
    [app] = jp_serverapp.extension_manager.extension_apps["nbops"]
    runs: Runs = app.state.runs
    process = runs.table._jobs[job["id"]].process
    assert process is not None
    await asyncio.get_running_loop().run_in_executor(None, runs.close)
    assert process.poll() is not None
    assert runs.job(job["id"])["state"] == "cancelled"
    refused = await api("POST", RUNS, {"path": TOY})
    assert refused.status == 502 and "stopping" in refused.body["message"]


@pytest.fixture
def sigint_ignored() -> Iterator[None]:
    """The server ignores SIGINT, as one started in the background (``&``, nohup, a container
    entrypoint) does: its ``nbops run`` children inherit SIG_IGN through exec."""
    before = signal.signal(signal.SIGINT, signal.SIG_IGN)
    yield
    signal.signal(signal.SIGINT, before)


@pytest.mark.slow
@pytest.mark.usefixtures("sigint_ignored")
async def test_stop_works_in_a_server_that_ignores_sigint(api: Api, proj: Path) -> None:
    job = await start(api, {"path": TOY, "parameters": {"pause": 60, "pid_file": "kernel.pid"}})
    await in_long_cell(api, proj, job)
    asked = time.monotonic()
    reply = await api("DELETE", f"nbops/runs/jobs/{job['id']}")
    assert reply.status == 202, reply.body
    assert time.monotonic() - asked < 3, "DELETE waited for the stop"  # it goes on behind
    job = await finished(api, reply.body, timeout=30)
    assert time.monotonic() - asked < 2 * nbops.jobs.STOP_GRACE_S + 5, job
    assert job["state"] == "cancelled", job
    [record] = (await history(api))["runs"]
    assert record["status"] == "KILLED"


@pytest.mark.slow
async def test_a_killed_job_and_a_dead_runs_process_end_their_runs_killed(
    api: Api, proj: Path, jp_serverapp: Any
) -> None:
    job = await start(api, {"path": TOY, "parameters": {"pause": 60, "pid_file": "kernel.pid"}})
    deadline = time.monotonic() + 120
    while not opened(proj):
        assert time.monotonic() < deadline, (await api("GET", f"nbops/runs/jobs/{job['id']}")).body
        await asyncio.sleep(0.3)
    [app] = jp_serverapp.extension_manager.extension_apps["nbops"]
    process = app.state.runs.table._jobs[job["id"]].process
    assert process is not None
    process.kill()  # a crash, the OOM killer: nothing of nbops runs any more
    job = await finished(api, job, timeout=30)
    assert job["state"] == "failed" and "signal 9" in job["error"], job
    [record] = (await history(api))["runs"]
    assert record["status"] == "KILLED" and "ended without closing it" in record["tags"][
        "nbops.killed_reason"]
    # a run left RUNNING by a process that died while no server watched it (a server restart)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW_", "NBOPS_RUN"))}
    orphan = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "nbops", "run", "toy.ipynb", "-p", "pause", "60",
        cwd=proj, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120
    while not opened(proj):
        assert orphan.returncode is None and time.monotonic() < deadline
        await asyncio.sleep(0.3)
    orphan.kill()
    await orphan.wait()
    records = (await history(api))["runs"]
    assert [r["status"] for r in records] == ["KILLED", "KILLED"]
    assert not list(proj.glob("nbops-runs/**/.*.journal"))


def test_stop_group_stops_what_ignores_sigint_and_sigterm_and_its_children() -> None:
    stubborn = (
        "import signal, subprocess, sys, time\n"
        "for s in (signal.SIGINT, signal.SIGTERM): signal.signal(s, signal.SIG_IGN)\n"
        "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'])\n"
        "print(child.pid, flush=True)\n"
        "time.sleep(60)\n"
    )
    process = subprocess.Popen([sys.executable, "-c", stubborn], stdout=subprocess.PIPE,
                               **nbops.jobs.detached())  # fmt: skip
    assert process.stdout is not None
    child = int(process.stdout.readline())
    began = time.monotonic()
    code = nbops.jobs.stop_group(process, grace=0.5)  # type: ignore[arg-type]
    assert code == -signal.SIGKILL and time.monotonic() - began < 3
    deadline = time.monotonic() + 5
    while _alive(child):  # in the same group: killed too
        assert time.monotonic() < deadline, "the process's child outlived it"
        time.sleep(0.1)


# --------------------------------------------------------------------------- authorization


@pytest.mark.parametrize("authorizer", [NoKernels, ReadOnly])
class TestRestrictedUser:
    @pytest.fixture
    def jp_server_config(self, authorizer: type[Authorizer]) -> Config:
        return config_with(authorizer)

    async def test_may_read_but_not_run(self, api: Api, proj: Path) -> None:
        assert (await api("GET", PARAMS, params={"path": TOY})).status == 200
        assert (await history(api))["runs"] == []
        refused = await api("POST", RUNS, {"path": TOY})
        assert refused.status == 403 and refused.body["error"] == "Forbidden"
        assert "not authorized to run" in refused.body["message"]
        assert not (proj / ".nbops").exists()


# --------------------------------------------------------------------------- the job itself


def test_a_process_that_cannot_work_is_an_error_with_the_clis_message(tmp_path: Path) -> None:
    runs = Runs(tmp_path)
    kind = runs.table.kind
    job = RunJob(id="j", path="a.ipynb", kind="run", total=1)
    tail = [
        "Traceback (most recent call last):",
        '  File "x.py", line 1, in <module>',
        f"nbops: error: {tmp_path}/a.ipynb: cannot open the store http://jane:s3cret@host/ (x)",
    ]
    finish = kind.finish(job, 3, b"", tail)
    assert finish.state == "failed"
    assert finish.error == "a.ipynb: cannot open the store http://***@host/ (x)"
    other = RunJob(id="k", path="a.ipynb", kind="run", total=1)
    finish = kind.finish(other, -9, b"", ["Traceback (most recent call last):"])
    assert finish.state == "failed" and finish.error == "nbops run was stopped by signal 9"


def test_credentials_are_redacted_from_tracking_uris() -> None:
    uri = "https://jane:s3cret@mlflow.example.com/x"
    assert redact(uri) == "https://***@mlflow.example.com/x"
    message = f"cannot open the MLflow tracking store {uri}: refused (check {uri})"
    assert "s3cret" not in redact(message) and "jane" not in redact(message)
    assert redact("sqlite:////data/.nbops/mlflow.db") == "sqlite:////data/.nbops/mlflow.db"
    assert redact("mail jane@example.com") == "mail jane@example.com"
