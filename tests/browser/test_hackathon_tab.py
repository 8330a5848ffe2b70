"""The Hackathon tab end to end: real JupyterLab, server extension, git and scoring, headless
Chromium.

The lab's root holds ``toy-hackathon/``, an exercise made by ``nbops hackathon new``
(``tests/hackathonrepo.py``) whose checkout is on ``team/alpha`` with the team's work
committed. One test drives the flow (the steps share the exercise's saved scorecard):

- a notebook outside the exercise: no Hackathon tab;
- the team's notebook: the Hackathon tab appears, with the team's name and "not scored yet"
  (and "Save now" when the notebook has unsaved changes: scoring reads the saved files);
- "Score now" -> the scoring's progress -> "Stop": the job shows as stopped, no scorecard,
  "Score now" is enabled again;
- "Score now" -> the scoring's progress (aria-live status, a progress bar, the button
  disabled) -> the scorecard: the total out of 100, 7 components, the suggestion;
- the page is reloaded -> the scorecard is still shown (the server saved it);
- "Submit for review" opens the Submit for review dialog for the notebook.

Selectors: ``labextension/README.md`` ("Hooks for browser tests").
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import pytest
from hackathonrepo import NOTEBOOK, WORK, make_exercise

from browser.pages import Page, debug, no_nbops_errors

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOT = ROOT / "docs" / "screenshots" / "hackathon-tab.png"
T = 30_000  # ms: generous per-step timeout on a 2-core machine
SCORE_T = 180_000  # ms: scoring runs lint, the review gate and `nbops run` of the notebook

EXERCISE = "toy-hackathon"
TEAM_NB = f"{EXERCISE}/{NOTEBOOK}"
OTHER_NB = "wine_classifier.ipynb"  # an example in the lab's root, in no exercise

TAB = ".nbops-tab[data-tab='hackathon']"
PANEL = ".nbops-panel:not(.lm-mod-hidden) .nbops-hackathon-panel:not(.lm-mod-hidden)"
CARD = PANEL + " .nbops-hack-card"
SCORE = PANEL + " button.nbops-hack-score"
SUBMIT = PANEL + " button.nbops-hack-submit"
STOP = PANEL + " .nbops-hack-job[data-state='running'] button.nbops-hack-stop"
DIALOG = ".jp-Dialog .nbops-submit-review"


@pytest.fixture(scope="module")
def exercise(lab: Any) -> Path:
    """``toy-hackathon/`` in the lab's root, on ``team/alpha`` with the team's work."""
    return make_exercise(lab.root_dir / EXERCISE, work=WORK)


def _open(page: Any, lab: Any, notebook: str) -> None:
    # ?reset: a fresh workspace, not the tabs an earlier test left open
    page.goto(lab.url(f"lab/tree/{notebook}?reset"), timeout=60_000)
    page.wait_for_selector(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Cell", timeout=60_000)
    page.wait_for_function(
        "path => { const w = window.jupyterapp?.shell?.currentWidget;"
        " return !!(w && w.context && w.context.path === path && w.context.isReady"
        " && w.content.widgets.length > 1); }",
        arg=notebook,
        timeout=60_000,
    )


def _asked(page: Any, notebook: str) -> None:
    """Wait until the front end has had the server's answer about ``notebook``'s exercise."""
    page.wait_for_function(
        """path => performance.getEntriesByType('resource').some(e =>
            e.name.includes('/nbops/hackathon?') && e.name.includes(encodeURIComponent(path)))""",
        arg=notebook,
        timeout=T,
    )
    page.wait_for_timeout(300)  # the answer is rendered right after it arrives


def _open_sidebar(page: Any) -> None:
    page.evaluate("() => window.jupyterapp.shell.activateById('nbops-panel')")
    page.wait_for_selector(".nbops-panel:not(.lm-mod-hidden) .nbops-tabs", timeout=T)


def _card(page: Any) -> dict[str, Any]:
    """The scorecard shown, as data."""
    result: dict[str, Any] = page.evaluate(
        """sel => {
            const card = document.querySelector(sel);
            return {
                team: card.dataset.team,
                total: Number(card.dataset.total),
                scored_at: card.querySelector('.nbops-hack-scored-at')?.dataset.scoredAt ?? null,
                shown_total: card.querySelector('.nbops-hack-total')?.textContent ?? '',
                suggestion: card.querySelector('.nbops-hack-suggestion')?.textContent ?? null,
                meter: card.querySelector('.nbops-hack-total-meter')?.getAttribute('role') ?? null,
                components: [...card.querySelectorAll('.nbops-hack-component')].map(c => ({
                    id: c.dataset.id,
                    status: c.dataset.status,
                    points: Number(c.dataset.points),
                    title: c.querySelector('.nbops-hack-component-title')?.textContent ?? '',
                    text: (c.querySelector('.nbops-hack-component-text')
                        ?? c.querySelector('.nbops-hack-component-reason'))?.textContent ?? '',
                    meter: c.querySelector('[role=meter]')?.getAttribute('aria-valuenow') ?? null,
                })),
            };
        }""",
        CARD,
    )
    return result


def _save_if_unsaved(page: Any) -> None:
    if page.is_visible(PANEL + " .nbops-hack-unsaved"):
        page.click(PANEL + " .nbops-hack-save")
        page.wait_for_selector(PANEL + " .nbops-hack-unsaved", state="hidden", timeout=T)


def _points(value: float) -> str:
    """Points as the tab shows them: whole numbers as they are, else one decimal."""
    return str(int(value)) if value == int(value) else f"{value:.1f}"


def test_hackathon_tab_score_stop_reload_submit(
    lab: Any, exercise: Path, tab: Page, tmp_path: Path
) -> None:
    page = tab.page
    try:
        # -- a notebook in no exercise: no Hackathon tab
        _open(page, lab, OTHER_NB)
        _open_sidebar(page)
        _asked(page, OTHER_NB)
        assert page.is_hidden(TAB)

        # -- the team's notebook: the tab, the team, "not scored yet"
        _open(page, lab, TEAM_NB)
        _open_sidebar(page)
        page.wait_for_selector(TAB, state="visible", timeout=T)
        assert page.get_attribute(TAB, "role") == "tab"
        page.click(TAB)
        assert page.get_attribute(TAB, "aria-selected") == "true"
        page.wait_for_selector(PANEL + " .nbops-hack-team[data-team='alpha']", timeout=T)
        assert page.inner_text(PANEL + " .nbops-hack-team-name") == "alpha"
        assert "Toy hackathon" in page.inner_text(PANEL + " .nbops-hack-notebook")
        empty = page.wait_for_selector(PANEL + " .nbops-hack-empty", timeout=T)
        assert "Not scored yet" in empty.inner_text()
        assert page.is_enabled(SCORE) and page.is_enabled(SUBMIT)
        assert page.get_attribute(PANEL + " .nbops-hack-status", "aria-live") == "polite"
        label = page.evaluate("() => window.jupyterapp.commands.label('nbops:score-hackathon')")
        assert label == "Score My Hackathon Work (nbops)"

        # "Save now": the kernel's language_info may have marked the notebook changed, and
        # scoring reads the saved files
        _save_if_unsaved(page)

        # -- Score now, then Stop: the job shows as stopped, no card, Score now again
        page.click(SCORE)
        page.wait_for_selector(STOP, timeout=T)
        assert page.is_disabled(SCORE) and page.is_enabled(STOP)
        page.click(STOP)
        stopped = page.wait_for_selector(PANEL + " .nbops-hack-job[data-state='cancelled']",
                                         timeout=T)  # fmt: skip
        assert "Scoring stopped" in stopped.inner_text()
        assert "stopped by the user" in stopped.inner_text()
        assert page.inner_text(PANEL + " .nbops-hack-status") == "Scoring stopped."
        assert page.is_enabled(SCORE) and page.inner_text(SCORE) == "Score now"
        assert page.query_selector(PANEL + " button.nbops-hack-stop") is None
        assert page.is_visible(PANEL + " .nbops-hack-empty")  # no scorecard
        assert page.query_selector(PANEL + " .nbops-hack-stop-error") is None
        assert not (exercise / ".nbops" / "hackathon" / "status" / "alpha.json").exists()
        assert not page.is_visible(TAB + " .nbops-tab-badge")

        # -- Score now: progress, then the scorecard
        page.click(SCORE)
        # what the panel shows while the scoring runs, read in one go from the page (a loaded
        # machine may take longer between two reads than the toy scoring takes to finish)
        seen = page.wait_for_function(
            """([panel, tab]) => {
                const box = document.querySelector(panel);
                const job = box && box.querySelector(".nbops-hack-job[data-state='running']");
                if (!job) return null;
                const bar = job.querySelector("[role=progressbar]");
                const badge = document.querySelector(tab + " .nbops-tab-badge");
                return {
                    disabled: box.querySelector("button.nbops-hack-score").disabled,
                    label: bar ? bar.getAttribute("aria-label") : null,
                    status: box.querySelector(".nbops-hack-status").innerText,
                    badge: badge !== null && badge.offsetParent !== null,
                };
            }""",
            arg=[PANEL, TAB],
            timeout=T,
        ).json_value()
        assert seen["disabled"] and seen["label"] == "Scoring team alpha", seen
        assert "Scoring team alpha" in seen["status"] and seen["badge"], seen
        page.wait_for_selector(CARD + "[data-team='alpha']", timeout=SCORE_T)
        page.wait_for_selector(PANEL + " .nbops-hack-job", state="detached", timeout=T)
        assert page.is_enabled(SCORE)
        card = _card(page)
        assert 0 < card["total"] <= 100, card
        assert card["shown_total"] == f"{_points(card['total'])} / 100", card
        assert [c["id"] for c in card["components"]] == [
            "lint", "documentation", "library", "pipeline", "tests", "verify", "tracked_run",
        ], card  # fmt: skip
        assert all(c["title"] and c["text"] and c["meter"] is not None for c in card["components"])
        assert card["meter"] == "meter"
        assert card["suggestion"] and "What would raise it most" in card["suggestion"]
        assert "points" in card["suggestion"]
        runs = next(c for c in card["components"] if c["id"] == "tracked_run")
        assert runs["points"] > 0 and "finished" in runs["text"], runs
        status = page.inner_text(PANEL + " .nbops-hack-status")
        assert status == f"Team alpha: {_points(card['total'])} of 100 points.", status
        assert not page.is_visible(TAB + " .nbops-tab-badge")

        # the docs' screenshot: the Hackathon tab next to the notebook (saved, no focus ring),
        # the file browser folded and the sidebar wider than its default
        _save_if_unsaved(page)
        page.evaluate(
            """() => {
                const shell = window.jupyterapp.shell;
                shell.collapseLeft?.();
                shell._hsplitPanel?.setRelativeSizes?.([0, 0.68, 0.32]);
                document.activeElement && document.activeElement.blur();
            }"""
        )
        page.mouse.move(0, 0)
        page.wait_for_timeout(300)
        shot = tmp_path / "hackathon-tab.png"
        page.screenshot(path=str(shot))
        if os.environ.get("NBOPS_UPDATE_SCREENSHOTS") or not SCREENSHOT.exists():
            SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(shot, SCREENSHOT)

        # -- a reload: the saved scorecard is shown again
        _open(page, lab, TEAM_NB)
        _open_sidebar(page)
        page.wait_for_selector(TAB, state="visible", timeout=T)
        page.click(TAB)
        page.wait_for_selector(CARD + "[data-team='alpha']", timeout=T)
        again = _card(page)
        assert (again["total"], again["scored_at"]) == (card["total"], card["scored_at"])
        assert len(again["components"]) == 7

        # -- Submit for review: the submit dialog for this notebook
        page.click(SUBMIT)
        page.wait_for_selector(DIALOG, timeout=T)
        page.click(".jp-Dialog .jp-Dialog-footer button.jp-mod-reject")
        page.wait_for_selector(DIALOG, state="detached", timeout=T)
    except Exception:
        debug(tab, lab, tmp_path, "failure-hackathon")
        raise
    no_nbops_errors(tab)
