"""The GitLab adapter against the fake GitLab v4 API: open, update, paginate, reviewers."""

from __future__ import annotations

import pytest
from fakeforge import TOKEN, FakeForge

from nbops.review.forges.base import PullRequest
from nbops.review.forges.gitlab import GitLabForge
from nbops.review.forges.remote import parse_remote

HEAD = "review/churn-3f2a9c"
PROJECT = "data/team/analysis"
MR_PATH = "/gitlab/api/v4/projects/data%2Fteam%2Fanalysis/merge_requests"


def submit(forge: GitLabForge, title: str = "Review: churn", body: str = "The notebook.",
           reviewers: tuple[str, ...] = (), base: str = "main") -> PullRequest:
    return forge.open_or_update(head=HEAD, base=base, title=title, body=body,
                                reviewers=reviewers)


@pytest.fixture(autouse=True)
def review_branch(fake: FakeForge) -> None:
    fake.gitlab[PROJECT].branches.add(HEAD)  # what the push did


def test_a_first_submit_opens_a_merge_request(gitlab: GitLabForge, fake: FakeForge) -> None:
    pr = submit(gitlab, body="Body.")
    assert pr.created and pr.number == 1 and pr.state == "open" and pr.forge == "gitlab"
    assert pr.url == "https://gitlab.test/data/team/analysis/-/merge_requests/1"
    (create,) = fake.calls("POST")
    assert create.path == MR_PATH  # the project id is the URL-encoded path
    assert create.body == {"source_branch": HEAD, "target_branch": "main",
                           "title": "Review: churn", "description": "Body."}
    for call in fake.requests:
        assert call.headers["private-token"] == TOKEN
        assert "authorization" not in call.headers


def test_resubmitting_updates_the_same_merge_request(gitlab: GitLabForge, fake: FakeForge) -> None:
    first = submit(gitlab, body="v1")
    again = submit(gitlab, title="Review: churn (v2)", body="v2")
    assert again.number == first.number and not again.created
    (request,) = fake.gitlab[PROJECT].merge_requests
    assert (request["title"], request["description"]) == ("Review: churn (v2)", "v2")
    assert len(fake.calls("POST")) == 1
    (put,) = fake.calls("PUT")
    assert put.path == f"{MR_PATH}/1"
    assert put.body == {"title": "Review: churn (v2)", "description": "v2"}
    listing = fake.calls("GET", "/merge_requests")[0]
    assert listing.query == {"state": "opened", "source_branch": HEAD, "per_page": "100"}


def test_the_open_merge_request_is_found_on_page_3(gitlab: GitLabForge, fake: FakeForge) -> None:
    mine = fake.add_gitlab_mr(PROJECT, HEAD, "main", title="mine")
    for target in ("b1", "b2", "b3", "b4"):
        fake.add_gitlab_mr(PROJECT, HEAD, target)
    pr = submit(gitlab, title="updated")
    assert pr.number == mine["iid"] and not pr.created
    assert [c.query.get("page", "1") for c in fake.calls("GET", "/merge_requests")] == [
        "1", "2", "3"]
    assert mine["title"] == "updated"


def test_pagination_follows_x_next_page_without_a_link_header(
    gitlab: GitLabForge, fake: FakeForge, monkeypatch: pytest.MonkeyPatch
) -> None:
    # x-next-page alone is enough (a proxy in between may drop the Link header)
    original = fake._page

    def without_link(*args: object, **kwargs: object) -> object:
        chunk, _, page, pages = original(*args, **kwargs)  # type: ignore[arg-type]
        return chunk, {}, page, pages

    monkeypatch.setattr(fake, "_page", without_link)
    mine = fake.add_gitlab_mr(PROJECT, HEAD, "main")
    for target in ("b1", "b2", "b3", "b4"):
        fake.add_gitlab_mr(PROJECT, HEAD, target)
    assert submit(gitlab).number == mine["iid"]
    assert len(fake.calls("GET", "/merge_requests")) == 3


def test_closed_merged_and_fork_merge_requests_are_not_reused(
    gitlab: GitLabForge, fake: FakeForge
) -> None:
    fake.add_gitlab_mr(PROJECT, HEAD, state="closed")
    fake.add_gitlab_mr(PROJECT, HEAD, state="merged")
    fork = fake.add_gitlab_mr(PROJECT, HEAD, source_project_id=999)
    fork["target_branch"] = "dev"  # not a duplicate of ours for the server
    pr = submit(gitlab)
    assert pr.created and pr.number == 4


def test_when_gitlab_answers_409_the_existing_one_is_updated(
    gitlab: GitLabForge, fake: FakeForge
) -> None:
    existing = fake.add_gitlab_mr(PROJECT, HEAD)
    fake.hide_lists = 1  # the list misses it (opened a moment ago by another submit)
    pr = submit(gitlab, title="again")
    assert not pr.created and pr.number == existing["iid"]
    assert existing["title"] == "again"
    assert len(fake.gitlab[PROJECT].merge_requests) == 1


def test_a_changed_target_branch_retargets_the_open_merge_request(
    gitlab: GitLabForge, fake: FakeForge
) -> None:
    submit(gitlab)
    pr = submit(gitlab, base="dev")
    assert not pr.created
    assert fake.gitlab[PROJECT].merge_requests[0]["target_branch"] == "dev"


def test_reviewer_usernames_are_mapped_to_ids(gitlab: GitLabForge, fake: FakeForge) -> None:
    pr = submit(gitlab, reviewers=("alice", "@bob"))
    assert pr.warnings == ()
    lookups = [c.query for c in fake.calls("GET", "/users")]
    assert lookups == [{"username": "alice"}, {"username": "bob"}]
    (create,) = fake.calls("POST")
    ids = [fake.gitlab_users["alice"], fake.gitlab_users["bob"]]
    assert create.body["reviewer_ids"] == ids
    people = fake.gitlab[PROJECT].merge_requests[0]["reviewers"]
    assert [p["username"] for p in people] == ["alice", "bob"]


def test_an_update_keeps_reviewers_added_by_hand(gitlab: GitLabForge, fake: FakeForge) -> None:
    carol = fake.add_gitlab_user("carol")
    submit(gitlab)
    fake.gitlab[PROJECT].merge_requests[0]["reviewers"] = fake._gitlab_people([carol])
    submit(gitlab, reviewers=("alice",))
    (put,) = fake.calls("PUT")
    assert put.body["reviewer_ids"] == [carol, fake.gitlab_users["alice"]]


def test_an_unknown_reviewer_is_a_warning(gitlab: GitLabForge, fake: FakeForge) -> None:
    pr = submit(gitlab, reviewers=("alice", "nobody"))
    assert pr.created
    assert pr.warnings == ("no GitLab user named 'nobody': not added as a reviewer",)
    assert fake.calls("POST")[0].body["reviewer_ids"] == [fake.gitlab_users["alice"]]


def test_reviewers_gitlab_did_not_keep_are_a_warning(gitlab: GitLabForge, fake: FakeForge) -> None:
    fake.single_reviewer = True  # GitLab Free: one reviewer per merge request
    pr = submit(gitlab, reviewers=("alice", "bob"))
    (warning,) = pr.warnings
    assert "did not add bob" in warning and "Premium" in warning


def test_compare_url(gitlab: GitLabForge) -> None:
    assert gitlab.compare_url(HEAD, "main") == (
        "https://gitlab.example.com/data/team/analysis/-/merge_requests/new?"
        "merge_request%5Bsource_branch%5D=review%2Fchurn-3f2a9c"
        "&merge_request%5Btarget_branch%5D=main"
    )


def test_api_urls_for_gitlab_com_and_self_managed() -> None:
    com = GitLabForge(parse_remote("git@gitlab.com:data/team/analysis.git"), None)
    assert com.api_url == "https://gitlab.com/api/v4"
    assert com.project_id == "data%2Fteam%2Fanalysis"
    managed = GitLabForge(parse_remote("https://gitlab.corp.example:8443/data/analysis.git"),
                          None)
    assert managed.api_url == "https://gitlab.corp.example:8443/api/v4"
    ssh = GitLabForge(parse_remote("ssh://git@gitlab.corp.example:2222/data/analysis.git"), None)
    assert ssh.api_url == "https://gitlab.corp.example/api/v4"
    alt = GitLabForge(parse_remote("ssh://git@altssh.gitlab.com:443/data/analysis.git"), None)
    assert alt.host == "gitlab.com" and alt.api_url == "https://gitlab.com/api/v4"
