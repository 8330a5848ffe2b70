"""Tests for nbops.modularize.compare: the verdict and the one-line detail, kind by kind."""

from __future__ import annotations

import math
import subprocess
import sys
import types
from collections import OrderedDict
from collections.abc import Iterator
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from nbops.modularize.capture import (
    CAPTURE_SOURCE,
    MISSING,
    StandIn,
    Unpicklable,
    load_capture,
)
from nbops.modularize.compare import MAX_DETAIL, Comparison, compare_values

NAN = float("nan")


def check(a: Any, b: Any, status: str, fragment: str = "", **kwargs: Any) -> Comparison:
    """Compare, assert the status and that ``fragment`` is in the detail; both ways round for
    the status (the verdict does not depend on which side is the original)."""
    result = compare_values(a, b, **kwargs)
    assert result.status == status, result.detail
    assert fragment in result.detail
    assert compare_values(b, a, **kwargs).status == status
    return result


# --- numbers ---------------------------------------------------------------------------


NUMBERS = [
    pytest.param(1, 1, "equal", "", id="int"),
    pytest.param(1, 2, "differs", "1 vs 2", id="int-differs"),
    pytest.param(
        10**20, 10**20 + 1, "differs", "vs 100000000000000000001", id="big-int-exact"
    ),
    pytest.param(3, 3.0, "equal", "", id="int-vs-float-same-value"),
    pytest.param(0.1, 0.1 + 1e-12, "equal", "within tolerance", id="float-within-rtol"),
    pytest.param(0.1, 0.1001, "differs", "0.1 vs 0.1001", id="float-differs"),
    pytest.param(NAN, NAN, "equal", "", id="nan-nan"),
    pytest.param(NAN, 0.0, "differs", "nan vs 0.0", id="nan-vs-number"),
    pytest.param(math.inf, math.inf, "equal", "", id="inf-inf"),
    pytest.param(math.inf, -math.inf, "differs", "inf vs -inf", id="inf-vs-minus-inf"),
    pytest.param(np.float64(0.5), 0.5, "equal", "", id="numpy-float-vs-float"),
    pytest.param(np.int64(3), 3, "equal", "", id="numpy-int-vs-int"),
    pytest.param(np.float32(0.1), 0.1, "equal", "", id="float32-vs-float"),
    pytest.param(True, True, "equal", "", id="bool"),
    pytest.param(True, False, "differs", "True vs False", id="bool-differs"),
    pytest.param(np.True_, True, "equal", "", id="numpy-bool-vs-bool"),
    pytest.param(True, 1, "differs", "type bool vs int", id="bool-vs-int"),
    pytest.param(False, 0.0, "differs", "type bool vs float", id="bool-vs-float"),
    pytest.param(Decimal("1.5"), Decimal("1.5"), "equal", "", id="decimal"),
    pytest.param(
        Decimal("1.5"), Decimal("1.6"), "differs", "1.5 vs 1.6", id="decimal-differs"
    ),
    pytest.param(Fraction(1, 3), Fraction(1, 3), "equal", "", id="fraction"),
    pytest.param(Fraction(1, 3), 1 / 3, "equal", "", id="fraction-vs-float"),
    pytest.param(1 + 2j, 1 + 2j + 1e-12, "equal", "", id="complex-within-tolerance"),
    pytest.param(1 + 2j, 1 + 3j, "differs", "(1+2j) vs (1+3j)", id="complex-differs"),
    pytest.param(1, "1", "differs", "type int vs str", id="int-vs-str"),
]


@pytest.mark.parametrize(("a", "b", "status", "fragment"), NUMBERS)
def test_numbers(a: Any, b: Any, status: str, fragment: str) -> None:
    check(a, b, status, fragment)


TOLERANCE = [
    pytest.param(1.0, 1.0 + 0.9e-3, {"rtol": 1e-3}, "equal", id="inside-rtol"),
    pytest.param(1.0, 1.0 + 1.1e-3, {"rtol": 1e-3}, "differs", id="outside-rtol"),
    pytest.param(
        1000.0, 1000.9, {"rtol": 1e-3}, "equal", id="rtol-scales-with-magnitude"
    ),
    pytest.param(0.0, 0.9e-9, {}, "equal", id="inside-default-atol"),
    pytest.param(0.0, 1.1e-9, {}, "differs", id="outside-default-atol"),
    pytest.param(0.0, 0.04, {"atol": 0.05}, "equal", id="inside-atol"),
    pytest.param(0.0, 0.06, {"atol": 0.05}, "differs", id="outside-atol"),
    pytest.param(1.0, 1.0 + 0.5e-7, {}, "equal", id="inside-default-rtol"),
    pytest.param(1.0, 1.0 + 2e-7, {}, "differs", id="outside-default-rtol"),
    pytest.param(5, 6, {"rtol": 0.5}, "differs", id="integers-are-exact-whatever-rtol"),
]


@pytest.mark.parametrize(("a", "b", "tolerance", "status"), TOLERANCE)
@pytest.mark.parametrize("wrap", ["scalar", "array", "series"])
def test_tolerance_edges_are_the_same_for_scalars_arrays_and_series(
    a: float, b: float, tolerance: dict[str, float], status: str, wrap: str
) -> None:
    other = 2 if isinstance(a, int) else 2.0  # integers stay integers
    if wrap == "array":
        a, b = np.array([a, other]), np.array([b, other])
    elif wrap == "series":
        a, b = pd.Series([a, other]), pd.Series([b, other])
    check(a, b, status, **tolerance)


# --- strings, bytes, None ----------------------------------------------------------------

SCALARS = [
    pytest.param("abc", "abc", "equal", "", id="str"),
    pytest.param("abc", "abd", "differs", "'abc' vs 'abd'", id="str-differs"),
    pytest.param(
        "x" * 100, "x" * 60 + "y" + "x" * 39, "differs", "position 60", id="long-str"
    ),
    pytest.param(b"ab", b"ab", "equal", "", id="bytes"),
    pytest.param(b"ab", b"ac", "differs", "b'ab' vs b'ac'", id="bytes-differs"),
    pytest.param(b"ab", "ab", "differs", "type bytes vs str", id="bytes-vs-str"),
    pytest.param(None, None, "equal", "", id="none"),
    pytest.param(None, 0, "differs", "type NoneType vs int", id="none-vs-zero"),
    pytest.param(np.str_("a"), "a", "equal", "", id="numpy-str-vs-str"),
]


@pytest.mark.parametrize(("a", "b", "status", "fragment"), SCALARS)
def test_strings_bytes_none(a: Any, b: Any, status: str, fragment: str) -> None:
    check(a, b, status, fragment)


# --- numpy -------------------------------------------------------------------------------

GRID = np.arange(6.0).reshape(2, 3)
ARRAYS = [
    pytest.param(GRID, GRID.copy(), "equal", "", id="equal"),
    pytest.param(GRID, GRID + 1e-12, "equal", "", id="within-tolerance"),
    pytest.param(
        GRID,
        GRID + np.array([[0, 0, 0], [0, 0.5, 0]]),
        "differs",
        "1 of 6 values differ, max abs diff 0.5, first at [1, 1]: 4.0 vs 4.5",
        id="one-value",
    ),
    pytest.param(GRID, GRID.T, "differs", "shape (2, 3) vs (3, 2)", id="shape"),
    pytest.param(
        np.zeros(3), np.zeros(4), "differs", "shape (3,) vs (4,)", id="length"
    ),
    pytest.param(
        np.array([1.0, NAN]),
        np.array([1.0, NAN]),
        "equal",
        "",
        id="nan-in-the-same-place",
    ),
    pytest.param(
        np.array([1.0, NAN]),
        np.array([NAN, 1.0]),
        "differs",
        "2 of 2 values",
        id="nan-moved",
    ),
    pytest.param(
        np.arange(3),
        np.arange(3.0),
        "equal",
        "dtype int64 vs float64",
        id="int-vs-float-dtype",
    ),
    pytest.param(
        np.arange(3), np.array([0, 1, 3]), "differs", "first at [2]: 2 vs 3", id="ints"
    ),
    pytest.param(
        np.array([True, False]),
        np.array([1, 0]),
        "differs",
        "dtype bool vs int64",
        id="bool-vs-int",
    ),
    pytest.param(np.array(["a", "b"]), np.array(["a", "b"]), "equal", "", id="strings"),
    pytest.param(
        np.array(["a", "b"]),
        np.array(["a", "c"]),
        "differs",
        "[1]: 'b' vs 'c'",
        id="strings-differ",
    ),
    pytest.param(
        np.array([1, "a", None, [1.0]], dtype=object),
        np.array([1, "a", None, [1.0 + 1e-12]], dtype=object),
        "equal",
        "",
        id="object-array-recursive",
    ),
    pytest.param(
        np.array([{"k": 1}, "a"], dtype=object),
        np.array([{"k": 2}, "a"], dtype=object),
        "differs",
        "first at [0]: ['k']: 1 vs 2",
        id="object-array-differs",
    ),
    pytest.param(
        np.array(["2020-01-01", "NaT"], dtype="datetime64[D]"),
        np.array(["2020-01-01", "NaT"], dtype="datetime64[D]"),
        "equal",
        "",
        id="datetimes-nat",
    ),
    pytest.param(np.array(1.5), np.array(2.5), "differs", "1.5 vs 2.5", id="zero-dim"),
    pytest.param(
        np.datetime64("2020-01-01"),
        np.datetime64("2020-01-02"),
        "differs",
        "",
        id="dt64",
    ),
    pytest.param(
        np.arange(3), [0, 1, 2], "differs", "type ndarray vs list", id="array-vs-list"
    ),
]


@pytest.mark.parametrize(("a", "b", "status", "fragment"), ARRAYS)
def test_numpy_arrays(a: Any, b: Any, status: str, fragment: str) -> None:
    check(a, b, status, fragment)


def test_random_generators_compare_by_state() -> None:
    check(np.random.RandomState(0), np.random.RandomState(0), "equal")
    check(np.random.default_rng(0), np.random.default_rng(1), "differs", "state")


# --- pandas ------------------------------------------------------------------------------


def prices() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "price": np.linspace(1.0, 120.0, 120),
            "name": [f"item{i}" for i in range(120)],
        }
    )


def with_cell(frame: pd.DataFrame, row: int, column: str, value: Any) -> pd.DataFrame:
    changed = frame.copy()
    changed.loc[row, column] = value
    return changed


FRAMES = [
    pytest.param(prices(), prices(), "equal", "", id="equal"),
    pytest.param(
        prices(),
        prices().assign(price=lambda f: f.price + 1e-12),
        "equal",
        "",
        id="tol",
    ),
    pytest.param(
        prices(),
        with_cell(prices(), 5, "price", 99.0),
        "differs",
        "column 'price': 1 of 120 values differ, max abs diff 93, first at row 5: 6.0 vs 99.0",
        id="one-changed-cell",
    ),
    pytest.param(
        prices(),
        with_cell(prices(), 7, "name", "other"),
        "differs",
        "column 'name': 1 of 120 values differ, first at row 7: 'item7' vs 'other'",
        id="one-changed-string",
    ),
    pytest.param(
        prices(),
        prices().assign(extra=1),
        "differs",
        "shape (120, 2) vs (120, 3); columns only in generated: ['extra']",
        id="extra-column",
    ),
    pytest.param(
        prices(),
        prices()[["name", "price"]],
        "differs",
        "columns in a different order",
        id="order",
    ),
    pytest.param(
        prices(),
        prices().iloc[:100],
        "differs",
        "shape (120, 2) vs (100, 2)",
        id="rows",
    ),
    pytest.param(
        prices(),
        prices().set_axis(range(1, 121)),
        "differs",
        "index labels only in original: [0]; index labels only in generated: [120]",
        id="index",
    ),
    pytest.param(
        prices(),
        prices().astype({"price": "float32"}),
        "differs",
        "column 'price': dtype float64 vs float32",
        id="dtype",
    ),
    pytest.param(
        pd.DataFrame({"x": [1.0, NAN]}),
        pd.DataFrame({"x": [1.0, NAN]}),
        "equal",
        "",
        id="nan",
    ),
    pytest.param(
        pd.DataFrame({"x": ["a", None]}),
        pd.DataFrame({"x": ["a", None]}),
        "equal",
        "",
        id="none",
    ),
    pytest.param(
        prices(),
        prices()["price"],
        "differs",
        "type DataFrame vs Series",
        id="vs-series",
    ),
    pytest.param(
        prices()["price"],
        with_cell(prices(), 3, "price", 0.0)["price"],
        "differs",
        "1 of 120 values differ, max abs diff 4, first at row 3: 4.0 vs 0.0",
        id="series",
    ),
    pytest.param(
        prices()["price"],
        prices()["price"].rename("cost"),
        "differs",
        "name 'price' vs 'cost'",
        id="series-name",
    ),
    pytest.param(
        pd.Index([1, 2, 3]), pd.Index([1, 2, 3]), "equal", "", id="index-equal"
    ),
    pytest.param(
        pd.Index(["a", "b"]),
        pd.Index(["a", "c"]),
        "differs",
        "labels only in original: ['b']",
        id="index-differs",
    ),
    pytest.param(
        pd.Categorical(["a", "b"]),
        pd.Categorical(["a", "b"]),
        "equal",
        "",
        id="categorical",
    ),
    pytest.param(
        pd.Categorical(["a", "b"]),
        pd.Categorical(["a", "c"]),
        "differs",
        "dtype",
        id="categories",
    ),
]


@pytest.mark.parametrize(("a", "b", "status", "fragment"), FRAMES)
def test_pandas(a: Any, b: Any, status: str, fragment: str) -> None:
    result = check(a, b, status, fragment)
    assert "\n" not in result.detail  # one line, not pandas' message


# --- estimators --------------------------------------------------------------------------


def features(seed: int, rows: int = 80) -> tuple[pd.DataFrame, pd.Series]:
    rng = np.random.RandomState(seed)
    X = pd.DataFrame(rng.normal(size=(rows, 3)), columns=["a", "b", "c"])
    return X, (X.a + X.b > 0).astype(int)


X, Y = features(0)
X_OTHER, Y_OTHER = features(1)


def fitted(model: Any, data: tuple[pd.DataFrame, pd.Series] = (X, Y)) -> Any:
    return model.fit(*data)


class Flaky(BaseEstimator, ClassifierMixin):
    """predict fails when the model was told so after fitting (params stay equal)."""

    def fit(self, X: Any, y: Any) -> Flaky:
        self.n_features_in_ = X.shape[1]
        self.classes_ = np.unique(y)
        return self

    def predict(self, X: Any) -> Any:
        if getattr(self, "broken_", False):
            raise RuntimeError("boom")
        return np.zeros(len(X))


def broken(model: Flaky) -> Flaky:
    model.broken_ = True
    return model


def test_same_model_same_data_is_equal_on_a_dataframe_probe() -> None:
    result = check(
        fitted(LogisticRegression()),
        fitted(LogisticRegression()),
        "equal",
        probes={"X_test": X},
    )
    assert result.detail == "same params and same predictions on 1 probe (X_test)"


def test_same_model_other_data_differs_on_a_dataframe_probe() -> None:
    a, b = fitted(LogisticRegression()), fitted(
        LogisticRegression(), (X_OTHER, Y_OTHER)
    )
    result = check(a, b, "differs", "(X_test): ", probes={"X_test": X, "y": Y})
    assert result.detail.startswith(("predict(X_test)", "predict_proba(X_test)"))
    assert "values differ" in result.detail


ESTIMATORS = [
    pytest.param(
        LogisticRegression(),
        LogisticRegression(),
        {},
        "equal",
        "not fitted",
        id="unfit",
    ),
    pytest.param(
        LogisticRegression(C=1.0),
        LogisticRegression(C=2.0),
        {},
        "differs",
        "params['C']: 1.0 vs 2.0",
        id="params",
    ),
    pytest.param(
        LogisticRegression(),
        StandardScaler(),
        {},
        "differs",
        "class LogisticRegression vs St",
        id="class",
    ),
    pytest.param(
        fitted(LogisticRegression()),
        LogisticRegression(),
        {},
        "differs",
        "fitted in the original",
        id="fitted-on-one-side",
    ),
    pytest.param(
        fitted(LogisticRegression()),
        fitted(LogisticRegression()),
        {},
        "equal",
        "same params and fitted attributes (classes_, coef_",
        id="no-probe-attributes-equal",
    ),
    pytest.param(
        fitted(LogisticRegression()),
        fitted(LogisticRegression(), (X_OTHER, Y_OTHER)),
        {},
        "differs",
        "coef_: 3 of 3 values differ",
        id="no-probe-attributes-differ",
    ),
    pytest.param(
        fitted(LogisticRegression()),
        fitted(LogisticRegression(), (X_OTHER, Y_OTHER)),
        {"probes": [X[["c", "b", "a"]], X.to_numpy(), X[["a", "b"]]]},
        "differs",
        "coef_",
        id="probes-without-the-feature-names-are-skipped",
    ),
    pytest.param(
        fitted(LogisticRegression(), (X.to_numpy(), Y)),
        fitted(LogisticRegression(), (X_OTHER.to_numpy(), Y_OTHER)),
        {"probes": [X.to_numpy()]},
        "differs",
        "(probe 1): ",
        id="ndarray-probe",
    ),
    pytest.param(
        fitted(make_pipeline(StandardScaler(), LogisticRegression())),
        fitted(make_pipeline(StandardScaler(), LogisticRegression())),
        {"probes": [X]},
        "equal",
        "same predictions",
        id="pipeline-equal",
    ),
    pytest.param(
        fitted(make_pipeline(StandardScaler(), LogisticRegression())),
        fitted(
            make_pipeline(StandardScaler(), LogisticRegression()), (X_OTHER, Y_OTHER)
        ),
        {"probes": [X]},
        "differs",
        "params['steps'][0][1]",
        id="pipeline-nested-estimator-differs",
    ),
    pytest.param(
        fitted(Flaky()),
        broken(fitted(Flaky())),
        {"probes": [X]},
        "not comparable",
        "predict(probe 1) failed for the generated model only: RuntimeError: boom",
        id="predict-raises",
    ),
    pytest.param(
        broken(fitted(Flaky())),
        broken(fitted(Flaky())),
        {"probes": [X]},
        "equal",
        "(predict(probe 1) failed: RuntimeError: boom)",
        id="predict-raises-on-both-falls-back-to-attributes",
    ),
]


@pytest.mark.parametrize(("a", "b", "kwargs", "status", "fragment"), ESTIMATORS)
def test_estimators(
    a: Any, b: Any, kwargs: dict[str, Any], status: str, fragment: str
) -> None:
    result = compare_values(a, b, **kwargs)
    assert result.status == status, result.detail
    assert fragment in result.detail


# --- containers --------------------------------------------------------------------------

CONTAINERS = [
    pytest.param({"a": 1, "b": [1.0]}, {"b": [1.0], "a": 1}, "equal", "", id="dict"),
    pytest.param(
        {"auc": 0.91, "n": 3},
        {"auc": 0.87, "n": 3},
        "differs",
        "['auc']: 0.91 vs 0.87",
        id="dict-value",
    ),
    pytest.param(
        {"scores": [0.1, 0.2, 0.5]},
        {"scores": [0.1, 0.2, 0.7]},
        "differs",
        "['scores'][2]: 0.5 vs 0.7",
        id="nested-path",
    ),
    pytest.param(
        {"a": 1, "b": 2},
        {"a": 1, "c": 2},
        "differs",
        "keys only in original: ['b']; keys only in generated: ['c']",
        id="dict-keys",
    ),
    pytest.param(
        {"a": 1},
        OrderedDict(a=1),
        "differs",
        "type dict vs OrderedDict",
        id="dict-vs-ordereddict",
    ),
    pytest.param([1, 2], [1, 2], "equal", "", id="list"),
    pytest.param([1, 2], [1, 2, 3], "differs", "length 2 vs 3", id="list-length"),
    pytest.param([1, 2], (1, 2), "differs", "type list vs tuple", id="list-vs-tuple"),
    pytest.param((1, "a"), (1, "b"), "differs", "[1]: 'a' vs 'b'", id="tuple"),
    pytest.param({1, 2}, {2, 1}, "equal", "", id="set"),
    pytest.param(
        {1.0, 2.0}, {1.0 + 1e-12, 2.0}, "equal", "", id="set-within-tolerance"
    ),
    pytest.param(
        {1, 2},
        {1, 3},
        "differs",
        "items only in original: [2]; items only in generated: [3]",
        id="set-differs",
    ),
    pytest.param(frozenset({1}), frozenset({1}), "equal", "", id="frozenset"),
    pytest.param(
        frozenset({1}), {1}, "differs", "type frozenset vs set", id="frozenset-vs-set"
    ),
    pytest.param(
        [np.arange(3), {"k": NAN}], [np.arange(3), {"k": NAN}], "equal", "", id="mixed"
    ),
]


@pytest.mark.parametrize(("a", "b", "status", "fragment"), CONTAINERS)
def test_containers(a: Any, b: Any, status: str, fragment: str) -> None:
    check(a, b, status, fragment)


def self_referencing(last: int) -> list[Any]:
    items: list[Any] = [1, last]
    items.append(items)
    return items


def nested(depth: int, leaf: Any) -> Any:
    value = leaf
    for _ in range(depth):
        value = [value]
    return value


def test_cycles_terminate() -> None:
    check(self_referencing(2), self_referencing(2), "equal")
    check(self_referencing(2), self_referencing(3), "differs", "[1]: 2 vs 3")


def test_deep_nesting_is_not_comparable_and_does_not_overflow() -> None:
    result = check(
        nested(5000, 1), nested(5000, 1), "not comparable", "nested deeper than"
    )
    assert len(result.detail) <= MAX_DETAIL
    check(nested(50, 1), nested(50, 2), "differs", "[0][0]")


def test_huge_containers_compare_and_details_are_capped() -> None:
    big = list(range(200_000))
    check(big, list(big), "equal")
    keys_a = {f"{'k' * 200}{i}": i for i in range(1000)}
    keys_b = {f"{'j' * 200}{i}": i for i in range(1000)}
    result = check(keys_a, keys_b, "differs", "keys only in original")
    assert len(result.detail) <= MAX_DETAIL


# --- missing and unpicklable values ------------------------------------------------------

LAMBDA = Unpicklable(
    "builtins.function", "<function <lambda> at 0x7f00>", "PicklingError: ..."
)
LOCK = Unpicklable(
    "_thread.lock", "<unlocked _thread.lock object at 0x7f01>", "TypeError: ..."
)
GEN_A = Unpicklable("pkg.Handle", "Handle('db')", "TypeError: cannot pickle")

MARKERS = [
    pytest.param(
        MISSING, MISSING, "equal", "not defined in either run", id="missing-both"
    ),
    pytest.param(
        MISSING,
        1,
        "differs",
        "defined in the generated run only",
        id="missing-original",
    ),
    pytest.param(
        1,
        MISSING,
        "differs",
        "defined in the original run only",
        id="missing-generated",
    ),
    pytest.param(
        LAMBDA,
        LAMBDA,
        "not comparable",
        "neither run could capture it",
        id="lambda-both",
    ),
    pytest.param(
        LAMBDA,
        1,
        "not comparable",
        "the original run could not capture it (PicklingError",
        id="one",
    ),
    pytest.param(
        GEN_A, GEN_A, "equal", "judged by repr", id="same-repr-without-address"
    ),
    pytest.param(
        GEN_A,
        Unpicklable("pkg.Handle", "Handle('other')", "x"),
        "not comparable",
        "",
        id="repr-differs",
    ),
    pytest.param(
        Unpicklable("t.T", "x" * 500, "e"),
        Unpicklable("t.T", "x" * 500, "e"),
        "not comparable",
        "",
        id="truncated-repr",
    ),
    pytest.param(LOCK, LOCK, "not comparable", "", id="repr-with-address"),
    pytest.param(
        MISSING,
        LAMBDA,
        "differs",
        "defined in the generated run only",
        id="missing-wins",
    ),
]


@pytest.mark.parametrize(("a", "b", "status", "fragment"), MARKERS)
def test_missing_and_unpicklable(a: Any, b: Any, status: str, fragment: str) -> None:
    result = compare_values(a, b)
    assert result.status == status, result.detail
    assert fragment in result.detail


# --- stand-ins and generic objects ------------------------------------------------------


class Model:
    def __init__(self, w: Any, name: str = "m") -> None:
        self.w = w
        self.name = name


class Other:
    def __init__(self, w: Any) -> None:
        self.w = w


@pytest.fixture
def stand_in(tmp_path: Path) -> Iterator[Any]:
    """``stand_in(obj, module)``: ``obj`` pickled as an instance of ``module.Model`` (a module
    made up for the test) and loaded back with that module local: a StandIn."""
    counter = iter(range(1000))

    def make(obj: Any, module: str) -> Any:
        cls = type(type(obj).__name__, (), {"__module__": module})
        home = sys.modules.get(module) or types.ModuleType(module)  # __main__ exists
        setattr(home, cls.__name__, cls)  # where pickle looks the class up
        sys.modules.setdefault(module, home)
        copy = cls.__new__(cls)
        copy.__dict__.update(vars(obj))
        path = tmp_path / f"{next(counter)}.pkl"
        runner: dict[str, Any] = {}
        exec(CAPTURE_SOURCE, runner)  # noqa: S102 - as verify does in a kernel
        try:
            runner["__nbops_capture__"](str(path), ["value"], {"value": copy})
        finally:
            delattr(home, cls.__name__)
            if home.__name__ != "__main__":
                del sys.modules[module]
        return load_capture(path, [module])["value"]

    yield make


def test_stand_ins_compare_by_class_name_and_state(stand_in: Any) -> None:
    a, b = stand_in(Model([1.0, 2.0]), "__main__"), stand_in(
        Model([1.0, 2.0]), "generated_mod"
    )
    assert isinstance(a, StandIn) and (a.module, b.module) == (
        "__main__",
        "generated_mod",
    )
    check(a, b, "equal")
    check(
        a,
        stand_in(Model([1.0, 2.5]), "generated_mod"),
        "differs",
        "Model.w[1]: 2.0 vs 2.5",
    )
    check(
        a,
        stand_in(Model([1.0, 2.0], "n"), "generated_mod"),
        "differs",
        "Model.name: 'm' vs 'n'",
    )
    check(
        a,
        stand_in(Other([1.0, 2.0]), "generated_mod"),
        "differs",
        "class Model vs Other",
    )
    check(
        {"m": a},
        {"m": stand_in(Model([1, 3]), "generated_mod")},
        "differs",
        "['m'].w[1]: 2.0 vs 3",
    )


def test_a_stand_in_equals_a_plain_object_of_the_same_name_and_state(
    stand_in: Any,
) -> None:
    check(stand_in(Model([1.0]), "__main__"), Model([1.0]), "equal")
    check(stand_in(Model([1.0]), "__main__"), Model([2.0]), "differs", "Model.w[0]")
    check(stand_in(Model([1.0]), "__main__"), 1.0, "differs", "type Model vs float")


class WithEq:
    def __init__(self, v: Any) -> None:
        self.v = v

    def __eq__(self, other: object) -> bool:
        return isinstance(other, WithEq) and self.v == other.v


class EqRaises:
    def __eq__(self, other: object) -> bool:
        raise TypeError("cannot compare")


class EqNotBool:
    def __eq__(self, other: object) -> Any:
        return "maybe"


class Slotted:
    __slots__ = ("v",)

    def __init__(self, v: Any) -> None:
        self.v = v


def figure() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig = plt.figure()
    plt.close(fig)
    return fig


OBJECTS = [
    pytest.param(WithEq(1), WithEq(1), "equal", "", id="custom-eq-true"),
    pytest.param(WithEq(1), WithEq(2), "differs", "vs", id="custom-eq-false"),
    pytest.param(
        EqRaises(), EqRaises(), "not comparable", "== raised TypeError", id="eq-raises"
    ),
    pytest.param(
        EqNotBool(), EqNotBool(), "not comparable", "returned a str", id="eq-not-bool"
    ),
    pytest.param(Model(1), Model(1), "equal", "", id="plain-object"),
    pytest.param(
        Model(1), Model(2), "differs", "Model.w: 1 vs 2", id="plain-object-differs"
    ),
    pytest.param(
        Slotted(1), Slotted(1), "not comparable", "identity only", id="no-dict-no-eq"
    ),
    pytest.param(object(), object(), "not comparable", "identity only", id="object"),
    pytest.param(
        figure(), figure(), "not comparable", "matplotlib Figure", id="figure"
    ),
    pytest.param(len, len, "equal", "", id="builtin"),
    pytest.param(math.sqrt, math.floor, "differs", "sqrt vs floor", id="functions"),
    pytest.param(Model, Model, "equal", "", id="class"),
    pytest.param(Path("a"), Path("a"), "equal", "", id="path"),
    pytest.param(
        Path("a"),
        Path("b"),
        "differs",
        "PosixPath('a') vs PosixPath('b')",
        id="path-differs",
    ),
]


@pytest.mark.parametrize(("a", "b", "status", "fragment"), OBJECTS)
def test_generic_objects(a: Any, b: Any, status: str, fragment: str) -> None:
    check(a, b, status, fragment)


def test_estimator_params_compare_callables_by_name() -> None:
    from sklearn.preprocessing import FunctionTransformer

    check(FunctionTransformer(np.log1p), FunctionTransformer(np.log1p), "equal")
    check(FunctionTransformer(len), FunctionTransformer(len), "equal")
    check(
        FunctionTransformer(np.log1p),
        FunctionTransformer(np.sqrt),
        "differs",
        "log1p vs sqrt",
    )


def test_compare_never_raises_and_caps_the_detail() -> None:
    class Hostile:
        def __eq__(self, other: object) -> bool:
            raise RecursionError("deep")

        def __repr__(self) -> str:
            raise ValueError("no repr")

    assert compare_values(Hostile(), Hostile()).status == "not comparable"
    long = compare_values("a" * 10_000 + "b", "a" * 10_000 + "c")
    assert long.status == "differs" and len(long.detail) <= MAX_DETAIL


def test_the_modules_import_with_the_standard_library_only() -> None:
    code = (
        "import sys, nbops.modularize.capture, nbops.modularize.compare\n"
        "print(sorted({'numpy', 'pandas', 'sklearn', 'matplotlib'} & set(sys.modules)))"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code],
        check=False,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"


def test_paths_tempfile_made_compare_without_their_random_part(tmp_path: Path) -> None:
    import tempfile

    a, b = Path(tempfile.mkdtemp()), Path(tempfile.mkdtemp())
    try:
        assert compare_values(a, b).status == "equal"
        assert "temporary paths" in compare_values(a, b).detail
        assert compare_values(str(a / "out.csv"), str(b / "out.csv")).status == "equal"
        # the rest of the path still counts; a str is no Path; other paths compare as written
        assert compare_values(str(a / "out.csv"), str(b / "in.csv")).status == "differs"
        assert compare_values(a, str(b)).status == "differs"
        assert compare_values(Path("/data/tmpab12cd34"), Path("/data/tmpzz99yy88")).status == "differs"
    finally:
        a.rmdir()
        b.rmdir()
