"""Tests for nbops.modularize.capture: ``__nbops_capture__`` in a namespace, in subprocesses and
in a real kernel; ``load_capture`` and its stand-ins for classes of ``__main__`` and of the
generated module."""

from __future__ import annotations

import ast
import os
import pickle
import subprocess
import sys
import textwrap
import threading
from pathlib import Path
from typing import Any

import pytest

from nbops.modularize.capture import (
    CAPTURE_SOURCE,
    MISSING,
    StandIn,
    Unpicklable,
    load_capture,
)
from nbops.modularize.compare import compare_values


def run_capture(path: Path, namespace: Any, names: Any) -> None:
    """Exec CAPTURE_SOURCE on its own, as in a kernel, and capture ``names`` of ``namespace``."""
    runner: dict[str, Any] = {}
    exec(CAPTURE_SOURCE, runner)  # noqa: S102 - as verify does in a kernel
    runner["__nbops_capture__"](str(path), names, namespace)


def capture(tmp_path: Path, namespace: dict[str, Any]) -> dict[str, Any]:
    path = tmp_path / "capture.pkl"
    run_capture(path, namespace, list(namespace))
    return load_capture(path)


# --- values round trip ------------------------------------------------------------------


def test_capture_source_needs_only_the_standard_library() -> None:
    tree = ast.parse(CAPTURE_SOURCE)
    imported = {
        a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names
    }
    assert imported == {"os", "pickle"}
    assert not [n for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)]
    namespace: dict[str, Any] = {}
    exec(CAPTURE_SOURCE, namespace)  # noqa: S102 - as verify does in a kernel
    assert [k for k in namespace if k != "__builtins__"] == ["__nbops_capture__"]


def _values() -> list[Any]:
    import numpy as np
    import pandas as pd

    return [
        pytest.param(42, id="int"),
        pytest.param(float("nan"), id="nan"),
        pytest.param("text", id="str"),
        pytest.param(None, id="none"),
        pytest.param(
            {"auc": 0.91, "scores": [1, 2, (3, 4)], "tags": {"a"}}, id="nested"
        ),
        pytest.param(np.arange(12.0).reshape(3, 4), id="ndarray"),
        pytest.param(
            pd.DataFrame({"price": [1.5, 2.5], "name": ["a", "b"]}), id="dataframe"
        ),
    ]


@pytest.mark.parametrize("value", _values())
def test_values_round_trip(tmp_path: Path, value: Any) -> None:
    loaded = capture(tmp_path, {"value": value})["value"]
    assert compare_values(value, loaded).status == "equal"


def test_names_not_in_the_namespace_are_missing(tmp_path: Path) -> None:
    path = tmp_path / "c.pkl"
    run_capture(path, {"a": 1}, ["a", "not_defined"])
    assert load_capture(path) == {"a": 1, "not_defined": MISSING}


def test_values_are_pickled_with_protocol_4_or_higher(tmp_path: Path) -> None:
    path = tmp_path / "c.pkl"
    run_capture(path, {"a": [1, 2], "b": "x"}, ["a", "b"])
    envelope = pickle.loads(path.read_bytes())
    for kind, data in envelope["values"].values():
        assert kind == "pickle"
        assert data[0] == pickle.PROTO[0] and data[1] >= 4


def test_mutation_after_capture_is_not_seen(tmp_path: Path) -> None:
    scores, frame = [1, 2, 3], {"rows": [0.5]}
    namespace = {"scores": scores, "frame": frame}
    path = tmp_path / "c.pkl"
    run_capture(path, namespace, ["scores", "frame"])
    scores.append(4)
    frame["rows"][0] = 9.9
    namespace["scores"] = "rebound"
    assert load_capture(path) == {"scores": [1, 2, 3], "frame": {"rows": [0.5]}}


def test_the_file_is_written_whole(tmp_path: Path) -> None:
    run_capture(tmp_path / "deep" / "er" / "c.pkl", {"a": 1}, ["a"])
    assert load_capture(tmp_path / "deep" / "er" / "c.pkl") == {"a": 1}
    assert [p.name for p in (tmp_path / "deep" / "er").iterdir()] == [
        "c.pkl"
    ]  # no .tmp left


# --- values that cannot be pickled --------------------------------------------------------


class ReduceRaises:
    def __reduce__(self) -> Any:
        raise RuntimeError("no pickling today")


class ReduceExits:
    def __reduce__(self) -> Any:
        raise SystemExit(3)


class ReprRaisesToo(ReduceRaises):
    def __repr__(self) -> str:
        raise ValueError("no repr either")


def _generator() -> Any:
    yield 1


UNPICKLABLE = [
    pytest.param(lambda x: x, "builtins.function", "<lambda>", id="lambda"),
    pytest.param(_generator(), "builtins.generator", "generator", id="generator"),
    pytest.param(threading.Lock(), "_thread.lock", "lock", id="lock"),
    pytest.param(os, "builtins.module", "module 'os'", id="module"),
    pytest.param(
        ReduceRaises(), "test_capture.ReduceRaises", "ReduceRaises", id="reduce-raises"
    ),
    pytest.param(
        ReduceExits(), "test_capture.ReduceExits", "ReduceExits", id="reduce-exits"
    ),
    pytest.param(
        ReprRaisesToo(), "test_capture.ReprRaisesToo", "repr failed", id="repr-raises"
    ),
]


@pytest.mark.parametrize(("value", "type_name", "in_repr"), UNPICKLABLE)
def test_unpicklable_values_become_markers(
    tmp_path: Path, value: Any, type_name: str, in_repr: str
) -> None:
    values = capture(tmp_path, {"before": 1, "value": value, "after": [2]})
    marker = values["value"]
    assert isinstance(marker, Unpicklable)
    assert marker.type.rpartition(".")[2] == type_name.rpartition(".")[2]
    assert in_repr in marker.repr
    assert marker.error
    assert values["before"] == 1 and values["after"] == [2]  # the others survive


def test_an_open_file_becomes_a_marker(tmp_path: Path) -> None:
    with open(tmp_path / "data.txt", "w") as handle:
        values = capture(tmp_path, {"handle": handle})
    assert isinstance(values["handle"], Unpicklable)
    assert "TextIOWrapper" in values["handle"].type


def test_a_value_that_cannot_be_loaded_becomes_a_marker(tmp_path: Path) -> None:
    class LoadsBadly:
        def __reduce__(self) -> Any:
            return (int, ("not a number",))  # pickles fine, raises when loaded

    values = capture(tmp_path, {"bad": LoadsBadly(), "good": 1})
    assert isinstance(values["bad"], Unpicklable)
    assert values["bad"].error.startswith("could not be loaded: ValueError")
    assert values["good"] == 1


# --- capture never raises ------------------------------------------------------------------


class ExplodingNamespace(dict[str, Any]):
    def __contains__(self, key: object) -> bool:
        raise RuntimeError("namespace exploded")


NEVER_RAISES = [
    pytest.param({"a": 1}, None, id="names-not-iterable"),
    pytest.param({"a": 1}, [["unhashable"], "a"], id="unhashable-name"),
    pytest.param(None, ["a"], id="namespace-none"),
    pytest.param(ExplodingNamespace(a=1), ["a"], id="namespace-raises"),
    pytest.param({"a": ReduceExits()}, ["a"], id="reduce-raises-systemexit"),
]


@pytest.mark.parametrize(("namespace", "names"), NEVER_RAISES)
def test_capture_never_raises(tmp_path: Path, namespace: Any, names: Any) -> None:
    path = tmp_path / "c.pkl"
    run_capture(path, namespace, names)  # no exception
    values = load_capture(path)  # and what could be written was
    assert all(
        isinstance(v, (Unpicklable, int)) or v is MISSING for v in values.values()
    )


def test_capture_to_an_unwritable_path_does_not_raise(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    run_capture(blocker / "c.pkl", {"a": 1}, ["a"])  # a folder that cannot be made
    assert not (blocker / "c.pkl").exists()


@pytest.mark.parametrize(
    "content",
    [
        pytest.param(b"not a pickle", id="garbage"),
        pytest.param(pickle.dumps({"a": 1}), id="other-pickle"),
        pytest.param(pickle.dumps(threading.Thread), id="pickle-with-a-global"),
    ],
)
def test_load_rejects_files_that_are_not_captures(
    tmp_path: Path, content: bytes
) -> None:
    path = tmp_path / "c.pkl"
    path.write_bytes(content)
    with pytest.raises(ValueError, match="not an nbops capture"):
        load_capture(path)


def test_load_of_a_missing_file_raises_oserror(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        load_capture(tmp_path / "nope.pkl")


# --- __main__ in one process, the generated module in another ------------------------------

DEFINITIONS = """
import collections, dataclasses, enum

class Plain:
    def __init__(self, w):
        self.w = w
        self.name = "plain"

@dataclasses.dataclass
class Data:
    x: int
    tags: list

@dataclasses.dataclass(frozen=True, slots=True)
class Slotted:
    x: float

class Bag(dict):
    pass

class Items(list):
    pass

Pair = collections.namedtuple("Pair", "a b")

class Color(enum.Enum):
    RED = 1
    BLUE = 2

class Failure(Exception):
    pass

def helper(x):
    return x

def other_helper(x):
    return x
"""

# id, the value in both runs, a differing value in the generated run, in the detail
CASES = [
    ("plain class", "Plain([1.0, 2.0])", "Plain([1.0, 3.0])", "Plain.w[1]: 2.0 vs 3.0"),
    ("dataclass", "Data(1, ['a'])", "Data(2, ['a'])", "Data.x: 1 vs 2"),
    ("slots dataclass", "Slotted(0.5)", "Slotted(0.25)", "0.5 vs 0.25"),
    ("dict subclass", "Bag(a=1)", "Bag(a=2)", "Bag.dictitems['a']: 1 vs 2"),
    (
        "list subclass",
        "Items([1, 2])",
        "Items([1, 2, 3])",
        "Items.items: length 2 vs 3",
    ),
    ("namedtuple", "Pair(1, 2)", "Pair(1, 3)", "Pair.args[1]: 2 vs 3"),
    ("enum", "Color.RED", "Color.BLUE", "Color.args[0]: 1 vs 2"),
    ("exception", "Failure('boom')", "Failure('bang')", "'boom' vs 'bang'"),
    ("function reference", "helper", "other_helper", "helper vs other_helper"),
    ("class reference", "Plain", "Data", "Plain vs Data"),
    ("inside a dict", "{'m': Plain(1)}", "{'m': Plain(2)}", "['m'].w: 1 vs 2"),
]
NAMES = [f"v{i}" for i in range(len(CASES))]


def run_python(code: str, cwd: Path, pythonpath: Path | None = None) -> None:
    env = dict(os.environ)
    if pythonpath is not None:
        env["PYTHONPATH"] = str(pythonpath)
    proc = subprocess.run(
        [sys.executable, "-c", code],
        check=False,
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr


def capture_code(body: str, path: Path, names: list[str]) -> str:
    """``python -c`` code: the capture function exec'd from its source, ``body``, a capture."""
    return "\n".join(
        [
            f"exec({CAPTURE_SOURCE!r})",
            body,
            f"__nbops_capture__({str(path)!r}, {names!r}, globals())",
        ]
    )


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The cases captured by a "notebook" (classes in ``__main__``) and by a "pipeline" (the
    same classes in ``genpkg_nbops.mod``), each in its own subprocess."""
    root = tmp_path_factory.mktemp("runs")
    assigns = "\n".join(
        f"{name} = {same}" for name, (_, same, _, _) in zip(NAMES, CASES)
    )
    run_python(
        capture_code(DEFINITIONS + assigns, root / "original.pkl", NAMES), cwd=root
    )

    package = root / "lib" / "genpkg_nbops"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "mod.py").write_text(DEFINITIONS)
    diffs = "\n".join(
        f"d{name} = {diff}" for name, (_, _, diff, _) in zip(NAMES, CASES)
    )
    body = "from genpkg_nbops.mod import *\n" + assigns + "\n" + diffs
    names = NAMES + [f"d{name}" for name in NAMES]
    run_python(
        capture_code(body, root / "generated.pkl", names),
        cwd=root,
        pythonpath=root / "lib",
    )
    return root


def _module_of(value: Any) -> str:
    if isinstance(value, dict):
        return _module_of(next(iter(value.values())))
    return value.module


@pytest.mark.parametrize(
    ("name", "case"), list(zip(NAMES, CASES)), ids=[c[0] for c in CASES]
)
def test_main_class_and_generated_module_class_compare_by_name_and_state(
    two_runs: Path, name: str, case: tuple[str, str, str, str]
) -> None:
    original = load_capture(two_runs / "original.pkl")
    generated = load_capture(two_runs / "generated.pkl", ["genpkg_nbops.mod"])
    assert _module_of(original[name]) == "__main__"
    assert _module_of(generated[name]) == "genpkg_nbops.mod"

    same = compare_values(original[name], generated[name])
    assert same.status == "equal", same.detail
    differs = compare_values(original[name], generated[f"d{name}"])
    assert differs.status == "differs"
    assert case[3] in differs.detail


def test_stand_ins_record_qualname_and_state(two_runs: Path) -> None:
    plain = load_capture(two_runs / "original.pkl")["v0"]
    assert isinstance(plain, StandIn)
    assert (plain.module, plain.qualname) == ("__main__", "Plain")
    assert plain.state == {"w": [1.0, 2.0], "name": "plain"}
    helper = load_capture(two_runs / "original.pkl")["v8"]
    assert isinstance(helper, type) and issubclass(helper, StandIn)
    assert helper.qualname == "helper"


def test_classes_of_modules_not_importable_here_load_as_stand_ins(
    two_runs: Path,
) -> None:
    # no local_modules: genpkg_nbops is not on this process's path, so it is stood in anyway
    generated = load_capture(two_runs / "generated.pkl")
    assert isinstance(generated["v0"], StandIn)
    assert generated["v0"].module == "genpkg_nbops.mod"
    original = load_capture(two_runs / "original.pkl")
    assert compare_values(original["v0"], generated["v0"]).status == "equal"


# --- a real kernel ----------------------------------------------------------------------------


@pytest.mark.slow
def test_capture_in_a_real_jupyter_kernel(tmp_path: Path) -> None:
    import nbformat
    import pandas as pd
    from helpers import ipc_kernel_manager
    from nbclient import NotebookClient

    path = tmp_path / "step.pkl"
    cells = [
        textwrap.dedent("""
            import pandas as pd

            class Model:
                def __init__(self, w):
                    self.w = w

            model = Model([0.5, 1.5])
            frame = pd.DataFrame({"price": [1.0, 2.0]})
            scores = [1, 2]
            key = lambda row: row
            """),
        CAPTURE_SOURCE,
        f"__nbops_capture__({str(path)!r}, ['model', 'frame', 'scores', 'key', 'nope'], globals())",
        "scores.append(3)\nprint(sorted(k for k in globals() if 'nbops' in k))",
    ]
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    client = NotebookClient(
        nb,
        km=ipc_kernel_manager(tmp_path / "ipc"),
        kernel_name="python3",
        timeout=120,
        resources={"metadata": {"path": str(tmp_path)}},
    )
    client.execute()
    # the capture cells printed nothing and raised nothing; they added one name to the namespace
    assert [c.outputs for c in nb.cells[:3]] == [[], [], []]
    assert nb.cells[3].outputs[0]["text"] == "['__nbops_capture__']\n"

    values = load_capture(path)
    assert isinstance(values["model"], StandIn)
    assert (values["model"].qualname, values["model"].state) == (
        "Model",
        {"w": [0.5, 1.5]},
    )
    assert (
        compare_values(values["frame"], pd.DataFrame({"price": [1.0, 2.0]})).status
        == "equal"
    )
    assert values["scores"] == [1, 2]  # captured before the append
    assert isinstance(values["key"], Unpicklable) and "<lambda>" in values["key"].repr
    assert values["nope"] is MISSING
