"""The run journal: the kernel appends, the runner logs into a real MLflow store."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
import uuid
import warnings
from pathlib import Path

import pytest

from nbops import tracking_api
from nbops.errors import NotFoundError, UsageError
from nbops.run.journal import (
    DIR_ENV,
    KILLED_REASON_TAG,
    OWNER_HOST_TAG,
    OWNER_LOCK_TAG,
    OWNER_PID_TAG,
    PARAMS_ENV,
    Journal,
    JournalWriter,
    orphaned,
    read_run_id,
    remove_stale,
    write_run_id,
)
from nbops.run.tracking import MlflowTracker, default_tracking_uri

pytest.importorskip("mlflow")
os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")


@pytest.fixture(scope="module")
def tracker(tmp_path_factory: pytest.TempPathFactory) -> MlflowTracker:
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv("MLFLOW_TRACKING_URI", raising=False)
        return MlflowTracker(default_tracking_uri(tmp_path_factory.mktemp("journal store")))


@pytest.fixture
def journal(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Journal:
    """A journal as a kernel under ``nbops run`` sees it (the API's caches reset)."""
    # empty, not deleted: active_run_id() caches the id it finds in os.environ (as it does in a
    # kernel), and monkeypatch only undoes a variable it has set; a deleted one would leak
    # into every later test of this worker (and into the subprocesses they start)
    monkeypatch.setenv("NBOPS_RUN_ID", "")
    monkeypatch.setenv(DIR_ENV, str(tmp_path / "journal"))
    monkeypatch.setenv(PARAMS_ENV, json.dumps({"alpha": "0.5"}))
    monkeypatch.setattr(tracking_api, "_writers", {})
    return Journal(tmp_path / "journal")


def ingest(journal: Journal, tracker: MlflowTracker, run_id: str) -> int:
    return journal.ingest(run_id, tracker.log_batch, tracker.log_artifact)


def test_metrics_params_and_artifacts_reach_the_run(
    journal: Journal, tracker: MlflowTracker, tmp_path: Path
) -> None:
    run_id = tracker.start_run(f"j-{uuid.uuid4().hex[:6]}", "nb", {"alpha": 0.5}, {})
    plot = tmp_path / "plot.png"
    plot.write_bytes(b"first")
    for step in range(3):
        tracking_api.log_metric("loss", 1.0 / (step + 1), step=step)
    tracking_api.log_metric("auc", 0.9)
    tracking_api.log_param("features", [1, 2])
    tracking_api.log_param("alpha", 0.5)  # the run's own value again: fine
    tracking_api.log_artifact(plot, "figures")
    plot.write_bytes(b"changed after the call")  # the artifact is the file as it was
    assert ingest(journal, tracker, run_id) == 6
    assert ingest(journal, tracker, run_id) == 0  # each event is logged once
    run = tracker.get_run(run_id)
    assert run.metrics == {"loss": pytest.approx(1 / 3), "auc": pytest.approx(0.9)}
    assert run.params["features"] == "[1, 2]" and run.params["alpha"] == "0.5"
    history = tracker.client.get_metric_history(run_id, "loss")
    assert sorted((m.step, m.value) for m in history) == [(0, 1.0), (1, 0.5), (2, pytest.approx(1 / 3))]
    local = Path(tracker.client.download_artifacts(run_id, "figures/plot.png", str(tmp_path / "dl")))
    assert local.read_bytes() == b"first"
    assert journal.errors == []


def test_a_half_written_line_waits_for_the_next_read(
    journal: Journal, tracker: MlflowTracker
) -> None:
    run_id = tracker.start_run(f"j-{uuid.uuid4().hex[:6]}", "nb", {}, {})
    events = journal.folder / "events.jsonl"
    line = json.dumps({"t": "metric", "key": "m", "value": 1.0, "step": 0, "ts": 0})
    events.write_text(line + "\n" + line[:10])
    assert ingest(journal, tracker, run_id) == 1
    with open(events, "a") as handle:
        handle.write(line[10:] + "\nnot json\n")
    assert ingest(journal, tracker, run_id) == 1
    assert journal.errors and "unreadable journal line" in journal.errors[0]


def test_bad_calls_fail_in_the_notebook_cell_not_later(journal: Journal) -> None:
    with pytest.raises(UsageError, match="invalid metric name"):
        tracking_api.log_metric("bad:name!", 1.0)
    with pytest.raises(UsageError, match="'ok' must be a number, not 'n/a'"):
        tracking_api.log_metric("ok", "n/a")  # type: ignore[arg-type]
    with pytest.raises(UsageError, match="already logged") as info:
        tracking_api.log_param("alpha", 0.7)  # the run has alpha = 0.5
    assert "params are fixed" in (info.value.hint or "")
    tracking_api.log_param("beta", 1)
    with pytest.raises(UsageError, match="beta"):
        tracking_api.log_param("beta", 2)
    with pytest.raises(NotFoundError):
        tracking_api.log_artifact(journal.folder / "missing.png")
    lines = (journal.folder / "events.jsonl").read_text().splitlines()
    assert [json.loads(x)["key"] for x in lines] == ["beta"]  # only the good call was written


def test_the_kernel_side_never_imports_mlflow_for_metrics(tmp_path: Path) -> None:
    import subprocess
    import sys

    folder = tmp_path / "journal"
    folder.mkdir()
    code = (
        "import sys, nbops\n"
        "nbops.log_metric('m', 1)\nnbops.log_param('p', 2)\n"
        "print('mlflow' in sys.modules)"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NBOPS_", "MLFLOW_"))}
    env[DIR_ENV] = str(folder)
    proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60,
                          check=False)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "False"
    assert len((folder / "events.jsonl").read_text().splitlines()) == 2


def test_active_run_id_waits_for_nbops_to_publish_it(
    journal: Journal, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tracking_api, "_RUN_ID_WAIT", 5.0)
    timer = threading.Timer(0.3, write_run_id, (journal.folder, "abc123"))
    timer.start()
    started = time.monotonic()
    assert tracking_api.active_run_id() == "abc123"
    assert 0.2 < time.monotonic() - started < 5
    timer.join()
    assert read_run_id(journal.folder, 0) == "abc123"
    assert not list(journal.folder.glob(".run_id.*"))  # written by rename, nothing left over


def test_no_published_run_id_is_none_after_the_wait(
    journal: Journal, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tracking_api, "_RUN_ID_WAIT", 0.2)
    monkeypatch.setattr(tracking_api, "_warned", True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert tracking_api.active_run_id() is None


def test_concurrent_writers_never_interleave_lines(journal: Journal) -> None:
    writer = JournalWriter(journal.folder)

    def spam(n: int) -> None:
        for i in range(200):
            writer.metric(f"m{n}", float(i), i)

    threads = [threading.Thread(target=spam, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    lines = (journal.folder / "events.jsonl").read_text().splitlines()
    assert len(lines) == 800 and all(json.loads(x)["t"] == "metric" for x in lines)


# --------------------------------------------------------------------------- who owns a run

_HOLDER = """
import sys, time
from pathlib import Path
from nbops.run.journal import Journal
journal = Journal(Path(sys.argv[1]))
print("held" if journal.owner.held else "not held", flush=True)
time.sleep(60)
"""


def _holder(folder: Path) -> subprocess.Popen[str]:
    """Another process that owns the journal ``folder`` (and is killed by the test)."""
    proc = subprocess.Popen([sys.executable, "-c", _HOLDER, str(folder)], stdout=subprocess.PIPE,
                            text=True)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
    return proc


def test_a_journal_claims_its_run_until_discarded(tmp_path: Path) -> None:
    journal = Journal(tmp_path / ".a.journal")
    tags = journal.owner.tags()
    assert tags[OWNER_LOCK_TAG] == str((tmp_path / ".a.journal" / "owner.lock").resolve())
    assert tags[OWNER_PID_TAG] == str(os.getpid()) and tags[OWNER_HOST_TAG]
    with orphaned(tags) as reason:  # held by this process, through another descriptor
        assert reason is None
    assert remove_stale(tmp_path) == 0 and journal.folder.exists()
    journal.discard()
    assert not journal.folder.exists()


def test_the_run_of_a_killed_process_is_orphaned_and_its_journal_removed(tmp_path: Path) -> None:
    folder = tmp_path / ".b.journal"
    proc = _holder(folder)
    tags = {OWNER_LOCK_TAG: str(folder / "owner.lock"), OWNER_PID_TAG: str(proc.pid),
            OWNER_HOST_TAG: socket.gethostname()}
    with orphaned(tags) as reason:
        assert reason is None  # alive
    proc.kill()
    proc.wait()
    with orphaned(tags) as reason:
        assert reason is not None and f"pid {proc.pid}" in reason
    assert not folder.exists()  # removed once its run was ended
    with orphaned({**tags, OWNER_HOST_TAG: "elsewhere"}) as reason:
        assert reason is None  # another host's runs are never judged from here


def test_two_checkers_of_a_dead_owner_both_see_it_orphaned(tmp_path: Path) -> None:
    """A server ending a killed job's runs and a history read at the same moment: the second
    checker finds the lock held by the first, not by the (dead) owner, and waits for it; it
    used to answer "the owner lives" and the history showed the run RUNNING (a CI failure)."""
    folder = tmp_path / ".c.journal"
    proc = _holder(folder)
    proc.kill()
    proc.wait()
    tags = {OWNER_LOCK_TAG: str(folder / "owner.lock"), OWNER_PID_TAG: str(proc.pid),
            OWNER_HOST_TAG: socket.gethostname()}
    inside = threading.Event()
    second: list[str | None] = []

    def other_checker() -> None:
        inside.wait(10)
        with orphaned(tags) as reason:
            second.append(reason)

    thread = threading.Thread(target=other_checker)
    thread.start()
    with orphaned(tags) as reason:
        assert reason is not None
        inside.set()
        time.sleep(0.5)  # the other checker tries while this one holds the lock
    thread.join(15)
    assert second and second[0] is not None and f"pid {proc.pid}" in second[0]


def test_stale_journal_folders_of_dead_processes_are_removed(tmp_path: Path) -> None:
    dead, alive = _holder(tmp_path / ".dead.journal"), _holder(tmp_path / ".alive.journal")
    dead.kill()
    dead.wait()
    (tmp_path / ".new.journal").mkdir()  # being created: no lock file yet
    try:
        assert remove_stale(tmp_path) == 1
        assert sorted(p.name for p in tmp_path.iterdir()) == [".alive.journal", ".new.journal"]
    finally:
        alive.kill()
        alive.wait()


def test_a_running_run_whose_owner_died_is_ended_killed(tracker: MlflowTracker, tmp_path: Path) -> None:
    folder = tmp_path / ".c.journal"
    proc = _holder(folder)
    tags = {OWNER_LOCK_TAG: str(folder / "owner.lock"), OWNER_PID_TAG: str(proc.pid),
            OWNER_HOST_TAG: socket.gethostname()}
    run_id = tracker.start_run("owners", "orphan", {}, tags)
    mine = Journal(tmp_path / ".d.journal")
    live = tracker.start_run("owners", "live", {}, mine.owner.tags())
    assert {r.status for r in tracker.end_orphans(tracker.list_runs("owners"))} == {"RUNNING"}
    proc.kill()
    proc.wait()
    assert tracker.end_orphaned_runs("owners") == [run_id]
    record = tracker.get_run(run_id)
    assert record.status == "KILLED" and f"pid {proc.pid}" in record.tags[KILLED_REASON_TAG]
    assert tracker.get_run(live).status == "RUNNING"  # its owner (this process) lives
    tracker.end_run(live, "FINISHED")
    mine.discard()
