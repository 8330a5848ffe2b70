"""The acceptance threshold of a released model: which predictions are accepted, and what
happens to the others.

Declared by ``nbops.log_model(model, X, threshold=0.7, below="abstain")`` or, for a model
logged without one, by ``[tool.nbops.serve]`` at ``nbops release``; stored with the model's run
as ``reference/acceptance.json`` (:data:`FORMAT`) and as the run's tags, so ``nbops serve`` and
``nbops score`` read it from the model they load, never from the caller's config. Applied
where the model gives probabilities (``predict_proba``): each row gets the most likely label,
its probability and a decision: ``accept`` at or above the threshold, else ``abstain`` (no
label) or ``route`` (the label, flagged for a human). docs/deploy.md, "Acceptance threshold".

The threshold itself, its decisions and how ``log_model`` stores it are
:mod:`nbops.run.acceptance`; here: reading it back from a model's run and
``[tool.nbops.serve]``'s threshold for a model logged without one.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

from nbops.errors import ToolError, UsageError
from nbops.run.acceptance import Acceptance, artifact_path, with_reference

__all__ = ["from_config", "raw_model", "read"]

_HINT = 'threshold=0.7, below="abstain" (no label) or "route" (the label, for a human)'


def read(client: Any, run_id: str | None, name: str = "model") -> Acceptance | None:
    """The acceptance stored with ``run_id`` (an MLflow client), or None when there is none."""
    if not run_id:
        return None
    path = artifact_path(name)
    folder = path.rsplit("/", 1)[0]
    try:
        listed = [f.path for f in client.list_artifacts(run_id, folder)]
        if path not in listed:
            return None
        with tempfile.TemporaryDirectory(prefix="nbops-acceptance-") as tmp:
            local = client.download_artifacts(run_id, path, tmp)
            data = json.loads(Path(local).read_text(encoding="utf-8"))
    except Exception as exc:
        raise ToolError(f"cannot read the acceptance threshold of run {run_id}: {exc}") from exc
    try:
        return Acceptance.from_json(data)
    except ValueError as exc:
        raise ToolError(f"run {run_id}: {path} is not valid: {exc}",
                        hint=f"log the model again with {_HINT}") from exc


def raw_model(pyfunc: Any, label: str) -> Any:
    """The flavor's own model behind a loaded pyfunc, with ``predict_proba``; a ``ToolError``
    when it gives no probabilities (a threshold cannot apply)."""
    try:
        model = pyfunc.get_raw_model()
    except (NotImplementedError, AttributeError):
        model = None
    if model is None or not callable(getattr(model, "predict_proba", None)):
        raise ToolError(
            f"model {label} declares an acceptance threshold but gives no probabilities "
            "(its flavor has no predict_proba)",
            hint="log it again without threshold, or as a classifier with predict_proba")
    return model


def _reference_sample(client: Any, run_id: str, folder: str) -> Any:
    """The run's reference sample (``reference/sample.parquet`` or ``.csv``), or None."""
    import pandas as pd  # type: ignore[import-untyped]  # no stubs installed

    listed = {f.path for f in client.list_artifacts(run_id, folder)}
    for name in ("sample.parquet", "sample.csv"):
        path = f"{folder}/{name}"
        if path in listed:
            with tempfile.TemporaryDirectory(prefix="nbops-acceptance-") as tmp:
                local = client.download_artifacts(run_id, path, tmp)
                return pd.read_parquet(local) if name.endswith(".parquet") else pd.read_csv(local)
    return None


def from_config(tracker: Any, run_id: str, threshold: float, below: str) -> Acceptance:
    """``[tool.nbops.serve]``'s threshold for the model of ``run_id`` (it gave none when it
    was logged), counted on the run's reference sample; a ``UsageError`` when the model gives
    no probabilities."""
    from nbops.run.tracking import MODEL_ARTIFACT, import_mlflow

    mlflow = import_mlflow()
    import_mlflow("mlflow.pyfunc")
    accepting = Acceptance(threshold, below, "config")
    # the run's model, where MLflow 2 or 3 keeps it (what nbops promote registers)
    source, _ = tracker._logged_model(tracker.get_run(run_id), MODEL_ARTIFACT)
    with tempfile.TemporaryDirectory(prefix="nbops-acceptance-") as tmp:
        try:
            local = mlflow.artifacts.download_artifacts(
                artifact_uri=source, dst_path=tmp, tracking_uri=tracker.tracking_uri)
            pyfunc = mlflow.pyfunc.load_model(local)
        except Exception as exc:
            raise ToolError(f"cannot load the model of run {run_id}: {type(exc).__name__}: "
                            f"{exc}", hint="check that its flavor's package is installed here"
                            ) from exc
        try:
            model = raw_model(pyfunc, f"of run {run_id}")
        except ToolError:
            kind = type(getattr(pyfunc, "_model_impl", pyfunc)).__name__
            raise UsageError(
                f"[tool.nbops.serve] threshold = {threshold:g} needs probabilities, and the "
                f"model of run {run_id} ({kind}) gives none (no predict_proba)",
                hint="remove threshold from [tool.nbops.serve] for this model") from None
        rows = _reference_sample(tracker.client, run_id, artifact_path().rsplit("/", 1)[0])
        if rows is None:
            return accepting
        if getattr(model, "feature_names_in_", None) is None:
            rows = rows.to_numpy()  # fitted on an array: its columns by position
        return with_reference(accepting, model, rows)
