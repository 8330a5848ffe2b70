"""Issue 13's reviewer measures of one generated module, read from its source (no tool run).

Pure functions, so tests/benchmarks can check them on small strings. They read both shapes
of `nbops modularize` output: today's (steps returning tuples, `show` flags, `if show:`) and
the second generation's (frozen dataclass outputs, no display plumbing), so the same
harness measures progress. Steps are the plan's ``steps[].name`` functions when the module
defines them, else the functions ``run()`` calls.
"""

from __future__ import annotations

import ast
import re
from typing import Any

STEP_N = re.compile(r"^step_\d+$")
# "Notebook cells 5, 6." / "Notebook cell 3." in today's step docstrings
_DOC_CELLS = re.compile(r"Notebook cells?\s+([\d,\s]+)")
MAX_LITERAL_STR = 200  # longer strings are text (SQL, markdown, templates), not parameters
MAX_LITERAL_ITEMS = 20  # "small lists"
# calls and statements that change a list / set / dict in place: its name is not a constant
_MUTATORS = {
    "append",
    "extend",
    "insert",
    "pop",
    "remove",
    "clear",
    "sort",
    "reverse",
    "add",
    "update",
    "discard",
    "setdefault",
    "popitem",
}
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


# --------------------------------------------------------------------------
# the notebook side
# --------------------------------------------------------------------------
def is_literal(node: ast.expr) -> bool:
    """A parameter-like literal: number, string (<= 200 chars), bool, path, small list.

    Numbers (with a sign), str/bytes of at most MAX_LITERAL_STR characters, True/False,
    ``Path("...")`` / ``pathlib.Path("...")`` with literal arguments, and non-empty
    lists / tuples / sets of at most MAX_LITERAL_ITEMS such literals. Not None, not ``...``,
    not dicts, not empty containers (those are accumulators).
    """
    if isinstance(node, ast.Constant):
        v = node.value
        if isinstance(v, bool | int | float | complex):
            return True
        if isinstance(v, str | bytes):
            return len(v) <= MAX_LITERAL_STR
        return False
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
        return isinstance(node.operand, ast.Constant) and isinstance(
            node.operand.value, int | float
        )
    if isinstance(node, ast.List | ast.Tuple | ast.Set):
        return 0 < len(node.elts) <= MAX_LITERAL_ITEMS and all(is_literal(e) for e in node.elts)
    if isinstance(node, ast.Call) and not node.keywords:
        f = node.func
        name = f.id if isinstance(f, ast.Name) else f.attr if isinstance(f, ast.Attribute) else ""
        return name in ("Path", "PurePath") and all(
            isinstance(a, ast.Constant) and isinstance(a.value, str) for a in node.args
        )
    return False


def _module_scope_nodes(tree: ast.Module) -> list[ast.AST]:
    """Every node outside function and class bodies (what runs at notebook top level)."""
    out: list[ast.AST] = []
    todo: list[ast.AST] = list(tree.body)
    while todo:
        n = todo.pop()
        out.append(n)
        if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef | ast.Lambda):
            continue
        todo.extend(ast.iter_child_nodes(n))
    return out


def _bound_names(node: ast.AST) -> list[str]:
    """Names one module-scope node binds (or changes in place)."""
    names: list[str] = []
    if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store | ast.Del):
        names.append(node.id)
    elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
        names.append(node.name)
    elif isinstance(node, ast.Import | ast.ImportFrom):
        names += [(a.asname or a.name).split(".")[0] for a in node.names]
    elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        if node.func.attr in _MUTATORS and isinstance(node.func.value, ast.Name):
            names.append(node.func.value.id)
    elif (
        isinstance(node, ast.Subscript | ast.Attribute)
        and isinstance(node.ctx, ast.Store | ast.Del)
        and isinstance(node.value, ast.Name)
    ):
        names.append(node.value.id)
    return names


def literal_constants_read_later(cells: list[str]) -> list[str]:
    """Top-level literal constants of a notebook that a later code cell reads.

    ``cells`` are the code cells' sources as Python (magics already turned into calls).
    A name counts when (1) a code cell assigns it at top level, outside any function, class,
    loop, branch or ``with``, as ``NAME = literal`` or ``NAME: T = literal`` (single Name
    target; literal as in :func:`is_literal`); (2) that is the only place the notebook binds
    it: no other assignment, augmented assignment, loop target, import, def, ``del``,
    in-place change (``NAME.append(...)``, ``NAME[k] = ...``, ``NAME.attr = ...``) at top
    level, and no function declares it ``global``; (3) a later code cell reads it (a load
    of the name anywhere in that cell, functions included). Cells that do not parse are
    skipped. Names in first-definition order.
    """
    trees: list[ast.Module | None] = []
    for src in cells:
        try:
            trees.append(ast.parse(src))
        except (SyntaxError, ValueError):
            trees.append(None)
    const_cell: dict[str, int] = {}
    bindings: dict[str, int] = {}
    globals_declared: set[str] = set()
    loads: dict[str, set[int]] = {}
    for i, tree in enumerate(trees):
        if tree is None:
            continue
        for stmt in tree.body:
            value = None
            if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1:
                value = stmt.value
                target = stmt.targets[0]
            elif isinstance(stmt, ast.AnnAssign) and stmt.value is not None:
                value, target = stmt.value, stmt.target
            if (
                value is not None
                and isinstance(target, ast.Name)
                and is_literal(value)
                and target.id not in const_cell
            ):
                const_cell[target.id] = i
        for n in _module_scope_nodes(tree):
            for name in _bound_names(n):
                bindings[name] = bindings.get(name, 0) + 1
        for n in ast.walk(tree):
            if isinstance(n, ast.Global):
                globals_declared.update(n.names)
            elif isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load):
                loads.setdefault(n.id, set()).add(i)
    return [
        name
        for name, i in const_cell.items()
        if name != "_"
        and bindings.get(name) == 1
        and name not in globals_declared
        and any(j > i for j in loads.get(name, ()))
    ]


def notebook_identifiers(cells: list[str]) -> set[str]:
    """Every identifier-like word in the notebook's code: the names the generator did not make."""
    return {m.group(0) for src in cells for m in _IDENT.finditer(src)}


# --------------------------------------------------------------------------
# the module side
# --------------------------------------------------------------------------
def _is_dataclass(cls: ast.ClassDef, aliases: set[str]) -> bool:
    """Decorated with ``dataclass``, ``dataclasses.dataclass`` or an alias of it."""
    for d in cls.decorator_list:
        f = d.func if isinstance(d, ast.Call) else d
        name = f.id if isinstance(f, ast.Name) else f.attr if isinstance(f, ast.Attribute) else ""
        if name == "dataclass" or name in aliases:
            return True
    return False


def _own_nodes(fn: ast.AST) -> list[ast.AST]:
    """Nodes of a function's body, not those of functions / classes nested in it."""
    out: list[ast.AST] = []
    todo = list(ast.iter_child_nodes(fn))
    while todo:
        n = todo.pop()
        out.append(n)
        if not isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef | ast.Lambda):
            todo.extend(ast.iter_child_nodes(n))
    return out


def _code_lines(fn: ast.FunctionDef | ast.AsyncFunctionDef, lines: list[str]) -> int:
    """Lines of the function that are code: not blank, not comment-only, not the docstring."""
    skip: set[int] = set()
    first = fn.body[0] if fn.body else None
    if (
        isinstance(first, ast.Expr)
        and isinstance(first.value, ast.Constant)
        and isinstance(first.value.value, str)
    ):
        skip = set(range(first.lineno, (first.end_lineno or first.lineno) + 1))
    start = min([fn.lineno, *(d.lineno for d in fn.decorator_list)])
    return sum(
        1
        for no in range(start, (fn.end_lineno or fn.lineno) + 1)
        if no not in skip and lines[no - 1].strip() and not lines[no - 1].lstrip().startswith("#")
    )


def _return_size(
    fn: ast.FunctionDef | ast.AsyncFunctionDef, dataclasses: dict[str, int]
) -> tuple[int, bool]:
    """(largest tuple a return hands back: 0 none, 1 one value, n a tuple of n; a dataclass)."""
    size, dc = 0, False
    for n in _own_nodes(fn):
        if not isinstance(n, ast.Return) or n.value is None:
            continue
        v = n.value
        if isinstance(v, ast.Constant) and v.value is None:
            continue
        if isinstance(v, ast.Tuple):
            size = max(size, len(v.elts))
            continue
        if isinstance(v, ast.Call) and isinstance(v.func, ast.Name) and v.func.id in dataclasses:
            dc = True
        size = max(size, 1)
    return size, dc


def step_functions(
    tree: ast.Module, plan: dict[str, Any] | None
) -> list[tuple[str, list[int] | None]]:
    """(name, notebook cells or None) of each step, in order: the cells its code comes
    from (an imports-only cell the module hoists is not one of them)."""
    defs = {n.name for n in tree.body if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)}
    steps: list[tuple[str, list[int] | None]] = []
    for s in (plan or {}).get("steps") or []:
        if isinstance(s, dict) and s.get("name") in defs:
            # the cells whose code the step holds (nbops >= issue 13), else all of its cells
            cells = s.get("code_cells", s.get("cells"))
            steps.append((str(s["name"]), list(cells) if isinstance(cells, list) else None))
    if steps:
        return steps
    run = next((n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "run"), None)
    seen: list[str] = []
    for n in ast.walk(run) if run else []:
        if (
            isinstance(n, ast.Call)
            and isinstance(n.func, ast.Name)
            and n.func.id in defs
            and n.func.id not in seen
            and n.func.id != "run"
        ):
            seen.append(n.func.id)
    seen.sort(key=lambda name: next(d.lineno for d in tree.body if getattr(d, "name", "") == name))
    return [(name, None) for name in seen]


def analyze_module(
    source: str, plan: dict[str, Any] | None, notebook_names: set[str]
) -> dict[str, Any]:
    """Steps, outputs, display plumbing, generated identifiers and parameters of one module."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError) as e:
        return {"parse_error": str(e)[:200]}
    lines = source.splitlines()
    fns = {n.name: n for n in tree.body if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)}
    classes = [n for n in tree.body if isinstance(n, ast.ClassDef)]
    aliases = {  # from dataclasses import dataclass as _nb_dataclass
        a.asname
        for n in tree.body
        if isinstance(n, ast.ImportFrom) and n.module == "dataclasses"
        for a in n.names
        if a.name == "dataclass" and a.asname
    }
    dataclasses = {
        c.name: sum(isinstance(s, ast.AnnAssign) for s in c.body)
        for c in classes
        if _is_dataclass(c, aliases)
    }
    steps = []
    for name, cells in step_functions(tree, plan):
        fn = fns[name]
        if cells is None:
            doc = ast.get_docstring(fn) or ""
            m = _DOC_CELLS.search(doc)
            cells = [int(x) for x in re.findall(r"\d+", m.group(1))] if m else None
        start = min([fn.lineno, *(d.lineno for d in fn.decorator_list)])
        size, dc = _return_size(fn, dataclasses)
        steps.append(
            {
                "name": name,
                "lines": (fn.end_lineno or fn.lineno) - start + 1,
                "code_lines": _code_lines(fn, lines),
                "one_cell": cells is not None and len(cells) == 1,
                "cells": cells,
                "returns": size,
                "returns_dataclass": dc,
                "step_n": bool(STEP_N.match(name)),
            }
        )
    # display plumbing, anywhere in the module
    show_params = sorted(
        {
            n.name
            for n in ast.walk(tree)
            if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)
            and any(a.arg == "show" for a in [*n.args.args, *n.args.kwonlyargs])
        }
    )
    if_show = sum(
        1
        for n in ast.walk(tree)
        if isinstance(n, ast.If)
        and any(isinstance(x, ast.Name) and x.id == "show" for x in ast.walk(n.test))
    )
    nb_show_calls = sum(
        1
        for n in ast.walk(tree)
        if isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id == "_nb_show"
    )
    # identifiers the generator made: module-level names, step names and their parameters,
    # dataclass fields; minus every word of the notebook's code and imported names
    made: set[str] = set()
    imported: set[str] = set()
    for n in tree.body:
        if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            made.add(n.name)
        elif isinstance(n, ast.Assign | ast.AnnAssign):
            targets = n.targets if isinstance(n, ast.Assign) else [n.target]
            made |= {t.id for tgt in targets for t in ast.walk(tgt) if isinstance(t, ast.Name)}
        elif isinstance(n, ast.Import | ast.ImportFrom):
            imported |= {(a.asname or a.name).split(".")[0] for a in n.names}
    for s in steps:
        a = fns[s["name"]].args
        made |= {x.arg for x in [*a.posonlyargs, *a.args, *a.kwonlyargs]}
    for c in classes:
        if c.name in dataclasses:
            made |= {
                s.target.id
                for s in c.body
                if isinstance(s, ast.AnnAssign) and isinstance(s.target, ast.Name)
            }
    generated = sorted(made - notebook_names - imported - {"show"}, key=lambda x: (-len(x), x))
    return {
        "steps": steps,
        "show_params": show_params,
        "if_show": if_show,
        "nb_show_calls": nb_show_calls,
        "dataclasses": sorted(dataclasses),
        "generated_identifiers": len(generated),
        "longest_identifier": generated[0] if generated else "",
        "identifiers_over_30": [x for x in generated if len(x) > 30],
        "module_parameters": module_parameters(tree),
        "lines": len(lines),
    }


def module_parameters(tree: ast.Module) -> list[str]:
    """Parameter names the module declares: a top-level ``PARAMETERS`` dict, or the fields of a
    top-level class named ``Parameters`` / ``Params`` (the dataclass form)."""
    names: list[str] = []
    for n in tree.body:
        if isinstance(n, ast.Assign | ast.AnnAssign):
            targets = n.targets if isinstance(n, ast.Assign) else [n.target]
            if isinstance(n.value, ast.Dict) and any(
                isinstance(t, ast.Name) and t.id == "PARAMETERS" for t in targets
            ):
                names += [
                    k.value
                    for k in n.value.keys
                    if isinstance(k, ast.Constant) and isinstance(k.value, str)
                ]
        elif isinstance(n, ast.ClassDef) and n.name in ("Parameters", "Params"):
            names += [
                s.target.id
                for s in n.body
                if isinstance(s, ast.AnnAssign) and isinstance(s.target, ast.Name)
            ]
    return names


def proposed_parameters(plan: dict[str, Any] | None, module: dict[str, Any]) -> list[str]:
    """Parameters nbops proposes: the plan's ``parameters`` (or ``proposed_parameters``) names,
    else those the module declares."""
    names: list[str] = []
    for key in ("parameters", "proposed_parameters"):
        for p in (plan or {}).get(key) or []:
            name = p.get("name") if isinstance(p, dict) else p if isinstance(p, str) else None
            if name and name not in names:
                names.append(str(name))
    for name in module.get("module_parameters") or []:
        if name not in names:
            names.append(name)
    return names
