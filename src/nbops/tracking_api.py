"""Log from inside a notebook into the run nbops opened for it.

::

    import nbops
    nbops.log_param("features", 12)
    nbops.log_metric("auc", auc)            # or per epoch: nbops.log_metric("loss", l, step=i)
    nbops.log_artifact("confusion.png")
    nbops.log_model(model, x_train)         # the run's "model", its signature, reference data

``nbops run`` gives the kernel a journal folder (``NBOPS_RUN_DIR``, see
:mod:`nbops.run.journal`): metrics, params and artifacts are appended there, cheaply and
without importing MLflow in the kernel, and nbops logs them into the run while the notebook
runs and when it ends. ``log_model`` and ``active_run_id`` need the run itself: they wait
(up to a minute) for nbops to publish its id; ``log_model`` then checks the call and hands the
model to nbops through the journal too (:mod:`nbops.run.model_log`), so the kernel does not
import MLflow. A process given ``NBOPS_RUN_ID`` (and
``MLFLOW_TRACKING_URI``) instead writes into that run directly through MLflow.

**Outside nbops** (neither variable set: a plain Jupyter session, a test) they do nothing:
no MLflow run is created, nothing is printed, nothing is raised, and they return None; the
first call warns once (``UserWarning``) that nothing is tracked. So a notebook written for
nbops still runs anywhere.

Importing this module is cheap: MLflow is imported only in the direct mode (and by a
``log_model`` whose model cannot be handed over).
"""

from __future__ import annotations

import os
import threading
import warnings
from pathlib import Path
from typing import Any

from nbops.run.model_log import model_flavor

__all__ = ["active_run_id", "log_artifact", "log_metric", "log_model", "log_param", "model_flavor"]

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


def log_model(model: Any, X: Any = None, *, name: str = "model", threshold: float | None = None,
              below: str | None = None, predict: Any = None, fitted: Any = None,
              eval_data: Any = None, **kwargs: Any) -> str | None:
    """Log ``model`` as the active run's model ``name`` with MLflow's flavor for it.

    Flavors: scikit-learn (estimators, pipelines), xgboost, lightgbm, catboost, statsmodels,
    PyTorch (``torch.nn.Module``), TensorFlow/Keras, and pyfunc for an
    ``mlflow.pyfunc.PythonModel`` or a python function; anything else raises ``UsageError``.
    With ``X`` (the training inputs: DataFrame, ndarray or list of dicts) the signature is
    inferred (from ``model.predict`` on its first rows when the model predicts), its first 5
    rows are the input example, and a reference sample (at most 1,000 rows, seeded) and a
    profile of ``X`` are logged as the run's ``reference/`` (docs/deploy.md). ``X`` itself is
    never logged whole. ``kwargs`` go to the flavor's ``log_model`` (``signature``,
    ``input_example``, ``pip_requirements``...) and win over what ``X`` gives.

    ``threshold`` (in (0, 1]) and ``below`` (``"abstain"``, the default, or ``"route"``): the
    acceptance threshold of a model with ``predict_proba``, stored with it
    (``reference/acceptance.json`` and the run's tags) and applied by ``nbops serve`` and
    ``nbops score``; a model without probabilities given one raises ``UsageError``.

    ``predict`` (a function ``predict(model, frame, **fitted)``: the generated library's
    prediction path) and ``fitted`` (its keyword arguments: ``{"scaler": scaler}``): the model
    is served through ``predict`` on raw rows (an ``mlflow.pyfunc`` model pickling ``model``
    and ``fitted``, shipping ``predict``'s package as ``code_paths``), its signature inferred
    from ``X`` as given (the raw frame). Not with ``threshold``.

    ``eval_data`` (``(X_test, y_test)``): the model is explained on it and the explanation
    logged with the run (``explain/``: permutation importance, per-class metrics for a
    classifier, a bar chart; the top features as metrics; docs/deploy.md, "Explanations").

    Under ``nbops run`` the call is checked here (a ``UsageError`` at the call, as always),
    then handed to nbops, which logs the model while the notebook runs on (the kernel does
    not import MLflow): it is in the run, complete, when ``nbops run`` returns, and a failure
    ends the run FAILED naming ``log_model`` and the model. A model that cannot be pickled,
    or a kernel of another Python environment than nbops', is logged here instead.

    Returns the model's URI: ``runs:/<run id>/<name>`` under ``nbops run`` (MLflow resolves
    it to the run's logged model of that name) and with MLflow 2; ``models:/<model id>`` when
    logged here with MLflow 3; None outside nbops. ``nbops promote`` registers the model
    named ``model``.
    """
    from nbops.run import model_log

    request = model_log.check(model, X, name=name, threshold=threshold, below=below,
                              predict=predict, fitted=fitted, eval_data=eval_data,
                              kwargs=kwargs)
    run_id = _run("log_model")
    if run_id is None:
        return None
    if X is not None and predict is None:
        model_log.check_data(X)
    journal = _journal()
    if journal is not None and journal.model(request, name):
        return f"runs:/{run_id}/{name}"  # logged by nbops while the notebook runs on
    return str(model_log.log(_tracker(), run_id, request))
