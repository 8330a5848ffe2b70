"""For the Health tab's browser test: a project at a given folder (the lab's root) whose real
SQLite store holds the wine model as tests/monitorproject.py logs it (champion, version 1, with
its reference data) and two checks recorded as ``nbops monitor wine --labels target`` records
them: first on training rows (OK), then on the same rows shifted on purpose (ALERT, alcohol and
colour intensity drifted)."""

from __future__ import annotations

from pathlib import Path

import pytest
from monitorproject import MODEL, current, make_wine_project


def make_health_project(root: Path) -> dict[str, str]:
    """The project at ``root`` and its two checks; their run ids (``ok``, ``alert``)."""
    from nbops.deploy import models
    from nbops.deploy.health import parse_health
    from nbops.deploy.monitor import run_check

    project = make_wine_project(root)
    runs: dict[str, str] = {}
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv("MLFLOW_TRACKING_URI", raising=False)
        loaded = models.load(models.resolve(models.parse_spec(f"{MODEL}@champion"), project.uri))
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
