"""The run recorder: a helper process that does a run's MLflow work, off the runner's critical path.

Importing MLflow and opening its store costs ~2 s of CPU in a fresh process, as much as papermill
needs to import and run a short notebook; in the runner's own process the two share one
interpreter lock. ``nbops run`` therefore starts this helper first (:func:`prestart`: argument
list, no shell, its own session so a Ctrl-C meant for the run does not kill it). On an
existing local SQLite store it writes MLflow's rows itself (:mod:`nbops.run.litestore`: no
MLflow import, answering ``open`` at once); it imports MLflow only from the first call the
light store leaves to it (another store, a model, an unknown schema). The runner's tracking
thread then calls it like a tracker (:class:`RemoteTracker`: one JSON request per line on the
helper's stdin, one answer per line on its stdout, each with its id); the run's lifecycle,
journal and owner lock stay in the runner.

What it never changes: the run is complete in the store when the runner returns (the runner
waits for the last answer), and the journal stays the runner's. When the helper dies, the
:class:`RemoteTracker` opens MLflow in the runner and repeats the call that failed there, then
carries on in-process: nothing the journal holds is lost. A helper that stays alive but does not
answer in time (:attr:`RemoteTracker.TIMEOUT_S`, :attr:`RemoteTracker.MODEL_TIMEOUT_S` for a
model) is killed and the call repeated in-process the same way. When the runner dies, the helper
reads the end of its stdin and exits without touching the run (the owner lock decides, as before).

The kernel's ``nbops.log_model`` calls reach it as files (:func:`nbops.run.model_log.log_file`);
when the notebook calls ``log_model``, the runner has it import the flavor's modules in the
background once the run is open (:meth:`RemoteTracker.warm`), so the model costs little when it
arrives.
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
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

    TIMEOUT_S = 300.0  # a call the helper does not answer by then: it is stuck, killed
    MODEL_TIMEOUT_S = 1800.0  # logging a model (saving, requirements, explanation) takes longer

    def __init__(self, proc: subprocess.Popen[str]) -> None:
        self._proc = proc
        self._lock = threading.Lock()
        self._answers: queue.Queue[str | None] = queue.Queue()  # the helper's lines, None: end
        self._reader: threading.Thread | None = None
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

    def _read(self) -> None:
        """The reader thread: the helper's answers into the queue, then None at their end."""
        stdout = self._proc.stdout
        assert stdout is not None
        with contextlib.suppress(OSError, ValueError):
            for line in stdout:
                self._answers.put(line)
        self._answers.put(None)

    def _ask(self, method: str, *args: Any, **kwargs: Any) -> Any:
        import time

        stdin = self._proc.stdin
        assert stdin is not None
        timeout = self.MODEL_TIMEOUT_S if method == "log_model_file" else self.TIMEOUT_S
        with self._lock:
            if self._reader is None:
                self._reader = threading.Thread(target=self._read, name="nbops-recorder-answers",
                                                daemon=True)
                self._reader.start()
            self._next += 1
            ask = self._next
            deadline = time.monotonic() + timeout
            try:
                stdin.write(json.dumps({"id": ask, "method": method, "args": args,
                                        "kwargs": kwargs}, default=str) + "\n")
                stdin.flush()
                while True:  # an answer to a call an interruption abandoned is skipped
                    try:
                        line = self._answers.get(timeout=max(0.0, deadline - time.monotonic()))
                    except queue.Empty:
                        self._proc.kill()  # alive but stuck: its work is repeated here
                        raise RecorderGone(f"{method}: no answer in {timeout:g} s") from None
                    if line is None:
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
        if self._local is None:
            try:
                self._ask("open", uri)
            except RecorderGone:
                self._fall_back()  # opens it here

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

    def log_model_file(self, run_id: str, file: Path) -> str:
        """Log the ``nbops.log_model`` call the kernel pickled into ``file``; the model's URI."""
        return str(self._call("log_model_file", run_id, str(file)))

    def warm(self, modules: Sequence[str]) -> None:
        """Have the helper import ``modules`` in the background (a model's flavor, before the
        notebook logs it); nothing in-process, nothing when there are none."""
        if self._local is not None or not modules:
            return
        try:
            self._ask("warm", list(modules))
        except RecorderGone:
            self._fall_back()

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

def _light(uri: str) -> Any:
    """The light store (:mod:`nbops.run.litestore`) on ``uri``, None when MLflow must open it."""
    from nbops.run.litestore import Fallback, LiteStore

    try:
        return LiteStore(uri)
    except Fallback:
        return None


def _serve(requests: IO[str], answers: IO[str]) -> None:
    """Answer each request with the light store while it can, else (from the first call it
    leaves to MLflow, for good) with an ``MlflowTracker``: MLflow is imported only then."""
    from nbops.run.litestore import Fallback
    from nbops.run.tracking import MlflowTracker

    tracker: Any = None
    lite: Any = None
    uri: str | None = None
    for line in requests:
        request = json.loads(line)
        method, args, kwargs = request["method"], request["args"], request.get("kwargs") or {}
        answer: dict[str, Any] = {"id": request["id"]}
        try:
            answered = False
            if method == "open":
                if lite is not None:
                    lite.close()
                uri = args[0]
                lite = _light(args[0])
            if lite is not None and method != "warm":
                try:
                    answer["result"] = lite.call(method, args, kwargs)
                    answered = True
                except Fallback:  # this call and every later one: MLflow's
                    lite.close()
                    lite = None
                    if method != "open":
                        tracker = MlflowTracker(uri)
            if answered:
                pass
            elif method == "open":
                tracker = MlflowTracker(*args)
            elif method == "metrics":
                answer["result"] = dict(tracker.get_run(args[0]).metrics)
            elif method == "log_artifact":
                tracker.log_artifact(args[0], Path(args[1]), args[2])
            elif method == "log_batch":
                tracker.log_batch(args[0], [tuple(m) for m in args[1]], args[2])
            elif method == "log_model_file":
                answer["result"] = tracker.log_model_file(args[0], Path(args[1]))
            elif method == "warm":  # a model comes: on the light store, MLflow's store code too
                modules = list(args[0]) + (["mlflow.store.tracking.sqlalchemy_store"]
                                           if lite is not None else [])
                from nbops.run.model_log import warm_in_background

                warm_in_background(modules)
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
