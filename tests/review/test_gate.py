"""The gate's registry of checks: one Check object per check (id, category, title, default
level, run); the policy's defaults and every checklist line come from it."""

from __future__ import annotations

from pathlib import Path

from nbops.config import load_config
from nbops.review.checks import check_notebook
from nbops.review.gate_checks import CHECK_IDS, CHECKS, DEFAULT_LEVELS, get_check
from nbops.review.policy import Policy, load_policy

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "wine_classifier.ipynb"


def test_the_registry_is_the_policy_s_table() -> None:
    assert CHECK_IDS == tuple(c.id for c in CHECKS) and len(set(CHECK_IDS)) == len(CHECKS)
    assert Policy().levels == DEFAULT_LEVELS == {c.id: c.level for c in CHECKS}
    assert [get_check(i).id for i in CHECK_IDS] == list(CHECK_IDS)
    assert {c.category for c in CHECKS} == {"documentation", "quality", "safety", "reproducibility"}


def test_every_checklist_line_is_its_check_s() -> None:
    required = {i: "required" for i in CHECK_IDS if i not in ("library", "tracked-run")}
    policy = load_policy(load_config(EXAMPLE.parent), overrides=required | {"lint": "optional"})
    report = check_notebook(EXAMPLE, policy=policy)
    assert [r.id for r in report.checks] == [i for i in CHECK_IDS if i in required]
    for result in report.checks:
        check = get_check(result.id)
        assert (result.category, result.level) == (check.category, policy.level(check.id))
