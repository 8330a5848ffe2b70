"""Log from inside a notebook into the run nbops opened for it.

::

    import nbops
    nbops.log_param("features", 12)
    nbops.log_metric("auc", auc)            # or per epoch: nbops.log_metric("loss", l, step=i)
    nbops.log_artifact("confusion.png")
    nbops.log_model(clf)                    # a scikit-learn estimator, as the run's "model"

``nbops run`` opens an MLflow run and puts its id (``NBOPS_RUN_ID``) and store
(``MLFLOW_TRACKING_URI``) in the kernel's environment; these functions read both at call
time and write into that run, so a notebook needs no MLflow code and no run management.

**Outside nbops** (``NBOPS_RUN_ID`` unset: a plain Jupyter session, a test) they do nothing:
no MLflow run is created, nothing is printed, nothing is raised, and they return None; the
first call warns once (``UserWarning``) that nothing is tracked. So a notebook written for
nbops still runs anywhere.

Importing this module is cheap: MLflow is imported on the first call inside a run.
"""

from __future__ import annotations

import os
import threading
import warnings
from pathlib import Path
from typing import Any

__all__ = ["active_run_id", "log_artifact", "log_metric", "log_model", "log_param"]

_RUN_ID_ENV = "NBOPS_RUN_ID"  # = nbops.run.tracking.RUN_ID_ENV (not imported: keep this light)
_URI_ENV = "MLFLOW_TRACKING_URI"
_warned = False
_lock = threading.Lock()
_trackers: dict[str | None, Any] = {}  # one MlflowTracker per tracking URI


def active_run_id() -> str | None:
    """The id of the run nbops opened for this kernel, or None outside an nbops run."""
    return os.environ.get(_RUN_ID_ENV, "").strip() or None


def _run(call: str) -> str | None:
    """The active run id; None (after one warning per process) when there is none."""
    global _warned
    run_id = active_run_id()
    if run_id is None:
        with _lock:
            first, _warned = not _warned, True
        if first:
            warnings.warn(
                f"nbops.{call}: not running under nbops (NBOPS_RUN_ID is not set), so nothing "
                "is tracked; run the notebook with `nbops run` to record it",
                UserWarning,
                stacklevel=3,
            )
    return run_id


def _tracker() -> Any:
    from nbops.run.tracking import MlflowTracker

    uri = os.environ.get(_URI_ENV, "").strip() or None
    with _lock:
        cached = _trackers.get(uri)
        if cached is None:
            cached = _trackers[uri] = MlflowTracker(uri)
    return cached


def log_metric(key: str, value: float, step: int | None = None) -> None:
    """Record ``value`` of metric ``key`` (at ``step``) in the active run; no-op outside nbops."""
    run_id = _run("log_metric")
    if run_id is not None:
        _tracker().log_metric(run_id, key, value, step)


def log_param(key: str, value: Any) -> None:
    """Record parameter ``key`` in the active run; no-op outside nbops.

    Values become strings like the run's parameters do (lists and dicts as JSON). MLflow
    params cannot change within a run: logging ``key`` again with another value raises
    ``UsageError`` (log it as a metric, or under another key).
    """
    from nbops.errors import UsageError

    run_id = _run("log_param")
    if run_id is None:
        return
    tracker = _tracker()
    try:
        tracker.log_param(run_id, key, value)
    except UsageError as exc:
        if "already logged" not in exc.message:  # a bad key, not a changed value
            raise
        raise UsageError(
            f"cannot log param {key!r} = {value!r} in run {run_id}: {exc.message}",
            hint="params are fixed once logged: log a metric or use another key",
        ) from exc


def log_artifact(path: str | Path, artifact_path: str | None = None) -> None:
    """Store the file or folder ``path`` with the active run; no-op outside nbops."""
    run_id = _run("log_artifact")
    if run_id is not None:
        _tracker().log_artifact(run_id, Path(path), artifact_path)


def _is_sklearn_estimator(model: Any) -> bool:
    import importlib

    try:
        base: Any = importlib.import_module("sklearn.base")
    except ImportError:
        return False
    return isinstance(model, base.BaseEstimator)


def log_model(model: Any, name: str = "model", **kwargs: Any) -> str | None:
    """Log a scikit-learn estimator as the active run's model ``name`` (``mlflow.sklearn``).

    Returns the model's URI (MLflow 3: ``models:/<model id>``; MLflow 2:
    ``runs:/<run id>/<name>``), or None outside nbops. ``kwargs`` go to
    ``mlflow.sklearn.log_model`` (``signature``, ``input_example``, ``pip_requirements``...).
    ``nbops promote`` registers the model named ``model``. Other kinds of models raise
    ``UsageError``: log them with MLflow's own flavor (``mlflow.<flavor>.log_model``).
    """
    from nbops.errors import UsageError

    if not _is_sklearn_estimator(model):
        raise UsageError(
            f"nbops.log_model takes a scikit-learn estimator, not {type(model).__name__}",
            hint="log other models with MLflow's flavor for them (mlflow.pyfunc.log_model, ...)",
        )
    run_id = _run("log_model")
    if run_id is None:
        return None
    tracker = _tracker()
    from nbops.run.tracking import import_mlflow

    sklearn_flavor = import_mlflow("mlflow.sklearn")
    client = tracker.client
    if hasattr(client, "create_logged_model"):
        # MLflow 3: create the logged model in the run's experiment first (log_model alone
        # would file it under the fluent API's current experiment), then fill it
        experiment_id = tracker.get_run(run_id).experiment_id
        logged = tracker._call(
            f"create model {name!r} in run {run_id}",
            lambda: client.create_logged_model(experiment_id, name=name, source_run_id=run_id),
        )
        info = tracker._call(
            f"log model {name!r} in run {run_id}",
            lambda: sklearn_flavor.log_model(
                model, name=name, model_id=logged.model_id, run_id=run_id, **kwargs
            ),
        )
        return str(info.model_uri)
    return _log_model_as_artifacts(tracker, model, run_id, name, **kwargs)


def _log_model_as_artifacts(tracker: Any, model: Any, run_id: str, name: str, **kwargs: Any) -> str:
    """MLflow 2's layout: the MLflow model saved locally, uploaded as the run's ``name/``."""
    import tempfile

    from nbops.run.tracking import import_mlflow

    with tempfile.TemporaryDirectory(prefix="nbops-model-") as tmp:
        local = Path(tmp) / name
        import_mlflow("mlflow.sklearn").save_model(model, str(local), **kwargs)
        tracker.log_artifact(run_id, local, name)
    return f"runs:/{run_id}/{name}"
