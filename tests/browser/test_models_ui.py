"""The Models tab end to end: real JupyterLab, server extension and MLflow registry, headless
Chromium.

The lab's root is a project (``pyproject.toml`` with ``[tool.nbops.promote]``) whose store holds
``wine`` with three versions (tests/modelsproject.py): v1 the champion, v2 held (the last
comparison), v3 the challenger. The tab shows the models of the root's project when no notebook
is open. One test drives the flow:

- the Models tab lists ``wine``: the champion card (v1) and the challenger card (v3) with
  their accuracy, the last comparison (v2: HOLD, the failed threshold named), the release
  history newest first with commit, PR, gate and verdict, and download buttons;
- a version's log downloads with its content;
- "Promote…" on the challenger shows the dry run's verdict (PASS) and writes nothing; "Promote
  v3" moves champion, in the store itself and on the tab.

Selectors: ``labextension/src/panels/models.ts`` (its docstring).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from modelsproject import LOG_TEXT, champion, make_models_project

from browser.pages import Page, debug, no_nbops_errors

pytestmark = pytest.mark.browser

T = 30_000  # ms: generous per-step timeout on a 2-core machine
TAB = ".nbops-tab[data-tab='models']"
PANEL = ".nbops-panel:not(.lm-mod-hidden) .nbops-models-panel:not(.lm-mod-hidden)"
WINE = PANEL + " .nbops-model[data-model='wine']"


@pytest.fixture(scope="module")
def project(lab: Any) -> Path:
    """The lab's root as the project, with its registry."""
    make_models_project(lab.root_dir)
    return Path(lab.root_dir)


def _shown(page: Any) -> dict[str, Any]:
    result: dict[str, Any] = page.evaluate(
        """sel => {
            const m = document.querySelector(sel);
            const card = role => {
                const c = m.querySelector(`.nbops-model-card[data-role='${role}']`);
                return c && { version: c.dataset.version,
                    metrics: [...c.querySelectorAll('.nbops-model-metric')].map(x => x.textContent) };
            };
            const cmp = m.querySelector('.nbops-model-comparison');
            return {
                champion: card('champion'), challenger: card('challenger'),
                comparison: cmp && { version: cmp.dataset.version, status: cmp.dataset.status,
                    lines: [...cmp.querySelectorAll('.nbops-verdict-line')].map(
                        l => [l.dataset.threshold, l.dataset.ok]) },
                releases: [...m.querySelectorAll('.nbops-model-release')].map(r => ({
                    version: r.dataset.version, verdict: r.dataset.verdict,
                    line: r.querySelector('.nbops-model-release-line').textContent,
                    files: [...r.querySelectorAll('.nbops-model-download')].map(b => b.dataset.kind),
                })),
            };
        }""",
        WINE,
    )
    return result


def test_the_models_tab_shows_the_registry_and_promote_moves_champion(
    lab: Any, tab: Page, project: Path, tmp_path: Path
) -> None:
    page = tab.page
    try:
        page.goto(lab.url("lab?reset"), timeout=60_000)
        page.wait_for_selector(".jp-LabShell", timeout=60_000)
        page.evaluate("() => window.jupyterapp.shell.activateById('nbops-panel')")
        page.click(TAB, timeout=T)
        page.wait_for_selector(WINE, timeout=T)
        assert page.get_attribute(PANEL + " .nbops-models-project", "data-project") == "."
        assert "min-absolute-change 0.01" in page.inner_text(PANEL + " .nbops-models-thresholds")
        shown = _shown(page)
        assert shown["champion"] == {"version": "1", "metrics": ["accuracy 0.9"]}
        assert shown["challenger"] == {"version": "3", "metrics": ["accuracy 0.93"]}
        assert shown["comparison"] == {"version": "2", "status": "HOLD", "lines": [
            ["min-value", "true"], ["min-absolute-change", "false"]]}
        assert [r["version"] for r in shown["releases"]] == ["3", "2", "1"]
        assert [r["verdict"] for r in shown["releases"]] == ["", "HOLD", "PASS"]
        assert "3333333 · PR #13 · gate PASS · not judged" in shown["releases"][0]["line"]
        assert shown["releases"][1]["files"] == ["notebook", "logs", "verdict"]

        # a version's log, downloaded through the server
        with page.expect_download(timeout=T) as caught:
            page.click(WINE + " .nbops-model-release[data-version='2'] "
                       ".nbops-model-download[data-kind='logs']")
        download = caught.value
        assert download.suggested_filename == "run.log"
        assert Path(download.path()).read_text(encoding="utf-8") == f"run 2\n{LOG_TEXT}"

        # Promote: the dry run's verdict first, nothing moved
        page.click(WINE + " .nbops-model-card[data-role='challenger'] .nbops-model-promote")
        box = WINE + " .nbops-model-promotion[data-phase='confirm']"
        page.wait_for_selector(box, timeout=T)
        assert page.get_attribute(box + " .nbops-verdict", "data-status") == "PASS"
        assert "+0.03 vs champion 0.9 >= min-absolute-change 0.01: ok" in page.inner_text(box)
        assert champion(project) == 1
        page.click(box + " .nbops-model-confirm")
        page.wait_for_selector(WINE + " .nbops-model-promotion[data-phase='done']", timeout=T)
        assert page.get_attribute(WINE + " .nbops-model-promoted", "data-moved") == "true"
        assert "Champion moved to v3 (was v1)" in page.inner_text(WINE + " .nbops-model-promoted")
        assert champion(project) == 3  # in the store itself
        page.wait_for_selector(PANEL + " .nbops-model[data-champion='3']", timeout=T)
        shown = _shown(page)
        assert shown["champion"]["version"] == "3" and shown["challenger"] is None
        assert shown["comparison"]["version"] == "3" and shown["comparison"]["status"] == "PASS"
        no_nbops_errors(tab)
    except BaseException:
        debug(tab, lab, tmp_path, "models-tab")
        raise
