"""``nbops.log_model`` of scikit-learn models MLflow 3 saves with skops: the types of installed
libraries a model holds are named trusted (a forest's trees), a class of no installed package
falls back to cloudpickle with a warning, and a format the call chose is left alone."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from wineproject import in_run as wine_run
from wineproject import new_project

from nbops import tracking_api
from nbops.run.tracking import import_mlflow

pytest.importorskip("mlflow")
pytest.importorskip("skops")
np = pytest.importorskip("numpy")
sklearn_base = pytest.importorskip("sklearn.base")
os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")


class Majority(sklearn_base.BaseEstimator, sklearn_base.ClassifierMixin):  # type: ignore[misc]
    """A classifier of this test module: a class no installed package provides."""

    def fit(self, X: Any, y: Any) -> Majority:
        values, counts = np.unique(y, return_counts=True)
        self.label_ = values[counts.argmax()]
        return self

    def predict(self, X: Any) -> Any:
        return np.full(len(X), self.label_)


@pytest.fixture(scope="module")
def tracker(tmp_path_factory: pytest.TempPathFactory) -> Any:
    return new_project(tmp_path_factory.mktemp("project"))


@pytest.fixture
def in_run(tracker: Any) -> Iterator[str]:
    with wine_run(tracker, experiment=f"exp-{uuid.uuid4().hex[:8]}") as run_id:
        yield run_id


def _data() -> tuple[Any, Any]:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 3))
    return X, (X[:, 0] > 0).astype(int)


def _flavor_conf(uri: str, into: Path) -> dict[str, Any]:
    local = import_mlflow("mlflow.artifacts").download_artifacts(uri, dst_path=str(into))
    model = import_mlflow("mlflow.models").Model.load(local)
    return dict(model.flavors["sklearn"])


def test_a_forest_is_saved_with_skops_naming_its_trees_trusted(
    in_run: str, tmp_path: Path
) -> None:
    from sklearn.ensemble import RandomForestClassifier

    X, y = _data()
    forest = RandomForestClassifier(n_estimators=5, random_state=0).fit(X, y)
    uri = tracking_api.log_model(forest)  # MLflow alone refuses: untrusted sklearn...Tree
    assert uri is not None
    conf = _flavor_conf(uri, tmp_path)
    assert conf["serialization_format"] == "skops"
    assert "sklearn.tree._tree.Tree" in conf["skops_trusted_types"]
    loaded = import_mlflow("mlflow.pyfunc").load_model(uri)
    assert list(loaded.predict(X)) == list(forest.predict(X))


def test_a_class_of_no_installed_package_is_saved_with_cloudpickle_and_a_warning(
    in_run: str, tmp_path: Path
) -> None:
    X, y = _data()
    model = Majority().fit(X, y)
    with pytest.warns(UserWarning, match="Majority.*cloudpickle"):
        uri = tracking_api.log_model(model)
    assert uri is not None
    assert _flavor_conf(uri, tmp_path)["serialization_format"] == "cloudpickle"
    loaded = import_mlflow("mlflow.pyfunc").load_model(uri)
    assert list(loaded.predict(X)) == list(model.predict(X))


def test_a_format_the_call_chose_is_left_alone(in_run: str, tmp_path: Path) -> None:
    from sklearn.linear_model import LogisticRegression

    X, y = _data()
    model = LogisticRegression().fit(X, y)
    uri = tracking_api.log_model(model, serialization_format="cloudpickle")
    assert uri is not None
    conf = _flavor_conf(uri, tmp_path)
    assert conf["serialization_format"] == "cloudpickle"
    assert not conf.get("skops_trusted_types")
