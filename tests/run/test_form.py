"""``nbops.run.form``: the Run tab's form checked as ``nbops run -p`` / ``--grid`` check it."""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nbops.config import RunConfig
from nbops.core.snippets import notebook_from_snippet
from nbops.errors import NotFoundError, UsageError
from nbops.run.executors.dask import check_scheduler_store
from nbops.run.form import FORM, MAX_PARALLEL, check_form, default_text, split_values
from nbops.run.params import NotebookParameters, check_run_request, read_parameters
from nbops.run.runner import RunSettings

CELL = """\
n = 3  # an int
alpha = 0.5
flag = True
name = "a,b"
cols = ["a", "b"]
opts = {"k": 1}
shape = (1, 2)
seed = None
when = make_date()  # computed: an expression
ratio: float = 1
"""


def params_of(cell: str) -> NotebookParameters:
    return read_parameters(
        notebook_from_snippet(f"# %%\nimport os\n# %% tags=parameters\n{cell}\n# %%\nprint(1)\n")
    )


@pytest.fixture(scope="module")
def params() -> NotebookParameters:
    return params_of(CELL)


def check(params: NotebookParameters, mode: str = "run", **fields: str) -> Any:
    return check_form(params, mode, fields, path="sub/nb.ipynb")  # type: ignore[arg-type]


def defaults(params: NotebookParameters) -> dict[str, str]:
    return {s.name: default_text(s) for s in params.specs}


# --------------------------------------------------------------------------- defaults


def test_the_default_texts_are_not_sent(params: NotebookParameters) -> None:
    for mode in ("run", "sweep"):
        answer = check_form(params, mode, defaults(params), "2", path="sub/nb.ipynb")  # type: ignore[arg-type]
        readings = answer["fields"]
        assert not any(r["changed"] for r in readings.values())
        assert readings["alpha"]["value"] == 0.5
        assert readings["when"]["value"] == "make_date()"  # computed: its source
        if mode == "run":
            assert answer == {
                "ok": True, "errors": {}, "request": {"path": "sub/nb.ipynb"}, "runs": 1,
                "fields": readings,
            }  # fmt: skip
        else:  # nothing varies: not a sweep
            assert answer["errors"] == {
                "": "a sweep needs at least one field with two or more values (separated by commas)"
            }
            assert (answer["ok"], answer["request"], answer["runs"]) == (False, None, 0)


@pytest.mark.parametrize(
    ("name", "text"),
    [("ratio", "1"), ("ratio", "1.0"), ("alpha", " 0.50 "), ("flag", "yes"), ("n", "+3"),
     ("cols", '["a","b"]'), ("shape", "[1, 2]"), ("opts", "{'k': 1}"), ("when", " make_date() ")],
)  # fmt: skip
def test_a_text_equal_to_the_default_is_not_sent(
    params: NotebookParameters, name: str, text: str
) -> None:
    answer = check(params, **{name: text})
    assert answer["ok"] and answer["request"] == {"path": "sub/nb.ipynb"}
    assert answer["fields"][name]["changed"] is False


def test_a_str_field_is_compared_exactly(params: NotebookParameters) -> None:
    answer = check(params, name=" a,b")
    assert answer["request"] == {"path": "sub/nb.ipynb", "parameters": {"name": " a,b"}}
    assert answer["fields"]["name"] == {"value": " a,b", "values": None, "changed": True}


# --------------------------------------------------------------------------- errors per field


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("n", "x", "parameter 'n' expects an integer (int), not 'x' (for example: -p n 3)"),
        ("n", "1.5", "parameter 'n' expects an integer (int), not '1.5' (for example: -p n 3)"),
        ("alpha", "abc",
         "parameter 'alpha' expects a number (float), not 'abc' (for example: -p alpha 0.5)"),
        ("flag", "maybe", ("parameter 'flag' expects a boolean (bool: true/false, yes/no, 1/0), "
                           "not 'maybe' (for example: -p flag true)")),
        ("cols", "[1,", ("parameter 'cols' expects a list (list: JSON or a Python literal), "
                         "not '[1,' (for example: -p cols '[\"a\", \"b\"]')")),
        ("opts", "[1]", ("parameter 'opts' expects a mapping (dict: JSON or a Python literal), "
                         "not '[1]' (for example: -p opts '{\"k\": 1}')")),
        ("shape", "3", ("parameter 'shape' expects a tuple (tuple: a JSON list or a Python "
                        "literal), not '3' (for example: -p shape '[1, 2]')")),
        ("when", "{1, 2}", ("a parameter value cannot be handed to a run: not expressible as "
                            "JSON (give it as a list, dict, number, boolean or text)")),
        ("aplha", "1", ("unknown parameter 'aplha' (did you mean 'alpha'?); the notebook's "
                        "parameters: n, alpha, flag, name, cols, opts, shape, seed, when, ratio")),
    ],
)  # fmt: skip
def test_errors_per_field_are_the_clis(
    params: NotebookParameters, name: str, text: str, message: str
) -> None:
    answer = check(params, **{"alpha": "0.25", name: text})
    assert answer["errors"] == {name: message}
    assert (answer["ok"], answer["request"], answer["runs"]) == (False, None, 0)
    assert answer["fields"][name]["value"] is None
    if name != "alpha":
        assert answer["fields"]["alpha"]["value"] == 0.25  # the others are still read


def test_every_field_gets_its_own_error(params: NotebookParameters) -> None:
    answer = check(params, n="x", alpha="y", flag="z")
    assert sorted(answer["errors"]) == ["alpha", "flag", "n"]


def test_a_run_sends_texts_that_read_back_to_the_values(params: NotebookParameters) -> None:
    answer = check(params, n="7", alpha="1e-3", flag="no", cols="[1, [2]]", opts='{"a": null}',
                   shape="(3,)", seed="'x'", when="[1, 2]")  # fmt: skip
    assert answer["ok"], answer["errors"]
    request = answer["request"]
    assert all(isinstance(v, str) for v in request["parameters"].values())
    base, items, runs = check_run_request(params, request["parameters"], {})
    assert base == {"n": 7, "alpha": 0.001, "flag": False, "cols": [1, [2]], "opts": {"a": None},
                    "shape": (3,), "seed": "x", "when": [1, 2]}  # fmt: skip
    assert (items, runs, answer["runs"]) == ([], 1, 1)
    shown = {k: v["value"] for k, v in answer["fields"].items() if v["changed"]}
    assert shown == {**base, "shape": [3]}  # as JSON


def test_a_notebook_without_parameters_cell(params: NotebookParameters) -> None:
    bare = read_parameters(notebook_from_snippet("# %%\nx = 1\n"))
    assert check(bare)["ok"]
    answer = check(bare, x="2")
    assert answer["errors"] == {
        "x": "unknown parameter 'x': analysis.ipynb has no parameters cell (tag the cell that sets "
        "the run's values 'parameters' (lint rule NB303; `nbops params analysis.ipynb` explains))"
    }


# --------------------------------------------------------------------------- sweeps


@pytest.mark.parametrize(
    ("name", "text", "values"),
    [
        ("alpha", "0.1, 0.2, 0.3", ["0.1", "0.2", "0.3"]),
        ("alpha", "[0.1, 1]", ["0.1", "1"]),
        ("n", "1,2", ["1", "2"]),
        ("flag", "true,false", ["true", "false"]),
        ("name", "x,y", ["x", "y"]),
        ("name", '["a,b", "c"]', ["a,b", "c"]),
        ("name", "['a,b', ' c']", ["a,b", " c"]),  # a Python literal list too, as --grid
        ("cols", "[[1,2], [3,4]]", ["[1, 2]", "[3, 4]"]),
        ("shape", "[(1, 2), [3]]", ["[1, 2]", "[3]"]),
        ("opts", '[{"a": 1}, {"a": 2}]', ['{"a": 1}', '{"a": 2}']),
        ("seed", "1, 2", ["1", "2"]),
        ("seed", "[1], [2]", ["[1], [2]"]),  # structure: one value
        ("seed", '"a,b"', ['"a,b"']),
        ("when", "a,b", ["a", "b"]),
        ("cols", "[1, 2]", ["[1, 2]"]),  # a list of numbers: one list
        ("cols", "1, 2", ["1, 2"]),
        ("opts", '{"a": 1, "b": 2}', ['{"a": 1, "b": 2}']),
        ("alpha", "[Infinity, 1]", ["Infinity", "1"]),
    ],
)
def test_sweep_splitting(params: NotebookParameters, name: str, text: str, values: list[str]) -> None:
    spec = params.get(name)
    assert spec is not None
    assert split_values(spec, text) == values
    answer = check(params, "sweep", **{name: text, "n": "1,2,3" if name != "n" else text})
    assert answer["ok"], answer["errors"]
    request = answer["request"]
    if len(values) > 1:
        assert request["grid"][name] == values
        assert answer["runs"] == len(values) * (3 if name != "n" else 1)
    else:
        assert request["parameters"] == {name: values[0]}
    # what POST /nbops/runs makes of it: the values the form shows
    base, items, runs = check_run_request(
        params, request.get("parameters") or {}, request.get("grid") or {}
    )
    assert runs == answer["runs"]
    grid = {k: json.loads(v) for k, _, v in (item.partition("=") for item in items)}
    checked = grid[name] if len(values) > 1 else [base[name]]
    shown = answer["fields"][name]["values"]
    assert json.dumps(shown) == json.dumps(checked).replace("Infinity", '"inf"')


def test_sweep_request_shape(params: NotebookParameters) -> None:
    answer = check_form(
        params, "sweep", {"alpha": "0.1,0.2", "flag": "true,false", "n": "5"}, "3", " py3 ", "60",
        path="sub/nb.ipynb",
    )  # fmt: skip
    assert answer["request"] == {
        "path": "sub/nb.ipynb",
        "parameters": {"n": "5"},
        "grid": {"alpha": ["0.1", "0.2"], "flag": ["true", "false"]},
        "parallel": 3,
        "kernel": "py3",
        "timeout": 60.0,
    }
    assert answer["runs"] == 4
    assert answer["fields"]["alpha"]["values"] == [0.1, 0.2]
    assert answer["fields"]["n"] == {"value": 5, "values": [5], "changed": True}


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("n", "1,,2", ("empty value in the grid values of 'n': '1,,2' "
                       "(give an empty text as a JSON list: --grid n='[\"\", \"x\"]')")),
        ("n", "[1,", ("grid values of 'n' start with '[' but are not a JSON list: '[1,' "
                      "(--grid n=[v1,v2] (one JSON list of the values) or --grid n=v1,v2)")),
        ("n", "1, x", "parameter 'n' expects an integer (int), not 'x' (for example: -p n 3)"),
        ("n", '["1", 2]', ("parameter 'n' expects an integer (int), not str '1' "
                           "(for example: -p n 3)")),
        ("n", "1, 1", "the grid gives 'n' the same value twice: 1"),
        ("flag", "true, yes", "the grid gives 'flag' the same value twice: True"),
        ("n", " ", "no values for 'n' in the grid (for example: --grid n=V1,V2)"),
        ("name", "", "no values for 'name' in the grid (for example: --grid name=V1,V2)"),
        ("alpha", "[]", "no values for 'alpha' in the grid (for example: --grid alpha=V1,V2)"),
    ],
)  # fmt: skip
def test_sweep_errors_are_the_clis(
    params: NotebookParameters, name: str, text: str, message: str
) -> None:
    answer = check(params, "sweep", **{name: text, "seed": "1,2"})
    assert answer["errors"] == {name: message}
    assert answer["request"] is None and answer["runs"] == 0


def test_a_sweep_needs_a_field_of_two_values(params: NotebookParameters) -> None:
    answer = check(params, "sweep", n="4", alpha="0.1")
    assert answer["errors"] == {
        "": "a sweep needs at least one field with two or more values (separated by commas)"
    }
    assert answer["fields"]["n"]["values"] == [4]


# --------------------------------------------------------------------------- parallel, timeout, kernel


@pytest.mark.parametrize("text", ["0", "65", "x", "1.5", "-1", "9" * 50, "２"])
def test_parallel_out_of_bounds(params: NotebookParameters, text: str) -> None:
    answer = check_form(params, "sweep", {"n": "1,2"}, text, path="nb.ipynb")
    assert list(answer["errors"]) == ["parallel"]
    assert f"a whole number from 1 to {MAX_PARALLEL}" in answer["errors"]["parallel"]
    # a single run has no parallel runs: not checked
    assert check_form(params, "run", {"n": "1"}, text, path="nb.ipynb")["ok"]


@pytest.mark.parametrize(("text", "parallel"), [("1", 1), (" 64 ", 64), ("", 1), (None, 1)])
def test_parallel_in_bounds(params: NotebookParameters, text: str | None, parallel: int) -> None:
    answer = check_form(params, "sweep", {"n": "1,2"}, text, path="nb.ipynb")
    assert answer["request"] is not None and answer["request"]["parallel"] == parallel


@pytest.mark.parametrize("text", ["0", "-1", "abc", "inf", "nan", "1e8", "10000001", "1" * 400])
def test_timeout_out_of_bounds(params: NotebookParameters, text: str) -> None:
    answer = check_form(params, "run", {}, None, None, text, path="nb.ipynb")
    assert list(answer["errors"]) == ["timeout"]
    assert "a number of seconds above 0 and at most 10,000,000" in answer["errors"]["timeout"]


@pytest.mark.parametrize(("text", "seconds"), [("2.5", 2.5), ("10000000", 1e7), (" 1 ", 1.0)])
def test_timeout_in_bounds(params: NotebookParameters, text: str, seconds: float) -> None:
    answer = check_form(params, "run", {}, None, None, text, path="nb.ipynb")
    assert answer["request"] == {"path": "nb.ipynb", "timeout": seconds}
    assert "timeout" not in check_form(params, "run", {}, None, None, " ", path="nb.ipynb")[
        "request"
    ]  # type: ignore[operator]


def test_kernel(params: NotebookParameters) -> None:
    asked: list[str | None] = []

    def installed(name: str | None) -> str:
        asked.append(name)
        if name not in (None, "python3"):
            raise UsageError(f"no Jupyter kernel named {name!r} (--kernel)", hint="installed: python3")
        return name or "python3"

    def form(kernel: str | None) -> Any:
        return check_form(params, "run", {}, None, kernel, None, path="nb.ipynb",
                          check_kernel=installed)  # fmt: skip

    assert form(" python3 ")["request"] == {"path": "nb.ipynb", "kernel": "python3"}
    assert form("  ")["request"] == {"path": "nb.ipynb"}
    assert form("nope")["errors"] == {
        "kernel": "no Jupyter kernel named 'nope' (--kernel) (installed: python3)"
    }
    assert asked == ["python3", None, "nope"]
    assert form("a\0b")["errors"] == {
        "kernel": "the kernel must be a kernel name (for example: python3)"
    }


# --------------------------------------------------------------------------- any text at all

texts = st.one_of(
    st.text(max_size=30),
    st.sampled_from(["", " ", ",", "[", "]", "[]", "[[1]]", "1,2", "true,false", "None",
                     "[1, 2], [3]", '"a"', "{1}", "1e999", "nan", "-inf", "Infinity",
                     "[Infinity]", "9" * 30, "(1,)", "{'a': (1,)}", "[" * 3000]),
    st.lists(st.sampled_from(["1", "2", "x", "true", "0.5", "[1]", " ", '"q"']), min_size=1,
             max_size=4).map(",".join),
)  # fmt: skip
NAMES = ["n", "alpha", "flag", "name", "cols", "opts", "shape", "seed", "when", "ratio", "nope"]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    mode=st.sampled_from(["run", "sweep"]),
    fields=st.dictionaries(st.sampled_from(NAMES), texts, max_size=4),
    parallel=st.none() | st.sampled_from(["", "2", "0", "x"]),
    timeout=st.none() | st.sampled_from(["", "1.5", "0", "inf"]),
)
def test_any_form_is_answered_and_an_ok_request_is_accepted(
    mode: str, fields: dict[str, str], parallel: str | None, timeout: str | None
) -> None:
    params = PARAMS
    answer = check_form(params, mode, fields, parallel, None, timeout, path="nb.ipynb")  # type: ignore[arg-type]
    json.dumps(answer, allow_nan=False)  # a browser parses it
    assert answer["ok"] == (not answer["errors"])
    assert set(answer["errors"]) <= {*NAMES, "parallel", "timeout", ""}
    assert all(isinstance(m, str) and m for m in answer["errors"].values())
    if not answer["ok"]:
        assert answer["request"] is None and answer["runs"] == 0
        return
    # the request goes over JSON, then through POST /nbops/runs's check
    request = json.loads(json.dumps(answer["request"], allow_nan=False))
    grid = request.get("grid") or {}
    base, _, runs = check_run_request(params, request.get("parameters") or {}, grid)
    assert runs == answer["runs"] == math.prod(len(v) for v in grid.values())
    assert all(len(v) >= 2 for v in grid.values())
    assert set(base) | set(grid) == {k for k, r in answer["fields"].items() if r["changed"]}
    if mode == "sweep":
        assert grid and request["parallel"] in (1, 2)


PARAMS = params_of(CELL)


# --------------------------------------------------------------------------- executor


def store_check(tmp_path: Path) -> Any:
    """``check_scheduler_store`` for a project in ``tmp_path`` with its own SQLite store."""
    settings = RunSettings(project_root=tmp_path, runs_dir=tmp_path / "nbops-runs",
                           experiment="nb", tracking_uri=f"sqlite:///{tmp_path}/.nbops/mlflow.db")
    return lambda address: check_scheduler_store(settings, address)


def test_the_executor_and_scheduler_go_in_the_request(params: NotebookParameters) -> None:
    answer = check_form(params, "run", {}, executor="dask", scheduler=" tcp://127.0.0.1:8786 ",
                        path="sub/nb.ipynb")
    assert answer["errors"] == {}
    assert answer["request"] == {"path": "sub/nb.ipynb", "executor": "dask",
                                 "scheduler": "tcp://127.0.0.1:8786"}
    answer = check_form(params, "run", {}, executor=" local ", scheduler="", path="sub/nb.ipynb")
    assert answer["request"] == {"path": "sub/nb.ipynb", "executor": "local"}


def test_an_unknown_executor_names_the_choices(params: NotebookParameters) -> None:
    answer = check_form(params, "run", {}, executor="ray", path="sub/nb.ipynb")
    assert answer["errors"] == {"executor": "no executor named 'ray' (choose one of: dask, local)"}
    assert (answer["ok"], answer["request"]) == (False, None)


def test_a_scheduler_with_local_is_the_clis_error(params: NotebookParameters) -> None:
    answer = check_form(params, "run", {}, executor="local", scheduler="tcp://h:8786",
                        path="sub/nb.ipynb")
    assert answer["errors"] == {"scheduler": "--scheduler is for the dask executor, not 'local' "
                                "(add --executor dask (or leave out --scheduler))"}


def test_the_projects_executor_is_the_default(params: NotebookParameters, tmp_path: Path) -> None:
    configured = RunConfig(executor="dask", scheduler="tcp://10.0.0.5:8786")
    answer = check_form(params, "run", {}, path="sub/nb.ipynb", run_config=configured,
                        check_store=store_check(tmp_path))
    # the configured scheduler is on another machine: the project's SQLite store is refused
    message = answer["errors"]["scheduler"]
    assert "tcp://10.0.0.5:8786" in message and "nbops tracking-server" in message
    assert ".nbops/mlflow.db" in message and str(tmp_path) not in message
    # choosing local leaves the configured scheduler aside, as `nbops run --executor local`
    answer = check_form(params, "run", {}, executor="local", path="sub/nb.ipynb",
                        run_config=configured, check_store=store_check(tmp_path))
    assert answer["ok"], answer["errors"]


def test_a_local_cluster_and_a_scheduler_of_this_machine_keep_the_store(
    params: NotebookParameters, tmp_path: Path
) -> None:
    for address in ("", "tcp://127.0.0.1:8786"):
        answer = check_form(params, "run", {}, executor="dask", scheduler=address,
                            path="sub/nb.ipynb", check_store=store_check(tmp_path))
        assert answer["ok"], answer["errors"]


def test_dask_not_installed_gives_the_install_line(
    params: NotebookParameters, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "distributed", None)  # as if not installed: no spec
    answer = check_form(params, "run", {}, executor="dask", path="sub/nb.ipynb")
    assert answer["errors"] == {"executor": "nbops run --executor dask needs the nbops[dask] "
                                "extra: Dask distributed is not installed (pip install "
                                "'nbops[dask]')"}


# --------------------------------------------------------------------------- pipeline mode


def test_pipeline_mode_is_one_run_of_the_generated_module(params: NotebookParameters) -> None:
    answer = check_form(params, "pipeline", {"alpha": "2"}, kernel="python3", path="sub/nb.ipynb",
                        check_pipeline=lambda: None)
    assert answer["ok"], answer
    # no kernel: the module runs in Python
    assert answer["request"] == {"path": "sub/nb.ipynb", "parameters": {"alpha": "2"},
                                 "pipeline": True}
    split = check_form(params, "pipeline", {"alpha": "1, 2"}, path="sub/nb.ipynb")
    assert not split["ok"] and "alpha" in split["errors"]  # one value per field, as in a run


def test_pipeline_mode_refuses_what_nbops_run_pipeline_refuses(
    params: NotebookParameters,
) -> None:
    def missing() -> None:
        raise NotFoundError("no generated pipeline for this notebook", hint="modularize it first")

    answer = check_form(params, "pipeline", {}, path="sub/nb.ipynb", check_pipeline=missing)
    assert not answer["ok"] and answer["request"] is None
    assert "modularize it first" in answer["errors"][FORM]
    run = check_form(params, "run", {}, path="sub/nb.ipynb", check_pipeline=missing)
    assert run["ok"]  # only the pipeline needs the generated module
