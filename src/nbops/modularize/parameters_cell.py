"""``nbops fix --propose-parameters``: the parameters ``nbops modularize`` proposes, moved
into a new code cell tagged ``parameters``.

The proposal is the plan's (:func:`nbops.modularize.plan.make_plan`, ``Parameter.proposed``):
top-level ``NAME = literal`` statements the notebook runs once and only reads afterwards. Each
one's lines move, as written (its comment kept beside it as help), to one new cell tagged
``parameters``, placed after the notebook's title and its leading imports cells (before the
first cell that sets or reads any of them), where papermill injects other values. A cell left
with nothing but blank lines, and without tags or outputs, is deleted. Every moved statement is
one :class:`~nbops.lint.fix.AppliedFix` (its cell, its line, what moved); ``nbops fix`` runs
this first and checks the result with its guard like any fix.

The values are bound earlier than before, and nothing between reads or rebinds them (the
proposal's conditions), so the notebook computes the same. Skipped, with a note: non-Python
notebooks, notebooks that have a ``parameters`` cell, statements sharing a line with other
code. Lint never imports this module: the CLI and the server pass it to ``fix_notebook``.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from typing import Any

from nbops.core.dataflow import cached_analyze_cell
from nbops.core.notebook import Cell, Notebook
from nbops.core.sections import PARAMETERS_TAG
from nbops.lint.fix import DELETE, INSERT, SOURCE, AppliedFix
from nbops.modularize.plan import make_plan

__all__ = ["FIX_CODE", "ProposeParameters"]

FIX_CODE = "propose-parameters"  # the code of the fixes this reports


@dataclass(frozen=True)
class _Move:
    cell: int  # 0-based
    first: int  # 1-based lines of the statement in the cell
    last: int
    name: str
    text: str  # the lines as written


@dataclass
class ProposeParameters:
    """A ``FixOptions.prepare`` fix; ``notes`` say why nothing moved, when nothing did."""

    notes: list[str] = field(default_factory=list)

    def __call__(self, nb: Notebook) -> list[AppliedFix]:
        if not nb.is_python:
            self.notes.append("not a Python notebook: no parameters proposed")
            return []
        tagged = [c for c in nb.code_cells if PARAMETERS_TAG in c.tags]
        if tagged:
            self.notes.append(
                f"cell {tagged[0].number} is tagged 'parameters' already: no parameters "
                "proposed (move constants into it by hand)"
            )
            return []
        proposed = [p for p in make_plan(nb).parameters if p.proposed]
        moves: list[_Move] = []
        for param in proposed:
            move = _locate(nb.cells[param.cell], param.name)
            if move is None:
                self.notes.append(
                    f"cell {param.cell + 1}: `{param.name}` shares its line with other code: "
                    "left where it is"
                )
            else:
                moves.append(move)
        if not moves:
            if not proposed:
                self.notes.append("no constants to propose as parameters")
            return []
        moves.sort(key=lambda m: (m.cell, m.first))
        return _apply(nb, moves)


def _locate(cell: Cell, name: str) -> _Move | None:
    """The top-level ``name = ...`` statement of ``cell`` as whole lines of the cell, or None
    when those lines hold other code too (or differ from the Python the plan read)."""
    symbols = cached_analyze_cell(cell.source)
    if symbols.tree is None:
        return None
    body = symbols.tree.body
    raw = cell.source.splitlines()
    python = symbols.source.python.splitlines()
    for i, stmt in enumerate(body):
        if not (
            isinstance(stmt, ast.Assign)
            and len(stmt.targets) == 1
            and isinstance(stmt.targets[0], ast.Name)
            and stmt.targets[0].id == name
        ):
            continue
        first, last = stmt.lineno, stmt.end_lineno or stmt.lineno
        before = body[i - 1] if i else None
        after = body[i + 1] if i + 1 < len(body) else None
        if (
            stmt.col_offset != 0
            or (before is not None and (before.end_lineno or before.lineno) >= first)
            or (after is not None and after.lineno <= last)
            or raw[first - 1 : last] != python[first - 1 : last]
        ):
            return None
        return _Move(cell.index, first, last, name, "\n".join(raw[first - 1 : last]).rstrip())
    return None


def _setup_cell(cell: Cell) -> bool:
    """A code cell of imports, magics and comments only (``%matplotlib``, ``!pip``...)."""
    symbols = cached_analyze_cell(cell.source)
    if symbols.tree is None:
        return False
    return all(
        isinstance(s, (ast.Import, ast.ImportFrom)) or symbols.source.line_has_magic(s.lineno)
        for s in symbols.tree.body
    )


def _position(nb: Notebook, first_cell: int) -> int:
    """After the leading imports cells, else before the first code cell; never after
    ``first_cell`` (the first cell a moved statement comes from)."""
    position: int | None = None
    for cell in nb.cells[:first_cell]:
        if not cell.is_code:
            continue
        if not _setup_cell(cell):
            break
        position = cell.index + 1
    if position is None:
        position = next((c.index for c in nb.cells if c.is_code), first_cell)
    return min(position, first_cell)


def _without(source: str, ranges: list[tuple[int, int]]) -> str:
    """``source`` without the 1-based line ``ranges``; blank lines the removal leaves at the
    start are dropped, and the text ends as it did (with or without a newline)."""
    lines = source.splitlines(keepends=True)
    gone = {n for a, b in ranges for n in range(a, b + 1)}
    kept = [line for n, line in enumerate(lines, start=1) if n not in gone]
    if 1 in gone:
        while kept and not kept[0].strip():
            kept.pop(0)
    text = "".join(kept)
    if not source.endswith(("\n", "\r")):
        text = text.rstrip("\r\n")
    return text


def _new_id(nb: Notebook) -> str:
    taken = {c.id for c in nb.cells}
    ident, n = "nbops-parameters", 1
    while ident in taken:
        n += 1
        ident = f"nbops-parameters-{n}"
    return ident


def _apply(nb: Notebook, moves: list[_Move]) -> list[AppliedFix]:
    position = _position(nb, moves[0].cell)
    text = "\n".join(m.text for m in moves)
    by_cell: dict[int, list[_Move]] = {}
    for move in moves:
        by_cell.setdefault(move.cell, []).append(move)
    emptied: set[int] = set()
    for index, cell_moves in by_cell.items():
        cell = nb.cells[index]
        rest = _without(cell.source, [(m.first, m.last) for m in cell_moves])
        cell.set_source(rest)
        if not rest.strip() and not cell.tags and not cell.outputs:
            emptied.add(index)
    lines = text.splitlines(keepends=True)
    raw: dict[str, Any] = {
        "cell_type": "code",
        "execution_count": None,
        "metadata": {"tags": [PARAMETERS_TAG]},
        "outputs": [],
        "source": lines,
    }
    if any(c.id is not None for c in nb.cells) or (nb.nbformat, nb.nbformat_minor) >= (4, 5):
        raw["id"] = _new_id(nb)
    nb.delete_cells(emptied)  # all at or after ``position``: it stays where it was
    nb.insert_cell(position, raw)
    applied: list[AppliedFix] = []
    for move in moves:
        where = f"line {move.first}" if move.first == move.last else f"lines {move.first}-{move.last}"
        shown = move.text.splitlines()[0] + (" ..." if move.first != move.last else "")
        changes: tuple[tuple[int | None, str], ...] = ((move.cell, SOURCE), (None, INSERT))
        if move.cell in emptied:
            changes += ((move.cell, DELETE),)
        applied.append(
            AppliedFix(
                FIX_CODE,
                move.cell,
                f"{where}: moved `{shown}` into a new cell tagged 'parameters' (before cell "
                f"{position + 1})" + ("; the cell, left empty, is deleted" if move.cell in emptied else ""),
                changes,
            )
        )
    return applied
