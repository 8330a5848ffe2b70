"""Every link a finding carries points at a heading docs/rules.md really has."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat

from nbops.lint.diagnostic import BLACK_URL, RULES_URL
from nbops.lint.engine import RUFF_FORMAT_URL, lint_notebook

DOCS = Path(__file__).resolve().parents[2] / "docs" / "rules.md"


def _anchors() -> set[str]:
    headings = re.findall(r"^### (.+)$", DOCS.read_text(encoding="utf-8"), re.MULTILINE)
    return {re.sub(r"[^a-z0-9 _-]", "", h.lower()).replace(" ", "-") for h in headings}


def test_finding_urls_are_real_anchors(tmp_path: Path) -> None:
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell("import os\nx=1\npath = '/home/alice/data.csv'\n"),
        nbformat.v4.new_code_cell("print(undefined_name)"),
    ]
    nb.cells[0].execution_count = 3
    nb.cells[1].execution_count = 1
    path = tmp_path / "Untitled1.ipynb"
    nbformat.write(nb, path)
    (tmp_path / "broken.ipynb").write_text("{not json", encoding="utf-8")
    diags = lint_notebook(path) + lint_notebook(tmp_path / "broken.ipynb")
    ours = [d for d in diags if d.code.startswith("NB")]
    assert len({d.code for d in ours}) >= 3, [d.code for d in diags]
    anchors = _anchors()
    for d in ours:
        assert d.url.startswith(f"{RULES_URL}#"), d.url
        assert d.url.split("#", 1)[1] in anchors, (d.code, d.url)
    for d in diags:
        if d.code == "FMT001":
            assert d.url == (BLACK_URL if d.source == "black" else RUFF_FORMAT_URL)
