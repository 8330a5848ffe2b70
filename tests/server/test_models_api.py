"""The Models tab's endpoints (``/nbops/models``) against a real SQLite MLflow registry made by
nbops' own tracker and promotion (tests/modelsproject.py): the list, a version's artifacts
downloaded (and nothing else), Promote with PASS and HOLD, the store checked afterwards.
Every JSON answer is checked against docs/rest-api.yaml by the ``api`` fixture."""

from __future__ import annotations

import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from traitlets.config import Config

pytest.importorskip("mlflow")
pytest.importorskip("sklearn")

from authz import ReadOnly, config_with
from modelsproject import LOG_TEXT, MODEL, champion, make_models_project

Api = Callable[..., Awaitable[Any]]  # the `api` fixture of conftest.py
MODELS = "nbops/models"
PROJECT = "proj"


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    """The server root (shared by this module's tests): ``proj/`` with the registry."""
    root = tmp_path_factory.mktemp("models root").resolve()
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv("MLFLOW_TRACKING_URI", raising=False)
        runs = make_models_project(root / PROJECT)
    (root / "empty").mkdir()
    (root / "empty" / "pyproject.toml").write_text('[project]\nname = "e"\n', encoding="utf-8")
    return root, runs


@pytest.fixture
def jp_root_dir(made: tuple[Path, dict[str, str]], monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)  # each project's own store
    return made[0]


async def listed(api: Api, path: str | None = PROJECT) -> dict[str, Any]:
    reply = await api("GET", MODELS, params={"path": path} if path else None)
    assert reply.status == 200, reply.body
    body: dict[str, Any] = reply.body
    return body


async def download(jp_fetch: Any, version: str, file: str, name: str = MODEL) -> Any:
    return await jp_fetch("nbops", "models", name, "versions", version, "artifact",
                          params={"path": PROJECT, "file": file}, raise_error=False)


async def test_the_list_shows_versions_champion_challenger_and_the_last_comparison(
    api: Api, made: tuple[Path, dict[str, str]]
) -> None:
    root, runs = made
    reply = await api("GET", MODELS, params={"path": f"{PROJECT}/sub/../"})
    assert reply.status == 403  # '..' is refused before anything is read
    body = await listed(api)
    assert body["project"] == PROJECT
    assert body["tracking"]["available"] is True
    assert body["tracking"]["uri"] == "sqlite:///proj/.nbops/mlflow.db"
    assert body["thresholds"] == {"metric": "accuracy", "greater_is_better": True,
                                  "min_value": 0.8, "min_absolute_change": 0.01,
                                  "min_relative_change": None}
    [wine] = body["models"]
    assert (wine["name"], wine["champion"], wine["challenger"]) == (MODEL, 1, 3)
    assert [v["version"] for v in wine["versions"]] == [3, 2, 1]  # newest first
    v3, v2, v1 = wine["versions"]
    assert v3["run_id"] == runs["3"] and v3["metrics"] == {"accuracy": 0.93}
    assert v3["aliases"] == ["challenger"] and v1["aliases"] == ["champion"]
    assert (v3["commit"], v3["pr"], v3["gate"], v3["verdict"]) == ("3" * 40, "13", "PASS", None)
    assert v2["verdict"] == "HOLD" and "min-absolute-change 0.01: HOLD" in v2["verdict_summary"]
    assert v1["verdict"] == "PASS" and v1["created"].endswith("+00:00")
    kinds = {a["kind"]: a["path"] for a in v2["artifacts"]}
    assert kinds["logs"] == "logs/run.log" and kinds["verdict"] == "promotion/verdict.json"
    assert kinds["notebook"].startswith("notebook/wine-") and kinds["notebook"].endswith(".ipynb")
    last = wine["comparison"]
    assert (last["version"], last["verdict"]["status"], last["moved"]) == (2, "HOLD", False)
    assert (last["champion_before"], last["champion_after"]) == (1, 1)
    assert [j["ok"] for j in last["verdict"]["judgements"]] == [True, False]
    assert str(root) not in reply.raw.decode() and str(root) not in str(body)  # no server path


async def test_a_project_without_a_store_lists_nothing_and_creates_none(
    api: Api, made: tuple[Path, dict[str, str]]
) -> None:
    root, _ = made
    for path in ("empty", None):  # None: the root, whose project is the root itself
        body = await listed(api, path)
        assert body["models"] == [] and body["truncated"] is False
        assert body["thresholds"]["metric"] is None
    assert not (root / "empty" / ".nbops").exists() and not (root / ".nbops").exists()
    refused = await api("POST", f"{MODELS}/{MODEL}/promote", {"version": 1, "path": "empty"})
    assert refused.status == 404 and "no MLflow tracking store" in refused.body["message"]
    missing = await api("GET", MODELS, params={"path": "nowhere"})
    assert missing.status == 404
    unknown = await api("GET", MODELS, params={"path": PROJECT, "limit": "3"})
    assert unknown.status == 400 and "limit" in unknown.body["message"]


async def test_a_versions_logs_and_notebook_download_as_attachments(
    api: Api, jp_fetch: Any, made: tuple[Path, dict[str, str]]
) -> None:
    _, runs = made
    log = await download(jp_fetch, "2", "logs/run.log")
    assert log.code == 200
    assert log.body.decode() == f"run 2\n{LOG_TEXT}"
    assert log.headers["Content-Type"] == "application/octet-stream"
    assert log.headers["Content-Disposition"].startswith('attachment; filename="run.log"')
    notebook = f"notebook/wine-20261203-{runs['3'][:8]}.ipynb"
    executed = await download(jp_fetch, "3", notebook)
    assert executed.code == 200 and b'"run": 3' in executed.body

    def artifact(version: str, file: str, name: str = MODEL) -> str:
        return f"{MODELS}/{name}/versions/{version}/artifact"

    async def refused(version: str, file: str, name: str = MODEL) -> Any:
        reply = await api("GET", artifact(version, file, name),
                          params={"path": PROJECT, "file": file})
        return reply

    for bad in ("../../mlflow.db", "logs/../../../mlflow.db", "/etc/passwd", "..\\x"):
        reply = await refused("2", bad)
        assert reply.status == 403, (bad, reply.body)
    # only what the view lists: the model's own files, the environment, a folder are not
    for other in ("model/MLmodel", "environment/requirements.txt", "logs", "logs/other.log"):
        reply = await refused("2", other)
        assert reply.status == 404, (other, reply.body)
        assert "its artifacts: logs/run.log" in reply.body["hint"]
    no_version = await refused("9", "logs/run.log")
    assert no_version.status == 404 and "its versions: 1, 2, 3" in no_version.body["hint"]
    assert (await refused("x", "logs/run.log")).status == 404
    no_model = await refused("1", "logs/run.log", name="nope")
    assert no_model.status == 404 and "registered: wine" in no_model.body["hint"]
    no_file = await api("GET", artifact("1", ""), params={"path": PROJECT})
    assert no_file.status == 400 and "'file' is required" in no_file.body["message"]


async def test_promote_holds_passes_and_moves_champion_in_the_store(
    api: Api, made: tuple[Path, dict[str, str]]
) -> None:
    root, _ = made
    promote = f"{MODELS}/{MODEL}/promote"
    held = await api("POST", promote, {"version": 2, "path": PROJECT})
    assert held.status == 200, held.body
    assert held.body["verdict"]["status"] == "HOLD" and held.body["moved"] is False
    assert held.body["verdict"]["judgements"][1]["threshold"] == "min-absolute-change"
    assert champion(root / PROJECT) == 1

    dry = await api("POST", promote, {"version": 3, "dry_run": True, "path": PROJECT})
    assert dry.status == 200, dry.body
    assert dry.body["verdict"]["status"] == "PASS" and dry.body["dry_run"] is True
    assert dry.body["moved"] is False and champion(root / PROJECT) == 1
    assert (await listed(api))["models"][0]["versions"][0]["verdict"] is None  # nothing written

    passed = await api("POST", promote, {"version": 3, "path": PROJECT})
    assert passed.status == 200, passed.body
    assert passed.body["verdict"]["status"] == "PASS"
    assert (passed.body["champion_before"], passed.body["champion_after"]) == (1, 3)
    assert passed.body["moved"] is True
    assert champion(root / PROJECT) == 3
    wine = (await listed(api))["models"][0]
    assert wine["champion"] == 3 and wine["comparison"]["version"] == 3
    assert wine["comparison"]["moved"] is True

    again = await api("POST", promote, {"version": 3, "path": PROJECT})
    assert again.status == 400 and "already the champion" in again.body["message"]
    for body, status in (({"version": 7, "path": PROJECT}, 404),
                         ({"version": 0, "path": PROJECT}, 400),
                         ({"version": "3", "path": PROJECT}, 400),
                         ({"version": 3, "dry_run": "yes", "path": PROJECT}, 400),
                         ({"version": 3, "path": PROJECT, "force": True}, 400),
                         ({"version": 3, "path": "../x"}, 403)):
        reply = await api("POST", promote, body)
        assert reply.status == status, (body, reply.body)
    nope = await api("POST", f"{MODELS}/nope/promote", {"version": 1, "path": PROJECT})
    assert nope.status == 404 and "no registered model 'nope'" in nope.body["message"]
    assert champion(root / PROJECT) == 3


async def test_a_bad_promote_table_is_a_400_naming_the_key(
    api: Api, made: tuple[Path, dict[str, str]]
) -> None:
    root, _ = made
    bad = root / "bad"
    bad.mkdir(exist_ok=True)
    (bad / "pyproject.toml").write_text('[tool.nbops.promote]\nmetric = "a"\nmin-value = "x"\n')
    reply = await api("POST", f"{MODELS}/{MODEL}/promote", {"version": 1, "path": "bad"})
    assert reply.status == 400 and "min-value" in reply.body["message"]
    assert reply.body["path"] == "bad/pyproject.toml"
    assert str(root) not in str(reply.body)


async def test_without_mlflow_the_list_says_why_and_the_rest_is_503(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "mlflow", None)  # not installed: find_spec finds none
    body = await listed(api)
    assert body["models"] == [] and body["tracking"]["available"] is False
    assert body["tracking"]["hint"] == "pip install 'nbops[run]'"
    for method, path, data, query in (
        ("POST", f"{MODELS}/{MODEL}/promote", {"version": 3, "path": PROJECT}, None),
        ("GET", f"{MODELS}/{MODEL}/versions/2/artifact", None,
         {"path": PROJECT, "file": "logs/run.log"}),
    ):
        reply = await api(method, path, data, params=query)
        assert reply.status == 503, reply.body
        assert reply.body["hint"] == "pip install 'nbops[run]'"


async def test_unauthenticated_requests_get_403(api: Api) -> None:
    for method, path, data, query in (
        ("GET", MODELS, None, {"path": PROJECT}),
        ("GET", f"{MODELS}/{MODEL}/versions/2/artifact", None,
         {"path": PROJECT, "file": "logs/run.log"}),
        ("POST", f"{MODELS}/{MODEL}/promote", {"version": 3, "path": PROJECT}, None),
    ):
        reply = await api(method, path, data, params=query, auth=False)
        assert reply.status == 403 and reply.body["error"] == "Forbidden"


class TestReadOnlyUser:
    @pytest.fixture
    def jp_server_config(self) -> Config:
        return config_with(ReadOnly)

    async def test_may_judge_but_not_promote(self, api: Api,
                                             made: tuple[Path, dict[str, str]]) -> None:
        root, _ = made
        before = champion(root / PROJECT)
        assert (await listed(api))["models"]
        promote = f"{MODELS}/{MODEL}/promote"
        refused = await api("POST", promote, {"version": 2, "path": PROJECT})
        assert refused.status == 403 and "not authorized to promote" in refused.body["message"]
        dry = await api("POST", promote, {"version": 2, "dry_run": True, "path": PROJECT})
        assert dry.status == 200 and dry.body["dry_run"] is True
        assert champion(root / PROJECT) == before


def test_the_project_is_never_above_the_server_root(tmp_path: Path) -> None:
    from nbops.server.models import Models

    (tmp_path / "pyproject.toml").write_text('[project]\nname = "above"\n', encoding="utf-8")
    root = tmp_path / "served"
    (root / "sub").mkdir(parents=True)
    models = Models(root.resolve())
    assert models.project(None).folder == root.resolve()
    assert models.project("sub").name == "."  # no pyproject.toml below the root: the root
    (root / "sub" / "pyproject.toml").write_text('[project]\nname = "s"\n', encoding="utf-8")
    assert models.project("sub").name == "sub"
