"""The Models tab's server side: the project's registered models, a version's artifacts, Promote.

``GET /nbops/models`` (:class:`ModelsHandler`), ``GET
/nbops/models/{name}/versions/{version}/artifact`` (:class:`ModelArtifactHandler`) and ``POST
/nbops/models/{name}/promote`` (:class:`ModelPromoteHandler`), thin over
:mod:`nbops.deploy.registry_view`. The project is the folder of the nearest ``pyproject.toml``
at or above the request's ``path`` (default: the server root), never above the root; its store
is the one ``nbops promote`` uses there. A GET never creates a store; without MLflow the list
is empty and says why (as ``GET /nbops/runs`` does), the other two answer 503. Promote is
synchronous: the verdict reads two runs' metrics, nothing is evaluated.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from tornado import web

from nbops import api_types
from nbops.errors import NbopsError, NotFoundError, UsageError
from nbops.server.handlers import NbopsHandler, State, allowed
from nbops.server.pool import public_path, public_text
from nbops.server.requests import _inside, _known, _relative_parts, shown
from nbops.server.runs import _store_exists, redact, tracking_status

__all__ = ["ModelArtifactHandler", "ModelPromoteHandler", "Models", "ModelsHandler"]

_VERSION = re.compile(r"[0-9]{1,9}")


@dataclass(frozen=True)
class Project:
    """The project a request names: its folder and its name relative to the root."""

    folder: Path
    name: str


class Models:
    """One server's view of its projects' model registries (a tracker per store, opened once)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._trackers: dict[str, Any] = {}
        self._lock = threading.Lock()

    # -- requests ----------------------------------------------------------------------------
    def project(self, value: object) -> Project:
        """The project of ``path`` (a folder or a notebook; None: the root): the nearest
        ``pyproject.toml`` at or above it, not above the root (else the root itself)."""
        start = self.root
        if value is not None:
            parts = _relative_parts(value, "path", "a folder or notebook of the project")
            start = _inside(self.root, parts, "/".join(parts))
            if not start.exists():
                raise NotFoundError("no such folder or notebook", path="/".join(parts))
            if start.is_file():
                start = start.parent
        folder = self.root
        for candidate in (start, *start.parents):
            if not candidate.is_relative_to(self.root):
                break
            if (candidate / "pyproject.toml").is_file():
                folder = candidate
                break
        name = folder.relative_to(self.root).as_posix()
        return Project(folder, name or ".")

    def _uri(self, project: Project) -> str:
        from nbops.run.tracking import default_tracking_uri

        return default_tracking_uri(project.folder)

    def _tracker(self, uri: str) -> Any:
        with self._lock:  # one open at a time: the first one imports MLflow
            tracker = self._trackers.get(uri)
            if tracker is None:
                from nbops.run.tracking import MlflowTracker

                tracker = self._trackers[uri] = MlflowTracker(uri)
            return tracker

    def _open(self, project: Project, what: str) -> Any:
        """The project's tracker; 503 without MLflow, 404 when its store does not exist."""
        from nbops import extras

        extras.require("run", what, modules=["mlflow"])
        uri = self._uri(project)
        if not _store_exists(uri):
            raise NotFoundError(
                f"no MLflow tracking store for the project {project.name!r}",
                hint="release or promote a model first (nbops release NOTEBOOK, nbops promote "
                "RUN --model NAME)",
            )
        return self._tracker(uri)

    def _public(self, text: str) -> str:
        return public_text(self.root, redact(text), uri=True)

    def _errors(self, exc: NbopsError) -> NbopsError:
        """An error with the store's URI and paths made fit for an answer."""
        exc.message = self._public(exc.message)
        exc.hint = self._public(exc.hint) if exc.hint else exc.hint
        return exc

    def _config(self, project: Project) -> Any:
        """The project's config; a bad one is a 400 naming its file root-relative."""
        from nbops.config import load_config

        try:
            return load_config(project.folder)
        except NbopsError as exc:
            if exc.path is not None:
                exc.path = public_path(self.root, Path.cwd() / exc.path)  # absolute stays
            raise self._errors(exc) from exc

    # -- the three operations ----------------------------------------------------------------
    def list(self, query: dict[str, str]) -> api_types.ModelList:
        """``GET /nbops/models``: see docs/rest-api.yaml."""
        from nbops.deploy.registry_view import read_models, thresholds_json

        _known(query, {"path"}, "query argument")
        project = self.project(query.get("path"))
        config = self._config(project)
        uri = self._uri(project)
        status = tracking_status()
        models: list[api_types.RegisteredModel] = []
        truncated = False
        if status["available"] and _store_exists(uri):
            try:
                models, truncated = read_models(self._tracker(uri))
            except NbopsError as exc:
                raise self._errors(exc) from exc
        return {
            "project": project.name,
            "tracking": {"uri": self._public(uri), "available": status["available"],
                         "message": status["message"], "hint": status["hint"]},
            "thresholds": thresholds_json(config.promote),
            "models": models,
            "truncated": truncated,
        }

    def artifact(self, name: str, version: str, query: dict[str, str]) -> tuple[str, bytes]:
        """``GET .../artifact?file=F``: the file's name and content."""
        from nbops.deploy.registry_view import artifact

        _known(query, {"path", "file"}, "query argument")
        if not query.get("file"):
            raise UsageError("'file' is required", hint="an artifact path the Models tab lists")
        number = _version(version, name)
        project = self.project(query.get("path"))
        tracker = self._open(project, "downloading a model's artifact")
        try:
            return artifact(tracker, name, number, query["file"])
        except NbopsError as exc:
            raise self._errors(exc) from exc

    def promote(self, name: str, body: dict[str, Any]) -> api_types.Promotion:
        """``POST .../promote``: the verdict, and ``champion`` moved on PASS."""
        from nbops.deploy.registry_view import promote_version

        req = promote_request(body)
        project = self.project(req.path)
        config = self._config(project).promote  # a bad table: 400 before MLflow opens
        tracker = self._open(project, "promoting a model")
        try:
            return promote_version(tracker, name, req.version, config, dry_run=req.dry_run)
        except NbopsError as exc:
            raise self._errors(exc) from exc


@dataclass(frozen=True)
class PromoteRequest:
    version: int
    dry_run: bool
    path: str | None


def _version(text: str, name: str) -> int:
    if not _VERSION.fullmatch(text) or int(text) < 1:
        raise NotFoundError(f"model {name!r} has no version {shown(text)}",
                            hint="versions are numbers from 1")
    return int(text)


def promote_request(body: dict[str, Any]) -> PromoteRequest:
    """``{"version", "dry_run"?, "path"?}``, checked."""
    _known(body, {"version", "dry_run", "path"})
    version = body.get("version")
    if isinstance(version, bool) or not isinstance(version, int) or not 1 <= version < 10**9:
        raise UsageError(f"'version' must be a version number from 1, not {shown(version)}")
    dry_run = body.get("dry_run", False)
    if not isinstance(dry_run, bool):
        raise UsageError("'dry_run' must be true or false")
    path = body.get("path")
    if path is not None and not isinstance(path, str):
        raise UsageError("'path' must be a string")
    return PromoteRequest(version, dry_run, path)


def models_of(state: State) -> Models:
    """The one :class:`Models` of a server."""
    return state.service(Models)


class ModelsHandler(NbopsHandler):
    """``GET /nbops/models[?path=P]``: the project's registered models."""

    @web.authenticated
    @allowed("read", "contents")
    async def get(self) -> None:
        models, jobs = models_of(self.state), self.state.jobs
        await self.reply(await jobs.run(lambda: jobs.dumps(models.list(self.query()))))


class ModelArtifactHandler(NbopsHandler):
    """``GET /nbops/models/{name}/versions/{version}/artifact?file=F``: the file, as an
    attachment."""

    @web.authenticated
    @allowed("read", "contents")
    async def get(self, name: str, version: str) -> None:
        models = models_of(self.state)
        filename, data = await self.state.jobs.run(models.artifact, name, version, self.query())
        ascii_name = re.sub(r'[^A-Za-z0-9._-]', "_", filename) or "artifact"
        self.set_header("Content-Disposition",
                        f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}")
        self.set_header("X-Content-Type-Options", "nosniff")
        await self.finish(data, set_content_type="application/octet-stream")


class ModelPromoteHandler(NbopsHandler):
    """``POST /nbops/models/{name}/promote``: judge a version, move ``champion`` on PASS."""

    @web.authenticated
    @allowed("read", "contents")
    async def post(self, name: str) -> None:
        body = await self.json_body()
        if body.get("dry_run") is not True and not await self._may_write():
            raise web.HTTPError(403, "not authorized to promote models")
        models = models_of(self.state)
        await self.reply(await self.state.jobs.run(models.promote, name, body))
