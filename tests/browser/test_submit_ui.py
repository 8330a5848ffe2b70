"""Submit for review end to end: real JupyterLab, server extension and git, headless Chromium.

The lab's root holds ``team/``, a clone with the examples, and ``remote.git``, its bare origin
(a remote that is no forge: the branch is pushed, no pull request).

- ``churn_classifier.ipynb``: the toolbar's "Submit for review" -> the checklist is blocked
  (secrets, absolute paths, ...), grouped by category with badges; Submit is disabled and says
  why; a click on the failing ``secrets`` check closes the dialog and makes its cell the
  active one; what was typed is still there when the dialog opens again.
- ``wine_tidy.ipynb`` (wine with one cell unformatted and its parameters cell untagged):
  "Fix" on ``formatted`` (a click) and on ``parameters-cell`` (Enter) apply the safe fixes to
  the open notebook (one undo step each: undo brings the failure back, live) -> all green, but
  unsaved: "Save" -> Submit enabled. Nothing reached the disk before the save.
- ``wine_classifier.ipynb``: all pass -> title, description, reviewers -> a hook on the
  remote declines the push: the failure in plain words (reason ``declined``, the hook's
  message) -> without the hook, Submit again -> the progress, then the branch, the commit and
  "the branch is in origin"; ``git`` shows the branch in the bare remote with
  ``reviews/wine_classifier.md``.

Selectors: ``labextension/README.md`` ("Hooks for browser tests").
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import pytest
from reviewrepo import AUTHOR, CHURN, WINE, git, make_review_repo, remote_branches

from browser.pages import Page, debug, no_nbops_errors, save_until_clean
from nbops.review.submit import review_branch

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOT = ROOT / "docs" / "screenshots" / "submit-dialog.png"
T = 60_000  # ms: generous per-step timeout on a 2-core machine (the gate lints with ruff, black)

DIALOG = ".jp-Dialog .nbops-submit-review"
GO = ".jp-Dialog button.nbops-submit-go"
SUMMARY = DIALOG + " .nbops-submit-summary"
CHECK = DIALOG + " .nbops-submit-check[data-id='{}']"
TIDY = "wine_tidy.ipynb"


def _tidy_notebook(target: Path) -> None:
    """Wine with two failures that have safe fixes: an unformatted cell (FMT001) and a
    ``# parameters`` cell that is not tagged (NB303)."""
    nb = json.loads(WINE.read_text(encoding="utf-8"))
    params = nb["cells"][2]
    params["metadata"]["tags"] = []
    params["source"] = "# parameters\n" + "".join(params["source"])
    cell = nb["cells"][8]
    cell["source"] = "".join(cell["source"]).replace(
        "accuracy_score(y_test, predictions)", "accuracy_score( y_test,predictions )"
    )
    target.write_text(json.dumps(nb, indent=1) + "\n", encoding="utf-8")


@pytest.fixture(scope="module")
def team(lab: Any, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``team/`` in the lab's root: a clone with churn, wine and wine_tidy; ``remote.git``
    beside it is its bare origin."""
    extra = tmp_path_factory.mktemp("tidy") / TIDY
    _tidy_notebook(extra)
    return make_review_repo(
        lab.root_dir / "team", lab.root_dir / "remote.git", notebooks=(WINE, CHURN, extra)
    )


def _open(page: Any, lab: Any, notebook: str) -> None:
    # ?reset: a fresh workspace, not the tabs an earlier test left open
    page.goto(lab.url(f"lab/tree/{notebook}?reset"), timeout=T)
    page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=T)
    page.wait_for_selector(".nbops-submit-button", timeout=T)
    page.wait_for_function(
        "path => { const w = window.jupyterapp?.shell?.currentWidget;"
        " return !!(w && w.context && w.context.path === path && w.context.isReady"
        " && w.content.widgets.length > 1); }",
        arg=notebook,
        timeout=T,
    )
    # submit takes the saved file: start every test from a saved, clean notebook
    save_until_clean(page, timeout=T / 1000)


def _open_dialog(page: Any) -> None:
    # JupyterLab may still be settling the freshly opened notebook (a model change marks the
    # checklist stale and re-checks it): wait for a settled verdict, not the first one
    page.click(".nbops-submit-button")
    page.wait_for_selector(DIALOG, timeout=T)
    page.wait_for_selector(f"{SUMMARY}[data-passed]", timeout=T)
    page.wait_for_function(
        "sel => { const d = document.querySelector(sel); return !!d && d.dataset.state !== 'checking'; }",
        arg=DIALOG,
        timeout=T,
    )


def _checks(page: Any) -> dict[str, dict[str, Any]]:
    """The checklist as data: id -> status, badge, level, cell index, category, buttons."""
    rows: list[dict[str, Any]] = page.evaluate(
        """sel => [...document.querySelectorAll(sel)].map(r => ({
            id: r.dataset.id, status: r.dataset.status, badge: r.dataset.badge,
            level: r.dataset.level, cell: r.dataset.cellIndex,
            category: r.closest('.nbops-submit-group')?.dataset.category ?? null,
            fix: r.querySelector('.nbops-submit-fix')?.dataset.code ?? null,
            goto: !!r.querySelector('.nbops-submit-goto'),
            text: r.textContent,
        }))""",
        f"{DIALOG} .nbops-submit-check",
    )
    return {r["id"]: r for r in rows}


def _wait_badge(page: Any, check: str, badge: str) -> None:
    page.wait_for_selector(f"{CHECK.format(check)}[data-badge='{badge}']", timeout=T)


ACTIVE_CELL_JS = "() => window.jupyterapp.shell.currentWidget?.content?.activeCellIndex ?? null"


def test_a_blocked_notebook_shows_the_checklist_and_jumps_to_the_cell(
    lab: Any, team: Path, tab: Page, tmp_path: Path
) -> None:
    page = tab.page
    notebook = "team/churn_classifier.ipynb"
    try:
        _open(page, lab, notebook)
        page.evaluate(
            "() => { window.jupyterapp.shell.currentWidget.content.activeCellIndex = 0; }"
        )
        _open_dialog(page)
        assert page.get_attribute(SUMMARY, "data-passed") == "false"
        assert page.get_attribute(DIALOG, "data-state") == "blocked"
        assert page.input_value(f"{DIALOG} input.nbops-submit-title") == (
            "Review: Customer churn model"
        )
        checks = _checks(page)
        assert checks["secrets"]["badge"] == "fail" and checks["secrets"]["cell"] == "4"
        assert checks["secrets"]["category"] == "safety" and checks["secrets"]["goto"]
        assert checks["absolute-paths"]["badge"] == "fail"
        assert checks["title"]["badge"] == "pass" and checks["title"]["category"] == "documentation"
        assert checks["formatted"]["fix"] == "FMT001"  # a safe fix, offered
        assert checks["secrets"]["fix"] is None  # NB402's fix is unsafe: not offered
        assert checks["parameters-cell"]["fix"] is None  # no `# parameters` cell to tag
        assert "revoke" in checks["secrets"]["text"]  # the fix, in words
        blocking = int(page.get_attribute(SUMMARY, "data-blocking") or "0")
        assert blocking == sum(c["badge"] == "fail" for c in checks.values()) >= 5
        groups = page.eval_on_selector_all(
            f"{DIALOG} .nbops-submit-group", "gs => gs.map(g => g.dataset.category)"
        )
        assert groups == ["documentation", "quality", "safety", "reproducibility"]
        assert page.is_disabled(GO)
        assert "required checks fail" in page.inner_text(f"{DIALOG} .nbops-submit-blocked")
        # Enter in a field never submits; a typed title survives closing the dialog
        page.fill(f"{DIALOG} input.nbops-submit-title", "Review: churn, first look")
        page.press(f"{DIALOG} input.nbops-submit-title", "Enter")
        assert page.is_visible(DIALOG)

        # a click on the failing check: the dialog closes, its cell is the active one
        page.click(f"{CHECK.format('secrets')} .nbops-submit-check-message")
        page.wait_for_selector(DIALOG, state="detached", timeout=T)
        page.wait_for_function(f"() => ({ACTIVE_CELL_JS})() === 4", timeout=T)
        active = page.wait_for_selector(".jp-Notebook .jp-Cell.jp-mod-active", timeout=T)
        assert active.is_visible()

        _open_dialog(page)
        assert page.input_value(f"{DIALOG} input.nbops-submit-title") == "Review: churn, first look"
        page.click(f"{CHECK.format('absolute-paths')} .nbops-submit-goto")  # the keyboard's way
        page.wait_for_selector(DIALOG, state="detached", timeout=T)
        page.wait_for_function(f"() => ({ACTIVE_CELL_JS})() === 2", timeout=T)
        assert remote_branches(lab.root_dir / "remote.git") == {"main"}
    except Exception:
        debug(tab, lab, tmp_path, "failure-blocked")
        raise
    no_nbops_errors(tab)


def test_fix_applies_the_safe_fixes_and_the_checklist_turns_green(
    lab: Any, team: Path, tab: Page, tmp_path: Path
) -> None:
    page = tab.page
    notebook = f"team/{TIDY}"
    try:
        _open(page, lab, notebook)
        on_disk = (team / TIDY).read_bytes()  # as saved when opened (JupyterLab's layout)
        _open_dialog(page)
        checks = _checks(page)
        failing = {k for k, c in checks.items() if c["badge"] == "fail"}
        assert failing == {"formatted", "parameters-cell"}, checks
        assert checks["formatted"]["fix"] == "FMT001" and checks["formatted"]["cell"] == "8"
        assert checks["parameters-cell"]["fix"] == "NB303"
        assert page.is_disabled(GO)

        page.click(f"{CHECK.format('formatted')} .nbops-submit-fix")
        _wait_badge(page, "formatted", "pass")
        note = page.inner_text(f"{DIALOG} .nbops-submit-note")
        assert "FMT001" in note and "Undo" in note
        # the keyboard's way: Enter on the Fix button (the dialog would otherwise swallow it)
        page.focus(f"{CHECK.format('parameters-cell')} .nbops-submit-fix")
        page.keyboard.press("Enter")
        _wait_badge(page, "parameters-cell", "pass")
        page.wait_for_selector(f"{SUMMARY}[data-passed='true']", timeout=T)
        tags = page.evaluate(
            "() => window.jupyterapp.shell.currentWidget.content.model.sharedModel"
            ".cells[2].getMetadata('tags')"
        )
        assert tags == ["parameters"]

        # one undo step takes the last fix back, and the checklist follows (live)
        page.evaluate(
            "() => window.jupyterapp.shell.currentWidget.content.model.sharedModel.undo()"
        )
        _wait_badge(page, "parameters-cell", "fail")
        page.evaluate(
            "() => window.jupyterapp.shell.currentWidget.content.model.sharedModel.redo()"
        )
        _wait_badge(page, "parameters-cell", "pass")
        page.wait_for_selector(f"{SUMMARY}[data-passed='true']", timeout=T)

        # green but unsaved: a submit takes the saved file
        assert (team / TIDY).read_bytes() == on_disk, "a fix must not reach the disk by itself"
        assert page.get_attribute(DIALOG, "data-state") == "unsaved"
        assert page.is_visible(f"{DIALOG} .nbops-submit-unsaved")
        assert page.is_disabled(GO)
        page.click(f"{DIALOG} button.nbops-submit-save")
        page.wait_for_selector(f"{DIALOG}[data-state='ready']", timeout=T)
        assert page.is_enabled(GO)
        saved = json.loads((team / TIDY).read_text(encoding="utf-8"))
        assert saved["cells"][2]["metadata"]["tags"] == ["parameters"]
        assert "accuracy_score(y_test, predictions)" in "".join(saved["cells"][8]["source"])
        page.click(".jp-Dialog .jp-Dialog-footer button.jp-mod-reject")
        page.wait_for_selector(DIALOG, state="detached", timeout=T)
    except Exception:
        debug(tab, lab, tmp_path, "failure-fix")
        raise
    no_nbops_errors(tab)


def test_submit_pushes_the_review_branch_to_the_remote(
    lab: Any, team: Path, tab: Page, tmp_path: Path
) -> None:
    page = tab.page
    notebook = "team/wine_classifier.ipynb"
    remote = lab.root_dir / "remote.git"
    branch = review_branch("wine_classifier.ipynb", AUTHOR[1])
    hook = remote / "hooks" / "pre-receive"
    try:
        _open(page, lab, notebook)
        _open_dialog(page)
        assert page.get_attribute(SUMMARY, "data-passed") == "true"
        assert all(c["badge"] == "pass" for c in _checks(page).values())
        page.wait_for_selector(f"{DIALOG}[data-state='ready']", timeout=T)
        assert page.is_enabled(GO)
        assert page.input_value(f"{DIALOG} input.nbops-submit-title") == (
            "Review: Wine cultivar classifier"
        )
        page.fill(f"{DIALOG} input.nbops-submit-title", "Review: wine cultivars, first model")
        page.fill(
            f"{DIALOG} textarea.nbops-submit-message",
            "First version for review.\nThe split is stratified.",
        )
        page.fill(f"{DIALOG} input.nbops-submit-reviewers", "alice, @bob")
        assert page.is_enabled(GO)  # typing keeps Submit as the checklist says

        # the README's screenshot: the dialog, all green, ready to submit
        page.evaluate("() => document.activeElement && document.activeElement.blur()")
        shot = tmp_path / "submit-dialog.png"
        page.screenshot(path=str(shot))
        if os.environ.get("NBOPS_UPDATE_SCREENSHOTS") or not SCREENSHOT.exists():
            SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(shot, SCREENSHOT)

        # a hook on the remote refuses the push: the reason, in plain words
        hook.write_text("#!/bin/sh\necho 'review branches need a ticket number' >&2\nexit 1\n")
        hook.chmod(0o755)
        page.click(GO)
        failed = page.wait_for_selector(
            f"{DIALOG} .nbops-submit-result[data-outcome='failed']", timeout=T
        )
        assert failed.get_attribute("data-reason") == "declined"
        assert failed.get_attribute("data-status") == "502"
        text = failed.inner_text()
        assert "The remote refused the push." in text and "ticket number" in text, text
        assert branch not in remote_branches(remote)
        assert page.is_enabled(GO)  # try again

        hook.unlink()
        # the user's checkout as it is before the submit (JupyterLab's own save may have
        # changed the notebook: the kernelspec or language_info of this machine's kernel)
        before = (git(team, "status", "--porcelain"), (team / "wine_classifier.ipynb").read_bytes())
        page.click(GO)
        progress = page.wait_for_selector(f"{DIALOG} .nbops-submit-progress", timeout=T)
        assert "pushing to origin" in progress.inner_text()
        assert progress.get_attribute("aria-live") == "polite"
        done = page.wait_for_selector(
            f"{DIALOG} .nbops-submit-result[data-outcome='success']", timeout=T
        )
        assert page.get_attribute(DIALOG, "data-state") == "submitted"
        assert page.inner_text(f"{DIALOG} .nbops-submit-branch") == branch
        assert "pushed to origin" in page.inner_text(f"{DIALOG} .nbops-submit-remote")
        assert "The branch is in origin" in page.inner_text(f"{DIALOG} .nbops-submit-branch-only")
        commit = page.get_attribute(f"{DIALOG} .nbops-submit-commit", "title")
        assert page.is_hidden(GO)
        assert page.inner_text(".jp-Dialog-footer button.jp-mod-reject") == "Done"
        assert done.get_attribute("role") == "status"
        done.scroll_into_view_if_needed()
        page.screenshot(path=str(tmp_path / "submitted.png"))

        # the branch arrived in the real (bare) remote, with the review report
        assert branch in remote_branches(remote)
        assert git(remote, "rev-parse", branch) == commit
        assert (
            git(remote, "log", "-1", "--format=%s", branch) == "Review: wine cultivars, first model"
        )
        report = git(remote, "show", f"{branch}:reviews/wine_classifier.md")
        assert "First version for review." in report and "## Review gate: passed" in report
        names = set(git(remote, "diff", "--name-only", "main", branch).split())
        assert names == {"wine_classifier.ipynb", "reviews/wine_classifier.md"}
        # the submit left the user's checkout as it was, byte for byte
        after = (git(team, "status", "--porcelain"), (team / "wine_classifier.ipynb").read_bytes())
        assert after == before

        page.click(".jp-Dialog .jp-Dialog-footer button.jp-mod-reject")
        page.wait_for_selector(DIALOG, state="detached", timeout=T)
    except Exception:
        debug(tab, lab, tmp_path, "failure-submit")
        raise
    finally:
        hook.unlink(missing_ok=True)
    no_nbops_errors(tab, expected="502")
