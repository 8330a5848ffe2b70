"""The Health tab's server side: the health checks of the project's champions and their reports.

``GET /nbops/health`` (:class:`HealthHandler`) and ``GET
/nbops/health/{model}/checks/{run_id}/report`` (:class:`HealthReportHandler`), thin over
:mod:`nbops.deploy.health_view`. The project and its store are found as for the Models tab
(:class:`nbops.server.models.Models`). A GET never creates a store; without MLflow the list is
empty and says why, the report answers 503. A bad ``[tool.nbops.health]`` is ``triggers_error``
in the list, not a failed request. The HTML report is user data: it is served sandboxed.
"""

from __future__ import annotations

from pathlib import Path

from tornado import web

from nbops import api_types
from nbops.errors import NbopsError, UsageError
from nbops.server.handlers import NbopsHandler, State, allowed
from nbops.server.models import Models
from nbops.server.pool import public_path
from nbops.server.requests import _known
from nbops.server.runs import _store_exists, tracking_status

__all__ = ["Health", "HealthHandler", "HealthReportHandler"]


class Health(Models):
    """One server's view of its projects' health checks (the Models view's projects and stores)."""

    def _problem(self, exc: NbopsError) -> api_types.HealthConfigError:
        path = None
        if exc.path is not None:
            path = public_path(self.root, Path.cwd() / exc.path)
        return {"message": self._public(exc.message),
                "hint": self._public(exc.hint) if exc.hint else None, "path": path}

    def _settings(self, folder: Path) -> tuple[list[api_types.HealthTrigger],
                                              api_types.HealthConfigError | None, str | None]:
        """The triggers, why they cannot be read, and ``[tool.nbops.submit] model``."""
        from nbops.config import load_config
        from nbops.deploy.health import parse_health
        from nbops.deploy.health_view import triggers_json

        try:
            config = load_config(folder)
        except NbopsError as exc:
            return [], self._problem(exc), None
        model = config.submit.get("model")
        submit_model = model if isinstance(model, str) and model else None
        pyproject = config.root / "pyproject.toml" if config.root else None
        try:
            return triggers_json(parse_health(config.health, pyproject)), None, submit_model
        except NbopsError as exc:
            return [], self._problem(exc), submit_model

    def health(self, query: dict[str, str]) -> api_types.HealthList:
        """``GET /nbops/health``: see docs/rest-api.yaml."""
        from nbops.deploy.health_view import read_health

        _known(query, {"path"}, "query argument")
        project = self.project(query.get("path"))
        triggers, problem, submit_model = self._settings(project.folder)
        uri = self._uri(project)
        status = tracking_status()
        models: list[api_types.HealthModel] = []
        truncated = False
        if status["available"] and _store_exists(uri):
            try:
                models, truncated = read_health(self._tracker(uri), submit_model)
            except NbopsError as exc:
                raise self._errors(exc) from exc
        return {
            "project": project.name,
            "tracking": {"uri": self._public(uri), "available": status["available"],
                         "message": status["message"], "hint": status["hint"]},
            "triggers": triggers,
            "triggers_error": problem,
            "models": models,
            "truncated": truncated,
        }

    def report(self, model: str, run_id: str, query: dict[str, str]) -> tuple[str, bytes]:
        """``GET .../report[?format=json]``: the format and the report's content."""
        from nbops.deploy.health_view import report

        _known(query, {"path", "format"}, "query argument")
        kind = query.get("format") or "html"
        if kind not in ("html", "json"):
            raise UsageError(f"'format' must be html or json, not {kind!r}")
        project = self.project(query.get("path"))
        tracker = self._open(project, "reading a health report")
        try:
            return kind, report(tracker, model, run_id, kind)
        except NbopsError as exc:
            raise self._errors(exc) from exc


def health_of(state: State) -> Health:
    """The one :class:`Health` of a server."""
    return state.service(Health)


class HealthHandler(NbopsHandler):
    """``GET /nbops/health[?path=P]``: the checks of the project's champions, its triggers."""

    @web.authenticated
    @allowed("read", "contents")
    async def get(self) -> None:
        service, jobs = health_of(self.state), self.state.jobs
        await self.reply(await jobs.run(lambda: jobs.dumps(service.health(self.query()))))


class HealthReportHandler(NbopsHandler):
    """``GET /nbops/health/{model}/checks/{run_id}/report[?format=json]``: the report, the HTML
    one inline and sandboxed."""

    @web.authenticated
    @allowed("read", "contents")
    async def get(self, model: str, run_id: str) -> None:
        service = health_of(self.state)
        kind, data = await self.state.jobs.run(service.report, model, run_id, self.query())
        self.set_header("X-Content-Type-Options", "nosniff")
        if kind == "json":
            await self.finish(data, set_content_type="application/json")
            return
        name = "report.html"
        self.set_header("Content-Disposition", f'inline; filename="{name}"')
        self.set_header("Content-Security-Policy", "sandbox")
        await self.finish(data, set_content_type="text/html; charset=utf-8")
