"""benchmarks/dask_bench.py's report: the "shared machine" warning only when the machine was."""

from __future__ import annotations

from typing import Any

import dask_bench
import pytest

SENTENCE = "This machine was shared with other developers' jobs"


def report(loadavg_start: str, loadavg_end: str = "9.00 5.00 3.00") -> dict[str, Any]:
    return {"measured": "2026-12-07T08:00:00+00:00", "command": "python benchmarks/dask_bench.py",
            "quick": True, "machine": {"nproc": 2, "loadavg": loadavg_start,
                                       "loadavg_start": loadavg_start, "loadavg_end": loadavg_end}}


@pytest.mark.parametrize("start", ["0.05 0.30 0.90", "0.99 2.00 3.00"])
def test_a_quiet_start_says_nothing_of_a_shared_machine_whatever_the_end(start: str) -> None:
    # the load at the end counts the benchmark's own workers (16 in part C)
    assert SENTENCE not in dask_bench.render(report(start))


@pytest.mark.parametrize("start", ["1.00 0.50 0.20", "6.92 6.24 4.48"])
def test_a_busy_start_says_the_machine_was_shared(start: str) -> None:
    text = dask_bench.render(report(start))
    assert SENTENCE in text and f"load average {start} at the start" in text


def test_an_unreadable_load_average_is_not_called_busy() -> None:
    assert not dask_bench.shared({"loadavg_start": "?"})
    assert not dask_bench.shared({})
