"""Make generated source clean and formatted without changing what it means.

One pass over the text of a generated module (or its tests) before it is written:

1. ruff's *safe* fixes for the rule set below (imports sorted, ...). Unused or redefined
   imports stay: importing can have side effects.
2. ``ruff format`` (black's style) in the project's line length; the AST must not change
   (docstrings compared by their words), else the text stays as it was.
3. Long comments are wrapped (a trailing one moves above its line) and so are long lines
   of the docstrings nbops wrote (the same words, re-wrapped); formatted again.
4. What ruff still finds is the notebook's own code (a long string, ``X_train`` inside a
   function): each such line gets ``# noqa: CODE`` and the plan one warning listing them.
   Broken code (syntax errors, undefined names) is never silenced: an error in the plan.

Each ruff run is one subprocess over stdin (a few ms each, even on a 200-cell notebook).
Settings come from the project (ruff's, then black's ``line-length``; ruff's
``target-version``, else ``requires-python``), defaulting to 88 and py310; nothing else of
the project's configuration is read, so the same notebook gives the same text anywhere.
"""

from __future__ import annotations

import ast
import io
import json
import re
import subprocess
import sys
import textwrap
import tokenize
import unicodedata
from collections import Counter
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nbops.config import project_root
from nbops.modularize.plan import ModulePlan

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib  # type: ignore[import-not-found,unused-ignore]

__all__ = ["RULES", "Style", "project_style", "run_ruff", "tidy"]

RULES = "E,F,W,I,B,UP,SIM,N"
# safe fixes nbops does not take: removing an import changes what importing does
_UNFIXABLE = "F401,F811"
# never silenced: the code is broken (syntax, undefined names, misplaced statements)
_ERRORS = ("E9", "F63", "F7", "F82")
# comments that tools read: never moved or wrapped
_PRAGMA = re.compile(r"#\s*(!|-\*-|type:|noqa|fmt:|pragma|pylint|mypy|pyright|ruff:|isort|nbops)")
_NOQA = re.compile(r"#\s*noqa:\s*([A-Z]+[0-9]+(?:\s*,\s*[A-Z]+[0-9]+)*)")
_LIST_ITEM = re.compile(r"(?:[-*+]|\d+[.)])\s+")


@dataclass(frozen=True)
class Style:
    """The layout the written files follow (the project's, as ``ruff`` would read it)."""

    line_length: int = 88
    target_version: str = "py310"
    first_party: tuple[str, ...] = ()  # the generated package: its imports sort as the project's


def _table(data: dict[str, Any], *keys: str) -> dict[str, Any]:
    for key in keys:
        data = data.get(key, {})
        if not isinstance(data, dict):
            return {}
    return data


def project_style(start: Path, first_party: Collection[str] = ()) -> Style:
    """The style of the project ``start`` (a folder, existing or not) belongs to."""
    root, _ = project_root(start)
    line_length: object = None
    target: object = None
    black: dict[str, Any] = {}
    project: dict[str, Any] = {}
    for name in ("ruff.toml", ".ruff.toml", "pyproject.toml"):
        try:
            data = tomllib.loads((root / name).read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
            continue
        ruff = data if name != "pyproject.toml" else _table(data, "tool", "ruff")
        line_length = line_length or ruff.get("line-length")
        target = target or ruff.get("target-version")
        if name == "pyproject.toml":
            black, project = _table(data, "tool", "black"), _table(data, "project")
    line_length = line_length or black.get("line-length")
    if not isinstance(target, str):
        versions = black.get("target-version")
        if isinstance(versions, list) and versions and all(isinstance(v, str) for v in versions):
            target = min(versions, key=lambda v: int(v[3:]) if v[3:].isdigit() else 99)
        else:
            match = re.match(r"\s*>=\s*3\.(\d+)", str(project.get("requires-python", "")))
            target = f"py3{match.group(1)}" if match else None
    ok_length = isinstance(line_length, int) and 40 <= line_length <= 320
    ok_target = isinstance(target, str) and re.fullmatch(r"py3\d{1,2}", target)
    return Style(
        line_length=line_length if ok_length and isinstance(line_length, int) else 88,
        target_version=str(target) if ok_target else "py310",
        first_party=tuple(first_party),
    )


def run_ruff(args: list[str], text: str, filename: str) -> subprocess.CompletedProcess[str]:
    """``ruff ARGS --isolated`` on ``text`` (as ``filename``); raises OSError/SubprocessError."""
    from nbops.tools import ruff_binary

    return subprocess.run(
        [ruff_binary(), *args, "--isolated", "--stdin-filename", filename, "-"],
        input=text,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


class _Failed(Exception):
    """ruff could not run, or refused the text."""


class _Tidier:
    def __init__(self, style: Style, filename: str) -> None:
        self.style = style
        self.filename = filename
        self.settings = [
            "--line-length", str(style.line_length),
            "--target-version", style.target_version,
            "--config", "src = []",  # no guessing first-party packages from the working dir
            "--config", f"lint.isort.known-first-party = {json.dumps(list(style.first_party))}",
        ]  # fmt: skip
        self.shapes: dict[str, str | None] = {}

    def ruff(self, args: list[str], text: str) -> subprocess.CompletedProcess[str]:
        try:
            proc = run_ruff([*args, *self.settings], text, self.filename)
        except (OSError, subprocess.SubprocessError) as exc:
            raise _Failed(str(exc)) from None
        if proc.returncode == 2 or (args[0] == "format" and proc.returncode != 0):
            raise _Failed((proc.stderr.strip().splitlines() or ["unknown error"])[0])
        return proc

    def fix(self, text: str) -> str:
        proc = self.ruff(["check", "--fix", "--select", RULES, "--unfixable", _UNFIXABLE,
                          "--exit-zero", "--quiet"], text)  # fmt: skip
        return proc.stdout or text

    def format(self, text: str, edited: str | None = None) -> str:
        """``ruff format`` of ``edited`` (``text`` with comments moved, by default ``text``);
        ``text`` formatted alone, or as it is, when that would change the AST."""
        formatted = self.ruff(["format"], edited or text).stdout
        if formatted == text or self.same_code(text, formatted):
            return formatted
        return self.format(text) if edited not in (None, text) else text

    def same_code(self, before: str, after: str) -> bool:
        """Same AST, docstrings compared by their words (shapes kept: each text is parsed
        once, a 200-cell module takes ~30 ms)."""
        for text in (before, after):
            if text not in self.shapes:
                self.shapes[text] = _shape(text)
        return self.shapes[after] is not None and self.shapes[after] == self.shapes[before]

    def findings(self, text: str) -> list[dict[str, Any]]:
        """What ruff's default rules and RULES find (RUF100 aside: nbops adds no noqa for
        an unused noqa of the notebook's)."""
        args = ["check", "--extend-select", RULES, "--extend-ignore", "RUF100"]
        proc = self.ruff([*args, "--output-format", "json", "--exit-zero"], text)
        try:
            found = json.loads(proc.stdout or "[]")
        except ValueError as exc:
            raise _Failed(f"unreadable ruff output: {exc}") from None
        return [f for f in found if isinstance(f, dict)]


def tidy(
    text: str,
    plan: ModulePlan,
    *,
    what: str,
    style: Style,
    filename: str,
    notebook_defs: Collection[str] = (),
) -> str:
    """``text`` clean and formatted (see the module's docstring). ``notebook_defs``: the
    top-level functions and classes that are the notebook's own (their docstrings are its
    text: never re-wrapped). Problems go to ``plan`` ("the generated {what} ...")."""
    tidier = _Tidier(style, filename)
    try:
        text = tidier.fix(text)
        # trailing comments that make a line too long go above it before ruff lays it out
        text = tidier.format(text, _wrap_comments(text, style.line_length))
        wrapped = _wrap_docstrings(
            _wrap_comments(text, style.line_length), style.line_length, notebook_defs
        )
        if wrapped != text and tidier.same_code(text, wrapped):
            text = tidier.format(wrapped)
        explicit = _explicit_star_import(text, tidier.findings(text), plan)
        if explicit != text:
            text = tidier.format(tidier.fix(explicit))
        codes: Counter[str] = Counter()
        for _ in range(2):  # a noqa comment can, rarely, make ruff lay a line out again
            text, found = _exempt(text, tidier.findings(text), plan, what)
            codes += found
            again = tidier.format(text) if found else text
            if again == text:
                break
            text = again
    except _Failed as reason:
        plan.problem(None, None, "error", f"the generated {what} could not be formatted: {reason}")
        return _black(text, plan, what)
    _report(codes, plan, what)
    return text


_STAR_NAME = re.compile(r"^`(\w+)` may be undefined, or defined from star imports")


def _explicit_star_import(text: str, findings: list[dict[str, Any]], plan: ModulePlan) -> str:
    """With exactly one ``from M import *`` in the module, the names the module uses from it
    (ruff's F405: used, defined nowhere else) imported by name instead, so readers, ruff and
    mypy see where each comes from. Several star imports: which one provides a name is not
    known without importing them; they stay."""
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return text
    stars = [
        node
        for node in tree.body
        if isinstance(node, ast.ImportFrom) and any(a.name == "*" for a in node.names)
    ]
    if len(stars) != 1 or stars[0].level or not stars[0].module or len(stars[0].names) != 1:
        return text
    names = sorted(
        {
            m.group(1)
            for f in findings
            if f.get("code") == "F405" and (m := _STAR_NAME.match(str(f.get("message", ""))))
        }
    )
    star = stars[0]
    lines = text.splitlines(keepends=True)
    if not names or star.lineno != star.end_lineno:
        return text
    line = lines[star.lineno - 1]
    replacement = f"from {star.module} import {', '.join(names)}"
    lines[star.lineno - 1] = line[: star.col_offset] + replacement + line[star.end_col_offset or 0 :]
    kept = f"`from {star.module} import *` is kept at the top of the module"
    plan.problems[:] = [p for p in plan.problems if not p.message.startswith(kept)]
    plan.problem(
        None,
        None,
        "warning",
        f"`from {star.module} import *` is imported by name in the module: the names it uses "
        f"from it ({', '.join(names)})",
    )
    return "".join(lines)


def _black(text: str, plan: ModulePlan, what: str) -> str:
    """Without ruff: black's layout at least."""
    import black

    try:
        return black.format_str(text, mode=black.Mode())
    except Exception as exc:  # noqa: BLE001 - black raises many types for code it cannot parse
        plan.problem(None, None, "error", f"the generated {what} could not be formatted: {exc}")
        return text


# --------------------------------------------------------------------------
# the meaning is unchanged
# --------------------------------------------------------------------------
def _shape(text: str) -> str | None:
    """The AST as text, docstrings by their words (a formatter re-indents them, and nbops
    re-wraps its own)."""
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    todo: list[ast.AST] = [tree]
    while todo:  # statements only: docstrings are in no expression
        node = todo.pop()
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            first = node.body[0] if node.body else None
            if (
                isinstance(first, ast.Expr)
                and isinstance(first.value, ast.Constant)
                and isinstance(first.value.value, str)
            ):
                first.value.value = " ".join(first.value.value.split())
        for name in ("body", "orelse", "finalbody", "handlers", "cases"):
            children = getattr(node, name, None)
            if isinstance(children, list):
                todo.extend(children)
    return ast.dump(tree)


# --------------------------------------------------------------------------
# long comments and docstrings
# --------------------------------------------------------------------------
def _width(line: str) -> int:
    """Columns, as ruff counts them (wide characters take two)."""
    if line.isascii():
        return len(line)
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in line)


def _wrapper(first: str, rest: str, width: int) -> textwrap.TextWrapper:
    return textwrap.TextWrapper(
        width=width,
        initial_indent=first,
        subsequent_indent=rest,
        break_long_words=False,
        break_on_hyphens=False,
    )


def _wrap_comments(text: str, limit: int) -> str:
    """Long comments wrapped at ``limit``; a trailing one that makes its line too long goes
    on lines of its own above it (``tidy`` checks the AST is still the same)."""
    lines = text.splitlines(keepends=True)
    if all(_width(line.rstrip("\n")) <= limit or "#" not in line for line in lines):
        return text
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(text).readline))
    except (tokenize.TokenError, SyntaxError):
        return text
    inside = {row for tok in tokens for row in range(tok.start[0] + 1, tok.end[0] + 1)}
    edits: list[tuple[int, list[str]]] = []  # (0-based line, its replacement lines)
    for tok in tokens:
        if tok.type != tokenize.COMMENT:
            continue
        row, col = tok.start
        line = lines[row - 1].rstrip("\n")
        if _width(line) <= limit or _PRAGMA.match(tok.string):
            continue
        head = re.match(r"#+ ?", tok.string)
        prefix = head.group(0) if head else "# "
        body = tok.string[len(prefix) :]
        lead = body[: len(body) - len(body.lstrip())]
        code = line[:col].rstrip()
        indent = line[: len(line) - len(line.lstrip())]
        if code.strip():  # trailing: above its line (not in a string, not after a backslash)
            previous = lines[row - 2].rstrip("\n") if row > 1 else ""
            if _width(code) > limit or row in inside or previous.endswith("\\"):
                continue
            wrapped = _wrapper(indent + prefix, indent + prefix, limit).wrap(body.strip())
            edits.append((row - 1, [w + "\n" for w in wrapped] + [code + "\n"]))
        else:
            wrapped = _wrapper(indent + prefix + lead, indent + prefix + lead, limit).wrap(body)
            if len(wrapped) > 1:
                edits.append((row - 1, [w + "\n" for w in wrapped]))
    for at, replacement in reversed(edits):
        lines[at : at + 1] = replacement
    return "".join(lines)


def _docstring_nodes(tree: ast.Module, notebook_defs: Collection[str]) -> list[ast.Expr]:
    """The docstrings nbops wrote: the module's, and those of its top-level definitions
    that are not the notebook's (what is nested in a step is the notebook's code)."""
    owners: list[ast.AST] = [tree]
    for node in tree.body:
        if (
            isinstance(node, ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
            and node.name not in notebook_defs
        ):
            owners.append(node)
    found = []
    for owner in owners:
        body = getattr(owner, "body", [])
        first = body[0] if body else None
        if (
            isinstance(first, ast.Expr)
            and isinstance(first.value, ast.Constant)
            and isinstance(first.value.value, str)
        ):
            found.append(first)
    return found


def _wrap_docstrings(text: str, limit: int, notebook_defs: Collection[str]) -> str:
    """Long lines of nbops' docstrings wrapped at ``limit``, with the same words; fenced code,
    tables and lines without a space are left as they are."""
    lines = text.splitlines(keepends=True)
    if all(_width(line.rstrip("\n")) <= limit for line in lines):
        return text
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return text
    edits: list[tuple[int, list[str]]] = []
    for node in _docstring_nodes(tree, notebook_defs):
        first, last = node.lineno - 1, (node.end_lineno or node.lineno) - 1
        fenced = False
        for at in range(first, last + 1):
            line = lines[at].rstrip("\n")
            opening = re.match(r"\s*[rRuU]?(\"\"\"|''')", line) if at == first else None
            start = opening.end() if opening else len(line) - len(line.lstrip())
            end = len(line) - 3 if at == last and line.endswith(('"""', "'''")) else len(line)
            body = line[start:end]
            if body.lstrip().startswith(("```", "~~~")):
                fenced = not fenced
            if fenced or _width(line) <= limit or " " not in body.strip():
                continue
            if body.lstrip().startswith("|"):
                continue  # a table row
            margin = " " * node.col_offset
            lead = body[: len(body) - len(body.lstrip())]
            item = _LIST_ITEM.match(body.lstrip())
            rest = margin + (lead if at != first else "") + " " * (item.end() if item else 0)
            width = limit - (len(line) - end)  # room for the closing quotes
            wrapped = _wrapper(line[:start] + lead, rest, width).wrap(body.strip())
            wrapped[-1] += line[end:]
            if len(wrapped) > 1:
                edits.append((at, [w + "\n" for w in wrapped]))
    for at, replacement in reversed(edits):
        lines[at : at + 1] = replacement
    return "".join(lines)


# --------------------------------------------------------------------------
# what ruff still finds
# --------------------------------------------------------------------------
def _exempt(
    text: str, findings: list[dict[str, Any]], plan: ModulePlan, what: str
) -> tuple[str, Counter[str]]:
    """``# noqa: CODE`` on each line with a finding from the notebook's code; broken code
    is an error in the plan instead. Returns the text and the codes exempted."""
    codes: Counter[str] = Counter()
    by_row: dict[int, set[str]] = {}
    for item in findings:
        row = int(item.get("location", {}).get("row") or 0)
        code = str(item.get("code") or "invalid-syntax")
        if code.startswith(_ERRORS) or not code[:1].isupper():
            message = f"generated {what} line {row}: {code} {item.get('message', '')}"
            plan.problem(None, None, "error", message)
            continue
        noqa_row = int(item.get("noqa_row") or row)
        by_row.setdefault(noqa_row, set()).add(code)
        codes[code] += 1
    if not by_row:
        return text, codes
    lines = text.splitlines(keepends=True)
    comments = (
        _comments(text) if any("#" in lines[r - 1] for r in by_row if r <= len(lines)) else {}
    )
    for row, found in by_row.items():
        if not 0 < row <= len(lines):
            continue
        line = lines[row - 1].rstrip("\r\n")
        ending = lines[row - 1][len(line) :]
        comment_at = comments.get(row)
        match = _NOQA.search(line, comment_at) if comment_at is not None else None
        if match:  # the notebook's own noqa: one list of codes
            listed = {c.strip() for c in match.group(1).split(",")} | found
            line = (
                line[: match.start()] + f"# noqa: {', '.join(sorted(listed))}" + line[match.end() :]
            )
        else:
            line = f"{line}  # noqa: {', '.join(sorted(found))}"
        lines[row - 1] = line + ending
    return "".join(lines), codes


def _comments(text: str) -> dict[int, int]:
    """Row -> column of the comment on that row."""
    try:
        return {
            tok.start[0]: tok.start[1]
            for tok in tokenize.generate_tokens(io.StringIO(text).readline)
            if tok.type == tokenize.COMMENT
        }
    except (tokenize.TokenError, SyntaxError):
        return {}


def _report(codes: Counter[str], plan: ModulePlan, what: str) -> None:
    """One warning for the findings kept as the notebook wrote them (an unused import is not
    listed: importing can have side effects, and ``nbops lint`` reports it in the notebook)."""
    carried = {c: n for c, n in codes.items() if c != "F401"}
    if carried:
        listed = ", ".join(f"{c} x{n}" if n > 1 else c for c, n in sorted(carried.items()))
        plan.problem(
            None,
            None,
            "warning",
            f"ruff findings carried over from the notebook's code, exempted line by line in "
            f"the generated {what} (# noqa): {listed} (nbops lint shows them in the notebook)",
        )
