"""``nbops serve``: MLflow's scoring protocol for one registered model version, inputs checked.

The app (Starlette, on uvicorn: what MLflow's own scoring server runs on) answers
``GET /ping`` (and ``/health``), ``GET /version`` and ``POST /invocations`` as
``mlflow models serve`` does: JSON with one of ``dataframe_split``, ``dataframe_records``,
``instances``, ``inputs`` (parsed by MLflow's own parsers), or CSV; the answer is
``{"predictions": [...]}``. The model is loaded once, before the port opens. A model released
with an acceptance threshold (:mod:`nbops.deploy.acceptance`) answers
``{"predictions", "probabilities", "decisions", "threshold", "below"}``: ``null`` for a label
it abstains from.

Every bad request is a 4xx whose JSON body says what is wrong: ``{"error_code", "message",
"problems": [{"row", "column", "problem", "value"}]}`` (400: an unparseable or empty body, an
unknown format; 415: a content type other than JSON or CSV; 422: values the model's signature
refuses, or an error the model raised on them). A failure that is not the input's (the model
ran out of memory, a bug) is a 503 with a generic message; the traceback goes to the server's
log, never into an answer.

The prediction log (``--log-predictions PATH``) appends one JSON object per sampled request
(``--sample``): ``{"time", "model", "inputs": [{column: value}], "outputs": [...]}`` (with a
threshold also ``"probabilities"`` and ``"decisions"``): only the request's data and the
answers, written after the answer is sent.
"""

from __future__ import annotations

import json
import logging
import random
import socket
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from io import StringIO
from pathlib import Path
from typing import Any

from nbops.deploy.models import LoadedModel, Problem, shown_path
from nbops.errors import UsageError, WriteError
from nbops.run.acceptance import Decisions

__all__ = ["PredictionLog", "ServeOptions", "bind", "build_app", "serve"]

_log = logging.getLogger("nbops.serve")
_FORMATS = ("dataframe_split", "dataframe_records", "instances", "inputs")
_MAX_PROBLEMS = 20  # listed in one answer; the message says how many there were
# exceptions a model raises because of the values it was given (not the server's fault)
_INPUT_ERRORS = (ValueError, TypeError, KeyError, IndexError, ArithmeticError)


class BadRequest(Exception):
    """A request the server refuses: HTTP ``status``, a message, the problems by column."""

    def __init__(self, status: int, message: str, problems: list[Problem] | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.problems = status, message, problems or []

    def body(self) -> dict[str, Any]:
        code = {415: "UNSUPPORTED_MEDIA_TYPE", 422: "INVALID_PARAMETER_VALUE"}
        return {"error_code": code.get(self.status, "BAD_REQUEST"), "message": self.message,
                "problems": [p.to_json() for p in self.problems]}


class PredictionLog:
    """JSON lines appended to ``path`` for a ``sample`` fraction of the requests."""

    def __init__(self, path: Path, sample: float, model: str, *, seed: int | None = None) -> None:
        if not 0 < sample <= 1:
            raise UsageError(f"--sample must be in (0, 1], not {sample}",
                             hint="--sample 0.1 logs one request in ten")
        self.path, self.sample, self.model = path, sample, model
        self._random = random.Random(seed)
        self._lock = threading.Lock()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._file = path.open("a", encoding="utf-8")
        except OSError as exc:
            raise WriteError(f"cannot write the prediction log: {exc.strerror}",
                             path=shown_path(path)) from exc

    def chosen(self) -> bool:
        with self._lock:
            return self._random.random() < self.sample

    def write(self, inputs: Any, outputs: Any, decided: Decisions | None = None) -> None:
        """One line: the request's rows and the model's answers (with a threshold: the
        model's labels, their probabilities and the decisions)."""
        from mlflow.utils import proto_json_utils

        utils: Any = proto_json_utils  # untyped
        jsonable = utils._get_jsonable_obj
        entry = {
            "time": datetime.now(timezone.utc).isoformat(timespec="milliseconds"),
            "model": self.model,
            "inputs": jsonable(inputs, pandas_orient="records"),
            "outputs": jsonable(outputs, pandas_orient="records"),
        }
        if decided is not None:
            entry["probabilities"] = decided.probabilities.tolist()
            entry["decisions"] = decided.decisions
        line = json.dumps(entry, cls=utils.NumpyEncoder, default=str)
        with self._lock:
            self._file.write(line + "\n")
            self._file.flush()

    def close(self) -> None:
        with self._lock:
            self._file.close()


def _frame(body: bytes, content_type: str | None, loaded: LoadedModel) -> Any:
    """The request's rows as a pandas frame (or what MLflow's parser gives for a tensor
    model), by MLflow's own parsers, without its schema casts: the check comes after."""
    import pandas as pd  # type: ignore[import-untyped]  # no stubs installed
    from mlflow.pyfunc import scoring_server as mlserver

    mime = (content_type or "").split(";", 1)[0].strip().lower()
    if mime not in ("application/json", "text/csv"):
        raise BadRequest(415, f"content type {content_type or '(none)'!r} is not supported: "
                         "send application/json or text/csv")
    if not body.strip():
        raise BadRequest(400, "the request body is empty: send rows as JSON (dataframe_split, "
                         "dataframe_records, instances or inputs) or CSV")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BadRequest(400, f"the request body is not UTF-8 ({exc.reason})") from exc
    if mime == "text/csv":
        try:
            return pd.read_csv(StringIO(text))
        except Exception as exc:  # pandas' parser errors have no common base
            raise BadRequest(400, f"the CSV body cannot be read: {exc}") from exc
    try:
        payload = json.loads(text)
    except json.JSONDecodeError as exc:
        raise BadRequest(400, f"the JSON body cannot be parsed: {exc.msg} (line {exc.lineno}, "
                         f"column {exc.colno})") from exc
    keys = sorted(set(payload) & set(_FORMATS)) if isinstance(payload, dict) else []
    if len(keys) != 1:
        raise BadRequest(400, "the JSON body must be an object with exactly one of "
                         f"{', '.join(_FORMATS)}")
    try:
        data = mlserver.infer_and_parse_data({keys[0]: payload[keys[0]]})
    except Exception as exc:  # MLflow's parsers raise many kinds
        message = getattr(exc, "message", None) or str(exc)
        raise BadRequest(400, f"{keys[0]} cannot be read: {message.splitlines()[0]}") from exc
    if isinstance(data, dict) and loaded.check is not None:
        try:
            data = pd.DataFrame(data)
        except ValueError as exc:
            raise BadRequest(400, f"{keys[0]} cannot be read as columns: {exc}") from exc
    if not isinstance(data, pd.DataFrame) and loaded.check is not None:
        names = loaded.check.names
        if getattr(data, "ndim", 0) == 2 and data.shape[1] == len(names):
            data = pd.DataFrame(data, columns=names)
        else:
            raise BadRequest(400, f"{keys[0]} must give the model's columns by name: "
                             f"{', '.join(names)}")
    return data


def _checked(data: Any, loaded: LoadedModel) -> Any:
    if loaded.check is None:
        return data
    if len(data) == 0:
        raise BadRequest(400, "the request has no rows")
    converted, bad, problems = loaded.check.check(data, max_problems=_MAX_PROBLEMS)
    if problems:
        total = int(bad.sum())
        first = str(problems[0])
        more = f" ({total} rows with problems; the first {len(problems)} are listed)" \
            if total > 1 else ""
        raise BadRequest(422, first + more, problems)
    return loaded.check.good(converted, bad)


def _predict(loaded: LoadedModel, data: Any, call: Callable[[Any], Any] | None = None) -> Any:
    from mlflow.exceptions import MlflowException

    try:
        return (call or loaded.predict)(data)
    except MlflowException as exc:  # MLflow's schema enforcement: the input's
        raise BadRequest(422, exc.message.splitlines()[0]) from exc
    except _INPUT_ERRORS as exc:
        message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise BadRequest(422, f"the model refused the input: {message}") from exc


def build_app(loaded: LoadedModel, log: PredictionLog | None = None) -> Any:
    """The ASGI app serving ``loaded``."""
    from mlflow.pyfunc import scoring_server
    from mlflow.version import VERSION
    from starlette.applications import Starlette
    from starlette.background import BackgroundTask
    from starlette.concurrency import run_in_threadpool
    from starlette.requests import Request
    from starlette.responses import JSONResponse, Response
    from starlette.routing import Route

    mlserver: Any = scoring_server  # untyped
    predictions_to_json = mlserver.predictions_to_json

    acceptance = loaded.acceptance

    def score(body: bytes, content_type: str | None) -> tuple[Any, str]:
        data = _checked(_frame(body, content_type, loaded), loaded)
        if acceptance is not None:  # labels, probabilities and decisions
            decided: Decisions = _predict(loaded, data, loaded.decide)
            return (data, decided.labels, decided), json.dumps({
                "predictions": decided.answered(),
                "probabilities": decided.probabilities.tolist(),
                "decisions": decided.decisions,
                "threshold": acceptance.threshold, "below": acceptance.below,
            }, default=str)
        predictions = _predict(loaded, data)
        out = StringIO()
        predictions_to_json(predictions, out)
        return (data, predictions, None), out.getvalue()

    async def invocations(request: Request) -> Response:
        try:
            body = await request.body()
            (data, predictions, decided), text = await run_in_threadpool(
                score, body, request.headers.get("content-type"))
        except BadRequest as exc:
            return JSONResponse(exc.body(), status_code=exc.status)
        except Exception:  # noqa: BLE001 - not the input's fault: logged, never answered
            _log.exception("nbops serve: the prediction failed")
            return JSONResponse({"error_code": "TEMPORARILY_UNAVAILABLE", "problems": [],
                                 "message": "the model could not answer this request; "
                                 "the server's log has the details"}, status_code=503)
        task = None
        if log is not None and log.chosen():
            task = BackgroundTask(log.write, data, predictions, decided)
        return Response(text, media_type="application/json", background=task)

    async def ping(request: Request) -> Response:
        return Response("\n", media_type="application/json")

    async def version(request: Request) -> Response:
        return Response(VERSION, media_type="application/json")

    return Starlette(routes=[
        Route("/invocations", invocations, methods=["POST"]),
        Route("/ping", ping, methods=["GET"]),
        Route("/health", ping, methods=["GET"]),
        Route("/version", version, methods=["GET"]),
    ])


def bind(host: str, port: int) -> socket.socket:
    """A listening socket on ``host:port``, or a ``UsageError`` saying the port is taken."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise UsageError(f"cannot listen on {host!r}: {exc.strerror}",
                         hint="--host 127.0.0.1 (this machine only) or 0.0.0.0 (all)") from exc
    family, _, _, _, address = infos[0]
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # accepted connections inherit it: without it a small answer waits ~40 ms for the client's
    # delayed ACK (Nagle), which uvicorn does not undo on sockets it did not bind
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        sock.bind(address)
        sock.listen(2048)
    except OSError as exc:
        sock.close()
        raise UsageError(f"cannot listen on {host}:{port}: {exc.strerror}",
                         hint="choose another port with --port, or stop what uses it") from exc
    sock.set_inheritable(True)
    return sock


@dataclass
class ServeOptions:
    host: str = "127.0.0.1"
    port: int = 5001
    log_path: Path | None = None
    sample: float = 1.0


def serve(loaded: LoadedModel, sock: socket.socket, options: ServeOptions,
          announce: Callable[[str], None] = print) -> int:
    """Serve until SIGTERM or SIGINT; 0 after a clean stop (the port is closed)."""
    import uvicorn

    log = None
    if options.log_path is not None:
        try:
            log = PredictionLog(options.log_path, options.sample, loaded.resolved.label)
        except BaseException:
            sock.close()
            raise

    class Server(uvicorn.Server):
        def handle_exit(self, sig: int, frame: Any) -> None:
            super().handle_exit(sig, frame)
            self._captured_signals.clear()  # a signal is how it stops: exit 0, not re-raised

        async def startup(self, sockets: list[socket.socket] | None = None) -> None:
            await super().startup(sockets=sockets)
            if self.started:
                # said once the signal handlers are in place (uvicorn installs them around
                # startup): a SIGINT or SIGTERM right after the line is a clean stop
                announce(f"serving {loaded.resolved.label} on http://{options.host}:"
                         f"{options.port} (POST /invocations, GET /ping); Ctrl-C stops")
                sys.stdout.flush()

    config = uvicorn.Config(build_app(loaded, log), log_level="warning", access_log=False,
                            lifespan="off", timeout_graceful_shutdown=5)
    server = Server(config)
    try:
        server.run(sockets=[sock])
    finally:
        sock.close()
        if log is not None:
            log.close()
    return 0
