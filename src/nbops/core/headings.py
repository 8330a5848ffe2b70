"""The one heading parser of nbops: Markdown ATX and setext, HTML ``<h1>``-``<h6>``, bold titles.

Step splitting (:mod:`nbops.core.sections`), the lint rules that read headings and the review
gate's title and section checks all read headings through :func:`parse_headings`, so a
notebook written with ``<h2>`` headings (the codebasics style) or setext underlines is
understood the same way everywhere.

* ATX: ``## Title`` (an optional closing run of ``#`` is dropped; ``#Title`` without the space
  counts too, as the classic notebook rendered it).
* setext: a paragraph underlined with ``===`` (level 1) or ``---`` (level 2). Not a thematic
  break after a blank line, a table rule, a list item or a YAML front-matter fence.
* HTML: ``<h2 class="x">Load <b>the</b> data &amp; clean</h2>``, over several lines too, tags in
  any case; inline tags are removed and entities decoded.
* bold (``kind="bold"``, only with ``pseudo=True``): a first line that is nothing but a short
  bold span (``**Churn model**``), which many notebooks use as their title. It is reported with
  level 1 so that title checks can accept it; it never starts a pipeline step.

Headings inside fenced code blocks, HTML comments and front matter are ignored.
"""

from __future__ import annotations

import html
import re
from typing import Literal, NamedTuple

__all__ = ["Heading", "HeadingKind", "heading_lines", "parse_headings"]

HeadingKind = Literal["atx", "setext", "html", "bold"]


class Heading(NamedTuple):
    """One heading of a markdown cell; ``line`` is 1-based (the first line of a setext text)."""

    line: int
    text: str
    level: int
    kind: HeadingKind


_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
# lenient about the space after the hashes; a closing run of #s needs a space before it
_ATX = re.compile(r"^ {0,3}(#{1,6})(?!#)[ \t]*(.*?)(?:[ \t]+#+)?[ \t]*$")
_SETEXT = re.compile(r"^ {0,3}(=+|-{2,})[ \t]*$")
_HTML_OPEN = re.compile(r"<h([1-6])(?:\s[^>]*)?>", re.IGNORECASE)
_COMMENT = re.compile(r"<!--.*?(?:-->|\Z)", re.DOTALL)
_TAG = re.compile(r"</?[A-Za-z][^>]*>")
# lines that cannot be the text of a setext heading: list items, quotes, tables, HTML blocks
_NOT_PARAGRAPH = re.compile(r"^ {0,3}(?:[-*+][ \t]|\d{1,9}[.)][ \t]|>|<|[-*_=]{3,}[ \t]*$)")
_BOLD = re.compile(r"^ {0,3}(\*\*|__)(?![*_\s])(.+?)(?<![*_\s])\1[ \t]*$")
_BOLD_MAX_WORDS = 15


def clean_text(text: str) -> str:
    """Heading text for people: inline tags removed, entities decoded, whitespace collapsed."""
    return " ".join(html.unescape(_TAG.sub("", text)).split())


def _blank_keep_lines(match: re.Match[str]) -> str:
    return re.sub(r"[^\n]", " ", match.group(0))


def _masked_lines(source: str) -> list[str]:
    """The lines of ``source`` with fenced code, HTML comments and front matter blanked."""
    text = _COMMENT.sub(_blank_keep_lines, source)
    lines = text.splitlines()
    out: list[str] = []
    fence: str | None = None
    front = bool(lines) and lines[0].strip() == "---"
    for n, line in enumerate(lines):
        if front:
            if n > 0 and line.strip() in ("---", "..."):
                front = False
            out.append("")
            continue
        fenced = _FENCE.match(line)
        if fenced:
            mark = fenced.group(1)
            if fence is None:
                fence = mark
            elif (
                mark[0] == fence[0] and len(mark) >= len(fence) and not line[fenced.end() :].strip()
            ):
                fence = None
            out.append("")
            continue
        out.append("" if fence is not None else line)
    return out


def _html_headings(lines: list[str]) -> list[Heading]:
    return [h for h, _ in _html_spans(lines)]


def _html_spans(lines: list[str]) -> list[tuple[Heading, int]]:
    """HTML headings with the 1-based line their closing tag (or their text) ends on."""
    text = "\n".join(lines)
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line) + 1)

    def line_of(offset: int) -> int:
        return next(i for i, start in enumerate(starts) if start > offset)

    found: list[tuple[Heading, int]] = []
    pos = 0
    while (opening := _HTML_OPEN.search(text, pos)) is not None:
        level = opening.group(1)
        closing = re.compile(rf"</h{level}\s*>", re.IGNORECASE).search(text, opening.end())
        if closing is not None:
            body, pos = text[opening.end() : closing.start()], closing.end()
        else:  # unclosed: the rest of the line, as a browser shows it
            end = text.find("\n", opening.end())
            end = len(text) if end < 0 else end
            body, pos = text[opening.end() : end], end
        title = clean_text(body)
        if title:
            last = line_of(max(pos - 1, opening.start()))
            found.append((Heading(line_of(opening.start()), title, int(level), "html"), last))
    return found


def _bold_title(lines: list[str]) -> Heading | None:
    for n, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        bold = _BOLD.match(line)
        if bold is None or "**" in bold.group(2) or "__" in bold.group(2):
            return None
        title = clean_text(bold.group(2))
        if not title or len(title.split()) > _BOLD_MAX_WORDS:
            return None
        return Heading(n, title, 1, "bold")
    return None


def parse_headings(source: str, *, pseudo: bool = False) -> list[Heading]:
    """The headings of a markdown cell's ``source``, in document order.

    ``pseudo`` also reports a bold-only first line as a level-1 ``"bold"`` heading.
    """
    lines = _masked_lines(source)
    found: list[Heading] = []
    paragraph: list[tuple[int, str]] = []  # the paragraph lines above, for setext
    blocked = False  # inside a list item, quote, table or HTML block up to the next blank line
    for n, line in enumerate(lines, start=1):
        if not line.strip():
            paragraph, blocked = [], False
            continue
        atx = _ATX.match(line)
        if atx:
            paragraph = []
            title = clean_text(atx.group(2))
            if title:
                found.append(Heading(n, title, len(atx.group(1)), "atx"))
            continue
        setext = _SETEXT.match(line)
        if setext and paragraph:
            title = clean_text(" ".join(text for _, text in paragraph))
            if title:
                level = 1 if setext.group(1).startswith("=") else 2
                found.append(Heading(paragraph[0][0], title, level, "setext"))
            paragraph = []
            continue
        if blocked or "|" in line or _NOT_PARAGRAPH.match(line) or _HTML_OPEN.search(line):
            paragraph, blocked = [], True
            continue
        paragraph.append((n, line.strip()))
    html_found = [h for h in _html_headings(lines) if h.line not in {f.line for f in found}]
    found = sorted([*found, *html_found], key=lambda h: h.line)
    if pseudo:
        bold = _bold_title(lines)
        if bold is not None and (not found or bold.line < found[0].line):
            found.insert(0, bold)
    return found


def heading_lines(source: str) -> set[int]:
    """The 1-based lines of ``source`` that belong to a heading: an ATX line, a setext
    heading's text lines and its underline, an HTML heading from its opening to its closing
    tag. What is left is the cell's prose (summaries and section texts read it)."""
    lines = _masked_lines(source)
    found: set[int] = set()
    for h in parse_headings(source):
        if h.kind == "atx":
            found.add(h.line)
        elif h.kind == "setext":
            n = h.line
            while n <= len(lines):
                found.add(n)
                if _SETEXT.match(lines[n - 1]):
                    break
                n += 1
    for h, last in _html_spans(lines):
        found.update(range(h.line, last + 1))
    return found
