"""The shared AST helpers: the fast walks visit exactly what ``ast`` visits, in its order."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nbops.config import Config
from nbops.core.snippets import notebook_from_snippet
from nbops.lint.rule import Context
from nbops.lint.rules._ast import children, dotted, named_calls, walk

SOURCES = sorted((Path(__file__).parents[3] / "src" / "nbops").rglob("*.py"))


@pytest.mark.parametrize("path", SOURCES[:40], ids=lambda p: p.name)
def test_walk_and_children_match_ast(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    assert [id(n) for n in walk(tree)] == [id(n) for n in ast.walk(tree)]
    for node in ast.walk(tree):
        assert [id(c) for c in children(node)] == [id(c) for c in ast.iter_child_nodes(node)]


def test_walk_is_memoised_on_the_tree() -> None:
    tree = ast.parse("x = [i for i in range(3)]\nprint(x)\n")
    first = walk(tree)
    assert walk(tree) is first
    # a subtree has its own list (the memo is not read as a child of anything)
    sub = tree.body[0]
    assert [id(n) for n in walk(sub)] == [id(n) for n in ast.walk(sub)]
    assert [id(n) for n in walk(tree)] == [id(n) for n in ast.walk(tree)]


_EXPR = st.recursive(
    st.sampled_from(["x", "1", "'s'", "f(x)", "a.b"]),
    lambda inner: st.one_of(
        st.tuples(inner, st.sampled_from(["+", "-", "*", "/", "and", "or", "=="]), inner).map(
            lambda t: f"({t[0]} {t[1]} {t[2]})"
        ),
        st.tuples(inner, inner).map(lambda t: f"{t[0]}[{t[1]}]"),
        st.lists(inner, max_size=3).map(lambda xs: "[" + ", ".join(xs) + "]"),
        inner.map(lambda e: f"[v for v in {e} if v]"),
        inner.map(lambda e: f"(lambda q: {e})"),
    ),
    max_leaves=12,
)


@settings(max_examples=200, deadline=None)
@given(st.lists(_EXPR, min_size=1, max_size=4))
def test_walk_matches_ast_on_generated_code(exprs: list[str]) -> None:
    source = "\n".join(f"y{i} = {e}" for i, e in enumerate(exprs))
    tree = ast.parse(source)
    assert [id(n) for n in walk(tree)] == [id(n) for n in ast.walk(tree)]


def test_named_calls_resolves_imports_once_per_notebook() -> None:
    nb = notebook_from_snippet(
        "# %%\nimport subprocess as sp\nfrom os import system as run_it\n"
        "# %%\n%time sp.run(cmd)\nrun_it(cmd)\n!ls {x}\nf()()\nobj.method(1)\n"
    )
    ctx = Context(nb, Config().options)
    found = named_calls(ctx)
    # a magic placeholder and a call of no dotted name are left out; order is the document's
    assert [(ct.index, call.lineno, name) for ct, call, name in found] == [
        (1, 1, "subprocess.run"),
        (1, 2, "os.system"),
        (1, 4, "f"),
        (1, 5, "obj.method"),
    ]
    assert named_calls(ctx) is found  # memoised on the context: every rule shares one pass


def test_cell_tree_lines_and_calls_are_shared_by_cells_of_the_same_content() -> None:
    from nbops.lint.rules._ast import cell_trees

    text = "# %%\nimport os\n# %%\n%time os.listdir('.')\n!ls {x}\nprint(len(x))\n"
    one, two = (Context(notebook_from_snippet(text), Config().options) for _ in range(2))
    a, b = cell_trees(one)[1], cell_trees(two)[1]
    assert a.tree is b.tree  # the analysis is memoised by cell content
    assert a.calls is b.calls and a.lines is b.lines and a.shifts is b.shifts
    # the placeholder line (!ls) is still left out; %time keeps its statement, shifted
    assert [(c.lineno, dotted(c.func)) for c in b.calls] == [
        (1, "os.listdir"),
        (3, "print"),
        (3, "len"),
    ]
    assert b.placeholders == frozenset({2}) and b.shifts == {1: 6}
