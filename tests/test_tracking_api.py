"""``nbops.log_model``: flavors, the signature and input example from ``X``, the reference data.

A real SQLite MLflow store; a real ``nbops run`` of a notebook that logs its model with its
training inputs, promoted and loaded back with ``mlflow.pyfunc``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from nbops import tracking_api
from nbops.core.snippets import notebook_from_snippet
from nbops.errors import UsageError
from nbops.run import model_log
from nbops.run.tracking import MlflowTracker, default_tracking_uri, import_mlflow

pytest.importorskip("mlflow")
np = pytest.importorskip("numpy")
pd = pytest.importorskip("pandas")
os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")  # tests never phone home


@pytest.fixture(scope="module")
def tracker(tmp_path_factory: pytest.TempPathFactory) -> MlflowTracker:
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv("MLFLOW_TRACKING_URI", raising=False)
        return MlflowTracker(default_tracking_uri(tmp_path_factory.mktemp("store")))


@pytest.fixture
def in_run(tracker: MlflowTracker, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    run_id = tracker.start_run(f"exp-{uuid.uuid4().hex[:8]}", "nb", {}, {})
    for key, value in tracker.kernel_env(run_id).items():
        monkeypatch.setenv(key, value)
    yield run_id


def _frame(rows: int = 40) -> Any:
    rng = np.random.default_rng(1)
    return pd.DataFrame(
        {"alcohol": rng.normal(13, 1, rows), "ash": rng.normal(2, 0.3, rows)}
    )


def _fitted(frame: Any) -> Any:
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    labels = (frame.iloc[:, 0] > np.median(frame.iloc[:, 0])).astype(int)
    return make_pipeline(StandardScaler(), LogisticRegression()).fit(frame, labels)


def _artifact(tracker: MlflowTracker, run_id: str, path: str, into: Path) -> Path:
    return Path(tracker.client.download_artifacts(run_id, path, str(into)))


# ----------------------------------------------------------------------------- flavors


def test_the_flavor_is_read_off_the_models_class_without_importing_anything() -> None:
    from sklearn.linear_model import LinearRegression
    from sklearn.pipeline import make_pipeline

    mlflow_pyfunc = import_mlflow("mlflow.pyfunc")

    class Constant(mlflow_pyfunc.PythonModel):  # type: ignore[misc]
        def predict(self, context: Any, model_input: Any) -> Any:
            return [1] * len(model_input)

    def score(frame: Any) -> Any:
        return frame

    assert tracking_api.model_flavor(LinearRegression()) == "sklearn"
    assert tracking_api.model_flavor(make_pipeline(LinearRegression())) == "sklearn"
    assert tracking_api.model_flavor(Constant()) == "pyfunc"
    assert tracking_api.model_flavor(score) == "pyfunc"
    assert tracking_api.model_flavor(object()) is None
    assert tracking_api.model_flavor(lambda x: x) == "pyfunc"
    assert tracking_api.model_flavor("model.pkl") is None
    before = set(sys.modules)
    for model in (LinearRegression(), object(), score):
        tracking_api.model_flavor(model)
    assert set(sys.modules) == before  # no torch, tensorflow, xgboost loaded to look


def test_a_library_models_flavor_wins_over_scikit_learns() -> None:
    xgboost = pytest.importorskip("xgboost", reason="xgboost is not installed here")
    assert tracking_api.model_flavor(xgboost.XGBClassifier()) == "xgboost"


def test_a_lightgbm_model_is_lightgbm() -> None:
    lightgbm = pytest.importorskip("lightgbm", reason="lightgbm is not installed here")
    assert tracking_api.model_flavor(lightgbm.LGBMClassifier()) == "lightgbm"


def test_an_unsupported_object_is_a_usage_error_naming_its_type(in_run: str) -> None:
    class Oracle:
        def predict(self, rows: Any) -> Any:
            return rows

    with pytest.raises(UsageError, match=r"cannot log a .*Oracle: MLflow has no flavor") as info:
        tracking_api.log_model(Oracle())
    assert "PythonModel" in (info.value.hint or "")


def test_x_of_another_type_is_a_usage_error(in_run: str) -> None:
    model = _fitted(_frame())
    with pytest.raises(UsageError, match="X is a str") as info:
        tracking_api.log_model(model, "train.csv")
    assert "DataFrame" in (info.value.hint or "")


# ------------------------------------------------------------------- with the data X


def test_a_frame_gives_signature_input_example_sample_and_profile(
    tracker: MlflowTracker, in_run: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NBOPS_TEST_SECRET", "s3cr3t-token-value")
    frame = _frame(1500)
    model = _fitted(frame)
    uri = tracking_api.log_model(model, frame, pip_requirements=["scikit-learn"])
    assert uri is not None
    loaded = import_mlflow("mlflow.pyfunc").load_model(uri)
    signature = loaded.metadata.signature
    assert signature.inputs.input_names() == ["alcohol", "ash"]
    assert signature.outputs is not None
    assert loaded.metadata.saved_input_example_info["type"] == "dataframe"
    assert list(loaded.predict(frame.head(3))) == list(model.predict(frame.head(3)))

    folder = _artifact(tracker, in_run, "reference", tmp_path)
    assert sorted(p.name for p in folder.iterdir()) == ["profile.json", "sample.parquet"]
    kept = pd.read_parquet(folder / "sample.parquet")
    assert len(kept) == 1000 and list(kept.columns) == ["alcohol", "ash"]
    profile = json.loads((folder / "profile.json").read_text())
    assert profile["rows"] == 1500
    assert profile["sample"] == {"file": "sample.parquet", "rows": 1000, "seed": 0}
    assert [c["name"] for c in profile["columns"]] == ["alcohol", "ash"]
    everything = (folder / "profile.json").read_text() + (folder / "sample.parquet").read_bytes().hex()
    assert "s3cr3t" not in everything and b"s3cr3t".hex() not in everything


def test_an_ndarray_gives_a_tensor_signature_and_numbered_columns(
    tracker: MlflowTracker, in_run: str, tmp_path: Path
) -> None:
    frame = _frame()
    model = _fitted(frame)
    uri = tracking_api.log_model(
        model, frame.to_numpy(), name="arr", pip_requirements=["scikit-learn"]
    )
    loaded = import_mlflow("mlflow.pyfunc").load_model(str(uri))
    assert loaded.metadata.signature.inputs.to_dict()[0]["type"] == "tensor"
    assert loaded.metadata.saved_input_example_info["type"] == "ndarray"
    folder = _artifact(tracker, in_run, "reference/arr", tmp_path)
    profile = json.loads((folder / "profile.json").read_text())
    assert [c["name"] for c in profile["columns"]] == ["0", "1"]
    assert profile["sample"]["rows"] == 40


def test_a_python_function_is_logged_as_pyfunc_with_a_list_of_dicts(
    tracker: MlflowTracker, in_run: str, tmp_path: Path
) -> None:
    def double(frame: pd.DataFrame) -> list[float]:
        return [2.0 * v for v in frame["x"]]

    rows = [{"x": 1.0, "kind": "a"}, {"x": 2.0, "kind": "b"}, {"x": 4.0, "kind": "a"}]
    uri = tracking_api.log_model(double, rows, name="fn", pip_requirements=["pandas"])
    loaded = import_mlflow("mlflow.pyfunc").load_model(str(uri))
    assert list(loaded.predict(pd.DataFrame(rows))) == [2.0, 4.0, 8.0]
    folder = _artifact(tracker, in_run, "reference/fn", tmp_path)
    kinds = {c["name"]: c for c in json.loads((folder / "profile.json").read_text())["columns"]}
    assert kinds["kind"]["top"][0] == {"value": "a", "count": 2, "frequency": 2 / 3}


def test_without_x_log_model_of_an_estimator_is_unchanged(
    tracker: MlflowTracker, in_run: str
) -> None:
    model = _fitted(_frame())
    uri = tracking_api.log_model(model, pip_requirements=["scikit-learn"])
    assert uri is not None and uri.startswith("models:/")
    loaded = import_mlflow("mlflow.pyfunc").load_model(uri)
    assert loaded.metadata.signature is None
    assert [a.path for a in tracker.client.list_artifacts(in_run)] == []  # no reference/


def test_the_mlflow_2_layout_takes_any_flavor(tracker: MlflowTracker, in_run: str) -> None:
    def ones(frame: pd.DataFrame) -> list[int]:
        return [1] * len(frame)

    uri = model_log.log_as_artifacts(
        tracker, ones, in_run, "model", flavor="pyfunc", pip_requirements=["pandas"]
    )
    assert uri == f"runs:/{in_run}/model"
    loaded = import_mlflow("mlflow.pyfunc").load_model(uri)
    assert list(loaded.predict(pd.DataFrame({"a": [5, 6]}))) == [1, 1]


# ------------------------------------------------------ a real run, promoted, loaded

MODEL_NOTEBOOK = """
# %% tags=parameters
C = 1.0
# %%
import nbops
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression
x, y = load_iris(return_X_y=True, as_frame=True)
model = LogisticRegression(C=C, max_iter=500).fit(x, y)
nbops.log_metric("accuracy", model.score(x, y))
nbops.log_model(model, x, pip_requirements=["scikit-learn"])
"""


def test_a_tracked_run_logs_the_model_with_x_and_promote_registers_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "toy"\n')
    (tmp_path / "iris.ipynb").write_text(notebook_from_snippet(MODEL_NOTEBOOK).dumps())
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW_", "NBOPS_RUN"))}

    def nbops(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "nbops", *args], cwd=tmp_path, capture_output=True,
            text=True, timeout=600, env=env, check=False,
        )

    ran = nbops("run", "iris.ipynb", "--format", "json")
    assert ran.returncode == 0, ran.stdout + ran.stderr
    run_id = json.loads(ran.stdout)["runs"][0]["run_id"]
    promoted = nbops("promote", run_id[:8], "--model", "iris")
    assert "registered iris version 1" in promoted.stdout, promoted.stdout + promoted.stderr
    assert "Traceback" not in promoted.stderr
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / '.nbops' / 'mlflow.db'}")
    mlflow = import_mlflow()
    loaded = mlflow.pyfunc.load_model("models:/iris@challenger")
    from sklearn.datasets import load_iris

    x, _ = load_iris(return_X_y=True, as_frame=True)
    assert set(loaded.predict(x.head(5))) <= {0, 1, 2}
    assert loaded.metadata.signature.inputs.input_names()[0] == "sepal length (cm)"
    client = mlflow.tracking.MlflowClient()
    names = {a.path for a in client.list_artifacts(run_id, "reference")}
    assert names == {"reference/profile.json", "reference/sample.parquet"}
