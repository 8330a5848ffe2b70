"""benchmarks/precision.py: a stable sample whose verdicts survive re-runs, and precision counted
from the judged entries only."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import precision


def finding(n: int, code: str = "NB210") -> dict[str, Any]:
    return {"key": f"nb{n}.ipynb|0|{code}|m", "code": code, "notebook": f"nb{n}.ipynb"}


def test_sample_is_stable_when_findings_are_added() -> None:
    found = [finding(n) for n in range(30)]
    first = precision.sample(found, 5, seed=16)
    assert len(first) == 5 and first == precision.sample(list(reversed(found)), 5, seed=16)
    grown = precision.sample([*found, *(finding(n) for n in range(30, 40))], 5, seed=16)
    # a new finding only enters by displacing one: no old finding enters or reshuffles
    old_keys = {f["key"] for f in found}
    assert {f["key"] for f in grown if f["key"] in old_keys} <= {f["key"] for f in first}


def test_merge_keeps_verdicts_and_lists_new_findings(tmp_path: Path) -> None:
    judged = tmp_path / "judged.json"
    old = {**finding(1), "verdict": "wrong", "reason": "bound by %%bash --out"}
    gone = {**finding(2), "verdict": "right", "reason": "true"}
    judged.write_text(json.dumps({"entries": [old, gone]}))
    data = precision.merge([finding(1), finding(3)], judged)
    assert [(e["key"], e["verdict"], e["reason"]) for e in data["entries"]] == [
        (old["key"], "wrong", "bound by %%bash --out"), (finding(3)["key"], None, ""),
    ]
    assert [e["key"] for e in data["gone"]] == [gone["key"]]


def test_precision_counts_judged_entries_by_rule_and_family() -> None:
    entries = [
        {**finding(1, "NB202"), "verdict": "right"}, {**finding(2, "NB202"), "verdict": "wrong"},
        {**finding(3, "NB210"), "verdict": "right"}, {**finding(4, "NB503"), "verdict": None},
    ]
    rules, families = precision.precision(entries)
    assert rules == [["NB202", 2, 1, "50%"], ["NB210", 1, 1, "100%"]]
    assert families == [["NB2 execution and hidden state", 2, 3, 2, "67%"]]
