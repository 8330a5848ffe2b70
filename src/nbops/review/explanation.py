"""A run's explanation as the review report and the model card show it: read back from the run's
``explain/`` artifacts (what ``nbops.log_model(..., eval_data=...)`` logs through
:mod:`nbops.run.explanation`) and rendered as markdown lines.

In the review layer so that both the pre-merge review report (``nbops submit``) and the
release's model card (``nbops release``) show the same section.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

from nbops.errors import ToolError
from nbops.run.explanation import CHART, FOLDER

__all__ = ["card_lines", "read"]


def read(client: Any, run_id: str | None) -> dict[str, Any] | None:
    """``{"importance": ..., "per_class": ...}`` stored with ``run_id`` (an MLflow client), or
    None when the run has no explanation."""
    if not run_id:
        return None
    try:
        listed = {f.path for f in client.list_artifacts(run_id, FOLDER)}
        found: dict[str, Any] = {}
        for key in ("importance", "per_class"):
            path = f"{FOLDER}/{key}.json"
            if path in listed:
                with tempfile.TemporaryDirectory(prefix="nbops-explain-") as tmp:
                    local = client.download_artifacts(run_id, path, tmp)
                    found[key] = json.loads(Path(local).read_text(encoding="utf-8"))
    except Exception as exc:
        raise ToolError(f"cannot read the explanation of run {run_id}: {exc}") from exc
    if "importance" not in found:
        return None
    return {"importance": found["importance"], "per_class": found.get("per_class")}


def _cell(value: Any) -> str:
    return str(value).replace("|", "\\|").replace("\n", " ")


def card_lines(found: dict[str, Any], run_id: str = "") -> list[str]:
    """The model card's "Explanation" section: the importance table with a text bar (markdown
    renders it everywhere: a pull request's description shows no inline SVG), where the SVG
    chart is, and the per-class metrics."""
    importance = found["importance"]
    features = importance.get("features") or []
    largest = max([float(f["mean"]) for f in features] + [1e-12])
    against = ("the labels given" if importance.get("labels") == "given"
               else "the model's own predictions")
    out = ["## Explanation", "",
           (f"Permutation importance: the drop in {importance.get('scoring')} (against "
           f"{against}; {importance.get('baseline', 0):.4g} unshuffled) when a feature is "
           f"shuffled, {importance.get('repeats')} repeats on {importance.get('rows')} of "
           f"{importance.get('total_rows')} evaluation rows."), "",
           "| feature | importance | ± std | |", "|---|---|---|---|"]
    for feature in features[:CHART]:
        bar = "█" * round(max(0.0, float(feature["mean"])) / largest * 20)
        out.append(f"| `{_cell(feature['name'])}` | {float(feature['mean']):.4f} | "
                   f"{float(feature['std']):.4f} | {bar} |")
    if len(features) > CHART:
        out.append(f"| … {len(features) - CHART} more | | | |")
    where = f" of run `{run_id}`" if run_id else ""
    out += ["", f"Chart: the artifact `{FOLDER}/importance.svg`{where}."]
    per_class = (found.get("per_class") or {}).get("report")
    if per_class:
        out += ["", "| class | precision | recall | F1 | support |", "|---|---|---|---|---|"]
        for label, values in per_class.items():
            if isinstance(values, dict):
                out.append(f"| {_cell(label)} | {values['precision']:.3f} | "
                           f"{values['recall']:.3f} | {values['f1-score']:.3f} | "
                           f"{int(values['support'])} |")
        if "accuracy" in per_class:
            out += ["", f"Accuracy: {float(per_class['accuracy']):.4f}."]
    return out
