"""NB0: problems with the input itself (unreadable files, schema breaks, syntax errors, kernels)."""

from __future__ import annotations

import ast
import re
import warnings
from collections.abc import Iterator
from textwrap import dedent

from nbops.core.magics import translate
from nbops.lint.registry import register
from nbops.lint.rule import Context, Finding, Rule


@register
class UnreadableNotebook(Rule):
    code = "NB001"
    name = "unreadable-notebook"
    summary = "The file cannot be read as a notebook."
    severity = "error"
    python_only = False
    engine_reported = True
    explanation = """
    The file is not a notebook nbops can read: broken or truncated JSON, text that is not
    UTF-8, an empty file, or JSON that is not a notebook. Nothing else is checked in it and
    nothing is written to it. Jupyter cannot open such a file either; restore it from version
    control or from `.ipynb_checkpoints/`. This finding is reported by the reader, before any
    rule runs, and cannot be turned off by selection.
    """
    bad_example = """
    {"cells": [{"cell_type": "code", "source": "x = 1"  <- the file ends here
    """
    good_example = """
    # %%
    x = 1
    """

    def check(self, ctx: Context) -> Iterator[Finding]:
        return iter(())  # reported by the engine when reading fails


@register
class InvalidNotebookSchema(Rule):
    code = "NB002"
    name = "invalid-notebook-schema"
    summary = "The notebook breaks the nbformat schema but could be read."
    severity = "warning"
    python_only = False
    explanation = """
    The file is readable, but does not follow the nbformat schema: outputs on a markdown
    cell, cell ids in a notebook older than 4.5, a `null` source, a missing version field, or
    an old nbformat (v1-v3) that nbops upgraded to read. Some tools refuse such files
    (nbconvert, papermill validate), others silently drop the offending parts. Re-saving the
    notebook in a current JupyterLab usually repairs it.
    """
    bad_example = """
    # %% [markdown] exec=1
    # Churn model (a markdown cell with an execution_count in its JSON)
    """
    good_example = """
    # %% [markdown]
    # Churn model
    """

    def check(self, ctx: Context) -> Iterator[Finding]:
        for problem in ctx.notebook.problems:
            cell = None
            if problem.startswith("cell "):
                number = problem[5:].split(":", 1)[0].split(" ", 1)[0]
                if number.isdigit() and int(number) - 1 < len(ctx.cells):
                    cell = int(number) - 1
            yield Finding(problem, cell=cell)


@register
class CellSyntaxError(Rule):
    code = "NB003"
    name = "syntax-error"
    summary = "A code cell does not parse as Python (after IPython syntax is understood)."
    severity = "error"
    explanation = """
    The cell is not valid Python even after nbops has translated IPython syntax (magics,
    `!shell` commands, `?help`, automagics). Running the notebook top to bottom fails here,
    and nothing in the cell can be analysed, formatted or moved into a library. nbops reports
    the cell and lints the others. A code cell that holds prose belongs in a markdown cell.
    A cell pasted from a Python console or a doctest (`>>>` and `...` prompts) or from an
    IPython session (`In [1]:` and `...:`), or indented as a whole, is not reported when it
    parses once IPython's own clean-up before running a cell is done (prompts stripped,
    the first line's indentation removed); nbops does not analyse such a cell further:
    remove the prompts to have it checked and formatted.
    """
    bad_example = """
    # %%
    def load(path:
        return open(path).read()
    """
    good_example = """
    # %%
    def load(path):
        return open(path).read()
    """

    def check(self, ctx: Context) -> Iterator[Finding]:
        for cell in ctx.code_cells:
            sym = ctx.symbols.get(cell.index)
            if sym is None or sym.syntax_error is None:
                continue
            err = sym.syntax_error
            if _parses_without_prompts(cell.source):
                continue  # IPython strips the pasted prompts and runs the cell
            hint = ""
            if _looks_like_prose(cell.source):
                hint = "; this looks like prose: make it a markdown cell"
            yield Finding(
                f"syntax error: {err.message}{hint}", cell=cell.index, line=err.line, column=err.column
            )


# IPython's cleanup transforms (IPython.core.inputtransformer2: leading_indent, then the
# prompt strippers ipython_prompt and classic_prompt), applied to every cell before it is
# compiled, mirrored without importing IPython.
_INDENT = re.compile(r"^[ \t]+")
_IPYTHON_PROMPT = re.compile(r"^(((\[nav\]|\[ins\])?\ )?In\ \[\d+\]:\ |\s*\.{3,}:\ ?)")
_PS1 = re.compile(r"^\s*>>>")
_PS1_STRIP = re.compile(r"^\s*>>>[ \t]?")
_PS2_STRIP = re.compile(r"^\s*\.\.\.[ \t]?")


def strip_prompts(source: str) -> str | None:
    """The cell as IPython runs it once its cleanup is done; None when that changes nothing.

    After leading blank lines: a first line's indentation is removed from every line that
    has it; ``In [n]:`` / ``...:`` prompts are stripped from every line when the first or
    second line has one; ``>>>`` / ``...`` prompts when any line starts with ``>>>``, the
    cell then dedented. Unlike IPython this does not spare ``>>>`` lines inside
    triple-quoted strings: it is only asked about cells that fail to parse. Blank lines are
    kept, so line numbers stay those of the cell.
    """
    lines = source.splitlines(keepends=True)
    start = next((i for i, line in enumerate(lines) if line.strip()), len(lines))
    changed = False
    indent = _INDENT.match(lines[start]) if start < len(lines) else None
    if indent is not None:
        space = indent.group(0)
        lines = [line.removeprefix(space) for line in lines]
        changed = True
    if any(_IPYTHON_PROMPT.match(line) for line in lines[start : start + 2]):
        return "".join(_IPYTHON_PROMPT.sub("", line, count=1) for line in lines)
    if not any(_PS1.match(line) for line in lines):
        return "".join(lines) if changed else None
    out = []
    for line in lines:
        stripped = _PS1_STRIP.sub("", line, count=1)
        out.append(_PS2_STRIP.sub("", line, count=1) if stripped == line else stripped)
    return dedent("".join(out))


def _parses_without_prompts(source: str) -> bool:
    stripped = strip_prompts(source)
    if stripped is None:
        return False
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ast.parse(translate(stripped).python)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False
    return True


def _looks_like_prose(source: str) -> bool:
    words = source.split()
    if len(words) < 4:
        return False
    symbols = sum(source.count(ch) for ch in "=()[]{}:")
    return symbols <= 1 and sum(w.isalpha() for w in words) / len(words) > 0.7


@register
class NonPythonKernel(Rule):
    code = "NB004"
    name = "non-python-kernel"
    summary = "The notebook's kernel is not Python; Python checks are skipped."
    severity = "info"
    python_only = False
    explanation = """
    The notebook declares a kernel for another language (R, Julia, Scala...). nbops' structure
    and documentation rules still apply, but the Python analysis, ruff and black do not, and
    the later steps (modularize, verify) need Python. This finding says so, so that a clean
    result is not mistaken for a checked notebook.
    """
    bad_example = """
    #! kernel=ir language=R
    # %%
    df <- read.csv("data.csv")
    """
    good_example = """
    # %%
    import pandas as pd
    """

    def check(self, ctx: Context) -> Iterator[Finding]:
        nb = ctx.notebook
        if not nb.is_python:
            kernel = nb.kernel_name or nb.language
            yield Finding(
                f"kernel {kernel!r} ({nb.language}) is not Python: only structure and "
                "documentation rules were checked"
            )


@register
class ToolError(Rule):
    code = "NB005"
    name = "tool-error"
    summary = "ruff or black could not process a cell; that cell was skipped by the tool."
    severity = "warning"
    python_only = False
    engine_reported = True
    explanation = """
    An external checker failed on part of the notebook: black cannot format a cell that uses
    IPython syntax it does not support, or ruff cannot parse a cell nbops can. The cell is
    reported and the tool's checks still run on every other cell, so one odd cell never hides
    the findings of the rest. In the example, ruff cannot parse the automagic `pip install`
    line (IPython itself only accepts automagics in one-line cells). Rewriting the cell in
    plain Python, or with an explicit `%pip`, resolves it.
    """
    bad_example = """
    # %%
    import subprocess
    pip install pandas
    """
    good_example = """
    # %%
    import subprocess
    subprocess.run(["pip", "install", "pandas"], check=True)
    """

    def check(self, ctx: Context) -> Iterator[Finding]:
        return iter(())  # reported by the engine from the tools' results
