"""Cross-cell data flow: which earlier cell provides each name a cell reads, in a given order.

A notebook is analysed twice over the same per-cell symbols: in document order (what a
clean top-to-bottom run would do) and in execution order (what the saved execution counts
say happened). In each order a cell's reads are resolved against the names available from
the cells before it; then its writes and mutations make it the provider of those names and
its deletes remove them.

Rules (the tests pin each one):

* The provider of a name is the most recent earlier cell that wrote *or* mutated it
  (``kind`` says which); a cell that writes a name is never its mutator.
* Reading a name whose provider bound it with ``def``/``class`` counts as calling it (a call
  or a callback): the function's module reads, transitively, become reads of the reading cell
  at that position, unless the cell bound them earlier itself; names it assigns through
  ``global`` become writes of the reading cell and names it mutates, mutations.
* Cells whose source does not parse contribute nothing (they stay in ``order``).
* ``star_import_seen``: once a cell may bind names the analysis cannot see (``from m import *``,
  ``%run``, ``exec``; see :attr:`CellSymbols.unknown_names_from`), reads without a provider
  from that point of that cell on are not reported as unresolved.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Literal

from nbops.core.symbols import CellSymbols, FunctionInfo, analyze_cell

__all__ = ["CodeCellInput", "DataFlow", "Edge", "OrderFlow", "Unresolved", "analyze_notebook"]

EdgeKind = Literal["write", "mutate"]



@lru_cache(maxsize=1024)
def cached_analyze_cell(source: str) -> CellSymbols:
    """``analyze_cell`` memoised by source text: an unchanged cell is analysed once per process.

    Re-linting a notebook after a save (what the JupyterLab panel does) then re-analyses only
    the edited cells, and duplicated cells across a folder cost one analysis. The result is
    shared: callers must treat it as read-only.
    """
    return analyze_cell(source)

@dataclass(frozen=True, slots=True)
class CodeCellInput:
    """One code cell; ``index`` counts every cell of the notebook (markdown too) from 0."""

    index: int
    source: str
    execution_count: int | None


@dataclass(frozen=True, slots=True)
class Edge:
    """``consumer`` reads ``name`` (at line/column of the consumer) from ``provider``."""

    name: str
    consumer: int
    provider: int
    kind: EdgeKind
    line: int
    column: int


@dataclass(frozen=True, slots=True)
class Unresolved:
    """A read no earlier cell provides; ``later_provider`` is the first later cell that does."""

    name: str
    cell: int
    line: int
    column: int
    later_provider: int | None


@dataclass(slots=True)
class OrderFlow:
    """The data flow of one run order; built once, then read through the query methods."""

    order: list[int]
    edges: list[Edge] = field(default_factory=list)
    unresolved: list[Unresolved] = field(default_factory=list)
    star_import_seen: bool = False
    _inputs: dict[int, dict[str, int]] = field(init=False, repr=False, compare=False)
    _consumers: dict[int, dict[str, list[int]]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self._inputs = {}
        self._consumers = {}
        for edge in self.edges:
            self._inputs.setdefault(edge.consumer, {})[edge.name] = edge.provider
            # one edge per (consumer, name), so no reader is listed twice
            self._consumers.setdefault(edge.provider, {}).setdefault(edge.name, []).append(
                edge.consumer
            )

    def provider(self, cell: int, name: str) -> int | None:
        """The cell ``cell`` gets ``name`` from, or None."""
        return self._inputs.get(cell, {}).get(name)

    def inputs(self, cell: int) -> dict[str, int]:
        """Name -> provider cell for everything ``cell`` reads from earlier cells."""
        return dict(self._inputs.get(cell, {}))

    def consumers(self, cell: int) -> dict[str, list[int]]:
        """Name written/mutated by ``cell`` -> the later cells that read it from ``cell``."""
        return {name: list(cells) for name, cells in self._consumers.get(cell, {}).items()}


@dataclass(slots=True)
class DataFlow:
    """Symbols of every code cell plus the flow in document and execution order."""

    symbols: dict[int, CellSymbols]
    document: OrderFlow
    execution: OrderFlow | None
    definers: dict[str, list[int]]


# Where a name currently comes from: (provider cell, edge kind, cell whose binding it is).
_Source = tuple[int, EdgeKind, int | None]


class _Cell:
    """Resolves one consumer cell's reads against the names available before it."""

    __slots__ = ("cell", "flow", "mutations", "seen", "symbols", "writes")

    def __init__(self, flow: _Flow, cell: int, symbols: CellSymbols) -> None:
        self.flow = flow
        self.cell = cell
        self.symbols = symbols
        self.seen: set[str] = set()
        self.writes: dict[str, None] = {}  # written by functions defined in other cells
        self.mutations: dict[str, None] = {}

    def read(self, name: str, line: int, column: int, anchor: str | None = None) -> None:
        """Resolve a read; ``anchor`` is the cell's own read that ran the function reading it."""
        if name in self.seen:
            return
        self.seen.add(name)
        source = self.flow.available.get(name)
        if source is None:
            self.flow.unresolved_at(self, name, line, column)
            return
        provider, kind, binder = source
        self.flow.edges.append(Edge(name, self.cell, provider, kind, line, column))
        if binder is not None:
            info = self.flow.symbols[binder].functions.get(name)
            if info is not None:
                self.call(info, anchor or name, line, column)

    def call(self, info: FunctionInfo, anchor: str, line: int, column: int) -> None:
        """Another cell's function runs where the cell reads ``anchor``: its needs are the cell's."""
        for ref in info.globals_read:
            if not self.symbols.binds_before(ref.name, anchor):
                self.read(ref.name, line, column, anchor)
        for name in info.globals_written:
            self.writes.setdefault(name)
        for name in info.globals_mutated:
            self.mutations.setdefault(name)


class _Flow:
    """Walks one order, keeping the available names."""

    def __init__(self, order: list[int], symbols: dict[int, CellSymbols]) -> None:
        self.order = order
        self.symbols = symbols
        self.available: dict[str, _Source] = {}
        self.edges: list[Edge] = []
        self.pending: list[tuple[str, int, int, int, int]] = []  # name, cell, line, col, step
        self.step = 0
        self.opaque: tuple[int, int] | None = None  # (step, line) where unknown names begin
        self.provides: list[set[str]] = []  # per step: names the cell leaves bound

    def unresolved_at(self, cell: _Cell, name: str, line: int, column: int) -> None:
        if self.opaque is not None and (self.step, line) >= self.opaque:
            return
        self.pending.append((name, cell.cell, line, column, self.step))

    def run(self) -> OrderFlow:
        provides = self.provides
        for step, index in enumerate(self.order):
            self.step = step
            symbols = self.symbols[index]
            if symbols.syntax_error is not None:
                provides.append(set())
                continue
            if self.opaque is None and symbols.unknown_names_from is not None:
                self.opaque = (step, symbols.unknown_names_from)
            cell = _Cell(self, index, symbols)
            for ref in symbols.reads:
                cell.read(ref.name, ref.line, ref.column)
            provides.append(self.apply(cell))
        return OrderFlow(
            order=list(self.order),
            edges=self.edges,
            unresolved=self.resolve_later(provides),
            star_import_seen=self.opaque is not None,
        )

    def apply(self, cell: _Cell) -> set[str]:
        """Make ``cell`` the provider of what it binds or mutates; return what it binds."""
        index, symbols = cell.cell, cell.symbols
        written = {ref.name for ref in symbols.writes} | set(cell.writes)
        for name in written:
            self.available[name] = (index, "write", index)
        for name in [ref.name for ref in symbols.mutations] + list(cell.mutations):
            if name not in written:
                previous = self.available.get(name)
                self.available[name] = (index, "mutate", previous[2] if previous else None)
        deleted = {ref.name for ref in symbols.deletes}
        for name in deleted:
            self.available.pop(name, None)
        return written - deleted

    def resolve_later(self, provides: list[set[str]]) -> list[Unresolved]:
        steps: dict[str, list[int]] = {}
        for step, names in enumerate(provides):
            for name in names:
                steps.setdefault(name, []).append(step)
        found: list[Unresolved] = []
        for name, cell, line, column, step in self.pending:
            later = steps.get(name, [])
            at = bisect.bisect_right(later, step)
            provider = self.order[later[at]] if at < len(later) else None
            found.append(Unresolved(name, cell, line, column, provider))
        return found


def analyze_notebook(cells: Sequence[CodeCellInput]) -> DataFlow:
    """Analyse every code cell and the flow between them in document and execution order."""
    ordered = sorted(cells, key=lambda c: c.index)
    symbols = {cell.index: cached_analyze_cell(cell.source) for cell in ordered}
    walk = _Flow([cell.index for cell in ordered], symbols)
    document = walk.run()
    executed = [cell for cell in ordered if cell.execution_count is not None]
    execution: OrderFlow | None = None
    if executed:
        # sorted() is stable, so equal counts keep document order.
        run = sorted(executed, key=lambda c: c.execution_count or 0)
        execution = _Flow([cell.index for cell in run], symbols).run()
    # Names each cell leaves bound in a top-to-bottom run (incl. ``global`` writes of the
    # other cells' functions it calls; minus what it deletes again).
    definers: dict[str, list[int]] = {}
    for index, names in zip(walk.order, walk.provides):
        for name in sorted(names):
            definers.setdefault(name, []).append(index)
    return DataFlow(symbols=symbols, document=document, execution=execution, definers=definers)
