"""nbops.log_model(model, X_raw, predict=library.predict, fitted={"scaler": scaler}): the model
served and scored through the generated library's prediction path, on raw rows. A real SQLite
store, a real nbops serve on 127.0.0.1 and nbops score in subprocesses that do not have the
library on their path (it ships with the model)."""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
import textwrap
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from deployproject import training_frame

from nbops import tracking_api
from nbops.errors import UsageError

NBOPS = [sys.executable, "-m", "nbops"]
# what nbops modularize generates for a notebook that scales apart from the model
LIBRARY = '''
"""The generated library (its prediction path)."""

FEATURES = ["alcohol", "acidity"]


def predict(model, frame, *, scaler):
    return model.predict(scaler.transform(frame.dropna()[FEATURES]))
'''


@dataclass
class Store:
    root: Path
    model: Any
    scaler: Any
    library: Any  # the imported module
    frame: Any  # raw rows (more columns than the path uses)
    run_id: str


def _env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k not in ("MLFLOW_TRACKING_URI", "PYTHONPATH")}


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    from nbops.run.tracking import MlflowTracker, default_tracking_uri

    root = tmp_path_factory.mktemp("predict project")
    (root / "pyproject.toml").write_text('[project]\nname = "wine"\n', encoding="utf-8")
    src = tmp_path_factory.mktemp("library src")  # not under root, not on the servers' path
    (src / "wine_lib_h7").mkdir()
    (src / "wine_lib_h7" / "__init__.py").write_text("", encoding="utf-8")
    (src / "wine_lib_h7" / "wine.py").write_text(textwrap.dedent(LIBRARY), encoding="utf-8")
    sys.path.insert(0, str(src))
    try:
        library = importlib.import_module("wine_lib_h7.wine")
        frame = training_frame(200)
        features = frame[library.FEATURES]
        scaler = StandardScaler().fit(features)
        target = (frame["alcohol"] > 12.3).astype(int)
        model = LogisticRegression().fit(scaler.transform(features), target)
        with pytest.MonkeyPatch.context() as mp:
            mp.delenv("MLFLOW_TRACKING_URI", raising=False)
            tracker = MlflowTracker(default_tracking_uri(root))
            run_id = tracker.start_run("wine", "nb", {}, {})
            for key, value in tracker.kernel_env(run_id).items():
                mp.setenv(key, value)
            tracking_api.log_model(model, frame, predict=library.predict,
                                   fitted={"scaler": scaler}, pip_requirements=["scikit-learn"],
                                   eval_data=(frame.tail(80), target.tail(80)))
            tracker.end_run(run_id, "FINISHED")
        version = tracker.promote(run_id, "wine")
        tracker.client.set_registered_model_alias("wine", "champion", str(version))
    finally:
        sys.path.remove(str(src))
    for name in ("wine_lib_h7.wine", "wine_lib_h7"):  # loaded back from what shipped
        sys.modules.pop(name, None)
    yield Store(root, model, scaler, library, frame, str(run_id))


def _expected(store: Store, rows: Any) -> list[int]:
    return [int(v) for v in store.library.predict(store.model, rows, scaler=store.scaler)]


def test_the_preprocessing_matters_here(store: Store) -> None:
    rows = store.frame.head(50)
    unscaled = store.model.predict(rows[["alcohol", "acidity"]].to_numpy())
    assert list(unscaled) != _expected(store, rows)  # serving the bare model would be wrong


def test_the_signature_is_the_raw_frames_and_the_library_ships_with_the_model(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    from nbops.deploy.models import load, parse_spec, resolve
    from nbops.run.tracking import default_tracking_uri

    monkeypatch.chdir(store.root)
    loaded = load(resolve(parse_spec("wine"), default_tracking_uri(store.root)))
    assert loaded.check is not None and loaded.check.names == ["alcohol", "acidity", "year"]
    shipped = Path(sys.modules["wine_lib_h7.wine"].__file__ or "")  # imported from the model
    assert shipped.parent.parent != Path(store.library.__file__).parent.parent
    assert shipped.parent.parent.name == "code"
    rows = store.frame.tail(30)
    assert [int(v) for v in loaded.predict(rows)] == _expected(store, rows)


def _post(url: str, rows: Any) -> Any:
    body = json.dumps({"dataframe_records": json.loads(rows.to_json(orient="records"))})
    request = urllib.request.Request(url + "/invocations", data=body.encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as answer:
        return json.loads(answer.read())


def test_serve_answers_raw_rows_through_the_prediction_path(store: Store) -> None:
    process = subprocess.Popen([*NBOPS, "serve", "wine", "--port", "0"], cwd=store.root,
                               env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True)
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert " on http://127.0.0.1:" in line, (line, process.stderr and process.stderr.read())
        url = line.split(" on ", 1)[1].split()[0]
        rows = store.frame.head(40)
        assert _post(url, rows)["predictions"] == _expected(store, rows)
    finally:
        process.terminate()
        process.wait(30)


def test_score_scores_raw_rows_through_the_prediction_path(store: Store) -> None:
    import pandas as pd

    rows = store.frame.head(60)
    rows.to_csv(store.root / "raw.csv", index=False)
    done = subprocess.run([*NBOPS, "score", "wine", "raw.csv", "-o", "scored.csv",
                           "--progress", "none"], cwd=store.root, env=_env(),
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    assert list(pd.read_csv(store.root / "scored.csv")["prediction"]) == _expected(store, rows)


def test_bad_predict_arguments_are_refused(store: Store) -> None:
    hint = "threshold applies the model's predict_proba to the raw rows"
    with pytest.raises(UsageError, match=hint):
        tracking_api.log_model(store.model, store.frame, predict=store.library.predict,
                               fitted={"scaler": store.scaler}, threshold=0.7)
    with pytest.raises(UsageError, match="predict= must be a function, not a str"):
        tracking_api.log_model(store.model, store.frame, predict="predict")
    with pytest.raises(UsageError, match="fitted= must be a dict"):
        tracking_api.log_model(store.model, store.frame, predict=store.library.predict,
                               fitted=[store.scaler])
    with pytest.raises(UsageError, match="fitted= needs predict="):
        tracking_api.log_model(store.model, store.frame, fitted={"scaler": store.scaler})


def test_the_explanation_is_of_the_raw_columns_through_the_prediction_path(store: Store) -> None:
    from nbops.review.explanation import read
    from nbops.run.tracking import default_tracking_uri, mlflow_client

    found = read(mlflow_client(default_tracking_uri(store.root)), store.run_id)
    assert found is not None
    features = {f["name"]: f["mean"] for f in found["importance"]["features"]}
    assert set(features) == {"alcohol", "acidity", "year"}  # the raw frame's
    assert features["year"] == 0.0  # the path never reads it
    assert max(features, key=features.__getitem__) == "alcohol"  # the label's feature
    assert found["importance"]["kind"] == "classifier" and found["per_class"] is not None
