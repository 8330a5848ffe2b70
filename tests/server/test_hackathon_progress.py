"""The Hackathon tab's progress: a scoring job on a real Jupyter server says how many
components are scored and which one is under way, from the scorer's ``--progress json``
lines; other stderr lines stay for the error message. Answers are checked against
docs/rest-api.yaml by the ``api`` fixture (conftest)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from hackathonrepo import NOTEBOOK, make_exercise

from nbops.server.hackathon import ScoreJob, Scoring

Api = Callable[..., Awaitable[Any]]  # the `api` fixture of conftest.py
TOY = f"ex/{NOTEBOOK}"


def test_progress_lines_are_the_jobs_and_other_lines_are_not(tmp_path: Path) -> None:
    kind = Scoring(tmp_path).table.kind
    job = ScoreJob(id="j", path=TOY, exercise="ex", team="alpha", limit_s=10, folder=tmp_path)
    assert job.to_json()["progress"] is None
    assert kind.progress(job, '{"done": 2, "total": 7, "current": "alpha: Tests passing (+1 more)"}')
    assert job.to_json()["progress"] == {"done": 2, "total": 7, "current": "alpha: Tests passing (+1 more)"}
    assert kind.progress(job, '{"done": 3, "total": 7}')
    assert job.progress == {"done": 3, "total": 7, "current": None}
    for other in ("nbops: error: no hackathon.toml", '{"done": "x", "total": 7}', "{broken", "[1]", ""):
        assert not kind.progress(job, other), other
    assert job.progress == {"done": 3, "total": 7, "current": None}


@pytest.mark.slow
async def test_a_running_scoring_reports_its_components(api: Api, root: Path) -> None:
    make_exercise(root / "ex")
    reply = await api("POST", "nbops/hackathon/score", {"path": TOY})
    assert reply.status == 202, reply.body
    job = reply.body["job"]
    seen: list[dict[str, Any]] = []
    deadline = time.monotonic() + 600
    while job["state"] == "running":
        assert time.monotonic() < deadline, job
        if job["progress"] is not None:
            seen.append(job["progress"])
        await asyncio.sleep(0.2)
        job = (await api("GET", f"nbops/hackathon/jobs/{job['id']}")).body
    assert job["state"] == "finished", job
    assert job["progress"] == {"done": 7, "total": 7, "current": "scored"}
    under_way = [p for p in seen if p["done"] < 7]
    assert under_way and all(p["total"] == 7 for p in seen), seen
    assert any((p["current"] or "").startswith("alpha: ") for p in under_way), seen
