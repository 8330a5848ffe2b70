"""The Modularize action end to end: real JupyterLab, real server extension, headless Chromium.

- ``wine_classifier.ipynb``: the nbops panel's "Modularize" -> the preview lists the steps and
  the files (the same as the server's dry run) and writes nothing -> "Write files" -> the
  module opens in a Lab tab and every file is on disk.
- ``sales_forecast.ipynb`` with a hand-written file where its module goes: the preview shows
  the conflict and "Write files" stays disabled until "overwrite (force)" is ticked.
- ``churn_classifier.ipynb`` (a hard-coded key: an error in the plan): "Write files" is not the
  default button, Enter cancels, and the written files do not hold the key.
- ``house_prices_regression.ipynb`` removed from disk after it was opened: the error is shown
  in plain words (message and hint), nothing is written.

Selectors: ``labextension/README.md`` ("Hooks for browser tests").
"""

from __future__ import annotations

import json
import os
import shutil
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from browser.pages import Page, debug, no_nbops_errors
from nbops.widgets.modularize import cell_ranges  # the preview's format: `1–3, 5`

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOT = ROOT / "docs" / "screenshots" / "modularize-preview.png"
T = 60_000  # ms: generous per-step timeout on a 2-core machine (black and ruff run twice)

PREVIEW = ".jp-Dialog .nbops-modularize-preview"
WRITE = ".jp-Dialog button.nbops-modularize-write"

CURRENT_PATH_JS = "() => window.jupyterapp.shell.currentWidget?.context?.path ?? null"


def _plan(lab: Any, notebook: str) -> dict[str, Any]:
    """The server's own dry run, to compare the preview with."""
    request = urllib.request.Request(
        lab.url("nbops/modularize"),
        data=json.dumps({"path": notebook}).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=120) as r:
        plan: dict[str, Any] = json.loads(r.read())
    return plan


def _tree(folder: Path) -> set[str]:
    """The files under ``folder``, without the checkpoints JupyterLab keeps by itself."""
    return {
        p.relative_to(folder).as_posix()
        for p in folder.rglob("*")
        if p.is_file() and ".ipynb_checkpoints" not in p.parts
    }


def _open(page: Any, lab: Any, notebook: str) -> None:
    # ?reset: a fresh workspace, not the tabs an earlier test left open
    page.goto(lab.url(f"lab/tree/{notebook}?reset"), timeout=T)
    page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=T)
    page.wait_for_selector(".nbops-modularize-button", timeout=T)
    page.wait_for_function(
        "path => { const w = window.jupyterapp?.shell?.currentWidget;"
        " return !!(w && w.context && w.context.path === path && w.context.isReady"
        " && w.content.widgets.length > 1); }",
        arg=notebook,
        timeout=T,
    )


def test_modularize_preview_confirm_opens_the_module(lab: Any, tab: Page, tmp_path: Path) -> None:
    page = tab.page
    notebook = "wine_classifier.ipynb"
    expected = _plan(lab, notebook)  # a dry run: writes nothing
    module = next(f["path"] for f in expected["files"] if f["kind"] == "module")
    assert not (lab.root_dir / module).exists()
    before = _tree(lab.root_dir)
    try:
        _open(page, lab, notebook)
        # -- the action in the nbops panel
        page.evaluate("() => window.jupyterapp.commands.execute('nbops:open-panel')")
        page.wait_for_selector(
            ".nbops-panel:not(.lm-mod-hidden) .nbops-panel-modularize", timeout=T
        )
        page.click(".nbops-panel .nbops-panel-modularize")
        page.wait_for_selector(PREVIEW, timeout=T)

        # -- the preview: strategy, steps with cells, inputs -> outputs, files with actions
        strategy = page.get_attribute(f"{PREVIEW} .nbops-mod-strategy", "data-strategy")
        assert strategy == expected["strategy"]
        steps = page.query_selector_all(f"{PREVIEW} .nbops-mod-step")
        assert [s.get_attribute("data-name") for s in steps] == [
            s["name"] for s in expected["steps"]
        ]
        assert len(steps) >= 2
        for row, step in zip(steps, expected["steps"]):
            outputs = row.query_selector(".nbops-mod-step-outputs").inner_text()
            for name in step["outputs"]:
                assert name in outputs, (step["name"], name, outputs)
            inputs = row.query_selector(".nbops-mod-step-inputs").inner_text()
            for name in step["inputs"]:
                assert name in inputs, (step["name"], name, inputs)
            assert row.query_selector(".nbops-mod-step-cells").inner_text().strip()
            # the new shape: size, what it returns (a dataclass with its fields), what stays
            # in the slim notebook
            assert row.query_selector(".nbops-mod-step-lines").inner_text().strip() == str(step["lines"])
            returns = row.query_selector(".nbops-mod-step-returns")
            assert returns.get_attribute("data-returns") == (step["returns"] or "")
            returned = [*step["outputs"], *step["results"]]
            shown_returns = (
                f"{step['returns']}({', '.join(step['fields'])})" if step["returns"]
                else (returned[0] if returned else "—")
            )
            assert returns.inner_text().strip() == shown_returns, step["name"]
            kept = row.query_selector(".nbops-mod-step-kept").inner_text().strip()
            assert kept == (cell_ranges(step["exploration"]) or "—"), step["name"]
        headers = [h.inner_text().strip() for h in page.query_selector_all(f"{PREVIEW} .nbops-mod-steps th")]
        assert headers == [
            "Step", "Cells", "Lines", "Inputs → outputs", "Returns", "Parameters", "Kept in notebook"
        ]
        assert any(s["returns"] for s in expected["steps"])  # wine's data step: DataResult
        files = page.query_selector_all(f"{PREVIEW} .nbops-mod-file")
        shown = {
            (
                f.get_attribute("data-path"),
                f.get_attribute("data-kind"),
                f.get_attribute("data-action"),
            )
            for f in files
        }
        assert shown == {(f["path"], f["kind"], f["action"]) for f in expected["files"]}
        assert {a for _, _, a in shown} == {"create"}
        assert page.query_selector(f"{PREVIEW} .nbops-mod-conflicts") is None
        assert page.is_enabled(WRITE)
        assert _tree(lab.root_dir) == before, "the preview must not write anything"

        # the README's screenshot: the preview dialog
        page.evaluate("() => document.activeElement && document.activeElement.blur()")
        preview_shot = tmp_path / "modularize-preview.png"
        page.screenshot(path=str(preview_shot))
        if os.environ.get("NBOPS_UPDATE_SCREENSHOTS") or not SCREENSHOT.exists():
            SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(preview_shot, SCREENSHOT)

        # -- confirm: the files are written and the module opens in a tab
        page.click(WRITE)
        page.wait_for_selector(PREVIEW, state="detached", timeout=T)
        page.wait_for_function(f"() => ({CURRENT_PATH_JS})() === {json.dumps(module)}", timeout=T)
        label = page.inner_text(
            ".lm-DockPanel-tabBar .lm-TabBar-tab.lm-mod-current .lm-TabBar-tabLabel"
        )
        assert label == module.rsplit("/", 1)[-1], label
        editor_text = page.wait_for_function(
            "() => window.jupyterapp.shell.currentWidget?.context?.model?.sharedModel"
            "?.getSource?.() || null",
            timeout=T,
        ).json_value()
        assert "def run(" in editor_text
        page.wait_for_selector(".jp-Notification-Toast-success", timeout=T)
        toast = page.inner_text(".jp-Notification-Toast-success")
        assert "wine_classifier" in toast and "wrote" in toast, toast

        for entry in expected["files"]:
            assert (lab.root_dir / entry["path"]).is_file(), entry
        assert (lab.root_dir / module).read_text(encoding="utf-8") == editor_text
    except Exception:
        debug(tab, lab, tmp_path, "failure")
        raise
    no_nbops_errors(tab)


def test_conflict_needs_force(lab: Any, tab: Page, tmp_path: Path) -> None:
    page = tab.page
    notebook = "sales_forecast.ipynb"
    expected = _plan(lab, notebook)
    module = next(f["path"] for f in expected["files"] if f["kind"] == "module")
    mine = lab.root_dir / module
    mine.parent.mkdir(parents=True, exist_ok=True)
    mine.write_text("# hand-written, not by nbops\n", encoding="utf-8")
    try:
        _open(page, lab, notebook)
        # -- the command, from the notebook toolbar this time
        page.click(".nbops-modularize-button")
        page.wait_for_selector(PREVIEW, timeout=T)
        conflict = page.wait_for_selector(
            f"{PREVIEW} .nbops-mod-file[data-action='conflict']", timeout=T
        )
        assert conflict.get_attribute("data-path") == module
        assert page.is_visible(f"{PREVIEW} .nbops-mod-blocked")
        assert page.is_disabled(WRITE)
        page.screenshot(path=str(tmp_path / "conflict.png"))
        # Enter does not get round the disabled button
        page.keyboard.press("Enter")
        page.wait_for_selector(PREVIEW, state="detached", timeout=T)
        assert "hand-written" in mine.read_text(encoding="utf-8")

        page.click(".nbops-modularize-button")
        page.wait_for_selector(PREVIEW, timeout=T)
        page.check(f"{PREVIEW} .nbops-mod-force")
        assert page.is_enabled(WRITE)
        assert not page.is_visible(f"{PREVIEW} .nbops-mod-blocked")
        page.click(WRITE)
        page.wait_for_function(f"() => ({CURRENT_PATH_JS})() === {json.dumps(module)}", timeout=T)
        assert "hand-written" not in mine.read_text(encoding="utf-8")
    except Exception:
        debug(tab, lab, tmp_path, "failure-conflict")
        raise
    no_nbops_errors(tab)


def test_a_plan_with_errors_does_not_default_to_write(lab: Any, tab: Page, tmp_path: Path) -> None:
    """The churn example hard-codes a live key: the plan says it is read from the environment
    (an error), and "Write files" is neither the default button nor accept-styled."""
    page = tab.page
    notebook = "churn_classifier.ipynb"
    expected = _plan(lab, notebook)
    assert any(p["severity"] == "error" and "CRM_API_KEY" in p["message"] for p in expected["problems"])
    before = _tree(lab.root_dir)
    try:
        _open(page, lab, notebook)
        page.click(".nbops-modularize-button")
        page.wait_for_selector(PREVIEW, timeout=T)
        assert page.is_visible(f"{PREVIEW} .nbops-mod-errors")
        problems = page.inner_text(f"{PREVIEW} .nbops-mod-problem[data-severity='error']:has-text('CRM_API_KEY')")
        assert 'os.environ["CRM_API_KEY"]' in problems and "sk_live" not in problems
        # churn's constants are proposed parameters: each has the badge
        proposed = [p["name"] for p in expected["parameters"] if p["proposed"]]
        assert "SEED" in proposed
        for name in proposed:
            badge = page.query_selector(
                f"{PREVIEW} .nbops-mod-parameter[data-name='{name}'][data-proposed='true'] .nbops-mod-proposed"
            )
            assert badge is not None and badge.inner_text() == "proposed", name
        classes = (page.get_attribute(WRITE, "class") or "").split()
        assert "nbops-modularize-write-with-errors" in classes and "jp-mod-accept" not in classes
        # Enter picks the default button, Cancel: nothing is written
        page.keyboard.press("Enter")
        page.wait_for_selector(PREVIEW, state="detached", timeout=T)
        assert _tree(lab.root_dir) == before
        # an explicit click still writes, without the key
        page.click(".nbops-modularize-button")
        page.wait_for_selector(PREVIEW, timeout=T)
        page.click(WRITE)
        module = next(f["path"] for f in expected["files"] if f["kind"] == "module")
        page.wait_for_function(f"() => ({CURRENT_PATH_JS})() === {json.dumps(module)}", timeout=T)
        for path in _tree(lab.root_dir) - before:
            assert "sk_live" not in (lab.root_dir / path).read_text(encoding="utf-8"), path
    except Exception:
        debug(tab, lab, tmp_path, "failure-errors")
        raise
    no_nbops_errors(tab)


def test_errors_are_shown_in_plain_words(lab: Any, tab: Page, tmp_path: Path) -> None:
    page = tab.page
    notebook = "house_prices_regression.ipynb"
    moved = lab.root_dir / notebook
    keep = tmp_path / notebook
    before: set[str] = set()
    try:
        _open(page, lab, notebook)
        # Lab creates the notebook's first checkpoint after the context is ready: let it
        # finish, or moving the file races it (Lab's own "Unhandled error" dialog)
        checkpoint = lab.root_dir / ".ipynb_checkpoints" / f"{Path(notebook).stem}-checkpoint.ipynb"
        deadline = time.monotonic() + T / 1000
        while not checkpoint.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(0.5)
        shutil.move(moved, keep)  # gone from disk while it is open
        before = _tree(lab.root_dir)
        # not awaited: the command resolves only when its dialog is closed
        page.evaluate("() => { void window.jupyterapp.commands.execute('nbops:modularize'); }")
        error = page.wait_for_selector(".jp-Dialog .nbops-modularize-error", timeout=T)
        assert error.get_attribute("data-status") == "404"
        text = error.inner_text()
        assert "no such notebook" in text and notebook in text, text
        assert page.query_selector(PREVIEW) is None
        page.click(".jp-Dialog .jp-mod-accept")
        page.wait_for_selector(".jp-Dialog .nbops-modularize-error", state="detached", timeout=T)
        assert _tree(lab.root_dir) == before
    except Exception:
        debug(tab, lab, tmp_path, "failure-error")
        raise
    finally:
        if keep.exists():
            shutil.move(keep, moved)
    no_nbops_errors(tab, expected="status of 404")
