"""Write the library module's source from a :class:`~nbops.modularize.plan.ModulePlan`.

Cell code is carried over as text, not re-printed from the AST, so comments and layout
survive: each top-level statement (with the comments above it) is sliced from the cell's
magic-free translation, edited in place (IPython syntax, call sites of functions that gained
parameters, display gating), then hoisted to the module or indented into its step function.
Lines inside multi-line strings are never re-indented (that would change the strings).
"""

from __future__ import annotations

import ast
import io
import json
import re
import textwrap
import tokenize
from dataclasses import dataclass, field
from typing import Literal

from nbops.core.magics import HELP_CALL, PYTHON_CELL_MAGICS, Magic, is_pip_install
from nbops.core.notebook import Cell
from nbops.core.symbols import CellSymbols, classify_call
from nbops.modularize.plan import (
    DROPPED_MAGICS,
    ModulePlan,
    StepSpec,
    bound_by_import_block,
    installed_packages,
    is_import_block,
    local_references,
    names_used,
    normalize_newlines,
    outer_nodes,
    python_lines,
    result_variable,
    value_types,
)
from nbops.modularize.secrets import scrub, secret_edits

__all__ = ["GeneratedModule", "generate_module"]

_SHELL_META = re.compile(r"[|&;<>*?`$(){}\[\]~\\'\"]")

SegmentKind = Literal["import", "def", "body"]


@dataclass
class Segment:
    """A top-level statement group of a cell, edited, with the comments above it."""

    kind: SegmentKind
    text: str  # at indentation 0


@dataclass
class GeneratedModule:
    """The module's text and what code generation learned on the way."""

    source: str
    requirements: list[str] = field(default_factory=list)
    logs: bool = False  # the module logs the notebook's progress prints (``logger.info``)
    # (first line, last line, cell) of each cell's code in ``source`` (1-based lines)
    cell_lines: list[tuple[int, int, int]] = field(default_factory=list)
    # secrets that could not be replaced by a read from the environment: (cell, line, why)
    refusals: list[tuple[int, int | None, str]] = field(default_factory=list)


class _Offsets:
    """Convert ast (line, utf-8 byte column) positions to offsets into the text."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.lines = python_lines(text, keepends=True) or [""]
        self.starts = [0]
        for line in self.lines:
            self.starts.append(self.starts[-1] + len(line))

    def at(self, line: int, col: int) -> int:
        if line - 1 >= len(self.lines):
            return len(self.text)
        raw = self.lines[line - 1].encode("utf-8")
        return self.starts[line - 1] + len(raw[:col].decode("utf-8", "replace"))

    def line_start(self, line: int) -> int:
        return self.starts[min(line - 1, len(self.starts) - 1)]

    def line_end(self, line: int) -> int:
        """Offset of the end of ``line``, before its line break."""
        if line - 1 >= len(self.lines):
            return len(self.text)
        content = self.lines[line - 1].rstrip("\r\n")
        return self.starts[line - 1] + len(content)


Edit = tuple[int, int, str]  # start, end, replacement


def _apply(text: str, base: int, edits: list[Edit]) -> str:
    """Apply the edits falling in ``text`` (which starts at offset ``base``)."""
    end = base + len(text)
    inside = [e for e in edits if base <= e[0] and e[1] <= end]
    for start, stop, new in sorted(inside, key=lambda e: (e[0], e[1]), reverse=True):
        text = text[: start - base] + new + text[stop - base :]
    return text


def _string_lines(text: str) -> set[int]:
    """0-based lines of ``text`` that continue a multi-line string (must not be indented)."""
    inside: set[int] = set()
    try:
        for tok in tokenize.generate_tokens(io.StringIO(text).readline):
            if tok.type == tokenize.STRING and tok.end[0] > tok.start[0]:
                inside.update(range(tok.start[0], tok.end[0]))  # rows are 1-based
            elif tok.type == getattr(tokenize, "FSTRING_MIDDLE", -1) and tok.end[0] > tok.start[0]:
                inside.update(range(tok.start[0], tok.end[0]))  # Python 3.12+ f-strings
    except (tokenize.TokenError, SyntaxError, IndentationError):
        pass
    return inside


def indent(text: str, prefix: str = "    ") -> str:
    """Indent every line except blank ones and those inside multi-line strings."""
    skip = _string_lines(text)
    out = []
    for n, line in enumerate(text.split("\n")):
        if n in skip or not line.strip():
            out.append(line)
            continue
        body = line.lstrip(" \t\f")
        # a form feed in the indentation resets Python's column count: drop it
        out.append(prefix + line[: len(line) - len(body)].replace("\f", "") + body)
    return "\n".join(out)


def _todo(text: str) -> str:
    lines = python_lines(normalize_newlines(scrub(text))) or [""]
    return "\n".join("# TODO(nbops): " + line if i == 0 else "#   " + line for i, line in enumerate(lines))


class _CellWriter:
    """Turns one code cell into segments; records problems and requirements on the way."""

    def __init__(self, gen: _Generator, cell: Cell, symbols: CellSymbols) -> None:
        self.gen = gen
        self.plan = gen.plan
        self.cell = cell
        self.symbols = symbols
        self.text = symbols.source.python
        self.offsets = _Offsets(self.text)
        self.edits: list[Edit] = []
        self.magic_by_line = {m.line: m for m in symbols.source.magics}

    def problem(self, line: int | None, severity: Literal["error", "warning"], msg: str) -> None:
        self.plan.problem(self.cell.index, line, severity, msg)

    # -- secrets ----------------------------------------------------------------------------

    def collect_secret_edits(self, tree: ast.Module) -> None:
        """A secret in the code becomes a read from the environment; one in a comment is
        removed; one that cannot be replaced safely stops the write (``refusals``)."""
        protected = self.cell.index in self.plan.parameter_cells
        found = secret_edits(self.text, tree, self.offsets.at, protected=protected,
                             marked=self.plan.marked.get(self.cell.index, set()))
        for item in found:
            if item.refusal is not None:
                self.gen.refusals.append((self.cell.index, item.line, item.refusal))
                self.problem(item.line, "error", item.refusal)
                continue
            self.edits.extend(item.edits)
            if item.env:
                self.gen.imports_extra.add("import os")
            self.problem(item.line, "error", item.message)

    # -- IPython syntax --------------------------------------------------------------------

    def magic_code(self, magic: Magic, assigned: bool) -> str | None:
        """Python for one magic; None when it is dropped. Records requirements/problems."""
        if magic.kind == "help":
            return None
        if scrub(magic.text) != magic.text:  # never carried over: left as a TODO, redacted
            self.problem(
                magic.line,
                "error",
                "this IPython line holds a secret: it is not carried over (left as a TODO "
                "comment without the secret); set it in the environment, and revoke it",
            )
            return ""
        if is_pip_install(magic) or (
            magic.name in {"pip", "conda", "mamba", "uv", "micromamba"} and "install" in magic.args
        ):
            reqs = installed_packages(magic)
            self.gen.requirements.extend(r for r in reqs if r not in self.gen.requirements)
            return None
        if magic.kind == "shell":
            command = magic.args
            if command and not _SHELL_META.search(command):
                self.gen.imports_extra.add("import subprocess")
                argv = json.dumps(command.split())
                if assigned:
                    return (
                        f"subprocess.run({argv}, capture_output=True, text=True, check=False)"
                        ".stdout.splitlines()"
                    )
                return f"subprocess.run({argv}, check=False)"
            self.problem(magic.line, "error", f"shell command `!{command}` was not translated")
            return ""
        if magic.kind == "cell_magic" and magic.name in PYTHON_CELL_MAGICS:
            return None  # the header; the body is carried over
        if magic.name in DROPPED_MAGICS:
            return None
        if magic.name == "env":
            self.gen.imports_extra.add("import os")
            args = magic.args.strip()
            match = re.match(r"^(\w+)\s*[= ]\s*(.+)$", args)
            if match and not assigned:
                return f"os.environ[{match.group(1)!r}] = {match.group(2).strip()!r}"
            if re.fullmatch(r"\w+", args):
                return f"os.environ.get({args!r})"
            if not args:
                return None
        if magic.name == "cd" and magic.args.strip() and not assigned:
            self.gen.imports_extra.add("import os")
            self.problem(magic.line, "warning", "`%cd` became `os.chdir(...)`: a library should take paths instead")
            return f"os.chdir({magic.args.strip()!r})"
        prefix = "%%" if magic.kind == "cell_magic" else ("" if magic.kind == "automagic" else "%")
        self.problem(
            magic.line,
            "error",
            f"IPython magic `{prefix}{magic.name}` has no Python equivalent here; "
            "it is left as a TODO comment",
        )
        return ""

    def collect_magic_edits(self, tree: ast.Module) -> None:
        top = {id(s) for s in tree.body}
        for node in ast.walk(tree):
            if isinstance(node, ast.Expr):
                value, assigned = node.value, False
            elif isinstance(node, ast.Assign) and len(node.targets) >= 1:
                value, assigned = node.value, True
            else:
                continue
            if not (isinstance(value, ast.Call) and isinstance(value.func, ast.Name)):
                continue
            if not value.func.id.startswith("__nbops_"):
                continue
            magic = self.magic_by_line.get(value.lineno)
            start = self.offsets.at(node.lineno, node.col_offset)
            end = self.offsets.at(node.end_lineno or node.lineno, node.end_col_offset or 0)
            if magic is None or value.func.id == HELP_CALL:
                code = None
            else:
                code = self.magic_code(magic, assigned)
            original = scrub((python_lines(magic.text) or [""])[0]) if magic else ""
            if assigned:
                assert isinstance(node, ast.Assign)
                lhs = self.text[start : self.offsets.at(value.lineno, value.col_offset)]
                if code:
                    self.edits.append((start, end, lhs + code))
                else:
                    self.edits.append((start, end, lhs + "None  # TODO(nbops): " + original))
            elif code:
                self.edits.append((start, end, code))
            elif id(node) in top and code is None:
                # `%%timeit a = 2` translates to `<magic>; a = 2`: drop the `;` too
                rest = self.text[end : self.offsets.line_end(node.end_lineno or node.lineno)]
                if rest.lstrip().startswith(";"):
                    after = rest.lstrip()[1:]
                    end += len(rest) - len(after.lstrip(" \t"))
                self.edits.append((start, end, ""))
            elif code is None:
                self.edits.append((start, end, f"pass  # dropped: {original}"))
            else:
                self.edits.append((start, end, f"pass  # TODO(nbops): {original}"))

    # -- functions that gained parameters ------------------------------------------------------

    def collect_call_edits(self, tree: ast.Module) -> None:
        needs = {n: f.new_parameters for n, f in self.plan.functions.items() if f.new_parameters}
        if not needs:
            return
        callee_of: dict[int, ast.Call] = {}
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
                callee_of[id(node.func)] = node
        shadowed = local_references(tree, set(needs))
        # inside a hoisted function the names are the notebook's (its own parameters); in a
        # step they are the step's locals (snake_case)
        hoisted = self.plan.hoisted.get(self.cell.index, set())
        in_hoisted = {
            id(node) for stmt in tree.body if id(stmt) in hoisted for node in ast.walk(stmt)
        }

        def value(name: str, node: ast.AST) -> str:
            return name if id(node) in in_hoisted else self.plan.local(name)

        for node in ast.walk(tree):
            if not (isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load)):
                continue
            if id(node) in shadowed:
                continue  # a nested function's own name, not the module-level one
            extra = needs.get(node.id)
            if not extra:
                continue
            call = callee_of.get(id(node))
            if call is not None:
                given = {k.arg for k in call.keywords}
                kws = [f"{p}={value(p, node)}" for p in extra if p not in given]
                if not kws:
                    continue
                end = self.offsets.at(call.end_lineno or call.lineno, call.end_col_offset or 0) - 1
                before = self.text[: end].rstrip()
                sep = "" if before.endswith(("(", ",")) else ", "
                self.edits.append((end, end, sep + ", ".join(kws)))
            else:
                start = self.offsets.at(node.lineno, node.col_offset)
                stop = self.offsets.at(node.end_lineno or node.lineno, node.end_col_offset or 0)
                self.gen.imports_extra.add("import functools")
                partial_kws = ", ".join(f"{p}={value(p, node)}" for p in extra)
                self.edits.append((start, stop, f"functools.partial({node.id}, {partial_kws})"))

    def collect_rename_edits(self, tree: ast.Module) -> None:
        """Rename data names that shadow builtins from their first binding on, and data
        names that are not snake_case everywhere in the step (not a nested function's own
        local of that name)."""
        plan = self.plan
        if not plan.renamed and not plan.snake:
            return
        hoisted = plan.hoisted.get(self.cell.index, set()) | plan.marked.get(self.cell.index, set())
        own_locals = local_references(tree, set(plan.snake)) if plan.snake else set()
        for stmt in tree.body:
            if id(stmt) in hoisted:
                continue  # module level, or a marked parameter the step takes as an argument
            for node in ast.walk(stmt):
                if not isinstance(node, ast.Name):
                    continue
                if node.id in plan.snake and id(node) not in own_locals:
                    start = self.offsets.at(node.lineno, node.col_offset)
                    stop = self.offsets.at(node.end_lineno or node.lineno, node.end_col_offset or 0)
                    self.edits.append((start, stop, plan.snake[node.id]))
                    continue
                if node.id not in plan.renamed:
                    continue
                cell, line, column = plan.first_binding[node.id]
                here = (self.cell.index, node.lineno, node.col_offset + 1)
                if here < (cell, line, column):
                    continue
                start = self.offsets.at(node.lineno, node.col_offset)
                stop = self.offsets.at(node.end_lineno or node.lineno, node.end_col_offset or 0)
                self.edits.append((start, stop, plan.renamed[node.id]))

    def collect_header_edits(self, stmt: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        extra = self.plan.functions[stmt.name].new_parameters
        if not extra:
            return
        start = self.offsets.at(stmt.lineno, stmt.col_offset)
        tokens = tokenize.generate_tokens(io.StringIO(self.text[start:]).readline)
        depth = 0
        colon: int | None = None
        local = _Offsets(self.text[start:])
        for tok in tokens:
            if tok.type == tokenize.OP:
                if tok.string in "([{":
                    depth += 1
                elif tok.string in ")]}":
                    depth -= 1
                elif tok.string == ":" and depth == 0:
                    colon = start + local.starts[tok.start[0] - 1] + tok.start[1]
                    break
        if colon is None:
            return
        args = ast.arguments(
            posonlyargs=stmt.args.posonlyargs,
            args=stmt.args.args,
            vararg=stmt.args.vararg,
            kwonlyargs=[*stmt.args.kwonlyargs, *(ast.arg(arg=p) for p in extra)],
            kw_defaults=[*stmt.args.kw_defaults, *(None for _ in extra)],
            kwarg=stmt.args.kwarg,
            defaults=stmt.args.defaults,
        )
        head = "async def" if isinstance(stmt, ast.AsyncFunctionDef) else "def"
        returns = f" -> {ast.unparse(stmt.returns)}" if stmt.returns is not None else ""
        self.edits.append((start, colon, f"{head} {stmt.name}({ast.unparse(args)}){returns}"))

    # -- segments ----------------------------------------------------------------------------

    def segments(self) -> list[Segment]:
        symbols = self.symbols
        source = symbols.source
        if source.cell_magic is not None and not source.body_is_python:
            if self.cell.index in self.plan.sliced.explored:
                return []  # %%html, %%javascript...: the slim notebook shows it
            return self.opaque_cell(source.cell_magic)
        tree = symbols.tree
        if tree is None:
            # it does not parse, or parses but compiles only as a fragment (`break`)
            header = "cell is not valid Python on its own (see the plan's problems):\n"
            return [Segment("body", _todo(header + self.cell.source) + "\npass")]
        self.collect_secret_edits(tree)
        self.collect_magic_edits(tree)
        self.collect_call_edits(tree)
        self.collect_annotation_edits(tree)
        self.collect_rename_edits(tree)
        hoisted = self.plan.hoisted.get(self.cell.index, set())
        sliced = self.plan.sliced
        if self.cell.index in sliced.explored:
            slim = {id(stmt) for stmt in tree.body if id(stmt) not in hoisted}
        else:
            slim = sliced.slim_statements(self.cell.index)
        captured = sliced.captured.get(self.cell.index)
        if captured is not None:  # the cell's shown value, kept under a name
            stmt = next(s for s in tree.body if id(s) == captured[0])
            start = self.offsets.at(stmt.lineno, stmt.col_offset)
            self.edits.append((start, start, f"{captured[1]} = "))
        library = [s for s in tree.body if id(s) not in hoisted and id(s) not in slim]
        self.collect_display_edits(library, {captured[0]} if captured else set())
        for stmt in tree.body:
            if id(stmt) in hoisted and isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
                self.collect_header_edits(stmt)
            elif id(stmt) in self.plan.marked.get(self.cell.index, set()):
                # a marked parameter: the step takes it as an argument with this default
                start = self.offsets.at(stmt.lineno, stmt.col_offset)
                self.edits.append((start, self.offsets.line_end(stmt.end_lineno or stmt.lineno), ""))

        # statements sharing a line (a; b) form one group
        groups: list[list[ast.stmt]] = []
        for stmt in tree.body:
            first = min([stmt.lineno] + [d.lineno for d in getattr(stmt, "decorator_list", [])])
            if groups and first <= (groups[-1][-1].end_lineno or groups[-1][-1].lineno):
                groups[-1].append(stmt)
            else:
                groups.append([stmt])
        out: list[Segment] = []
        prev_end = 0
        for group in groups:
            end_line = group[-1].end_lineno or group[-1].lineno
            base = self.offsets.line_start(prev_end + 1)
            stop = self.offsets.line_end(end_line)
            prev_end = end_line
            if all(id(stmt) in slim for stmt in group):
                continue  # shown by the slim notebook (with the comments above it)
            text = self.text[base:stop]
            kind: SegmentKind = "body"
            if len(group) == 1 and id(group[0]) in hoisted:
                kind = "import" if is_import_block(group[0]) else "def"
            text = normalize_newlines(_apply(text, base, self.edits))
            if not text.strip():
                continue
            out.append(Segment(kind, text.strip("\n")))
        tail = self.text[self.offsets.line_start(prev_end + 1) :]
        if tail.strip() and out and not slim:
            out[-1].text += "\n" + normalize_newlines(scrub(tail)).rstrip()
        return out

    def collect_annotation_edits(self, tree: ast.Module) -> None:
        """``x: int = 2`` where ``x`` is module state (a function assigns it through
        ``global``): the step declares ``x`` global, and a global cannot be annotated, so the
        annotation goes (``x = 2``; a bare ``x: int`` does nothing at run time: ``pass``)."""
        shared = self.plan.module_globals
        if not shared:
            return
        hoisted = self.plan.hoisted.get(self.cell.index, set())
        for stmt in tree.body:
            if id(stmt) in hoisted:
                continue
            for node in outer_nodes(stmt):
                if not (
                    isinstance(node, ast.AnnAssign)
                    and isinstance(node.target, ast.Name)
                    and node.target.id in shared
                ):
                    continue
                start = self.offsets.at(node.lineno, node.col_offset)
                if node.value is None:
                    stop = self.offsets.at(node.end_lineno or node.lineno, node.end_col_offset or 0)
                    self.edits.append((start, stop, "pass"))
                else:
                    stop = self.offsets.at(node.value.lineno, node.value.col_offset)
                    self.edits.append((start, stop, f"{node.target.id} = "))

    def collect_display_edits(self, library: list[ast.stmt], keep: set[int]) -> None:
        """Library code shows nothing: a ``print`` becomes a log record (the slim notebook
        shows those), other displays and plots left inside library code are removed (with a
        warning: move them to a cell of their own), a bare value nothing shows is removed."""
        removed: set[int] = set()
        # a figure the cell writes to a file is the cell's result: its drawing stays
        draws_file = any(
            isinstance(node, ast.Call)
            and (node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")) == "savefig"
            for top in library
            for node in outer_nodes(top)
        )
        for top in library:
            for node in outer_nodes(top):
                if not isinstance(node, ast.Expr) or id(node) in keep:
                    continue
                value = node.value
                if isinstance(value, ast.Call):
                    if isinstance(value.func, ast.Name) and value.func.id.startswith("__nbops_"):
                        continue
                    effect = classify_call(value)
                    if effect is not None and effect[0] == "print" and self.log_call(value):
                        continue
                    if effect is None or effect[0] not in ("plot", "display", "print"):
                        continue
                    if draws_file and effect[0] == "plot":
                        continue
                    self.problem(
                        node.lineno,
                        "warning",
                        f"`{ast.unparse(value.func)}(...)` inside library code is left out of the "
                        "module (the library shows nothing); put the display in a cell of its own "
                        "to keep it in the slim notebook",
                    )
                elif isinstance(value, (ast.Constant, ast.Await, ast.Yield, ast.YieldFrom, ast.NamedExpr)):
                    continue  # a docstring-like constant, or an expression that does something
                removed.add(id(node))
        if not removed:
            return
        # a block left empty keeps a `pass`; a statement sharing its line is kept
        blocks: list[list[ast.stmt]] = [library]
        for top in library:
            for node in outer_nodes(top):
                for attr in ("body", "orelse", "finalbody"):
                    body = getattr(node, attr, None)
                    if isinstance(body, list) and body and isinstance(body[0], ast.stmt):
                        blocks.append(body)
        for block in blocks:
            gone = [stmt for stmt in block if id(stmt) in removed and self.alone_on_lines(stmt, block)]
            if not gone:
                continue
            for n, stmt in enumerate(gone):
                start = self.offsets.line_start(stmt.lineno)
                stop = self.offsets.line_end(stmt.end_lineno or stmt.lineno)
                if n == 0 and len(gone) == len(block) and block is not library:
                    head = self.offsets.at(stmt.lineno, stmt.col_offset)
                    self.edits = [e for e in self.edits if not (head <= e[0] and e[1] <= stop)]
                    self.edits.append((head, stop, "pass"))
                    continue
                self.edits = [e for e in self.edits if not (start <= e[0] and e[1] <= stop)]
                if block is library or start == 0:  # a segment of its own: left empty
                    self.edits.append((start, stop, ""))
                else:  # with the line break before it (its segment ends at its line)
                    self.edits.append((start - 1, stop, ""))

    def alone_on_lines(self, stmt: ast.stmt, block: list[ast.stmt]) -> bool:
        """True when no other statement of ``block`` shares a line with ``stmt`` and the
        statement is not on the line of its block's header (``for x in y: print(x)``)."""
        lines = range(stmt.lineno, (stmt.end_lineno or stmt.lineno) + 1)
        if any(other is not stmt and (other.lineno in lines or (other.end_lineno or other.lineno) in lines) for other in block):
            return False
        before = self.text[self.offsets.line_start(stmt.lineno) : self.offsets.at(stmt.lineno, stmt.col_offset)]
        return not before.strip()

    def log_call(self, call: ast.Call) -> bool:
        """Turn ``print(...)`` into ``logger.info(...)``; False when it cannot say the same
        (``sep``/``end``/``file``, starred arguments)."""
        if not (isinstance(call.func, ast.Name) and call.func.id == "print"):
            return False
        if any(k.arg != "flush" for k in call.keywords) or any(isinstance(a, ast.Starred) for a in call.args):
            return False
        logger = self.gen.logger
        self.gen.imports_extra.add("import logging")
        self.gen.logs = True
        func_start = self.offsets.at(call.func.lineno, call.func.col_offset)
        func_end = self.offsets.at(call.func.end_lineno or call.func.lineno, call.func.end_col_offset or 0)
        self.edits.append((func_start, func_end, f"{logger}.info"))
        for keyword in call.keywords:  # flush=...: a log record is written at once
            k_start = self.offsets.at(keyword.lineno, keyword.col_offset)
            k_end = self.offsets.at(keyword.end_lineno or keyword.lineno, keyword.end_col_offset or 0)
            before = self.text[:k_start].rstrip()
            cut = len(before) - 1 if before.endswith(",") else k_start
            self.edits.append((cut, k_end, ""))
        args = call.args
        single_text = len(args) == 1 and (
            isinstance(args[0], ast.JoinedStr)
            or (isinstance(args[0], ast.Constant) and isinstance(args[0].value, str))
        )
        if not single_text:
            paren = func_end
            while paren < len(self.text) and self.text[paren] != "(":
                paren += 1
            fmt = json.dumps(" ".join(["%s"] * len(args))) if args else '""'
            self.edits.append((paren + 1, paren + 1, fmt + (", " if args else "")))
        return True

    def opaque_cell(self, magic: Magic) -> list[Segment]:
        """A cell whose body is not Python (``%%bash``, ``%%writefile``, ``%%html`` ...)."""
        body = "\n".join(python_lines(self.cell.source)[1:])
        if magic.name == "writefile" and scrub(body) != body:
            self.problem(
                1,
                "error",
                "this `%%writefile` cell holds a secret: it is left as a TODO comment without "
                "the secret (write the file from the environment instead, and revoke it)",
            )
            return [Segment("body", _todo(self.cell.source))]
        if magic.name == "writefile":
            words = magic.args.split()
            append = "-a" in words or "--append" in words
            target = next((w for w in words if not w.startswith("-")), None)
            if target:
                self.gen.imports_extra.add("import pathlib")
                mode = '"a"' if append else '"w"'
                text = (
                    f"with pathlib.Path({target!r}).open({mode}, encoding=\"utf-8\") as _nb_file:\n"
                    f"    _nb_file.write({(body + chr(10))!r})"
                )
                return [Segment("body", text)]
        if magic.name in DROPPED_MAGICS:
            return []
        self.problem(
            1, "error", f"`%%{magic.name}` cell has no Python equivalent; it is left as a TODO comment"
        )
        return [Segment("body", _todo(self.cell.source))]


class _Generator:
    def __init__(self, plan: ModulePlan, module: str, package: str, notebook_label: str) -> None:
        self.plan = plan
        self.module = module
        self.package = package
        self.notebook_label = notebook_label
        self.requirements: list[str] = []
        self.imports_extra: set[str] = set()
        self.refusals: list[tuple[int, int | None, str]] = []
        # names the module invents never shadow the notebook's (a user's `def show`)
        self.logger = plan.free_name("logger")  # where the notebook's progress prints go
        self.logs = False
        self.nb_undefined = plan.free_name("_nb_undefined")
        # the decorator of the steps' result dataclasses (the notebook may own `dataclass`)
        self.dataclass = "dataclass" if "dataclass" not in plan.names else plan.free_name("_nb_dataclass")
        # run()'s own names: a step's returned value of that name gets another local there
        self.run_names = {
            "params", "show", "on_step", "unknown", "_params", "_report", "PARAMETERS",
            "asyncio", self.nb_undefined, *(step.name for step in plan.steps),
        }  # fmt: skip
        self.cell_spans: dict[str, dict[int, tuple[int, int]]] = {}
        # the known type of each value the steps so far returned (annotation text)
        self.types: dict[str, str] = {}

    def run(self) -> GeneratedModule:
        plan = self.plan
        nb = plan.notebook
        imports: list[str] = []
        defs: list[str] = []
        bodies: dict[int, list[Segment]] = {}
        for cell in nb.code_cells:
            symbols = plan.flow.symbols.get(cell.index)
            if symbols is None:
                continue
            segments = _CellWriter(self, cell, symbols).segments()
            if cell.index in plan.parameter_cells:
                imports += [s.text for s in segments if s.kind == "import"]
                continue
            for seg in segments:
                if seg.kind == "import":
                    imports.append(seg.text)
                elif seg.kind == "def":
                    defs.append(seg.text)
                    self.cell_spans[seg.text.strip("\n")] = {cell.index: (1, seg.text.count("\n") + 1)}
                else:
                    bodies.setdefault(cell.index, []).append(seg)

        out = GeneratedModule(source="")
        step_texts = [self.step_function(step, bodies, out) for step in plan.steps]
        runner = self.runner(out)  # before the header: it may need imports (asyncio)
        predict = self.predict_function()
        used = _loaded([*defs, *step_texts, runner, predict, self.parameters_block()])
        # an import only the exploration (now in the slim notebook) reads leaves the module
        imports = [t for t in imports if _import_needed(t, used, plan.sliced.all_reads())]
        header = self.header(imports, out)
        parts = [p.strip("\n") for p in [header, *defs, *step_texts, runner, predict, _MAIN] if p.strip()]
        out.source = "\n\n\n".join(parts) + "\n"
        out.requirements = self.requirements
        out.refusals = self.refusals
        out.logs = self.logs
        # where each cell's code landed, to name the cell when the module does not compile
        line = 1
        for part in parts:
            for index, (first, last) in self.cell_spans.get(part, {}).items():
                out.cell_lines.append((line + first - 1, line + last - 1, index))
            line += part.count("\n") + 3
        return out

    def header(self, imports: list[str], out: GeneratedModule) -> str:
        plan = self.plan
        title = scrub(_notebook_title(plan) or self.module.replace("_", " ").capitalize())
        about = textwrap.fill(
            f"Library code generated by nbops from {self.notebook_label}: one function per "
            "step of the notebook, and `run()`, the pipeline that calls them in order. Run it "
            f"with `python -m {self.package}.{self.module} --help`.",
            width=88,
        )
        doc = _docstring(f"{title}\n\n{about}")
        seen: set[str] = set()
        lines: list[str] = []
        fixed = [
            "from __future__ import annotations",
            "",
            "import argparse",
            "import json",
            "from collections.abc import Callable, Mapping",
            *self.dataclass_import(),
            "from typing import Any",
            *sorted(self.imports_extra),
        ]
        if plan.needs_display_import:
            fixed.append("from IPython.display import display")
        if plan.needs_get_ipython:
            fixed.append("from IPython import get_ipython  # None outside IPython")
        for text in [*plan.extra_imports, *imports]:
            key = "\n".join(
                line.rstrip()
                for line in text.strip().splitlines()
                if not line.strip().startswith("#")
            )
            if key in seen or key.startswith("from __future__"):
                continue  # the module already starts with its own __future__ import
            seen.add(key)
            lines.append(text.strip())
        notebook_imports = [t for t in lines if t.strip() not in fixed]
        params = self.parameters_block()
        reqs = f"REQUIREMENTS: list[str] = {json.dumps(self.requirements)}\n\"\"\"Packages the notebook installed with `pip install` (declare them as dependencies).\"\"\""
        graph = "PIPELINE: dict[str, Any] = " + _py(self.graph(out))
        return "\n\n".join(
            part
            for part in [
                f"{doc}\n\n" + "\n".join(fixed),
                "\n".join(notebook_imports),
                params,
                reqs,
                graph + '\n"""The step graph: steps in order, with their inputs, outputs and parameters."""',
                # module state the steps set through `global`: declared (not bound) for readers
                # and type checkers; reading it before a step sets it is a NameError, as before
                "\n".join(
                    f"{name}: Any  # module state, set by the steps (`global {name}`)"
                    for name in sorted(plan.module_globals)
                ),
                *([f"{self.logger} = logging.getLogger(__name__)"] if self.logs else []),
                _undefined_helper(self.nb_undefined) if any(s.undefined for s in plan.steps) else "",
            ]
            if part.strip()
        )

    def dataclass_import(self) -> list[str]:
        if not any(step.returns for step in self.plan.steps):
            return []
        alias = "" if self.dataclass == "dataclass" else f" as {self.dataclass}"
        return [f"from dataclasses import dataclass{alias}"]

    def parameters_block(self) -> str:
        params = self.plan.parameters
        if all(p.literal for p in params):
            doc = '"""The notebook\'s parameters and their defaults; `run()` takes overrides."""'
            if not any(p.comment for p in params):
                items = ", ".join(f"{json.dumps(p.name)}: {p.default}" for p in params)
                return f"PARAMETERS: dict[str, Any] = {{{items}}}\n{doc}"
            # one entry a line, the comment beside the notebook's value kept as its help
            lines = [
                f"    {json.dumps(p.name)}: {p.default},"
                + (f"  # {_one_line(scrub(p.comment))}" if p.comment else "")
                for p in params
            ]
            return "PARAMETERS: dict[str, Any] = {\n" + "\n".join(lines) + f"\n}}\n{doc}"
        body = "\n".join(f"    {p.name} = {p.default}" for p in params)
        result = ", ".join(f"{json.dumps(p.name)}: {p.name}" for p in params)
        return (
            "def default_parameters() -> dict[str, Any]:\n"
            '    """The notebook\'s parameters cell, evaluated: name -> default value."""\n'
            f"{body}\n    return {{{result}}}\n\n\n"
            "PARAMETERS: dict[str, Any] = default_parameters()\n"
            '"""The notebook\'s parameters and their defaults; `run()` takes overrides."""'
        )

    def graph(self, out: GeneratedModule) -> dict[str, object]:
        plan = self.plan
        provider: dict[str, str] = {}
        steps = []
        for step in plan.steps:
            after = sorted({provider[n] for n in step.inputs if n in provider})
            steps.append(
                {
                    "name": step.name,
                    "title": scrub(step.title),
                    "cells": [c + 1 for c in step.cells],
                    "inputs": list(step.inputs),
                    "parameters": list(step.parameters),
                    # the step function's argument for each parameter (snake_case)
                    "arguments": [plan.local(p) for p in step.parameters],
                    "outputs": list(step.outputs),
                    "results": list(step.results),
                    "returns": step.returns,
                    # values the notebook only showed, named by the module (compared as displays)
                    "captured": [
                        plan.sliced.captured[c][1] for c in step.cells if c in plan.sliced.captured
                    ],
                    "undefined": list(step.undefined),
                    "after": after,
                }
            )
            for n in (*step.outputs, *step.results):
                provider[n] = step.name
        return {
            "notebook": self.notebook_label,
            "module": f"{self.package}.{self.module}",
            "parameters": [p.name for p in plan.parameters],
            "steps": steps,
        }

    def step_function(self, step: StepSpec, bodies: dict[int, list[Segment]], out: GeneratedModule) -> str:
        with_code = [c for c in step.cells if bodies.get(c)]
        cell_texts = ["\n".join(seg.text for seg in bodies[c]) for c in with_code]
        local = self.plan.local
        # annotated where the type is known (an earlier step's value, a literal default)
        args = [local(n) + (f": {self.types[n]}" if n in self.types else "") for n in step.inputs]
        defaults: list[str] = []
        by_name = {p.name: p for p in self.plan.parameters}
        for name in step.parameters:
            param = by_name[name]
            arg = local(name)
            if param.literal:
                kind = _literal_type(param.default)
                defaults.append(f"{arg}: {kind} = {param.default}" if kind else f"{arg}={param.default}")
            else:
                defaults.append(f'{arg}=PARAMETERS["{name}"]')
        signature = [*args, *defaults]
        title = scrub(step.title[:1].upper() + step.title[1:])
        doc_text = title + ("\n\n" + scrub(step.doc) if step.doc else "")
        cells = ", ".join(str(c + 1) for c in step.cells)
        doc_text += f"\n\nNotebook cell{'s' if len(step.cells) > 1 else ''} {cells}."
        body = "\n\n".join(indent(text) for text in cell_texts) or "    pass"
        shared = names_used(self.plan, step.cells, self.plan.module_globals)
        if shared:  # module state a function changes through `global`
            body = f"    global {', '.join(sorted(shared))}\n" + body
        returned = [*step.outputs, *step.results]
        types = value_types(self.plan, step.cells, returned)
        ret, annotation, result_class = "", "", ""
        if step.returns:
            fields = ", ".join(f"{local(n)}={local(n)}" for n in returned)
            ret = f"\n    return {step.returns}({fields})"
            annotation = f" -> {step.returns}"
            result_class = self.result_class(step, types)
        elif returned:
            ret = f"\n    return {local(returned[0])}"
            annotation = f" -> {types[returned[0]]}" if returned[0] in types else ""
        for value in returned:  # what later steps receive
            if value in types:
                self.types[value] = types[value]
            else:
                self.types.pop(value, None)
        head = "async def" if step.is_async else "def"
        top = f"{head} {step.name}({', '.join(signature)}){annotation}:\n{indent(_docstring(doc_text))}\n"
        if shared:
            top += f"    global {', '.join(sorted(shared))}\n"
            body = body.split("\n", 1)[1]
        text = result_class + top + body + ret
        # the lines of each cell's code in this function, for error messages
        spans: dict[int, tuple[int, int]] = {}
        line = result_class.count("\n") + top.count("\n") + 1
        for cell, cell_text in zip(with_code, cell_texts):
            n = cell_text.count("\n") + 1
            spans[cell] = (line, line + n - 1)
            line += n + 1
        self.cell_spans[text.strip("\n")] = spans
        return text

    def result_class(self, step: StepSpec, types: dict[str, str]) -> str:
        """The frozen dataclass ``step`` returns, followed by the blank lines before the step."""
        local = self.plan.local
        fields = "\n".join(f"    {local(n)}: {types.get(n, 'Any')}" for n in [*step.outputs, *step.results])
        return (
            f"@{self.dataclass}(frozen=True)\nclass {step.returns}:\n"
            f'    """What `{step.name}` returns."""\n\n{fields}\n\n\n'
        )

    def run_local(self, name: str) -> str:
        """The local variable holding a step's value ``name`` inside ``run()``: never one of
        the names ``run()`` itself uses (a notebook variable named ``params`` or ``show``)."""
        local = self.plan.local(name)
        if local in self.run_names:
            local = self.plan.free_name(local + "_", self.run_names)
        return local

    def predict_function(self) -> str:
        """``predict(model, frame)``: the notebook's prediction path replayed on raw rows
        (empty when the notebook has none)."""
        path = self.plan.predict
        if path is None:
            return ""
        fitted = "".join(f", {name}" for name in path.fitted)
        args = f"model, frame, *{fitted}" if path.fitted else "model, frame"
        source = self.plan.notebook.cells[path.cell].source
        line = python_lines(source)[path.line - 1].strip()
        rows = f" (the rows of `{path.rows}`)" if path.rows else ""
        needs = (
            f" {', '.join(f'`{n}`' for n in path.fitted)}: the fitted value of that name `run()` returns."
            if path.fitted
            else ""
        )
        doc = "Predict on raw rows, with the notebook's preprocessing.\n\n" + textwrap.fill(
            f"Notebook cell {path.cell + 1} predicts with `{scrub(line)}`{rows}. `frame`: raw "
            f"rows shaped like `{path.frame}`; `model`: `run()`'s `{path.model}`.{needs}",
            width=76,
        )
        doc = doc.replace("\\", "\\\\").replace('"""', "'''").replace("\n", "\n    ")
        return f'def predict({args}):\n    """{doc}\n    """\n    return {path.expression}\n'

    def runner(self, out: GeneratedModule) -> str:
        lines = []
        produced: dict[str, None] = {}
        # where run() holds each value: its local, or an attribute of a step's dataclass
        held: dict[str, str] = {}
        holders: set[str] = set()

        def local(name: str) -> str:
            return held.get(name) or self.run_local(name)

        for step in self.plan.steps:
            args = []
            for name in step.inputs:
                if name in step.undefined:
                    cell = next(
                        (p.cell for p in self.plan.problems if p.message.startswith(f"`{name}`")),
                        None,
                    )
                    args.append(f"{self.nb_undefined}({name!r}, {cell + 1 if cell is not None else 0})")
                else:
                    args.append(local(name))
            args += [f'{self.plan.local(name)}=_params["{name}"]' for name in step.parameters]
            call = f"{step.name}({', '.join(args)})"
            if step.is_async:  # the notebook awaited at top level (IPython's autoawait)
                self.imports_extra.add("import asyncio")
                call = f"asyncio.run({call})"
            returned = [*step.outputs, *step.results]
            if step.returns:
                holder = result_variable(self.plan, step, self.run_names | holders)
                holders.add(holder)
                lines.append(f"{holder} = {call}")
                for n in returned:
                    held[n] = f"{holder}.{self.plan.local(n)}"
            elif returned:
                held.pop(returned[0], None)
                lines.append(f"{local(returned[0])} = {call}")
            else:
                lines.append(call)
            values = ", ".join(f"{json.dumps(n)}: {local(n)}" for n in returned)
            lines.append(f"_report({json.dumps(step.name)}, {{{values}}})")
            for n in returned:
                produced.pop(n, None)
                produced[n] = None
        result = ", ".join(f"{json.dumps(n)}: {local(n)}" for n in produced)
        body = "\n".join(lines)
        return _RUN.format(body=indent(body), result=result)


def _loaded(texts: list[str]) -> set[str] | None:
    """The names the module's code reads; None when some part does not parse alone."""
    names: set[str] = set()
    for text in texts:
        try:
            tree = ast.parse(text)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            return None
        names |= {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
        names |= {n.value.id for n in ast.walk(tree) if isinstance(n, ast.Attribute) and isinstance(n.value, ast.Name)}
    return names


def _import_needed(text: str, used: set[str] | None, slim_reads: set[str]) -> bool:
    """False for an import whose names the module never reads and the slim notebook does
    (it imports them there); an import nothing reads stays (it may be there for its effect)."""
    if used is None:
        return True
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return True
    bound = bound_by_import_block(tree.body[0]) if len(tree.body) == 1 else set()
    if not bound or "*" in bound or bound & used:
        return True
    return not bound & slim_reads


def _literal_type(default: str) -> str | None:
    """``int``, ``float``, ``str`` or ``bool`` for a scalar literal default, else None."""
    try:
        value = ast.literal_eval(default)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return None
    kind = type(value).__name__
    return kind if kind in ("int", "float", "str", "bool") else None


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _py(value: object) -> str:
    """A Python literal for JSON-like data (black lays it out)."""
    return repr(value)


def _docstring(text: str) -> str:
    text = text.strip().replace("\\", "\\\\").replace('"""', '\\"\\"\\"')
    if "\n" in text:
        return f'"""{text}\n"""'
    return f'"""{text}"""'


def _notebook_title(plan: ModulePlan) -> str | None:
    for cell in plan.notebook.cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                m = re.match(r"^\s{0,3}#\s+(.+?)\s*#*\s*$", line)
                if m:
                    return m.group(1)
    return None


def _undefined_helper(undefined: str) -> str:
    """The module's helper for names the notebook reads before defining, under a name the
    notebook does not use (only when a step needs it)."""
    return _UNDEFINED_HELPER.replace("_nb_undefined(", f"{undefined}(")


_UNDEFINED_HELPER = '''
def _nb_undefined(name: str, cell: int) -> Any:
    """Stop where the notebook stops: it reads a name no cell before defines."""
    raise NameError(
        f"name {name!r} is not defined "
        f"(notebook cell {cell} reads it before any cell defines it)"
    )
'''

_RUN = '''
def run(
    params: Mapping[str, Any] | None = None,
    *,
    on_step: Callable[[str, dict[str, Any]], None] | None = None,
) -> dict[str, Any]:
    """Run the pipeline: every step in notebook order.

    ``params`` overrides entries of PARAMETERS; ``on_step(name, values)`` is called after
    each step with what it returned.
    Returns every step's outputs and results by name.
    """
    unknown = sorted(set(params or {{}}) - set(PARAMETERS))
    if unknown:
        raise TypeError(f"unknown parameters: {{', '.join(unknown)}} (known: {{', '.join(PARAMETERS)}})")
    _params = {{**PARAMETERS, **(params or {{}})}}
    _report = on_step or (lambda name, values: None)
{body}
    return {{{result}}}
'''

_MAIN = '''
def _nb_arg_type(default: Any) -> Callable[[str], Any]:
    if isinstance(default, bool):
        return lambda text: text.strip().lower() in ("1", "true", "yes", "on")
    if isinstance(default, (int, float, str)):
        return type(default)
    return json.loads


def main(argv: list[str] | None = None) -> int:
    """Command line: run the pipeline with parameters, print what it computed."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\\n", 1)[0])
    for name, default in PARAMETERS.items():
        flags = dict.fromkeys([f"--{name}", f"--{name.lower().replace('_', '-')}"])
        parser.add_argument(*flags, dest=name, type=_nb_arg_type(default), default=default, help=f"default: {default!r}")
    parser.add_argument("--describe", action="store_true", help="print the step graph as JSON and exit")
    parser.add_argument("--executor", dest="_nb_executor", choices=["local", "dask"], default="local", help="local (default): run(); dask: independent steps at once (nbops[dask])")
    parser.add_argument("--scheduler", dest="_nb_scheduler", metavar="ADDRESS", help="the Dask scheduler (default: a local cluster)")
    args = parser.parse_args(argv)
    if args.describe:
        print(json.dumps(PIPELINE, indent=2))
        return 0
    params = {name: getattr(args, name) for name in PARAMETERS}
    if args._nb_executor == "dask":
        try:  # nbops and Dask are needed here only
            from nbops import extras
            from nbops.errors import NbopsError, exit_code
            from nbops.run.graph import run_graph
        except ImportError:
            extras = None
        if extras is None or not extras.available("dask"):
            parser.exit(2, "--executor dask needs nbops with Dask: pip install 'nbops[dask]'\\n")
        try:
            results = run_graph(__spec__.name if __spec__ else __name__, params, client=args._nb_scheduler)
        except NbopsError as exc:
            parser.exit(exit_code(exc), f"error: {exc}\\n")
    else:
        if args._nb_scheduler:
            parser.error("--scheduler is for --executor dask")
        results = run(params)
    for name, value in results.items():
        text = repr(value).replace("\\n", " ")
        print(f"{name}: {text[:117] + '...' if len(text) > 120 else text}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
'''


def generate_module(plan: ModulePlan, *, module: str, package: str, notebook_label: str) -> GeneratedModule:
    """The library module's source (unformatted) for ``plan``."""
    return _Generator(plan, module, package, notebook_label).run()
