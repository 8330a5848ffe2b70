"""``nbops run``: one tracked run of a notebook, or a sweep of them, through papermill.

A run: open an MLflow run (parameters, lineage tags), execute a copy of the notebook with the
parameters injected and the run's id in the kernel's environment (so ``nbops.log_metric``
lands in it), write the executed notebook to the runs folder, log it and an HTML render as
artifacts, close the run FINISHED, or FAILED with the failing cell. A sweep: a parent run,
one child run per parameter set, ``parallel`` kernels at a time; an interruption stops the
kernels, keeps finished runs and marks unfinished ones KILLED.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import os
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from nbops.errors import NbopsError, ToolError
from nbops.kernel import CellFailure, execute_notebook, stop_all_kernels

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
class RunOutcome:
    """One run: its id, parameters, status and where its executed notebook is."""

    run_id: str
    parameters: dict[str, Any]
    status: Literal["FINISHED", "FAILED", "KILLED"]
    output: Path | None
    failure: CellFailure | None = None
    duration_s: float = 0.0
    metrics: dict[str, float] = field(default_factory=dict)
    error: str | None = None  # a run that could not execute at all (kernel trouble)


@dataclass
class SweepOutcome:
    parent_run_id: str
    runs: list[RunOutcome]
    interrupted: bool = False


class Interrupted(KeyboardInterrupt):
    """A run stopped by Ctrl-C or SIGTERM, after its MLflow run was ended KILLED: ``outcome``
    is what the CLI reports (``run_id`` is "" when no run had been opened yet)."""

    def __init__(self, outcome: RunOutcome) -> None:
        super().__init__()
        self.outcome = outcome


def _tracker(settings: RunSettings) -> Any:
    """The store's tracker; runs of this host whose process died RUNNING are ended KILLED
    first (:meth:`~nbops.run.tracking.MlflowTracker.end_orphaned_runs`), never failing a run."""
    from nbops.run.tracking import MlflowTracker

    tracker = MlflowTracker(settings.store_uri)
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


class _Tracking(threading.Thread):
    """Opens the run while the kernel starts and executes, then logs the journal live.

    Opening MLflow (import, client, store check) takes ~2.5 s in a fresh process, longer
    than many notebooks take to run; the kernel does not wait for it. The run id reaches
    the kernel through the journal (:mod:`nbops.run.journal`)."""

    def __init__(self, open_run: Callable[[], tuple[Any, str]], journal: Any) -> None:
        super().__init__(name="nbops-tracking", daemon=True)
        self._open_run = open_run
        self.journal = journal
        self.tracker: Any = None
        self.run_id: str | None = None
        self.error: BaseException | None = None
        self.done = threading.Event()  # set when the notebook stops executing

    def run(self) -> None:
        from nbops.run.journal import write_run_id

        try:
            self.tracker, self.run_id = self._open_run()
            write_run_id(self.journal.folder, self.run_id)
        except BaseException as exc:  # noqa: BLE001 - handed to the caller in finish()
            self.error = exc
            return
        _html_exporter_quietly()
        while not self.done.wait(_JOURNAL_POLL_S):
            self._ingest()

    def _ingest(self) -> None:
        assert self.run_id is not None
        self.journal.ingest(self.run_id, self.tracker.log_batch, self.tracker.log_artifact)

    def finish(self) -> tuple[Any, str]:
        """Wait for the run to be open and the journal read to the end; its tracker and id."""
        self.done.set()
        self.join()
        if self.error is not None:
            raise self.error
        assert self.run_id is not None
        self._ingest()
        return self.tracker, self.run_id


_JOURNAL_POLL_S = 0.5


def _html_exporter_quietly() -> None:
    # rendering is optional: a failure here shows up as a run without its HTML artifact
    with contextlib.suppress(Exception):
        _html_exporter()


def run_notebook(
    notebook: Path,
    parameters: Mapping[str, Any],
    settings: RunSettings,
    *,
    parent_run_id: str | Future[str] | None = None,
    name: str | None = None,
    tracker: Any = None,
    cancelled: threading.Event | None = None,
) -> RunOutcome:
    """Execute ``notebook`` once with ``parameters``, tracked; never raises for a cell error.

    ``tracker`` and ``parent_run_id`` may be Futures (a sweep opens them once, in the
    background). The kernel starts at once; the MLflow run is opened meanwhile. A kernel that
    is not installed is a UsageError before anything starts.
    """
    import json
    import uuid

    import nbformat

    from nbops.kernel import ORIGINAL_INDEX_KEY, check_kernel
    from nbops.run.journal import Journal, remove_stale
    from nbops.run.lineage import frozen_requirements, lineage_tags
    from nbops.run.tracking import check_store_uri, stringify_param

    shown, notebook, settings = _absolute(notebook, settings)
    uri = settings.store_uri
    nb = nbformat.read(notebook, as_version=4)  # before anything starts: unreadable -> error
    if tracker is None:  # a sweep passes its tracker: it checked kernel and store up front
        check_kernel(nb, settings.kernel, label=shown)  # before the store is touched
        check_store_uri(uri)  # before any kernel starts
    stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    out_dir = settings.runs_dir / notebook.stem
    token = uuid.uuid4().hex[:8]
    journal = Journal(out_dir / f".{stamp}-{token}.journal")

    def open_run() -> tuple[Any, str]:
        opened = _resolve(tracker) or _tracker(settings)
        tags = lineage_tags(notebook)
        tags["nbops.kind"] = "notebook"
        tags.update(journal.owner.tags())  # who may end it if this process dies
        remove_stale(out_dir)  # journal folders of dead processes (their runs are ended)
        run_id: str = opened.start_run(
            settings.experiment, name or notebook.stem, dict(parameters), tags,
            _resolve(parent_run_id), start_time=began,
        )
        requirements = journal.folder / "requirements.txt"
        requirements.write_text(frozen_requirements(), encoding="utf-8")
        opened.log_artifact(run_id, requirements, "environment")
        return opened, run_id

    tracking = _Tracking(open_run, journal)
    began = time.time()  # the run's start in MLflow: now, not when the thread opens it
    tracking.start()
    started = time.monotonic()
    output = out_dir / f"{stamp}-{token}.ipynb"
    for index, cell in enumerate(nb.cells):
        cell.metadata[ORIGINAL_INDEX_KEY] = index
    # marks the executed copy (nbops check skips it in folders)
    nb.metadata.setdefault("nbops", {})[EXECUTED_FROM_KEY] = notebook.name
    stored = {str(k): stringify_param(v) for k, v in parameters.items()}
    # what the kernel's nbops.log_* need, in its environment (not in a cell: the executed
    # notebook is an artifact, and a tracking URI can carry credentials)
    kernel_env: dict[str, str | None] = {
        **journal.env(),
        "NBOPS_RUN_PARAMS": json.dumps(stored),
        "MLFLOW_TRACKING_URI": uri,
        "NBOPS_RUN_ID": None,
    }
    closed = False  # the MLflow run has been ended
    try:
        try:
            execution = execute_notebook(
                nb,
                output,
                parameters=parameters,
                cwd=notebook.resolve().parent,
                kernel_name=settings.kernel,
                timeout=settings.timeout,
                label=shown,
                env=kernel_env,
            )
        except NbopsError as exc:
            opened, run_id = tracking.finish()
            outcome = RunOutcome(run_id, dict(parameters), "FAILED", None)
            outcome.duration_s = time.monotonic() - started
            _journal_errors(opened, run_id, journal)
            if cancelled is not None and cancelled.is_set():
                outcome.status = "KILLED"  # its kernel was stopped by an interruption
                opened.end_run(run_id, "KILLED")
                closed = True
                return outcome
            outcome.error = str(exc)
            opened.set_tags(run_id, {"nbops.error": str(exc)[:5000]})
            opened.end_run(run_id, "FAILED")
            closed = True
            return outcome
        opened, run_id = tracking.finish()
        outcome = RunOutcome(run_id, dict(parameters), "FAILED", None)
        final = out_dir / f"{stamp}-{run_id[:8]}.ipynb"
        os.replace(output, final)
        outcome.output = final
        html = _html(final)
        opened.log_artifact(run_id, final, "notebook")
        if html is not None:
            opened.log_artifact(run_id, html, "notebook")
        _journal_errors(opened, run_id, journal)
        if cancelled is not None and cancelled.is_set():
            outcome.status = "KILLED"
            end_tags: dict[str, str] = {}
        elif execution.failure is not None:
            failure = execution.failure
            outcome.failure = failure
            outcome.status = "FAILED"
            end_tags = {
                "nbops.failed_cell": str(failure.cell + 1 if failure.cell is not None else ""),
                "nbops.error_name": failure.ename,
                "nbops.error_message": failure.evalue[:5000],
            }
        else:
            outcome.status = "FINISHED"
            end_tags = {}
        end_tags["nbops.output"] = str(final.resolve())
        opened.set_tags(run_id, end_tags)
        opened.end_run(run_id, outcome.status)
        closed = True
        outcome.duration_s = time.monotonic() - started
        try:
            outcome.metrics = dict(opened.get_run(run_id).metrics)
        except NbopsError:
            pass
        _index_run(out_dir, notebook, outcome, settings)
        return outcome
    except KeyboardInterrupt:  # Ctrl-C, SIGTERM (cli.run_commands): the run ends KILLED
        killed = RunOutcome("", dict(parameters), "KILLED", None)
        killed.duration_s = time.monotonic() - started
        if not closed:
            killed.run_id = _end_open_run(tracking, "KILLED", {"nbops.interrupted": "true"})
        raise Interrupted(killed) from None
    except BaseException as exc:  # nbops' own trouble: the run does not stay RUNNING
        if not closed:
            _end_open_run(tracking, "FAILED", {"nbops.error": f"{type(exc).__name__}: {exc}"})
        raise
    finally:
        journal.discard()  # whatever the ending: no journal folder stays behind


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


def _journal_errors(tracker: Any, run_id: str, journal: Any) -> None:
    """Tag the run with what the journal could not log (a bad value, a missing file)."""
    if journal.errors:
        tracker.set_tags(run_id, {"nbops.journal.errors": "; ".join(journal.errors)[:5000]})


def _end_open_run(tracking: _Tracking, status: str, tags: dict[str, str]) -> str:
    """End the run ``tracking`` opened (or is opening) as ``status``; its id, "" when none could
    be opened. Never raises: it runs on the way out of an interruption or an error."""
    if not (tracking.is_alive() or tracking.run_id is not None):
        return ""
    try:
        opened, run_id = tracking.finish()
    except BaseException:  # noqa: BLE001 - no run: nothing to end
        return tracking.run_id or ""
    with contextlib.suppress(Exception):
        opened.set_tags(run_id, {k: v[:5000] for k, v in tags.items()})
    with contextlib.suppress(Exception):
        opened.end_run(run_id, status)
    return run_id


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
    import uuid

    import nbformat

    from nbops.kernel import check_kernel
    from nbops.run.journal import SUFFIX, Journal
    from nbops.run.lineage import lineage_tags
    from nbops.run.tracking import check_store_uri

    shown, notebook, settings = _absolute(notebook, settings)
    check_kernel(nbformat.read(notebook, as_version=4), settings.kernel, label=shown)
    check_store_uri(settings.store_uri)
    opening = ThreadPoolExecutor(max_workers=1, thread_name_prefix="nbops-tracking")
    tracker_future: Future[Any] = opening.submit(_tracker, settings)
    # the parent run's claim (nbops.run.journal.Owner): a folder holding only the lock
    stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    owner = Journal(settings.runs_dir / notebook.stem / f".{stamp}-{uuid.uuid4().hex[:8]}{SUFFIX}")

    def open_parent() -> str:
        tags = lineage_tags(notebook)
        tags["nbops.kind"] = "sweep"
        tags.update(owner.owner.tags())
        tags["nbops.sweep.size"] = str(len(parameter_sets))
        opened = tracker_future.result()
        run_id: str = opened.start_run(
            settings.experiment, f"{notebook.stem} sweep", {}, tags, None, start_time=began
        )
        return run_id

    began = time.time()  # the sweep's start in MLflow, not when the thread opens its run

    parent_future: Future[str] = opening.submit(open_parent)
    opening.shutdown(wait=False)
    result = SweepOutcome("", [])
    cancelled = threading.Event()
    total = len(parameter_sets)
    running = 0
    lock = threading.Lock()

    def report() -> None:
        if progress is not None:
            failed = sum(1 for r in result.runs if r.status != "FINISHED")
            progress(len(result.runs), failed, running, total)

    def one(index: int, params: Mapping[str, Any]) -> RunOutcome:
        nonlocal running
        with lock:
            running += 1
            report()
        if cancelled.is_set():
            return RunOutcome("", dict(params), "KILLED", None)
        try:
            return run_notebook(
                notebook, params, settings, parent_run_id=parent_future,
                name=f"{notebook.stem} #{index + 1}", tracker=tracker_future, cancelled=cancelled,
            )
        finally:
            with lock:
                running -= 1

    try:
        pool = ThreadPoolExecutor(max_workers=max(1, parallel), thread_name_prefix="nbops-run")
        futures: dict[Future[RunOutcome], int] = {}
        try:
            for index, params in enumerate(parameter_sets):
                futures[pool.submit(one, index, params)] = index
            pending = set(futures)
            while pending:
                done, pending = wait(pending, timeout=0.5, return_when=FIRST_COMPLETED)
                for future in done:
                    with lock:
                        result.runs.append(future.result())
                        report()
        except NbopsError:
            # the store could not be opened (every run raises it): stop the others, say why
            cancelled.set()
            pool.shutdown(wait=False, cancel_futures=True)
            stop_all_kernels()
            raise
        except KeyboardInterrupt:
            # stop: no new runs, kill the running kernels, let their threads record KILLED
            result.interrupted = True
            cancelled.set()
            pool.shutdown(wait=False, cancel_futures=True)
            stop_all_kernels()
            for future, index in futures.items():
                if future.cancelled():  # never started: no MLflow run, reported as KILLED
                    result.runs.append(RunOutcome("", dict(parameter_sets[index]), "KILLED", None))
                    continue
                try:
                    outcome = future.result(timeout=60)
                except BaseException:  # noqa: BLE001, S112 - whatever happened, the run is over
                    continue
                if outcome not in result.runs:
                    result.runs.append(outcome)
            tracker, result.parent_run_id = tracker_future.result(), parent_future.result()
            tracker.set_tags(result.parent_run_id, {"nbops.interrupted": "true"})
            tracker.end_run(result.parent_run_id, "KILLED")
            return result
        pool.shutdown(wait=True)
        tracker, result.parent_run_id = tracker_future.result(), parent_future.result()
        status = "FINISHED" if all(r.status == "FINISHED" for r in result.runs) else "FAILED"
        tracker.end_run(result.parent_run_id, status)
        order = {id(r): i for i, r in enumerate(result.runs)}
        result.runs.sort(key=lambda r: (_index(parameter_sets, r.parameters), order[id(r)]))
        if result.runs and all(r.error for r in result.runs):
            raise ToolError(result.runs[0].error or "every run failed to start")
        return result
    finally:
        owner.discard()  # after the parent run is closed, whatever the ending


def _index(sets: Sequence[Mapping[str, Any]], params: Mapping[str, Any]) -> int:
    for i, candidate in enumerate(sets):
        if dict(candidate) == dict(params):
            return i
    return len(sets)


_PIPELINE_RUNNER = r"""
import importlib, json, numbers, sys
module_name, params_file, result_file = sys.argv[1:4]
status = {"steps": [], "error": None, "metrics": {}}
try:
    module = importlib.import_module(module_name)
    with open(params_file, encoding="utf-8") as handle:
        params = json.load(handle)
    values = module.run(params, on_step=lambda name, _: status["steps"].append(name))
    for key, value in values.items():
        if isinstance(value, numbers.Real) and not isinstance(value, bool):
            status["metrics"][key] = float(value)
except BaseException as exc:
    status["error"] = {"ename": type(exc).__name__, "evalue": str(exc)[:2000]}
with open(result_file, "w", encoding="utf-8") as handle:
    json.dump(status, handle)
"""


def run_pipeline(
    notebook: Path,
    parameters: Mapping[str, Any],
    settings: RunSettings,
    *,
    package: str | None = None,
    out: Path | None = None,
) -> RunOutcome:
    """Run the module ``nbops modularize`` generated for ``notebook`` with ``parameters``,
    tracked like a notebook run (same experiment, so both forms compare side by side); the
    numeric values ``run()`` returns become metrics."""
    import json
    import subprocess
    import sys
    import tempfile
    import uuid

    from nbops.core.layout import library_layout
    from nbops.errors import NotFoundError
    from nbops.run.journal import SUFFIX, Journal, write_run_id
    from nbops.run.lineage import lineage_tags
    from nbops.run.tracking import check_store_uri

    _, notebook, settings = _absolute(notebook, settings)
    uri = settings.store_uri
    check_store_uri(uri)
    layout = library_layout(notebook, package=package, out=out)
    if not layout.module_path.exists():
        raise NotFoundError(
            "no generated pipeline for this notebook",
            path=notebook,
            hint=f"run `nbops modularize {notebook}` first (expected {layout.module_path})",
        )
    src = layout.src_dir
    tracker = _tracker(settings)
    tags = lineage_tags(notebook)
    tags["nbops.kind"] = "pipeline"
    tags["nbops.pipeline.module"] = layout.import_name
    stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    journal = Journal(settings.runs_dir / notebook.stem / f".{stamp}-{uuid.uuid4().hex[:8]}{SUFFIX}")
    tags.update(journal.owner.tags())
    started = time.monotonic()
    run_id = ""
    closed = False
    try:
        run_id = tracker.start_run(
            settings.experiment, f"{notebook.stem} (pipeline)", dict(parameters), tags, None
        )
        outcome = RunOutcome(run_id, dict(parameters), "FAILED", None)
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join([str(src), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
        env.update({"MLFLOW_TRACKING_URI": uri, "MPLBACKEND": "Agg"})
        env.pop("NBOPS_RUN_ID", None)
        write_run_id(journal.folder, run_id)
        env.update(journal.env())
        with tempfile.TemporaryDirectory(prefix="nbops-pipeline-") as tmp:
            params_file, result_file = Path(tmp) / "params.json", Path(tmp) / "result.json"
            params_file.write_text(json.dumps(dict(parameters), default=str), encoding="utf-8")
            try:
                subprocess.run(
                    [sys.executable, "-c", _PIPELINE_RUNNER, layout.import_name,
                     str(params_file), str(result_file)],
                    cwd=notebook.resolve().parent, env=env, capture_output=True, text=True,
                    timeout=settings.timeout, check=False,
                )
            except subprocess.TimeoutExpired:
                status: dict[str, Any] = {"steps": [], "error": {"ename": "Timeout", "evalue": ""}}
            else:
                status = (
                    json.loads(result_file.read_text(encoding="utf-8"))
                    if result_file.exists()
                    else {"steps": [],
                          "error": {"ename": "ProcessExit", "evalue": "the pipeline died"}}
                )
        journal.ingest(run_id, tracker.log_batch, tracker.log_artifact)
        _journal_errors(tracker, run_id, journal)
        for key, value in status.get("metrics", {}).items():
            tracker.log_metric(run_id, key, value)
        outcome.duration_s = time.monotonic() - started
        error = status.get("error")
        if error:
            outcome.error = f"{error['ename']}: {error['evalue']}".strip(": ")
            tracker.set_tags(
                run_id,
                {"nbops.error_name": error["ename"], "nbops.error_message": error["evalue"][:5000],
                 "nbops.failed_step": str(len(status.get("steps", [])) + 1)},
            )
            tracker.end_run(run_id, "FAILED")
        else:
            outcome.status = "FINISHED"
            tracker.end_run(run_id, "FINISHED")
        closed = True
        outcome.metrics = dict(tracker.get_run(run_id).metrics)
        return outcome
    except KeyboardInterrupt:  # Ctrl-C, SIGTERM: the pipeline process is killed by run()
        killed = RunOutcome(run_id, dict(parameters), "KILLED", None)
        killed.duration_s = time.monotonic() - started
        if run_id and not closed:
            with contextlib.suppress(Exception):
                tracker.set_tags(run_id, {"nbops.interrupted": "true"})
                tracker.end_run(run_id, "KILLED")
        raise Interrupted(killed) from None
    except BaseException as exc:
        if run_id and not closed:
            with contextlib.suppress(Exception):
                tracker.set_tags(run_id, {"nbops.error": f"{type(exc).__name__}: {exc}"[:5000]})
                tracker.end_run(run_id, "FAILED")
        raise
    finally:
        journal.discard()
