"""The run lifecycle's hooks driven directly: a real MLflow store in a tmp dir, a real kernel."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import nbformat
import pytest

from nbops.core.snippets import notebook_from_snippet
from nbops.errors import NbopsError, ToolError
from nbops.kernel import Execution, execute_notebook
from nbops.run.journal import Journal
from nbops.run.lifecycle import Lifecycle
from nbops.run.runner import Interrupted
from nbops.run.tracking import MlflowTracker

pytestmark = pytest.mark.slow

NOTEBOOK = """
# %% tags=parameters
fail = False
# %%
import nbops
nbops.log_metric("score", 0.75)
# %%
if fail:
    raise ValueError("asked to fail")
"""


class Recording(Lifecycle[Any, str]):
    """A run of a small notebook in a real kernel that records which hooks ran, in order;
    ``execute`` is replaced where a test needs another ending."""

    def __init__(self, tmp: Path, tracker: Any, *, fail: bool = False) -> None:
        super().__init__(Journal(tmp / "runs" / ".run.journal"), {"fail": fail})
        self.tmp, self.tracker = tmp, tracker
        self.calls: list[str] = []

    def open(self) -> tuple[Any, str]:
        self.calls.append("open")
        tracker = self.tracker() if callable(self.tracker) else self.tracker
        run_id: str = tracker.start_run("lifecycle", "toy", dict(self.parameters), {}, None)
        return tracker, run_id

    def on_open(self, tracker: Any, run_id: str) -> None:
        self.calls.append("on_open")

    def execute(self) -> Execution:
        self.calls.append("execute")
        nb = nbformat.reads(notebook_from_snippet(NOTEBOOK).dumps(), as_version=4)
        return execute_notebook(
            nb, self.tmp / "out.ipynb", parameters=self.parameters, cwd=self.tmp,
            env=self.journal.env(),
        )

    def on_executed(self, tracker: Any, run_id: str, result: Any) -> str:
        self.calls.append("on_executed")
        self.end(tracker, run_id, "FAILED" if result.failure else "FINISHED")
        return run_id

    def on_failed(self, tracker: Any, run_id: str, error: NbopsError) -> str:
        self.calls.append("on_failed")
        self.end(tracker, run_id, "FAILED", {"seen": str(error)})
        return run_id


def store(tmp: Path) -> MlflowTracker:
    return MlflowTracker(f"sqlite:///{tmp / 'mlflow.db'}")


def record(tracker: MlflowTracker, run_id: str) -> Any:
    return tracker.client.get_run(run_id)


def test_a_run_that_finishes_calls_every_hook_in_order_and_logs_the_kernels_journal(
    tmp_path: Path,
) -> None:
    tracker = store(tmp_path)
    run = Recording(tmp_path, tracker)
    run_id = run.run()
    # the run opens (open, on_open, in the tracking thread) while the kernel starts (execute)
    assert sorted(run.calls) == ["execute", "on_executed", "on_open", "open"]
    assert run.calls.index("open") < run.calls.index("on_open") and run.calls[-1] == "on_executed"
    data = record(tracker, run_id)
    assert data.info.status == "FINISHED"
    assert data.data.metrics == {"score": 0.75}  # logged by the kernel, read from the journal
    assert not run.journal.folder.exists()


def test_a_run_that_fails_in_a_cell_reaches_on_executed_with_the_failure(tmp_path: Path) -> None:
    tracker = store(tmp_path)
    seen: list[Any] = []

    class Failing(Recording):
        def on_executed(self, tracker: Any, run_id: str, result: Any) -> str:
            seen.append(result.failure)
            return super().on_executed(tracker, run_id, result)

    run_id = Failing(tmp_path, tracker, fail=True).run()
    (failure,) = seen
    assert (failure.ename, failure.evalue) == ("ValueError", "asked to fail")
    assert record(tracker, run_id).info.status == "FAILED"
    assert record(tracker, run_id).data.metrics == {"score": 0.75}  # what ran before the error


def test_an_interrupted_run_ends_killed_and_raises_interrupted(tmp_path: Path) -> None:
    tracker = store(tmp_path)

    class Stopped(Recording):
        def execute(self) -> Execution:
            self.calls.append("execute")
            self.tracking.opened()  # the Ctrl-C comes once the run is open
            raise KeyboardInterrupt

    run = Stopped(tmp_path, tracker)
    with pytest.raises(Interrupted) as caught:
        run.run()
    killed = caught.value.outcome
    assert killed.status == "KILLED" and killed.parameters == {"fail": False}
    assert "on_executed" not in run.calls and "on_failed" not in run.calls
    data = record(tracker, killed.run_id)
    assert data.info.status == "KILLED" and data.data.tags["nbops.interrupted"] == "true"
    assert not run.journal.folder.exists()


def test_on_killed_chooses_what_an_interruption_raises(tmp_path: Path) -> None:
    tracker = store(tmp_path)

    class Stopped(Recording):
        def execute(self) -> Execution:
            self.tracking.opened()
            raise KeyboardInterrupt

        def on_killed(self, run_id: str) -> BaseException:
            self.calls.append(f"on_killed {run_id}")
            return KeyboardInterrupt()

    run = Stopped(tmp_path, tracker)
    with pytest.raises(KeyboardInterrupt) as caught:
        run.run()
    assert not isinstance(caught.value, Interrupted)
    run_id = run.calls[-1].split()[-1]
    assert record(tracker, run_id).info.status == "KILLED"


def test_an_execution_that_cannot_happen_goes_to_on_failed_with_the_run_open(
    tmp_path: Path,
) -> None:
    tracker = store(tmp_path)

    class NoKernel(Recording):
        def execute(self) -> Execution:
            raise ToolError("the kernel died")

    run = NoKernel(tmp_path, tracker)
    run_id = run.run()
    assert run.calls[-1] == "on_failed"
    data = record(tracker, run_id)
    assert data.info.status == "FAILED" and data.data.tags["seen"] == "the kernel died"


def test_nbops_own_trouble_while_recording_ends_the_run_failed_and_propagates(
    tmp_path: Path,
) -> None:
    tracker = store(tmp_path)
    opened: list[str] = []

    class Broken(Recording):
        def execute(self) -> Execution:
            return Execution(self.tmp / "out.ipynb", None, None)

        def on_executed(self, tracker: Any, run_id: str, result: Any) -> str:
            opened.append(run_id)
            raise RuntimeError("cannot record")

    run = Broken(tmp_path, tracker)
    with pytest.raises(RuntimeError, match="cannot record"):
        run.run()
    data = record(tracker, opened[0])
    assert data.info.status == "FAILED"
    assert data.data.tags["nbops.error"] == "RuntimeError: cannot record"
    assert not run.journal.folder.exists()


def test_a_tracker_that_fails_to_open_raises_its_error_and_leaves_no_journal(
    tmp_path: Path,
) -> None:
    (tmp_path / "file").write_text("not a folder")
    bad = tmp_path / "file" / "mlflow.db"  # a store under a file cannot be created

    def unusable() -> Any:
        return MlflowTracker(f"sqlite:///{bad}")  # raises: the store cannot be opened

    run = Recording(tmp_path, unusable)
    with pytest.raises(ToolError, match="cannot open the MLflow tracking store"):
        run.run()
    assert "execute" in run.calls  # execution does not wait for the store
    assert "on_executed" not in run.calls and "on_failed" not in run.calls
    assert not run.journal.folder.exists()
    assert nbformat.read(tmp_path / "out.ipynb", as_version=4).cells  # the kernel did run
