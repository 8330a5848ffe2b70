"""NB2 execution-order and hidden-state rules, beyond their catalogue examples.

Every notebook here is built with nbformat's v4 API and validated against its schema, then
read by nbops from its JSON: what each rule reports (cell, line, column, message), the near
misses a real notebook would trigger, the one fix (NB208, through ``nbops fix``), and
properties over arbitrary cell sources, execution counts and outputs.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import nbformat
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from nbops.cli.main import main
from nbops.config import Config
from nbops.core.notebook import Notebook, notebook_from_dict
from nbops.lint.diagnostic import Diagnostic
from nbops.lint.engine import Linter

NB2 = [f"NB2{n:02d}" for n in range(1, 11)]
KERNEL = {"name": "python3", "display_name": "Python 3", "language": "python"}

Cell = dict[str, Any]


# --------------------------------------------------------------------------- helpers


def code(source: str, count: int | None = None, *outputs: dict[str, Any]) -> Cell:
    return dict(new_code_cell(source, execution_count=count, outputs=list(outputs)))


def md(text: str) -> Cell:
    return dict(new_markdown_cell(text))


def result(text: str, count: int | None) -> dict[str, Any]:
    return dict(new_output("execute_result", data={"text/plain": text}, execution_count=count))


def error(ename: str, evalue: str, traceback: Sequence[str] = ()) -> dict[str, Any]:
    return dict(new_output("error", ename=ename, evalue=evalue, traceback=list(traceback)))


def stream(text: str, name: str = "stdout") -> dict[str, Any]:
    return dict(new_output("stream", name=name, text=text))


def notebook_json(*cells: Cell | str) -> dict[str, Any]:
    """A schema-valid nbformat 4 notebook; a bare string is an unexecuted code cell."""
    nb = nbformat.from_dict(
        new_notebook(
            cells=[code(c) if isinstance(c, str) else c for c in cells],
            metadata={"kernelspec": KERNEL, "language_info": {"name": "python"}},
        )
    )
    nbformat.validate(nb)
    return json.loads(nbformat.writes(nb))


def notebook(*cells: Cell | str) -> Notebook:
    return notebook_from_dict(notebook_json(*cells))


def lint(nb: Notebook, *codes: str) -> list[Diagnostic]:
    """The findings of ``codes``; a crash inside a rule (NB005) fails the test."""
    linter = Linter(Config(), select=[*codes, "NB005"], format_check=False, cache=False)
    diags = linter.lint_notebook(nb)
    crashes = [d.message for d in diags if d.code == "NB005"]
    assert not crashes, crashes
    return [d for d in diags if d.code in codes]  # the engine adds NB003 for syntax errors


def where(diags: Sequence[Diagnostic]) -> list[tuple[str, int | None, int | None, int | None]]:
    """(code, 1-based cell, line, column) of each finding."""
    return [(d.code, d.cell, d.line, d.column) for d in diags]


def one(nb: Notebook, rule: str) -> Diagnostic:
    diags = lint(nb, rule)
    assert len(diags) == 1, [d.message for d in diags]
    return diags[0]


# --------------------------------------------------------------------------- NB201


def test_nb201_reports_every_cell_that_ran_before_one_above_it() -> None:
    nb = notebook(code("a = 1", 3), md("## Load"), code("b = 2", 1), code("c = 3", 2))
    diags = lint(nb, "NB201")
    assert where(diags) == [("NB201", 3, None, None), ("NB201", 4, None, None)]
    assert diags[0].message == (
        "ran as [1], before cell 1 above it (ran as [3]): restart the kernel and run all "
        "cells in order"
    )
    assert "ran as [2], before cell 1 above it (ran as [3])" in diags[1].message
    assert diags[0].severity == "warning" and diags[0].fix is None


def test_nb201_compares_with_the_highest_count_above() -> None:
    # [1] [3] [2] [4]: only the third cell ran early, and it names the cell that ran as [3]
    nb = notebook(code("a = 1", 1), code("b = 2", 3), code("c = 3", 2), code("d = 4", 4))
    (diag,) = lint(nb, "NB201")
    assert diag.cell == 3 and "ran as [2], before cell 2 above it (ran as [3])" in diag.message


@pytest.mark.parametrize(
    "cells",
    [
        pytest.param([code("a = 1", 1), code("b = 2", 5), code("c = 3", 9)], id="gaps-in-order"),
        pytest.param([code("a = 1", 1), "b = 2", code("c = 3", 2)], id="unexecuted-between"),
        pytest.param([code("a = 1", 1), code("b = 2", 1)], id="equal-counts"),
        pytest.param(["a = 1", "b = 2"], id="cleared"),
        pytest.param([code("a = 1", 1), md("text"), code("", None), code("b", 2)], id="md-empty"),
        pytest.param([code("a = 1", 0), code("b = 2", 1)], id="count-zero"),
        pytest.param([], id="no-cells"),
    ],
)
def test_nb201_near_misses(cells: list[Cell | str]) -> None:
    assert lint(notebook(*cells), "NB201") == []


# --------------------------------------------------------------------------- NB202


@pytest.mark.parametrize("source", ["y = x + 1", "%matplotlib inline", "x  # shown"])
def test_nb202_reports_a_cell_skipped_while_others_ran(source: str) -> None:
    nb = notebook(code("x = 1", 1), source, code("print(x)", 2))
    diag = one(nb, "NB202")
    assert (diag.cell, diag.line) == (2, None)
    assert diag.message == (
        "this cell was never executed while the others were: run all cells in order, or "
        "delete it if it is dead code"
    )


@pytest.mark.parametrize(
    "cells",
    [
        pytest.param(["x = 1", "y = 2"], id="all-outputs-cleared"),
        pytest.param([code("x = 1", 1), ""], id="empty"),
        pytest.param([code("x = 1", 1), "  \n\t\n"], id="whitespace"),
        pytest.param([code("x = 1", 1), "# a note\n   # indented note"], id="comments-only"),
        pytest.param([code("x = 1", 1), md("y = 2")], id="markdown"),
        pytest.param(
            [code("x = 1", 1), code("print(x)", None, stream("1\n"))], id="outputs-no-count"
        ),
    ],
)
def test_nb202_near_misses(cells: list[Cell | str]) -> None:
    assert lint(notebook(*cells), "NB202") == []


# --------------------------------------------------------------------------- NB203


def test_nb203_reports_runs_missing_before_the_first_cell() -> None:
    diag = one(notebook(code("a = 1", 5), code("b = 2", 6)), "NB203")
    assert diag.cell == 1 and diag.severity == "info"
    assert diag.message == (
        "execution starts at [5]: 4 earlier run(s) are not in the notebook; restart the "
        "kernel and run all cells"
    )


def test_nb203_reports_a_gap_on_the_cell_that_ran_after_it() -> None:
    # counts in execution order: [1] is cell 3, [4] is cell 1 (markdown counts as a cell)
    nb = notebook(code("b = a + 1", 4), md("text"), code("a = 1", 1))
    diag = one(nb, "NB203")
    assert diag.cell == 1
    assert diag.message.startswith("2 run(s) happened between [1] (cell 3) and [4]:")


def test_nb203_reports_each_gap() -> None:
    nb = notebook(code("a = 1", 2), code("b = 2", 3), code("c = 3", 7), code("d = 4", 9))
    assert [(d.cell, d.message.split(":")[0]) for d in lint(nb, "NB203")] == [
        (1, "execution starts at [2]"),
        (3, "3 run(s) happened between [3] (cell 2) and [7]"),
        (4, "1 run(s) happened between [7] (cell 3) and [9]"),
    ]


@pytest.mark.parametrize(
    "cells",
    [
        pytest.param([code("a = 1", 2), code("b = 2", 1)], id="out-of-order-but-consecutive"),
        pytest.param([code("a = 1", 1), "b = 2", code("c = 3", 2)], id="unexecuted-between"),
        pytest.param([code("a = 1", 1), code("b = 2", 1), code("c", 2)], id="repeated-count"),
        pytest.param(["a = 1", md("x")], id="nothing-executed"),
    ],
)
def test_nb203_near_misses(cells: list[Cell | str]) -> None:
    assert lint(notebook(*cells), "NB203") == []


# --------------------------------------------------------------------------- NB204


def test_nb204_reports_the_read_with_its_span_and_the_defining_cell() -> None:
    nb = notebook(md("# Title"), code("print(total)", 2), code("total = 42", 1))
    diag = one(nb, "NB204")
    assert (diag.cell, diag.line, diag.column, diag.end_line, diag.end_column) == (2, 1, 7, 1, 12)
    assert diag.message == (
        "'total' is used before it is defined: only cell 3 below defines it; move that cell up"
    )
    assert diag.severity == "error"


@pytest.mark.parametrize(
    ("source", "position"),
    [
        pytest.param("x = 1\ny = later * 2", (2, 5), id="plain-read"),
        pytest.param("later += 1", (1, 1), id="augmented-assignment"),
        pytest.param("@later\ndef f():\n    pass", (1, 2), id="decorator"),
        pytest.param("def f(a=later):\n    pass", (1, 9), id="default-argument"),
        pytest.param("def f(a: later) -> None:\n    pass", (1, 10), id="annotation"),
        pytest.param("class A(later):\n    pass", (1, 9), id="base-class"),
        pytest.param("%%timeit\nlater + 1", (2, 1), id="timeit-cell-body"),
        pytest.param("[v for v in later]", (1, 13), id="comprehension-iterable"),
    ],
)
def test_nb204_reads_evaluated_before_the_defining_cell(
    source: str, position: tuple[int, int]
) -> None:
    diag = one(notebook(source, "later = 1"), "NB204")
    assert (diag.cell, diag.line, diag.column) == (1, *position)


def test_nb204_a_call_runs_the_function_body_before_the_name_exists() -> None:
    nb = notebook("def f():\n    return later + 1", "f()", "later = 1")
    diag = one(nb, "NB204")
    assert (diag.cell, diag.line, diag.column) == (2, 1, 1)
    assert "only cell 3 below defines it" in diag.message


def test_nb204_is_about_document_order_whatever_the_counts() -> None:
    in_order_counts = notebook(code("print(total)", 1), code("total = 1", 2))
    assert [d.cell for d in lint(in_order_counts, "NB204")] == [1]


@pytest.mark.parametrize(
    "cells",
    [
        pytest.param(["def f():\n    return later", "later = 1", "f()"], id="function-body"),
        pytest.param(
            ["from __future__ import annotations\ndef f(a: Later) -> Later:\n    pass",
             "class Later:\n    pass"],
            id="postponed-annotations",
        ),
        pytest.param(["def f(a: 'Later'):\n    pass", "class Later:\n    pass"], id="str-annot"),
        pytest.param(["!echo $later", "later = 1"], id="shell-dollar"),
        pytest.param(["!echo {later}", "later = 1"], id="shell-braces"),
        pytest.param(["%%bash\necho $later", "later = 1"], id="bash-cell"),
        pytest.param(["later = 0", "later += 1", "later = 5"], id="defined-above-too"),
        pytest.param([md("uses `later`"), "later = 1"], id="markdown"),
    ],
)
def test_nb204_near_misses(cells: list[Cell | str]) -> None:
    assert lint(notebook(*cells), "NB204") == []


# --------------------------------------------------------------------------- NB205, NB206

NAME_ERROR = error("NameError", "name 'ghost' is not defined")


def test_nb205_an_executed_cell_read_a_name_nothing_defines() -> None:
    nb = notebook(code("import math", 1), code("y = math.pi * ghost", 2, stream("ok\n")))
    diags = lint(nb, "NB205", "NB206")
    assert where(diags) == [("NB205", 2, 1, 15)]
    assert diags[0].end_column == 20
    assert diags[0].message == (
        "'ghost' is defined by no cell, but this cell ran without a NameError: it came from "
        "a deleted or edited cell; add its definition back"
    )


@pytest.mark.parametrize(
    "cell",
    [
        pytest.param(code("print(ghost)"), id="never-ran"),
        pytest.param(code("print(ghost)", 1, NAME_ERROR), id="ran-into-the-name-error"),
        pytest.param(
            code("print(spook, ghost)", 1, NAME_ERROR), id="name-error-on-another-name"
        ),
    ],
)
def test_nb206_when_the_cell_did_not_run_successfully(cell: Cell) -> None:
    diags = lint(notebook(cell), "NB205", "NB206")
    assert {d.code for d in diags} == {"NB206"}
    ghost = next(d for d in diags if "'ghost'" in d.message)
    assert ghost.message == "undefined name 'ghost': define or import it in an earlier cell"


def test_a_name_error_means_the_reads_after_it_never_ran() -> None:
    # before the fix, 'spook' (evaluated after the failing 'ghost') was NB205: "this cell ran
    # without a NameError", although the cell's saved output is that NameError
    nb = notebook(code("print(ghost, spook)", 1, NAME_ERROR))
    assert where(lint(nb, "NB205", "NB206")) == [("NB206", 1, 1, 7), ("NB206", 1, 1, 14)]


@pytest.mark.parametrize(
    ("cells", "name", "position"),
    [
        pytest.param(["xs = [i * 2 for i in range(3)]", "print(i)"], "i", (2, 1, 7),
                     id="comprehension-variable-outside"),
        pytest.param(["x = 1", "del x", "print(x)"], "x", (3, 1, 7), id="deleted"),
        pytest.param(["x = 1\ndel x\nprint(x)"], "x", (1, 3, 7), id="deleted-same-cell"),
        pytest.param(["x: int", "print(x)"], "x", (2, 1, 7), id="annotation-only"),
        pytest.param(["total += 1"], "total", (1, 1, 1), id="augmented-never-bound"),
        pytest.param(["def setup():\n    global cfg\n    cfg = 1", "print(cfg)"], "cfg",
                     (2, 1, 7), id="global-in-function-never-called"),
        pytest.param(["print(__file__)"], "__file__", (1, 1, 7), id="no-file-in-a-kernel"),
        pytest.param(["def f():\n    return nowhere", "f()"], "nowhere", (2, 1, 1),
                     id="function-reads-undefined-global"),
    ],
)
def test_nb206_reports(cells: list[str], name: str, position: tuple[int, int, int]) -> None:
    diags = lint(notebook(*cells), "NB205", "NB206")
    assert [(d.code, d.cell, d.line, d.column) for d in diags] == [("NB206", *position)]
    assert f"'{name}'" in diags[0].message


@pytest.mark.parametrize(
    "cells",
    [
        pytest.param(["xs = [i for i in range(3)]\nys = {k: v for k, v in zip('ab', xs)}"],
                     id="comprehension-variables"),
        pytest.param(["def setup():\n    global cfg\n    cfg = 1", "setup()", "print(cfg)"],
                     id="global-set-by-a-called-function"),
        pytest.param(["try:\n    pass\nexcept Exception as e:\n    print(e)"], id="except-as"),
        pytest.param(["if (n := 3) > 2:\n    print(n)", "print(n)"], id="walrus"),
        pytest.param(["for k in range(2):\n    pass", "print(k)"], id="loop-variable"),
        pytest.param(["with open('f') as fh:\n    pass", "print(fh)"], id="with-as"),
        pytest.param(["class A:\n    x = 1\n    y = x + 1"], id="class-body"),
        pytest.param(
            ["def outer():\n    y = 1\n    def inner():\n        nonlocal y\n        y += 1"],
            id="nonlocal",
        ),
        pytest.param(["match [1, 2]:\n    case [a, *rest]:\n        print(a, rest)"], id="match"),
        pytest.param(["print(len([]), display, get_ipython(), In, Out, _, __name__)"],
                     id="builtins-and-ipython-names"),
        pytest.param(["from os.path import *", "join('a', 'b')"], id="star-import"),
        pytest.param(["exec('z = 1')", "print(z)"], id="exec"),
        pytest.param(["%run helpers.py", "print(z)"], id="run-magic"),
        pytest.param(["files = !ls", "print(files)"], id="assigned-shell"),
        pytest.param(["try:\n    import ujson as json\nexcept ImportError:\n    import json",
                      "json.dumps(1)"], id="conditional-import"),
        pytest.param(["x = 1", md("print(undefined_in_markdown)"), "", "print(x)"],
                     id="markdown-and-empty"),
    ],
)
def test_nb205_nb206_near_misses(cells: list[Cell | str]) -> None:
    assert lint(notebook(*cells), "NB205", "NB206") == []


def test_nb205_nb206_executed_or_not_agree_on_what_is_undefined() -> None:
    source = "from collections import Counter\nc = Counter(words)\nprint(c, sizes)"
    ran = lint(notebook(code(source, 1)), "NB205", "NB206")
    cleared = lint(notebook(code(source)), "NB205", "NB206")
    assert [d.code for d in ran] == ["NB205", "NB205"]
    assert [d.code for d in cleared] == ["NB206", "NB206"]
    assert [(d.line, d.column) for d in ran] == [(d.line, d.column) for d in cleared]


# --------------------------------------------------------------------------- NB207

TRACEBACK = [
    "-" * 75,
    (
        "\x1b[0;31mKeyError\x1b[0m    Traceback (most recent call last)\n"
        "Cell \x1b[0;32mIn[1], line 2\x1b[0m\n"
        "\x1b[1;32m      1\x1b[0m x \x1b[38;5;241m=\x1b[39m {}\n"
        "\x1b[0;32m----> 2\x1b[0m x[\x1b[38;5;124m'price'\x1b[39m]\n"
    ),
    "KeyError: 'price'",
]


@pytest.mark.parametrize(
    ("cell", "reason"),
    [
        pytest.param(code("answer = 42", 1, result("42", 1)),
                     "it shows an Out[] value but its last statement is not an expression",
                     id="assignment"),
        pytest.param(code("for i in range(3):\n    i", 1, result("2", 1)),
                     "it shows an Out[] value but its last statement is not an expression",
                     id="loop-last"),
        pytest.param(code("", 1, result("5", 1)),
                     "it shows an Out[] value but its last statement is not an expression",
                     id="emptied"),
        pytest.param(code("answer = 42\nanswer;", 1, result("42", 1)),
                     "it shows an Out[] value but its last expression ends with ';'",
                     id="semicolon"),
        pytest.param(code("answer = 42\nanswer;  # hidden", 1, result("42", 1)),
                     "it shows an Out[] value but its last expression ends with ';'",
                     id="semicolon-then-comment"),
        pytest.param(code("answer", 1, result("42", 3)),
                     "its result is Out[3] but the cell ran as [1]", id="count-mismatch"),
        pytest.param(code("x = {}\nx['Price']", 1, error("KeyError", "'price'", TRACEBACK)),
                     "its traceback quotes code no longer in the cell (\"x['price']\")",
                     id="traceback-of-edited-code"),
    ],
)
def test_nb207_reports(cell: Cell, reason: str) -> None:
    diag = one(notebook(cell), "NB207")
    assert diag.cell == 1 and diag.line is None
    assert diag.message == f"{reason}: the cell was edited after it ran; re-run it"


@pytest.mark.parametrize(
    "cell",
    [
        pytest.param(code("answer = 42\nanswer", 1, result("42", 1)), id="expression"),
        pytest.param(code("answer  # shown", 1, result("42", 1)), id="expression-comment"),
        # before the fix, a comment ending with ';' was taken for a silencing semicolon
        pytest.param(code("answer  # see above;", 1, result("42", 1)), id="comment-ends-semi"),
        pytest.param(code("answer\n# done;\n", 1, result("42", 1)), id="comment-line-semi"),
        pytest.param(code("s = 'a;'\ns", 1, result("'a;'", 1)), id="semicolon-in-string"),
        pytest.param(code("%timeit x", 1, result("1", 1)), id="magic"),
        pytest.param(code("print(1)", None, stream("1\n")), id="stream-without-count"),
        pytest.param(code("x = {}\nx['price']", 1, error("KeyError", "'price'", TRACEBACK)),
                     id="traceback-matches"),
        pytest.param(code("if 1:\n    x = {}\n    x['price']", 1,
                          error("KeyError", "'price'", TRACEBACK)), id="traceback-indented"),
        pytest.param(code("x", 1, error("KeyError", "'price'", ["no frames"])), id="bare-tb"),
        pytest.param(code("x = 1", 1), id="no-outputs"),
    ],
)
def test_nb207_near_misses(cell: Cell) -> None:
    assert lint(notebook(cell), "NB207") == []


# --------------------------------------------------------------------------- NB208


@pytest.mark.parametrize(
    ("outputs", "shown"),
    [
        pytest.param([error("ZeroDivisionError", "division by zero")],
                     "ZeroDivisionError: division by zero", id="one-line"),
        pytest.param([error("ValueError", "first line\nsecond line")], "ValueError: first line",
                     id="first-line-only"),
        pytest.param([error("KeyboardInterrupt", "")], "KeyboardInterrupt", id="no-value"),
        pytest.param([stream("partial\n"), error("A", "x"), error("B", "y")], "A: x",
                     id="first-error-once"),
        pytest.param([error("E", "v" * 300)], "E: " + "v" * 117, id="truncated"),
    ],
)
def test_nb208_reports_the_saved_error_once_per_cell(
    outputs: list[dict[str, Any]], shown: str
) -> None:
    diag = one(notebook(code("x = 1", 1), code("run()", 2, *outputs)), "NB208")
    assert diag.cell == 2
    assert diag.message == (
        f"saved output is an error ({shown}): fix the cell or delete it, then re-run"
    )
    assert diag.fix is not None and diag.fix.applicability == "unsafe"


def test_nb208_near_misses() -> None:
    nb = notebook(
        code("import warnings", 1, stream("Traceback (most recent call last):\n", "stderr")),
        md("KeyError: 'price'"),
        code("x = 1", 2),
    )
    assert lint(nb, "NB208") == []


def _write(path: Path, *cells: Cell | str) -> dict[str, Any]:
    data = notebook_json(*cells)
    nbformat.write(nbformat.from_dict(data), str(path))
    return json.loads(path.read_text(encoding="utf-8"))


def test_nb208_fix_clears_exactly_the_failing_cells_outputs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "analysis.ipynb"
    before = _write(
        path,
        md("# Analysis"),
        code("x = 1\nx", 1, result("1", 1)),
        code("print(x)\n1 / 0", 2, stream("1\n"), error("ZeroDivisionError", "division by zero")),
        code("y = x + 1", 3),
    )
    argv = ["fix", "--select", "NB208", "--no-backup", "--format", "json", str(path)]

    assert main(argv) == 0  # an unsafe fix: not applied without --unsafe-fixes
    assert json.loads(capsys.readouterr().out)["results"][0]["applied"] == []
    assert json.loads(path.read_text(encoding="utf-8")) == before

    assert main([*argv, "--unsafe-fixes"]) == 0
    (entry,) = json.loads(capsys.readouterr().out)["results"]
    assert entry["written"] is True
    assert entry["applied"] == [
        {"code": "NB208", "cell": 3, "cell_index": 2, "message": "Clear the cell's outputs"}
    ]
    after = json.loads(path.read_text(encoding="utf-8"))
    expected = json.loads(json.dumps(before))
    expected["cells"][2]["outputs"] = []
    expected["cells"][2]["execution_count"] = None
    assert after == expected
    nbformat.validate(nbformat.from_dict(after))
    assert lint(notebook_from_dict(after), "NB208") == []


# --------------------------------------------------------------------------- NB209


def test_nb209_names_the_cell_the_value_came_from_when_it_ran() -> None:
    nb = notebook(
        code("threshold = 0.5", 1), md("## Check"), code("print(threshold)", 3),
        code("threshold = 0.9", 2),
    )
    diag = one(nb, "NB209")
    assert (diag.cell, diag.line, diag.column) == (3, 1, 7)
    assert diag.message == (
        "when this cell ran, 'threshold' came from cell 4 (run [2]), but top to bottom it "
        "comes from cell 1: results differ when run in order"
    )


@pytest.mark.parametrize(
    ("cells", "expected"),
    [
        pytest.param([code("xs = []", 1), code("print(xs)", 3), code("xs.append(1)", 2)],
                     (2, 1, 7, "'xs' came from cell 3 (run [2])"), id="mutated-in-between"),
        pytest.param([code("def f():\n    return t", 1), code("t = 1", 2), code("f()", 4),
                      code("t = 2", 3)],
                     (3, 1, 1, "'t' came from cell 4 (run [3])"), id="through-a-function-call"),
    ],
)
def test_nb209_reports(cells: list[Cell], expected: tuple[int, int, int, str]) -> None:
    diag = one(notebook(*cells), "NB209")
    assert (diag.cell, diag.line, diag.column) == expected[:3]
    assert expected[3] in diag.message


@pytest.mark.parametrize(
    "cells",
    [
        pytest.param([code("t = 0.5", 1), code("print(t)", 2), code("t = 0.9", 3)], id="order"),
        pytest.param(
            [code("t = 0.5", 1), code("print(t)", 3), "t = 0.9"], id="redefinition-never-ran"
        ),
        pytest.param(["t = 0.5", "print(t)", "t = 0.9"], id="nothing-ran"),
        pytest.param([code("n = 0", 1), code("n += 1", 2), code("print(n)", 3)], id="augmented"),
        pytest.param([code("t = 1", 2), code("u = 2", 1), code("print(t, u)", 3)],
                     id="out-of-order-but-same-providers"),
    ],
)
def test_nb209_near_misses(cells: list[Cell | str]) -> None:
    assert lint(notebook(*cells), "NB209") == []


# --------------------------------------------------------------------------- NB210

REBUILT = "is rebuilt from its own previous value"
GROWN = "is grown in place here"


@pytest.mark.parametrize(
    ("source", "name", "position", "kind"),
    [
        pytest.param("n += 1", "n", (1, 1), REBUILT, id="augmented"),
        pytest.param("n = n.drop(columns=['id'])", "n", (1, 5), REBUILT, id="x-equals-f-of-x"),
        pytest.param("n = [v for v in n]", "n", (1, 17), REBUILT, id="comprehension-over-itself"),
        pytest.param("if (n := n + 1):\n    pass", "n", (1, 10), REBUILT, id="walrus"),
        pytest.param("n: int = n + 1", "n", (1, 10), REBUILT, id="annotated"),
        pytest.param("print(n)\nn = n * 2", "n", (2, 5), REBUILT, id="read-first"),
        pytest.param("tmp = n + 1\nn = tmp * 2", "n", (1, 7), REBUILT, id="through-a-temporary"),
        pytest.param("for v in range(3):\n    n += v", "n", (2, 5), REBUILT, id="in-a-loop"),
        pytest.param("n.append(0.91)", "n", (1, 1), GROWN, id="append"),
        pytest.param("for v in range(3):\n    n.append(v)", "n", (2, 5), GROWN, id="append-loop"),
        pytest.param("try:\n    n.append(1)\nexcept TypeError:\n    pass", "n", (2, 5), GROWN,
                     id="append-in-try"),
        pytest.param("match 1:\n    case 1:\n        n.extend([1])", "n", (3, 9), GROWN,
                     id="append-in-match"),
    ],
)
def test_nb210_reports(source: str, name: str, position: tuple[int, int], kind: str) -> None:
    diag = one(notebook(md("# T"), "n = []", source), "NB210")
    assert (diag.cell, diag.line, diag.column) == (3, *position)
    assert diag.message.startswith(f"'{name}'") and kind in diag.message
    assert "from cell 2" in diag.message or "comes from cell 2" in diag.message
    assert diag.severity == "info"


def test_nb210_messages() -> None:
    rebuilt = one(notebook("df = 1", "df = df + 1"), "NB210")
    assert rebuilt.message == (
        "'df' is rebuilt from its own previous value (it comes from cell 1): re-running this "
        "cell changes it again; assign the result to a new name"
    )
    grown = one(notebook("scores = []", "scores.append(0.91)"), "NB210")
    assert grown.message == (
        "'scores' (from cell 1) is grown in place here: re-running this cell adds the items "
        "again"
    )


def test_nb210_reports_each_name_once() -> None:
    diags = lint(notebook("a = 0\nb = 1", "a, b = b, a + b\na += 1"), "NB210")
    assert [(d.line, d.column, d.message.split("'")[1]) for d in diags] == [
        (1, 8, "b"), (1, 11, "a"),
    ]


@pytest.mark.parametrize(
    "cells",
    [
        pytest.param(["scores = []\nscores.append(0.91)"], id="created-in-the-same-cell"),
        pytest.param(["n += 1"], id="nothing-earlier"),
        pytest.param(["x = 1", "x = 2\ny = x + 1"], id="rebound-before-read"),
        pytest.param(["df = 1", "df_clean = df + 1"], id="new-name"),
        # before the fix these two were "rebuilt from its own previous value", yet running
        # them twice leaves the same value
        pytest.param(["x = 1", "print(x)\nx = 5"], id="read-then-unrelated-rebind"),
        pytest.param(["x = None", "if x is None:\n    x = 1"], id="conditional-constant"),
        pytest.param(["x = 1", "print(x)\nx = 2\nx = x + 1"], id="rebuilt-from-a-constant"),
        pytest.param(["x = 1", "print(x)\nx = [x for x in range(3)]"], id="comprehension-var"),
        pytest.param(["f = 1", "g = lambda f: f + 1\nprint(f)\nf = 2"], id="lambda-argument"),
        pytest.param(["n = 0", "def bump():\n    global n\n    n += 1"], id="in-a-function"),
        pytest.param(["xs = []", "def add(v):\n    xs.append(v)"], id="append-in-function"),
        pytest.param(["class A:\n    pass\na = A()\na.items = []", "a.items.append(1)"],
                     id="attribute-append"),
        pytest.param(["xs = []", "r = len(xs)\nys = xs.copy()"], id="reads-only"),
        pytest.param(["i = 0", "for i in range(3):\n    pass"], id="loop-variable"),
        pytest.param(["import numpy as np", "import numpy as np\nnp.zeros(1)"], id="reimport"),
        pytest.param(["def f():\n    pass", "def f():\n    return f"], id="redefined-function"),
        pytest.param(["xs = []", md("xs.append(1)"), ""], id="markdown-and-empty"),
    ],
)
def test_nb210_near_misses(cells: list[Cell | str]) -> None:
    assert lint(notebook(*cells), "NB210") == []


# --------------------------------------------------------------------------- issue 16 precision
# Notebooks shaped like the real ones whose findings were judged wrong (issue 16).


def test_nb202_reports_once_for_a_notebook_where_almost_nothing_ran() -> None:
    # a tutorial saved after running only its import cell: 1 of 6 code cells ran
    cells: list[Cell | str] = [
        md("# Iris with an SVM"),
        code("import pandas as pd\nfrom sklearn import svm", 1),
        "df = pd.read_csv('iris.csv')",
        "X, y = df.drop(columns='species'), df['species']",
        "model = svm.SVC().fit(X, y)",
        "model.score(X, y)",
        "# a note only\n",
        "print(model)",
    ]
    diags = lint(notebook(*cells), "NB202")
    assert [(d.cell_index, d.message) for d in diags] == [(
        None,
        "only 1 of 6 code cells ever ran: the saved outputs do not show what the notebook "
        "computes; restart the kernel and run all cells (or clear all outputs) before saving",
    )]


def test_nb202_still_reports_each_cell_when_most_ran() -> None:
    cells = [code("import pandas as pd", 1), code("df = pd.DataFrame()", 2),
             "df.describe()", code("df.head()", 3)]
    assert [d.cell_index for d in lint(notebook(*cells), "NB202")] == [2]


@pytest.mark.parametrize(
    "skipped",
    [
        pytest.param(code("print('slow')", None) | {"metadata": {"tags": ["skip-execution"]}},
                     id="nbclient-skip-tag"),
        pytest.param(code("raise Error('no')", None) | {"metadata": {"tags": ["nbval-skip"]}},
                     id="nbval-skip-tag"),
        pytest.param("# NBVAL_SKIP\nfrom time import sleep\nsleep(60)", id="nbval-skip-comment"),
        pytest.param("%load http://example.org/demo.py", id="load-magic"),
        pytest.param("collections.", id="tab-completion-demo"),
    ],
)
def test_nb202_ignores_cells_not_meant_to_run(skipped: Cell | str) -> None:
    cells = [code("import collections", 1), skipped, code("print(1)", 2), code("print(2)", 3)]
    assert lint(notebook(*cells), "NB202") == []


def test_nb205_names_bound_by_script_magics_and_aliases_are_defined() -> None:
    # IPython's "Script Magics" example: %%bash --out/--err and %%script --bg --out
    cells = [
        code('%%bash --out output --err error\necho "hi, stdout"\necho "oops" >&2', 1),
        code("print(error)\nprint(output)", 2, stream("oops\nhi, stdout\n")),
        code('%%script --bg --out bashout bash -c "echo 1"\n', 3),
        code("line = bashout.readline()", 4),
        code("ls", 5, stream("a.txt\n")),
    ]
    assert lint(notebook(*cells), "NB205", "NB206") == []
    # but a name that nothing binds is still hidden state
    cells.append(code("print(outputs)", 6, stream("x\n")))
    assert [d.message.split("'")[1] for d in lint(notebook(*cells), "NB205")] == ["outputs"]


def test_nb206_guarded_and_callback_reads_are_not_undefined() -> None:
    cells = [
        # Python 2 compatibility, as in nbclient's "Disable Stdin" notebook
        "try:\n    input = raw_input\nexcept NameError:\n    pass\nname = input('name: ')",
        # holoviews' Deploying_Bokeh_Apps: the handler runs on click, after `callback` exists
        "def animate(event):\n    callback.start()\n\nbutton.on_click(animate)\n"
        "callback = make_callback()",
    ]
    diags = lint(notebook(*cells), "NB206")
    assert sorted(d.message.split("'")[1] for d in diags) == ["button", "make_callback"]


@pytest.mark.parametrize(
    "source",
    [
        pytest.param("try:\n    x = y\nexcept KeyError:\n    pass", id="other-exception"),
        pytest.param("def f():\n    return y\n\nf()\ny = 1", id="called-before-bound"),
        pytest.param("def f():\n    return y\n\nrun(f)", id="passed-never-bound"),
    ],
)
def test_nb206_still_reports_real_name_errors(source: str) -> None:
    assert [d.message.split("'")[1] for d in lint(notebook(source), "NB206")
            if "'y'" in d.message] == ["y"]


def test_nb207_ignores_outputs_whose_counts_an_exporter_stripped() -> None:
    # every count stripped (as nbstripout --keep-output or some exporters do): no edit evidence
    cells = [
        md("# Sales"),
        code("import pandas as pd\ndf = pd.DataFrame({'a': [1, 2]})", None),
        code("df.a.sum()", None, result("3", None)),
        code("df.describe()", None, result("...", None)),
    ]
    assert lint(notebook(*cells), "NB207") == []


def test_nb207_reports_an_output_without_count_among_counted_cells() -> None:
    cells = [code("x = 41", 1), code("x + 1", None, result("42", None))]
    diag = one(notebook(*cells), "NB207")
    assert diag.cell_index == 1
    assert diag.message == (
        "it has outputs but no execution count while other cells have one: the cell was "
        "edited after it ran; re-run it"
    )


@pytest.mark.parametrize(
    "binding",
    [
        pytest.param("from sklearn import svm", id="from-import"),
        pytest.param("import numpy as np", id="import-as"),
        pytest.param("threshold = 0.5", id="same-literal"),
    ],
)
def test_nb209_one_source_when_two_cells_bind_a_name_the_same_way(binding: str) -> None:
    name = binding.split()[-1] if binding.startswith(("from", "import")) else "threshold"
    cells = [
        code(binding, 1), code(f"print({name})", 3), md("## Again, to be self-contained"),
        code(binding, 2),
    ]
    assert lint(notebook(*cells), "NB209") == []


@pytest.mark.parametrize(
    ("first", "second"),
    [
        pytest.param("from sklearn import svm", "from sklearn import tree as svm", id="other"),
        pytest.param("import numpy as np", "import jax.numpy as np", id="other-module"),
        pytest.param("threshold = 0.5", "threshold = 0.9", id="other-literal"),
        pytest.param("threshold = 0.5", "threshold = load()", id="computed"),
        pytest.param("from sklearn import svm", "from sklearn import svm\nsvm = None",
                     id="import-then-rebound"),
    ],
)
def test_nb209_still_reports_different_definitions(first: str, second: str) -> None:
    name = "threshold" if "threshold" in first else first.split()[-1]
    cells = [code(first, 1), code(f"print({name})", 3), code(second, 2)]
    assert one(notebook(*cells), "NB209").cell_index == 1


@pytest.mark.parametrize(
    "source",
    [
        pytest.param("df = pd.get_dummies(df)", id="get-dummies"),
        pytest.param("df = pd.get_dummies(df, drop_first=True)", id="get-dummies-drop-first"),
        pytest.param("X = StandardScaler().fit_transform(X)", id="scaler-call"),
        pytest.param("X = scaler.fit_transform(X)", id="scaler-name"),
        pytest.param("x = x / x.max()", id="by-max"),
        pytest.param("x = (x - x.mean()) / x.std()", id="standardise"),
        pytest.param("x = (x - x.min()) / (x.max() - x.min())", id="min-max"),
        pytest.param("df = df.query('age > 18 and age < 65')", id="fixed-bounds-query"),
        pytest.param("df = df[df.age > 0]", id="mask"),
        pytest.param("df = df.loc[(df.a > 0) & df.b.notna(), ['a', 'b']]", id="loc-mask"),
        pytest.param("df = df[['a', 'b']]", id="columns"),
        pytest.param("df = df.dropna(subset=['a']).astype({'a': int})", id="chain"),
        pytest.param("df = df.fillna(df.mean())", id="fill-with-own-mean"),
        pytest.param("name = name.strip().lower()", id="str-clean"),
        pytest.param("x = x.str.strip()", id="str-accessor"),
        pytest.param("x = x.redim.label(age='Age (years)')", id="holoviews-redim-label"),
        pytest.param("x = x.opts(width=600)", id="holoviews-opts"),
        pytest.param("df = df[df.age > 0]\ndf = df.reset_index(drop=True)", id="reset-index-drop"),
        pytest.param("x = x.redim.range(a=(0, 1))", id="holoviews-redim-range"),
        pytest.param("x = x.aggregate(function=np.mean)", id="holoviews-aggregate"),
        pytest.param("x = hv.Dataset(x, ['AirportID'], ['Name'])", id="holoviews-dataset"),
        pytest.param("settings = {}\nsettings.update(a=1)", id="update-own"),
        pytest.param("seen.add('a')\nconfig.update(dpi=60)\nconfig.setdefault('b', 2)",
                     id="dict-update-set-add"),
        pytest.param("handle.update('new text')", id="display-handle-update"),
    ],
)
def test_nb210_idempotent_reruns_are_not_reported(source: str) -> None:
    """Before issue 16 each of these was "rebuilt from its own previous value"."""
    cells = [
        "import pandas as pd\nfrom sklearn.preprocessing import StandardScaler",
        "df = pd.read_csv('people.csv')\nX = df.values\nx = df.age\nscaler = StandardScaler()"
        "\nname = ' Ann '\nseen = set()\nconfig = {}\nhandle = display('x', display_id=True)",
        source,
    ]
    assert lint(notebook(*cells), "NB210") == []


@pytest.mark.parametrize(
    ("source", "reported"),
    [
        pytest.param('df["price"] = df["price"] / 1000', True, id="column-rescaled"),
        pytest.param('df["n"] += 1', True, id="column-augmented"),
        pytest.param('df["price"] = np.log(df["price"])', True, id="column-log"),
        pytest.param('df["price"] = df["price"].fillna(0)', False, id="column-filled"),
        pytest.param('df["price"] = df["price"].astype(float)', False, id="column-cast"),
        pytest.param('df["price"] = df["price"].interpolate()', False, id="column-interpolated"),
        pytest.param('df["price_k"] = df["price"] / 1000', False, id="new-column"),
        pytest.param('df["flag"] = 0', False, id="constant-column"),
    ],
)
def test_nb210_columns_rebuilt_from_themselves(source: str, reported: bool) -> None:
    # house_prices_regression's planted "careful, don't run twice!!" cell
    cells = ["import numpy as np\nimport pandas as pd", "df = pd.read_csv('p.csv')", source]
    diags = lint(notebook(*cells), "NB210")
    assert [d.cell_index for d in diags] == ([2] if reported else [])
    if reported:
        assert diags[0].message.startswith("'df['")


@pytest.mark.parametrize(
    "source",
    [
        pytest.param("df = pd.get_dummies(df, columns=['city'])", id="dummies-named-columns"),
        pytest.param("df = df.drop(columns=['id'])", id="drop"),
        pytest.param("df = df.set_index('id')", id="set-index"),
        pytest.param("df = df.reset_index()", id="reset-index"),
        pytest.param("df = pd.concat([df, extra])", id="concat"),
        pytest.param("x = x.aggregate(np.mean)", id="pandas-aggregate"),
        pytest.param("x = x / 255", id="constant-scale"),
        pytest.param("x = x - x.std()", id="shift-by-scale"),
        pytest.param("x = np.log(x)", id="log"),
        pytest.param("df = df[df.age > df.age.mean()]", id="mask-by-own-mean"),
        pytest.param("df = df[1:]", id="positional-slice"),
        pytest.param("df = df.iloc[1:]", id="iloc"),
        pytest.param("df = df['a']", id="one-column"),
        pytest.param("X = PolynomialFeatures().fit_transform(X)", id="growing-transformer"),
        pytest.param("x = x.dropna() + 1", id="clean-then-add"),
    ],
)
def test_nb210_accumulating_reruns_are_still_reported(source: str) -> None:
    cells = ["import numpy as np\nimport pandas as pd", "df = pd.read_csv('p.csv')\nX = df.values"
             "\nx = df.age\nextra = df.head()", source]
    assert one(notebook(*cells), "NB210").cell_index == 2


# --------------------------------------------------------------------------- properties

FRAGMENTS = [
    "x = 1", "y = x + 1", "x += 1", "del x", "print(x, y)", "xs = []", "xs.append(x)",
    "def f():\n    global x\n    x = 2", "f()", "def g():\n    return later", "g()",
    "later = [i for i in range(3)]", "print(i)", "x;", "x  # note;", "%time x = y",
    "!echo $x {y}", "%%bash\necho $x", "%matplotlib inline", "from os.path import *",
    "import numpy as np", "np.zeros(x)", "if (z := x):\n    xs.extend([z])", "x: int",
    "for k in range(2):\n    xs.append(k)", "with open('f') as fh:\n    x = fh.read()",
    "try:\n    import ujson as json\nexcept ImportError:\n    import json", "class C:\n    a = x",
    "lambda: x", "match x:\n    case [a]:\n        pass", "x = (", "def (:", "", "# comment",
    "  \t", "\\", "'''", "é = 1", "x\x00y",
]
sources = st.lists(
    st.sampled_from(FRAGMENTS) | st.text(max_size=30), max_size=4
).map("\n".join)
outputs = st.lists(
    st.one_of(
        st.builds(error, st.sampled_from(["NameError", "KeyError", ""]), st.text(max_size=20),
                  st.lists(st.text(max_size=60), max_size=3)),
        st.builds(result, st.text(max_size=10), st.none() | st.integers(0, 50)),
        st.builds(stream, st.text(max_size=10)),
    ),
    max_size=2,
)
cells = st.lists(
    st.one_of(
        st.builds(
            lambda s, n, o: code(s, n, *o), sources, st.none() | st.integers(0, 10**9), outputs
        ),
        st.builds(md, st.text(max_size=20)),
    ),
    max_size=8,
)
PROPERTY = settings(
    max_examples=150, deadline=None, database=None, derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)


@PROPERTY
@given(cells)
def test_no_nb2_rule_crashes_on_arbitrary_cells(drawn: list[Cell]) -> None:
    nb = notebook(*drawn)
    for d in lint(nb, *NB2):
        assert d.code in NB2 and d.message
        if d.cell_index is None:  # only NB202's "almost nothing ran" is about the notebook
            assert d.code == "NB202" and d.message.startswith("only ")
            continue
        assert 0 <= d.cell_index < len(drawn)
        assert drawn[d.cell_index]["cell_type"] == "code"
        if d.line is not None:
            assert 1 <= d.line <= max(1, len(drawn[d.cell_index]["source"].splitlines()))


@PROPERTY
@given(st.lists(sources, min_size=1, max_size=6), st.lists(st.booleans(), max_size=6))
def test_a_notebook_run_top_to_bottom_has_no_execution_order_findings(
    bodies: list[str], markdown_after: list[bool]
) -> None:
    cells: list[Cell] = []
    for n, body in enumerate(bodies, start=1):
        cells.append(code(body, n))
        if n <= len(markdown_after) and markdown_after[n - 1]:
            cells.append(md("Notes"))
    diags = lint(notebook(*cells), "NB201", "NB202", "NB203", "NB209")
    assert diags == [], [(d.code, d.cell, d.message) for d in diags]


@PROPERTY
@given(st.lists(st.none() | st.integers(1, 40), max_size=10))
def test_nb201_flags_exactly_the_cells_that_ran_before_one_above(
    counts: list[int | None],
) -> None:
    nb = notebook(*[code(f"v{i} = {i}", c) for i, c in enumerate(counts)])
    expected = [
        i + 1
        for i, c in enumerate(counts)
        if c is not None and any(p is not None and p > c for p in counts[:i])
    ]
    assert [d.cell for d in lint(nb, "NB201")] == expected


@PROPERTY
@given(st.sets(st.integers(1, 30), max_size=8).flatmap(lambda s: st.permutations(sorted(s))))
def test_nb203_is_silent_exactly_for_counts_one_to_n(order: list[int]) -> None:
    counts = set(order)
    nb = notebook(*[code(f"v{i} = {i}", c) for i, c in enumerate(order)])
    diags = lint(nb, "NB203")
    assert (diags == []) == (sorted(counts) == list(range(1, len(counts) + 1)))
    # the runs the messages say are missing add up to the holes in 1..max
    missing = sum(int(d.message.split()[0]) if d.message[0].isdigit()
                  else int(d.message.split(": ")[1].split()[0]) for d in diags)
    assert missing == (max(counts) - len(counts) if counts else 0)


def test_nb210_leaves_the_shared_cell_tree_as_it_was() -> None:
    # the column check rewrites df["price"] to a stand-in name: on a copy, never on the tree
    # every rule shares (a synthetic node without lineno broke NB210 on the next notebook)
    import ast as _ast

    from nbops.core.snippets import notebook_from_snippet
    from nbops.lint.registry import get_rule
    from nbops.lint.rule import Context

    nb = notebook_from_snippet(
        '# %%\nimport pandas as pd\ndf = pd.DataFrame({"price": [1.0]})\n'
        '# %%\ndf["price"] = df["price"] / 1000\n'
    )
    ctx = Context(nb, {})

    def trees() -> list[str]:
        return [_ast.dump(sym.tree, include_attributes=True) for _, sym in ctx.parsed() if sym.tree]

    before = trees()
    first = list(get_rule("NB210")().check(ctx))
    assert trees() == before
    again = list(get_rule("NB210")().check(ctx))
    assert first and [f.message for f in first] == [f.message for f in again]
