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


# the flavor of a class from the top package of its module, most specific first: xgboost,
# lightgbm and catboost models are scikit-learn estimators too
_FLAVORS = {
    "xgboost": "xgboost",
    "lightgbm": "lightgbm",
    "catboost": "catboost",
    "statsmodels": "statsmodels",
    "torch": "pytorch",
    "keras": "keras",
    "tf_keras": "tensorflow",
    "tensorflow": "tensorflow",
    "sklearn": "sklearn",
}
_FIRST_ROWS = 5  # the input example
_PREDICT_ROWS = 100  # rows predicted to infer the signature's output


def model_flavor(model: Any) -> str | None:
    """The MLflow flavor for ``model`` (``"sklearn"``, ``"xgboost"``, ..., ``"pyfunc"``), or None.

    Read off the modules of its class and their bases: nothing is imported (a model's
    library is loaded already when the model exists).
    """
    import inspect

    found = [
        (list(_FLAVORS).index(top), _FLAVORS[top])
        for cls in type(model).__mro__
        if (top := cls.__module__.split(".")[0]) in _FLAVORS
    ]
    if found:
        return min(found)[1]
    if any(cls.__module__.startswith("mlflow.pyfunc") for cls in type(model).__mro__):
        return "pyfunc"  # an mlflow.pyfunc.PythonModel
    if inspect.isfunction(model):
        return "pyfunc"  # a python function: MLflow calls it with the input
    return None


def _with_data(model: Any, flavor: str, data: Any, kwargs: dict[str, Any]) -> Any:
    """Add the signature and input example inferred from ``data`` to ``kwargs`` (what the
    caller gave wins); the reference frame of ``data``, or None when it is not a table."""
    from nbops.errors import UsageError
    from nbops.run import reference
    from nbops.run.tracking import import_mlflow

    try:
        frame = reference.as_frame(data)
    except TypeError as exc:
        raise UsageError(
            f"nbops.log_model: X is {exc}",
            hint="pass the training inputs as a pandas DataFrame, a numpy array or a list of dicts",
        ) from None
    if isinstance(data, list):
        data = frame  # MLflow describes tables, not lists of dicts
    head = data.head(_FIRST_ROWS) if hasattr(data, "head") else data[:_FIRST_ROWS]
    kwargs.setdefault("input_example", head)
    predict = getattr(model, "predict", None)
    if "signature" not in kwargs and flavor != "pyfunc" and callable(predict):
        rows = data.head(_PREDICT_ROWS) if hasattr(data, "head") else data[:_PREDICT_ROWS]
        infer = import_mlflow("mlflow.models").infer_signature
        try:
            output = predict(rows)
        except Exception as exc:  # noqa: BLE001 - the user's model: say why, log the inputs
            warnings.warn(
                f"nbops.log_model: {type(model).__name__}.predict failed on X "
                f"({type(exc).__name__}: {exc}); the signature describes the inputs only",
                UserWarning,
                stacklevel=3,
            )
            output = None
        kwargs["signature"] = infer(data, output)
    return frame


def _log_reference(tracker: Any, run_id: str, name: str, frame: Any) -> None:
    """The reference sample and profile of the inputs, as the run's ``reference/``
    (``reference/<name>/`` for a model not named ``model``)."""
    import tempfile

    from nbops.run import reference

    folder = "reference" if name == "model" else f"reference/{name}"
    with tempfile.TemporaryDirectory(prefix="nbops-reference-") as tmp:
        for path in reference.write_reference(frame, Path(tmp)):
            tracker.log_artifact(run_id, path, folder)


def _flavor_call(flavor_module: Any, flavor: str, model: Any, save: bool) -> Any:
    """``log_model`` / ``save_model`` of the flavor with the model as its argument."""
    function = flavor_module.save_model if save else flavor_module.log_model
    if flavor == "pyfunc":
        return lambda *args, **kwargs: function(*args, python_model=model, **kwargs)
    return lambda *args, **kwargs: function(model, *args, **kwargs)


def _acceptance(model: Any, flavor: str, threshold: Any, below: Any) -> Any:
    """The checked acceptance threshold (``nbops.deploy.acceptance.Acceptance``), or None."""
    from nbops.errors import UsageError

    if threshold is None:
        if below is not None:
            raise UsageError("nbops.log_model: below= needs a threshold=",
                             hint='threshold=0.7, below="abstain" or "route"')
        return None
    from nbops.deploy.acceptance import Acceptance, probabilities_of

    try:
        acceptance = Acceptance.of(threshold, "abstain" if below is None else below)
    except ValueError as exc:
        raise UsageError(f"nbops.log_model: {exc}",
                         hint='threshold=0.7, below="abstain" or "route"') from None
    if flavor == "pyfunc":
        raise UsageError(
            f"nbops.log_model: an acceptance threshold needs probabilities, and a pyfunc "
            f"model ({type(model).__name__}) gives none nbops can read",
            hint="leave threshold out, or log the underlying classifier (it has predict_proba)")
    probabilities_of(model)
    return acceptance


def _check_predict(predict: Any, fitted: Any, threshold: Any) -> None:
    """A ``UsageError`` when ``predict=`` / ``fitted=`` are not what ``log_model`` takes."""
    from nbops.errors import UsageError

    hint = 'nbops.log_model(model, x_raw, predict=module.predict, fitted={"scaler": scaler})'
    if not callable(predict):
        raise UsageError(f"nbops.log_model: predict= must be a function, not a "
                         f"{type(predict).__name__}", hint=hint)
    if fitted is not None and not (isinstance(fitted, dict)
                                   and all(isinstance(k, str) for k in fitted)):
        raise UsageError("nbops.log_model: fitted= must be a dict of keyword name -> fitted "
                         "object (the keyword arguments of predict)", hint=hint)
    if threshold is not None:
        raise UsageError(
            "nbops.log_model: an acceptance threshold cannot be combined with predict=: the "
            "threshold applies the model's predict_proba to the raw rows, which would skip "
            "predict's preprocessing", hint="leave threshold out, or log a scikit-learn "
            "Pipeline that includes the preprocessing (it has predict_proba)")


def _predict_path(model: Any, X: Any, predict: Any, fitted: Any, kwargs: dict[str, Any]) -> Any:
    """``model`` wrapped to be served through ``predict(model, frame, **fitted)``
    (:class:`nbops.run.pyfunc.PredictPath`), its signature inferred from the raw ``X``."""
    from nbops.run.pyfunc import PredictPath, code_paths

    fitted = dict(fitted or {})
    if X is not None and "signature" not in kwargs:
        from nbops.run import reference
        from nbops.run.tracking import import_mlflow

        data = reference.as_frame(X) if isinstance(X, list) else X
        rows = data.head(_PREDICT_ROWS) if hasattr(data, "head") else data[:_PREDICT_ROWS]
        try:
            output = predict(model, rows, **fitted)
        except Exception as exc:  # noqa: BLE001 - the user's function: say why, log the inputs
            warnings.warn(
                f"nbops.log_model: predict failed on X ({type(exc).__name__}: {exc}); the "
                "signature describes the inputs only", UserWarning, stacklevel=3)
            output = None
        kwargs["signature"] = import_mlflow("mlflow.models").infer_signature(data, output)
    kwargs.setdefault("code_paths", code_paths(predict))
    return PredictPath(predict, model, fitted)


def _check_eval_data(eval_data: Any) -> None:
    """A ``UsageError`` unless ``eval_data`` is ``(X_test, y_test)`` of the same length."""
    from nbops.errors import UsageError

    hint = "eval_data=(x_test, y_test): the evaluation inputs and their labels"
    if not (isinstance(eval_data, tuple) and len(eval_data) == 2):
        raise UsageError(f"nbops.log_model: eval_data must be a pair (X, y), not a "
                         f"{type(eval_data).__name__}", hint=hint)
    data, labels = eval_data
    try:
        sizes = (len(data), len(labels))
    except TypeError:
        raise UsageError("nbops.log_model: eval_data's X and y must be tables or arrays "
                         "with rows", hint=hint) from None
    if sizes[0] != sizes[1] or sizes[0] == 0:
        raise UsageError(f"nbops.log_model: eval_data has {sizes[0]} rows of X and "
                         f"{sizes[1]} labels: they must match (and not be empty)", hint=hint)


def _explain(tracker: Any, run_id: str, model: Any, served: Any, eval_data: Any) -> None:
    """Permutation importance and per-class metrics of the model on ``eval_data``, logged
    with the run (:mod:`nbops.deploy.explain`); a failure of the user's model warns."""
    from nbops.deploy import explain

    if callable(getattr(served, "predict", None)):
        pyfunc = model_flavor(served) == "pyfunc"
        predict = (lambda frame: served.predict(None, frame)) if pyfunc else served.predict
    else:
        predict = served  # a python function
    try:
        found = explain.explain(predict, eval_data[0], eval_data[1], model=model)
    except Exception as exc:  # noqa: BLE001 - the user's model: say why, keep the model logged
        warnings.warn(f"nbops.log_model: no explanation ({type(exc).__name__}: {exc})",
                      UserWarning, stacklevel=3)
        return
    explain.log(tracker, run_id, found)


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

    Returns the model's URI (MLflow 3: ``models:/<model id>``; MLflow 2:
    ``runs:/<run id>/<name>``), or None outside nbops. ``nbops promote`` registers the model
    named ``model``.
    """
    from nbops.errors import UsageError

    if fitted is not None and predict is None:
        raise UsageError("nbops.log_model: fitted= needs predict=",
                         hint="fitted= holds the keyword arguments of predict(model, frame)")
    if predict is not None:
        _check_predict(predict, fitted, threshold)
    if eval_data is not None:
        _check_eval_data(eval_data)
    flavor = "pyfunc" if predict is not None else model_flavor(model)
    if flavor is None:
        raise UsageError(
            f"nbops.log_model cannot log a {type(model).__module__}.{type(model).__name__}: "
            "MLflow has no flavor for it",
            hint="pass a scikit-learn, xgboost, lightgbm, catboost, statsmodels, PyTorch or "
            "Keras model, or wrap it in an mlflow.pyfunc.PythonModel (or a function)",
        )
    acceptance = _acceptance(model, flavor, threshold, below)
    run_id = _run("log_model")
    if run_id is None:
        return None
    fitted_model = model
    if predict is not None:
        model = _predict_path(model, X, predict, fitted, kwargs)
    frame = _with_data(model, flavor, X, kwargs) if X is not None else None
    tracker = _tracker()
    from nbops.run.tracking import import_mlflow

    flavor_module = import_mlflow(f"mlflow.{flavor}")
    client = tracker.client
    if hasattr(client, "create_logged_model"):
        # MLflow 3: create the logged model in the run's experiment first (log_model alone
        # would file it under the fluent API's current experiment), then fill it
        experiment_id = tracker.get_run(run_id).experiment_id
        logged = tracker._call(
            f"create model {name!r} in run {run_id}",
            lambda: client.create_logged_model(experiment_id, name=name, source_run_id=run_id),
        )
        import inspect

        call = _flavor_call(flavor_module, flavor, model, save=False)
        accepted = inspect.signature(flavor_module.log_model).parameters
        if "run_id" in accepted or "kwargs" in accepted:  # pyfunc's has no run_id
            kwargs["run_id"] = run_id
        info = tracker._call(
            f"log model {name!r} in run {run_id}",
            lambda: call(name=name, model_id=logged.model_id, **kwargs),
        )
        uri = str(info.model_uri)
    else:
        uri = _log_model_as_artifacts(tracker, model, run_id, name, flavor=flavor, **kwargs)
    if frame is not None:
        _log_reference(tracker, run_id, name, frame)
    if acceptance is not None:
        from nbops.deploy import acceptance as accepting

        if frame is not None:
            try:
                acceptance = accepting.with_reference(
                    acceptance, model, accepting.reference_rows(X, frame))
            except Exception as exc:  # noqa: BLE001 - the user's model: say why, log the rest
                warnings.warn(
                    f"nbops.log_model: {type(model).__name__}.predict_proba failed on the "
                    f"reference sample ({type(exc).__name__}: {exc}); the model card will not "
                    "say how much of it is below the threshold", UserWarning, stacklevel=2)
        accepting.write(tracker, run_id, acceptance, name)
    if eval_data is not None:
        _explain(tracker, run_id, fitted_model, model, eval_data)
    return uri


def _log_model_as_artifacts(
    tracker: Any, model: Any, run_id: str, name: str, *, flavor: str = "sklearn", **kwargs: Any
) -> str:
    """MLflow 2's layout: the MLflow model saved locally, uploaded as the run's ``name/``."""
    import tempfile

    from nbops.run.tracking import import_mlflow

    with tempfile.TemporaryDirectory(prefix="nbops-model-") as tmp:
        local = Path(tmp) / name
        _flavor_call(import_mlflow(f"mlflow.{flavor}"), flavor, model, save=True)(
            str(local), **kwargs
        )
        tracker.log_artifact(run_id, local, name)
    return f"runs:/{run_id}/{name}"
