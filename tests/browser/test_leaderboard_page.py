"""The hackathon leaderboard page in headless Chromium, opened from ``file://`` (no server).

Three teams (one with a failed component, one that joined in the second round) and three
scoring rounds: the ranking rows are visible in rank order, the breakdown shows the failure's
reason, the SVG chart is drawn with one polyline per team and a legend, the page asks the
network for nothing and logs no console error, it fits a phone's width, and it has a dark
colour scheme. Saves ``docs/screenshots/leaderboard.png`` (full page) when it is missing or
``NBOPS_UPDATE_SCREENSHOTS`` is set. Needs only the ``browser`` fixture, not ``lab``.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from nbops.hackathon.leaderboard import leaderboard_html

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOT = ROOT / "docs" / "screenshots" / "leaderboard.png"
T = 15_000  # ms

COMPONENTS = (
    ("lint", "Lint findings fixed", 20.0),
    ("documentation", "Documentation checks passed", 15.0),
    ("library", "Code moved into a library", 20.0),
    ("pipeline", "Pipeline steps", 10.0),
    ("tests", "Tests passing", 15.0),
    ("verify", "Notebook and pipeline agree", 10.0),
    ("tracked_run", "Tracked run finishes", 10.0),
)
EXPLAIN = {
    "lint": "before: 4 errors, 31 warnings, 6 info; after: {}",
    "documentation": "{} of the gate's documentation checks pass (title, summary, parameters)",
    "library": "{} of the notebook's code lines moved into src/",
    "pipeline": "{} of 4 pipeline steps found in PIPELINE",
    "tests": "{} of the tests pass; one hand-written test passes",
    "verify": "nbops verify: {} of the step outputs match",
    "tracked_run": "nbops run finished ({}); metrics logged: auc, f1",
}
META = {
    "name": "Notebook to production",
    "deadline": "2026-11-22T18:00:00+00:00",
    "generated_at": "2026-11-22T18:10:00+00:00",
}


def _card(
    team: str,
    scores: dict[str, float],
    *,
    failed: dict[str, str] | None = None,
    required: bool = True,
    submitted: str,
    suggestion: str | None = None,
    errors: tuple[str, ...] = (),
) -> dict[str, Any]:
    failed = failed or {}
    components: list[dict[str, Any]] = []
    for cid, title, weight in COMPONENTS:
        score = None if cid in failed else scores.get(cid, 1.0)
        components.append(
            {
                "id": cid,
                "title": title,
                "weight": weight,
                "score": score,
                "points": round((score or 0.0) * weight, 2),
                "status": "failed" if cid in failed else "ok",
                "explanation": ("" if score is None else EXPLAIN[cid].format(f"{score:.0%}")),
                "reason": failed.get(cid),
            }
        )
    return {
        "team": team,
        "source": {"kind": "branch", "ref": f"team/{team}", "commit": f"{team[:2]}3f9c1d0e8b7a6"},
        "submitted_at": submitted,
        "total": round(sum(c["points"] for c in components), 2),
        "max_total": 100.0,
        "required_passed": required,
        "components": components,
        "errors": list(errors),
        "suggestion": suggestion,
        "scored_at": "2026-11-22T18:10:00+00:00",
    }


def _leaderboard() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    cards = [
        _card(
            "data-wranglers",
            {"lint": 0.85, "documentation": 0.75, "library": 0.6, "tests": 0.8},
            failed={"verify": "verify timed out after 600 s"},
            submitted="2026-11-22T17:41:00+00:00",
            errors=("tests/test_io.py was skipped: needs network",),
            suggestion="Make verify pass: up to +10.0 points",
        ),
        _card(
            "alpha",
            {"lint": 0.95, "library": 0.9, "tests": 0.8},
            submitted="2026-11-22T17:03:00+00:00",
            suggestion="Move more code into the library: up to +2.0 points",
        ),
        _card(
            "notebook-ninjas",
            {"lint": 0.4, "documentation": 0.5, "library": 0.3, "pipeline": 0.5, "tests": 0.4},
            required=False,
            submitted="2026-11-22T17:58:00+00:00",
            suggestion="Move the notebook's code into a library: up to +14.0 points",
        ),
    ]
    totals = {c["team"]: c["total"] for c in cards}
    rounds = [
        ("2026-11-22T14:00:00+00:00", {"alpha": 38.5, "data-wranglers": 42.0}),
        (
            "2026-11-22T16:00:00+00:00",
            {"alpha": 71.0, "data-wranglers": 58.0, "notebook-ninjas": 31.5},
        ),
        ("2026-11-22T18:00:00+00:00", totals),
    ]
    history = [
        {"time": t, "team": team, "total": total}
        for t, teams in rounds
        for team, total in teams.items()
    ]
    return cards, history


def test_leaderboard_page_from_file(browser: Any, tmp_path: Path) -> None:
    cards, history = _leaderboard()
    path = tmp_path / "leaderboard.html"
    path.write_text(leaderboard_html(cards, history, META), encoding="utf-8")

    page = browser.new_page()
    errors: list[str] = []
    requests: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("request", lambda r: requests.append(r.url))
    try:
        page.set_viewport_size({"width": 1200, "height": 900})
        page.goto(path.as_uri(), wait_until="load", timeout=T)
        assert page.title() == "Notebook to production: leaderboard"

        # -- the ranking, best first
        rows = page.locator("table.ranking tbody tr.team-row")
        assert rows.count() == 3
        assert all(rows.nth(i).is_visible() for i in range(3))
        names = page.locator("table.ranking tr.team-row a.team-name").all_inner_texts()
        assert names == ["alpha", "data-wranglers", "notebook-ninjas"], names
        ranks = page.locator("table.ranking tr.team-row td.rank").all_inner_texts()
        assert [r.strip() for r in ranks] == ["1", "2", "3"], ranks
        assert "94.0" in rows.nth(0).inner_text()
        assert "1 failed component" in rows.nth(1).inner_text()
        assert "not passed" in rows.nth(2).inner_text()
        bar = rows.nth(0).locator(".bar > span").bounding_box()
        assert bar and bar["width"] > 50, bar

        # -- the breakdown: every team, the failure with its reason
        articles = page.locator("article.team-card")
        assert articles.count() == 3
        failed = page.locator("#team-2 tr.status-failed")
        assert failed.count() == 1 and failed.is_visible()
        assert "Reason: verify timed out after 600 s" in failed.inner_text()
        assert "needs network" in page.locator("#team-2 .errors").inner_text()
        assert page.locator("#team-3 .suggestion").is_visible()
        page.click("table.ranking tr.team-row:nth-child(2) a.team-name")  # in-page link
        page.wait_for_function("() => location.hash === '#team-2'", timeout=T)

        # -- the chart: drawn, one polyline per team, markers, legend
        chart = page.locator("svg.chart")
        box = chart.bounding_box()
        assert box and box["width"] > 600 and box["height"] > 200, box
        lines = page.locator("svg.chart g.series polyline")
        assert lines.count() == 3
        for i in range(3):
            line_box = lines.nth(i).bounding_box()
            assert line_box and line_box["width"] > 100, (i, line_box)
        stroke = page.evaluate(
            "() => getComputedStyle(document.querySelector('svg.chart g.series polyline')).stroke"
        )
        assert stroke.startswith("rgb(") and stroke != "rgb(0, 0, 0)", stroke  # CSS applied
        assert page.locator("svg.chart g.series path.mk").count() == 8  # one team joined late
        assert page.locator("ul.legend li").count() == 3
        assert page.locator("svg.chart g.deadline").count() == 1

        # -- self-contained: nothing but the file itself was requested
        assert requests and all(u.startswith("file://") for u in requests), requests
        overflow = (
            "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert page.evaluate(overflow) <= 0

        page.evaluate("() => { window.scrollTo(0, 0); document.activeElement?.blur(); }")
        page.mouse.move(0, 0)
        shot = tmp_path / "leaderboard.png"
        page.screenshot(path=str(shot), full_page=True)
        if os.environ.get("NBOPS_UPDATE_SCREENSHOTS") or not SCREENSHOT.exists():
            SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(shot, SCREENSHOT)

        # -- a phone's width: the wide tables scroll inside their box, the page does not
        page.set_viewport_size({"width": 390, "height": 844})
        assert page.evaluate(overflow) <= 0
        narrow = chart.bounding_box()
        assert narrow and narrow["width"] <= 390, narrow

        # -- dark colour scheme
        page.emulate_media(color_scheme="dark")
        background = page.evaluate("() => getComputedStyle(document.body).backgroundColor")
        assert background == "rgb(21, 23, 26)", background
        page.set_viewport_size({"width": 1200, "height": 900})
        page.screenshot(path=str(tmp_path / "leaderboard-dark.png"), full_page=True)
    except Exception:
        page.screenshot(path=str(tmp_path / "failure.png"), full_page=True)
        print(f"screenshots in {tmp_path}")
        raise
    finally:
        page.close()
    assert errors == [], errors
