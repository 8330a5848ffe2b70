"""Models logged by runs in threads of one process (a local sweep with --parallel, the
server's jobs) each land in their own run: MLflow's fluent store is the process's, so the
logs take turns with it (nbops.run.model_log._fluent_store)."""

from __future__ import annotations

import os
import sys
import threading
from pathlib import Path
from typing import Any

import pytest

from nbops.run import model_log
from nbops.run.tracking import MlflowTracker, default_tracking_uri, import_mlflow

pytest.importorskip("mlflow")
np = pytest.importorskip("numpy")
os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")


def _request(seed: int) -> model_log.Request:
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(seed)
    X = rng.normal(size=(40, 2))
    model = LogisticRegression().fit(X, (X[:, 0] > 0).astype(int))
    return model_log.Request(model=model, X=None, name="model", flavor="sklearn",
                             acceptance=None, kwargs={"pip_requirements": ["scikit-learn"]})


def test_runs_logging_models_in_threads_each_get_theirs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.chdir(tmp_path)  # a stray default store would land here, not in the repo
    tracker = MlflowTracker(default_tracking_uri(tmp_path / "project"))
    runs = [tracker.start_run("threads", f"nb{i}", {}, {}) for i in range(4)]
    uris: dict[str, str] = {}
    errors: list[BaseException] = []

    def log(run_id: str, seed: int) -> None:
        try:
            for _ in range(2):
                uris[run_id] = model_log.log(tracker, run_id, _request(seed))
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=log, args=(run, i)) for i, run in enumerate(runs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    client: Any = tracker.client
    for run_id in runs:
        assert uris[run_id].startswith("models:/")
        logged = client.get_logged_model(uris[run_id].removeprefix("models:/"))
        assert logged.source_run_id == run_id
    assert import_mlflow("mlflow").get_tracking_uri() != tracker.tracking_uri  # put back


def test_a_model_is_logged_only_after_the_imports_warmed_ahead_of_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # a Dask sweep's model log once unpickled sklearn while the warm-up thread was importing
    # it: "partially initialized module 'sklearn.svm._base'". log_file and log wait first.
    (tmp_path / "slow_flavor.py").write_text(
        "import time\ntime.sleep(1.0)\nREADY = True\n", encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "slow_flavor", raising=False)
    model_log.warm_in_background(["slow_flavor"])
    model_log._warmed()  # what log() and log_file() do first
    assert sys.modules["slow_flavor"].READY is True
