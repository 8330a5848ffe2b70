"""NB1: structure and documentation (titles, conclusions, headings, file names, cell sizes).

These rules read only the notebook model (cell types, sources, file name), so most of them
apply to notebooks in any kernel language.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import PurePath
from typing import Any, ClassVar

from nbops.core.headings import parse_headings
from nbops.core.notebook import Cell
from nbops.core.sections import markdown_headings
from nbops.lint.diagnostic import Edit, Fix
from nbops.lint.registry import register
from nbops.lint.rule import Context, Finding, Rule


def _nonempty(cells: list[Cell]) -> list[Cell]:
    return [c for c in cells if c.source.strip()]


def _code_cells(ctx: Context) -> list[Cell]:
    """Code cells with content; empty ones are NB107's business."""
    return _nonempty(ctx.code_cells)


_WORD = re.compile(r"[^\W\d_][\w'-]*")
_NOISE = re.compile(r"!\[[^\]]*\]\([^)]*\)|<[^>]+>|https?://\S+|data:\S+")


def markdown_words(source: str) -> int:
    """Words of prose in a markdown cell (images, HTML tags and URLs removed)."""
    return len(_WORD.findall(_NOISE.sub(" ", source)))


def _file_name(ctx: Context) -> str | None:
    path = ctx.notebook.path
    return PurePath(path).name if path is not None else None


_UNTITLED = re.compile(r"^untitled[-_ ]?\d*$", re.IGNORECASE)
_COPY_PATTERNS = (
    re.compile(r"[-_ ]copy[-_ ]?\d*$", re.IGNORECASE),  # x-Copy1 (Jupyter), x_copy, x copy 2
    re.compile(r"^copy of ", re.IGNORECASE),  # Copy of x (Google Colab, Drive)
    re.compile(r" \(\d+\)$"),  # x (1) (browser downloads)
    re.compile(r"-checkpoint$", re.IGNORECASE),  # copied out of .ipynb_checkpoints/
)
_BAD_CHARS = set(" \t()[]{}&$#!'\"`:;*?<>|\\%")
_WINDOWS_RESERVED = re.compile(r"^(con|prn|aux|nul|com[1-9]|lpt[1-9])$", re.IGNORECASE)


def _stem(name: str) -> str:
    return name[: -len(".ipynb")] if name.lower().endswith(".ipynb") else PurePath(name).stem


def title_from_name(name: str) -> str:
    """A readable title from a file name: ``01_churn_model-Copy1.ipynb`` -> ``Churn model``."""
    stem = _stem(name)
    for pattern in _COPY_PATTERNS:
        stem = pattern.sub("", stem)
    stem = re.sub(r"^\d{1,3}[-_ .]+(?=\D)", "", stem)  # ordering prefixes: 01_, 2- (not years)
    words = re.sub(r"[^A-Za-z0-9]+", " ", stem).split()
    if not words:
        return "Title"
    text = " ".join(words)
    return text[0].upper() + text[1:]


# -- NB101-NB103, documentation --------------------------------------------------------------


def _is_front_matter_title(cell: Cell) -> bool:
    """A raw cell of YAML front matter with a title (Quarto, jupytext)."""
    text = cell.source.strip()
    return text.startswith("---") and re.search(r"^title\s*:", text, re.MULTILINE) is not None


@register
class MissingTitle(Rule):
    code = "NB101"
    name = "missing-title"
    summary = "The first cell is not a markdown cell with an H1 title."
    severity = "warning"
    fix = "unsafe"
    fix_note = (
        "When the first cell is markdown, the fix puts an H1 made from the file name at its top "
        "(check the wording). When the notebook starts with code there is no fix: nbops' edits "
        "cannot insert cells yet."
    )
    python_only = False
    explanation = """
    A notebook should open with a markdown cell whose first heading is an H1 (`# Churn
    model`), followed by a sentence or two on what it does, what it reads and what it
    produces. The title is what readers see first in a repository browser, in rendered HTML
    reports and in the run history of a scheduler; nbops also uses it to name the pipeline
    and the module generated from the notebook. Start the notebook with such a cell. An H1
    anywhere in the first cell counts (badges or a logo may come before it), written `# Title`,
    underlined with `===` or as HTML `<h1>Title</h1>`, and so does a raw cell of front matter
    with a `title:` key (Quarto). A bold first line (`**Title**`) is not a heading: the fix
    turns it into one.
    """
    bad_example = """
    # %%
    import pandas as pd
    df = pd.read_csv("data/churn.csv")
    """
    good_example = """
    # %% [markdown]
    # Churn model

    Trains the monthly churn classifier from `data/churn.csv`.
    # %%
    import pandas as pd
    df = pd.read_csv("data/churn.csv")
    """

    def check(self, ctx: Context) -> Iterator[Finding]:
        first = next((c for c in ctx.cells if c.source.strip()), None)
        if first is None:
            return
        if first.is_markdown:
            found = parse_headings(first.source, pseudo=True)
            if any(h.level == 1 and h.kind != "bold" for h in found):
                return
            name = _file_name(ctx)
            title = title_from_name(name) if name else "Title"
            fix = Fix(
                f"Put '# {title}' at the top of the first cell",
                "unsafe",
                (Edit("replace_source", first.index, f"# {title}\n\n{first.source}"),),
            )
            if found and found[0].kind == "bold":
                line, text = found[0].line, found[0].text
                lines = first.source.splitlines(keepends=True)
                ending = "\n" if lines[line - 1].endswith("\n") else ""
                lines[line - 1] = f"# {text}{ending}"
                yield Finding(
                    f"the first line '**{text}**' is bold text, not a heading: write the title "
                    f"as an H1 ('# {text}')",
                    cell=first.index,
                    line=line,
                    fix=Fix(
                        f"Turn '**{text}**' into '# {text}'",
                        "unsafe",
                        (Edit("replace_source", first.index, "".join(lines)),),
                    ),
                )
            elif found:
                line, text, level = found[0].line, found[0].text, found[0].level
                yield Finding(
                    f"the first cell's first heading '{'#' * level} {text}' is not an H1: make "
                    f"the title an H1 ('# {text}')",
                    cell=first.index,
                    line=line,
                    fix=fix,
                )
            else:
                yield Finding(
                    f"the first cell has no H1 title: start it with '# {title}' (or a better "
                    "title) saying what the notebook does",
                    cell=first.index,
                    fix=fix,
                )
        elif first.cell_type == "raw" and _is_front_matter_title(first):
            return
        else:
            name = _file_name(ctx)
            title = title_from_name(name) if name else "Churn model"
            yield Finding(
                f"the notebook starts with a {first.cell_type} cell: add a markdown cell at the "
                f"top with an H1 title ('# {title}') and a sentence on what the notebook does",
                cell=first.index,
            )


@register
class MissingConclusion(Rule):
    code = "NB102"
    name = "missing-conclusion"
    summary = "The notebook ends with code instead of closing markdown text."
    severity = "info"
    python_only = False
    explanation = """
    An analysis notebook should end by saying what it found: the results, what the outputs
    mean, the decisions taken and what comes next. Without it a reader (or the reviewer of a
    scheduled run's report) has to reverse-engineer the conclusion from the last output.
    Add a markdown cell at the end with the conclusions. Notebooks with fewer than three code
    cells are not checked.
    """
    bad_example = """
    # %% [markdown]
    # Churn model
    # %%
    import pandas as pd
    # %%
    df = pd.read_csv("data/churn.csv")
    # %%
    df.describe()
    """
    good_example = """
    # %% [markdown]
    # Churn model
    # %%
    import pandas as pd
    # %%
    df = pd.read_csv("data/churn.csv")
    # %%
    df.describe()
    # %% [markdown]
    ## Conclusions
    Churn is 12% and concentrated in monthly contracts.
    """

    def check(self, ctx: Context) -> Iterator[Finding]:
        if len(_code_cells(ctx)) < 3:
            return
        last = next(
            (c for c in reversed(ctx.cells) if c.source.strip() and c.cell_type != "raw"), None
        )
        if last is not None and last.is_code:
            yield Finding(
                "the notebook ends with a code cell: add a closing markdown cell with the "
                "results and conclusions (what was found, what the outputs mean, next steps)",
                cell=last.index,
            )


@register
class TooLittleDocumentation(Rule):
    code = "NB103"
    name = "too-little-documentation"
    summary = "Too few markdown cells, or too few words of prose, for the amount of code."
    severity = "info"
    python_only = False
    options: ClassVar[dict[str, Any]] = {"min-markdown-ratio": 0.2, "min-words-per-code-cell": 2}
    explanation = """
    Markdown cells are the notebook's documentation: they say what each step does, why, and
    what its output means. A notebook that is mostly bare code is hard to review and hard to
    turn into production code, because the intent behind each step is lost. This rule asks
    for at least `min-markdown-ratio` markdown cells per code cell (default 0.2, one for
    every five code cells) and `min-words-per-code-cell` words of prose per code cell
    (default 2, so that headings alone are not enough). Notebooks with fewer than four code
    cells are not checked. Explain each step in a markdown cell above it.
    """
    bad_example = """
    # %%
    import pandas as pd
    # %%
    df = pd.read_csv("data/churn.csv")
    # %%
    df = df.dropna()
    # %%
    df.groupby("plan").churned.mean()
    """
    good_example = """
    # %% [markdown]
    # Churn by plan
    Reads last month's customers and compares churn between plans.
    # %%
    import pandas as pd
    # %%
    df = pd.read_csv("data/churn.csv")
    # %% [markdown]
    Rows without a plan are test accounts; drop them.
    # %%
    df = df.dropna()
    # %%
    df.groupby("plan").churned.mean()
    """

    def check(self, ctx: Context) -> Iterator[Finding]:
        code = len(_code_cells(ctx))
        if code < 4:
            return
        markdown = _nonempty(ctx.markdown_cells)
        words = sum(markdown_words(c.source) for c in markdown)
        ratio = float(ctx.option("min-markdown-ratio", 0.2))
        per_cell = float(ctx.option("min-words-per-code-cell", 2))
        few_cells = len(markdown) < ratio * code
        few_words = words < per_cell * code
        if not (few_cells or few_words):
            return
        problems = []
        if few_cells:
            problems.append(f"{len(markdown)} markdown cell{'s' if len(markdown) != 1 else ''}")
        if few_words:
            problems.append(f"{words} word{'s' if words != 1 else ''} of prose")
        want = max(1, round(ratio * code))
        yield Finding(
            f"{' and '.join(problems)} for {code} code cells: explain each step in a markdown "
            f"cell above it (what it does and why); aim for at least {want} markdown "
            f"cell{'s' if want != 1 else ''} and {round(per_cell * code)} words"
        )


# -- NB104-NB106, file names -----------------------------------------------------------------


def portable_name(name: str) -> str:
    """A suggested replacement: lower-case words joined by dashes."""
    stem = re.sub(r"[^A-Za-z0-9._-]+", "-", _stem(name)).strip("-. ").lower()
    stem = re.sub(r"-{2,}", "-", stem)
    return f"{stem or 'notebook'}.ipynb"


@register
class UntitledNotebook(Rule):
    code = "NB104"
    name = "untitled-notebook"
    summary = "The notebook is still called Untitled*.ipynb."
    severity = "warning"
    python_only = False
    example_path = "Untitled1.ipynb"
    good_example_path = "churn-model.ipynb"
    explanation = """
    `Untitled.ipynb`, `Untitled1.ipynb` and friends are the names Jupyter gives new
    notebooks. Left that way, nobody can tell what the notebook does from a file listing, a
    pull request or a scheduler's job list, and the next new notebook in the folder gets a
    confusingly similar name. The file name also becomes the name of the pipeline and module
    nbops generates. Rename the notebook after what it does (`churn-model.ipynb`).
    """
    bad_example = """
    # %% [markdown]
    # Churn model
    """
    good_example = """
    # %% [markdown]
    # Churn model
    """

    def check(self, ctx: Context) -> Iterator[Finding]:
        name = _file_name(ctx)
        if name and _UNTITLED.match(_stem(name)):
            yield Finding(
                f"the notebook is still named '{name}': rename it after what it does "
                "(for example 'churn-model.ipynb')"
            )


@register
class CopyNotebookName(Rule):
    code = "NB105"
    name = "copy-notebook-name"
    summary = "The file name says it is a copy (x-Copy1.ipynb, Copy of x.ipynb, x (1).ipynb)."
    severity = "warning"
    python_only = False
    example_path = "churn-model-Copy1.ipynb"
    good_example_path = "churn-model-weekly.ipynb"
    explanation = """
    Names like `churn-Copy1.ipynb` (Jupyter's "Duplicate"), `Copy of churn.ipynb` (Colab and
    Google Drive), `churn (1).ipynb` (a browser download), `churn_copy.ipynb` or
    `churn-checkpoint.ipynb` (a file copied out of `.ipynb_checkpoints/`) mean two versions
    of the same notebook live side by side. Readers cannot tell which one is current, fixes
    land in one copy and not the other, and the scheduled job may run the stale one. Keep
    one notebook and its history in version control; if the copy really is a different
    notebook, give it a name that says how it differs.
    """
    bad_example = """
    # %% [markdown]
    # Churn model
    """
    good_example = """
    # %% [markdown]
    # Churn model, weekly
    """

    def check(self, ctx: Context) -> Iterator[Finding]:
        name = _file_name(ctx)
        if not name:
            return
        stem = _stem(name)
        if any(p.search(stem) for p in _COPY_PATTERNS):
            yield Finding(
                f"'{name}' looks like a copy of another notebook: keep one version (with its "
                "history in version control), or rename it to say how it differs"
            )


@register
class NonPortableFilename(Rule):
    code = "NB106"
    name = "non-portable-filename"
    summary = "The file name has spaces or characters that break shells, URLs or Windows."
    severity = "warning"
    python_only = False
    example_path = "Churn Model (final).ipynb"
    good_example_path = "churn-model-final.ipynb"
    explanation = """
    Spaces and characters such as `( ) [ ] { } & $ # ! ' " : ; * ? < > | % \\` in a file
    name must be quoted in every shell command, CI script and scheduler job that mentions the
    notebook, are escaped in URLs, and several (`: * ? < > | "`, trailing dots, names like
    `CON`) are not allowed on Windows at all. Names starting with `-` are taken for options
    by command-line tools. The name also becomes the name of the module nbops generates.
    Rename the notebook using letters, digits, `-`, `_` and `.` only.
    """
    bad_example = """
    # %% [markdown]
    # Churn model
    """
    good_example = """
    # %% [markdown]
    # Churn model
    """

    def check(self, ctx: Context) -> Iterator[Finding]:
        name = _file_name(ctx)
        if not name:
            return
        stem = _stem(name)
        problems: list[str] = []
        if any(ch.isspace() for ch in name):
            problems.append("spaces")
        bad = sorted({ch for ch in name if ch in _BAD_CHARS and not ch.isspace()})
        if bad:
            problems.append(f"the character{'s' if len(bad) > 1 else ''} {' '.join(bad)}")
        if stem.endswith((".", " ")):
            problems.append("a trailing dot or space (dropped by Windows)")
        if name.startswith("-"):
            problems.append("a leading '-' (read as an option by command-line tools)")
        if _WINDOWS_RESERVED.match(stem.split(".")[0]):
            problems.append(f"the name {stem!r}, reserved on Windows")
        if problems:
            yield Finding(
                f"the file name '{name}' has {', '.join(problems)}: rename it to use letters, "
                f"digits, '-', '_' and '.' only (for example '{portable_name(name)}')"
            )


# -- NB107-NB110, cells ----------------------------------------------------------------------


@register
class EmptyCell(Rule):
    code = "NB107"
    name = "empty-cell"
    summary = "A code or markdown cell holds only whitespace."
    severity = "info"
    fix = "safe"
    fix_note = (
        "Deletes the empty cell, only when it holds nothing else: a cell with outputs, "
        "attachments, tags, other metadata or unknown keys is reported without a fix (delete "
        "it by hand if you do not need them)."
    )
    python_only = False
    explanation = """
    Empty cells are leftovers of editing (Jupyter always adds one at the end). They add
    noise to diffs and reviews, get numbers in execution order for nothing, and become empty
    steps when the notebook is split into a pipeline. Delete them; the fix does when the
    cell has nothing but its (blank) source. A cell with an empty source that still has
    outputs, attachments, tags or metadata is reported too, with what it holds, but left to
    you: deleting it would lose them. A blank cell tagged `parameters` (or
    `injected-parameters`) is not reported: it marks where papermill puts the parameters.
    """
    bad_example = """
    # %%
    import pandas as pd
    # %%

    # %%
    df = pd.read_csv("data/churn.csv")
    """
    good_example = """
    # %%
    import pandas as pd
    # %%
    df = pd.read_csv("data/churn.csv")
    """

    def check(self, ctx: Context) -> Iterator[Finding]:
        for cell in ctx.cells:
            if not (cell.is_code or cell.is_markdown) or cell.source.strip():
                continue
            if {"parameters", "injected-parameters"} & set(cell.tags):
                continue  # papermill's marker: its position is what matters
            held = cell.contents()
            if held:
                yield Finding(
                    f"empty {cell.cell_type} cell that still holds {', '.join(held)}: "
                    "delete it by hand if you do not need them (nbops fix keeps it)",
                    cell=cell.index,
                )
                continue
            yield Finding(
                f"empty {cell.cell_type} cell: delete it",
                cell=cell.index,
                fix=Fix(
                    f"Delete empty cell {cell.number}",
                    "safe",
                    (Edit("delete_cell", cell.index),),
                ),
            )


def code_line_count(source: str, comment_prefixes: tuple[str, ...] = ("#",)) -> int:
    """Lines that are neither blank nor only a comment."""
    return sum(
        1
        for line in map(str.strip, source.splitlines())
        if line and not line.startswith(comment_prefixes)
    )


def _is_data(node: ast.expr | None) -> bool:
    """A literal of constants only: numbers, strings, lists, tuples, sets and dicts of them."""
    if isinstance(node, ast.Constant):
        return True
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
        return isinstance(node.operand, ast.Constant)
    if isinstance(node, ast.List | ast.Tuple | ast.Set):
        return all(_is_data(e) for e in node.elts)
    if isinstance(node, ast.Dict):
        return all(k is not None and _is_data(k) for k in node.keys) and all(
            _is_data(v) for v in node.values
        )
    return False


def data_literal_lines(tree: ast.Module) -> set[int]:
    """Lines after the first of top-level statements that only bind or show a data literal."""
    lines: set[int] = set()
    for stmt in tree.body:
        if isinstance(stmt, ast.Assign | ast.AnnAssign | ast.Expr) and _is_data(stmt.value):
            lines.update(range(stmt.lineno + 1, (stmt.end_lineno or stmt.lineno) + 1))
    return lines


@register
class LongCell(Rule):
    code = "NB108"
    name = "long-cell"
    summary = "A code cell has more than max-cell-lines lines of code (default 40)."
    severity = "info"
    python_only = False
    options: ClassVar[dict[str, Any]] = {"max-cell-lines": 40}
    explanation = """
    A long cell does several things at once: its output only shows the last of them, an
    error halfway leaves the kernel in a state that is hard to reason about, and it cannot
    be re-run in parts. When the notebook becomes a pipeline, a cell is the smallest unit
    nbops can move, test or cache. Split the cell into steps, one idea per cell, or move the
    logic into functions (which can then be tested). Blank lines and comment lines are not
    counted, nor the lines of a data literal past its first (`spline = [(0.0, 1.0), ...]`
    over sixty lines is one value, not sixty steps: a list, tuple, set or dict of constants
    only); the limit is the `max-cell-lines` option.
    """
    bad_example = "# %%\n" + "\n".join(f"x{i} = {i}" for i in range(45))
    good_example = """
    # %%
    values = {f"x{i}": i for i in range(45)}
    """

    def check(self, ctx: Context) -> Iterator[Finding]:
        limit = int(ctx.option("max-cell-lines", 40))
        python = ctx.notebook.is_python
        prefixes = ("#",) if python else ("#", "//", "--")
        for cell in ctx.code_cells:
            count = code_line_count(cell.source, prefixes)
            sym = ctx.symbols.get(cell.index) if python else None
            if count > limit and sym is not None and sym.tree is not None:
                data = data_literal_lines(sym.tree)
                count = code_line_count(
                    "\n".join(
                        line for n, line in enumerate(cell.source.split("\n"), 1) if n not in data
                    ),
                    prefixes,
                )
            if count > limit:
                yield Finding(
                    f"cell has {count} lines of code (max {limit}): split it into smaller "
                    "cells, one step each, or move the logic into functions",
                    cell=cell.index,
                )


@register
class MissingSectionHeadings(Rule):
    code = "NB109"
    name = "missing-section-headings"
    summary = "Many code cells and no markdown section headings (## ...)."
    severity = "info"
    python_only = False
    options: ClassVar[dict[str, Any]] = {"min-cells-for-headings": 8}
    explanation = """
    Section headings (`## Load data`, `## Train`, `## Evaluate`) give a long notebook its
    table of contents and tell the reader where each step starts and ends. nbops also uses
    them to split the notebook into pipeline steps when it turns the notebook into
    production code: without headings everything ends up in one step. Notebooks with at
    least `min-cells-for-headings` code cells (default 8) need at least one heading besides
    the title; any heading below H1, or a second H1, counts.
    """
    bad_example = "# %% [markdown]\n# Churn model\n" + "".join(
        f"# %%\nstep{i} = {i}\n" for i in range(8)
    )
    good_example = (
        "# %% [markdown]\n# Churn model\n# %% [markdown]\n## Load data\n"
        + "".join(f"# %%\nstep{i} = {i}\n" for i in range(4))
        + "# %% [markdown]\n## Train\n"
        + "".join(f"# %%\nstep{i} = {i}\n" for i in range(4, 8))
    )

    def check(self, ctx: Context) -> Iterator[Finding]:
        code = len(_code_cells(ctx))
        minimum = int(ctx.option("min-cells-for-headings", 8))
        if code < minimum:
            return
        h1 = 0
        for cell in ctx.markdown_cells:
            for level, _, _ in markdown_headings(cell.source):
                if level >= 2:
                    return
                h1 += 1
                if h1 >= 2:
                    return
        yield Finding(
            f"{code} code cells and no section headings: add markdown headings such as "
            "'## Load data', '## Train', '## Evaluate' before each step; nbops uses them to "
            "split the notebook into pipeline steps"
        )


@register
class NotebookTooLong(Rule):
    code = "NB110"
    name = "notebook-too-long"
    summary = "More than max-code-cells code cells (default 60)."
    severity = "info"
    python_only = False
    options: ClassVar[dict[str, Any]] = {"max-code-cells": 60}
    explanation = """
    A notebook with very many code cells usually does several jobs (data preparation,
    feature engineering, training, evaluation, reporting) that change at different rates and
    would run on different schedules. It is slow to run from the top, hard to review and
    turns into one big, fragile pipeline. Split it into several notebooks, one per job, or
    move the reusable code into a module the notebooks import. The limit is the
    `max-code-cells` option (default 60); empty cells are not counted.
    """
    bad_example = "".join(f"# %%\nstep{i} = {i}\n" for i in range(61))
    good_example = "".join(f"# %%\nstep{i} = {i}\n" for i in range(20))

    def check(self, ctx: Context) -> Iterator[Finding]:
        code = len(_code_cells(ctx))
        limit = int(ctx.option("max-code-cells", 60))
        if code > limit:
            yield Finding(
                f"{code} code cells (max {limit}): split the notebook into several, one per job "
                "(data preparation, training, evaluation), or move reusable code into a module"
            )
