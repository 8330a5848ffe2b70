"""The Hackathon tab's REST API on a real Jupyter server: the exercise a notebook belongs to,
the team, scoring in a separate process with a time limit, the saved scorecard.

The exercise is a real git repository made by ``nbops hackathon new`` inside the server root
(``tests/hackathonrepo.py``), checked out on ``team/alpha``; one real scoring (~10 s) runs
``nbops hackathon status``. Each answer is also checked against docs/rest-api.yaml by the
``api`` fixture (conftest).
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from authz import NoKernels, ReadOnly, config_with
from hackathonrepo import NOTEBOOK, START, git, make_exercise
from jupyter_server.auth.authorizer import Authorizer
from traitlets.config import Config

import nbops.jobs.service
import nbops.server.hackathon
from nbops.hackathon.config import COMPONENTS
from nbops.server.hackathon import ScoreJob, Scoring
from nbops.server.requests import ScoreRequest, Target

HACKATHON, SCORE = "nbops/hackathon", "nbops/hackathon/score"
TOY = f"ex/{NOTEBOOK}"

Api = Callable[..., Awaitable[Any]]  # the `api` fixture of conftest.py


@pytest.fixture
def exercise(root: Path) -> Path:
    """``ex/`` in the server root: the exercise, checked out on ``team/alpha``."""
    return make_exercise(root / "ex")


async def finished(api: Api, job: dict[str, Any], timeout: float = 300) -> dict[str, Any]:
    """Poll the job until it is no longer running."""
    deadline = time.monotonic() + timeout
    while job["state"] == "running":
        assert time.monotonic() < deadline, job
        await asyncio.sleep(0.5)
        reply = await api("GET", f"nbops/hackathon/jobs/{job['id']}")
        assert reply.status == 200, reply.body
        job = reply.body
    return job


async def info(api: Api, path: str = TOY) -> dict[str, Any]:
    reply = await api("GET", HACKATHON, params={"path": path})
    assert reply.status == 200, reply.body
    body: dict[str, Any] = reply.body
    return body


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    status = Path(f"/proc/{pid}/status")
    if status.exists():  # a zombie nobody reaped yet is gone all the same
        return "\nState:\tZ" not in status.read_text()
    return True


# --------------------------------------------------------------------------- the exercise


async def test_a_notebook_of_the_exercise_shows_it_and_the_team(
    api: Api, root: Path, exercise: Path
) -> None:
    body = await info(api)
    assert body["exercise"] == {
        "name": "Toy hackathon",
        "deadline": None,
        "root": "ex",
        "teams": ["alpha", "beta"],
        "notebooks": [NOTEBOOK],
        "timeout": 900.0,
    }
    assert (body["team"], body["branch"]) == ("alpha", "team/alpha")
    assert body["card"] is None and body["job"] is None
    # JupyterLab's cache-buster is ignored; a misspelt argument is not
    busted = await api("GET", HACKATHON, params={"path": TOY, "1763900000000": ""})
    assert busted.status == 200 and busted.body == body
    typo = await api("GET", HACKATHON, params={"pth": TOY})
    assert typo.status == 400 and "pth" in typo.body["message"]
    assert not (exercise / ".nbops").exists()  # reading writes nothing


async def test_on_main_there_is_no_team_and_scoring_asks_which(
    api: Api, root: Path, exercise: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    git(exercise, "switch", "-q", "main")
    body = await info(api)
    assert body["exercise"]["name"] == "Toy hackathon"
    assert (body["team"], body["branch"]) == (None, "main")

    popen = subprocess.Popen

    def no_scorer(argv: list[str], *args: Any, **kwargs: Any) -> Any:
        assert "status" not in argv, "a scoring started for a bad request"
        return popen(argv, *args, **kwargs)  # git, to read the branch

    monkeypatch.setattr(nbops.jobs.service.subprocess, "Popen", no_scorer)
    reply = await api("POST", SCORE, {"path": TOY})
    assert reply.status == 400, reply.body
    assert "which team" in reply.body["message"] and "on branch main" in reply.body["message"]
    assert "git switch team/<team>" in reply.body["hint"]
    for team, fragment in [("../x", "not a team name"), ("a b", "not a team name"), (3, "string")]:
        bad = await api("POST", SCORE, {"path": TOY, "team": team})
        assert bad.status == 400 and fragment in bad.body["message"], bad.body
    unknown = await api("POST", SCORE, {"path": TOY, "format": "json"})
    assert unknown.status == 400 and "unknown field" in unknown.body["message"]


async def test_without_the_run_extra_scoring_is_a_503_with_the_install_line(
    api: Api, exercise: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # scoring runs nbops verify and nbops run: without MLflow nothing starts
    def no_process(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("a scoring started without the run extra")

    monkeypatch.setitem(sys.modules, "mlflow", None)  # find_spec finds none
    monkeypatch.setattr(nbops.jobs.service.subprocess, "Popen", no_process)
    reply = await api("POST", SCORE, {"path": TOY, "team": "alpha"})
    assert reply.status == 503, reply.body
    assert reply.body["error"] == "MissingPackageError"
    assert reply.body["hint"] == "pip install 'nbops[run]'"
    assert "MLflow is not installed" in reply.body["message"]


async def test_a_team_that_works_in_a_folder_is_found_and_scored_from_it(
    api: Api, root: Path
) -> None:
    """Teams as folders of one repository (as in examples/hackathon), not branches: the
    notebook's folder names the team, and the scorer scores that folder."""
    from hackathonrepo import WORK

    from nbops.core.snippets import notebook_from_snippet

    ex = make_exercise(root / "ex", team=None)  # everyone on main
    toml = ex / "hackathon.toml"
    text = toml.read_text(encoding="utf-8")
    assert "[teams.alpha]\n" in text
    toml.write_text(text.replace("[teams.alpha]\n", '[teams.alpha]\nfolder = "submissions/alpha"\n'),
                    encoding="utf-8")
    mine = ex / "submissions" / "alpha" / NOTEBOOK
    mine.parent.mkdir(parents=True)
    mine.write_text(notebook_from_snippet(WORK).dumps(), encoding="utf-8")
    path = f"ex/submissions/alpha/{NOTEBOOK}"

    body = await info(api, path)
    assert (body["team"], body["branch"]) == ("alpha", "main")
    assert (await info(api))["team"] is None  # the starting notebook belongs to no team

    reply = await api("POST", SCORE, {"path": path})
    assert reply.status == 202, reply.body
    job = await finished(api, reply.body["job"])
    assert job["state"] == "finished" and job["team"] == "alpha", job
    card = job["card"]
    assert card["source"]["kind"] == "folder", card["source"]
    assert card["source"]["ref"] == "submissions/alpha", card["source"]
    docs = next(c for c in card["components"] if c["id"] == "documentation")
    assert docs["score"] and docs["score"] > 0.5, docs  # the team's documented notebook, not the start
    assert (await info(api, path))["card"] == card


async def test_a_notebook_outside_any_exercise(api: Api, root: Path, exercise: Path) -> None:
    body = await info(api, "sub/churn.ipynb")
    assert body == {"exercise": None, "team": None, "branch": None, "card": None, "job": None}
    reply = await api("POST", SCORE, {"path": "sub/churn.ipynb"})
    assert reply.status == 400 and "not inside a hackathon exercise" in reply.body["message"]


async def test_a_hackathon_toml_above_the_root_is_not_looked_at(api: Api, root: Path) -> None:
    (root.parent / "hackathon.toml").write_text("not toml at all [", encoding="utf-8")
    try:
        assert (await info(api, "sub/churn.ipynb"))["exercise"] is None
    finally:
        (root.parent / "hackathon.toml").unlink()


async def test_a_broken_hackathon_toml_is_a_400_naming_it(
    api: Api, root: Path, exercise: Path
) -> None:
    toml = exercise / "hackathon.toml"
    good = toml.read_text()
    for text, fragment in [
        ("[hackathon\nname = 1", "invalid TOML"),
        (good.replace("lint = 20", "lint = -1"), "weight 'lint'"),
        (good.replace("[weights]", "[weights]\nstyle = 3"), "unknown weight"),
    ]:
        toml.write_text(text)
        for method, path, body, query in [
            ("GET", HACKATHON, None, {"path": TOY}),
            ("POST", SCORE, {"path": TOY}, None),
        ]:
            reply = await api(method, path, body, params=query)
            assert reply.status == 400, (text, reply.body)
            assert reply.body["error"] == "ConfigError" and fragment in reply.body["message"]
            assert reply.body["path"] == "ex/hackathon.toml"
            assert str(root) not in reply.raw.decode()


async def test_paths_outside_the_root_and_missing_notebooks(
    api: Api, root: Path, exercise: Path, outside: Path
) -> None:
    (root / "link.ipynb").symlink_to(outside / "secret.ipynb")
    for path in ("../outside/secret.ipynb", str(outside / "secret.ipynb"), "link.ipynb"):
        got = await api("GET", HACKATHON, params={"path": path})
        assert got.status == 403, (path, got.body)
        posted = await api("POST", SCORE, {"path": path})
        assert posted.status == 403, (path, posted.body)
        assert str(outside) not in got.raw.decode() + posted.raw.decode()
    assert (await api("GET", HACKATHON, params={"path": "ex/missing.ipynb"})).status == 404
    assert (await api("POST", SCORE, {"path": "ex/missing.ipynb"})).status == 404
    assert (await api("GET", HACKATHON, params={"path": "ex/hackathon.toml"})).status == 400
    for method in ("GET", "DELETE"):
        unknown = await api(method, "nbops/hackathon/jobs/0123abcd")
        assert unknown.status == 404 and unknown.body["error"] == "NotFoundError", method
        assert "no such scoring job" in unknown.body["message"]


async def test_unauthenticated_requests_get_403(api: Api, exercise: Path) -> None:
    calls: list[tuple[str, str, Any, dict[str, str] | None]] = [
        ("GET", HACKATHON, None, {"path": TOY}),
        ("POST", SCORE, {"path": TOY}, None),
        ("GET", "nbops/hackathon/jobs/abc", None, None),
        ("DELETE", "nbops/hackathon/jobs/abc", None, None),
    ]
    for method, path, body, query in calls:
        for headers in ({}, {"Authorization": "token wrong-token"}):
            reply = await api(method, path, body, params=query, auth=False, headers=headers)
            assert reply.status == 403, (method, path, reply.body)
            assert reply.body["error"] == "Forbidden"
    assert not (exercise / ".nbops").exists()


# --------------------------------------------------------------------------- scoring


@pytest.mark.slow
async def test_score_saves_the_card_and_a_second_score_waits(
    api: Api, root: Path, exercise: Path
) -> None:
    reply = await api("POST", SCORE, {"path": TOY})
    assert reply.status == 202, reply.body
    job = reply.body["job"]
    assert (job["state"], job["team"], job["exercise"], job["path"]) == (
        "running", "alpha", "ex", TOY,
    )  # fmt: skip
    assert job["limit_s"] == 900 + 120 and job["card"] is None and job["ended"] is None
    again = await api("POST", SCORE, {"path": TOY, "team": "beta"})
    assert again.status == 409, again.body
    assert "being scored already" in again.body["message"] and job["id"] in again.body["hint"]
    assert (await info(api))["job"]["id"] == job["id"]  # the running job, after a reload

    job = await finished(api, job)
    assert job["state"] == "finished", job
    assert job["error"] is None and job["ended"]
    card = job["card"]
    assert card["team"] == "alpha" and 0 <= card["total"] <= card["max_total"] == 100
    assert [c["id"] for c in card["components"]] == list(COMPONENTS)
    assert abs(sum(c["points"] for c in card["components"]) - card["total"]) < 0.05
    assert all(c["explanation"] or c["reason"] for c in card["components"])
    assert card["suggestion"] and "points" in card["suggestion"]
    tracked = next(c for c in card["components"] if c["id"] == "tracked_run")
    assert tracked["score"] == 1, tracked  # the notebook ran, in the scorer's process

    saved = exercise / ".nbops" / "hackathon" / "status" / "alpha.json"
    assert json.loads(saved.read_text(encoding="utf-8")) == card
    assert git(exercise, "status", "--porcelain") == ""  # .nbops/ is ignored by the exercise

    ended = await api("DELETE", f"nbops/hackathon/jobs/{job['id']}")  # ended: left as it is
    assert ended.status == 200 and ended.body == job
    body = await info(api)  # what a page reload shows
    assert body["card"] == card and body["job"] == job
    assert str(root) not in json.dumps(body)
    # the checkout is free again: another team may be scored
    other = await api("POST", SCORE, {"path": TOY, "team": "beta"})
    assert other.status == 202, other.body
    other_job = await finished(api, other.body["job"])
    assert other_job["state"] == "finished" and other_job["card"]["team"] == "beta"
    assert (saved.parent / "beta.json").is_file()
    assert (await info(api))["card"] == card  # the checkout's own team's card


def test_the_scorer_is_a_separate_process_without_the_token(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path.resolve()
    folder = make_exercise(root / "ex")
    monkeypatch.setenv("JUPYTER_TOKEN", "s3cret")
    seen: dict[str, Any] = {}

    popen = subprocess.Popen

    def fake(argv: list[str], *args: Any, **kwargs: Any) -> Any:
        if "status" not in argv:
            return popen(argv, *args, **kwargs)  # git, to read the branch
        seen.update(argv=argv, **kwargs)
        return object()

    scoring = Scoring(root)
    monkeypatch.setattr(nbops.jobs.service.subprocess, "Popen", fake)
    monkeypatch.setattr(scoring.table, "_watch", lambda *args: None)
    target = Target(file=folder / NOTEBOOK, name=f"ex/{NOTEBOOK}")
    job = scoring.start(ScoreRequest(target=target))
    assert seen["argv"] == [
        sys.executable, "-m", "nbops", "hackathon", "status", str(folder), "--format", "json",
        "--team", "alpha", "--progress", "json",
    ]  # fmt: skip  (a branch team: the checkout itself; its progress as JSON lines)
    assert seen["cwd"] == folder and "shell" not in seen
    assert "JUPYTER_TOKEN" not in seen["env"]
    assert seen.get("start_new_session") is True  # its own process group, killed as one
    assert job["state"] == "running" and job["limit_s"] == 1020


def _scorers(folder: Path) -> list[int]:
    """The processes scoring ``folder`` (``python -m nbops.hackathon.score <folder> ...``)."""
    found = []
    for entry in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            argv = entry.read_bytes().split(b"\0")
        except OSError:
            continue
        if b"nbops.hackathon.score" in argv and str(folder).encode() in argv:
            found.append(int(entry.parent.name))
    return [pid for pid in found if _alive(pid)]


def _group(pgid: int) -> list[int]:
    """The live (not zombie) processes of process group ``pgid``."""
    found = []
    for entry in Path("/proc").glob("[0-9]*/stat"):
        try:
            stat = entry.read_text()
        except OSError:
            continue
        fields = stat[stat.rfind(")") + 2 :].split()  # after "pid (comm) ": state ppid pgrp
        if int(fields[2]) == pgid and fields[0] != "Z":
            found.append(int(entry.parent.name))
    return found


def _gone(live: Callable[[], list[int]], timeout: float = 5.0) -> list[int]:
    """What ``live`` still finds once SIGKILL has had time to land (it is asynchronous: a
    killed process may take a moment to exit), at most ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while (found := live()) and time.monotonic() < deadline:
        time.sleep(0.05)
    return found


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc").is_dir(), reason="reads /proc")
async def test_stop_ends_the_scoring_at_once_and_frees_the_checkout(
    api: Api, exercise: Path, jp_serverapp: Any
) -> None:
    saved = exercise / ".nbops" / "hackathon" / "status"
    reply = await api("POST", SCORE, {"path": TOY})
    assert reply.status == 202, reply.body
    job = reply.body["job"]
    [app] = jp_serverapp.extension_manager.extension_apps["nbops"]
    process = app.state.scoring.table._jobs[job["id"]].process
    assert process is not None
    deadline = time.monotonic() + 60
    while not _scorers(exercise):  # stopped once `status` has started the team's scorer
        assert time.monotonic() < deadline and process.poll() is None, "no scorer started"
        await asyncio.sleep(0.1)
    assert _group(process.pid)

    started = time.monotonic()
    reply = await api("DELETE", f"nbops/hackathon/jobs/{job['id']}")
    assert reply.status == 200, reply.body
    stopped = reply.body
    assert time.monotonic() - started < 15
    assert (stopped["id"], stopped["state"], stopped["card"]) == (job["id"], "cancelled", None)
    assert stopped["ended"] and "stopped by the user" in stopped["error"], stopped
    assert "server stopped" not in stopped["error"]  # that is close()'s text
    assert process.poll() is not None and not _alive(process.pid)
    assert _gone(lambda: _scorers(exercise) + _group(process.pid)) == []  # the whole group
    assert not saved.exists()  # no scorecard for a stopped scoring
    assert (await api("GET", f"nbops/hackathon/jobs/{job['id']}")).body == stopped
    assert (await info(api))["job"] == stopped  # what a page reload shows
    # stopped already: answered unchanged
    again = await api("DELETE", f"nbops/hackathon/jobs/{job['id']}")
    assert again.status == 200 and again.body == stopped

    # the checkout is free at once: a new scoring starts (and is stopped too)
    other = await api("POST", SCORE, {"path": TOY})
    assert other.status == 202, other.body
    assert other.body["job"]["id"] != job["id"] and other.body["job"]["state"] == "running"
    second = await api("DELETE", f"nbops/hackathon/jobs/{other.body['job']['id']}")
    assert second.status == 200 and second.body["state"] == "cancelled", second.body
    assert not saved.exists()


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc").is_dir(), reason="reads /proc")
def test_over_the_time_limit_the_scorer_and_what_it_started_are_stopped(tmp_path: Path) -> None:
    root = tmp_path.resolve()
    # the team's notebook runs for a minute: scoring it (components in parallel, as fast as
    # the machine allows) cannot end within the limit
    slow = START + "# %%\nimport time\ntime.sleep(60)\n"
    folder = make_exercise(root / "ex", timeout=4, work=slow)
    scoring = Scoring(root, extra=0.0, grace=1.0)
    target = Target(file=folder / NOTEBOOK, name=f"ex/{NOTEBOOK}")
    job = scoring.start(ScoreRequest(target=target))
    process = scoring.table._jobs[job["id"]].process
    assert process is not None
    deadline = time.monotonic() + 60
    seen_scorer = False
    while (job := scoring.job(job["id"]))["state"] == "running":
        assert time.monotonic() < deadline, job
        seen_scorer = seen_scorer or bool(_scorers(folder))
        time.sleep(0.2)
    assert seen_scorer  # `status` had started the team's scorer, a process of its own
    assert job["state"] == "failed" and job["card"] is None, job
    assert job["error"] == (
        "scoring took longer than its limit of 4 s (the exercise's timeout of 4 s plus 0 s) "
        "and was stopped"
    )
    assert process.poll() is not None
    assert _gone(lambda: _scorers(folder)) == []  # the whole process group went
    assert not (folder / ".nbops" / "hackathon" / "status").exists()
    # the checkout is free again; closing stops a running scoring at once
    second = scoring.start(ScoreRequest(target=target, team="beta"))
    other = scoring.table._jobs[second["id"]].process
    assert other is not None
    scoring.close()
    assert other.poll() is not None and not _alive(other.pid)
    stopped = scoring.job(second["id"])
    assert stopped["state"] == "cancelled"
    assert stopped["error"] == "the Jupyter server stopped while the work was being scored"


@pytest.mark.slow
async def test_stopping_the_server_stops_its_scoring(
    api: Api, exercise: Path, jp_serverapp: Any
) -> None:
    reply = await api("POST", SCORE, {"path": TOY})
    assert reply.status == 202, reply.body
    job = reply.body["job"]
    [app] = jp_serverapp.extension_manager.extension_apps["nbops"]
    scoring: Scoring = app.state.scoring
    process = scoring.table._jobs[job["id"]].process
    assert process is not None
    await asyncio.get_running_loop().run_in_executor(None, scoring.close)
    assert process.poll() is not None and not _alive(process.pid)
    stopped = scoring.job(job["id"])
    assert stopped["state"] == "cancelled" and stopped["card"] is None
    refused = await api("POST", SCORE, {"path": TOY})
    assert refused.status == 502 and "stopping" in refused.body["message"]


def test_the_scorers_own_error_is_the_jobs(tmp_path: Path) -> None:
    root = tmp_path.resolve()
    scoring = Scoring(root)
    kind = scoring.table.kind
    job = ScoreJob(id="j", path="ex/a.ipynb", exercise="ex", team="alpha", limit_s=10, folder=root)
    tail = [
        "Traceback (most recent call last):",
        f"nbops: error: {root}/ex/hackathon.toml: invalid TOML: at line 1",
    ]
    finish = kind.finish(job, 2, b"", tail)
    assert finish.state == "failed" and finish.error == "ex/hackathon.toml: invalid TOML: at line 1"
    other = ScoreJob(id="k", path="ex/a.ipynb", exercise="ex", team="alpha", limit_s=10, folder=root)
    finish = kind.finish(other, -9, b"not json", [])
    assert finish.state == "failed" and finish.error == "the scoring was stopped by signal 9"


# --------------------------------------------------------------------------- authorization


@pytest.mark.parametrize("authorizer", [NoKernels, ReadOnly])
class TestRestrictedUser:
    @pytest.fixture
    def jp_server_config(self, authorizer: type[Authorizer]) -> Config:
        return config_with(authorizer)

    async def test_may_see_the_exercise_but_not_score(self, api: Api, exercise: Path) -> None:
        assert (await info(api))["team"] == "alpha"
        refused = await api("POST", SCORE, {"path": TOY})
        assert refused.status == 403 and refused.body["error"] == "Forbidden"
        assert "not authorized to score" in refused.body["message"]
        assert not (exercise / ".nbops").exists()

    async def test_may_stop_a_scoring_only_with_write(
        self, api: Api, exercise: Path, authorizer: type[Authorizer]
    ) -> None:
        reply = await api("DELETE", "nbops/hackathon/jobs/0123abcd")
        if authorizer is ReadOnly:  # stopping one is a write, as cancelling a run
            assert reply.status == 403 and reply.body["error"] == "Forbidden"
            assert "not authorized to stop a scoring" in reply.body["message"]
        else:
            assert reply.status == 404 and reply.body["error"] == "NotFoundError"


def test_git_is_not_needed_to_read_the_exercise(tmp_path: Path) -> None:
    """Without git (or outside a checkout) there is no team, and nothing fails."""
    root = tmp_path.resolve()
    folder = make_exercise(root / "ex", team=None)
    shutil.rmtree(folder / ".git")
    body = Scoring(root).info(Target(file=folder / NOTEBOOK, name=f"ex/{NOTEBOOK}"))
    assert body["exercise"]["root"] == "ex" and body["team"] is None and body["branch"] is None
