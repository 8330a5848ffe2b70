"""Log from inside a notebook into the run nbops opened for it.

::

    import nbops
    nbops.log_param("features", 12)
    nbops.log_metric("auc", auc)            # or per epoch: nbops.log_metric("loss", l, step=i)
    nbops.log_artifact("confusion.png")
    nbops.log_model(clf)                    # a scikit-learn estimator, as the run's "model"

``nbops run`` gives the kernel a journal folder (``NBOPS_RUN_DIR``, see
:mod:`nbops.run.journal`): metrics, params and artifacts are appended there, cheaply and
without importing MLflow in the kernel, and nbops logs them into the run while the notebook
runs and when it ends. ``log_model`` and ``active_run_id`` need the run itself: they wait
(up to a minute) for nbops to publish its id. A process given ``NBOPS_RUN_ID`` (and
``MLFLOW_TRACKING_URI``) instead writes into that run directly through MLflow.

**Outside nbops** (neither variable set: a plain Jupyter session, a test) they do nothing:
no MLflow run is created, nothing is printed, nothing is raised, and they return None; the
first call warns once (``UserWarning``) that nothing is tracked. So a notebook written for
nbops still runs anywhere.

Importing this module is cheap: MLflow is imported only by ``log_model`` and the direct mode.
"""

from __future__ import annotations

import os
import threading
import warnings
from pathlib import Path
from typing import Any

__all__ = ["active_run_id", "log_artifact", "log_metric", "log_model", "log_param"]

_RUN_ID_ENV = "NBOPS_RUN_ID"  # = nbops.run.tracking.RUN_ID_ENV (not imported: keep this light)
_DIR_ENV = "NBOPS_RUN_DIR"  # = nbops.run.journal.DIR_ENV
_URI_ENV = "MLFLOW_TRACKING_URI"
_RUN_ID_WAIT = 60.0  # seconds log_model / active_run_id wait for nbops to open the run
_warned = False
_lock = threading.Lock()
_trackers: dict[str | None, Any] = {}  # one MlflowTracker per tracking URI
_writers: dict[str, Any] = {}  # one JournalWriter per journal folder


def _journal() -> Any:
    """The journal of the run nbops is running this kernel for, or None."""
    folder = os.environ.get(_DIR_ENV, "").strip()
    if not folder:
        return None
    from nbops.run.journal import JournalWriter

    with _lock:
        writer = _writers.get(folder)
        if writer is None:
            writer = _writers[folder] = JournalWriter(Path(folder))
    return writer


def active_run_id() -> str | None:
    """The id of the run nbops opened for this kernel, or None outside an nbops run."""
    run_id = os.environ.get(_RUN_ID_ENV, "").strip()
    if run_id:
        return run_id
    journal = _journal()
    if journal is None:
        return None
    from nbops.run.journal import read_run_id

    found = read_run_id(journal.folder, _RUN_ID_WAIT)
    if found:
        os.environ[_RUN_ID_ENV] = found
    return found


def _warn_untracked(call: str) -> None:
    global _warned
    with _lock:
        first, _warned = not _warned, True
    if first:
        warnings.warn(
            f"nbops.{call}: not running under nbops (NBOPS_RUN_DIR / NBOPS_RUN_ID are not "
            "set), so nothing is tracked; run the notebook with `nbops run` to record it",
            UserWarning,
            stacklevel=3,
        )


def _run(call: str) -> str | None:
    """The active run id; None (after one warning per process) when there is none."""
    run_id = active_run_id()
    if run_id is None:
        _warn_untracked(call)
    return run_id


def _direct_run() -> str | None:
    """The run id when given directly (``NBOPS_RUN_ID``) rather than through a journal."""
    return os.environ.get(_RUN_ID_ENV, "").strip() or None


def _usage(exc: ValueError) -> Exception:
    from nbops.errors import UsageError

    return UsageError(str(exc), hint="see nbops.log_metric / log_param in docs/run.md")


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
    journal = _journal()
    if journal is not None:
        try:
            journal.metric(key, value, step)
        except ValueError as exc:
            raise _usage(exc) from exc
        return
    run_id = _direct_run()
    if run_id is None:
        _warn_untracked("log_metric")
        return
    _tracker().log_metric(run_id, key, value, step)


def log_param(key: str, value: Any) -> None:
    """Record parameter ``key`` in the active run; no-op outside nbops.

    Values become strings like the run's parameters do (lists and dicts as JSON). MLflow
    params cannot change within a run: logging ``key`` again with another value raises
    ``UsageError`` (log it as a metric, or under another key).
    """
    from nbops.errors import UsageError

    journal = _journal()
    if journal is not None:
        from nbops.run.tracking import stringify_param

        try:
            journal.param(key, stringify_param(value))
        except ValueError as exc:
            if "already logged" not in str(exc):
                raise _usage(exc) from exc
            raise UsageError(
                f"cannot log param {key!r} = {value!r}: {exc}",
                hint="params are fixed once logged: log a metric or use another key",
            ) from exc
        return
    run_id = _direct_run()
    if run_id is None:
        _warn_untracked("log_param")
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
    """Store the file or folder ``path`` (as it is now) with the active run; no-op outside nbops."""
    journal = _journal()
    if journal is not None:
        if not Path(path).exists():
            from nbops.errors import NotFoundError

            raise NotFoundError("no such file to log as an artifact", path=Path(path))
        journal.artifact(Path(path), artifact_path)
        return
    run_id = _direct_run()
    if run_id is None:
        _warn_untracked("log_artifact")
        return
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
