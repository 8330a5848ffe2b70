"""For the Models view's tests: a project whose real SQLite store holds a registered model
``wine`` with three versions, made by nbops' own tracker and promotion:

- version 1 (accuracy 0.90): released, PASS (no champion yet): the ``champion``;
- version 2 (accuracy 0.905): released, HOLD (+0.005 < min-absolute-change 0.01): the last
  comparison;
- version 3 (accuracy 0.93): registered, not judged yet: the ``challenger`` (Promote passes).

Each run has an executed notebook (``notebook/``) and a log (``logs/run.log``) as artifacts.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from wineproject import MODEL, in_run, new_project

PROMOTE = ('[project]\nname = "wine"\n\n[tool.nbops.promote]\nmetric = "accuracy"\n'
           "min-value = 0.8\nmin-absolute-change = 0.01\n")
LOG_TEXT = "epoch 1: loss 0.4\nepoch 2: loss 0.2\n"


def _run(tracker: Any, folder: Path, accuracy: float, index: int) -> str:
    from sklearn.linear_model import LogisticRegression

    from nbops import tracking_api

    with in_run(tracker, "wine", {"C": str(index)}) as run_id:
        model = LogisticRegression().fit([[0.0], [1.0], [2.0], [3.0]], [0, 0, 1, 1])
        tracking_api.log_model(model, pip_requirements=["scikit-learn"])
        tracker.log_metric(run_id, "accuracy", accuracy)
        notebook = folder / f"wine-2026120{index}-{run_id[:8]}.ipynb"
        notebook.write_text(json.dumps({"cells": [], "metadata": {"run": index}, "nbformat": 4,
                                        "nbformat_minor": 5}), encoding="utf-8")
        tracker.log_artifact(run_id, notebook, "notebook")
        log = folder / "run.log"
        log.write_text(f"run {index}\n{LOG_TEXT}", encoding="utf-8")
        tracker.log_artifact(run_id, log, "logs")
    return run_id


def make_models_project(root: Path) -> dict[str, str]:
    """Write the project at ``root`` (pyproject.toml with the thresholds) and its store; the
    run ids by version (``"1"``, ``"2"``, ``"3"``)."""
    from nbops.config import load_config
    from nbops.deploy.promotion import promote

    tracker = new_project(root, PROMOTE)
    scratch = root / ".scratch"
    scratch.mkdir()
    config = load_config(root).promote
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv("MLFLOW_TRACKING_URI", raising=False)
        runs: dict[str, str] = {}
        for index, accuracy in enumerate((0.90, 0.905, 0.93), start=1):
            run_id = _run(tracker, scratch, accuracy, index)
            tags = {"nbops.git.commit": f"{index}" * 40, "nbops.release.pr": str(10 + index),
                    "nbops.gate": "PASS"}
            if index < 3:  # released: registered and judged, as nbops release does
                done = promote(tracker, run_id, config, model=MODEL, tags=tags)
                assert done.verdict.status == ("PASS" if index == 1 else "HOLD")
            else:  # registered as the challenger, not judged yet
                assert tracker.promote(run_id, MODEL, tags=tags) == 3
            runs[str(index)] = run_id
    for file in scratch.iterdir():
        file.unlink()
    scratch.rmdir()
    return runs


def champion(root: Path) -> int:
    """The version the ``champion`` alias points to, read from the store itself."""
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=f"sqlite:///{root / '.nbops' / 'mlflow.db'}")
    return int(client.get_model_version_by_alias(MODEL, "champion").version)


def make_stub_registry(root: Path) -> str:
    """A quick registry for the API contract test: one run (accuracy 0.9, ``logs/run.log``)
    registered as version 1 of ``wine`` straight through MLflow (no model files: nothing
    here loads it). The run id."""
    tracker = new_project(root, PROMOTE)
    run_id: str = tracker.start_run("wine", "wine", {}, {})
    tracker.log_metric(run_id, "accuracy", 0.9)
    log = root / "run.log"
    log.write_text(LOG_TEXT, encoding="utf-8")
    tracker.log_artifact(run_id, log, "logs")
    log.unlink()
    tracker.end_run(run_id, "FINISHED")
    client = tracker.client
    client.create_registered_model(MODEL)
    client.create_model_version(MODEL, f"{tracker.get_run(run_id).artifact_uri}/model",
                                run_id=run_id)
    return run_id
