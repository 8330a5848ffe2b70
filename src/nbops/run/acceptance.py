"""An acceptance threshold as ``nbops.log_model`` declares it: checked, counted on the reference
sample and stored with the run (``reference/acceptance.json``, :data:`FORMAT`, and the run's
tags); and the decisions it makes on rows (``accept`` at or above the threshold, else
``abstain``: no label, or ``route``: the label, flagged for a human).

In the run layer because ``log_model`` writes it while the run is recorded; reading it back
from a released model and ``[tool.nbops.serve]``'s threshold are :mod:`nbops.deploy.acceptance`.
docs/deploy.md, "Acceptance threshold".
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nbops.config import BELOW, acceptance_problem
from nbops.errors import UsageError

__all__ = [
    "ACCEPT",
    "FILE",
    "FORMAT",
    "TAG_BELOW",
    "TAG_THRESHOLD",
    "Acceptance",
    "Decisions",
    "artifact_path",
    "decide",
    "probabilities_of",
    "reference_rows",
    "with_reference",
    "write",
]

FORMAT = "nbops.acceptance/1"
FILE = "acceptance.json"
ACCEPT = "accept"
TAG_THRESHOLD = "nbops.acceptance.threshold"
TAG_BELOW = "nbops.acceptance.below"


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
