"""The benchmark notebooks as data files: read and write ``benchmarks/notebooks/**/*.md``.

A template is a markdown file, one notebook, cell after cell. Each cell starts with a marker
line, ``<!-- cell: markdown -->`` or ``<!-- cell: code -->`` (``<!-- cell: code tags=a,b -->``
for tags); a markdown cell's text follows verbatim, a code cell's source sits in a
```` ```python ```` fence. Chosen over ``.ipynb`` (JSON with one string per line: hard to
review) and py-percent (magics and markdown have to be commented out, and ruff would lint the
messy notebooks as code): on GitHub a template reads as the notebook it is.

Templates may hold ``${name}`` placeholders (:class:`string.Template`) that a generator
fills in for its seeded variants (:func:`fill`). :func:`notebook` builds the nbformat v4
document the way the generators always did: cell ids from the notebook's name and the cell's
index, no outputs, Python 3 kernel metadata, so the same template gives the same bytes.
"""

from __future__ import annotations

import hashlib
import json
import re
import string
from pathlib import Path
from typing import Any

NOTEBOOKS = Path(__file__).resolve().parent / "notebooks"
PY_METADATA: dict[str, Any] = {
    "kernelspec": {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"},
    "language_info": {
        "codemirror_mode": {"name": "ipython", "version": 3},
        "file_extension": ".py",
        "mimetype": "text/x-python",
        "name": "python",
        "nbconvert_exporter": "python",
        "pygments_lexer": "ipython3",
        "version": "3.11",
    },
}
_MARKER = re.compile(r"^<!-- cell: (markdown|code)(?: tags=([^ ]+))? -->$", re.MULTILINE)
FENCE_OPEN, FENCE_CLOSE = "```python", "```"

Cell = tuple[str, str, list[str]]  # (kind "markdown" | "code", source, tags)


class TemplateError(ValueError):
    """A template that does not follow the format; the message names the file and the cell."""


def parse(text: str, where: str = "<template>") -> list[Cell]:
    """The cells of a template's text (``where`` names it in errors)."""
    marks = list(_MARKER.finditer(text))
    if not marks or text[: marks[0].start()].strip():
        raise TemplateError(f"{where}: must start with a '<!-- cell: markdown|code -->' line")
    cells: list[Cell] = []
    for i, m in enumerate(marks):
        end = marks[i + 1].start() if i + 1 < len(marks) else len(text)
        body = text[m.end():end].strip("\n")
        tags = m.group(2).split(",") if m.group(2) else []
        if m.group(1) == "code":
            lines = body.split("\n")
            if len(lines) < 2 or lines[0] != FENCE_OPEN or lines[-1] != FENCE_CLOSE:
                raise TemplateError(
                    f"{where}: cell {i + 1}: a code cell's source goes in a ```python fence")
            body = "\n".join(lines[1:-1])
        elif tags:
            raise TemplateError(f"{where}: cell {i + 1}: only code cells take tags here")
        cells.append((m.group(1), body, tags))
    return cells


def render(cells: list[Cell]) -> str:
    """A template's text for ``cells`` (the inverse of :func:`parse`)."""
    out = []
    for kind, source, tags in cells:
        head = f"<!-- cell: {kind}{' tags=' + ','.join(tags) if tags else ''} -->"
        body = f"{FENCE_OPEN}\n{source}\n{FENCE_CLOSE}" if kind == "code" else source
        out.append(f"{head}\n{body}\n")
    return "\n".join(out)


def load(path: Path) -> list[Cell]:
    """The cells of the template at ``path``."""
    full = path.resolve()
    shown = full.relative_to(NOTEBOOKS.parent) if full.is_relative_to(NOTEBOOKS.parent) else path.name
    return parse(full.read_text(encoding="utf-8"), str(shown))


def fill(cells: list[Cell], **values: Any) -> list[Cell]:
    """``cells`` with every ``${name}`` placeholder replaced (a missing value is an error)."""
    return [(k, string.Template(src).substitute(values), tags) for k, src, tags in cells]


def notebook(name: str, cells: list[Cell]) -> dict[str, Any]:
    """The nbformat v4.5 document of ``cells``; cell ids derive from ``name`` and the index."""
    out: list[dict[str, Any]] = []
    for i, (kind, src, tags) in enumerate(cells):
        cid = hashlib.sha1(f"{name}:{i}".encode()).hexdigest()[:8]
        lines = src.splitlines(keepends=True)
        if kind == "markdown":
            out.append({"cell_type": "markdown", "id": cid, "metadata": {}, "source": lines})
        else:
            out.append({"cell_type": "code", "execution_count": None, "id": cid,
                        "metadata": {"tags": tags} if tags else {}, "outputs": [], "source": lines})
    return {"cells": out, "metadata": PY_METADATA, "nbformat": 4, "nbformat_minor": 5}


def dumps(nb: dict[str, Any]) -> str:
    """A notebook as the generators write it (indent 1, UTF-8 kept, final newline)."""
    return json.dumps(nb, indent=1, ensure_ascii=False) + "\n"
