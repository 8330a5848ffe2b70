"""The Run tab's server side: a notebook's parameters, background ``nbops run`` jobs, run history.

:class:`Runs` checks a run request against the notebook's parameters (:mod:`nbops.run.params`,
with the CLI's own messages) before anything starts, then runs ``python -m nbops run`` as a
subprocess (an argument list, never a shell: no user code runs in the server process) from the
notebook's folder, a job of :mod:`nbops.jobs` (this module is its ``nbops run`` kind,
:class:`RunKind`): progress from the JSON lines the CLI writes on stderr (``--progress
json``), the runs from its JSON on stdout (``--format json``). Values
travel exactly as checked: typed ones in a JSON parameter file (``-f``), grid values as JSON
lists (``--grid NAME=[...]``), so text holding commas survives. Cancelling is the CLI's Ctrl-C
(SIGINT: kernels stopped, finished runs kept, the others KILLED) sent to the job's process
group, then SIGTERM (which the CLI takes as Ctrl-C too), then SIGKILL, :data:`STOP_GRACE_S`
apart (:func:`nbops.jobs.stop_group`, the one stop policy of the server's jobs). It happens in the background: the DELETE answers at once. It works
whatever signal dispositions the server passed on (a server started in the background
ignores SIGINT, and so would its children). A run whose process was killed is left RUNNING in
MLflow by it; the watcher ends it KILLED at once, as any history read does for runs whose
process is gone (:meth:`nbops.run.tracking.MlflowTracker.end_orphans`), also after a server
restart. :meth:`Runs.close` stops every job the same way when the server stops.

The history comes from the tracking store ``nbops run`` uses for the notebook, through one
tracker per URI opened on first use (MLflow takes seconds to import: callers run
:meth:`Runs.history` in the worker pool). A local store that does not exist yet is not created.

The executor (``local``, ``dask``, a plugin's) and its scheduler come from the request, else
the project's ``[tool.nbops.run]``; they are checked with ``nbops run``'s own checks
(:mod:`nbops.run.executors`) before anything starts, passed to it as ``--executor`` and
``--scheduler``, and shown on the job and, from the runs' tags, in the history.

Runs are tracked in MLflow, an optional package: :func:`tracking_status` says whether it is
installed (found, not imported) in the parameters and history answers, so the Run tab can
disable Run with the install hint; a run request without it is a 503
(:class:`~nbops.errors.MissingPackageError`) before any process starts.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import logging
import math
import re
import shutil
import signal
import sys
import tempfile
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlsplit

from nbops import api_types
from nbops.errors import (
    AccessError,
    NbopsError,
    NotFoundError,
    UsageError,
)
from nbops.jobs import KEEP, SHUTDOWN_S, STOP_GRACE_S, Finish, Job, JobTable, cli_error
from nbops.run.tracking import mlflow_status
from nbops.server.pool import public_path, relative_text
from nbops.server.requests import HistoryRequest, RunFormRequest, RunRequest, Target

if TYPE_CHECKING:
    from nbops.config import RunConfig

__all__ = ["RunJob", "RunKind", "Runs", "redact", "relative_errors", "tracking_status"]

OUTPUT_TAG = "nbops.output"  # a tracked run's executed notebook (absolute path)
EXECUTOR_TAG, SCHEDULER_TAG = "nbops.executor", "nbops.scheduler"  # as the dask executor tags
LOCAL_CLUSTER = "local"  # the scheduler tag of a cluster started for the runs
UI_COMMAND = "nbops ui"
_PROGRESS = ("done", "failed", "running", "total")
_INTERRUPTED = (130, -signal.SIGINT)
_USERINFO = re.compile(r"([a-zA-Z][a-zA-Z0-9+.-]*://)[^/@\s]+@")

log = logging.getLogger(__name__)


def tracking_status() -> api_types.TrackingStatus:
    """``{"available", "message", "hint"}``: whether this server's Python has MLflow."""
    return mlflow_status()


def _require_run() -> None:
    """503 before anything starts when ``nbops run`` could not run here (papermill, MLflow)."""
    from nbops import extras

    extras.require("run", "running a notebook from JupyterLab", modules=["papermill", "mlflow"])


def finite(value: Any) -> Any:
    """``value`` with NaN and infinities as None: JSON has no such numbers (browsers refuse them)."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [finite(v) for v in value]
    return value


def redact(text: str) -> str:
    """``text`` (a tracking URI, or a message quoting one) with every URL's ``user:password@``
    replaced by ``***@``."""
    return _USERINFO.sub(r"\1***@", text)


def _store_exists(uri: str) -> bool:
    """False for a local store (SQLite file, ``file:`` folder) that nothing has created yet."""
    parts = urlsplit(uri)
    scheme = parts.scheme.lower()
    if scheme == "sqlite":
        raw = uri.split("://", 1)[-1].split("?", 1)[0]
        raw = raw.removeprefix("/")  # sqlite:///rel.db, sqlite:////abs.db
        return raw in ("", ":memory:") or Path(raw).exists()
    if scheme == "file":
        return Path(parts.path).exists()
    if scheme == "" or len(scheme) == 1:  # a plain path (C: is a drive, not a scheme)
        return Path(uri).exists()
    return True


@dataclass
class RunJob(Job):
    """One ``nbops run`` subprocess and what is known of it (the ``Job`` of docs/rest-api.yaml)."""

    path: str = ""  # the notebook, root-relative
    kind: Literal["run", "sweep", "pipeline"] = "run"
    total: int = 0
    done: int = 0
    failed: int = 0
    running: int = 0
    parent_run_id: str | None = None
    runs: list[api_types.JobRun] = field(default_factory=list)
    executor: str = "local"
    scheduler: str | None = None  # dask's address; None: a local cluster

    def to_json(self) -> api_types.Job:
        return {
            "id": self.id,
            "path": self.path,
            "kind": self.kind,
            "state": self.state,
            "total": self.total,
            "done": self.done,
            "failed": self.failed,
            "running": self.running,
            "started": self.started,
            "ended": self.ended,
            "parent_run_id": self.parent_run_id,
            "runs": finite(self.runs),
            "error": self.error,
            "executor": self.executor,
            "scheduler": self.scheduler,
        }


@contextlib.contextmanager
def relative_errors(root: Path) -> Iterator[None]:
    """Errors name files by their real path: make their text relative to ``root``."""
    try:
        yield
    except NbopsError as exc:
        exc.message = relative_text(root, exc.message)
        exc.hint = relative_text(root, exc.hint) if exc.hint else exc.hint
        raise


def _report(out: bytes) -> dict[str, Any] | None:
    """The JSON document ``nbops run --format json`` printed last, if any."""
    text = out.decode("utf-8", "replace")
    decoder = json.JSONDecoder()
    for start in (0, text.rfind('{\n  "parent_run_id"')):  # a kernel may have written first
        if start < 0:
            continue
        try:
            value, _ = decoder.raw_decode(text, start)
        except ValueError:
            continue
        if isinstance(value, dict) and isinstance(value.get("runs"), list):
            return value
    return None


def _progress(line: str) -> dict[str, int] | None:
    if not line.startswith("{"):
        return None
    try:
        value = json.loads(line)
    except ValueError:
        return None
    if not isinstance(value, dict) or set(value) != set(_PROGRESS):
        return None
    if not all(isinstance(value[k], int) for k in _PROGRESS):
        return None
    return value


class RunKind:
    """The ``nbops run`` kind of :class:`nbops.jobs.JobTable`: progress from the CLI's JSON
    lines on stderr, the runs from its report on stdout."""

    name = "nbops run"

    def __init__(self, runs: Runs) -> None:
        self.runs = runs

    def progress(self, job: RunJob, line: str) -> bool:
        counts = _progress(line)
        if counts is None:
            return False
        job.done, job.failed = counts["done"], counts["failed"]
        job.running, job.total = counts["running"], counts["total"]
        return True

    def finish(self, job: RunJob, code: int, out: bytes, tail: list[str]) -> Finish:
        """``finished``: every run FINISHED; ``failed``: the CLI reported and a run failed
        (exit 1: a cell, 3: a kernel; ``error`` is None, ``runs`` say which), or it could not
        do its work (``error`` says why); ``cancelled``: stopped, the runs it finished kept."""
        if code < 0:  # killed: its MLflow runs may be RUNNING still (before the job ends, so
            self.runs._end_orphans(job)  # a history read after it sees them ended)
        report = _report(out)
        fields: dict[str, Any] = {"running": 0}
        if report is not None:
            runs = [self.runs._run(r) for r in report["runs"] if isinstance(r, dict)]
            fields.update(
                parent_run_id=report.get("parent_run_id") or None,
                runs=runs,
                done=len(runs),
                failed=sum(1 for r in runs if r["status"] != "FINISHED"),
            )
        if job.stopped_by is not None or code in _INTERRUPTED:
            return Finish("cancelled", None, fields)
        if report is not None and code in (0, 1, 3):
            return Finish("finished" if code == 0 else "failed", None, fields)
        text = relative_text(self.runs.root, cli_error(code, tail, "nbops run"))
        return Finish("failed", redact(text), fields)


class Runs:
    """The run jobs of one server (a :class:`nbops.jobs.JobTable` of :class:`RunKind`), its
    history reads, and the trackers they open."""

    def __init__(self, root: Path, *, keep: int = KEEP, grace: float = STOP_GRACE_S) -> None:
        self.root = root
        self.table: JobTable[RunJob, api_types.Job] = JobTable(
            RunKind(self),
            keep=keep,
            grace=grace,
            missing=("no such run job on this server", "GET /nbops/runs?path=... lists them"),
        )
        self._trackers: dict[str, Any] = {}
        self._trackers_lock = threading.Lock()

    # -- parameters --------------------------------------------------------------------------
    def _relative_errors(self) -> contextlib.AbstractContextManager[None]:
        return relative_errors(self.root)

    def _read(self, target: Target) -> Any:
        from nbops.run.params import read_parameters

        with self._relative_errors():
            params = read_parameters(target.file)
        return dataclasses.replace(params, path=Path(target.name))  # messages name it so

    def parameters(self, target: Target) -> api_types.Parameters:
        """The ``nbops params --format json`` document; without a parameters cell, also the
        CLI's ``message`` (what NB303 asks and how to fix it)."""
        from nbops.run.params import no_cell_message, parameters_document

        params = self._read(target)
        found = parameters_document(params)
        document: api_types.Parameters = {
            "notebook": target.name,
            "cell": found["cell"],
            "tagged": found["tagged"],
            "parameters": found["parameters"],
            "tracking": tracking_status(),  # the Run tab disables Run without MLflow
            "executors": self.executors(target),
        }
        if params.cell is None:
            document["message"] = no_cell_message(target.name).strip()
        return document

    # -- executors ---------------------------------------------------------------------------
    def _run_config(self, target: Target) -> RunConfig:
        """The notebook's project's ``[tool.nbops.run]`` (a ConfigError names the file
        root-relative)."""
        from nbops.config import load_config

        try:
            with self._relative_errors():
                return load_config(target.file).run
        except NbopsError as exc:
            if exc.path:
                exc.path = public_path(self.root, exc.path) or Path(exc.path).name
            raise

    def executors(self, target: Target) -> api_types.RunExecutors:
        """The executors the form offers (installed or not, with the install line) and the
        project's defaults; a ``[tool.nbops.run]`` that cannot be read is its ``message``."""
        from nbops import extras
        from nbops.config import RunConfig
        from nbops.run.executors import EXECUTORS

        message: str | None = None
        try:
            run = self._run_config(target)
        except NbopsError as exc:
            run, message = RunConfig(), str(exc)
        available: list[api_types.RunExecutorsAvailableItem] = []
        for name in EXECUTORS.names():
            missing = name == "dask" and bool(extras.missing("dask"))
            available.append({"name": name, "installed": not missing,
                              "install": extras.install_line("dask") if missing else None})
        return {"available": available, "executor": run.executor, "scheduler": run.scheduler,
                "message": message}

    def _check_store(self, target: Target) -> Callable[[str | None], None]:
        """``check_scheduler_store`` for the notebook's project, as ``nbops run`` calls it."""
        from nbops.config import project_root
        from nbops.run.executors.dask import check_scheduler_store
        from nbops.run.runner import RunSettings, default_runs_dir

        project = project_root(target.file)[0]
        settings = RunSettings(project_root=project, runs_dir=default_runs_dir(project),
                               experiment=target.file.stem)

        def check(address: str | None) -> None:
            with self._relative_errors():
                check_scheduler_store(settings, address)

        return check

    def _executor(self, req: RunRequest) -> tuple[str, str | None]:
        """The request's executor and scheduler (else the project's), checked as ``nbops run``
        checks them (400; Dask not installed: 503)."""
        from nbops.run.executors import choose_executor

        run = self._run_config(req.target)
        _, scheduler = choose_executor(req.executor, req.scheduler, run)
        name = req.executor or run.executor
        if name == "dask":
            self._check_store(req.target)(scheduler)
        return name, scheduler

    # -- starting ----------------------------------------------------------------------------
    def check(self, req: RunRequest) -> tuple[dict[str, Any], list[str], int]:
        """The fixed values, the ``--grid`` items and the number of runs
        (:func:`nbops.run.params.check_run_request`); every mistake is a
        :class:`~nbops.errors.UsageError` raised here, before any process starts."""
        from nbops.run.params import check_run_request

        params = self._read(req.target)
        with self._relative_errors():
            return check_run_request(params, req.parameters, req.grid)

    def validate(self, req: RunFormRequest) -> api_types.RunFormCheck:
        """The Run tab's form checked as :meth:`start` would check its request
        (:func:`nbops.run.form.check_form`: errors per field, the request, the run count); a
        project above the root or a missing MLflow, which refuse every run of the notebook,
        are the form's own error (``""``). Writes nothing, starts nothing."""
        from nbops.core.notebook import read_notebook
        from nbops.kernel import check_kernel
        from nbops.run.form import check_form
        from nbops.run.params import read_parameters

        name = req.target.name
        with self._relative_errors():
            notebook = read_notebook(req.target.file)
            params = dataclasses.replace(read_parameters(notebook), path=Path(name))
        try:
            run = self._run_config(req.target)
        except NbopsError as exc:  # the form's executor comes from it
            answer = check_form(params, req.mode, req.fields, req.parallel, req.kernel,
                                req.timeout, path=name)
            answer["errors"]["executor"] = str(exc)
            answer["ok"], answer["request"], answer["runs"] = False, None, 0
            return answer
        answer = check_form(
            params, req.mode, req.fields, req.parallel, req.kernel, req.timeout,
            req.executor, req.scheduler,
            path=name, check_kernel=lambda kernel: check_kernel(notebook.raw, kernel, label=name),
            run_config=run, check_store=self._check_store(req.target),
            check_pipeline=lambda: self._check_pipeline(req.target),
        )  # fmt: skip
        if answer["ok"]:
            try:
                self._check_project(req.target)
                _require_run()
            except NbopsError as exc:
                answer["ok"], answer["request"], answer["runs"] = False, None, 0
                answer["errors"] = {"": str(exc)}
        return answer

    def _check_project(self, target: Target) -> None:
        """A project above the root is refused (403): a run writes ``nbops-runs/`` and
        ``.nbops/`` in the notebook's project, the folder of its nearest ``pyproject.toml``
        (else the git root), as modularize writes there (see server.pool)."""
        from nbops.config import project_root

        project, _ = project_root(target.file)
        if not project.is_relative_to(self.root.resolve()):
            raise AccessError(
                "the notebook's project (the folder of its nearest pyproject.toml, else the "
                "git root) is above the server root: a run would write nbops-runs/ and "
                ".nbops/ there",
                path=target.name,
                hint="start Jupyter in the project's folder or above it, or run it from a "
                "terminal (nbops run NOTEBOOK)",
            )

    def _check_pipeline(self, target: Target) -> None:
        """The module ``nbops modularize`` generated for the notebook, where ``nbops run
        --pipeline`` looks for it; none is a NotFoundError (404) saying to modularize first."""
        from nbops.core.layout import library_layout

        layout = library_layout(target.file)
        if not layout.module_path.exists():
            raise NotFoundError(
                "no generated pipeline for this notebook",
                path=target.name,
                hint="modularize it first (the Modularize tab, or `nbops modularize "
                f"{target.name}`), then run the pipeline",
            )

    def _check_place(self, req: RunRequest) -> None:
        """What ``nbops run`` would refuse, refused here (nothing starts): a kernel that is not
        installed (400), and a project above the root (403)."""
        from nbops.core.notebook import read_notebook
        from nbops.kernel import check_kernel

        self._check_project(req.target)
        with self._relative_errors():
            check_kernel(read_notebook(req.target.file).raw, req.kernel, label=req.target.name)

    def start(self, req: RunRequest) -> api_types.Job:
        """Check the request, start ``nbops run`` in the background, return its job."""
        base, items, total = self.check(req)
        self._check_place(req)
        _require_run()  # else the run fails after the notebook ran
        executor, scheduler = self._executor(req)
        if req.pipeline:
            if executor not in ("local", "dask"):
                raise UsageError(f"a pipeline runs on the local or dask executor, not {executor!r}")
            self._check_pipeline(req.target)
        workdir = Path(tempfile.mkdtemp(prefix="nbops-job-"))
        argv = [sys.executable, "-m", "nbops", "run", str(req.target.file),
                "--format", "json", "--progress", "json", f"--parallel={req.parallel}"]  # fmt: skip
        if base:
            values = workdir / "parameters.json"
            values.write_text(json.dumps(base), encoding="utf-8")
            argv.append(f"--parameters-file={values}")
        argv += [f"--grid={item}" for item in items]  # NAME=[JSON list]: commas survive
        if req.kernel:
            argv.append(f"--kernel={req.kernel}")
        if req.timeout:
            argv.append(f"--timeout={req.timeout!r}")
        argv.append(f"--executor={executor}")
        if scheduler:
            argv.append(f"--scheduler={scheduler}")
        if req.pipeline:
            argv.append("--pipeline")
        job = RunJob(
            id=uuid.uuid4().hex[:12],
            path=req.target.name,
            kind="sweep" if req.grid else "pipeline" if req.pipeline else "run",
            total=total,
            executor=executor,
            scheduler=scheduler,
        )
        return self.table.start(
            job,
            argv,
            cwd=req.target.file.parent,
            cleanup=lambda: shutil.rmtree(workdir, ignore_errors=True),
        )

    def _end_orphans(self, job: RunJob) -> None:
        """End KILLED the runs a killed job left RUNNING in its notebook's store (what the next
        history read would do), so the Run tab's history is right at once."""
        from nbops.config import project_root
        from nbops.run.tracking import default_tracking_uri

        try:
            file = self.root / job.path
            uri = default_tracking_uri(project_root(file)[0])
            if _store_exists(uri):
                self._tracker(uri).end_orphaned_runs()
        except (NbopsError, OSError) as exc:
            log.warning("nbops: cannot end the runs of job %s: %s", job.id, redact(str(exc)))

    def _run(self, entry: dict[str, Any]) -> api_types.JobRun:
        """One entry of the CLI's ``runs``, its paths root-relative."""
        error = entry.get("error")
        output = entry.get("output")
        return {
            "run_id": str(entry.get("run_id") or ""),
            "status": str(entry.get("status") or ""),
            "parameters": dict(entry.get("parameters") or {}),
            "metrics": dict(entry.get("metrics") or {}),
            "output": public_path(self.root, output) if isinstance(output, str) else None,
            "duration_s": entry.get("duration_s"),
            "failed_cell": entry.get("failed_cell"),
            "error": redact(relative_text(self.root, str(error))) if error else None,
        }

    # -- reading and cancelling --------------------------------------------------------------
    def job(self, job_id: str) -> api_types.Job:
        return self.table.get(job_id)

    def jobs_for(self, name: str) -> list[api_types.Job]:
        """This server's jobs for one notebook, newest first."""
        return self.table.list(lambda job: job.path == name)

    def cancel(self, job_id: str) -> api_types.Job:
        """Stop a running job in the background (:func:`nbops.jobs.stop_group`) and return it
        at once (a job that has ended, or is being stopped, is left as it is)."""
        return self.table.cancel(job_id)

    def close(self, timeout: float = SHUTDOWN_S) -> None:
        """Stop every running job (the server is stopping)."""
        self.table.close(timeout)

    # -- history -----------------------------------------------------------------------------
    def _tracker(self, uri: str) -> Any:
        with self._trackers_lock:  # one open at a time: the first one imports MLflow
            tracker = self._trackers.get(uri)
            if tracker is None:
                from nbops.run.tracking import MlflowTracker

                tracker = self._trackers[uri] = MlflowTracker(uri)
            return tracker

    def history(self, req: HistoryRequest) -> api_types.RunHistory:
        """This server's jobs for the notebook and its tracked runs, newest first."""
        from nbops.config import project_root
        from nbops.run.tracking import default_tracking_uri

        uri = default_tracking_uri(project_root(req.target.file)[0])
        status = tracking_status()
        records: list[Any] = []
        if status["available"] and _store_exists(uri):
            try:
                with self._relative_errors():
                    tracker = self._tracker(uri)
                    records = tracker.list_runs(None, req.target.file, max_results=req.limit)
                    records = tracker.end_orphans(records)  # RUNNING, their process gone
            except NbopsError as exc:  # MLflow's messages quote the URI: no password in them
                exc.message = redact(exc.message)
                exc.hint = redact(exc.hint) if exc.hint else exc.hint
                raise
        runs: list[api_types.RunRecord] = []
        for record in records:
            entry = record.to_json(public_path(self.root, record.tags.get(OUTPUT_TAG)))
            entry["artifact_uri"] = redact(entry["artifact_uri"])
            entry["executor"] = record.tags.get(EXECUTOR_TAG) or "local"  # untagged: local
            scheduler = record.tags.get(SCHEDULER_TAG)
            entry["scheduler"] = redact(scheduler) if scheduler and scheduler != LOCAL_CLUSTER else None
            runs.append(finite(entry))
        return {
            "jobs": self.jobs_for(req.target.name),
            "runs": runs,
            "tracking": {"uri": redact(uri), "ui_command": UI_COMMAND, **status},
        }
