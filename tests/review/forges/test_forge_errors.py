"""Every failure of the forge adapters: a clear message saying what to do, and never the token.

Each scenario runs a submit against the fake server switched into a failure mode and checks
the error's class, status, message and hint, then looks for the token everywhere it could leak:
``str``, ``repr``, ``to_json``, the formatted traceback, the captured logs and output.
"""

from __future__ import annotations

import json
import logging
import socket
import traceback
from collections.abc import Callable

import pytest
from fakeforge import TOKEN, FakeForge

from nbops.errors import (
    ForgeAuthError,
    ForgeError,
    ForgeRateLimitError,
    exit_code,
    http_status,
)
from nbops.review.forges.base import Forge
from nbops.review.forges.github import GitHubForge
from nbops.review.forges.gitlab import GitLabForge
from nbops.review.forges.remote import parse_remote

HEAD = "review/churn-3f2a9c"
WRONG = "nbops-wrong-token-9d8e7f6a5b"
GH_REMOTE = "git@github.com:octo/analysis.git"
GL_REMOTE = "https://gitlab.example.com/data/team/analysis.git"


@pytest.fixture(autouse=True)
def review_branch(fake: FakeForge) -> None:
    fake.github["octo/analysis"].branches.add(HEAD)
    fake.gitlab["data/team/analysis"].branches.add(HEAD)


def make(kind: str, fake: FakeForge, token: str | None = TOKEN, *, api_url: str | None = None,
         remote: str | None = None, timeout: float = 5) -> Forge:
    if kind == "github":
        return GitHubForge(parse_remote(remote or GH_REMOTE), token,
                           api_url=api_url or fake.github_api, timeout=timeout,
                           token_source="GITHUB_TOKEN" if token else None)
    return GitLabForge(parse_remote(remote or GL_REMOTE), token,
                       api_url=api_url or fake.gitlab_api, timeout=timeout,
                       token_source="GITLAB_TOKEN" if token else None)


def submit(forge: Forge, *, title: str = "Review: churn", head: str = HEAD) -> None:
    forge.open_or_update(head=head, base="main", title=title, body="b", reviewers=["alice"])


def fails(
    forge: Forge,
    expected: type[ForgeError],
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
    run: Callable[[Forge], None] = submit,
) -> ForgeError:
    """Run ``run(forge)``, expecting ``expected``; check no secret leaked anywhere."""
    caplog.set_level(logging.DEBUG)
    with pytest.raises(expected) as info:
        run(forge)
    error = info.value
    out = capsys.readouterr()
    texts = [
        str(error), repr(error), json.dumps(error.to_json()), error.hint or "",
        "".join(traceback.format_exception(error)), caplog.text, out.out, out.err, repr(forge),
    ]
    for secret in (TOKEN, WRONG):
        for text in texts:
            assert secret not in text
    assert error.host == forge.host
    assert exit_code(error) == 3
    return error


KINDS = ["github", "gitlab"]


@pytest.mark.parametrize("kind", KINDS)
def test_a_wrong_token_is_an_auth_error_naming_the_variable(
    kind: str, fake: FakeForge, caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    error = fails(make(kind, fake, WRONG), ForgeAuthError, caplog, capsys)
    assert error.status == 401
    assert "rejected the token" in error.message
    assert ("Bad credentials" if kind == "github" else "401 Unauthorized") in error.message
    variable = "GITHUB_TOKEN" if kind == "github" else "GITLAB_TOKEN"
    assert variable in (error.hint or "") and "replace it" in (error.hint or "")
    assert http_status(error) == 502


@pytest.mark.parametrize("kind", KINDS)
def test_no_token_fails_before_any_request(
    kind: str, fake: FakeForge, caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    error = fails(make(kind, fake, None), ForgeAuthError, caplog, capsys)
    assert error.status is None and "no " in error.message and "token" in error.message
    names = ("GITHUB_TOKEN or GH_TOKEN" if kind == "github" else "GITLAB_TOKEN or GL_TOKEN")
    assert names in (error.hint or "") and "token-env" in (error.hint or "")
    assert fake.requests == []


@pytest.mark.parametrize("kind", KINDS)
def test_a_token_without_write_access_is_a_permission_error(
    kind: str, fake: FakeForge, caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    fake.read_only = True
    error = fails(make(kind, fake), ForgeError, caplog, capsys)
    assert not isinstance(error, (ForgeAuthError, ForgeRateLimitError))
    assert error.status == 403 and "refused to open a" in error.message
    if kind == "github":
        assert "Resource not accessible by personal access token" in error.message
        assert "Pull requests: Read and write" in (error.hint or "")
    else:
        assert "403 Forbidden" in error.message and "'api' scope" in (error.hint or "")


@pytest.mark.parametrize("kind", KINDS)
def test_an_unknown_repository_is_not_found_or_invisible(
    kind: str, fake: FakeForge, caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    remote = "git@github.com:octo/secret.git" if kind == "github" else "git@gitlab.com:x/y.git"
    error = fails(make(kind, fake, remote=remote), ForgeError, caplog, capsys)
    assert error.status == 404
    assert "not found, or the token cannot see it" in error.message
    assert ("octo/secret" if kind == "github" else "x/y") in error.message
    assert "check the remote URL" in (error.hint or "")


def test_github_validation_errors_list_every_problem(
    fake: FakeForge, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str],
) -> None:
    error = fails(make("github", fake), ForgeError, caplog, capsys,
                  run=lambda f: submit(f, title=""))
    assert error.status == 422
    assert "GitHub refused to open a pull request" in error.message
    assert "Validation Failed; PullRequest title missing_field" in error.message
    assert (error.hint or "").startswith("see https://docs.github.com/")
    unpushed = fails(make("github", fake), ForgeError, caplog, capsys,
                     run=lambda f: submit(f, head="review/never-pushed"))
    assert "PullRequest head invalid" in unpushed.message


def test_github_no_commits_between_says_why(
    fake: FakeForge, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str],
) -> None:
    error = fails(make("github", fake), ForgeError, caplog, capsys,
                  run=lambda f: submit(f, head="main"))
    assert "No commits between main and main" in error.message
    assert "no commits" in (error.hint or "")


def test_gitlab_parameter_and_validation_errors(
    fake: FakeForge, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str],
) -> None:
    empty = fails(make("gitlab", fake), ForgeError, caplog, capsys,
                  run=lambda f: submit(f, title=" "))
    assert empty.status == 400 and "GitLab refused to open a merge request" in empty.message
    assert "title is empty" in empty.message
    unpushed = fails(make("gitlab", fake), ForgeError, caplog, capsys,
                     run=lambda f: submit(f, head="review/never-pushed"))
    assert unpushed.status == 422
    assert 'Branch "review/never-pushed" does not exist' in unpushed.message


def test_github_primary_rate_limit_says_when_to_retry(
    fake: FakeForge, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str],
) -> None:
    fake.rate_limit = "primary"
    error = fails(make("github", fake), ForgeRateLimitError, caplog, capsys)
    assert isinstance(error, ForgeRateLimitError)
    assert error.status == 403 and "rate limit reached on github.com" in error.message
    assert error.retry_after is not None and 1790 <= error.retry_after <= 1800
    assert "UTC (in 30 minutes)" in (error.hint or "")
    assert "updates the same pull request" in (error.hint or "")
    assert http_status(error) == 503


def test_github_secondary_rate_limit_uses_retry_after(
    fake: FakeForge, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str],
) -> None:
    fake.rate_limit = "secondary"
    error = fails(make("github", fake), ForgeRateLimitError, caplog, capsys)
    assert isinstance(error, ForgeRateLimitError)
    assert error.status == 429 and error.retry_after == 30
    assert (error.hint or "").startswith("retry in 30 seconds")


def test_gitlab_rate_limit_uses_retry_after(
    fake: FakeForge, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str],
) -> None:
    fake.rate_limit = "gitlab"
    error = fails(make("gitlab", fake), ForgeRateLimitError, caplog, capsys)
    assert isinstance(error, ForgeRateLimitError)
    assert error.status == 429 and error.retry_after == 45
    assert "GitLab rate limit reached on gitlab.example.com" in error.message
    assert (error.hint or "").startswith("retry in 45 seconds")


@pytest.mark.parametrize("kind", KINDS)
def test_an_unreachable_api_names_the_host(
    kind: str, fake: FakeForge, caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    forge = make(kind, fake, api_url=f"http://127.0.0.1:{port}/api")
    error = fails(forge, ForgeError, caplog, capsys)
    assert error.status is None
    assert "cannot reach" in error.message and "127.0.0.1" in error.message
    assert "network connection" in (error.hint or "")


@pytest.mark.parametrize("kind", KINDS)
def test_a_silent_api_times_out(
    kind: str, fake: FakeForge, caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    fake.slow = 0.5
    error = fails(make(kind, fake, timeout=0.1), ForgeError, caplog, capsys)
    assert "127.0.0.1 did not answer within 0.1 seconds" in error.message


@pytest.mark.parametrize("kind", KINDS)
def test_an_api_url_that_is_a_web_page_is_explained(
    kind: str, fake: FakeForge, caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    fake.not_json = True
    error = fails(make(kind, fake), ForgeError, caplog, capsys)
    assert "not JSON" in error.message and "api-url" in (error.hint or "")


def test_a_redirect_to_another_host_is_not_followed_with_the_token(
    fake: FakeForge, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str],
) -> None:
    fake.add_github_repo("octo/churn", branches=("main", HEAD))
    other_origin = f"http://localhost:{fake.port}/github/repos/octo/churn"
    fake.moved["octo/analysis"] = other_origin
    error = fails(make("github", fake), ForgeError, caplog, capsys)
    assert error.status == 301 and other_origin in error.message
    assert not [r for r in fake.requests if r.host.startswith("localhost")]


@pytest.mark.parametrize("kind", KINDS)
def test_a_pagination_link_to_another_host_is_refused(
    kind: str, fake: FakeForge, caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
) -> None:
    forge = make(kind, fake)  # its API is http://127.0.0.1:PORT
    for target in ("b1", "b2", "b3"):  # more than one page of open ones from HEAD
        if kind == "github":
            fake.add_github_pull("octo/analysis", HEAD, target)
        else:
            fake.add_gitlab_mr("data/team/analysis", HEAD, target)
    monkeypatch.setattr(FakeForge, "url", property(lambda self: f"http://localhost:{self.port}"))
    error = fails(forge, ForgeError, caplog, capsys)
    assert "refusing to send the" in error.message and "localhost" in error.message
    assert not [r for r in fake.requests if r.host.startswith("localhost")]


@pytest.mark.parametrize("kind", KINDS)
def test_a_token_echoed_by_the_server_is_scrubbed(
    kind: str, fake: FakeForge, caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
) -> None:
    from fakeforge import Reply

    def echo(*args: object, **kwargs: object) -> Reply:
        return Reply(422, {"message": f"token {TOKEN} is not allowed here"})

    monkeypatch.setattr(fake, "_github" if kind == "github" else "_gitlab", echo)
    error = fails(make(kind, fake), ForgeError, caplog, capsys)
    assert "token *** is not allowed here" in error.message


def test_the_fake_server_ignores_an_unqualified_head_filter(fake: FakeForge) -> None:
    """Why the adapter sends owner:branch: GitHub ignores a bare branch name."""
    import urllib.request

    fake.add_github_pull("octo/analysis", "someone-else")
    request = urllib.request.Request(
        f"{fake.github_api}/repos/octo/analysis/pulls?head={HEAD}",
        headers={"Authorization": f"Bearer {TOKEN}", "User-Agent": "test"},
    )
    with urllib.request.urlopen(request, timeout=5) as answer:
        assert len(json.loads(answer.read())) == 1
