"""Logging a model into a run: ``nbops.log_model``'s checks and the MLflow work behind it.

Two halves. :func:`check` (cheap, in the notebook's kernel: nothing is imported that the model
has not loaded already) says what is wrong with a call as a ``UsageError`` at the call.
:func:`log` does the work: the flavor's ``log_model`` (MLflow 3: a logged model created in the
run's experiment first), the signature and input example from ``X``, the reference sample and
profile (``reference/``), the acceptance threshold (:mod:`nbops.run.acceptance`) and the
explanation on ``eval_data`` (:mod:`nbops.run.explanation`).

Under ``nbops run`` the kernel does not call :func:`log`: it pickles the call
(:meth:`nbops.run.journal.JournalWriter.model`) and the runner hands the file to its tracker
(:func:`log_file`), in the recorder helper or in the runner, while the notebook runs on. With
``NBOPS_RUN_ID`` (direct mode) :func:`log` runs where the notebook calls.
"""

from __future__ import annotations

import contextlib
import inspect
import pickle
import sys
import tempfile
import threading
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nbops.errors import UsageError

__all__ = ["Request", "check", "check_data", "log", "log_file", "model_flavor", "warm_modules"]

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
_THRESHOLD_HINT = 'threshold=0.7, below="abstain" or "route"'


def _mlflow(module: str) -> Any:
    """MLflow's ``module`` (a tracker of :mod:`nbops.run.tracking` has set MLflow's
    environment up: every caller holds one), or ``MissingPackageError``."""
    from nbops import extras

    return extras.import_optional(module, "run", "tracking runs")


def model_flavor(model: Any) -> str | None:
    """The MLflow flavor for ``model`` (``"sklearn"``, ``"xgboost"``, ..., ``"pyfunc"``), or None.

    Read off the modules of its class and their bases: nothing is imported (a model's
    library is loaded already when the model exists).
    """
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


def warm_modules(source: str) -> list[str]:
    """What a helper imports ahead of a ``log_model`` in a notebook whose code is ``source``
    (empty when it never calls it): MLflow's model code and, for scikit-learn, the flavor."""
    if "log_model" not in source:
        return []
    modules = ["mlflow.models", "mlflow.pyfunc"]
    if "sklearn" in source:
        modules += ["sklearn", "mlflow.sklearn", "skops.io"]
    return modules


_warming: list[threading.Thread] = []  # imports ahead of a model (warm_in_background)
_warming_lock = threading.Lock()


def warm_in_background(modules: Sequence[str]) -> None:
    """Import ``modules`` (:func:`warm_modules`) in a thread of their own, each failure left to
    the model's logging; :func:`log` and :func:`log_file` wait for them first: two threads
    importing modules that import each other can see them half made."""
    if not modules:
        return
    thread = threading.Thread(target=_import_quietly, args=(list(modules),),
                              name="nbops-model-warm", daemon=True)
    with _warming_lock:
        _warming[:] = [t for t in _warming if t.is_alive()]
        _warming.append(thread)
    thread.start()


def _import_quietly(modules: list[str]) -> None:
    import importlib

    for module in modules:
        with contextlib.suppress(Exception):
            importlib.import_module(module)


def _warmed() -> None:
    """Wait for the imports :func:`warm_in_background` started in this process."""
    with _warming_lock:
        pending = list(_warming)
    for thread in pending:
        thread.join()


@dataclass
class Request:
    """One ``log_model`` call, checked: what :func:`log` needs (picklable as a whole)."""

    model: Any
    X: Any
    name: str
    flavor: str
    acceptance: Any  # nbops.run.acceptance.Acceptance or None
    predict: Any = None
    fitted: Any = None
    eval_data: Any = None
    kwargs: dict[str, Any] = field(default_factory=dict)


# --------------------------------------------------------------------------- checks (kernel)


def _acceptance(model: Any, flavor: str, threshold: Any, below: Any) -> Any:
    """The checked acceptance threshold (``nbops.run.acceptance.Acceptance``), or None."""
    if threshold is None:
        if below is not None:
            raise UsageError("nbops.log_model: below= needs a threshold=", hint=_THRESHOLD_HINT)
        return None
    from nbops.run.acceptance import Acceptance, probabilities_of

    try:
        acceptance = Acceptance.of(threshold, "abstain" if below is None else below)
    except ValueError as exc:
        raise UsageError(f"nbops.log_model: {exc}", hint=_THRESHOLD_HINT) from None
    if flavor == "pyfunc":
        raise UsageError(
            f"nbops.log_model: an acceptance threshold needs probabilities, and a pyfunc "
            f"model ({type(model).__name__}) gives none nbops can read",
            hint="leave threshold out, or log the underlying classifier (it has predict_proba)")
    probabilities_of(model)
    return acceptance


def _check_predict(predict: Any, fitted: Any, threshold: Any) -> None:
    """A ``UsageError`` when ``predict=`` / ``fitted=`` are not what ``log_model`` takes."""
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


def _check_eval_data(eval_data: Any) -> None:
    """A ``UsageError`` unless ``eval_data`` is ``(X_test, y_test)`` of the same length."""
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


def check_data(data: Any) -> None:
    """A ``UsageError`` unless ``X`` is a table nbops can describe."""
    from nbops.run import reference

    try:
        reference.as_frame(data)
    except TypeError as exc:
        raise UsageError(
            f"nbops.log_model: X is {exc}",
            hint="pass the training inputs as a pandas DataFrame, a numpy array or a list of dicts",
        ) from None


def check(model: Any, X: Any, *, name: str, threshold: Any, below: Any, predict: Any,
          fitted: Any, eval_data: Any, kwargs: dict[str, Any]) -> Request:
    """The call checked (a ``UsageError`` naming what is wrong), as a :class:`Request`."""
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
    return Request(model, X, name, flavor, acceptance, predict, fitted, eval_data, dict(kwargs))


# --------------------------------------------------------------------------- the work


def _with_data(model: Any, flavor: str, data: Any, kwargs: dict[str, Any]) -> Any:
    """Add the signature and input example inferred from ``data`` to ``kwargs`` (what the
    caller gave wins); the reference frame of ``data``."""
    from nbops.run import reference
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
        infer = _mlflow("mlflow.models").infer_signature
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
    from nbops.run import reference

    folder = "reference" if name == "model" else f"reference/{name}"
    with tempfile.TemporaryDirectory(prefix="nbops-reference-") as tmp:
        for path in reference.write_reference(frame, Path(tmp)):
            tracker.log_artifact(run_id, path, folder)


def flavor_call(flavor_module: Any, flavor: str, model: Any, save: bool) -> Any:
    """``log_model`` / ``save_model`` of the flavor with the model as its argument."""
    function = flavor_module.save_model if save else flavor_module.log_model
    if flavor == "pyfunc":
        return lambda *args, **kwargs: function(*args, python_model=model, **kwargs)
    return lambda *args, **kwargs: function(model, *args, **kwargs)


def _predict_path(model: Any, X: Any, predict: Any, fitted: Any, kwargs: dict[str, Any]) -> Any:
    """``model`` wrapped to be served through ``predict(model, frame, **fitted)``
    (:class:`nbops.run.pyfunc.PredictPath`), its signature inferred from the raw ``X``."""
    from nbops.run.pyfunc import PredictPath, code_paths

    fitted = dict(fitted or {})
    if X is not None and "signature" not in kwargs:
        from nbops.run import reference
        data = reference.as_frame(X) if isinstance(X, list) else X
        rows = data.head(_PREDICT_ROWS) if hasattr(data, "head") else data[:_PREDICT_ROWS]
        try:
            output = predict(model, rows, **fitted)
        except Exception as exc:  # noqa: BLE001 - the user's function: say why, log the inputs
            warnings.warn(
                f"nbops.log_model: predict failed on X ({type(exc).__name__}: {exc}); the "
                "signature describes the inputs only", UserWarning, stacklevel=3)
            output = None
        kwargs["signature"] = _mlflow("mlflow.models").infer_signature(data, output)
    kwargs.setdefault("code_paths", code_paths(predict))
    return PredictPath(predict, model, fitted)


def _explain(tracker: Any, run_id: str, model: Any, served: Any, eval_data: Any) -> None:
    """Permutation importance and per-class metrics of the model on ``eval_data``, logged
    with the run (:mod:`nbops.run.explanation`); a failure of the user's model warns."""
    from nbops.run import explanation

    if callable(getattr(served, "predict", None)):
        pyfunc = model_flavor(served) == "pyfunc"
        predict = (lambda frame: served.predict(None, frame)) if pyfunc else served.predict
    else:
        predict = served  # a python function
    try:
        found = explanation.explain(predict, eval_data[0], eval_data[1], model=model)
    except Exception as exc:  # noqa: BLE001 - the user's model: say why, keep the model logged
        warnings.warn(f"nbops.log_model: no explanation ({type(exc).__name__}: {exc})",
                      UserWarning, stacklevel=3)
        return
    explanation.log(tracker, run_id, found)


def _log_flavor(tracker: Any, run_id: str, model: Any, name: str, flavor: str,
                kwargs: dict[str, Any]) -> str:
    """The flavor's ``log_model`` into the run; the model's URI."""
    flavor_module = _mlflow(f"mlflow.{flavor}")
    client = tracker.client
    if not hasattr(client, "create_logged_model"):
        return log_as_artifacts(tracker, model, run_id, name, flavor=flavor, **kwargs)
    # MLflow 3: create the logged model in the run's experiment first (log_model alone
    # would file it under the fluent API's current experiment), then fill it
    experiment_id = tracker.get_run(run_id).experiment_id
    logged = tracker._call(
        f"create model {name!r} in run {run_id}",
        lambda: client.create_logged_model(experiment_id, name=name, source_run_id=run_id),
    )
    call = flavor_call(flavor_module, flavor, model, save=False)
    accepted = inspect.signature(flavor_module.log_model).parameters
    if "run_id" in accepted or "kwargs" in accepted:  # pyfunc's has no run_id
        kwargs["run_id"] = run_id
    with _fluent_store(tracker.tracking_uri):
        info = tracker._call(
            f"log model {name!r} in run {run_id}",
            lambda: call(name=name, model_id=logged.model_id, **kwargs),
        )
    return str(info.model_uri)


_FLUENT_LOCK = threading.RLock()


@contextlib.contextmanager
def _fluent_store(uri: str) -> Iterator[None]:
    """MLflow's fluent API (what a flavor's ``log_model`` writes through) pointed at ``uri``
    for the block: the recorder helper and the runner have no ``MLFLOW_TRACKING_URI``. What
    was set before (the global and the variable, which MLflow's setter also writes) is put
    back after."""
    import os

    mlflow = _mlflow("mlflow")
    # the global is the process's: runs logging models in threads of one process (a
    # sweep's, a server's) take turns, or one would put it back under the other's save
    with _FLUENT_LOCK:
        if mlflow.get_tracking_uri() == uri:  # direct mode: the kernel's variable says so
            yield
            return
        utils = _mlflow("mlflow.tracking._tracking_service.utils")
        before = getattr(utils, "_tracking_uri", None)
        variable = os.environ.get("MLFLOW_TRACKING_URI")
        mlflow.set_tracking_uri(uri)
        try:
            yield
        finally:
            mlflow.set_tracking_uri(before)
            if variable is not None:
                os.environ["MLFLOW_TRACKING_URI"] = variable
            else:
                os.environ.pop("MLFLOW_TRACKING_URI", None)


def _pin_requirements(model: Any, flavor: str, kwargs: dict[str, Any]) -> None:
    """The model's pip requirements read off its pickle (:mod:`nbops.run.requirements`)
    instead of MLflow's inference in a subprocess, unless the caller gave its own."""
    if {"pip_requirements", "extra_pip_requirements", "conda_env"} & kwargs.keys():
        return
    from nbops.run.requirements import pip_requirements

    found = pip_requirements(model, flavor,
                             serialization_format=kwargs.get("serialization_format"))
    if found is not None:
        kwargs["pip_requirements"] = found


def _skops_trust(model: Any, flavor: str, kwargs: dict[str, Any]) -> None:
    """MLflow 3 saves scikit-learn models with skops, which refuses every type outside its
    default trust list (a forest's ``sklearn.tree._tree.Tree``, ...) unless it is named. The
    model is the user's own, trained in their notebook: the types of installed libraries it
    holds are named trusted (stored in the MLmodel, so serving loads it). A type of no
    installed distribution (a class of the notebook itself) cannot be trusted that way: the
    model is saved with cloudpickle instead, with a warning. Nothing is decided when the call
    chose ``serialization_format`` or ``skops_trusted_types`` itself."""
    if flavor != "sklearn" or {"serialization_format", "skops_trusted_types"} & kwargs.keys():
        return
    sklearn_flavor = _mlflow("mlflow.sklearn")
    default = getattr(sklearn_flavor, "_get_default_serialization_format", None)
    skops = getattr(sklearn_flavor, "SERIALIZATION_FORMAT_SKOPS", None)
    if default is None or skops is None or default() != skops:  # older MLflow, Databricks
        return
    from nbops.run.requirements import distributions_of

    try:
        import skops.io as skops_io  # type: ignore[import-untyped]

        untrusted = skops_io.get_untrusted_types(data=skops_io.dumps(model))
    except Exception as exc:  # noqa: BLE001 - skops cannot save it at all: say why
        kwargs["serialization_format"] = "cloudpickle"
        warnings.warn(f"nbops.log_model: skops cannot save this {type(model).__name__} "
                      f"({type(exc).__name__}: {exc}); saved with cloudpickle (load it only "
                      "from a store you trust)", UserWarning, stacklevel=2)
        return
    foreign = [name for name in untrusted
               if name.split(".")[0] in ("__main__", "builtins")
               or not distributions_of(name.split(".")[0])]
    if foreign:
        kwargs["serialization_format"] = "cloudpickle"
        warnings.warn(f"nbops.log_model: skops cannot trust {', '.join(sorted(foreign))} (not "
                      "from an installed package); saved with cloudpickle (load it only from a "
                      "store you trust)", UserWarning, stacklevel=2)
    elif untrusted:
        kwargs["skops_trusted_types"] = sorted(untrusted)


def log(tracker: Any, run_id: str, request: Request) -> str:
    """Log the checked call ``request`` into run ``run_id`` of ``tracker`` (an
    ``MlflowTracker``); the model's URI (MLflow 3: ``models:/<model id>``)."""
    _warmed()
    model, X, name, kwargs = request.model, request.X, request.name, dict(request.kwargs)
    fitted_model = model
    if request.predict is not None:
        model = _predict_path(model, X, request.predict, request.fitted, kwargs)
    frame = _with_data(model, request.flavor, X, kwargs) if X is not None else None
    _skops_trust(model, request.flavor, kwargs)
    _pin_requirements(model, request.flavor, kwargs)
    uri = _log_flavor(tracker, run_id, model, name, request.flavor, kwargs)
    if frame is not None:
        _log_reference(tracker, run_id, name, frame)
    acceptance = request.acceptance
    if acceptance is not None:
        from nbops.run import acceptance as accepting

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
    if request.eval_data is not None:
        _explain(tracker, run_id, fitted_model, model, request.eval_data)
    return uri


def log_as_artifacts(
    tracker: Any, model: Any, run_id: str, name: str, *, flavor: str = "sklearn", **kwargs: Any
) -> str:
    """MLflow 2's layout: the MLflow model saved locally, uploaded as the run's ``name/``."""
    with tempfile.TemporaryDirectory(prefix="nbops-model-") as tmp:
        local = Path(tmp) / name
        flavor_call(_mlflow(f"mlflow.{flavor}"), flavor, model, save=True)(
            str(local), **kwargs
        )
        tracker.log_artifact(run_id, local, name)
    return f"runs:/{run_id}/{name}"


def log_file(tracker: Any, run_id: str, file: Path) -> str:
    """Log the call the kernel pickled into ``file`` (:meth:`JournalWriter.model`); classes
    from modules of the notebook's folder are found through the kernel's working folder
    (``<file>.cwd``), put on ``sys.path`` for the call (never a ``chdir``: the runner's
    threads share the process's folder)."""
    try:
        folder = file.with_suffix(".cwd").read_text(encoding="utf-8").strip()
    except OSError:
        folder = ""
    _warmed()  # unpickling imports the model's modules
    added = bool(folder) and folder not in sys.path
    if added:
        sys.path.insert(0, folder)
    try:
        request = pickle.loads(file.read_bytes())
        if not isinstance(request, Request):
            raise UsageError(f"nbops.log_model: {file.name} is not a model request")
        return log(tracker, run_id, request)
    finally:
        if added:
            with contextlib.suppress(ValueError):
                sys.path.remove(folder)
