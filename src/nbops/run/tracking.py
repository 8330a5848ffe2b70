"""Where runs are recorded: a small tracker interface and its MLflow implementation.

nbops talks to experiment trackers through :class:`Tracker`; :data:`TRACKERS` maps names to
implementations. ``"mlflow"`` is built in; other packages add theirs through the
``nbops.trackers`` entry point group (the way papermill registers engines)::

    [project.entry-points."nbops.trackers"]
    wandb = "nbops_wandb:WandbTracker"

**Where runs go.** :func:`default_tracking_uri`: ``MLFLOW_TRACKING_URI`` when it is set, else
an embedded SQLite store in the project, ``sqlite:///<root>/.nbops/mlflow.db``, with artifacts
in ``<root>/.nbops/mlartifacts`` (every local SQLite store keeps its artifacts in a
``mlartifacts`` folder next to the database file, never in the current directory). No server,
works offline; ``nbops`` prints the ``mlflow ui`` command to browse it
(:meth:`MlflowTracker.ui_command`).

**Concurrency.** The runs of a sweep log from several threads and from several kernel
processes into the same SQLite file. MLflow creates its tables the first time a process opens a
new store and two processes doing that at once corrupt each other's migration ("duplicate
column"); nbops opens a local SQLite store under an exclusive lock file (``mlflow.db.lock``
next to it), and retries a write that meets "database is locked".

**Models.** :meth:`MlflowTracker.promote` registers the model a run logged (MLflow 3: the run's
logged model named ``model``; MLflow 2: the run's ``model/`` artifact folder) as a new version
of a registered model and points the ``challenger`` alias at it. It never moves
``champion``: only ``nbops promote`` / ``nbops release`` do, on a PASS verdict of the project's
thresholds (:mod:`nbops.deploy.promotion`, through :meth:`MlflowTracker.set_alias`); the human
decision was the approval of the pull request.

MLflow is optional (``pip install 'nbops[run]'``, :mod:`nbops.extras`): it is imported only
inside the methods that need it, and its absence is a :class:`~nbops.errors.ToolError`. Its usage telemetry is
turned off (``MLFLOW_DISABLE_TELEMETRY=true``) unless the user set that variable.
"""

from __future__ import annotations

import abc
import contextlib
import datetime as _dt
import json
import logging
import os
import re
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, Literal, TypeVar

from nbops import api_types, extras
from nbops.errors import ConfigError, NbopsError, NotFoundError, ToolError, UsageError
from nbops.run.plugins import PluginRegistry

__all__ = [
    "CHALLENGER",
    "CHAMPION",
    "MODEL_ARTIFACT",
    "PARENT_RUN_TAG",
    "RUN_ID_ENV",
    "TRACKERS",
    "TRACKING_URI_ENV",
    "MlflowTracker",
    "RunRecord",
    "RunStatus",
    "Tracker",
    "TrackerRegistry",
    "check_store_uri",
    "default_artifact_root",
    "default_tracking_uri",
    "describe_store",
    "import_mlflow",
    "mlflow_client",
    "project_store_uri",
    "stringify_param",
]

RunStatus = Literal["FINISHED", "FAILED", "KILLED"]
_END_STATUSES = ("FINISHED", "FAILED", "KILLED")

TRACKING_URI_ENV = "MLFLOW_TRACKING_URI"
RUN_ID_ENV = "NBOPS_RUN_ID"  # set in the kernel's environment: the run nbops opened
PARENT_RUN_TAG = "mlflow.parentRunId"  # MLflow's own tag: the UI nests child runs under it
NOTEBOOK_TAG = "nbops.notebook.path"
TRUNCATED_TAG = "nbops.params.truncated"
CHAMPION = "champion"
CHALLENGER = "challenger"
MODEL_ARTIFACT = "model"  # where nbops.log_model puts a run's model

# MLflow's limits (mlflow.utils.validation); MLflow 2.x before 2.9 kept tags to 5000 chars.
_PARAM_LIMIT = 6000
_TAG_LIMIT = 5000
_BATCH = 100  # params/tags per log_batch call
_MISSING = "MLflow is not installed: runs are tracked in MLflow"
_RUN_ID = re.compile(r"[0-9a-f]+")

_T = TypeVar("_T")


def mlflow_status() -> api_types.TrackingStatus:
    """``{"available", "message", "hint"}``: whether MLflow can be imported, found without
    importing it (the import takes seconds); message and hint are None when it can."""
    if extras.available("run", ["mlflow"]):
        return {"available": True, "message": None, "hint": None}
    return {"available": False, "message": _MISSING, "hint": extras.install_line("run")}


def require_mlflow(what: str = "tracking runs") -> None:
    """Raise ``MissingPackageError`` when MLflow is not installed, before anything starts
    (the runner imports it in the background and would only find out after the notebook ran)."""
    extras.require("run", what, modules=["mlflow"])


def import_mlflow(module: str = "mlflow") -> Any:
    """Import ``mlflow`` (or one of its submodules), or raise ``MissingPackageError`` (a
    ``ToolError``: exit code 3, HTTP 503) with the install line when it is missing."""
    # nbops' store is local and offline: MLflow's usage telemetry (on by default in MLflow 3)
    # stays off unless the user asked for it by setting the variable themselves
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    # a run ended on a tracking server prints its URL on stdout, into `nbops run --format json`
    os.environ.setdefault("MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT", "true")
    # nbops shows its own progress: MLflow's artifact download bars (serve, score, promote)
    # would only clutter stderr
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    return extras.import_optional(module, "run", "tracking runs")


# --------------------------------------------------------------------------- where runs go


def default_tracking_uri(project_root: Path) -> str:
    """``MLFLOW_TRACKING_URI`` if set, else ``tracking-uri`` of ``[tool.nbops.run]`` in the
    project's ``pyproject.toml`` (a team's tracking server), else the project's embedded
    SQLite store.

    The store is ``sqlite:///<root>/.nbops/mlflow.db`` (absolute; created on first use); its
    artifacts live in :func:`default_artifact_root`.
    """
    configured = os.environ.get(TRACKING_URI_ENV, "").strip() or _configured_uri(project_root)
    if configured:
        return configured
    return project_store_uri(project_root)


def project_store_uri(project_root: Path) -> str:
    """The project's own SQLite store, ``sqlite:///<root>/.nbops/mlflow.db``."""
    return "sqlite:///" + (Path(project_root).resolve() / ".nbops" / "mlflow.db").as_posix()


def _configured_uri(project_root: Path) -> str:
    """``tracking-uri`` of ``[tool.nbops.run]`` in ``<root>/pyproject.toml``; "" when unset."""
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - exercised on 3.10 only
        import tomli as tomllib  # type: ignore[import-not-found,unused-ignore]

    file = Path(project_root) / "pyproject.toml"
    try:
        table = tomllib.loads(file.read_text(encoding="utf-8")).get("tool", {}).get("nbops", {})
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError, AttributeError):
        return ""  # no readable pyproject: load_config reports a broken one where it matters
    run = table.get("run", {}) if isinstance(table, dict) else {}
    value = run.get("tracking-uri", "") if isinstance(run, dict) else ""
    if not isinstance(value, str):
        raise ConfigError(
            f"[tool.nbops.run] tracking-uri must be a string, not {type(value).__name__}",
            path="pyproject.toml",
            hint='tracking-uri = "http://HOST:5000" (the team\'s nbops tracking-server)',
        )
    return value.strip()


def default_artifact_root(project_root: Path) -> str:
    """``<root>/.nbops/mlartifacts`` as a ``file:`` URI: where the embedded store's artifacts go."""
    return (Path(project_root).resolve() / ".nbops" / "mlartifacts").as_uri()


# schemes MLflow 3 opens itself; plugins add theirs through the entry point group below
_KNOWN_SCHEMES = frozenset({
    "", "file", "sqlite", "postgresql", "mysql", "mssql", "http", "https", "databricks",
    "databricks-uc", "uc",
})
_STORE_PLUGINS = "mlflow.tracking_store"


def describe_store(uri: str) -> str:
    """``uri`` as nbops shows it: a local store's path; any password in a URL hidden."""
    from urllib.parse import urlsplit, urlunsplit

    db = _sqlite_path(uri)
    if db is not None:
        return str(db)
    parts = urlsplit(uri)
    if parts.password:
        host = parts.netloc.rsplit("@", 1)[1]
        return urlunsplit(parts._replace(netloc=f"{parts.username}:***@{host}"))
    return uri


def check_store_uri(uri: str, *, timeout: float = 3.0) -> None:
    """Refuse a tracking URI that cannot work, before any kernel starts (MLflow itself is
    imported later, in the background, and would only say so after the notebook ran).

    Checked without importing MLflow: it is installed; the scheme is one MLflow or an installed plugin knows; a local
    SQLite store is not a folder; an ``http(s)`` server answers a TCP connection (skipped
    when a proxy is configured for it: only the proxy can reach it then).
    """
    import socket
    from urllib.parse import urlsplit
    from urllib.request import getproxies, proxy_bypass

    require_mlflow()
    shown = describe_store(uri)
    unset = f"fix or unset {TRACKING_URI_ENV} (unset: the project's own store in .nbops/)"
    hint = f"{unset}, then run again"
    scheme = urlsplit(uri).scheme.lower().split("+", 1)[0]
    if len(scheme) == 1:  # a Windows drive letter: a path
        scheme = ""
    if scheme not in _KNOWN_SCHEMES:
        from importlib.metadata import entry_points

        if scheme not in {ep.name for ep in entry_points(group=_STORE_PLUGINS)}:
            raise UsageError(f"the MLflow tracking URI {shown} has a scheme MLflow does not "
                             f"know ({scheme}:)", hint=hint)
    db = _sqlite_path(uri)
    if db is not None and db.is_dir():
        raise UsageError(f"the MLflow tracking store {shown} is a folder, not a database file",
                         hint=hint)
    if scheme in ("http", "https"):
        parts = urlsplit(uri)
        host = parts.hostname or ""
        if getproxies().get(scheme) and not proxy_bypass(host):
            return
        port = parts.port or (443 if scheme == "https" else 80)
        try:
            socket.create_connection((host, port), timeout=timeout).close()
        except OSError as exc:
            raise UsageError(
                f"cannot reach the MLflow tracking server {shown}: {exc.strerror or exc}",
                hint=f"start it (mlflow server), check the address, or {hint}",
            ) from None


def _sqlite_path(uri: str) -> Path | None:
    """The database file of a local ``sqlite:///`` URI, else None (servers, in-memory)."""
    if not uri.startswith("sqlite:///"):
        return None
    raw = uri[len("sqlite:///") :].split("?", 1)[0]
    if not raw or raw == ":memory:":
        return None
    return Path(raw).resolve()


# --------------------------------------------------------------------------- records


@dataclass(frozen=True)
class RunRecord:
    """One tracked run as nbops shows it. Times are UTC; ``metrics`` are the latest values."""

    run_id: str
    name: str
    status: str  # RUNNING | FINISHED | FAILED | KILLED (| SCHEDULED)
    start_time: _dt.datetime | None
    end_time: _dt.datetime | None
    duration_s: float | None  # None while the run has not ended
    params: dict[str, str]
    metrics: dict[str, float]
    tags: dict[str, str]
    artifact_uri: str
    parent_run_id: str | None
    experiment_id: str = ""

    def to_json(self, output: str | None = None) -> api_types.RunRecord:
        """The record as JSON-ready data (times as ISO 8601 strings); ``output``: its executed
        notebook as the reader shows it (the server: root-relative)."""
        return {
            "run_id": self.run_id,
            "name": self.name,
            "status": self.status,
            "start_time": self.start_time.isoformat() if self.start_time else None,
            "end_time": self.end_time.isoformat() if self.end_time else None,
            "duration_s": self.duration_s,
            "params": dict(self.params),
            "metrics": dict(self.metrics),
            "tags": dict(self.tags),
            "artifact_uri": self.artifact_uri,
            "parent_run_id": self.parent_run_id,
            "experiment_id": self.experiment_id,
            "output": output,
        }


def stringify_param(value: Any) -> str:
    """A parameter value as the string MLflow stores: ``str()``; lists and dicts as JSON."""
    if isinstance(value, str):
        return value
    if isinstance(value, (dict, list, tuple)):
        return json.dumps(value, default=str)
    return str(value)


def _clip(value: str, limit: int) -> tuple[str, bool]:
    """``value`` cut to ``limit`` characters, ending with a note saying it was cut."""
    if len(value) <= limit:
        return value, False
    note = f"... [truncated by nbops: {len(value)} characters]"
    return value[: limit - len(note)] + note, True


def _params_for_mlflow(params: Mapping[str, Any]) -> tuple[dict[str, str], list[str]]:
    out: dict[str, str] = {}
    truncated: list[str] = []
    for key, value in params.items():
        text, cut = _clip(stringify_param(value), _PARAM_LIMIT)
        out[str(key)] = text
        if cut:
            truncated.append(str(key))
    return out, truncated


def run_values(params: Mapping[str, Any], tags: Mapping[str, Any],
               parent_run_id: str | None) -> tuple[dict[str, str], dict[str, str]]:
    """A new run's params as MLflow stores them and its tags, with nbops' notes: the params
    cut to MLflow's limit (:data:`TRUNCATED_TAG`) and the parent (:data:`PARENT_RUN_TAG`)."""
    values, truncated = _params_for_mlflow(params)
    all_tags = _tags_for_mlflow(tags)
    if truncated:
        all_tags[TRUNCATED_TAG] = ",".join(truncated)
    if parent_run_id:
        all_tags[PARENT_RUN_TAG] = parent_run_id
    return values, all_tags


def _tags_for_mlflow(tags: Mapping[str, Any]) -> dict[str, str]:
    return {str(k): _clip(str(v), _TAG_LIMIT)[0] for k, v in tags.items()}


def _time(ms: int | None) -> _dt.datetime | None:
    if not ms:
        return None
    return _dt.datetime.fromtimestamp(ms / 1000, tz=_dt.timezone.utc)


def _record(run: Any) -> RunRecord:
    info, data = run.info, run.data
    tags = dict(data.tags)
    start, end = info.start_time, info.end_time
    return RunRecord(
        run_id=info.run_id,
        name=info.run_name or tags.get("mlflow.runName", ""),
        status=str(info.status),
        start_time=_time(start),
        end_time=_time(end),
        duration_s=(end - start) / 1000 if start and end else None,
        params=dict(data.params),
        metrics={k: float(v) for k, v in data.metrics.items()},
        tags=tags,
        artifact_uri=info.artifact_uri or "",
        parent_run_id=tags.get(PARENT_RUN_TAG),
        experiment_id=str(info.experiment_id),
    )


def _diff(a: Mapping[str, Any], b: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "only_in_a": {k: a[k] for k in sorted(a.keys() - b.keys())},
        "only_in_b": {k: b[k] for k in sorted(b.keys() - a.keys())},
        "changed": {k: {"a": a[k], "b": b[k]} for k in sorted(a.keys() & b.keys()) if a[k] != b[k]},
        "same": sorted(k for k in a.keys() & b.keys() if a[k] == b[k]),
    }


# --------------------------------------------------------------------------- the interface


class Tracker(abc.ABC):
    """What nbops needs from an experiment tracker.

    Implementations are constructed as ``cls(tracking_uri)`` (``None``: their default) and
    must be safe to call from several threads. Run ids may be given as unique prefixes
    wherever a method reads a run (:meth:`get_run`, :meth:`compare`, :meth:`promote`).
    """

    name = "tracker"

    def __init__(self, tracking_uri: str | None = None) -> None:
        self.tracking_uri = tracking_uri or ""

    @abc.abstractmethod
    def start_run(
        self,
        experiment: str,
        name: str,
        params: Mapping[str, Any],
        tags: Mapping[str, str],
        parent_run_id: str | None = None,
        *,
        start_time: float | None = None,
    ) -> str:
        """Open a run in ``experiment`` (created when missing); returns its id. ``start_time``
        (seconds since the epoch, as :func:`time.time`; None: now) is when the run really
        began: nbops opens the run while the kernel already executes."""

    @abc.abstractmethod
    def log_metric(self, run_id: str, key: str, value: float, step: int | None = None) -> None:
        """Record one value of a metric."""

    def log_batch(
        self,
        run_id: str,
        metrics: Sequence[tuple[str, float, int, int]] = (),
        params: Mapping[str, str] | None = None,
    ) -> None:
        """Record many metrics ``(key, value, step, timestamp ms)`` and params at once."""
        for key, value, step, _ in metrics:
            self.log_metric(run_id, key, value, step)
        for key, text in (params or {}).items():
            self.log_param(run_id, key, text)

    def log_param(self, run_id: str, key: str, value: Any) -> None:
        """Record one parameter; trackers that cannot add params to a run raise UsageError."""
        raise UsageError(f"the {self.name} tracker cannot add parameters to a running run")

    @abc.abstractmethod
    def log_artifact(self, run_id: str, path: Path, artifact_path: str | None = None) -> None:
        """Store a file (or a folder's files) with the run, under ``artifact_path``."""

    @abc.abstractmethod
    def set_tags(self, run_id: str, tags: Mapping[str, str]) -> None:
        """Set (or overwrite) tags on a run."""

    @abc.abstractmethod
    def end_run(self, run_id: str, status: RunStatus) -> None:
        """Close a run as FINISHED, FAILED or KILLED."""

    @abc.abstractmethod
    def list_runs(
        self,
        experiment: str | None = None,
        notebook: str | Path | None = None,
        max_results: int = 100,
    ) -> list[RunRecord]:
        """The newest runs first, of one experiment (None: all) and one notebook (None: all)."""

    @abc.abstractmethod
    def get_run(self, run_id_or_prefix: str) -> RunRecord:
        """One run by id or unique id prefix; ``NotFoundError`` when none or several match."""

    @abc.abstractmethod
    def promote(self, run_id: str, model_name: str, alias: str = CHALLENGER) -> int:
        """Register the run's model as a new version of ``model_name``, aliased ``alias``."""

    @abc.abstractmethod
    def champion(self, model_name: str) -> RunRecord | None:
        """The run behind the version of ``model_name`` aliased ``champion``, if any."""

    @abc.abstractmethod
    def ui_command(self, port: int = 5000) -> list[str]:
        """The argv that serves a browsable UI over this tracker's runs."""

    def kernel_env(self, run_id: str) -> dict[str, str]:
        """Environment variables that let ``nbops.log_metric`` in a kernel reach ``run_id``."""
        return {RUN_ID_ENV: run_id}

    def end_orphans(self, records: Sequence[RunRecord]) -> list[RunRecord]:
        """``records``, the RUNNING runs whose owner process is gone ended KILLED (see
        :func:`nbops.run.journal.orphaned`); trackers that cannot tell return them as they are."""
        return list(records)

    def compare(self, a: str, b: str) -> dict[str, Any]:
        """Params and metrics of two runs side by side.

        ``{"a": id, "b": id, "params": {...}, "metrics": {...}}`` where each of params and
        metrics is ``{"only_in_a": {k: v}, "only_in_b": {k: v}, "changed": {k: {"a": v,
        "b": v}}, "same": [k, ...]}``.
        """
        first, second = self.get_run(a), self.get_run(b)
        return {
            "a": first.run_id,
            "b": second.run_id,
            "params": _diff(first.params, second.params),
            "metrics": _diff(first.metrics, second.metrics),
        }


class TrackerRegistry(PluginRegistry[Tracker]):
    """Tracker implementations by name: built-ins plus the ``nbops.trackers`` entry points
    (loaded on first lookup; one that fails to load is skipped with a warning)."""

    def __init__(self) -> None:
        super().__init__("nbops.trackers", "tracker", "known trackers: {}")

    def create(self, name: str = "mlflow", tracking_uri: str | None = None) -> Tracker:
        """An instance of the tracker called ``name`` for ``tracking_uri``."""
        return self.get(name)(tracking_uri)


# --------------------------------------------------------------------------- MLflow


_initialized: set[str] = set()
_init_lock = threading.Lock()


@contextlib.contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    """An exclusive lock between processes, held on ``path`` (created if needed)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+b") as handle:
        if sys.platform == "win32":
            import msvcrt

            while True:
                try:
                    handle.seek(0)
                    msvcrt.locking(handle.fileno(), msvcrt.LK_LOCK, 1)
                    break
                except OSError:  # LK_LOCK gives up after about 10 s: keep waiting
                    time.sleep(0.1)
            try:
                yield
            finally:
                handle.seek(0)
                msvcrt.locking(handle.fileno(), msvcrt.LK_UNLCK, 1)
        else:
            import fcntl

            fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


_ALEMBIC_TMP = "_alembic_tmp_"


def _drop_interrupted_migration(db: Path) -> None:
    """Undo what a process killed while MLflow migrated ``db`` left behind (called under the
    store's lock, so no migration is running): alembic rebuilds a SQLite table by copying it
    into ``_alembic_tmp_<table>``, then swapping; a copy left while ``<table>`` still exists is
    an unfinished one, and the next migration would fail on it ("already exists") for ever."""
    import sqlite3

    if not db.is_file():
        return
    with contextlib.suppress(sqlite3.Error), contextlib.closing(sqlite3.connect(db, 30)) as con:
        names = {row[0] for row in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        for name in sorted(names):
            if name.startswith(_ALEMBIC_TMP) and name.removeprefix(_ALEMBIC_TMP) in names:
                con.execute(f'DROP TABLE "{name}"')
        con.commit()


def mlflow_client(tracking_uri: str | None) -> Any:
    """An ``MlflowClient`` for ``tracking_uri`` whose store is ready for concurrent use.

    The first client of a local SQLite store in this process is created (MLflow 3 opens the
    store in the constructor, creating or upgrading its tables) under an exclusive file lock,
    so concurrent processes never migrate the same database at once; what a process killed
    while migrating left is cleared first (:func:`_drop_interrupted_migration`).
    """
    mlflow = import_mlflow()
    uri = tracking_uri or str(mlflow.get_tracking_uri())
    db = _sqlite_path(uri)
    try:
        if db is None or uri in _initialized:
            return mlflow.MlflowClient(uri)
        with _init_lock:
            for name in ("mlflow.store.db.utils", "alembic"):  # "Creating initial tables..."
                logging.getLogger(name).setLevel(logging.WARNING)
            with _file_lock(db.with_name(db.name + ".lock")):
                _drop_interrupted_migration(db)
                client = _retry(lambda: mlflow.MlflowClient(uri))
                _retry(lambda: client.search_experiments(max_results=1))
                _retry(lambda: client.search_registered_models(max_results=1))
            _initialized.add(uri)
        return client
    except Exception as exc:
        raise ToolError(
            f"cannot open the MLflow tracking store {uri}: {type(exc).__name__}: {exc}",
            hint="check MLFLOW_TRACKING_URI, or that the .nbops folder is writable",
        ) from exc


def _locked(exc: BaseException) -> bool:
    return "database is locked" in str(exc) or "database table is locked" in str(exc)


def _retry(call: Callable[[], _T], attempts: int = 8) -> _T:
    """``call()``, again after a short wait while SQLite reports a lock held by another writer."""
    for attempt in range(attempts):
        try:
            return call()
        except Exception as exc:
            if not _locked(exc) or attempt == attempts - 1:
                raise
            time.sleep(0.05 * 2**attempt)
    raise AssertionError("unreachable")


def _error_code(exc: BaseException) -> str:
    return str(getattr(exc, "error_code", ""))


class MlflowTracker(Tracker):
    """Runs, metrics, artifacts and the model registry in MLflow (``MlflowClient``).

    ``tracking_uri`` None means MLflow's own default (``MLFLOW_TRACKING_URI``, else a store
    in the current directory); nbops passes :func:`default_tracking_uri`. ``artifact_root`` is where
    experiments this tracker creates keep artifacts: by default ``mlartifacts`` next to a
    local SQLite database, else the server's default.
    """

    name = "mlflow"

    def __init__(
        self, tracking_uri: str | None = None, *, artifact_root: str | None = None
    ) -> None:
        self._client = mlflow_client(tracking_uri)
        self.tracking_uri = str(self._client.tracking_uri)
        db = _sqlite_path(self.tracking_uri)
        if artifact_root is None and db is not None:
            artifact_root = (db.parent / "mlartifacts").as_uri()
        self.artifact_root = artifact_root
        self._experiments: dict[str, str] = {}
        self._lock = threading.Lock()

    @property
    def client(self) -> Any:
        """The underlying ``MlflowClient`` (for what this class does not wrap)."""
        return self._client

    def kernel_env(self, run_id: str) -> dict[str, str]:
        return {RUN_ID_ENV: run_id, TRACKING_URI_ENV: self.tracking_uri}

    # ----------------------------------------------------------------- plumbing

    def _error(self, what: str, exc: BaseException) -> NbopsError:
        """An MLflow failure in nbops' terms (missing thing, bad value, or tool failure)."""
        code = _error_code(exc)
        message = getattr(exc, "message", None) or str(exc)
        if code == "RESOURCE_DOES_NOT_EXIST":
            return NotFoundError(f"{what}: {message}")
        if code == "INVALID_PARAMETER_VALUE":
            return UsageError(f"{what}: {message}")
        return ToolError(
            f"{what}: {type(exc).__name__}: {message}",
            hint=f"check the MLflow tracking store {self.tracking_uri}",
        )

    def _call(self, what: str, call: Callable[[], _T]) -> _T:
        """Run one MLflow call, retrying on a locked SQLite file, in nbops' error terms."""
        try:
            return _retry(call)
        except NbopsError:
            raise
        except Exception as exc:
            raise self._error(what, exc) from exc

    def _experiment_id(self, experiment: str, *, create: bool) -> str | None:
        with self._lock:
            known = self._experiments.get(experiment)
        if known is not None:
            return known
        found = self._call(
            f"look up experiment {experiment!r}",
            lambda: self._client.get_experiment_by_name(experiment),
        )
        if found is not None and found.lifecycle_stage == "deleted":
            raise UsageError(
                f"experiment {experiment!r} was deleted",
                hint=f"restore it (mlflow experiments restore --experiment-id "
                f"{found.experiment_id}) or choose another experiment name",
            )
        if found is None:
            if not create:
                return None
            try:
                experiment_id = str(
                    _retry(
                        lambda: self._client.create_experiment(
                            experiment, artifact_location=self.artifact_root
                        )
                    )
                )
            except Exception as exc:
                if _error_code(exc) != "RESOURCE_ALREADY_EXISTS":  # else another process won
                    raise self._error(f"create experiment {experiment!r}", exc) from exc
                found = self._call(
                    f"look up experiment {experiment!r}",
                    lambda: self._client.get_experiment_by_name(experiment),
                )
                experiment_id = str(found.experiment_id)
        else:
            experiment_id = str(found.experiment_id)
        with self._lock:
            self._experiments[experiment] = experiment_id
        return experiment_id

    def _experiment_scope(self, experiment: str | None) -> list[str]:
        """The ids of ``experiment`` (None: every experiment); empty when it does not exist."""
        if experiment is None:
            return self._experiment_ids()
        one = self._experiment_id(experiment, create=False)
        return [] if one is None else [one]

    def _experiment_ids(self) -> list[str]:
        ids: list[str] = []
        token: str | None = None
        while True:
            page = self._call(
                "list experiments",
                partial(self._client.search_experiments, max_results=1000, page_token=token),
            )
            ids.extend(str(e.experiment_id) for e in page)
            token = page.token
            if not token:
                return ids

    def _search(self, experiment_ids: list[str], filter_string: str, limit: int) -> list[Any]:
        runs: list[Any] = []
        token: str | None = None
        while len(runs) < limit:
            page = self._call(
                "search runs",
                partial(
                    self._client.search_runs,
                    experiment_ids,
                    filter_string=filter_string,
                    max_results=min(1000, limit - len(runs)),
                    page_token=token,
                ),
            )
            runs.extend(page)
            token = page.token
            if not token:
                break
        return runs[:limit]

    def _full_id(self, run_id_or_prefix: str) -> str:
        return self.get_run(run_id_or_prefix).run_id

    # ----------------------------------------------------------------- runs

    def start_run(
        self,
        experiment: str,
        name: str,
        params: Mapping[str, Any],
        tags: Mapping[str, str],
        parent_run_id: str | None = None,
        *,
        start_time: float | None = None,
    ) -> str:
        """Open a run; params become strings (:func:`stringify_param`), values over MLflow's
        6000 characters are cut with a note and named in the ``nbops.params.truncated`` tag.
        ``start_time`` (epoch seconds) becomes the run's start: its duration counts from it."""
        experiment_id = self._experiment_id(experiment, create=True)
        values, all_tags = run_values(params, tags, parent_run_id)
        started = None if start_time is None else int(start_time * 1000)  # MLflow: ms
        run = self._call(
            f"start a run in experiment {experiment!r}",
            lambda: self._client.create_run(
                experiment_id, start_time=started, tags=all_tags, run_name=name
            ),
        )
        run_id = str(run.info.run_id)
        if values:
            param_cls = import_mlflow("mlflow.entities").Param
            items = [param_cls(k, v) for k, v in values.items()]
            try:
                for start in range(0, len(items), _BATCH):
                    chunk = items[start : start + _BATCH]
                    self._call(
                        f"log the parameters of run {run_id}",
                        partial(self._client.log_batch, run_id, params=chunk),
                    )
            except NbopsError:
                self.end_run(run_id, "FAILED")
                raise
        return run_id

    def log_metric(self, run_id: str, key: str, value: float, step: int | None = None) -> None:
        self._call(
            f"log metric {key!r} of run {run_id}",
            lambda: self._client.log_metric(run_id, key, float(value), step=step or 0),
        )

    def log_batch(
        self,
        run_id: str,
        metrics: Sequence[tuple[str, float, int, int]] = (),
        params: Mapping[str, str] | None = None,
    ) -> None:
        """One ``log_batch`` call per 1000 metrics / 100 params (MLflow's limits)."""
        entities = import_mlflow("mlflow.entities")
        now = int(time.time() * 1000)
        items = [entities.Metric(k, float(v), ts or now, step) for k, v, step, ts in metrics]
        for start in range(0, len(items), 1000):
            chunk = items[start : start + 1000]
            self._call(f"log metrics of run {run_id}",
                       partial(self._client.log_batch, run_id, metrics=chunk))
        values, _ = _params_for_mlflow(params or {})
        param_items = [entities.Param(k, v) for k, v in values.items()]
        for start in range(0, len(param_items), _BATCH):
            chunk = param_items[start : start + _BATCH]
            self._call(f"log params of run {run_id}",
                       partial(self._client.log_batch, run_id, params=chunk))

    def log_param(self, run_id: str, key: str, value: Any) -> None:
        """Record one parameter (stringified and cut like :meth:`start_run`'s)."""
        text, _ = _clip(stringify_param(value), _PARAM_LIMIT)
        self._call(
            f"log param {key!r} of run {run_id}",
            lambda: self._client.log_param(run_id, key, text),
        )

    def log_artifact(self, run_id: str, path: Path, artifact_path: str | None = None) -> None:
        path = Path(path)
        if not path.exists():
            raise NotFoundError("no such file to log as an artifact", path=path)
        if path.is_dir():
            self._call(
                f"log artifacts of run {run_id}",
                lambda: self._client.log_artifacts(run_id, str(path), artifact_path),
            )
        else:
            self._call(
                f"log artifact of run {run_id}",
                lambda: self._client.log_artifact(run_id, str(path), artifact_path),
            )

    def log_model_file(self, run_id: str, file: Path) -> str:
        """Log the ``nbops.log_model`` call a kernel pickled into ``file``; the model's URI."""
        from nbops.run.model_log import log_file

        return log_file(self, run_id, Path(file))

    def set_tags(self, run_id: str, tags: Mapping[str, str]) -> None:
        tag_cls = import_mlflow("mlflow.entities").RunTag
        items = [tag_cls(k, v) for k, v in _tags_for_mlflow(tags).items()]
        for start in range(0, len(items), _BATCH):
            chunk = items[start : start + _BATCH]
            self._call(f"tag run {run_id}", partial(self._client.log_batch, run_id, tags=chunk))

    def end_run(self, run_id: str, status: RunStatus) -> None:
        if status not in _END_STATUSES:
            raise UsageError(
                f"a run ends FINISHED, FAILED or KILLED, not {status!r}",
            )
        self._call(f"end run {run_id}", lambda: self._client.set_terminated(run_id, status))

    def list_runs(
        self,
        experiment: str | None = None,
        notebook: str | Path | None = None,
        max_results: int = 100,
    ) -> list[RunRecord]:
        """The newest runs first. ``notebook`` matches the ``nbops.notebook.path`` tag: an
        existing file is turned into that tag's form (relative to its git repository)."""
        ids = self._experiment_scope(experiment)
        if not ids:
            return []
        wanted: str | None = None
        if notebook is not None:
            if Path(notebook).is_file():
                from nbops.run.lineage import notebook_path_tag

                wanted = notebook_path_tag(Path(notebook))
            else:
                wanted = Path(notebook).as_posix() if isinstance(notebook, Path) else notebook
        if wanted is None:
            runs = self._search(ids, "", max_results)
        elif "\\" in wanted or ("'" in wanted and '"' in wanted):
            # MLflow's filter parser has no escapes: filter here instead
            runs = [
                r
                for r in self._search(ids, "", sys.maxsize)
                if r.data.tags.get(NOTEBOOK_TAG) == wanted
            ][:max_results]
        else:
            quote = '"' if "'" in wanted else "'"
            runs = self._search(ids, f"tags.`{NOTEBOOK_TAG}` = {quote}{wanted}{quote}", max_results)
        return [_record(r) for r in runs]

    def end_orphans(self, records: Sequence[RunRecord]) -> list[RunRecord]:
        """``records``, each RUNNING run whose owner process is gone ended KILLED with the
        ``nbops.killed_reason`` tag: judged under the owner's lock (:func:`nbops.run.journal.
        orphaned`), its status read again first. A run that cannot be ended stays as it is."""
        from nbops.run.journal import KILLED_REASON_TAG, OWNER_LOCK_TAG, orphaned

        out: list[RunRecord] = []
        for record in records:
            if record.status == "RUNNING" and OWNER_LOCK_TAG in record.tags:
                try:
                    with orphaned(record.tags) as reason:
                        if reason is not None:
                            current = self.get_run(record.run_id)
                            if current.status == "RUNNING":
                                self.set_tags(record.run_id, {KILLED_REASON_TAG: reason})
                                self.end_run(record.run_id, "KILLED")
                            record = self.get_run(record.run_id)
                except NbopsError as exc:  # a read-only store, say: the history still reads
                    logging.getLogger(__name__).warning("nbops: cannot end run %s: %s",
                                                        record.run_id, exc)
            out.append(record)
        return out

    def end_orphaned_runs(self, experiment: str | None = None) -> list[str]:
        """End every RUNNING run of this host (in ``experiment``, None: all) whose owner process
        is gone; the ids of the runs ended."""
        import socket

        from nbops.run.journal import OWNER_HOST_TAG

        ids = self._experiment_scope(experiment)
        if not ids:
            return []
        host = socket.gethostname().replace("'", "")
        found = self._search(
            ids, f"attributes.status = 'RUNNING' and tags.`{OWNER_HOST_TAG}` = '{host}'", 1000
        )
        ended = self.end_orphans([_record(r) for r in found])
        return [r.run_id for r in ended if r.status == "KILLED"]

    def get_run(self, run_id_or_prefix: str) -> RunRecord:
        """A run by its id or a unique prefix of it (like git's abbreviated hashes)."""
        prefix = run_id_or_prefix.strip().lower()
        if not _RUN_ID.fullmatch(prefix):
            raise NotFoundError(
                f"no run {run_id_or_prefix!r}: run ids are hexadecimal",
                hint="nbops runs lists the runs",
            )
        if len(prefix) >= 32:
            try:
                return _record(
                    self._call(f"read run {prefix}", lambda: self._client.get_run(prefix))
                )
            except NotFoundError:
                raise NotFoundError(
                    f"no run {run_id_or_prefix!r}", hint="nbops runs lists the runs"
                ) from None
        ids = self._experiment_ids()
        try:
            matches = self._search(ids, f"attributes.run_id LIKE '{prefix}%'", 3)
        except UsageError:  # an MLflow whose filter has no LIKE on run ids: scan
            matches = [
                r for r in self._search(ids, "", sys.maxsize) if r.info.run_id.startswith(prefix)
            ][:3]
        if not matches:
            raise NotFoundError(f"no run {run_id_or_prefix!r}", hint="nbops runs lists the runs")
        if len(matches) > 1:
            listed = ", ".join(r.info.run_id for r in matches[:2])
            raise NotFoundError(
                f"run id prefix {run_id_or_prefix!r} is ambiguous: it matches {listed}"
                + (", ..." if len(matches) > 2 else ""),
                hint="give more characters of the run id",
            )
        return _record(matches[0])

    # ----------------------------------------------------------------- models

    def _logged_model(self, run: RunRecord, artifact_path: str) -> tuple[str, str | None]:
        """(source URI, MLflow 3 logged-model id or None) of the model ``run`` logged."""
        if hasattr(self._client, "search_logged_models"):  # MLflow 3: models are entities
            found = [
                m
                for m in self._call(
                    f"find the models of run {run.run_id}",
                    lambda: self._client.search_logged_models(
                        experiment_ids=[run.experiment_id],
                        filter_string=f"source_run_id = '{run.run_id}'",
                    ),
                )
                if m.name == artifact_path and str(m.status).upper().endswith("READY")
            ]
            if found:
                newest = max(found, key=lambda m: m.creation_timestamp or 0)
                return str(newest.artifact_location), str(newest.model_id)
        files = self._call(
            f"list the artifacts of run {run.run_id}",
            lambda: self._client.list_artifacts(run.run_id, artifact_path),
        )
        if any(f.path.rsplit("/", 1)[-1] == "MLmodel" for f in files):  # MLflow 2 layout
            return f"{run.artifact_uri.rstrip('/')}/{artifact_path}", None
        raise NotFoundError(
            f"run {run.run_id} logged no model named {artifact_path!r}",
            hint="log one from the notebook: nbops.log_model(model)",
        )

    def promote(
        self,
        run_id: str,
        model_name: str,
        alias: str = CHALLENGER,
        *,
        artifact_path: str = MODEL_ARTIFACT,
        tags: Mapping[str, str] | None = None,
    ) -> int:
        """Register the run's model as a new version of ``model_name`` (created when missing),
        tagged with ``tags``, point ``alias`` at it and return the version number. Never sets
        ``champion`` (:mod:`nbops.deploy.promotion` does, on a PASS verdict)."""
        if alias.strip().lower() == CHAMPION:
            raise UsageError(
                "nbops does not set the 'champion' alias",
                hint="promote as challenger, then move 'champion' in the MLflow UI or registry",
            )
        if not alias.strip():
            raise UsageError("the alias is empty")
        run = self.get_run(run_id)
        source, model_id = self._logged_model(run, artifact_path)
        try:
            _retry(lambda: self._client.create_registered_model(model_name))
        except Exception as exc:
            if _error_code(exc) != "RESOURCE_ALREADY_EXISTS":
                raise self._error(f"register model {model_name!r}", exc) from exc
        extra: dict[str, Any] = {"model_id": model_id} if model_id else {}
        # the source is the model's artifact location, not models:/<id>: MLflow's registry
        # resolves models:/ URIs with the process-global tracking URI, not this client's
        version = self._call(
            f"create a version of model {model_name!r}",
            lambda: self._client.create_model_version(
                model_name,
                source,
                run_id=run.run_id,
                tags={"nbops.promoted_by": "nbops", **_tags_for_mlflow(tags or {})},
                **extra,
            ),
        )
        number = str(version.version)
        if model_id:  # what mlflow.register_model does: link the logged model to the version
            with contextlib.suppress(Exception):
                self._link_logged_model(model_id, model_name, number)
        self._call(
            f"set alias {alias!r} of model {model_name!r}",
            lambda: self._client.set_registered_model_alias(model_name, alias, number),
        )
        return int(number)

    def _link_logged_model(self, model_id: str, model_name: str, version: str) -> None:
        key = "mlflow.modelVersions"
        model = self._client.get_logged_model(model_id)
        links = json.loads(model.tags.get(key) or "[]")
        links.append({"name": model_name, "version": version})
        self._client.set_logged_model_tags(model_id, {key: json.dumps(links)})

    def aliases(self, model_name: str) -> dict[str, int]:
        """The aliases of ``model_name`` and their versions; empty when the model does not exist."""
        try:
            model = self._call(f"read model {model_name!r}",
                               lambda: self._client.get_registered_model(model_name))
        except NotFoundError:
            return {}
        return {str(k): int(v) for k, v in dict(model.aliases or {}).items()}

    def model_version(self, model_name: str, ref: str | int) -> tuple[int, str | None]:
        """(version, run id) of ``model_name``'s version ``ref``: a number or an alias."""
        text = str(ref).strip()
        if text.isdigit():
            entry = self._call(f"read version {text} of model {model_name!r}",
                               lambda: self._client.get_model_version(model_name, text))
        else:
            entry = self._call(f"read alias {text!r} of model {model_name!r}",
                               lambda: self._client.get_model_version_by_alias(model_name, text))
        return int(entry.version), (str(entry.run_id) if entry.run_id else None)

    def set_alias(self, model_name: str, alias: str, version: int) -> None:
        """Point ``alias`` (``champion`` too) of ``model_name`` at ``version``."""
        self._call(f"set alias {alias!r} of model {model_name!r}",
                   lambda: self._client.set_registered_model_alias(model_name, alias,
                                                                   str(version)))

    def set_version_tags(self, model_name: str, version: int, tags: Mapping[str, str]) -> None:
        """Set (or overwrite) tags on version ``version`` of ``model_name``."""
        for key, value in _tags_for_mlflow(tags).items():
            self._call(f"tag version {version} of model {model_name!r}",
                       partial(self._client.set_model_version_tag, model_name, str(version),
                               key, value))

    def champion(self, model_name: str) -> RunRecord | None:
        """The run that produced the ``champion`` version of ``model_name``; None when the
        model or the alias does not exist (or the version has no run)."""
        try:
            model = self._call(
                f"read model {model_name!r}",
                lambda: self._client.get_registered_model(model_name),
            )
        except NotFoundError:
            return None
        version = dict(model.aliases or {}).get(CHAMPION)
        if version is None:
            return None
        entry = self._call(
            f"read version {version} of model {model_name!r}",
            lambda: self._client.get_model_version(model_name, str(version)),
        )
        if not entry.run_id:
            return None
        return self.get_run(str(entry.run_id))

    def ui_command(self, port: int = 5000) -> list[str]:
        """``mlflow ui`` for this store, on 127.0.0.1 (run with the same Python as nbops)."""
        if re.match(r"^(https?|databricks)", self.tracking_uri):
            raise UsageError(
                f"the tracking store is a server ({self.tracking_uri}): open it in a browser"
            )
        argv = [sys.executable, "-m", "mlflow", "ui", "--backend-store-uri", self.tracking_uri]
        if self.artifact_root:
            argv += ["--default-artifact-root", self.artifact_root]
        return argv + ["--host", "127.0.0.1", "--port", str(int(port))]


TRACKERS = TrackerRegistry()
TRACKERS.register("mlflow", MlflowTracker)
