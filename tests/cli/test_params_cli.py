"""``nbops params``: the parameters table, JSON, ``--fix`` and exit codes."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from nbops.cli.main import main
from nbops.core.notebook import read_notebook
from nbops.core.snippets import notebook_from_snippet

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"

TAGGED = """
# %%
import os
# %% tags=parameters
DATA = "data/x.csv"  # the input file
# smoothing factor
alpha = 0.5
when = os.environ.get("WHEN")
cols = [
    "a",
    "b",
]
# %%
print(DATA, alpha)
"""

UNTAGGED = """
# %%
import os
# %%
# Parameters
alpha = 0.5  # smoothing factor
# %%
print(alpha)
"""

NONE = """
# %%
import os
# %%
print(os.getcwd())
"""

EMPTY = """
# %%
import os
# %% tags=parameters
# nothing here yet
# %%
print(1)
"""


def write(tmp_path: Path, snippet: str, name: str = "nb.ipynb") -> Path:
    path = tmp_path / name
    notebook_from_snippet(snippet).write(path)
    return path


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["params", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_wine_example_text(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, str(EXAMPLES / "wine_classifier.ipynb"))
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0].endswith("wine_classifier.ipynb: 3 parameters in cell 3 (tagged 'parameters')")
    assert lines[1].split() == ["name", "type", "default", "help"]
    assert [line.split()[:4] for line in lines[2:5]] == [
        ["TEST_SIZE", "float", "0.25", "share"],
        ["SEED", "int", "0", "random"],
        ["C", "float", "1.0", "inverse"],
    ]
    assert lines[2].rstrip().endswith("share of the wines held out for evaluation")
    assert "note:" not in out


def test_wine_example_json(capsys: pytest.CaptureFixture[str]) -> None:
    path = str(EXAMPLES / "wine_classifier.ipynb")
    code, out, _ = run(capsys, path, "--format", "json")
    assert code == 0
    doc = json.loads(out)
    assert doc == {
        "notebook": path,
        "cell": 3,
        "tagged": True,
        "parameters": [
            {"name": "TEST_SIZE", "type": "float", "default": 0.25, "default_source": "0.25",
             "help": "share of the wines held out for evaluation", "cell": 3, "line": 1},
            {"name": "SEED", "type": "int", "default": 0, "default_source": "0",
             "help": "random seed of the split and of the model", "cell": 3, "line": 2},
            {"name": "C", "type": "float", "default": 1.0, "default_source": "1.0",
             "help": "inverse regularization strength of the logistic regression",
             "cell": 3, "line": 3},
        ],
    }  # fmt: skip


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_churn_example_has_no_parameters_cell(capsys: pytest.CaptureFixture[str], fmt: str) -> None:
    code, out, err = run(capsys, str(EXAMPLES / "churn_classifier.ipynb"), "--format", fmt)
    assert code == 1
    message = out if fmt == "text" else err
    assert "no parameters cell" in message
    assert "NB303" in message
    assert "--select NB303" in message
    if fmt == "json":
        assert json.loads(out)["cell"] is None
        assert json.loads(out)["parameters"] == []


def test_text_table(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, TAGGED)
    code, out, _ = run(capsys, str(path))
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == f"{path}: 4 parameters in cell 2 (tagged 'parameters')"
    rows = {line.split()[0]: line for line in lines[2:]}
    assert rows["DATA"].split(None, 3) == ["DATA", "str", '"data/x.csv"', "the input file"]
    assert rows["alpha"].split(None, 3) == ["alpha", "float", "0.5", "smoothing factor"]
    assert rows["when"].split(None, 2) == ["when", "expression", 'os.environ.get("WHEN")']
    assert rows["cols"].split(None, 2) == ["cols", "list", "['a', 'b']"]
    assert all(line == line.rstrip() for line in lines)


def test_json_defaults(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, TAGGED)
    code, out, _ = run(capsys, str(path), "--format", "json")
    assert code == 0
    doc = json.loads(out)
    assert (doc["notebook"], doc["cell"], doc["tagged"]) == (str(path), 2, True)
    by_name = {p["name"]: p for p in doc["parameters"]}
    assert list(by_name) == ["DATA", "alpha", "when", "cols"]
    assert by_name["DATA"] == {
        "name": "DATA", "type": "str", "default": "data/x.csv", "default_source": '"data/x.csv"',
        "help": "the input file", "cell": 2, "line": 1,
    }  # fmt: skip
    assert by_name["alpha"]["help"] == "smoothing factor"
    assert by_name["when"]["default"] == 'os.environ.get("WHEN")'
    assert by_name["when"]["type"] == "expression"
    assert by_name["cols"]["default"] == ["a", "b"]
    assert by_name["cols"]["line"] == 5


@pytest.mark.parametrize(
    ("source", "default"),
    [
        ("x = {1, 2}", "{1, 2}"),
        ("x = (1, 2)", [1, 2]),
        ("x = {1: 'a'}", "{1: 'a'}"),
        ("x = None", None),
        ("x = b'raw'", "b'raw'"),
    ],
)
def test_json_default_or_source(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], source: str, default: object
) -> None:
    path = write(tmp_path, f"# %% tags=parameters\n{source}\n# %%\nprint(x)")
    code, out, _ = run(capsys, str(path), "--format", "json")
    assert code == 0
    assert json.loads(out)["parameters"][0]["default"] == default


def test_untagged_cell_text_says_how_to_fix(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, UNTAGGED)
    code, out, _ = run(capsys, str(path))
    assert code == 0
    assert "found by its '# parameters' comment, not tagged" in out
    assert f"nbops params {path} --fix" in out
    assert "NB303" in out
    assert read_notebook(path).cells[1].tags == ()  # only read


def test_untagged_cell_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, UNTAGGED)
    code, out, _ = run(capsys, str(path), "--format", "json")
    assert code == 0
    doc = json.loads(out)
    assert (doc["cell"], doc["tagged"]) == (2, False)
    assert [p["name"] for p in doc["parameters"]] == ["alpha"]
    assert "fixed" not in doc


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_fix_tags_the_cell_and_keeps_a_backup(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], fmt: str
) -> None:
    path = write(tmp_path, UNTAGGED)
    before = path.read_bytes()
    code, out, _ = run(capsys, str(path), "--fix", "--format", fmt)
    assert code == 0
    assert read_notebook(path).cells[1].tags == ("parameters",)
    backups = list((tmp_path / ".nbops_backup").iterdir())
    assert len(backups) == 1 and backups[0].read_bytes() == before
    if fmt == "json":
        doc = json.loads(out)
        assert (doc["tagged"], doc["fixed"], doc["cell"]) == (True, True, 2)
    else:
        assert f"{path}: tagged cell 2 'parameters'" in out
        assert "(tagged 'parameters')" in out
        assert "--fix" not in out
    # a second --fix has nothing to do
    code, out, _ = run(capsys, str(path), "--fix", "--format", fmt)
    assert code == 0
    if fmt == "json":
        assert json.loads(out)["fixed"] is False
    else:
        assert "already tagged" in out
    assert len(list((tmp_path / ".nbops_backup").iterdir())) == 1


def test_fix_without_parameters_cell(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, NONE)
    before = path.read_bytes()
    code, out, _ = run(capsys, str(path), "--fix")
    assert code == 1
    assert "no parameters cell" in out and "NB303" in out
    assert path.read_bytes() == before
    assert not (tmp_path / ".nbops_backup").exists()


def test_fix_on_a_copy_of_churn_leaves_it_alone(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "churn.ipynb"
    shutil.copy(EXAMPLES / "churn_classifier.ipynb", path)
    code, _, _ = run(capsys, str(path), "--fix")
    assert code == 1
    assert path.read_bytes() == (EXAMPLES / "churn_classifier.ipynb").read_bytes()


def test_empty_parameters_cell(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, EMPTY)
    code, out, _ = run(capsys, str(path))
    assert code == 0
    assert "cell 2 (tagged 'parameters'), assigns no values" in out


def test_one_parameter_is_singular(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, "# %% tags=parameters\nx = 1\n# %%\nprint(x)")
    _, out, _ = run(capsys, str(path))
    assert ": 1 parameter in cell 1 " in out


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (None, ["no such file"]),
        ("{broken", ["broken JSON"]),
        ("", ["empty"]),
    ],
)
def test_unreadable_notebook_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str | None, words: list[str]
) -> None:
    path = tmp_path / "bad.ipynb"
    if content is not None:
        path.write_text(content)
    code, out, err = run(capsys, str(path))
    assert code == 2
    assert out == ""
    assert err.startswith(f"nbops: error: {path}: ")
    for word in words:
        assert word in err


def test_syntax_error_in_parameters_cell_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, "# %% tags=parameters\nalpha = = 1\n# %%\nprint(1)")
    code, _, err = run(capsys, str(path))
    assert code == 2
    assert "cell 1" in err and "does not parse" in err


def test_usage_errors(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["params"])
    assert info.value.code == 2
    with pytest.raises(SystemExit) as info:
        main(["params", "x.ipynb", "--format", "yaml"])
    assert info.value.code == 2
    capsys.readouterr()


def test_listed_in_help(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["--help"])
    assert "params" in capsys.readouterr().out
