"""The review gate (``nbops check``): each required check with its result, message and fix.

The checks are a registry of :class:`~nbops.review.gate.Check` objects
(:data:`~nbops.review.gate_checks.CHECKS`, in the order the checklist shows them); the
policy (:mod:`nbops.review.policy`) says which are required, optional or off. One JSON shape
for the CLI, the REST API and the JupyterLab dialog: :meth:`GateReport.to_json`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from nbops import api_types
from nbops.config import Config, load_config
from nbops.core.notebook import Notebook, read_notebook
from nbops.lint.diagnostic import Diagnostic
from nbops.review.gate import Check, CheckResult, GateInput
from nbops.review.gate_checks import CHECKS
from nbops.review.policy import Policy, load_policy

__all__ = ["CHECKS", "Check", "CheckResult", "GateReport", "check_notebook"]


@dataclass
class GateReport:
    """The gate's verdict on one notebook."""

    path: str
    policy: Policy
    checks: list[CheckResult]
    diagnostics: list[Diagnostic] = field(default_factory=list)  # the lint run it used

    @property
    def passed(self) -> bool:
        return not any(c.blocking for c in self.checks)

    def to_json(self) -> api_types.GateReport:
        def count(status: str) -> int:
            return sum(1 for c in self.checks if c.status == status)

        return {
            "notebook": self.path,
            "passed": self.passed,
            "summary": {
                "pass": count("pass"),
                "fail": count("fail"),
                "skip": count("skip"),
                "blocking": sum(1 for c in self.checks if c.blocking),
            },
            "checks": [c.to_json() for c in self.checks],
            "policy": self.policy.to_json(),
        }


def check_notebook(
    path: str | Path | None,
    *,
    notebook: Notebook | None = None,
    config: Config | None = None,
    policy: Policy | None = None,
) -> GateReport:
    """Run the gate on a notebook file (or a notebook model, e.g. unsaved content)."""
    from nbops.errors import NbopsError
    from nbops.lint.engine import Linter
    from nbops.run.params import read_parameters

    file = Path(path) if path is not None else None
    nb = notebook if notebook is not None else read_notebook(file)  # type: ignore[arg-type]
    if config is None:
        config = load_config(file.parent if file is not None else None)
    policy = policy or load_policy(config)
    diagnostics = Linter(config, select=["NB", "FMT", "RUFF"], cache=False, jobs=1).lint_notebook(nb)
    try:
        params = read_parameters(nb) if nb.is_python else None
    except NbopsError:
        params = None  # a parameters cell that does not parse: the lint check reports NB003
    data = GateInput(nb, file, config, policy, diagnostics, params)
    results = []
    for check in CHECKS:
        level = policy.level(check.id)
        if level != "off":
            results.append(check.evaluate(data, level))
    return GateReport(str(path) if path is not None else nb.display_path, policy, results, diagnostics)
