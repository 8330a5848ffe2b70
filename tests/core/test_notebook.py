"""The notebook model: lenient reading, upgrades, faithful and atomic writing."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest

from nbops.core.notebook import notebook_from_bytes, notebook_from_dict, read_notebook
from nbops.errors import NotebookReadError

BAD = Path(__file__).parent.parent / "notebooks" / "bad"


def _nb(cells: list[dict[str, object]], minor: int = 5, **meta: object) -> dict[str, object]:
    return {"nbformat": 4, "nbformat_minor": minor, "metadata": dict(meta), "cells": cells}


def test_reads_cells_sources_counts_and_tags() -> None:
    raw = _nb(
        [
            {"cell_type": "markdown", "id": "m1", "metadata": {}, "source": ["# Title\n", "text"]},
            {
                "cell_type": "code",
                "id": "c1",
                "metadata": {"tags": ["parameters"]},
                "source": "x = 1",
                "execution_count": 3,
                "outputs": [],
            },
        ]
    )
    nb = notebook_from_dict(raw)
    assert [c.cell_type for c in nb.cells] == ["markdown", "code"]
    assert nb.cells[0].source == "# Title\ntext"
    assert nb.cells[1].execution_count == 3
    assert nb.cells[1].tags == ("parameters",)
    assert nb.cells[1].id == "c1"
    assert nb.problems == []


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("broken_json.ipynb", "broken JSON"),
        ("truncated.ipynb", "truncated JSON"),
        ("latin1.ipynb", "not UTF-8"),
        ("empty_file.ipynb", "file is empty"),
        ("not_a_notebook.ipynb", "not a notebook"),
    ],
)
def test_unreadable_files_raise_with_reason(name: str, reason: str) -> None:
    with pytest.raises(NotebookReadError) as info:
        read_notebook(BAD / name)
    assert reason in info.value.message
    assert info.value.path == str(BAD / name)


def test_missing_file_is_a_read_error(tmp_path: Path) -> None:
    with pytest.raises(NotebookReadError, match="no such file"):
        read_notebook(tmp_path / "nope.ipynb")


def test_v3_notebook_is_upgraded() -> None:
    nb = read_notebook(BAD / "v3_notebook.ipynb")
    assert nb.upgraded_from == 3
    assert nb.code_cells, "the v3 code cells survive the upgrade"
    assert any("upgraded" in p for p in nb.problems)


def test_schema_invalid_but_readable() -> None:
    nb = read_notebook(BAD / "schema_invalid.ipynb")
    assert any("has outputs" in p for p in nb.problems)
    assert any("cell ids need nbformat 4.5" in p for p in nb.problems)


def test_null_source_and_prose() -> None:
    nb = read_notebook(BAD / "null_source.ipynb")
    assert any(c.source == "" for c in nb.code_cells)
    assert any("source is null" in p for p in nb.problems)


def test_empty_notebook_has_no_cells() -> None:
    nb = read_notebook(BAD / "empty_notebook.ipynb")
    assert nb.cells == []


@pytest.mark.parametrize(
    ("meta", "language", "is_python"),
    [
        ({"kernelspec": {"name": "ir", "language": "R", "display_name": "R"}}, "r", False),
        ({"language_info": {"name": "julia"}}, "julia", False),
        ({"kernelspec": {"name": "python3", "display_name": "Python 3"}}, "python", True),
        ({}, "python", True),
    ],
)
def test_language_detection(meta: dict[str, object], language: str, is_python: bool) -> None:
    nb = notebook_from_dict(_nb([], **meta))
    assert nb.language == language
    assert nb.is_python is is_python


def test_write_roundtrip_is_byte_identical_for_nbformat_files(tmp_path: Path) -> None:
    node = nbformat.v4.new_notebook()
    node.cells = [nbformat.v4.new_markdown_cell("# T"), nbformat.v4.new_code_cell("x = 1\ny = 2")]
    node.metadata["custom"] = {"keep": ["me", 1]}
    path = tmp_path / "a.ipynb"
    nbformat.write(node, path)
    before = path.read_bytes()
    nb = read_notebook(path)
    nb.write(path)
    assert path.read_bytes() == before


def test_write_changes_only_edited_cell_and_keeps_unknown_keys(tmp_path: Path) -> None:
    raw = _nb(
        [
            {"cell_type": "code", "id": "a", "metadata": {"x-custom": 1}, "source": ["a = 1\n", "b = 2"],
             "execution_count": None, "outputs": [], "unknown_key": "kept"},
            {"cell_type": "code", "id": "b", "metadata": {}, "source": "c=3", "execution_count": None,
             "outputs": []},
        ],
        widgets={"state": {}},
    )
    path = tmp_path / "b.ipynb"
    path.write_text(json.dumps(raw, indent=1))
    nb = read_notebook(path)
    nb.cells[1].set_source("c = 3")
    backup = nb.write(path, backup_dir=tmp_path / "bk")
    data = json.loads(path.read_text())
    assert data["cells"][0]["unknown_key"] == "kept"
    assert data["cells"][0]["source"] == ["a = 1\n", "b = 2"]
    assert data["cells"][0]["metadata"] == {"x-custom": 1}
    assert data["cells"][1]["source"] == "c = 3", "string sources stay strings"
    assert data["metadata"]["widgets"] == {"state": {}}
    assert backup is not None and json.loads(backup.read_text()) == raw


def test_atomic_write_leaves_no_temp_files(tmp_path: Path) -> None:
    path = tmp_path / "c.ipynb"
    nbformat.write(nbformat.v4.new_notebook(), path)
    nb = read_notebook(path)
    nb.write(path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.ipynb"]


def test_bom_is_tolerated() -> None:
    data = b"\xef\xbb\xbf" + json.dumps(_nb([])).encode()
    assert notebook_from_bytes(data).cells == []


def _nested(depth: int) -> str:
    return "[" * depth + "]" * depth


def _deep_text(depth: int, where: str) -> str:
    """A notebook whose cell metadata or output holds a list nested ``depth`` levels deep."""
    cell: dict[str, object] = {"cell_type": "code", "id": "a", "metadata": {}, "outputs": [],
                               "execution_count": 1, "source": "x = 1"}
    if where == "metadata":
        cell["metadata"] = {"deep": "DEEP"}
    else:
        cell["outputs"] = [{"output_type": "execute_result", "execution_count": 1,
                            "metadata": {}, "data": {"application/json": "DEEP"}}]
    return json.dumps(_nb([cell])).replace('"DEEP"', _nested(depth))


@pytest.mark.parametrize("where", ["metadata", "outputs"])
@pytest.mark.parametrize("depth", [150, 950, 1_000, 100_000])
def test_deeply_nested_json_is_a_read_error_not_a_recursion_error(
    tmp_path: Path, depth: int, where: str
) -> None:
    """Below ~1,000 levels json.loads succeeds and nbformat, deepcopy or json.dumps recursed
    later (RecursionError, exit 70); past it json.loads itself raised RecursionError."""
    path = tmp_path / "deep.ipynb"
    path.write_text(_deep_text(depth, where))
    with pytest.raises(NotebookReadError) as info:
        read_notebook(path)
    assert "nested more than 100 levels deep" in info.value.message
    assert info.value.path == str(path)
    if depth < 900:  # json.loads parsed it: the cell and the part are named
        assert f"in cell 1 ({where})" in info.value.message


def test_deeply_nested_content_from_a_front_end_is_a_read_error() -> None:
    value: list[object] = []
    for _ in range(5_000):  # built without recursion: deeper than json.loads could parse
        value = [value]
    raw = _nb([], deep=value)
    with pytest.raises(NotebookReadError, match="nested more than 100 levels deep"):
        notebook_from_dict(raw)


def test_nesting_up_to_the_limit_reads_and_writes(tmp_path: Path) -> None:
    path = tmp_path / "ok.ipynb"
    path.write_text(_deep_text(90, "metadata"))  # 90 + the 4 levels above the value
    nb = read_notebook(path)
    nb.cells[0].set_source("x = 2")
    nb.write(path)
    assert json.loads(path.read_text())["cells"][0]["source"] == "x = 2"


def _with_code(tmp_path: Path, escaped_source: str) -> Path:
    path = tmp_path / "nb.ipynb"
    path.write_text(
        '{"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": ['
        '{"cell_type": "markdown", "id": "a", "metadata": {}, "source": "# T"},'
        '{"cell_type": "code", "id": "b", "metadata": {}, "execution_count": null, "outputs": [],'
        f' "source": "{escaped_source}"}}]}}',
        encoding="ascii",
    )
    return path


@pytest.mark.parametrize("escape", ["\\udcff", "\\uD800", "x\\ud83d"])
def test_a_lone_surrogate_escape_is_a_read_error_naming_the_cell(tmp_path: Path, escape: str) -> None:
    # valid JSON, but not text: ast.parse and every writer used to fail on it later
    path = _with_code(tmp_path, f"x = '{escape}'")
    with pytest.raises(NotebookReadError, match="cell 2 holds an unpaired UTF-16 surrogate"):
        read_notebook(path)


def test_a_surrogate_pair_escape_is_an_ordinary_character(tmp_path: Path) -> None:
    nb = read_notebook(_with_code(tmp_path, "x = '\\ud83d\\ude00'"))
    assert "\U0001f600" in nb.cells[1].source


def test_an_integer_python_cannot_read_is_a_read_error(tmp_path: Path) -> None:
    # json.loads refuses integers past int_max_str_digits with a bare ValueError (exit 70 before)
    path = tmp_path / "nb.ipynb"
    path.write_text('{"cells": [], "metadata": {}, "nbformat": 4' + "0" * 5000 + ', "nbformat_minor": 5}')
    with pytest.raises(NotebookReadError, match="an integer of more than 4,300 digits"):
        read_notebook(path)


def test_cell_runs_groups_consecutive_cells() -> None:
    from nbops.core.notebook import cell_runs

    assert cell_runs([11, 5, 6, 9, 10, 5]) == [(5, 6), (9, 11)]
    assert cell_runs([]) == [] and cell_runs([3]) == [(3, 3)]


# --- nbformat 3 upgrade without jsonschema's rfc3987_syntax (issue 16: cold lint speed) -------

_V3 = Path(__file__).resolve().parents[1] / "notebooks" / "bad" / "v3_notebook.ipynb"
_READ_V3 = r"""
import json, sys
if sys.argv[1] == "full":
    import nbformat  # noqa: F401  (the whole import chain, as before issue 16)
from nbops.core.notebook import read_notebook
from nbops.lint.engine import Linter
from nbops.config import Config
nb = read_notebook(sys.argv[2])
diags = Linter(Config(), format_check=False, cache=False, jobs=1).lint_file(sys.argv[2]).diagnostics
blocked = "rfc3987_syntax" in sys.modules
import rfc3987_syntax  # noqa: F401  (the block is lifted: it still imports)
print(json.dumps({
    "raw": nb.raw, "upgraded_from": nb.upgraded_from, "rfc3987_syntax_loaded": blocked,
    "findings": [d.to_json() for d in diags],
}))
"""


def _read_v3(mode: str) -> dict[str, object]:
    import json
    import subprocess
    import sys

    proc = subprocess.run(
        [sys.executable, "-c", _READ_V3, mode, str(_V3)], capture_output=True, text=True,
        check=True, timeout=120,
    )
    result: dict[str, object] = json.loads(proc.stdout)
    return result


def test_upgrading_v3_does_not_load_rfc3987_syntax_and_finds_the_same() -> None:
    light, full = _read_v3("light"), _read_v3("full")
    assert light["rfc3987_syntax_loaded"] is False  # its lark grammars cost ~0.8 CPU s
    assert full["rfc3987_syntax_loaded"] is True
    assert light["upgraded_from"] == full["upgraded_from"] == 3
    # nbformat gives upgraded cells random ids: all else must be the same
    for result in (light, full):
        for cell in result["raw"]["cells"]:  # type: ignore[index]
            cell.pop("id")
        for finding in result["findings"]:  # type: ignore[attr-defined]
            finding.pop("cell_id")
    assert light["raw"] == full["raw"]
    assert light["findings"] == full["findings"] and light["findings"]


@pytest.mark.parametrize("major", [2, 3])
def test_an_upgraded_notebook_is_not_told_its_ids_need_4_5(tmp_path: Path, major: int) -> None:
    # the upgrade gives the cells ids: "cell ids need nbformat 4.5 (this is 4.5)" was NB002's
    # self-contradicting message on every old notebook (judged wrong in the precision sample)
    import json

    cell = {"cell_type": "code", "input": "x = 1", "outputs": [], "language": "python"}
    if major == 3:
        cell["prompt_number"] = 1
    raw = {"nbformat": major, "nbformat_minor": 0, "metadata": {"name": "old"},
           "worksheets": [{"cells": [cell, {"cell_type": "markdown", "source": "# Old"}]}]}
    path = tmp_path / "old.ipynb"
    path.write_text(json.dumps(raw), encoding="utf-8")
    nb = read_notebook(path)
    assert nb.upgraded_from == major and nb.code_cells
    assert not any("cell ids need" in p for p in nb.problems), nb.problems
    # the same file reads with the same ids every time (nbformat's upgrade picks random ones)
    ids = [c.get("id") for c in nb.raw["cells"]]
    assert ids == ["cell-1", "cell-2"]
    assert [c.get("id") for c in read_notebook(path).raw["cells"]] == ids


@pytest.mark.parametrize(
    ("source", "joined"),
    [
        (["a = 1\n", "b = 2"], "a = 1\nb = 2"),
        ([], ""),
        (["x = ", 1, None, "\n"], "x = 1None\n"),  # junk among the lines is kept as text
        ("one string", "one string"),
        (None, ""),
        (7, "7"),
    ],
)
def test_cell_source_joins_lines_and_junk(source: object, joined: str) -> None:
    raw = {"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [
        {"cell_type": "code", "id": "a", "metadata": {}, "outputs": [], "execution_count": None,
         "source": source},
    ]}  # fmt: skip
    assert notebook_from_dict(raw).cells[0].source == joined


@pytest.mark.parametrize("text", [b"", b"   \n\t\r\n", b"\xef\xbb\xbf \n"])
def test_blank_file_is_empty(text: bytes) -> None:
    with pytest.raises(NotebookReadError, match="file is empty"):
        notebook_from_bytes(text)


# --- nbformat 2/3 upgrade without nbformat's two schema validations (they only log) ---------

_V3_CELLS = [
    {"cell_type": "heading", "level": 2, "source": ["Load ", "data"], "metadata": {}},
    {"cell_type": "code", "language": "python", "collapsed": True, "prompt_number": 3,
     "input": ["import json\n", "x = 1"], "metadata": {"tags": ["a"]}, "outputs": [
         {"output_type": "pyout", "prompt_number": 3, "text": ["1"], "metadata": {}},
         {"output_type": "stream", "stream": "stderr", "text": "warn\n"},
         {"output_type": "display_data", "png": "iVBORw0KGgo=", "json": "{\"a\": 1}",
          "metadata": {}},
         {"output_type": "pyerr", "ename": "E", "evalue": "v", "traceback": ["t"]},
     ]},
    {"cell_type": "markdown", "source": "Some *text*", "metadata": {}},
    {"cell_type": "raw", "source": "raw", "metadata": {}},
]  # fmt: skip
_OLD_NOTEBOOKS = {
    "v3": {"nbformat": 3, "nbformat_minor": 0, "orig_nbformat": 2,
           "metadata": {"name": "old", "signature": "sha256:x", "kernel_info": {"name": "py"}},
           "worksheets": [{"cells": _V3_CELLS[:2], "metadata": {}},
                          {"cells": _V3_CELLS[2:], "metadata": {}}]},
    "v3-no-minor": {"nbformat": 3, "metadata": {}, "worksheets": [{"cells": _V3_CELLS}]},
    "v2": {"nbformat": 2, "metadata": {"name": "older"}, "worksheets": [{"cells": [
        {"cell_type": "code", "input": "print(1)", "language": "python", "outputs": [
            {"output_type": "pyout", "prompt_number": 1, "text": "1"}], "prompt_number": 1},
        {"cell_type": "markdown", "source": "# Title"}]}]},
    "v3-no-metadata": {"nbformat": 3, "nbformat_minor": 0, "worksheets": [{"cells": []}]},
    "v3-no-worksheets": {"nbformat": 3, "nbformat_minor": 0, "metadata": {}},
    "v3-worksheet-without-cells": {"nbformat": 3, "nbformat_minor": 0, "metadata": {},
                                   "worksheets": [{}]},
}  # fmt: skip


def _nbformat_upgrade(raw: dict[str, object]) -> dict[str, object] | str:
    """What nbformat's own convert() makes of ``raw`` (the notebook, or its error)."""
    import json

    from nbformat.converter import convert
    from nbformat.reader import reads

    try:
        upgraded = convert(reads(json.dumps(raw)), 4)
    except Exception as exc:  # noqa: BLE001 (nbformat raises many types)
        return str(exc)
    result: dict[str, object] = json.loads(json.dumps(upgraded))
    return result


@pytest.mark.parametrize("name", sorted(_OLD_NOTEBOOKS))
def test_old_notebooks_upgrade_as_nbformat_upgrades_them(name: str) -> None:
    import copy

    raw = _OLD_NOTEBOOKS[name]
    expected = _nbformat_upgrade(copy.deepcopy(raw))
    if isinstance(expected, str):
        with pytest.raises(NotebookReadError) as caught:
            notebook_from_dict(copy.deepcopy(raw))
        assert caught.value.message.endswith(f"could not be upgraded to version 4: {expected}")
        return
    nb = notebook_from_dict(copy.deepcopy(raw))
    for number, cell in enumerate(nb.raw["cells"], 1):  # numbered here, random in nbformat's
        assert cell.pop("id") == f"cell-{number}"
    for cell in expected["cells"]:  # type: ignore[index]
        assert len(cell.pop("id")) >= 8
    assert nb.raw == expected
    assert nb.upgraded_from == raw["nbformat"]


def test_upgrading_compiles_no_schema_validator() -> None:
    """nbformat's upgrade validates the notebook twice, compiling both schemas, only to log."""
    import subprocess
    import sys

    script = (
        "import json, sys\n"
        "from nbops.core.notebook import notebook_from_bytes\n"
        "nb = notebook_from_bytes(sys.stdin.buffer.read())\n"
        "import nbformat.validator as v\n"
        "print(nb.upgraded_from, len(v.validators))\n"
    )
    old = json.dumps(_OLD_NOTEBOOKS["v3"])
    proc = subprocess.run(
        [sys.executable, "-c", script], input=old, capture_output=True, text=True, check=True,
        timeout=120,
    )
    assert proc.stdout.split() == ["3", "0"]
