"""For the Health tab's browser test: a project at a given folder (the lab's root) whose real
SQLite store holds the wine model as tests/monitorproject.py logs it (champion, version 1, with
its reference data) and two checks recorded as ``nbops monitor wine --labels target`` records
them: first on training rows (OK), then on the same rows shifted on purpose (ALERT, alcohol and
colour intensity drifted)."""

from __future__ import annotations

from pathlib import Path

import pytest
from monitorproject import MODEL, WineProject, current


def make_health_project(root: Path) -> dict[str, str]:
    """The project at ``root`` and its two checks; their run ids (``ok``, ``alert``)."""
    from sklearn.datasets import load_wine
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import train_test_split
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from nbops import tracking_api
    from nbops.deploy import models
    from nbops.deploy.health import parse_health
    from nbops.deploy.monitor import run_check
    from nbops.run.tracking import MlflowTracker, default_tracking_uri

    (root / "pyproject.toml").write_text('[project]\nname = "wine"\n', encoding="utf-8")
    bunch = load_wine(as_frame=True)
    x_train, _, y_train, _ = train_test_split(bunch.data, bunch.target, test_size=0.25,
                                              random_state=0, stratify=bunch.target)
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000, random_state=0))
    model.fit(x_train, y_train)
    runs: dict[str, str] = {}
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv("MLFLOW_TRACKING_URI", raising=False)
        tracker = MlflowTracker(default_tracking_uri(root))
        run_id = tracker.start_run("wine", "nb", {}, {})
        for key, value in tracker.kernel_env(run_id).items():
            mp.setenv(key, value)
        tracking_api.log_model(model, x_train, pip_requirements=["scikit-learn"])
        tracker.end_run(run_id, "FINISHED")
        for key in tracker.kernel_env(run_id):
            mp.delenv(key)
        assert tracker.promote(run_id, MODEL) == 1
        tracker.client.set_registered_model_alias(MODEL, "champion", "1")
        project = WineProject(root, tracker.tracking_uri, model, x_train, y_train)
        loaded = models.load(models.resolve(models.parse_spec(f"{MODEL}@champion"),
                                            tracker.tracking_uri))
        data = root / "data"
        data.mkdir()
        for name, shifted in (("ok", False), ("alert", True)):
            file = data / f"{name}.csv"
            current(project, shifted=shifted).to_csv(file, index=False)
            done = run_check(loaded, file, triggers=parse_health({}), labels="target",
                             folder=root / "reports" / name)
            assert done.verdict.level == name.upper() and done.run_id is not None
            runs[name] = done.run_id
    return runs
