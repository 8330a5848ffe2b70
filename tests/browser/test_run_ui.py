"""The Run tab end to end: real JupyterLab, real server extension, real kernels, real MLflow store.

One test drives the whole flow on a small notebook written into the lab's root (the steps share
the notebook's run history, so splitting them would make tests depend on each other's order):

- the Run tab's form comes from the parameters cell: ``A`` is a number input with default 2
  and its help text;
- ``A = 3`` (with a pause, so the run is still going) -> the job shows its progress -> the page
  is reloaded while it runs -> the tab finds the job again -> the history shows it FINISHED
  with ``score`` 30;
- a value the server's check refuses (``WEIGHTS`` is not a list) -> its message under the
  field, naming the parameter, and Run disabled;
- a sweep ``A = 1, 2`` with 2 in parallel -> two finished runs nested under the sweep;
- a click on a run opens its executed notebook in a Lab tab; the MLflow link points at the
  run's page.

Two more tests: Stop on a running run (recorded KILLED), and what a notebook without a
parameters cell shows.

Executed notebooks go to ``nbops-runs/`` under the project (a visible folder: Jupyter serves
hidden ones only with ``ContentsManager.allow_hidden``), so the lab runs with the defaults.
Selectors: ``labextension/README.md`` ("Hooks for browser tests").
"""

from __future__ import annotations

import json
import os
import re
import shutil
import time
from pathlib import Path
from typing import Any

import nbformat
import pytest

from browser.pages import Page, debug, no_nbops_errors

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOT = ROOT / "docs" / "screenshots" / "run-tab.png"
T = 30_000  # ms: generous per-step timeout on a 2-core machine
RUN_T = 180_000  # ms: a run starts `nbops run`, a kernel and MLflow (seconds each on 2 cores)


NOTEBOOK = "multiplier.ipynb"
PLAIN = "no_parameters.ipynb"

PANEL = ".nbops-panel:not(.lm-mod-hidden) .nbops-run-panel:not(.lm-mod-hidden)"
FIELD = PANEL + " .nbops-run-field[data-name='{}']"
SUBMIT = PANEL + " .nbops-run-submit"
RECORD = PANEL + " .nbops-run-history .nbops-run-record"

# the server checks the form as it is typed (POST nbops/runs/validate): wait for its answer
ENABLED = "sel => !document.querySelector(sel)?.disabled"
CURRENT_PATH_JS = "() => window.jupyterapp.shell.currentWidget?.context?.path ?? null"


def _write_notebooks(root: Path) -> None:
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell(
        "A = 2  # the multiplier\n"
        "PAUSE = 0.0  # seconds to wait before scoring\n"
        "WEIGHTS = [1, 2]  # per-class weights"
    )
    params.metadata["tags"] = ["parameters"]
    nb.cells = [
        nbformat.v4.new_markdown_cell("# Multiplier\nScores `A * 10`."),
        params,
        nbformat.v4.new_code_cell(
            "import time\n\nimport nbops\n\n"
            "time.sleep(PAUSE)\n"
            'nbops.log_metric("score", A * 10)\n'
            "print(A * 10, sum(WEIGHTS))"
        ),
    ]
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nbformat.write(nb, root / NOTEBOOK)

    plain = nbformat.v4.new_notebook()
    plain.cells = [nbformat.v4.new_code_cell("x = 1"), nbformat.v4.new_code_cell("print(x)")]
    plain.metadata["kernelspec"] = nb.metadata["kernelspec"]
    nbformat.write(plain, root / PLAIN)


def _wait_notebook(page: Any, notebook: str) -> None:
    page.wait_for_selector(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Cell", timeout=60_000)
    page.wait_for_function(
        "path => { const w = window.jupyterapp?.shell?.currentWidget;"
        " return !!(w && w.context && w.context.path === path && w.context.isReady"
        " && w.content.widgets.length > 1); }",
        arg=notebook,
        timeout=60_000,
    )


def _open(page: Any, lab: Any, notebook: str) -> None:
    # ?reset: a fresh workspace, not the tabs an earlier test left open
    page.goto(lab.url(f"lab/tree/{notebook}?reset"), timeout=60_000)
    _wait_notebook(page, notebook)


def _open_run_tab(page: Any) -> None:
    """The palette command opens the sidebar on its Run tab."""
    page.evaluate("() => window.jupyterapp.commands.execute('nbops:run-notebook')")
    page.wait_for_selector(PANEL, timeout=T)
    assert page.get_attribute(".nbops-tab[data-tab='run']", "aria-selected") == "true"
    assert page.get_attribute(".nbops-tab[data-tab='lint']", "aria-selected") == "false"


def _records(page: Any) -> list[dict[str, Any]]:
    """The history as data: every run with its status, parameters, metrics and output."""
    result: list[dict[str, Any]] = page.evaluate(
        """sel => [...document.querySelectorAll(sel)].map(r => ({
            run_id: r.dataset.runId,
            status: r.dataset.status,
            output: r.dataset.output ?? null,
            nested: !!r.closest('.nbops-run-sweep'),
            sweep: r.closest('.nbops-run-sweep')?.dataset.runId ?? null,
            params: r.querySelector('.nbops-run-record-params')?.textContent ?? '',
            metrics: Object.fromEntries([...r.querySelectorAll('.nbops-run-metric')]
                .map(m => [m.dataset.name, Number(m.dataset.value)])),
            mlflow: r.querySelector('a.nbops-run-mlflow')?.href ?? null,
        }))""",
        RECORD,
    )
    return result


def _has(record: dict[str, Any], *params: str) -> bool:
    """The record's parameters include these ``NAME=value`` items."""
    shown = record["params"].split(" · ")
    return all(p in shown for p in params)


def _wait_record(page: Any, *params: str, score: float, timeout: int = RUN_T) -> None:
    """Wait until a FINISHED run with these parameters (``NAME=value``) shows ``score``."""
    page.wait_for_function(
        """([sel, params, score]) => [...document.querySelectorAll(sel)].some(r => {
            const shown = (r.querySelector('.nbops-run-record-params')?.textContent ?? '')
                .split(' · ');
            return r.dataset.status === 'FINISHED'
                && params.every(p => shown.includes(p))
                && r.querySelector(".nbops-run-metric[data-name='score']")?.dataset.value
                   === String(score);
        })""",
        arg=[RECORD, list(params), score],
        timeout=timeout,
    )


def test_run_tab_run_reload_sweep_open(lab: Any, tab: Page, tmp_path: Path) -> None:
    page = tab.page
    _write_notebooks(lab.root_dir)
    started = time.monotonic()
    try:
        _open(page, lab, NOTEBOOK)
        _open_run_tab(page)

        # -- the form: typed inputs, defaults, help text
        a = page.wait_for_selector(FIELD.format("A"), timeout=T)
        assert a.get_attribute("data-type") == "int"
        a_input = page.locator(FIELD.format("A") + " input.nbops-run-input")
        assert a_input.get_attribute("type") == "number"
        assert a_input.get_attribute("step") == "1"
        assert a_input.input_value() == "2"
        assert page.inner_text(FIELD.format("A") + " .nbops-run-help") == "the multiplier"
        assert "the multiplier" in (a.get_attribute("title") or "")
        # the help is tied to the input for screen readers
        described = a_input.get_attribute("aria-describedby") or ""
        help_id = page.get_attribute(FIELD.format("A") + " .nbops-run-help", "id")
        assert help_id and help_id in described.split()
        label_for = page.get_attribute(FIELD.format("A") + " label", "for")
        assert label_for == a_input.get_attribute("id")
        pause = page.locator(FIELD.format("PAUSE") + " input.nbops-run-input")
        assert page.get_attribute(FIELD.format("PAUSE"), "data-type") == "float"
        assert pause.get_attribute("type") == "number"
        assert float(pause.input_value()) == 0.0
        weights = page.locator(FIELD.format("WEIGHTS") + " input.nbops-run-input")
        assert page.get_attribute(FIELD.format("WEIGHTS"), "data-type") == "list"
        assert weights.get_attribute("type") == "text"
        assert weights.input_value() == "[1, 2]"
        assert page.get_attribute(PANEL + " .nbops-run-form", "data-mode") == "run"
        page.wait_for_function(ENABLED, arg=SUBMIT, timeout=T)
        assert page.inner_text(SUBMIT) == "Run"

        # -- a value the server's check refuses: its message under the field, Run disabled
        weights.fill("[1,")
        page.wait_for_selector(FIELD.format("WEIGHTS") + "[data-invalid='true']", timeout=T)
        message = page.inner_text(FIELD.format("WEIGHTS") + " .nbops-run-field-error")
        assert "WEIGHTS" in message and "list" in message, message
        assert page.is_disabled(SUBMIT)
        assert not page.query_selector_all(PANEL + " .nbops-run-job")
        page.click(FIELD.format("WEIGHTS") + " .nbops-run-field-reset")
        page.wait_for_selector(FIELD.format("WEIGHTS") + "[data-invalid='false']", timeout=T)
        assert weights.input_value() == "[1, 2]"
        page.wait_for_function(ENABLED, arg=SUBMIT, timeout=T)

        # -- an empty number disables Run
        a_input.fill("")
        page.wait_for_selector(FIELD.format("A") + "[data-invalid='true']", timeout=T)
        assert page.is_disabled(SUBMIT)

        # -- A = 3, with a pause so that the run is still going when the page reloads
        a_input.fill("3")
        pause.fill("6")
        assert page.get_attribute(FIELD.format("A"), "data-changed") == "true"
        page.wait_for_function(ENABLED, arg=SUBMIT, timeout=T)
        page.click(SUBMIT)
        job = page.wait_for_selector(
            PANEL + " .nbops-run-job[data-kind='run'][data-state='running']", timeout=T
        )
        job_id = job.get_attribute("data-job-id")
        assert job_id
        assert "A=3" in job.inner_text()
        assert page.query_selector(PANEL + " .nbops-run-job .nbops-run-stop") is not None
        bar = page.query_selector(PANEL + " .nbops-run-job .nbops-run-progress")
        assert bar is not None and bar.get_attribute("role") == "progressbar"
        assert page.get_attribute(PANEL + " .nbops-run-status", "aria-live") == "polite"
        badge = page.inner_text(".nbops-tab[data-tab='run'] .nbops-tab-badge")
        assert badge == "1", badge

        # -- reload while it runs: the tab finds the job again and follows it to the end
        page.reload(timeout=60_000)
        _wait_notebook(page, NOTEBOOK)
        _open_run_tab(page)
        page.wait_for_selector(
            f"{PANEL} .nbops-run-job[data-job-id='{job_id}'][data-state='running']", timeout=T
        )
        _wait_record(page, "A=3", "PAUSE=6.0", score=30)
        page.wait_for_selector(
            f"{PANEL} .nbops-run-job[data-job-id='{job_id}']", state="detached", timeout=T
        )
        first = [r for r in _records(page) if _has(r, "A=3", "PAUSE=6.0")]
        assert len(first) == 1, _records(page)
        assert first[0]["output"] and first[0]["output"].endswith(".ipynb"), first
        assert re.fullmatch(
            r"http://127\.0\.0\.1:5000/#/experiments/[^/]+/runs/" + first[0]["run_id"],
            first[0]["mlflow"] or "",
        ), first[0]["mlflow"]
        link = page.query_selector(
            f"{RECORD}[data-run-id='{first[0]['run_id']}'] a.nbops-run-mlflow"
        )
        assert link is not None and link.get_attribute("target") == "_blank"
        assert "nbops ui" in (link.get_attribute("title") or "")
        # when it ran, with its date; how long it took from its kernel's start (PAUSE=6: the
        # history once said ~1 s, counting from when MLflow's run was opened in the background)
        row = f"{RECORD}[data-run-id='{first[0]['run_id']}']"
        when = page.inner_text(row + " .nbops-run-when")
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}", when), when
        assert re.search(r"\d{4}", page.get_attribute(row + " .nbops-run-when", "title") or "")
        took = page.inner_text(row + " .nbops-run-duration")
        seconds = re.fullmatch(r"(\d+(?:\.\d)?) s", took)
        assert seconds and float(seconds.group(1)) >= 6, took
        # the form kept the values after the reload? No: a reload starts from the defaults
        assert a_input.input_value() == "2"

        # -- and again after one more reload: the run is in the history (MLflow), not the page
        page.reload(timeout=60_000)
        _wait_notebook(page, NOTEBOOK)
        _open_run_tab(page)
        _wait_record(page, "A=3", "PAUSE=6.0", score=30, timeout=T)

        # -- a sweep: A = 1, 2 with 2 in parallel
        page.click(PANEL + " .nbops-run-mode-sweep")
        page.wait_for_selector(PANEL + " .nbops-run-form[data-mode='sweep']", timeout=T)
        assert page.get_attribute(PANEL + " .nbops-run-mode-sweep", "aria-checked") == "true"
        assert "comma" in page.inner_text(PANEL + " .nbops-run-sweep-hint")
        a_sweep = page.locator(FIELD.format("A") + " input.nbops-run-input")
        assert a_sweep.get_attribute("type") == "text"
        # a sweep needs a field with two or more values
        page.wait_for_selector(PANEL + " .nbops-run-problems li", timeout=T)
        assert page.is_disabled(SUBMIT)
        a_sweep.fill("1, x")
        page.wait_for_selector(FIELD.format("A") + "[data-invalid='true']", timeout=T)
        assert "expects an integer" in page.inner_text(
            FIELD.format("A") + " .nbops-run-field-error"
        )
        a_sweep.fill("1, 2")
        page.fill(PANEL + " input.nbops-run-parallel", "2")
        page.wait_for_function(
            "sel => !document.querySelector(sel).disabled", arg=SUBMIT, timeout=T
        )
        assert page.inner_text(PANEL + " .nbops-run-count") == "2 runs (A × 2)"
        assert page.inner_text(SUBMIT) == "Sweep 2 runs"
        page.click(SUBMIT)
        page.wait_for_selector(PANEL + " .nbops-run-job[data-kind='sweep']", timeout=T)
        sweep = page.wait_for_selector(
            PANEL + " .nbops-run-history .nbops-run-sweep[data-status='FINISHED']",
            timeout=RUN_T,
        )
        sweep_id = sweep.get_attribute("data-run-id")
        _wait_record(page, "A=1", score=10, timeout=T)
        _wait_record(page, "A=2", score=20, timeout=T)
        kids = [r for r in _records(page) if r["sweep"] == sweep_id]
        assert len(kids) == 2, kids
        assert sorted(
            (_has(r, "A=1"), _has(r, "A=2"), r["status"], r["metrics"]["score"]) for r in kids
        ) == [(False, True, "FINISHED", 20), (True, False, "FINISHED", 10)], kids
        assert not any(_has(r, "PAUSE=6.0") for r in kids), kids
        page.wait_for_selector(PANEL + " .nbops-run-job", state="detached", timeout=T)

        # the history is not loading any more
        page.wait_for_selector(
            PANEL + " .nbops-run-history-section .nbops-run-spinner", state="hidden", timeout=T
        )
        # "Save now": the kernel's language_info may have marked the notebook changed
        if page.is_visible(PANEL + " .nbops-run-unsaved"):
            page.click(PANEL + " .nbops-run-save")
            page.wait_for_selector(PANEL + " .nbops-run-unsaved", state="hidden", timeout=T)

        # the docs' screenshot: the Run tab with its form and history (no focus ring), the
        # file browser folded and the sidebar wider than its default
        page.evaluate(
            """() => {
                const shell = window.jupyterapp.shell;
                shell.collapseLeft?.();
                shell._hsplitPanel?.setRelativeSizes?.([0, 0.7, 0.3]);
                document.activeElement && document.activeElement.blur();
            }"""
        )
        page.mouse.move(0, 0)
        page.wait_for_timeout(300)
        shot = tmp_path / "run-tab.png"
        page.screenshot(path=str(shot))
        if os.environ.get("NBOPS_UPDATE_SCREENSHOTS") or not SCREENSHOT.exists():
            SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(shot, SCREENSHOT)

        # -- a click on a run opens its executed notebook in a Lab tab
        target = first[0]
        page.click(f"{RECORD}[data-run-id='{target['run_id']}'] .nbops-run-record-params")
        page.wait_for_function(
            f"() => ({CURRENT_PATH_JS})() === {json.dumps(target['output'])}", timeout=T
        )
        label = page.inner_text(
            ".lm-DockPanel-tabBar .lm-TabBar-tab.lm-mod-current .lm-TabBar-tabLabel"
        )
        assert label == target["output"].rsplit("/", 1)[-1], label
        _wait_notebook(page, target["output"])
        executed = nbformat.read(lab.root_dir / target["output"], as_version=4)
        outputs = "".join(
            o.get("text", "") for c in executed.cells if c.cell_type == "code" for o in c.outputs
        )
        assert "30 3" in outputs, outputs
        # the Run tab follows the current notebook: now the executed copy
        page.wait_for_function(
            "path => document.querySelector('.nbops-run-notebook')?.dataset.path === path",
            arg=target["output"],
            timeout=T,
        )
    except Exception:
        debug(tab, lab, tmp_path, "failure")
        raise
    print(f"run tab flow: {time.monotonic() - started:.1f} s")
    no_nbops_errors(tab)


def test_stop_a_running_run(lab: Any, tab: Page, tmp_path: Path) -> None:
    """Stop on a running job: the kernel is stopped and the run is recorded KILLED."""
    page = tab.page
    if not (lab.root_dir / NOTEBOOK).exists():
        _write_notebooks(lab.root_dir)
    try:
        _open(page, lab, NOTEBOOK)
        _open_run_tab(page)
        page.wait_for_selector(FIELD.format("A"), timeout=T)
        page.fill(FIELD.format("A") + " input.nbops-run-input", "5")
        page.fill(FIELD.format("PAUSE") + " input.nbops-run-input", "120")
        page.click(SUBMIT)
        job = page.wait_for_selector(
            PANEL + " .nbops-run-job[data-kind='run'][data-state='running']", timeout=T
        )
        job_id = job.get_attribute("data-job-id")
        # wait until the run is tracked (its MLflow run open): ↻ reads the history again
        deadline = time.monotonic() + RUN_T / 1000
        while not any(r["status"] == "RUNNING" and _has(r, "A=5") for r in _records(page)):
            assert time.monotonic() < deadline, _records(page)
            page.click(PANEL + " .nbops-run-refresh")
            page.wait_for_timeout(1000)
        page.screenshot(path=str(tmp_path / "running.png"))
        page.click(f"{PANEL} .nbops-run-job[data-job-id='{job_id}'] .nbops-run-stop")
        page.wait_for_selector(
            f"{PANEL} .nbops-run-job[data-job-id='{job_id}']", state="detached", timeout=RUN_T
        )
        page.wait_for_function(
            """sel => [...document.querySelectorAll(sel)].some(r =>
                r.dataset.status === 'KILLED'
                && (r.querySelector('.nbops-run-record-params')?.textContent ?? '')
                    .split(' · ').includes('A=5'))""",
            arg=RECORD,
            timeout=T,
        )
        assert page.inner_text(PANEL + " .nbops-run-status") == "Run cancelled."
        assert not any(r["status"] == "RUNNING" and _has(r, "A=5") for r in _records(page))
    except Exception:
        debug(tab, lab, tmp_path, "failure-stop")
        raise
    no_nbops_errors(tab)


def test_run_tab_without_parameters_cell(lab: Any, tab: Page, tmp_path: Path) -> None:
    page = tab.page
    if not (lab.root_dir / PLAIN).exists():
        _write_notebooks(lab.root_dir)
    try:
        _open(page, lab, PLAIN)
        _open_run_tab(page)
        message = page.wait_for_selector(PANEL + " .nbops-run-params-message", timeout=T)
        text = message.inner_text()
        assert "parameters" in text, text
        assert page.query_selector(PANEL + " .nbops-run-field") is None
        assert page.query_selector(PANEL + " .nbops-run-mode-sweep") is None
        # the history of a notebook never run
        page.wait_for_selector(PANEL + " .nbops-run-empty:not(:empty)", timeout=T)
        # keyboard: the tabs are WAI-ARIA tabs
        page.focus(".nbops-tab[data-tab='run']")
        page.keyboard.press("ArrowLeft")
        page.wait_for_selector(".nbops-panel .nbops-lint-panel:not(.lm-mod-hidden)", timeout=T)
        assert page.get_attribute(".nbops-tab[data-tab='lint']", "aria-selected") == "true"
        assert page.query_selector(".nbops-panel .nbops-run-panel.lm-mod-hidden") is not None
    except Exception:
        debug(tab, lab, tmp_path, "failure-plain")
        raise
    no_nbops_errors(tab)
