"""The shared AST helpers: the fast walks visit exactly what ``ast`` visits, in its order."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nbops.lint.rules._ast import children, walk

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
