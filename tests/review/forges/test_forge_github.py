"""The GitHub adapter against the fake GitHub REST API: open, update, paginate, reviewers."""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from fakeforge import TOKEN, FakeForge

from nbops.errors import ForgeError, UsageError
from nbops.review.forges.base import PullRequest
from nbops.review.forges.github import API_VERSION, GitHubForge
from nbops.review.forges.remote import parse_remote

HEAD = "review/churn-3f2a9c"


def submit(forge: GitHubForge, title: str = "Review: churn", body: str = "The notebook.",
           reviewers: Sequence[str] = ()) -> PullRequest:
    return forge.open_or_update(head=HEAD, base="main", title=title, body=body,
                                reviewers=reviewers)


@pytest.fixture(autouse=True)
def review_branch(fake: FakeForge) -> None:
    fake.github["octo/analysis"].branches.add(HEAD)  # what the push did


def test_a_first_submit_opens_a_pull_request(github: GitHubForge, fake: FakeForge) -> None:
    pr = github.open_or_update(head=HEAD, base="main", title="Review: churn", body="Body.")
    assert pr.created and pr.number == 1 and pr.state == "open" and pr.forge == "github"
    assert pr.url == "https://github.test/octo/analysis/pull/1"
    assert pr.warnings == ()
    (create,) = fake.calls("POST", "/pulls")
    assert create.body == {"title": "Review: churn", "head": HEAD, "base": "main",
                           "body": "Body."}
    assert create.path == "/github/repos/octo/analysis/pulls"


def test_requests_carry_the_documented_headers(github: GitHubForge, fake: FakeForge) -> None:
    submit(github)
    for call in fake.requests:
        assert call.headers["accept"] == "application/vnd.github+json"
        assert call.headers["x-github-api-version"] == API_VERSION == "2022-11-28"
        assert call.headers["authorization"] == f"Bearer {TOKEN}"
        assert call.headers["user-agent"].startswith("nbops/")
    (listing,) = fake.calls("GET")
    # the head filter is owner:branch: GitHub ignores a bare branch name
    assert listing.query == {"state": "open", "head": f"octo:{HEAD}", "per_page": "100"}


def test_resubmitting_updates_the_same_pull_request(github: GitHubForge, fake: FakeForge) -> None:
    first = submit(github, title="Review: churn", body="v1")
    again = github.open_or_update(head=HEAD, base="main", title="Review: churn (v2)",
                                  body="v2")
    assert again.number == first.number
    assert not again.created
    (pull,) = fake.github["octo/analysis"].pulls
    assert (pull["title"], pull["body"]) == ("Review: churn (v2)", "v2")
    assert len(fake.calls("POST", "/pulls")) == 1
    (patch,) = fake.calls("PATCH")
    assert patch.path == "/github/repos/octo/analysis/pulls/1"
    assert patch.body == {"title": "Review: churn (v2)", "body": "v2"}


def test_the_open_pull_request_is_found_on_page_3(github: GitHubForge, fake: FakeForge) -> None:
    # the same head is open into four other bases too; GitHub lists newest first and the
    # server forces 2 per page: the one into main is the 5th, on page 3
    mine = fake.add_github_pull("octo/analysis", HEAD, "main", title="mine")
    for base in ("b1", "b2", "b3", "b4"):
        fake.add_github_pull("octo/analysis", HEAD, base)
    pr = submit(github, title="updated")
    assert pr.number == mine["number"] and not pr.created
    assert [c.query.get("page", "1") for c in fake.calls("GET")] == ["1", "2", "3"]
    assert mine["title"] == "updated"
    assert not fake.calls("POST", "/pulls")


def test_closed_pull_requests_are_not_reused(github: GitHubForge, fake: FakeForge) -> None:
    old = fake.add_github_pull("octo/analysis", HEAD, state="closed")
    pr = submit(github)
    assert pr.created and pr.number != old["number"]


def test_when_github_says_it_already_exists_the_existing_one_is_updated(
    github: GitHubForge, fake: FakeForge
) -> None:
    existing = fake.add_github_pull("octo/analysis", HEAD)
    fake.hide_lists = 1  # the list misses it (opened a moment ago by another submit)
    pr = submit(github, title="Review: churn (again)")
    assert not pr.created and pr.number == existing["number"]
    assert existing["title"] == "Review: churn (again)"
    assert len(fake.github["octo/analysis"].pulls) == 1


def test_a_changed_base_retargets_the_open_pull_request(
    github: GitHubForge, fake: FakeForge
) -> None:
    submit(github)
    pr = github.open_or_update(head=HEAD, base="dev", title="t", body="b")
    assert not pr.created
    assert fake.github["octo/analysis"].pulls[0]["base"]["ref"] == "dev"
    assert fake.calls("PATCH")[0].body["base"] == "dev"


def test_reviewers_are_requested_users_and_teams(github: GitHubForge, fake: FakeForge) -> None:
    pr = submit(github, reviewers=["alice", "@bob", "octo/data-science"])
    assert pr.warnings == ()
    (request,) = fake.calls("POST", "/requested_reviewers")
    assert request.path == "/github/repos/octo/analysis/pulls/1/requested_reviewers"
    assert request.body == {"reviewers": ["alice", "bob"], "team_reviewers": ["data-science"]}
    pull = fake.github["octo/analysis"].pulls[0]
    assert [r["login"] for r in pull["requested_reviewers"]] == ["alice", "bob"]


def test_a_single_reviewer_string_is_one_name(github: GitHubForge, fake: FakeForge) -> None:
    submit(github, reviewers="alice")
    assert fake.calls("POST", "/requested_reviewers")[0].body == {"reviewers": ["alice"]}


def test_no_reviewers_no_request(github: GitHubForge, fake: FakeForge) -> None:
    submit(github, reviewers=[])
    assert not fake.calls("POST", "/requested_reviewers")


@pytest.mark.parametrize(
    ("reviewers", "says"),
    [(["mallory"], "may only be requested from collaborators"),
     (["nbops-bot"], "cannot be requested from pull request author")],
)
def test_a_reviewer_github_refuses_is_a_warning_not_a_failure(
    github: GitHubForge, fake: FakeForge, reviewers: list[str], says: str
) -> None:
    pr = submit(github, reviewers=reviewers)
    assert pr.created
    (warning,) = pr.warnings
    assert reviewers[0] in warning and says in warning
    assert TOKEN not in warning


def test_compare_url(github: GitHubForge) -> None:
    assert github.compare_url(HEAD, "main") == (
        "https://github.com/octo/analysis/compare/main...review/churn-3f2a9c?expand=1"
    )
    assert github.compare_url("review/a b#1", "release/1.0") == (
        "https://github.com/octo/analysis/compare/release/1.0...review/a%20b%231?expand=1"
    )


def test_api_urls_for_github_com_and_enterprise() -> None:
    com = GitHubForge(parse_remote("git@github.com:octo/analysis.git"), None)
    assert com.api_url == "https://api.github.com"
    ghe = GitHubForge(parse_remote("https://github.corp.example:8443/octo/analysis.git"), None)
    assert ghe.api_url == "https://github.corp.example:8443/api/v3"
    assert ghe.web_url == "https://github.corp.example:8443/octo/analysis"
    ssh443 = GitHubForge(parse_remote("ssh://git@ssh.github.com:443/octo/analysis.git"), None)
    assert ssh443.host == "github.com" and ssh443.api_url == "https://api.github.com"
    assert ssh443.web_url == "https://github.com/octo/analysis"
    custom = GitHubForge(parse_remote("git@github.com:octo/analysis.git"), None,
                         api_url="https://proxy.example/github/")
    assert custom.api_url == "https://proxy.example/github"


def test_a_github_remote_must_be_owner_slash_repo() -> None:
    with pytest.raises(UsageError, match="not an owner/repo path"):
        GitHubForge(parse_remote("https://github.com/octo/group/analysis.git"), None)


def test_a_renamed_repository_is_read_through_and_the_write_says_what_to_do(
    github: GitHubForge, fake: FakeForge
) -> None:
    fake.add_github_repo("octo/churn", branches=("main", HEAD))
    fake.moved["octo/analysis"] = f"{fake.github_api}/repos/octo/churn"
    fake.add_github_pull("octo/churn", HEAD)
    with pytest.raises(ForgeError, match="renamed or moved") as info:
        submit(github, title="renamed")
    # the list was followed to the new name, with the token (same host) ...
    redirected = fake.calls("GET", "/repos/octo/churn/pulls")
    assert redirected and redirected[0].headers["authorization"] == f"Bearer {TOKEN}"
    # ... but a write is never replayed elsewhere: the user fixes the remote
    assert "/repos/octo/churn/pulls/1" in str(info.value)
    assert "git remote set-url" in (info.value.hint or "")
    assert not fake.calls("PATCH", "/repos/octo/churn")
