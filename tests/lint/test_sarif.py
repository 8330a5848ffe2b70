"""SARIF: valid 2.1.0, regions on the true line of the .ipynb file, rule help, fingerprints."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import nbformat
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nbops.config import Config
from nbops.lint.engine import Linter
from nbops.lint.sarif import FINGERPRINT_KEY, NotebookText, render, rule_anchor

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = json.loads((Path(__file__).parent / "schemas" / "sarif-2.1.0-rtm.5.json").read_text())

# cell 3 (index 2), line 2 holds an absolute path (NB301) and an unused import is in cell 2
CELLS = [
    ("markdown", "# Title\n\nWhat it does."),
    ("code", "import os\nimport math\nprint(math.pi)"),
    ("code", "alpha = 1\ndata = open(\"/Users/jane/data.csv\")  # the \"raw\" file, é\nprint(data)"),
    ("markdown", "## Done"),
]
LINE = 'data = open("/Users/jane/data.csv")  # the "raw" file, é'


def _notebook(cells: list[tuple[str, str]]) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    make = {"code": nbformat.v4.new_code_cell, "markdown": nbformat.v4.new_markdown_cell}
    nb.cells = [make[kind](source) for kind, source in cells]
    for i, cell in enumerate(nb.cells):
        cell["id"] = f"cell-{i}"
    return nb


def _write(path: Path, layout: str, cells: list[tuple[str, str]] = CELLS) -> Path:
    nb = _notebook(cells)
    if layout == "nbformat":  # indent=1, one string per source line
        nbformat.write(nb, path)
        return path
    data = json.loads(nbformat.writes(nb))
    for cell in data["cells"]:
        cell["source"] = "".join(cell["source"])  # one string per cell
    if layout == "one-string":
        path.write_text(json.dumps(data, indent=2, ensure_ascii=False), encoding="utf-8")
    elif layout == "minified":
        path.write_text(json.dumps(data, separators=(",", ":")), encoding="utf-8")  # \u00e9
    else:
        raise AssertionError(layout)
    return path


def _sarif(path: Path, select: list[str] | None = None) -> dict[str, Any]:
    linter = Linter(Config(), cache=False, select=select)
    return json.loads(render(list(linter.iter_paths([str(path)]))))


def _results(sarif: dict[str, Any], code: str) -> list[dict[str, Any]]:
    return [r for r in sarif["runs"][0]["results"] if r["ruleId"] == code]


def test_sarif_of_a_real_notebook_validates_against_the_sarif_2_1_0_schema() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "nbops", "lint", "--no-cache", "--format", "sarif",
         "examples/churn_classifier.ipynb", "tests/notebooks/bad"],
        capture_output=True, text=True, cwd=ROOT, timeout=300,
    )
    assert proc.returncode in (1, 2), proc.stderr
    data = json.loads(proc.stdout)
    jsonschema.Draft4Validator(SCHEMA).validate(data)
    run = data["runs"][0]
    sources = {r["properties"]["source"] for r in run["results"]}
    assert {"nbops", "ruff"} <= sources
    assert all(FINGERPRINT_KEY in r["partialFingerprints"] for r in run["results"])


def test_the_schema_catches_a_broken_log() -> None:
    """The validation can fail: a region with a 0 line is not SARIF."""
    broken = {"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "x"}}, "results": [
        {"message": {"text": "m"}, "locations": [{"physicalLocation": {
            "artifactLocation": {"uri": "a.ipynb"}, "region": {"startLine": 0}}}]}]}]}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft4Validator(SCHEMA).validate(broken)


@pytest.mark.parametrize("layout", ["nbformat", "one-string", "minified"])
def test_a_finding_in_cell_3_line_2_is_on_the_true_line_of_the_file(
    tmp_path: Path, layout: str
) -> None:
    path = _write(tmp_path / "analysis.ipynb", layout)
    sarif = _sarif(path, select=["NB301"])
    jsonschema.Draft4Validator(SCHEMA).validate(sarif)
    (result,) = _results(sarif, "NB301")
    region = result["locations"][0]["physicalLocation"]["region"]
    file_lines = path.read_text(encoding="utf-8").split("\n")
    line = file_lines[region["startLine"] - 1]
    expected = json.dumps(LINE, ensure_ascii=layout == "minified")[1:-1]
    assert expected in line
    # the column is where the finding's text starts (the path's opening quote, escaped)
    column = LINE.index('"/Users') + 1
    assert result["properties"]["cellColumn"] == column
    assert line[region["startColumn"] - 1:].startswith(
        json.dumps(LINE[column - 1:], ensure_ascii=layout == "minified")[1:-1]
    )
    if layout == "minified":
        assert region["startLine"] == 1
    elif layout == "nbformat":  # one line per source line: not the cell's line 2
        assert region["startLine"] > 2
    # the cell and its own line survive for people
    assert result["message"]["text"].startswith("cell 3, line 2: ")
    assert result["properties"]["cell"] == 3 and result["properties"]["cellLine"] == 2
    assert result["locations"][0]["logicalLocations"][0]["name"] == "cell 3"


def test_whole_cell_and_notebook_findings_have_regions(tmp_path: Path) -> None:
    cells = [("code", "import os"), ("code", "   "), ("code", "x = 1")]
    path = _write(tmp_path / "Untitled.ipynb", "nbformat", cells)
    sarif = _sarif(path, select=["NB104", "NB107"])
    (untitled,) = _results(sarif, "NB104")  # about the notebook: its first line
    assert untitled["properties"]["cell"] is None
    assert untitled["locations"][0]["physicalLocation"]["region"] == {"startLine": 1}
    (empty,) = _results(sarif, "NB107")
    region = empty["locations"][0]["physicalLocation"]["region"]
    text = path.read_text().split("\n")
    assert '"   "' in text[region["startLine"] - 1]


def test_rules_carry_descriptions_and_help_links(tmp_path: Path) -> None:
    path = _write(tmp_path / "analysis.ipynb", "nbformat")
    sarif = _sarif(path)
    rules = {r["id"]: r for r in sarif["runs"][0]["tool"]["driver"]["rules"]}
    f401 = rules["F401"]  # ruff's: its name, summary and docs page
    assert f401["name"] == "unused-import"
    assert f401["helpUri"] == "https://docs.astral.sh/ruff/rules/unused-import/"
    assert "imported but unused" in f401["shortDescription"]["text"]
    assert "What it does" in f401["fullDescription"]["text"]
    nb301 = rules["NB301"]  # nbops': the generated rule docs, the right anchor
    anchors = {
        rule_anchor(*m.groups())
        for m in re.finditer(r"^### (NB\d+) (\S+)$", (ROOT / "docs" / "rules.md").read_text(), re.M)
    }
    assert nb301["helpUri"].endswith("docs/rules.md#nb301-absolute-path")
    assert nb301["helpUri"].split("#")[1] in anchors
    assert nb301["shortDescription"]["text"] and nb301["fullDescription"]["text"]
    # FMT001 links the formatter that found it: ruff's by default (no [tool.black] here)
    assert rules["FMT001"]["helpUri"] == "https://docs.astral.sh/ruff/formatter/"
    assert "ruff format" in rules["FMT001"]["shortDescription"]["text"]
    for rule in rules.values():
        assert rule["shortDescription"]["text"] != rule["id"], rule


def test_fingerprints_follow_code_that_moves(tmp_path: Path) -> None:
    before = _write(tmp_path / "before.ipynb", "nbformat")
    moved = [CELLS[0], ("code", "# a new cell above"), CELLS[1],
             ("code", "beta = 2\n" + CELLS[2][1]), CELLS[3]]
    after = _write(tmp_path / "after.ipynb", "nbformat", moved)

    def prints(path: Path) -> str:
        (result,) = _results(_sarif(path, select=["NB301"]), "NB301")
        assert result["properties"]["cellLine"] in (2, 3)
        return str(result["partialFingerprints"][FINGERPRINT_KEY])

    assert prints(before) == prints(after)


def test_identical_findings_get_distinct_fingerprints(tmp_path: Path) -> None:
    cells = [("code", 'a = open("/Users/x/a.csv")'), ("code", 'a = open("/Users/x/a.csv")')]
    path = _write(tmp_path / "analysis.ipynb", "nbformat", cells)
    results = _results(_sarif(path, select=["NB301"]), "NB301")
    assert len(results) == 2
    assert len({r["partialFingerprints"][FINGERPRINT_KEY] for r in results}) == 2


def test_unreadable_notebooks_keep_a_location(tmp_path: Path) -> None:
    (tmp_path / "broken.ipynb").write_text('{"cells": [', encoding="utf-8")
    sarif = _sarif(tmp_path / "broken.ipynb")
    jsonschema.Draft4Validator(SCHEMA).validate(sarif)
    (result,) = _results(sarif, "NB001")
    assert result["locations"][0]["physicalLocation"]["region"] == {"startLine": 1}


# ------------------------------------------------------------------ Hypothesis: any layout

_line_text = st.text(
    alphabet=st.characters(blacklist_characters="\n", blacklist_categories=("Cs",)), max_size=12
)
_cell = st.lists(_line_text, min_size=1, max_size=4).map("\n".join)


def _layout_text(sources: list[str], layout: str, ascii_only: bool, cut: int) -> str:
    cells: list[dict[str, Any]] = []
    for source in sources:
        value: Any
        if layout == "lines":  # nbformat's: one string per line, newline kept
            value = [s for s in re.split(r"(?<=\n)", source) if s]
        elif layout == "odd-splits":  # any split at all
            value = [source[i:i + cut] for i in range(0, len(source), cut)]
        else:
            value = source
        cells.append({"cell_type": "code", "metadata": {}, "source": value, "outputs": []})
    data = {"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    if layout == "minified":
        return json.dumps(data, separators=(",", ":"), ensure_ascii=ascii_only)
    return json.dumps(data, indent=1, ensure_ascii=ascii_only)


@settings(max_examples=150, deadline=None)
@given(
    sources=st.lists(_cell, min_size=1, max_size=5),
    layout=st.sampled_from(["lines", "one-string", "minified", "odd-splits"]),
    ascii_only=st.booleans(),
    cut=st.integers(1, 5),
    pick=st.tuples(st.integers(0, 10**6), st.integers(0, 10**6), st.integers(0, 10**6)),
)
def test_located_position_is_the_finding_s_text_in_any_layout(
    sources: list[str], layout: str, ascii_only: bool, cut: int, pick: tuple[int, int, int]
) -> None:
    text = _layout_text(sources, layout, ascii_only, cut)
    nb = NotebookText(text)
    cell = pick[0] % len(sources)
    lines = sources[cell].split("\n")
    line = pick[1] % len(lines) + 1
    line_text = lines[line - 1]
    column = pick[2] % (len(line_text) + 1) + 1
    assert nb.cell_source(cell) == sources[cell]
    assert nb.cell_line(cell, line) == line_text
    position = nb.position(cell, line, column)
    assert position is not None
    file_line = text.split("\n")[position[0] - 1]
    rest = file_line[position[1] - 1:]
    escaped = json.dumps(line_text[column - 1:], ensure_ascii=ascii_only)[1:-1]
    if layout == "odd-splits":  # the line may go on in the next string: its first character
        assert rest.startswith(escaped[: len(json.dumps(line_text[column - 1:column],
                                                        ensure_ascii=ascii_only)) - 2])
    else:  # the located file line holds the finding's source line, from its column on
        assert rest.startswith(escaped)
        assert json.dumps(line_text, ensure_ascii=ascii_only)[1:-1] in file_line
    if layout == "minified":
        assert position[0] == 1
