"""Decide what a notebook becomes in a library: steps, module-level definitions, parameters.

The analysis only reads the notebook (``nbops.core``). It decides, per code cell and top-level
statement, what is *hoisted* to the module (imports, and functions/classes defined once), what
stays in a step's body, which globals a hoisted function reads become explicit parameters,
and which names each step takes, returns and leaves as results. The text is written by
:mod:`nbops.modularize.codegen` from this plan.

Choices (docs/modularize.md):

* A function or class is hoisted when the notebook defines its name once, by one top-level
  ``def``/``class`` and nothing else binds that name. Other definitions stay in their step
  (as closures) and travel between steps as values, like data.
* A hoisted function's data globals (names no import or hoisted definition provides) become
  keyword-only parameters; functions that call or pass it on need them too (transitively).
  A hoisted class must not read data globals (it stays in its step otherwise), and a function
  that assigns a global with ``global x`` stays in its step. What a definition left in its
  step reads from earlier steps becomes that step's inputs (``closures.py``).
* Step outputs are the names later steps read (``nbops.core.sections``); a step's *results*
  are data names it binds that no later step reads or rebinds and that the step shows (a
  displayed or printed value, a plot's data, a logged metric: what the slim notebook shows
  again from them), or that the notebook ends on (bound by its last cell). Loop counters, timers
  and other scratch values never leave their step. A step
  returns one value, or a frozen dataclass ``<Step>Result`` when it returns two or more (never
  a tuple); the pipeline returns every step's values by name.
* Parameters: the ``parameters`` cell, ``# nbops: parameter`` marks, and *proposed* ones: a
  top-level ``NAME = <literal>`` (number, string, boolean, small list/tuple of those) the
  notebook assigns once and reads afterwards, the comment beside it as help. Names bound again
  (loop variables included), changed in place, declared ``global`` or holding secrets are not
  proposed.
* A name a step reads that no earlier cell defines becomes a required input of that step and
  a reported problem (the notebook itself fails there when run top to bottom).
"""

from __future__ import annotations

import ast
import builtins
import keyword
import re
import shlex
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from typing import Literal

from nbops.core.dataflow import CodeCellInput, DataFlow, analyze_notebook
from nbops.core.magics import PLACEHOLDERS, PYTHON_CELL_MAGICS, Magic, is_pip_install
from nbops.core.notebook import Notebook
from nbops.core.sections import PARAMETERS_TAG, Step, plan_steps
from nbops.core.symbols import FunctionInfo, classify_call, is_builtin
from nbops.modularize.closures import closure_inputs
from nbops.modularize.secrets import scrub
from nbops.modularize.slicing import Slice, assign_targets, kernel_state, slice_notebook

__all__ = [
    "FunctionPlan",
    "ModulePlan",
    "Parameter",
    "PredictPath",
    "Problem",
    "StepSpec",
    "installed_packages",
    "is_import_block",
    "make_plan",
    "python_lines",
    "result_classes",
    "result_variable",
    "value_types",
]

Severity = Literal["error", "warning"]

# Names Jupyter provides in every kernel that a library must import or cannot have.
IPYTHON_NAMES = frozenset({"display", "get_ipython", "In", "Out", "_ih", "_oh", "exit", "quit"})
# Magics with no effect on what a script computes: dropped.
DROPPED_MAGICS = frozenset(
    """
    matplotlib pylab load_ext reload_ext unload_ext autoreload aimport config precision
    time timeit prun memit mprun lprun capture who whos who_ls lsmagic magic quickref pwd
    history hist autosave xmode pprint watermark autotime notebook colors pinfo pinfo2
    pdef pdoc psource pfile debug pdb tb doctest_mode automagic autocall autoawait page
    """.split()  # noqa: SIM905 - a word list
)
# What %pylab does to the namespace, as imports.
_PYLAB_IMPORTS = (
    "import matplotlib.pyplot as plt",
    "import numpy as np",
    "from matplotlib.pylab import *  # was %pylab",
)

_LINE_BREAK = re.compile(r"(\r\n|\r|\n)")


def python_lines(text: str, keepends: bool = False) -> list[str]:
    """The lines of ``text`` as Python's tokenizer counts them: only ``\\n``, ``\\r\\n`` and
    ``\\r`` end a line. (``str.splitlines`` also breaks at form feeds, ``\\x85``, ``\\u2028``
    and others, which may sit inside a string literal: splitting there breaks the code.)"""
    parts = _LINE_BREAK.split(text)
    lines = [parts[i] + (parts[i + 1] if keepends else "") for i in range(0, len(parts) - 1, 2)]
    if parts[-1]:
        lines.append(parts[-1])
    return lines


def normalize_newlines(text: str) -> str:
    """``\\r\\n`` and ``\\r`` as ``\\n``: what Python's tokenizer makes of them, also inside
    string literals, so the code means the same."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


# Names the generated module defines itself.
RESERVED = frozenset({"PARAMETERS", "PIPELINE", "REQUIREMENTS", "run", "main", "describe"})


@dataclass(frozen=True)
class Problem:
    """Something that could not be carried over as is; ``cell`` is the 0-based cell index."""

    cell: int | None
    line: int | None
    severity: Severity
    message: str


@dataclass(frozen=True)
class Parameter:
    """A parameter from the notebook's ``parameters`` cell."""

    name: str
    default: str  # the default's source text
    literal: bool  # ast.literal_eval accepts it
    cell: int
    comment: str = ""
    # proposed by nbops: a top-level literal constant the notebook assigns once and reads
    # later (not from a parameters cell nor a ``# nbops: parameter`` mark)
    proposed: bool = False


@dataclass(frozen=True)
class FunctionPlan:
    """A notebook function or class hoisted to the module."""

    name: str
    kind: Literal["function", "class"]
    cell: int
    new_parameters: tuple[str, ...]  # globals it read, now keyword-only parameters


@dataclass(frozen=True)
class StepSpec:
    """One step function of the module."""

    name: str  # the function's name (unique in the module)
    title: str
    cells: tuple[int, ...]
    doc: str
    inputs: tuple[str, ...]  # data from earlier steps (and undefined names), positional
    parameters: tuple[str, ...]  # notebook parameters it reads
    outputs: tuple[str, ...]  # names later steps read
    results: tuple[str, ...]  # names nothing later reads or rebinds
    undefined: tuple[str, ...]  # inputs no cell before defines (required, reported)
    is_async: bool = False  # top-level `await` (IPython's autoawait): an `async def` step
    # the frozen dataclass the step returns when it returns two or more values (its fields:
    # ``outputs`` then ``results``, under their local names); None: one value or none
    returns: str | None = None
    lines: int = 0  # lines of library code (the notebook's, before formatting)
    # cells whose exploration (displays, plots, prints) the slim notebook shows after the step
    exploration: tuple[int, ...] = ()
    # the cells whose code the step function holds (not an imports-only or exploration cell)
    code_cells: tuple[int, ...] = ()


@dataclass(frozen=True)
class PredictPath:
    """The notebook's prediction path, which the module's ``predict(model, frame)`` replays
    (found by :mod:`nbops.modularize.predict`); names are the notebook's."""

    method: str  # predict | predict_proba
    model: str  # the fitted model the notebook predicts with
    frame: str  # the raw frame the path starts from
    rows: str | None  # the split part whose rows the notebook predicted (None: all of ``frame``)
    fitted: tuple[str, ...]  # fitted transformers the path uses: keyword arguments of predict
    predictions: str  # what the notebook bound the prediction to
    expression: str  # the body: an expression over model, frame, the fitted names, PARAMETERS
    cell: int  # 0-based cell of the prediction
    line: int  # 1-based line in that cell


@dataclass
class ModulePlan:
    """Everything the code generator needs, and what the plan JSON reports."""

    notebook: Notebook
    flow: DataFlow
    strategy: str
    steps: list[StepSpec]
    parameters: list[Parameter]
    functions: dict[str, FunctionPlan]  # hoisted, by name
    hoisted: dict[int, set[int]]  # cell -> ids of the top-level statements hoisted from it
    module_names: set[str]  # names bound at module level (imports + hoisted definitions)
    parameter_cells: tuple[int, ...]
    problems: list[Problem] = field(default_factory=list)
    marked: dict[int, set[int]] = field(default_factory=dict)  # cell -> `# nbops: parameter` stmts
    needs_display_import: bool = False
    needs_get_ipython: bool = False
    module_globals: set[str] = field(default_factory=set)  # declared `global` by a function
    extra_imports: list[str] = field(default_factory=list)  # imports a magic stood for
    star_import: bool = False  # a ``from m import *`` is hoisted: unknown names may come from it
    # data names that shadow a builtin (``max = ...``): inside a function such a name would be
    # local everywhere, breaking reads of the builtin before the assignment, so from its first
    # binding on it is renamed (``max_``); ``first_binding`` is (cell, line, column) of that
    renamed: dict[str, str] = field(default_factory=dict)
    # data names that are not snake_case, by their name in the generated functions
    snake: dict[str, str] = field(default_factory=dict)
    first_binding: dict[str, tuple[int, int, int]] = field(default_factory=dict)
    # every identifier the notebook uses (binds, reads, imports, parameters of its functions):
    # names the generator invents (the display flag, helpers, step names) avoid all of them
    names: set[str] = field(default_factory=set)
    # which statements stay in the slim notebook (exploration) and which values are captured
    sliced: Slice = field(default_factory=Slice)
    # the prediction path ``predict(model, frame)`` replays, or why there is none
    predict: PredictPath | None = None
    no_predict: str | None = None

    def free_name(self, base: str, also: Iterable[str] = ()) -> str:
        """``base``, or ``base`` with ``_`` appended until it is none of the notebook's names
        (nor of ``also``)."""
        taken = self.names | set(also)
        name = base
        while name in taken:
            name += "_"
        return name

    def local(self, name: str) -> str:
        """The identifier a data name has inside the generated functions."""
        return self.renamed.get(name) or self.snake.get(name, name)

    def problem(self, cell: int | None, line: int | None, severity: Severity, msg: str) -> None:
        """Record a problem once."""
        item = Problem(cell, line, severity, msg)
        if item not in self.problems:
            self.problems.append(item)


def notebook_names(flow: DataFlow) -> set[str]:
    """Every identifier the notebook's code cells use, in any scope."""
    found: set[str] = set()
    for analysed in flow.symbols.values():
        for magic in analysed.source.magics:
            found.update(magic.assigned_to)
        if analysed.tree is None:
            continue
        for node in ast.walk(analysed.tree):
            if isinstance(node, ast.Name):
                found.add(node.id)
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                found.add(node.name)
            elif isinstance(node, ast.arg):
                found.add(node.arg)
            elif isinstance(node, (ast.Global, ast.Nonlocal)):
                found.update(node.names)
            elif isinstance(node, ast.alias):
                found.add((node.asname or node.name).split(".")[0])
            elif isinstance(node, (ast.ExceptHandler, ast.MatchAs, ast.MatchStar)) and node.name:
                found.add(node.name)
            elif isinstance(node, ast.MatchMapping) and node.rest:
                found.add(node.rest)
    return found


def _is_placeholder_call(node: ast.AST | None) -> bool:
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id in PLACEHOLDERS
    )


def is_import_block(stmt: ast.stmt) -> bool:
    """An import, or ``try: import x / except ImportError: ...`` made only of imports."""
    if isinstance(stmt, (ast.Import, ast.ImportFrom)):
        return True
    if isinstance(stmt, ast.Try) and not stmt.orelse and not stmt.finalbody:
        simple = (ast.Import, ast.ImportFrom, ast.Pass, ast.Assign)
        return all(isinstance(s, (ast.Import, ast.ImportFrom)) for s in stmt.body) and all(
            isinstance(s, simple) for h in stmt.handlers for s in h.body
        )
    return False


def bound_by_import_block(stmt: ast.stmt) -> set[str]:
    """Names an import block binds."""
    names: set[str] = set()
    for node in ast.walk(stmt):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            for alias in node.names:
                if alias.name != "*":
                    names.add(alias.asname or alias.name.split(".")[0])
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
    return names


def _imports_any(stmt: ast.stmt, packages: set[str]) -> bool:
    """True when the import block imports one of ``packages`` (top-level module names)."""
    for node in ast.walk(stmt):
        if isinstance(node, ast.Import):
            roots = [alias.name.split(".")[0] for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            roots = [node.module.split(".")[0]]
        else:
            continue
        if any(root.lower() in packages for root in roots):
            return True
    return False


def _star_import(stmt: ast.stmt) -> bool:
    """True when the import block holds a ``from m import *`` (allowed at module level only)."""
    return any(
        isinstance(node, ast.ImportFrom) and any(alias.name == "*" for alias in node.names)
        for node in ast.walk(stmt)
    )


def _reads_any(stmt: ast.stmt, names: set[str]) -> bool:
    """True when ``stmt`` reads one of ``names`` anywhere (also in nested bodies)."""
    return bool(names) and any(
        isinstance(node, ast.Name) and node.id in names and isinstance(node.ctx, ast.Load)
        for node in ast.walk(stmt)
    )


def _definition_time_names(stmt: ast.stmt) -> list[str]:
    """Names a ``def``/``class`` statement reads when it runs (not when it is called):
    decorators, defaults, and for a class its bases and body outside methods."""
    nodes: list[ast.AST] = []
    if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
        nodes += stmt.decorator_list + stmt.args.defaults
        nodes += [d for d in stmt.args.kw_defaults if d is not None]
    elif isinstance(stmt, ast.ClassDef):
        nodes += stmt.decorator_list + stmt.bases + [k.value for k in stmt.keywords]
        for item in stmt.body:
            if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)):
                nodes += item.decorator_list + item.args.defaults
                nodes += [d for d in item.args.kw_defaults if d is not None]
            else:
                nodes.append(item)
    own: set[str] = set()  # a class body reads its own attributes first
    if isinstance(stmt, ast.ClassDef):
        own = {
            sub.id
            for item in stmt.body
            for sub in ast.walk(item)
            if isinstance(sub, ast.Name) and isinstance(sub.ctx, ast.Store)
        } | {item.name for item in stmt.body if isinstance(item, (ast.FunctionDef, ast.ClassDef))}
    names: list[str] = []
    for node in nodes:
        for sub in ast.walk(node):
            if isinstance(sub, ast.Name) and isinstance(sub.ctx, ast.Load) and sub.id not in own:
                names.append(sub.id)
    return names


def local_references(tree: ast.AST, names: set[str]) -> set[int]:
    """``id()`` of the Name nodes among ``names`` that refer to a binding local to an
    enclosing function (a parameter, an assignment or a nested ``def`` of the same name)."""
    found: set[int] = set()

    def bound_in(body: list[ast.stmt]) -> set[str]:
        bound: set[str] = set()
        stack: list[ast.AST] = list(body)
        while stack:
            node = stack.pop()
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                bound.add(node.name)
                continue
            if isinstance(node, ast.Lambda):
                continue
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                bound.add(node.id)
            stack.extend(ast.iter_child_nodes(node))
        return bound

    def visit(node: ast.AST, local: frozenset[str]) -> None:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            args = node.args
            outer: list[ast.AST] = [*args.defaults, *(d for d in args.kw_defaults if d is not None)]
            if not isinstance(node, ast.Lambda):
                outer += node.decorator_list
            for item in outer:
                visit(item, local)
            params = {a.arg for a in [*args.posonlyargs, *args.args, *args.kwonlyargs]}
            params |= {a.arg for a in (args.vararg, args.kwarg) if a is not None}
            if isinstance(node, ast.Lambda):
                inner = local | (params & names)
                visit(node.body, frozenset(inner))
                return
            inner = local | ((params | bound_in(node.body)) & names)
            for item in node.body:
                visit(item, frozenset(inner))
            return
        if isinstance(node, ast.Name) and node.id in local:
            found.add(id(node))
        for child in ast.iter_child_nodes(node):
            visit(child, local)

    visit(tree, frozenset())
    return found


def _store_names(tree: ast.AST, skip: ast.AST | None = None) -> set[str]:
    """Module-scope names bound anywhere in ``tree`` outside ``skip`` (rough, for conflicts)."""
    found: set[str] = set()
    stack: list[ast.AST] = [tree]
    while stack:
        node = stack.pop()
        if node is skip:
            continue
        if isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
            found.add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            found.add(node.name)
            continue  # their bodies are their own scope
        elif isinstance(node, (ast.Lambda, ast.ListComp, ast.SetComp, ast.DictComp)):
            continue
        stack.extend(ast.iter_child_nodes(node))
    return found


def _parameters(nb: Notebook, flow: DataFlow, cells: tuple[int, ...], plan_problems: list[Problem]) -> list[Parameter]:
    params: dict[str, Parameter] = {}
    for index in cells:
        symbols = flow.symbols.get(index)
        if symbols is None or symbols.tree is None:
            continue
        lines = python_lines(symbols.source.python)
        for stmt in symbols.tree.body:
            target: ast.expr | None = None
            value: ast.expr | None = None
            if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1:
                target, value = stmt.targets[0], stmt.value
            elif isinstance(stmt, ast.AnnAssign) and stmt.value is not None:
                target, value = stmt.target, stmt.value
            if isinstance(target, ast.Name) and value is not None:
                text = _default_text(symbols.source.python, value)
                try:
                    ast.literal_eval(value)
                    literal = True
                except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
                    literal = False
                line = lines[stmt.lineno - 1] if stmt.lineno <= len(lines) else ""
                comment = line.split("#", 1)[1].strip() if "#" in line[stmt.end_col_offset :] else ""
                params[target.id] = Parameter(target.id, text, literal, index, comment)
            elif not is_import_block(stmt) and not (
                isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant)
            ):
                plan_problems.append(
                    Problem(
                        index,
                        stmt.lineno,
                        "warning",
                        "the parameters cell holds code other than `name = value` assignments; "
                        "only the assignments become parameters",
                    )
                )
    return list(params.values())


def _default_text(source: str, value: ast.expr) -> str:
    """A parameter's default as source text that stands on its own: a bare tuple
    (``start = 255, 0, 0``) gets parentheses, or it would split the dict entry or signature."""
    text = ast.get_source_segment(source, value) or ast.unparse(value)
    if isinstance(value, ast.Tuple):
        try:
            enclosed = text[:1] == "(" and text[-1:] == ")" and (
                ast.dump(ast.parse(text[1:-1], mode="eval").body) == ast.dump(value)
            )
        except SyntaxError:
            enclosed = False
        if not enclosed:
            text = f"({text})"
    return text


_MARK = re.compile(r"#\s*nbops:\s*param(?:eter)?\b:?\s*(.*)$")


def _marked_parameters(
    nb: Notebook, flow: DataFlow, parameter_cells: tuple[int, ...], taken: set[str]
) -> list[tuple[Parameter, ast.stmt]]:
    """``name = <literal>  # nbops: parameter [help]`` lines of other cells: parameters too."""
    found: list[tuple[Parameter, ast.stmt]] = []
    for cell in nb.code_cells:
        symbols = flow.symbols.get(cell.index)
        if cell.index in parameter_cells or symbols is None or symbols.tree is None:
            continue
        lines = python_lines(symbols.source.python)
        for stmt in symbols.tree.body:
            if not (
                isinstance(stmt, ast.Assign)
                and len(stmt.targets) == 1
                and isinstance(stmt.targets[0], ast.Name)
                and stmt.lineno == stmt.end_lineno
            ):
                continue
            mark = _MARK.search(lines[stmt.lineno - 1][stmt.end_col_offset or 0 :])
            name = stmt.targets[0].id
            if mark is None or name in taken:
                continue
            try:
                ast.literal_eval(stmt.value)
            except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
                continue
            text = _default_text(symbols.source.python, stmt.value)
            found.append((Parameter(name, text, True, cell.index, mark.group(1).strip()), stmt))
            taken.add(name)
    return found


# names of values that are secrets whatever they hold: never proposed as parameters
_SECRET_NAME = re.compile(r"(?i)(secret|token|passw|api_?key|credential|private_?key)")
_MAX_ITEMS = 10  # a "small" list or tuple


def _constant(value: ast.expr) -> bool:
    """A number, string (printable, one line), boolean, or a small list/tuple of those."""
    try:
        found = ast.literal_eval(value)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return False
    items = found if isinstance(found, (list, tuple)) else [found]
    if isinstance(found, (list, tuple)) and not 0 < len(found) <= _MAX_ITEMS:
        return False
    return all(
        type(item) in (int, float, bool) or (type(item) is str and item.isprintable() and len(item) <= 200)
        for item in items
    )


def _bindings(flow: DataFlow) -> tuple[dict[str, int], set[str]]:
    """How many times each name is bound at module scope (assignments, loop and ``with``
    targets, imports, definitions, ``del``), and the names changed in place or declared
    ``global`` somewhere."""
    counts: dict[str, int] = {}
    changed: set[str] = set()
    for analysed in flow.symbols.values():
        changed |= {r.name for r in analysed.mutations}
        for info in analysed.functions.values():
            changed.update(info.globals_declared)
        if analysed.tree is None:
            continue
        for magic in analysed.source.magics:
            for name in magic.assigned_to:
                counts[name] = counts.get(name, 0) + 1
        stack: list[ast.AST] = [analysed.tree]
        while stack:
            node = stack.pop()
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                counts[node.name] = counts.get(node.name, 0) + 1
                continue
            if isinstance(node, (ast.Lambda, ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)):
                continue
            if isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
                counts[node.id] = counts.get(node.id, 0) + 1
            elif isinstance(node, ast.alias):
                bound = (node.asname or node.name).split(".")[0]
                counts[bound] = counts.get(bound, 0) + 1
            elif isinstance(node, ast.AugAssign) and isinstance(node.target, ast.Name):
                counts[node.target.id] = counts.get(node.target.id, 0) + 1
            stack.extend(ast.iter_child_nodes(node))
    return counts, changed


def _proposed_parameters(
    nb: Notebook, flow: DataFlow, parameter_cells: tuple[int, ...], taken: set[str], module_names: set[str]
) -> list[tuple[Parameter, ast.stmt]]:
    """Top-level ``NAME = <literal>`` statements the notebook runs once and reads afterwards,
    outside the parameters cell: proposed parameters, the comment beside them as help."""
    counts, changed = _bindings(flow)
    reads: dict[str, list[tuple[int, int]]] = {}  # name -> (cell, line) of each read
    for index, analysed in flow.symbols.items():
        if analysed.tree is None:
            continue
        for node in ast.walk(analysed.tree):
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
                reads.setdefault(node.id, []).append((index, node.lineno))
    found: list[tuple[Parameter, ast.stmt]] = []
    for cell in nb.code_cells:
        symbols = flow.symbols.get(cell.index)
        if cell.index in parameter_cells or symbols is None or symbols.tree is None:
            continue
        if symbols.source.cell_magic is not None and not symbols.source.body_is_python:
            continue
        text = symbols.source.python
        lines = python_lines(text)
        for stmt in symbols.tree.body:
            if not (
                isinstance(stmt, ast.Assign)
                and len(stmt.targets) == 1
                and isinstance(stmt.targets[0], ast.Name)
            ):
                continue
            name = stmt.targets[0].id
            where = reads.get(name, [])
            end = stmt.end_lineno or stmt.lineno
            if (
                name in taken
                or name in module_names
                or name.startswith("_")
                or name in RESERVED
                or name in IPYTHON_NAMES
                or _shadows_builtin(name)
                or _SECRET_NAME.search(name)
                or counts.get(name, 0) != 1
                or name in changed
                or not _constant(stmt.value)
                or not where  # nothing reads it
                or any((c, line) <= (cell.index, end) for c, line in where)  # read before
            ):
                continue
            source = "\n".join(lines[stmt.lineno - 1 : end])
            if scrub(source) != source:
                continue  # a secret: secrets.py replaces it by a read from the environment
            rest = lines[end - 1][stmt.end_col_offset or 0 :] if end <= len(lines) else ""
            comment = rest.split("#", 1)[1].strip() if "#" in rest else ""
            default = _default_text(text, stmt.value)
            found.append((Parameter(name, default, True, cell.index, comment, proposed=True), stmt))
            taken.add(name)
    return found


def installed_packages(magic: Magic) -> list[str]:
    """Packages a ``pip install`` / ``conda install`` line installs."""
    try:
        words = shlex.split(magic.args)
    except ValueError:
        words = magic.args.split()
    if magic.kind == "shell" or words[:1] in (["pip"], ["pip3"], ["conda"], ["mamba"], ["uv"]):
        words = words[1:] if magic.kind == "shell" or magic.name not in words[:1] else words
    if words[:1] == ["pip"]:
        words = words[1:]
    if "install" in words:
        words = words[words.index("install") + 1 :]
    found: list[str] = []
    skip_next = False
    for word in words:
        if skip_next:
            skip_next = False
            continue
        if word.startswith("-"):
            skip_next = word in {"-r", "-c", "-e", "-i", "--index-url", "--extra-index-url", "-f", "--find-links", "--target", "-t"}
            continue
        found.append(word)
    return found


def _requirement_name(spec: str) -> str:
    """``xgboost==1.7`` -> ``xgboost`` (as an import name would be spelled)."""
    return re.split(r"[<>=!~\[;@ ]", spec, maxsplit=1)[0].lower().replace("-", "_")


def _shadows_builtin(name: str) -> bool:
    return name in dir(builtins) and not name.startswith("_")


def _data_globals(info: FunctionInfo, module_names: set[str]) -> list[str]:
    return [
        ref.name
        for ref in info.globals_read
        if ref.name not in module_names
        and not is_builtin(ref.name)
        and ref.name not in PLACEHOLDERS
        and ref.name not in IPYTHON_NAMES
    ]


def _references(info: FunctionInfo) -> set[str]:
    return {ref.name for ref in info.globals_read} | set(info.calls)


def make_plan(nb: Notebook, flow: DataFlow | None = None) -> ModulePlan:
    """Analyse ``nb`` into a :class:`ModulePlan` (no code is written here), phase by phase:
    the data flow, what can be module level, library vs exploration, the steps, the
    parameters, the names, then each step's inputs, outputs and results."""
    flow, fragments = _analyse(nb, flow)
    problems: list[Problem] = []
    parameter_cells = tuple(c.index for c in nb.code_cells if PARAMETERS_TAG in c.tags)
    found = _module_level(nb, flow, fragments, problems)
    hoisted, new_params = _hoistable(found, problems, kernel_state(flow))
    import_names, module_globals = found.import_names, found.module_globals
    functions = {
        name: FunctionPlan(name, info.kind, cell_index, tuple(new_params[name]))
        for name, (cell_index, _, info) in hoisted.items()
    }
    hoisted_stmts: dict[int, set[int]] = {k: set(v) for k, v in found.imports.items()}
    for cell_index, stmt, _ in hoisted.values():
        hoisted_stmts.setdefault(cell_index, set()).add(id(stmt))
    module_names = import_names | set(hoisted)

    def module_level(flow: DataFlow, cell: int, name: str) -> bool:
        if name in import_names or name in module_globals:
            return True
        return name in hoisted and hoisted[name][0] == cell

    sliced = slice_notebook(
        nb,
        flow,
        hoisted=hoisted_stmts,
        skip_cells=set(parameter_cells) | set(fragments),
        taken=notebook_names(flow) | module_names | RESERVED,
        function_globals={name: tuple(params) for name, params in new_params.items() if name in hoisted},
        library_only=module_globals,
    )
    steps_plan = plan_steps(
        nb,
        flow,
        module_level=module_level,
        outside=sliced.explored,
        cuts=sliced.conflicts,
        sizes=sliced.sizes,
    )
    parameters = _parameters(nb, flow, parameter_cells, problems)
    marked = _marked_parameters(nb, flow, parameter_cells, {p.name for p in parameters})
    marked += _proposed_parameters(
        nb, flow, parameter_cells, {p.name for p in parameters} | {p.name for p, _ in marked}, module_names
    )
    parameters += [param for param, _ in marked]
    param_names = {p.name for p in parameters}
    plan = ModulePlan(
        notebook=nb,
        flow=flow,
        strategy=steps_plan.strategy,
        steps=[],
        parameters=parameters,
        functions=functions,
        hoisted=hoisted_stmts,
        module_names=module_names,
        parameter_cells=parameter_cells,
        problems=problems,
        star_import=found.has_star,
        module_globals=module_globals,
        extra_imports=list(dict.fromkeys(found.extra_imports)),
        names=notebook_names(flow) | {name for _, name in sliced.captured.values()},
        sliced=sliced,
    )
    # a cell's leading displays are shown before its step's call: only the step's first cell
    # with code can keep them (a later one's would see values the step has not made yet)
    for step in steps_plan.steps:
        for cell in [c for c in step.cells if has_body(plan, [c])][1:]:
            sliced.demote_head(cell)
    for name in sorted(module_globals):
        plan.problem(
            None,
            None,
            "warning",
            f"`{name}` is assigned through a `global` statement, so it stays module state: "
            "every step that uses it declares it global (pass it as an argument instead)",
        )
    all_names = set(found.binders) | module_names
    _rename_builtin_shadows(plan, found.own_history, all_names)
    _snake_case_names(plan, all_names | RESERVED)
    # `display` is a kernel builtin: import it when the notebook uses it without defining it
    used = _loaded_names(flow, {"display", "get_ipython"}, plan.sliced)
    defined = set(found.binders) | import_names
    plan.needs_display_import = "display" in used and "display" not in defined
    plan.needs_get_ipython = "get_ipython" in used and "get_ipython" not in defined
    if plan.needs_get_ipython:
        plan.problem(
            None,
            None,
            "warning",
            "the notebook calls `get_ipython()`, which is None outside IPython: that code only "
            "works in a kernel",
        )
    for param, stmt in marked:
        plan.marked.setdefault(param.cell, set()).add(id(stmt))
    plan.steps = _exploration(plan, result_classes(plan, _step_specs(plan, steps_plan.steps, param_names)))
    return plan


def _analyse(nb: Notebook, flow: DataFlow | None) -> tuple[DataFlow, dict[int, tuple[int | None, str]]]:
    """Phase 1: the notebook's data flow (unless given), and the cells that parse but only
    compile as fragments of other code (analysed as cells that do not parse)."""
    fragments: dict[int, tuple[int | None, str]] = {}
    if flow is None:
        cells = [CodeCellInput(c.index, c.source, c.execution_count) for c in nb.code_cells]
        flow = analyze_notebook(cells)
        fragments = _fragments(flow)
        if fragments:  # analysed as cells that do not parse: they contribute nothing
            flow = analyze_notebook(
                [
                    CodeCellInput(c.index, _UNPARSEABLE, c.execution_count)
                    if c.index in fragments
                    else c
                    for c in cells
                ]
            )
    return flow, fragments


@dataclass
class _Found:
    """What phase 2 finds: the imports to hoist and the definitions that may be module level."""

    binders: dict[str, set[int]]  # name -> the cells binding it at module scope (any way)
    own_history: set[str]  # `In`/`Out` the notebook binds itself
    imports: dict[int, set[int]] = field(default_factory=dict)  # cell -> hoisted import ids
    import_names: set[str] = field(default_factory=set)
    has_star: bool = False
    module_globals: set[str] = field(default_factory=set)  # names functions declare `global`
    extra_imports: list[str] = field(default_factory=list)  # imports a magic stood for
    candidates: dict[str, tuple[int, ast.stmt, FunctionInfo]] = field(default_factory=dict)


def _module_level(
    nb: Notebook, flow: DataFlow, fragments: dict[int, tuple[int | None, str]], problems: list[Problem]
) -> _Found:
    """Phase 2: the imports that go to the top of the module, and the functions and classes
    that may (each defined once, by one top-level def/class); cells that do not parse are
    reported."""
    # Which cells bind each name at module scope (any way) - a def is hoistable only when
    # its cell is the one place the notebook binds that name.
    binders: dict[str, set[int]] = {}
    for index, analysed in flow.symbols.items():
        for ref in analysed.writes:
            binders.setdefault(ref.name, set()).add(index)

    # imports of packages the notebook pip-installs stay where they were (they only work
    # after the install ran), except star imports: Python allows those at module level only
    installed = {
        _requirement_name(spec)
        for analysed in flow.symbols.values()
        for magic in analysed.source.magics
        if is_pip_install(magic)
        for spec in installed_packages(magic)
    }
    # `In`/`Out` the notebook binds are its own variables, not IPython's history; a def
    # reading them stays in its step (the data flow does not see those reads)
    own_history: set[str] = {name for name in ("In", "Out") if name in binders}
    imports: dict[int, set[int]] = {}
    import_names: set[str] = set()
    has_star = False
    module_globals: set[str] = set()  # names functions declare `global`: module state
    extra_imports: list[str] = []
    candidates: dict[str, tuple[int, ast.stmt, FunctionInfo]] = {}
    # names the notebook also binds as data (`from x import data`, then `data = f(data)`):
    # an import of them stays in its step, or the step's rebinding would read a local
    # before it is assigned
    rebound: set[str] = set()
    for analysed in flow.symbols.values():
        if analysed.tree is not None:
            for top in analysed.tree.body:
                if not is_import_block(top) and not isinstance(
                    top, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
                ):
                    rebound |= _store_names(top)
    for cell in nb.code_cells:
        symbols = flow.symbols.get(cell.index)
        if symbols is None:
            continue
        if cell.index in fragments:
            line, reason = fragments[cell.index]
            problems.append(
                Problem(
                    cell.index,
                    line,
                    "error",
                    f"the cell parses but does not compile as Python ({reason}): it only works "
                    "as a fragment of other code; it is copied into the module as a TODO comment",
                )
            )
            continue
        if symbols.syntax_error is not None or symbols.tree is None:
            problems.append(
                Problem(
                    cell.index,
                    symbols.syntax_error.line if symbols.syntax_error else None,
                    "error",
                    "the cell does not parse as Python "
                    f"({symbols.syntax_error.message if symbols.syntax_error else 'unknown'}); "
                    "it is copied into the module as a TODO comment",
                )
            )
            continue
        for stmt in symbols.tree.body:
            if (
                is_import_block(stmt)
                and (not _imports_any(stmt, installed) or _star_import(stmt))
                and not any(_generated_name(n) for n in bound_by_import_block(stmt))
                and not bound_by_import_block(stmt) & rebound
            ):
                imports.setdefault(cell.index, set()).add(id(stmt))
                import_names |= bound_by_import_block(stmt)
            elif isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                info = symbols.functions.get(stmt.name)
                if info is None or info.line != stmt.lineno:
                    continue
                once = binders.get(stmt.name) == {cell.index}
                others = _store_names(symbols.tree, skip=stmt)
                if (
                    once
                    and stmt.name not in others
                    and stmt.name not in import_names
                    and stmt.name not in RESERVED
                    and not stmt.name.startswith("_nb_")
                    and not _reads_any(stmt, own_history)
                ):
                    if stmt.name in candidates:
                        candidates.pop(stmt.name)  # defined twice in one cell
                    else:
                        candidates[stmt.name] = (cell.index, stmt, info)
        for info in symbols.functions.values():
            module_globals.update(info.globals_declared)
        if any(m.name == "pylab" and m.kind != "cell_magic" for m in symbols.source.magics):
            has_star = True  # %pylab: numpy and matplotlib names, star-imported
            extra_imports.extend(_PYLAB_IMPORTS)
        for imp in symbols.imports:
            if imp.is_star and imp.top_level:
                has_star = True
                problems.append(
                    Problem(
                        cell.index,
                        imp.line,
                        "warning",
                        f"`from {imp.module} import *` is kept at the top of the module; "
                        "import the names it provides explicitly",
                    )
                )

    return _Found(
        binders, own_history, imports, import_names, has_star, module_globals, extra_imports, candidates
    )


def _hoistable(
    found: _Found, problems: list[Problem], kernel: set[str]
) -> tuple[dict[str, tuple[int, ast.stmt, FunctionInfo]], dict[str, list[str]]]:
    """Phase 3: of the candidates, the definitions that can be module level, and the data
    globals each one gets as keyword-only parameters. A definition using what only a running
    kernel has (``kernel``: ``get_ipython()``, display handles, widgets), directly or through
    another such definition, is notebook code: it stays in the notebook."""
    candidates, import_names, module_globals = found.candidates, found.import_names, found.module_globals
    kernel = set(kernel)
    candidates = dict(candidates)
    changed = True
    while changed:
        changed = False
        for name, (cell_index, _, info) in list(candidates.items()):
            used = [n for n in dict.fromkeys(_references(info)) if n in kernel]
            if used:
                del candidates[name]
                kernel.add(name)
                changed = True
                problems.append(
                    Problem(
                        cell_index,
                        info.line,
                        "warning",
                        f"{info.kind} `{name}` uses the running kernel ("
                        + ", ".join(f"`{n}`" for n in used[:3])
                        + "), so it stays in the notebook, not in the library",
                    )
                )
    # Fixpoint: drop definitions that cannot be module level; the rest get their globals as
    # parameters (transitively through the hoisted functions they reference).
    hoisted = dict(candidates)
    while True:
        module_names = import_names | set(hoisted)
        new_params: dict[str, list[str]] = {
            name: _data_globals(info, module_names | module_globals)
            for name, (_, _, info) in hoisted.items()
        }
        changed = True
        while changed:
            changed = False
            for name, (_, _, info) in hoisted.items():
                for other in _references(info):
                    if other in hoisted and other != name:
                        for extra in new_params[other]:
                            if extra not in new_params[name]:
                                new_params[name].append(extra)
                                changed = True
        def_time = {
            name: [
                n
                for n in _definition_time_names(stmt)
                if n not in module_names and n not in module_globals and not is_builtin(n)
            ]
            for name, (_, stmt, _) in hoisted.items()
        }
        dropped = [
            name
            for name, (_, _, info) in hoisted.items()
            if (info.kind == "class" and new_params[name]) or def_time[name]
        ]
        if not dropped:
            break
        for name in dropped:
            cell_index, _, info = hoisted.pop(name)
            if def_time[name]:
                why = "reads notebook variables when it is defined (" + ", ".join(
                    f"`{g}`" for g in dict.fromkeys(def_time[name])
                ) + ": defaults, decorators or class attributes)"
            else:
                why = "reads notebook variables in its methods (" + ", ".join(
                    f"`{g}`" for g in new_params[name]
                ) + ")"
            problems.append(
                Problem(
                    cell_index,
                    info.line,
                    "warning",
                    f"{info.kind} `{name}` {why}, so it stays inside its step and is passed "
                    "between steps as a value; make it take those values as arguments",
                )
            )

    return hoisted, new_params


def _rename_builtin_shadows(plan: ModulePlan, own_history: set[str], all_names: set[str]) -> None:
    """Phase 7: a data name that shadows a builtin (``max = ...``) is renamed from its first
    binding on (``max_``); the notebook's own ``In``/``Out`` are data, never renamed."""
    nb, flow = plan.notebook, plan.flow
    module_names = plan.module_names
    for cell in nb.code_cells:
        symbols = flow.symbols.get(cell.index)
        if symbols is None:
            continue
        for ref in symbols.writes:
            if ref.name in own_history and ref.name not in plan.first_binding:
                # the notebook's own `In`/`Out`: data, carried between steps like a builtin's
                # shadow (the data flow takes it for IPython's history), never renamed
                plan.first_binding[ref.name] = (cell.index, ref.line, ref.column)
                continue
            if (
                ref.name in plan.first_binding
                or ref.name in module_names  # a hoisted `def sum` is the module's `sum`
                or not _shadows_builtin(ref.name)
            ):
                continue
            plan.first_binding[ref.name] = (cell.index, ref.line, ref.column)
            new = ref.name + "_"
            while new in all_names:
                new += "_"
            plan.renamed[ref.name] = new


def _snake_case_names(plan: ModulePlan, taken: set[str]) -> None:
    """Data names that are not snake_case (``X_train``, ``TEST_SIZE``, ``C``) get a
    snake_case name inside the generated functions (``x_train``, ``test_size``, ``c``), so the
    module passes pep8-naming; the notebook, the slim notebook, ``PARAMETERS`` and ``run()``'s
    keys keep the notebook's names. Not renamed: module-level names (imports, hoisted
    functions and classes, globals), names a cell defines with ``def``/``class``/``import``,
    the notebook's own ``In``/``Out`` and names already renamed (builtin shadows)."""
    defined: set[str] = set()
    for analysed in plan.flow.symbols.values():
        defined |= set(analysed.functions) | {imp.bound for imp in analysed.imports}
    # the names a step body can see: what the notebook binds or reads at its top level
    used = set(taken) | defined
    for analysed in plan.flow.symbols.values():
        used |= {r.name for r in [*analysed.writes, *analysed.reads]}
    for analysed in plan.flow.symbols.values():
        for ref in analysed.writes:
            name = ref.name
            if (
                name == name.lower()
                or name in plan.snake
                or name in plan.renamed
                or name in plan.first_binding
                or name in plan.module_names
                or name in plan.module_globals
                or name in defined
                or name.startswith("_")
            ):
                continue
            new = re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name).lower()
            if new in used or keyword.iskeyword(new) or _shadows_builtin(new):
                continue  # the snake_case name is taken: the notebook's name stays
            used.add(new)
            plan.snake[name] = new


def _exploration(plan: ModulePlan, specs: list[StepSpec]) -> list[StepSpec]:
    """Each step's size (library lines) and the cells whose exploration the slim notebook
    shows after it: its cells' trailing displays, and the explored cells up to the next step."""
    sliced = plan.sliced
    out: list[StepSpec] = []
    for i, spec in enumerate(specs):
        nxt = specs[i + 1].cells[0] if i + 1 < len(specs) else None
        shown = [c for c in spec.cells if c in sliced.reads or c in sliced.heads]
        shown += [c for c in sorted(sliced.explored) if c > spec.cells[-1] and (nxt is None or c < nxt)]
        lines = sum(sliced.sizes.get(c, 0) for c in spec.cells)
        code = tuple(c for c in spec.cells if has_body(plan, [c]))
        out.append(replace(spec, lines=lines, exploration=tuple(sorted(set(shown))), code_cells=code))
    return out


# what a cell that only compiles as a fragment is analysed as: a cell that does not parse
_UNPARSEABLE = "\x00"


def _fragments(flow: DataFlow) -> dict[int, tuple[int | None, str]]:
    """Cells that parse but do not compile on their own (``break`` outside a loop,
    ``return``/``yield`` outside a function, ``nonlocal`` at the top): cell -> (line, why)."""
    found: dict[int, tuple[int | None, str]] = {}
    for index, analysed in flow.symbols.items():
        if analysed.tree is None:
            continue
        try:
            compile(analysed.tree, "<cell>", "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT, dont_inherit=True)
        except SyntaxError as exc:
            found[index] = (exc.lineno, exc.msg or "invalid syntax")
        except (ValueError, TypeError, RecursionError, MemoryError) as exc:
            found[index] = (None, str(exc) or type(exc).__name__)
    return found


def _generated_name(name: str) -> bool:
    """A name the generated module defines itself: an import binding it stays in its step."""
    return name in RESERVED or name.startswith("_nb_")


def has_body(plan: ModulePlan, cells: Iterable[int]) -> bool:
    """True when some of ``cells`` has code for a step: not only module-level statements
    (imports, definitions), marked parameters, exploration or dropped magics."""
    for index in cells:
        symbols = plan.flow.symbols.get(index)
        if symbols is None:
            continue
        if symbols.tree is None:
            return True  # a syntax error is carried over as a TODO
        if index in plan.sliced.explored:
            continue  # the slim notebook's
        hoisted = plan.hoisted.get(index, set()) | plan.marked.get(index, set())
        hoisted |= plan.sliced.slim_statements(index)
        magics = {m.line: m for m in symbols.source.magics}
        for stmt in symbols.tree.body:
            if id(stmt) in hoisted:
                continue
            value = stmt.value if isinstance(stmt, ast.Expr) else None
            magic = magics.get(stmt.lineno)
            if _is_placeholder_call(value) and magic is not None and _dropped(magic):
                continue
            return True
    return False


def _dropped(magic: Magic) -> bool:
    """True for IPython syntax the module drops (help, installs, display-only magics)."""
    if magic.kind == "help" or is_pip_install(magic):
        return True
    if magic.kind == "cell_magic" and magic.name in PYTHON_CELL_MAGICS:
        return True  # the header only; the body is code
    return magic.name in DROPPED_MAGICS


def _step_specs(
    plan: ModulePlan,
    steps: tuple[Step, ...],
    param_names: set[str],
) -> list[StepSpec]:
    flow = plan.flow
    kept = [s for s in steps if has_body(plan, s.cells)]
    step_of = {cell: i for i, s in enumerate(kept) for cell in s.cells}

    # every name the notebook binds or the module defines is taken for step function names
    written = {ref.name for analysed in flow.symbols.values() for ref in analysed.writes}
    taken = set(plan.module_names) | RESERVED | set(param_names) | written | plan.names
    taken |= set(dir(builtins))  # a step named `print` would shadow the builtin

    # names a step leaves deleted (`del tmp` after its last binding): nothing to return
    deleted: list[set[str]] = [set() for _ in kept]
    for i, step in enumerate(kept):
        for index in step.cells:
            symbols = flow.symbols.get(index)
            if symbols is not None:
                deleted[i] -= {r.name for r in symbols.writes}
                deleted[i] |= {r.name for r in symbols.deletes}

    # names read by a later step, per providing step; names bound per step
    read_later: list[set[str]] = [set() for _ in kept]
    for edge in flow.document.edges:
        provider, consumer = step_of.get(edge.provider), step_of.get(edge.consumer)
        if provider is not None and consumer is not None and consumer > provider:
            read_later[provider].add(edge.name)
    bound: list[set[str]] = [set() for _ in kept]
    top_bound: list[set[str]] = [set() for _ in kept]
    for i, step in enumerate(kept):
        for index in step.cells:
            symbols = flow.symbols.get(index)
            if symbols is not None:
                bound[i] |= {r.name for r in symbols.writes}
                bound[i] |= {r.name for r in symbols.mutations}
                if symbols.tree is not None:
                    top_bound[i] |= _top_level_targets(symbols.tree)

    undefined = _undefined_inputs(plan, kept, step_of, written, param_names)
    shadow_inputs, shadow_outputs = _builtin_shadows(plan, kept, step_of, bound)
    # a def/class left in its step closes over what its body reads from earlier steps
    closure_params = closure_inputs(
        plan, [s.cells for s in kept], bound, param_names, shadow_inputs, shadow_outputs
    )

    specs: list[StepSpec] = []
    used: set[str] = set()
    for i, step in enumerate(kept):
        # with a star import any name may come from it: step names get a suffix
        free = step.name not in taken and step.name not in used and not plan.star_import
        name = step.name if free else ""
        if not name:
            base = f"{step.name}_step" if step.name else f"step_{i + 1}"
            name, k = base, 2
            while name in taken or name in used:
                name, k = f"{base}_{k}", k + 1
        used.add(name)
        later_bound = set().union(*bound[i + 1 :]) if i + 1 < len(kept) else set()
        # what the step's cells show at their end (the slim notebook displays it): returned
        slim_reads = set().union(*(plan.sliced.reads.get(c, set()) for c in step.cells))
        head_reads = set().union(*(plan.sliced.head_reads.get(c, set()) for c in step.cells))
        captured = {plan.sliced.captured[c][1] for c in step.cells if c in plan.sliced.captured}
        made = set().union(*(plan.sliced.bound.get(c, set()) for c in step.cells))
        shown = (slim_reads & made) | captured
        # what only the step's slim parts bind (its library does not) is no value of the step;
        # what only they read is no input of it: the slim notebook has those itself
        slim_only = set().union(*(plan.sliced.slim_bound.get(c, set()) for c in step.cells)) - made
        slim_read_only: set[str] = set()
        if all(c in plan.sliced.library_loads for c in step.cells):  # every cell was sliced
            lib_reads = set().union(*(plan.sliced.library_loads[c] for c in step.cells))
            slim_read_only = (slim_reads | head_reads) - lib_reads
        scratch = _clocks_and_counters(plan, step.cells)
        # the notebook ends on what its last cell with code binds
        ends_on: set[str] = set()
        if i == len(kept) - 1:
            last_cell = max((c for c in step.cells if has_body(plan, [c])), default=None)
            symbols = flow.symbols.get(last_cell) if last_cell is not None else None
            if symbols is not None and symbols.tree is not None:
                ends_on = _top_level_targets(symbols.tree)
        results = sorted(
            n
            for n in (top_bound[i] & bound[i]) | shown
            if n not in step.outputs
            and n not in plan.sliced.slim_binds
            and n not in slim_only
            and n not in shadow_outputs[i]
            and (n not in later_bound or n in shown)  # the slim notebook shows it here
            and n not in read_later[i]
            and not n.startswith("_")
            and n not in plan.module_names
            and n not in plan.module_globals
            and n not in deleted[i]
            and (
                n in shown  # the slim notebook shows it
                or (n in ends_on and not _is_temporary(flow, step.cells, n) and n not in scratch)
            )
            and n not in param_names  # a marked or proposed parameter: the step takes it
        )
        inputs = (
            [
                n
                for n in step.inputs
                if n not in param_names and n not in plan.sliced.slim_binds and n not in slim_read_only
            ]
            + shadow_inputs[i]
            + sorted(undefined[i])
        )
        specs.append(
            StepSpec(
                name=name,
                title=step.title,
                cells=step.cells,
                doc=step.doc,
                inputs=tuple(dict.fromkeys(inputs)),
                parameters=tuple(
                    dict.fromkeys(
                        [p.name for p in plan.parameters if p.cell in step.cells]
                        + [n for n in step.inputs if n in param_names]
                        + closure_params[i]
                    )
                ),
                outputs=tuple(
                    sorted(
                        (set(step.outputs) | shadow_outputs[i])
                        - deleted[i]
                        - param_names
                        - plan.sliced.slim_binds
                        - slim_only
                    )
                ),
                results=tuple(results),
                undefined=tuple(sorted(undefined[i])),
                is_async=_awaits(plan, step.cells),
            )
        )
    return specs


def _undefined_inputs(
    plan: ModulePlan,
    kept: list[Step],
    step_of: dict[int, int],
    written: set[str],
    param_names: set[str],
) -> list[set[str]]:
    """Per step, the names it reads that no cell before defines (reported as errors): they
    become required inputs, and the pipeline stops there as the notebook does."""
    flow = plan.flow
    undefined: list[set[str]] = [set() for _ in kept]
    for item in flow.document.unresolved:
        at = step_of.get(item.cell)
        if at is None or flow.document.star_import_seen or plan.star_import:
            continue
        if item.name.startswith("__") and item.name.endswith("__"):
            continue  # __file__, __name__...: the module has its own
        if item.name == "display":
            continue  # imported from IPython (make_plan)
        if item.name in IPYTHON_NAMES:
            plan.problem(
                item.cell,
                item.line,
                "error",
                f"`{item.name}` exists only inside IPython; the module cannot use it",
            )
            continue
        reader = flow.symbols.get(item.cell)
        if reader is not None and reader.unknown_names_from is not None:
            why = "may be defined only by `exec`, `%run` or a star import there"
        elif item.later_provider is not None:
            why = f"is defined only later, in cell {item.later_provider + 1}"
        else:
            why = "is defined by no cell"
        plan.problem(
            item.cell,
            item.line,
            "error",
            f"`{item.name}` {why}; it becomes a required input of the step and the pipeline "
            "stops there, as the notebook does when run top to bottom",
        )
        undefined[at].add(item.name)

    # Past an exec / %run / globals() write the data flow stops reporting names it cannot
    # resolve; without a star import to provide them, they are undefined in the module.
    if flow.document.star_import_seen and not plan.star_import:
        for i, step in enumerate(kept):
            for index in step.cells:
                symbols = flow.symbols.get(index)
                if symbols is None:
                    continue
                provided = flow.document.inputs(index)
                for ref in symbols.reads:
                    n = ref.name
                    if (
                        n in provided
                        or is_builtin(n)
                        or n in plan.module_names
                        or n in param_names
                        or n in PLACEHOLDERS
                        or n in IPYTHON_NAMES
                        or n.startswith("__")
                    ):
                        continue
                    plan.problem(
                        index,
                        ref.line,
                        "error",
                        f"`{n}` may be defined only by `exec`, `%run` or a `globals()` write, "
                        "which the module cannot reproduce; it becomes a required input of the "
                        "step",
                    )
                    undefined[i].add(n)

    # IPython's output history (_, __, _12, _i, Out[3]...) exists only in a kernel
    for i, step in enumerate(kept):
        for name, (cell, line) in _history_reads(plan, step.cells).items():
            if name in written:
                continue  # the notebook binds it itself (`for _ in ...`)
            plan.problem(
                cell,
                line,
                "error",
                f"`{name}` is IPython's output history, which only exists in a kernel; it "
                "becomes a required input of the step (name the value in the notebook instead)",
            )
            undefined[i].add(name)

    return undefined


def _builtin_shadows(
    plan: ModulePlan, kept: list[Step], step_of: dict[int, int], bound: list[set[str]]
) -> tuple[list[list[str]], list[set[str]]]:
    """Per step, the builtin-shadowing names (``max = ...``) it takes from, and gives to,
    other steps."""
    # A builtin-shadowing name (``max = ...``) is invisible to the data flow (reads of builtins
    # are not tracked): a later step that reads it takes it from the last step binding it.
    shadow_inputs: list[list[str]] = [[] for _ in kept]
    shadow_outputs: list[set[str]] = [set() for _ in kept]
    for name, (cell, _, _) in plan.first_binding.items():
        first = step_of.get(cell)
        if first is None:
            continue
        for i in range(first + 1, len(kept)):
            if _loads(plan, kept[i].cells, name):
                provider = max(j for j in range(i) if name in bound[j])
                shadow_inputs[i].append(name)
                shadow_outputs[provider].add(name)
    return shadow_inputs, shadow_outputs


def result_classes(plan: ModulePlan, specs: list[StepSpec]) -> list[StepSpec]:
    """Give each step returning two or more values its dataclass: the step's name in
    CamelCase + ``Result``, at most 30 characters, none of the notebook's names."""
    taken = set(plan.names) | set(plan.module_names) | RESERVED | {s.name for s in specs}
    out: list[StepSpec] = []
    for spec in specs:
        if len(spec.outputs) + len(spec.results) < 2:
            out.append(spec)
            continue
        camel = "".join(w[:1].upper() + w[1:] for w in spec.name.split("_") if w) or "Step"
        if not camel[0].isalpha():
            camel = "Step" + camel
        base = camel[:24] + "Result"
        name, k = base, 2
        while name in taken:
            name = f"{base[: 30 - len(str(k))]}{k}"
            k += 1
        taken.add(name)
        out.append(replace(spec, returns=name))
    return out


# calls whose value is a clock reading: names bound from them are timers
_CLOCKS = frozenset(
    """time perf_counter perf_counter_ns monotonic monotonic_ns process_time process_time_ns
    time_ns default_timer now utcnow today""".split()  # noqa: SIM905 - a word list
)


def _clocks_and_counters(plan: ModulePlan, cells: Iterable[int]) -> set[str]:
    """Timers (bound from clock readings and arithmetic on them) and counters (numbers only
    ever bound to a number and stepped with ``+=``/``-=``) of these cells."""
    values: dict[str, list[ast.expr | None]] = {}
    stepped: set[str] = set()
    for _, stmt in _top_statements(plan, cells):
        for node in outer_nodes(stmt):
            if isinstance(node, ast.Assign):
                for target in node.targets:
                    if isinstance(target, ast.Name):
                        values.setdefault(target.id, []).append(node.value)
                    else:  # unpacked: not a simple timer or counter
                        for sub in ast.walk(target):
                            if isinstance(sub, ast.Name):
                                values.setdefault(sub.id, []).append(None)
            elif isinstance(node, ast.AugAssign) and isinstance(node.target, ast.Name):
                name = node.target.id
                if isinstance(node.op, (ast.Add, ast.Sub)) and _number(node.value):
                    stepped.add(name)
                else:
                    values.setdefault(name, []).append(None)
            elif isinstance(node, (ast.AnnAssign, ast.For, ast.AsyncFor, ast.NamedExpr, ast.withitem)):
                # other bindings: the name is not a plain timer or counter
                other = node.optional_vars if isinstance(node, ast.withitem) else node.target
                for sub in ast.walk(other) if other is not None else []:
                    if isinstance(sub, ast.Name):
                        values.setdefault(sub.id, []).append(None)
    counters = {n for n in stepped if all(v is not None and _number(v) for v in values.get(n, []))}
    timers: set[str] = set()
    changed = True
    while changed:
        changed = False
        for name, bound in values.items():
            if name not in timers and bound and all(v is not None and _clocked(v, timers) for v in bound):
                timers.add(name)
                changed = True
    return counters | timers


def _number(node: ast.expr) -> bool:
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        node = node.operand
    return isinstance(node, ast.Constant) and type(node.value) in (int, float)


def _clocked(node: ast.expr, timers: set[str]) -> bool:
    """True for a clock reading, or arithmetic on clock readings, timers and numbers, with at
    least one clock reading or timer."""
    if isinstance(node, ast.Call):
        func = node.func
        last = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
        return last in _CLOCKS and not node.args
    if isinstance(node, ast.Name):
        return node.id in timers
    if isinstance(node, ast.BinOp):
        sides = [node.left, node.right]
        return any(_clocked(s, timers) for s in sides) and all(
            _clocked(s, timers) or _number(s) for s in sides
        )
    return False


def result_variable(plan: ModulePlan, step: StepSpec, also: Iterable[str] = ()) -> str:
    """The variable holding what ``step`` returns as a dataclass (``run()``, slim notebook):
    ``<step>_result``, none of the notebook's names nor of ``also``."""
    return plan.free_name(f"{step.name[:23]}_result", also)


# pandas functions and DataFrame methods whose value is a DataFrame; numpy's arrays
_FRAME_CALLS = frozenset(
    """read_csv read_excel read_parquet read_json read_table read_feather read_sql DataFrame
    concat get_dummies merge""".split()  # noqa: SIM905 - a word list
)
_FRAME_METHODS = frozenset(
    """copy dropna fillna merge join drop sort_values sort_index reset_index assign query
    rename astype drop_duplicates head tail sample""".split()  # noqa: SIM905 - a word list
)
_ARRAY_CALLS = frozenset(
    ["array", "asarray", "zeros", "ones", "empty", "arange", "linspace", "full", "concatenate", "stack", "vstack", "hstack"]
)


def value_types(plan: ModulePlan, cells: Iterable[int], names: Iterable[str]) -> dict[str, str]:
    """The type (as annotation text valid in the module) of each of ``names`` the step binds
    exactly once, by ``name = <value>``, when the value tells it: a literal (``int``, ``str``
    ...), a pandas reader or DataFrame method (``pd.DataFrame``), a numpy constructor
    (``np.ndarray``), a scikit-learn class the module imports (the estimator), or a
    scikit-learn metric (``float``)."""
    modules: dict[str, str] = {}  # module-level name -> what it imports (`pd` -> `pandas`)
    for analysed in plan.flow.symbols.values():
        for imp in analysed.imports:
            if imp.top_level and not imp.is_star and imp.bound in plan.module_names and imp.module:
                modules[imp.bound] = imp.module + ("." + imp.name if imp.name else "")
    pandas = next((k for k, v in modules.items() if v == "pandas"), None)
    numpy = next((k for k, v in modules.items() if v == "numpy"), None)
    wanted = set(names)
    assigned: dict[str, list[ast.expr | None]] = {}
    for _, stmt in _top_statements(plan, cells):
        for node in ast.walk(stmt):
            if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
                assigned.setdefault(node.targets[0].id, []).append(node.value)
            elif isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign, ast.For, ast.With, ast.NamedExpr)):
                for sub in ast.walk(node):
                    if isinstance(sub, ast.Name) and isinstance(sub.ctx, ast.Store):
                        assigned.setdefault(sub.id, []).append(None)
    found: dict[str, str] = {}
    for name, values in assigned.items():  # in binding order (a method's receiver first)
        if len(values) != 1 or values[0] is None or name in plan.renamed:
            continue
        value = values[0]
        kind: str | None = None
        if isinstance(value, ast.Constant) and type(value.value) in (int, float, str, bool):
            kind = type(value.value).__name__
        elif isinstance(value, ast.Call):
            func = value.func
            if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
                owner, attr = func.value.id, func.attr
                if owner == pandas and attr in _FRAME_CALLS:
                    kind = f"{pandas}.DataFrame"
                elif owner == numpy and attr in _ARRAY_CALLS:
                    kind = f"{numpy}.ndarray"
                elif (
                    pandas
                    and found.get(owner) == f"{pandas}.DataFrame"
                    and attr in _FRAME_METHODS
                    and not any(k.arg == "inplace" for k in value.keywords)
                ):
                    kind = f"{pandas}.DataFrame"
            elif (
                isinstance(func, ast.Name)
                and modules.get(func.id, "").startswith("sklearn.")
                and func.id[:1].isupper()
                and func.id == modules[func.id].rsplit(".", 1)[-1]
            ):
                kind = func.id  # an estimator class, imported by its own name
            elif (
                isinstance(func, ast.Name)
                and modules.get(func.id, "").startswith("sklearn.metrics.")
                and re.search(r"(_score|_error|_loss)$", func.id)
                and not any(k.arg in ("average", "multioutput") for k in value.keywords)
            ):
                kind = "float"  # a metric: accuracy_score(y, p), mean_squared_error(y, p)
        if kind is not None:
            found[name] = kind
    return {n: t for n, t in found.items() if n in wanted}


def names_used(plan: ModulePlan, cells: Iterable[int], names: set[str]) -> set[str]:
    """Which of ``names`` these cells use (read or bind) outside hoisted statements."""
    return {
        node.id
        for _, stmt in _top_statements(plan, cells)
        for node in ast.walk(stmt)
        if isinstance(node, ast.Name) and node.id in names
    }


_HISTORY = re.compile(r"^(?:_{1,3}|_\d+|_i{1,3}|_i\d+|_[iod]h|In|Out)$")


def _top_statements(plan: ModulePlan, cells: Iterable[int]) -> Iterable[tuple[int, ast.stmt]]:
    """(cell, statement) of the statements of these cells that stay in the step."""
    for index in cells:
        symbols = plan.flow.symbols.get(index)
        if symbols is None or symbols.tree is None:
            continue
        hoisted = plan.hoisted.get(index, set())
        for stmt in symbols.tree.body:
            if id(stmt) not in hoisted:
                yield index, stmt


def _history_reads(plan: ModulePlan, cells: Iterable[int]) -> dict[str, tuple[int, int]]:
    found: dict[str, tuple[int, int]] = {}
    for index, stmt in _top_statements(plan, cells):
        for node in ast.walk(stmt):
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load) and _HISTORY.match(node.id):
                found.setdefault(node.id, (index, node.lineno))
    return found


def outer_nodes(stmt: ast.AST) -> Iterator[ast.AST]:
    """The nodes of ``stmt`` that run at its own scope level: nothing inside a def, class or
    lambda (those nodes themselves are skipped too)."""
    stack: list[ast.AST] = [stmt]
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
            continue
        stack.extend(ast.iter_child_nodes(node))
        yield node


def _awaits(plan: ModulePlan, cells: Iterable[int]) -> bool:
    """True when these cells await at top level (outside any function)."""
    for _, stmt in _top_statements(plan, cells):
        if any(isinstance(n, (ast.Await, ast.AsyncFor, ast.AsyncWith)) for n in outer_nodes(stmt)):
            return True
    return False


def _loads(plan: ModulePlan, cells: Iterable[int], name: str) -> bool:
    """True when these cells read ``name`` outside the statements hoisted to the module."""
    return any(
        isinstance(node, ast.Name) and node.id == name and isinstance(node.ctx, ast.Load)
        for _, stmt in _top_statements(plan, cells)
        for node in ast.walk(stmt)
    )


def _loaded_names(flow: DataFlow, names: set[str], sliced: Slice) -> set[str]:
    """Which of ``names`` the library code reads (anywhere, also inside functions): not the
    cells and statements the slim notebook keeps."""
    found: set[str] = set()
    for index, analysed in flow.symbols.items():
        if analysed.tree is None or index in sliced.explored:
            continue
        slim = sliced.slim_statements(index)
        for stmt in analysed.tree.body:
            if id(stmt) in slim:
                continue
            for node in ast.walk(stmt):
                if isinstance(node, ast.Name) and node.id in names and isinstance(node.ctx, ast.Load):
                    found.add(node.id)
    return found


def _top_level_targets(tree: ast.Module) -> set[str]:
    """Names assigned by the cell's own top-level statements (not inside if/for/with...)."""
    names: set[str] = set()
    for stmt in tree.body:
        for target in assign_targets(stmt):
            names |= {n.id for n in ast.walk(target) if isinstance(n, ast.Name)}
    return names


def _is_temporary(flow: DataFlow, cells: Iterable[int], name: str) -> bool:
    """True when ``name`` is only a for-loop target in these cells, or bound from a plotting
    call (``fig, ax = plt.subplots()``): not a result worth returning."""
    seen_loop = False
    for index in cells:
        symbols = flow.symbols.get(index)
        if symbols is None or symbols.tree is None:
            continue
        for node in ast.walk(symbols.tree):
            if isinstance(node, (ast.For, ast.AsyncFor)):
                if any(isinstance(n, ast.Name) and n.id == name for n in ast.walk(node.target)):
                    seen_loop = True
            elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                if any(
                    isinstance(n, ast.Name) and n.id == name
                    for t in targets
                    for n in ast.walk(t)
                ):
                    value = node.value
                    effect = classify_call(value) if isinstance(value, ast.Call) else None
                    if effect is None or effect[0] != "plot":
                        return False
                    seen_loop = True
    return seen_loop
