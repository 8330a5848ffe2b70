"""ruff and black, located and driven: the code tools nbops uses below every layer.

Here is what does not depend on lint's findings, so that modularize (which formats and tidies
the code it generates) uses the same tools as ``nbops lint`` without importing the linter:
the ruff binary and its version, ruff's failures in words a user can act on, and black's
per-cell check with its content-keyed cache. :mod:`nbops.lint.tools` maps ruff's and black's
results to cells and re-exports these names.

black formats a notebook cell here as ``black.format_cell`` does, without IPython
(:func:`format_cell`). Why by hand: black's notebook mode (the ``black[jupyter]`` extra) masks
magics through IPython's ``TransformerManager`` and finds trailing semicolons with
``tokenize-rt``, so it needs IPython (16 more packages, 63 MB) only to lint a notebook. The
masking below does the same on the standard library, so plain ``black`` is enough:

1. IPython's transformation of escaped syntax (``IPython.core.inputtransformer2``: leading
   blank lines and common indentation dropped, ``%%cell`` magics, ``x = %magic``,
   ``x = !cmd``, ``%magic``, ``!cmd``, ``!!cmd``, ``?obj``, ``obj?``, and the ``,`` ``;``
   ``/`` autocall escapes), found by tokens exactly as IPython finds them
   (:func:`ipython_transform`);
2. black's masking (``black.handle_ipynb_magics``): each ``get_ipython()`` call the
   transformation made is replaced by a token as long as the magic (:func:`mask_cell`), put
   back after formatting (:func:`unmask_cell`); where black leaves a cell alone (a non-Python
   cell magic, a cell already holding ``get_ipython().system(...)``, a magic continued over
   several lines, a magic that formatting moved) so does this.

Like black, automagics (``pip install x`` without ``%``) are not IPython syntax here: such a
cell does not parse and is left alone. It lives here rather than beside
:mod:`nbops.core.magics` (nbops' own reading of IPython syntax, which extends IPython's rules
for data flow) because ``tools`` and ``core`` are independent layers, and because it must
follow IPython's and black's rules exactly, not nbops'. Deliberate differences: tokens are
deterministic (black draws random ones); a cell with pasted prompts (``>>>``, ``In [1]:``)
that needs masking is left alone (black formats what IPython strips them to, which depends
on IPython's version); where black fails on a cell (``tokenize-rt`` on an unclosed bracket
inside a magic, an unsupported ``get_ipython()`` call) the cell is left alone.
docs/rules.md (FMT001) gives the agreement measured on real notebooks.
"""

from __future__ import annotations

import ast
import hashlib
import json
import os
import re
import sqlite3
import subprocess
import sys
import tokenize
import warnings
from collections.abc import Callable, Collection, Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from textwrap import dedent
from typing import Any

from nbops.errors import ToolError

__all__ = [
    "BLACK_PYTHON_CELL_MAGICS",
    "FormatChecker",
    "FormatResult",
    "Masked",
    "Replacement",
    "black_leaves_alone",
    "black_version",
    "format_cell",
    "ipython_transform",
    "mask_cell",
    "put_trailing_semicolon",
    "ruff_binary",
    "ruff_error",
    "ruff_format_cells",
    "ruff_version",
    "split_trailing_semicolon",
    "unmask_cell",
]


@lru_cache(maxsize=1)
def ruff_binary() -> str:
    try:
        from ruff.__main__ import find_ruff_bin  # type: ignore[import-untyped]

        return str(find_ruff_bin())
    except (ImportError, FileNotFoundError):
        import shutil

        found = shutil.which("ruff")
        if found:
            return found
    raise ToolError("ruff is not installed", hint="pip install ruff (nbops depends on it)")


@lru_cache(maxsize=1)
def ruff_version() -> str:
    try:
        out = subprocess.run(
            [ruff_binary(), "--version"], capture_output=True, text=True, check=True, timeout=60
        )
    except (OSError, subprocess.SubprocessError) as exc:
        raise ToolError(f"cannot run ruff: {exc}") from None
    return out.stdout.strip()


def black_version() -> str:
    try:
        import black
    except ImportError:
        return "missing"
    return str(getattr(black, "__version__"))  # noqa: B009 - not exported in black's stubs

_ABSOLUTE = re.compile(r"(?<![\w.~])/[^\s`'\"(),;]+")


def ruff_error(stderr: bytes, folder: Path) -> ToolError:
    """The error for a ruff run that failed, in words a user can act on.

    ruff exits 2 when it cannot load its configuration (a ``ruff.toml`` that ``extend``s a
    missing file, a TOML error, an unknown rule): that names the file and says what to do.
    Absolute paths in ruff's message are made relative to ``folder`` (the notebook's).
    """
    text = stderr.decode(errors="replace").strip()
    causes = [
        line.strip().removeprefix("Cause:").strip()
        for line in text.splitlines()
        if line.strip() and line.strip() not in ("ruff failed", "error: ruff failed")
    ]
    base = os.path.abspath(folder)

    def relative(match: re.Match[str]) -> str:
        return os.path.relpath(match.group(0), base)

    detail = _ABSOLUTE.sub(relative, "; ".join(causes) or text or "no message")[:500]
    if "configuration" in detail or ".toml" in detail:
        return ToolError(
            f"ruff cannot load its configuration: {detail} (paths relative to the notebook's "
            "folder); fix or remove that setting (for example an `extend` of a file that does "
            "not exist)"
        )
    return ToolError(f"ruff failed: {detail}")


@dataclass(frozen=True)
class FormatResult:
    """``changed``: black would rewrite the cell to ``formatted``; ``error``: black failed."""

    changed: bool
    formatted: str = ""
    error: str = ""


_MEMORY_ENTRIES = 4096


class FormatChecker:
    """Per-cell black check with a content-keyed cache (memory, plus sqlite when given a dir)."""

    def __init__(self, black_options: dict[str, Any] | None = None, cache_dir: Path | None = None):
        try:
            import black
        except ImportError as exc:  # pragma: no cover - black is a dependency
            raise ToolError("black is not installed", hint="pip install black") from exc
        self._black = black
        opts = black_options or {}
        targets: Any = getattr(black, "TargetVersion")  # noqa: B009 - not re-exported in black's stubs
        versions = {
            targets[v.upper()]
            for v in opts.get("target-version", opts.get("target_version", []))
            if v.upper() in targets.__members__
        }
        self.mode = black.Mode(
            target_versions=versions,
            line_length=int(opts.get("line-length", opts.get("line_length", 88))),
            string_normalization=not opts.get("skip-string-normalization", False),
            magic_trailing_comma=not opts.get("skip-magic-trailing-comma", False),
            preview=bool(opts.get("preview", False)),
            is_ipynb=True,
        )
        self._salt = f"{black_version()}|{self.mode!r}|nbops-mask-1"  # bump when format_cell changes
        self._memory: dict[str, FormatResult] = {}
        self._db: sqlite3.Connection | None = None
        self._pending: list[tuple[str, str]] = []
        if cache_dir is not None:
            self._db = _open_db(cache_dir / "format.sqlite3")

    def _key(self, source: str) -> str:
        return hashlib.blake2b((self._salt + "\0" + source).encode(), digest_size=16).hexdigest()

    def check(self, source: str) -> FormatResult:
        if not source.strip():
            return FormatResult(False)
        key = self._key(source)
        hit = self._memory.get(key)
        if hit is not None:
            return hit
        if self._db is not None:
            row = self._db.execute("SELECT value FROM fmt WHERE key=?", (key,)).fetchone()
            if row is not None:
                result = _decode(row[0])
                self._memory[key] = result
                return result
        result = self._format(source)
        if len(self._memory) >= _MEMORY_ENTRIES:
            self._memory.clear()  # keep memory flat on huge folders; sqlite still has them
        self._memory[key] = result
        if self._db is not None:
            self._pending.append((key, _encode(result)))
        return result

    def _format(self, source: str) -> FormatResult:
        try:
            formatted = format_cell(source, self.mode)
        except Exception as exc:  # noqa: BLE001 - black raises many types on unsupported input
            reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            return FormatResult(False, error=f"{type(exc).__name__}: {reason}"[:300])
        if formatted is None:
            return FormatResult(False)
        return FormatResult(formatted != source.rstrip("\n"), formatted)

    def flush(self) -> None:
        if self._db is not None and self._pending:
            try:
                with self._db:
                    self._db.executemany(
                        "INSERT OR REPLACE INTO fmt(key, value) VALUES (?, ?)", self._pending
                    )
            except sqlite3.Error:
                pass  # the cache is an optimisation: never fail a lint over it
            self._pending.clear()


def _encode(result: FormatResult) -> str:
    return json.dumps([result.changed, result.formatted, result.error])


def _decode(value: str) -> FormatResult:
    changed, formatted, error = json.loads(value)
    return FormatResult(bool(changed), str(formatted), str(error))


def _open_db(file: Path) -> sqlite3.Connection | None:
    try:
        file.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(str(file), timeout=30)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        db.execute("CREATE TABLE IF NOT EXISTS fmt (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
        return db
    except (sqlite3.Error, OSError):
        return None


# ---------------------------------------------------------------------------------------------
# ruff's formatter on cells
# ---------------------------------------------------------------------------------------------

# "error: Failed to parse x.ipynb:3:2:5: ..." (cell, line, column): the last such triple
_RUFF_PARSE_ERROR = re.compile(r"Failed to parse .*:(\d+):\d+:\d+: (.*)")


def ruff_format_cells(sources: Sequence[str], name: str | Path) -> list[FormatResult]:
    """``ruff format`` on each of ``sources`` (code cells), in one ruff process: the cells
    go to ruff's stdin as the code cells of one notebook named ``name``, so ruff reads the
    configuration that applies to ``name`` (line-length, quote style...) and handles magics
    as it does in any notebook. A cell ruff cannot parse gets an ``error`` result and the
    others are formatted again without it (ruff formats a notebook all or nothing)."""
    results: list[FormatResult] = [FormatResult(False)] * len(sources)
    todo = [i for i, source in enumerate(sources) if source.strip()]
    name = Path(name).absolute()  # ruff runs in the folder: a relative name would move
    folder = name.parent
    args = [ruff_binary(), "format", "--force-exclude", "--stdin-filename", str(name), "-"]
    while todo:
        cells: list[dict[str, Any]] = [
            {"cell_type": "code", "execution_count": None, "id": f"c{n}", "metadata": {},
             "outputs": [], "source": sources[i]}
            for n, i in enumerate(todo)
        ]
        notebook = {"cells": cells, "metadata": {"language_info": {"name": "python"}},
                    "nbformat": 4, "nbformat_minor": 5}
        try:
            proc = subprocess.run(
                args, input=json.dumps(notebook).encode(), capture_output=True, timeout=300,
                check=False, cwd=folder if folder.is_dir() else None,
            )
        except (OSError, subprocess.SubprocessError) as exc:
            raise ToolError(f"cannot run ruff format: {exc}") from None
        if proc.returncode != 0:
            found = _RUFF_PARSE_ERROR.search(proc.stderr.decode(errors="replace"))
            if found is None or not 1 <= int(found.group(1)) <= len(todo):
                raise ruff_error(proc.stderr, folder)
            bad = todo.pop(int(found.group(1)) - 1)
            results[bad] = FormatResult(False, error=found.group(2).strip()[:200])
            continue
        out = json.loads(proc.stdout).get("cells", [])
        if len(out) != len(todo):
            raise ToolError("ruff format returned a notebook of another shape")
        for i, cell in zip(todo, out):
            text = cell.get("source", "")
            formatted = "".join(text) if isinstance(text, list) else str(text)
            # a cell's trailing newlines are not formatting (as in black's check above)
            results[i] = FormatResult(formatted.rstrip("\n") != sources[i].rstrip("\n"), formatted)
        break
    return results


# ---------------------------------------------------------------------------------------------
# black's notebook mode without IPython (see the module docstring)
# ---------------------------------------------------------------------------------------------


def format_cell(source: str, mode: Any) -> str | None:
    """What ``black.format_cell(source, fast=True, mode=mode)`` gives, without IPython: the
    formatted cell, or ``None`` where black raises ``NothingChanged`` (the cell is formatted
    already, or black leaves it alone). black's own errors propagate."""
    import black

    if black_leaves_alone(source, mode.python_cell_magics):
        return None
    split = split_trailing_semicolon(source)
    masked = mask_cell(split[0]) if split is not None else None
    if split is None or masked is None:
        return None
    out = unmask_cell(black.format_str(masked.python, mode=mode), masked)
    if out is None:
        return None
    out = put_trailing_semicolon(out, split[1])
    if out is None:
        return None
    out = out.rstrip("\n")
    return None if out == source else out


# black's PYTHON_CELL_MAGICS: the cell magics whose body black formats.
BLACK_PYTHON_CELL_MAGICS = frozenset({"capture", "prun", "pypy", "python", "python3", "time", "timeit"})
_TRANSFORMED = (
    "get_ipython().run_cell_magic",
    "get_ipython().system",
    "get_ipython().getoutput",
    "get_ipython().run_line_magic",
)
_IGNORED = frozenset(
    {tokenize.ENDMARKER, tokenize.NL, tokenize.NEWLINE, tokenize.COMMENT, tokenize.DEDENT}
)


@dataclass(frozen=True)
class Replacement:
    """``mask`` stands in the masked code for the magic ``text``."""

    mask: str
    text: str


@dataclass(frozen=True)
class Masked:
    """A cell as valid Python (``python``) and what to put back (``replacements``)."""

    python: str
    replacements: tuple[Replacement, ...] = ()


# ---------------------------------------------------------------------------------------------
# What black refuses, and its trailing semicolon
# ---------------------------------------------------------------------------------------------


def black_leaves_alone(source: str, python_cell_magics: Collection[str] = ()) -> bool:
    """black's ``validate_cell``: a cell already holding transformed magics, or starting with a
    cell magic whose body is not Python, is never formatted."""
    if any(text in source for text in _TRANSFORMED):
        return True
    first = next(
        (s for s in (m.group().lstrip() for m in re.finditer(".+", source)) if s and s[0] != "#"),
        "",
    )
    if first.startswith("%%"):
        name = first.split(maxsplit=1)[0][2:]
        return name not in BLACK_PYTHON_CELL_MAGICS and name not in python_cell_magics
    return False


def _tokens(source: str) -> list[tokenize.TokenInfo] | None:
    """Python's tokens of ``source``, or ``None`` where the tokenizer gives up (black's
    tokenize-rt then raises: such a cell is left alone)."""
    lines = iter(source.splitlines(keepends=True))
    try:
        return list(tokenize.generate_tokens(lambda: next(lines, "")))
    except (tokenize.TokenError, SyntaxError):
        return None


def _offset(source: str, row: int, col: int) -> int:
    lines = source.splitlines(keepends=True)
    return sum(len(line) for line in lines[: row - 1]) + col


def _last_code_token(source: str) -> tokenize.TokenInfo | None:
    for token in reversed(_tokens(source) or []):
        if token.type not in _IGNORED:
            return token
    return None


def split_trailing_semicolon(source: str) -> tuple[str, bool] | None:
    """``source`` without the ``;`` that ends its last statement (IPython's output
    silencer), and whether there was one (black's ``remove_trailing_semicolon``); ``None``
    when Python's tokenizer fails on ``source``."""
    tokens = _tokens(source)
    if tokens is None:
        return None
    last = next((t for t in reversed(tokens) if t.type not in _IGNORED), None)
    if last is None or last.type != tokenize.OP or last.string != ";":
        return source, False
    at = _offset(source, *last.start)
    return source[:at] + source[at + 1 :], True


def put_trailing_semicolon(source: str, had: bool) -> str | None:
    """Put the ``;`` back after the last token (black's ``put_trailing_semicolon_back``);
    ``None`` when there is no token left to put it after (black fails there)."""
    if not had:
        return source
    last = _last_code_token(source)
    if last is None:
        return None
    at = _offset(source, *last.end)
    return source[:at] + ";" + source[at:]


# ---------------------------------------------------------------------------------------------
# IPython's transformation (inputtransformer2.TransformerManager.transform_cell)
# ---------------------------------------------------------------------------------------------

_DOCTEST_PS1 = re.compile(r"^\s*>>>")
_DOCTEST_STRIP = (re.compile(r"^\s*>>>[ \t]?"), re.compile(r"^\s*\.\.\.[ \t]?"))
_TRIPLE = re.compile(r"(?<!\\)(\"\"\"|''')")
_IPYTHON_PROMPT = re.compile(r"^(((\[nav\]|\[ins\])?\ )?In\ \[\d+\]:\ |\s*\.{3,}:\ ?)")
_HELP_END = re.compile(r"(%{0,2}(?!\d)[\w*]+(\.(?!\d)[\w*]+|\[-?[0-9]+\])*)(\?\??)$")
_TOKEN_ERRORS = (
    "unterminated string literal",
    "invalid non-printable character",
    "after line continuation character",
    "invalid decimal literal",
    "invalid binary literal",
    "invalid octal literal",
    "invalid hexadecimal literal",
    "in binary literal",
    "in octal literal",
    "expected EOF",
)


class _Prompts(Exception):
    """The cell has pasted prompts IPython would strip (left alone here)."""


def _has_prompts(lines: list[str]) -> bool:
    """Whether IPython's classic (doctest) or IPython prompt stripper would change ``lines``."""
    if lines and (
        _IPYTHON_PROMPT.match(lines[0]) or (len(lines) > 1 and _IPYTHON_PROMPT.match(lines[1]))
    ):
        return True
    in_triple: str | None = None
    preserve = seen = False
    for line in lines:
        inside = in_triple is not None and preserve
        for m in _TRIPLE.finditer(line):
            if in_triple is None:
                in_triple = m.group(1)
                before = line[: m.start()]
                stripped = _DOCTEST_STRIP[1].sub("", _DOCTEST_STRIP[0].sub("", before, 1), 1)
                preserve = bool(
                    not (stripped != before and seen) and re.match(r"(?i)^[rubf]*$", stripped.strip())
                )
                inside = preserve
            elif in_triple == m.group(1):
                in_triple, preserve = None, False
        if not inside and _DOCTEST_PS1.match(line):
            return True
        seen = seen or bool(_DOCTEST_PS1.match(line))
    return False


def _tokens_by_line(lines: list[str]) -> list[list[tokenize.TokenInfo]]:
    """IPython's make_tokens_by_line: tokens grouped by logical line, errors tolerated."""
    grouped: list[list[tokenize.TokenInfo]] = [[]]
    depth = 0
    feed: Iterator[str] = iter(lines)
    try:
        for token in tokenize.generate_tokens(lambda: next(feed, "")):
            grouped[-1].append(token)
            if token.type == tokenize.NEWLINE or (token.type == tokenize.NL and depth <= 0):
                grouped.append([])
            elif token.type == tokenize.OP and token.string in "([{":
                depth += 1
            elif token.type == tokenize.OP and token.string in ")]}" and depth > 0:
                depth -= 1
    except tokenize.TokenError as exc:
        if any(error in str(exc.args[0]) for error in _TOKEN_ERRORS):
            last = grouped[-1][-1] if grouped[-1] else None
            start = (last.start[0], last.end[0]) if last else (1, 0)
            grouped[-1].append(
                tokenize.TokenInfo(tokenize.ERRORTOKEN, "", start, start, last.line if last else "")
            )
    if not grouped[-1]:
        grouped.pop()
    return grouped


def _assign_at(line: list[tokenize.TokenInfo]) -> int | None:
    depth = 0
    for i, token in enumerate(line):
        if token.string == "=" and depth == 0:
            return i
        if token.string in ("(", "[", "{"):
            depth += 1
        elif token.string in (")", "]", "}") and depth > 0:
            depth -= 1
    return None


def _continued_end(lines: list[str], start: int) -> int:
    end = start
    while lines[end].endswith("\\\n"):
        end += 1
        if end >= len(lines):
            break
    return end


def _assemble(lines: list[str], row: int, col: int, end: int) -> str:
    parts = [lines[row][col:], *lines[row + 1 : end + 1]]
    return " ".join([p.rstrip()[:-1] for p in parts[:-1]] + [parts[-1].rstrip()])


def _help_call(target: str, esc: str) -> str:
    method = "pinfo2" if esc == "??" else "psearch" if "*" in target else "pinfo"
    name, _, args = f"{method} {target}".partition(" ")
    return f"get_ipython().run_line_magic({name.lstrip('%')!r}, {args!r})"


def _escaped(content: str, esc: str) -> str:
    """IPython's translation of a line escaped with ``esc`` (``content`` after it)."""
    name, _, args = content.partition(" ")
    if esc in ("?", "??"):
        return _help_call(content, esc) if content else "get_ipython().show_usage()"
    if esc == "%":
        return f"get_ipython().run_line_magic({name!r}, {args!r})"
    if esc == "!":
        return f"get_ipython().system({content!r})"
    if esc == "!!":
        return f"get_ipython().getoutput({content!r})"
    if esc == ",":
        return '{}("{}")'.format(name, '", "'.join(args.split()))
    if esc == ";":
        return f'{name}("{args}")'
    if not name:  # "/"
        raise SyntaxError("/ must be followed by a callable name")
    return "{}({})".format(name, ", ".join(args.split()))


# A found transformation: (row, col, priority, apply) with row/col 0-based.
_Found = tuple[int, int, int, Callable[[list[str]], list[str]]]


def _replace(lines: list[str], row: int, end: int, new: str) -> list[str]:
    return [*lines[:row], new + "\n", *lines[end + 1 :]]


def _find_magic_assign(by_line: list[list[tokenize.TokenInfo]]) -> _Found | None:
    for line in by_line:
        ix = _assign_at(line)
        if (
            ix is not None
            and len(line) >= ix + 2
            and line[ix + 1].string == "%"
            and line[ix + 2].type == tokenize.NAME
        ):
            row, col = line[ix + 1].start[0] - 1, line[ix + 1].start[1]

            def apply(lines: list[str], row: int = row, col: int = col) -> list[str]:
                end = _continued_end(lines, row)
                name, _, args = _assemble(lines, row, col, end)[1:].partition(" ")
                call = f"get_ipython().run_line_magic({name!r}, {args!r})"
                return _replace(lines, row, end, lines[row][:col] + call)

            return row, col, 10, apply
    return None


def _find_system_assign(by_line: list[list[tokenize.TokenInfo]]) -> _Found | None:
    for line in by_line:
        ix = _assign_at(line)
        if ix is None or line[ix].line.strip().startswith("=") or len(line) < ix + 2:
            continue
        at: tokenize.TokenInfo | None = None
        if sys.version_info >= (3, 12):
            if line[ix + 1].type == tokenize.OP and line[ix + 1].string == "!":
                at = line[ix + 1]
        else:
            k = ix + 1
            while k < len(line) and line[k].type == tokenize.ERRORTOKEN:
                if line[k].string == "!":
                    at = line[k]
                    break
                if not line[k].string.isspace():
                    break
                k += 1
        if at is not None:
            row, col = at.start[0] - 1, at.start[1]

            def apply(lines: list[str], row: int = row, col: int = col) -> list[str]:
                end = _continued_end(lines, row)
                cmd = _assemble(lines, row, col, end)[1:]
                return _replace(lines, row, end, f"{lines[row][:col]}get_ipython().getoutput({cmd!r})")

            return row, col, 10, apply
    return None


def _find_escaped(by_line: list[list[tokenize.TokenInfo]]) -> _Found | None:
    for line in by_line:
        ix = 0
        while ix < len(line) and line[ix].type in (tokenize.INDENT, tokenize.DEDENT):
            ix += 1
        if ix < len(line) and line[ix].string in ("!", "?", "%", ",", ";", "/"):
            row, col = line[ix].start[0] - 1, line[ix].start[1]

            def apply(lines: list[str], row: int = row, col: int = col) -> list[str]:
                end = _continued_end(lines, row)
                text = _assemble(lines, row, col, end)
                esc = text[:2] if text[:2] in ("!!", "??") else text[:1]
                return _replace(lines, row, end, lines[row][:col] + _escaped(text[len(esc) :], esc))

            return row, col, 10, apply
    return None


def _find_help_end(by_line: list[list[tokenize.TokenInfo]]) -> _Found | None:
    for line in by_line:
        if len(line) > 2 and line[-2].string == "?":
            ix = 0
            while line[ix].type in (tokenize.INDENT, tokenize.DEDENT):
                ix += 1
            row, col = line[ix].start[0] - 1, line[ix].start[1]
            q_row = line[-2].start[0] - 1

            def apply(lines: list[str], row: int = row, col: int = col, q: int = q_row) -> list[str]:
                piece = "".join(lines[row : q + 1])
                m = _HELP_END.search(piece[col:])
                if m is None:
                    raise SyntaxError(piece)
                return _replace(lines, row, q, piece[:col] + _help_call(m.group(1), m.group(3)))

            return row, col, 5, apply
    return None


_FINDERS = (_find_magic_assign, _find_system_assign, _find_escaped, _find_help_end)


def ipython_transform(cell: str) -> str:
    """IPython's ``TransformerManager().transform_cell(cell)`` without IPython.

    Raises ``ValueError`` for a cell with pasted prompts (not handled here).
    """
    if not cell.endswith("\n"):
        cell += "\n"
    lines = cell.splitlines(keepends=True)
    first = next((i for i, line in enumerate(lines) if line and not line.isspace()), 0)
    lines = dedent("".join(lines[first:])).splitlines(keepends=True)
    if _has_prompts(lines):
        raise _Prompts
    if lines and lines[0].startswith("%%") and not re.match(r"%%\w+\?", lines[0]):
        name, _, first_line = lines[0][2:].rstrip().partition(" ")
        body = "".join(lines[1:])
        lines = [f"get_ipython().run_cell_magic({name!r}, {first_line!r}, {body!r})\n"]
    for _ in range(500):
        by_line = _tokens_by_line(lines)
        found = [f for f in (finder(by_line) for finder in _FINDERS) if f is not None]
        for _row, _col, _prio, apply in sorted(found, key=lambda f: f[:3]):
            try:
                lines = apply(lines)
                break
            except SyntaxError:
                continue
        else:
            return "".join(lines)
    raise _Prompts  # IPython gives up too (RuntimeError): leave the cell alone


# ---------------------------------------------------------------------------------------------
# black's masking (handle_ipynb_magics), with deterministic tokens
# ---------------------------------------------------------------------------------------------


class _Unsupported(Exception):
    """A get_ipython() call black does not mask: black leaves the cell alone."""


def _ipython_call(node: ast.expr) -> tuple[str, list[str]] | None:
    """``(method, string args)`` when ``node`` is ``get_ipython().method('...', ...)``."""
    if not (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and isinstance(node.func.value, ast.Call)
        and isinstance(node.func.value.func, ast.Name)
        and node.func.value.func.id == "get_ipython"
    ):
        return None
    args = [a.value for a in node.args if isinstance(a, ast.Constant) and isinstance(a.value, str)]
    if len(args) != len(node.args):
        raise _Unsupported
    return node.func.attr, args


def _magic_text(method: str, args: list[str], assigned: bool) -> str:
    if method == "getoutput":
        return f"!{args[0]}" if assigned else f"!!{args[0]}"
    if method == "system" and not assigned:
        return f"!{args[0]}"
    if method == "run_line_magic":
        if not assigned and args[0] in ("pinfo", "pinfo2"):
            return ("?" if args[0] == "pinfo" else "??") + args[1]
        return f"%{args[0]}" + (f" {args[1]}" if args[1] else "")
    raise _Unsupported


def _token(length: int, taken: Callable[[str], bool]) -> str:
    """A token of ``length`` characters, of black's shape (``b"..."`` from 4 on)."""
    for n in range(100_000):
        if length == 1:
            token = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"[n % 52]
        elif length < 4:
            token = "_" + format(n, "x").rjust(length - 1, "0")[-(length - 1) :]
        else:
            token = 'b"' + format(n, "x").rjust(length - 3, "0")[-(length - 3) :] + '"'
        if not taken(token):
            return token
    raise _Unsupported


def _magics(tree: ast.AST) -> dict[int, list[tuple[int, str]]]:
    """black's MagicFinder: per line, the (byte column, magic text) of each masked call."""
    found: dict[int, list[tuple[int, str]]] = {}
    for node in ast.walk(tree):
        if isinstance(node, (ast.Assign, ast.Expr)):
            call = _ipython_call(node.value)
            if call is not None:
                if isinstance(node, ast.Assign) and call[0] not in ("getoutput", "run_line_magic"):
                    raise _Unsupported
                text = _magic_text(*call, assigned=isinstance(node, ast.Assign))
                found.setdefault(node.value.lineno, []).append((node.value.col_offset, text))
    return found


def _parse(code: str) -> ast.Module | None:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return ast.parse(code)
    except (SyntaxError, ValueError, MemoryError, RecursionError):
        return None


def _mask_magics(code: str, tree: ast.Module, out: list[Replacement]) -> str:
    """Mask the magics of ``code``, adding to ``out``; no token is part of another."""
    lines = code.split("\n")
    for number, found in sorted(_magics(tree).items()):
        if len(found) != 1:
            raise _Unsupported
        col, text = found[0]
        token = _token(
            len(text), lambda t: t in code or any(t in r.mask or r.mask in t for r in out)
        )
        out.append(Replacement(token, text))
        line = lines[number - 1]
        lines[number - 1] = line.encode()[:col].decode(errors="ignore") + token
    return "\n".join(lines)


def _cell_magic(tree: ast.Module) -> tuple[str, str] | None:
    """black's CellMagicFinder: ``(header, body)`` of a ``run_cell_magic`` statement."""
    found = None
    for node in ast.walk(tree):
        if isinstance(node, ast.Expr):
            call = _ipython_call(node.value)
            if call is not None and call[0] == "run_cell_magic":
                name, params, body = (call[1] + ["", "", ""])[:3]
                found = (f"%%{name} {params}" if params else f"%%{name}", body)
    return found


def mask_cell(source: str) -> Masked | None:
    """black's ``mask_cell`` without IPython: valid Python for ``source``, or ``None`` where
    black leaves the cell alone (it does not parse even with its magics masked, a magic
    spans several lines, or a ``get_ipython()`` call black cannot mask)."""
    if _parse(source) is not None:
        return Masked(source)
    try:
        code = ipython_transform(source)
        tree = _parse(code)
        if tree is None:
            return None
        replacements: list[Replacement] = []
        cell = _cell_magic(tree)
        if cell is not None:
            header, body = cell
            token = _token(len(header), lambda t: t in code)
            replacements.append(Replacement(token, header))
            code = f"{token}\n{body}"
        code = ipython_transform(code)  # black transforms twice, cell magic or not
        tree = _parse(code)
        if tree is None:
            return None
        code = _mask_magics(code, tree, replacements)
    except (_Prompts, _Unsupported, SyntaxError, AssertionError, IndexError):
        return None
    if len(code.strip().splitlines()) != len(source.strip().splitlines()):
        return None  # a magic continued over several lines: black does not support it
    return Masked(code, tuple(replacements))


def unmask_cell(formatted: str, masked: Masked) -> str | None:
    """``formatted`` (the masked code after black) with the magics back, or ``None`` when a
    token did not survive once, or formatting moved a magic to where IPython would no longer
    see it (black's ``unmask_cell``)."""
    out = formatted
    for r in masked.replacements:
        if out.count(r.mask) != 1:
            return None
        out = out.replace(r.mask, r.text, 1)
    if masked.replacements:
        again = mask_cell(out)
        if again is None or [r.text for r in again.replacements] != [
            r.text for r in masked.replacements
        ]:
            return None
    return out
