"""``nbops.run.params``: reading a notebook's parameters and resolving the values of runs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from nbops.core.notebook import read_notebook
from nbops.core.snippets import notebook_from_snippet
from nbops.errors import CellError, NotebookReadError, NotFoundError, UsageError
from nbops.run.params import (
    NotebookParameters,
    ParamSpec,
    add_parameters_tag,
    check_values,
    expand_grid,
    load_parameter_file,
    parse_value,
    read_parameters,
    resolve,
)

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"


def params_of(cell: str, header: str = "# %% tags=parameters") -> NotebookParameters:
    """The parameters of a notebook: an imports cell, then ``cell`` under ``header``."""
    return read_parameters(
        notebook_from_snippet(f"# %%\nimport os\n{header}\n{cell}\n# %%\nprint(1)\n")
    )


def spec_of(cell: str, name: str) -> ParamSpec:
    spec = params_of(cell).get(name)
    assert spec is not None, f"{name} not found"
    return spec


def spec(kind: str, default: Any = None, source: str = "", name: str = "p") -> ParamSpec:
    return ParamSpec(name, default, source or repr(default), kind, "", 1, 1)


SAMPLE = """\
DATA = "data/x.csv"  # the input file
alpha = 0.5
n: int = 3
cols = ["a", "b"]
"""


@pytest.fixture
def sample() -> NotebookParameters:
    return params_of(SAMPLE)


# --------------------------------------------------------------------------- types, defaults


@pytest.mark.parametrize(
    ("source", "kind", "default"),
    [
        ("x = 3", "int", 3),
        ("x = -3", "int", -3),
        ("x = 0.5", "float", 0.5),
        ("x = 1e-3", "float", 0.001),
        ("x = 'a'", "str", "a"),
        ('x = "data/x.csv"', "str", "data/x.csv"),
        ("x = True", "bool", True),
        ("x = False", "bool", False),
        ("x = [1, 2]", "list", [1, 2]),
        ("x = {'a': 1}", "dict", {"a": 1}),
        ("x = (1, 'b')", "tuple", (1, "b")),
        ("x = None", "none", None),
        ("x = os.environ.get('X')", "expression", None),
        ("x = {1, 2}", "expression", {1, 2}),
        ("x = 2 ** 8", "expression", None),
        ("x: float = 1", "float", 1.0),
        ("x: int = 3", "int", 3),
        ("x: list[str] = ('a',)", "list", ["a"]),
        ("x: int = 0.5", "float", 0.5),  # the annotation contradicts the value: the value wins
        ("x: float = compute()", "float", None),
    ],
)
def test_type_and_default_inference(source: str, kind: str, default: Any) -> None:
    s = spec_of(source, "x")
    assert (s.type, s.default) == (kind, default)
    assert type(s.default) is type(default)


@pytest.mark.parametrize(
    ("source", "text"),
    [
        ("x = 3", "3"),
        ("x = 'a'", "'a'"),
        ("x = os.environ.get('X')", "os.environ.get('X')"),
        ("x = [\n    1,\n    2,\n]", "[\n    1,\n    2,\n]"),
    ],
)
def test_default_source(source: str, text: str) -> None:
    assert spec_of(source, "x").default_source == text


def test_positions_and_order(sample: NotebookParameters) -> None:
    assert sample.names == ["DATA", "alpha", "n", "cols"]
    assert sample.cell == 1
    assert [(s.cell, s.line) for s in sample.specs] == [(1, 1), (1, 2), (1, 3), (1, 4)]


def test_reassignment_keeps_first_position_last_value() -> None:
    p = params_of("a = 1\nb = 2\na = 3")
    assert p.names == ["a", "b"]
    assert p.get("a") == ParamSpec("a", 3, "3", "int", "", 1, 3)


def test_non_assignments_are_skipped_and_chained_targets_count() -> None:
    p = params_of(
        "import math\nx = y = 1\nprint(x)\nfor i in []:\n    pass\nobj.attr = 2\n%matplotlib inline"
    )
    assert p.names == ["x", "y"]


# --------------------------------------------------------------------------- help comments


@pytest.mark.parametrize(
    ("source", "name", "help_text"),
    [
        ("alpha = 0.5  # smoothing factor", "alpha", "smoothing factor"),
        ("alpha = 0.5 #smoothing factor  ", "alpha", "smoothing factor"),
        ("# smoothing factor\nalpha = 0.5", "alpha", "smoothing factor"),
        ("# smoothing\n# factor\nalpha = 0.5", "alpha", "smoothing factor"),
        ("# above\nalpha = 0.5  # beside", "alpha", "beside"),
        ("# far above\n\nalpha = 0.5", "alpha", ""),
        ("a = 1\nalpha = 0.5", "alpha", ""),
        ("# parameters\nalpha = 0.5", "alpha", ""),
        ("# Parameters\n# smoothing\nalpha = 0.5", "alpha", "smoothing"),
        ("alpha = 0.5  # noqa: E501", "alpha", ""),
        ("# ------\nalpha = 0.5", "alpha", ""),
        ("alpha = '#not a comment'", "alpha", ""),
        ("cols = [  # the columns\n    'a',\n]", "cols", "the columns"),
        ("cols = [\n    'a',\n]  # the columns", "cols", "the columns"),
        ("alpha = 0.5  # nbops: parameter smoothing", "alpha", "smoothing"),
    ],
)
def test_help_comments(source: str, name: str, help_text: str) -> None:
    assert spec_of(source, name).help == help_text


# --------------------------------------------------------------------------- finding the cell


@pytest.mark.parametrize(
    ("snippet", "cell", "tagged"),
    [
        ("# %%\nimport os\n# %% tags=parameters\na = 1\n# %%\nb = 2", 1, True),
        ("# %%\nimport os\n# %% tags=x,parameters\na = 1", 1, True),
        ("# %%\nimport os\n# %%\n# parameters\na = 1", 1, False),
        ("# %%\nimport os\n# %%\n\n  # Parameters\na = 1", 1, False),
        ("# %%\nimport os\n# %%\n# PARAMETERS: the run's settings\na = 1", 1, False),
        # the tag wins over an earlier `# parameters` comment
        ("# %%\n# parameters\na = 1\n# %% tags=parameters\nb = 2", 1, True),
        # the first commented cell
        ("# %%\n# parameters\na = 1\n# %%\n# parameters\nb = 2", 0, False),
        # papermill's rule: the first tagged cell, whatever it is
        ("# %% [markdown] tags=parameters\n# Title\n# %% tags=parameters\na = 1", 0, True),
        # not a first-line comment, or not the word
        ("# %%\nimport os\n# %%\na = 1\n# parameters", None, False),
        ("# %%\nimport os\n# %%\n# parameterss\na = 1", None, False),
        ("# %% [markdown]\n# parameters\n# %%\na = 1", None, False),
        ("# %%\nDATA = 1\n# %%\nprint(DATA)", None, False),
    ],
)
def test_parameters_cell_detection(snippet: str, cell: int | None, tagged: bool) -> None:
    p = read_parameters(notebook_from_snippet(snippet))
    assert (p.cell, p.tagged) == (cell, tagged)
    if cell is None:
        assert p.specs == []


def test_read_from_path(tmp_path: Path) -> None:
    nb = notebook_from_snippet(f"# %% tags=parameters\n{SAMPLE}")
    nb.write(tmp_path / "nb.ipynb")
    p = read_parameters(tmp_path / "nb.ipynb")
    assert p.path == tmp_path / "nb.ipynb"
    assert p.names == ["DATA", "alpha", "n", "cols"]
    assert read_parameters(str(tmp_path / "nb.ipynb")).names == p.names


def test_examples() -> None:
    wine = read_parameters(EXAMPLES / "wine_classifier.ipynb")
    assert (wine.cell, wine.tagged) == (2, True)
    assert [(s.name, s.type, s.default) for s in wine.specs] == [
        ("TEST_SIZE", "float", 0.25),
        ("SEED", "int", 0),
        ("C", "float", 1.0),
    ]
    churn = read_parameters(EXAMPLES / "churn_classifier.ipynb")
    assert (churn.cell, churn.specs) == (None, [])


@pytest.mark.parametrize(
    ("content", "error"),
    [
        (None, NotebookReadError),
        (b"", NotebookReadError),
        (b"{not json", NotebookReadError),
        (b"[1, 2]", NotebookReadError),
    ],
)
def test_unreadable_notebooks(
    tmp_path: Path, content: bytes | None, error: type[Exception]
) -> None:
    path = tmp_path / "bad.ipynb"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(error) as info:
        read_parameters(path)
    assert "bad.ipynb" in str(info.value)


def test_parameters_cell_with_syntax_error() -> None:
    with pytest.raises(CellError) as info:
        params_of("alpha = = 1")
    assert info.value.cell == 1
    assert "does not parse" in info.value.message


def test_non_python_notebook() -> None:
    nb = notebook_from_snippet(
        "#! kernel=ir language=R\n# %% tags=parameters\nalpha <- 1\n# %%\nprint(alpha)"
    )
    with pytest.raises(UsageError, match="Python notebooks only"):
        read_parameters(nb)


# --------------------------------------------------------------------------- parse_value


@pytest.mark.parametrize(
    ("kind", "text", "value"),
    [
        ("int", "3", 3),
        ("int", " -7 ", -7),
        ("int", "1_000", 1000),
        ("float", "0.3", 0.3),
        ("float", "3", 3.0),
        ("float", "1e-3", 0.001),
        ("float", "-inf", float("-inf")),
        ("bool", "true", True),
        ("bool", "True", True),
        ("bool", "YES", True),
        ("bool", "1", True),
        ("bool", "false", False),
        ("bool", "No", False),
        ("bool", "0", False),
        ("str", "hello world", "hello world"),
        ("str", " 3 ", " 3 "),
        ("str", "", ""),
        ("list", "[1, 2]", [1, 2]),
        ("list", "['a', 'b']", ["a", "b"]),
        ("list", "(1, 2)", [1, 2]),
        ("list", "[]", []),
        ("dict", '{"a": 1}', {"a": 1}),
        ("dict", "{'a': (1, 2)}", {"a": (1, 2)}),
        ("tuple", "[1, 2]", (1, 2)),
        ("tuple", "(1, 'x')", (1, "x")),
        ("none", "3", 3),
        ("none", '"x"', "x"),
        ("none", "null", None),
        ("none", "data/x.csv", "data/x.csv"),
        ("expression", "[1, 2]", [1, 2]),
        ("expression", "(1, 2)", (1, 2)),
        ("expression", "not json", "not json"),
    ],
)
def test_parse_value(kind: str, text: str, value: Any) -> None:
    got = parse_value(spec(kind), text)
    assert got == value
    assert type(got) is type(value)


@pytest.mark.parametrize(
    ("kind", "text", "expected"),
    [
        ("int", "0.5", "int"),
        ("int", "abc", "int"),
        ("int", "", "int"),
        ("float", "abc", "float"),
        ("float", "1,5", "float"),
        ("bool", "maybe", "bool"),
        ("bool", "2", "bool"),
        ("list", '{"a": 1}', "list"),
        ("list", "a,b", "list"),
        ("dict", "[1, 2]", "dict"),
        ("dict", "a=1", "dict"),
        ("tuple", "3", "tuple"),
    ],
)
def test_parse_value_errors(kind: str, text: str, expected: str) -> None:
    with pytest.raises(UsageError) as info:
        parse_value(spec(kind, name="alpha"), text)
    message = str(info.value)
    assert "'alpha'" in message
    assert f"({expected}" in message
    assert repr(text) in message
    assert info.value.hint is not None and info.value.hint.startswith("for example: -p alpha ")


def test_parse_value_hint_uses_the_default() -> None:
    with pytest.raises(UsageError) as info:
        parse_value(spec_of("alpha = 0.5", "alpha"), "high")
    assert info.value.hint == "for example: -p alpha 0.5"
    with pytest.raises(UsageError) as info:
        parse_value(spec_of("cols = ['a', 'b']", "cols"), "a")
    assert info.value.hint == 'for example: -p cols \'["a", "b"]\''


# --------------------------------------------------------------------------- check_values


@pytest.mark.parametrize(
    ("values", "checked"),
    [
        ({"alpha": 0.1}, {"alpha": 0.1}),
        ({"alpha": 1}, {"alpha": 1.0}),
        ({"n": 5}, {"n": 5}),
        ({"DATA": "y.csv", "cols": ["c"]}, {"DATA": "y.csv", "cols": ["c"]}),
        ({}, {}),
    ],
)
def test_check_values(
    sample: NotebookParameters, values: dict[str, Any], checked: dict[str, Any]
) -> None:
    assert check_values(sample, values) == checked


@pytest.mark.parametrize(
    ("values", "words"),
    [
        ({"n": True}, ["'n'", "int", "bool True"]),
        ({"n": 0.5}, ["'n'", "int", "float 0.5"]),
        ({"alpha": "high"}, ["'alpha'", "float", "str 'high'"]),
        ({"alpha": False}, ["'alpha'", "float", "bool"]),
        ({"DATA": 3}, ["'DATA'", "str", "int 3"]),
        ({"cols": "a"}, ["'cols'", "list"]),
        ({"n": None}, ["'n'", "NoneType"]),
    ],
)
def test_check_values_type_mismatch(
    sample: NotebookParameters, values: dict[str, Any], words: list[str]
) -> None:
    with pytest.raises(UsageError) as info:
        check_values(sample, values)
    for word in words:
        assert word in info.value.message


def test_check_values_tuple_and_expression() -> None:
    p = params_of("t = (1, 2)\ne = os.getcwd()\nz = None")
    assert check_values(p, {"t": [3, 4], "e": "x", "z": {"k": 1}}) == {
        "t": (3, 4),
        "e": "x",
        "z": {"k": 1},
    }


@pytest.mark.parametrize(
    ("name", "suggestion"),
    [
        ("alpah", "alpha"),
        ("ALPHA", "alpha"),
        ("data", "DATA"),
        ("col", "cols"),
        ("zzz", None),
    ],
)
def test_unknown_names_suggest(
    sample: NotebookParameters, name: str, suggestion: str | None
) -> None:
    with pytest.raises(UsageError) as info:
        check_values(sample, {name: 1})
    message = info.value.message
    assert f"unknown parameter {name!r}" in message
    assert "DATA, alpha, n, cols" in message
    if suggestion:
        assert f"did you mean {suggestion!r}?" in message
    else:
        assert "did you mean" not in message


def test_unknown_name_without_parameters_cell() -> None:
    p = read_parameters(notebook_from_snippet("# %%\nx = 1\n# %%\nprint(x)"))
    with pytest.raises(UsageError) as info:
        check_values(p, {"x": 2})
    assert "no parameters cell" in info.value.message
    assert info.value.hint is not None and "NB303" in info.value.hint


# --------------------------------------------------------------------------- files


@pytest.mark.parametrize(
    ("name", "text", "values"),
    [
        ("p.yaml", "alpha: 0.1\nn: 4\nDATA: y.csv\n", {"alpha": 0.1, "n": 4, "DATA": "y.csv"}),
        ("p.yml", "cols: [a, b]\n", {"cols": ["a", "b"]}),
        ("p.yaml", "alpha: 1e-3\nbeta: -2.5E+2\n", {"alpha": 0.001, "beta": -250.0}),
        ("p.yaml", "flag: yes\nname: 'yes'\n", {"flag": True, "name": "yes"}),
        ("p.yaml", "", {}),
        ("p.yaml", "# only a comment\n", {}),
        ("p.json", '{"alpha": 0.1, "cols": ["a"]}', {"alpha": 0.1, "cols": ["a"]}),
        ("P.JSON", '{"n": 1}', {"n": 1}),
    ],
)
def test_load_parameter_file(tmp_path: Path, name: str, text: str, values: dict[str, Any]) -> None:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    assert load_parameter_file(path) == values


@pytest.mark.parametrize(
    ("name", "text", "words"),
    [
        ("p.yaml", "alpha: 0.1\nn: [1, 2\ncols: x\n", ["line 3", "YAML"]),
        ("p.yaml", "alpha: 0.1\n  n: 2\n", ["line 2", "YAML"]),
        ("p.yaml", "alpha: 0.1\n\tn: 2\n", ["line 2", "YAML"]),
        ("p.yaml", "a: 1\n---\nb: 2\n", ["YAML", "line 2"]),
        ("p.json", '{\n  "alpha": 0.1,\n}\n', ["line 3", "JSON"]),
        ("p.json", "", ["line 1", "JSON"]),
        ("p.yaml", "- 1\n- 2\n", ["mapping", "not a list"]),
        ("p.json", '"alpha"', ["mapping", "not a string"]),
        ("p.yaml", "1: a\n", ["parameter names are text"]),
        ("p.toml", "alpha = 1\n", [".yaml", ".json"]),
    ],
)
def test_broken_parameter_files(tmp_path: Path, name: str, text: str, words: list[str]) -> None:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    with pytest.raises(UsageError) as info:
        load_parameter_file(path)
    message = str(info.value)
    assert message.startswith(str(path) + ": ")
    for word in words:
        assert word in message


def test_missing_parameter_file(tmp_path: Path) -> None:
    with pytest.raises(NotFoundError) as info:
        load_parameter_file(tmp_path / "nope.yaml")
    assert "nope.yaml" in str(info.value)


# --------------------------------------------------------------------------- grid


@pytest.mark.parametrize(
    ("grid", "runs"),
    [
        ([], [{}]),
        (["n=1,2,3"], [{"n": 1}, {"n": 2}, {"n": 3}]),
        (["n=1, 2"], [{"n": 1}, {"n": 2}]),
        (["n=[1, 2]"], [{"n": 1}, {"n": 2}]),
        (
            ["n=1,2", "alpha=0.1,0.2"],
            [
                {"n": 1, "alpha": 0.1},
                {"n": 1, "alpha": 0.2},
                {"n": 2, "alpha": 0.1},
                {"n": 2, "alpha": 0.2},
            ],
        ),
        (
            ["alpha=0.1,0.2", "n=1,2"],
            [
                {"alpha": 0.1, "n": 1},
                {"alpha": 0.1, "n": 2},
                {"alpha": 0.2, "n": 1},
                {"alpha": 0.2, "n": 2},
            ],
        ),
        (['cols=[["a", "b"], ["c"]]'], [{"cols": ["a", "b"]}, {"cols": ["c"]}]),
        (['DATA=["a,b.csv", "c.csv"]'], [{"DATA": "a,b.csv"}, {"DATA": "c.csv"}]),
        (["DATA=a.csv,b.csv"], [{"DATA": "a.csv"}, {"DATA": "b.csv"}]),
        (["alpha=1,0.5"], [{"alpha": 1.0}, {"alpha": 0.5}]),
    ],
)
def test_expand_grid(
    sample: NotebookParameters, grid: list[str], runs: list[dict[str, Any]]
) -> None:
    assert expand_grid({}, grid, sample) == runs
    assert [list(r) for r in expand_grid({}, grid, sample)] == [list(r) for r in runs]


def test_expand_grid_keeps_base_and_overrides_it(sample: NotebookParameters) -> None:
    runs = expand_grid({"DATA": "x.csv", "n": 9}, ["n=1,2"], sample)
    assert runs == [{"DATA": "x.csv", "n": 1}, {"DATA": "x.csv", "n": 2}]


@pytest.mark.parametrize(
    ("grid", "words"),
    [
        (["n=1,2", "n=3"], ["'n'", "twice"]),
        (["n="], ["no values", "'n'"]),
        (["n=[]"], ["no values", "'n'"]),
        (["n=  "], ["no values"]),
        (["n=1,,2"], ["empty value"]),
        (["nn=1,2"], ["unknown parameter 'nn'", "did you mean 'n'?"]),
        (["n"], ["not NAME=VALUES"]),
        (["=1,2"], ["not NAME=VALUES"]),
        (["n=1,x"], ["'n'", "int", "'x'"]),
        (["n=[1, 0.5]"], ["'n'", "int", "float 0.5"]),
        (["n=[1, 2"], ["not a JSON list"]),
        (["cols=[1,2],[3]"], ["not a JSON list"]),
        (["n=1,1"], ["same value twice"]),
    ],
)
def test_expand_grid_errors(sample: NotebookParameters, grid: list[str], words: list[str]) -> None:
    with pytest.raises(UsageError) as info:
        expand_grid({}, grid, sample)
    for word in words:
        assert word in info.value.message


def test_grid_is_deterministic(sample: NotebookParameters) -> None:
    grid = ["alpha=0.3,0.1,0.2", "n=3,1", "DATA=b,a"]
    first = expand_grid({}, grid, sample)
    assert len(first) == 12
    assert first == expand_grid({}, grid, sample)
    assert first[0] == {"alpha": 0.3, "n": 3, "DATA": "b"}
    assert first[-1] == {"alpha": 0.2, "n": 1, "DATA": "a"}


# --------------------------------------------------------------------------- resolve


def test_resolve_order(tmp_path: Path, sample: NotebookParameters) -> None:
    first = tmp_path / "a.yaml"
    first.write_text("alpha: 0.1\nn: 1\nDATA: a.csv\n")
    second = tmp_path / "b.json"
    second.write_text(json.dumps({"n": 2}))
    runs = resolve(
        sample, [("DATA", "p.csv"), ("alpha", "0.7")], [first, second], ['cols=[["x"],["y"]]']
    )
    assert runs == [
        {"alpha": 0.7, "n": 2, "DATA": "p.csv", "cols": ["x"]},
        {"alpha": 0.7, "n": 2, "DATA": "p.csv", "cols": ["y"]},
    ]


@pytest.mark.parametrize(
    ("pairs", "runs"),
    [
        ([], [{}]),
        ([("n", "4")], [{"n": 4}]),
        ([("n", "4"), ("n", "5")], [{"n": 5}]),
        ([("alpha", "2"), ("cols", "a")], None),
    ],
)
def test_resolve_pairs(
    sample: NotebookParameters, pairs: list[tuple[str, str]], runs: list[dict[str, Any]] | None
) -> None:
    if runs is None:
        with pytest.raises(UsageError, match="'cols'"):
            resolve(sample, pairs, [], [])
    else:
        assert resolve(sample, pairs, [], []) == runs


def test_resolve_file_values_overridden_by_grid(tmp_path: Path, sample: NotebookParameters) -> None:
    path = tmp_path / "p.yaml"
    path.write_text("n: 9\nalpha: 0.5\n")
    assert resolve(sample, [], [path], ["n=1,2"]) == [
        {"alpha": 0.5, "n": 1},
        {"alpha": 0.5, "n": 2},
    ]


@pytest.mark.parametrize(
    ("pairs", "files", "grid", "words"),
    [
        ([("alpah", "1")], {}, [], ["unknown parameter 'alpah'", "did you mean 'alpha'?"]),
        ([("n", "x")], {}, [], ["'n'", "int"]),
        ([], {"p.yaml": "nn: 1\n"}, [], ["p.yaml", "unknown parameter 'nn'"]),
        ([], {"p.yaml": "n: 0.5\n"}, [], ["p.yaml", "'n'", "float 0.5"]),
        ([], {"p.yaml": "n: [\n"}, [], ["p.yaml", "line"]),
        ([("n", "1")], {}, ["n=1,2"], ["both with -p and in --grid"]),
        ([], {}, ["n=1", "zz=2"], ["unknown parameter 'zz'"]),
    ],
)
def test_resolve_errors(
    tmp_path: Path,
    sample: NotebookParameters,
    pairs: list[tuple[str, str]],
    files: dict[str, str],
    grid: list[str],
    words: list[str],
) -> None:
    paths = []
    for name, text in files.items():
        (tmp_path / name).write_text(text)
        paths.append(tmp_path / name)
    with pytest.raises(UsageError) as info:
        resolve(sample, pairs, paths, grid)
    for word in words:
        assert word in str(info.value)


# --------------------------------------------------------------------------- the fix


def _write(tmp_path: Path, snippet: str) -> Path:
    path = tmp_path / "nb.ipynb"
    notebook_from_snippet(snippet).write(path)
    return path


def test_add_parameters_tag_tags_and_keeps_a_backup(tmp_path: Path) -> None:
    path = _write(tmp_path, "# %%\nimport os\n# %%\n# Parameters\nalpha = 0.5\n# %%\nprint(alpha)")
    before = path.read_bytes()
    assert add_parameters_tag(path) is True
    nb = read_notebook(path)
    assert nb.cells[1].tags == ("parameters",)
    assert [c.source for c in nb.cells] == [
        "import os",
        "# Parameters\nalpha = 0.5",
        "print(alpha)",
    ]
    backups = list((tmp_path / ".nbops_backup").iterdir())
    assert len(backups) == 1 and backups[0].read_bytes() == before
    p = read_parameters(path)
    assert (p.cell, p.tagged, p.names) == (1, True, ["alpha"])
    assert add_parameters_tag(path) is False  # now tagged: nothing to do
    assert len(list((tmp_path / ".nbops_backup").iterdir())) == 1


@pytest.mark.parametrize(
    "snippet",
    [
        "# %%\nimport os\n# %% tags=parameters\nalpha = 0.5",
        "# %%\nimport os\n# %%\nalpha = 0.5",
    ],
)
def test_add_parameters_tag_leaves_other_notebooks_alone(tmp_path: Path, snippet: str) -> None:
    path = _write(tmp_path, snippet)
    before = path.read_bytes()
    assert add_parameters_tag(path) is False
    assert path.read_bytes() == before
    assert not (tmp_path / ".nbops_backup").exists()


def test_add_parameters_tag_unreadable(tmp_path: Path) -> None:
    path = tmp_path / "bad.ipynb"
    path.write_text("{broken")
    with pytest.raises(NotebookReadError):
        add_parameters_tag(path)


@pytest.mark.parametrize("kind", ["list", "dict", "tuple"])
def test_parse_value_too_deeply_nested_is_a_usage_error(kind: str) -> None:
    # json.loads raises RecursionError on deep nesting: a wrong value, not a crash
    with pytest.raises(UsageError, match=f"parameter 'p' expects a {'mapping' if kind == 'dict' else kind}"):
        parse_value(spec(kind, [1] if kind != "dict" else {}), "[" * 100_000)
    assert parse_value(spec("expression"), "[" * 3000) == "[" * 3000  # the text itself
