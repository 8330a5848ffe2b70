"""Secrets never reach a generated file: a key in the code becomes a read from the environment.

The detector is the one of the lint rule NB401 (:func:`nbops.lint.secrets.find_secrets`; it
may move to ``nbops.core`` later, modularize imports it from lint as it does ruff and black).
For each secret in a cell's code:

* a string literal that is exactly the secret, given to a name (``KEY = "..."``, a keyword
  argument ``f(api_key="...")`` or a dict entry ``{"api_key": "..."}``), becomes
  ``os.environ["KEY"]`` with a comment saying so;
* a secret in a comment is removed from the comment;
* anything else (part of a longer string, an f-string, the parameters cell, whose values are
  the pipeline's defaults) cannot be replaced safely: the write is refused, naming the cell.

:func:`scrub` removes secrets from prose (markdown headings in docstrings, TODO comments).
"""

from __future__ import annotations

import ast
import io
import re
import tokenize
from collections.abc import Callable
from dataclasses import dataclass, field

from nbops.lint.secrets import SecretMatch, find_secrets

__all__ = ["REMOVED", "SecretEdit", "scrub", "secret_edits"]

REMOVED = "<secret removed by nbops>"

Edit = tuple[int, int, str]


@dataclass
class SecretEdit:
    """What becomes of one secret of a cell: edits, or a refusal (why it cannot be replaced)."""

    line: int
    message: str = ""
    edits: list[Edit] = field(default_factory=list)
    env: str | None = None  # the environment variable it is read from
    refusal: str | None = None


def scrub(text: str) -> str:
    """``text`` with every secret the detector finds replaced by :data:`REMOVED`."""
    found = find_secrets(text)
    for match in reversed(found):
        text = text[: match.start] + REMOVED + text[match.end :]
    return text


def _env_name(name: str) -> str | None:
    env = re.sub(r"[^A-Za-z0-9_]+", "_", name).strip("_").upper()
    if not env:
        return None
    return "_" + env if env[0].isdigit() else env


def _comments(text: str) -> list[tuple[int, int]]:
    """(start, end) offsets of the comments of ``text``."""
    lines = io.StringIO(text).readlines()
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line))
    found: list[tuple[int, int]] = []
    try:
        for tok in tokenize.generate_tokens(io.StringIO(text).readline):
            if tok.type == tokenize.COMMENT:
                start = starts[tok.start[0] - 1] + tok.start[1]
                found.append((start, start + len(tok.string)))
    except (tokenize.TokenError, SyntaxError, IndentationError):
        pass
    return found


def _target_name(target: ast.expr) -> str | None:
    """``KEY`` for ``KEY = ...``, ``config.KEY = ...`` and ``os.environ["KEY"] = ...``."""
    if isinstance(target, ast.Name):
        return target.id
    if isinstance(target, ast.Attribute):
        return target.attr
    if (
        isinstance(target, ast.Subscript)
        and isinstance(target.slice, ast.Constant)
        and isinstance(target.slice.value, str)
    ):
        return target.slice.value
    return None


def _contexts(tree: ast.Module) -> dict[int, tuple[ast.Constant, ast.stmt, str | None, str]]:
    """``id`` of each string constant -> (node, its statement, the name it is given, where)."""
    found: dict[int, tuple[ast.Constant, ast.stmt, str | None, str]] = {}

    def visit(node: ast.AST, stmt: ast.stmt | None) -> None:
        if isinstance(node, ast.stmt):
            stmt = node
        named: list[tuple[ast.expr, str | None, str]] = []
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            named.append((node.value, _target_name(node.targets[0]), "assignment"))
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            named.append((node.value, _target_name(node.target), "assignment"))
        elif isinstance(node, ast.Call):
            named += [(k.value, k.arg, "keyword argument") for k in node.keywords]
        elif isinstance(node, ast.Dict):
            for key, value in zip(node.keys, node.values, strict=True):
                label = key.value if isinstance(key, ast.Constant) and isinstance(key.value, str) else None
                named.append((value, label, "dict entry"))
        for value, name, where in named:
            if isinstance(value, ast.Constant) and isinstance(value.value, str) and stmt is not None:
                found[id(value)] = (value, stmt, name, where)
        if isinstance(node, ast.JoinedStr):
            return  # the parts of an f-string are not literals of their own
        for child in ast.iter_child_nodes(node):
            visit(child, stmt)

    visit(tree, None)
    return found


def secret_edits(
    text: str,
    tree: ast.Module,
    at: Callable[[int, int], int],
    *,
    protected: bool = False,
    marked: set[int] | frozenset[int] = frozenset(),
) -> list[SecretEdit]:
    """What to do with each secret of a cell's (magic-free) code ``text``. ``at(line, col)``
    turns an AST position into an offset of ``text``; ``protected``: the parameters cell
    (copied as it is into the slim notebook); ``marked``: ids of ``# nbops: parameter``
    statements (their value becomes a default)."""
    matches = find_secrets(text)
    if not matches:
        return []
    comments = _comments(text)
    strings: dict[tuple[int, int], tuple[ast.Constant, ast.stmt, str | None, str]] = {}
    for node, stmt, name, where in _contexts(tree).values():
        start = at(node.lineno, node.col_offset)
        end = at(node.end_lineno or node.lineno, node.end_col_offset or 0)
        strings[(start, end)] = (node, stmt, name, where)
    commented: set[int] = set()  # lines that already got the comment
    out: list[SecretEdit] = []
    for match in matches:
        what = f"{match.label} {match.redacted}"
        if any(s <= match.start and match.end <= e for s, e in comments):
            out.append(
                SecretEdit(
                    match.line,
                    f"{what} in a comment is left out of the module; revoke it (it is in the notebook)",
                    [(match.start, match.end, REMOVED)],
                )
            )
            continue
        out.append(_replace(text, at, match, what, strings, protected, marked, commented))
    return out


def _replace(
    text: str,
    at: Callable[[int, int], int],
    match: SecretMatch,
    what: str,
    strings: dict[tuple[int, int], tuple[ast.Constant, ast.stmt, str | None, str]],
    protected: bool,
    marked: set[int] | frozenset[int],
    commented: set[int],
) -> SecretEdit:
    hint = (
        "read it from the environment in the notebook (os.environ[...]), revoke it, and "
        "run modularize again"
    )
    if protected:
        return SecretEdit(
            match.line,
            refusal=f"{what} in the parameters cell: a secret cannot be a pipeline parameter's "
            f"default, and the slim notebook copies that cell; {hint}",
        )
    for (start, end), (node, stmt, name, where) in strings.items():
        if not (start <= match.start and match.end <= end):
            continue
        literal = text[start:end]
        exact = node.value == text[match.start : match.end] and literal[1:-1] == node.value
        env = _env_name(name) if name else None
        if not exact or env is None:
            break
        if id(stmt) in marked:
            return SecretEdit(
                match.line,
                refusal=f"{what} is marked `# nbops: parameter`: a secret cannot be a "
                f"pipeline parameter's default; {hint}",
            )
        edits: list[Edit] = [(start, end, f'os.environ["{env}"]')]
        if stmt.lineno not in commented:  # one comment per statement, above it
            commented.add(stmt.lineno)
            note = f"# nbops: a secret was here; set {env} in the environment"
            line_start = at(stmt.lineno, 0)
            indentation = text[line_start : at(stmt.lineno, stmt.col_offset)]
            if indentation.strip(" \t"):  # `a = 1; KEY = "..."`: at the end of the line
                stop = _line_end(text, stmt.end_lineno or stmt.lineno)
                edits.append((stop, stop, "  " + note))
            else:
                edits.append((line_start, line_start, f"{indentation}{note}\n"))
        return SecretEdit(
            match.line,
            f"{what} ({where}) is not copied into the module: it reads "
            f'`os.environ["{env}"]` instead; set {env} in the environment where the pipeline '
            "runs, and revoke the key (it is in the notebook)",
            edits,
            env=env,
        )
    return SecretEdit(
        match.line,
        refusal=f"{what} is part of a larger expression or string, which cannot be replaced "
        f"safely by a read from the environment; {hint}",
    )


def _line_end(text: str, line: int) -> int:
    """Offset of the end of 1-based ``line`` of ``text`` (before its line break)."""
    offset = 0
    for _ in range(line - 1):
        nxt = re.search(r"\r\n|\r|\n", text[offset:])
        if nxt is None:
            return len(text)
        offset += nxt.end()
    nxt = re.search(r"\r\n|\r|\n", text[offset:])
    return offset + nxt.start() if nxt else len(text)
