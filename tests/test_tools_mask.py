"""Tests for nbops.tools' black notebook mode without IPython: IPython's transformation, the
masking and unmasking of magics, the trailing semicolon, and ``format_cell``.

IPython is installed in the test environment, so the properties compare with black's own
masking (``black.handle_ipynb_magics.mask_cell``), which needs it.
"""

from __future__ import annotations

import ast
import keyword

import black
import pytest
from black.handle_ipynb_magics import mask_cell as black_mask_cell
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from nbops.tools import (
    format_cell,
    ipython_transform,
    mask_cell,
    put_trailing_semicolon,
    split_trailing_semicolon,
    unmask_cell,
)

MODE = black.Mode(is_ipynb=True)


@pytest.mark.parametrize(
    ("source", "formatted"),
    [
        ("%matplotlib inline\nx=1", "%matplotlib inline\nx = 1"),
        ("x=1;", "x = 1;"),
        ("a = !ls\nb=2", "a = !ls\nb = 2"),
        ("obj?", "?obj"),  # black writes help first, as IPython transforms it
        ("%%time\nx=1\n%time y=2", "%%time\nx = 1\n%time y=2"),
        ("!ls\n  \nx  =  1", "!ls\n\nx = 1"),
        ("  %time x\n  y=1", "%time x\ny = 1"),  # IPython drops the common indentation
        ("x = %env X\n", "x = %env X"),
        ("/f a b", "f(a, b)"),  # IPython's autocall escape, as black writes it
        ("for i in range(3):\n    !echo {i}\nz=( 1,)", "for i in range(3):\n    !echo {i}\nz = (1,)"),
        ("%%capture out\nprint( 1 )", "%%capture out\nprint(1)"),
        ("%%timeit -n1  \nx=[1,2]", "%%timeit -n1\nx = [1, 2]"),
        ("a*?\n", "%psearch a*"),
        ("x = !!ls\nprint(x ,1)", "x = !!ls\nprint(x, 1)"),
    ],
)
def test_format_cell_formats_around_magics(source: str, formatted: str) -> None:
    assert format_cell(source, MODE) == formatted
    assert black.format_cell(source, fast=True, mode=MODE) == formatted


@pytest.mark.parametrize(
    "source",
    [
        "%%bash\necho hi",  # not Python: black leaves it alone
        "pip install x",  # an automagic is not IPython syntax for black
        "?obj",  # already formatted
        "print(1);  # c",
        "%time x = f(a,b)",  # the statement is the magic's text: nothing to format
        "get_ipython().system('ls')",  # black refuses cells already transformed
        "!ls \\\n  -l\nx=1",  # a magic continued over two lines
        "x = 1",
    ],
)
def test_format_cell_leaves_alone_what_black_leaves_alone(source: str) -> None:
    assert format_cell(source, MODE) is None
    with pytest.raises(black.NothingChanged):
        black.format_cell(source, fast=True, mode=MODE)


def test_where_nbops_differs_from_black_it_leaves_the_cell_alone() -> None:
    # Pasted prompts: black formats what IPython (by version) strips them to.
    assert format_cell(">>> x=1\n%time y", MODE) is None
    # tokenize-rt fails on the unclosed bracket of a shell command; nbops leaves the cell.
    assert format_cell("!echo (", MODE) is None
    with pytest.raises(Exception, match="EOF"):
        black.format_cell("!echo (", fast=True, mode=MODE)


def test_python_cell_magics_of_the_mode_are_formatted() -> None:
    mode = black.Mode(is_ipynb=True, python_cell_magics={"custom"})
    assert format_cell("%%custom\nx=1", mode) == "%%custom\nx = 1"
    assert format_cell("%%custom\nx=1", MODE) is None


def test_trailing_semicolon_is_split_and_put_back() -> None:
    assert split_trailing_semicolon("plt.plot(x);  # quiet\n") == ("plt.plot(x)  # quiet\n", True)
    assert split_trailing_semicolon("a = 1; b = 2") == ("a = 1; b = 2", False)
    assert split_trailing_semicolon("s = ';'") == ("s = ';'", False)
    assert put_trailing_semicolon("plt.plot(x)  # quiet\n", True) == "plt.plot(x);  # quiet\n"
    assert put_trailing_semicolon("x\n", False) == "x\n"


def test_transform_is_ipythons() -> None:
    from IPython.core.inputtransformer2 import TransformerManager

    for cell in [
        "%matplotlib inline\nx = !ls\ny = %env A\n!!date\n?x\nx??\n%%time?\n",
        "%%time\nx = 1\n",
        "if a:\n    !echo $a\n    b = %who_ls\n",
        "\n\n   !ls\n   y = 1\n",
        "x = (1,\n  2)\n!ls\n",
        "s = '''\n%notmagic\n'''\n%magic\n",
        "f(x)?\n",
        ";f a b\n,f a b\n/f a b\n",
    ]:
        assert ipython_transform(cell) == TransformerManager().transform_cell(cell), cell


# ---------------------------------------------------------------------------------------------
# properties
# ---------------------------------------------------------------------------------------------

_NAME = st.from_regex(r"[a-z][a-z0-9_]{0,6}", fullmatch=True)
# an assignment's target: `in = !ls` is no Python, with or without IPython
_VAR = _NAME.filter(lambda n: not keyword.iskeyword(n) and not keyword.issoftkeyword(n))
_ARGS = st.from_regex(r"[a-z0-9_ .=,-]{0,12}", fullmatch=True).map(str.strip)
_CMD = st.from_regex(r"[a-z][a-z0-9_ .=,-]{0,11}", fullmatch=True).map(str.strip)
_PY = st.sampled_from(
    ["x = 1", "y=f( x )", "import os", "print(x, y)", "if x:\n    y = 2", "z = [1,2,\n  3]", "# note"]
)
_MAGIC_LINE = st.one_of(
    st.builds(lambda n, a: f"%{n} {a}".rstrip(), _NAME, _ARGS),
    st.builds(lambda c: f"!{c}", _CMD),
    st.builds(lambda c: f"!!{c}", _CMD),
    st.builds(lambda v, c: f"{v} = !{c}", _VAR, _CMD),
    st.builds(lambda v, n, a: f"{v} = %{n} {a}".rstrip(), _VAR, _NAME, _ARGS),
    st.builds(lambda n: f"?{n}", _NAME),
    st.builds(lambda n: f"??{n}", _NAME),
)
_LINES = st.lists(st.one_of(_PY, _MAGIC_LINE), min_size=1, max_size=6)
_HEADER = st.sampled_from(["", "%%time\n", "%%capture out\n", "%%timeit -n1 -r1\n"])
# Canonical cells: every magic written as IPython's transformation gives it back.
_CELLS = st.builds(lambda h, lines: h + "\n".join(lines) + "\n", _HEADER, _LINES)
_TEXT = st.text(alphabet=st.sampled_from(list("%!?=;,/ \n\tabx(1)'\"#\\*[]")), max_size=40)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_CELLS)
def test_mask_round_trip_is_exact(cell: str) -> None:
    masked = mask_cell(cell)
    assert masked is not None
    assert ast.parse(masked.python)
    assert unmask_cell(masked.python, masked) == cell


@settings(max_examples=500, deadline=None)
@given(st.one_of(_TEXT, _CELLS))
def test_mask_never_raises_and_unmasks_what_it_masked(source: str) -> None:
    masked = mask_cell(source)
    if masked is not None:
        assert ast.parse(masked.python)
        back = unmask_cell(masked.python, masked)
        assert back is not None
        assert mask_cell(back) is not None


@settings(max_examples=500, deadline=None)
@given(st.one_of(_TEXT, _CELLS))
def test_masked_cell_is_python_whenever_blacks_is(source: str) -> None:
    try:
        theirs, replacements = black_mask_cell(source)
        ast.parse(theirs)
    except (SyntaxError, black.NothingChanged, AssertionError, ValueError):
        return  # black leaves the cell alone (or fails): nothing to compare
    if ">>>" in source or "In [" in source:
        return  # pasted prompts: deliberately left alone
    ours = mask_cell(source)
    assert ours is not None, source
    assert ast.parse(ours.python)
    assert [r.text for r in ours.replacements] == [r.src for r in replacements]
    assert len(ours.python) == len(theirs)


_HELP_MAGICS = ("%psearch", "%pinfo")


def _black(source: str) -> str | None:
    try:
        return black.format_cell(source, fast=True, mode=MODE)
    except black.NothingChanged:
        return None


@settings(max_examples=300, deadline=None)
@given(st.one_of(_TEXT, _CELLS))
@example("*?; ")  # black turns `*?` into `%psearch *` (found by a fresh-clone run)
def test_format_cell_agrees_with_black(source: str) -> None:
    try:
        theirs = _black(source)
    except Exception:  # noqa: BLE001 - where black fails, nbops leaves the cell alone
        assert format_cell(source, MODE) is None
        return
    if ">>>" in source or "In [" in source:
        return
    if theirs is not None and any(m in theirs and m not in source for m in _HELP_MAGICS):
        return  # black rewrites help syntax (`*?`) into the magic itself; nbops leaves it as written
    ours = format_cell(source, MODE)
    if ours != theirs:
        # black draws random tokens: a short one now and then collides with the cell's text
        # and black leaves the cell alone; nbops' tokens never collide.
        assert ours in {_black(source) for _ in range(5)}
