"""The Health tab end to end: real JupyterLab, server extension and MLflow store, headless
Chromium.

The lab's root is a project whose store holds the wine model (champion v1) and two real checks
(tests/healthproject.py): on training rows (OK), then on the same rows shifted on purpose
(ALERT: alcohol and colour intensity). The tab shows the checks of the root's project when no
notebook is open. One test:

- the Health tab shows ``wine`` with the ALERT badge (the latest check), the timeline newest
  first (ALERT, then OK) with the drifted features named on the ALERT check only, the
  metrics over time as SVG plots, and the project's triggers;
- "Open report" opens the latest check's HTML report in a new browser tab, fetched through
  the authenticated API: it renders, with the verdict and its SVG plots.

Selectors: ``labextension/src/panels/health.ts`` (its docstring).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("mlflow")
pytest.importorskip("sklearn")

from healthproject import make_health_project
from monitorproject import SHIFTED

from browser.pages import Page, debug, no_nbops_errors

pytestmark = pytest.mark.browser

T = 30_000  # ms: generous per-step timeout on a 2-core machine
TAB = ".nbops-tab[data-tab='health']"
PANEL = ".nbops-panel:not(.lm-mod-hidden) .nbops-health-panel:not(.lm-mod-hidden)"
WINE = PANEL + " .nbops-health-model[data-model='wine']"


@pytest.fixture(scope="module")
def checks(lab: Any) -> dict[str, str]:
    """The lab's root as the project, with its two checks."""
    return make_health_project(Path(lab.root_dir))


def _shown(page: Any) -> dict[str, Any]:
    result: dict[str, Any] = page.evaluate(
        """sel => {
            const m = document.querySelector(sel);
            return {
                status: m.dataset.status,
                badge: m.querySelector('.nbops-health-badge').textContent,
                checks: [...m.querySelectorAll('.nbops-health-check')].map(c => ({
                    run: c.dataset.runId, status: c.dataset.status,
                    drifted: c.querySelector('.nbops-health-drifted')?.dataset.features ?? null,
                    text: c.textContent,
                })),
                plots: [...m.querySelectorAll('.nbops-health-plot')].map(p => ({
                    metric: p.dataset.metric, points: p.dataset.points,
                    circles: p.querySelectorAll('svg circle').length,
                })),
                open: m.querySelector('.nbops-health-open').dataset.runId,
            };
        }""",
        WINE,
    )
    return result


def test_the_health_tab_shows_the_alert_and_the_ok_check_and_opens_the_report(
    lab: Any, tab: Page, checks: dict[str, str], tmp_path: Path
) -> None:
    page = tab.page
    try:
        page.goto(lab.url("lab?reset"), timeout=60_000)
        page.wait_for_selector(".jp-LabShell", timeout=60_000)
        page.evaluate("() => window.jupyterapp.shell.activateById('nbops-panel')")
        page.click(TAB, timeout=T)
        page.wait_for_selector(WINE, timeout=T)
        assert page.get_attribute(PANEL + " .nbops-health-project", "data-project") == "."
        triggers = page.eval_on_selector_all(
            PANEL + " .nbops-health-trigger", "rows => rows.map(r => r.dataset.metric)")
        assert "psi" in triggers and "invalid-rows" in triggers
        shown = _shown(page)
        assert shown["status"] == "ALERT" and shown["badge"] == "ALERT"
        assert [c["run"] for c in shown["checks"]] == [checks["alert"], checks["ok"]]
        alert, ok = shown["checks"]
        assert (alert["status"], ok["status"]) == ("ALERT", "OK")
        assert set(SHIFTED) <= set(alert["drifted"].split(","))
        assert ok["drifted"] is None  # nothing drifted on the unshifted data
        assert "alcohol (PSI" in alert["text"] and "alcohol" not in ok["text"]
        plots = {p["metric"]: p for p in shown["plots"]}
        assert plots["max_psi"]["points"] == "2" and plots["max_psi"]["circles"] == 2
        assert "accuracy" in plots
        assert shown["open"] == checks["alert"]

        # the latest report, in a new browser tab, rendered
        with page.context.expect_page(timeout=T) as opened:
            page.click(WINE + " .nbops-health-open")
        report = opened.value
        report.wait_for_function(
            "() => location.protocol === 'blob:' && document.querySelector('svg') !== null",
            timeout=T)
        assert report.locator(".verdict").inner_text() == "ALERT"
        assert report.locator("svg").count() >= 1
        assert "alcohol" in report.inner_text("body")
        policy = report.eval_on_selector(
            "meta[http-equiv='Content-Security-Policy']", "m => m.content")
        assert "default-src 'none'" in policy
        report.close()
        no_nbops_errors(tab)
    except BaseException:
        debug(tab, lab, tmp_path, "health-tab")
        raise
