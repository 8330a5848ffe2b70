"""``POST /nbops/check`` and ``POST /nbops/submit`` on a real Jupyter server, with real git
repositories and bare remotes inside the server root (and the fake forge for a pull request).

Each answer is also checked against docs/rest-api.yaml by the ``api`` fixture (conftest).
"""

from __future__ import annotations

import asyncio
import json
import shutil
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from authz import ReadOnly, config_with
from reviewrepo import (
    AUTHOR,
    PYPROJECT,
    WINE,
    git,
    make_review_repo,
    no_forge_tokens,
    remote_branches,
    snapshot,
)
from traitlets.config import Config

from nbops.review.checks import check_notebook
from nbops.review.submit import review_branch

CHECK, SUBMIT = "nbops/check", "nbops/submit"
WINE_NB, CHURN_NB = "team/wine_classifier.ipynb", "team/churn_classifier.ipynb"

Api = Callable[..., Awaitable[Any]]  # the `api` fixture of conftest.py


@pytest.fixture
def team(root: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """``team/``: a clone with the wine and churn examples; ``remote.git``: its bare origin,
    both inside the server root. No forge token in the server's environment."""
    no_forge_tokens(monkeypatch)
    return make_review_repo(root / "team", root / "remote.git")


def branch_of(notebook: str = "wine_classifier.ipynb") -> str:
    return review_branch(notebook, AUTHOR[1])


async def checked(api: Api, body: dict[str, Any]) -> dict[str, Any]:
    reply = await api("POST", CHECK, body)
    assert reply.status == 200, reply.body
    answer: dict[str, Any] = reply.body
    return answer


def statuses(gate: dict[str, Any]) -> dict[str, str]:
    return {c["id"]: c["status"] for c in gate["checks"]}


# --------------------------------------------------------------------------- check


async def test_check_of_a_passing_notebook(api: Api, root: Path, team: Path) -> None:
    reply = await api("POST", CHECK, {"path": WINE_NB})
    assert reply.status == 200, reply.body
    gate = reply.body
    assert gate["notebook"] == WINE_NB and gate["passed"] is True
    assert gate["summary"]["blocking"] == 0 and gate["summary"]["fail"] == 0
    expected = check_notebook(team / "wine_classifier.ipynb").to_json()
    assert statuses(gate) == statuses(expected)
    assert [c["category"] for c in gate["checks"]][:2] == ["documentation", "documentation"]
    assert gate["policy"]["base"] == "main" and gate["policy"]["remote"] == "origin"
    assert str(root) not in reply.raw.decode()


async def test_check_of_a_blocked_notebook_lists_what_to_fix(
    api: Api, root: Path, team: Path
) -> None:
    reply = await api("POST", CHECK, {"path": CHURN_NB})
    assert reply.status == 200, reply.body
    gate = reply.body
    assert gate["passed"] is False
    checks = {c["id"]: c for c in gate["checks"]}
    secrets = checks["secrets"]
    assert secrets["status"] == "fail" and secrets["blocking"] is True
    assert secrets["cell_index"] == 4 and secrets["cell"] == 5 and secrets["fix"]
    assert checks["formatted"]["fix_code"] == "FMT001" and checks["formatted"]["cell_index"] == 1
    assert {"sections", "lint", "secrets", "absolute-paths", "parameters-cell"} <= {
        c["id"] for c in gate["checks"] if c["blocking"]
    }
    assert gate["summary"]["blocking"] == sum(c["blocking"] for c in gate["checks"])
    # the lint check's fix names the notebook: root-relative, never the server's real path
    assert f"nbops lint {CHURN_NB}" in checks["lint"]["fix"]
    assert str(root) not in reply.raw.decode()


async def test_check_of_unsaved_content(api: Api, team: Path) -> None:
    saved = (team / "wine_classifier.ipynb").read_bytes()
    content = json.loads(saved)
    content["cells"][0]["source"] = "Wine, without a title.\n"
    gate = await checked(api, {"path": WINE_NB, "content": content})
    assert gate["passed"] is False
    title = next(c for c in gate["checks"] if c["id"] == "title")
    assert title["status"] == "fail" and title["cell_index"] == 0 and title["fix_code"] == "NB101"
    assert (team / "wine_classifier.ipynb").read_bytes() == saved  # nothing written
    # unsaved content of a notebook that does not exist yet: the folder's policy applies
    fresh = await checked(api, {"path": "team/wine_ridge.ipynb", "content": json.loads(saved)})
    assert fresh["notebook"] == "team/wine_ridge.ipynb" and fresh["passed"] is True
    assert not (team / "wine_ridge.ipynb").exists()


async def test_check_follows_the_projects_policy(api: Api, team: Path) -> None:
    (team / "pyproject.toml").write_text(
        PYPROJECT + '[tool.nbops.submit]\nsections = ["Data", "Glossary"]\n'
        '[tool.nbops.submit.checks]\nsummary = "optional"\ndependencies = "off"\n',
        encoding="utf-8",
    )
    gate = await checked(api, {"path": WINE_NB})
    checks = {c["id"]: c for c in gate["checks"]}
    assert "dependencies" not in checks and checks["summary"]["level"] == "optional"
    assert checks["sections"]["status"] == "fail" and "Glossary" in checks["sections"]["message"]
    assert gate["policy"]["sections"] == ["Data", "Glossary"]
    (team / "pyproject.toml").write_text("[tool.nbops.submit]\nfail-on = 3\n", encoding="utf-8")
    bad = await api("POST", CHECK, {"path": WINE_NB})
    assert bad.status == 400 and bad.body["error"] == "ConfigError"


@pytest.mark.parametrize(
    ("body", "status", "words"),
    [
        ({"path": "broken.ipynb"}, 422, "JSON"),
        ({"path": "missing.ipynb"}, 404, "no such notebook"),
        ({"path": "../outside/secret.ipynb"}, 403, ".."),
        ({"path": "/etc/passwd.ipynb"}, 403, "absolute"),
        ({"path": "team/pyproject.toml"}, 400, ".ipynb"),
        ({"path": WINE_NB, "select": ["NB"]}, 400, "unknown field"),
        ({"path": WINE_NB, "content": "cells"}, 400, "content"),
        ({}, 400, "'path' is required"),
    ],
)
async def test_check_refuses_bad_requests(
    api: Api, team: Path, body: dict[str, Any], status: int, words: str
) -> None:
    reply = await api("POST", CHECK, body)
    assert reply.status == status, reply.body
    assert words in reply.body["message"] + (reply.body["hint"] or "")


async def test_a_symlink_out_of_the_root_is_refused(api: Api, root: Path, outside: Path) -> None:
    (root / "link.ipynb").symlink_to(outside / "secret.ipynb")
    for endpoint in (CHECK, SUBMIT):
        reply = await api("POST", endpoint, {"path": "link.ipynb"})
        assert reply.status == 403 and "outside the server root" in reply.body["message"]


async def test_without_the_token_nothing_is_answered(api: Api, team: Path) -> None:
    for endpoint in (CHECK, SUBMIT):
        reply = await api("POST", endpoint, {"path": WINE_NB}, auth=False)
        assert reply.status == 403 and "checks" not in reply.raw.decode()
    assert remote_branches(team.parent / "remote.git") == {"main"}


# --------------------------------------------------------------------------- submit


async def test_submit_pushes_the_review_branch_and_leaves_the_checkout_alone(
    api: Api, root: Path, team: Path
) -> None:
    # work in progress the submit must not disturb
    (team / "notes.txt").write_text("untracked scratch\n")
    (team / "pyproject.toml").write_text(PYPROJECT + "# an uncommitted edit\n")
    (team / "staged.txt").write_text("staged\n")
    git(team, "add", "staged.txt")
    before = snapshot(team)
    request = {"path": WINE_NB, "title": "Review: wine v1", "message": "First version.",
               "reviewers": ["@bob", "bob", "org/ml-team"]}  # fmt: skip
    reply = await api("POST", SUBMIT, request)
    assert reply.status == 200, reply.body
    result = reply.body
    branch = branch_of()
    assert result["branch"] == branch and result["notebook"] == "wine_classifier.ipynb"
    assert result["remote"] == "origin" and result["base"] == "main"
    assert result["pushed"] and result["committed"] and not result["dry_run"]
    assert result["forge"] is None and result["pull_request"] is None
    assert result["compare_url"] is None and result["gate"]["passed"] is True
    assert result["report"] == "reviews/wine_classifier.md"
    assert result["files"] == ["reviews/wine_classifier.md", "wine_classifier.ipynb"]
    assert snapshot(team) == before  # byte for byte, index, HEAD, branch
    remote = root / "remote.git"
    assert remote_branches(remote) == {"main", branch}
    assert git(remote, "rev-parse", branch) == result["commit"]
    report = git(remote, "show", f"{branch}:reviews/wine_classifier.md")
    assert "First version." in report and "## Limitations" in report
    assert git(remote, "log", "-1", "--format=%s", branch) == "Review: wine v1"
    assert str(root) not in reply.raw.decode()

    # again, unchanged: nothing new to commit or push
    again = await api("POST", SUBMIT, request)
    assert again.status == 200, again.body
    assert again.body["commit"] == result["commit"]
    assert not again.body["committed"] and not again.body["pushed"]


async def test_dry_run_creates_nothing(api: Api, root: Path, team: Path) -> None:
    refs = git(team, "for-each-ref", "refs/heads")
    reply = await api("POST", SUBMIT, {"path": WINE_NB, "dry_run": True})
    assert reply.status == 200, reply.body
    assert reply.body["dry_run"] is True and reply.body["pushed"] is False
    assert git(team, "for-each-ref", "refs/heads") == refs
    assert remote_branches(root / "remote.git") == {"main"}


async def test_two_submits_at_once_both_arrive(api: Api, root: Path, team: Path) -> None:
    shutil.copy(team / "wine_classifier.ipynb", team / "wine_second.ipynb")
    replies = await asyncio.gather(
        api("POST", SUBMIT, {"path": WINE_NB}),
        api("POST", SUBMIT, {"path": "team/wine_second.ipynb"}),
    )
    assert [r.status for r in replies] == [200, 200], [r.body for r in replies]
    assert remote_branches(root / "remote.git") == {
        "main",
        branch_of(),
        branch_of("wine_second.ipynb"),
    }


async def test_a_blocked_notebook_is_a_422_with_the_checklist(
    api: Api, root: Path, team: Path
) -> None:
    before, refs = snapshot(team), git(team, "for-each-ref")
    reply = await api("POST", SUBMIT, {"path": CHURN_NB})
    assert reply.status == 422, reply.body
    body = reply.body
    assert body["error"] == "GateFailed" and "secrets" in body["message"]
    assert body["path"] == CHURN_NB and body["hint"] == f"nbops check {CHURN_NB} lists what to fix"
    gate = body["gate"]
    assert gate["passed"] is False and gate["notebook"] == CHURN_NB
    secrets = next(c for c in gate["checks"] if c["id"] == "secrets")
    assert secrets["blocking"] and secrets["cell_index"] == 4
    assert snapshot(team) == before and git(team, "for-each-ref") == refs
    assert remote_branches(root / "remote.git") == {"main"}
    assert str(root) not in reply.raw.decode()


async def test_no_remote_and_no_repository_are_400(api: Api, root: Path, team: Path) -> None:
    git(team, "remote", "remove", "origin")
    reply = await api("POST", SUBMIT, {"path": WINE_NB})
    assert reply.status == 400, reply.body
    assert reply.body["error"] == "UsageError"
    assert "no git remote named 'origin'" in reply.body["message"]
    assert "git remote add origin" in reply.body["hint"]
    other = await api("POST", SUBMIT, {"path": WINE_NB, "remote": "upstream"})
    assert other.status == 400 and "'upstream'" in other.body["message"]
    loose = root / "loose"
    loose.mkdir()
    shutil.copy(WINE, loose / "wine.ipynb")
    reply = await api("POST", SUBMIT, {"path": "loose/wine.ipynb"})
    assert reply.status == 400 and "not in a git repository" in reply.body["message"]
    assert str(root) not in reply.raw.decode()


async def test_a_hook_that_declines_the_push_is_a_502_with_the_reason(
    api: Api, root: Path, team: Path
) -> None:
    hook = root / "remote.git" / "hooks" / "pre-receive"
    hook.write_text("#!/bin/sh\necho 'review branches need a ticket number' >&2\nexit 1\n")
    hook.chmod(0o755)
    reply = await api("POST", SUBMIT, {"path": WINE_NB})
    assert reply.status == 502, reply.body
    body = reply.body
    assert body["error"] == "PushError" and body["reason"] == "declined"
    assert "ticket number" in body["message"] and "local branch is kept" in body["hint"]
    assert remote_branches(root / "remote.git") == {"main"}
    assert git(team, "rev-parse", f"refs/heads/{branch_of()}")  # kept for a retry
    hook.unlink()
    retried = await api("POST", SUBMIT, {"path": WINE_NB})
    assert retried.status == 200 and retried.body["pushed"] and not retried.body["committed"]


async def test_an_unreachable_remote_is_a_502_network(api: Api, root: Path, team: Path) -> None:
    git(team, "remote", "set-url", "origin", str(root / "nowhere.git"))
    reply = await api("POST", SUBMIT, {"path": WINE_NB})
    assert reply.status == 502 and reply.body["reason"] == "network", reply.body
    assert reply.body["message"] == "git fetch to origin: the remote's folder ../nowhere.git does not exist"
    assert "git init --bare ../nowhere.git" in reply.body["hint"]
    assert str(root) not in reply.raw.decode()


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"reviewers": "bob"}, "list of user names"),
        ({"reviewers": ["bob", "not a name"]}, "not a user or team name"),
        ({"reviewers": [f"u{i}" for i in range(51)]}, "at most 50 reviewers"),
        ({"base": "-main"}, "not a valid branch name"),
        ({"base": "a..b"}, "not a valid branch name"),
        ({"remote": "--upload-pack=touch /tmp/x"}, "not a valid remote name"),
        ({"title": "x" * 257}, "longer than 256"),
        ({"title": 3}, "'title' must be a string"),
        ({"message": "a\0b"}, "'message' must be a string"),
        ({"dry_run": "yes"}, "true or false"),
        ({"content": {"cells": []}}, "unknown field"),
    ],
)
async def test_submit_refuses_bad_fields(
    api: Api, root: Path, team: Path, change: dict[str, Any], words: str
) -> None:
    reply = await api("POST", SUBMIT, {"path": WINE_NB, **change})
    assert reply.status == 400, reply.body
    assert words in reply.body["message"]
    assert remote_branches(root / "remote.git") == {"main"}


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"title": "Review sk_live_" + "4eC39HqLyjWDarjtT1zdp7dc"}, "title"),
        ({"message": "the key: sk_live_" + "4eC39HqLyjWDarjtT1zdp7dc"}, "message"),
        ({"reviewers": ["bob", "ghp_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8"]}, "reviewers"),
    ],
    ids=["title", "message", "reviewers"],
)
async def test_submit_refuses_a_secret_in_a_field_and_changes_nothing(
    api: Api, root: Path, team: Path, change: dict[str, Any], field: str
) -> None:
    remote = root / "remote.git"
    before, refs, remote_refs = snapshot(team), git(team, "for-each-ref"), git(remote, "for-each-ref")
    reply = await api("POST", SUBMIT, {"path": WINE_NB, **change})
    assert reply.status == 422, reply.body
    body = reply.body
    assert body["error"] == "SecretInSubmission" and body["field"] == field
    assert "holds a secret" in body["message"] and "nothing was committed, pushed or sent" in body["message"]
    assert "'sk_l…' (32 chars)" in body["message"] or "'ghp_…' (40 chars)" in body["message"]
    raw = reply.raw.decode()
    assert "4eC39HqLyjWDarjtT1zdp7dc" not in raw and "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8" not in raw
    assert str(root) not in raw
    assert snapshot(team) == before and git(team, "for-each-ref") == refs
    assert git(remote, "for-each-ref") == remote_refs
    assert not (team / ".git" / "nbops-submit.lock").exists()


async def test_a_pull_request_is_opened_with_the_servers_token(
    api: Api, root: Path, team: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from review.forges.fakeforge import TOKEN, FakeForge

    fake = FakeForge()
    fake.add_github_repo("octo/wine", branches=("main", branch_of()), collaborators=("bob",))
    fake.start()
    try:
        # the remote is "GitHub" to nbops; git itself is sent to the bare repository
        bare = str(root / "remote.git")
        git(team, "remote", "set-url", "origin", "https://github.com/octo/wine.git")
        git(team, "config", f"url.{bare}.insteadOf", "https://github.com/octo/wine.git")
        (team / "pyproject.toml").write_text(
            PYPROJECT + f'[tool.nbops.submit]\nforge = "github"\napi-url = "{fake.github_api}"\n'
        )
        monkeypatch.setenv("GITHUB_TOKEN", TOKEN)  # the server process's environment
        monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
        reply = await api("POST", SUBMIT, {"path": WINE_NB, "reviewers": ["bob"]})
        assert reply.status == 200, reply.body
        result = reply.body
        pr = result["pull_request"]
        assert result["forge"] == "github" and pr["created"] and pr["state"] == "open"
        assert pr["url"].startswith("http") and str(pr["number"]) in pr["url"]
        pulls = fake.github["octo/wine"].pulls
        assert len(pulls) == 1 and pulls[0]["title"] == "Review: Wine cultivar classifier"
        assert fake.calls("POST", "requested_reviewers")
        assert branch_of() in remote_branches(root / "remote.git")

        # the forge refuses a write: its error, with the host, never the token
        nb = team / "wine_classifier.ipynb"
        nb.write_text(nb.read_text().replace("C = 1.0  #", "C = 2.0  #"))
        fake.read_only = True
        refused = await api("POST", SUBMIT, {"path": WINE_NB, "title": "Review: wine v2"})
        assert refused.status == 502, refused.body
        assert refused.body["error"].startswith("Forge") and refused.body["host"]
        fake.read_only = False
        fake.rate_limit = "secondary"
        limited = await api("POST", SUBMIT, {"path": WINE_NB})
        assert limited.status == 503 and limited.body["error"] == "ForgeRateLimitError"
        fake.rate_limit = None

        # without a token the branch still arrives and the compare URL is given
        nb.write_text(nb.read_text().replace("C = 2.0  #", "C = 3.0  #"))
        monkeypatch.delenv("GITHUB_TOKEN")
        bare_reply = await api("POST", SUBMIT, {"path": WINE_NB})
        assert bare_reply.status == 200, bare_reply.body
        assert bare_reply.body["pull_request"] is None and bare_reply.body["pushed"]
        assert bare_reply.body["compare_url"] == (
            f"https://github.com/octo/wine/compare/main...{branch_of()}?expand=1"
        )
        for r in (reply, refused, limited, bare_reply):
            assert TOKEN not in r.raw.decode()
        assert not any(TOKEN in str(call.body) for call in fake.requests)
    finally:
        fake.stop()


# --------------------------------------------------------------------------- authorization


class TestReadOnlyUser:
    @pytest.fixture
    def jp_server_config(self) -> Config:
        return config_with(ReadOnly)

    async def test_may_check_but_not_submit(self, api: Api, root: Path, team: Path) -> None:
        assert (await api("POST", CHECK, {"path": WINE_NB})).status == 200
        refused = await api("POST", SUBMIT, {"path": WINE_NB})
        assert refused.status == 403 and refused.body["error"] == "Forbidden"
        assert "not authorized to submit" in refused.body["message"]
        assert remote_branches(root / "remote.git") == {"main"}
