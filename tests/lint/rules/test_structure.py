"""NB1 structure and documentation rules: every rule fails and passes, positions, fixes, options."""

from __future__ import annotations

import textwrap
from typing import Any

import pytest
from helpers import lint_snippet

from nbops.core.sections import markdown_headings
from nbops.lint.diagnostic import Diagnostic, Edit
from nbops.lint.registry import get_rule
from nbops.lint.rules.structure import markdown_words, portable_name, title_from_name

CODES = [f"NB1{n:02d}" for n in range(1, 11)]


def run(
    text: str, code: str, *, path: str = "analysis.ipynb", options: dict[str, Any] | None = None
) -> list[Diagnostic]:
    """Lint with one rule; a crash inside the rule (reported as NB005) fails the test."""
    diags = lint_snippet(textwrap.dedent(text), select=(code, "NB005"), path=path, options=options)
    crashes = [d.message for d in diags if d.code == "NB005"]
    assert not crashes, crashes
    return [d for d in diags if d.code == code]


def cells(*bodies: str, kind: str = "code") -> str:
    return "".join(f"# %%{' [markdown]' if kind == 'markdown' else ''}\n{b}\n" for b in bodies)


TITLE = "# %% [markdown]\n# Churn model\n"
DOC = (
    "Computes churn per plan from last month's export: drops test accounts, compares the "
    "plans and writes the summary table used by the monthly report."
)


# --------------------------------------------------------------------------- examples




def test_structure_rules_apply_to_any_kernel() -> None:
    for code in CODES:
        assert get_rule(code).python_only is False, code
    r_notebook = "#! kernel=ir language=R\n# %%\nx <- 1\n# %%\n\n"
    assert run(r_notebook, "NB101")
    assert [d.cell_index for d in run(r_notebook, "NB107")] == [1]


# --------------------------------------------------------------------------- NB101


@pytest.mark.parametrize(
    ("text", "flagged"),
    [
        pytest.param("# %%\nimport pandas as pd\n", True, id="code-first"),
        pytest.param(
            "# %% [markdown]\nSome intro text\n# %%\nx = 1\n", True, id="markdown-no-heading"
        ),
        pytest.param("# %% [markdown]\n## Load data\n# %%\nx = 1\n", True, id="h2-not-h1"),
        pytest.param("# %% [markdown]\n```\n# not a title\n```\n", True, id="h1-inside-code-fence"),
        pytest.param(
            "# %% [raw]\nplain raw text\n# %%\nx = 1\n", True, id="raw-without-front-matter"
        ),
        pytest.param("# %% [markdown]\n# Churn model\n# %%\nx = 1\n", False, id="atx-h1"),
        pytest.param("# %% [markdown]\n<h1 align='center'>Churn</h1>\n", False, id="html-h1"),
        pytest.param("# %% [markdown]\nChurn model\n===========\n", False, id="setext-h1"),
        pytest.param(
            "# %% [markdown]\n[![badge](b.svg)](x)\n\n# Churn model\n", False, id="badge-then-h1"
        ),
        pytest.param(
            "# %%\n\n# %% [markdown]\n# Churn model\n", False, id="empty-first-cell-skipped"
        ),
        pytest.param(
            "# %% [raw]\n---\ntitle: Churn\n---\n# %%\nx = 1\n", False, id="quarto-front-matter"
        ),
        pytest.param("", False, id="empty-notebook"),
        pytest.param(
            "# %% [markdown]\n<H1 style='x'>\n  <b>Churn</b> &amp; model\n</H1>\n",
            False,
            id="html-h1-multiline-nested",
        ),
        pytest.param("# %% [markdown]\n<!--\n# Old title\n-->\ntext\n", True, id="h1-in-comment"),
        pytest.param("# %% [markdown]\n**Churn model**\n\ntext\n", True, id="bold-first-line"),
    ],
)
def test_missing_title(text: str, flagged: bool) -> None:
    assert bool(run(text, "NB101")) is flagged


def test_missing_title_position_and_fix() -> None:
    (code_first,) = run("# %%\n\n# %%\nimport pandas as pd\n", "NB101")
    assert code_first.cell_index == 1 and code_first.fix is None
    assert "starts with a code cell" in code_first.message

    (no_h1,) = run(
        "# %% [markdown]\nSome intro\n# %%\nx = 1\n", "NB101", path="churn_model-v2.ipynb"
    )
    assert no_h1.cell_index == 0
    assert no_h1.fix is not None and no_h1.fix.applicability == "unsafe"
    assert no_h1.fix.edits == (Edit("replace_source", 0, "# Churn model v2\n\nSome intro"),)

    (h2,) = run("# %% [markdown]\nintro\n## Load data\n", "NB101")
    assert h2.line == 2 and "'## Load data'" in h2.message and "'# Load data'" in h2.message


def test_missing_title_bold_first_line_says_what_to_write_and_fixes_it() -> None:
    (bold,) = run("# %% [markdown]\n**Churn model**\n\nTrains it.\n# %%\nx = 1\n", "NB101")
    assert "bold text, not a heading" in bold.message and "'# Churn model'" in bold.message
    assert bold.line == 1 and bold.fix is not None
    assert bold.fix.edits == (Edit("replace_source", 0, "# Churn model\n\nTrains it."),)


# --------------------------------------------------------------------------- NB102


@pytest.mark.parametrize(
    ("text", "flagged"),
    [
        pytest.param(TITLE + cells("a = 1", "b = 2", "c = 3"), True, id="ends-with-code"),
        pytest.param(
            TITLE + cells("a = 1", "b = 2", "c = 3") + "# %%\n\n", True, id="trailing-empty-skipped"
        ),
        pytest.param(TITLE + cells("a = 1", "b = 2"), False, id="only-two-code-cells"),
        pytest.param(
            TITLE + cells("a = 1", "b = 2", "c = 3") + "# %% [markdown]\nDone.\n",
            False,
            id="ends-with-markdown",
        ),
        pytest.param(
            TITLE + cells("a = 1", "b = 2", "c = 3") + "# %% [markdown]\nDone.\n# %% [raw]\nraw\n",
            False,
            id="trailing-raw-ignored",
        ),
    ],
)
def test_missing_conclusion(text: str, flagged: bool) -> None:
    assert bool(run(text, "NB102")) is flagged


def test_missing_conclusion_points_at_last_code_cell() -> None:
    (diag,) = run(TITLE + cells("a = 1", "b = 2", "c = 3") + "# %%\n  \n", "NB102")
    assert diag.cell_index == 3 and diag.severity == "info"


# --------------------------------------------------------------------------- NB103


def test_too_little_documentation() -> None:
    (diag,) = run(cells("a = 1", "b = 2", "c = 3", "d = 4"), "NB103")
    assert diag.cell_index is None
    assert "0 markdown cells" in diag.message and "4 code cells" in diag.message


def test_too_little_documentation_counts_words() -> None:
    # one markdown cell per 5 code cells meets the ratio, but 2 words are too few
    (diag,) = run(TITLE + cells(*(f"v{i} = {i}" for i in range(5))), "NB103")
    assert diag.message.startswith("2 words of prose for 5 code cells")


@pytest.mark.parametrize(
    ("text", "options", "flagged"),
    [
        pytest.param(cells("a = 1", "b = 2", "c = 3"), None, False, id="three-code-cells-skipped"),
        pytest.param(
            "# %% [markdown]\n# Churn\n" + DOC + "\n" + cells("a = 1", "b = 2", "c = 3", "d = 4"),
            None,
            False,
            id="documented",
        ),
        pytest.param(
            cells("a = 1", "b = 2", "c = 3", "d = 4"),
            {"min-markdown-ratio": 0, "min-words-per-code-cell": 0},
            False,
            id="options-off",
        ),
        pytest.param(
            "# %% [markdown]\n# Churn\n" + DOC + "\n" + cells("a = 1", "b = 2", "c = 3", "d = 4"),
            {"min-markdown-ratio": 0.5},
            True,
            id="stricter-ratio",
        ),
    ],
)
def test_too_little_documentation_cases(
    text: str, options: dict[str, Any] | None, flagged: bool
) -> None:
    assert bool(run(text, "NB103", options=options)) is flagged


def test_markdown_words_ignores_images_and_urls() -> None:
    assert (
        markdown_words("See ![plot](data:image/png;base64,AAAA) at https://x.org/a <b>now</b>") == 3
    )


# --------------------------------------------------------------------------- NB104-NB106


@pytest.mark.parametrize(
    ("path", "flagged"),
    [
        ("Untitled.ipynb", True),
        ("Untitled1.ipynb", True),
        ("untitled-3.ipynb", True),
        ("Untitled 2.ipynb", True),
        ("notebooks/Untitled.ipynb", True),
        ("untitled_analysis.ipynb", False),
        ("churn.ipynb", False),
    ],
)
def test_untitled_notebook(path: str, flagged: bool) -> None:
    found = run(TITLE, "NB104", path=path)
    assert bool(found) is flagged
    if flagged:
        assert path.rsplit("/", 1)[-1] in found[0].message and found[0].cell_index is None


@pytest.mark.parametrize(
    ("path", "flagged"),
    [
        ("churn-Copy1.ipynb", True),
        ("churn-Copy2.ipynb", True),
        ("Copy of churn.ipynb", True),
        ("churn (1).ipynb", True),
        ("churn_copy.ipynb", True),
        ("churn copy 2.ipynb", True),
        ("churn-checkpoint.ipynb", True),
        ("copy_utils.ipynb", False),
        ("copy.ipynb", False),
        ("photocopy.ipynb", False),
        ("copying-files.ipynb", False),
        ("data_copy_v2.ipynb", False),
        ("churn.ipynb", False),
    ],
)
def test_copy_notebook_name(path: str, flagged: bool) -> None:
    assert bool(run(TITLE, "NB105", path=path)) is flagged


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("My Analysis.ipynb", "spaces"),
        ("a&b.ipynb", "&"),
        ("x:y.ipynb", ":"),
        ("report!.ipynb", "!"),
        ("it's.ipynb", "'"),
        ("name..ipynb", "trailing dot"),
        ("-draft.ipynb", "leading '-'"),
        ("con.ipynb", "reserved on Windows"),
        ("churn-model_v2.1.ipynb", None),
        ("résumé.ipynb", None),
        ("folder with space/churn.ipynb", None),
    ],
)
def test_non_portable_filename(path: str, expected: str | None) -> None:
    found = run(TITLE, "NB106", path=path)
    if expected is None:
        assert not found
    else:
        (diag,) = found
        assert expected in diag.message


def test_non_portable_filename_suggests_a_name() -> None:
    (diag,) = run(TITLE, "NB106", path="Churn Model (final).ipynb")
    assert "'churn-model-final.ipynb'" in diag.message
    assert portable_name("A & B.ipynb") == "a-b.ipynb"
    assert title_from_name("churn_model-v2.ipynb") == "Churn model v2"


# --------------------------------------------------------------------------- NB107


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("# %%\nx = 1\n# %%\n\n# %%\ny = 2\n", [1], id="empty-code"),
        pytest.param("# %%\nx = 1\n# %% [markdown]\n   \n", [1], id="whitespace-markdown"),
        pytest.param("# %%\n\n# %%\nx = 1\n# %%\n\n", [0, 2], id="two-empty"),
        pytest.param("# %%\nx = 1\n# %% [raw]\n\n", [], id="raw-not-checked"),
        pytest.param("# %%\n# just a comment\n", [], id="comment-is-content"),
    ],
)
def test_empty_cell(text: str, expected: list[int]) -> None:
    assert [d.cell_index for d in run(text, "NB107")] == expected


def test_empty_cell_fix_deletes_it() -> None:
    (diag,) = run("# %%\nx = 1\n# %%\n\n", "NB107")
    assert diag.fix is not None and diag.fix.applicability == "safe"
    assert diag.fix.edits == (Edit("delete_cell", 1),)


# --------------------------------------------------------------------------- NB108


def _lines(n: int) -> str:
    return "\n".join(f"x{i} = {i}" for i in range(n))


@pytest.mark.parametrize(
    ("body", "options", "flagged"),
    [
        pytest.param(_lines(41), None, True, id="41-lines"),
        pytest.param(_lines(40), None, False, id="40-lines"),
        pytest.param(
            _lines(40) + "\n\n# comment\n   # indented comment\n",
            None,
            False,
            id="blank-and-comments-free",
        ),
        pytest.param(_lines(11), {"max-cell-lines": 10}, True, id="option-lower"),
        pytest.param(_lines(50), {"max-cell-lines": 60}, False, id="option-higher"),
    ],
)
def test_long_cell(body: str, options: dict[str, Any] | None, flagged: bool) -> None:
    assert bool(run(f"# %%\nimport os\n# %%\n{body}\n", "NB108", options=options)) is flagged


# holoviews examples/gallery/demos/*/square_limit.ipynb: one spline literal over 60 lines
SPLINE = (
    "spline=["
    + ",\n".join(",".join(f"({i / 100:.2f},{-j / 100:.2f})" for j in range(8)) for i in range(60))
    + "]"
)
DATA_DICT = "PRICES = {\n" + "".join(f"    'item{i}': {i}.5,\n" for i in range(50)) + "}"


@pytest.mark.parametrize(
    ("body", "flagged"),
    [
        pytest.param(SPLINE + "\n" + _lines(10), False, id="one-long-list-literal"),
        pytest.param(DATA_DICT + "\nprint(len(PRICES))", False, id="one-long-dict-literal"),
        pytest.param(SPLINE + "\n" + _lines(40), True, id="literal-and-41-lines-of-code"),
        # built with calls or names: code, counted line by line
        pytest.param(
            "rows = [\n" + "".join(f"    load('part{i}.csv'),\n" for i in range(45)) + "]",
            True,
            id="list-of-calls",
        ),
        pytest.param(
            "def f():\n    return [\n" + "".join(f"        {i},\n" for i in range(45)) + "    ]",
            True,
            id="literal-inside-a-function",
        ),
    ],
)
def test_long_cell_data_literals(body: str, flagged: bool) -> None:
    assert bool(run(f"# %%\nimport os\n# %%\n{body}\n", "NB108")) is flagged


def test_long_cell_message_and_position() -> None:
    (diag,) = run(f"# %%\n{_lines(12)}\n", "NB108", options={"max-cell-lines": 10})
    assert diag.cell_index == 0 and diag.line is None
    assert "12 lines of code (max 10)" in diag.message


# --------------------------------------------------------------------------- NB109


EIGHT = cells(*(f"step{i} = {i}" for i in range(8)))


@pytest.mark.parametrize(
    ("text", "options", "flagged"),
    [
        pytest.param(TITLE + EIGHT, None, True, id="eight-cells-no-headings"),
        pytest.param(
            TITLE + "# %% [markdown]\n```\n## not a heading\n```\n" + EIGHT, None, True, id="fenced"
        ),
        pytest.param(
            TITLE + cells(*(f"s{i} = {i}" for i in range(7))), None, False, id="seven-cells"
        ),
        pytest.param(TITLE + "# %% [markdown]\n## Load data\n" + EIGHT, None, False, id="h2"),
        pytest.param("# %% [markdown]\n## Load data\n" + EIGHT, None, False, id="h2-without-title"),
        pytest.param(
            TITLE + "# %% [markdown]\n<h3>Train</h3>\n" + EIGHT, None, False, id="html-h3"
        ),
        pytest.param(
            TITLE + "# %% [markdown]\nTrain\n-----\n" + EIGHT, None, False, id="setext-h2"
        ),
        pytest.param(TITLE + "# %% [markdown]\n# Part two\n" + EIGHT, None, False, id="second-h1"),
        pytest.param(
            TITLE + "# %% [markdown]\n<h2 class='x'>\n  Load <i>data</i>\n</h2>\n" + EIGHT,
            None,
            False,
            id="html-h2-multiline",
        ),
        pytest.param(
            TITLE + "# %% [markdown]\n<!--\n## Old\n-->\n" + EIGHT, None, True, id="commented-out"
        ),
        pytest.param(
            TITLE + "# %% [markdown]\n| a |\n|---|\n" + EIGHT, None, True, id="table-rule"
        ),
        pytest.param(
            TITLE + cells("a = 1", "b = 2", "c = 3"),
            {"min-cells-for-headings": 3},
            True,
            id="option",
        ),
    ],
)
def test_missing_section_headings(text: str, options: dict[str, Any] | None, flagged: bool) -> None:
    assert bool(run(text, "NB109", options=options)) is flagged


def test_missing_section_headings_mentions_pipeline_steps() -> None:
    (diag,) = run(TITLE + EIGHT, "NB109")
    assert "pipeline steps" in diag.message and "8 code cells" in diag.message


def test_headings_parser() -> None:
    # a setext underline takes the whole paragraph above it (CommonMark), here "text Sub"
    md = "# Title\n\ntext\nSub\n---\n<h2 id='x'>HTML <em>sub</em></h2>\n```\n# code\n```\n#### Deep ###"
    assert markdown_headings(md) == [
        (1, "Title", 1),
        (2, "text Sub", 3),
        (2, "HTML sub", 6),
        (4, "Deep", 10),
    ]
    md = "# Title\n\nSub\n---\n"
    assert markdown_headings(md) == [(1, "Title", 1), (2, "Sub", 3)]


# --------------------------------------------------------------------------- NB110


@pytest.mark.parametrize(
    ("count", "options", "flagged"),
    [
        pytest.param(61, None, True, id="61"),
        pytest.param(60, None, False, id="60"),
        pytest.param(6, {"max-code-cells": 5}, True, id="option"),
    ],
)
def test_notebook_too_long(count: int, options: dict[str, Any] | None, flagged: bool) -> None:
    text = cells(*(f"v{i} = {i}" for i in range(count))) + "# %%\n\n" * 3  # empty cells not counted
    found = run(text, "NB110", options=options)
    assert bool(found) is flagged
    if flagged:
        assert f"{count} code cells" in found[0].message


@pytest.mark.parametrize(
    ("name", "title"),
    [
        ("churn_model-v2.ipynb", "Churn model v2"),
        ("01_churn-baseline-Copy1.ipynb", "Churn baseline"),
        ("Copy of sales (1).ipynb", "Sales"),
        ("2024-report.ipynb", "2024 report"),
        ("___.ipynb", "Title"),
    ],
)
def test_title_from_name(name: str, title: str) -> None:
    assert title_from_name(name) == title


def _nb_with(*cells: dict[str, Any]) -> Any:
    from nbops.core.notebook import notebook_from_dict

    full = [
        {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None, **c}
        if c.get("cell_type", "code") == "code"
        else {"metadata": {}, **c}
        for c in cells
    ]
    return notebook_from_dict({"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": full})


def _lint(nb: Any, code: str) -> list[Diagnostic]:
    from nbops.config import Config
    from nbops.lint.engine import Linter

    linter = Linter(Config(), select=[code], format_check=False, cache=False)
    return [d for d in linter.lint_notebook(nb) if d.code == code]


@pytest.mark.parametrize(
    ("extra", "words"),
    [
        pytest.param(
            {"outputs": [{"output_type": "stream", "name": "stdout", "text": "kept\n"}]},
            "outputs", id="outputs",
        ),
        pytest.param({"metadata": {"tags": ["keep-me"]}}, "tags 'keep-me'", id="tags"),
        pytest.param({"metadata": {"collapsed": True}}, "metadata 'collapsed'", id="metadata"),
        pytest.param({"metadata": {"tags": "parameters"}}, "tags", id="malformed-tags-str"),
        pytest.param({"metadata": {"tags": [1, 2]}}, "tags", id="malformed-tags-numbers"),
        pytest.param(
            {"cell_type": "markdown", "attachments": {"a.png": {"image/png": "iVBOR"}}},
            "attachments", id="attachments",
        ),
    ],
)
def test_empty_cell_that_holds_more_than_its_source_has_no_fix(
    extra: dict[str, Any], words: str
) -> None:
    """The safe fix used to delete these cells, outputs, tags and attachments with them."""
    nb = _nb_with({"source": "x = 1"}, {"source": "  \n", **extra})
    (diag,) = _lint(nb, "NB107")
    assert diag.cell_index == 1 and diag.fix is None
    assert words in diag.message and "by hand" in diag.message


def test_blank_parameters_cell_is_not_reported() -> None:
    """A whitespace-only cell tagged 'parameters' is papermill's injection point."""
    nb = _nb_with({"source": " ", "metadata": {"tags": ["parameters"]}}, {"source": "x = 1"})
    assert _lint(nb, "NB107") == []


def test_empty_cell_with_only_an_execution_count_is_still_deleted() -> None:
    nb = _nb_with({"source": "x = 1"}, {"source": "", "execution_count": 3})
    (diag,) = _lint(nb, "NB107")
    assert diag.fix is not None and diag.fix.edits == (Edit("delete_cell", 1),)


@pytest.mark.parametrize(
    ("source", "prefixes", "count"),
    [
        ("x = 1\n\n   # note\n\ty = 2  # end\n", ("#",), 2),
        ("SELECT 1\n-- note\n// also\n  \n", ("#", "//", "--"), 1),
        ("a\r\nb\rc\x0cd\n", ("#",), 4),  # every line break splitlines knows
        ("", ("#",), 0),
    ],
)
def test_code_line_count_skips_blank_and_comment_lines(
    source: str, prefixes: tuple[str, ...], count: int
) -> None:
    from nbops.lint.rules.structure import code_line_count

    assert code_line_count(source, prefixes) == count
