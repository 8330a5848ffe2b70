"""The Models view's read model (nbops.deploy.registry_view) on a real SQLite registry: the
bound on versions, what counts as a downloadable artifact, a refused artifact name."""

from __future__ import annotations

from pathlib import Path

import pytest
from modelsproject import MODEL, make_stub_registry

import nbops.deploy.registry_view as view
from nbops.errors import AccessError, NotFoundError


def test_versions_are_bounded_newest_first_and_say_they_were_cut(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from nbops.run.tracking import MlflowTracker, default_tracking_uri

    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    run_id = make_stub_registry(tmp_path)
    tracker = MlflowTracker(default_tracking_uri(tmp_path))
    source = f"{tracker.get_run(run_id).artifact_uri}/model"
    for _ in range(3):
        tracker.client.create_model_version(MODEL, source, run_id=run_id)
    monkeypatch.setattr(view, "MAX_VERSIONS", 2)
    [model], more = view.read_models(tracker)
    assert more is False
    assert [v["version"] for v in model["versions"]] == [4, 3] and model["truncated"] is True
    assert model["champion"] is None and model["comparison"] is None  # never judged
    assert model["versions"][0]["artifacts"] == [
        {"path": "logs/run.log", "kind": "logs", "size": len("epoch 1: loss 0.4\nepoch 2: loss 0.2\n")}
    ]
    assert view.artifact(tracker, MODEL, 1, "logs/run.log")[0] == "run.log"
    with pytest.raises(AccessError):
        view.artifact(tracker, MODEL, 1, "logs/../../../mlflow.db")
    with pytest.raises(NotFoundError, match="no artifact"):
        view.artifact(tracker, MODEL, 1, "model/MLmodel")
    with pytest.raises(NotFoundError, match="no registered model"):
        view.read_model(tracker, "nope")


@pytest.mark.parametrize(("path", "kind"), [
    ("notebook/wine-1.ipynb", "notebook"), ("notebook/wine-1.html", "report"),
    ("logs/run.log", "logs"), ("release/model_card.md", "release"),
    ("promotion/verdict.json", "verdict"), ("promotion/other.json", None),
    ("model/MLmodel", None), ("environment/requirements.txt", None), ("logs/a/b.log", None),
])
def test_what_the_view_offers_to_download(path: str, kind: str | None) -> None:
    assert view._kind(path) == kind
