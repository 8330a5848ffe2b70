"""Tests for nbops.core.headings: the one heading parser (ATX, setext, HTML, bold titles)."""

from __future__ import annotations

import pytest

from nbops.core.headings import Heading, parse_headings


def simple(source: str, *, pseudo: bool = False) -> list[tuple[int, str, int, str]]:
    return [tuple(h) for h in parse_headings(source, pseudo=pseudo)]  # type: ignore[misc]


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        pytest.param("# Title", [(1, "Title", 1, "atx")], id="atx-h1"),
        pytest.param("### Deep ###", [(1, "Deep", 3, "atx")], id="atx-closing-hashes"),
        pytest.param("## C#", [(1, "C#", 2, "atx")], id="atx-hash-in-text"),
        pytest.param("#Title", [(1, "Title", 1, "atx")], id="atx-no-space"),
        pytest.param("   ## Indented", [(1, "Indented", 2, "atx")], id="atx-indented-3"),
        pytest.param("####### seven", [], id="atx-seven-hashes"),
        pytest.param("## Setup <a id='setup'></a>", [(1, "Setup", 2, "atx")], id="atx-anchor"),
        pytest.param("## Fit &amp; score", [(1, "Fit & score", 2, "atx")], id="atx-entity"),
        pytest.param("Title\n=====", [(1, "Title", 1, "setext")], id="setext-h1"),
        pytest.param("text\n\nSub\n---", [(3, "Sub", 2, "setext")], id="setext-h2"),
        pytest.param("two\nlines\n===", [(1, "two lines", 1, "setext")], id="setext-paragraph"),
        pytest.param("text\n\n---\n", [], id="thematic-break"),
        pytest.param("| a | b |\n|---|---|\n| 1 | 2 |", [], id="table"),
        pytest.param("a | b\n---", [], id="table-row-above-rule"),
        pytest.param("- item\n---", [], id="list-item"),
        pytest.param("> quote\n---", [], id="quote"),
        pytest.param("---\ntitle: x\n---\n\n# Real", [(5, "Real", 1, "atx")], id="front-matter"),
        pytest.param(
            "<h2 class=\"x\" id='y'>Load data</h2>", [(1, "Load data", 2, "html")], id="html-attrs"
        ),
        pytest.param("<H3>Upper</H3>", [(1, "Upper", 3, "html")], id="html-case"),
        pytest.param(
            "<h2>Load <b>the</b> <a href='u'>data</a></h2>",
            [(1, "Load the data", 2, "html")],
            id="html-nested",
        ),
        pytest.param(
            "<h4>Fit &amp; score &#8211; v2</h4>",
            [(1, "Fit & score \u2013 v2", 4, "html")],
            id="html-entities",
        ),
        pytest.param(
            "intro\n\n<h2>\n  Train\n  model\n</h2>",
            [(3, "Train model", 2, "html")],
            id="html-multiline",
        ),
        pytest.param("<h2>Unclosed\nnext line", [(1, "Unclosed", 2, "html")], id="html-unclosed"),
        pytest.param(
            "<center><h1>Centered</h1></center>", [(1, "Centered", 1, "html")], id="html-wrapped"
        ),
        pytest.param("<h2></h2>", [], id="html-empty"),
        pytest.param("```\n# code\n```\n## After", [(4, "After", 2, "atx")], id="fence"),
        pytest.param("~~~python\n<h2>x</h2>\nx\n---\n~~~", [], id="tilde-fence"),
        pytest.param(
            "````\n```\n# inner\n```\n````\n# Out", [(6, "Out", 1, "atx")], id="nested-fence"
        ),
        pytest.param("<!-- # hidden -->\n# Shown", [(2, "Shown", 1, "atx")], id="comment"),
        pytest.param(
            "<!--\n<h2>old</h2>\nOld\n===\n-->\n## New",
            [(6, "New", 2, "atx")],
            id="comment-multiline",
        ),
        pytest.param("**Churn model**\n\ntext", [], id="bold-not-without-pseudo"),
    ],
)
def test_parse_headings(source: str, expected: list[tuple[int, str, int, str]]) -> None:
    assert simple(source) == expected


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        pytest.param("**Churn model**\n\nTrains it.", [(1, "Churn model", 1, "bold")], id="bold"),
        pytest.param("\n__Churn model__", [(2, "Churn model", 1, "bold")], id="underscores"),
        pytest.param("**Churn** model", [], id="bold-part-of-line"),
        pytest.param("text\n\n**Later**", [], id="bold-not-first"),
        pytest.param("**" + "word " * 20 + "end**", [], id="bold-paragraph"),
        pytest.param(
            "**Title**\n\n## Section",
            [(1, "Title", 1, "bold"), (3, "Section", 2, "atx")],
            id="bold-then-heading",
        ),
    ],
)
def test_bold_pseudo_headings(source: str, expected: list[tuple[int, str, int, str]]) -> None:
    assert simple(source, pseudo=True) == expected


def test_headings_are_in_document_order_across_kinds() -> None:
    source = "# Title\n\ntext\n\n<h2>HTML</h2>\n\nSetext\n------\n\n### ATX"
    assert [h.kind for h in parse_headings(source)] == ["atx", "html", "setext", "atx"]
    assert parse_headings(source)[0] == Heading(line=1, text="Title", level=1, kind="atx")


def test_heading_lines_cover_every_line_of_a_heading() -> None:
    from nbops.core.headings import heading_lines

    source = (
        "# Title\n"            # 1 atx
        "Some prose.\n"        # 2
        "\n"                   # 3
        "A setext title\n"     # 4 setext text
        "over two lines\n"     # 5 setext text
        "==============\n"     # 6 underline
        "More prose.\n"        # 7
        "<h2 class='x'>\n"     # 8 html open
        "An HTML heading\n"    # 9
        "</h2>\n"              # 10 html close
        "```\n# not a heading\n```\n"  # 11-13 fenced
        "End."                 # 14
    )
    assert heading_lines(source) == {1, 4, 5, 6, 8, 9, 10}


def test_the_outline_keeps_a_multi_line_headings_text_out_of_the_prose() -> None:
    from nbops.core.sections import notebook_outline
    from nbops.core.snippets import notebook_from_snippet

    nb = notebook_from_snippet(
        "# %% [markdown]\n<h1>\nSales\nforecast\n</h1>\n\nWhat it does.\n\n"
        "Data\n----\n\nWhere it comes from.\n"
    )
    title, intro, sections = notebook_outline(nb)
    assert (title, intro) == ("Sales forecast", "What it does.")
    assert sections == {"Data": "Where it comes from."}
