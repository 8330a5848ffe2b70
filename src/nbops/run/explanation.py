"""A model's explanation computed and logged with its run: permutation importance, per-class
metrics, a bar chart.

:func:`explain` computes, on evaluation rows and their labels, scikit-learn's
``permutation_importance`` (at most :data:`MAX_ROWS` rows sampled with seed 0,
:data:`REPEATS` repeats seeded; scored by accuracy for a classifier, r2 for a regressor) and,
for a classifier, the per-class precision, recall and F1 (``classification_report``).
``nbops.log_model(model, X, eval_data=(X_test, y_test))`` logs it with the run (:func:`log`:
``explain/importance.json``, ``explain/per_class.json``, ``explain/importance.svg``, the top
features as metrics and a tag). In the run layer because ``log_model`` logs it while the run
is recorded; the model card reads it back (:mod:`nbops.review.explanation`) and ``nbops
explain MODEL DATA`` computes it for a batch against a registered model
(:mod:`nbops.deploy.explain`). docs/deploy.md, "Explanations".
"""

from __future__ import annotations

import json
import re
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from nbops.errors import MissingPackageError, UsageError

__all__ = [
    "CHART",
    "FOLDER",
    "FORMAT",
    "REPEATS",
    "TAG_TOP",
    "Explanation",
    "Feature",
    "explain",
    "kind_of",
    "log",
    "require",
    "svg",
    "write",
]

FOLDER = "explain"  # the run's artifact folder of the explanation
CHART = 20  # features in the bar chart
FORMAT = "nbops.explain/1"
MAX_ROWS = 5_000  # rows the importance is computed on (sampled, seed 0)
REPEATS = 5  # permutations per feature
SEED = 0
TOP = 5  # features logged as metrics, shown first on the card
TAG_TOP = "nbops.explain.top"
_BAD_KEY = re.compile(r"[^\w\-. /]")


@dataclass(frozen=True)
class Feature:
    """One input column: the mean and standard deviation of the score's drop when it is
    shuffled."""

    name: str
    mean: float
    std: float


@dataclass
class Explanation:
    """What :func:`explain` found: ``kind`` (``classifier`` / ``regressor``), ``scoring``
    (``accuracy`` / ``r2``), the score on the rows (``baseline``), the features by importance
    (highest first), the rows used and given, and for a classifier ``per_class``
    (``classification_report`` as a dict: per label, ``accuracy``, ``macro avg``,
    ``weighted avg``)."""

    kind: str
    scoring: str
    baseline: float
    features: list[Feature]
    rows: int
    total_rows: int
    per_class: dict[str, Any] | None = None
    labels: str = "given"  # or "predictions": no labels, agreement with the model's own

    def importance_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT, "kind": self.kind, "scoring": self.scoring,
            "baseline": self.baseline, "labels": self.labels,
            "rows": self.rows, "total_rows": self.total_rows, "repeats": REPEATS, "seed": SEED,
            "features": [{"name": f.name, "mean": f.mean, "std": f.std} for f in self.features],
        }

    def per_class_json(self) -> dict[str, Any] | None:
        if self.per_class is None:
            return None
        return {"format": FORMAT, "rows": self.total_rows, "report": self.per_class}

    def to_json(self) -> dict[str, Any]:
        return {"importance": self.importance_json(), "per_class": self.per_class_json()}


class _Predictor:
    """What ``permutation_importance`` needs: an object with ``fit`` and ``predict``."""

    def __init__(self, predict: Callable[[Any], Any]) -> None:
        self._predict = predict

    def fit(self, *_: Any) -> _Predictor:
        return self

    def predict(self, frame: Any) -> Any:
        return _column(self._predict(frame))


def _column(predictions: Any) -> Any:
    """The predictions as one array (the first column of a frame or a 2-d array)."""
    import numpy as np

    if hasattr(predictions, "iloc") and getattr(predictions, "ndim", 1) == 2:
        predictions = predictions.iloc[:, 0]
    values = np.asarray(predictions)
    return values[:, 0] if values.ndim == 2 else values


def kind_of(model: Any, labels: Any) -> str:
    """``classifier`` or ``regressor``: scikit-learn's own word for an estimator, else read off
    the labels (text, booleans, categories, or at most 20 distinct whole numbers: classes)."""
    import numpy as np

    if model is not None:
        from sklearn.base import is_classifier, is_regressor  # type: ignore[import-untyped]

        if is_classifier(model):
            return "classifier"
        if is_regressor(model):
            return "regressor"
    values = np.asarray(labels)
    if values.dtype.kind in "OUSb" or str(getattr(labels, "dtype", "")) == "category":
        return "classifier"
    if values.dtype.kind in "iu" and len(np.unique(values)) <= 20:
        return "classifier"
    return "regressor"


def _names(frame: Any) -> list[str]:
    columns = getattr(frame, "columns", None)
    if columns is not None:
        return [str(c) for c in columns]
    return [str(i) for i in range(frame.shape[1])]


def _rows(frame: Any, labels: Any) -> tuple[Any, Any]:
    """At most :data:`MAX_ROWS` rows (and their labels), drawn with seed 0, in order."""
    import numpy as np

    if len(labels) <= MAX_ROWS:
        return frame, labels
    picked = np.sort(np.random.default_rng(SEED).choice(len(labels), MAX_ROWS, replace=False))
    rows = frame.iloc[picked] if hasattr(frame, "iloc") else frame[picked]
    return rows, labels.iloc[picked] if hasattr(labels, "iloc") else np.asarray(labels)[picked]


def explain(predict: Callable[[Any], Any], frame: Any, labels: Any = None, *,
            model: Any = None, kind: str | None = None) -> Explanation:
    """The explanation of ``predict`` (rows -> predictions) on ``frame`` (a DataFrame or a
    2-d array) against ``labels``; without labels, against its own predictions (the
    importance is then how much the predictions change). ``model``: the estimator, to tell a
    classifier from a regressor (else the labels tell)."""
    import numpy as np
    from sklearn.inspection import permutation_importance  # type: ignore[import-untyped]
    from sklearn.metrics import accuracy_score, classification_report, r2_score  # type: ignore[import-untyped]

    rows = len(frame)
    if rows == 0:
        raise UsageError("no rows to explain the model on")
    given = labels is not None
    if given and len(labels) != rows:
        raise UsageError(f"{rows} rows but {len(labels)} labels: they must match")
    predictor = _Predictor(predict)
    predicted = predictor.predict(frame)
    if not given:
        labels = predicted
    kind = kind or kind_of(model, labels)
    scoring = "accuracy" if kind == "classifier" else "r2"
    metric = accuracy_score if kind == "classifier" else r2_score
    truth = np.asarray(labels)

    def score(estimator: Any, data: Any, target: Any) -> float:
        return float(metric(np.asarray(target), estimator.predict(data)))

    sample, sample_labels = _rows(frame, labels)
    found = permutation_importance(predictor, sample, sample_labels, scoring=score,
                                   n_repeats=REPEATS, random_state=SEED, n_jobs=1)
    features = sorted(
        (Feature(name, float(mean), float(std)) for name, mean, std in
         zip(_names(frame), found.importances_mean, found.importances_std, strict=True)),
        key=lambda f: (-f.mean, f.name))
    per_class = None
    if kind == "classifier" and given:
        per_class = classification_report(truth, predicted, output_dict=True, zero_division=0)
    return Explanation(kind, scoring, float(metric(truth, predicted)), features,
                       len(sample_labels), rows, per_class, "given" if given else "predictions")


def svg(explanation: Explanation) -> str:
    """A self-contained SVG bar chart of the importances (the top :data:`CHART`), with each
    bar's standard deviation as a whisker."""
    shown = explanation.features[:CHART]
    label_w, bar_w, row_h, top = 200, 360, 22, 34
    height = top + row_h * max(1, len(shown)) + 12
    largest = max([f.mean + f.std for f in shown] + [1e-12])
    out = [
        (f'<svg xmlns="http://www.w3.org/2000/svg" width="{label_w + bar_w + 90}" '
        f'height="{height}" font-family="sans-serif" font-size="12">'),
        (f'<text x="4" y="18" font-weight="bold">Permutation importance (drop in '
        f'{escape(explanation.scoring)}, {explanation.rows} rows)</text>'),
    ]
    for i, feature in enumerate(shown):
        y = top + i * row_h
        width = max(0.0, feature.mean) / largest * bar_w
        name = feature.name if len(feature.name) <= 28 else feature.name[:27] + "…"
        out.append(f'<text x="{label_w - 6}" y="{y + 14}" text-anchor="end">{escape(name)}</text>')
        out.append(f'<rect x="{label_w}" y="{y + 3}" width="{width:.1f}" height="{row_h - 6}" '
                   'fill="#4c78a8"/>')
        if feature.std > 0:
            lo = max(0.0, feature.mean - feature.std) / largest * bar_w + label_w
            hi = (feature.mean + feature.std) / largest * bar_w + label_w
            out.append(f'<line x1="{lo:.1f}" x2="{hi:.1f}" y1="{y + row_h / 2}" '
                       f'y2="{y + row_h / 2}" stroke="#222"/>')
        out.append(f'<text x="{label_w + width + 8:.1f}" y="{y + 14}">{feature.mean:.4f}</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


def write(explanation: Explanation, folder: Path) -> list[Path]:
    """``importance.json``, ``importance.svg`` and (a classifier with labels)
    ``per_class.json`` in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    files = [folder / "importance.json", folder / "importance.svg"]
    files[0].write_text(json.dumps(explanation.importance_json(), indent=1) + "\n",
                        encoding="utf-8")
    files[1].write_text(svg(explanation), encoding="utf-8")
    per_class = explanation.per_class_json()
    if per_class is not None:
        files.append(folder / "per_class.json")
        files[-1].write_text(json.dumps(per_class, indent=1, default=float) + "\n",
                             encoding="utf-8")
    return files


def _metric_key(name: str) -> str:
    return "explain.importance." + _BAD_KEY.sub("_", name)[:200]


def log(tracker: Any, run_id: str, explanation: Explanation) -> None:
    """Store ``explanation`` with the run: the files as ``explain/``, the top features'
    importances as metrics (``explain.importance.<feature>``), the baseline score
    (``explain.<scoring>``) and their names as the tag ``nbops.explain.top`` (JSON)."""
    with tempfile.TemporaryDirectory(prefix="nbops-explain-") as tmp:
        for path in write(explanation, Path(tmp)):
            tracker.log_artifact(run_id, path, FOLDER)
    top = explanation.features[:TOP]
    for feature in top:
        tracker.log_metric(run_id, _metric_key(feature.name), feature.mean)
    tracker.log_metric(run_id, f"explain.{explanation.scoring}", explanation.baseline)
    tracker.set_tags(run_id, {TAG_TOP: json.dumps([f.name for f in top])})


def require(what: str) -> None:
    """scikit-learn (its ``permutation_importance``), or a ``MissingPackageError`` naming
    ``what`` and the install line."""
    import importlib.util

    if importlib.util.find_spec("sklearn") is None:
        raise MissingPackageError(f"{what} needs scikit-learn (its permutation importance)",
                                  hint="pip install scikit-learn")
