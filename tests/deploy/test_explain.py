"""Explanations: permutation importance and per-class metrics of real scikit-learn models on
the wine data, logged by nbops.log_model(eval_data=...) into a real SQLite store, on the model
card, and computed for a batch by nbops explain against the registered model."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from wineproject import in_run, new_project, release, wine_classifier, wine_split

from nbops import tracking_api
from nbops.core.snippets import notebook_from_snippet
from nbops.errors import UsageError
from nbops.review.explanation import read
from nbops.run import explanation as explain

pytest.importorskip("mlflow")
pytest.importorskip("sklearn")
os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")

NBOPS = [sys.executable, "-m", "nbops"]


def _wine() -> tuple[Any, Any]:
    from sklearn.datasets import load_wine

    bunch = load_wine(as_frame=True)
    return bunch.data, bunch.target


@dataclass
class Store:
    root: Path
    uri: str
    model: Any
    x_test: Any
    y_test: Any
    run_id: str


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Store:
    root = tmp_path_factory.mktemp("explain project")
    tracker = new_project(root)
    x_train, x_test, y_train, y_test = wine_split(test_size=0.4)
    model = wine_classifier(x_train, y_train, max_iter=500)
    with in_run(tracker) as run_id:
        tracking_api.log_model(model, x_train, eval_data=(x_test, y_test),
                               pip_requirements=["scikit-learn"])
    release(tracker, run_id)
    return Store(root, tracker.tracking_uri, model, x_test, y_test, str(run_id))


# ------------------------------------------------------------------------- computed


def test_the_feature_that_determines_the_label_ranks_first() -> None:
    from sklearn.tree import DecisionTreeClassifier

    frame, _ = _wine()
    label = (frame["proline"] > frame["proline"].median()).astype(int)
    model = DecisionTreeClassifier(max_depth=3, random_state=0).fit(frame, label)
    found = explain.explain(model.predict, frame, label, model=model)
    assert (found.kind, found.scoring, found.baseline) == ("classifier", "accuracy", 1.0)
    assert found.features[0].name == "proline"
    assert found.features[0].mean > 0.3  # shuffled, about half the labels flip
    assert all(f.mean < found.features[0].mean / 5 for f in found.features[1:])
    assert sorted(f.name for f in found.features) == sorted(frame.columns)


def test_a_regressor_is_scored_by_r2() -> None:
    import numpy as np
    from sklearn.linear_model import LinearRegression

    frame, _ = _wine()
    target = 3 * frame["alcohol"] + np.random.default_rng(0).normal(0, 0.1, len(frame))
    model = LinearRegression().fit(frame, target)
    found = explain.explain(model.predict, frame, target, model=model)
    assert (found.kind, found.scoring, found.per_class) == ("regressor", "r2", None)
    assert found.features[0].name == "alcohol" and found.baseline > 0.95


def test_per_class_metrics_equal_sklearns_own(store: Store) -> None:
    from sklearn.metrics import classification_report

    found = explain.explain(store.model.predict, store.x_test, store.y_test, model=store.model)
    expected = classification_report(store.y_test, store.model.predict(store.x_test),
                                      output_dict=True, zero_division=0)
    assert found.per_class == expected
    assert set(found.per_class) >= {"0", "1", "2", "accuracy", "macro avg"}


def test_the_rows_are_sampled_to_the_bound_and_seeded() -> None:
    import numpy as np
    import pandas as pd
    from sklearn.tree import DecisionTreeRegressor

    rng = np.random.default_rng(1)
    frame = pd.DataFrame({"a": rng.normal(size=6_000), "b": rng.normal(size=6_000)})
    target = frame["a"] * 2
    model = DecisionTreeRegressor(max_depth=4, random_state=0).fit(frame, target)
    first = explain.explain(model.predict, frame, target, model=model)
    assert (first.rows, first.total_rows) == (explain.MAX_ROWS, 6_000)
    assert first.features == explain.explain(model.predict, frame, target, model=model).features
    assert [f.name for f in first.features] == ["a", "b"]


def test_the_chart_is_self_contained_svg_with_a_bar_per_feature() -> None:
    found = explain.Explanation("classifier", "accuracy", 0.9, [
        explain.Feature("a<b & c", 0.2, 0.01), explain.Feature("d", 0.05, 0.0),
        explain.Feature("e", -0.01, 0.0)], 10, 10)
    root = ET.fromstring(explain.svg(found))  # well-formed: the name is escaped
    ns = "{http://www.w3.org/2000/svg}"
    assert len(root.findall(f"{ns}rect")) == 3
    texts = [t.text for t in root.findall(f"{ns}text")]
    assert "a<b & c" in texts and "0.2000" in texts
    assert "href" not in explain.svg(found)  # nothing fetched from elsewhere


# ------------------------------------------------------------------------- logged


def test_log_model_logs_the_explanation_with_the_run(store: Store, tmp_path: Path) -> None:
    from nbops.run.tracking import mlflow_client

    client = mlflow_client(store.uri)
    listed = {f.path for f in client.list_artifacts(store.run_id, "explain")}
    assert listed == {"explain/importance.json", "explain/per_class.json",
                      "explain/importance.svg"}
    found = read(client, store.run_id)
    assert found is not None
    expected = explain.explain(store.model.predict, store.x_test, store.y_test, model=store.model)
    assert found == json.loads(json.dumps(expected.to_json()))
    run = client.get_run(store.run_id)
    top = json.loads(run.data.tags[explain.TAG_TOP])
    assert top == [f.name for f in expected.features[: explain.TOP]]
    assert run.data.metrics[f"explain.importance.{top[0]}"] == pytest.approx(
        expected.features[0].mean)
    assert run.data.metrics["explain.accuracy"] == pytest.approx(expected.baseline)
    svg = Path(client.download_artifacts(store.run_id, "explain/importance.svg", str(tmp_path)))
    ET.parse(svg)


def test_the_model_card_shows_the_explanation(store: Store) -> None:
    from nbops.deploy.release import _explanation
    from nbops.review.checks import GateReport
    from nbops.review.policy import Policy
    from nbops.review.report import ReportInput, render_report
    from nbops.run.tracking import MlflowTracker

    lines = _explanation(MlflowTracker(store.uri), store.run_id)
    nb = notebook_from_snippet("# %% [markdown]\n# Wine\n# %%\nx = 1\n")
    card = render_report(ReportInput(notebook=nb, path="wine.ipynb", params=None,
                                     gate=GateReport("wine.ipynb", Policy(), []),
                                     explanation=lines))
    top = json.loads(MlflowTracker(store.uri).get_run(store.run_id).tags[explain.TAG_TOP])[0]
    assert "## Explanation" in card and f"| `{top}` |" in card
    assert f"the artifact `explain/importance.svg` of run `{store.run_id}`" in card
    assert "| class | precision | recall | F1 | support |" in card
    plain = render_report(ReportInput(notebook=nb, path="wine.ipynb", params=None,
                                      gate=GateReport("wine.ipynb", Policy(), [])))
    assert "## Explanation" not in plain


def test_bad_eval_data_is_refused(store: Store) -> None:
    for bad, words in ((store.x_test, "must be a pair"),
                       ((store.x_test, store.y_test[:3]), "rows of X and 3 labels")):
        with pytest.raises(UsageError, match=words):
            tracking_api.log_model(store.model, store.x_test, eval_data=bad)


# ------------------------------------------------------------------------- nbops explain


def _env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k != "MLFLOW_TRACKING_URI"}


def _explain(store: Store, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*NBOPS, "explain", "wine", *args], cwd=store.root, env=_env(),
                          capture_output=True, text=True, timeout=300, check=False)


def test_nbops_explain_a_batch_against_the_registered_model(store: Store) -> None:
    from sklearn.metrics import classification_report

    rows = store.x_test.assign(label=store.y_test)
    rows.to_csv(store.root / "batch.csv", index=False)
    done = _explain(store, "batch.csv", "--labels", "label", "--format", "json", "-o", "out")
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout)
    assert answer["model"] == "wine/1"
    expected = explain.explain(store.model.predict, store.x_test, store.y_test, model=store.model)
    names = [f["name"] for f in answer["importance"]["features"]]
    assert names == [f.name for f in expected.features]
    assert answer["per_class"]["report"] == classification_report(
        store.y_test, store.model.predict(store.x_test), output_dict=True, zero_division=0)
    assert {p.name for p in (store.root / "out").iterdir()} == {
        "importance.json", "importance.svg", "per_class.json"}
    text = _explain(store, "batch.csv")  # no labels: against its own predictions
    assert text.returncode == 0, text.stderr
    assert "against the model's own predictions" in text.stdout
    assert names[0] in text.stdout and "per class" not in text.stdout


def test_nbops_explain_names_the_missing_column(store: Store) -> None:
    store.x_test.drop(columns=["proline"]).assign(label=store.y_test).to_csv(
        store.root / "short.csv", index=False)
    done = _explain(store, "short.csv", "--labels", "label")
    assert done.returncode == 2
    assert "short.csv: column 'proline': missing column" in done.stderr
    assert "Traceback" not in done.stderr and str(store.root) not in done.stderr
    done = _explain(store, "short.csv", "--labels", "quality")
    assert done.returncode == 2 and "no labels column 'quality'" in done.stderr
