"""The job service: start a subprocess job, watch it, stop it, keep a table of jobs.

A :class:`JobTable` runs the jobs of one kind; the kind (a :class:`JobKind`) reads progress from
the job's stderr lines and judges how it ended from its exit code, stdout and the last stderr
lines. The table owns everything else, the same for every kind: the process (an argument
list, a process group of its own, no server token in its environment), its two pipes drained
by threads (a process the job started may hold them open: the watcher waits
:data:`DRAIN_S` for them after the exit, not until EOF), an optional time limit, the stop
policy (:func:`stop_group`), and get / list / cancel / prune / close.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import logging
import os
import signal
import subprocess
import sys
import threading
from collections import OrderedDict, deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import IO, Any, Generic, Literal, Protocol, TypeVar, cast

from nbops.errors import NotFoundError, ToolError

__all__ = [
    "DRAIN_S",
    "KEEP",
    "SHUTDOWN_S",
    "STOP_GRACE_S",
    "Finish",
    "Job",
    "JobKind",
    "JobState",
    "JobTable",
    "StoppedBy",
    "cli_error",
    "detached",
    "environment",
    "now",
    "stop_group",
]

JobState = Literal["queued", "running", "finished", "failed", "cancelled"]
StoppedBy = Literal["user", "server", "limit"]  # cancel(), close(), the time limit

KEEP = 50  # ended jobs a table remembers (running ones are never dropped)
STOP_GRACE_S = 5.0  # stop_group: after SIGINT before SIGTERM, and after SIGTERM before SIGKILL
SHUTDOWN_S = 10.0  # how long a stopping server waits for its jobs
DRAIN_S = 5.0  # how long the pipes may stay open after the process exited
TAIL = 40  # stderr lines kept for an error message
_LINE = 64 * 1024  # longest piece of a line read at once
_PRIVATE_ENV = ("JUPYTER_TOKEN",)  # the server's secret stays out of jobs and their kernels
_ERROR_PREFIXES = ("nbops: error: ", "nbops: internal error: ")  # cli.main's one-line errors
_ACTIVE = ("queued", "running")

log = logging.getLogger(__name__)


def now() -> str:
    """The time, ISO 8601 in UTC to the second (the REST schema's times)."""
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


def environment() -> dict[str, str]:
    """This process's environment without the server's token, with UTF-8 pipes."""
    env = {k: v for k, v in os.environ.items() if k not in _PRIVATE_ENV}
    env["PYTHONIOENCODING"] = "utf-8"
    return env


def detached() -> dict[str, Any]:
    """Popen options that keep a terminal's Ctrl-C aimed at the server away from the job."""
    if sys.platform == "win32":
        return {"creationflags": subprocess.CREATE_NEW_PROCESS_GROUP}
    return {"start_new_session": True}


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


def cli_error(code: int, tail: Iterable[str], what: str) -> str:
    """An nbops subprocess's one-line error from the last lines of its stderr (never a
    traceback: tracebacks are not its last lines), else how ``what`` ended."""
    for line in reversed(list(tail)):
        for prefix in _ERROR_PREFIXES:
            if line.startswith(prefix):
                return line[len(prefix) :]
    if code < 0:
        return f"{what} was stopped by signal {-code}"
    return f"{what} exited with code {code}"


def _drain(stream: IO[bytes], chunks: list[bytes]) -> None:
    """Read ``stream`` into ``chunks`` as data comes (the caller may stop waiting early)."""
    read = getattr(stream, "read1", stream.read)
    while chunk := read(_LINE):
        chunks.append(chunk)


@dataclass
class Job:
    """What every job has; a kind's job adds its own fields and answer (``to_json``)."""

    id: str
    started: str = field(default_factory=now)
    state: JobState = "queued"
    ended: str | None = None
    error: str | None = None
    stopped_by: StoppedBy | None = None
    limit_s: float | None = None  # the time limit, None for none
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)
    watcher: threading.Thread | None = field(default=None, repr=False)

    @property
    def active(self) -> bool:
        return self.state in _ACTIVE

    def to_json(self) -> Mapping[str, Any]:
        return {"id": self.id, "state": self.state, "started": self.started,
                "ended": self.ended, "error": self.error}  # fmt: skip


J = TypeVar("J", bound=Job)
A = TypeVar("A")  # a job's answer, what its ``to_json`` gives (an nbops.api_types TypedDict)
K_contra = TypeVar("K_contra", bound=Job, contravariant=True)  # the job type a kind reads


@dataclass(frozen=True)
class Finish:
    """How a job ended, as its kind judges it: the state, the error (a note on a finished job),
    and the kind's own fields to set on the job (``{"card": ...}``)."""

    state: JobState
    error: str | None = None
    fields: dict[str, Any] = field(default_factory=dict)


class JobKind(Protocol[K_contra]):
    """What a kind of job adds to the table: its name in messages, its progress, its result."""

    name: str  # "nbops run": "cannot start nbops run: ..."

    def progress(self, job: K_contra, line: str) -> bool:
        """Read one stderr line (called with the table's lock held): True when it was
        progress (it is not kept for the error message)."""
        ...

    def finish(self, job: K_contra, code: int, out: bytes, tail: list[str]) -> Finish:
        """How the job ended (called without the lock: it may read and write files).
        ``job.stopped_by`` says who stopped it, if anyone did."""
        ...


class JobTable(Generic[J, A]):
    """The jobs of one kind: start, get, list, cancel, prune, close. ``A`` is the answer of a
    job (``J.to_json()``'s type: ``JobTable[RunJob, api_types.Job]``)."""

    def __init__(
        self,
        kind: JobKind[J],
        *,
        keep: int = KEEP,
        grace: float = STOP_GRACE_S,
        missing: tuple[str, str] = ("no such job on this server", "start one first"),
    ) -> None:
        self.kind = kind
        self.keep = max(1, keep)
        self.grace = grace
        self.missing = missing  # the 404's message and hint
        self.lock = threading.Lock()
        self._jobs: OrderedDict[str, J] = OrderedDict()
        self._closed = False

    # -- starting ------------------------------------------------------------------------------
    def start(
        self,
        job: J,
        argv: list[str],
        *,
        cwd: os.PathLike[str] | str,
        admit: Callable[[list[J]], None] | None = None,
        cleanup: Callable[[], None] | None = None,
    ) -> A:
        """Start ``argv`` (an argument list of the caller's making, no shell) in ``cwd`` as
        ``job`` and watch it; returns the job's answer. ``admit`` is called with the active
        jobs, under the lock, before anything starts: it raises to refuse (a checkout being
        scored already). ``cleanup`` runs once the job has ended (or could not start)."""
        with self.lock:
            if self._closed:
                if cleanup is not None:
                    cleanup()
                raise ToolError(f"the server is stopping: {self.kind.name} cannot start")
            if admit is not None:
                try:
                    admit([j for j in self._jobs.values() if j.active])
                except BaseException:
                    if cleanup is not None:
                        cleanup()
                    raise
            job.state = "queued"
            self._jobs[job.id] = job  # reserved before the process starts
        try:
            process = subprocess.Popen(  # an argument list, never a shell
                argv,
                cwd=cwd,
                env=environment(),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                **detached(),
            )
        except OSError as exc:
            with self.lock:
                self._jobs.pop(job.id, None)
            if cleanup is not None:
                cleanup()
            raise ToolError(f"cannot start {self.kind.name}: {exc.strerror or exc}") from None
        watcher = threading.Thread(
            target=self._watch, args=(job, process, cleanup), name=f"nbops-job-{job.id}", daemon=True
        )
        with self.lock:
            job.process, job.watcher, job.state = process, watcher, "running"
            self._prune()
            answer = self._answer(job)
        watcher.start()
        return answer

    def _prune(self) -> None:
        """Forget the oldest ended jobs beyond ``keep`` (active ones always stay)."""
        ended = [k for k, j in self._jobs.items() if not j.active]
        for key in ended[: max(0, len(self._jobs) - self.keep)]:
            del self._jobs[key]

    # -- watching ------------------------------------------------------------------------------
    def _read_stderr(self, job: J, stream: IO[bytes], tail: deque[str]) -> None:
        for raw in iter(lambda: stream.readline(_LINE), b""):
            line = raw.decode("utf-8", "replace").strip()
            with self.lock:
                progress = self.kind.progress(job, line)
            if not progress and line:
                tail.append(line)

    def _watch(self, job: J, process: subprocess.Popen[bytes], cleanup: Callable[[], None] | None) -> None:
        tail: deque[str] = deque(maxlen=TAIL)
        chunks: list[bytes] = []
        try:
            assert process.stdout is not None and process.stderr is not None
            readers = [
                threading.Thread(target=_drain, args=(process.stdout, chunks), daemon=True),
                threading.Thread(target=self._read_stderr, args=(job, process.stderr, tail), daemon=True),
            ]
            for reader in readers:
                reader.start()
            try:
                code = process.wait(job.limit_s)
            except subprocess.TimeoutExpired:
                with self.lock:
                    job.stopped_by = job.stopped_by or "limit"
                stop_group(process, self.grace)
                code = process.wait()
            for reader in readers:  # not until EOF: see the module's docstring
                reader.join(DRAIN_S)
            finish = self.kind.finish(job, code, b"".join(list(chunks)), list(tail))
            with self.lock:
                for name, value in finish.fields.items():
                    setattr(job, name, value)
                job.state, job.error = finish.state, finish.error
                job.process, job.ended = None, now()
        except Exception:  # a job must end, whatever happens here
            log.exception("nbops: watching %s job %s failed", self.kind.name, job.id)
            stop_group(process, 0.5)
            with self.lock:
                job.state, job.ended, job.process = "failed", now(), None
                job.error = "internal error in nbops; the server log has the details"
        finally:
            if cleanup is not None:
                cleanup()

    # -- reading -------------------------------------------------------------------------------
    @staticmethod
    def _answer(job: J) -> A:
        return cast(A, job.to_json())  # J.to_json is typed A: the table's declaration says so

    def _job(self, job_id: str) -> J:
        job = self._jobs.get(job_id)
        if job is None:
            raise NotFoundError(self.missing[0], hint=self.missing[1])
        return job

    def get(self, job_id: str) -> A:
        """A job's answer (404 when this table does not know it)."""
        with self.lock:
            return self._answer(self._job(job_id))

    def list(self, where: Callable[[J], bool] = lambda job: True) -> list[A]:
        """The answers of the jobs ``where`` accepts, newest first."""
        with self.lock:
            return [self._answer(j) for j in reversed(self._jobs.values()) if where(j)]

    # -- stopping ------------------------------------------------------------------------------
    def cancel(self, job_id: str, *, wait: bool = False) -> A:
        """Stop a running job with :func:`stop_group` (``stopped_by`` "user"). ``wait``: answer
        once it has ended (a few seconds at most), else at once while it is stopped in the
        background. A job that has ended, or is being stopped, is answered as it is (with
        ``wait``, once its watcher has ended it)."""
        with self.lock:
            job = self._job(job_id)
            process, watcher = job.process, job.watcher
            stop = process is not None and job.stopped_by is None and process.poll() is None
            if stop:
                job.stopped_by = "user"
            answer = self._answer(job)
        if stop and process is not None:
            if not wait:
                threading.Thread(target=stop_group, args=(process, self.grace),
                                 name=f"nbops-stop-{job_id}", daemon=True).start()  # fmt: skip
                return answer
            stop_group(process, self.grace)
        if wait and watcher is not None and watcher.ident is not None:
            watcher.join(2 * DRAIN_S + 1.0)
            with self.lock:
                return self._answer(job)
        return answer

    def close(self, timeout: float = SHUTDOWN_S) -> None:
        """Stop every running job (the server is stopping; ``stopped_by`` "server"): all at
        once, the policy's steps fitted into ``timeout``; then their watchers end them."""
        with self.lock:
            self._closed = True
            running = [(j, j.process) for j in self._jobs.values() if j.process is not None]
            for job, _ in running:
                job.stopped_by = job.stopped_by or "server"
        grace = max(0.5, min(self.grace, timeout / 2))
        stoppers = [threading.Thread(target=stop_group, args=(process, grace), daemon=True)
                    for _, process in running if process is not None]  # fmt: skip
        for stopper in stoppers:
            stopper.start()
        for stopper in stoppers:
            stopper.join(2 * grace + 5)
        for job, _ in running:
            if job.watcher is not None:
                job.watcher.join(DRAIN_S + 5)
