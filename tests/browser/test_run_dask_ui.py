"""The Run tab's executor on Dask, end to end: real JupyterLab, server extension, kernels,
MLflow store and a real LocalCluster.

- the form's "Executor" select offers local (the project's default here) and dask; the
  "Scheduler" field shows only for dask, its placeholder "local cluster";
- a scheduler on another machine is refused under the field with the CLI's message (the
  project's SQLite store cannot be written by remote workers), Sweep disabled;
- dask with no scheduler, a sweep ``A = 1, 2``: the job says "dask", both runs FINISH on a
  LocalCluster started for them, and the history shows "dask" on the sweep and its runs.

Selectors: labextension/src/panels/run/form.ts, jobs.ts and history.ts (their headers).
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import nbformat
import pytest

from browser.pages import Page, debug, no_nbops_errors

pytestmark = pytest.mark.browser

T = 30_000  # ms per step on a 2-core machine
RUN_T = 180_000  # ms: `nbops run`, a LocalCluster, two kernels and MLflow
NOTEBOOK = "dask_multiplier.ipynb"
PANEL = ".nbops-panel:not(.lm-mod-hidden) .nbops-run-panel:not(.lm-mod-hidden)"
FIELD = PANEL + " .nbops-run-field[data-name='{}']"
SUBMIT = PANEL + " .nbops-run-submit"
EXECUTOR = PANEL + " select.nbops-run-executor"
SCHEDULER_ROW = PANEL + " .nbops-run-scheduler-field"
SCHEDULER = PANEL + " input.nbops-run-scheduler"
ENABLED = "sel => !document.querySelector(sel)?.disabled"


def _write_notebook(root: Path) -> None:
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell("A = 2  # the multiplier")
    params.metadata["tags"] = ["parameters"]
    nb.cells = [
        params,
        nbformat.v4.new_code_cell('import nbops\n\nnbops.log_metric("score", A * 10)'),
    ]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}  # fmt: skip
    nbformat.write(nb, root / NOTEBOOK)


def test_a_sweep_on_a_local_dask_cluster_from_the_run_tab(
    lab: Any, tab: Page, tmp_path: Path
) -> None:
    page = tab.page
    _write_notebook(lab.root_dir)
    started = time.monotonic()
    try:
        page.goto(lab.url(f"lab/tree/{NOTEBOOK}?reset"), timeout=60_000)
        page.wait_for_function(
            "path => { const w = window.jupyterapp?.shell?.currentWidget;"
            " return !!(w && w.context && w.context.path === path && w.context.isReady); }",
            arg=NOTEBOOK,
            timeout=60_000,
        )
        page.evaluate("() => window.jupyterapp.commands.execute('nbops:run-notebook')")
        page.wait_for_selector(FIELD.format("A"), timeout=T)

        # -- the executor select: the project's default (local), dask installed here
        select = page.wait_for_selector(EXECUTOR, timeout=T)
        assert select.input_value() == "local"
        options = page.eval_on_selector_all(
            EXECUTOR + " option", "os => os.map(o => [o.value, o.disabled])"
        )
        assert options == [["local", False], ["dask", False]], options
        assert page.is_hidden(SCHEDULER_ROW)

        # -- dask: the scheduler field shows; a remote scheduler is refused under it
        page.select_option(EXECUTOR, "dask")
        page.wait_for_selector(SCHEDULER_ROW, state="visible", timeout=T)
        assert page.get_attribute(SCHEDULER, "placeholder") == "local cluster"
        page.click(PANEL + " .nbops-run-mode-sweep")
        page.wait_for_selector(PANEL + " .nbops-run-form[data-mode='sweep']", timeout=T)
        assert page.input_value(EXECUTOR) == "dask"  # kept across the mode switch
        page.fill(FIELD.format("A") + " input.nbops-run-input", "1, 2")
        page.fill(SCHEDULER, "tcp://10.9.8.7:8786")
        page.wait_for_selector(SCHEDULER_ROW + "[data-invalid='true']", timeout=T)
        message = page.inner_text(SCHEDULER_ROW + " .nbops-run-field-error")
        assert "tcp://10.9.8.7:8786" in message and "nbops tracking-server" in message, message
        assert str(lab.root_dir) not in message
        assert page.is_disabled(SUBMIT)

        # -- no scheduler: a LocalCluster started for the sweep
        page.fill(SCHEDULER, "")
        page.wait_for_selector(SCHEDULER_ROW + "[data-invalid='false']", timeout=T)
        page.fill(PANEL + " input.nbops-run-parallel", "2")
        page.wait_for_function(ENABLED, arg=SUBMIT, timeout=T)
        assert page.inner_text(SUBMIT) == "Sweep 2 runs"
        page.click(SUBMIT)
        job = page.wait_for_selector(PANEL + " .nbops-run-job[data-kind='sweep']", timeout=T)
        assert job.query_selector(".nbops-run-executor[data-executor='dask']") is not None
        assert page.inner_text(PANEL + " .nbops-run-job .nbops-run-executor") == "dask"

        sweep = PANEL + " .nbops-run-history .nbops-run-sweep[data-status='FINISHED']"
        page.wait_for_selector(sweep, timeout=RUN_T)
        page.wait_for_function(
            """sel => [...document.querySelectorAll(sel + ' .nbops-run-record')]
                .filter(r => r.dataset.status === 'FINISHED').length === 2""",
            arg=sweep,
            timeout=T,
        )
        rows = page.eval_on_selector_all(
            sweep + " .nbops-run-record",
            """rs => rs.map(r => [
                r.querySelector('.nbops-run-record-params')?.textContent,
                r.querySelector(".nbops-run-metric[data-name='score']")?.dataset.value,
                r.querySelector('.nbops-run-executor')?.textContent])""",
        )
        assert sorted(rows) == [["A=1", "10", "dask"], ["A=2", "20", "dask"]], rows
        assert page.inner_text(sweep + " .nbops-run-sweep-top .nbops-run-executor") == "dask"
        no_nbops_errors(tab)
        print(f"dask sweep from the Run tab: {time.monotonic() - started:.1f} s")
    except BaseException:
        debug(tab, lab, tmp_path, "run-dask")
        raise


PIPELINE_NB = "dask_pipeline.ipynb"


def test_a_pipeline_on_a_local_dask_cluster_from_the_run_tab(
    lab: Any, tab: Page, tmp_path: Path
) -> None:
    """The Pipeline mode runs the module Modularize generated, its steps as Dask tasks: the job
    says "Pipeline run" and "dask", and it finishes with the pipeline's value as a metric."""

    page = tab.page
    root = lab.root_dir
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell("A = 2  # the multiplier")
    params.metadata["tags"] = ["parameters"]
    nb.cells = [nbformat.v4.new_markdown_cell("# Multiplier"), params,
                nbformat.v4.new_code_cell("score = A * 10"),
                nbformat.v4.new_code_cell("print(score)")]  # fmt: skip
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}  # fmt: skip
    folder = root / "pipe"
    folder.mkdir()
    (folder / "pyproject.toml").write_text('[project]\nname = "pipe"\n', encoding="utf-8")
    nbformat.write(nb, folder / PIPELINE_NB)
    done = subprocess.run([sys.executable, "-m", "nbops", "modularize", PIPELINE_NB],
                          cwd=folder, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    path = f"pipe/{PIPELINE_NB}"
    started = time.monotonic()
    try:
        page.goto(lab.url(f"lab/tree/{path}?reset"), timeout=60_000)
        page.wait_for_function(
            "path => { const w = window.jupyterapp?.shell?.currentWidget;"
            " return !!(w && w.context && w.context.path === path && w.context.isReady); }",
            arg=path,
            timeout=60_000,
        )
        page.evaluate("() => window.jupyterapp.commands.execute('nbops:run-notebook')")
        page.wait_for_selector(FIELD.format("A"), timeout=T)
        page.click(PANEL + " .nbops-run-mode-pipeline")
        page.wait_for_selector(PANEL + " .nbops-run-form[data-mode='pipeline']", timeout=T)
        page.select_option(EXECUTOR, "dask")
        page.fill(FIELD.format("A") + " input.nbops-run-input", "3")
        page.wait_for_function(ENABLED, arg=SUBMIT, timeout=T)
        assert page.inner_text(SUBMIT) == "Run pipeline"
        page.click(SUBMIT)
        job = page.wait_for_selector(PANEL + " .nbops-run-job[data-kind='pipeline']", timeout=T)
        assert job.query_selector(".nbops-run-executor[data-executor='dask']") is not None
        assert page.inner_text(PANEL + " .nbops-run-job .nbops-run-job-title") == "Pipeline run"
        # a finished job leaves the jobs list once its run is in the history
        record = PANEL + " .nbops-run-history .nbops-run-record[data-status='FINISHED']"
        page.wait_for_selector(record, timeout=RUN_T)
        page.wait_for_function(
            "sel => document.querySelector(sel)?.textContent.includes('Pipeline run finished')",
            arg=PANEL,
            timeout=T,
        )
        values = page.eval_on_selector_all(
            record + " .nbops-run-metric[data-name='score']", "ms => ms.map(m => m.dataset.value)"
        )
        assert values == ["30"], values
        no_nbops_errors(tab)
        print(f"dask pipeline from the Run tab: {time.monotonic() - started:.1f} s")
    except BaseException:
        debug(tab, lab, tmp_path, "pipeline-dask")
        raise
