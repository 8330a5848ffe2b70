"""For tests/deploy: a project with a registered model: a small scikit-learn classifier with a column signature,
logged through nbops.log_model into the project's SQLite store and registered by nbops' own
promote (version 1: challenger, made champion as a reviewer would)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from wineproject import MODEL, in_run, new_project, release

pytest.importorskip("mlflow")
pytest.importorskip("sklearn")
os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")

FEATURES = ["alcohol", "acidity", "year"]


@dataclass
class Project:
    root: Path
    uri: str
    model: Any  # the fitted estimator, for in-process predictions
    frame: Any  # the training frame


def training_frame(rows: int = 60) -> Any:
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(0)
    return pd.DataFrame({
        "alcohol": rng.normal(12, 1, rows),
        "acidity": rng.normal(3, 0.5, rows),
        "year": rng.integers(2000, 2020, rows).astype("int64"),
    })


@pytest.fixture(scope="session")
def project(tmp_path_factory: pytest.TempPathFactory) -> Project:
    from mlflow.models import infer_signature
    from sklearn.linear_model import LogisticRegression

    from nbops import tracking_api

    root = tmp_path_factory.mktemp("deploy project")
    tracker = new_project(root)
    frame = training_frame()
    target = (frame["alcohol"] + frame["acidity"] > 15).astype(int)
    model = LogisticRegression().fit(frame, target)
    with in_run(tracker) as run_id:
        signature = infer_signature(frame, model.predict(frame))
        tracking_api.log_model(model, signature=signature, pip_requirements=["scikit-learn"])
    assert release(tracker, run_id, MODEL) == 1
    return Project(root, tracker.tracking_uri, model, frame)
