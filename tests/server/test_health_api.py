"""The Health tab's endpoints (``/nbops/health``) against a real SQLite MLflow store holding the
wine model (tests/monitorproject.py) and two real checks recorded as ``nbops monitor`` records
them: the training distribution (OK) and the same rows shifted on purpose (ALERT, alcohol and
colour intensity named). The list, each check's reports (HTML sandboxed, JSON), only the
checks' reports, a bad ``[tool.nbops.health]``, no MLflow, no token. Every JSON answer is
checked against docs/rest-api.yaml by the ``api`` fixture."""

from __future__ import annotations

import json
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("mlflow")
pytest.importorskip("sklearn")

from monitorproject import MODEL, SHIFTED, WineProject, current, wine_project

__all__ = ["wine_project"]

Api = Callable[..., Awaitable[Any]]  # the `api` fixture of conftest.py
HEALTH = "nbops/health"


def record_check(project: WineProject, shifted: bool, folder: Path) -> str:
    """A check of the champion on ``current(project, shifted=...)``, recorded in the store the
    way ``nbops monitor wine --labels target`` does; its run id."""
    from nbops.config import load_config
    from nbops.deploy import models
    from nbops.deploy.health import parse_health
    from nbops.deploy.monitor import run_check

    folder.mkdir(parents=True, exist_ok=True)
    data = folder / ("moved.csv" if shifted else "same.csv")
    current(project, shifted=shifted).to_csv(data, index=False)
    triggers = parse_health(load_config(project.root).health)
    resolved = models.resolve(models.parse_spec(f"{MODEL}@champion"), project.uri)
    done = run_check(models.load(resolved), data, triggers=triggers, labels="target",
                     folder=folder / ("alert" if shifted else "ok"))
    assert done.run_id is not None
    return done.run_id


@pytest.fixture(scope="module")
def checks(wine_project: WineProject, tmp_path_factory: pytest.TempPathFactory
           ) -> dict[str, str]:
    """The run ids of the OK check and, recorded after it, the ALERT check."""
    folder = tmp_path_factory.mktemp("health data")
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv("MLFLOW_TRACKING_URI", raising=False)
        ok = record_check(wine_project, False, folder)
        alert = record_check(wine_project, True, folder)
    bad = wine_project.root / "bad"
    bad.mkdir(exist_ok=True)
    (bad / "pyproject.toml").write_text(
        '[project]\nname = "b"\n\n[tool.nbops.health]\npsi = {warn = 0.3, alert = 0.2}\n',
        encoding="utf-8")
    return {"ok": ok, "alert": alert}


@pytest.fixture
def jp_root_dir(wine_project: WineProject, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)  # each project's own store
    return wine_project.root.resolve()


async def listed(api: Api, path: str | None = None) -> dict[str, Any]:
    reply = await api("GET", HEALTH, params={"path": path} if path else None)
    assert reply.status == 200, reply.body
    body: dict[str, Any] = reply.body
    return body


def report_url(run_id: str, model: str = MODEL) -> tuple[str, ...]:
    return ("nbops", "health", model, "checks", run_id, "report")


async def test_the_list_shows_the_ok_and_the_alert_check_with_the_drifted_features(
    api: Api, checks: dict[str, str], wine_project: WineProject
) -> None:
    body = await listed(api)
    assert body["project"] == "."
    assert body["tracking"]["available"] is True
    assert body["tracking"]["uri"] == "sqlite:///.nbops/mlflow.db"
    assert body["triggers_error"] is None
    psi = next(t for t in body["triggers"] if t["metric"] == "psi")
    assert (psi["direction"], psi["warn"], psi["alert"]) == ("above", 0.1, 0.2)
    [wine] = body["models"]
    assert (wine["name"], wine["champion"], wine["truncated"]) == (MODEL, 1, False)
    by_run = {c["run_id"]: c for c in wine["checks"]}
    order = [c["run_id"] for c in wine["checks"]]
    assert order.index(checks["alert"]) < order.index(checks["ok"])  # newest first
    alert, ok = by_run[checks["alert"]], by_run[checks["ok"]]
    assert alert["status"] == "ALERT" and ok["status"] == "OK"
    assert {d["name"] for d in alert["drifted"]} >= set(SHIFTED)
    assert all(d["psi"] > 0.2 for d in alert["drifted"] if d["name"] in SHIFTED)
    assert ok["drifted"] == [] and ok["reasons"] == []
    assert any("alcohol" in r and r.startswith("ALERT") for r in alert["reasons"])
    assert alert["version"] == ok["version"] == 1
    assert alert["metrics"]["max_psi"] == max(alert["psi"].values()) > 0.2
    assert ok["metrics"]["max_psi"] is not None and ok["metrics"]["max_psi"] < 0.1
    assert ok["metrics"]["rows"] == 3000 and ok["metrics"]["accuracy"] > 0.9
    assert alert["metrics"]["rmse"] is None  # a classifier: accuracy and F1 only
    assert set(alert["psi"]) == set(wine_project.x_train.columns)
    assert str(wine_project.root) not in json.dumps(body)  # no server path


async def test_each_check_s_report_opens_sandboxed_and_as_json(
    jp_fetch: Any, checks: dict[str, str]
) -> None:
    page = await jp_fetch(*report_url(checks["alert"]), raise_error=False)
    assert page.code == 200
    assert page.headers["Content-Type"] == "text/html; charset=utf-8"
    assert page.headers["Content-Security-Policy"] == "sandbox"
    assert page.headers["Content-Disposition"].startswith("inline")
    text = page.body.decode()
    assert "ALERT" in text and "<svg" in text and "alcohol" in text
    data = await jp_fetch(*report_url(checks["ok"]), params={"format": "json"},
                          raise_error=False)
    assert data.code == 200 and data.headers["Content-Type"].startswith("application/json")
    report = json.loads(data.body)
    assert report["verdict"]["level"] == "OK" and report["model"] == MODEL


async def test_only_the_checks_reports_are_served(
    api: Api, checks: dict[str, str], wine_project: WineProject
) -> None:
    from nbops.run.tracking import MlflowTracker

    model_run = MlflowTracker(wine_project.uri).client.get_model_version(MODEL, "1").run_id

    async def status(run_id: str, model: str = MODEL, **query: str) -> Any:
        return await api("GET", "/".join(report_url(run_id, model)), params=query or None)

    # the model's own run is in the store, but not a check of it
    for run_id in (model_run, "0" * 32, "not-a-run"):
        reply = await status(run_id)
        assert reply.status == 404, (run_id, reply.body)
    assert "no health check" in (await status(model_run)).body["message"]
    nope = await status(checks["ok"], model="nope")
    assert nope.status == 404 and "'nope' has no health checks" in nope.body["message"]
    bad_format = await status(checks["ok"], format="pdf")
    assert bad_format.status == 400 and "'format'" in bad_format.body["message"]
    unknown = await status(checks["ok"], limit="1")
    assert unknown.status == 400
    outside = await status(checks["ok"], path="../x")
    assert outside.status == 403
    no_store = await status(checks["ok"], path="bad")
    assert no_store.status == 404 and "no MLflow tracking store" in no_store.body["message"]


async def test_a_bad_health_table_is_an_error_entry_not_a_failure(
    api: Api, checks: dict[str, str], wine_project: WineProject
) -> None:
    body = await listed(api, "bad")
    assert body["project"] == "bad" and body["models"] == []
    assert body["triggers"] == []
    problem = body["triggers_error"]
    assert "warn 0.3 is past alert 0.2" in problem["message"]
    assert problem["path"] == "bad/pyproject.toml"
    assert not (wine_project.root / "bad" / ".nbops").exists()  # a GET creates no store
    assert (await api("GET", HEALTH, params={"path": "missing"})).status == 404


async def test_without_mlflow_the_list_says_why_and_the_report_is_503(
    api: Api, checks: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "mlflow", None)  # not installed: find_spec finds none
    body = await listed(api)
    assert body["models"] == [] and body["tracking"]["available"] is False
    assert body["tracking"]["hint"] == "pip install 'nbops[run]'"
    assert body["triggers"]  # read from pyproject.toml: no MLflow needed
    reply = await api("GET", "/".join(report_url(checks["ok"])))
    assert reply.status == 503 and reply.body["hint"] == "pip install 'nbops[run]'"


async def test_unauthenticated_requests_get_403(api: Api, checks: dict[str, str]) -> None:
    for path in (HEALTH, "/".join(report_url(checks["ok"]))):
        reply = await api("GET", path, auth=False)
        assert reply.status == 403 and reply.body["error"] == "Forbidden"


def test_the_submit_model_is_shown_without_checks(tmp_path: Path) -> None:
    from nbops.deploy.health_view import read_health
    from nbops.run.tracking import MlflowTracker

    tracker = MlflowTracker(f"sqlite:///{tmp_path / 'mlflow.db'}")
    models, truncated = read_health(tracker, "churn")
    assert models == [{"name": "churn", "champion": None, "checks": [], "truncated": False}]
    assert truncated is False
    assert read_health(tracker) == ([], False)
