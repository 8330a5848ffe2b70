"""A logged model's pip requirements read off its pickle, checked against MLflow's inference."""

from __future__ import annotations

import collections
import datetime
import decimal
import fractions
import importlib
import importlib.metadata
import importlib.util
import io
import json
import pathlib
import pickle
import subprocess
import sys
import threading
import uuid
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nbops.run import requirements

np = pytest.importorskip("numpy")
pd = pytest.importorskip("pandas")
cloudpickle = pytest.importorskip("cloudpickle")
pytest.importorskip("mlflow.sklearn")
pytest.importorskip("sklearn")

from hypothesis.extra import numpy as hnp
from sklearn.compose import ColumnTransformer
from sklearn.datasets import load_wine
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler

STDLIB = set(sys.stdlib_module_names)


def _norm(name: str) -> str:
    return requirements._normalize(name)


def _pins(reqs: list[str]) -> dict[str, str]:
    return {_norm(r.split("==")[0]): r.split("==")[1] for r in reqs}


def _requires_recursive(names: set[str]) -> set[str]:
    """Every distribution the distributions ``names`` need (importlib.metadata's requires)."""
    from packaging.requirements import Requirement

    seen: set[str] = set()
    todo = list(names)
    while todo:
        try:
            reqs = importlib.metadata.requires(todo.pop()) or []
        except importlib.metadata.PackageNotFoundError:
            continue
        for text in reqs:
            req = Requirement(text)
            if req.marker is not None and not req.marker.evaluate({"extra": ""}):
                continue
            if (name := _norm(req.name)) not in seen:
                seen.add(name)
                todo.append(name)
    return seen


def _main_function() -> Any:
    """A function defined in a ``__main__`` namespace (as in a notebook) that uses numpy:
    cloudpickle pickles it by value, naming numpy through ``subimport``."""
    namespace: dict[str, Any] = {"__name__": "__main__"}
    exec("import numpy as np\n\ndef log1p_abs(x):\n    return np.log1p(np.abs(x))\n", namespace)  # noqa: S102 - a notebook cell's definition
    return namespace["log1p_abs"]


def _wine() -> tuple[Any, Any]:
    x, y = load_wine(return_X_y=True, as_frame=True)
    return x, y


def _models() -> list[tuple[str, Any, Any, str]]:
    """(id, fitted model, inputs, MLflow serialization format)."""
    x, y = _wine()
    frame = pd.DataFrame({"colour": ["red", "white", "rose", "red"] * 10,
                          "alcohol": np.linspace(9.0, 14.0, 40)})
    target = np.arange(40) % 2
    column = make_pipeline(
        ColumnTransformer([("onehot", OneHotEncoder(handle_unknown="ignore"), ["colour"])],
                          remainder="passthrough"),
        LogisticRegression(max_iter=500))
    function = make_pipeline(FunctionTransformer(_main_function()), LogisticRegression(max_iter=500))
    return [
        ("wine", make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)).fit(x, y), x,
         "skops"),
        # skops refuses a forest's trees unless trusted: cloudpickle, as a user would
        ("forest", RandomForestClassifier(n_estimators=5, random_state=0).fit(x, y), x,
         "cloudpickle"),
        ("columns", column.fit(frame, target), frame, "skops"),
        ("function", function.fit(x, y), x, "cloudpickle"),
    ]


MODELS = _models()


def _top_modules_of(distribution: str) -> set[str]:
    return {top for top, dists in importlib.metadata.packages_distributions().items()
            if distribution in {_norm(d) for d in dists}}


def _loads_without(path: Path, blocked: set[str], data: Path) -> list[Any]:
    """The predictions of the saved model loaded in a fresh Python where ``blocked`` modules
    cannot be imported."""
    script = (
        "import json, sys\n"
        f"for name in {sorted(blocked)!r}:\n"
        "    sys.modules[name] = None\n"
        "import pandas, mlflow.pyfunc\n"
        f"model = mlflow.pyfunc.load_model({str(path)!r})\n"
        f"print(json.dumps(model.predict(pandas.read_pickle({str(data)!r})).tolist()))\n"
    )
    r = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                       timeout=300, check=False)
    assert r.returncode == 0, r.stderr[-3000:]
    return list(json.loads(r.stdout.strip().splitlines()[-1]))


@pytest.mark.slow
@pytest.mark.parametrize(("model", "x", "fmt"), [m[1:] for m in MODELS], ids=[m[0] for m in MODELS])
def test_ours_covers_what_mlflow_infers(tmp_path: Path, model: Any, x: Any, fmt: str) -> None:
    import mlflow.sklearn
    from mlflow.utils.environment import infer_pip_requirements

    ours = requirements.pip_requirements(model, "sklearn", serialization_format=fmt)
    assert ours is not None and ours == sorted(set(ours))
    saved = tmp_path / "model"
    mlflow.sklearn.save_model(model, str(saved), serialization_format=fmt, pip_requirements=[])
    theirs = _pins(infer_pip_requirements(str(saved), "sklearn"))
    pinned = _pins(ours)
    assert theirs["scikit-learn"] == pinned["scikit-learn"]
    for name, version in theirs.items():
        if name in pinned:
            assert pinned[name] == version, name
    missing = set(theirs) - set(pinned)
    # a distribution we leave out is either needed by one we list (installed with it) ...
    needed = _requires_recursive(set(pinned) - {"mlflow"})
    incidental = missing - needed - _requires_recursive({"mlflow"})
    # ... or imported by the libraries' loaders only because it is installed (pytest by
    # sklearn's test helpers, rich, dask...): the model loads and predicts without it
    if incidental:
        blocked = set().union(*(_top_modules_of(name) for name in incidental))
        assert blocked, incidental
        data = tmp_path / "x.pkl"
        x.head(20).to_pickle(data)
        assert _loads_without(saved, blocked, data) == model.predict(x.head(20)).tolist()


def test_the_wine_pipeline_pins_sklearn_numpy_skops_and_mlflow() -> None:
    import mlflow
    import numpy
    import sklearn
    import skops

    model = MODELS[0][1]
    assert requirements.pip_requirements(model, "sklearn", serialization_format="skops") == [
        f"mlflow=={mlflow.__version__}", f"numpy=={numpy.__version__}",
        f"scikit-learn=={sklearn.__version__}", f"skops=={skops.__version__}"]
    cloud = requirements.pip_requirements(model, "sklearn", serialization_format="cloudpickle")
    assert cloud is not None and f"cloudpickle=={cloudpickle.__version__}" in cloud
    assert not any(r.startswith("skops==") for r in cloud)


def test_a_function_pickled_by_value_names_the_modules_it_uses() -> None:
    modules = requirements.pickled_modules(FunctionTransformer(_main_function()))
    assert "numpy" in modules  # only through cloudpickle's subimport: no numpy global
    assert "__main__" not in modules


def test_a_model_that_cannot_be_pickled_or_an_unknown_flavor_gives_none() -> None:
    locked = FunctionTransformer(kw_args={"lock": threading.Lock()})
    assert requirements.pip_requirements(locked, "sklearn") is None
    assert requirements.pip_requirements(MODELS[0][1], "pyfunc") is None
    assert requirements.pip_requirements(MODELS[0][1], "pytorch") is None


def test_a_module_of_no_distribution_gives_none(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                                ) -> None:
    (tmp_path / "nbops_local_features.py").write_text("class Doubler:\n    factor = 2\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    local = importlib.import_module("nbops_local_features")
    try:
        model = FunctionTransformer(kw_args={"helper": local.Doubler()})
        assert "nbops_local_features" in requirements.pickled_modules(model)
        assert requirements.pip_requirements(model, "sklearn") is None
    finally:
        sys.modules.pop("nbops_local_features", None)


def test_modules_map_to_the_distributions_importlib_finds() -> None:
    expected = importlib.metadata.packages_distributions()
    for top in expected:
        spec = importlib.util.find_spec(top) if top.isidentifier() else None
        if spec is not None and spec.origin in (None, "namespace") and top not in sys.modules:
            importlib.import_module(top)  # a namespace package: nothing runs
    assert {top: requirements.distributions_of(top) for top in expected} == {
        top: sorted({_norm(d) for d in dists}) for top, dists in expected.items()}
    assert requirements.distributions_of("sklearn") == ["scikit-learn"]
    assert requirements.distributions_of("no_such_module_here") == []


# ---- the pickle scan, against what unpickling imports ----------------------------------------

class _Recorder(pickle.Unpickler):
    def __init__(self, data: bytes, buffers: list[Any]) -> None:
        super().__init__(io.BytesIO(data), buffers=buffers)
        self.globals: set[tuple[str, str]] = set()

    def find_class(self, module: str, name: str) -> Any:
        self.globals.add((module, name))
        return super().find_class(module, name)


_leaf = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=5),
    st.binary(max_size=5), st.complex_numbers(allow_nan=False),
    st.dates(), st.datetimes(), st.timedeltas(),
    st.decimals(allow_nan=False), st.fractions(), st.uuids(),
    st.builds(pathlib.PurePosixPath, st.text("ab/", max_size=5)),
    hnp.arrays(st.sampled_from(["int32", "float64", "bool", "<U3"]), hnp.array_shapes(max_dims=2)),
    hnp.arrays("float64", st.integers(2, 6)).map(lambda a: a[::2]),  # not contiguous: in band
    st.sampled_from([np.float32(1.5), np.int64(3), np.dtype("int16"), np.bool_(True)]),
)
_tree = st.recursive(_leaf, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.tuples(inner, inner),
    st.dictionaries(st.text(max_size=3), inner, max_size=3),
    st.lists(inner, max_size=3).map(collections.deque),
    st.dictionaries(st.text(max_size=3), inner, max_size=3).map(collections.OrderedDict),
    st.lists(st.text(max_size=2), max_size=4).map(collections.Counter),
), max_leaves=12)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_tree)
def test_the_scan_finds_exactly_the_globals_unpickling_loads(obj: Any) -> None:
    buffers: list[Any] = []
    data = cloudpickle.dumps(obj, protocol=5, buffer_callback=buffers.append)
    recorder = _Recorder(data, buffers)
    recorder.load()
    assert requirements.pickle_globals(data) == recorder.globals
    modules = requirements.pickled_modules(obj)
    assert modules == {module for module, _ in recorder.globals}
    assert {m.split(".")[0] for m in modules} - STDLIB <= {"numpy"}


def test_the_standard_library_never_appears() -> None:
    stdlib_things = {"when": datetime.datetime(2026, 1, 2), "money": decimal.Decimal("1.5"),
                     "ratio": fractions.Fraction(1, 3), "id": uuid.uuid4(),
                     "order": collections.OrderedDict(a=1), "queue": collections.deque([1]),
                     "path": pathlib.PurePosixPath("a/b")}
    model = make_pipeline(FunctionTransformer(kw_args=stdlib_things), LogisticRegression())
    modules = requirements.pickled_modules(model)
    assert {"datetime", "decimal", "fractions", "uuid", "collections", "pathlib"} <= {
        m.split(".")[0] for m in modules}
    reqs = requirements.pip_requirements(model, "sklearn", serialization_format="cloudpickle")
    assert reqs is not None
    names = {_norm(r.split("==")[0]) for r in reqs}
    assert names == {"cloudpickle", "mlflow", "scikit-learn"}
    assert not names & {_norm(m) for m in STDLIB}
