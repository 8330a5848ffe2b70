"""The parts of the review gate every check shares: its input, its result, the check object.

A check is a :class:`Check`: an id, a category, a title, a default level and the function
that runs it on a :class:`GateInput`. The checks themselves are in
:mod:`nbops.review.gate_checks` (the notebook's own) and :mod:`nbops.review.library` (the
generated library, a tracked run); the registry of all of them, in checklist order, is
:data:`nbops.review.gate_checks.CHECKS`; :func:`nbops.review.checks.check_notebook` runs it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol

from nbops import api_types
from nbops.config import Config
from nbops.core.notebook import Notebook
from nbops.lint.diagnostic import Diagnostic

__all__ = ["Category", "Check", "CheckResult", "GateInput", "GatePolicy", "Level", "Status"]

Level = Literal["required", "optional", "off"]
Status = Literal["pass", "fail", "skip"]
Category = Literal["documentation", "quality", "safety", "reproducibility"]


@dataclass
class CheckResult:
    """One line of the checklist."""

    id: str
    category: Literal["documentation", "quality", "safety", "reproducibility"]
    title: str
    status: Status
    message: str
    fix: str = ""
    cell_index: int | None = None  # where to jump (0-based)
    fix_code: str | None = None  # a lint code whose safe fix repairs it (nbops fix --select)
    level: Literal["required", "optional"] = "required"  # an "off" check is not run
    details: list[str] = field(default_factory=list)

    @property
    def blocking(self) -> bool:
        return self.status == "fail" and self.level == "required"

    def to_json(self) -> api_types.CheckResult:
        return {
            "id": self.id,
            "category": self.category,
            "title": self.title,
            "level": self.level,
            "status": self.status,
            "blocking": self.blocking,
            "message": self.message,
            "fix": self.fix,
            "cell": None if self.cell_index is None else self.cell_index + 1,
            "cell_index": self.cell_index,
            "fix_code": self.fix_code,
            "details": list(self.details),
        }


class GatePolicy(Protocol):
    """What the checks read of the policy (:class:`nbops.review.policy.Policy` is one)."""

    @property
    def sections(self) -> tuple[str, ...]: ...
    @property
    def fail_on(self) -> str: ...
    @property
    def summary_min_words(self) -> int: ...
    @property
    def strip_outputs(self) -> bool: ...
    @property
    def max_output_bytes(self) -> int: ...


@dataclass
class GateInput:
    """What every check gets: the notebook, its file, the project's config and policy, the
    lint findings (one lint run for all checks) and its parameters."""

    nb: Notebook
    path: Path | None
    config: Config
    policy: GatePolicy
    diagnostics: list[Diagnostic]
    params: Any  # NotebookParameters | None (None: not readable as Python)


@dataclass(frozen=True)
class Check:
    """One check of the gate: ``run`` makes its checklist line; ``level`` is its default
    (``[tool.nbops.submit.checks]`` and ``--require``/``--skip`` change it)."""

    id: str
    category: Category
    title: str
    level: Level
    run: Callable[[GateInput], CheckResult] = field(repr=False)

    def evaluate(self, data: GateInput, level: Literal["required", "optional"]) -> CheckResult:
        """The checklist line at ``level``; its id and category are this check's."""
        result = self.run(data)
        result.id, result.category, result.level = self.id, self.category, level
        return result
