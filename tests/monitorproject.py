"""For the health checks (tests/deploy/test_monitor.py, tests/cli/test_monitor_cli.py): the wine
example's model (examples/wine_classifier.ipynb: scikit-learn's wine data, a standardized
logistic regression) logged with ``nbops.log_model(model, x_train)`` into a project's SQLite
store, so it has its reference data, and registered as ``wine`` (champion, version 1); and
current data drawn from the training rows, unshifted or shifted on purpose."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("mlflow")
pytest.importorskip("sklearn")
os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")

MODEL = "wine"
SHIFTED = ("alcohol", "color_intensity")  # the features the shifted data moves


@dataclass
class WineProject:
    root: Path
    uri: str
    model: Any
    x_train: Any
    y_train: Any


def current(project: WineProject, *, shifted: bool, rows: int = 3000, seed: int = 1) -> Any:
    """``rows`` training rows drawn with replacement (the same distribution as the
    reference), with the ``target`` labels; ``shifted``: alcohol up by 1.5 and colour
    intensity 1.6 times as high."""
    picked = project.x_train.sample(rows, replace=True, random_state=seed)
    frame = picked.reset_index(drop=True)
    frame["target"] = project.y_train.loc[picked.index].to_numpy()
    if shifted:
        frame["alcohol"] = frame["alcohol"] + 1.5
        frame["color_intensity"] = frame["color_intensity"] * 1.6
    return frame


@pytest.fixture(scope="session")
def wine_project(tmp_path_factory: pytest.TempPathFactory) -> WineProject:
    from sklearn.datasets import load_wine
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import train_test_split
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from nbops import tracking_api
    from nbops.run.tracking import MlflowTracker, default_tracking_uri

    root = tmp_path_factory.mktemp("monitor project")
    (root / "pyproject.toml").write_text('[project]\nname = "wine"\n', encoding="utf-8")
    bunch = load_wine(as_frame=True)
    x_train, _, y_train, _ = train_test_split(bunch.data, bunch.target, test_size=0.25,
                                              random_state=0, stratify=bunch.target)
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000, random_state=0))
    model.fit(x_train, y_train)
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv("MLFLOW_TRACKING_URI", raising=False)
        tracker = MlflowTracker(default_tracking_uri(root))
        run_id = tracker.start_run("wine", "nb", {}, {})
        for key, value in tracker.kernel_env(run_id).items():
            mp.setenv(key, value)
        tracking_api.log_model(model, x_train, pip_requirements=["scikit-learn"])
        tracker.end_run(run_id, "FINISHED")
        assert tracker.promote(run_id, MODEL) == 1
        tracker.client.set_registered_model_alias(MODEL, "champion", "1")
    return WineProject(root, tracker.tracking_uri, model, x_train, y_train)
