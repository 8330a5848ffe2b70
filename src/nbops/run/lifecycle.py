"""The lifecycle every tracked run shares: open, execute, record and end, the FAILED and KILLED paths.

Shaped like nbclient's hooks: a kind of run (a notebook, a sweep's parent, a generated pipeline)
subclasses :class:`Lifecycle` and fills in what differs -- :meth:`~Lifecycle.open` (start its
MLflow run), :meth:`~Lifecycle.on_open`, :meth:`~Lifecycle.execute`,
:meth:`~Lifecycle.on_executed` (record and end the run), :meth:`~Lifecycle.on_failed` (execution
could not happen at all) and :meth:`~Lifecycle.on_killed` (what an interruption raises) -- while
:meth:`Lifecycle.run` owns the order and the endings: the MLflow run opens in a background thread
while execution starts, the run's journal is read into it, it never stays RUNNING (KILLED on
Ctrl-C or SIGTERM, FAILED on nbops' own trouble) and its journal folder never stays behind.
"""

from __future__ import annotations

import contextlib
import threading
import time
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, Literal, TypeVar

from nbops.errors import NbopsError
from nbops.kernel import CellFailure

__all__ = ["Interrupted", "Lifecycle", "RunOutcome"]

R = TypeVar("R")  # what execute() returns
O = TypeVar("O")  # what run() returns

JOURNAL_POLL_S = 0.5  # how often a live run's journal is read into MLflow


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


class Interrupted(KeyboardInterrupt):
    """A run stopped by Ctrl-C or SIGTERM, after its MLflow run was ended KILLED: ``outcome``
    is what the CLI reports (``run_id`` is "" when no run had been opened yet)."""

    def __init__(self, outcome: RunOutcome) -> None:
        super().__init__()
        self.outcome = outcome


class _Tracking(threading.Thread):
    """Opens the run while execution starts, then (``live``) logs the journal as it grows.

    Opening MLflow (import, client, store check) takes ~2.5 s in a fresh process, longer than
    many notebooks take to run; execution does not wait for it. The run id reaches the kernel
    through the journal (:mod:`nbops.run.journal`)."""

    def __init__(self, lifecycle: Lifecycle[Any, Any], *, live: bool) -> None:
        super().__init__(name="nbops-tracking", daemon=True)
        self._lifecycle = lifecycle
        self._live = live
        self.journal = lifecycle.journal
        self.tracker: Any = None
        self.run_id: str | None = None
        self.error: BaseException | None = None
        self.run_id_future: Future[str] = Future()  # for runs opened under this one (a sweep)
        self.ready = threading.Event()  # set once the run is open, or could not be
        self.done = threading.Event()  # set when execution stops

    def run(self) -> None:
        from nbops.run.journal import write_run_id

        try:
            self.tracker, self.run_id = self._lifecycle.open()
            write_run_id(self.journal.folder, self.run_id)
        except BaseException as exc:  # noqa: BLE001 - handed to the caller in finish()
            self.error = exc
            self.run_id_future.set_exception(exc)
            self.ready.set()
            return
        self.run_id_future.set_result(self.run_id)
        self.ready.set()
        self._lifecycle.on_open(self.tracker, self.run_id)
        while self._live and not self.done.wait(JOURNAL_POLL_S):
            self._ingest()

    def _ingest(self) -> None:
        assert self.run_id is not None
        self.journal.ingest(self.run_id, self.tracker.log_batch, self.tracker.log_artifact,
                            getattr(self.tracker, "log_model_file", None))

    def opened(self) -> tuple[Any, str]:
        """Wait for the run to be open (its error if it could not be); its tracker and id."""
        self.ready.wait()
        if self.error is not None:
            raise self.error
        assert self.run_id is not None
        return self.tracker, self.run_id

    def finish(self) -> tuple[Any, str]:
        """Wait for the run to be open and the journal read to the end; its tracker and id."""
        self.done.set()
        self.join()
        if self.error is not None:
            raise self.error
        assert self.run_id is not None
        self._ingest()
        return self.tracker, self.run_id

    def end(self, status: str, tags: dict[str, str]) -> str:
        """End the run opened (or being opened) as ``status``; its id, "" when none could be
        opened. Never raises: it runs on the way out of an interruption or an error."""
        if not (self.is_alive() or self.run_id is not None):
            return ""
        try:
            opened, run_id = self.finish()
        except BaseException:  # noqa: BLE001 - no run: nothing to end
            return self.run_id or ""
        with contextlib.suppress(Exception):
            opened.set_tags(run_id, {k: v[:5000] for k, v in tags.items()})
        with contextlib.suppress(Exception):
            opened.end_run(run_id, status)
        return run_id


class Lifecycle(Generic[R, O]):
    """One tracked run from open to end; subclasses fill in the hooks, :meth:`run` drives them.

    ``journal`` is the run's :class:`~nbops.run.journal.Journal` (its folder is discarded
    whatever the ending); ``live``: read it into the run while executing; ``wait_open``: execute
    only once the run is open (a subprocess that is handed the run id up front)."""

    def __init__(
        self, journal: Any, parameters: dict[str, Any], *, live: bool = True, wait_open: bool = False
    ) -> None:
        self.journal = journal
        self.parameters = parameters
        self.wait_open = wait_open
        self.tracking = _Tracking(self, live=live)
        self.began = 0.0  # wall clock: the run's start in MLflow, not when the thread opens it
        self.started = 0.0  # monotonic: for the duration
        self.closed = False  # the MLflow run has been ended

    # -- hooks ------------------------------------------------------------------------------

    def open(self) -> tuple[Any, str]:
        """Start the MLflow run (in the tracking thread); its tracker and id."""
        raise NotImplementedError

    def on_open(self, tracker: Any, run_id: str) -> None:
        """The run is open and its id is in the journal (in the tracking thread)."""

    def execute(self) -> R:
        """What the run executes (in the calling thread, the run opening meanwhile)."""
        raise NotImplementedError

    def on_executed(self, tracker: Any, run_id: str, result: R) -> O:
        """Record what ``execute`` returned and end the run (:meth:`end`)."""
        raise NotImplementedError

    def on_failed(self, tracker: Any, run_id: str, error: NbopsError) -> O:
        """``execute`` raised ``error`` (it could not execute at all): by default the run ends
        FAILED with the error as its ``nbops.error`` tag and the error propagates."""
        raise error

    def on_killed(self, run_id: str) -> BaseException:
        """What to raise once an interrupted run was ended KILLED (``run_id`` "" when none had
        been opened): by default :class:`Interrupted` with the KILLED outcome."""
        killed = RunOutcome(run_id, dict(self.parameters), "KILLED", None)
        killed.duration_s = self.elapsed()
        return Interrupted(killed)

    # -- helpers for the hooks ---------------------------------------------------------------

    def elapsed(self) -> float:
        """Seconds since execution started."""
        return time.monotonic() - self.started

    def end(
        self,
        tracker: Any,
        run_id: str,
        status: Literal["FINISHED", "FAILED", "KILLED"],
        tags: dict[str, str] | None = None,
    ) -> None:
        """Tag the run with ``tags`` and end it as ``status``."""
        if tags:
            tracker.set_tags(run_id, tags)
        tracker.end_run(run_id, status)
        self.closed = True

    # -- the lifecycle ---------------------------------------------------------------------------

    def run(self) -> O:
        """Open the run (in the background), execute, record and end it; never leave it
        RUNNING: KILLED on an interruption (then :meth:`on_killed`'s exception), FAILED with
        an ``nbops.error`` tag on any other exception (re-raised)."""
        self.began = time.time()
        self.tracking.start()
        self.started = time.monotonic()
        try:
            if self.wait_open:
                self.tracking.opened()
            try:
                result = self.execute()
            except NbopsError as exc:
                return self.on_failed(*self.tracking.finish(), exc)
            return self.on_executed(*self.tracking.finish(), result)
        except KeyboardInterrupt:  # Ctrl-C, SIGTERM (cli.run_commands): the run ends KILLED
            run_id = self.tracking.run_id or ""
            if not self.closed:
                run_id = self.tracking.end("KILLED", {"nbops.interrupted": "true"})
            raise self.on_killed(run_id) from None
        except BaseException as exc:  # nbops' own trouble: the run does not stay RUNNING
            if not self.closed:
                self.tracking.end("FAILED", {"nbops.error": f"{type(exc).__name__}: {exc}"})
            raise
        finally:
            self.journal.discard()  # whatever the ending: no journal folder stays behind
