"""The review report (the pull request's body) shows the latest tracked run's explanation, as
the released model card does: a run whose notebook logged its model with ``eval_data`` has an
"Explanation" section in the report ``nbops submit`` pushes."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from test_submit import _run_index, repo

from nbops.review.submit import SubmitOptions, submit

__all__ = ["repo"]

pytest.importorskip("mlflow")
pytest.importorskip("sklearn")


def _explained_run(work: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A real run in the project's store, its model logged by nbops.log_model with eval_data."""
    from wineproject import wine_classifier, wine_split

    import nbops
    from nbops.run.tracking import MlflowTracker, default_tracking_uri

    uri = default_tracking_uri(work)
    tracker = MlflowTracker(uri)
    run_id = str(tracker.start_run("wine_classifier", "explained", {}, {}))
    monkeypatch.setenv("NBOPS_RUN_ID", run_id)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    x_train, x_test, y_train, y_test = wine_split()
    model = wine_classifier(x_train, y_train)
    nbops.log_model(model, x_train, eval_data=(x_test, y_test))
    return run_id


def test_the_report_shows_the_latest_runs_explanation(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run_id = _explained_run(repo, monkeypatch)
    _run_index(repo, {})
    index = repo / "nbops-runs" / "wine_classifier" / "runs.jsonl"
    entry = json.loads(index.read_text())
    index.write_text(json.dumps({**entry, "run_id": run_id}) + "\n")
    result = submit(repo / "wine_classifier.ipynb", SubmitOptions())
    assert result.pushed, result
    report = subprocess.run(
        ["git", "-C", str(repo.parent / "remote.git"), "show",
         f"{result.branch}:reviews/wine_classifier.md"],
        capture_output=True, text=True, check=True).stdout
    section = report[report.index("## Explanation"):]
    assert "Permutation importance" in section and "| `proline` |" in section
    assert f"`explain/importance.svg` of run `{run_id}`" in section


def test_without_an_explanation_the_report_has_none_and_the_submit_goes_on(repo: Path) -> None:
    _run_index(repo, {})  # a run id the project's store does not know (there is no store)
    result = submit(repo / "wine_classifier.ipynb", SubmitOptions(dry_run=True))
    assert result.dry_run and not any("explanation" in w for w in result.warnings)
