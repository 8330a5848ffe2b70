"""AST helpers shared by rules: parsed cell trees and import aliases, memoised on the context.

Trees are parsed from each cell's line-preserving Python translation (``ctx.sources``), so
node line numbers are cell line numbers. Columns from ``ast`` are UTF-8 byte offsets; use
:meth:`CellTree.col` / :meth:`CellTree.span` for the 1-based character columns findings use.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from nbops.core.magics import PLACEHOLDERS, CellSource
from nbops.core.symbols import str_value
from nbops.lint.rule import Context

__all__ = [
    "CellTree",
    "calls_in_order",
    "cell_trees",
    "children",
    "dotted",
    "import_aliases",
    "keyword",
    "named_calls",
    "qualified",
    "str_value",
    "walk",
]

# Conventional aliases assumed when the notebook itself does not import the name.
_DEFAULT_ALIASES = {"np": "numpy", "pd": "pandas", "tf": "tensorflow"}


@dataclass(frozen=True)
class CellTree:
    """One parsed code cell.

    ``placeholders`` are lines where IPython syntax became a placeholder call (no real Python
    there); ``shifts`` maps lines where a line magic kept its statement (``%time x = f()``
    becomes ``x = f()``) to how many characters the statement moved left.
    """

    index: int
    tree: ast.Module
    source: CellSource
    lines: list[str]
    placeholders: frozenset[int] = frozenset()
    shifts: dict[int, int] = field(default_factory=dict)

    def col(self, line: int, offset: int) -> int:
        """1-based character column in the cell of a UTF-8 byte ``offset`` on 1-based ``line``."""
        shift = self.shifts.get(line, 0)
        if not 0 < line <= len(self.lines):
            return offset + 1 + shift
        text = self.lines[line - 1]
        if text.isascii():
            return offset + 1 + shift
        return len(text.encode()[:offset].decode(errors="ignore")) + 1 + shift

    def span(self, node: ast.AST) -> tuple[int, int, int, int]:
        """``(line, column, end_line, end_column)``, 1-based, end exclusive."""
        line: int = getattr(node, "lineno", 1)
        end_line: int = getattr(node, "end_lineno", None) or line
        col = self.col(line, getattr(node, "col_offset", 0))
        end_offset = getattr(node, "end_col_offset", None)
        end_col = self.col(end_line, end_offset) if end_offset is not None else col
        return line, col, end_line, end_col

    def on_magic(self, node: ast.AST) -> bool:
        """True when the node is part of a placeholder for IPython syntax, not real code."""
        return getattr(node, "lineno", 0) in self.placeholders

    @cached_property
    def nodes(self) -> list[ast.AST]:
        """Every node of the tree, walked once and shared by all rules."""
        return walk(self.tree)

    @cached_property
    def calls(self) -> list[ast.Call]:
        """Calls of real code (not magic placeholders), in source order (memoised on the tree,
        like :func:`walk`: its placeholders come from the same cell content)."""
        try:
            cached: list[ast.Call] = self.tree._nbops_calls  # type: ignore[attr-defined]
            return cached
        except AttributeError:
            pass
        found = [n for n in self.nodes if isinstance(n, ast.Call) and not self.on_magic(n)]
        found.sort(key=lambda n: (n.lineno, n.col_offset))
        self.tree._nbops_calls = found  # type: ignore[attr-defined]
        return found

    def translated(self, node: ast.AST) -> bool:
        """True when the node sits on any line translated from IPython syntax."""
        return self.source.line_has_magic(getattr(node, "lineno", 0))


def walk(tree: ast.AST) -> list[ast.AST]:
    """``list(ast.walk(tree))`` (the same nodes in the same breadth-first order) at about
    twice its speed, memoised on the tree: trees are shared per cell content, so a cell seen
    again (a copy of a notebook, the same import cell) is not walked again."""
    try:
        cached: list[ast.AST] = tree._nbops_nodes  # type: ignore[attr-defined]
        return cached
    except AttributeError:
        pass
    out = [tree]
    append, extend, is_node = out.append, out.extend, isinstance
    i = 0
    while i < len(out):
        node = out[i]
        i += 1
        for name in node._fields:
            value: Any = getattr(node, name, None)
            if is_node(value, ast.AST):
                append(value)
            elif is_node(value, list):
                extend([v for v in value if is_node(v, ast.AST)])
    tree._nbops_nodes = out  # type: ignore[attr-defined]
    return out


def children(node: ast.AST) -> list[ast.AST]:
    """``list(ast.iter_child_nodes(node))``, faster (no generators)."""
    out: list[ast.AST] = []
    for name in node._fields:
        value: Any = getattr(node, name, None)
        if isinstance(value, ast.AST):
            out.append(value)
        elif isinstance(value, list):
            out.extend([v for v in value if isinstance(v, ast.AST)])
    return out


def _magic_lines(source: CellSource, lines: list[str]) -> tuple[frozenset[int], dict[int, int]]:
    placeholders: set[int] = set()
    shifts: dict[int, int] = {}
    if not source.magics:
        return frozenset(), shifts
    original = source.original.split("\n")
    for m in source.magics:
        for n in range(m.line, m.end_line + 1):
            if n > len(lines) or (m.kind == "cell_magic" and n > m.line):
                continue  # a cell magic's body is real Python or blank
            text = lines[n - 1]
            stmt = text.strip()
            start = original[n - 1].find(stmt, m.column - 1) if n <= len(original) and stmt else -1
            if (
                m.kind == "line_magic"
                and m.line == m.end_line
                and not any(p in text for p in PLACEHOLDERS)
                and start >= 0
            ):
                shifts[n] = start - text.index(stmt)
            else:
                placeholders.add(n)
    return frozenset(placeholders), shifts


def cell_trees(ctx: Context) -> dict[int, CellTree]:
    """Parsed trees of the code cells that parse, by cell index (computed once per context)."""
    cached: dict[int, CellTree] | None = getattr(ctx, "_nbops_cell_trees", None)
    if cached is not None:
        return cached
    trees: dict[int, CellTree] = {}
    for cell, sym in ctx.parsed():
        python = sym.source.python
        tree = sym.tree
        if tree is None:
            continue
        # the tree is shared by every cell of the same content (the analysis is memoised by
        # source), and so are its lines and magic lines
        try:
            lines, placeholders, shifts = tree._nbops_lines  # type: ignore[attr-defined]
        except AttributeError:
            lines = python.split("\n")
            placeholders, shifts = _magic_lines(sym.source, lines)
            tree._nbops_lines = (lines, placeholders, shifts)  # type: ignore[attr-defined]
        trees[cell.index] = CellTree(cell.index, tree, sym.source, lines, placeholders, shifts)
    setattr(ctx, "_nbops_cell_trees", trees)  # noqa: B010 (a memo, not a Context field)
    return trees


def import_aliases(ctx: Context) -> dict[str, str]:
    """Bound name -> qualified name for every import in the notebook (later imports win).

    ``import numpy as np`` gives ``np -> numpy``; ``from sklearn.model_selection import
    train_test_split as tts`` gives ``tts -> sklearn.model_selection.train_test_split``.
    """
    cached: dict[str, str] | None = getattr(ctx, "_nbops_import_aliases", None)
    if cached is not None:
        return cached
    aliases: dict[str, str] = {}
    for _, sym in ctx.parsed():
        for imp in sym.imports:
            if imp.is_star or not imp.module:
                continue
            if imp.name is None:
                root = imp.module.split(".", 1)[0]
                aliases[imp.bound] = imp.bound if imp.bound == root else imp.module
            else:
                aliases[imp.bound] = f"{imp.module}.{imp.name}"
    setattr(ctx, "_nbops_import_aliases", aliases)  # noqa: B010
    return aliases


def dotted(node: ast.expr) -> str | None:
    """``a.b.c`` for a chain of attributes on a name, else None (memoised on the node:
    every rule asks the same call for its name)."""
    try:
        cached: str | None = node._nbops_dotted  # type: ignore[attr-defined]
        return cached
    except AttributeError:
        pass
    value = _dotted(node)
    node._nbops_dotted = value  # type: ignore[attr-defined]
    return value


def _dotted(node: ast.expr) -> str | None:
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    parts.append(node.id)
    return ".".join(reversed(parts))


def qualified(node: ast.expr, aliases: dict[str, str]) -> str | None:
    """The dotted name of ``node`` with its first part resolved through the imports."""
    name = dotted(node)
    if name is None:
        return None
    head, _, rest = name.partition(".")
    base = aliases.get(head, _DEFAULT_ALIASES.get(head, head))
    return f"{base}.{rest}" if rest else base


def calls_in_order(ctx: Context) -> Iterator[tuple[CellTree, ast.Call]]:
    """Every call of real code (not a magic placeholder), in document order."""
    trees = cell_trees(ctx)
    for index in sorted(trees):
        ct = trees[index]
        for call in ct.calls:
            yield ct, call


def named_calls(ctx: Context) -> list[tuple[CellTree, ast.Call, str]]:
    """:func:`calls_in_order` with each callee's import-resolved dotted name (calls of no
    dotted name left out), computed once per context for every rule that asks."""
    cached: list[tuple[CellTree, ast.Call, str]] | None = getattr(ctx, "_nbops_named_calls", None)
    if cached is not None:
        return cached
    aliases = import_aliases(ctx)
    found: list[tuple[CellTree, ast.Call, str]] = []
    for ct, call in calls_in_order(ctx):
        name = qualified(call.func, aliases)
        if name is not None:
            found.append((ct, call, name))
    setattr(ctx, "_nbops_named_calls", found)  # noqa: B010
    return found


def keyword(call: ast.Call, name: str) -> ast.keyword | None:
    for kw in call.keywords:
        if kw.arg == name:
            return kw
    return None
