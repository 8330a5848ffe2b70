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
  ``for``/``if``/``with`` blocks of such statements too; so is a statement using what only a
  running kernel has (``get_ipython()``, a display handle, an ipywidgets or IPython object
  other than the display functions) or a value made from it;
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

__all__ = [
    "PURE_BUILTINS",
    "PURE_METHODS",
    "PURE_MODULES",
    "Slice",
    "assign_targets",
    "clock_names",
    "imported_modules",
    "kernel_state",
    "slice_notebook",
]

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
    get_feature_names_out get_params strftime isoformat total_seconds timestamp item
    hexdigest""".split()  # noqa: SIM905
) | (
    _DRAWING := frozenset(  # drawing on a figure or axes (matplotlib), styling a table
    """scatter bar barh legend axhline axvline axhspan axvspan set_xlabel set_ylabel
    set_title set_xlim set_ylim set_xticks set_yticks set_xticklabels set_yticklabels grid
    annotate text suptitle tight_layout subplots_adjust colorbar fill_between errorbar pie
    contour contourf pcolormesh matshow step stem violinplot twinx twiny invert_xaxis
    invert_yaxis set_aspect axis set_facecolor tick_params set_xscale set_yscale loglog
    semilogx semilogy add_subplot add_axes set_size_inches autofmt_xdate barplot lineplot
    scatterplot histplot countplot boxplot kdeplot show imshow plot hist area line
    highlight_null set_properties set_table_styles add_patch add_artist add_collection
    add_line figtext set_visible set_ticks_position set_major_formatter set_major_locator
    set_minor_locator set_label_position set_linewidth set_color""".split()  # noqa: SIM905
    )
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
# the kernel's own machinery: a value from these lives only in a running notebook
_KERNEL_MODULES = frozenset({"IPython", "ipywidgets", "ipykernel", "comm"})
# names of those modules that only show (a display, not a piece of the kernel)
_SHOW_ONLY = frozenset(
    """display clear_output update_display publish_display_data HTML Markdown Image Latex SVG
    JSON Math Javascript IFrame Audio Video YouTubeVideo FileLink FileLinks Code Pretty
    display_html display_markdown display_png display_jpeg display_svg display_latex
    display_json display_javascript display_pretty set_matplotlib_formats""".split()  # noqa: SIM905
)


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
    # cell -> leading slim statements, shown before the step's call (`print(df.shape)` before
    # `df = df.dropna()`); only the first cell with code of a step keeps them (demote_head)
    heads: dict[int, list[int]] = field(default_factory=dict)
    head_reads: dict[int, set[str]] = field(default_factory=dict)  # cell -> names its head reads
    # cell -> (what the head binds, what it reads): the library's when the head is demoted
    _head_names: dict[int, tuple[set[str], set[str]]] = field(default_factory=dict)
    # cells whose slim part draws (ax.plot, plt.title...): in the slim notebook it shares the
    # step call's cell, so a figure the cell made is drawn before Jupyter shows it
    draws: set[int] = field(default_factory=set)

    def slim_statements(self, cell: int) -> set[int]:
        """The leading and trailing statements of ``cell`` that stay in the slim notebook (an
        explored cell stays whole: callers check :attr:`explored` first)."""
        return set(self.tails.get(cell, ())) | set(self.heads.get(cell, ()))

    def all_reads(self) -> set[str]:
        """Every name the slim notebook's kept statements read (leading and trailing)."""
        return set().union(*self.reads.values(), *self.head_reads.values())

    def demote_head(self, cell: int) -> None:
        """``cell``'s leading slim statements go back to the library (the cell is not the
        first of its step, so they cannot be shown before the step's call)."""
        if self.heads.pop(cell, None) is None:
            return
        self.head_reads.pop(cell, None)
        binds, loads = self._head_names.pop(cell, (set(), set()))
        self.bound.setdefault(cell, set()).update(binds)
        self.library_loads.setdefault(cell, set()).update(loads)
        self.slim_bound.get(cell, set()).difference_update(binds)
        self.slim_binds -= binds


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
        # what the cell being judged binds: a print of a timer the cell itself runs reports
        # its progress (the library logs it); a print of another cell's timer only shows it
        self.local: set[str] = set()

    def call(self, call: ast.Call) -> bool:
        if any(k.arg == "inplace" for k in call.keywords):
            return False
        effect = classify_call(call)
        if effect is not None:
            return effect[0] in ("plot", "display", "print")
        func = call.func
        if isinstance(func, ast.Name):
            if self.modules.get(func.id, "").split(".")[0] in _DISPLAY_MODULES:
                return True  # clear_output(), HTML(...), Markdown(...): made to be shown
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
                and _loads(value) & self.progress & self.local
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
        if _clocked(node.value) or (_loads(node.value) & found and isinstance(node.value, ast.BinOp)):
            found |= {t.id for t in node.targets if isinstance(t, ast.Name)}
    return found


def _clocked(value: ast.expr) -> bool:
    """True when ``value`` reads a clock (``time.time()``, ``datetime.now()``...)."""
    return any(
        isinstance(c, ast.Call)
        and (
            (isinstance(c.func, ast.Attribute) and c.func.attr in _CLOCKS)
            or (isinstance(c.func, ast.Name) and c.func.id in _CLOCKS)
        )
        for c in ast.walk(value)
    )


def assign_targets(node: ast.AST) -> list[ast.expr]:
    """The targets of an assignment (``=``, ``+=``, ``x: int = ...``); [] for anything else."""
    if isinstance(node, ast.Assign):
        return list(node.targets)
    if isinstance(node, (ast.AugAssign, ast.AnnAssign)):
        return [node.target]
    return []


def clock_names(flow: DataFlow) -> set[str]:
    """Names bound to a clock reading (``t0 = time.time()``, ``now = datetime.now()``) or to
    arithmetic on one (``elapsed = time.time() - t0``): values that differ from run to run."""
    found: set[str] = set()
    for index in sorted(flow.symbols):
        tree = flow.symbols[index].tree
        if tree is None:
            continue
        for node in ast.walk(tree):
            if not isinstance(node, ast.Assign):
                continue
            if _clocked(node.value) or (isinstance(node.value, ast.BinOp) and _loads(node.value) & found):
                found |= {n.id for t in node.targets for n in ast.walk(t) if isinstance(n, ast.Name)}
    return found


def _draws(stmt: ast.stmt) -> bool:
    """True when ``stmt`` draws on a figure (``ax.plot(...)``, ``plt.title(...)``)."""
    for node in ast.walk(stmt):
        if isinstance(node, ast.Call):
            effect = classify_call(node)
            if (effect is not None and effect[0] == "plot") or (
                isinstance(node.func, ast.Attribute) and node.func.attr in _DRAWING
            ):
                return True
    return False


# calls whose value is a figure or axes: the names bound to them are the figure's
_FIGURE_CALLS = frozenset({"subplots", "figure", "gca", "gcf", "add_subplot", "subplot", "axes", "subplot_mosaic"})


def _figure_names(flow: DataFlow) -> set[str]:
    """Names bound to a figure or axes anywhere at top level (``fig, ax = plt.subplots()``)."""
    found: set[str] = set()
    for analysed in flow.symbols.values():
        if analysed.tree is None:
            continue
        for stmt in analysed.tree.body:
            if isinstance(stmt, ast.Assign) and any(
                isinstance(c, ast.Call) and isinstance(c.func, ast.Attribute) and c.func.attr in _FIGURE_CALLS
                for c in ast.walk(stmt.value)
            ):
                found |= {n.id for t in stmt.targets for n in ast.walk(t) if isinstance(n, ast.Name)}
    return found


def _changes(stmt: ast.stmt, functions: set[str]) -> set[str]:
    """Names ``stmt`` binds or changes in place: ``x = ...``, ``df["c"] = ...``,
    ``values.sort()``, ``df.drop(..., inplace=True)``, a notebook function's arguments."""
    found = _stores(stmt)
    for node in ast.walk(stmt):
        for target in assign_targets(node):
            if isinstance(target, (ast.Subscript, ast.Attribute)):
                root = _dotted_root(target)
                if root:
                    found.add(root)
        if isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Attribute) and (
                func.attr in MUTATING_METHODS or any(k.arg == "inplace" for k in node.keywords)
            ):
                root = _dotted_root(func.value)
                if root:
                    found.add(root)
            if isinstance(func, ast.Name) and func.id in functions:
                found |= {a.id for a in node.args if isinstance(a, ast.Name)}
    return found


def _movable_drawings(
    body: list[ast.stmt],
    flags: list[bool],
    lo: int,
    hi: int,
    figures: set[str],
    functions: set[str],
) -> set[int]:
    """Positions in ``body[lo:hi]`` (between a cell's leading and trailing slim parts) of
    drawing statements that can run after the library statements that follow them: those
    change nothing the drawing reads, use no figure, draw, write or show nothing, and do not
    read what the drawing binds. Jupyter shows the figure at the end of the cell either way."""
    moved: set[int] = set()
    for pos in range(hi - 1, lo - 1, -1):
        stmt = body[pos]
        if not flags[pos] or not _draws(stmt):
            continue
        if (pos > 0 and stmt.lineno <= (body[pos - 1].end_lineno or 0)) or (
            pos + 1 < len(body) and body[pos + 1].lineno <= (stmt.end_lineno or 0)
        ):
            continue  # it shares a line with another statement
        reads, binds = _loads(stmt), _stores(stmt)
        later = [body[q] for q in range(pos + 1, hi) if q not in moved]
        if all(
            not (_changes(other, functions) & reads)
            and not (_loads(other) & (binds | (reads & figures)))
            and not any(
                isinstance(c, ast.Call)
                and (classify_call(c) or ("", ""))[0] in ("plot", "file_write", "display", "print")
                for c in ast.walk(other)
            )
            and not _draws(other)
            for other in later
        ):
            moved.add(pos)
    return moved


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


def _kernel_seeds(flow: DataFlow) -> set[str]:
    """Names whose value is a piece of the running kernel: ``get_ipython`` (unless the
    notebook defines it) and what is imported from IPython or ipywidgets, but not the
    functions that only show (``display``, ``HTML``...)."""
    written = {ref.name for analysed in flow.symbols.values() for ref in analysed.writes}
    seeds = set() if "get_ipython" in written else {"get_ipython"}
    for alias, module in imported_modules(flow).items():
        if module.split(".")[0] in _KERNEL_MODULES and alias not in _SHOW_ONLY:
            seeds.add(alias)
    return seeds


def imported_modules(flow: DataFlow) -> dict[str, str]:
    """Alias -> what it imports (``np`` -> ``numpy``, ``clear_output`` ->
    ``IPython.display.clear_output``), over the whole notebook."""
    modules: dict[str, str] = {}
    for analysed in flow.symbols.values():
        for imp in analysed.imports:
            if imp.name is None and imp.module:
                modules[imp.bound] = imp.module
            elif imp.module and imp.name and imp.name != "*":
                modules.setdefault(imp.bound, f"{imp.module}.{imp.name}")
    return modules


def kernel_state(flow: DataFlow) -> set[str]:
    """The names whose value only a running kernel has: :func:`_kernel_seeds`, and what the
    notebook's top-level statements make from them, in order (``ip = get_ipython()``,
    ``handle = display(x, display_id=True)``)."""
    names = _kernel_seeds(flow)
    for index in sorted(flow.symbols):
        tree = flow.symbols[index].tree
        target = capture_target(flow.symbols[index].source.cell_magic)
        if target is not None:
            names.add(target)
        if tree is None:
            continue
        for stmt in tree.body:
            if isinstance(stmt, (ast.Import, ast.ImportFrom)):
                continue
            if _display_handle(stmt) or _loads(stmt) & names:
                names |= _binds(stmt)
    return names


def _binds(stmt: ast.stmt) -> set[str]:
    """What a top-level statement binds: :func:`_stores`, and a def's or class's name."""
    found = _stores(stmt)
    if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        found.add(stmt.name)
    return found


def capture_target(magic: object) -> str | None:
    """``captured`` for a cell ``%%capture captured``: the kernel's record of the cell's
    output, which only a running kernel has (None for any other cell)."""
    if getattr(magic, "kind", None) != "cell_magic" or getattr(magic, "name", None) != "capture":
        return None
    words = str(getattr(magic, "args", "")).split()
    return words[0] if words and words[0].isidentifier() else None


def _display_handle(stmt: ast.stmt) -> bool:
    """True when ``stmt`` makes or updates a display by id (``display(x, display_id=True)``)."""
    return any(
        isinstance(node, ast.Call) and any(k.arg in ("display_id", "transient") for k in node.keywords)
        for node in ast.walk(stmt)
    )


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

    modules = imported_modules(flow)
    functions: set[str] = set()
    without_value: set[str] = set()
    for analysed in flow.symbols.values():
        functions.update(analysed.functions)
        if analysed.tree is not None:
            for top in analysed.tree.body:
                if isinstance(top, (ast.FunctionDef, ast.AsyncFunctionDef)) and not any(
                    isinstance(r, ast.Return) and r.value is not None for r in ast.walk(top)
                ):
                    without_value.add(top.name)
    purity = _Purity(modules, functions, _progress_names(flow))
    # what only a running kernel has (get_ipython(), display handles, widgets), and every
    # value made from it: notebook-only, so the statements using it stay in the slim notebook
    kernel_names = _kernel_seeds(flow)

    def kernel_only(stmt: ast.stmt) -> bool:
        if _display_handle(stmt) or reads(stmt) & kernel_names:
            kernel_names.update(_binds(stmt))
            return True
        return False

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
        purity.local = set().union(*(_stores(s) for s in body))
        lines = cell.source.splitlines()
        lines_of[cell.index] = lines
        if "raises-exception" in cell.tags and scrub(cell.source) == cell.source:
            # the notebook expects this cell's error and runs on: it is no library code
            slimmable[cell.index] = [True] * len(body)
            continue
        target = capture_target(magic)
        if target is not None and scrub(cell.source) == cell.source:
            # `%%capture captured`: the cell and what it records stay in the slim notebook
            kernel_names.add(target)
            kernel_names.update(*(_stores(s) for s in body))
            slimmable[cell.index] = [True] * len(body)
            continue
        slimmable[cell.index] = [
            _clean(lines, s)
            and not _loads(s) & module_state
            and (
                kernel_only(s)
                or (
                    purity.statement(s)
                    and not _constant_assignment(s)
                    and not any(s.lineno <= line <= (s.end_lineno or s.lineno) for line in magic_lines)
                )
            )
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

    # leading slim statements, before the cell's first library statement
    head: dict[int, int] = {}
    for index, flags in slimmable.items():
        body = bodies[index]
        n = 0
        while n < start[index] and flags[n]:
            n += 1
        # a statement sharing a line with the next one stays with it
        while 0 < n < len(body) and body[n].lineno <= (body[n - 1].end_lineno or 0):
            n -= 1
        head[index] = n if n < start[index] else 0
    # drawing statements between library statements join the trailing part when they can
    figures = _figure_names(flow)
    moved: dict[int, set[int]] = {
        index: _movable_drawings(bodies[index], flags, head[index], start[index], figures, functions)
        for index, flags in slimmable.items()
    }

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
                if not start[index] <= pos < end and pos >= head[index] and pos not in moved[index]:
                    for name in reads(stmt):
                        later_reads[name] = max(later_reads.get(name, (-1, -1)), (index, pos))
                    library_binds |= _stores(stmt)
        for index, body in bodies.items():
            end = len(body) - (1 if capture_of(index) else 0)
            for pos in range(start[index], end):
                if any(later_reads.get(n, (-1, -1)) > (index, pos) for n in _stores(body[pos])):
                    start[index] = pos + 1  # demote from here
                    changed = True
            for pos in range(head[index]):
                if any(later_reads.get(n, (-1, -1)) > (index, pos) for n in _stores(body[pos])):
                    head[index] = pos  # demote from here
                    changed = True
                    break
            for pos in sorted(moved[index]):
                if pos >= start[index] or any(
                    later_reads.get(n, (-1, -1)) > (index, pos) for n in _stores(body[pos])
                ):
                    moved[index].discard(pos)  # back to the library
                    changed = True
    out.explored |= shown_cells
    used = set(taken)
    modified: dict[int, set[str]] = {}
    for index, body in bodies.items():
        end = len(body) - (1 if capture_of(index) else 0)
        first = start[index]
        if first == 0 and end == len(body):
            out.explored.add(index)
        elif first < end or moved[index]:
            out.tails[index] = [id(body[p]) for p in sorted(moved[index])] + [id(s) for s in body[first:end]]
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
        tail = [body[p] for p in sorted(moved[index])] + body[first:end]
        for stmt in tail:
            shown |= _loads(stmt)
            out.slim_bound[index] |= _stores(stmt)
        out.slim_binds |= out.slim_bound[index] - library_binds
        if index in out.captured:
            shown.add(out.captured[index][1])
        fitted = _fitted(body[-1]) if end == len(body) and first == end else None
        if fitted is not None:
            out.echo[index] = fitted
            shown.add(fitted)
        if shown and (tail or index in out.captured or index in out.echo):
            out.reads[index] = shown
        if any(_draws(stmt) for stmt in tail):
            out.draws.add(index)
        lead = body[: head[index]] if first > 0 else []
        if lead:
            out.heads[index] = [id(s) for s in lead]
            out.head_reads[index] = set().union(*(_loads(s) for s in lead))
            binds = set().union(*(_stores(s) for s in lead))
            out._head_names[index] = (binds, set().union(*(reads(s) for s in lead)))
            out.slim_bound[index] |= binds
            out.slim_binds |= binds - library_binds
        library = [
            s for pos, s in enumerate(body) if not first <= pos < end and pos >= len(lead) and pos not in moved[index]
        ]
        out.bound[index] = set().union(*(_stores(s) for s in library)) if library else set()
        out.library_loads[index] = set().union(*(reads(s) for s in library)) if library else set()
        # a head may go back to the library (demote_head): its lines count
        out.sizes[index] = sum(_size(lines_of[index], s) for s in [*lead, *library])
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
