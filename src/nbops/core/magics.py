"""Translate IPython cell syntax into analysable Python, keeping every line where it was.

:func:`translate` turns ``%magic``, ``%%cell_magic``, ``!shell``, ``obj?`` help and automagic
lines into calls to placeholder functions (``__nbops_magic__``, ``__nbops_shell__``,
``__nbops_help__``) on the same line, so ``ast.parse`` works and line ``i`` of the result is
line ``i`` of the cell. Every construct is recorded as a :class:`Magic`. What counts as what
follows ``IPython.core.inputtransformer2`` (without depending on IPython), with two documented
extensions: automagic lines (``pip install x``) in any cell, and ``name -flag`` automagics.

Interpolated references (``$var``, ``{expr}``) become extra placeholder arguments so data flow
sees them; they are *soft*: IPython leaves the text alone when it cannot evaluate them.
"""

from __future__ import annotations

import ast
import re
import string
import warnings
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

__all__ = [
    "AUTOMAGIC_NAMES",
    "HELP_CALL",
    "MAGIC_CALL",
    "PLACEHOLDERS",
    "PYTHON_CELL_MAGICS",
    "SHELL_CALL",
    "CellSource",
    "Magic",
    "MagicKind",
    "is_pip_install",
    "magic_identifiers",
    "shell_text",
    "translate",
]

MagicKind = Literal["line_magic", "cell_magic", "shell", "help", "automagic"]

MAGIC_CALL = "__nbops_magic__"
SHELL_CALL = "__nbops_shell__"
HELP_CALL = "__nbops_help__"
PLACEHOLDERS: frozenset[str] = frozenset({MAGIC_CALL, SHELL_CALL, HELP_CALL})

# Line magics a bare first word may invoke (IPython's, ipykernel's, aliases, common extensions).
AUTOMAGIC_NAMES: frozenset[str] = frozenset(
    """
    aimport alias alias_magic autoawait autocall autoreload automagic autosave autotime
    bookmark cat cd clear code_wrap colors conda config connect_info cp debug dhist dirs
    doctest_mode dotenv ed edit env gui hist history killbgscripts ldir less lf lk ll load
    load_ext loadpy logoff logon logstart logstate logstop lprun ls lsmagic lx macro magic
    mamba man matplotlib memit micromamba mkdir more mprun mv notebook page pastebin pdb pdef
    pdoc pfile pinfo pinfo2 pip popd pprint precision prun psearch psource pushd pwd pycat
    pylab qtconsole quickref recall rehashx reload_ext rep rerun reset reset_selective rm rmdir
    run save sc set_env sql store sx system tb tensorboard time timeit unalias unload_ext uv
    watermark who who_ls whos xdel xmode
    """.split()  # noqa: SIM905 - a word list reads better than 120 quoted strings
)

# Cell magics whose body is Python source (everything else is opaque text). The body does not
# always run in the kernel's namespace: %%timeit/%%memit bodies bind nothing there, %%python(3)
# runs a subprocess and %%px runs on ipyparallel engines.
PYTHON_CELL_MAGICS: frozenset[str] = frozenset(
    {"time", "timeit", "capture", "prun", "debug", "memit", "python", "python3", "ipytest", "px"}
)

# Magics whose statement argument is kept as Python, with their getopt option specs.
_STMT_MAGICS: dict[str, str] = {
    "time": "",
    "timeit": "n:r:tcp:qo",
    "prun": "D:l:rs:T:q",
    "memit": "r:t:i:coq",
}
# IPython's @no_var_expand magics: no $var / {expr} interpolation in their arguments.
_NO_EXPAND = frozenset({"time", "timeit", "prun", "debug"})
_HELP_MAGICS = frozenset({"pinfo", "pinfo2"})
_INSTALLERS = frozenset({"pip", "conda", "mamba", "micromamba", "uv"})
_SHELL_ALIASES = frozenset(
    {"ls", "ll", "lf", "lk", "ldir", "lx", "cat", "cp", "mv", "rm", "rmdir", "mkdir", "man"}
)
_SHELL_CELLS = frozenset({"bash", "sh", "!", "sx", "system"})
_SHELLS = frozenset({"bash", "sh", "zsh", "dash", "ksh", "fish"})

_EOL = re.compile(r"\r\n|\r|\n")
_SPECIAL = re.compile(r"[#'\"\\()\[\]{}=?]")
_NOT_PLAIN_EQ = frozenset("=!<>:+-*/%@&|^")
_NAMES_RE = "|".join(sorted(AUTOMAGIC_NAMES, key=len, reverse=True))
# A first word that may be an automagic: magic name, blank, then not an assignment operator.
_AUTOMAGIC_HEAD = re.compile(rf"(?:{_NAMES_RE})[ \t]+(?![-+*/%&|^<>@!:=]?=)\S")
_FLAG_ARG = re.compile(r"[A-Za-z_]\w*[ \t]+--?[A-Za-z]")
# Escapes that could start IPython syntax (automagics are checked separately, faster).
_MAYBE_ESCAPE = re.compile(r"^[ \t\f]*[%!?]|=[ \t]*[%!]|\?\s*$", re.MULTILINE)
# IPython's _help_end_re: the inspected target right before the final ? or ??.
_HELP_END = re.compile(r"(%{0,2}(?!\d)[\w*]+(?:\.(?!\d)[\w*]+|\[-?[0-9]+\])*)(\?\??)$")
# IPython's DollarFormatter: $name or $name.attr outside single quotes; $$ escapes.
_DOLLAR = re.compile(r"(.*?)\$(\$?[\w\.]+)(?=([^']*'[^']*')*[^']*$)")
_SQL_TARGET = re.compile(r"\s*([A-Za-z_]\w*)\s*<<")


@dataclass(frozen=True, slots=True)
class Magic:
    """One piece of IPython syntax in a cell; lines and columns are 1-based."""

    kind: MagicKind
    name: str
    args: str
    line: int
    end_line: int
    column: int
    text: str
    assigned_to: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class CellSource:
    """A cell's original text and its line-for-line Python translation."""

    original: str
    python: str
    magics: tuple[Magic, ...]
    cell_magic: Magic | None
    body_is_python: bool

    def line_has_magic(self, line: int) -> bool:
        """True when 1-based ``line`` of :attr:`python` is not the original Python code."""
        for m in self.magics:
            if m.kind == "cell_magic" and m.name in PYTHON_CELL_MAGICS:
                if line == m.line:  # only the header; the body is real Python
                    return True
            elif m.line <= line <= m.end_line:
                return True
        return False


def translate(source: str) -> CellSource:
    """Translate one code cell; never raises on bad input (callers run ``ast.parse``).

    Beyond IPython's own rules: a bare ``pip install x`` is an automagic in any cell (IPython
    applies automagic to one-line cells only), and so is ``name -flag`` (``reset -f``) although
    it parses as a subtraction; ``%store -r x``, ``%sql x << ...`` and ``%%capture x`` bind
    ``x``; ``%time``-like statements stay Python; a ``%%timeit``/``%%memit``/``%%prun`` header
    statement follows the placeholder after ``;``. The ``column`` of a trailing-``?`` help is
    where its line's code starts (IPython replaces that whole line).
    """
    if "\r" not in source and not _maybe_magic(source):
        return CellSource(source, source, (), None, True)
    tr = _Translator(source)
    cell_magic, body_is_python = tr.run(0)
    python = "".join(out + end for out, end in zip(tr.out, tr.ends))
    magics = tuple(sorted(tr.magics, key=lambda m: (m.line, m.column)))
    return CellSource(source, python, magics, cell_magic, body_is_python)


def _maybe_magic(source: str) -> bool:
    """Cheap superset test: False guarantees the cell holds no IPython syntax."""
    if ("%" in source or "!" in source or "?" in source) and _MAYBE_ESCAPE.search(source):
        return True
    for line in source.split("\n"):  # a possible automagic: magic name, blank, not "="
        words = line.lstrip(" \t\f").split(None, 1)
        if len(words) == 2 and words[0] in AUTOMAGIC_NAMES and words[1][:1] != "=":
            return True
    return False


def shell_text(m: Magic) -> str:
    """The command line ``m`` hands to the system shell, or ``""`` when it runs none.

    Shell escapes give their command, ``%sx``/``%system`` their argument, installer and
    shell-alias magics (``%pip``, ``%ls``) ``"name args"``, and shell cell magics
    (``%%bash``, ``%%sh``, ``%%script bash``) their body.
    """
    if m.kind == "shell":
        return m.args
    if m.kind in ("line_magic", "automagic"):
        if m.name in ("sx", "system"):
            return m.args
        if m.name in _INSTALLERS or m.name in _SHELL_ALIASES:
            return f"{m.name} {m.args}".rstrip()
        return ""
    if m.kind == "cell_magic":
        first = m.args.split(maxsplit=1)[0] if m.args.strip() else ""
        if m.name in _SHELL_CELLS or (m.name == "script" and first.rsplit("/", 1)[-1] in _SHELLS):
            parts = _EOL.split(m.text, maxsplit=1)
            return parts[1] if len(parts) > 1 else ""
    return ""


def is_pip_install(m: Magic) -> bool:
    """True for pip/conda/mamba/uv installs: ``%pip install``, ``!pip install``,
    ``!python -m pip install``, ``!conda install`` or a shell cell magic running one."""
    if m.kind in ("line_magic", "automagic") and m.name in _INSTALLERS:
        cmd = f"{m.name} {m.args}"
    else:
        cmd = shell_text(m)
    return any(_installs(seg.split()) for seg in re.split(r"&&|\|\||[;|\n]", cmd))


def _installs(words: list[str]) -> bool:
    """Whether one simple shell command (split into words) installs Python packages."""
    while words and (words[0] == "sudo" or re.fullmatch(r"\w+=\S*", words[0])):
        words = words[1:]  # drop sudo and VAR=value prefixes
    if not words:
        return False
    exe = words[0].rsplit("/", 1)[-1].lower()
    rest = [w for w in words[1:] if not w.startswith("-")]
    if re.fullmatch(r"pip[\d.]*", exe) or exe in ("conda", "mamba", "micromamba"):
        return rest[:1] == ["install"]
    if exe == "uv":
        return rest[:2] == ["pip", "install"]
    if "python" in exe or "sys.executable" in exe:
        for i, w in enumerate(words[1:-1], start=1):
            if w == "-m" and re.fullmatch(r"pip[\d.]*", words[i + 1]):
                return [w2 for w2 in words[i + 2 :] if not w2.startswith("-")][:1] == ["install"]
            if re.fullmatch(r"-mpip[\d.]*", w):
                return [w2 for w2 in words[i + 1 :] if not w2.startswith("-")][:1] == ["install"]
    return False


# ---------------------------------------------------------------------------------------------
# Helpers producing placeholder code
# ---------------------------------------------------------------------------------------------


def _parses(code: str, mode: Literal["exec", "eval"] = "exec") -> ast.AST | None:
    """``ast.parse`` that returns None on failure and keeps its SyntaxWarnings to itself."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return ast.parse(code, mode=mode)
    except (SyntaxError, ValueError, MemoryError, RecursionError):
        return None


def _expr_arg(expr: str) -> str:
    """Render an expression as one call argument (parenthesised unless it is atomic)."""
    tree = _parses(expr, "eval")
    atomic = isinstance(tree, ast.Expression) and isinstance(
        tree.body, (ast.Name, ast.Attribute, ast.Call, ast.Subscript, ast.Constant)
    )
    return expr if atomic else f"({expr})"


def _call(fn: str, strs: tuple[str, ...], exprs: list[str]) -> str:
    return f"{fn}({', '.join([repr(s) for s in strs] + [_expr_arg(e) for e in exprs])})"


def _interpolations(args: str) -> list[str]:
    """Expressions IPython's var_expand would evaluate in ``args`` (those naming something)."""
    if "$" not in args and "{" not in args:
        return []
    try:
        parsed = list(string.Formatter().parse(args))
    except ValueError:
        return []  # IPython gives up on the whole string too
    found: list[str] = []
    for literal, field, spec, _conv in parsed:
        for m in _DOLLAR.finditer(literal):
            if not m.group(2).startswith("$"):
                found.append(m.group(2))
        if field:
            found.append(f"{field}:{spec}" if spec else field)
    exprs: list[str] = []
    for expr in found:
        expr = expr.strip()
        tree = _parses(expr, "eval")
        if (
            tree is not None
            and expr not in exprs
            and any(isinstance(n, ast.Name) for n in ast.walk(tree))
        ):
            exprs.append(expr)
    return exprs


def _strip_options(args: str, spec: str) -> str:
    """Drop leading getopt-style options (``spec`` as in getopt, plus any --long flag)."""
    takes_value = {spec[i] for i in range(len(spec) - 1) if spec[i + 1] == ":"}
    rest = args.lstrip()
    while rest.startswith("-") and len(rest) > 1:
        token, _, after = rest.partition(" ")
        after = after.lstrip()
        if not token.startswith("--"):
            for k, letter in enumerate(token[1:], start=1):
                if letter in takes_value:
                    if k == len(token) - 1:  # value is the next word
                        _, _, after = after.partition(" ")
                        after = after.lstrip()
                    break
        rest = after
    return rest


def _names(target: ast.expr) -> list[str]:
    if isinstance(target, ast.Name):
        return [target.id]
    if isinstance(target, (ast.Tuple, ast.List)):
        return [n for elt in target.elts for n in _names(elt)]
    if isinstance(target, ast.Starred):
        return _names(target.value)
    return []


def _assigned_names(lhs: str) -> tuple[str, ...]:
    """Names bound by an assignment whose left side (ending in ``=``) is ``lhs``."""
    for text in (lhs.lstrip(), re.split(r"[;:]", lhs)[-1].lstrip()):
        tree = _parses(text + "None")
        if tree is None:
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Assign):
                return tuple(n for t in node.targets for n in _names(t))
            if isinstance(node, ast.AnnAssign):
                return tuple(_names(node.target))
        return ()
    return ()


def _magic_assigns(name: str, args: str) -> tuple[str, ...]:
    """Names a magic binds by itself: ``%store -r x y``, ``%sql out << ...``, ``%%capture out``."""
    words = args.split()
    if name == "store" and words[:1] == ["-r"]:
        return tuple(w for w in words[1:] if w.isidentifier())
    if name == "sql":
        m = _SQL_TARGET.match(args)
        return (m.group(1),) if m else ()
    if name == "capture":
        plain = [w for w in words if not w.startswith("-")]
        return (plain[0],) if plain and plain[0].isidentifier() else ()
    return ()


def _magic_code(name: str, args: str, *, keep_stmt: bool) -> tuple[str, tuple[str, ...]]:
    """Python for ``%name args`` on a line of its own, and the names it binds."""
    if name in _STMT_MAGICS:
        stmt = _strip_options(args, _STMT_MAGICS[name])
        if keep_stmt and stmt and _parses(stmt) is not None:
            return stmt, ()
        # Placeholder, but the timed expression (if one) stays visible to data flow.
        extra = [stmt] if stmt and _parses(stmt, "eval") is not None else []
        return _call(MAGIC_CALL, (name, args), extra), ()
    bound = _magic_assigns(name, args)
    code = _call(MAGIC_CALL, (name, args), [] if name in _NO_EXPAND else _interpolations(args))
    return (f"{', '.join(bound)} = {code}" if bound else code), bound


def _help_code(target: str) -> str:
    if target and "*" not in target and not target.startswith("%") and _parses(target, "eval"):
        return f"{HELP_CALL}({target})"
    return f"{HELP_CALL}({target!r})"


def _code_ends_with_q(text: str) -> bool:
    """Whether ``text`` (one line) ends in a ``?`` that is code, not string or comment."""
    if not text.rstrip().endswith("?"):
        return False
    pos, last = 0, len(text.rstrip()) - 1
    while True:
        m = _SPECIAL.search(text, pos)
        if m is None or m.group() == "#":
            return m is None or m.start() > last
        if m.group() in "'\"":
            quote = m.group() * 3 if text.startswith(m.group() * 3, m.start()) else m.group()
            end = _find_close(text, m.start() + len(quote), quote)
            if end < 0 or end > last:
                return False
            pos = end
        elif m.start() == last:
            return True
        else:
            pos = m.end()


def _find_close(text: str, pos: int, quote: str) -> int:
    """Index just past the unescaped closing ``quote`` in ``text`` from ``pos``, or -1."""
    start = pos
    while True:
        idx = text.find(quote, pos)
        if idx < 0:
            return -1
        k = idx
        while k > start and text[k - 1] == "\\":
            k -= 1
        if (idx - k) % 2 == 0:
            return idx + len(quote)
        pos = idx + 1


# ---------------------------------------------------------------------------------------------
# The line translator
# ---------------------------------------------------------------------------------------------


@dataclass(slots=True)
class _Scan:
    end: int  # last physical line (0-based) of the logical line
    magic_at: tuple[int, int] | None  # the % or ! right after the statement's first plain "="
    help_end: bool  # the logical line's last token is a code "?"


class _Translator:
    """Mutable state for one translation: line contents, their endings and the output."""

    def __init__(self, source: str) -> None:
        self.lines: list[str] = []
        self.ends: list[str] = []
        pos = 0
        for m in _EOL.finditer(source):
            self.lines.append(source[pos : m.start()])
            self.ends.append(m.group())
            pos = m.end()
        if pos < len(source):
            self.lines.append(source[pos:])
            self.ends.append("")
        self.n = len(self.lines)
        self.out = list(self.lines)
        self.magics: list[Magic] = []

    # -- cell level ---------------------------------------------------------------------------

    def run(self, start: int) -> tuple[Magic | None, bool]:
        """Translate lines ``start..`` (a cell or a cell magic's body); returns its cell magic."""
        first = next((i for i in range(start, self.n) if self.lines[i].strip()), None)
        if first is not None:
            header = self.lines[first]
            body = header.lstrip(" \t\f")
            indent = header[: len(header) - len(body)]
            # IPython strips blank lines and common indentation before looking for %%.
            if (
                body.startswith("%%")
                and not re.match(r"%%\w+\?", body)
                and all(line.startswith(indent) for line in self.lines[first:] if line.strip())
            ):
                return self._cell_magic(first, indent)
        self._statements(start)
        return None, True

    def _cell_magic(self, i: int, indent: str) -> tuple[Magic, bool]:
        name, args = _split_name(self.lines[i][len(indent) + 2 :])
        python_body = name in PYTHON_CELL_MAGICS
        exprs = [] if name in _NO_EXPAND else _interpolations(args)
        bound = _magic_assigns(name, args)
        code = _call(MAGIC_CALL, (name, args), exprs)
        if name in ("timeit", "memit", "prun"):
            # The header's statement (timeit/memit setup, prun code) runs before the body.
            setup = _strip_options(args, _STMT_MAGICS[name])
            if setup and _parses(f"{code}; {setup}") is not None:
                code = f"{code}; {setup}"
        self.out[i] = indent + (f"{', '.join(bound)} = {code}" if bound else code)
        text = self._raw(i, len(indent), self.n - 1)
        magic = Magic("cell_magic", name, args, i + 1, self.n, len(indent) + 1, text, bound)
        self.magics.append(magic)
        if python_body:
            _, body_is_python = self.run(i + 1)
            return magic, body_is_python
        self._blank(i + 1, self.n - 1)
        return magic, False

    # -- statement level ----------------------------------------------------------------------

    def _statements(self, i: int) -> None:
        while i < self.n:
            i = self._statement(i)

    def _statement(self, i: int) -> int:
        """Translate the logical line starting at line ``i``; return the next line index."""
        line = self.lines[i]
        stripped = line.lstrip(" \t\f")
        if not stripped or stripped[0] == "#":
            return i + 1
        col = len(line) - len(stripped)
        if stripped[0] in "%!?":
            return self._escape(i, col)
        scan = self._scan(i, col)
        if scan.help_end and self._help_end(i, col, scan.end):
            return scan.end + 1
        if scan.magic_at is not None:
            return self._assign(i, col, *scan.magic_at)
        if _AUTOMAGIC_HEAD.match(stripped) and self._automagic(i, col, scan.end):
            return self._continued_end(i) + 1
        return scan.end + 1

    def _continued_end(self, i: int) -> int:
        """Last line of a backslash-continued line starting at ``i`` (IPython's rule)."""
        while i + 1 < self.n and self.ends[i] and self.lines[i].endswith("\\"):
            i += 1
        return i

    def _assemble(self, i: int, col: int, j: int) -> str:
        """IPython's assemble_continued_line: join continued pieces with single spaces."""
        parts = [self.lines[i][col:]] + self.lines[i + 1 : j + 1]
        return " ".join([p.rstrip()[:-1] for p in parts[:-1]] + [parts[-1].rstrip()])

    def _raw(self, i: int, col: int, j: int) -> str:
        text = "".join(self.lines[k] + self.ends[k] for k in range(i, j)) + self.lines[j]
        return text[col:]

    def _emit(self, i: int, col: int, j: int, code: str) -> None:
        self.out[i] = self.lines[i][:col] + code
        self._blank(i + 1, j)

    def _blank(self, i: int, j: int) -> None:
        """Empty lines ``i..j``; a final line without line ending keeps one space so that
        ``str.splitlines`` still counts it (and so does a line between ``\\r`` and ``\\n``)."""
        for k in range(i, j + 1):
            merges = k > 0 and self.ends[k - 1] == "\r" and self.ends[k] == "\n"  # "\r" "" "\n"
            self.out[k] = " " if merges or not self.ends[k] else ""

    def _record(
        self,
        kind: MagicKind,
        name: str,
        args: str,
        i: int,
        col: int,
        j: int,
        bound: tuple[str, ...] = (),
    ) -> None:
        self.magics.append(
            Magic(kind, name, args, i + 1, j + 1, col + 1, self._raw(i, col, j), bound)
        )

    def _help_end(self, i: int, col: int, j: int) -> bool:
        """Translate ``target?`` ending lines ``i..j``; False when IPython would not either."""
        content = self._raw(i, col, j).rstrip()
        m = _HELP_END.search(content)
        if m is None:
            return False
        self._emit(i, col, j, _help_code(m.group(1)))
        self._record("help", m.group(1), "", i, col, j)
        return True

    def _escape(self, i: int, col: int) -> int:
        """A line starting with %, !, or ?, after its indentation."""
        j = self._continued_end(i)
        content = self._assemble(i, col, j)
        if _code_ends_with_q(content) and self._help_end(i, col, j):
            return j + 1
        if content.startswith("!"):
            cmd = content[2:] if content.startswith("!!") else content[1:]
            cmd = cmd.strip()
            self._emit(i, col, j, _call(SHELL_CALL, (cmd,), _interpolations(cmd)))
            self._record("shell", cmd.split(maxsplit=1)[0] if cmd else "", cmd, i, col, j)
        elif content.startswith("?"):
            target = content.lstrip("?").strip()
            self._emit(i, col, j, _help_code(target))
            self._record("help", target, "", i, col, j)
        else:
            self._line_magic("line_magic", content[1:], i, col, j)
        return j + 1

    def _line_magic(self, kind: MagicKind, content: str, i: int, col: int, j: int) -> None:
        """``content`` is ``name args`` of a %magic or automagic occupying lines ``i..j``."""
        name, args = _split_name(content)
        if name in _HELP_MAGICS:
            self._emit(i, col, j, _help_code(args))
            self._record("help", args, "", i, col, j)
            return
        code, bound = _magic_code(name, args, keep_stmt=True)
        self._emit(i, col, j, code)
        self._record(kind, name, args, i, col, j, bound)

    def _assign(self, i: int, col: int, mi: int, mcol: int) -> int:
        """``targets = %magic ...`` or ``targets = !cmd`` with the magic at (mi, mcol)."""
        j = self._continued_end(mi)
        rhs = self._assemble(mi, mcol, j)
        if _code_ends_with_q(rhs) and self._help_end(i, col, j):
            return j + 1
        upto = self._raw(i, col, mi)  # statement start .. end of the magic's first line
        lhs = upto[: len(upto) - len(self.lines[mi]) + mcol]
        bound = _assigned_names(lhs)
        if rhs.startswith("!"):
            cmd = rhs[1:].strip()
            code = _call(SHELL_CALL, (cmd,), _interpolations(cmd))
            kind: MagicKind = "shell"
            name, args = (cmd.split(maxsplit=1)[0] if cmd else ""), cmd
        else:
            name, args = _split_name(rhs[1:])
            code, _ = _magic_code(name, args, keep_stmt=False)
            kind = "line_magic"
        self._emit(mi, mcol, j, code)
        self._record(kind, name, args, mi, mcol, j, bound)
        return j + 1

    def _automagic(self, i: int, col: int, end: int) -> bool:
        """Translate an automagic line (first word a magic name, not Python on its own)."""
        stripped = self.lines[i][col:]
        logical = stripped + "".join(
            self.ends[k - 1] + self.lines[k] for k in range(i + 1, end + 1)
        )
        if _parses(logical) is not None and not _FLAG_ARG.match(stripped):
            return False
        j = self._continued_end(i)
        self._line_magic("automagic", self._assemble(i, col, j), i, col, j)
        return True

    # -- the Python scanner -------------------------------------------------------------------

    def _scan(self, i: int, col: int) -> _Scan:
        """Follow a Python logical line from (i, col) through strings, brackets and ``\\``."""
        lines, n = self.lines, self.n
        depth = 0
        seen_eq = False
        last_q: tuple[int, int] | None = None
        pos = col
        while i < n:
            text = lines[i]
            continued = False
            while True:
                m = _SPECIAL.search(text, pos)
                if m is None:
                    break
                ch, p = m.group(), m.start()
                pos = p + 1
                if ch == "#":
                    break
                if ch in "'\"":
                    triple = text.startswith(ch * 3, p)
                    quote = ch * 3 if triple else ch
                    end = _find_close(text, p + len(quote), quote)
                    while end < 0 and i + 1 < n and (triple or text.endswith("\\")):
                        i += 1  # the string goes on to the next line
                        text = lines[i]
                        end = _find_close(text, 0, quote)
                    pos = end if end >= 0 else len(text)  # unterminated: ends at the line end
                elif ch == "\\":
                    continued = p == len(text) - 1
                elif ch in "([{":
                    depth += 1
                elif ch in ")]}":
                    depth = max(0, depth - 1)
                elif ch == "?":
                    last_q = (i, p)
                elif ch == "=" and not seen_eq and depth == 0:
                    if text[p + 1 : p + 2] == "=":
                        pos = p + 2
                    elif p == 0 or text[p - 1] not in _NOT_PLAIN_EQ:
                        seen_eq = True
                        k = p + 1
                        while k < len(text) and text[k] in " \t":
                            k += 1
                        at = i
                        if text[k:] == "\\" and i + 1 < n:  # x = \ then the magic on the next line
                            at = i + 1
                            k = len(lines[at]) - len(lines[at].lstrip(" \t\f"))
                        nxt = lines[at][k : k + 2]
                        if nxt[:1] == "!" or (
                            nxt[:1] == "%" and (nxt[1:].isalpha() or nxt[1:] == "_")
                        ):
                            return _Scan(at, (at, k), False)
            if (continued or depth > 0) and i + 1 < n:
                i += 1
                pos = 0
                continue
            break
        i = min(i, n - 1)
        stripped = lines[i].rstrip()
        return _Scan(i, None, last_q == (i, len(stripped) - 1) and stripped.endswith("?"))


def _split_name(content: str) -> tuple[str, str]:
    """Split ``name args`` at the first whitespace (``% x`` has name ``""``, as in IPython)."""
    name = re.match(r"\S*", content)
    assert name is not None  # \S* always matches
    return name.group(), content[name.end() :].strip()


_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def magic_identifiers(magics: Iterable[Magic]) -> set[str]:
    """Every identifier written in the text of ``magics``.

    Tools that cannot parse IPython syntax (ruff) miss the names used there; callers use
    this to keep such names alive (an import used only by ``%time f(x)`` is not unused).
    """
    words: set[str] = set()
    for magic in magics:
        words.update(_WORD.findall(magic.text))
    return words
