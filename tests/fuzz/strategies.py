"""Hypothesis strategies for the CLI fuzz suite: notebook files of every class issue 12 names.

Each strategy draws a :class:`Case`: the bytes of one ``.ipynb`` file, its file name, the
class it belongs to and ``features``, the traits a test may need to tell a known failure
from a new one (``deep``: JSON nested past any recursion limit; ``nbformat3``: a v3 file).

Classes: ``odd`` (valid but odd: empty, 500 cells, large image outputs, non-ASCII names and
sources, null/list/str sources, missing or duplicate ids, nbformat 3 and 4.0-4.5, unknown
metadata), ``broken`` (truncated, not JSON, wrong types, invalid UTF-8, BOM, empty file,
deep nesting), ``ipython`` (magics everywhere), ``python`` (edge cases of the language),
``kernel`` (R and Julia notebooks) and ``mutated`` (mutations of ``examples/*.ipynb``).
"""

from __future__ import annotations

import base64
import copy
import json
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from hypothesis import strategies as st

__all__ = [
    "EXAMPLES",
    "Case",
    "broken_notebooks",
    "cases",
    "cells_fix_may_not_delete",
    "deep_notebooks",
    "ipython_notebooks",
    "kernel_notebooks",
    "modules_that_may_not_compile",
    "mutated_examples",
    "notebooks_with_secrets",
    "odd_notebooks",
    "python_notebooks",
    "v3_notebooks",
]

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"

Json = Any


@dataclass(frozen=True)
class Case:
    """One generated notebook file."""

    kind: str
    name: str
    data: bytes
    features: frozenset[str] = field(default_factory=frozenset)

    def __repr__(self) -> str:  # what Hypothesis prints for a falsifying example
        shown = self.data[:3000].decode("utf-8", "backslashreplace")
        more = f" ... ({len(self.data)} bytes)" if len(self.data) > 3000 else ""
        return (
            f"Case(kind={self.kind!r}, name={self.name!r}, features={sorted(self.features)}, "
            f"data={shown!r}{more})"
        )

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:  # Hypothesis' printer: short
        printer.text(repr(self))


# --------------------------------------------------------------------------- sources

PYTHON_EDGE = [
    "def f(:\n    pass",  # syntax error
    "x = (1,\n",  # unclosed bracket
    "'''never closed\nx = 1",
    "if True:\n\tx = 1\n        y = 2\n",  # tabs and spaces mixed (TabError)
    "if True:\n\tx = 1\n\ty = 2\n",
    "def f():\n  return 1\n    x = 2\n",  # bad dedent
    "x = " + "+".join(["1"] * 3000),  # a 3,000-deep left-leaning expression tree
    "x = " + "[" * 150 + "]" * 150,  # nested brackets (under the parser's limit)
    "x = " + "[" * 250 + "]" * 250,  # over it: SyntaxError 'too many nested parentheses'
    "".join("    " * i + "if True:\n" for i in range(30))
    + "    " * 30
    + "pass\n",  # too deep to compile
    "".join("    " * i + f"def f{i}():\n" for i in range(12)) + "    " * 12 + "return 1\n",
    "x = '" + "a" * 20000 + "'",  # a long line
    "y = " + repr("é" * 3000),
    "if (n := 10) > 5:\n    print(n)",
    (
        "match command.split():\n    case [action]:\n        pass\n    case [action, *rest]:\n"
        "        pass\n    case {'k': v}:\n        pass\n    case Point(x=0):\n        pass\n"
        "    case _:\n        pass"
    ),
    "match = 1\ncase = 2\nprint(match, case)",
    "import asyncio\nawait asyncio.sleep(0)",
    "async with lock:\n    pass",
    "result = [await f(x) async for x in items()]",
    "async def main():\n    await asyncio.sleep(0)\n\nawait main()",
    "def f():\n    global G\n    G = 1\n",
    "global x\nx = 1",
    "global H",
    "H: int = 3",
    "def outer():\n    v = 1\n    def inner():\n        nonlocal v\n        v = 2\n    inner()\n    return v",
    "nonlocal z",  # only an error at compile time
    "from os import *",
    "from math import *\nprint(sqrt(2))",
    "from os.path import *\nfrom sys import *",
    "exec('x = 1')\nprint(x)",
    "exec(compile('y = 2', '<s>', 'exec'))\neval('y + 1')",
    "globals()['z'] = 3\nprint(z)",
    "del globals()['z']",
    "return 5",
    "break",
    "continue",
    "yield 1",
    "await x",
    "lambda: (yield)",
    "x: int",
    "del x",
    "class C:\n    x = 1\n    def m(self):\n        return __class__\n",
    "f'{x!r:>{width}}'",
    "print(*args, **kwargs)",
    "try:\n    pass\nexcept* ValueError:\n    pass",
    "try:\n    import torch\nexcept ImportError:\n    torch = None",
    "x = 1; y = 2; z = x + y",
    "x = 1 \\\n    + 2",
    "x = 1 \\",
    "# only a comment",
    "",
    "   ",
    "\n\n\n",
    "x = 1\x00",  # a NUL character
    "\ufeffx = 1",
    "s = 'a\u2028b'",  # U+2028 inside a literal
    "s = 'a\x85b'",
    "s = 'a\x0cb'",
    "\x0cx = 1",
    "s = '''line\u2029line'''",
    "import os, sys\nprint(os.getcwd(), sys.argv)",
    "from . import sibling",
    "import numpy as np\nimport pandas as pd\ndf = pd.DataFrame(np.zeros(3))",
    '"""A docstring only."""',
    "__import__('os').system('echo hi')",
    "@decorator\ndef f():\n    pass",
    "with open(p) as f, open(q) as g:\n    data = f.read()",
    "for i in range(3):\n    pass\nelse:\n    pass",
    "x = [i for i in range(10) if i % 2]\n[y := 5, y ** 2]",
    "def show(x):\n    return x\n\nshow(1)",
    "def run(params):\n    return params",
    "import random\nrandom.seed(0)\nvalue = random.random()",
    "data = pd.read_csv('/Users/jane/data.csv')",
    "PASSWORD = 'hunter2'",
    "if x:\npass",
    "ｘ = 1\nprint(ｘ)",  # full-width identifier (NFKC)
    "π = 3.14159\nrésultat = π * 2",
    "x = 10 ** 10 ** 2",
    "s = b'\\xff' + 'é'.encode()",
    "x = 0b1010 + 0o17 + 0xFF + 1_000_000 + 1e308 * 10",
    "type X = int",
    "print(f'{\"nested\"}')",
]

IPYTHON = [
    "%matplotlib inline",
    "%load_ext autoreload\n%autoreload 2",
    "%time x = 1",
    "%timeit -n1 -r1 sum(range(10))",
    "if True:\n    %time y = 2",
    "for i in range(3):\n    !echo {i}",
    "def f():\n    %time z = 1\n    return z",
    "!pip install numpy",
    "!ls {path}",
    "!cmd {x}",
    "!echo $HOME {x + 1} {{literal}}",
    "x = !ls",
    "files = !ls -la {folder}",
    "out = %sx ls",
    "obj?",
    "obj??",
    "?obj",
    "len?",
    "pd.read_csv?",
    "%%bash\necho hi\nls -la",
    "%%time\nx = 1\ny = 2",
    "%%writefile helper.py\ndef helper():\n    return 1",
    "%%capture captured\nprint(1)",
    "%%javascript\nconsole.log(1)",
    "%%html\n<b>bold</b>",
    "%%script python\nprint(1)",
    "%%sql\nSELECT 1",
    "%%R\nprint(1)",
    "%%time\n%%capture\nx = 1",
    "x = 1\n%%bash\necho not first",
    "cd /tmp",
    "pwd",
    "ls",
    "%cd ..",
    "%env A=1",
    "home = %env HOME",
    "%store x",
    "%run other.ipynb",
    "%run -i helper.py",
    "%pip install pandas",
    "%conda install numpy",
    "!!ls",
    "%config InlineBackend.figure_format = 'retina'",
    "%who",
    "%reset -f",
    "%alias_magic t time",
    "print(1)  # %time",
    "%time",
    "%%",
    "%",
    "!",
    "?",
    "a = b?",
    "%time for i in range(3): print(i)",
    "get_ipython().run_line_magic('time', 'x = 1')",
    "display(x)",
    "%precision 3\n%xmode Minimal",
    "%%timeit\nsum(range(3))",
    "  %%bash\necho indented cell magic",
    "%autoreload\nimport os\n!echo {os.getcwd()}",
    "x = 1\n!echo {x} \\\n  more",
]

TEXT = st.text(
    st.characters(blacklist_categories=("Cs",)),  # lone surrogates cannot be encoded
    max_size=60,
)

MARKDOWN = [
    "# Title\n\nSome words about what this does, long enough to count as a summary of it.",
    "## Data\n\nWhere it comes from.",
    "## Parameters",
    "### Ünïcödé héädïng 数据 🚀",
    "![plot](attachment:image.png)",
    "$$x^2$$\n<div>html</div>",
    "",
    "   ",
    "# " + "long " * 500,
]

RAW_SOURCES = ["", "raw text", "\\begin{equation}x\\end{equation}"]


def sources(pool: list[str]) -> st.SearchStrategy[str]:
    """A cell source: one or a few snippets of ``pool``, sometimes random text."""
    one = st.sampled_from(pool)
    joined = st.lists(one, min_size=2, max_size=3).map("\n".join)
    return st.one_of(one, one, joined, TEXT)


def source_value(text: str, form: str) -> Json:
    """``text`` as nbformat stores it: a string, a list of lines, or (a schema error) null."""
    if form == "list":
        return text.splitlines(keepends=True)
    if form == "null":
        return None
    return text


# --------------------------------------------------------------------------- outputs


def _png(size: int) -> str:
    head = b"\x89PNG\r\n\x1a\n"
    return base64.b64encode(head + bytes(range(256)) * (size // 256 + 1))[:size].decode()


@st.composite
def outputs(draw: st.DrawFn, large_image: int) -> list[Json]:
    """A code cell's outputs: streams, results, images (some large), errors."""
    kinds = draw(
        st.lists(st.sampled_from(["stream", "result", "image", "error", "odd"]), max_size=3)
    )
    found: list[Json] = []
    for kind in kinds:
        if kind == "stream":
            text = draw(TEXT)
            found.append(
                {
                    "name": draw(st.sampled_from(["stdout", "stderr"])),
                    "output_type": "stream",
                    "text": draw(st.sampled_from(["str", "list"])) == "list"
                    and text.splitlines(True)
                    or text,
                }
            )
        elif kind == "result":
            found.append(
                {
                    "output_type": "execute_result",
                    "execution_count": draw(st.integers(1, 99)),
                    "data": {"text/plain": draw(TEXT)},
                    "metadata": {},
                }
            )
        elif kind == "image":
            size = draw(st.sampled_from([100, 5000, large_image]))
            found.append(
                {
                    "output_type": "display_data",
                    "metadata": {},
                    "data": {"image/png": _png(size), "text/plain": "<Figure>"},
                }
            )
        elif kind == "error":
            found.append(
                {
                    "output_type": "error",
                    "ename": "ValueError",
                    "evalue": draw(TEXT),
                    "traceback": ["\x1b[0;31mValueError\x1b[0m: boom"],
                }
            )
        else:
            found.append(
                draw(
                    st.sampled_from(
                        [
                            {"output_type": "unknown_type"},
                            {"output_type": "stream"},
                            {
                                "output_type": "display_data",
                                "data": {"application/x-custom": {"a": [1, 2]}},
                            },
                            {"output_type": "execute_result", "data": {"text/plain": ["a", "b"]}},
                        ]
                    )
                )
            )
    return found


# --------------------------------------------------------------------------- cells and notebooks

KERNELSPECS: dict[str, tuple[Json, Json]] = {
    "python": (
        {"name": "python3", "display_name": "Python 3", "language": "python"},
        {"name": "python", "version": "3.11.7"},
    ),
    "R": ({"name": "ir", "display_name": "R", "language": "R"}, {"name": "R", "version": "4.3.1"}),
    "julia": (
        {"name": "julia-1.10", "display_name": "Julia 1.10", "language": "julia"},
        {"name": "julia", "version": "1.10.0"},
    ),
}

R_SOURCES = [
    "library(ggplot2)\ndf <- read.csv('data.csv')",
    "x <- c(1, 2, 3)\nmean(x)",
    "f <- function(a) { a + 1 }\nf(2)",
    "# parameters\nalpha <- 0.5",
    "%%R\nprint(1)",
    "install.packages('dplyr')",
    "df %>% filter(x > 1)",
    "import os",  # Python in an R notebook
]
JULIA_SOURCES = [
    "using DataFrames\ndf = DataFrame(a=[1, 2])",
    "x = [1, 2, 3]\nsum(x)",
    "function f(a)\n    a + 1\nend\nf(2)",
    "α = 0.5\nβ = α^2",
    "] add Plots",
    "; ls",
    'println("héllo")',
    "import os",
]


@st.composite
def cells(
    draw: st.DrawFn,
    code: st.SearchStrategy[str],
    *,
    count: st.SearchStrategy[int],
    minor: int,
    large_image: int,
) -> list[Json]:
    """A list of cells (code, markdown, raw) with every odd field nbformat allows or should not."""
    n = draw(count)
    ids = st.one_of(st.none(), st.sampled_from(["dup", "a", "cell-1"]), st.uuids().map(str))
    made: list[Json] = []
    for i in range(n):
        kind = draw(st.sampled_from(["code", "code", "code", "markdown", "raw"]))
        text = draw(
            code
            if kind == "code"
            else st.sampled_from(MARKDOWN)
            if kind == "markdown"
            else st.sampled_from(RAW_SOURCES)
        )
        cell: Json = {
            "cell_type": kind,
            "metadata": {},
            "source": source_value(text, draw(st.sampled_from(["str", "list", "list", "null"]))),
        }
        if minor >= 5 or draw(st.booleans()):  # ids: 4.5 needs them; some older files have them
            ident = draw(ids)
            if ident is not None:
                cell["id"] = ident
        meta = draw(st.sampled_from(["none", "tags", "params", "unknown", "odd"]))
        if meta == "tags":
            cell["metadata"]["tags"] = draw(
                st.lists(
                    st.sampled_from(
                        ["parameters", "nbops:ignore", "nbops:ignore:NB301", "hide", "ünïcode", ""]
                    ),
                    max_size=3,
                )
            )
        elif meta == "params":
            cell["metadata"]["tags"] = ["parameters"]
        elif meta == "unknown":
            cell["metadata"]["x-vendor"] = {"nested": [1, {"deep": None}]}
            cell["metadata"]["collapsed"] = True
        elif meta == "odd":
            cell["metadata"]["tags"] = draw(st.sampled_from(["parameters", None, [1, 2], {"a": 1}]))
        if kind == "code":
            cell["execution_count"] = draw(st.one_of(st.none(), st.integers(1, 50)))
            cell["outputs"] = draw(outputs(large_image))
        elif kind == "markdown" and draw(st.integers(0, 4)) == 0:
            cell["attachments"] = {"image.png": {"image/png": _png(200)}}
        if draw(st.integers(0, 9)) == 0:
            cell["x_unknown_key"] = i
        made.append(cell)
    return made


@st.composite
def notebooks(
    draw: st.DrawFn,
    code: st.SearchStrategy[str],
    *,
    language: str = "python",
    count: st.SearchStrategy[int] | None = None,
    large_image: int = 200_000,
) -> Json:
    """A v4 notebook (minor 0-5) whose code cells draw from ``code``."""
    minor = draw(st.integers(0, 5))
    spec, info = KERNELSPECS[language]
    metadata: Json = {}
    which = draw(st.sampled_from(["full", "full", "none", "spec-only", "unknown"]))
    if which in ("full", "unknown"):
        metadata = {"kernelspec": dict(spec), "language_info": dict(info)}
    elif which == "spec-only":
        metadata = {"kernelspec": dict(spec)}
    if which == "unknown":
        metadata["x-vendor"] = {"anything": [1, "two", None]}
        metadata["nbops"] = {"unknown": True}
        metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": {"state": {}}}
    return {
        "cells": draw(
            cells(
                code,
                count=st.integers(0, 8) if count is None else count,
                minor=minor,
                large_image=large_image,
            )
        ),
        "metadata": metadata,
        "nbformat": 4,
        "nbformat_minor": minor,
    }


def encode(doc: Json, indent: int | None = 1, ascii_only: bool = False) -> bytes:
    return json.dumps(doc, indent=indent, ensure_ascii=ascii_only).encode("utf-8")


FILE_NAME_LIST = [
    "notebook.ipynb",
    "analyse données.ipynb",
    "数据分析.ipynb",
    "my-notebook (1).ipynb",
    "Über.Notebook.v2.ipynb",
    "x.ipynb",
    "_private.ipynb",
    "1_starts_with_digit.ipynb",
    "class.ipynb",
    "emoji 🚀.ipynb",
    "a" * 120 + ".ipynb",
    "test_something.ipynb",
]
FILE_NAMES = st.sampled_from(FILE_NAME_LIST)

ENCODINGS = st.tuples(st.sampled_from([None, 1, 2, 4]), st.booleans())


def _finish(draw: st.DrawFn, kind: str, doc: Json, features: frozenset[str] = frozenset()) -> Case:
    indent, ascii_only = draw(ENCODINGS)
    return Case(kind, draw(FILE_NAMES), encode(doc, indent, ascii_only), features)


# --------------------------------------------------------------------------- the classes


@st.composite
def odd_notebooks(draw: st.DrawFn, large_image: int = 200_000, many: int = 500) -> Case:
    """Valid but odd: empty, many cells, large images, odd sources and ids, unknown metadata."""
    shape = draw(st.sampled_from(["plain", "plain", "empty", "no-cells", "many", "dup-ids", "v3"]))
    code = sources(PYTHON_EDGE[:20] + IPYTHON[:10] + ["x = 1", "print(x)", "import os"])
    if shape == "v3":
        return draw(v3_notebooks())
    if shape == "many":
        doc = draw(notebooks(code, count=st.just(many), large_image=1000))
    else:
        doc = draw(notebooks(code, large_image=large_image))
    if shape == "empty":
        doc["cells"] = []
    elif shape == "no-cells":
        doc = {"metadata": {}, "nbformat": 4, "nbformat_minor": 5, "cells": []}
    elif shape == "dup-ids":
        for cell in doc["cells"]:
            cell["id"] = "same"
    return _finish(draw, "odd", doc)


@st.composite
def v3_notebooks(draw: st.DrawFn) -> Case:
    """An nbformat 3 notebook: worksheets, heading cells, ``input``/``prompt_number``."""
    made: list[Json] = []
    for _ in range(draw(st.integers(0, 6))):
        kind = draw(st.sampled_from(["code", "markdown", "heading", "raw"]))
        if kind == "code":
            made.append(
                {
                    "cell_type": "code",
                    "collapsed": False,
                    "input": draw(sources(PYTHON_EDGE[:30])),
                    "language": "python",
                    "metadata": {},
                    "outputs": [],
                    "prompt_number": draw(st.one_of(st.none(), st.integers(1, 9))),
                }
            )
        elif kind == "heading":
            made.append(
                {
                    "cell_type": "heading",
                    "level": draw(st.integers(1, 6)),
                    "metadata": {},
                    "source": draw(st.sampled_from(["Title", "Données", ""])),
                }
            )
        else:
            made.append(
                {"cell_type": kind, "metadata": {}, "source": draw(st.sampled_from(MARKDOWN))}
            )
    doc = {
        "metadata": {"name": draw(st.sampled_from(["", "old", "ancien"]))},
        "nbformat": 3,
        "nbformat_minor": 0,
        "worksheets": [{"cells": made, "metadata": {}}],
    }
    return _finish(draw, "odd", doc, frozenset({"nbformat3"}))


@st.composite
def broken_notebooks(draw: st.DrawFn) -> Case:
    """Files that are not readable notebooks, or barely: every way a file breaks."""
    base = draw(
        notebooks(sources(["x = 1", "import os\nprint(os.sep)", "%time y = 2"]), large_image=1000)
    )
    text = encode(base)
    how = draw(
        st.sampled_from(
            [
                "truncated",
                "not-json",
                "invalid-utf8",
                "bom",
                "empty",
                "whitespace",
                "wrong-types",
                "json-scalar",
                "latin1",
                "nul",
                "lone-surrogate",
                "deep-small",
                "huge-number",
            ]
        )
    )
    features: set[str] = set()
    if how == "truncated":
        data = text[: draw(st.integers(0, max(0, len(text) - 1)))]
    elif how == "not-json":
        data = draw(
            st.sampled_from(
                [
                    b"not json",
                    b"<html></html>",
                    b"{'single': 'quotes'}",
                    b'{"cells": [],}',
                    b"\x00\x01\x02",
                    b"NaN",
                    b"{}{}",
                ]
            )
        )
    elif how == "invalid-utf8":
        cut = draw(st.integers(0, len(text)))
        data = (
            text[:cut]
            + draw(st.sampled_from([b"\xff", b"\xc3", b"\xed\xa0\x80", b"\x80\x80"]))
            + text[cut:]
        )
    elif how == "bom":
        data = (
            draw(st.sampled_from([b"\xef\xbb\xbf", b"\xff\xfe", b"\xef\xbb\xbf\xef\xbb\xbf"]))
            + text
        )
    elif how == "empty":
        data = b""
    elif how == "whitespace":
        data = b"  \n\t\n"
    elif how == "latin1":
        base["cells"].append({"cell_type": "markdown", "metadata": {}, "source": "café"})
        data = json.dumps(base, ensure_ascii=False).encode("latin-1")
    elif how == "nul":
        data = text.replace(b'"x = 1"', b'"x = 1\\u0000"') + b"\x00"
    elif how == "lone-surrogate":
        data = text.replace(b'"metadata": {}', b'"metadata": {"s": "\\ud800"}', 1)
        data = data if data != text else b'{"cells": [{"cell_type": "code", "source": "\\udfff"}]}'
    elif how == "deep-small":
        depth = draw(st.integers(5, 90))
        base["metadata"]["deep"] = json.loads("[" * depth + "]" * depth)
        data = encode(base)
    elif how == "huge-number":
        data = text.replace(b'"nbformat": 4', b'"nbformat": 4' + b"0" * 5000, 1)
    else:
        data = encode(draw(wrong_types(base)))
    return Case("broken", draw(FILE_NAMES), data, frozenset(features))


@st.composite
def wrong_types(draw: st.DrawFn, base: Json) -> Json:
    """``base`` with one field of the wrong JSON type."""
    doc = copy.deepcopy(base)
    junk = st.sampled_from([None, 1, -1, 2.5, True, "text", [], [1, "a"], {}, {"k": "v"}])
    where = draw(
        st.sampled_from(
            [
                "root",
                "cells",
                "metadata",
                "nbformat",
                "minor",
                "cell",
                "cell_type",
                "source",
                "source-items",
                "outputs",
                "output",
                "exec",
                "cell-meta",
                "tags",
                "kernelspec",
                "language_info",
                "drop-key",
            ]
        )
    )
    if where == "root":
        return draw(junk)
    if where in ("cells", "metadata", "nbformat", "minor"):
        doc[{"minor": "nbformat_minor"}.get(where, where)] = draw(junk)
        return doc
    if where in ("kernelspec", "language_info"):
        doc["metadata"][where] = draw(junk)
        return doc
    if where == "drop-key":
        del doc[draw(st.sampled_from(sorted(doc)))]
        return doc
    if not doc["cells"]:
        doc["cells"] = [
            {
                "cell_type": "code",
                "metadata": {},
                "source": "x = 1",
                "outputs": [],
                "execution_count": None,
            }
        ]
    cell = doc["cells"][draw(st.integers(0, len(doc["cells"]) - 1))]
    if where == "cell":
        doc["cells"][0] = draw(junk)
    elif where == "cell_type":
        cell["cell_type"] = draw(
            st.one_of(junk, st.sampled_from(["heading", "unknown", "Code", ""]))
        )
    elif where == "source":
        cell["source"] = draw(junk)
    elif where == "source-items":
        cell["source"] = ["x = 1\n", draw(junk), "y = 2"]
    elif where == "outputs":
        cell["outputs"] = draw(junk)
    elif where == "output":
        cell["outputs"] = [draw(junk)]
    elif where == "exec":
        cell["execution_count"] = draw(st.one_of(junk, st.just(-5), st.just(10**30)))
    elif where == "cell-meta":
        cell["metadata"] = draw(junk)
    else:
        cell["metadata"] = {"tags": draw(junk)}
    return doc


@st.composite
def deep_notebooks(draw: st.DrawFn, max_depth: int = 20_000) -> Case:
    """A notebook with a value nested past Python's recursion limit (issue 12 §5): 1,000 is
    enough for the console script, but Hypothesis raises the limit to 2,048 in its tests."""
    depth = draw(st.integers(3000, max_depth))
    where = draw(st.sampled_from(["metadata", "cell-metadata", "output", "root-list"]))
    nested = "[" * depth + "]" * depth
    if where == "root-list":
        data = nested.encode()
    else:
        deep = f'{{"deep": {nested}}}'
        data_ = f'{{"application/json": {nested}}}'
        output = f'{{"output_type": "display_data", "metadata": {{}}, "data": {data_}}}'
        cell_meta = deep if where == "cell-metadata" else "{}"
        outputs_text = f"[{output}]" if where == "output" else "[]"
        meta = deep if where == "metadata" else "{}"
        cell = (
            f'{{"cell_type": "code", "execution_count": 1, "metadata": {cell_meta}, '
            f'"outputs": {outputs_text}, "source": "x = 1"}}'
        )
        data = (
            f'{{"cells": [{cell}], "metadata": {meta}, "nbformat": 4, "nbformat_minor": 4}}'
        ).encode()
    return Case("broken", draw(FILE_NAMES), data, frozenset({"deep"}))


@st.composite
def ipython_notebooks(draw: st.DrawFn) -> Case:
    """Magics, shell escapes, help syntax and automagics everywhere, indented too."""
    pool = IPYTHON + ["x = 1", "import os", "print(x)", "folder = 'data'\npath = 'a.csv'"]
    return _finish(draw, "ipython", draw(notebooks(sources(pool))))


@st.composite
def python_notebooks(draw: st.DrawFn) -> Case:
    """Python edge cases: syntax errors, tabs, nesting, long lines, new syntax, scoping."""
    return _finish(draw, "python", draw(notebooks(sources(PYTHON_EDGE))))


@st.composite
def kernel_notebooks(draw: st.DrawFn) -> Case:
    """Notebooks of other kernels: R and Julia (and a Python notebook claiming to be R)."""
    language = draw(st.sampled_from(["R", "julia"]))
    pool = R_SOURCES if language == "R" else JULIA_SOURCES
    if draw(st.integers(0, 4)) == 0:
        pool = PYTHON_EDGE[:10] + pool
    return _finish(draw, "kernel", draw(notebooks(sources(pool), language=language)))


@cache
def example_documents() -> tuple[tuple[str, str], ...]:
    """``(name, JSON text)`` of every example notebook."""
    paths = sorted(EXAMPLES.glob("*.ipynb")) + sorted(EXAMPLES.glob("hackathon/**/*.ipynb"))
    return tuple((p.name, p.read_text(encoding="utf-8")) for p in paths)


MUTATIONS = [
    "none",
    "delete-cell",
    "duplicate-cell",
    "swap-cells",
    "replace-source",
    "insert-snippet",
    "drop-ids",
    "dup-ids",
    "null-source",
    "list-source",
    "str-source",
    "minor",
    "clear-metadata",
    "kernel-r",
    "whitespace-cell-with-outputs",
    "tag-parameters",
    "untag",
    "strip-outputs",
    "reverse",
    "truncate-bytes",
    "flip-byte",
    "many-copies",
]


@st.composite
def mutated_examples(draw: st.DrawFn, max_mutations: int = 3) -> Case:
    """An example notebook with a few mutations applied."""
    name, text = draw(st.sampled_from(example_documents()))
    doc = json.loads(text)
    nb_cells: list[Json] = doc["cells"]
    snippet = sources(PYTHON_EDGE + IPYTHON)
    byte_level = None
    for how in draw(st.lists(st.sampled_from(MUTATIONS), min_size=1, max_size=max_mutations)):
        pick = st.integers(0, max(0, len(nb_cells) - 1))
        if how in ("truncate-bytes", "flip-byte"):
            byte_level = how
        elif not nb_cells or how == "none":
            continue
        elif how == "delete-cell":
            del nb_cells[draw(pick)]
        elif how == "duplicate-cell":
            i = draw(pick)
            nb_cells.insert(i, copy.deepcopy(nb_cells[i]))
        elif how == "swap-cells":
            i, j = draw(pick), draw(pick)
            nb_cells[i], nb_cells[j] = nb_cells[j], nb_cells[i]
        elif how == "replace-source":
            nb_cells[draw(pick)]["source"] = draw(snippet)
        elif how == "insert-snippet":
            nb_cells.insert(
                draw(pick),
                {
                    "cell_type": "code",
                    "execution_count": None,
                    "metadata": {},
                    "outputs": [],
                    "source": draw(snippet),
                },
            )
        elif how == "drop-ids":
            for cell in nb_cells:
                cell.pop("id", None)
        elif how == "dup-ids":
            for cell in nb_cells:
                cell["id"] = "dup"
        elif how == "null-source":
            nb_cells[draw(pick)]["source"] = None
        elif how == "list-source":
            cell = nb_cells[draw(pick)]
            cell["source"] = "".join(cell.get("source") or "").splitlines(True)
        elif how == "str-source":
            cell = nb_cells[draw(pick)]
            cell["source"] = "".join(cell.get("source") or "")
        elif how == "minor":
            doc["nbformat_minor"] = draw(st.integers(0, 6))
        elif how == "clear-metadata":
            doc["metadata"] = {}
        elif how == "kernel-r":
            doc["metadata"]["kernelspec"], doc["metadata"]["language_info"] = KERNELSPECS["R"]
        elif how == "whitespace-cell-with-outputs":
            cell = nb_cells[draw(pick)]
            if cell.get("cell_type") == "code":
                cell["source"] = "  \n"
        elif how == "tag-parameters":
            nb_cells[draw(pick)].setdefault("metadata", {})["tags"] = ["parameters"]
        elif how == "untag":
            for cell in nb_cells:
                cell.get("metadata", {}).pop("tags", None)
        elif how == "strip-outputs":
            for cell in nb_cells:
                if cell.get("cell_type") == "code":
                    cell["outputs"], cell["execution_count"] = [], None
        elif how == "reverse":
            nb_cells.reverse()
        elif how == "many-copies":
            nb_cells.extend(copy.deepcopy(nb_cells[: draw(st.integers(1, 5))]) * 3)
    data = encode(doc, *draw(ENCODINGS))
    if byte_level == "truncate-bytes":
        data = data[: draw(st.integers(0, len(data) - 1))]
    elif byte_level == "flip-byte":
        i = draw(st.integers(0, len(data) - 1))
        data = data[:i] + bytes([data[i] ^ draw(st.integers(1, 255))]) + data[i + 1 :]
    features = {"nbformat3"} if doc.get("nbformat") == 3 else set()
    return Case(
        "mutated", draw(st.sampled_from([name, name, *FILE_NAME_LIST])), data, frozenset(features)
    )


def cases() -> st.SearchStrategy[Case]:
    """Any class."""
    return st.one_of(
        odd_notebooks(),
        broken_notebooks(),
        ipython_notebooks(),
        python_notebooks(),
        kernel_notebooks(),
        mutated_examples(),
    )


# --------------------------------------------------------------------------- known failures


def _doc_with(cells_: list[Json]) -> Json:
    spec, info = KERNELSPECS["python"]
    return {
        "cells": cells_,
        "metadata": {"kernelspec": spec, "language_info": info},
        "nbformat": 4,
        "nbformat_minor": 5,
    }


def _code(source: str, **extra: Json) -> Json:
    cell = {
        "cell_type": "code",
        "execution_count": None,
        "metadata": {},
        "outputs": [],
        "source": source,
    }
    cell.update(extra)
    return cell


@st.composite
def cells_fix_may_not_delete(draw: st.DrawFn) -> Case:
    """Cells NB107 or NB502 offer to delete that hold more than a blank source (issue 12 §2):
    a blank cell with outputs, tags or attachments, a duplicate import with outputs."""
    stream = {"name": "stdout", "output_type": "stream", "text": "kept\n"}
    victims = [
        _code(draw(st.sampled_from(["", "  \n", None])), execution_count=3, outputs=[stream]),
        _code(draw(st.sampled_from(["", " \n"])), metadata={"tags": ["parameters"]}),
        {
            "cell_type": "markdown",
            "metadata": {},
            "source": "",
            "attachments": {"a.png": {"image/png": _png(100)}},
        },
        _code("import os", execution_count=4, outputs=[stream]),  # a duplicate of cell 2's import
    ]
    chosen = draw(st.lists(st.sampled_from(victims), min_size=1, max_size=3))
    made = [
        {"cell_type": "markdown", "metadata": {}, "source": "# Title"},
        _code("import os\nimport sys"),
        *copy.deepcopy(chosen),
        _code("print(os.sep, sys.argv)"),
    ]
    for n, cell in enumerate(made):
        cell["id"] = f"cell-{n}"
    return Case("odd", "victims.ipynb", encode(_doc_with(made)))


MODULE_BREAKERS = [
    "s = 'a\u2028b'",
    "s = 'a\x85b'",
    "s = 'a\x0cb'",
    "s = 'a\u2029b'",
    "def f():\n    global G\n    G = 1\n",
    "G: int = 2",
    "break",
    "continue",
    "return 5",
    "yield 1",
    "nonlocal z",
    "x = 1",
    "print(G)",
]


@st.composite
def modules_that_may_not_compile(draw: st.DrawFn) -> Case:
    """Cells whose code, carried into a module, broke it (issue 12 §4)."""
    picked = draw(st.lists(st.sampled_from(MODULE_BREAKERS), min_size=1, max_size=4))
    made = [{"cell_type": "markdown", "metadata": {}, "source": "# Title", "id": "t"}]
    made += [_code(source, id=f"c{n}") for n, source in enumerate(picked)]
    return Case("python", "breakers.ipynb", encode(_doc_with(made)))


_ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
SECRET_KEYS = st.one_of(
    st.text(_ALNUM, min_size=24, max_size=40).map("sk_live_{}".format),
    st.text(_ALNUM, min_size=36, max_size=36).map("ghp_{}".format),
    st.text(_ALNUM[:26] + _ALNUM[52:], min_size=16, max_size=16).map("AKIA{}".format),
)


@st.composite
def notebooks_with_secrets(draw: st.DrawFn) -> tuple[Case, str]:
    """A notebook holding a live-looking key, and the key (issue 12 §3)."""
    key = draw(SECRET_KEYS)
    name = draw(st.sampled_from(["API_KEY", "token", "CRM_API_KEY"]))
    made = [
        {"cell_type": "markdown", "metadata": {}, "source": "# Title", "id": "t"},
        _code(f"{name} = {key!r}\nheaders = {{'Authorization': {name}}}", id="k"),
        {"cell_type": "markdown", "metadata": {}, "source": "## Use", "id": "u"},
        _code("print(len(headers))", id="p"),
    ]
    return Case("python", "secrets.ipynb", encode(_doc_with(made))), key
