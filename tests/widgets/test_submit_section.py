"""The panel's "Submit for review" section, driven through its widget objects (no browser),
against real git repositories with a bare remote: the checklist, Submit enabled only when the
gate passes, the branch in the remote, and failures in plain words."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from reviewrepo import AUTHOR, git, make_review_repo, no_forge_tokens, remote_branches, snapshot

from nbops.review.submit import review_branch
from nbops.widgets import panel
from nbops.widgets.submit import render_checklist, split_reviewers


@pytest.fixture(autouse=True)
def _close_widgets() -> Iterator[None]:
    """Close every widget a test made: left open, their comms fail noisily at exit."""
    yield
    from ipywidgets import Widget

    Widget.close_all()


@pytest.fixture
def team(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A clone with the wine and churn examples; ``remote.git`` beside it is its bare origin."""
    no_forge_tokens(monkeypatch)
    return make_review_repo(tmp_path / "team", tmp_path / "remote.git")


def test_the_section_checks_nothing_until_asked(team: Path) -> None:
    p = panel(team / "wine_classifier.ipynb")
    section = p.submit
    assert p.sections[-1] is section and section.title == "Submit for review"
    assert section.gate is None and section.summary == "not checked yet"
    assert section.submit_button.disabled is True
    assert "save the notebook, then Check" in section.checklist_html.value


def test_a_blocked_notebook_shows_the_checklist_and_cannot_be_submitted(team: Path) -> None:
    before = snapshot(team)
    section = panel(team / "churn_classifier.ipynb").submit
    section.check_button.click()
    assert section.gate is not None and section.gate.passed is False
    assert section.submit_button.disabled is True
    assert section.summary.startswith("blocked: ") and "secrets" in section.summary
    html = section.checklist_html.value
    assert "required checks fail" in html
    for heading in ("Documentation", "Quality", "Safety", "Reproducibility"):
        assert f">{heading}</td>" in html
    # the secrets check: its badge, cell, message and fix
    row = html[html.index("No secrets in code or outputs") :]
    row = row[: row.index("</tr>")]
    assert "cell 5" in row and "secret(s) found" in row and "revoke" in row
    assert ">fail</span>" in html and ">pass</span>" in html
    # a click that gets through anyway (a stale front end): the gate blocks it, in words
    section.submit_button.click()
    assert section.result is None and "review gate blocks" in section.result_html.value
    assert "secrets" in (section.error or "") and section.submit_button.disabled is True
    assert remote_branches(team.parent / "remote.git") == {"main"}
    assert snapshot(team) == before


def test_a_passing_notebook_is_submitted_and_the_branch_arrives(team: Path) -> None:
    before = snapshot(team)
    section = panel(team / "wine_classifier.ipynb").submit
    section.check_button.click()
    assert section.gate.passed and section.summary == "passed"
    assert section.submit_button.disabled is False
    assert "Every required check passes" in section.checklist_html.value
    section.title_text.value = "Review: wine, first model"
    section.message_text.value = "First version <b>for</b> review."
    section.reviewers_text.value = "alice, @bob"
    section.submit_button.click()
    assert section.error is None, section.result_html.value
    result = section.result
    branch = review_branch("wine_classifier.ipynb", AUTHOR[1])
    assert result.branch == branch and result.pushed and result.committed
    remote = team.parent / "remote.git"
    assert remote_branches(remote) == {"main", branch}
    assert git(remote, "log", "-1", "--format=%s", branch) == "Review: wine, first model"
    report = git(remote, "show", f"{branch}:reviews/wine_classifier.md")
    assert "First version <b>for</b> review." in report
    shown = section.result_html.value
    assert "Submitted for review" in shown and branch in shown and "pushed to origin" in shown
    assert "the branch is in origin" in shown and (result.commit or "")[:10] in shown
    assert section.summary == f"submitted: {branch}"
    assert snapshot(team) == before  # the user's checkout, byte for byte
    # the panel's refresh checks again once the section was checked
    section.gate = None
    section.check_button.click()
    assert section.gate.passed and section.submit_button.disabled is False


def test_a_declined_push_is_told_in_plain_words_and_can_be_retried(team: Path) -> None:
    hook = team.parent / "remote.git" / "hooks" / "pre-receive"
    hook.write_text("#!/bin/sh\necho 'review branches need a ticket number' >&2\nexit 1\n")
    hook.chmod(0o755)
    section = panel(team / "wine_classifier.ipynb").submit
    section.check_button.click()
    section.submit_button.click()
    assert section.result is None and section.reason == "declined"
    shown = section.result_html.value
    assert "The remote refused the push." in shown and "ticket number" in shown
    assert "local branch is kept" in shown  # the hint
    assert section.submit_button.disabled is False  # retry
    hook.unlink()
    section.submit_button.click()
    assert section.error is None and section.result.pushed
    assert "Submitted for review" in section.result_html.value


def test_without_a_remote_or_outside_a_repository_the_error_is_shown(
    team: Path, tmp_path: Path
) -> None:
    git(team, "remote", "remove", "origin")
    section = panel(team / "wine_classifier.ipynb").submit
    section.check_button.click()
    section.submit_button.click()
    assert "no git remote named &#x27;origin&#x27;" in section.result_html.value  # escaped
    assert section.error is not None and "no git remote named 'origin'" in section.error
    assert "git remote add origin" in section.result_html.value
    assert section.summary.startswith("error: ")
    loose = tmp_path / "loose"
    loose.mkdir()
    (loose / "pyproject.toml").write_text((team / "pyproject.toml").read_text())
    (loose / "wine.ipynb").write_bytes((team / "wine_classifier.ipynb").read_bytes())
    other = panel(loose / "wine.ipynb").submit
    other.check_button.click()
    other.submit_button.click()
    assert "not in a git repository" in other.result_html.value


def test_a_forge_remote_without_a_token_gives_the_compare_link(team: Path) -> None:
    bare = str(team.parent / "remote.git")
    git(team, "remote", "set-url", "origin", "https://github.com/octo/wine.git")
    git(team, "config", f"url.{bare}.insteadOf", "https://github.com/octo/wine.git")
    section = panel(team / "wine_classifier.ipynb").submit
    section.check_button.click()
    section.submit_button.click()
    assert section.error is None, section.result_html.value
    branch = review_branch("wine_classifier.ipynb", AUTHOR[1])
    url = f"https://github.com/octo/wine/compare/main...{branch}?expand=1"
    shown = section.result_html.value
    assert f'href="{url}"' in shown and "open the pull request" in shown
    assert "no github token" in shown
    assert branch in remote_branches(team.parent / "remote.git")


def test_an_unreadable_notebook_is_an_error_in_the_section(team: Path) -> None:
    broken = team / "broken.ipynb"
    broken.write_text("{not json", encoding="utf-8")
    section = panel(broken).submit
    section.check_button.click()
    assert section.gate is None and section.error
    assert "could not run" in section.result_html.value
    assert section.submit_button.disabled is True and section.check_button.disabled is False


def test_text_is_escaped_and_reviewers_are_split(team: Path) -> None:
    nb = team / "wine_classifier.ipynb"
    content = json.loads(nb.read_text())
    content["cells"][0]["source"] = "<script>alert(1)</script> no title here\n"
    nb.write_text(json.dumps(content))
    section = panel(nb).submit
    section.check_button.click()
    html = render_checklist(section.gate)
    assert "<script>" not in html and section.checklist_html.value == html
    assert split_reviewers(" alice, @bob,,bob\norg/team ") == ["alice", "bob", "org/team"]


def test_a_secret_in_the_form_is_refused_in_plain_words(team: Path) -> None:
    key = "sk_live_" + "4eC39HqLyjWDarjtT1zdp7dc"
    remote = team.parent / "remote.git"
    refs, before = git(remote, "for-each-ref"), snapshot(team)
    section = panel(team / "wine_classifier.ipynb").submit
    section.check_button.click()
    assert section.gate.passed
    for field, text in (("title_text", f"Review {key}"), ("message_text", f"key: {key}"),
                        ("reviewers_text", f"alice, {key}")):
        for name in ("title_text", "message_text", "reviewers_text"):
            getattr(section, name).value = text if name == field else ""
        section.submit_button.click()
        html = section.result_html.value
        assert section.result is None and "A secret would be published" in html, html
        assert "holds a secret (Stripe live key &#x27;sk_l…&#x27; (32 chars))" in html
        assert key not in html and key not in (section.error or "")
    assert git(remote, "for-each-ref") == refs and snapshot(team) == before
