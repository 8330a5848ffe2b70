"""Tell library code from exploration: which top-level statements stay in the slim notebook.

A notebook mixes the code that produces its results (loading, cleaning, features, models,
metrics, files written) with exploration (``df.head()``, ``describe()``, plots, prints of a
value). The library holds the first; the slim notebook keeps the second and shows it from the
library's results. This is a backward slice on the statements' data flow, with exploration
recognised positively and everything else kept in the library (the safe side):

- a statement is *slimmable* when it has no effect but showing: a bare expression whose
  calls are all displays, plots, prints or known-pure reads (pandas/numpy methods and
  functions, ``len``/``round``...), nothing in place; an assignment to plain names of such a
  value when something in it describes or draws (``summary = df.describe()``,
  ``fig, ax = plt.subplots()``: a value computed otherwise and named is a result);
  recording a metric (``nbops.log_metric``, ``mlflow.log_*``) is the caller's job too;
  ``for``/``if``/``with`` blocks of such statements too;
- a *slim part* of a cell is the whole cell when every statement is slimmable, else its
  trailing run of slimmable statements (what a cell shows at its end); the values the slim
  parts bind must be read by no library statement (a fixpoint demotes those that are);
- a library cell whose last statement is a displayed value that is not pure (a score, a
  metric) keeps the computation under a name (*captured*) that its slim part displays;
- a slim part reading a value that a later library cell changes (rebinds or mutates) must be
  shown before that change: the step is cut there (*conflicts*, used by step planning).
"""

from __future__ import annotations

import ast
import builtins
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from nbops.core.dataflow import DataFlow
from nbops.core.notebook import Notebook
from nbops.core.symbols import MUTATING_METHODS, classify_call
from nbops.modularize.secrets import scrub

__all__ = ["PURE_BUILTINS", "PURE_METHODS", "PURE_MODULES", "Slice", "slice_notebook"]

# builtins whose value only describes their arguments
PURE_BUILTINS = frozenset(
    """len str repr int float bool complex round sorted list tuple dict set frozenset type
    isinstance issubclass sum min max abs any all enumerate zip range format reversed hash
    chr ord divmod pow bin hex oct ascii callable dir vars id getattr hasattr""".split()  # noqa: SIM905
)
# methods that read (pandas, numpy, str, dict): pure unless called with inplace=True
PURE_METHODS = frozenset(
    """head tail describe info sample value_counts nunique unique isnull isna notnull notna
    sum mean median mode std var sem min max count corr corrwith cov quantile groupby agg
    aggregate round astype to_string to_frame to_numpy to_list tolist to_dict to_markdown
    items keys values get copy transpose pivot_table pivot melt stack unstack duplicated
    idxmax idxmin argmax argmin argsort cumsum cumprod memory_usage nlargest nsmallest
    sort_values sort_index reset_index set_index query filter where mask select_dtypes dropna
    fillna drop drop_duplicates rename replace apply map applymap isin between clip abs diff
    pct_change rolling expanding resample shift rank style format background_gradient
    highlight_max highlight_min bar set_caption hide join split rsplit strip lstrip rstrip
    lower upper title capitalize startswith endswith find count_nonzero reshape flatten ravel
    squeeze any all prod dot nonzero first last nth size iterrows itertuples explode
    get_feature_names_out get_params""".split()  # noqa: SIM905
) | frozenset(  # drawing on a figure or axes (matplotlib), styling a table
    """scatter bar barh legend axhline axvline axhspan axvspan set_xlabel set_ylabel
    set_title set_xlim set_ylim set_xticks set_yticks set_xticklabels set_yticklabels grid
    annotate text suptitle tight_layout subplots_adjust colorbar fill_between errorbar pie
    contour contourf pcolormesh matshow step stem violinplot twinx twiny invert_xaxis
    invert_yaxis set_aspect axis set_facecolor tick_params set_xscale set_yscale loglog
    semilogx semilogy add_subplot add_axes set_size_inches autofmt_xdate barplot lineplot
    scatterplot histplot countplot boxplot kdeplot show imshow plot hist area line
    highlight_null set_properties set_table_styles""".split()  # noqa: SIM905
)
# methods whose value describes data for a reader (a named one is still exploration)
_DESCRIBING = frozenset(
    """head tail describe info sample value_counts nunique unique isnull isna notnull notna
    corr corrwith cov memory_usage to_string to_markdown style background_gradient
    highlight_max highlight_min set_caption nlargest nsmallest subplots figure""".split()  # noqa: SIM905
)
# modules whose functions compute without effects (random, file I/O are classified as effects)
PURE_MODULES = frozenset({"numpy", "pandas", "math", "statistics", "scipy", "scipy.stats"})
# libraries whose objects are made to be shown (a call on them draws)
_DISPLAY_MODULES = frozenset(
    {"matplotlib", "seaborn", "plotly", "bokeh", "holoviews", "hvplot", "altair", "panel",
     "geoviews", "folium", "IPython", "ipywidgets"}
)
# cell magics whose cell only shows something (kept in the slim notebook as written)
_DISPLAY_CELL_MAGICS = frozenset({"html", "HTML", "javascript", "js", "latex", "markdown", "svg"})
# trackers whose log_* calls record results: they stay with the caller (the slim notebook)
_TRACKERS = frozenset({"nbops", "mlflow", "wandb"})


@dataclass
class Slice:
    """Where each code cell's statements go. Cells are 0-based indexes; statements ``id()``s
    of the nodes in the data flow's trees."""

    explored: set[int] = field(default_factory=set)  # whole cells kept in the slim notebook
    tails: dict[int, list[int]] = field(default_factory=dict)  # cell -> trailing slim statements
    captured: dict[int, tuple[int, str]] = field(default_factory=dict)  # cell -> (stmt, name)
    # cell -> the name the slim notebook shows after it: the model a cell ending in
    # `model.fit(...)` showed (scikit-learn's fit returns the estimator)
    echo: dict[int, str] = field(default_factory=dict)
    reads: dict[int, set[str]] = field(default_factory=dict)  # cell -> names its slim part reads
    conflicts: set[tuple[int, int]] = field(default_factory=set)  # (slim part's cell, later cell)
    sizes: dict[int, int] = field(default_factory=dict)  # cell -> lines of library code
    slim_binds: set[str] = field(default_factory=set)  # names only slim parts bind
    bound: dict[int, set[str]] = field(default_factory=dict)  # cell -> what its library code binds
    slim_bound: dict[int, set[str]] = field(default_factory=dict)  # cell -> what its slim part binds
    library_loads: dict[int, set[str]] = field(default_factory=dict)  # cell -> what its library reads

    def slim_statements(self, cell: int) -> set[int]:
        """The trailing statements of ``cell`` that stay in the slim notebook (an explored
        cell stays whole: callers check :attr:`explored` first)."""
        return set(self.tails.get(cell, ()))


def _dotted(node: ast.expr) -> str:
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
    return ".".join(reversed(parts))


def _dotted_root(node: ast.expr) -> str | None:
    while isinstance(node, (ast.Attribute, ast.Subscript, ast.Call)):
        node = node.func if isinstance(node, ast.Call) else node.value
    return node.id if isinstance(node, ast.Name) else None


class _Purity:
    """Decides whether an expression or statement only shows or reads."""

    def __init__(self, modules: dict[str, str], functions: set[str], progress: set[str]) -> None:
        self.modules = modules  # alias -> imported module (``np`` -> ``numpy``)
        self.functions = functions  # the notebook's own functions and classes
        self.progress = progress  # counters and timers: a print of them reports progress

    def call(self, call: ast.Call) -> bool:
        if any(k.arg == "inplace" for k in call.keywords):
            return False
        effect = classify_call(call)
        if effect is not None:
            return effect[0] in ("plot", "display", "print")
        func = call.func
        if isinstance(func, ast.Name):
            return func.id in PURE_BUILTINS and func.id not in self.functions
        if not isinstance(func, ast.Attribute):
            return False
        if func.attr in MUTATING_METHODS:
            return False
        root = _dotted_root(func.value)
        dotted = _dotted(func)
        if (self.modules.get(root or "", "").split(".")[0] in _DISPLAY_MODULES) or ".hvplot." in f".{dotted}.":
            return True  # holoviews, hvplot, bokeh, altair...: objects made to be shown
        if func.attr.startswith("log_") and self.modules.get(root or "", "").split(".")[0] in _TRACKERS:
            return True  # recording a metric: the caller's (the slim notebook's) job
        if root in self.modules and self.modules[root] == "os" and _dotted(func).startswith(f"{root}.path."):
            return True  # os.path.exists, join...: reads
        if isinstance(func.value, ast.Name) and root in self.modules:
            module = self.modules[root]
            return module in PURE_MODULES or module.split(".", 1)[0] in {"numpy", "pandas", "math"}
        return func.attr in PURE_METHODS

    def describes(self, node: ast.AST) -> bool:
        """True when ``node`` calls something that describes, displays or draws."""
        for sub in ast.walk(node):
            if not isinstance(sub, ast.Call):
                continue
            effect = classify_call(sub)
            if effect is not None and effect[0] in ("plot", "display", "print"):
                return True
            if isinstance(sub.func, ast.Attribute) and sub.func.attr in _DESCRIBING:
                return True
        return False

    def expr(self, node: ast.AST) -> bool:
        for sub in ast.walk(node):
            if isinstance(sub, (ast.Await, ast.Yield, ast.YieldFrom, ast.NamedExpr, ast.Lambda)):
                return False
            if isinstance(sub, ast.Call) and not self.call(sub):
                return False
        return True

    def statement(self, stmt: ast.stmt) -> bool:
        if isinstance(stmt, ast.Expr):
            value = stmt.value
            if (
                isinstance(value, ast.Call)
                and isinstance(value.func, ast.Name)
                and value.func.id == "print"
                and _loads(value) & self.progress
            ):
                return False  # "done 3 of 10 in 2.1 s": the library logs it
            return self.expr(value)
        # a value computed and named is the library's, unless what computes it describes or
        # draws (``summary = df.describe()``, ``fig, ax = plt.subplots()``)
        if isinstance(stmt, ast.Assign):
            return (
                all(_plain_target(t) for t in stmt.targets)
                and self.expr(stmt.value)
                and self.describes(stmt.value)
            )
        if isinstance(stmt, ast.AnnAssign):
            return (
                stmt.value is not None
                and _plain_target(stmt.target)
                and self.expr(stmt.value)
                and self.describes(stmt.value)
            )
        if isinstance(stmt, ast.For):
            return (
                _plain_target(stmt.target)
                and self.expr(stmt.iter)
                and all(self.statement(s) for s in stmt.body + stmt.orelse)
            )
        if isinstance(stmt, ast.If):
            return self.expr(stmt.test) and all(self.statement(s) for s in stmt.body + stmt.orelse)
        if isinstance(stmt, ast.With):
            return all(
                self.expr(item.context_expr)
                and (item.optional_vars is None or _plain_target(item.optional_vars))
                for item in stmt.items
            ) and all(self.statement(s) for s in stmt.body)
        return isinstance(stmt, ast.Pass)


# calls whose value is a clock reading
_CLOCKS = frozenset(
    """time perf_counter perf_counter_ns monotonic monotonic_ns process_time time_ns
    default_timer now utcnow""".split()  # noqa: SIM905
)


def _progress_names(flow: DataFlow) -> set[str]:
    """Counters (stepped with ``+=``/``-=``) and timers (clock readings and arithmetic on
    them) anywhere at the notebook's top level or in its loops."""
    found: set[str] = set()
    assignments: list[ast.Assign] = []
    for analysed in flow.symbols.values():
        if analysed.tree is None:
            continue
        for node in ast.walk(analysed.tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                continue
            if (
                isinstance(node, ast.AugAssign)
                and isinstance(node.target, ast.Name)
                and isinstance(node.op, (ast.Add, ast.Sub))
                and isinstance(node.value, ast.Constant)
            ):
                found.add(node.target.id)
            elif isinstance(node, ast.Assign):
                assignments.append(node)
    for node in assignments:  # in order: a timer read by a later one makes that one a timer
        clocked = any(
            isinstance(c, ast.Call)
            and (
                (isinstance(c.func, ast.Attribute) and c.func.attr in _CLOCKS)
                or (isinstance(c.func, ast.Name) and c.func.id in _CLOCKS)
            )
            for c in ast.walk(node.value)
        )
        if clocked or (_loads(node.value) & found and isinstance(node.value, ast.BinOp)):
            found |= {t.id for t in node.targets if isinstance(t, ast.Name)}
    return found


def _fitted(stmt: ast.stmt) -> str | None:
    """``model`` for a last statement ``model.fit(...)`` (or ``partial_fit``): what the cell
    showed is the model (scikit-learn's fit returns it)."""
    if not (isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call)):
        return None
    func = stmt.value.func
    if isinstance(func, ast.Attribute) and func.attr in ("fit", "partial_fit") and isinstance(func.value, ast.Name):
        return func.value.id
    return None


def _size(lines: list[str], stmt: ast.stmt) -> int:
    """The lines a statement will take once formatted: its lines, a long one counting as
    the lines a formatter splits it into (about one per 80 characters)."""
    text = lines[stmt.lineno - 1 : stmt.end_lineno or stmt.lineno]
    return sum(1 + len(line.rstrip()) // 80 for line in text) or 1


def _clean(lines: list[str], stmt: ast.stmt) -> bool:
    """True when the statement's text holds no secret (a secret is never copied to the slim
    notebook; the library reads it from the environment instead)."""
    text = "\n".join(lines[stmt.lineno - 1 : stmt.end_lineno or stmt.lineno])
    return scrub(text) == text


def _plain_target(target: ast.expr) -> bool:
    if isinstance(target, ast.Name):
        return True
    if isinstance(target, (ast.Tuple, ast.List)):
        return all(_plain_target(e) for e in target.elts)
    return isinstance(target, ast.Starred) and _plain_target(target.value)


def _comprehension_names(node: ast.AST) -> set[str]:
    """Names a comprehension binds for itself (``f`` in ``[g(f) for f in fs]``)."""
    return {
        n.id
        for comp in ast.walk(node)
        if isinstance(comp, ast.comprehension)
        for n in ast.walk(comp.target)
        if isinstance(n, ast.Name)
    }


def _loads(node: ast.AST) -> set[str]:
    """Names ``node`` reads from its scope (not a comprehension's own variables)."""
    names = {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
    return names - _comprehension_names(node)


def _stores(node: ast.AST) -> set[str]:
    """Names ``node`` binds in its scope (not a comprehension's own variables)."""
    names = {
        n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, (ast.Store, ast.Del))
    }
    return names - _comprehension_names(node)


def _constant_assignment(stmt: ast.stmt) -> bool:
    """``NAME = literal``: a parameter candidate, never exploration."""
    if not (isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name)):
        return False
    try:
        ast.literal_eval(stmt.value)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return False
    return True


def _capturable(stmt: ast.stmt, functions_without_value: set[str]) -> bool:
    """A last statement whose value Jupyter shows and that is worth keeping as a result."""
    if not isinstance(stmt, ast.Expr):
        return False
    value = stmt.value
    if not isinstance(
        value, (ast.Call, ast.BinOp, ast.Subscript, ast.Attribute, ast.Compare, ast.Tuple, ast.List, ast.Dict)
    ):
        return False
    for sub in ast.walk(value):
        if isinstance(sub, (ast.Await, ast.Yield, ast.YieldFrom, ast.NamedExpr)):
            return False
    if isinstance(value, ast.Call):
        func = value.func
        name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
        if name.startswith("__nbops") or name in MUTATING_METHODS or name in functions_without_value:
            return False
        if name.startswith(_NO_VALUE_PREFIXES) or _dotted_root(func) in _NO_VALUE_ROOTS:
            return False  # configuration and housekeeping: called for the effect
        if any(k.arg == "inplace" for k in value.keywords):
            return False
        effect = classify_call(value)
        if effect is not None:  # a write, a plot, a print...: called for its effect
            return False
    return True


# calls made for their effect, whose value (mostly None) is not a result
_NO_VALUE_PREFIXES = (
    "set_", "seed", "manual_seed", "filterwarnings", "simplefilter", "disable", "enable",
    "use", "configure", "basicConfig", "init", "register", "save", "dump", "write", "makedirs",
    "mkdir", "remove", "unlink", "rmtree", "chdir", "sleep", "close", "login", "start", "stop",
    "reset_", "install", "download", "upload", "print", "log", "warn", "info", "debug",
)
_NO_VALUE_ROOTS = frozenset({"warnings", "logging", "sys", "shutil", "time", "gc", "random", "subprocess"})


def _snake(name: str) -> str:
    """``predictProba`` -> ``predict_proba``, ``R2`` -> ``r2``."""
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name).lower()


def capture_name(stmt: ast.Expr) -> str:
    """The name a captured value gets before it is made unique: what computes it."""
    node: ast.AST = stmt.value
    while isinstance(node, ast.BinOp):
        node = node.left
    if isinstance(node, ast.Call):
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
        if name and name.isidentifier() and not name.startswith("_"):
            return _snake(name)
    if isinstance(node, ast.Attribute) and not node.attr.startswith("_"):
        return _snake(node.attr)
    if isinstance(node, (ast.Tuple, ast.List, ast.Dict)):
        return "summary"  # `calls, failures, mean` shown together
    return "value"


def slice_notebook(
    nb: Notebook,
    flow: DataFlow,
    *,
    hoisted: dict[int, set[int]],
    skip_cells: Iterable[int],
    taken: set[str],
    function_globals: dict[str, tuple[str, ...]] | None = None,
    library_only: Iterable[str] = (),
) -> Slice:
    """Slice ``nb``: ``hoisted`` are the module-level statements (imports, definitions),
    ``skip_cells`` the cells left out (parameters, fragments); ``taken`` the names a captured
    value must not get; ``function_globals`` the data globals each hoisted function reads
    (a call to it reads them too); ``library_only`` names only the library has (module state
    set through ``global``): a statement reading them is library code."""
    skip = set(skip_cells)
    globals_of = function_globals or {}
    module_state = set(library_only)

    def reads(stmt: ast.stmt) -> set[str]:
        found = _loads(stmt)
        for node in ast.walk(stmt):
            if isinstance(node, ast.Name) and node.id in globals_of:
                found |= set(globals_of[node.id])
        return found

    modules: dict[str, str] = {}
    functions: set[str] = set()
    without_value: set[str] = set()
    for analysed in flow.symbols.values():
        for imp in analysed.imports:
            if imp.name is None and imp.module:
                modules[imp.bound] = imp.module
            elif imp.module and imp.name and imp.name != "*":
                modules.setdefault(imp.bound, f"{imp.module}.{imp.name}")
        functions.update(analysed.functions)
        if analysed.tree is not None:
            for top in analysed.tree.body:
                if isinstance(top, (ast.FunctionDef, ast.AsyncFunctionDef)) and not any(
                    isinstance(r, ast.Return) and r.value is not None for r in ast.walk(top)
                ):
                    without_value.add(top.name)
    purity = _Purity(modules, functions, _progress_names(flow))

    # per cell: its body statements (not hoisted) and which of them are slimmable
    bodies: dict[int, list[ast.stmt]] = {}
    slimmable: dict[int, list[bool]] = {}
    lines_of: dict[int, list[str]] = {}
    shown_cells: set[int] = set()  # %%html, %%javascript...: the cell only shows
    for cell in nb.code_cells:
        symbols = flow.symbols.get(cell.index)
        if cell.index in skip or symbols is None:
            continue
        magic = symbols.source.cell_magic
        if magic is not None and magic.name in _DISPLAY_CELL_MAGICS and scrub(cell.source) == cell.source:
            shown_cells.add(cell.index)
            continue
        if symbols.tree is None:
            continue
        magic_lines = {m.line for m in symbols.source.magics}
        body = [s for s in symbols.tree.body if id(s) not in hoisted.get(cell.index, set())]
        if not body:
            continue
        bodies[cell.index] = body
        lines = cell.source.splitlines()
        lines_of[cell.index] = lines
        slimmable[cell.index] = [
            _clean(lines, s)
            and not _loads(s) & module_state
            and purity.statement(s)
            and not _constant_assignment(s)
            and not any(s.lineno <= line <= (s.end_lineno or s.lineno) for line in magic_lines)
            for s in body
        ]

    out = Slice()
    # start from the largest slim parts; demote what library statements need
    start: dict[int, int] = {}  # cell -> index of its first slim statement
    for index, flags in slimmable.items():
        body = bodies[index]
        last = len(body)
        if not flags[-1] and _capturable(body[-1], without_value):
            last -= 1
        first = last
        while first > 0 and flags[first - 1]:
            first -= 1
        start[index] = first
    # a statement sharing a line with the one before it moves with it
    for index, first in list(start.items()):
        body = bodies[index]
        while 0 < first < len(body) and body[first].lineno <= (body[first - 1].end_lineno or 0):
            first += 1
        start[index] = first

    def capture_of(index: int) -> bool:
        flags = slimmable[index]
        body = bodies[index]
        return not flags[-1] and _capturable(body[-1], without_value)

    # a slim statement binding a name a later library statement reads is library code
    changed = True
    while changed:
        changed = False
        library_binds: set[str] = set()
        later_reads: dict[str, tuple[int, int]] = {}  # name -> last library read (cell, pos)
        for index, body in bodies.items():
            end = len(body) - (1 if capture_of(index) else 0)
            for pos, stmt in enumerate(body):
                if not start[index] <= pos < end:
                    for name in reads(stmt):
                        later_reads[name] = max(later_reads.get(name, (-1, -1)), (index, pos))
                    library_binds |= _stores(stmt)
        for index, body in bodies.items():
            end = len(body) - (1 if capture_of(index) else 0)
            for pos in range(start[index], end):
                if any(later_reads.get(n, (-1, -1)) > (index, pos) for n in _stores(body[pos])):
                    start[index] = pos + 1  # demote from here
                    changed = True
    out.explored |= shown_cells
    used = set(taken)
    modified: dict[int, set[str]] = {}
    for index, body in bodies.items():
        end = len(body) - (1 if capture_of(index) else 0)
        first = start[index]
        if first == 0 and end == len(body):
            out.explored.add(index)
        elif first < end:
            out.tails[index] = [id(s) for s in body[first:end]]
        if capture_of(index):
            base = capture_name(body[-1])  # type: ignore[arg-type]
            base = base if base.isidentifier() and not hasattr(builtins, base) else f"{base}_value"
            name, k = base, 2
            if name in used:  # confusion_matrix_ (PEP 8), then opts_2, opts_3...
                name = f"{base}_"
            while name in used:
                name, k = f"{base}_{k}", k + 1
            used.add(name)
            out.captured[index] = (id(body[-1]), name)
        shown: set[str] = set()
        out.slim_bound[index] = set()
        for stmt in body[first:end]:
            shown |= _loads(stmt)
            out.slim_bound[index] |= _stores(stmt)
        out.slim_binds |= out.slim_bound[index] - library_binds
        if index in out.captured:
            shown.add(out.captured[index][1])
        fitted = _fitted(body[-1]) if end == len(body) and first == end else None
        if fitted is not None:
            out.echo[index] = fitted
            shown.add(fitted)
        if shown and (first < end or index in out.captured or index in out.echo):
            out.reads[index] = shown
        library = [s for pos, s in enumerate(body) if not first <= pos < end]
        out.bound[index] = set().union(*(_stores(s) for s in library)) if library else set()
        out.library_loads[index] = set().union(*(reads(s) for s in library)) if library else set()
        out.sizes[index] = sum(_size(lines_of[index], s) for s in library)
        symbols = flow.symbols[index]
        spans = [(s.lineno, s.end_lineno or s.lineno) for s in library]
        modified[index] = {
            r.name for r in [*symbols.writes, *symbols.mutations] if any(a <= r.line <= b for a, b in spans)
        }
        out.bound[index] |= modified[index]
        for stmt in library:
            modified[index] |= _stores(stmt)
            for node in ast.walk(stmt):  # a notebook function may change what it is given
                if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in functions:
                    modified[index] |= {a.id for a in node.args if isinstance(a, ast.Name)}
    for index, shown_names in out.reads.items():
        for later, names in modified.items():
            if later > index and later not in out.explored and names & shown_names:
                out.conflicts.add((index, later))
    return out
