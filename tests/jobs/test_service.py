"""The job service on real subprocesses: states, progress, the result, the time limit, the
stop policy, admission, pruning, and a kind that breaks."""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field
from typing import Any

import pytest

from nbops.errors import ConflictError, NotFoundError, ToolError
from nbops.jobs import Finish, Job, JobTable, cli_error

PY = sys.executable


@dataclass
class CountJob(Job):
    count: int = 0
    out: str = ""
    seen_tail: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {**super().to_json(), "count": self.count, "out": self.out}


class CountKind:
    """Progress: lines ``n=K``; the result: stdout, exit 0 finished, else failed."""

    name = "the counter"

    def __init__(self, broken: bool = False) -> None:
        self.broken = broken

    def progress(self, job: CountJob, line: str) -> bool:
        if line.startswith("n="):
            job.count = int(line[2:])
            return True
        return False

    def finish(self, job: CountJob, code: int, out: bytes, tail: list[str]) -> Finish:
        if self.broken:
            raise RuntimeError("a bug in the kind")
        fields = {"out": out.decode().strip(), "seen_tail": tail}
        if job.stopped_by is not None:
            return Finish("cancelled", f"stopped by {job.stopped_by}", fields)
        if code == 0:
            return Finish("finished", None, fields)
        return Finish("failed", cli_error(code, tail, self.name), fields)


def script(body: str) -> list[str]:
    return [PY, "-c", body]


def wait_ended(table: JobTable[CountJob], job_id: str, timeout: float = 30.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        answer = table.get(job_id)
        if answer["state"] not in ("queued", "running"):
            return answer
        time.sleep(0.05)
    raise AssertionError(f"job {job_id} did not end: {table.get(job_id)}")


def test_a_job_runs_reports_progress_and_ends_finished(tmp_path: Any) -> None:
    table = JobTable(CountKind())
    body = (
        "import sys, time\n"
        "for i in range(1, 4):\n"
        "    print(f'n={i}', file=sys.stderr, flush=True); time.sleep(0.05)\n"
        "print('warning: noise', file=sys.stderr)\n"
        "print('result')\n"
    )
    started = table.start(CountJob(id="a"), script(body), cwd=tmp_path)
    assert started["state"] == "running" and started["ended"] is None
    ended = wait_ended(table, "a")
    assert ended["state"] == "finished" and ended["count"] == 3 and ended["out"] == "result"
    assert ended["ended"] is not None and ended["error"] is None
    # progress lines are not kept for the error message; other lines are
    assert table._jobs["a"].seen_tail == ["warning: noise"]


def test_a_failing_job_says_the_clis_one_line_error(tmp_path: Any) -> None:
    table = JobTable(CountKind())
    body = "import sys\nprint('Traceback (most recent call last):', file=sys.stderr)\n" \
           "print('nbops: error: a.ipynb: no such file', file=sys.stderr)\nsys.exit(2)\n"
    table.start(CountJob(id="b"), script(body), cwd=tmp_path)
    ended = wait_ended(table, "b")
    assert (ended["state"], ended["error"]) == ("failed", "a.ipynb: no such file")


def test_the_time_limit_stops_the_job_and_what_it_started(tmp_path: Any) -> None:
    table = JobTable(CountKind(), grace=0.5)
    job = CountJob(id="c", limit_s=0.5)
    # the child ignores SIGINT and SIGTERM: only the policy's SIGKILL ends it
    body = ("import signal, subprocess, sys, time\n"
            "signal.signal(signal.SIGINT, signal.SIG_IGN); signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
            "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'])\n"
            "print(child.pid, flush=True)\n"
            "time.sleep(60)\n")  # fmt: skip
    table.start(job, script(body), cwd=tmp_path)
    ended = wait_ended(table, "c")
    assert ended["state"] == "cancelled" and ended["error"] == "stopped by limit"
    child = int(ended["out"])
    deadline = time.monotonic() + 5
    while alive(child) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not alive(child)


def alive(pid: int) -> bool:
    """A process that exists and is no zombie (a killed orphan may wait to be reaped)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="utf-8") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def test_cancel_answers_at_once_or_once_ended(tmp_path: Any) -> None:
    table = JobTable(CountKind(), grace=0.5)
    table.start(CountJob(id="d"), script("import time; time.sleep(60)"), cwd=tmp_path)
    asked = time.monotonic()
    answer = table.cancel("d")
    assert answer["state"] == "running" and time.monotonic() - asked < 0.5  # in the background
    assert wait_ended(table, "d")["error"] == "stopped by user"
    table.start(CountJob(id="e"), script("import time; time.sleep(60)"), cwd=tmp_path)
    answer = table.cancel("e", wait=True)
    assert answer["state"] == "cancelled"
    # a job that has ended is answered as it is
    assert table.cancel("e", wait=True) == answer
    with pytest.raises(NotFoundError):
        table.cancel("nope")


def test_admission_refuses_before_anything_starts_and_close_stops_every_job(tmp_path: Any) -> None:
    table = JobTable(CountKind(), grace=0.5)
    marker = tmp_path / "started"
    table.start(CountJob(id="f"), script("import time; time.sleep(60)"), cwd=tmp_path)

    def one_at_a_time(active: list[CountJob]) -> None:
        if active:
            raise ConflictError(f"busy with {active[0].id}")

    cleaned: list[bool] = []
    with pytest.raises(ConflictError, match="busy with f"):
        table.start(CountJob(id="g"), script(f"open({str(marker)!r}, 'w')"), cwd=tmp_path,
                    admit=one_at_a_time, cleanup=lambda: cleaned.append(True))  # fmt: skip
    assert not marker.exists() and cleaned == [True]
    with pytest.raises(NotFoundError):
        table.get("g")
    table.close(timeout=2)
    assert table.get("f")["state"] == "cancelled" and table.get("f")["error"] == "stopped by server"
    with pytest.raises(ToolError, match="stopping"):
        table.start(CountJob(id="h"), script("pass"), cwd=tmp_path)


def test_a_command_that_cannot_start_is_a_tool_error_and_leaves_no_job(tmp_path: Any) -> None:
    table = JobTable(CountKind())
    cleaned: list[bool] = []
    with pytest.raises(ToolError, match="cannot start the counter"):
        table.start(CountJob(id="i"), [str(tmp_path / "no-such-program")], cwd=tmp_path,
                    cleanup=lambda: cleaned.append(True))  # fmt: skip
    assert cleaned == [True] and table.list() == []


def test_ended_jobs_are_pruned_newest_kept_and_a_broken_kind_still_ends_the_job(tmp_path: Any) -> None:
    table = JobTable(CountKind(), keep=2)
    for n in range(4):
        table.start(CountJob(id=f"p{n}"), script("pass"), cwd=tmp_path)
        wait_ended(table, f"p{n}")
    table.start(CountJob(id="p4"), script("pass"), cwd=tmp_path)
    wait_ended(table, "p4")
    assert [j["id"] for j in table.list()] == ["p4", "p3"]  # newest first
    broken = JobTable(CountKind(broken=True))
    broken.start(CountJob(id="x"), script("pass"), cwd=tmp_path)
    ended = wait_ended(broken, "x")
    assert ended["state"] == "failed" and "internal error" in ended["error"]
