"""NB0 input rules: NB003 on cells pasted with console and doctest prompts."""

from __future__ import annotations

import ast
import textwrap

import pytest
from helpers import lint_snippet

from nbops.lint.diagnostic import Diagnostic
from nbops.lint.rules.input import strip_prompts


def run(text: str, code: str) -> list[Diagnostic]:
    diags = lint_snippet(textwrap.dedent(text), select=(code, "NB005"))
    assert not [d.message for d in diags if d.code == "NB005"]
    return [d for d in diags if d.code == code]


# Cells as IPython's own example notebooks have them (examples/IPython Kernel/*.ipynb)
DOCTEST = """\
>>> # Fibonacci series:
... # the sum of two elements defines the next
... a, b = 0, 1
>>> while b < 10:
...     print(b)
...     a, b = b, a+b
"""
DOCTEST_IF = """\
>>> the_world_is_flat = 1
>>> if the_world_is_flat:
...     print("Be careful not to fall off!")
"""
IPYTHON_SESSION = """\
In [1]: for i in range(10):
   ...:     print(i, end=' ')
   ...:     
"""
INDENTED_DOCTEST = """\
    >>> import math
    >>> math.sqrt(16)
    4.0
"""
IPYTHON_MAGIC = """\
In [3]: %timeit sum(range(100))
"""


@pytest.mark.parametrize(
    ("source", "flagged"),
    [
        pytest.param(DOCTEST, False, id="doctest-prompts"),
        pytest.param(DOCTEST_IF, False, id="doctest-block"),
        pytest.param(IPYTHON_SESSION, False, id="ipython-prompts"),
        pytest.param(INDENTED_DOCTEST, False, id="indented-doctest-with-output"),
        pytest.param(IPYTHON_MAGIC, False, id="ipython-prompt-and-magic"),
        pytest.param("\n\n" + IPYTHON_SESSION, False, id="after-blank-lines"),
        pytest.param("    x = 1\n    print(x)\n", False, id="indented-cell"),
        # still broken once the prompts are gone: reported
        pytest.param(">>> print 'hello'\n", True, id="python2-print-behind-prompt"),
        pytest.param("In [1]: def f(x:\n   ...:     return x\n", True, id="broken-in-session"),
        # no prompt to strip
        pytest.param("print 'hello'\n", True, id="python2-print"),
        pytest.param("list(\n", True, id="unclosed"),
        # "..." is Ellipsis without a ">>>" line; IPython strips nothing
        pytest.param("... print(1)\n", True, id="dots-without-ps1"),
        # an "In [1]:" prompt on the third line only: IPython strips nothing
        pytest.param(
            "x = 1\ny = 2\nIn [1]: for i in x:\n   ...:     print(i)\n", True, id="late-prompt"
        ),
    ],
)
def test_nb003_pasted_prompts(source: str, flagged: bool) -> None:
    found = run("# %%\n" + source, "NB003")
    assert bool(found) is flagged, [d.message for d in found]


def test_nb003_prompted_cell_keeps_position_of_the_real_error() -> None:
    (diag,) = run("# %%\nx = 1\n# %%\n>>> print 'hello'\n", "NB003")
    assert (diag.cell, diag.line) == (2, 1)


@pytest.mark.parametrize(
    "source",
    [
        DOCTEST,
        DOCTEST_IF,
        IPYTHON_SESSION,
        INDENTED_DOCTEST,
        "\n" + IPYTHON_SESSION,
        "  x = 1\n  if x:\n      print(x)\n",
    ],
)
def test_strip_prompts_runs_what_ipython_runs(source: str) -> None:
    """The same code as IPython's own transformation (which also strips the prompts)."""
    ipython = pytest.importorskip("IPython.core.inputtransformer2")
    expected = ipython.TransformerManager().transform_cell(source)
    stripped = strip_prompts(source)
    assert stripped is not None
    assert ast.dump(ast.parse(stripped)) == ast.dump(ast.parse(expected))


def test_strip_prompts_leaves_plain_code_alone() -> None:
    assert strip_prompts("x = 1\nprint(x)\n") is None
    assert strip_prompts("... \n") is None
