"""Tests for nbops.core.dataflow: providers, unresolved reads and orders across cells."""

from __future__ import annotations

from nbops.core.dataflow import (
    CodeCellInput,
    DataFlow,
    Edge,
    OrderFlow,
    Unresolved,
    analyze_notebook,
)


def notebook(*cells: str | tuple[str, int | None]) -> DataFlow:
    """Cells in document order; a tuple gives the execution count (default: not executed)."""
    inputs = []
    for index, cell in enumerate(cells):
        source, count = (cell, None) if isinstance(cell, str) else cell
        inputs.append(CodeCellInput(index=index, source=source, execution_count=count))
    return analyze_notebook(inputs)


def edges(flow: OrderFlow) -> set[tuple[str, int, int, str]]:
    """(name, consumer, provider, kind) of every edge."""
    return {(e.name, e.consumer, e.provider, e.kind) for e in flow.edges}


def unresolved(flow: OrderFlow) -> set[tuple[str, int, int | None]]:
    """(name, cell, later_provider) of every unresolved read."""
    return {(u.name, u.cell, u.later_provider) for u in flow.unresolved}


# ---- document order vs execution order ----


def test_linear_notebook() -> None:
    flow = notebook("import pandas as pd", "df = pd.read_csv(path)", "path = 'a.csv'", "df.head()")
    assert edges(flow.document) == {("pd", 1, 0, "write"), ("df", 3, 1, "write")}
    assert flow.document.unresolved == [Unresolved("path", 1, 1, 18, 2)]
    assert flow.document.order == [0, 1, 2, 3]
    assert flow.execution is None


def test_out_of_order_execution_changes_the_provider() -> None:
    flow = notebook(("x = 1", 1), ("y = x * 2", 3), ("x = 10", 2))
    assert flow.document.provider(1, "x") == 0
    assert flow.execution is not None
    assert flow.execution.order == [0, 2, 1]
    assert flow.execution.provider(1, "x") == 2
    assert flow.execution.edges == [Edge("x", 1, 2, "write", 1, 5)]


def test_execution_order_skips_unexecuted_cells_and_keeps_ties_in_document_order() -> None:
    flow = notebook(("a = 1", 2), "b = 2", ("c = a", 1), ("d = c", 1))
    assert flow.execution is not None
    assert flow.execution.order == [2, 3, 0]
    assert unresolved(flow.execution) == {("a", 2, 0)}
    assert edges(flow.execution) == {("c", 3, 2, "write")}


def test_markdown_cells_keep_their_indexes() -> None:
    cells = [
        CodeCellInput(index=1, source="x = 1", execution_count=None),
        CodeCellInput(index=4, source="print(x)", execution_count=None),
    ]
    flow = analyze_notebook(cells)
    assert flow.document.order == [1, 4]
    assert flow.document.inputs(4) == {"x": 1}
    assert set(flow.symbols) == {1, 4}


# ---- use before definition, deletes ----


def test_use_before_definition_reports_the_later_provider() -> None:
    flow = notebook("print(a, b)", "a = 1", "a = 2")
    assert unresolved(flow.document) == {("a", 0, 1), ("b", 0, None)}


def test_later_provider_is_strictly_after_the_reading_cell() -> None:
    flow = notebook("print(x)\nx = 1", "x = 2")
    assert unresolved(flow.document) == {("x", 0, 1)}


def test_later_provider_skips_cells_that_delete_what_they_bind() -> None:
    flow = notebook("print(t)", "t = 1\ndel t", "t = 2")
    assert unresolved(flow.document) == {("t", 0, 2)}


def test_deleted_name_is_unavailable_until_rebound() -> None:
    flow = notebook("x = 1", "del x", "print(x)", "x = 5", "print(x)")
    assert edges(flow.document) == {("x", 1, 0, "write"), ("x", 4, 3, "write")}
    assert unresolved(flow.document) == {("x", 2, 3)}


def test_temporary_name_deleted_in_its_cell_is_not_provided() -> None:
    flow = notebook("tmp = load()\ndel tmp", "print(tmp)")
    assert unresolved(flow.document) == {("load", 0, None), ("tmp", 1, None)}
    assert "tmp" not in flow.definers


def test_except_name_is_not_provided() -> None:
    flow = notebook("try:\n    go()\nexcept Exception as err:\n    pass", "print(err)")
    assert unresolved(flow.document) == {("go", 0, None), ("err", 1, None)}


# ---- mutations ----


def test_a_mutating_cell_becomes_the_provider() -> None:
    flow = notebook("items = []", "items.append(1)", "print(items)")
    assert edges(flow.document) == {("items", 1, 0, "write"), ("items", 2, 1, "mutate")}
    assert flow.document.consumers(0) == {"items": [1]}
    assert flow.document.consumers(1) == {"items": [2]}


def test_pandas_inplace_and_column_assignment_chain() -> None:
    flow = notebook(
        "df = pd.read_csv('a.csv')",
        "df['r'] = df.a / df.b",
        "df.dropna(inplace=True)",
        "model.fit(df, y)",
        "pred = model.predict(df)",
    )
    assert flow.document.provider(2, "df") == 1
    assert flow.document.provider(3, "df") == 2
    assert flow.document.provider(4, "df") == 2
    assert flow.document.provider(4, "model") == 3
    assert [e.kind for e in flow.document.edges if e.consumer == 4] == ["mutate", "mutate"]


def test_writing_and_mutating_in_one_cell_is_a_write() -> None:
    flow = notebook("rows = []\nrows.append(1)", "print(rows)")
    assert edges(flow.document) == {("rows", 1, 0, "write")}


def test_mutation_without_provider_still_provides_later() -> None:
    flow = notebook("cache['k'] = 1", "print(cache)")
    assert unresolved(flow.document) == {("cache", 0, None)}
    assert edges(flow.document) == {("cache", 1, 0, "mutate")}


# ---- functions across cells ----


def test_function_globals_are_read_by_the_calling_cell() -> None:
    flow = notebook("def score():\n    return rate * 2", "rate = 0.1", "y = score()")
    doc = flow.document
    assert doc.inputs(0) == {}
    assert doc.inputs(2) == {"score": 0, "rate": 1}
    # the read of rate happens at the call: cell 2, line 1, column of ``score``
    assert Edge("rate", 2, 1, "write", 1, 5) in doc.edges
    assert doc.consumers(1) == {"rate": [2]}


def test_calling_cell_that_binds_the_global_first_provides_it_itself() -> None:
    flow = notebook("def score():\n    return rate", "rate = 0.1", "rate = 5\ny = score()")
    assert flow.document.inputs(2) == {"score": 0}


def test_global_bound_after_the_call_still_comes_from_earlier() -> None:
    flow = notebook("def score():\n    return rate", "rate = 0.1", "y = score()\nrate = 5")
    assert flow.document.inputs(2) == {"score": 0, "rate": 1}


def test_assignment_target_is_bound_after_the_call() -> None:
    # ``df = load()`` runs load() (which reads the old df) before binding df
    flow = notebook("df = 1", "def load():\n    return df", "df = load()")
    assert flow.document.inputs(2) == {"load": 1, "df": 0}


def test_function_global_unresolved_at_call_time() -> None:
    flow = notebook("def f():\n    return missing", "f()", "missing = 1")
    assert unresolved(flow.document) == {("missing", 1, 2)}


def test_transitive_calls_across_cells() -> None:
    flow = notebook("def g():\n    return k", "def f():\n    return g()", "k = 1", "f()")
    assert flow.document.inputs(3) == {"f": 1, "g": 0, "k": 2}


def test_transitive_reads_use_the_call_position() -> None:
    # k is bound by cell 3 only after f() ran, so f -> g -> k comes from cell 2
    flow = notebook("def g():\n    return k", "def f():\n    return g()", "k = 1", "f()\nk = 2")
    assert flow.document.inputs(3) == {"f": 1, "g": 0, "k": 2}
    # bound before the call: the caller's own k
    flow = notebook("def g():\n    return k", "def f():\n    return g()", "k = 1", "k = 2\nf()")
    assert flow.document.inputs(3) == {"f": 1, "g": 0}


def test_a_name_read_directly_and_through_a_function_gives_one_edge() -> None:
    flow = notebook("def f():\n    return k", "k = 1", "print(k)\nf()")
    assert [(e.name, e.line) for e in flow.document.edges if e.consumer == 2] == [
        ("k", 1),
        ("f", 2),
    ]


def test_mutated_function_keeps_its_definition() -> None:
    flow = notebook("def f():\n    return k", "f.cache = {}", "k = 1", "f()")
    assert flow.document.inputs(3) == {"f": 1, "k": 2}
    assert flow.document.edges[-2:] == [
        Edge("f", 3, 1, "mutate", 1, 1),
        Edge("k", 3, 2, "write", 1, 1),
    ]


def test_local_function_calling_another_cells_function() -> None:
    flow = notebook(
        "def helper():\n    return k", "k = 1", "def main():\n    return helper()\nmain()"
    )
    assert flow.document.inputs(2) == {"helper": 0, "k": 1}
    assert flow.document.inputs(0) == {}


def test_the_function_bound_at_call_time_is_used() -> None:
    flow = notebook("def f():\n    return a", "def f():\n    return b", "a = b = 1", "f()")
    assert flow.document.inputs(3) == {"f": 1, "b": 2}


def test_callback_from_another_cell() -> None:
    flow = notebook("def clean(r):\n    return r * scale", "scale = 2", "out = df.apply(clean)")
    assert flow.document.inputs(2) == {"clean": 0, "scale": 1}
    assert unresolved(flow.document) == {("df", 2, None)}


def test_global_written_by_a_function_is_written_by_the_caller() -> None:
    flow = notebook("def setup():\n    global cfg\n    cfg = {}", "setup()", "print(cfg)")
    assert flow.document.provider(2, "cfg") == 1
    assert flow.document.consumers(1) == {"cfg": [2]}
    assert flow.definers == {"setup": [0], "cfg": [1]}


def test_global_mutated_by_a_function_is_mutated_by_the_caller() -> None:
    flow = notebook(
        "def log(v):\n    history.append(v)", "history = []", "log(1)", "print(history)"
    )
    assert edges(flow.document) == {
        ("log", 2, 0, "write"),
        ("history", 2, 1, "write"),
        ("history", 3, 2, "mutate"),
    }


def test_class_from_another_cell_reads_method_globals() -> None:
    flow = notebook(
        "class M:\n    def __init__(self):\n        self.lr = LR", "LR = 0.1", "m = M()"
    )
    assert flow.document.inputs(2) == {"M": 0, "LR": 1}


def test_same_cell_function_reads_are_resolved_in_symbols() -> None:
    flow = notebook("k = 1", "def f():\n    return k\nf()")
    assert flow.document.inputs(1) == {"k": 0}
    assert flow.document.inputs(0) == {}


# ---- star imports, syntax errors ----


def test_star_import_suppresses_later_unresolved_reads() -> None:
    flow = notebook("print(a)", "from pylab import *", "plot(x)", "y = 1")
    assert flow.document.star_import_seen is True
    assert unresolved(flow.document) == {("a", 0, None)}


def test_star_import_suppression_starts_at_its_line() -> None:
    flow = notebook("print(a)\nfrom m import *\nprint(b)")
    assert unresolved(flow.document) == {("a", 0, None)}


def test_no_star_import() -> None:
    flow = notebook("print(a)")
    assert flow.document.star_import_seen is False


def test_run_magic_counts_as_unknown_names() -> None:
    flow = notebook("%run setup.py", "print(config)")
    assert flow.document.star_import_seen is True
    assert flow.document.unresolved == []


def test_syntax_error_cell_is_skipped() -> None:
    flow = notebook("x = 1", "x = 2\ny = (", "print(x, y)")
    assert flow.symbols[1].syntax_error is not None
    assert flow.document.order == [0, 1, 2]
    assert edges(flow.document) == {("x", 2, 0, "write")}
    assert unresolved(flow.document) == {("y", 2, None)}
    assert flow.definers == {"x": [0]}


# ---- queries and definers ----


def test_queries_on_cells_without_edges() -> None:
    flow = notebook("a = 1", "b = 2")
    assert flow.document.provider(1, "a") is None
    assert flow.document.inputs(1) == {}
    assert flow.document.consumers(0) == {}


def test_consumers_lists_every_reader_once() -> None:
    flow = notebook("x = 1", "print(x)\nprint(x)", "y = x", "x = 2", "z = x")
    assert flow.document.consumers(0) == {"x": [1, 2]}
    assert flow.document.consumers(3) == {"x": [4]}


def test_inputs_returns_a_copy() -> None:
    flow = notebook("x = 1", "print(x)")
    flow.document.inputs(1)["x"] = 99
    assert flow.document.inputs(1) == {"x": 0}


def test_definers_in_document_order() -> None:
    flow = notebook("x = 1", "y = x", "x = 3\nfor i in r:\n    pass")
    assert flow.definers == {"x": [0, 2], "y": [1], "i": [2]}


def test_magic_cells_take_part() -> None:
    flow = notebook("folder = 'data'", "files = !ls {folder}", "%time n = len(files)", "print(n)")
    assert edges(flow.document) == {
        ("folder", 1, 0, "write"),
        ("files", 2, 1, "write"),
        ("n", 3, 2, "write"),
    }


def test_many_cells_are_fast() -> None:
    import time

    cells = [f"v{i} = f(v{i - 1})\ndef f{i}(a):\n    return a + v{i}" for i in range(1, 400)]
    start = time.perf_counter()
    flow = notebook("def f(x):\n    return x\nv0 = 0", *cells)
    assert time.perf_counter() - start < 2.0
    assert flow.document.provider(399, "v398") == 398
    assert flow.document.unresolved == []
