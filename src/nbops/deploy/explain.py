"""``nbops explain MODEL DATA``: a registered model's explanation on a batch of rows, and its
text output.

What an explanation is, how it is computed and logged with a run, is
:mod:`nbops.run.explanation` (``nbops.log_model(..., eval_data=...)`` logs it there); the model
card reads it back with :mod:`nbops.review.explanation`. docs/deploy.md, "Explanations".
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from nbops.errors import UsageError
from nbops.run.explanation import REPEATS, Explanation, explain

__all__ = ["explain_file", "text"]


def explain_file(loaded: Any, data: Path, labels: str | None = None) -> Explanation:
    """The explanation of a registered model (``nbops.deploy.models.LoadedModel``) on the
    rows of ``data`` (.csv / .parquet), against the column ``labels`` when given. The rows are
    checked against the model's signature first: a missing column or a bad value is a
    ``UsageError`` naming the column (and the row)."""
    from nbops.deploy.models import shown_path
    from nbops.deploy.score import read_table

    shown = shown_path(data)
    frame = read_table(data, loaded.check)
    target = None
    if labels is not None:
        if labels not in frame.columns:
            columns = ", ".join(map(str, frame.columns[:20]))
            raise UsageError(f"{shown}: no labels column {labels!r}",
                             hint=f"--labels names one of its columns: {columns}")
        target = frame[labels]
        if target.isna().any():
            row = int(target.isna().to_numpy().argmax()) + 1
            raise UsageError(f"{shown}: row {row}: column {labels!r}: missing label",
                             hint="every row needs its label; remove the rows without one")
        frame = frame.drop(columns=[labels])
    if loaded.check is not None:
        converted, bad, problems = loaded.check.check(frame, max_problems=5)
        if problems:
            more = int(bad.sum()) - len([p for p in problems if p.row is not None])
            rest = f" (and {more} more rows)" if more > 0 and problems[0].row is not None else ""
            raise UsageError(f"{shown}: {problems[0]}{rest}",
                             hint="nbops score DATA lists every bad row; fix or remove them")
        frame = loaded.check.good(converted, bad)
    return explain(loaded.predict, frame, target, model=_estimator(loaded.pyfunc))


def _estimator(pyfunc: Any) -> Any:
    """The scikit-learn estimator behind a loaded model (a classifier or regressor tells
    itself apart), or None."""
    try:
        raw = pyfunc.get_raw_model()
    except Exception:  # noqa: BLE001 - a flavor without a raw model: the labels tell
        return None
    inner = getattr(raw, "model", None)  # nbops.run.pyfunc.PredictPath: the model it calls
    return inner if type(raw).__name__ == "PredictPath" else raw


def text(explanation: Explanation, label: str) -> str:
    """``nbops explain``'s text output."""
    against = "labels" if explanation.labels == "given" else "the model's own predictions"
    out = [(f"{label}: permutation importance, the drop in {explanation.scoring} against "
           f"{against} ({explanation.baseline:.4g} unshuffled), {REPEATS} repeats on "
           f"{explanation.rows} of {explanation.total_rows} rows")]
    width = max([len(f.name) for f in explanation.features] + [7])
    out += [f"  {f.name:<{width}}  {f.mean:8.4f} ± {f.std:.4f}" for f in explanation.features]
    if explanation.per_class:
        out += ["per class:", f"  {'class':<{width}}  precision  recall      f1  support"]
        for key, values in explanation.per_class.items():
            if isinstance(values, dict):
                out.append(f"  {key:<{width}}  {values['precision']:9.3f}  "
                           f"{values['recall']:6.3f}  {values['f1-score']:6.3f}  "
                           f"{int(values['support']):7d}")
    return "\n".join(out) + "\n"
