"""Diagnostics and fixes: the one finding shape shared by the CLI, the REST API and the UI.

JSON shape of a diagnostic (``Diagnostic.to_json``)::

    {"code": "NB301", "name": "absolute-path", "source": "nbops", "severity": "warning",
     "message": "...", "path": "examples/churn.ipynb",
     "cell": 3, "cell_index": 2, "cell_id": "a1b2",         # cell is 1-based, cell_index 0-based
     "line": 1, "column": 13, "end_line": 1, "end_column": 40,   # 1-based, within the cell
     "fix": {"applicability": "safe", "message": "...", "edits": [...]} | null,
     "url": "https://.../rules.md#nb301"}

``cell`` is ``null`` for notebook-level findings (missing title, unreadable file) and ``line``
is ``null`` when a finding is about a whole cell or file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Literal

from nbops import api_types

__all__ = [
    "SEVERITY_ORDER",
    "Applicability",
    "Diagnostic",
    "Edit",
    "Fix",
    "Severity",
    "severity_at_least",
]

Severity = Literal["error", "warning", "info"]
Applicability = Literal["safe", "unsafe"]
EditOp = Literal["replace_source", "replace_text", "add_tag", "clear_outputs", "delete_cell"]
Source = Literal["nbops", "ruff", "black"]  # who found it

SEVERITY_ORDER: dict[str, int] = {"info": 0, "warning": 1, "error": 2}

RULES_URL = "https://github.com/nbops/nbops/blob/main/docs/rules.md"
BLACK_URL = "https://black.readthedocs.io/en/stable/the_black_code_style/current_style.html"


def rule_anchor(code: str, name: str) -> str:
    """The GitHub anchor of ``### CODE name`` in docs/rules.md."""
    return re.sub(r"[^a-z0-9 _-]", "", f"{code} {name}".lower()).replace(" ", "-")


def rule_url(code: str, name: str) -> str:
    """Where nbops' rule ``code`` (named ``name``) is documented."""
    return f"{RULES_URL}#{rule_anchor(code, name)}"


def severity_at_least(severity: str, threshold: str) -> bool:
    return SEVERITY_ORDER.get(severity, 0) >= SEVERITY_ORDER.get(threshold, 0)


@dataclass(frozen=True, slots=True)
class Edit:
    """One change to one cell.

    ``replace_source``: the cell's whole new ``content``. ``replace_text``: replace lines
    ``line:column`` to ``end_line:end_column`` (1-based, end exclusive) with ``content``.
    ``add_tag``: add ``content`` to the cell's tags. ``clear_outputs``: drop outputs and the
    execution count. ``delete_cell``: remove the cell.
    """

    op: EditOp
    cell_index: int
    content: str = ""
    line: int | None = None
    column: int | None = None
    end_line: int | None = None
    end_column: int | None = None

    def to_json(self) -> api_types.Edit:
        data: api_types.Edit = {"op": self.op, "cell_index": self.cell_index}
        if self.op != "clear_outputs" and self.op != "delete_cell":
            data["content"] = self.content
        if self.op == "replace_text":
            data.update(
                {"line": self.line, "column": self.column,
                 "end_line": self.end_line, "end_column": self.end_column}
            )  # fmt: skip
        return data


@dataclass(frozen=True, slots=True)
class Fix:
    message: str
    applicability: Applicability
    edits: tuple[Edit, ...]

    def to_json(self) -> api_types.Fix:
        return {
            "message": self.message,
            "applicability": self.applicability,
            "edits": [e.to_json() for e in self.edits],
        }


@dataclass(slots=True)
class Diagnostic:
    code: str
    name: str
    message: str
    severity: Severity
    path: str
    source: Source = "nbops"
    cell_index: int | None = None
    cell_id: str | None = None
    line: int | None = None
    column: int | None = None
    end_line: int | None = None
    end_column: int | None = None
    fix: Fix | None = None
    url: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def cell(self) -> int | None:
        return None if self.cell_index is None else self.cell_index + 1

    def sort_key(self) -> tuple[str, int, int, int, str]:
        return (
            self.path,
            -1 if self.cell_index is None else self.cell_index,
            self.line or 0,
            self.column or 0,
            self.code,
        )

    def to_json(self) -> api_types.Diagnostic:
        return {
            "code": self.code,
            "name": self.name,
            "source": self.source,
            "severity": self.severity,
            "message": self.message,
            "path": self.path,
            "cell": self.cell,
            "cell_index": self.cell_index,
            "cell_id": self.cell_id,
            "line": self.line,
            "column": self.column,
            "end_line": self.end_line,
            "end_column": self.end_column,
            "fix": self.fix.to_json() if self.fix else None,
            "url": self.url,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Diagnostic:
        fix = data.get("fix")
        return cls(
            code=data["code"],
            name=data.get("name", ""),
            message=data["message"],
            severity=data.get("severity", "warning"),
            path=data.get("path", ""),
            source=data.get("source", "nbops"),
            cell_index=data.get("cell_index"),
            cell_id=data.get("cell_id"),
            line=data.get("line"),
            column=data.get("column"),
            end_line=data.get("end_line"),
            end_column=data.get("end_column"),
            url=data.get("url"),
            fix=None
            if not fix
            else Fix(
                message=fix["message"],
                applicability=fix["applicability"],
                edits=tuple(
                    Edit(
                        op=e["op"],
                        cell_index=e["cell_index"],
                        content=e.get("content", ""),
                        line=e.get("line"),
                        column=e.get("column"),
                        end_line=e.get("end_line"),
                        end_column=e.get("end_column"),
                    )
                    for e in fix.get("edits", [])
                ),
            ),
        )
