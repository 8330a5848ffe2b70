"""NB5: production readiness (imports, globals in functions, outputs, debuggers, warnings).

These rules point at what stands between a notebook and a module: star and scattered
imports, functions that depend on notebook globals, committed megabytes of output, left-over
debuggers and silenced warnings, a long notebook without a single function, and globals that
shadow builtins. They read the per-cell symbols and data flow, and each cell's AST through
:mod:`._ast` (the translated source keeps every line in place, so positions map to the cell).
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, ClassVar

from nbops.core.magics import PLACEHOLDERS
from nbops.core.notebook import Cell
from nbops.lint.diagnostic import Edit, Fix
from nbops.lint.registry import register
from nbops.lint.rule import Context, Finding, Rule
from nbops.lint.rules._ast import (
    CellTree,
    calls_in_order,
    cell_trees,
    children,
    import_aliases,
    named_calls,
    qualified,
)
from nbops.lint.rules.reproducibility import is_imports_only, is_literal_assignments
from nbops.lint.rules.security import argument, finding_at, is_constant

_EOL = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+\Z")


def _lines(text: str) -> list[str]:
    """Lines with their endings, split as Python's parser counts them (\\n, \\r\\n, \\r)."""
    return _EOL.findall(text)


def _names(items: list[str], limit: int = 4) -> str:
    shown = ", ".join(f"'{n}'" for n in items[:limit])
    return shown + (f" and {len(items) - limit} more" if len(items) > limit else "")


def _short(text: str, limit: int = 60) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


# --------------------------------------------------------------------------- NB501


@register
class StarImport(Rule):
    code = "NB501"
    name = "star-import"
    summary = "`from module import *` hides where names come from."
    severity = "warning"
    explanation = """
    A star import binds every public name of a module without saying which. Readers (and
    nbops, ruff, IDEs) cannot tell where a name used later comes from, a later star import
    or a new library version can silently replace a name, and modularizing the notebook
    needs the real list of names. `%pylab` does the same with numpy and matplotlib. Import
    the module under its usual alias (`import numpy as np`) or the names you use.
    """
    bad_example = """
    # %%
    from math import *
    area = pi * r ** 2
    """
    good_example = """
    # %%
    import math
    area = math.pi * r ** 2
    """

    def check(self, ctx: Context) -> Iterator[Finding]:
        for cell, sym in ctx.parsed():
            ct = cell_trees(ctx).get(cell.index)
            found: list[tuple[int, int, Finding]] = []
            python = sym.source.python
            # a star import spells `import` and `*` (keywords are never NFKC-normalised)
            if ct is not None and "*" in python and "import" in python:
                for node in ct.nodes:
                    if isinstance(node, ast.ImportFrom) and any(a.name == "*" for a in node.names):
                        module = "." * node.level + (node.module or "")
                        message = (
                            f"'from {module} import *' hides which names it binds: import the "
                            f"module or the names you use"
                        )
                        found.append((node.lineno, node.col_offset, finding_at(message, ct, node)))
            for magic in sym.source.magics:
                if magic.kind in ("line_magic", "automagic") and magic.name == "pylab":
                    message = (
                        "%pylab star-imports numpy and matplotlib: import numpy as np and "
                        "matplotlib.pyplot as plt, and use %matplotlib inline"
                    )
                    found.append(
                        (
                            magic.line,
                            magic.column,
                            Finding(message, cell.index, magic.line, magic.column),
                        )
                    )
            for _, _, finding in sorted(found, key=lambda f: (f[0], f[1])):
                yield finding


# --------------------------------------------------------------------------- NB502

# Magics that cannot change what an import finds (%load_ext can: %load_ext cudf.pandas).
_HARMLESS_MAGICS = frozenset(
    {"matplotlib", "config", "time", "timeit", "who", "whos", "who_ls", "precision", "pprint",
     "xmode", "autoreload", "autosave", "colors"}
)  # fmt: skip
# Calls and attributes that change the import machinery or the process.
_IMPORT_HAZARDS = (
    "sys.path",
    "sys.modules",
    "sys.meta_path",
    "importlib",
    "site.",
    "matplotlib.use",
)


def _is_setup_statement(stmt: ast.stmt) -> bool:
    """A translated magic line (``%load_ext``, ``!pip``) or a bare string."""
    if not isinstance(stmt, ast.Expr):
        return False
    value = stmt.value
    if isinstance(value, ast.Constant):
        return True
    return (
        isinstance(value, ast.Call)
        and isinstance(value.func, ast.Name)
        and value.func.id in PLACEHOLDERS
    )


def import_cell(ctx: Context) -> Cell | None:
    """The cell imports belong in: the first code cell with Python code.

    Cells of only magics or shell commands (``%load_ext``, ``!pip install``) and a cell
    tagged ``parameters`` before it are skipped.
    """
    trees = cell_trees(ctx)
    for cell in ctx.code_cells:
        if not cell.source.strip() or "parameters" in cell.tags:
            continue
        ct = trees.get(cell.index)
        if ct is not None and all(_is_setup_statement(s) for s in ct.tree.body):
            continue
        return cell
    return None


def _module_imports(
    body: list[ast.stmt], nested: bool = False
) -> Iterator[tuple[ast.Import | ast.ImportFrom, bool]]:
    """Import statements run at module scope, with whether they sit in a block (try/if/...)."""
    for stmt in body:
        if isinstance(stmt, (ast.Import, ast.ImportFrom)):
            yield stmt, nested
        elif isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            continue
        else:
            for field in ("body", "orelse", "finalbody"):
                block = getattr(stmt, field, None)
                if isinstance(block, list):
                    yield from _module_imports(block, True)
            for handler in getattr(stmt, "handlers", []):
                yield from _module_imports(handler.body, True)
            for case in getattr(stmt, "cases", []):
                yield from _module_imports(case.body, True)


def _bound(stmt: ast.Import | ast.ImportFrom) -> list[str]:
    if isinstance(stmt, ast.Import):
        return [a.asname or a.name.split(".", 1)[0] for a in stmt.names]
    return [a.asname or a.name for a in stmt.names]


def _import_key(stmt: ast.stmt) -> tuple[object, ...] | None:
    if isinstance(stmt, ast.Import):
        return ("import", tuple((a.name, a.asname) for a in stmt.names))
    if isinstance(stmt, ast.ImportFrom):
        names = tuple((a.name, a.asname) for a in stmt.names)
        return ("from", stmt.module, stmt.level, names)
    return None


def _same_import(a: ast.stmt, b: ast.stmt) -> bool:
    key = _import_key(a)
    return key is not None and key == _import_key(b)


@dataclass
class _Region:
    """Code that runs between the insertion point and the late import today."""

    used: set[str]  # names read now (function bodies run later and are skipped)
    bound: set[str]  # names bound, deleted, or assigned by magics
    stars: bool  # a star import or %run may bind anything
    hazards: bool  # code that may change what an import finds


def _region(ctx: Context, ct: CellTree, first: int, last: int) -> _Region:
    """Scan the statements of ``ct`` whose lines are within ``first..last``."""
    used: set[str] = set()
    bound: set[str] = set()
    stars = hazards = False
    aliases = import_aliases(ctx)
    # a hazard's dotted name starts with one of these names: without one in the text, no
    # node needs resolving
    scan = _may_have_hazards(ctx, ct)
    stack: list[ast.AST] = [
        s for s in ct.tree.body if first <= s.lineno and (s.end_lineno or s.lineno) <= last
    ]
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            # the body runs later; decorators and defaults run now
            stack.extend(getattr(node, "decorator_list", []))
            stack.extend(node.args.defaults)
            stack.extend(d for d in node.args.kw_defaults if d is not None)
            if not isinstance(node, ast.Lambda):
                bound.add(node.name)
            continue
        if isinstance(node, ast.Name):
            (used if isinstance(node.ctx, ast.Load) else bound).add(node.id)
        elif isinstance(node, ast.alias):
            bound.add(node.asname or node.name.split(".", 1)[0])
            stars = stars or node.name == "*"
        elif isinstance(node, ast.Attribute):
            full = qualified(node, aliases) or "" if scan and not hazards else ""
            if full.startswith(_IMPORT_HAZARDS) or full in ("os.chdir", "os.environ", "os.putenv"):
                hazards = True
        elif isinstance(node, ast.ClassDef):
            bound.add(node.name)
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            full = qualified(node.func, aliases) or "" if scan and not hazards else ""
            if full.startswith(_IMPORT_HAZARDS) or full in ("os.chdir", "os.putenv"):
                hazards = True
        stack.extend(children(node))
    for magic in ct.source.magics:
        if magic.end_line < first or magic.line > last:
            continue
        bound.update(magic.assigned_to)
        if magic.name in ("run", "load", "store", "macro"):
            stars = True
        if magic.kind == "shell" or magic.name not in _HARMLESS_MAGICS:
            hazards = True
    return _Region(used, bound, stars, hazards)


def _whole_region(ctx: Context, ct: CellTree) -> _Region:
    """``_region`` of a whole cell, computed once per lint (every late import asks)."""
    memo: dict[int, _Region] | None = getattr(ctx, "_nbops_regions", None)
    if memo is None:
        memo = {}
        setattr(ctx, "_nbops_regions", memo)  # noqa: B010 (a memo, not a Context field)
    region = memo.get(ct.index)
    if region is None:
        region = memo[ct.index] = _region(ctx, ct, 1, 1 << 30)
    return region


_HAZARD_ROOTS = frozenset({"sys", "importlib", "site", "matplotlib", "os"})


def _hazard_heads(ctx: Context) -> frozenset[str]:
    """Names whose dotted names can resolve to a hazard: its modules and what the
    notebook imports from or as them (``from os import chdir``, ``import sys as s``)."""
    heads: frozenset[str] | None = getattr(ctx, "_nbops_hazard_heads", None)
    if heads is None:
        aliased = {
            name for name, full in import_aliases(ctx).items()
            if full.split(".", 1)[0] in _HAZARD_ROOTS
        }
        heads = _HAZARD_ROOTS | aliased
        setattr(ctx, "_nbops_hazard_heads", heads)  # noqa: B010 (a memo, not a Context field)
    return heads


def _may_have_hazards(ctx: Context, ct: CellTree) -> bool:
    """Whether one of :func:`_hazard_heads` occurs in the cell's text (once per cell)."""
    memo: dict[int, bool] | None = getattr(ctx, "_nbops_hazard_cells", None)
    if memo is None:
        memo = {}
        setattr(ctx, "_nbops_hazard_cells", memo)  # noqa: B010 (a memo, not a Context field)
    found = memo.get(ct.index)
    if found is None:
        python = ct.source.python
        found = memo[ct.index] = any(h in python for h in _hazard_heads(ctx))
    return found


def _tail_region(ctx: Context, ct: CellTree, first: int) -> _Region:
    """``_region`` of ``ct`` from line ``first`` on, computed once per lint (every late
    import moved to the same cell asks)."""
    memo: dict[tuple[int, int], _Region] | None = getattr(ctx, "_nbops_tail_regions", None)
    if memo is None:
        memo = {}
        setattr(ctx, "_nbops_tail_regions", memo)  # noqa: B010 (a memo, not a Context field)
    region = memo.get((ct.index, first))
    if region is None:
        region = memo[ct.index, first] = _region(ctx, ct, first, 1 << 30)
    return region


def _insertion_line(ct: CellTree) -> int:
    """Line after which a moved import goes: after the cell's last top-level import."""
    body = ct.tree.body
    imports = [s for s in body if isinstance(s, (ast.Import, ast.ImportFrom))]
    if imports:
        return max(s.end_lineno or s.lineno for s in imports)
    first = body[0] if body else None
    if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):  # docstring
        return first.end_lineno or first.lineno
    return 0


def _whole_lines(ct: CellTree, stmt: ast.stmt) -> bool:
    """True when the statement is alone on its lines (not ``import x; y = 1``)."""
    body = ct.tree.body
    i = body.index(stmt)
    end = stmt.end_lineno or stmt.lineno
    if i > 0 and (body[i - 1].end_lineno or body[i - 1].lineno) >= stmt.lineno:
        return False
    if i + 1 < len(body) and body[i + 1].lineno <= end:
        return False
    return not any(ct.source.line_has_magic(n) for n in range(stmt.lineno, end + 1))


def _move_fix(
    ctx: Context, target: Cell, cell: Cell, ct: CellTree, stmt: ast.Import | ast.ImportFrom
) -> Fix | None:
    """Move ``stmt`` to the imports of ``target``, or None when that could change behaviour."""
    trees = cell_trees(ctx)
    tt = trees.get(target.index)
    if tt is None or tt.source.cell_magic is not None or ct.source.cell_magic is not None:
        return None
    if stmt not in ct.tree.body or not _whole_lines(ct, stmt):
        return None
    if any(a.name == "*" for a in stmt.names):  # binds unknown names: never moved
        return None
    bound = set(_bound(stmt))
    insert_after = _insertion_line(tt)
    duplicate = any(_same_import(s, stmt) for s in tt.tree.body)
    # what runs between the new position and the old one, scanned until one region forbids
    # the move (the target cell's tail and whole cells are scanned once per lint)
    def between() -> Iterator[_Region | None]:
        yield _tail_region(ctx, tt, insert_after + 1)
        for other in ctx.code_cells:
            if target.index < other.index < cell.index:
                if not other.source.strip():
                    continue
                ot = trees.get(other.index)
                if ctx.symbols.get(other.index) is None or ot is None:
                    yield None  # a cell that does not parse may do anything
                    return
                yield _whole_region(ctx, ot)
        yield _region(ctx, ct, 1, stmt.lineno - 1)

    for region in between():
        if region is None or region.stars or bound & region.bound:
            return None
        if not duplicate and (region.hazards or bound & region.used):
            return None
    end = stmt.end_lineno or stmt.lineno
    lines = _lines(cell.source)
    moved = lines[stmt.lineno - 1 : end]
    rest = lines[: stmt.lineno - 1] + lines[end:]
    if stmt.lineno == 1:  # do not leave the cell starting with blank lines
        while rest and not rest[0].strip():
            rest.pop(0)
    remaining = "".join(rest)
    if end >= len(lines):  # removed from the end: do not leave a trailing newline behind
        remaining = remaining.rstrip()
    shown = _short(" ".join(line.strip() for line in moved))
    edits: list[Edit] = []
    if duplicate:
        message = f"Remove '{shown}' (cell {target.number} already imports it)"
    else:
        head = _lines(target.source)
        before, after = head[:insert_after], head[insert_after:]
        block = [line if line.endswith(("\n", "\r")) else line + "\n" for line in moved]
        if before and not before[-1].endswith(("\n", "\r")):
            before[-1] += "\n"
        if not after:
            block[-1] = block[-1].rstrip("\r\n")
        edits.append(Edit("replace_source", target.index, "".join(before + block + after)))
        message = f"Move '{shown}' to the imports in cell {target.number}"
    # replace_source edits come first and delete_cell last, so cell indexes stay valid
    held = cell.contents()
    if remaining.strip():
        edits.append(Edit("replace_source", cell.index, remaining))
    elif held:
        # outputs, tags or metadata are the user's: keep the cell, with an empty source
        edits.append(Edit("replace_source", cell.index, ""))
        message += f"; cell {cell.number} is left empty, keeping its {', '.join(held)}"
    else:
        edits.append(Edit("delete_cell", cell.index))
        message += f" and delete cell {cell.number}, which holds nothing else"
    return Fix(message, "safe", tuple(edits))


@register
class ImportNotAtTop(Rule):
    code = "NB502"
    name = "import-not-at-top"
    summary = "An import in a later cell instead of the imports cell at the top."
    severity = "warning"
    fix = "safe"
    fix_note = (
        "Moves the import to the end of the first code cell's imports. A cell left with no "
        "code is deleted when it holds nothing else; one with outputs, attachments, tags or "
        "metadata is kept with an empty source (the fix's message says so). Offered only for "
        "a whole-line, unconditional import whose names nothing between the two places uses "
        "or rebinds, with no path, environment or shell changes in between. Edits: "
        "replace_source of both cells first, delete_cell last."
    )
    explanation = """
    Imports scattered through the notebook hide its dependencies: a reader cannot see what
    the notebook needs, running a cell out of order fails with a `NameError`, and turning
    the notebook into a module means collecting them by hand. Put every import in the first
    code cell (cells of only magics such as `%load_ext` and a `parameters` cell may come
    before it). The fix moves a late import there when that cannot change behaviour; an
    import used or rebound before its cell, one inside `try`/`if`, or one after a
    `sys.path` change or `!pip install` has to be moved by hand. Imports inside functions
    are not reported.
    """
    bad_example = """
    # %%
    import pandas as pd
    df = pd.read_csv("sales.csv")
    # %%
    import seaborn as sns
    sns.histplot(df["amount"])
    """
    good_example = """
    # %%
    import pandas as pd
    import seaborn as sns
    df = pd.read_csv("sales.csv")
    # %%
    sns.histplot(df["amount"])
    """

    def check(self, ctx: Context) -> Iterator[Finding]:
        target = import_cell(ctx)
        if target is None:
            return
        trees = cell_trees(ctx)
        for cell in ctx.code_cells:
            ct = trees.get(cell.index)
            if cell.index <= target.index or ct is None:
                continue
            for stmt, nested in _module_imports(ct.tree.body):
                if isinstance(stmt, ast.ImportFrom) and stmt.module == "__future__":
                    continue
                if ct.on_magic(stmt):
                    continue
                text = _short(ast.unparse(stmt))
                message = f"'{text}' is not with the imports at the top (cell {target.number})"
                if nested:
                    message += ": move the whole block there by hand"
                    fix = None
                else:
                    message += ": move it there so the notebook's dependencies are in one place"
                    fix = _move_fix(ctx, target, cell, ct, stmt)
                yield finding_at(message, ct, stmt, fix)


# --------------------------------------------------------------------------- NB503

_CONSTANT_NAME = re.compile(r"_*[A-Z][A-Z0-9_]*\Z")
_PARAMS_COMMENT = re.compile(r"#\s*parameters\b", re.IGNORECASE)
_LITERAL_CALLS = {"Path", "pathlib.Path", "PurePath", "pathlib.PurePath", "frozenset", "re.compile"}


def _is_literal(node: ast.expr, aliases: dict[str, str]) -> bool:
    """An immutable value fixed in the source: constants, tuples, arithmetic of them.

    Lists, dicts and sets are not constants: anything holding the object can change it.
    """
    if isinstance(node, ast.Constant):
        return True
    if isinstance(node, ast.JoinedStr):
        return not any(isinstance(v, ast.FormattedValue) for v in node.values)
    if isinstance(node, ast.UnaryOp):
        return _is_literal(node.operand, aliases)
    if isinstance(node, ast.BinOp):
        return _is_literal(node.left, aliases) and _is_literal(node.right, aliases)
    if isinstance(node, ast.Tuple):
        return all(_is_literal(e, aliases) for e in node.elts)
    if isinstance(node, ast.Call) and not node.keywords:
        args = (
            node.args[0].elts
            if len(node.args) == 1 and isinstance(node.args[0], ast.Set)
            else node.args
        )
        return qualified(node.func, aliases) in _LITERAL_CALLS and all(
            _is_literal(a, aliases) for a in args
        )
    return False


def parameter_cells(ctx: Context) -> set[int]:
    """Cells holding the run's parameters: tagged ``parameters``, or else the obvious one.

    The obvious one is what NB303 would tag: a cell starting with a ``# parameters`` comment,
    or the first code cell (after an imports-only cell) that only assigns literals.
    """
    tagged = {c.index for c in ctx.code_cells if "parameters" in c.tags}
    if tagged:
        return tagged
    code = [c for c in ctx.code_cells if c.source.strip()]
    commented = {c.index for c in code if _PARAMS_COMMENT.match(c.source.lstrip())}
    if commented:
        return commented
    trees = cell_trees(ctx)
    for cell in code[:2]:
        ct = trees.get(cell.index)
        if ct is None:
            break
        if is_literal_assignments(ct):
            return {cell.index}
        if not is_imports_only(ct):
            break
    return set()


class _GlobalKinds:
    """What a notebook global is: ``import``, ``function``, ``class``, ``constant`` or ``data``."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.aliases = import_aliases(ctx)
        self.parameters = parameter_cells(ctx)
        self.cache: dict[str, str | None] = {}

    def kind(self, name: str) -> str | None:
        if name not in self.cache:
            self.cache[name] = self._kind(name)
        return self.cache[name]

    def _kind(self, name: str) -> str | None:
        definers = self.ctx.dataflow.definers.get(name)
        if not definers:
            return None  # undefined or builtin: other rules' business
        kinds: set[str] = set()
        for index in definers:
            sym = self.ctx.symbols[index]
            if any(imp.bound == name for imp in sym.imports):
                kinds.add("import")
            elif name in sym.functions:
                kinds.add(sym.functions[name].kind)
            elif len(definers) == 1 and self._constant(index, name):
                kinds.add("constant")
            else:
                kinds.add("data")
        return "data" if "data" in kinds else min(kinds)

    def _constant(self, index: int, name: str) -> bool:
        """An ALL_CAPS name bound once, at the top level of its cell, from a literal.

        Values of the parameters cell are not constants: they change from run to run.
        """
        if not _CONSTANT_NAME.match(name) or index in self.parameters:
            return False
        ct = cell_trees(self.ctx).get(index)
        if ct is None:
            return False
        stores = [
            n
            for n in ct.nodes
            if isinstance(n, ast.Name) and n.id == name and not isinstance(n.ctx, ast.Load)
        ]
        if len(stores) != 1:
            return False
        for stmt in ct.tree.body:
            if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1:
                target, value = stmt.targets[0], stmt.value
            elif isinstance(stmt, ast.AnnAssign) and stmt.value is not None:
                target, value = stmt.target, stmt.value
            else:
                continue
            if target is stores[0]:
                return _is_literal(value, self.aliases)
        return False


# Functions a UI or plotting framework calls back with arguments it fixes: registered through
# these calls (``slider.param.watch(f, "value")``, ``pn.bind(f, w)``, ``hv.DynamicMap(f,
# streams=...)``, ``widget.observe(f)``, ``button.on_click(f)``, ``interact(f, x=...)``), given
# as these keywords (``Selection1D(source=p, popup=f)``), or decorated with these names
# (``@pn.depends(...)``, ``@param.depends(...)``, ``@interact``, ``@app.callback(...)``).
_CALLBACK_REGISTRARS = frozenset(
    {
        "watch", "bind", "DynamicMap", "Dynamic", "observe", "on_click", "on_submit",
        "on_change", "on_event", "on_msg", "on_trait_change", "on_edit", "interact",
        "interactive", "interact_manual", "interactive_output", "add_periodic_callback",
        "add_next_tick_callback", "add_timeout_callback", "add_subscriber", "onload",
        "depends", "FuncAnimation",
    }
)  # fmt: skip
_CALLBACK_KEYWORDS = frozenset({"popup", "callback", "callbacks", "subscriber", "subscribers"})
_CALLBACK_DECORATORS = frozenset(
    {"depends", "interact", "interact_manual", "callback", "on_click", "observe", "bind"}
)


def _callee(node: ast.expr) -> str | None:
    """The last name of what is called: ``watch`` of ``x.param.watch``, ``depends`` of
    ``pn.depends(w)(f)``."""
    if isinstance(node, ast.Call):
        node = node.func
    if isinstance(node, ast.Attribute):
        return node.attr
    return node.id if isinstance(node, ast.Name) else None


def _named(node: ast.expr) -> Iterator[str]:
    if isinstance(node, ast.Name):
        yield node.id
    elif isinstance(node, ast.List | ast.Tuple):
        for elt in node.elts:
            yield from _named(elt)


def framework_callbacks(ctx: Context) -> set[str]:
    """Names of notebook functions a framework calls back (the signature is the framework's)."""
    found: set[str] = set()
    for ct in cell_trees(ctx).values():
        for node in ct.nodes:
            if isinstance(node, ast.Call):
                if _callee(node.func) in _CALLBACK_REGISTRARS:
                    for arg in node.args:
                        found.update(_named(arg))
                    for kw in node.keywords:
                        found.update(_named(kw.value))
                else:
                    for kw in node.keywords:
                        if kw.arg in _CALLBACK_KEYWORDS:
                            found.update(_named(kw.value))
            elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and any(
                _callee(d) in _CALLBACK_DECORATORS for d in node.decorator_list
            ):
                found.add(node.name)
    return found


@register
class FunctionReadsGlobal(Rule):
    code = "NB503"
    name = "function-reads-global"
    summary = "A function reads a notebook global (data) instead of taking it as a parameter."
    severity = "warning"
    explanation = """
    The function's result depends on a notebook variable it does not receive: `df`,
    `model`, `threshold`. It works only in this kernel, after the cells that set the global
    ran, and it silently uses whatever value the global has now; it cannot be tested or
    imported from a module as it stands. Pass the value as a parameter. Reading imported
    modules, other functions and classes, and ALL_CAPS constants assigned once from an
    immutable literal (`MAX_DEPTH = 6`, `COLUMNS = ("a", "b")`) is fine; a list or dict
    is not a constant (anything can change it), and neither is a value of the parameters
    cell (the tagged one, or the one NB303 would tag): it changes from run to run.
    `nbops modularize` turns such globals into parameters when it extracts the function.
    A callback whose signature a framework fixes is not reported: a function registered with
    `.param.watch(f, ...)`, `pn.bind(f, ...)`, `hv.DynamicMap(f, ...)`, `.observe(f)`,
    `.on_click(f)`, `interact(f, ...)` and similar calls, given as `popup=` or `callback=`,
    or decorated with `@pn.depends`, `@param.depends` or `@interact`.
    """
    bad_example = """
    # %%
    threshold = 0.5
    # %%
    def label(scores):
        return scores > threshold
    """
    good_example = """
    # %%
    THRESHOLD = 0.5
    # %%
    def label(scores, threshold=THRESHOLD):
        return scores > threshold
    """

    def check(self, ctx: Context) -> Iterator[Finding]:
        kinds = _GlobalKinds(ctx)
        callbacks: set[str] | None = None
        for cell, sym in ctx.parsed():
            lines = sym.source.python.split("\n")
            for info in sym.functions.values():
                if not info.globals_read:
                    continue
                if callbacks is None:
                    callbacks = framework_callbacks(ctx)
                if info.name in callbacks:
                    continue  # the framework calls it with arguments of its choosing
                read = [
                    ref.name
                    for ref in info.globals_read
                    if ref.name not in info.params and kinds.kind(ref.name) == "data"
                ]
                if not read:
                    continue
                several = len(read) > 1
                what = "them as parameters" if several else "it as a parameter"
                if info.kind == "class":
                    what += " of __init__"
                message = (
                    f"{info.kind} '{info.name}' reads notebook global{'s' if several else ''} "
                    f"{_names(read)}: pass {what} instead"
                )
                line = lines[info.line - 1] if 0 < info.line <= len(lines) else ""
                m = re.search(rf"\b(?:def|class)\s+({re.escape(info.name)})\b", line)
                if m is None:
                    yield Finding(message, cell.index, info.line)
                else:
                    col = len(line[: m.start(1)]) + 1
                    yield Finding(
                        message, cell.index, info.line, col, info.line, col + len(info.name)
                    )


# --------------------------------------------------------------------------- NB504


def output_size(cell: Cell) -> int:
    """About the bytes the cell's outputs take in the ``.ipynb`` file.

    Counted from the decoded JSON (characters of strings plus punctuation) instead of
    re-serialising megabytes of outputs; close enough for a size limit.
    """
    outputs = cell.raw.get("outputs")
    if not outputs:
        return 0
    return _json_size(outputs)


_STR = {str}


def _json_size(value: object) -> int:
    if isinstance(value, str):
        return len(value) + 2
    if isinstance(value, list):
        if set(map(type, value)) <= _STR:  # lines of text or base64: the bulk of outputs
            return sum(map(len, value)) + 3 * len(value) + 1
        return sum(_json_size(v) for v in value) + len(value) + 1
    if isinstance(value, dict):
        return sum(len(str(k)) + 4 + _json_size(v) for k, v in value.items()) + 1
    return len(str(value))


def _size(n: int) -> str:
    if n >= 1_000_000:
        return f"{n / 1_000_000:.1f} MB"
    if n >= 1_000:
        return f"{n / 1_000:.0f} KB"
    return f"{n} bytes"


@register
class LargeOutput(Rule):
    code = "NB504"
    name = "large-output"
    summary = "Outputs over the size limit (per cell or for the whole notebook)."
    severity = "warning"
    fix = "unsafe"
    fix_note = (
        "Clears the cell's outputs (for the notebook limit: of the largest cells until it is "
        "under); unsafe, so applied with --unsafe-fixes. --clear-outputs clears every cell."
    )
    python_only = False
    options: ClassVar[dict[str, Any]] = {
        "max-output-bytes": 500_000,
        "max-notebook-output-bytes": 5_000_000,
    }
    explanation = """
    Large outputs (interactive plots that embed their JavaScript, high-resolution images,
    long printed tables, training logs) are stored inside the `.ipynb` file. They bloat the
    repository and every clone of it, make diffs and reviews unusable, slow Jupyter down,
    and may carry data that should not be published. A few ordinary plots stay well under
    the limits: 500 KB per cell (`max-output-bytes`) and 5 MB per notebook
    (`max-notebook-output-bytes`). Clear the outputs before committing (the fix, applied by
    `nbops fix --unsafe-fixes`, or `nbops fix --clear-outputs`), save big artifacts to
    files, or print a summary.
    """
    bad_example = """
    # %% exec=1 output_bytes=2000000
    fig = px.scatter(df, x="x", y="y")
    fig.show()
    """
    good_example = """
    # %% exec=1 output_bytes=80000
    ax = df.plot.scatter(x="x", y="y")
    """

    def check(self, ctx: Context) -> Iterator[Finding]:
        per_cell = int(ctx.option("max-output-bytes", self.options["max-output-bytes"]))
        per_nb = int(
            ctx.option("max-notebook-output-bytes", self.options["max-notebook-output-bytes"])
        )
        sizes = {c.index: output_size(c) for c in ctx.code_cells if c.outputs}
        for index, size in sizes.items():
            if size > per_cell:
                yield Finding(
                    f"outputs take {_size(size)} (limit {_size(per_cell)}): clear them before "
                    "committing, or save large results to files",
                    cell=index,
                    fix=Fix("Clear this cell's outputs", "unsafe", (Edit("clear_outputs", index),)),
                )
        total = sum(sizes.values())
        if total <= per_nb:
            return
        # clear the largest cells until the notebook is under the limit
        chosen: list[int] = []
        left = total
        for index, size in sorted(sizes.items(), key=lambda kv: -kv[1]):
            if left <= per_nb:
                break
            chosen.append(index)
            left -= size
        numbers = ", ".join(str(i + 1) for i in sorted(chosen))
        yield Finding(
            f"notebook outputs take {_size(total)} (limit {_size(per_nb)}); the largest are in "
            f"cell{'s' if len(chosen) > 1 else ''} {numbers}: clear them before committing",
            fix=Fix(
                f"Clear the outputs of cell{'s' if len(chosen) > 1 else ''} {numbers}",
                "unsafe",
                tuple(Edit("clear_outputs", i) for i in sorted(chosen)),
            ),
        )


# --------------------------------------------------------------------------- NB505

_DEBUGGER_CALLS = {
    "breakpoint", "pdb.set_trace", "pdb.post_mortem", "pdb.pm", "pdb.run", "pdb.runcall",
    "ipdb.set_trace", "ipdb.post_mortem", "ipdb.pm", "ipdb.runcall", "pudb.set_trace",
    "IPython.core.debugger.set_trace", "IPython.embed", "IPython.terminal.embed.embed",
    "code.interact", "web_pdb.set_trace", "remote_pdb.set_trace",
}  # fmt: skip
_PDB_OFF = {"off", "0", "false"}


@register
class DebuggerLeft(Rule):
    code = "NB505"
    name = "debugger-left"
    summary = "A breakpoint, debugger call or %debug/%pdb left in the notebook."
    severity = "warning"
    explanation = """
    `breakpoint()`, `pdb.set_trace()`, `ipdb.set_trace()`, `%debug` and `%pdb on` stop the
    notebook and wait for someone to type at a debugger prompt. Run unattended (papermill,
    nbconvert, a scheduled job) the run hangs or fails at that point. They are debugging
    aids: remove them once the bug is found. An `import pdb` alone is not reported (ruff
    reports it when unused).
    """
    bad_example = """
    # %%
    import pdb
    for row in rows:
        pdb.set_trace()
        process(row)
    """
    good_example = """
    # %%
    for row in rows:
        process(row)
    """

    def check(self, ctx: Context) -> Iterator[Finding]:
        found: list[tuple[int, int, int, Finding]] = []
        aliases = import_aliases(ctx)
        debugger = [item for item in named_calls(ctx) if item[2] in _DEBUGGER_CALLS]
        for ct, call in calls_in_order(ctx):
            # a call of no dotted name: Pdb().set_trace()
            func = call.func
            if (
                isinstance(func, ast.Attribute)
                and func.attr == "set_trace"
                and isinstance(func.value, ast.Call)
                and (qualified(func.value.func, aliases) or "").endswith("Pdb")
            ):
                debugger.append((ct, call, "Pdb().set_trace"))
        for ct, call, name in debugger:
            message = f"{name}() stops the run at a debugger prompt: remove it"
            found.append((ct.index, call.lineno, call.col_offset, finding_at(message, ct, call)))
        for cell, sym in ctx.parsed():
            for magic in sym.source.magics:
                if magic.name == "debug" and magic.kind in (
                    "line_magic",
                    "automagic",
                    "cell_magic",
                ):
                    message = "%debug opens the interactive debugger: remove it"
                elif (
                    magic.name == "pdb"
                    and magic.kind in ("line_magic", "automagic")
                    and magic.args.strip().lower() not in _PDB_OFF
                ):
                    message = (
                        "%pdb turns on the post-mortem debugger, which waits for input on any "
                        "error: remove it"
                    )
                else:
                    continue
                end = magic.column + len(magic.text.split("\n", 1)[0])
                finding = Finding(message, cell.index, magic.line, magic.column, magic.line, end)
                found.append((cell.index, magic.line, magic.column, finding))
        for *_, finding in sorted(found, key=lambda f: f[:3]):
            yield finding


# --------------------------------------------------------------------------- NB506


def _catch_warnings_nodes(ct: CellTree, aliases: dict[str, str]) -> set[int]:
    """ids of nodes inside ``with warnings.catch_warnings():`` blocks (scoped, so fine)."""
    inside: set[int] = set()
    for node in ct.nodes:
        if isinstance(node, (ast.With, ast.AsyncWith)) and any(
            isinstance(item.context_expr, ast.Call)
            and qualified(item.context_expr.func, aliases) == "warnings.catch_warnings"
            for item in node.items
        ):
            for stmt in node.body:
                inside.update(id(n) for n in ast.walk(stmt))
    return inside


def _is_ignore(node: ast.expr | None) -> bool:
    return isinstance(node, ast.Constant) and node.value == "ignore"


def _empty(node: ast.expr | None) -> bool:
    return node is None or (isinstance(node, ast.Constant) and node.value in ("", None))


# the calls that can silence warnings (_suppression), by their import-resolved names
_SUPPRESSORS = frozenset(
    {"warnings.filterwarnings", "warnings.simplefilter", "numpy.seterr", "pandas.set_option"}
)
_CHAINED = "turning off pandas' chained-assignment warning hides writes that may not happen"


def _suppression(node: ast.AST, aliases: dict[str, str]) -> str | None:
    """What a statement or call silences, or None."""
    if isinstance(node, ast.Call):
        name = qualified(node.func, aliases)
        if name == "warnings.filterwarnings" and _is_ignore(argument(node, 0, "action")):
            if all(
                _empty(argument(node, i, kw))
                for i, kw in ((1, "message"), (2, "category"), (3, "module"))
            ):
                return 'warnings.filterwarnings("ignore") silences every warning'
        elif name == "warnings.simplefilter" and _is_ignore(argument(node, 0, "action")):
            if _empty(argument(node, 1, "category")):
                return 'warnings.simplefilter("ignore") silences every warning'
        elif name == "numpy.seterr":
            if _is_ignore(argument(node, 0, "all")):
                return 'np.seterr(all="ignore") hides division by zero, overflow and invalid values'
        elif name == "pandas.set_option":
            key = argument(node, 0, "pat")
            value = argument(node, 1, "value")
            if (
                isinstance(key, ast.Constant)
                and str(key.value).endswith("chained_assignment")
                and value is not None
                and is_constant(value, None)
            ):
                return _CHAINED
    elif isinstance(node, ast.Assign) and is_constant(node.value, None):
        for target in node.targets:
            full = qualified(target, aliases) if isinstance(target, ast.Attribute) else None
            if full is not None and full.endswith("options.mode.chained_assignment"):
                return _CHAINED
    return None


@register
class WarningsSuppressed(Rule):
    code = "NB506"
    name = "warnings-suppressed"
    summary = "All warnings are silenced (filterwarnings/simplefilter('ignore'), np.seterr)."
    severity = "warning"
    explanation = """
    A blanket `warnings.filterwarnings("ignore")` or `simplefilter("ignore")` hides every
    warning for the rest of the process: deprecations that will break the code on the next
    library upgrade, convergence warnings, `SettingWithCopyWarning` on writes that never
    happen, numeric problems. `np.seterr(all="ignore")` and
    `pd.options.mode.chained_assignment = None` do the same for numeric errors and pandas
    chained assignment. Silence only what you have checked: a category and a message
    (`filterwarnings("ignore", category=FutureWarning, module="sklearn")`), or a
    `with warnings.catch_warnings():` block around the one noisy call.
    """
    bad_example = """
    # %%
    import warnings
    warnings.filterwarnings("ignore")
    """
    good_example = """
    # %%
    import warnings
    warnings.filterwarnings("ignore", category=FutureWarning, module="sklearn")
    """

    def check(self, ctx: Context) -> Iterator[Finding]:
        aliases = import_aliases(ctx)
        trees = cell_trees(ctx)
        # only the calls _suppression knows, by the names resolved once for all rules
        suppressors: dict[int, list[ast.AST]] = {}
        for ct, call, name in named_calls(ctx):
            if name in _SUPPRESSORS:
                suppressors.setdefault(ct.index, []).append(call)
        for index in sorted(trees):
            ct = trees[index]
            python = ct.source.python
            # an `x.options.mode.chained_assignment = None` spells its attribute (a non-ASCII
            # cell may spell it in characters the parser normalises: walked whatever it holds)
            assigns: list[ast.AST] = []
            if "chained_assignment" in python or not python.isascii():
                assigns = [n for n in ct.nodes if isinstance(n, ast.Assign)]
            if not assigns and index not in suppressors:
                continue
            scoped = _catch_warnings_nodes(ct, aliases)
            nodes = [
                n
                for n in [*assigns, *suppressors.get(index, [])]  # a parent before its calls
                if id(n) not in scoped and not ct.on_magic(n)
            ]
            nodes.sort(key=lambda n: (getattr(n, "lineno", 0), getattr(n, "col_offset", 0)))
            for node in nodes:
                what = _suppression(node, aliases)
                if what:
                    yield finding_at(
                        f"{what}: silence only a specific category/message, or use "
                        "warnings.catch_warnings() around the noisy call",
                        ct,
                        node,
                    )


# --------------------------------------------------------------------------- NB507


_DEF = re.compile(r"^[ \t]*(?:async[ \t]+)?(?:def|class)[ \t]+\w", re.MULTILINE)


@register
class NoFunctions(Rule):
    code = "NB507"
    name = "no-functions"
    summary = "A long notebook without a single function or class."
    severity = "info"
    options: ClassVar[dict[str, Any]] = {"min-code-cells": 10}
    explanation = """
    The notebook has many code cells and defines no function or class: all of its logic is
    top-level statements on global variables. Such code cannot be tested, reused or
    imported, and every step depends on the state the previous cells left behind. Group
    the steps into functions (`load`, `clean`, `train`, `evaluate`) that take their inputs
    as parameters and return their results; that is also what `nbops modularize` extracts
    into a module. Notebooks shorter than `min-code-cells` (default 10) are not reported.
    """
    bad_example = """
    # %%
    import pandas as pd
    # %%
    df = pd.read_csv("sales.csv")
    # %%
    df = df.dropna()
    # %%
    df["month"] = df["date"].str[:7]
    # %%
    df = df[df["amount"] > 0]
    # %%
    monthly = df.groupby("month")["amount"].sum()
    # %%
    monthly = monthly.sort_index()
    # %%
    growth = monthly.pct_change()
    # %%
    monthly.plot()
    # %%
    growth.plot()
    """
    good_example = """
    # %%
    import pandas as pd

    def monthly_sales(path):
        df = pd.read_csv(path).dropna()
        df["month"] = df["date"].str[:7]
        return df.groupby("month")["amount"].sum()
    # %%
    monthly_sales("sales.csv").plot()
    """

    def check(self, ctx: Context) -> Iterator[Finding]:
        minimum = int(ctx.option("min-code-cells", self.options["min-code-cells"]))
        cells = [c for c in ctx.code_cells if c.source.strip()]
        if len(cells) < minimum:
            return
        for cell in cells:
            sym = ctx.symbols.get(cell.index)
            if sym is None or sym.syntax_error is not None:
                if _DEF.search(cell.source):
                    return
            elif sym.functions:
                return
        yield Finding(
            f"{len(cells)} code cells and no function or class: group the steps into functions "
            "that take inputs as parameters and return results"
        )


# --------------------------------------------------------------------------- NB508

# builtins a notebook is likely to call later; "file" is not one in Python 3
SHADOWED_BUILTINS = frozenset(
    {
        "list", "dict", "str", "set", "tuple", "int", "float", "bool", "bytes", "id", "input",
        "sum", "max", "min", "abs", "round", "len", "type", "map", "filter", "zip", "range",
        "sorted", "reversed", "enumerate", "open", "print", "format", "hash", "iter", "next",
        "object", "vars", "dir", "all", "any", "help", "slice", "pow",
    }
)  # fmt: skip


# Python 2 compatibility: ``input = raw_input`` under ``except NameError`` (or ``from itertools
# import izip as zip`` under ``except ImportError``) fails on Python 3 before it binds anything
_PY2_BUILTINS = frozenset(
    {
        "raw_input", "unicode", "xrange", "basestring", "long", "unichr", "file", "reduce",
        "execfile", "cmp", "buffer", "apply", "intern", "coerce", "reload",
    }
)  # fmt: skip
_PY2_IMPORTS = {
    "itertools": {"izip", "imap", "ifilter", "ifilterfalse", "izip_longest"},
    "future_builtins": None,  # None: every name
    "__builtin__": None,
}


def _catches(handlers: list[ast.ExceptHandler], error: str) -> bool:
    for handler in handlers:
        kind = handler.type
        types = kind.elts if isinstance(kind, ast.Tuple) else [kind]
        for t in types:
            name = t.attr if isinstance(t, ast.Attribute) else getattr(t, "id", None)
            if t is None or name in (error, "Exception", "BaseException"):
                return True
            if error == "ImportError" and name == "ModuleNotFoundError":
                return True
    return False


def _python2_fallbacks(tree: ast.Module, ctx: Context) -> set[tuple[int, str]]:
    """(line, name) of bindings in a ``try`` that raise on Python 3 before binding, caught."""
    out: set[tuple[int, str]] = set()
    for node in ast.walk(tree):
        if not isinstance(node, ast.Try):
            continue
        for stmt in node.body:
            if (
                isinstance(stmt, ast.Assign)
                and isinstance(stmt.value, ast.Name)
                and stmt.value.id in _PY2_BUILTINS
                and not ctx.dataflow.definers.get(stmt.value.id)
                and _catches(node.handlers, "NameError")
            ):
                out.update((t.lineno, t.id) for t in stmt.targets if isinstance(t, ast.Name))
            elif (
                isinstance(stmt, ast.ImportFrom)
                and stmt.module in _PY2_IMPORTS
                and _catches(node.handlers, "ImportError")
            ):
                names = _PY2_IMPORTS[stmt.module]
                for alias in stmt.names:
                    if names is None or alias.name in names:
                        bound = alias.asname or alias.name
                        end = stmt.end_lineno or stmt.lineno
                        out.update((line, bound) for line in range(stmt.lineno, end + 1))
    return out


@register
class ShadowedBuiltin(Rule):
    code = "NB508"
    name = "shadowed-builtin"
    summary = "A notebook global named like a builtin (list, dict, id, input, sum...)."
    severity = "warning"
    explanation = """
    Assigning to `list`, `dict`, `id`, `input`, `sum`, `max`, `type`, `filter`... (or
    using them as a loop variable, a function name, or importing `sum`/`max` from numpy or
    pyspark) replaces the builtin for every later cell: `list(x)` in another cell now calls
    the DataFrame bound to `list`, and the error appears far from the cause, or only after
    cells are run in a different order. Use a descriptive name (`items`, `user_id`,
    `total`) and import library functions through their module (`np.max`, `F.sum`).
    Python 2 compatibility code is not reported: `input = raw_input` in a `try` whose
    `except` catches `NameError` (or `from itertools import izip as zip` under
    `except ImportError`) fails on Python 3 before it binds anything.
    """
    bad_example = """
    # %%
    list = [3, 1, 2]
    # %%
    ordered = sorted(list)
    """
    good_example = """
    # %%
    values = [3, 1, 2]
    # %%
    ordered = sorted(values)
    """

    def check(self, ctx: Context) -> Iterator[Finding]:
        for cell, sym in ctx.parsed():
            lines = sym.source.python.split("\n")
            imported = {imp.bound for imp in sym.imports}
            fallbacks: set[tuple[int, str]] | None = None
            for ref in sym.writes:
                if ref.name not in SHADOWED_BUILTINS:
                    continue
                if fallbacks is None:
                    fallbacks = _python2_fallbacks(sym.tree, ctx) if sym.tree else set()
                if (ref.line, ref.name) in fallbacks:
                    continue
                if ref.name in imported:
                    how = (
                        f"importing '{ref.name}' shadows the builtin {ref.name}(): import the "
                        f"module and use module.{ref.name}"
                    )
                elif ref.name in sym.functions:
                    kind = sym.functions[ref.name].kind
                    how = (
                        f"{kind} '{ref.name}' shadows the builtin {ref.name}(): give it a "
                        "descriptive name"
                    )
                else:
                    how = (
                        f"'{ref.name}' shadows the builtin {ref.name}() for every later cell: "
                        "use a descriptive name"
                    )
                line = lines[ref.line - 1] if 0 < ref.line <= len(lines) else ""
                col = ref.column
                if line[col - 1 : col - 1 + len(ref.name)] != ref.name:
                    m = re.compile(rf"\b{re.escape(ref.name)}\b").search(line, col - 1)
                    col = m.start() + 1 if m else col
                yield Finding(how, cell.index, ref.line, col, ref.line, col + len(ref.name))
