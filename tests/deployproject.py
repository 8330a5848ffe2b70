"""For tests/deploy: a project with a registered model: a small scikit-learn classifier with a column signature,
logged through nbops.log_model into the project's SQLite store and registered by nbops' own
promote (version 1: challenger, made champion as a reviewer would)."""

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
    from nbops.run.tracking import MlflowTracker, default_tracking_uri

    root = tmp_path_factory.mktemp("deploy project")
    (root / "pyproject.toml").write_text('[project]\nname = "wine"\n', encoding="utf-8")
    frame = training_frame()
    target = (frame["alcohol"] + frame["acidity"] > 15).astype(int)
    model = LogisticRegression().fit(frame, target)
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv("MLFLOW_TRACKING_URI", raising=False)
        tracker = MlflowTracker(default_tracking_uri(root))
        run_id = tracker.start_run("wine", "nb", {}, {})
        for key, value in tracker.kernel_env(run_id).items():
            mp.setenv(key, value)
        signature = infer_signature(frame, model.predict(frame))
        tracking_api.log_model(model, signature=signature, pip_requirements=["scikit-learn"])
        tracker.end_run(run_id, "FINISHED")
        assert tracker.promote(run_id, MODEL) == 1
        tracker.client.set_registered_model_alias(MODEL, "champion", "1")
    return Project(root, tracker.tracking_uri, model, frame)
