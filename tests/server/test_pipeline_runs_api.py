"""``POST /nbops/runs`` with ``pipeline: true`` and the form's ``pipeline`` mode on a real
Jupyter server: the module ``nbops modularize`` generated runs as ``nbops run --pipeline``
does, locally and as Dask tasks, tracked like a notebook run; no generated module is a 404
saying to modularize first. Answers are checked against docs/rest-api.yaml (conftest)."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

import nbops.jobs.service
from nbops.core.snippets import notebook_from_snippet

RUNS, VALIDATE = "nbops/runs", "nbops/runs/validate"
TOY = "proj/toy.ipynb"
Api = Callable[..., Awaitable[Any]]  # the `api` fixture of conftest.py

NOTEBOOK = """
# %% [markdown]
# Toy model
# %% tags=parameters
alpha = 0.5  # smoothing
# %%
score = alpha * 2
# %%
print(score)
"""


@pytest.fixture
def proj(root: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)  # the project's own store
    folder = root / "proj"
    folder.mkdir()
    (folder / "pyproject.toml").write_text('[project]\nname = "toy"\n', encoding="utf-8")
    (folder / "toy.ipynb").write_text(notebook_from_snippet(NOTEBOOK).dumps(), encoding="utf-8")
    return folder


def modularize(proj: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "nbops", "modularize", "toy.ipynb"],
                          cwd=proj, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert (proj / "src" / "toy" / "toy.py").is_file()


async def finished(api: Api, job: dict[str, Any], timeout: float = 240) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while job["state"] == "running":
        assert time.monotonic() < deadline, job
        await asyncio.sleep(0.3)
        reply = await api("GET", f"nbops/runs/jobs/{job['id']}")
        assert reply.status == 200, reply.body
        job = reply.body
    return job


async def test_without_a_generated_module_the_form_and_the_run_say_modularize_first(
    api: Api, proj: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_process(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("a process started for a notebook without a pipeline")

    monkeypatch.setattr(nbops.jobs.service.subprocess, "Popen", no_process)
    answer = (await api("POST", VALIDATE, {"path": TOY, "mode": "pipeline", "fields": {}})).body
    assert not answer["ok"] and answer["request"] is None
    assert "modularize it first" in answer["errors"][""], answer
    reply = await api("POST", RUNS, {"path": TOY, "pipeline": True})
    assert reply.status == 404, reply.body
    assert "nbops modularize proj/toy.ipynb" in reply.body["hint"]
    assert str(proj) not in str(reply.body)  # root-relative, never the server's path


async def test_the_form_asks_for_a_pipeline_run_without_a_kernel(api: Api, proj: Path) -> None:
    modularize(proj)
    body = {"path": TOY, "mode": "pipeline", "fields": {"alpha": "2"}, "kernel": "python3"}
    answer = (await api("POST", VALIDATE, body)).body
    assert answer["ok"], answer
    assert answer["request"] == {"path": TOY, "parameters": {"alpha": "2"}, "pipeline": True}
    assert answer["runs"] == 1
    sweep = {"path": TOY, "mode": "pipeline", "fields": {"alpha": "1, 2"}}
    answer = (await api("POST", VALIDATE, sweep)).body  # one value per field, as in a run
    assert not answer["ok"] and "alpha" in answer["errors"]


@pytest.mark.parametrize("executor", ["local", "dask"])
async def test_a_pipeline_run_is_tracked_like_a_notebook_run(
    api: Api, proj: Path, executor: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    if executor == "dask":
        pytest.importorskip("distributed", reason="the dask extra is not installed here")
    modularize(proj)
    started: list[list[str]] = []
    popen = nbops.jobs.service.subprocess.Popen

    def recorded(argv: list[str], *args: Any, **kwargs: Any) -> Any:
        started.append(list(argv))
        return popen(argv, *args, **kwargs)  # the real process: only its argv is kept

    monkeypatch.setattr(nbops.jobs.service.subprocess, "Popen", recorded)
    body = {"path": TOY, "parameters": {"alpha": "2"}, "pipeline": True, "executor": executor}
    reply = await api("POST", RUNS, body)
    assert reply.status == 202, reply.body
    job = reply.body["job"]
    assert (job["kind"], job["total"], job["executor"]) == ("pipeline", 1, executor)
    [argv] = started
    assert "--pipeline" in argv and f"--executor={executor}" in argv
    job = await finished(api, job)
    assert job["state"] == "finished", job
    [run] = job["runs"]
    assert run["status"] == "FINISHED", run
    assert run["metrics"].get("score") == 4.0, run  # run()'s numeric values become metrics
    listed = (await api("GET", RUNS, params={"path": TOY})).body
    assert run["run_id"] in {r["run_id"] for r in listed["runs"]}
