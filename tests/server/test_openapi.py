"""docs/rest-api.yaml is the contract: it must match the served routes and the real answers.

Both ways: every route is documented and every documented path and verb is served; every
documented status of every operation is produced by a real request here and its body
validated against the documented schema; and the JSON shapes the core produces
(Diagnostic, Rule, AppliedFix, errors) have exactly the documented fields.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from hackathonrepo import NOTEBOOK, make_exercise
from openapi_spec_validator import validate as validate_spec
from reviewrepo import make_review_repo, no_forge_tokens
from traitlets.config import Config

import nbops.lint.fix
import nbops.lint.registry
import nbops.modularize
import nbops.review.checks
import nbops.review.submit
import nbops.run.form
import nbops.server.handlers
import nbops.jobs.service
import nbops.server.runs
from nbops.core.notebook import Notebook
from nbops.errors import ConflictError, ForgeRateLimitError, NbopsError, ToolError, WriteError
from nbops.lint.diagnostic import Diagnostic, Edit, Fix
from nbops.lint.engine import Linter
from nbops.lint.fix import AppliedFix
from nbops.lint.registry import all_rules
from nbops.lint.report import summary
from nbops.review.git import PushError
from nbops.server.hackathon import Scoring
from nbops.server.routes import ROUTES
from nbops.server.runs import Runs

Api = Callable[..., Awaitable[Any]]  # the `api` fixture of conftest.py
VERBS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}
LIMIT = 64 * 1024


@pytest.fixture
def jp_server_config() -> Config:
    # a small body cap, so that the documented 413 can be produced cheaply
    return Config(
        {
            "ServerApp": {"jpserver_extensions": {"nbops": True}},
            "NbopsExtension": {"max_body_size": LIMIT},
        }
    )


def _documented(spec: dict[str, Any]) -> set[tuple[str, str]]:
    return {
        (path, verb.upper())
        for path, item in spec["paths"].items()
        for verb in item
        if verb in VERBS
    }


def test_spec_is_valid_openapi(spec: dict[str, Any]) -> None:
    validate_spec(spec)
    assert spec["openapi"].startswith("3.1")


def test_routes_and_spec_match_both_ways(spec: dict[str, Any]) -> None:
    served = {(r.path, m) for r in ROUTES for m in r.methods}
    documented = _documented(spec)
    assert served - documented == set(), "served but not documented"
    assert documented - served == set(), "documented but not served"
    assert all(r.methods for r in ROUTES)
    for route in ROUTES:
        for verb in route.methods:
            params = spec["paths"][route.path][verb.lower()].get("parameters", [])
            in_path = {p["name"] for p in params if p["in"] == "path"}
            assert in_path == set(re.findall(r"\{(\w+)\}", route.path)), route.path


def _schema_fields(spec: dict[str, Any], name: str) -> set[str]:
    return set(spec["components"]["schemas"][name]["properties"])


def test_core_json_shapes_have_exactly_the_documented_fields(
    spec: dict[str, Any], contract: Any
) -> None:
    edits = (
        Edit("replace_source", 0, "x = 1\n"),
        Edit("replace_text", 1, "y", line=1, column=1, end_line=1, end_column=2),
        Edit("add_tag", 2, "parameters"),
        Edit("clear_outputs", 3),
        Edit("delete_cell", 4),
    )
    diag = Diagnostic(
        code="NB301", name="absolute-path", message="m", severity="warning", path="a.ipynb",
        cell_index=0, cell_id="c0", line=1, column=1, end_line=1, end_column=5,
        fix=Fix("fix it", "safe", edits), url="https://example.invalid/rules#nb301",
    )
    contract.component("Diagnostic").validate(diag.to_json())
    contract.component("Diagnostic").validate(
        Diagnostic(code="NB001", name="unreadable-notebook", message="m", severity="error",
                   path="a.ipynb").to_json()
    )
    assert set(diag.to_json()) == _schema_fields(spec, "Diagnostic")
    assert set(diag.fix.to_json()) == _schema_fields(spec, "Fix")  # type: ignore[union-attr]
    for rule in all_rules():
        contract.component("Rule").validate(rule.describe())
    assert set(all_rules()[0].describe()) == _schema_fields(spec, "Rule")
    applied = AppliedFix("NB303", 2, "Tag cell 3 'parameters'").to_json()
    contract.component("AppliedFix").validate(applied)
    assert set(applied) == _schema_fields(spec, "AppliedFix")
    assert set(summary([])) == _schema_fields(spec, "Summary")
    error = {**NbopsError("m", path="a.ipynb", cell=1, hint="h").to_json(), "status": 400}
    contract.component("Error").validate(error)
    assert set(error) == _schema_fields(spec, "Error")


async def test_every_documented_answer_is_real_and_matches(
    api: Api, root: Path, contract: Any, spec: dict[str, Any], monkeypatch: pytest.MonkeyPatch,
    jp_fetch: Any,
) -> None:
    lint, fix, modularize = "nbops/lint", "nbops/fix", "nbops/modularize"
    ok = {"path": "sub/churn.ipynb"}
    big = b'{"path": "sub/churn.ipynb", "pad": "' + b"x" * LIMIT + b'"}'

    async def expect(status: int, method: str, path: str, body: Any = None, **kw: Any) -> None:
        reply = await api(method, path, body, **kw)  # validates the body against the spec
        assert reply.status == status, (method, path, reply.body)

    for path in ("nbops/version", "nbops/rules", "nbops/rules/NB301"):
        await expect(200, "GET", path)
        await expect(403, "GET", path, auth=False)
    await expect(404, "GET", "nbops/rules/NB999")

    for path in (lint, fix, modularize):
        await expect(200, "POST", path, ok)
        await expect(400, "POST", path, raw=b"{nope")
        await expect(403, "POST", path, ok, auth=False)
        await expect(403, "POST", path, {"path": "../x.ipynb"})
        await expect(404, "POST", path, {"path": "missing.ipynb"})
        await expect(413, "POST", path, raw=big)
    await expect(200, "POST", lint, {"path": "broken.ipynb"})
    await expect(422, "POST", fix, {"path": "broken.ipynb"})
    await expect(422, "POST", modularize, {"path": "broken.ipynb"})
    # a file nbops did not write where the module goes: 409 with the plan
    mine = root / "sub" / "src" / "churn" / "churn.py"  # the package: the notebook's name
    mine.parent.mkdir(parents=True)
    mine.write_text("# hand-written\n", encoding="utf-8")
    await expect(409, "POST", modularize, {**ok, "dry_run": False})

    # the Run tab: parameters, runs, jobs (a real run, cancelled at once)
    params, runs = "nbops/params", "nbops/runs"
    query = {"path": "sub/churn.ipynb"}
    await expect(200, "GET", params, params=query)
    await expect(200, "GET", runs, params=query)
    for path in (params, runs):
        await expect(400, "GET", path, params={"path": "notes.txt"})
        await expect(403, "GET", path, params=query, auth=False)
        await expect(403, "GET", path, params={"path": "../x.ipynb"})
        await expect(404, "GET", path, params={"path": "missing.ipynb"})
    await expect(422, "GET", params, params={"path": "broken.ipynb"})
    started = await api("POST", runs, ok)
    assert started.status == 202, started.body
    job = f"nbops/runs/jobs/{started.body['job']['id']}"
    await expect(200, "GET", job)
    await expect(202, "DELETE", job)
    for method in ("GET", "DELETE"):
        await expect(403, method, job, auth=False)
        await expect(404, method, "nbops/runs/jobs/nope")
    await expect(400, "POST", runs, raw=b"{nope")
    await expect(403, "POST", runs, ok, auth=False)
    await expect(403, "POST", runs, {"path": "../x.ipynb"})
    await expect(404, "POST", runs, {"path": "missing.ipynb"})
    await expect(413, "POST", runs, raw=big)
    await expect(422, "POST", runs, {"path": "broken.ipynb"})
    # the Run tab's form checked (a dry run of POST /nbops/runs)
    validate, form = "nbops/runs/validate", {**ok, "mode": "run", "fields": {}}
    await expect(200, "POST", validate, form)
    await expect(400, "POST", validate, raw=b"{nope")
    await expect(403, "POST", validate, form, auth=False)
    await expect(403, "POST", validate, {**form, "path": "../x.ipynb"})
    await expect(404, "POST", validate, {**form, "path": "missing.ipynb"})
    await expect(413, "POST", validate, raw=big)
    await expect(422, "POST", validate, {**form, "path": "broken.ipynb"})
    with monkeypatch.context() as m:
        m.setattr(nbops.run.form, "check_form", _raise(RuntimeError("boom")))
        await expect(500, "POST", validate, form)
    with monkeypatch.context() as m:
        m.setattr(nbops.jobs.service.subprocess, "Popen", _raise(OSError("no more processes")))
        await expect(502, "POST", runs, ok)
        m.setattr(Runs, "history", _raise(ToolError("cannot open the MLflow tracking store")))
        await expect(502, "GET", runs, params=query)
    with monkeypatch.context() as m:
        m.setitem(sys.modules, "mlflow", None)  # MLflow not installed: find_spec finds none
        await expect(503, "POST", runs, ok)
    with monkeypatch.context() as m:
        for name in ("parameters", "history", "start", "job", "cancel"):
            m.setattr(Runs, name, _raise(RuntimeError("boom")))
        await expect(500, "GET", params, params=query)
        await expect(500, "GET", runs, params=query)
        await expect(500, "POST", runs, ok)
        await expect(500, "GET", job)
        await expect(500, "DELETE", job)

    with monkeypatch.context() as m:
        m.setattr(Notebook, "write", _raise(WriteError("disk full", path="sub/churn.ipynb")))
        await expect(409, "POST", fix, {**ok, "write": True})
    with monkeypatch.context() as m:
        m.setattr(Linter, "lint_notebook", _raise(ToolError("ruff failed")))
        await expect(502, "POST", lint, ok)
    with monkeypatch.context() as m:
        m.setattr(nbops.lint.fix, "fix_notebook", _raise(ToolError("ruff --fix failed")))
        await expect(502, "POST", fix, ok)
    with monkeypatch.context() as m:
        m.setattr(nbops.modularize, "modularize", _raise(ToolError("black failed")))
        await expect(502, "POST", modularize, ok)

    # 500s: whatever breaks inside, the answer is the documented generic error
    with monkeypatch.context() as m:
        m.setattr(nbops.server.handlers, "version", lambda: object())  # not JSON-serialisable
        await expect(500, "GET", "nbops/version")
        m.setattr(nbops.lint.registry, "all_rules", _raise(RuntimeError("boom")))
        await expect(500, "GET", "nbops/rules")
        m.setattr(nbops.lint.registry, "get_rule", _raise(RuntimeError("boom")))
        await expect(500, "GET", "nbops/rules/NB301")
        m.setattr(Linter, "lint_notebook", _raise(RuntimeError("boom")))
        await expect(500, "POST", lint, ok)
        m.setattr(nbops.lint.fix, "notebook_diff", _raise(RuntimeError("boom")))
        m.setattr(nbops.lint.fix, "fix_notebook", _raise(RuntimeError("boom")))
        await expect(500, "POST", fix, ok)
        m.setattr(nbops.modularize, "modularize", _raise(RuntimeError("boom")))
        await expect(500, "POST", modularize, ok)

    # the review gate and submit, on a real repository with a bare remote in the root
    check, submit = "nbops/check", "nbops/submit"
    no_forge_tokens(monkeypatch)
    make_review_repo(root / "team", root / "remote.git")
    wine, churn = {"path": "team/wine_classifier.ipynb"}, {"path": "team/churn_classifier.ipynb"}
    await expect(200, "POST", check, churn)
    await expect(200, "POST", submit, wine)
    await expect(422, "POST", submit, churn)  # the gate blocks: the checklist comes with it
    await expect(422, "POST", check, {"path": "broken.ipynb"})
    await expect(400, "POST", submit, {**wine, "remote": "upstream"})
    for path in (check, submit):
        await expect(400, "POST", path, raw=b"{nope")
        await expect(403, "POST", path, wine, auth=False)
        await expect(403, "POST", path, {"path": "../x.ipynb"})
        await expect(404, "POST", path, {"path": "missing.ipynb"})
        await expect(413, "POST", path, raw=big)
    with monkeypatch.context() as m:
        m.setattr(Linter, "lint_notebook", _raise(ToolError("ruff failed")))
        await expect(502, "POST", check, wine)
    with monkeypatch.context() as m:
        m.setattr(nbops.review.submit, "submit", _raise(ConflictError("another submit is running")))
        await expect(409, "POST", submit, wine)
        m.setattr(nbops.review.submit, "submit", _raise(PushError("rejected", reason="rejected")))
        await expect(502, "POST", submit, wine)
        m.setattr(nbops.review.submit, "submit", _raise(
            ForgeRateLimitError("rate limit", host="api.github.com", status=429, retry_after=60.0)
        ))  # fmt: skip
        await expect(503, "POST", submit, wine)
        m.setattr(nbops.review.submit, "submit", _raise(RuntimeError("boom")))
        await expect(500, "POST", submit, wine)
        m.setattr(nbops.review.checks, "check_notebook", _raise(RuntimeError("boom")))
        await expect(500, "POST", check, wine)

    # the Hackathon tab: an exercise checked out on team/alpha; a real scoring starts, a
    # second one for the same checkout is refused, then it is stopped
    hackathon, score = "nbops/hackathon", "nbops/hackathon/score"
    toy = {"path": f"ex/{NOTEBOOK}"}
    make_exercise(root / "ex")
    await expect(200, "GET", hackathon, params=toy)
    started = await api("POST", score, toy)
    assert started.status == 202, started.body
    scoring_job = f"nbops/hackathon/jobs/{started.body['job']['id']}"
    await expect(409, "POST", score, toy)
    await expect(200, "GET", scoring_job)
    await expect(200, "DELETE", scoring_job)
    for method in ("GET", "DELETE"):
        await expect(403, method, scoring_job, auth=False)
        await expect(404, method, "nbops/hackathon/jobs/nope")
    await expect(400, "GET", hackathon, params={"path": "notes.txt"})
    await expect(403, "GET", hackathon, params=toy, auth=False)
    await expect(403, "GET", hackathon, params={"path": "../x.ipynb"})
    await expect(404, "GET", hackathon, params={"path": "missing.ipynb"})
    await expect(400, "POST", score, {**toy, "team": "no such/team"})
    await expect(400, "POST", score, raw=b"{nope")
    await expect(403, "POST", score, toy, auth=False)
    await expect(403, "POST", score, {"path": "../x.ipynb"})
    await expect(404, "POST", score, {"path": "missing.ipynb"})
    await expect(413, "POST", score, raw=big)
    with monkeypatch.context() as m:
        m.setitem(sys.modules, "mlflow", None)  # the run extra missing: find_spec finds none
        await expect(503, "POST", score, toy)
    with monkeypatch.context() as m:
        m.setattr(Scoring, "start", _raise(ToolError("cannot start the scoring: no processes")))
        await expect(502, "POST", score, toy)
        for name in ("info", "start", "job", "cancel"):
            m.setattr(Scoring, name, _raise(RuntimeError("boom")))
        await expect(500, "GET", hackathon, params=toy)
        await expect(500, "POST", score, toy)
        await expect(500, "GET", scoring_job)
        await expect(500, "DELETE", scoring_job)

    # the Models tab: a registry with one version in proj/ (tests/modelsproject.py)
    import nbops.deploy.registry_view as registry_view
    from modelsproject import make_stub_registry

    from nbops.server.models import Models

    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    make_stub_registry(root / "proj")
    models, promote = "nbops/models", "nbops/models/wine/promote"
    artifact = "nbops/models/wine/versions/1/artifact"
    in_proj, log = {"path": "proj"}, {"path": "proj", "file": "logs/run.log"}
    await expect(200, "GET", models, params=in_proj)
    downloaded = await jp_fetch(*artifact.split("/"), params=log)  # a file, not JSON
    assert downloaded.code == 200 and downloaded.body.startswith(b"epoch 1")
    contract.checked.add(("/nbops/models/{name}/versions/{version}/artifact", "GET", "200"))
    await expect(200, "POST", promote, {"version": 1, "dry_run": True, **in_proj})
    await expect(400, "GET", models, params={"limit": "1"})
    await expect(400, "GET", artifact, params=in_proj)
    await expect(400, "POST", promote, {"version": "one", **in_proj})
    await expect(403, "GET", models, params={"path": "../x"})
    await expect(403, "GET", artifact, params={**log, "file": "../../mlflow.db"})
    await expect(403, "POST", promote, {"version": 1, "path": "../x"})
    for method, path, query in (("GET", models, in_proj), ("GET", artifact, log),
                                ("POST", promote, None)):
        await expect(403, method, path, {"version": 1} if method == "POST" else None,
                     params=query, auth=False)
    await expect(404, "GET", models, params={"path": "missing"})
    await expect(404, "GET", artifact, params={**log, "file": "logs/other.log"})
    await expect(404, "POST", "nbops/models/nope/promote", {"version": 1, **in_proj})
    with monkeypatch.context() as m:
        m.setitem(sys.modules, "mlflow", None)  # MLflow not installed
        await expect(503, "GET", artifact, params=log)
        await expect(503, "POST", promote, {"version": 1, **in_proj})
    with monkeypatch.context() as m:
        for name in ("read_models", "artifact", "promote_version"):
            m.setattr(registry_view, name, _raise(ToolError("cannot read the registry")))
        await expect(502, "GET", models, params=in_proj)
        await expect(502, "GET", artifact, params=log)
        await expect(502, "POST", promote, {"version": 1, **in_proj})
        for name in ("list", "artifact", "promote"):
            m.setattr(Models, name, _raise(RuntimeError("boom")))
        await expect(500, "GET", models, params=in_proj)
        await expect(500, "GET", artifact, params=log)
        await expect(500, "POST", promote, {"version": 1, **in_proj})

    # the Health tab: a stub check (a run of nbops-health/wine with its report) in proj/
    import nbops.deploy.health_view as health_view
    from nbops.run.tracking import MlflowTracker, default_tracking_uri
    from nbops.server.health import Health

    tracker = MlflowTracker(default_tracking_uri(root / "proj"))
    check = tracker.start_run("nbops-health/wine", "wine v1 OK", {},
                              {"nbops.health.verdict": "OK", "nbops.health.version": "1"})
    (root / "report.html").write_text("<html><body>OK</body></html>", encoding="utf-8")
    tracker.log_artifact(check, root / "report.html", "health")
    (root / "report.html").unlink()
    tracker.end_run(check, "FINISHED")
    health, report = "nbops/health", f"nbops/health/wine/checks/{check}/report"
    await expect(200, "GET", health, params=in_proj)
    page = await jp_fetch(*report.split("/"), params=in_proj)  # HTML, not JSON
    assert page.code == 200 and page.body.endswith(b"OK</body></html>")
    contract.checked.add(("/nbops/health/{model}/checks/{run_id}/report", "GET", "200"))
    await expect(400, "GET", health, params={"limit": "1"})
    await expect(400, "GET", report, params={**in_proj, "format": "pdf"})
    for path in (health, report):
        await expect(403, "GET", path, params={"path": "../x"})
        await expect(403, "GET", path, params=in_proj, auth=False)
    await expect(404, "GET", health, params={"path": "missing"})
    await expect(404, "GET", f"nbops/health/wine/checks/{'0' * 32}/report", params=in_proj)
    with monkeypatch.context() as m:
        m.setitem(sys.modules, "mlflow", None)  # MLflow not installed
        await expect(503, "GET", report, params=in_proj)
    with monkeypatch.context() as m:
        for name in ("read_health", "report"):
            m.setattr(health_view, name, _raise(ToolError("cannot read the store")))
        await expect(502, "GET", health, params=in_proj)
        await expect(502, "GET", report, params=in_proj)
        for name in ("health", "report"):
            m.setattr(Health, name, _raise(RuntimeError("boom")))
        await expect(500, "GET", health, params=in_proj)
        await expect(500, "GET", report, params=in_proj)

    documented = {
        (path, verb.upper(), status)
        for path, item in spec["paths"].items()
        for verb, operation in item.items()
        if verb in VERBS
        for status in operation["responses"]
    }
    assert documented - contract.checked == set(), "documented but never produced"
    assert contract.checked - documented == set()


def _raise(exc: BaseException) -> Callable[..., Any]:
    def raiser(*args: Any, **kwargs: Any) -> Any:
        raise exc

    return raiser
