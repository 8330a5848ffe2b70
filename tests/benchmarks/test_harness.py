"""benchmarks/harness.py: statistics, side-by-side runs, measured subprocesses, reports."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path

import harness
import pytest


def test_median_skips_missing_values() -> None:
    assert harness.median([3.0, None, 1.0, 2.0]) == 2.0
    assert harness.median([None]) is None
    assert harness.median([]) is None


def test_percentile_interpolates() -> None:
    assert harness.percentile([1, 2, 3, 4, 5], 50) == 3
    assert harness.percentile([0, 10], 90) == pytest.approx(9.0)
    assert harness.percentile([7], 10) == 7


def test_summary_gives_median_and_spread() -> None:
    s = harness.summary([1.0, 2.0, 4.0])
    assert (s["n"], s["min"], s["median"], s["max"]) == (3, 1.0, 2.0, 4.0)
    assert s["spread"] == pytest.approx(1.5)  # (max - min) / median
    assert harness.summary([]) == {"n": 0}


def test_ratios() -> None:
    assert harness.ratio(3.0, 2.0) == 1.5
    assert harness.ratio(None, 2.0) is None
    assert harness.ratio(1.0, 0.0) is None
    assert harness.paired_ratios([2.0, 9.0], [1.0, 3.0]) == [2.0, 3.0]
    with pytest.raises(ValueError, match="2 runs against 1"):
        harness.paired_ratios([1.0, 2.0], [1.0])


def test_bootstrap_ci_is_seeded_and_brackets_the_median() -> None:
    xs = [float(x) for x in range(1, 40)]
    lo, hi = harness.bootstrap_ci(xs)
    assert lo <= 20.0 <= hi
    assert harness.bootstrap_ci(xs) == (lo, hi)


def test_interleave_rotates_the_order_and_drops_warmup() -> None:
    calls: list[tuple[str, int]] = []
    after: list[int] = []

    def work(name: str) -> Callable[[int], str]:
        def run(i: int) -> str:
            calls.append((name, i))
            return f"{name}{i}"
        return run

    out = harness.interleave({"a": work("a"), "b": work("b")}, runs=3, warmup=1,
                             after_round=after.append)
    assert out == {"a": ["a0", "a1", "a2"], "b": ["b0", "b1", "b2"]}
    # round -1 (warm-up) starts with b, then a, b, a first in turn
    assert calls == [("b", -1), ("a", -1), ("a", 0), ("b", 0), ("b", 1), ("a", 1),
                     ("a", 2), ("b", 2)]
    assert after == [0, 1, 2]


def test_repeat_times_each_run() -> None:
    n = []
    samples = harness.repeat(lambda: n.append(1), runs=3, warmup=2)
    assert len(n) == 5 and len(samples) == 3
    assert all(s.wall >= 0 and s.cpu >= 0 for s in samples)


def test_run_measured_reports_rss_and_exit_codes(tmp_path: Path) -> None:
    log = tmp_path / "out.log"
    grow = "x = bytearray(60 * 1024 * 1024); import time; time.sleep(0.3); print('done')"
    m = harness.run_measured([[sys.executable, "-c", grow], [sys.executable, "-c", "raise SystemExit(3)"]],
                             cwd=tmp_path, stdout=log, timeout=60, sample_ms=20)
    assert m["rcs"] == [0, 3]
    assert not m["timed_out"]
    assert m["peak_kb"] >= 60 * 1024  # the 60 MB buffer
    assert len(m["per_cmd"]) == 2 and m["wall"] >= 0.3
    assert "done" in log.read_text()


def test_run_measured_stops_at_the_timeout(tmp_path: Path) -> None:
    m = harness.run_measured([[sys.executable, "-c", "import time; time.sleep(30)"]],
                             cwd=tmp_path, stdout=tmp_path / "log", timeout=0.5, sample_ms=50)
    assert m["timed_out"] and m["wall"] < 10


def test_run_timed_captures_and_times_out(tmp_path: Path) -> None:
    r = harness.run_timed([sys.executable, "-c", "print('hi')"], cwd=tmp_path, capture=True)
    assert (r["rc"], r["stdout"].strip(), r["timeout"]) == (0, "hi", False)
    r = harness.run_timed([sys.executable, "-c", "import time; time.sleep(30)"], cwd=tmp_path,
                          timeout=0.3)
    assert r["rc"] is None and r["timeout"]
    log = tmp_path / "cmd.log"
    harness.run_timed([sys.executable, "-c", "print('to the log')"], cwd=tmp_path, log=log)
    assert log.read_text() == "to the log\n"


def test_machine_context() -> None:
    m = harness.machine(extra="x")
    assert {"nproc", "cpu", "ram", "os", "python", "loadavg"} <= set(m)
    assert m["extra"] == "x"
    assert len(m["loadavg"].split()) == 3
    line = harness.context_line(m)
    assert f"{m['nproc']} cores" in line and "load average" in line
    assert harness.versions(sys.executable, ["pytest", "no-such-package-x"]).endswith(
        "no-such-package-x -")


def test_md_table() -> None:
    assert harness.md_table(["a", "b"], [[1, None], ["x", 2.5]], align="lr") == [
        "| a | b |", "|---|---:|", "| 1 |  |", "| x | 2.5 |"]


REPORT = (
    "# Report\n\nIntro  with two spaces \r\n\n"
    "<!-- part:x:begin (generated) -->\nold body\n<!-- part:x:end -->\n\n## After\ntail\n\n\n"
)


def test_splice_replaces_only_the_marked_part() -> None:
    body = "<!-- part:x:begin (generated) -->\nnew\nbody\n<!-- part:x:end -->\n"
    out = harness.splice(REPORT, "<!-- part:x:begin", "<!-- part:x:end -->", body)
    before, after = REPORT.split("<!-- part:x:begin")[0], REPORT.split("<!-- part:x:end -->")[1]
    assert out == before + body.rstrip("\n") + after  # every other byte kept


def test_splice_appends_a_missing_part() -> None:
    body = "<!-- part:y:begin -->\ny\n<!-- part:y:end -->"
    out = harness.splice("# R\n\ntext\n\n", "<!-- part:y:begin", "<!-- part:y:end -->", body)
    assert out == "# R\n\ntext\n\n" + body + "\n"


def test_section_reads_one_heading() -> None:
    text = "# T\n\n## Targets (x)\n\n| a |\n|---|\n\n## Setup\nno\n"
    assert harness.section(text, "## Targets") == "| a |\n|---|"
    assert harness.section(text, "## Missing") is None


def test_write_json(tmp_path: Path) -> None:
    p = harness.write_json(tmp_path / "deep" / "r.json", {"a": 1, "p": Path("x")})
    assert json.loads(p.read_text()) == {"a": 1, "p": "x"}
    assert p.read_text().endswith("\n")
