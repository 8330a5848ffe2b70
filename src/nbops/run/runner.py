"""``nbops run``: one tracked run of a notebook, or a sweep of them, through papermill.

A run: open an MLflow run (parameters, lineage tags), execute a copy of the notebook with the
parameters injected and the run's id in the kernel's environment (so ``nbops.log_metric``
lands in it), write the executed notebook to the runs folder, log it and an HTML render as
artifacts, close the run FINISHED, or FAILED with the failing cell. A sweep: a parent run,
one child run per parameter set, ``parallel`` kernels at a time; an interruption stops the
kernels, keeps finished runs and marks unfinished ones KILLED. The three kinds of run
(notebook, sweep parent, generated pipeline) share one lifecycle (:mod:`nbops.run.lifecycle`)
and differ only in its hooks: what they open, execute and record.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import os
import threading
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nbops.errors import NbopsError, ToolError
from nbops.kernel import CellFailure, CellHook, execute_notebook, stop_all_kernels
from nbops.run.lifecycle import Interrupted, Lifecycle, RunOutcome

__all__ = [
    "Interrupted",
    "RunOutcome",
    "RunSettings",
    "SweepOutcome",
    "default_runs_dir",
    "read_run_index",
    "run_notebook",
    "run_pipeline",
    "run_sweep",
]

EXECUTED_FROM_KEY = "executed_from"  # metadata.nbops of an executed copy: the notebook that ran
RUN_TAG = "nbops-run"  # the cell that marked executed copies before EXECUTED_FROM_KEY

RUNS_FOLDER = "nbops-runs"  # executed notebooks, under the project (visible: Jupyter hides dot folders)


def default_runs_dir(project_root: Path) -> Path:
    """Where executed notebooks go by default: ``<project>/nbops-runs/<notebook>/``."""
    return project_root / RUNS_FOLDER


@dataclass(frozen=True)
class RunSettings:
    """Where and how runs execute and are tracked."""

    project_root: Path
    runs_dir: Path
    experiment: str
    kernel: str | None = None
    timeout: float | None = None
    tracking_uri: str | None = None

    @property
    def store_uri(self) -> str:
        """Where the runs go: ``tracking_uri``, else ``MLFLOW_TRACKING_URI``, else the
        project's own store."""
        from nbops.run.tracking import default_tracking_uri

        return self.tracking_uri or default_tracking_uri(self.project_root)


@dataclass
class SweepOutcome:
    parent_run_id: str
    runs: list[RunOutcome]
    interrupted: bool = False


def _tracker(settings: RunSettings, helper: Any = None) -> Any:
    """The store's tracker (``helper``: the recorder process ``nbops run`` started first, see
    :mod:`nbops.run.recorder`); runs of this host whose process died RUNNING are ended KILLED
    first (:meth:`~nbops.run.tracking.MlflowTracker.end_orphaned_runs`), never failing a run."""
    from nbops.run.tracking import MlflowTracker

    if helper is not None:
        try:
            helper.open(settings.store_uri)
        except BaseException:
            helper.close()
            raise
    tracker = helper or MlflowTracker(settings.store_uri)
    with contextlib.suppress(Exception):
        tracker.end_orphaned_runs()
    return tracker


_html_lock = threading.Lock()
_exporter: Any = None


def _html_exporter() -> Any:
    """One nbconvert HTML exporter per process, its templates loaded (the first render of a
    process costs ~0.4 s; warming it while a kernel runs takes that off the critical path)."""
    global _exporter
    with _html_lock:
        if _exporter is None:
            import nbformat
            from nbconvert import HTMLExporter

            exporter = HTMLExporter()
            exporter.from_notebook_node(nbformat.v4.new_notebook())
            _exporter = exporter
        return _exporter


def _html(executed: Path) -> Path | None:
    try:
        exporter = _html_exporter()
        with _html_lock:
            body, _ = exporter.from_filename(str(executed))
    except Exception:  # noqa: BLE001 - a render is a convenience; the notebook is the record
        return None
    target = executed.with_suffix(".html")
    target.write_text(body, encoding="utf-8")
    return target


class _Render(threading.Thread):
    """The HTML of an executed notebook, rendered from the moment it is written: a short
    notebook's render overlaps the wait for its run to open. The run's id, in the final name
    (the page's title), may not be known yet: :meth:`write` sets it."""

    def __init__(self, executed: Path) -> None:
        super().__init__(name="nbops-html", daemon=True)
        self.executed = executed
        self.body: str | None = None
        self.start()

    def run(self) -> None:
        # a render is a convenience; the notebook is the record
        with contextlib.suppress(Exception):
            exporter = _html_exporter()
            with _html_lock:
                self.body, _ = exporter.from_filename(str(self.executed))

    def write(self, final: Path) -> Path | None:
        """Write the page next to ``final`` (the notebook's name once the run's id is known,
        as :func:`_html` of ``final`` would); None when it could not be rendered."""
        self.join()
        if self.body is None:
            return None
        old, new = f"<title>{self.executed.stem}</title>", f"<title>{final.stem}</title>"
        target = final.with_suffix(".html")
        target.write_text(self.body.replace(old, new, 1), encoding="utf-8")
        return target


def _absolute(notebook: Path, settings: RunSettings) -> tuple[str, Path, RunSettings]:
    """The notebook as the user named it (for messages), then it and the settings' folders as
    absolute paths: every path is fixed where a run starts, whatever the working directory
    does later."""
    import dataclasses

    absolute = dataclasses.replace(
        settings,
        project_root=Path(os.path.abspath(settings.project_root)),
        runs_dir=Path(os.path.abspath(settings.runs_dir)),
    )
    return str(notebook), Path(os.path.abspath(notebook)), absolute


def _resolve(value: Any) -> Any:
    """``value``, or its result when it is a Future (a sweep's shared tracker / parent run)."""
    return value.result() if isinstance(value, Future) else value


def _html_exporter_quietly() -> None:
    # rendering is optional: a failure here shows up as a run without its HTML artifact
    with contextlib.suppress(Exception):
        _html_exporter()


def _stamped() -> str:
    """``<time>-<token>``: the stem of a new run's journal folder and executed notebook."""
    import uuid

    return f"{_dt.datetime.now().strftime('%Y%m%d-%H%M%S')}-{uuid.uuid4().hex[:8]}"


# internal, for the hackathon scorer: a JSON file of code run hidden in the kernel of a run
# (nbops.kernel.HiddenCode: verify's step captures), so one execution is verify's and the run's
HIDDEN_CODE_ENV = "NBOPS_RUN_HIDDEN_CODE"


def hidden_code() -> Any:
    """The :class:`~nbops.kernel.HiddenCode` of :data:`HIDDEN_CODE_ENV`, else None."""
    import json

    from nbops.kernel import HiddenCode

    file = os.environ.get(HIDDEN_CODE_ENV)
    if not file:
        return None
    return HiddenCode.from_json(json.loads(Path(file).read_text(encoding="utf-8")))


class _NotebookRun(Lifecycle[Any, RunOutcome]):
    """A notebook executed in a kernel, its MLflow run opened meanwhile and fed live."""

    def __init__(
        self, shown: str, notebook: Path, nb: Any, parameters: Mapping[str, Any],
        settings: RunSettings, *, name: str | None, tracker: Any,
        parent_run_id: str | Future[str] | None, cancelled: threading.Event | None,
        on_cell: CellHook | None = None,
    ) -> None:
        from nbops.run.journal import Journal

        self.shown, self.notebook, self.nb, self.settings = shown, notebook, nb, settings
        self.name, self.tracker, self.parent_run_id = name, tracker, parent_run_id
        self.cancelled, self.on_cell = cancelled, on_cell
        if tracker is None:  # the recorder `nbops run` started first, if any
            from nbops.run.recorder import take

            self.helper = take()
        else:
            self.helper = None
        self.out_dir = settings.runs_dir / notebook.stem
        self.stamp = _stamped()
        self.output = self.out_dir / f"{self.stamp}.ipynb"
        self.render: _Render | None = None  # the executed notebook's HTML, once it is written
        super().__init__(Journal(self.out_dir / f".{self.stamp}.journal"), dict(parameters))

    def tags(self) -> dict[str, str]:
        """The run's lineage tags (an executor running a copy of the notebook passes the
        original's)."""
        from nbops.run.lineage import lineage_tags

        tags = lineage_tags(self.notebook)
        tags["nbops.kind"] = "notebook"
        return tags

    def output_tag(self, final: Path) -> str:
        """The ``nbops.output`` tag: where the executed notebook is kept."""
        return str(final.resolve())

    def open(self) -> tuple[Any, str]:
        from nbops.run.journal import remove_stale
        from nbops.run.lineage import frozen_requirements

        # what needs no store first: a helper still importing MLflow answers the open later
        tags = self.tags()
        tags.update(self.journal.owner.tags())  # who may end it if this process dies
        requirements = self.journal.folder / "requirements.txt"
        requirements.write_text(frozen_requirements(), encoding="utf-8")
        opened = _resolve(self.tracker) or _tracker(self.settings, self.helper)
        remove_stale(self.out_dir)  # journal folders of dead processes (their runs are ended)
        run_id: str = opened.start_run(
            self.settings.experiment, self.name or self.notebook.stem, dict(self.parameters),
            tags, _resolve(self.parent_run_id), start_time=self.began,
        )
        opened.log_artifact(run_id, requirements, "environment")
        return opened, run_id

    def on_open(self, tracker: Any, run_id: str) -> None:
        if self.helper is None:
            _html_exporter_quietly()  # the render at the end is off the critical path
        else:  # beside the kernel, in a thread: not beside the helper's MLflow import (CPU)
            threading.Thread(target=_html_exporter_quietly, name="nbops-html", daemon=True).start()
        if self.helper is not None and tracker is self.helper:
            # a log_model to come: the helper imports its flavor now
            from nbops.run.model_log import warm_modules

            source = "\n".join(c.source for c in self.nb.cells if c.cell_type == "code")
            self.helper.warm(warm_modules(source))

    def execute(self) -> Any:
        import json

        from nbops.kernel import ORIGINAL_INDEX_KEY
        from nbops.run.tracking import stringify_param

        for index, cell in enumerate(self.nb.cells):
            cell.metadata[ORIGINAL_INDEX_KEY] = index
        # marks the executed copy (nbops check skips it in folders)
        self.nb.metadata.setdefault("nbops", {})[EXECUTED_FROM_KEY] = self.notebook.name
        stored = {str(k): stringify_param(v) for k, v in self.parameters.items()}
        # what the kernel's nbops.log_* need, in its environment (not in a cell: the executed
        # notebook is an artifact, and a tracking URI can carry credentials)
        kernel_env: dict[str, str | None] = {
            **self.journal.env(),
            "NBOPS_RUN_PARAMS": json.dumps(stored),
            "MLFLOW_TRACKING_URI": self.settings.store_uri,
            "NBOPS_RUN_ID": None,
            HIDDEN_CODE_ENV: None,
        }
        executed = execute_notebook(
            self.nb, self.output, parameters=self.parameters, cwd=self.notebook.resolve().parent,
            kernel_name=self.settings.kernel, timeout=self.settings.timeout, label=self.shown,
            env=kernel_env, on_cell=self.on_cell, hidden=hidden_code(),
            kernel_manager=self.ready_kernel(kernel_env),
        )
        self.render = _Render(self.output)  # while the run opens or the journal is read
        return executed

    def ready_kernel(self, env: Mapping[str, str | None]) -> Any:
        """A kernel manager whose kernel already runs with ``env`` in the notebook's folder
        (an executor's kernel started ahead), or None: the run starts its own."""
        return None

    def close_helper(self) -> None:
        """Let the recorder helper go, if this run had one, and wait for it."""
        if self.helper is not None:
            self.helper.close()

    def _killed(self) -> bool:
        return self.cancelled is not None and self.cancelled.is_set()

    def on_failed(self, tracker: Any, run_id: str, error: NbopsError) -> RunOutcome:
        # the kernel could not run the notebook (it died, would not start): no executed copy
        outcome = RunOutcome(run_id, dict(self.parameters), "FAILED", None)
        outcome.duration_s = self.elapsed()
        _journal_errors(tracker, run_id, self.journal)
        if self._killed():  # its kernel was stopped by an interruption
            outcome.status = "KILLED"
            self.end(tracker, run_id, "KILLED")
            return outcome
        outcome.error = str(error)
        self.end(tracker, run_id, "FAILED", {"nbops.error": str(error)[:5000]})
        return outcome

    def on_executed(self, tracker: Any, run_id: str, result: Any) -> RunOutcome:
        outcome = RunOutcome(run_id, dict(self.parameters), "FAILED", None)
        final = self.out_dir / f"{self.stamp.rsplit('-', 1)[0]}-{run_id[:8]}.ipynb"
        render, self.render = self.render, None
        html = render.write(final) if render is not None else None
        os.replace(self.output, final)
        outcome.output = final
        if render is None:
            html = _html(final)
        tracker.log_artifact(run_id, final, "notebook")
        if html is not None:
            tracker.log_artifact(run_id, html, "notebook")
        _journal_errors(tracker, run_id, self.journal)
        end_tags: dict[str, str] = {}
        if self._killed():
            outcome.status = "KILLED"
        elif result.failure is not None or self.journal.failures:
            failure = result.failure or _model_failure(self.nb, self.journal.failures)
            outcome.failure = failure
            end_tags = {
                "nbops.failed_cell": str(failure.cell + 1 if failure.cell is not None else ""),
                "nbops.error_name": failure.ename,
                "nbops.error_message": failure.evalue[:5000],
            }
        else:
            outcome.status = "FINISHED"
        end_tags["nbops.output"] = self.output_tag(final)
        self.end(tracker, run_id, outcome.status, end_tags)
        outcome.duration_s = self.elapsed()
        with contextlib.suppress(NbopsError):
            outcome.metrics = dict(tracker.get_run(run_id).metrics)
        _index_run(self.out_dir, self.notebook, outcome, self.settings)
        return outcome


def run_notebook(
    notebook: Path,
    parameters: Mapping[str, Any],
    settings: RunSettings,
    *,
    parent_run_id: str | Future[str] | None = None,
    name: str | None = None,
    tracker: Any = None,
    cancelled: threading.Event | None = None,
    on_cell: CellHook | None = None,
) -> RunOutcome:
    """Execute ``notebook`` once with ``parameters``, tracked; never raises for a cell error.

    ``on_cell(done, total, source)``: each cell's start and end (:func:`nbops.kernel.execute_notebook`).

    ``tracker`` and ``parent_run_id`` may be Futures (a sweep opens them once, in the
    background). The kernel starts at once; the MLflow run is opened meanwhile. A kernel that
    is not installed is a UsageError before anything starts.
    """
    import nbformat

    from nbops.kernel import check_kernel
    from nbops.run.tracking import check_store_uri

    shown, notebook, settings = _absolute(notebook, settings)
    nb = nbformat.read(notebook, as_version=4)  # before anything starts: unreadable -> error
    if tracker is None:  # a sweep passes its tracker: it checked kernel and store up front
        check_kernel(nb, settings.kernel, label=shown)  # before the store is touched
        check_store_uri(settings.store_uri)  # before any kernel starts
    run = _NotebookRun(
        shown, notebook, nb, parameters, settings, name=name, tracker=tracker,
        parent_run_id=parent_run_id, cancelled=cancelled, on_cell=on_cell,
    )
    try:
        return run.run()
    finally:
        run.close_helper()



INDEX = "runs.jsonl"  # per notebook, next to its executed notebooks


def _index_run(out_dir: Path, notebook: Path, outcome: RunOutcome, settings: RunSettings) -> None:
    """Append the run's summary to ``<runs>/<notebook>/runs.jsonl``: what ``nbops submit``'s
    review report reads without opening MLflow (the store stays the record)."""
    import json

    from nbops.run.lineage import notebook_sha256

    entry = {
        "run_id": outcome.run_id,
        "status": outcome.status,
        "notebook": str(notebook.resolve()),
        "experiment": settings.experiment,
        "notebook_sha256": notebook_sha256(notebook),
        "parameters": outcome.parameters,
        "metrics": outcome.metrics,
        "duration_s": round(outcome.duration_s, 3),
        "ended": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "output": str(outcome.output) if outcome.output else None,
    }
    # an index that cannot be written is only a missing cache
    with contextlib.suppress(OSError), open(out_dir / INDEX, "a", encoding="utf-8") as handle:
        handle.write(json.dumps(entry, default=str) + "\n")


def read_run_index(runs_dir: Path, notebook: Path) -> list[dict[str, Any]]:
    """The runs ``nbops run`` recorded for ``notebook`` in ``runs_dir``, oldest first."""
    import json

    file = runs_dir / notebook.stem / INDEX
    mine = str(notebook.resolve())
    entries = []
    with contextlib.suppress(OSError):
        for line in file.read_text(encoding="utf-8").splitlines():
            with contextlib.suppress(ValueError):
                entry = json.loads(line)
                if isinstance(entry, dict) and entry.get("notebook") == mine:
                    entries.append(entry)
    return entries


def _model_failure(nb: Any, failures: list[str]) -> CellFailure:
    """A deferred ``nbops.log_model`` that failed (:mod:`nbops.run.model_log`), reported as
    its cell's failure: the one code cell that calls it, when only one does."""
    calling = [i for i, cell in enumerate(nb.cells)
               if cell.cell_type == "code" and "log_model" in cell.source]
    cell = calling[0] if len(calling) == 1 else None
    return CellFailure(cell, "nbops.log_model", "; ".join(failures))


def _journal_errors(tracker: Any, run_id: str, journal: Any) -> None:
    """Tag the run with what the journal could not log (a bad value, a missing file)."""
    if journal.errors:
        tracker.set_tags(run_id, {"nbops.journal.errors": "; ".join(journal.errors)[:5000]})



class _SweepRun(Lifecycle[SweepOutcome, SweepOutcome]):
    """A sweep's parent run; executing it runs the children, ``parallel`` kernels at a time."""

    def __init__(
        self, notebook: Path, parameter_sets: Sequence[Mapping[str, Any]], settings: RunSettings,
        parallel: int, progress: Callable[[int, int, int, int], None] | None,
    ) -> None:
        from nbops.run.journal import SUFFIX, Journal

        self.notebook, self.parameter_sets, self.settings = notebook, parameter_sets, settings
        self.parallel, self.progress = parallel, progress
        opening = ThreadPoolExecutor(max_workers=1, thread_name_prefix="nbops-tracking")
        self.tracker_future: Future[Any] = opening.submit(_tracker, settings)
        opening.shutdown(wait=False)
        # the parent run's claim (nbops.run.journal.Owner): a folder holding only the lock
        owner = Journal(settings.runs_dir / notebook.stem / f".{_stamped()}{SUFFIX}")
        super().__init__(owner, {}, live=False)
        self.result = SweepOutcome("", [])
        self.cancelled = threading.Event()
        self.running = 0
        self.lock = threading.Lock()

    def open(self) -> tuple[Any, str]:
        from nbops.run.lineage import lineage_tags

        tags = lineage_tags(self.notebook)
        tags["nbops.kind"] = "sweep"
        tags.update(self.journal.owner.tags())
        tags["nbops.sweep.size"] = str(len(self.parameter_sets))
        opened = self.tracker_future.result()
        run_id: str = opened.start_run(
            self.settings.experiment, f"{self.notebook.stem} sweep", {}, tags, None,
            start_time=self.began,
        )
        return opened, run_id

    def _report(self) -> None:
        if self.progress is not None:
            runs = self.result.runs
            failed = sum(1 for r in runs if r.status != "FINISHED")
            self.progress(len(runs), failed, self.running, len(self.parameter_sets))

    def _one(self, index: int, params: Mapping[str, Any]) -> RunOutcome:
        with self.lock:
            self.running += 1
            self._report()
        if self.cancelled.is_set():
            return RunOutcome("", dict(params), "KILLED", None)
        try:
            return run_notebook(
                self.notebook, params, self.settings, parent_run_id=self.tracking.run_id_future,
                name=f"{self.notebook.stem} #{index + 1}", tracker=self.tracker_future,
                cancelled=self.cancelled,
            )
        finally:
            with self.lock:
                self.running -= 1

    def execute(self) -> SweepOutcome:
        result = self.result
        pool = ThreadPoolExecutor(max_workers=max(1, self.parallel), thread_name_prefix="nbops-run")
        futures: dict[Future[RunOutcome], int] = {}
        try:
            for index, params in enumerate(self.parameter_sets):
                futures[pool.submit(self._one, index, params)] = index
            pending = set(futures)
            while pending:
                done, pending = wait(pending, timeout=0.5, return_when=FIRST_COMPLETED)
                for future in done:
                    with self.lock:
                        result.runs.append(future.result())
                        self._report()
        except NbopsError:
            # the store could not be opened (every run raises it): stop the others, say why
            self.cancelled.set()
            pool.shutdown(wait=False, cancel_futures=True)
            stop_all_kernels()
            raise
        except KeyboardInterrupt:
            # stop: no new runs, kill the running kernels, let their threads record KILLED
            result.interrupted = True
            self.cancelled.set()
            pool.shutdown(wait=False, cancel_futures=True)
            stop_all_kernels()
            for future, index in futures.items():
                if future.cancelled():  # never started: no MLflow run, reported as KILLED
                    result.runs.append(
                        RunOutcome("", dict(self.parameter_sets[index]), "KILLED", None)
                    )
                    continue
                try:
                    outcome = future.result(timeout=60)
                except BaseException:  # noqa: BLE001, S112 - whatever happened, the run is over
                    continue
                if outcome not in result.runs:
                    result.runs.append(outcome)
            return result
        pool.shutdown(wait=True)
        return result

    def on_executed(self, tracker: Any, run_id: str, result: SweepOutcome) -> SweepOutcome:
        result.parent_run_id = run_id
        if result.interrupted:
            self.end(tracker, run_id, "KILLED", {"nbops.interrupted": "true"})
            return result
        finished = all(r.status == "FINISHED" for r in result.runs)
        self.end(tracker, run_id, "FINISHED" if finished else "FAILED")
        order = {id(r): i for i, r in enumerate(result.runs)}
        result.runs.sort(key=lambda r: (_index(self.parameter_sets, r.parameters), order[id(r)]))
        if result.runs and all(r.error for r in result.runs):
            raise ToolError(result.runs[0].error or "every run failed to start")
        return result

    def on_killed(self, run_id: str) -> BaseException:
        return KeyboardInterrupt()  # outside the children: the CLI reports every set KILLED


def run_sweep(
    notebook: Path,
    parameter_sets: Sequence[Mapping[str, Any]],
    settings: RunSettings,
    *,
    parallel: int = 1,
    progress: Callable[[int, int, int, int], None] | None = None,
) -> SweepOutcome:
    """Run every parameter set (``parallel`` at a time) under one parent run.

    ``progress(done, failed, running, total)`` is called as runs start and end. Ctrl-C:
    the running kernels stop, finished runs stay, unfinished ones are marked KILLED.
    """
    import nbformat

    from nbops.kernel import check_kernel
    from nbops.run.tracking import check_store_uri

    shown, notebook, settings = _absolute(notebook, settings)
    check_kernel(nbformat.read(notebook, as_version=4), settings.kernel, label=shown)
    check_store_uri(settings.store_uri)
    return _SweepRun(notebook, parameter_sets, settings, parallel, progress).run()


def _index(sets: Sequence[Mapping[str, Any]], params: Mapping[str, Any]) -> int:
    for i, candidate in enumerate(sets):
        if dict(candidate) == dict(params):
            return i
    return len(sets)


_PIPELINE_RUNNER = r"""
import importlib, json, numbers, sys
module_name, params_file, result_file, executor, scheduler = sys.argv[1:6]
status = {"steps": [], "error": None, "metrics": {}}
try:
    module = importlib.import_module(module_name)
    with open(params_file, encoding="utf-8") as handle:
        params = json.load(handle)
    on_step = lambda name, _: status["steps"].append(name)
    if executor == "dask":  # the step graph as Dask tasks (nbops.run.graph)
        from nbops.run.graph import run_graph
        values = run_graph(module, params, client=scheduler or None, on_step=on_step)
    else:
        values = module.run(params, on_step=on_step)
    for key, value in values.items():
        if isinstance(value, numbers.Real) and not isinstance(value, bool):
            status["metrics"][key] = float(value)
except BaseException as exc:
    status["error"] = {"ename": type(exc).__name__, "evalue": str(exc)[:2000]}
with open(result_file, "w", encoding="utf-8") as handle:
    json.dump(status, handle)
"""


class _PipelineRun(Lifecycle[dict[str, Any], RunOutcome]):
    """The generated module run in a Python subprocess, handed its run id up front."""

    def __init__(
        self, notebook: Path, layout: Any, parameters: Mapping[str, Any], settings: RunSettings,
        executor: str = "local", scheduler: str | None = None,
    ) -> None:
        from nbops.run.journal import SUFFIX, Journal

        self.notebook, self.layout, self.settings = notebook, layout, settings
        self.executor, self.scheduler = executor, scheduler  # "dask": nbops.run.graph
        self.tracker = _tracker(settings)
        journal = Journal(settings.runs_dir / notebook.stem / f".{_stamped()}{SUFFIX}")
        super().__init__(journal, dict(parameters), live=False, wait_open=True)

    def open(self) -> tuple[Any, str]:
        from nbops.run.lineage import lineage_tags

        tags = lineage_tags(self.notebook)
        tags["nbops.kind"] = "pipeline"
        tags["nbops.pipeline.module"] = self.layout.import_name
        tags["nbops.executor"] = self.executor
        if self.executor == "dask":
            tags["nbops.scheduler"] = self.scheduler or "local"
        tags.update(self.journal.owner.tags())
        run_id: str = self.tracker.start_run(
            self.settings.experiment, f"{self.notebook.stem} (pipeline)", dict(self.parameters),
            tags, None,
        )
        return self.tracker, run_id

    def execute(self) -> dict[str, Any]:
        """The runner's status: the steps done, the numeric results, the error if any."""
        import json
        import subprocess
        import sys
        import tempfile

        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(
            [str(self.layout.src_dir), env.get("PYTHONPATH", "")]
        ).rstrip(os.pathsep)
        env.update({"MLFLOW_TRACKING_URI": self.settings.store_uri, "MPLBACKEND": "Agg"})
        env.pop("NBOPS_RUN_ID", None)
        env.update(self.journal.env())
        with tempfile.TemporaryDirectory(prefix="nbops-pipeline-") as tmp:
            params_file, result_file = Path(tmp) / "params.json", Path(tmp) / "result.json"
            params_file.write_text(json.dumps(self.parameters, default=str), encoding="utf-8")
            try:
                subprocess.run(
                    [sys.executable, "-c", _PIPELINE_RUNNER, self.layout.import_name,
                     str(params_file), str(result_file), self.executor, self.scheduler or ""],
                    cwd=self.notebook.resolve().parent, env=env, capture_output=True, text=True,
                    timeout=self.settings.timeout, check=False,
                )
            except subprocess.TimeoutExpired:
                return {"steps": [], "error": {"ename": "Timeout", "evalue": ""}}
            if not result_file.exists():
                return {"steps": [], "error": {"ename": "ProcessExit", "evalue": "the pipeline died"}}
            status: dict[str, Any] = json.loads(result_file.read_text(encoding="utf-8"))
            return status

    def on_executed(self, tracker: Any, run_id: str, result: dict[str, Any]) -> RunOutcome:
        outcome = RunOutcome(run_id, dict(self.parameters), "FAILED", None)
        _journal_errors(tracker, run_id, self.journal)
        for key, value in result.get("metrics", {}).items():
            tracker.log_metric(run_id, key, value)
        outcome.duration_s = self.elapsed()
        error = result.get("error")
        if error:
            outcome.error = f"{error['ename']}: {error['evalue']}".strip(": ")
            self.end(tracker, run_id, "FAILED", {
                "nbops.error_name": error["ename"], "nbops.error_message": error["evalue"][:5000],
                "nbops.failed_step": str(len(result.get("steps", [])) + 1),
            })
        else:
            outcome.status = "FINISHED"
            self.end(tracker, run_id, "FINISHED")
        outcome.metrics = dict(tracker.get_run(run_id).metrics)
        return outcome


def run_pipeline(
    notebook: Path,
    parameters: Mapping[str, Any],
    settings: RunSettings,
    *,
    package: str | None = None,
    out: Path | None = None,
    executor: str = "local",
    scheduler: str | None = None,
) -> RunOutcome:
    """Run the module ``nbops modularize`` generated for ``notebook`` with ``parameters``,
    tracked like a notebook run (same experiment, so both forms compare side by side); the
    numeric values ``run()`` returns become metrics. ``executor="dask"`` runs its step graph
    as Dask tasks (:mod:`nbops.run.graph`) on ``scheduler`` or a local cluster; a scheduler
    that does not answer is a UsageError before the run is opened."""
    from nbops.core.layout import library_layout
    from nbops.errors import NotFoundError
    from nbops.run.tracking import check_store_uri

    _, notebook, settings = _absolute(notebook, settings)
    check_store_uri(settings.store_uri)
    layout = library_layout(notebook, package=package, out=out)
    if not layout.module_path.exists():
        raise NotFoundError(
            "no generated pipeline for this notebook",
            path=notebook,
            hint=f"run `nbops modularize {notebook}` first (expected {layout.module_path})",
        )
    if executor == "dask":
        from nbops import extras
        from nbops.run.graph import check_scheduler

        extras.require("dask", "nbops run --pipeline --executor dask")
        if scheduler:
            check_scheduler(scheduler)
    return _PipelineRun(notebook, layout, parameters, settings, executor, scheduler).run()
