"""Per-cell symbol analysis: what one code cell reads, binds, mutates, defines and touches.

One ``ast`` pass with a scope stack models Python's name resolution as the notebook kernel
runs the cell at module scope. Code that runs now (the cell body, class bodies,
comprehensions, decorators, defaults) is resolved on the fly against a flow state of the
names the cell has bound so far; function and lambda bodies are resolved when their scope
closes, once all their local bindings are known.

Choices the engine makes (the tests pin each one):

* A read counts only when no binding of the name by this cell can precede it on some path
  ("maybe bound" flow: ``if c: x = 1`` then ``print(x)`` does not read ``x``; a name bound
  in the ``if`` branch is still unbound in the ``else`` branch).
* ``del x`` reads ``x`` (it fails without it) and, unless the cell binds ``x`` again later,
  lists ``x`` in ``deletes``.
* ``except E as e`` binds ``e`` (a write) and Python deletes it when the handler ends, so
  ``e`` is also in ``deletes`` unless rebound later: the cell does not provide ``e``.
* Calling a function or class defined earlier in this cell (directly, or by passing a
  function as an argument: ``df.apply(clean)``) reads its globals at the call site, which is
  also the position of those refs. Calling a class counts the globals of all its methods.
* Lambda bodies at cell level count as run where they are written (``sorted(key=lambda
  r: w[r])`` reads ``w``); lambdas inside a function or class belong to it.
* Side effects are found anywhere in the cell, function bodies included.
* Annotations are reads where Python evaluates them (module, class, signatures) unless the
  cell has ``from __future__ import annotations``.
* Refs on a line of IPython syntax point at the start of that syntax (the translated line's
  columns are not the cell's).
* ``unknown_names_from`` marks star imports, ``%run``, ``%pylab``, cell-level ``exec()`` and
  ``globals()`` writes: names bound there cannot be listed.
* A cell too deeply nested for the parser (thousands of chained operators) is reported as a
  ``syntax_error`` with a message saying so, rather than raising.
"""

from __future__ import annotations

import ast
import builtins
import re
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from nbops.core.magics import PLACEHOLDERS, CellSource, Magic, shell_text, translate

__all__ = [
    "BUILTINS",
    "MUTATING_METHODS",
    "CellSymbols",
    "FunctionInfo",
    "ImportInfo",
    "Ref",
    "SideEffect",
    "SideEffectKind",
    "SyntaxIssue",
    "analyze_cell",
    "classify_call",
    "is_builtin",
]


@dataclass(frozen=True, slots=True)
class Ref:
    """A name at a 1-based line and column within the cell."""

    name: str
    line: int
    column: int


@dataclass(frozen=True, slots=True)
class ImportInfo:
    """One imported name (``import a, b`` gives two)."""

    module: str | None  # dotted module text incl. leading dots of relative imports
    name: str | None  # imported member of a from-import, "*" for star, None for plain import
    bound: str  # name bound in the namespace ("os" for ``import os.path``), "*" for star
    line: int
    column: int
    end_line: int
    top_level: bool  # statement directly at cell top level
    is_star: bool


@dataclass(frozen=True, slots=True)
class FunctionInfo:
    """A function or class defined at cell level, with what its body needs from the module."""

    name: str
    line: int
    end_line: int
    kind: Literal["function", "class"]
    params: tuple[str, ...]  # for a class: ``__init__`` params without ``self``
    globals_read: tuple[Ref, ...]  # module names read at call time, first occurrence each
    globals_declared: tuple[str, ...]  # names in ``global`` statements
    calls: tuple[str, ...]  # module-level names it calls
    decorators: tuple[str, ...]
    globals_written: tuple[str, ...] = ()  # declared globals it assigns
    globals_mutated: tuple[str, ...] = ()  # module names whose object it mutates in place


SideEffectKind = Literal[
    "file_write",
    "file_read",
    "plot",
    "display",
    "print",
    "shell",
    "network",
    "chdir",
    "env",
    "random",
    "magic",
]


@dataclass(frozen=True, slots=True)
class SideEffect:
    """Something a cell does besides binding names."""

    kind: SideEffectKind
    line: int
    column: int
    detail: str


@dataclass(frozen=True, slots=True)
class SyntaxIssue:
    """Why the translated cell does not parse."""

    message: str
    line: int
    column: int


@dataclass(slots=True)
class CellSymbols:
    """Everything the notebook-level analyses need to know about one cell."""

    source: CellSource
    imports: list[ImportInfo] = field(default_factory=list)
    functions: dict[str, FunctionInfo] = field(default_factory=dict)  # defined at cell level
    # Ref lists hold the first occurrence per name, sorted by position.
    reads: list[Ref] = field(default_factory=list)  # from the notebook namespace
    writes: list[Ref] = field(default_factory=list)  # module-scope bindings
    mutations: list[Ref] = field(default_factory=list)  # objects changed in place
    deletes: list[Ref] = field(default_factory=list)  # left unbound at the end of the cell
    calls: list[Ref] = field(default_factory=list)  # module-level names called (not builtins)
    side_effects: list[SideEffect] = field(default_factory=list)
    syntax_error: SyntaxIssue | None = None  # when set, every other field is empty
    star_imports: bool = False
    # First line from which the cell may bind names no analysis can see: a star import,
    # ``%run``, module-level ``exec()`` or a ``globals()`` write. None when there is none.
    unknown_names_from: int | None = None
    # Evaluation-order steps of each first read / first write (source positions are not
    # evaluation order: ``df = load()`` runs load() before it binds df).
    read_steps: dict[str, int] = field(default_factory=dict, repr=False)
    write_steps: dict[str, int] = field(default_factory=dict, repr=False)
    # the parsed translation, kept so rules never parse a cell a second time
    tree: ast.Module | None = field(default=None, repr=False, compare=False)

    def binds_before(self, name: str, read: str) -> bool:
        """True when the cell binds ``name`` before its first read of ``read`` (False when
        it does not read ``read`` from the module)."""
        bound = self.write_steps.get(name)
        first_read = self.read_steps.get(read)
        return bound is not None and first_read is not None and bound < first_read


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


_NOTEBOOK_NAMES = _words(
    """
    display get_ipython In Out _ __ ___ _i _ii _iii _ih _oh _dh exit quit __builtins__
    __builtin__
    """
)
# Builtins that exist in some supported Python version but maybe not in the running one.
_VERSIONED_BUILTINS = _words(
    """
    aiter anext EncodingWarning ExceptionGroup BaseExceptionGroup PythonFinalizationError
    """
)
BUILTINS: frozenset[str] = (
    frozenset(dir(builtins)) | _VERSIONED_BUILTINS | _NOTEBOOK_NAMES | PLACEHOLDERS
) - {"__file__"}
_NUMBERED_HISTORY = re.compile(r"_i?\d+\Z")  # _5 and _i5: IPython's numbered output/input


def is_builtin(name: str) -> bool:
    """True for Python builtins, IPython's namespace names and magic placeholders."""
    return name in BUILTINS or (name[:1] == "_" and _NUMBERED_HISTORY.match(name) is not None)


MUTATING_METHODS = _words(
    """
    append extend insert pop popitem remove clear update setdefault add discard sort reverse
    appendleft extendleft popleft rotate intersection_update difference_update
    symmetric_difference_update fit partial_fit fit_transform set_params load_state_dict
    """
)
# Functions that mutate their first argument: random.shuffle(x), heapq.heappush(h, v)...
_MUTATES_FIRST_ARG = _words(
    """
    shuffle heappush heappop heapify heappushpop heapreplace setattr delattr copyto
    fill_diagonal putmask
    """
)

_READ, _CALL, _MUTATE = 0, 1, 2
_State = tuple[set[str], dict[str, FunctionInfo]]
_MODULE, _CLASS, _FUNCTION, _COMP = 0, 1, 2, 3


class _Scope:
    """One scope on the stack; ``bound`` is the flow state, ``locals`` the static bindings."""

    __slots__ = ("bound", "global_decl", "kind", "locals", "nonlocal_decl", "parent", "pending")

    def __init__(self, kind: int, parent: _Scope | None) -> None:
        self.kind = kind
        self.parent = parent
        self.bound: set[str] = set()
        self.locals: set[str] = set()
        self.global_decl: set[str] = set()
        self.nonlocal_decl: set[str] = set()
        # Function reads resolved when the scope closes: (name, line, column, use kind).
        self.pending: list[tuple[str, int, int, int]] = []


class _Owner:
    """Collects the module-level needs of one cell-level function or class."""

    __slots__ = ("calls", "declared", "mutated", "params", "reads", "written")

    def __init__(self) -> None:
        self.reads: dict[str, Ref] = {}
        self.calls: dict[str, None] = {}
        self.declared: dict[str, None] = {}
        self.written: dict[str, None] = {}
        self.mutated: dict[str, None] = {}
        self.params: tuple[str, ...] = ()

    def use(self, name: str, line: int, col: int, kind: int) -> None:
        if kind == _READ:
            if name not in self.reads and not is_builtin(name):
                self.reads[name] = Ref(name, line, col)
        elif kind == _CALL:
            if not is_builtin(name):
                self.calls.setdefault(name)
        else:
            self.mutated.setdefault(name)


# ---- side-effect vocabulary (matched on the called dotted name / last attribute) ----
_WRITE_CALLS = _words(
    """
    to_csv to_parquet to_pickle to_excel to_feather to_hdf to_sql to_stata to_netcdf to_zarr
    to_orc savefig write_text write_bytes save dump save_model save_weights save_pretrained
    savez savez_compressed savetxt imwrite imsave mkdir makedirs touch unlink rmdir rmtree
    copyfile copytree
    """
)
_WRITE_FULL = _words(
    """
    os.remove os.rename os.replace shutil.copy shutil.copy2 shutil.move
    """
)
_WRITE_IF_ARGS = frozenset({"to_json", "to_html", "to_latex", "to_markdown", "to_xml"})
_READ_CALLS = _words(
    """
    read_csv read_table read_parquet read_excel read_json read_pickle read_feather read_hdf
    read_sql read_sql_query read_sql_table read_fwf read_stata read_sas read_spss read_orc
    read_xml read_html read_text read_bytes read_file loadtxt genfromtxt fromfile load
    safe_load imread load_model load_workbook loadmat open_dataset listdir
    """
)
_OPEN_FUNCS = frozenset({"open", "io.open", "codecs.open", "gzip.open", "bz2.open", "lzma.open"})
_NETWORK_ROOTS = _words("requests httpx urllib urllib3 aiohttp wget gdown boto3")
_NETWORK_CALLS = _words(
    """
    urlopen urlretrieve download download_file hf_hub_download snapshot_download load_dataset
    get_file
    """
)
_URL = re.compile(r"(?i)(https?|ftp|s3|gs|gcs|az|abfss?)://")
_SHELL_FULL = frozenset({"os.system", "os.popen", "os.spawnl", "os.execv", "os.startfile"})
_ENV_FULL = frozenset({"os.putenv", "os.unsetenv", "load_dotenv", "dotenv.load_dotenv"})
_RANDOM_PREFIXES = tuple(
    sorted(
        _words(
            """
    np.random. numpy.random. random. torch.random. tf.random. tensorflow.random. jax.random.
    torch.cuda.manual_seed
    """
        )
    )
)
_RANDOM_CALLS = _words(
    """
    manual_seed manual_seed_all set_seed seed_everything rand randn randint randperm
    default_rng
    """
)
_PLOT_ROOTS = _words(
    """
    plt pyplot matplotlib mpl sns seaborn px plotly go alt altair bokeh hv holoviews ax axs
    axes fig
    """
)
_PLOT_CALLS = _words("plot hist boxplot imshow scatter_matrix plot_tree heatmap")
_PRINT_FULL = frozenset({"print", "pprint", "pprint.pprint", "pp"})
_CHDIR_MAGICS = frozenset({"cd", "pushd", "popd"})
_INSTALLERS = frozenset({"pip", "conda", "mamba", "micromamba", "uv"})
_ENV_MAGICS = frozenset({"env", "set_env"})
_WRITE_MAGICS = frozenset({"writefile", "file"})
_OPAQUE_MAGICS = frozenset({"run", "pylab"})  # bind names no one can list (%pylab: import *)


def _dotted(node: ast.expr) -> str | None:
    """``a.b.c`` for a chain of attributes on a name, else None."""
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    parts.append(node.id)
    return ".".join(reversed(parts))


def _root(node: ast.expr) -> ast.Name | None:
    """The name at the bottom of ``x.a[0].b``; None when a call or literal is in the way."""
    while isinstance(node, (ast.Attribute, ast.Subscript)):
        node = node.value
    return node if isinstance(node, ast.Name) else None


def str_value(node: ast.expr | None) -> str | None:
    """The (leading) literal text of a string or f-string argument."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr) and node.values:
        head = node.values[0]
        if isinstance(head, ast.Constant) and isinstance(head.value, str):
            return head.value
    return None


def _keyword(call: ast.Call, name: str) -> ast.expr | None:
    for kw in call.keywords:
        if kw.arg == name:
            return kw.value
    return None


def _first_arg(call: ast.Call, *names: str) -> ast.expr | None:
    if call.args and not isinstance(call.args[0], ast.Starred):
        return call.args[0]
    for name in names:
        value = _keyword(call, name)
        if value is not None:
            return value
    return None


def classify_call(call: ast.Call) -> tuple[SideEffectKind, str] | None:
    """The side effect of one call, by a fixed priority; None for an ordinary call."""
    func = call.func
    full = _dotted(func) or ""
    if isinstance(func, ast.Attribute):
        last = func.attr
    elif isinstance(func, ast.Name):
        last = func.id
    else:
        return None
    detail = full or last
    root = full.split(".", 1)[0]
    if full == "os.chdir" or last == "chdir":
        return "chdir", detail
    if full in _ENV_FULL or (full.startswith("os.environ.") and last in MUTATING_METHODS):
        return "env", detail
    if full in _SHELL_FULL or root == "subprocess":
        return "shell", detail
    if last.startswith("read_") or last in _READ_CALLS or last == "open":
        target = _first_arg(call, "filepath_or_buffer", "path", "io", "url", "file", "fname")
        text = str_value(target) if target is not None else None
        if text is not None and _URL.match(text):  # pd.read_csv("https://...")
            return "network", text
    if root in _NETWORK_ROOTS or last in _NETWORK_CALLS or last.startswith("fetch_"):
        return "network", detail
    if full in _OPEN_FUNCS or (last == "open" and isinstance(func, ast.Attribute)):
        # open(p, mode) vs path.open(mode)
        index = 1 if full in _OPEN_FUNCS else 0
        mode = _keyword(call, "mode")
        if mode is None and len(call.args) > index:
            mode = call.args[index]
        mode_text = "r" if mode is None else str_value(mode)
        if mode_text is not None and any(c in mode_text for c in "wax+"):
            return "file_write", detail
        return "file_read", detail
    if last in _WRITE_CALLS or full in _WRITE_FULL:
        return "file_write", detail
    if last in _WRITE_IF_ARGS and (
        call.args or _keyword(call, "path_or_buf") or _keyword(call, "buf")
    ):
        return "file_write", detail
    if last in _READ_CALLS:
        return "file_read", detail
    if full.startswith(_RANDOM_PREFIXES) or last in _RANDOM_CALLS:
        return "random", detail
    if root in _PLOT_ROOTS or last in _PLOT_CALLS or last.startswith("plot_") or (".plot." in full):
        return "plot", detail
    if full in _PRINT_FULL:
        return "print", detail
    if full == "display" or full.endswith(".display"):
        return "display", detail
    return None


def _magic_effect(magic: Magic) -> tuple[SideEffectKind, str]:
    """The side effect of one piece of IPython syntax; detail is its first line."""
    name = magic.name
    if magic.kind == "shell":
        return "shell", magic.args
    head = magic.text.split("\n", 1)[0].rstrip("\r")
    if magic.kind == "help":
        return "magic", head
    if name in _CHDIR_MAGICS:
        return "chdir", head
    if name in _ENV_MAGICS and ("=" in magic.args or len(magic.args.split()) > 1):
        return "env", head
    if name in _WRITE_MAGICS and magic.kind == "cell_magic":
        words = [w for w in magic.args.split() if not w.startswith("-")]
        return "file_write", words[0] if words else magic.args
    if name not in _INSTALLERS and shell_text(magic):  # %%bash, %sx, %ls aliases
        return "shell", head
    return "magic", head  # %pip install is "magic" too: see magics.is_pip_install


class _Analyzer(ast.NodeVisitor):
    """The single pass over one cell's AST."""

    def __init__(self, symbols: CellSymbols, lines: list[str], magic_cols: dict[int, int]) -> None:
        self.sym = symbols
        self.lines = lines
        self.magic_cols = magic_cols  # line -> column of the IPython syntax on it
        self.module = _Scope(_MODULE, None)
        self.scope = self.module
        self.owner: _Owner | None = None  # the cell-level def/class being visited
        self.local_funcs: dict[str, FunctionInfo] = {}  # cell-level defs currently bound
        self.future_annotations = False
        self.reads: dict[str, Ref] = {}
        self.writes: dict[str, Ref] = {}
        self.mutations: dict[str, Ref] = {}
        self.deletes: dict[str, Ref] = {}
        self.calls: dict[str, Ref] = {}
        self.step = 0  # counts first reads and first writes in evaluation order
        self.top_level: set[int] = set()  # ids of statements directly in the cell body
        self.non_ascii = (
            set()
            if "".join(lines).isascii()
            else {n for n, text in enumerate(lines, 1) if not text.isascii()}
        )

    # ---- positions ----
    def col(self, line: int, offset: int) -> int:
        """1-based character column from ast's UTF-8 byte offset."""
        if line in self.non_ascii:
            return len(self.lines[line - 1].encode()[:offset].decode(errors="ignore")) + 1
        return offset + 1

    def pos(self, node: ast.AST) -> tuple[int, int]:
        """Line and column; inside translated IPython syntax, the column of that syntax."""
        line: int = getattr(node, "lineno", 1)
        col = self.col(line, getattr(node, "col_offset", 0))
        magic_col = self.magic_cols.get(line)
        return line, col if magic_col is None or col < magic_col else magic_col

    def opaque(self, line: int) -> None:
        """From ``line`` on, the cell may bind names the analysis cannot see."""
        current = self.sym.unknown_names_from
        self.sym.unknown_names_from = line if current is None else min(current, line)

    # ---- name uses ----
    def use(self, name: str, line: int, col: int, kind: int) -> None:
        """A read, call or mutation of ``name`` in the current scope."""
        scope = self.scope
        if scope.kind == _FUNCTION:
            if name in scope.global_decl:
                if kind == _READ and name in scope.bound:
                    return  # assigned earlier in this function: no module value needed
                self.to_module(name, line, col, kind, deferred=True)
            else:
                scope.pending.append((name, line, col, kind))
            return
        if scope.kind == _CLASS:
            if name in scope.bound:
                return
        elif scope.kind == _COMP:
            if name in scope.locals:
                return
        else:
            self.to_module(name, line, col, kind, deferred=False)
            return
        self.forward(scope.parent, name, line, col, kind, deferred=False)

    def forward(
        self, target: _Scope | None, name: str, line: int, col: int, kind: int, deferred: bool
    ) -> None:
        """Resolve a free name in the enclosing scopes (class scopes are not visible)."""
        while target is not None:
            if target.kind == _FUNCTION:
                target.pending.append((name, line, col, kind))
                return
            if target.kind == _COMP and name in target.locals:
                return
            if target.kind == _MODULE:
                self.to_module(name, line, col, kind, deferred)
                return
            target = target.parent

    def to_module(self, name: str, line: int, col: int, kind: int, deferred: bool) -> None:
        """A use resolved to module scope: owned by a function, or happening now."""
        if deferred and self.owner is not None:
            self.owner.use(name, line, col, kind)
            return
        bound = name in self.module.bound
        if kind == _READ:
            if not bound and name not in self.reads and not is_builtin(name):
                self.read(name, line, col)
        elif kind == _CALL:
            if bound and name in self.local_funcs:
                if name not in self.calls:
                    self.calls[name] = Ref(name, line, col)
                self.expand(name, line, col, set())
            elif not is_builtin(name) and name not in self.calls:
                self.calls[name] = Ref(name, line, col)
        elif (bound or not is_builtin(name)) and name not in self.mutations:
            self.mutations[name] = Ref(name, line, col)

    def expand(self, name: str, line: int, col: int, seen: set[str]) -> None:
        """Run a cell-level function at a call site: its module needs happen here and now."""
        info = self.local_funcs.get(name)
        if info is None or name in seen:
            return
        seen.add(name)
        for ref in info.globals_read:
            if ref.name not in self.module.bound and ref.name not in self.reads:
                self.read(ref.name, line, col)
        for callee in info.calls:
            if callee not in self.calls:
                self.calls[callee] = Ref(callee, line, col)
            if callee in self.local_funcs and callee in self.module.bound:
                self.expand(callee, line, col, seen)
        for written in info.globals_written:
            self.write(written, line, col)
        for mutated in info.globals_mutated:
            if mutated not in self.mutations:
                self.mutations[mutated] = Ref(mutated, line, col)

    # ---- bindings ----
    def bind(self, name: str, line: int, col: int, scope: _Scope | None = None) -> None:
        scope = scope or self.scope
        kind = scope.kind
        if kind == _FUNCTION:
            if name in scope.global_decl:
                if self.owner is not None:
                    self.owner.written.setdefault(name)
            elif name not in scope.nonlocal_decl:
                scope.locals.add(name)
            scope.bound.add(name)
        elif kind == _CLASS:
            scope.bound.add(name)
        elif kind == _COMP:
            scope.locals.add(name)
        else:
            self.write(name, line, col)

    def read(self, name: str, line: int, col: int) -> None:
        self.reads[name] = Ref(name, line, col)
        self.sym.read_steps[name] = self.step
        self.step += 1

    def write(self, name: str, line: int, col: int) -> None:
        self.module.bound.add(name)
        self.local_funcs.pop(name, None)
        if name not in self.writes:
            self.writes[name] = Ref(name, line, col)
            self.sym.write_steps[name] = self.step
            self.step += 1

    def unbind(self, name: str, line: int, col: int) -> None:
        scope = self.scope
        if scope.kind == _MODULE:
            self.module.bound.discard(name)
            self.local_funcs.pop(name, None)
            if name not in self.deletes:
                self.deletes[name] = Ref(name, line, col)
        elif scope.kind == _FUNCTION:
            if name not in scope.global_decl and name not in scope.nonlocal_decl:
                scope.locals.add(name)
            scope.bound.discard(name)
        else:
            scope.bound.discard(name)

    def walrus_scope(self) -> _Scope:
        """Where ``:=`` binds: the nearest scope that is not a comprehension."""
        scope = self.scope
        while scope.kind == _COMP and scope.parent is not None:
            scope = scope.parent
        return scope

    # ---- scopes ----
    def push(self, kind: int) -> _Scope:
        scope = _Scope(kind, self.scope)
        self.scope = scope
        return scope

    def pop(self) -> None:
        scope = self.scope
        assert scope.parent is not None
        self.scope = scope.parent
        if scope.kind != _FUNCTION:
            return
        # nonlocal names are not in ``locals``: they resolve in the enclosing function.
        for name, line, col, kind in scope.pending:
            if name in scope.global_decl:
                self.to_module(name, line, col, kind, deferred=True)
            elif name not in scope.locals:
                self.forward(scope.parent, name, line, col, kind, deferred=True)

    # ---- flow state: names bound so far (+ cell-level functions at module scope) ----
    def save(self) -> _State:
        at_module = self.scope is self.module
        return set(self.scope.bound), dict(self.local_funcs) if at_module else {}

    def load(self, state: _State) -> None:
        self.scope.bound = set(state[0])
        if self.scope is self.module:
            self.local_funcs = dict(state[1])

    def join(self, *states: _State) -> None:
        """Continue from the union of the states: a name bound on some path may be bound."""
        bound: set[str] = set()
        funcs: dict[str, FunctionInfo] = {}
        for names, defs in states:
            bound |= names
            funcs.update(defs)
        self.scope.bound = bound
        if self.scope is self.module:
            self.local_funcs = funcs

    def branch(self, start: _State, *blocks: list[ast.stmt]) -> list[_State]:
        """Run alternative blocks, each from ``start``; return their end states."""
        ends: list[_State] = []
        for block in blocks:
            self.load(start)
            self.visit_block(block)
            ends.append(self.save())
        return ends

    def visit_block(self, block: list[ast.stmt]) -> None:
        for stmt in block:
            self.visit(stmt)

    def visit(self, node: ast.AST) -> None:
        # NodeVisitor.visit builds the method name per node; cache the lookup per node type.
        method = _DISPATCH.get(type(node))
        if method is None:
            found: Callable[[_Analyzer, Any], None] = getattr(
                _Analyzer, "visit_" + type(node).__name__, _Analyzer.generic_visit
            )
            method = _DISPATCH[type(node)] = found
        method(self, node)

    def visit_Constant(self, node: ast.Constant) -> None:
        pass  # NodeVisitor's own visit_Constant is a slow deprecation shim

    # ---- names and attribute chains ----
    def visit_Name(self, node: ast.Name) -> None:
        line, col = self.pos(node)
        if isinstance(node.ctx, ast.Load):
            self.use(node.id, line, col, _READ)
        elif isinstance(node.ctx, ast.Store):
            self.bind(node.id, line, col)
        else:  # del x: needs x, then unbinds it
            self.use(node.id, line, col, _READ)
            self.unbind(node.id, line, col)

    def mutate_root(self, node: ast.expr) -> None:
        root = _root(node)
        if root is not None:
            line, col = self.pos(root)
            self.use(root.id, line, col, _MUTATE)

    def visit_Attribute(self, node: ast.Attribute) -> None:
        self.visit(node.value)
        if not isinstance(node.ctx, ast.Load):
            self.mutate_root(node.value)

    def visit_Subscript(self, node: ast.Subscript) -> None:
        self.visit(node.value)
        self.visit(node.slice)
        if not isinstance(node.ctx, ast.Load):
            self.mutate_root(node.value)
            if _dotted(node.value) == "os.environ":
                line, col = self.pos(node)
                self.sym.side_effects.append(SideEffect("env", line, col, "os.environ"))
            elif _is_globals_call(node.value):
                self.opaque(node.lineno)

    # ---- statements that bind ----
    def visit_Assign(self, node: ast.Assign) -> None:
        self.visit(node.value)
        for target in node.targets:
            self.visit(target)

    def visit_AugAssign(self, node: ast.AugAssign) -> None:
        target = node.target
        if isinstance(target, ast.Name):  # x += 1 reads x, then rebinds it
            line, col = self.pos(target)
            self.use(target.id, line, col, _READ)
            self.visit(node.value)
            self.bind(target.id, line, col)
        else:
            self.visit(target)
            self.visit(node.value)

    def visit_AnnAssign(self, node: ast.AnnAssign) -> None:
        if self.scope.kind != _FUNCTION and not self.future_annotations:
            self.visit(node.annotation)
        if node.value is not None:
            self.visit(node.value)
        target = node.target
        if isinstance(target, ast.Name):
            if node.value is not None or self.scope.kind == _FUNCTION:
                line, col = self.pos(target)
                self.bind(target.id, line, col)
        else:
            self.visit(target)

    def visit_NamedExpr(self, node: ast.NamedExpr) -> None:
        self.visit(node.value)
        line, col = self.pos(node.target)
        self.bind(node.target.id, line, col, self.walrus_scope())

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            bound = alias.asname or alias.name.split(".", 1)[0]
            self.add_import(node, alias.name, None, bound)
            line, col = self.pos(alias)
            self.bind(bound, line, col)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        module = "." * node.level + (node.module or "")
        if module == "__future__" and any(a.name == "annotations" for a in node.names):
            self.future_annotations = True
        for alias in node.names:
            if alias.name == "*":
                self.sym.star_imports = True
                if self.scope is self.module:
                    self.opaque(node.lineno)
                self.add_import(node, module, "*", "*")
                continue
            bound = alias.asname or alias.name
            self.add_import(node, module, alias.name, bound)
            line, col = self.pos(alias)
            self.bind(bound, line, col)

    def add_import(self, node: ast.stmt, module: str, name: str | None, bound: str) -> None:
        line, col = self.pos(node)
        self.sym.imports.append(
            ImportInfo(
                module=module,
                name=name,
                bound=bound,
                line=line,
                column=col,
                end_line=node.end_lineno or line,
                top_level=id(node) in self.top_level,
                is_star=name == "*",
            )
        )

    def visit_Global(self, node: ast.Global) -> None:
        if self.scope.kind == _FUNCTION:
            self.scope.global_decl.update(node.names)
            if self.owner is not None:
                for name in node.names:
                    self.owner.declared.setdefault(name)

    def visit_Nonlocal(self, node: ast.Nonlocal) -> None:
        self.scope.nonlocal_decl.update(node.names)

    # ---- control flow ----
    def visit_If(self, node: ast.If) -> None:
        self.visit(node.test)
        self.join(*self.branch(self.save(), node.body, node.orelse))

    def visit_For(self, node: ast.For | ast.AsyncFor) -> None:
        self.visit(node.iter)
        start = self.save()
        self.visit(node.target)
        self.visit_block(node.body)
        self.visit_block(node.orelse)
        self.join(start, self.save())  # the loop may not run at all

    visit_AsyncFor = visit_For

    def visit_While(self, node: ast.While) -> None:
        self.visit(node.test)
        start = self.save()
        self.visit_block(node.body)
        self.visit_block(node.orelse)
        self.join(start, self.save())

    def visit_Try(self, node: ast.Try) -> None:
        start = self.save()
        self.visit_block(node.body)
        after_body = self.save()
        self.join(start, after_body)
        raised = self.save()  # a handler may start anywhere in the body
        ends = [raised]
        for handler in node.handlers:
            self.load(raised)
            self.visit(handler)
            ends.append(self.save())
        self.load(after_body)
        self.visit_block(node.orelse)
        self.join(self.save(), *ends)
        self.visit_block(node.finalbody)

    visit_TryStar = visit_Try  # Python 3.11 ``except*``

    def visit_ExceptHandler(self, node: ast.ExceptHandler) -> None:
        if node.type is not None:
            self.visit(node.type)
        name = node.name
        if name is None:
            self.visit_block(node.body)
            return
        line, col = self.pos(node)
        text = self.lines[line - 1] if 0 < line <= len(self.lines) else ""
        found = re.search(r"\bas\s+(" + re.escape(name) + r")\b", text)
        if found is not None:
            col = len(text[: found.start(1)]) + 1
        self.bind(name, line, col)
        self.visit_block(node.body)
        # Python runs ``del name`` when the handler ends.
        end = node.end_lineno or line
        self.unbind(name, end, col if end == line else 1)

    def visit_With(self, node: ast.With | ast.AsyncWith) -> None:
        for item in node.items:
            self.visit(item.context_expr)
            if item.optional_vars is not None:
                self.visit(item.optional_vars)
        self.visit_block(node.body)

    visit_AsyncWith = visit_With

    def visit_Match(self, node: ast.Match) -> None:
        self.visit(node.subject)
        start = self.save()
        ends = [start]  # no case may match
        for case in node.cases:
            self.load(start)
            self.visit(case.pattern)
            if case.guard is not None:
                self.visit(case.guard)
            self.visit_block(case.body)
            ends.append(self.save())
        self.join(*ends)

    def visit_MatchAs(self, node: ast.MatchAs) -> None:
        if node.pattern is not None:
            self.visit(node.pattern)
        if node.name is not None:
            line, col = self.pos(node)
            self.bind(node.name, line, col)

    def visit_MatchStar(self, node: ast.MatchStar) -> None:
        if node.name is not None:
            line, col = self.pos(node)
            self.bind(node.name, line, col)

    def visit_MatchMapping(self, node: ast.MatchMapping) -> None:
        for key in node.keys:
            self.visit(key)
        for pattern in node.patterns:
            self.visit(pattern)
        if node.rest is not None:
            line, col = self.pos(node)
            self.bind(node.rest, line, col)

    # ---- definitions ----
    def visit_signature(self, args: ast.arguments, returns: ast.expr | None) -> None:
        """Defaults and (unless postponed) annotations run at definition time."""
        for default in args.defaults:
            self.visit(default)
        for kw_default in args.kw_defaults:
            if kw_default is not None:
                self.visit(kw_default)
        if self.future_annotations:
            return
        for arg in _all_args(args):
            if arg.annotation is not None:
                self.visit(arg.annotation)
        if returns is not None:
            self.visit(returns)

    def visit_FunctionDef(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        for decorator in node.decorator_list:
            self.visit(decorator)
        self.visit_signature(node.args, node.returns)
        params = tuple(arg.arg for arg in _all_args(node.args))
        outer_owner = self.owner
        cell_level = self.scope.kind == _MODULE
        if cell_level:
            self.owner = _Owner()
        elif (
            self.scope.kind == _CLASS
            and node.name == "__init__"
            and self.owner is not None
            and self.scope.parent is self.module
        ):
            self.owner.params = params[1:]
        scope = self.push(_FUNCTION)
        scope.locals.update(params)
        scope.bound.update(params)
        self.visit_block(node.body)
        self.pop()
        line, col = self.pos(node)
        owner = self.owner
        self.owner = outer_owner
        self.bind(node.name, line, col)
        if cell_level and owner is not None:
            self.define(node, "function", params, owner)

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_Lambda(self, node: ast.Lambda) -> None:
        self.visit_signature(node.args, None)
        scope = self.push(_FUNCTION)
        params = [arg.arg for arg in _all_args(node.args)]
        scope.locals.update(params)
        scope.bound.update(params)
        self.visit(node.body)
        self.pop()

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        for decorator in node.decorator_list:
            self.visit(decorator)
        for base in node.bases:
            self.visit(base)
        for keyword in node.keywords:
            self.visit(keyword.value)
        outer_owner = self.owner
        cell_level = self.scope.kind == _MODULE
        if cell_level:
            self.owner = _Owner()
        scope = self.push(_CLASS)
        scope.bound.update(("__module__", "__qualname__"))
        self.visit_block(node.body)
        self.pop()
        owner = self.owner
        self.owner = outer_owner
        line, col = self.pos(node)
        self.bind(node.name, line, col)
        if cell_level and owner is not None:
            self.define(node, "class", owner.params, owner)

    def define(
        self,
        node: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef,
        kind: Literal["function", "class"],
        params: tuple[str, ...],
        owner: _Owner,
    ) -> None:
        info = FunctionInfo(
            name=node.name,
            line=node.lineno,
            end_line=node.end_lineno or node.lineno,
            kind=kind,
            params=params,
            globals_read=tuple(owner.reads.values()),
            globals_declared=tuple(owner.declared),
            calls=tuple(owner.calls),
            decorators=tuple(_dotted(_callee(d)) or ast.unparse(d) for d in node.decorator_list),
            globals_written=tuple(owner.written),
            globals_mutated=tuple(owner.mutated),
        )
        self.sym.functions[node.name] = info
        self.local_funcs[node.name] = info

    # ---- comprehensions: the first iterable runs outside, the rest in their own scope ----
    def comprehension(self, generators: list[ast.comprehension], *elts: ast.expr) -> None:
        self.visit(generators[0].iter)
        self.push(_COMP)
        for index, generator in enumerate(generators):
            if index:
                self.visit(generator.iter)
            self.visit(generator.target)
            for condition in generator.ifs:
                self.visit(condition)
        for elt in elts:
            self.visit(elt)
        self.pop()

    def visit_ListComp(self, node: ast.ListComp) -> None:
        self.comprehension(node.generators, node.elt)

    def visit_SetComp(self, node: ast.SetComp) -> None:
        self.comprehension(node.generators, node.elt)

    def visit_GeneratorExp(self, node: ast.GeneratorExp) -> None:
        self.comprehension(node.generators, node.elt)

    def visit_DictComp(self, node: ast.DictComp) -> None:
        self.comprehension(node.generators, node.key, node.value)

    def visit_BinOp(self, node: ast.BinOp) -> None:
        # Iterative over the left spine: ``a + b + ... + z`` can be thousands deep.
        rights: list[ast.expr] = []
        left: ast.expr = node
        while isinstance(left, ast.BinOp):
            rights.append(left.right)
            left = left.left
        self.visit(left)
        for right in reversed(rights):
            self.visit(right)

    # ---- calls: calls, callbacks, mutations, side effects ----
    def visit_Call(self, node: ast.Call) -> None:
        func = node.func
        self.visit(func)
        for arg in node.args:
            self.visit(arg)
        for keyword in node.keywords:
            self.visit(keyword.value)
        if isinstance(func, ast.Name):
            if func.id in PLACEHOLDERS:
                return  # magics: their effects come from the Magic records
            if func.id in ("exec", "execfile") and self.scope is self.module:
                self.opaque(node.lineno)
            line, col = self.pos(func)
            self.use(func.id, line, col, _CALL)
            if func.id in _MUTATES_FIRST_ARG and node.args:
                self.mutate_root(node.args[0])
        elif isinstance(func, ast.Attribute):
            name = func.attr
            if name == "update" and _is_globals_call(func.value):
                self.opaque(node.lineno)
            inplace = _keyword(node, "inplace")
            if (
                name in MUTATING_METHODS
                or (name.endswith("_") and not name.startswith("_"))  # torch x.add_()
                or (isinstance(inplace, ast.Constant) and inplace.value is True)
            ):
                self.mutate_root(func.value)
            if name in _MUTATES_FIRST_ARG and node.args:
                self.mutate_root(node.args[0])
            root = _root(func)
            if root is not None and root.id in self.local_funcs:  # Model.build(): runs Model
                line, col = self.pos(root)
                self.use(root.id, line, col, _CALL)
        # A cell-level function (not class) passed as an argument is called by the callee.
        for value in (*node.args, *(kw.value for kw in node.keywords)):
            if (
                isinstance(value, ast.Name)
                and value.id in self.local_funcs
                and self.local_funcs[value.id].kind == "function"
            ):
                line, col = self.pos(value)
                self.use(value.id, line, col, _CALL)
        effect = classify_call(node)
        if effect is not None:
            line, col = self.pos(node)
            self.sym.side_effects.append(SideEffect(effect[0], line, col, effect[1]))


_DISPATCH: dict[type[ast.AST], Callable[[_Analyzer, Any], None]] = {}


def _is_globals_call(node: ast.expr) -> bool:
    """``globals()`` (or ``vars()`` at module level, which is the same dict)."""
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id in ("globals", "vars")
        and not node.args
    )


def _callee(node: ast.expr) -> ast.expr:
    return node.func if isinstance(node, ast.Call) else node


def _all_args(args: ast.arguments) -> list[ast.arg]:
    found = [*args.posonlyargs, *args.args]
    if args.vararg is not None:
        found.append(args.vararg)
    found.extend(args.kwonlyargs)
    if args.kwarg is not None:
        found.append(args.kwarg)
    return found


def _by_position(refs: dict[str, Ref]) -> list[Ref]:
    return sorted(refs.values(), key=lambda ref: (ref.line, ref.column))


_NOT_DISPLAYED = frozenset({"print", "display", "file_write", "chdir", "env", "plot"})


def _display_effect(tree: ast.Module, lines: list[str], analyzer: _Analyzer) -> SideEffect | None:
    """The implicit display of a cell's last bare expression (unless ``;`` hides it)."""
    if not tree.body or not isinstance(tree.body[-1], ast.Expr):
        return None
    value = tree.body[-1].value
    if isinstance(value, ast.Call):
        # Magics, and calls that are effects of their own (mostly returning None), are not.
        name = _dotted(value.func) or ""
        effect = classify_call(value)
        if (
            name in PLACEHOLDERS
            or "seed" in name
            or (effect is not None and effect[0] in _NOT_DISPLAYED)
        ):
            return None
    end_line = value.end_lineno or value.lineno
    if 0 < end_line <= len(lines):
        tail = lines[end_line - 1].encode()[value.end_col_offset or 0 :].decode(errors="ignore")
        if tail.lstrip().startswith(";"):
            return None
    line, col = analyzer.pos(value)
    return SideEffect("display", line, col, "last expression")


def analyze_cell(source: str | CellSource) -> CellSymbols:
    """Analyze one code cell; a ``str`` is first translated from IPython syntax."""
    cell = translate(source) if isinstance(source, str) else source
    symbols = CellSymbols(source=cell)
    try:
        with warnings.catch_warnings():  # invalid escapes etc. are the linter's to report
            warnings.simplefilter("ignore")
            tree = ast.parse(cell.python)
    except (RecursionError, MemoryError):  # MemoryError: the parser's own nesting limit
        symbols.syntax_error = SyntaxIssue("too deeply nested to parse", 1, 1)
        return symbols
    except SyntaxError as error:
        symbols.syntax_error = SyntaxIssue(
            message=error.msg or "invalid syntax",
            line=error.lineno or 1,
            column=error.offset or 1,
        )
        return symbols
    except ValueError as error:  # null bytes in the source
        symbols.syntax_error = SyntaxIssue(message=str(error), line=1, column=1)
        return symbols
    symbols.tree = tree
    lines = cell.python.split("\n")  # ast counts only newlines (not form feeds) as breaks
    magic_cols: dict[int, int] = {}
    for magic in cell.magics:
        last = magic.line if magic.kind == "cell_magic" else magic.end_line
        for line in range(magic.line, last + 1):
            magic_cols[line] = magic.column if line == magic.line else 1
    analyzer = _Analyzer(symbols, lines, magic_cols)
    analyzer.top_level = {id(stmt) for stmt in tree.body}
    try:
        analyzer.visit_block(tree.body)
    except RecursionError:
        return CellSymbols(
            source=cell, syntax_error=SyntaxIssue("too deeply nested to analyse", 1, 1)
        )
    module = analyzer.module
    for magic in cell.magics:
        for name in magic.assigned_to:
            analyzer.write(name, magic.line, magic.column)
        if magic.name in _OPAQUE_MAGICS and magic.kind in ("line_magic", "automagic"):
            analyzer.opaque(magic.line)  # %run script.py defines whatever the script defines
        kind, detail = _magic_effect(magic)
        symbols.side_effects.append(SideEffect(kind, magic.line, magic.column, detail))
    display = _display_effect(tree, lines, analyzer)
    captured = cell.cell_magic is not None and cell.cell_magic.name == "capture"
    if display is not None and not captured:
        symbols.side_effects.append(display)
    symbols.side_effects.sort(key=lambda effect: (effect.line, effect.column))
    symbols.reads = _by_position(analyzer.reads)
    symbols.writes = _by_position(analyzer.writes)
    symbols.mutations = _by_position(analyzer.mutations)
    # Net deletes only: a name bound again after its ``del`` stays provided.
    symbols.deletes = [
        ref for ref in _by_position(analyzer.deletes) if ref.name not in module.bound
    ]
    symbols.calls = _by_position(analyzer.calls)
    return symbols
