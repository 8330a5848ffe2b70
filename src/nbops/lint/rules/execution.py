"""NB2: execution order and hidden state, read from execution counts, outputs and data flow."""

from __future__ import annotations

import ast
import copy
import io
import re
import tokenize
from collections.abc import Iterator, Mapping
from itertools import pairwise
from typing import Any, cast

from nbops.core.notebook import Cell
from nbops.lint.registry import register
from nbops.lint.rule import Context, Finding, Rule
from nbops.lint.rules._ast import walk

_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def _count(cell: Cell) -> str:
    return f"[{cell.execution_count}]"


def _has_name_error(cell: Cell) -> bool:
    """Whether the cell's saved run stopped with a NameError (for any name: the reads after
    the failing one never ran, so they say nothing about hidden state)."""
    return any(
        out.get("output_type") == "error" and out.get("ename") == "NameError"
        for out in cell.outputs
    )


@register
class NonLinearExecution(Rule):
    code = "NB201"
    name = "non-linear-execution"
    summary = "Cells were executed out of document order."
    severity = "warning"
    explanation = """
    The execution counts show that cells ran in a different order than they appear: a cell
    further down ran before one above it. The saved outputs were produced by that hidden
    order, so running the notebook top to bottom (as papermill, CI and every reader do) may
    give different results or fail. Restart the kernel and run all cells, then save.
    """
    bad_example = """
    # %% exec=2
    import pandas as pd
    # %% exec=1
    df = pd.DataFrame({"a": [1, 2]})
    """
    good_example = """
    # %% exec=1
    import pandas as pd
    # %% exec=2
    df = pd.DataFrame({"a": [1, 2]})
    """

    def check(self, ctx: Context) -> Iterator[Finding]:
        highest: Cell | None = None
        for cell in ctx.code_cells:
            count = cell.execution_count
            if count is None:
                continue
            if (
                highest is not None
                and highest.execution_count is not None
                and count < highest.execution_count
            ):
                yield Finding(
                    f"ran as {_count(cell)}, before cell {highest.number} above it "
                    f"(ran as {_count(highest)}): restart the kernel and run all cells "
                    "in order",
                    cell=cell.index,
                )
                continue
            highest = cell


@register
class UnexecutedCell(Rule):
    code = "NB202"
    name = "unexecuted-cell"
    summary = "A code cell never ran although other cells did."
    severity = "warning"
    explanation = """
    The notebook was executed, but this code cell has no execution count: it was skipped,
    added later, or its output cleared. Either the saved results do not include its effect or
    it is dead code. Run all cells from a fresh kernel, or delete the cell if it is not
    needed. Notebooks saved with every output cleared are not flagged, nor are cells skipped
    on purpose (a `skip-execution` or `nbval-skip` tag, `# NBVAL_SKIP`), `%load` cells and
    cells that do not parse (NB003 reports those). When fewer than half
    of the code cells ever ran (the author ran a cell or two and saved), the finding is made
    once, for the notebook, instead of on every cell: the saved outputs say almost nothing
    about the notebook, and cell-by-cell warnings would only repeat that.
    """
    bad_example = """
    # %% exec=1
    x = 1
    # %%
    y = x + 1
    # %% exec=2
    print(x)
    """
    good_example = """
    # %% exec=1
    x = 1
    # %% exec=2
    y = x + 1
    """

    def check(self, ctx: Context) -> Iterator[Finding]:
        if not ctx.executed:
            return
        runnable = [c for c in ctx.code_cells if _runnable(ctx, c)]
        skipped = [c for c in runnable if c.execution_count is None and not c.outputs]
        ran = len(runnable) - len(skipped)
        if skipped and ran * 2 < len(runnable):
            yield Finding(
                f"only {ran} of {len(runnable)} code cells ever ran: the saved outputs do not "
                "show what the notebook computes; restart the kernel and run all cells (or "
                "clear all outputs) before saving",
            )
            return
        for cell in skipped:
            yield Finding(
                "this cell was never executed while the others were: run all cells in "
                "order, or delete it if it is dead code",
                cell=cell.index,
            )


_SKIP_TAGS = {"skip-execution", "nbval-skip", "skip"}


def _runnable(ctx: Context, cell: Cell) -> bool:
    """Whether the cell has code meant to run: not empty or only comments, not skipped on
    purpose (a ``skip-execution``/``nbval-skip`` tag or ``# NBVAL_SKIP``), not a ``%load``
    (it replaces itself when run) and not a syntax error (NB003 reports that, and a demo of
    tab completion such as ``collections.`` was never meant to run)."""
    lines = cell.source.strip().splitlines()
    if not lines or all(line.lstrip().startswith("#") for line in lines):
        return False
    if _SKIP_TAGS & set(cell.tags) or "NBVAL_SKIP" in cell.source:
        return False
    sym = ctx.symbols.get(cell.index)
    if sym is None or sym.syntax_error is not None:
        return False
    return not any(m.name == "load" for m in sym.source.magics)


@register
class ExecutionCountGap(Rule):
    code = "NB203"
    name = "execution-count-gap"
    summary = "Execution counts skip numbers: cells were re-run or run and deleted."
    severity = "info"
    explanation = """
    Execution counts that do not start at 1 or that skip numbers mean the kernel ran code
    that is not in the notebook as saved: cells that were re-run, edited and re-run, or run
    and then deleted. Anything those runs defined may still be what the outputs depend on
    (hidden state). A notebook saved right after "Restart and run all" has counts 1, 2, 3...
    """
    bad_example = """
    # %% exec=1
    x = 1
    # %% exec=7
    y = x + 1
    """
    good_example = """
    # %% exec=1
    x = 1
    # %% exec=2
    y = x + 1
    """

    def check(self, ctx: Context) -> Iterator[Finding]:
        executed = sorted(
            (c for c in ctx.code_cells if c.execution_count is not None),
            key=lambda c: (c.execution_count or 0, c.index),
        )
        if not executed:
            return
        first = executed[0]
        if first.execution_count is not None and first.execution_count > 1:
            yield Finding(
                f"execution starts at {_count(first)}: {first.execution_count - 1} earlier "
                "run(s) are not in the notebook; restart the kernel and run all cells",
                cell=first.index,
            )
        for prev, cell in pairwise(executed):
            assert prev.execution_count is not None and cell.execution_count is not None
            missing = cell.execution_count - prev.execution_count - 1
            if missing > 0:
                yield Finding(
                    f"{missing} run(s) happened between {_count(prev)} (cell {prev.number}) "
                    f"and {_count(cell)}: code that is no longer in the notebook may have "
                    "changed the state this cell used",
                    cell=cell.index,
                )


@register
class UseBeforeDefinition(Rule):
    code = "NB204"
    name = "use-before-definition"
    summary = "A cell reads a name that only a later cell defines."
    severity = "error"
    explanation = """
    In document order this name is not defined yet: only a cell further down assigns it. The
    notebook worked for its author because the later cell ran first, but it fails with a
    NameError when run top to bottom (papermill, CI, a colleague). Move the defining cell up,
    or the using cell down.
    """
    bad_example = """
    # %% exec=2
    print(total)
    # %% exec=1
    total = 42
    """
    good_example = """
    # %% exec=1
    total = 42
    # %% exec=2
    print(total)
    """

    def check(self, ctx: Context) -> Iterator[Finding]:
        numbers = {c.index: c.number for c in ctx.cells}
        for u in ctx.dataflow.document.unresolved:
            if u.later_provider is None or _on_magic_line(ctx, u.cell, u.line):
                continue
            yield Finding(
                f"'{u.name}' is used before it is defined: only cell "
                f"{numbers.get(u.later_provider, u.later_provider + 1)} below defines it; "
                "move that cell up",
                cell=u.cell,
                line=u.line,
                column=u.column,
                end_line=u.line,
                end_column=u.column + len(u.name),
            )


def _on_magic_line(ctx: Context, cell: int, line: int) -> bool:
    """IPython leaves ``$name``/``{name}`` in magics as text when the name is undefined."""
    source = ctx.sources.get(cell)
    return source is not None and source.line_has_magic(line)


_SCRIPT_OUTPUTS = re.compile(r"--(?:out|err|proc)[ =]+([A-Za-z_]\w*)")
# IPython's default aliases: ``ls`` alone on a line runs the shell command
_ALIASES = {"cat", "clear", "cp", "ldir", "less", "lf", "lk", "ll", "ls", "lx", "man", "mkdir",
            "more", "mv", "rm", "rmdir"}


def _magic_names(ctx: Context) -> set[str]:
    """Names a script cell magic binds (``%%bash --out output --err error``, ``--proc``)."""
    names: set[str] = set()
    for sym in ctx.symbols.values():
        magic = sym.source.cell_magic
        if magic is not None:
            names.update(_SCRIPT_OUTPUTS.findall(magic.args))
    return names


def _unresolved_without_provider(ctx: Context) -> Iterator[tuple[Any, Cell]]:
    cells = {c.index: c for c in ctx.cells}
    magic_names: set[str] | None = None
    guards: dict[int, list[tuple[int, int]]] = {}
    for u in ctx.dataflow.document.unresolved:
        if u.later_provider is None and not _on_magic_line(ctx, u.cell, u.line):
            if magic_names is None:
                magic_names = _magic_names(ctx)
            if u.name in magic_names or _alias_line(cells[u.cell], u.name, u.line):
                continue
            if _guarded(ctx, u.cell, u.line, guards) or _passed_not_called(
                ctx, u.cell, u.name, u.line
            ):
                continue
            yield u, cells[u.cell]


def _guarded(
    ctx: Context, cell: int, line: int, memo: dict[int, list[tuple[int, int]]]
) -> bool:
    """Whether ``line`` is in a ``try`` whose handler catches NameError (``try: input =
    raw_input`` / ``except NameError``, or a bare ``except``); ``memo`` keeps each cell's
    guarded line ranges."""
    ranges = memo.get(cell)
    if ranges is None:
        ranges = memo[cell] = _name_error_guards(ctx, cell)
    return any(first <= line <= last for first, last in ranges)


def _name_error_guards(ctx: Context, cell: int) -> list[tuple[int, int]]:
    sym = ctx.symbols.get(cell)
    if sym is None or sym.tree is None or "try" not in sym.source.python:
        return []
    ranges: list[tuple[int, int]] = []
    for node in walk(sym.tree):
        if not isinstance(node, ast.Try) or not node.body:
            continue
        end = node.body[-1].end_lineno or node.body[-1].lineno
        for handler in node.handlers:
            caught = ast.walk(handler.type) if handler.type is not None else ()
            names = [n.id for n in caught if isinstance(n, ast.Name)]
            if handler.type is None or {"NameError", "Exception", "BaseException"} & set(names):
                ranges.append((node.body[0].lineno, end))
                break
    return ranges


def _passed_not_called(ctx: Context, cell: int, name: str, line: int) -> bool:
    """Whether a function of this cell that reads ``name`` is only handed over on ``line``
    (``button.on_click(animate)``, a callback run later) while the cell binds ``name`` itself
    further down: nothing reads it when the cell runs."""
    sym = ctx.symbols.get(cell)
    if sym is None or sym.tree is None or name not in {w.name for w in sym.writes}:
        return False
    lines = sym.source.python.splitlines()
    if not 0 < line <= len(lines) or re.search(rf"\b{re.escape(name)}\b", lines[line - 1]):
        return False  # read right there
    readers = {f for f, info in sym.functions.items()
               if any(r.name == name for r in info.globals_read)}
    return not any(
        isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id in readers
        and n.lineno == line
        for n in walk(sym.tree)
    )


def _alias_line(cell: Cell, name: str, line: int) -> bool:
    lines = cell.source.splitlines()
    return name in _ALIASES and 0 < line <= len(lines) and lines[line - 1].strip() == name


@register
class HiddenStateName(Rule):
    code = "NB205"
    name = "hidden-state-name"
    summary = "An executed cell used a name that no cell defines: it lived in a deleted cell."
    severity = "error"
    explanation = """
    This cell ran successfully, yet nothing in the notebook defines a name it reads. The
    value came from the kernel's hidden state: a cell that was deleted or edited after it
    ran, or code typed into a console. The notebook cannot reproduce its own results. Find
    where the name should come from and add that code back, then restart and run all.
    """
    bad_example = """
    # %% exec=3
    model.fit(X, y)
    # %% exec=1
    X, y = [[0], [1]], [0, 1]
    """
    good_example = """
    # %% exec=1
    from sklearn.linear_model import LogisticRegression
    X, y = [[0], [1]], [0, 1]
    model = LogisticRegression()
    # %% exec=2
    model.fit(X, y)
    """

    def check(self, ctx: Context) -> Iterator[Finding]:
        for u, cell in _unresolved_without_provider(ctx):
            if cell.execution_count is None or _has_name_error(cell):
                continue
            yield Finding(
                f"'{u.name}' is defined by no cell, but this cell ran without a NameError: it "
                "came from a deleted or edited cell; add its definition back",
                cell=u.cell,
                line=u.line,
                column=u.column,
                end_line=u.line,
                end_column=u.column + len(u.name),
            )


@register
class UndefinedName(Rule):
    code = "NB206"
    name = "undefined-name"
    summary = "A name is read that nothing in the notebook defines."
    severity = "error"
    explanation = """
    No cell defines this name, no import provides it and it is not a builtin: running the
    notebook raises NameError here. Usually a typo, a renamed variable, or a forgotten
    import. (When the cell ran successfully anyway, NB205 reports hidden state instead.)
    Names after a star import are not checked, since the import may provide them.
    """
    bad_example = """
    # %%
    import pandas as pd
    # %%
    df = pd.read_csv(data_path)
    """
    good_example = """
    # %%
    import pandas as pd
    data_path = "data/customers.csv"
    # %%
    df = pd.read_csv(data_path)
    """

    def check(self, ctx: Context) -> Iterator[Finding]:
        for u, cell in _unresolved_without_provider(ctx):
            if cell.execution_count is not None and not _has_name_error(cell):
                continue
            yield Finding(
                f"undefined name '{u.name}': define or import it in an earlier cell",
                cell=u.cell,
                line=u.line,
                column=u.column,
                end_line=u.line,
                end_column=u.column + len(u.name),
            )


def _last_statement_displays(python: str, tree: ast.Module | None) -> bool | None:
    """Whether the cell's last statement shows a value; None when unknown."""
    if tree is None:
        return None
    if not tree.body:
        return False
    last = tree.body[-1]
    if isinstance(last, ast.Expr):
        return not _ends_with_semicolon(python)
    return False


def _ends_with_semicolon(python: str) -> bool:
    """IPython's test for a silenced result: the last token, comments aside, is ``;``."""
    if ";" not in python:
        return False  # no token can be one
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(python).readline))
    except (tokenize.TokenError, SyntaxError):
        return python.rstrip().endswith(";")
    skipped = {tokenize.ENDMARKER, tokenize.NL, tokenize.NEWLINE, tokenize.COMMENT,
               tokenize.INDENT, tokenize.DEDENT}
    for token in reversed(tokens):
        if token.type not in skipped:
            return token.type == tokenize.OP and token.string == ";"
    return False


@register
class StaleOutput(Rule):
    code = "NB207"
    name = "stale-output"
    summary = "Outputs that the cell's current source cannot have produced."
    severity = "warning"
    explanation = """
    The cell was changed after it ran: it shows an `Out[...]` value although its last line
    is no longer an expression, a traceback quoting code that is no longer there, or outputs
    without an execution count while other cells keep theirs. (A notebook with outputs but
    no execution count at all was saved by a tool that strips the counts, which says
    nothing about edits: it is not flagged for that.) Readers and reviewers trust outputs as evidence of what the
    code does; stale ones mislead them. Re-run the cell (better: the whole notebook) before
    saving.
    """
    bad_example = """
    # %% exec=1 result="42"
    answer = 42
    """
    good_example = """
    # %% exec=1 result="42"
    answer = 42
    answer
    """

    def check(self, ctx: Context) -> Iterator[Finding]:
        for cell in ctx.code_cells:
            if not cell.outputs:
                continue
            reason = self._reason(ctx, cell)
            if reason:
                yield Finding(
                    f"{reason}: the cell was edited after it ran; re-run it", cell=cell.index
                )

    def _reason(self, ctx: Context, cell: Cell) -> str | None:
        kinds = {o.get("output_type") for o in cell.outputs}
        # with no count anywhere, an exporter stripped them: no evidence of an edit
        if cell.execution_count is None and kinds & {"execute_result", "error"} and ctx.executed:
            return "it has outputs but no execution count while other cells have one"
        for out in cell.outputs:
            count = out.get("execution_count")
            if (
                out.get("output_type") == "execute_result"
                and isinstance(count, int)
                and cell.execution_count is not None
                and count != cell.execution_count
            ):
                return f"its result is Out[{count}] but the cell ran as [{cell.execution_count}]"
        source = ctx.sources.get(cell.index)
        if "execute_result" in kinds and source is not None and source.body_is_python:
            sym = ctx.symbols.get(cell.index)
            shows = _last_statement_displays(source.python, sym.tree if sym else None)
            if shows is False and not source.magics:
                assert sym is not None and sym.tree is not None  # else shows is None
                if sym.tree.body and isinstance(sym.tree.body[-1], ast.Expr):
                    return "it shows an Out[] value but its last expression ends with ';'"
                return "it shows an Out[] value but its last statement is not an expression"
        for out in cell.outputs:
            if out.get("output_type") != "error":
                continue
            quoted = _traceback_lines(out)
            if quoted and cell.source.strip():
                body = {" ".join(line.split()) for line in cell.source.splitlines()}
                missing = [q for q in quoted if q not in body]
                if missing and len(missing) == len(quoted):
                    return f"its traceback quotes code no longer in the cell ({missing[0]!r})"
        return None


_ARROW_LINE = re.compile(r"^\s*-*>\s*(\d+)\s+(.*)$")


def _traceback_lines(out: dict[str, Any]) -> list[str]:
    """Source lines an IPython traceback quotes from the cell itself (its ``---->`` lines)."""
    tb = out.get("traceback")
    if not isinstance(tb, list) or len(tb) < 2:
        return []
    frame = _ANSI.sub("", str(tb[1]))
    if "Cell In[" not in frame and "<ipython-input" not in frame:
        return []
    lines: list[str] = []
    for raw in frame.splitlines():
        match = _ARROW_LINE.match(raw)
        if match:
            lines.append(" ".join(match.group(2).split()))
    return lines


@register
class ErrorOutput(Rule):
    code = "NB208"
    name = "error-output"
    summary = "A traceback is saved in the notebook's outputs."
    severity = "warning"
    explanation = """
    The notebook was saved with an error output: the cell failed the last time it ran. Either
    the notebook does not run top to bottom, or the failure was fixed in another cell and the
    broken cell was left behind. Reviewers cannot tell which. Fix or delete the failing cell
    and re-run; tracebacks may also leak paths, user names and data.
    """
    fix = "unsafe"
    fix_note = "Clears the cell's outputs (nbops fix --clear-outputs)."
    bad_example = """
    # %% exec=1 error="KeyError: 'price'"
    df["price"].mean()
    """
    good_example = """
    # %% exec=1 result="10.5"
    df["Price"].mean()
    """

    def check(self, ctx: Context) -> Iterator[Finding]:
        from nbops.lint.diagnostic import Edit, Fix

        for cell in ctx.code_cells:
            for out in cell.outputs:
                if out.get("output_type") == "error":
                    ename = str(out.get("ename", "Error"))
                    evalue = str(out.get("evalue", "")).strip().split("\n", 1)[0]
                    text = f"{ename}: {evalue}" if evalue else ename
                    yield Finding(
                        f"saved output is an error ({text[:120]}): fix the cell or delete it, "
                        "then re-run",
                        cell=cell.index,
                        fix=Fix(
                            "Clear the cell's outputs",
                            "unsafe",
                            (Edit("clear_outputs", cell.index),),
                        ),
                    )
                    break


@register
class StaleProvider(Rule):
    code = "NB209"
    name = "stale-provider"
    summary = "When the cell ran, a name came from a different cell than document order gives."
    severity = "warning"
    explanation = """
    By execution counts, when this cell ran the value of a name it reads had last been set
    by a different cell than the one above it in the notebook: for example a later cell that
    redefines `df` ran in between. The saved outputs reflect that other definition, so a
    top-to-bottom run computes something else. Give each variable one meaning (rename the
    redefinition) and re-run all cells in order. Two cells that bind the name the same way
    (`from sklearn import svm` in both, or `threshold = 0.5` twice) count as one source.
    """
    bad_example = """
    # %% exec=1
    threshold = 0.5
    # %% exec=3
    print(threshold)
    # %% exec=2
    threshold = 0.9
    """
    good_example = """
    # %% exec=1
    threshold = 0.5
    # %% exec=2
    print(threshold)
    # %% exec=3
    strict_threshold = 0.9
    """

    def check(self, ctx: Context) -> Iterator[Finding]:
        flow = ctx.dataflow
        if flow.execution is None:
            return
        numbers = {c.index: c.number for c in ctx.cells}
        counts = {c.index: c.execution_count for c in ctx.cells}
        by_consumer: dict[int, dict[str, Any]] = {}
        for edge in flow.document.edges:
            by_consumer.setdefault(edge.consumer, {})[edge.name] = edge
        for edge in flow.execution.edges:
            doc = by_consumer.get(edge.consumer, {}).get(edge.name)
            if doc is None or doc.provider == edge.provider:
                continue
            same = _definition(ctx, edge.provider, edge.name)
            if same is not None and same == _definition(ctx, doc.provider, edge.name):
                continue  # both cells give it the same value: one source
            yield Finding(
                f"when this cell ran, '{edge.name}' came from cell {numbers[edge.provider]} "
                f"(run [{counts[edge.provider]}]), but top to bottom it comes from cell "
                f"{numbers[doc.provider]}: results differ when run in order",
                cell=edge.consumer,
                line=edge.line,
                column=edge.column,
            )


def _definition(ctx: Context, cell: int, name: str) -> str | None:
    """How ``cell`` leaves ``name`` bound when that is a plain import or a literal value
    (the same text in two cells means the same value); None for anything else."""
    sym = ctx.symbols.get(cell)
    if sym is None or sym.tree is None:
        return None
    found: str | None = None
    for stmt in _statements(sym.tree.body):
        if isinstance(stmt, (ast.Import, ast.ImportFrom)):
            for alias in stmt.names:
                bound = alias.asname or alias.name.split(".")[0]
                if bound == name:
                    module = stmt.module if isinstance(stmt, ast.ImportFrom) else None
                    level = stmt.level if isinstance(stmt, ast.ImportFrom) else 0
                    found = f"import {'.' * level}{module or ''}:{alias.name}"
            continue
        stores = [
            n for n in ast.walk(stmt)
            if isinstance(n, ast.Name) and n.id == name and not isinstance(n.ctx, ast.Load)
        ]
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            if stmt.name == name:
                return None
            continue
        if not stores:
            continue
        if (
            isinstance(stmt, ast.Assign)
            and len(stmt.targets) == 1
            and isinstance(stmt.targets[0], ast.Name)
            and _literal(stmt.value)
        ):
            found = f"value {ast.dump(stmt.value)}"
        else:
            return None  # bound some other way (computed, in a loop, deleted...)
    return found


def _literal(node: ast.expr) -> bool:
    try:
        ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return False
    return True


# list growth; ``dict.update``, ``set.add`` and ``setdefault`` give the same value when re-run
_APPENDING = {"append", "extend", "insert", "appendleft", "extendleft"}


@register
class NonIdempotentCell(Rule):
    code = "NB210"
    name = "non-idempotent-cell"
    summary = "Re-running the cell changes a value again (x = f(x), x += 1, list.append)."
    severity = "info"
    explanation = """
    The cell rebinds or grows a variable that an earlier cell created, using its own previous
    value: `df = df.drop(columns=["id"])`, `n += 1`, `df["price"] = df["price"] / 1000`,
    `results.append(score)`. Running the cell
    twice (which everybody does in a notebook) gives a different state than running it once,
    and a later `KeyError` or a doubled list is the result. Assign to a new name (`df_clean =
    df.drop(...)`) or build the value in the cell that creates it. Re-runs that leave the
    value as it was are not flagged: filters and cleaning (`df = df[df.age > 0]`,
    `df.dropna()`, `df.query("a < 5")`, `df[["a", "b"]]`, `astype`, `sort_values`),
    `pd.get_dummies(df)` without `columns=`, a scaler's `fit_transform(X)`, and
    normalisations by the value's own statistics (`x / x.max()`, `(x - x.mean()) / x.std()`).
    """
    bad_example = """
    # %%
    scores = []
    # %%
    scores.append(0.91)
    """
    good_example = """
    # %%
    scores = []
    scores.append(0.91)
    """

    def check(self, ctx: Context) -> Iterator[Finding]:
        doc = ctx.dataflow.document
        for cell, sym in ctx.parsed():
            inputs = doc.inputs(cell.index)
            if not inputs:
                continue
            written = {r.name: r for r in sym.writes}
            # a name can only be rebuilt from its previous value if the cell reads it, writes
            # it and gets it from an earlier cell: the walk below is for those cells only
            candidates = any(r.name in written and r.name in inputs for r in sym.reads)
            tree = sym.tree if candidates else None
            rebuilt = _rebuilt(tree, sym.source.python) if tree is not None else {}
            reported: set[str] = set()
            for ref in sym.reads:
                name = ref.name
                if name in written and name in inputs and name in rebuilt:
                    if name in sym.functions:  # ``def f`` again: a new function, not f(f)
                        continue
                    reported.add(name)
                    line, col = rebuilt[name]
                    yield Finding(
                        f"'{name}' is rebuilt from its own previous value (it comes from "
                        f"cell {inputs[name] + 1}): re-running this cell changes it again; "
                        "assign the result to a new name",
                        cell=cell.index,
                        line=line,
                        column=col,
                    )
            for name, key, line, col in _column_rebuilds(sym.tree, inputs):
                if name not in reported:
                    reported.add(name)
                    yield Finding(
                        f"'{name}[{key}]' is rebuilt from its own previous value ('{name}' "
                        f"comes from cell {inputs[name] + 1}): re-running this cell changes it "
                        "again; compute it where the column is created, or into a new column",
                        cell=cell.index,
                        line=line,
                        column=col,
                    )
            for name, line, col in _appends(sym.source.python, sym.tree):
                if name in inputs and name not in written and name not in reported:
                    reported.add(name)
                    yield Finding(
                        f"'{name}' (from cell {inputs[name] + 1}) is grown in place here: "
                        "re-running this cell adds the items again",
                        cell=cell.index,
                        line=line,
                        column=col,
                    )


def _statements(body: list[ast.stmt]) -> Iterator[ast.stmt]:
    """Module-scope statements in source order, into the bodies of if/for/while/with/try/match
    but not of functions and classes (their code runs when they are called)."""
    for stmt in body:
        yield stmt
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            continue
        for field in ("body", "handlers", "cases", "orelse", "finalbody"):
            for child in getattr(stmt, field, []):
                if isinstance(child, (ast.ExceptHandler, ast.match_case)):
                    yield from _statements(child.body)
                elif isinstance(child, ast.stmt):
                    yield from _statements([child])


def _bindings(
    stmt: ast.stmt, walrus: bool = True
) -> Iterator[tuple[list[str], ast.expr, ast.Name | None]]:
    """(names bound, the value they get, the target read too by ``x += ...``) of a statement,
    walrus bindings in its own expressions first (they run before it binds; ``walrus=False``
    when the cell has no ``:=``)."""
    for _, value in ast.iter_fields(stmt) if walrus else ():
        for part in value if isinstance(value, list) else [value]:
            if isinstance(part, ast.expr):
                for node in ast.walk(part):
                    if isinstance(node, ast.NamedExpr):
                        yield [node.target.id], node.value, None
    if isinstance(stmt, ast.Assign):
        names = [n.id for t in stmt.targets for n in ast.walk(t) if isinstance(n, ast.Name)]
        yield names, stmt.value, None
    elif isinstance(stmt, ast.AnnAssign) and stmt.value is not None:
        if isinstance(stmt.target, ast.Name):
            yield [stmt.target.id], stmt.value, None
    elif isinstance(stmt, ast.AugAssign) and isinstance(stmt.target, ast.Name):
        yield [stmt.target.id], stmt.value, stmt.target


def _rebuilt(tree: ast.Module, python: str) -> dict[str, tuple[int, int]]:
    """Names the cell (its Python text ``python``) binds to a value computed from their own
    previous value, directly (``x = f(x)``, ``n += 1``) or through names derived from it,
    with where it reads that."""
    derived: dict[str, dict[str, tuple[int, int]]] = {}  # name -> previous values it holds
    found: dict[str, tuple[int, int]] = {}
    walrus = ":=" in python
    for stmt in _statements(tree.body):
        for names, value, also_read in _bindings(stmt, walrus):
            nodes = list(ast.walk(value))
            local = _local_names(nodes)
            reads = [n for n in nodes if isinstance(n, ast.Name)]
            reads += [also_read] if also_read is not None else []
            origins: dict[str, tuple[int, int]] = {}
            for node in reads:
                loaded = isinstance(node.ctx, ast.Load) and node.id not in local
                if node is not also_read and not loaded:
                    continue
                here = (node.lineno, node.col_offset + 1)
                for origin, pos in derived.get(node.id, {node.id: here}).items():
                    if origin not in origins or pos < origins[origin]:
                        origins[origin] = pos
            for name in names:
                if name in origins and not (also_read is None and _idempotent(value, name)):
                    found.setdefault(name, origins[name])
                derived[name] = origins
    return found


# Methods and functions f with f(f(x)) == f(x) for the usual pandas/numpy/str/sklearn values:
# filtering, cleaning, casting, sorting, scaling. ``drop``, ``set_index``, ``reset_index``,
# ``merge``, ``concat``, ``shift``, ``diff``, ``log``... are not: a second run fails or changes it.
_IDEMPOTENT_METHODS = {
    "abs", "astype", "bfill", "clip", "convert_dtypes", "copy", "drop_duplicates", "dropna",
    "ffill", "fillna", "interpolate",
    "flatten", "infer_objects", "lower", "lstrip", "query", "ravel", "reindex", "rename",
    "reshape", "round", "rstrip", "sort_index", "sort_values", "squeeze", "strip", "upper",
    # holoviews: options and labels set again to the same values
    "instance", "label", "options", "opts", "range", "relabel",
}
_ACCESSORS = {"cat", "dt", "redim", "str"}
_IDEMPOTENT_FUNCTIONS = {
    "abs", "array", "asarray", "float", "get_dummies", "int", "list", "normalize", "set",
    "sorted", "str", "tuple", "unique", "to_datetime", "to_numeric", "DataFrame", "Series",
    # a container of the same kind again: holoviews' Dataset/Points/Table, pathlib's Path
    "Dataset", "Path", "Points", "Table",
}
# transformers whose fit_transform of their own output gives that output again
_IDEMPOTENT_TRANSFORMERS = {
    "StandardScaler", "MinMaxScaler", "MaxAbsScaler", "RobustScaler", "Normalizer",
    "LabelEncoder",
}
# statistics of x: after ``x = (x - x.mean()) / x.std()`` the location is 0 and the scale 1, so a
# re-run keeps x (``x - x.std()`` or ``x / x.var()`` would change it again)
_LOCATIONS = {"max", "mean", "median", "min"}
_SCALES = {*_LOCATIONS, "norm", "std", "sum"}


def _callee(func: ast.expr) -> str | None:
    if isinstance(func, ast.Attribute):
        return func.attr
    return func.id if isinstance(func, ast.Name) else None


def _reads(node: ast.AST, name: str) -> bool:
    return any(isinstance(n, ast.Name) and n.id == name for n in ast.walk(node))


def _only_aggregates(node: ast.AST, name: str, allowed: set[str] = _SCALES) -> bool:
    """Whether every read of ``name`` in ``node`` is inside an ``allowed`` statistic call."""
    if isinstance(node, ast.Call) and _callee(node.func) in allowed:
        return True
    if isinstance(node, ast.Name):
        return node.id != name
    return all(_only_aggregates(child, name, allowed) for child in ast.iter_child_nodes(node))


def _mask(node: ast.expr, name: str) -> bool:
    """A row filter or column list: ``df[df.a > 0]``, ``df[["a", "b"]]``, ``df.loc[m, :]``."""
    if any(
        isinstance(n, ast.Call) and _callee(n.func) in _SCALES and _reads(n, name)
        for n in ast.walk(node)
    ):
        return False  # df[df.a > df.a.mean()] keeps the upper half again on every run
    if isinstance(node, ast.Tuple):
        return all(_mask(e, name) or isinstance(e, ast.Slice) and not _reads(e, name)
                   for e in node.elts)
    if isinstance(node, ast.List):
        return all(isinstance(e, ast.Constant) and isinstance(e.value, str) for e in node.elts)
    if isinstance(node, (ast.Compare, ast.BoolOp)) or (
        isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.Invert, ast.Not))
    ):
        return True
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.BitAnd, ast.BitOr)):
        return True
    return isinstance(node, ast.Call) and _callee(node.func) in {
        "isin", "notna", "notnull", "isna", "isnull", "between", "contains", "startswith",
    }


def _literal_true(node: ast.expr) -> bool:
    return isinstance(node, ast.Constant) and node.value is True


def _idempotent(value: ast.expr, name: str) -> bool:
    """Whether ``name = value`` gives the same ``name`` when run again: ``value`` reads it only
    through operations that return their input unchanged the second time."""
    if isinstance(value, ast.Name):
        return value.id == name
    if isinstance(value, ast.Attribute) and value.attr in _ACCESSORS:
        return _idempotent(value.value, name)  # s.str.strip(): the accessor, then its method
    if not _reads(value, name):
        return False  # rebuilt through a temporary: not judged here
    if isinstance(value, ast.Call):
        args = [*value.args, *(k.value for k in value.keywords)]
        func = value.func
        if isinstance(func, ast.Attribute) and _reads(func.value, name):
            drop = any(k.arg == "drop" and _literal_true(k.value) for k in value.keywords)
            # holoviews' aggregate(function=...) regroups by the key dimensions it keeps
            regroup = func.attr == "aggregate" and any(k.arg == "function" for k in value.keywords)
            return (
                (func.attr in _IDEMPOTENT_METHODS or func.attr == "reset_index" and drop or regroup)
                and _idempotent(func.value, name)
                and all(_only_aggregates(a, name) for a in args)
            )
        if _reads(func, name):
            return False
        callee = _callee(func)
        transformer = (
            callee == "fit_transform"
            and isinstance(func, ast.Attribute)
            and (
                isinstance(func.value, ast.Call)
                and _callee(func.value.func) in _IDEMPOTENT_TRANSFORMERS
                or isinstance(func.value, ast.Name)
                and "scaler" in func.value.id.lower()
            )
        )
        if not (transformer or callee in _IDEMPOTENT_FUNCTIONS):
            return False
        if callee == "get_dummies" and any(k.arg == "columns" for k in value.keywords):
            return False  # the named columns are gone after the first run
        own = [a for a in args if _reads(a, name)]
        return len(own) == 1 and _idempotent(own[0], name)
    if isinstance(value, ast.Subscript):
        target = value.value
        if isinstance(target, ast.Attribute) and target.attr == "loc":
            target = target.value
        # positions (x[1:], x.iloc[1:]) drop rows again on every run; labels and masks do not
        return _idempotent(target, name) and _mask(value.slice, name)
    if isinstance(value, ast.BinOp) and isinstance(value.op, (ast.Sub, ast.Div)):
        allowed = _LOCATIONS if isinstance(value.op, ast.Sub) else _SCALES
        return (
            _idempotent(value.left, name)
            and _reads(value.right, name)
            and _only_aggregates(value.right, name, allowed)
        )
    return False


_COLUMN = "_nbops_column_"


def _is_column(node: ast.AST, name: str, key: ast.Constant) -> bool:
    return (
        isinstance(node, ast.Subscript)
        and isinstance(node.value, ast.Name)
        and node.value.id == name
        and isinstance(node.slice, ast.Constant)
        and type(node.slice.value) is type(key.value)
        and node.slice.value == key.value
    )


def _with_column_named(node: ast.AST, name: str, key: ast.Constant) -> ast.AST:
    """``node`` with every ``name[key]`` replaced by a stand-in name, so that the rules for
    names judge whether ``df["price"] = f(df["price"])`` gives the same column again. Built
    from shallow copies: the cell's tree is shared by every rule (and memoised per content)."""
    if _is_column(node, name, key):
        return ast.copy_location(ast.Name(_COLUMN, ast.Load()), node)
    new = copy.copy(node)
    for field, old in ast.iter_fields(node):
        if isinstance(old, list):
            setattr(new, field, [
                _with_column_named(x, name, key) if isinstance(x, ast.AST) else x for x in old
            ])
        elif isinstance(old, ast.AST):
            setattr(new, field, _with_column_named(old, name, key))
    return new


def _column_rebuilds(
    tree: ast.Module | None, inputs: Mapping[str, int]
) -> Iterator[tuple[str, str, int, int]]:
    """``df["price"] = df["price"] / 1000`` and ``df["n"] += 1`` at module scope, ``df`` one
    of the cell's ``inputs``: (df, the key as written, line, column) when a re-run changes the
    column again."""
    if tree is None:
        return
    for stmt in _statements(tree.body):
        if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1:
            target, value, augmented = stmt.targets[0], stmt.value, False
        elif isinstance(stmt, ast.AugAssign):
            target, value, augmented = stmt.target, stmt.value, True
        else:
            continue
        if not (
            isinstance(target, ast.Subscript)
            and isinstance(target.value, ast.Name)
            and target.value.id in inputs
            and isinstance(target.slice, ast.Constant)
        ):
            continue
        name, key = target.value.id, target.slice
        if not augmented and not any(_is_column(n, name, key) for n in ast.walk(value)):
            continue  # df["a"] = 0 or = df["b"] * 2: the same column on every run
        stand_in = cast(ast.expr, _with_column_named(value, name, key))
        if augmented or not _idempotent(stand_in, _COLUMN):
            yield target.value.id, repr(target.slice.value), stmt.lineno, stmt.col_offset + 1


def _local_names(nodes: list[ast.AST]) -> set[str]:
    """Names a comprehension or lambda among ``nodes`` (a value's, walked) binds for itself."""
    names: set[str] = set()
    for node in nodes:
        if isinstance(node, ast.comprehension):
            names |= {n.id for n in ast.walk(node.target) if isinstance(n, ast.Name)}
        elif isinstance(node, ast.Lambda):
            names |= {a.arg for a in ast.walk(node.args) if isinstance(a, ast.arg)}
    return names


def _appends(python: str, tree: ast.Module | None) -> Iterator[tuple[str, int, int]]:
    """``name.append(...)`` and the like at module scope, also in loops and conditions."""
    if tree is None or not any(f".{m}(" in python for m in _APPENDING):
        return
    for stmt in _statements(tree.body):
        if not isinstance(stmt, ast.Expr) or not isinstance(stmt.value, ast.Call):
            continue
        func = stmt.value.func
        if (
            isinstance(func, ast.Attribute)
            and func.attr in _APPENDING
            and isinstance(func.value, ast.Name)
        ):
            yield func.value.id, stmt.lineno, stmt.col_offset + 1
