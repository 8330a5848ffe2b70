"""The run recorder: a helper process that does a run's MLflow work, off the runner's critical path.

Importing MLflow and opening its store costs ~2 s of CPU in a fresh process, as much as papermill
needs to import and run a short notebook; in the runner's own process the two share one
interpreter lock. ``nbops run`` therefore starts this helper first (:func:`prestart`: argument
list, no shell, its own session so a Ctrl-C meant for the run does not kill it) and the helper
imports MLflow and its store's code while the runner imports papermill, starts the kernel and
warms its HTML exporter. The runner's tracking thread then calls it like a tracker
(:class:`RemoteTracker`: one JSON request per line on the helper's stdin, one answer per line on
its stdout, each with its id); the run's lifecycle, journal and owner lock stay in the runner.

What it never changes: the run is complete in the store when the runner returns (the runner
waits for the last answer), and the journal stays the runner's. When the helper dies, the
:class:`RemoteTracker` opens MLflow in the runner and repeats the call that failed there, then
carries on in-process: nothing the journal holds is lost. When the runner dies, the helper reads
the end of its stdin and exits without touching the run (the owner lock decides, as before).
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO, Any

from nbops import errors

__all__ = ["RemoteTracker", "prestart", "take"]

# --------------------------------------------------------------------------- the runner's side


class RecorderGone(Exception):
    """The helper process ended or stopped answering."""


class RemoteTracker:
    """The tracker methods a notebook run calls, answered by the helper process; in-process
    (an ``MlflowTracker`` opened here) from the first call the helper cannot answer."""

    def __init__(self, proc: subprocess.Popen[str]) -> None:
        self._proc = proc
        self._lock = threading.Lock()
        self._next = 0
        self._uri: str | None = None
        self._local: Any = None  # the in-process tracker, once the helper is gone

    @property
    def pid(self) -> int:
        return self._proc.pid

    @property
    def local(self) -> bool:
        """The helper is gone: calls run in this process."""
        return self._local is not None

    def _ask(self, method: str, *args: Any, **kwargs: Any) -> Any:
        stdin, stdout = self._proc.stdin, self._proc.stdout
        assert stdin is not None and stdout is not None
        with self._lock:
            self._next += 1
            ask = self._next
            try:
                stdin.write(json.dumps({"id": ask, "method": method, "args": args,
                                        "kwargs": kwargs}, default=str) + "\n")
                stdin.flush()
                while True:  # an answer to a call an interruption abandoned is skipped
                    line = stdout.readline()
                    if not line:
                        raise RecorderGone(method)
                    answer = json.loads(line)
                    if answer.get("id") == ask:
                        break
            except (OSError, ValueError) as exc:
                raise RecorderGone(method) from exc
        if "error" in answer:
            error = answer["error"]
            kind = getattr(errors, str(error.get("type")), None)
            if not (isinstance(kind, type) and issubclass(kind, errors.NbopsError)):
                kind = errors.ToolError
            raise kind(str(error.get("message")), hint=error.get("hint"))
        return answer.get("result")

    def _call(self, method: str, *args: Any, **kwargs: Any) -> Any:
        if self._local is None:
            try:
                return self._ask(method, *args, **kwargs)
            except RecorderGone:
                self._fall_back()
        return getattr(self._local, method)(*args, **kwargs)

    def _fall_back(self) -> None:
        from nbops.run.tracking import MlflowTracker

        self.close()
        self._local = MlflowTracker(self._uri)

    def open(self, uri: str) -> None:
        """Open the store at ``uri`` (its errors as nbops errors, like ``MlflowTracker(uri)``)."""
        self._uri = uri
        self._call("open", uri)

    def end_orphaned_runs(self) -> list[str]:
        return list(self._call("end_orphaned_runs"))

    def start_run(self, experiment: str, name: str, params: Mapping[str, Any],
                  tags: Mapping[str, str], parent_run_id: str | None = None, *,
                  start_time: float | None = None) -> str:
        from nbops.run.tracking import stringify_param

        values = {str(k): stringify_param(v) for k, v in params.items()}
        return str(self._call("start_run", experiment, name, values, dict(tags), parent_run_id,
                              start_time=start_time))

    def log_batch(self, run_id: str, metrics: Sequence[tuple[str, float, int, int]] = (),
                  params: Mapping[str, str] | None = None) -> None:
        self._call("log_batch", run_id, [list(m) for m in metrics], dict(params or {}))

    def log_artifact(self, run_id: str, path: Path, artifact_path: str | None = None) -> None:
        self._call("log_artifact", run_id, str(path), artifact_path)

    def set_tags(self, run_id: str, tags: Mapping[str, str]) -> None:
        self._call("set_tags", run_id, dict(tags))

    def end_run(self, run_id: str, status: str) -> None:
        self._call("end_run", run_id, status)

    def get_run(self, run_id: str) -> Any:
        """The run's record; from the helper, only its ``metrics`` (what a runner reads)."""
        if self._local is not None:
            return self._local.get_run(run_id)
        from types import SimpleNamespace

        return SimpleNamespace(metrics=dict(self._call("metrics", run_id)))

    def close(self) -> None:
        """Let the helper go (it exits at the end of its stdin) and wait for it."""
        with contextlib.suppress(OSError):
            if self._proc.stdin is not None:
                self._proc.stdin.close()
        try:
            self._proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()
        with contextlib.suppress(OSError):
            if self._proc.stdout is not None:
                self._proc.stdout.close()


_prestarted: RemoteTracker | None = None


def prestart() -> None:
    """Start the helper now (it imports MLflow, touches no store until asked); a run of this
    process takes it (:func:`take`). A helper nobody takes exits with this process."""
    global _prestarted
    if _prestarted is not None:
        return
    try:
        proc = subprocess.Popen(
            [sys.executable, "-m", "nbops.run.recorder"], stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, text=True, encoding="utf-8", start_new_session=True,
        )
    except OSError:  # no helper: the run opens MLflow itself
        return
    _prestarted = RemoteTracker(proc)


def take() -> RemoteTracker | None:
    """The helper :func:`prestart` started, once; None when there is none."""
    global _prestarted
    taken, _prestarted = _prestarted, None
    return taken


# --------------------------------------------------------------------------- the helper's side

# what opening a SQLite store imports (SQLAlchemy's models, alembic): half of the open's cost
_STORE_MODULES = ("mlflow.store.tracking.sqlalchemy_store",
                  "mlflow.store.model_registry.sqlalchemy_store")


def _serve(requests: IO[str], answers: IO[str]) -> None:
    from nbops.run.tracking import MlflowTracker, import_mlflow

    import_mlflow()  # while the runner imports papermill and starts the kernel
    for module in _STORE_MODULES:  # the store's code, not the store: nothing is opened yet
        with contextlib.suppress(Exception):
            import_mlflow(module)
    tracker: Any = None
    for line in requests:
        request = json.loads(line)
        method, args, kwargs = request["method"], request["args"], request.get("kwargs") or {}
        answer: dict[str, Any] = {"id": request["id"]}
        try:
            if method == "open":
                tracker = MlflowTracker(*args)
            elif method == "metrics":
                answer["result"] = dict(tracker.get_run(args[0]).metrics)
            elif method == "log_artifact":
                tracker.log_artifact(args[0], Path(args[1]), args[2])
            elif method == "log_batch":
                tracker.log_batch(args[0], [tuple(m) for m in args[1]], args[2])
            elif method in ("start_run", "set_tags", "end_run", "end_orphaned_runs"):
                answer["result"] = getattr(tracker, method)(*args, **kwargs)
            else:
                raise errors.UsageError(f"the recorder has no method {method!r}")
        except errors.NbopsError as exc:
            answer["error"] = {"type": type(exc).__name__, "message": exc.message,
                               "hint": exc.hint}
        except Exception as exc:  # noqa: BLE001 - answered, the runner decides
            answer["error"] = {"type": "ToolError", "message": f"{type(exc).__name__}: {exc}",
                               "hint": None}
        answers.write(json.dumps(answer, default=str) + "\n")
        answers.flush()


def main() -> None:
    """The helper: requests on stdin, answers on stdout; what MLflow prints goes to stderr."""
    answers = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)  # nothing else may write into the answers
    with contextlib.suppress(KeyboardInterrupt, BrokenPipeError):
        _serve(sys.stdin, answers)
    with contextlib.suppress(OSError):
        answers.close()
    os._exit(0)  # the runner waits for this exit: skip the interpreter's teardown


if __name__ == "__main__":
    main()
