"""What a lint rule is: its metadata, the context it checks, and the finding it yields.

A rule is a small class with a code, a name, a one-paragraph explanation, a bad and a good
example (in the snippet format of :mod:`nbops.core.snippets`), a default severity, and whether
its fix is safe. ``check`` receives a :class:`Context` whose notebook analysis (translated
sources, per-cell symbols, data flow) is computed once, lazily, and shared by every rule.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from nbops import api_types
from nbops.core.notebook import Cell, Notebook
from nbops.lint.codes import FAMILIES
from nbops.lint.diagnostic import Fix, Severity

if TYPE_CHECKING:
    from nbops.core.dataflow import DataFlow
    from nbops.core.magics import CellSource
    from nbops.core.symbols import CellSymbols

__all__ = ["Context", "Finding", "FixKind", "Rule"]

FixKind = Literal["none", "safe", "unsafe"]


@dataclass(frozen=True, slots=True)
class Finding:
    """What a rule reports; the engine turns it into a :class:`Diagnostic`."""

    message: str
    cell: int | None = None
    line: int | None = None
    column: int | None = None
    end_line: int | None = None
    end_column: int | None = None
    fix: Fix | None = None
    severity: Severity | None = None  # overrides the rule's default for this finding


class Context:
    """One notebook under lint, with its analysis computed on first use."""

    def __init__(self, notebook: Notebook, options: dict[str, Any] | None = None) -> None:
        self.notebook = notebook
        self.options: dict[str, Any] = options or {}

    @property
    def path(self) -> str:
        return self.notebook.display_path

    @property
    def cells(self) -> list[Cell]:
        return self.notebook.cells

    @cached_property
    def code_cells(self) -> list[Cell]:
        return self.notebook.code_cells

    @cached_property
    def markdown_cells(self) -> list[Cell]:
        return [c for c in self.notebook.cells if c.is_markdown]

    def option(self, name: str, default: Any) -> Any:
        """A rule option from ``[tool.nbops.options]`` (``max-cell-lines = 60``)."""
        return self.options.get(name, default)

    @cached_property
    def sources(self) -> dict[int, CellSource]:
        """Translated source of every code cell, by cell index."""
        return {i: s.source for i, s in self.symbols.items()}

    @cached_property
    def symbols(self) -> dict[int, CellSymbols]:
        return self.dataflow.symbols

    @cached_property
    def dataflow(self) -> DataFlow:
        from nbops.core.dataflow import CodeCellInput, analyze_notebook

        return analyze_notebook(
            [CodeCellInput(c.index, c.source, c.execution_count) for c in self.code_cells]
        )

    @cached_property
    def executed(self) -> bool:
        """True when at least one code cell carries an execution count."""
        return any(c.execution_count is not None for c in self.code_cells)

    def parsed(self) -> Iterator[tuple[Cell, CellSymbols]]:
        """Code cells whose translated source parses, with their symbols."""
        symbols = self.symbols
        for cell in self.code_cells:
            sym = symbols.get(cell.index)
            if sym is not None and sym.syntax_error is None:
                yield cell, sym


class Rule:
    """Base class of every nbops rule. Subclasses set the class attributes and ``check``."""

    code: ClassVar[str]
    name: ClassVar[str]
    summary: ClassVar[str]
    explanation: ClassVar[str]
    bad_example: ClassVar[str]
    good_example: ClassVar[str]
    severity: ClassVar[Severity] = "warning"
    fix: ClassVar[FixKind] = "none"
    fix_note: ClassVar[str] = ""
    python_only: ClassVar[bool] = True
    # True for conditions the engine detects itself (unreadable file, tool failure)
    engine_reported: ClassVar[bool] = False
    # bad_example/good_example notebook name, for rules about the file name
    example_path: ClassVar[str] = "analysis.ipynb"
    good_example_path: ClassVar[str] = "analysis.ipynb"
    options: ClassVar[dict[str, Any]] = {}

    @property
    def family(self) -> str:
        return self.code[:3]

    def check(self, ctx: Context) -> Iterable[Finding]:
        raise NotImplementedError

    @classmethod
    def describe(cls) -> api_types.Rule:
        """The rule's catalogue entry (``nbops rules --format json``)."""
        return {
            "code": cls.code,
            "name": cls.name,
            "family": FAMILIES.get(cls.code[:3], ""),
            "summary": cls.summary,
            "severity": cls.severity,
            "fix": cls.fix,
            "fix_note": cls.fix_note,
            "explanation": cls.explanation.strip(),
            "bad_example": cls.bad_example.strip("\n"),
            "good_example": cls.good_example.strip("\n"),
            "options": dict(cls.options),
        }
