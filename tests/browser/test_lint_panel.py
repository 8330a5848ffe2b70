"""The nbops lint panel end to end: real JupyterLab, real server extension, headless Chromium.

One test drives the whole flow on ``churn_classifier.ipynb`` (the steps share one open
document, so splitting them would make tests depend on each other's order, which xdist
does not keep): Lint from the toolbar -> findings in the panel and the status bar ->
click a finding goes to its cell -> "Fix all safe" changes the open document only.
Selectors: ``labextension/README.md`` ("Hooks for browser tests").
"""

from __future__ import annotations

import contextlib
import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from browser.pages import save_until_clean

pytestmark = pytest.mark.browser

NOTEBOOK = "churn_classifier.ipynb"
ROOT = Path(__file__).resolve().parents[2]
SCREENSHOT = ROOT / "docs" / "screenshots" / "lint-panel.png"
T = 30_000  # ms: generous per-step timeout on a 2-core machine

ACTIVE_CELL_JS = """() => {
  const cells = [...document.querySelectorAll('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook .jp-Cell')];
  const active = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook .jp-Cell.jp-mod-active');
  return active ? cells.indexOf(active) : null;
}"""

READY_JS = """() => {
  const w = window.jupyterapp?.shell?.currentWidget;
  return !!(w && w.context && w.context.isReady && w.content.widgets.length > 1
            && w.sessionContext && w.sessionContext.isReady
            && w.sessionContext.session?.kernel?.status === 'idle');
}"""

# the open notebook's model, through window.jupyterapp (--LabApp.expose_app_in_browser)
MODEL_JS = """() => {
  const w = window.jupyterapp.shell.currentWidget;
  const m = w.context.model;
  return {
    path: w.context.path,
    dirty: m.dirty,
    active: w.content.activeCellIndex,
    cells: m.sharedModel.cells.map(c => ({
      source: c.getSource(), tags: (c.getMetadata('tags') || [])
    })),
  };
}"""


def _is_from_nbops(entry: dict[str, str]) -> bool:
    return "nbops" in entry["text"].lower() or "nbops" in entry["url"].lower()


def test_lint_panel_goto_and_fix_all(lab: Any, browser: Any, tmp_path: Path) -> None:
    page = browser.new_page()
    console: list[dict[str, str]] = []
    page.on(
        "console",
        lambda m: console.append(
            {"type": m.type, "text": m.text, "url": (m.location or {}).get("url", "")}
        ),
    )
    page.on(
        "pageerror",
        lambda e: console.append(
            {"type": "pageerror", "text": f"{e}\n{getattr(e, 'stack', '')}", "url": ""}
        ),
    )
    disk = lab.root_dir / NOTEBOOK
    disk_before = disk.read_bytes()

    def shot(name: str) -> Path:
        path = tmp_path / f"{name}.png"
        page.screenshot(path=str(path))
        return path

    try:
        # -- open the notebook; the toolbar buttons come from the extension
        page.goto(lab.url(f"lab/tree/{NOTEBOOK}"), timeout=60_000)
        page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=60_000)
        page.wait_for_selector(".nbops-lint-button", timeout=T)
        # the panel shows a one-cell placeholder until the file's content is in the model
        page.wait_for_function(READY_JS, timeout=60_000)
        # the kernel may rewrite metadata.language_info at any moment after it starts, which
        # marks the document dirty: save until it stays clean, so that "dirty" below can only
        # come from the fixes
        save_until_clean(page)
        # the panel is still closed (hidden): wait for the DOM state, not visibility
        page.wait_for_selector(
            ".nbops-panel .nbops-status[data-status='done']", state="attached", timeout=T
        )
        disk_before = disk.read_bytes()
        model0 = page.evaluate(MODEL_JS)
        assert model0["path"] == NOTEBOOK
        assert model0["dirty"] is False

        # -- Lint from the notebook toolbar -> the panel lists findings
        page.click(".nbops-lint-button")
        page.wait_for_selector(".nbops-panel:not(.lm-mod-hidden) .nbops-finding", timeout=T)
        page.wait_for_selector(".nbops-panel .nbops-status[data-status='done']", timeout=T)
        page.wait_for_selector(".nbops-status-item[data-count]", timeout=T)
        findings = page.query_selector_all(".nbops-panel .nbops-finding")
        codes = [f.get_attribute("data-code") for f in findings]
        assert "NB205" in codes, codes
        assert "NB301" in codes, codes
        n_shown = len(findings)
        summary = page.get_attribute(".nbops-summary", "data-findings")
        assert summary is not None and int(summary) == n_shown, (summary, n_shown)
        status_text = page.inner_text(".nbops-status-item")
        count = int(page.get_attribute(".nbops-status-item", "data-count") or "0")
        assert count > 0
        assert count == n_shown, (count, n_shown, status_text)
        assert str(count) in status_text, status_text

        # the README's screenshot: the panel with findings (kernel idle, no focus ring)
        page.evaluate("() => document.activeElement && document.activeElement.blur()")
        from playwright.sync_api import TimeoutError as PlaywrightTimeout

        with contextlib.suppress(PlaywrightTimeout):  # cosmetic only
            page.wait_for_function(
                "() => window.jupyterapp.shell.currentWidget.sessionContext"
                ".session?.kernel?.status === 'idle'",
                timeout=10_000,
            )
        panel_shot = shot("lint-panel")
        if os.environ.get("NBOPS_UPDATE_SCREENSHOTS") or not SCREENSHOT.exists():
            SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(panel_shot, SCREENSHOT)

        # -- click the NB205 finding -> its cell becomes the active one
        nb205 = page.query_selector(".nbops-panel .nbops-finding[data-code='NB205']")
        assert nb205 is not None
        target = int(nb205.get_attribute("data-cell-index") or "-1")
        assert target > 0
        assert page.evaluate(ACTIVE_CELL_JS) != target  # or the click would prove nothing
        nb205.click()
        page.wait_for_function(f"() => ({ACTIVE_CELL_JS})() === {target}", timeout=T)
        assert page.evaluate(ACTIVE_CELL_JS) == target
        assert page.evaluate(MODEL_JS)["active"] == target
        # the active cell is scrolled into view
        assert page.is_visible(".jp-Notebook .jp-Cell.jp-mod-active")
        shot("goto-nb205")

        # -- Fix all safe: applied to the open document (dirty), not written to disk
        nb303 = page.query_selector(".nbops-panel .nbops-finding[data-code='NB303']")
        assert nb303 is not None, "expected the untagged parameters cell finding (NB303)"
        params_cell = int(nb303.get_attribute("data-cell-index") or "-1")
        assert "parameters" not in model0["cells"][params_cell]["tags"]
        page.click(".nbops-panel .nbops-fix-all")
        page.wait_for_function(
            f"() => ({MODEL_JS})().cells[{params_cell}].tags.includes('parameters')", timeout=T
        )
        page.wait_for_selector(".nbops-panel .nbops-status[data-status='done']", timeout=T)
        page.wait_for_selector(
            ".nbops-panel .nbops-finding[data-code='NB303']", state="detached", timeout=T
        )
        after = page.evaluate(MODEL_JS)
        assert after["dirty"] is True
        page.wait_for_selector(".lm-TabBar-tab.jp-mod-current.jp-mod-dirty", timeout=T)
        changed = [
            i
            for i, (a, b) in enumerate(zip(model0["cells"], after["cells"]))
            if a["source"] != b["source"]
        ]
        assert changed, "Fix all safe changed no cell's source (black, isort fixes expected)"
        remaining = page.query_selector_all(".nbops-panel .nbops-finding")
        assert 0 < len(remaining) < n_shown  # unsafe findings (NB205, NB301...) stay
        assert {"NB205", "NB301"} <= {f.get_attribute("data-code") for f in remaining}
        page.wait_for_function(
            "n => document.querySelector('.nbops-status-item')?.dataset.count === String(n)",
            arg=len(remaining),
            timeout=T,
        )
        assert disk.read_bytes() == disk_before, "fixes must not be written to disk"
        shot("after-fix-all")
    except Exception:
        shot("failure")
        print(f"screenshots in {tmp_path}\n--- jupyter lab log ---\n{lab.log()}")
        print("--- console ---", *console, sep="\n")
        raise
    finally:
        page.close()

    nbops_errors = [c for c in console if c["type"] in ("error", "pageerror") and _is_from_nbops(c)]
    assert not nbops_errors, nbops_errors
