"""The building blocks of the tests' wine projects (tests/deployproject.py, monitorproject.py,
healthproject.py, modelsproject.py, tests/deploy/test_explain.py): scikit-learn's wine data
split as the example notebook splits it, its standardized logistic regression, a project folder,
a run of the project's real SQLite store to log into (as a kernel of ``nbops run`` logs), and
the release of a run's model as the champion."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

MODEL = "wine"
PYPROJECT = '[project]\nname = "wine"\n'


def wine_split(test_size: float = 0.25) -> tuple[Any, Any, Any, Any]:
    """``x_train, x_test, y_train, y_test`` of the wine data (frames), stratified, seed 0."""
    from sklearn.datasets import load_wine
    from sklearn.model_selection import train_test_split

    bunch = load_wine(as_frame=True)
    x_train, x_test, y_train, y_test = train_test_split(
        bunch.data, bunch.target, test_size=test_size, random_state=0, stratify=bunch.target)
    return x_train, x_test, y_train, y_test


def wine_classifier(x: Any, y: Any, max_iter: int = 1000) -> Any:
    """The example's model, fitted: a standard scaler and a logistic regression."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=max_iter, random_state=0))
    return model.fit(x, y)


def new_project(root: Path, pyproject: str = PYPROJECT) -> Any:
    """The project at ``root`` (its ``pyproject.toml``) and a tracker of its default store,
    whatever ``MLFLOW_TRACKING_URI`` says."""
    from nbops.run.tracking import MlflowTracker, default_tracking_uri

    root.mkdir(parents=True, exist_ok=True)
    (root / "pyproject.toml").write_text(pyproject, encoding="utf-8")
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv("MLFLOW_TRACKING_URI", raising=False)
        return MlflowTracker(default_tracking_uri(root))


@contextmanager
def in_run(tracker: Any, notebook: str = "nb", params: dict[str, str] | None = None,
           experiment: str = MODEL) -> Iterator[str]:
    """A run of ``tracker``'s store, the run id: inside, the environment is a kernel's of
    ``nbops run`` (``nbops.log_model`` logs into the run); after, the run is FINISHED."""
    run_id: str = tracker.start_run(experiment, notebook, params or {}, {})
    with pytest.MonkeyPatch.context() as mp:
        for key, value in tracker.kernel_env(run_id).items():
            mp.setenv(key, value)
        yield run_id
    tracker.end_run(run_id, "FINISHED")


def release(tracker: Any, run_id: str, model: str = MODEL) -> int:
    """Register the run's model as a new version of ``model`` and make it the champion (as a
    reviewer would); the version."""
    version: int = tracker.promote(run_id, model)
    tracker.client.set_registered_model_alias(model, "champion", str(version))
    return version
