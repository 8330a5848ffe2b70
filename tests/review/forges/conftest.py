"""Fixtures of the forge adapter tests: the fake GitHub/GitLab server and forges wired to it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fakeforge import TOKEN, FakeForge

from nbops.review.forges.github import GitHubForge
from nbops.review.forges.gitlab import GitLabForge
from nbops.review.forges.remote import parse_remote

_PROXIES = ("http_proxy", "https_proxy", "all_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY")


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeForge]:
    """A running fake forge with one GitHub repository and one GitLab project."""
    for name in _PROXIES:  # requests go straight to localhost
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    server = FakeForge()
    server.add_github_repo(
        "octo/analysis", branches=("main", "dev"), collaborators=("alice", "bob"),
        teams=("data-science",),
    )
    server.add_gitlab_project("data/team/analysis", branches=("main", "dev"))
    server.add_gitlab_user("alice")
    server.add_gitlab_user("bob")
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def github(fake: FakeForge) -> GitHubForge:
    remote = parse_remote("git@github.com:octo/analysis.git")
    return GitHubForge(remote, TOKEN, api_url=fake.github_api, timeout=5,
                       token_source="GITHUB_TOKEN")


@pytest.fixture
def gitlab(fake: FakeForge) -> GitLabForge:
    remote = parse_remote("https://gitlab.example.com/data/team/analysis.git")
    return GitLabForge(remote, TOKEN, api_url=fake.gitlab_api, timeout=5,
                       token_source="GITLAB_TOKEN")
