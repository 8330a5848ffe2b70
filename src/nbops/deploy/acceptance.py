"""The acceptance threshold of a released model: which predictions are accepted, and what
happens to the others.

Declared by ``nbops.log_model(model, X, threshold=0.7, below="abstain")`` or, for a model
logged without one, by ``[tool.nbops.serve]`` at ``nbops release``; stored with the model's run
as ``reference/acceptance.json`` (:data:`FORMAT`) and as the run's tags, so ``nbops serve`` and
``nbops score`` read it from the model they load, never from the caller's config. Applied
where the model gives probabilities (``predict_proba``): each row gets the most likely label,
its probability and a decision: ``accept`` at or above the threshold, else ``abstain`` (no
label) or ``route`` (the label, flagged for a human). docs/deploy.md, "Acceptance threshold".
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nbops.config import BELOW, acceptance_problem
from nbops.errors import ToolError, UsageError

__all__ = [
    "ACCEPT",
    "FORMAT",
    "Acceptance",
    "Decisions",
    "artifact_path",
    "decide",
    "from_config",
    "probabilities_of",
    "raw_model",
    "read",
    "reference_rows",
    "with_reference",
    "write",
]

FORMAT = "nbops.acceptance/1"
FILE = "acceptance.json"
ACCEPT = "accept"
TAG_THRESHOLD = "nbops.acceptance.threshold"
TAG_BELOW = "nbops.acceptance.below"
_HINT = 'threshold=0.7, below="abstain" (no label) or "route" (the label, for a human)'


def artifact_path(name: str = "model") -> str:
    """Where the run keeps model ``name``'s acceptance: beside its reference profile."""
    return f"reference/{FILE}" if name == "model" else f"reference/{name}/{FILE}"


@dataclass(frozen=True)
class Acceptance:
    """A threshold in (0, 1], what happens below it (``abstain`` / ``route``), where it was
    declared (``log_model`` / ``config``), and how many rows of the reference sample fall
    below it (``None``: no reference data)."""

    threshold: float
    below: str
    source: str = "log_model"
    reference_rows: int | None = None
    reference_below: int | None = None

    @classmethod
    def of(cls, threshold: Any, below: Any, source: str = "log_model") -> Acceptance:
        """Checked values, or a ``ValueError`` saying what is wrong."""
        problem = acceptance_problem(threshold, below)
        if problem:
            raise ValueError(problem)
        return cls(float(threshold), str(below), source)

    @property
    def share_below(self) -> float | None:
        if not self.reference_rows or self.reference_below is None:
            return None
        return self.reference_below / self.reference_rows

    def to_json(self) -> dict[str, Any]:
        reference = None if self.reference_rows is None else {
            "rows": self.reference_rows, "below": self.reference_below,
            "share": self.share_below}
        return {"format": FORMAT, "threshold": self.threshold, "below": self.below,
                "source": self.source, "reference": reference}

    @classmethod
    def from_json(cls, data: Any) -> Acceptance:
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise ValueError(f"not {FORMAT}")
        found = cls.of(data.get("threshold"), data.get("below"), str(data.get("source", "")))
        reference = data.get("reference") or {}
        return cls(found.threshold, found.below, found.source,
                   reference.get("rows"), reference.get("below"))

    def tags(self) -> dict[str, str]:
        return {TAG_THRESHOLD: repr(self.threshold), TAG_BELOW: self.below}

    def card_line(self) -> str:
        """The model card's line: the threshold, what happens below it, the reference share."""
        what = ("no label is returned (abstain)" if self.below == "abstain"
                else "the label is returned flagged for a human (route)")
        share = self.share_below
        seen = "" if share is None else (
            f"; {share:.1%} of the reference sample ({self.reference_below} of "
            f"{self.reference_rows} rows) is below it")
        origin = "nbops.log_model" if self.source == "log_model" else "[tool.nbops.serve]"
        return (f"**Decision threshold**: {self.threshold:g} (max class probability, from "
                f"{origin}); below it {what}{seen}.")


def probabilities_of(model: Any) -> Any:
    """``model.predict_proba``, or a ``UsageError`` naming the model's class."""
    proba = getattr(model, "predict_proba", None)  # Pipelines and SVC raise AttributeError
    if not callable(proba):
        kind = f"{type(model).__module__}.{type(model).__name__}"
        raise UsageError(
            f"an acceptance threshold needs probabilities, and a {kind} has no predict_proba",
            hint="leave threshold out for this model, or log a classifier that gives "
            "probabilities (LogisticRegression, SVC(probability=True), ...)")
    return proba


@dataclass
class Decisions:
    """Per row: the most likely ``labels``, their ``probabilities`` and the ``decisions``."""

    labels: Any  # numpy array
    probabilities: Any  # numpy float array
    decisions: list[str]

    def answered(self) -> list[Any]:
        """The labels as answered: ``None`` where the model abstains."""
        out: list[Any] = []
        for label, decision in zip(self.labels.tolist(), self.decisions, strict=True):
            out.append(None if decision == "abstain" else label)
        return out

    def counts(self) -> dict[str, int]:
        return {d: self.decisions.count(d) for d in (ACCEPT, *BELOW) if d in self.decisions}


def decide(model: Any, acceptance: Acceptance, frame: Any) -> Decisions:
    """The decisions of ``model`` (with ``predict_proba``) on ``frame``."""
    import numpy as np

    proba = np.asarray(probabilities_of(model)(frame), dtype="float64")
    if proba.ndim == 1:  # one probability per row: of the positive class
        proba = np.stack([1 - proba, proba], axis=1)
    best = proba.argmax(axis=1)
    probabilities = proba.max(axis=1)
    classes = getattr(model, "classes_", None)
    labels = np.asarray(classes)[best] if classes is not None else best
    decisions = [ACCEPT if p >= acceptance.threshold else acceptance.below
                 for p in probabilities.tolist()]
    return Decisions(labels, probabilities, decisions)


def reference_rows(data: Any, frame: Any) -> Any:
    """The rows of ``data`` (the training inputs as given) that the reference sample of
    ``frame`` (``data`` as a frame) keeps, in the form ``data`` has."""
    import numpy as np
    import pandas as pd  # type: ignore[import-untyped]  # no stubs installed

    from nbops.run import reference

    picked = reference.sample(pd.DataFrame({"i": np.arange(len(frame))}))["i"].to_numpy()
    if hasattr(data, "iloc"):
        return data.iloc[picked]
    if isinstance(data, np.ndarray):
        return data[picked]
    return frame.iloc[picked]  # a list of dicts: as the frame MLflow was given


def with_reference(acceptance: Acceptance, model: Any, rows: Any) -> Acceptance:
    """``acceptance`` with the count of ``rows`` below its threshold."""
    decided = decide(model, acceptance, rows)
    below = sum(1 for d in decided.decisions if d != ACCEPT)
    return Acceptance(acceptance.threshold, acceptance.below, acceptance.source,
                      len(decided.decisions), below)


def write(tracker: Any, run_id: str, acceptance: Acceptance, name: str = "model") -> None:
    """Store ``acceptance`` with the run (artifact and tags)."""
    path = artifact_path(name)
    with tempfile.TemporaryDirectory(prefix="nbops-acceptance-") as folder:
        file = Path(folder) / FILE
        file.write_text(json.dumps(acceptance.to_json(), indent=1) + "\n", encoding="utf-8")
        tracker.log_artifact(run_id, file, path.rsplit("/", 1)[0])
    tracker.set_tags(run_id, acceptance.tags())


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
    import pandas as pd

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
