"""benchmarks/run.py --only issue16: its section of docs/benchmarks.md, spliced in place."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import run


def _data(nbops_ruff_cpu: float) -> dict[str, object]:
    rows = {
        "ruff": (0.5, 0.5), "nbops_no_format": (1.5, 2.5), "nbops_ruff": (2.0, nbops_ruff_cpu),
        "nbops_black": (6.0, 8.0), "nbqa": (30.0, 30.0),
    }
    return {
        "measured_at": "2026-12-07", "runs": 3, "corpus": "benchmarks/corpus", "notebooks": 300,
        "rows": {k: {"label": f"`{k}`", "cmd": k, "wall": w, "cpu": c} for k, (w, c) in rows.items()},
    }


def test_the_section_replaces_itself_and_leaves_the_rest(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(run, "ISSUE16_JSON", tmp_path / "issue16.json")
    doc = tmp_path / "benchmarks.md"
    doc.write_text("# Benchmarks\n\nother helper's text\n\n## Reading the figures\n\nx\n")
    (tmp_path / "issue16.json").write_text(json.dumps(_data(2.5)))
    run.splice_issue16(doc)
    first = doc.read_text()
    assert "other helper's text" in first and first.endswith("## Reading the figures\n\nx\n")
    assert "15.0x wall, 12.0x CPU | **PASS**" in first  # nbQA 30 s / nbops 2 s, 30 / 2.5
    assert "`--no-format` cold <= 2x bare `ruff check` | 3.0x wall, 5.0x CPU | **FAIL**" in first
    (tmp_path / "issue16.json").write_text(json.dumps(_data(5.0)))
    run.splice_issue16(doc)
    second = doc.read_text()
    assert second.count(run.ISSUE16_START) == 1 and "15.0x wall, 6.0x CPU | **FAIL**" in second

    def outside(text: str) -> tuple[str, str]:
        return text.split(run.ISSUE16_START)[0], text.split(run.ISSUE16_END)[1]

    assert outside(second) == outside(first)
