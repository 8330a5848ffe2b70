"""What a notebook still computes: the rule behind the hackathon's ``library`` component.

The component scores how much of the notebook's *computation* moved into the library. A
slim notebook that imports the library, calls ``run()`` or the steps and then looks at their
results (``df.head()``, ``describe()``, plots, prints) has moved everything; one that fits a
model, computes a metric or writes a file itself has not. The same rule measures the
starting notebook and the team's (slim) notebook, statement by statement (top-level
statements of the code cells, in order), so the score is ``1 - computed now / computed
before``. Deterministic: it reads the source only, nothing runs.

Every top-level statement gets one kind:

* **setup** (not counted): imports, IPython syntax (magics, shell commands), the cells
  tagged ``parameters``, and literal constants (``SEED = 7``, ``LAGS = [1, 7]``: parameters
  in waiting).
* **library** (not counted): a value taken from the library: every call in the statement
  calls a name imported from the team's packages under ``src/`` (``results = run(params)``,
  ``r = train_model(df, SEED=SEED)``), or the statement only reads a value out of another
  (``model = r.model``, ``y = results["split"]``: no call, no operator).
* **exploration** (not counted): a statement that only looks: an expression statement
  (``df.head()``, ``df.describe()``, ``print(r.accuracy)``, ``plt.plot(...)``,
  ``display(...)``, ``nbops.log_metric(...)``), a plot object (``fig, ax = plt.subplots()``),
  a loop or block made only of those; a value read off others to be looked at, in this cell
  or a later one: an assignment to plain names whose calls all show or only read
  (``corr = df.corr()``, ``top = df.groupby("k").x.mean().nlargest(5)``: describing
  builtins, reading pandas/numpy methods, numpy/pandas functions; the calls modularize's
  slicing leaves in the slim notebook), unless something counted needs it; and any other
  value nothing counted needs and no later cell reads.
* **computing** (counted, its non-blank, non-comment lines): the statements that produce
  results, and every statement they need. Results are statements that fit or run a model
  (``fit``, ``fit_transform``, ``fit_predict``, ``partial_fit``, ``train``, ``predict``,
  ``predict_proba``), compute a metric (``score``, ``evaluate``, ``cross_val_score``,
  ``cross_validate``, ``confusion_matrix``, ``classification_report``, any ``*_score``,
  ``*_error``, ``*_loss``), write a file (``to_csv``, ``savefig``, ``open(p, "w")``, the file
  writes lint knows), change data in place (``inplace=True``), call the library (its
  inputs are needed), or bind or change a value a later cell reads that is not a value
  read off others (what modularize makes a step's output); what they need is found by
  backward slicing on names (to the last plain assignment of each), through library calls
  too: a library step fed with data the notebook prepared itself counts that preparation.
  Function and class definitions count when something counted uses them. A cell that does
  not parse counts all its code lines.

So a slim notebook with exploration only scores full marks on the component, and one that
recomputes a model, a metric or a data set itself does not.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from nbops.core.magics import PLACEHOLDERS, translate
from nbops.core.notebook import Notebook
from nbops.core.symbols import MUTATING_METHODS, classify_call
from nbops.modularize.slicing import PURE_BUILTINS, PURE_METHODS, PURE_MODULES

__all__ = ["CodeShare", "library_packages", "notebook_code"]

# calls that fit or run a model, or compute a metric: the notebook's results
_MODEL_CALLS = frozenset({
    "fit", "fit_transform", "fit_predict", "partial_fit", "train", "predict", "predict_proba",
    "predict_log_proba", "decision_function",
})
_METRIC_CALLS = frozenset({
    "score", "evaluate", "cross_val_score", "cross_validate", "cross_val_predict",
    "confusion_matrix", "classification_report",
})
_METRIC_SUFFIXES = ("_score", "_error", "_loss")
_REPORTING = frozenset({"log_metric", "log_metrics", "log_param", "log_params"})
# reads that compute nothing new to keep: modularize's slicing's own lists (a value made
# only of these and shown is exploration)
_PURE_BUILTINS, _PURE_METHODS, _PURE_MODULES = PURE_BUILTINS, PURE_METHODS, PURE_MODULES
_COMPOUND = (ast.For, ast.AsyncFor, ast.While, ast.If, ast.With, ast.AsyncWith, ast.Try) + (
    (ast.TryStar,) if hasattr(ast, "TryStar") else ()
) + ((ast.Match,) if hasattr(ast, "Match") else ())


# what a statement is to the "code moved into the library" component
StmtKind = Literal["setup", "library", "exploration", "looking", "candidate"]


@dataclass(frozen=True)
class CodeShare:
    """A notebook's code lines by kind (see the module doc)."""

    computing: int  # counted: still to move into the library
    exploration: int  # kept for looking at results: not counted
    library: int  # taking values from the library: not counted
    cells: tuple[int, ...] = field(default=())  # 1-based numbers of cells that compute


def library_packages(src: Path) -> frozenset[str]:
    """The top-level packages and modules under ``src/`` (what ``import`` finds there)."""
    if not src.is_dir():
        return frozenset()
    names = set()
    for path in src.iterdir():
        if path.is_dir() and any(path.rglob("*.py")):
            names.add(path.name)
        elif path.suffix == ".py" and path.stem != "__init__":
            names.add(path.stem)
    return frozenset(names)


@dataclass
class _Stmt:
    cell: int  # 0-based index of the cell
    lines: int  # code lines (not blank, not comments)
    kind: StmtKind
    binds: set[str]  # names bound afresh (a plain assignment)
    changes: set[str]  # names bound conditionally or changed in place
    reads: set[str]
    root: bool  # produces a result by itself


def _last_name(func: ast.expr) -> str:
    if isinstance(func, ast.Attribute):
        return func.attr
    return func.id if isinstance(func, ast.Name) else ""


def _root_name(node: ast.expr) -> str | None:
    while isinstance(node, (ast.Attribute, ast.Subscript, ast.Call, ast.Starred)):
        node = node.func if isinstance(node, ast.Call) else node.value
    return node.id if isinstance(node, ast.Name) else None


def _calls(node: ast.AST) -> Iterable[ast.Call]:
    return (n for n in ast.walk(node) if isinstance(n, ast.Call))


def _is_result_call(call: ast.Call) -> bool:
    last = _last_name(call.func)
    if last in _REPORTING:
        return False
    if last in _MODEL_CALLS or last in _METRIC_CALLS or last.endswith(_METRIC_SUFFIXES):
        return True
    if any(k.arg == "inplace" and isinstance(k.value, ast.Constant) and k.value.value is True
           for k in call.keywords):
        return True
    effect = classify_call(call)
    return effect is not None and effect[0] == "file_write"


def _targets(stmt: ast.stmt) -> list[ast.expr]:
    if isinstance(stmt, ast.Assign):
        return list(stmt.targets)
    if isinstance(stmt, (ast.AnnAssign, ast.AugAssign)):
        return [stmt.target]
    return []


def _names_in(target: ast.expr) -> tuple[set[str], set[str]]:
    """(names bound, names changed in place) by an assignment target."""
    if isinstance(target, ast.Name):
        return {target.id}, set()
    if isinstance(target, (ast.Tuple, ast.List)):
        bound: set[str] = set()
        changed: set[str] = set()
        for element in target.elts:
            b, c = _names_in(element)
            bound |= b
            changed |= c
        return bound, changed
    if isinstance(target, ast.Starred):
        return _names_in(target.value)
    root = _root_name(target)  # df["x"] = ..., obj.attr = ...
    return set(), {root} if root else set()


def _stores(node: ast.AST) -> set[str]:
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}


def _mutated(node: ast.AST) -> set[str]:
    """Names changed in place by method calls (``xs.append(v)``, ``df.dropna(inplace=True)``)."""
    found = set()
    for call in _calls(node):
        if not isinstance(call.func, ast.Attribute):
            continue
        inplace = any(k.arg == "inplace" for k in call.keywords)
        if call.func.attr in MUTATING_METHODS or inplace:
            root = _root_name(call.func.value)
            if root:
                found.add(root)
    return found


def _only_reads(value: ast.expr) -> bool:
    """A value read out of others: names, attributes, subscripts, constants, containers."""
    allowed = (ast.Name, ast.Attribute, ast.Subscript, ast.Constant, ast.Tuple, ast.List,
               ast.Load, ast.Slice)
    return all(isinstance(n, allowed) for n in ast.walk(value))


def _looks_only(stmt: ast.stmt) -> bool:
    """An expression statement, a plot object, or a block made only of those."""
    if isinstance(stmt, ast.Expr):
        return True
    if isinstance(stmt, ast.Assign) and isinstance(stmt.value, ast.Call):
        effect = classify_call(stmt.value)
        return effect is not None and effect[0] == "plot"
    if isinstance(stmt, (ast.Pass, ast.Break, ast.Continue)):
        return True
    if isinstance(stmt, _COMPOUND):
        inner = [s for s in ast.iter_child_nodes(stmt) if isinstance(s, ast.stmt)]
        handlers = [s for h in getattr(stmt, "handlers", []) for s in h.body]
        return all(_looks_only(s) for s in [*inner, *handlers])
    return False


def _pure(call: ast.Call, modules: set[str]) -> bool:
    """A call that only shows or reads: a display, plot or print, a describing builtin, a
    reading method (``df.describe()``, ``df.groupby(k).x.mean()``), a numpy/pandas function."""
    effect = classify_call(call)
    if effect is not None:
        return effect[0] in ("plot", "display", "print")
    if any(k.arg == "inplace" for k in call.keywords):
        return False
    if isinstance(call.func, ast.Name):
        return call.func.id in _PURE_BUILTINS
    if isinstance(call.func, ast.Attribute):
        return call.func.attr in _PURE_METHODS or _root_name(call.func) in modules
    return False


def _kind(stmt: ast.stmt, library: set[str], in_parameters: bool, modules: set[str]) -> StmtKind:
    if in_parameters or isinstance(stmt, (ast.Import, ast.ImportFrom)):
        return "setup"
    value = stmt.value if isinstance(stmt, (ast.Assign, ast.AnnAssign)) else None
    if value is not None and all(isinstance(t, ast.Name) for t in _targets(stmt)):
        try:
            ast.literal_eval(value)
            return "setup"  # a literal constant
        except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
            pass
    if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Await):
        value = stmt.value.value
    elif isinstance(stmt, ast.Expr):
        value = stmt.value
    if value is not None and not isinstance(stmt, ast.AugAssign):
        calls = list(_calls(value))
        if calls and all(_root_name(c.func) in library for c in calls):
            return "library"
        if (not calls and not isinstance(stmt, ast.Expr) and _only_reads(value)
                and all(isinstance(t, ast.Name) for t in _targets(stmt))):
            return "library"  # a value read out of another
    if any(_is_result_call(c) for c in _calls(stmt)) or _mutated(stmt):
        return "candidate"  # a result, or a change to a value
    if _looks_only(stmt):
        return "exploration"
    if (isinstance(stmt, ast.Assign) and all(isinstance(t, ast.Name) for t in stmt.targets)
            and all(_pure(c, modules) for c in _calls(stmt.value))):
        return "looking"  # a value read off others to look at (``corr = df.corr()``)
    return "candidate"


def _code_lines(lines: list[str], first: int, last: int) -> int:
    return sum(1 for text in lines[first - 1:last] if text.strip() and not text.strip().startswith("#"))


def _imported_names(nb: Notebook, packages: set[str]) -> tuple[set[str], set[str], set[str]]:
    """(every name the notebook imports, those imported from the team's packages:
    ``from pkg.mod import step``, ``import pkg.mod as m``, the aliases of numpy, pandas...)."""
    every: set[str] = set()
    names: set[str] = set()
    pure: set[str] = set()
    for cell in nb.iter_code():
        try:
            tree = ast.parse(translate(cell.source).python)
        except (SyntaxError, ValueError, MemoryError, RecursionError):
            continue
        for node in ast.walk(tree):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                every.update((a.asname or a.name).split(".")[0] for a in node.names)
            if isinstance(node, ast.Import):
                pure.update(a.asname or a.name.split(".")[0] for a in node.names
                            if a.name.split(".")[0] in _PURE_MODULES)
            if isinstance(node, ast.ImportFrom) and not node.level and node.module:
                if node.module.split(".")[0] in packages:
                    names.update(a.asname or a.name for a in node.names if a.name != "*")
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name.split(".")[0] in packages:
                        names.add(alias.asname or alias.name.split(".")[0])
    return every, names, pure


def _statements(nb: Notebook, packages: set[str]) -> list[_Stmt]:
    out: list[_Stmt] = []
    imported, library, modules = _imported_names(nb, packages)
    for cell in nb.iter_code():
        in_parameters = "parameters" in cell.tags
        source = translate(cell.source)
        lines = source.python.splitlines()
        try:
            tree = ast.parse(source.python)
        except (SyntaxError, ValueError, MemoryError, RecursionError):
            count = _code_lines(cell.source.splitlines(), 1, len(cell.source.splitlines()))
            out.append(_Stmt(cell.index, count, "setup" if in_parameters else "candidate",
                             set(), set(), set(), not in_parameters))
            continue
        for stmt in tree.body:
            decorators = getattr(stmt, "decorator_list", [])
            first = min([stmt.lineno, *(d.lineno for d in decorators)])
            last = stmt.end_lineno or stmt.lineno
            magic = any(isinstance(c.func, ast.Name) and c.func.id in PLACEHOLDERS for c in _calls(stmt))
            kind: StmtKind = "setup" if magic else _kind(stmt, library, in_parameters, modules)
            binds: set[str] = set()
            changes: set[str] = set()
            if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                binds = {stmt.name}
            elif isinstance(stmt, ast.AugAssign):
                changes = _names_in(stmt.target)[0] | _names_in(stmt.target)[1]
            elif isinstance(stmt, (ast.Assign, ast.AnnAssign)):
                for target in _targets(stmt):
                    b, c = _names_in(target)
                    binds |= b
                    changes |= c
            elif isinstance(stmt, ast.Delete):
                for target in stmt.targets:
                    b, c = _names_in(target)
                    changes |= b | c
            else:  # loops and blocks bind conditionally: their names are changed, not killed
                changes = _stores(stmt)
            changes |= _mutated(stmt) - binds
            reads = {n.id for n in ast.walk(stmt) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
            if isinstance(stmt, ast.AugAssign):
                reads |= changes
            root = kind == "candidate" and any(_is_result_call(c) for c in _calls(stmt))
            # a library call needs its inputs: what the notebook computed for it counts
            root = root or (kind == "library" and any(True for _ in _calls(stmt)))
            if kind == "candidate" and not root and not binds and changes and changes <= imported:
                kind = "setup"  # configures an imported module: plt.rcParams[...], sys.path
            out.append(_Stmt(cell.index, _code_lines(lines, first, last), kind, binds, changes, reads, root))
    return out


def _counted(stmts: list[_Stmt]) -> set[int]:
    """Indexes of the computing statements: the results and what they need."""
    # a value a later cell reads: every statement that made it (since its last plain
    # assignment) is a result
    makers: dict[str, list[int]] = {}
    for i, s in enumerate(stmts):
        for name in s.reads:
            for j in makers.get(name, []):
                if stmts[j].cell < s.cell and stmts[j].kind == "candidate":
                    stmts[j].root = True
        for name in s.binds:
            makers[name] = [i]
        for name in s.changes:
            makers.setdefault(name, []).append(i)
    # backward slice from the results, through library calls (their inputs count)
    needed: set[str] = set()
    sliced: set[int] = set()
    for i in range(len(stmts) - 1, -1, -1):
        s = stmts[i]
        if s.kind == "setup":
            continue
        if s.root or (s.binds | s.changes) & needed:
            sliced.add(i)
            needed -= s.binds
            needed |= s.reads
    return {i for i in sliced if stmts[i].kind in ("candidate", "looking")}


def notebook_code(nb: Notebook, library: Iterable[str] = ()) -> CodeShare:
    """``nb``'s code lines by kind; ``library``: the team's top-level package names."""
    stmts = _statements(nb, set(library))
    counted = _counted(stmts)
    computing = [stmts[i] for i in sorted(counted)]
    return CodeShare(
        computing=sum(s.lines for s in computing),
        exploration=sum(s.lines for i, s in enumerate(stmts)
                        if s.kind in ("exploration", "looking", "candidate") and i not in counted),
        library=sum(s.lines for s in stmts if s.kind == "library"),
        cells=tuple(sorted({s.cell + 1 for s in computing if s.lines})),
    )
