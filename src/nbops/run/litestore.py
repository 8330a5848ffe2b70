"""A light write path into an existing MLflow SQLite store: the recorder's calls without MLflow.

Importing MLflow and opening its SQLAlchemy store costs ~1.8 s of CPU, more than a short
notebook takes to run; the recorder (:mod:`nbops.run.recorder`) answers a run's calls with
:class:`LiteStore` instead, which writes the rows MLflow's ``SqlAlchemyStore`` writes for the
same calls (``create_run``, ``log_batch`` with ``latest_metrics``, ``set_terminated``) with the
standard library's ``sqlite3``, and copies artifacts where MLflow's ``LocalArtifactRepository``
puts them. It serves only what it knows to be the same: a ``sqlite:///`` store that exists, at a
schema revision of :data:`KNOWN_REVISIONS`, an existing active experiment of the default
workspace whose artifact location is a local path or ``file:`` URI, names and values MLflow
accepts. Anything else raises :class:`Fallback` before writing anything (each call writes in
one ``BEGIN IMMEDIATE`` transaction), and the recorder answers that call and every later one
with MLflow itself.
"""

from __future__ import annotations

import contextlib
import math
import os
import posixpath
import re
import shutil
import socket
import sqlite3
import tempfile
import time
import urllib.parse
import urllib.request
import uuid
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from nbops.errors import NbopsError, NotFoundError, UsageError

__all__ = ["KNOWN_REVISIONS", "Fallback", "LiteStore"]

# alembic revisions whose tables this module writes exactly as MLflow does (verified: 3.17.2)
KNOWN_REVISIONS = ("dc11669786a5",)

_NAME = re.compile(r"^[/\w.\- :]*$")  # MLflow's param, metric and tag names (POSIX)
_KEY_LIMIT = 250
_PARAM_LIMIT = 6000
_TAG_LIMIT = 8000
_MAX_FLOAT = 1.7976931348623157e308  # MLflow stores +-inf as the largest float
_RUN_ID = re.compile(r"[0-9a-f]{32}")
_END_STATUSES = ("FINISHED", "FAILED", "KILLED")
_TIMEOUT_S = 20.0  # MLflow's engine: PRAGMA busy_timeout = 20000
_WORKSPACE = "default"
_RUN_NAME_TAG = "mlflow.runName"
_USER_TAG = "mlflow.user"


class Fallback(Exception):
    """This call is for MLflow: the light store does not do it, and wrote nothing."""


def _now_ms() -> int:
    return int(time.time() * 1000)


def _valid_name(name: object) -> bool:
    """MLflow accepts ``name`` as a param, metric or tag key (``mlflow.utils.validation``)."""
    if not isinstance(name, str) or len(name) > _KEY_LIMIT or not _NAME.match(name):
        return False
    norm = posixpath.normpath(name)
    return not (norm != name or norm == "." or norm.startswith(("..", "/")))


def _join(prefix: str, suffix: str) -> str:
    """MLflow's ``_join_posixpaths_and_append_absolute_suffixes``."""
    if not prefix:
        return suffix
    return posixpath.join(prefix, suffix.lstrip("/"))


def _run_artifact_uri(location: str, run_id: str) -> tuple[str, Path]:
    """MLflow's ``append_to_uri_path(location, run_id, "artifacts")`` and the local folder it
    names; a location that is not a local path or ``file:`` URI is MLflow's."""
    parsed = urllib.parse.urlparse(location)
    if parsed.scheme not in ("", "file") or parsed.netloc or parsed.query or not location:
        raise Fallback(f"artifact location {location!r} is not a local folder")
    path = _join(_join("", run_id), "artifacts")
    if not parsed.scheme:
        uri = _join(location, path)
        folder = urllib.request.url2pathname(uri)
    else:
        if not parsed.path.startswith("/"):
            raise Fallback(f"artifact location {location!r} is relative")
        uri = urllib.parse.urlunparse(parsed._replace(path=_join(parsed.path, path)))
        folder = urllib.request.url2pathname(urllib.parse.urlparse(uri).path)
    if not os.path.isabs(folder):
        raise Fallback(f"artifact location {location!r} is relative")
    return uri, Path(folder)


def _safe_relative(artifact_path: str | None) -> str | None:
    """``artifact_path`` when it stays inside the run's folder, else MLflow decides."""
    if artifact_path is None or artifact_path == "":
        return None
    norm = posixpath.normpath(artifact_path)
    if (os.path.isabs(artifact_path) or norm.startswith("..") or "\\" in artifact_path
            or norm == "."):
        raise Fallback(f"artifact path {artifact_path!r}")
    return norm


def _copy_file(source: Path, folder: Path) -> None:
    """``source`` into ``folder`` under its name with its mode and times, through a hidden
    temporary file and an atomic replace (what ``LocalArtifactRepository.log_artifact`` does)."""
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / source.name
    with contextlib.suppress(FileNotFoundError):
        if os.path.samefile(source, target):
            return
    handle, temp = tempfile.mkstemp(dir=folder, prefix=".mlflow-artifact-")
    os.close(handle)
    try:
        shutil.copyfile(source, temp)
        shutil.copystat(source, temp)
        os.replace(temp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.remove(temp)
        raise


def _copy_tree(source: Path, folder: Path) -> None:
    """``source``'s files into ``folder`` (MLflow's ``shutil_copytree_without_file_permissions``:
    new folders get the default mode, files their own mode and times)."""
    folder.mkdir(parents=True, exist_ok=True)
    for root, dirs, files in os.walk(source):
        target = folder / os.path.relpath(root, source)
        for name in dirs:
            (target / name).mkdir(exist_ok=True)
        for name in files:
            shutil.copy2(os.path.join(root, name), target / name)


class LiteStore:
    """The recorder's tracker calls on an MLflow SQLite store, with ``sqlite3``.

    Opening checks what the light path needs (the database exists, its schema revision is
    known, no workspace is configured, no migration was left half-done) and raises
    :class:`Fallback` otherwise; every method raises it for what it leaves to MLflow.
    """

    def __init__(self, uri: str) -> None:
        if not uri.startswith("sqlite:///") or "?" in uri:
            raise Fallback(f"{uri!r} is not a local SQLite store")
        raw = uri[len("sqlite:///"):]
        if not raw or raw == ":memory:":
            raise Fallback("an in-memory store")
        db = Path(raw)
        if not db.is_file():
            raise Fallback("the store does not exist yet: MLflow creates it")
        for variable in ("MLFLOW_ENABLE_WORKSPACES", "MLFLOW_WORKSPACE",
                         "MLFLOW_ACTIVE_MODEL_ID", "_MLFLOW_ACTIVE_MODEL_ID"):
            if os.environ.get(variable, "").strip().lower() not in ("", "false", "0"):
                raise Fallback(f"{variable} is set")
        self.tracking_uri = uri
        try:
            self._db = sqlite3.connect(db, timeout=_TIMEOUT_S, isolation_level=None,
                                       check_same_thread=False)
        except sqlite3.Error as exc:
            raise Fallback(f"cannot open {db.name}: {exc}") from exc
        try:
            self._db.execute("PRAGMA foreign_keys = ON")
            tables = {row[0] for row in self._db.execute(
                "SELECT name FROM sqlite_master WHERE type='table'")}
            revisions = [row[0] for row in self._db.execute(
                "SELECT version_num FROM alembic_version")]
        except sqlite3.Error as exc:
            self.close()
            raise Fallback(f"cannot read {db.name}: {exc}") from exc
        if any(name.startswith("_alembic_tmp_") for name in tables):
            self.close()
            raise Fallback("a migration was interrupted: MLflow's open clears it")
        if len(revisions) != 1 or revisions[0] not in KNOWN_REVISIONS:
            self.close()
            raise Fallback(f"schema revision {revisions} is not one this module knows")

    def close(self) -> None:
        with contextlib.suppress(sqlite3.Error):
            self._db.close()

    # ----------------------------------------------------------------- plumbing

    @contextlib.contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction, taken at once (``BEGIN IMMEDIATE``, waiting for another
        writer like MLflow's engine); any SQLite failure rolls it back into a Fallback."""
        try:
            self._db.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            raise Fallback(f"cannot write: {exc}") from exc
        try:
            yield self._db
            self._db.execute("COMMIT")
        except BaseException as exc:
            with contextlib.suppress(sqlite3.Error):
                self._db.execute("ROLLBACK")
            if isinstance(exc, sqlite3.Error):
                raise Fallback(f"write failed: {exc}") from exc
            raise

    def _read(self, sql: str, args: Sequence[Any] = ()) -> list[Any]:
        try:
            return self._db.execute(sql, args).fetchall()
        except sqlite3.Error as exc:
            raise Fallback(f"read failed: {exc}") from exc

    @staticmethod
    def _active_run(db: sqlite3.Connection, run_id: str) -> tuple[int, str]:
        """The run's experiment id and artifact URI; a missing or deleted run is MLflow's
        (its error says which)."""
        if not isinstance(run_id, str) or not _RUN_ID.fullmatch(run_id):
            raise Fallback(f"run id {run_id!r}")
        rows = db.execute("SELECT experiment_id, artifact_uri, lifecycle_stage FROM runs "
                          "WHERE run_uuid = ?", (run_id,)).fetchall()
        if len(rows) != 1 or rows[0][2] != "active":
            raise Fallback(f"run {run_id} is not an active run")
        return int(rows[0][0]), str(rows[0][1])

    @staticmethod
    def _set_tags(db: sqlite3.Connection, run_id: str, tags: Mapping[str, str]) -> None:
        for key, value in tags.items():
            if key == _RUN_NAME_TAG:  # MLflow renames the run too: its business
                raise Fallback("renaming a run")
            db.execute("INSERT INTO tags (key, value, run_uuid) VALUES (?, ?, ?) "
                       "ON CONFLICT (key, run_uuid) DO UPDATE SET value = excluded.value",
                       (key, value, run_id))

    @staticmethod
    def _check_tags(tags: Mapping[str, str]) -> None:
        for key, value in tags.items():
            if not _valid_name(key) or not isinstance(value, str) or len(value) > _TAG_LIMIT:
                raise Fallback(f"tag {key!r}")

    @staticmethod
    def _check_params(params: Mapping[str, str]) -> None:
        for key, value in params.items():
            if not _valid_name(key) or not isinstance(value, str) or len(value) > _PARAM_LIMIT:
                raise Fallback(f"param {key!r}")

    @staticmethod
    def _log_params(db: sqlite3.Connection, run_id: str, params: Mapping[str, str]) -> None:
        """Params not logged yet; one logged before with another value is MLflow's error."""
        if not params:
            return
        existing = dict(db.execute("SELECT key, value FROM params WHERE run_uuid = ?",
                                   (run_id,)).fetchall())
        for key, value in params.items():
            if key in existing:
                if existing[key] != value:
                    raise Fallback(f"param {key!r} changes value: MLflow's error")
                continue
            db.execute("INSERT INTO params (key, value, run_uuid) VALUES (?, ?, ?)",
                       (key, value, run_id))

    # ----------------------------------------------------------------- the tracker's calls

    def call(self, method: str, args: Sequence[Any], kwargs: Mapping[str, Any]) -> Any:
        """The recorder's request ``method`` (its JSON-ready result); Fallback for the ones
        MLflow answers (``log_model_file``, anything new)."""
        if method == "open":
            if args and args[0] != self.tracking_uri:
                raise Fallback("another store")
            return None
        if method == "end_orphaned_runs":
            return self.end_orphaned_runs(*args, **kwargs)
        if method == "start_run":
            return self.start_run(*args, **kwargs)
        if method == "log_batch":
            self.log_batch(args[0], [tuple(m) for m in args[1]], *args[2:], **kwargs)
            return None
        if method == "log_artifact":
            self.log_artifact(args[0], Path(args[1]), *args[2:], **kwargs)
            return None
        if method == "set_tags":
            self.set_tags(*args, **kwargs)
            return None
        if method == "end_run":
            self.end_run(*args, **kwargs)
            return None
        if method == "metrics":
            return self.metrics(*args, **kwargs)
        raise Fallback(f"{method} is MLflow's")

    def _experiment(self, name: str) -> tuple[int, str]:
        """The id and artifact location of the active experiment ``name``; a missing one
        (MLflow creates it) or a deleted one (MLflow says so) is MLflow's."""
        rows = self._read("SELECT experiment_id, artifact_location, lifecycle_stage "
                          "FROM experiments WHERE name = ? AND workspace = ?",
                          (name, _WORKSPACE))
        if len(rows) != 1 or rows[0][2] != "active" or rows[0][1] is None:
            raise Fallback(f"experiment {name!r} is not an active experiment of this store")
        return int(rows[0][0]), str(rows[0][1])

    def start_run(self, experiment: str, name: str, params: Mapping[str, Any],
                  tags: Mapping[str, str], parent_run_id: str | None = None, *,
                  start_time: float | None = None) -> str:
        """``MlflowTracker.start_run``: the run, its tags and params in one transaction."""
        from nbops.run.tracking import run_values

        values, all_tags = run_values(params, tags, parent_run_id)
        name_tag = all_tags.get(_RUN_NAME_TAG)
        if not name or (name_tag is not None and name_tag != name):
            raise Fallback("a run without a name, or named twice: MLflow decides")
        self._check_tags(all_tags)
        self._check_params(values)
        all_tags.setdefault(_RUN_NAME_TAG, name)
        started = (None if start_time is None else int(start_time * 1000)) or _now_ms()
        experiment_id, location = self._experiment(experiment)
        run_id = uuid.uuid4().hex
        artifact_uri, _ = _run_artifact_uri(location, run_id)
        with self._write() as db:
            row = db.execute("SELECT lifecycle_stage FROM experiments WHERE experiment_id = ?",
                             (experiment_id,)).fetchone()
            if row is None or row[0] != "active":
                raise Fallback(f"experiment {experiment!r} changed")
            db.execute(
                "INSERT INTO runs (run_uuid, name, source_type, source_name, entry_point_name, "
                "user_id, status, start_time, end_time, source_version, lifecycle_stage, "
                "artifact_uri, experiment_id, deleted_time) "
                "VALUES (?, ?, 'UNKNOWN', '', '', ?, 'RUNNING', ?, NULL, '', 'active', ?, ?, "
                "NULL)",
                (run_id, name, all_tags.get(_USER_TAG, "unknown"), started, artifact_uri,
                 experiment_id),
            )
            db.executemany("INSERT INTO tags (key, value, run_uuid) VALUES (?, ?, ?)",
                           [(k, v, run_id) for k, v in all_tags.items()])
            db.executemany("INSERT INTO params (key, value, run_uuid) VALUES (?, ?, ?)",
                           [(k, v, run_id) for k, v in values.items()])
        return run_id

    def log_batch(self, run_id: str, metrics: Sequence[tuple[str, float, int, int]] = (),
                  params: Mapping[str, str] | None = None) -> None:
        """``MlflowTracker.log_batch``: metric history, ``latest_metrics`` (greatest step, then
        timestamp, then value, NaN counting as 0) and new params, in one transaction."""
        from nbops.run.tracking import _params_for_mlflow as params_for_mlflow

        now = _now_ms()
        rows: list[tuple[str, float, int, int, int]] = []  # key, value, timestamp, step, is_nan
        for key, value, step, ts in metrics:
            number = float(value)
            timestamp = ts or now
            if (not _valid_name(key) or isinstance(step, bool) or not isinstance(step, int)
                    or isinstance(timestamp, bool) or not isinstance(timestamp, int)
                    or timestamp < 0):
                raise Fallback(f"metric {key!r}")
            is_nan = math.isnan(number)
            if is_nan:
                number = 0.0
            elif math.isinf(number):
                number = _MAX_FLOAT if number > 0 else -_MAX_FLOAT
            rows.append((key, number, timestamp, step, int(is_nan)))
        values, _ = params_for_mlflow(params or {})
        self._check_params(values)
        if not rows and not values:
            return
        with self._write() as db:
            self._active_run(db, run_id)
            self._log_params(db, run_id, values)
            db.executemany(
                "INSERT OR IGNORE INTO metrics (key, value, timestamp, run_uuid, step, is_nan) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                [(k, v, ts, run_id, step, nan) for k, v, ts, step, nan in rows])
            latest: dict[str, tuple[int, int, float, int]] = {}  # key: step, ts, value, is_nan
            for key, value, timestamp, step, nan_flag in rows:
                candidate = (step, timestamp, value, nan_flag)
                best = latest.get(key)
                if best is None:
                    found = db.execute("SELECT step, timestamp, value, is_nan FROM latest_metrics"
                                       " WHERE run_uuid = ? AND key = ?", (run_id, key)).fetchone()
                    best = None if found is None else (int(found[0]), int(found[1] or 0),
                                                       float(found[2]), int(found[3]))
                    if best is None:
                        latest[key] = candidate
                        continue
                if candidate[:3] > best[:3]:
                    latest[key] = candidate
                else:
                    latest[key] = best
            db.executemany(
                "INSERT INTO latest_metrics (key, value, timestamp, step, is_nan, run_uuid) "
                "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (key, run_uuid) DO UPDATE SET "
                "value = excluded.value, timestamp = excluded.timestamp, step = excluded.step, "
                "is_nan = excluded.is_nan",
                [(k, v, ts, step, nan, run_id) for k, (step, ts, v, nan) in latest.items()])

    def log_artifact(self, run_id: str, path: Path, artifact_path: str | None = None) -> None:
        """``MlflowTracker.log_artifact``: the file (or folder's files) into the run's local
        artifact folder."""
        path = Path(path)
        if not path.exists():
            raise NotFoundError("no such file to log as an artifact", path=path)
        relative = _safe_relative(artifact_path)
        rows = self._read("SELECT artifact_uri, lifecycle_stage FROM runs WHERE run_uuid = ?",
                          (run_id,))
        if len(rows) != 1 or rows[0][1] != "active" or not rows[0][0]:
            raise Fallback(f"run {run_id} is not an active run")
        uri = str(rows[0][0])
        parsed = urllib.parse.urlparse(uri)
        if parsed.scheme not in ("", "file") or parsed.netloc or parsed.query:
            raise Fallback(f"artifact URI {uri!r} is not a local folder")
        folder = Path(urllib.request.url2pathname(parsed.path))
        if not folder.is_absolute():
            raise Fallback(f"artifact URI {uri!r} is relative")
        if relative is not None:
            folder = folder / relative
        try:
            if path.is_dir():
                _copy_tree(path, folder)
            else:
                _copy_file(path, folder)
        except OSError as exc:
            raise Fallback(f"copy failed: {exc}") from exc

    def set_tags(self, run_id: str, tags: Mapping[str, str]) -> None:
        """``MlflowTracker.set_tags``: set or replace each tag, in one transaction."""
        from nbops.run.tracking import _tags_for_mlflow as tags_for_mlflow

        values = tags_for_mlflow(tags)
        self._check_tags(values)
        if not values:
            return
        with self._write() as db:
            self._active_run(db, run_id)
            self._set_tags(db, run_id, values)

    def end_run(self, run_id: str, status: str) -> None:
        """``MlflowTracker.end_run``: the status and the end time, now."""
        if status not in _END_STATUSES:
            raise UsageError(f"a run ends FINISHED, FAILED or KILLED, not {status!r}")
        with self._write() as db:
            self._active_run(db, run_id)
            db.execute("UPDATE runs SET status = ?, end_time = ? WHERE run_uuid = ?",
                       (status, _now_ms(), run_id))

    def metrics(self, run_id: str) -> dict[str, float]:
        """The run's latest metric values (NaN where MLflow says NaN)."""
        if not isinstance(run_id, str) or not _RUN_ID.fullmatch(run_id):
            raise Fallback(f"run id {run_id!r}")
        if not self._read("SELECT 1 FROM runs WHERE run_uuid = ?", (run_id,)):
            raise Fallback(f"no run {run_id}")
        rows = self._read("SELECT key, value, is_nan FROM latest_metrics WHERE run_uuid = ?",
                          (run_id,))
        return {str(k): math.nan if nan else float(v) for k, v, nan in rows}

    def _tags(self, run_id: str) -> dict[str, str]:
        return {str(k): str(v) for k, v in self._read(
            "SELECT key, value FROM tags WHERE run_uuid = ?", (run_id,))}

    def _status(self, run_id: str) -> str:
        rows = self._read("SELECT status FROM runs WHERE run_uuid = ?", (run_id,))
        if not rows:
            raise Fallback(f"no run {run_id}")
        return str(rows[0][0])

    def end_orphaned_runs(self, experiment: str | None = None) -> list[str]:
        """``MlflowTracker.end_orphaned_runs``: each RUNNING run of this host (active runs of
        active experiments, ``experiment`` None: all) whose owner process is gone, ended KILLED
        with the reason tag; the ids of the runs ended."""
        import logging

        from nbops.run.journal import KILLED_REASON_TAG, OWNER_HOST_TAG, OWNER_LOCK_TAG, orphaned

        scope = ("" if experiment is None else " AND e.name = ?")
        host = socket.gethostname().replace("'", "")
        found = self._read(
            "SELECT r.run_uuid FROM runs r JOIN experiments e ON e.experiment_id = "
            "r.experiment_id JOIN tags t ON t.run_uuid = r.run_uuid AND t.key = ? "
            "WHERE e.lifecycle_stage = 'active' AND e.workspace = ? AND r.lifecycle_stage = "
            f"'active' AND r.status = 'RUNNING' AND t.value = ?{scope} "
            "ORDER BY r.start_time DESC, r.run_uuid LIMIT 1000",
            (OWNER_HOST_TAG, _WORKSPACE, host, *(() if experiment is None else (experiment,))),
        )
        ended: list[str] = []
        for (run_id,) in found:
            tags = self._tags(run_id)
            if OWNER_LOCK_TAG not in tags:
                continue
            try:
                with orphaned(tags) as reason:
                    if reason is not None and self._status(run_id) == "RUNNING":
                        self.set_tags(run_id, {KILLED_REASON_TAG: reason})
                        self.end_run(run_id, "KILLED")
                if self._status(run_id) == "KILLED":
                    ended.append(str(run_id))
            except NbopsError as exc:  # as MlflowTracker.end_orphans: the others still end
                logging.getLogger(__name__).warning("nbops: cannot end run %s: %s", run_id, exc)
        return ended
