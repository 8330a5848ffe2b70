"""The REST handlers under ``/nbops/``: thin HTTP wrappers over the core, JSON in and out.

Every handler derives from :class:`NbopsHandler`, which authenticates (jupyter_server's token
or cookie, with its XSRF check on POST), caps the request body, and turns every failure into
one JSON shape ``{"error", "message", "path", "cell", "hint", "status"}``: an
:class:`~nbops.errors.NbopsError` with the status of :func:`~nbops.errors.http_status`, input a
layer below choked on anyway as its 4xx (:func:`client_error`), anything else unexpected as a
500 with a generic message (the traceback goes to the server log only). Every text of an error
answer goes through :func:`~nbops.server.pool.public_text` there, whichever layer wrote it: no
server path and no token leaves. A
:class:`~nbops.errors.ConflictError` that carries a plan adds it as ``"plan"``; a handler may add
fields of its own (:meth:`NbopsHandler.error_extra`: the submit's checklist and push reason).
"""

from __future__ import annotations

import errno
import json
import threading
from collections.abc import Awaitable, Callable
from http.client import responses
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeVar, cast

from jupyter_server.auth.decorator import authorized
from jupyter_server.base.handlers import APIHandler
from tornado import web

from nbops import api_types
from nbops._version import version
from nbops.errors import (
    AccessError,
    ConflictError,
    NbopsError,
    NotFoundError,
    UsageError,
    http_status,
)
from nbops.server.pool import WorkerPool, public_text
from nbops.server.requests import (
    check_request,
    fix_request,
    hackathon_request,
    history_request,
    lint_request,
    modularize_request,
    params_request,
    parse_body,
    run_form_request,
    run_request,
    score_request,
    submit_request,
)
from nbops.server.runs import Runs

if TYPE_CHECKING:
    from nbops.server.hackathon import Scoring

__all__ = [
    "CheckHandler",
    "FallbackHandler",
    "FixHandler",
    "HackathonHandler",
    "HackathonJobHandler",
    "HackathonScoreHandler",
    "LintHandler",
    "ModularizeHandler",
    "NbopsHandler",
    "ParamsHandler",
    "RuleHandler",
    "RulesHandler",
    "RunJobHandler",
    "RunValidateHandler",
    "RunsHandler",
    "State",
    "SubmitHandler",
    "VersionHandler",
]

# names for HTTP errors that do not come from nbops' own error classes
_HTTP_NAMES = {
    400: "BadRequest",
    401: "Unauthorized",
    403: "Forbidden",
    404: "NotFoundError",
    405: "MethodNotAllowed",
    413: "PayloadTooLarge",
}


_INTERNAL = {
    "error": "InternalError",
    "message": "internal error in nbops; the server log has the details",
    "path": None,
    "cell": None,
    "hint": None,
}


def client_error(exc: BaseException) -> NbopsError | None:
    """The 4xx an unexpected exception stands for when the request's input caused it (a path
    the file system refuses, input nested past the recursion limit, a number too long to
    convert, text that is not Unicode); None for a real failure (a 500).

    Requests are checked before any work starts (:mod:`nbops.server.requests`); this is the
    net under the layers below, so that hostile input never becomes a 500."""
    if isinstance(exc, RecursionError):
        return UsageError("the input is nested too deeply to process",
                          hint="send a flatter document")  # fmt: skip
    if isinstance(exc, OSError) and exc.errno == errno.ENAMETOOLONG:
        return UsageError("a path is too long for the file system", hint="send a shorter path")
    if isinstance(exc, OSError) and exc.errno == errno.ELOOP:
        return AccessError("a path is a symlink loop")
    if isinstance(exc, UnicodeError):
        return UsageError("the request or the notebook holds text that is not valid Unicode "
                          "(a lone surrogate such as \\udcff)",
                          hint="remove the character, or send UTF-8 text")  # fmt: skip
    if isinstance(exc, ValueError) and "integer string conversion" in str(exc):
        return UsageError("the input holds an integer with too many digits")
    return None


def public_history(root: Path, answer: api_types.RunHistory) -> api_types.RunHistory:
    """``GET /nbops/runs``'s answer with the store's paths root-relative: the tracking URI
    (``sqlite:///.nbops/mlflow.db``), each run's ``artifact_uri`` and tags (MLflow and nbops
    record absolute paths in them). Parameters and metrics are the user's values, left as
    they are."""
    tracking = answer["tracking"]
    tracking["uri"] = public_text(root, tracking["uri"], uri=True)
    for run in answer["runs"]:
        run["artifact_uri"] = public_text(root, run["artifact_uri"], uri=True)
        run["tags"] = {k: public_text(root, v, uri=True) for k, v in run["tags"].items()}
    return answer


_M = TypeVar("_M", bound=Callable[..., Any])
S = TypeVar("S")


def allowed(action: str, resource: str) -> Callable[[_M], _M]:
    """jupyter_server's ``@authorized`` (the server's Authorizer decides), typed for mypy."""
    return cast(Callable[[_M], _M], authorized(action=action, resource=resource))


class State:
    """What every handler of one server shares: the root, the body limit, the workers, the runs
    and the hackathon scoring jobs."""

    def __init__(
        self, root: Path, jobs: WorkerPool, max_body_size: int, runs: Runs, scoring: Scoring
    ) -> None:
        self.root = root
        self.jobs = jobs
        self.max_body_size = max_body_size
        self.runs = runs
        self.scoring = scoring
        self._services: dict[Callable[[Path], Any], Any] = {}
        self._services_lock = threading.Lock()

    def service(self, cls: Callable[[Path], S]) -> S:
        """The one ``cls(root)`` of this server (the Models and Health tabs' services), made
        on first use."""
        with self._services_lock:
            found = self._services.get(cls)
            if found is None:
                found = self._services[cls] = cls(self.root)
            return cast(S, found)


@web.stream_request_body
class NbopsHandler(APIHandler):
    """Base of every nbops handler: auth, body cap and JSON errors in one place."""

    auth_resource = "api"

    def initialize(self, state: State) -> None:
        self.state = state
        self._chunks: list[bytes] = []
        self._received = 0
        self._too_large = False

    async def prepare(self) -> None:  # type: ignore[override]
        # jupyter_server authenticates here and refuses unauthenticated requests with 403
        # before a byte of the body is read (the body streams in only after prepare)
        await super().prepare()
        length = self.request.headers.get("Content-Length", "")
        if length.isdigit() and int(length) > self.state.max_body_size:
            self._too_large = True  # read and drop the body, then answer 413 cleanly

    def data_received(self, chunk: bytes) -> None:
        if self._too_large:
            return
        self._received += len(chunk)
        if self._received > self.state.max_body_size:  # chunked bodies have no length
            self._too_large = True
            self._chunks.clear()
            return
        self._chunks.append(chunk)

    def body(self) -> bytes:
        if self._too_large:
            limit = self.state.max_body_size / (1024 * 1024)
            raise web.HTTPError(413, f"request body larger than {limit:g} MiB")
        return b"".join(self._chunks)

    async def json_body(self) -> dict[str, Any]:
        return await self.state.jobs.run(parse_body, self.body())

    def reply(self, value: object) -> Awaitable[None]:
        data = value if isinstance(value, bytes) else WorkerPool.dumps(value)
        return self.finish(data)

    def query(self) -> dict[str, str]:
        """The query arguments (the last value of each; bad UTF-8 is tornado's 400).

        A bare number (``?1700000000000``) is JupyterLab's cache-buster (ServerConnection adds
        one to requests): it is dropped, so unknown arguments can still be refused."""
        return {
            k: self.get_query_argument(k, strip=False)
            for k in self.request.query_arguments
            if not k.isdigit()
        }

    async def _may(self, action: str, resource: str) -> bool:
        """Whether the server's Authorizer lets this user do ``action`` on ``resource``."""
        allowed = self.authorizer.is_authorized(self, self.current_user, action, resource)
        return bool(await allowed) if isinstance(allowed, Awaitable) else bool(allowed)

    async def _may_write(self) -> bool:
        """Whether the server's Authorizer lets this user write files (``write`` on contents)."""
        return await self._may("write", "contents")

    # -- errors ------------------------------------------------------------------------------
    def decode_argument(self, value: bytes, name: str | None = None) -> str:
        # a path argument ({code}, {id}) that is not UTF-8 names nothing: a 404 by the lookup,
        # not tornado's 400 (query arguments keep tornado's strict decoding: a 400)
        if getattr(self, "path_kwargs", None) is None:  # set once they are decoded
            return value.decode("utf-8", errors="replace")
        return str(super().decode_argument(value, name))

    def _public_path(self, path: str | None) -> str | None:
        """Paths in errors are root-relative: never leak where the server's files live."""
        if path is None:
            return None
        p = Path(path)
        if not p.is_absolute():
            return path
        try:
            return p.relative_to(self.state.root).as_posix()
        except ValueError:
            return None

    def _public(self, value: Any) -> Any:
        """``value`` (an error's JSON) with every text fit for an answer (:func:`public_text`):
        whatever layer wrote a message, no server path and no token leaves in it."""
        if isinstance(value, str):
            return public_text(self.state.root, value, (self._token(),))
        if isinstance(value, dict):
            return {k: self._public(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self._public(v) for v in value]
        return value

    def _token(self) -> str:
        return str(self.token or "")  # jupyter_server's: the identity provider's token

    def error_extra(self, exc: NbopsError) -> tuple[int | None, dict[str, Any]]:
        """A handler's additions to an nbops error's answer: a status other than
        :func:`~nbops.errors.http_status`'s (None: that one) and fields (the Error object's
        own fields cannot be overridden)."""
        return None, {}

    def _error_body(self, status_code: int, exc: BaseException | None) -> tuple[int, dict[str, Any]]:
        body: dict[str, Any]
        if exc is not None and not isinstance(exc, (NbopsError, web.HTTPError)):
            exc = client_error(exc) or exc  # input a deeper layer choked on: still a 4xx
        if isinstance(exc, NbopsError):
            status, extra = self.error_extra(exc)
            status_code = status or http_status(exc)
            body = exc.to_json()
            body["path"] = self._public_path(exc.path)
            if isinstance(exc, ConflictError) and isinstance(exc.plan, dict):
                body["plan"] = exc.plan  # made root-relative by WorkerPool.modularize
            body.update({k: v for k, v in extra.items() if k not in body})
        elif isinstance(exc, web.HTTPError):
            message = exc.log_message or exc.reason or responses.get(status_code, "error")
            if exc.log_message and exc.args:
                try:
                    message = exc.log_message % exc.args
                except (TypeError, ValueError):
                    pass
            body = {"error": _HTTP_NAMES.get(status_code, "HTTPError"), "message": message}
        elif status_code >= 500 or exc is not None:
            status_code = 500
            body = dict(_INTERNAL)
        else:
            body = {"error": _HTTP_NAMES.get(status_code, "HTTPError"),
                    "message": responses.get(status_code, "error")}  # fmt: skip
        for key in ("path", "cell", "hint"):
            body.setdefault(key, None)
        body["status"] = status_code
        return status_code, self._public(body)

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        exc = kwargs.get("exc_info", (None, None, None))[1]
        try:
            status_code, body = self._error_body(status_code, exc)
            data = json.dumps(body)
        except Exception:  # the last resort: never tornado's HTML page
            self.log.exception("nbops: cannot build the error answer")
            status_code, data = 500, json.dumps({**_INTERNAL, "status": 500})
        self.clear_header("Content-Disposition")
        self.set_header("Content-Type", "application/json; charset=UTF-8")
        self.set_status(status_code)
        self.finish(data)

    def log_exception(
        self,
        typ: type[BaseException] | None,
        value: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if isinstance(value, NbopsError):  # the user's doing: one line, no traceback
            self.log.info("nbops: %s %s: %s", self.request.method, self.request.path, value)
            return
        if value is not None and client_error(value) is not None:
            # answered 4xx, but a layer below let the input through: worth a traceback
            self.log.warning("nbops: %s %s: bad input got past the request checks",
                             self.request.method, self.request.path, exc_info=value)  # fmt: skip
            return
        super().log_exception(typ, value, tb)


class VersionHandler(NbopsHandler):
    """``GET /nbops/version``: a cheap health check for the front end, with the extras installed
    (found, not imported) so the panel can disable what this server cannot do."""

    @web.authenticated
    @allowed("read", "api")
    async def get(self) -> None:
        from nbops.extras import status

        answer: api_types.Version = {"version": version(), "extras": status()}
        await self.reply(answer)


class RulesHandler(NbopsHandler):
    """``GET /nbops/rules``: the rule catalogue, as ``nbops rules --format json``."""

    @web.authenticated
    @allowed("read", "api")
    async def get(self) -> None:
        from nbops.lint.registry import all_rules

        await self.reply([r.describe() for r in all_rules()])


class RuleHandler(NbopsHandler):
    """``GET /nbops/rules/{code}``: one rule by code or name, as ``nbops rule CODE --format json``."""

    @web.authenticated
    @allowed("read", "api")
    async def get(self, code: str) -> None:
        from nbops.lint.registry import get_rule

        try:
            rule = get_rule(code)
        except UsageError as exc:
            raise NotFoundError(exc.message, hint=exc.hint) from None
        await self.reply(rule.describe())


class LintHandler(NbopsHandler):
    """``POST /nbops/lint``: lint one notebook, saved or unsaved; the CLI's JSON document."""

    @web.authenticated
    @allowed("read", "contents")
    async def post(self) -> None:
        req = lint_request(await self.json_body(), self.state.root)
        jobs = self.state.jobs
        await self.reply(await jobs.run(jobs.lint_bytes, req))


class FixHandler(NbopsHandler):
    """``POST /nbops/fix``: fixed content, what changed and a diff; writes only when asked."""

    @web.authenticated
    @allowed("read", "contents")
    async def post(self) -> None:
        req = fix_request(await self.json_body(), self.state.root)
        if req.write and not await self._may_write():
            raise web.HTTPError(403, "not authorized to write notebooks")
        jobs = self.state.jobs
        await self.reply(await jobs.run(jobs.fix_bytes, req))


class ModularizeHandler(NbopsHandler):
    """``POST /nbops/modularize``: the plan (dry run, the default), or the files written."""

    @web.authenticated
    @allowed("read", "contents")
    async def post(self) -> None:
        req = modularize_request(await self.json_body(), self.state.root)
        if not req.dry_run and not await self._may_write():
            raise web.HTTPError(403, "not authorized to write files")
        jobs = self.state.jobs
        await self.reply(await jobs.run(jobs.modularize_bytes, req))


class ParamsHandler(NbopsHandler):
    """``GET /nbops/params?path=P``: the notebook's parameters, as ``nbops params --format json``."""

    @web.authenticated
    @allowed("read", "contents")
    async def get(self) -> None:
        target = params_request(self.query(), self.state.root)
        await self.reply(await self.state.jobs.run(self.state.runs.parameters, target))


class RunsHandler(NbopsHandler):
    """``POST /nbops/runs``: start ``nbops run`` in the background; ``GET``: jobs and history."""

    @web.authenticated
    @allowed("read", "contents")
    async def get(self) -> None:
        req = history_request(self.query(), self.state.root)
        jobs, runs, root = self.state.jobs, self.state.runs, self.state.root
        await self.reply(await jobs.run(lambda: jobs.dumps(public_history(root, runs.history(req)))))

    @web.authenticated
    @allowed("read", "contents")
    async def post(self) -> None:
        # a run writes files (executed notebooks, the store) and executes the notebook's code
        if not (await self._may_write() and await self._may("execute", "kernels")):
            raise web.HTTPError(403, "not authorized to run notebooks")
        req = run_request(await self.json_body(), self.state.root)
        job = await self.state.jobs.run(self.state.runs.start, req)
        self.set_status(202)
        await self.reply({"job": job})


class RunValidateHandler(NbopsHandler):
    """``POST /nbops/runs/validate``: the Run tab's form checked as ``POST /nbops/runs`` would
    check it (:func:`nbops.run.form.check_form`): errors per field, or the request to send."""

    @web.authenticated
    @allowed("read", "contents")
    async def post(self) -> None:
        req = run_form_request(await self.json_body(), self.state.root)
        await self.reply(await self.state.jobs.run(self.state.runs.validate, req))


class RunJobHandler(NbopsHandler):
    """``GET /nbops/runs/jobs/{id}``: one job; ``DELETE``: cancel it (the CLI's Ctrl-C)."""

    @web.authenticated
    @allowed("read", "contents")
    async def get(self, id: str) -> None:
        await self.reply(self.state.runs.job(id))

    @web.authenticated
    @allowed("read", "contents")
    async def delete(self, id: str) -> None:
        if not await self._may_write():
            raise web.HTTPError(403, "not authorized to cancel runs")
        # at once: the job is stopped in the background (runs.stop_group), GET follows it
        job = self.state.runs.cancel(id)
        self.set_status(202)
        await self.reply(job)


class CheckHandler(NbopsHandler):
    """``POST /nbops/check``: the review gate's checklist, saved or unsaved; writes nothing."""

    @web.authenticated
    @allowed("read", "contents")
    async def post(self) -> None:
        from nbops.server import review

        req = check_request(await self.json_body(), self.state.root)
        await self.reply(await self.state.jobs.run(review.check, self.state.root, req))


class SubmitHandler(NbopsHandler):
    """``POST /nbops/submit``: ``nbops submit`` of the saved notebook (branch, push, pull request)."""

    @web.authenticated
    @allowed("read", "contents")
    async def post(self) -> None:
        from nbops.server import review

        # it writes to the repository (a branch, fetched refs) and pushes
        if not await self._may_write():
            raise web.HTTPError(403, "not authorized to submit notebooks")
        req = submit_request(await self.json_body(), self.state.root)
        await self.reply(await self.state.jobs.run(review.submit, self.state.root, req))

    def error_extra(self, exc: NbopsError) -> tuple[int | None, dict[str, Any]]:
        from nbops.server.review import error_extra

        return error_extra(self.state.root, exc)


class HackathonHandler(NbopsHandler):
    """``GET /nbops/hackathon?path=P``: the notebook's exercise, team, saved scorecard and job."""

    @web.authenticated
    @allowed("read", "contents")
    async def get(self) -> None:
        target = hackathon_request(self.query(), self.state.root)
        jobs, scoring = self.state.jobs, self.state.scoring
        await self.reply(await jobs.run(lambda: jobs.dumps(scoring.info(target))))


class HackathonScoreHandler(NbopsHandler):
    """``POST /nbops/hackathon/score``: score the team's checkout in the background."""

    @web.authenticated
    @allowed("read", "contents")
    async def post(self) -> None:
        # scoring runs the team's code (tests, notebook, pipeline) and writes the scorecard
        if not (await self._may_write() and await self._may("execute", "kernels")):
            raise web.HTTPError(403, "not authorized to score (it runs the team's code)")
        req = score_request(await self.json_body(), self.state.root)
        job = await self.state.jobs.run(self.state.scoring.start, req)
        self.set_status(202)
        await self.reply({"job": job})


class HackathonJobHandler(NbopsHandler):
    """``GET /nbops/hackathon/jobs/{id}``: one scoring job (its card once it is done);
    ``DELETE``: stop it (the tab's Stop)."""

    @web.authenticated
    @allowed("read", "contents")
    async def get(self, id: str) -> None:
        await self.reply(self.state.scoring.job(id))

    @web.authenticated
    @allowed("read", "contents")
    async def delete(self, id: str) -> None:
        if not await self._may_write():
            raise web.HTTPError(403, "not authorized to stop a scoring")
        # it waits (in the pool) for the process group to go: the answer is the ended job
        await self.reply(await self.state.jobs.run(self.state.scoring.cancel, id))


class FallbackHandler(NbopsHandler):
    """Any other path under ``/nbops/``: a JSON 404, never an HTML page."""

    def _missing(self, *args: str) -> None:
        raise web.HTTPError(404, "no such nbops endpoint")

    @web.authenticated
    def get(self, *args: str) -> None:
        self._missing()

    @web.authenticated
    def post(self, *args: str) -> None:
        self._missing()
