"""What the notebook showed vs what the slim notebook shows: sanitizers, text with numbers,
HTML tables, PNG images by pixels, displays by count and order, and groups of cells mapped
by the slim notebook's cell metadata."""

from __future__ import annotations

import base64
import io
from typing import Any

import pytest

from nbops.modularize.displays import (
    SOURCE_CELLS_KEY,
    compare_displays,
    compare_image,
    compare_output_lists,
    compare_text,
    sanitize,
)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("<Foo object at 0x7f3a2b1c9d00>", "<Foo object at 0x7f11aa22bb80>"),
        ("<__main__.Note at 0x7f3a2b1c9d00>", "<pkg.analysis.Note at 0x7f11aa22bb80>"),
        ("<__main__.Note object at 0x7f3a2b1c9d00>", "<pkg.analysis.Note object at 0x7f11aa22bb80>"),
        ("run at 2026-12-06 19:20:33.123456", "run at 2027-01-01T00:00:01Z"),
        ("saved to /tmp/tmpab12cd/model.pkl", "saved to /tmp/tmpzz99yy/model.pkl"),
        ("training took 1.23 s", "training took 0.98 s"),
        ("took 120ms", "took 87ms"),
        ("pid 123456 started", "pid 654321 started"),
        ("<DisplayHandle display_id=d03f88ed715bb66db75dfe7be7591ede>",
         "<DisplayHandle display_id=19d6117fec99ba0943bba2c61cb19fdd>"),
        ("run 6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b", "run 0a1b2c3d-4e5f-4a6b-b7c8-d9e0f1a2b3c4"),
    ],
)
def test_volatile_text_is_sanitized(a: str, b: str) -> None:
    assert a != b and sanitize(a) == sanitize(b)
    assert compare_text(a, b) is None


def test_a_changed_number_is_a_difference_naming_the_line() -> None:
    assert compare_text("accuracy: 0.967\nn: 45", "accuracy: 0.967\nn: 45") is None
    detail = compare_text("accuracy: 0.967\nn: 45", "accuracy: 0.000\nn: 45")
    assert detail == "line 1: 'accuracy: 0.967' vs 'accuracy: 0.000'"
    # numbers within the tolerance are equal, outside it they are not
    assert compare_text("0.30000000000000004", "0.3") is None
    assert compare_text("0.3", "0.31") == "'0.3' vs '0.31'"
    # a value that is not a duration is not hidden by the duration sanitizer
    assert compare_text("score 3", "score 0") is not None


def test_text_is_compared_as_a_terminal_shows_it() -> None:
    # `!echo` in a kernel prints \r\n; a progress bar rewrites its line with \r
    assert compare_text("preparing data\r\n", "preparing data\n") is None
    assert compare_text("10%\r50%\r100%\ndone\n", "100%\ndone\n") is None
    assert compare_text("10%\r50%\r90%\ndone\n", "100%\ndone\n") == "line 1: '90%' vs '100%'"


def test_a_line_only_on_one_side_is_named() -> None:
    detail = compare_text("a\nb\n", "a\n")
    assert detail is not None and "2 vs 1 lines" in detail and "'b'" in detail


TABLE = """<div><table border="1" class="dataframe">
  <thead><tr style="text-align: right;"><th></th><th>count</th><th>mean</th></tr></thead>
  <tbody>
    <tr><th>alcohol</th><td>178.0</td><td>{mean}</td></tr>
    <tr><th>proline</th><td>178.0</td><td>746.89</td></tr>
  </tbody>
</table></div>"""


def bundle(html: str, text: str = "a frame") -> dict[str, Any]:
    return {"output_type": "execute_result", "data": {"text/html": html, "text/plain": text}}


def test_tables_compare_cell_by_cell_by_row_and_column() -> None:
    same = compare_output_lists([bundle(TABLE.format(mean="13.00"))], [bundle(TABLE.format(mean="13.00"), "other text")])
    assert same == [("display 1 (table)", "equal", "")]
    (what, status, detail), = compare_output_lists(
        [bundle(TABLE.format(mean="13.00"))], [bundle(TABLE.format(mean="0.00"))]
    )
    assert (what, status) == ("display 1 (table)", "differs")
    assert detail == "table row 'alcohol', column 'mean': '13.00' vs '0.00'"
    shorter = TABLE.format(mean="13.00").replace("<tr><th>proline</th><td>178.0</td><td>746.89</td></tr>", "")
    (_, status, detail), = compare_output_lists([bundle(TABLE.format(mean="13.00"))], [bundle(shorter)])
    assert status == "differs" and detail == "table of 3 rows vs 2 rows"


def png(color: tuple[int, int, int], size: tuple[int, int] = (40, 30), box: bool = False) -> str:
    image = pytest.importorskip("PIL.Image")
    img = image.new("RGB", size, (255, 255, 255))
    for x in range(5, 15 if box else 35):
        for y in range(5, 25):
            img.putpixel((x, y), color)
    buffer = io.BytesIO()
    img.save(buffer, format="PNG")
    return base64.b64encode(buffer.getvalue()).decode()


def test_images_compare_by_size_and_pixels_never_by_bytes() -> None:
    a = png((0, 0, 255))
    status, _ = compare_image(a, a)
    assert status == "equal"
    # one pixel in another shade: other bytes, same picture within the tolerance
    image = pytest.importorskip("PIL.Image")
    img = image.open(io.BytesIO(base64.b64decode(a))).convert("RGB")
    img.putpixel((0, 0), (250, 250, 250))
    buffer = io.BytesIO()
    img.save(buffer, format="PNG")
    nudged = base64.b64encode(buffer.getvalue()).decode()
    assert nudged != a and compare_image(a, nudged)[0] == "equal"
    # a bar cut to a third: a different picture
    status, detail = compare_image(a, png((0, 0, 255), box=True))
    assert status == "differs" and "mean pixel difference" in detail
    status, detail = compare_image(a, png((0, 0, 255), size=(50, 30)))
    assert (status, detail) == ("differs", "image size 40x30 vs 50x30")
    assert compare_image(a, "bm90IGEgcG5n")[0] == "not comparable"


def stream(text: str, name: str = "stdout") -> dict[str, Any]:
    return {"output_type": "stream", "name": name, "text": text}


def result(text: str, kind: str = "execute_result") -> dict[str, Any]:
    return {"output_type": kind, "data": {"text/plain": text}}


def test_outputs_compare_stdout_then_displays_in_order_whatever_their_output_type() -> None:
    original = [stream("accuracy: 1.000\n"), stream("a warning\n", "stderr"), result("array([[15, 0]])")]
    slim = [stream("accuracy: 1.000\n"), result("array([[15, 0]])", "display_data")]
    assert compare_output_lists(original, slim) == [
        ("stdout", "equal", ""), ("display 1 (text/plain)", "equal", ""),
    ]
    missing = compare_output_lists(original + [result("(178, 13)")], slim)
    assert missing[-1] == ("display 2", "differs", "shown by the notebook only: '(178, 13)'")
    extra = compare_output_lists([], [result("0.5")])
    assert extra == [("display 1", "differs", "shown by the slim notebook only: '0.5'")]


def widget(model_id: str, text: str) -> dict[str, Any]:
    view = {"model_id": model_id, "version_major": 2, "version_minor": 0}
    return {"output_type": "display_data",
            "data": {"application/vnd.jupyter.widget-view+json": view, "text/plain": text}}


def test_a_widget_is_compared_by_its_text_never_by_its_model_id() -> None:
    shown = "IntSlider(value=7, description='Test:')"
    assert compare_output_lists([widget("a1", shown)], [widget("b2", shown)]) == [
        ("display 1 (text/plain)", "equal", ""),
    ]
    changed = compare_output_lists([widget("a1", shown)], [widget("a1", shown.replace("7", "0"))])
    assert changed[0][1] == "differs"


def code(outputs: list[dict[str, Any]], metadata: dict[str, Any], count: int | None = 1) -> dict[str, Any]:
    return {"cell_type": "code", "metadata": metadata, "outputs": outputs, "execution_count": count, "source": ""}


KEY = "nbops_index"
STEPS = [{"name": "load", "cells": [2, 3]}, {"name": "score", "cells": [5]}]


def original_notebook(score: str = "0.5") -> dict[str, Any]:
    return {"cells": [
        code([], {KEY: 0}),
        code([result("(4, 2)")], {KEY: 1}),
        code([result("frame")], {KEY: 2}),
        code([], {"tags": ["nbops-capture"], KEY: None}),
        {"cell_type": "markdown", "metadata": {KEY: 3}, "source": "## Score"},
        code([stream("rows: 3\n"), result(score)], {KEY: 4}),
    ]}


def test_cells_are_compared_where_the_slim_notebook_says_they_correspond() -> None:
    slim = {"cells": [
        code([], {}),  # the imports
        code([result("(4, 2)"), result("frame")], {SOURCE_CELLS_KEY: [2, 3]}),
        code([stream("rows: 3\n"), result("0.0")], {SOURCE_CELLS_KEY: [5]}),
    ]}
    checks = compare_displays(original_notebook(), slim, STEPS, KEY)
    rows = [(c.step, c.cells, c.what, c.status, c.detail) for c in checks]
    assert rows == [
        ("load", "cells 2-3", "display 1 (text/plain)", "equal", ""),
        ("load", "cells 2-3", "display 2 (text/plain)", "equal", ""),
        ("score", "cell 5", "stdout", "equal", ""),
        ("score", "cell 5", "display 1 (text/plain)", "differs", "'0.5' vs '0.0'"),
    ]


def test_a_slim_notebook_that_stops_is_a_difference_and_later_cells_did_not_run() -> None:
    error = {"output_type": "error", "ename": "ImportError", "evalue": "cannot import name 'load'"}
    slim = {"cells": [
        code([error], {}),
        code([], {SOURCE_CELLS_KEY: [2, 3]}, count=None),
        code([], {SOURCE_CELLS_KEY: [5]}, count=None),
    ]}
    checks = compare_displays(original_notebook(), slim, STEPS, KEY)
    assert (checks[0].cells, checks[0].status) == ("slim cell 1", "differs")
    assert "the slim notebook stops here: ImportError: cannot import name 'load'" in checks[0].detail
    assert [c.status for c in checks[1:]] == ["not run", "not run"]


def test_figures_are_compared_apart_from_other_displays_none_and_timings_left_out() -> None:
    # the notebook showed each figure when its cell ended; the slim notebook, one cell for
    # the step, shows both at its end: images pair with images, text with text
    red, blue = png((255, 0, 0)), png((0, 0, 255))
    image = {"output_type": "display_data", "data": {"image/png": red, "text/plain": "<Figure>"}}
    other = {"output_type": "display_data", "data": {"image/png": blue, "text/plain": "<Figure>"}}
    original = [stream("CPU times: user 1.2 s, sys: 3 ms, total: 1.2 s\nWall time: 1.3 s\n"),
                result("(10, 2)"), image, result("0.5"), other]
    slim = [result("(10, 2)"), result("None", "display_data"), result("0.5"), image, other]
    assert compare_output_lists(original, slim) == [
        ("image 1", "equal", "mean pixel difference 0.0000"),
        ("image 2", "equal", "mean pixel difference 0.0000"),
        ("display 1 (text/plain)", "equal", ""),
        ("display 2 (text/plain)", "equal", ""),
    ]
    swapped = compare_output_lists(original, [result("(10, 2)"), result("0.5"), other, image])
    assert [status for _, status, _ in swapped] == ["differs", "differs", "equal", "equal"]


def test_both_stopping_with_the_same_error_compare_what_came_before() -> None:
    error = {"output_type": "error", "ename": "ValueError", "evalue": "Input X contains NaN"}
    original = original_notebook()
    original["cells"][-1]["outputs"] = [stream("rows: 3\n"), error]
    slim = {"cells": [
        code([result("(4, 2)"), result("frame")], {SOURCE_CELLS_KEY: [2, 3]}),
        code([stream("rows: 4\n"), error], {SOURCE_CELLS_KEY: [5]}),
    ]}
    checks = compare_displays(original, slim, STEPS, KEY)
    assert [(c.what, c.status, c.detail) for c in checks if c.step == "score"] == [
        ("stdout", "differs", "'rows: 3' vs 'rows: 4'"),
    ]
    slim["cells"][1]["outputs"] = [stream("rows: 3\n"), {**error, "ename": "KeyError"}]
    (check,) = [c for c in compare_displays(original, slim, STEPS, KEY) if c.step == "score"]
    assert (check.status, check.detail) == ("differs", "the notebook stops with ValueError, the slim notebook with KeyError")
