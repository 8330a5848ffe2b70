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
from wineproject import MODEL, in_run, new_project, release, wine_classifier, wine_split

pytest.importorskip("mlflow")
pytest.importorskip("sklearn")
os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")

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


def make_wine_project(root: Path) -> WineProject:
    """The project at ``root``: the wine model logged with its reference data, released as
    the champion (version 1)."""
    from nbops import tracking_api

    tracker = new_project(root)
    x_train, _, y_train, _ = wine_split()
    model = wine_classifier(x_train, y_train)
    with in_run(tracker) as run_id:
        tracking_api.log_model(model, x_train, pip_requirements=["scikit-learn"])
    assert release(tracker, run_id, MODEL) == 1
    return WineProject(root, tracker.tracking_uri, model, x_train, y_train)


@pytest.fixture(scope="session")
def wine_project(tmp_path_factory: pytest.TempPathFactory) -> WineProject:
    return make_wine_project(tmp_path_factory.mktemp("monitor project"))
