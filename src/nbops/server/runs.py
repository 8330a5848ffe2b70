"""The Run tab's server side: a notebook's parameters, background ``nbops run`` jobs, run history.

:class:`Runs` checks a run request against the notebook's parameters (:mod:`nbops.run.params`,
with the CLI's own messages) before anything starts, then runs ``python -m nbops run`` as a
subprocess (an argument list, never a shell: no user code runs in the server process) from the
notebook's folder and keeps a :class:`Job` for it: progress from the JSON lines the CLI writes
on stderr (``--progress json``), the runs from its JSON on stdout (``--format json``). Values
travel exactly as checked: typed ones in a JSON parameter file (``-f``), grid values as JSON
lists (``--grid NAME=[...]``), so text holding commas survives. Cancelling is the CLI's Ctrl-C
(SIGINT: kernels stopped, finished runs kept, the others KILLED) sent to the job's process
group, then SIGTERM (which the CLI takes as Ctrl-C too), then SIGKILL, :data:`STOP_GRACE_S`
apart (:func:`stop_group`, the one stop policy of the server's jobs: the Hackathon tab's
scoring uses it too). It happens in the background: the DELETE answers at once. It works
whatever signal dispositions the server passed on (a server started in the background
ignores SIGINT, and so would its children). A run whose process was killed is left RUNNING in
MLflow by it; the watcher ends it KILLED at once, as any history read does for runs whose
process is gone (:meth:`nbops.run.tracking.MlflowTracker.end_orphans`), also after a server
restart. :meth:`Runs.close` stops every job the same way when the server stops.

The history comes from the tracking store ``nbops run`` uses for the notebook, through one
tracker per URI opened on first use (MLflow takes seconds to import: callers run
:meth:`Runs.history` in the Jobs pool). A local store that does not exist yet is not created.

Runs are tracked in MLflow, an optional package: :func:`tracking_status` says whether it is
installed (found, not imported) in the parameters and history answers, so the Run tab can
disable Run with the install hint; a run request without it is a 503
(:class:`~nbops.errors.MissingPackageError`) before any process starts.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as _dt
import json
import logging
import math
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import uuid
from collections import OrderedDict, deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlsplit

from nbops.errors import (
    AccessError,
    NbopsError,
    NotFoundError,
    ToolError,
    UsageError,
)
from nbops.run.tracking import mlflow_status, require_mlflow
from nbops.server.jobs import public_path, relative_text
from nbops.server.requests import HistoryRequest, RunRequest, Target

__all__ = [
    "STOP_GRACE_S",
    "Job",
    "Runs",
    "cli_error",
    "detached",
    "drain",
    "environment",
    "now",
    "prune_ended",
    "redact",
    "relative_errors",
    "stop_group",
    "tracking_status",
]  # the helpers are shared with nbops.server.hackathon

KEEP = 50  # finished jobs a server remembers (running ones are never dropped)
STOP_GRACE_S = 5.0  # stop_group: after SIGINT before SIGTERM, and after SIGTERM before SIGKILL
SHUTDOWN_S = 10.0  # how long a stopping server waits for its jobs
OUTPUT_TAG = "nbops.output"  # a tracked run's executed notebook (absolute path)
UI_COMMAND = "nbops ui"
_PRIVATE_ENV = ("JUPYTER_TOKEN",)  # the server's secret stays out of runs and their kernels
_TAIL = 40  # stderr lines kept for an error message
_LINE = 64 * 1024  # longest piece of a stderr line read at once
_DRAIN_S = 5.0  # how long the pipes may stay open after the process exited
_PROGRESS = ("done", "failed", "running", "total")
_ERROR_PREFIXES = ("nbops: error: ", "nbops: internal error: ")  # cli.main's one-line errors
_INTERRUPTED = (130, -signal.SIGINT)
_USERINFO = re.compile(r"([a-zA-Z][a-zA-Z0-9+.-]*://)[^/@\s]+@")

log = logging.getLogger(__name__)


def now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


def tracking_status() -> dict[str, Any]:
    """``{"available", "message", "hint"}``: whether this server's Python has MLflow."""
    return mlflow_status()


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
class Job:
    """One ``nbops run`` subprocess and what is known of it (the ``Job`` of docs/rest-api.yaml)."""

    id: str
    path: str  # the notebook, root-relative
    kind: str  # run | sweep
    total: int
    started: str = field(default_factory=now)
    state: str = "running"  # running | finished | failed | cancelled | error
    done: int = 0
    failed: int = 0
    running: int = 0
    ended: str | None = None
    parent_run_id: str | None = None
    runs: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)
    watcher: threading.Thread | None = field(default=None, repr=False)
    cancelled: bool = False

    def to_json(self) -> dict[str, Any]:
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
        }


def prune_ended(jobs: dict[str, Any], keep: int) -> None:
    """Forget the oldest ended jobs beyond ``keep`` (running ones always stay)."""
    ended = [k for k, j in jobs.items() if j.state != "running"]
    for key in ended[: max(0, len(jobs) - keep)]:
        del jobs[key]


@contextlib.contextmanager
def relative_errors(root: Path) -> Iterator[None]:
    """Errors name files by their real path: make their text relative to ``root``."""
    try:
        yield
    except NbopsError as exc:
        exc.message = relative_text(root, exc.message)
        exc.hint = relative_text(root, exc.hint) if exc.hint else exc.hint
        raise


def cli_error(root: Path, code: int, tail: list[str], what: str, *, redacted: bool) -> str:
    """An nbops subprocess's one-line error from the last lines of its stderr (never a
    traceback: tracebacks are not its last lines), else how ``what`` ended."""
    for line in reversed(tail):
        for prefix in _ERROR_PREFIXES:
            if line.startswith(prefix):
                text = relative_text(root, line[len(prefix) :])
                return redact(text) if redacted else text
    if code < 0:
        return f"{what} was stopped by signal {-code}"
    return f"{what} exited with code {code}"


def _signal_group(process: subprocess.Popen[bytes], sig: int) -> None:
    with contextlib.suppress(OSError):  # the group has gone already
        os.killpg(process.pid, sig)


def stop_group(process: subprocess.Popen[bytes], grace: float = STOP_GRACE_S) -> int | None:
    """Stop a job's process and everything in its process group (:func:`detached` made one):
    SIGINT (the CLI's Ctrl-C), then SIGTERM, then SIGKILL, each after ``grace`` seconds in
    which the process did not exit; a last SIGKILL takes what it left in its group. Works
    whatever the process's signal dispositions (SIGKILL cannot be ignored). Returns its exit
    code (None: it did not exit, which only an uninterruptible sleep explains)."""
    if sys.platform == "win32":  # no process groups to signal there
        with contextlib.suppress(OSError):
            process.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            return process.wait(grace)
        return None
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGKILL):
        if process.poll() is not None:
            break
        _signal_group(process, sig)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(grace)
    _signal_group(process, signal.SIGKILL)  # what the process started may linger after it
    return process.poll()


def detached() -> dict[str, Any]:
    """Popen options that keep a terminal's Ctrl-C aimed at the server away from the runs."""
    if sys.platform == "win32":
        return {"creationflags": subprocess.CREATE_NEW_PROCESS_GROUP}
    return {"start_new_session": True}


def environment() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in _PRIVATE_ENV}
    env["PYTHONIOENCODING"] = "utf-8"
    return env


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


def drain(stream: IO[bytes], chunks: list[bytes]) -> None:
    """Read ``stream`` into ``chunks`` as data comes (the caller may stop waiting early)."""
    read = getattr(stream, "read1", stream.read)
    while chunk := read(_LINE):
        chunks.append(chunk)


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


def _as_json(value: Any, what: str) -> str:
    try:
        return json.dumps(value)
    except (TypeError, ValueError):
        raise UsageError(
            f"{what} cannot be handed to a run: not expressible as JSON",
            hint="give it as a list, dict, number, boolean or text",
        ) from None


class Runs:
    """The run jobs of one server, its history reads, and the trackers they open."""

    def __init__(self, root: Path, *, keep: int = KEEP, grace: float = STOP_GRACE_S) -> None:
        self.root = root
        self.keep = max(1, keep)
        self.grace = grace
        self._jobs: OrderedDict[str, Job] = OrderedDict()
        self._lock = threading.Lock()
        self._trackers: dict[str, Any] = {}
        self._trackers_lock = threading.Lock()
        self._closed = False

    # -- parameters --------------------------------------------------------------------------
    def _relative_errors(self) -> contextlib.AbstractContextManager[None]:
        return relative_errors(self.root)

    def _read(self, target: Target) -> Any:
        from nbops.run.params import read_parameters

        with self._relative_errors():
            params = read_parameters(target.file)
        return dataclasses.replace(params, path=Path(target.name))  # messages name it so

    def parameters(self, target: Target) -> dict[str, Any]:
        """The ``nbops params --format json`` document; without a parameters cell, also the
        CLI's ``message`` (what NB303 asks and how to fix it)."""
        from nbops.cli.params_commands import _no_cell_message as no_cell_message
        from nbops.cli.params_commands import params_to_json

        params = self._read(target)
        document = params_to_json(params)
        document["notebook"] = target.name
        if params.cell is None:
            document["message"] = no_cell_message(target.name).strip()
        document["tracking"] = tracking_status()  # the Run tab disables Run without MLflow
        return document

    # -- starting ----------------------------------------------------------------------------
    def _value(self, params: Any, name: str, value: Any) -> Any:
        """Text as ``nbops run -p NAME VALUE`` reads it; JSON taken as is, checked by type."""
        from nbops.run.params import _unknown as unknown_parameter  # the CLI's message
        from nbops.run.params import check_values, parse_value

        spec = params.get(name)
        if spec is None:
            raise unknown_parameter(params, name)
        if isinstance(value, str):
            return parse_value(spec, value)
        try:
            return check_values(params, {name: value})[name]
        except UsageError as exc:
            raise UsageError(
                exc.message,
                hint=f"send {name!r} as text (read as by `nbops run -p`) or as a JSON value "
                f"of its type ({spec.type})",
            ) from None

    def check(self, req: RunRequest) -> tuple[dict[str, Any], list[str], int]:
        """The fixed values, the ``--grid`` items and the number of runs; every mistake is a
        :class:`~nbops.errors.UsageError` raised here, before any process starts."""
        from nbops.run.params import expand_grid

        params = self._read(req.target)
        with self._relative_errors():
            base = {name: self._value(params, name, v) for name, v in req.parameters.items()}
            items: list[str] = []
            for name, values in req.grid.items():
                if name in req.parameters:
                    raise UsageError(
                        f"{name!r} is given both in 'parameters' and in 'grid'",
                        hint="drop one: 'parameters' fixes the value for every run, 'grid' "
                        "varies it",
                    )
                typed = [self._value(params, name, v) for v in values]
                items.append(f"{name}={_as_json(typed, f'a grid value of {name!r}')}")
            sets = expand_grid(base, items, params)  # empty lists, duplicates, as the CLI
            _as_json(base, "a parameter value")
        return base, items, len(sets)

    def _check_place(self, req: RunRequest) -> None:
        """What ``nbops run`` would refuse, refused here (nothing starts): a kernel that is not
        installed (400), and a project above the root (403): a run writes ``nbops-runs/`` and
        ``.nbops/`` in the notebook's project, the folder of its nearest ``pyproject.toml``
        (else the git root), as modularize writes there (see server.jobs)."""
        from nbops.config import project_root
        from nbops.core.notebook import read_notebook
        from nbops.run.execute import check_kernel

        project, _ = project_root(req.target.file)
        if not project.is_relative_to(self.root.resolve()):
            raise AccessError(
                "the notebook's project (the folder of its nearest pyproject.toml, else the "
                "git root) is above the server root: a run would write nbops-runs/ and "
                ".nbops/ there",
                path=req.target.name,
                hint="start Jupyter in the project's folder or above it, or run it from a "
                "terminal (nbops run NOTEBOOK)",
            )
        with self._relative_errors():
            check_kernel(read_notebook(req.target.file).raw, req.kernel, label=req.target.name)

    def start(self, req: RunRequest) -> dict[str, Any]:
        """Check the request, start ``nbops run`` in the background, return its job."""
        base, items, total = self.check(req)
        self._check_place(req)
        require_mlflow()  # else the run fails after the notebook ran
        if self._closed:
            raise ToolError("the server is stopping: no new runs")
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
        try:
            process = subprocess.Popen(  # an argument list of our own making, no shell
                argv,
                cwd=req.target.file.parent,
                env=environment(),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                **detached(),
            )
        except OSError as exc:
            shutil.rmtree(workdir, ignore_errors=True)
            raise ToolError(f"cannot start nbops run: {exc.strerror or exc}") from None
        job = Job(
            id=uuid.uuid4().hex[:12],
            path=req.target.name,
            kind="sweep" if req.grid else "run",
            total=total,
            process=process,
        )
        job.watcher = threading.Thread(
            target=self._watch,
            args=(job, process, workdir),
            name=f"nbops-job-{job.id}",
            daemon=True,
        )
        with self._lock:
            self._jobs[job.id] = job
            self._prune()
            snapshot = job.to_json()
        job.watcher.start()
        return snapshot

    def _prune(self) -> None:
        prune_ended(self._jobs, self.keep)

    # -- watching ----------------------------------------------------------------------------
    def _watch(self, job: Job, process: subprocess.Popen[bytes], workdir: Path) -> None:
        tail: deque[str] = deque(maxlen=_TAIL)
        chunks: list[bytes] = []
        try:
            assert process.stdout is not None and process.stderr is not None
            readers = [
                threading.Thread(target=drain, args=(process.stdout, chunks), daemon=True),
                threading.Thread(
                    target=self._read_stderr, args=(job, process.stderr, tail), daemon=True
                ),
            ]
            for reader in readers:
                reader.start()
            code = process.wait()
            # not until EOF: a process the notebook started may hold the pipes open for long
            for reader in readers:
                reader.join(_DRAIN_S)
            if code < 0:  # killed: its MLflow runs may be RUNNING still (before the job
                self._end_orphans(job)  # ends, so a history read after it sees them ended)
            self._finish(job, code, b"".join(list(chunks)), list(tail))
        except Exception:  # a job must end, whatever happens here
            log.exception("nbops: watching run job %s failed", job.id)
            with contextlib.suppress(OSError):
                process.kill()
            with self._lock:
                job.state, job.ended, job.process = "error", now(), None
                job.error = "internal error in nbops; the server log has the details"
        finally:
            shutil.rmtree(workdir, ignore_errors=True)

    def _read_stderr(self, job: Job, stream: IO[bytes], tail: deque[str]) -> None:
        for raw in iter(lambda: stream.readline(_LINE), b""):
            line = raw.decode("utf-8", "replace").strip()
            counts = _progress(line)
            if counts is None:
                if line:
                    tail.append(line)
                continue
            with self._lock:
                job.done, job.failed = counts["done"], counts["failed"]
                job.running, job.total = counts["running"], counts["total"]

    def _end_orphans(self, job: Job) -> None:
        """End KILLED the runs a killed job left RUNNING in its notebook's store (what the next
        history read would do), so the Run tab's history is right at once."""
        from nbops.cli.run_commands import project_root
        from nbops.run.tracking import default_tracking_uri

        try:
            file = self.root / job.path
            uri = default_tracking_uri(project_root(file))
            if _store_exists(uri):
                self._tracker(uri).end_orphaned_runs()
        except (NbopsError, OSError) as exc:
            log.warning("nbops: cannot end the runs of job %s: %s", job.id, redact(str(exc)))

    def _run(self, entry: dict[str, Any]) -> dict[str, Any]:
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

    def _error(self, code: int, tail: list[str]) -> str:
        return cli_error(self.root, code, tail, "nbops run", redacted=True)

    def _finish(self, job: Job, code: int, out: bytes, tail: list[str]) -> None:
        report = _report(out)
        with self._lock:
            job.process = None
            job.ended = now()
            job.running = 0
            if report is not None:
                job.parent_run_id = report.get("parent_run_id") or None
                job.runs = [self._run(r) for r in report["runs"] if isinstance(r, dict)]
                job.done = len(job.runs)
                job.failed = sum(1 for r in job.runs if r["status"] != "FINISHED")
            if job.cancelled or code in _INTERRUPTED:
                job.state = "cancelled"
            elif report is not None and code in (0, 1, 3):  # 1, 3: a cell, a kernel failed
                job.state = "finished" if code == 0 else "failed"
            else:
                job.state = "error"
                job.error = self._error(code, tail)

    # -- reading and cancelling --------------------------------------------------------------
    def _job(self, job_id: str) -> Job:
        job = self._jobs.get(job_id)
        if job is None:
            raise NotFoundError(
                "no such run job on this server", hint="GET /nbops/runs?path=... lists them"
            )
        return job

    def job(self, job_id: str) -> dict[str, Any]:
        with self._lock:
            return self._job(job_id).to_json()

    def jobs_for(self, name: str) -> list[dict[str, Any]]:
        """This server's jobs for one notebook, newest first."""
        with self._lock:
            return [j.to_json() for j in reversed(self._jobs.values()) if j.path == name]

    def cancel(self, job_id: str) -> dict[str, Any]:
        """Stop a running job with :func:`stop_group` in the background and return it at once
        (a job that has ended, or is being stopped, is left as it is)."""
        with self._lock:
            job = self._job(job_id)
            process = job.process
            if process is None or job.cancelled or process.poll() is not None:
                return job.to_json()
            job.cancelled = True
            snapshot = job.to_json()
        threading.Thread(
            target=stop_group, args=(process, self.grace), name=f"nbops-stop-{job.id}", daemon=True
        ).start()
        return snapshot

    def close(self, timeout: float = SHUTDOWN_S) -> None:
        """Stop every running job (the server is stopping): :func:`stop_group` on all of them
        at once, its steps fitted into ``timeout``; then their watchers end them."""
        with self._lock:
            self._closed = True
            processes = [(j, j.process) for j in self._jobs.values() if j.process is not None]
            for job, _ in processes:
                job.cancelled = True
        grace = max(0.5, min(self.grace, timeout / 2))
        stoppers = [threading.Thread(target=stop_group, args=(process, grace), daemon=True)
                    for _, process in processes]  # fmt: skip
        for stopper in stoppers:
            stopper.start()
        for stopper in stoppers:
            stopper.join(2 * grace + 5)
        for job, _ in processes:
            if job.watcher is not None:
                job.watcher.join(_DRAIN_S + 5)

    # -- history -----------------------------------------------------------------------------
    def _tracker(self, uri: str) -> Any:
        with self._trackers_lock:  # one open at a time: the first one imports MLflow
            tracker = self._trackers.get(uri)
            if tracker is None:
                from nbops.run.tracking import MlflowTracker

                tracker = self._trackers[uri] = MlflowTracker(uri)
            return tracker

    def history(self, req: HistoryRequest) -> dict[str, Any]:
        """This server's jobs for the notebook and its tracked runs, newest first."""
        from nbops.cli.run_commands import project_root
        from nbops.run.tracking import default_tracking_uri

        uri = default_tracking_uri(project_root(req.target.file))
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
        runs = []
        for record in records:
            entry = record.to_json()
            entry["output"] = public_path(self.root, record.tags.get(OUTPUT_TAG))
            entry["artifact_uri"] = redact(entry["artifact_uri"])
            runs.append(finite(entry))
        return {
            "jobs": self.jobs_for(req.target.name),
            "runs": runs,
            "tracking": {"uri": redact(uri), "ui_command": UI_COMMAND, **status},
        }
