"""The Run tab on a Jupyter server without MLflow: Run and Sweep are disabled with the hint.

Its own module because it needs its own ``jupyter lab`` (the ``lab`` fixture is per module):
one started with ``without_mlflow_config.py``, which makes MLflow unimportable in the server
process, as on a server where ``nbops[run]`` is not installed. Before, the tab offered
Run and the click ended in an HTTP 502 once ``nbops run`` had executed the notebook.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from browser.pages import Page, debug, no_nbops_errors
from browser.test_run_ui import FIELD, NOTEBOOK, PANEL, SUBMIT, T, _open, _open_run_tab
from browser.test_run_ui import _write_notebooks as write_notebooks

pytestmark = pytest.mark.browser

LAB_ARGS = [f"--config={Path(__file__).with_name('without_mlflow_config.py')}"]
HINT = "pip install 'nbops[run]'"


def test_run_is_disabled_with_the_install_hint(lab: Any, tab: Page, tmp_path: Path) -> None:
    page = tab.page
    write_notebooks(lab.root_dir)
    try:
        _open(page, lab, NOTEBOOK)
        _open_run_tab(page)
        page.wait_for_selector(FIELD.format("A"), timeout=T)
        missing = page.wait_for_selector(PANEL + " .nbops-run-tracking-missing", timeout=T)
        text = missing.inner_text()
        assert "MLflow is not installed" in text and HINT in text, text
        assert "needs nbops' run extra" in text, text  # from GET /nbops/version's extras
        assert page.is_disabled(SUBMIT)
        assert HINT in (page.get_attribute(SUBMIT, "title") or "")
        # a valid change keeps it disabled, and Enter in a field starts nothing
        a_input = page.locator(FIELD.format("A") + " input.nbops-run-input")
        a_input.fill("3")
        a_input.press("Enter")
        page.wait_for_timeout(500)
        assert page.is_disabled(SUBMIT)
        # a sweep too
        page.click(PANEL + " .nbops-run-mode-sweep")
        page.wait_for_selector(PANEL + " .nbops-run-form[data-mode='sweep']", timeout=T)
        page.locator(FIELD.format("A") + " input.nbops-run-input").fill("1, 2")
        page.wait_for_timeout(300)
        assert page.is_disabled(SUBMIT)
        assert HINT in (page.get_attribute(SUBMIT, "title") or "")
        # the history says why it is empty instead of failing
        empty = page.wait_for_selector(PANEL + " .nbops-run-empty:not(:empty)", timeout=T)
        assert HINT in empty.inner_text(), empty.inner_text()
        assert not page.query_selector_all(PANEL + " .nbops-run-job")
        assert not page.query_selector_all(PANEL + " .nbops-run-error")
        assert not (lab.root_dir / "nbops-runs").exists()
    except Exception:
        debug(tab, lab, tmp_path, "failure-no-mlflow")
        raise
    no_nbops_errors(tab)
