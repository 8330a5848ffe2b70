"""The team tracking server: MLflow's ``mlflow server`` on the project's store, with artifact
serving, for ``nbops tracking-server``.

Clients (``nbops run`` on laptops, Dask workers) then log to ``http://HOST:PORT``: runs, params
and metrics through the REST API, artifacts (the executed notebooks) uploaded and downloaded
through the server (``--serve-artifacts``), so no client needs the server's filesystem. New
experiments keep their artifacts under ``mlflow-artifacts:/`` (the server's destination folder);
an experiment created earlier on the local store keeps its ``file:`` folder, which only the
server's machine can write.

Everything a user can get wrong is checked here before the server starts, in nbops' words: a
port already taken, a store that cannot be opened, an artifacts path that is a file. MLflow's
server has no authentication: binding beyond loopback prints :func:`security_warning`.
"""

from __future__ import annotations

import ipaddress
import os
import socket
import sys
from pathlib import Path

from nbops.errors import NbopsError, UsageError
from nbops.run.tracking import (
    TRACKING_URI_ENV,
    _sqlite_path,
    check_store_uri,
    describe_store,
    mlflow_client,
    project_store_uri,
)

__all__ = [
    "artifacts_destination",
    "check_port",
    "client_uri",
    "is_loopback",
    "open_store",
    "security_warning",
    "server_command",
    "server_store_uri",
]

_SERVERS = ("http:", "https:", "databricks")


def server_store_uri(project_root: Path, store: str | None) -> str:
    """What the server keeps runs in: ``store``, else a database ``MLFLOW_TRACKING_URI``, else
    the project's ``.nbops/mlflow.db`` (a server URI in the environment is a client setting)."""
    if store and store.strip():
        uri = store.strip()
    else:
        uri = os.environ.get(TRACKING_URI_ENV, "").strip()
        if not uri or uri.lower().startswith(_SERVERS):
            return project_store_uri(project_root)
    if uri.lower().startswith(_SERVERS):
        raise UsageError(
            f"--store {uri} is a tracking server, not a store it can serve",
            hint="pass a database (sqlite:///path/mlflow.db, postgresql://...) or leave --store "
            "out for the project's .nbops/mlflow.db",
        )
    if "://" not in uri:  # a plain path to a SQLite file
        uri = "sqlite:///" + Path(os.path.abspath(uri)).as_posix()
    return uri


def artifacts_destination(project_root: Path, artifacts: str | None) -> str:
    """Where served artifacts go: ``artifacts`` (a folder or a URI such as ``s3://bucket``),
    else the project's ``.nbops/mlartifacts``, beside the default store's own artifacts."""
    if artifacts and "://" in artifacts:
        return artifacts
    folder = Path(os.path.abspath(artifacts)) if artifacts else (
        Path(project_root).resolve() / ".nbops" / "mlartifacts")
    if folder.exists() and not folder.is_dir():
        raise UsageError("--artifacts is a file, not a folder", path=_shown(folder),
                         hint="pass a folder (created when missing) or a URI such as s3://bucket")
    return folder.as_uri()


def is_loopback(host: str) -> bool:
    """Whether ``host`` only accepts connections from this machine."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a name: it may resolve to any interface


def security_warning(host: str) -> str | None:
    """The warning for a server bound beyond loopback (None on loopback)."""
    if is_loopback(host):
        return None
    return (
        f"warning: the tracking server listens on {host}: anyone who can reach this port can "
        "read, change and delete every run and artifact (MLflow's server has no authentication). "
        "Put it behind the company's authenticating proxy or VPN, or bind 127.0.0.1."
    )


def client_uri(host: str, port: int) -> str:
    """The URI clients use: the host as given, or this machine's name for a wildcard bind."""
    if host in ("0.0.0.0", "::", ""):
        host = socket.getfqdn()
    elif ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return f"http://{host}:{int(port)}"


def check_port(host: str, port: int) -> None:
    """Refuse a port that is out of range or already taken on ``host``, before MLflow starts."""
    if not 0 < port < 65536:
        raise UsageError(f"--port {port} is not a port", hint="pass a number from 1 to 65535")
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        if sys.platform != "win32":  # as servers bind: a port left in TIME_WAIT is free
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host.strip("[]"), port))
        except OSError as exc:
            raise UsageError(
                f"cannot listen on {host}:{port}: {exc.strerror or exc}",
                hint="another program (another tracking server?) uses it: pass --port N, or "
                "stop it; check --host names an address of this machine",
            ) from None


def open_store(uri: str) -> None:
    """Open the store once, as every nbops client does (a new SQLite store is created and
    migrated under nbops' lock), so an unreadable store is an error here, not a traceback in
    the server's log."""
    shown = _shown_store(uri)
    hint = "pass --store with a readable database, or leave it out for the project's store"
    db = _sqlite_path(uri)
    if db is not None and db.is_dir():
        raise UsageError(f"the tracking store {shown} is a folder, not a database file", hint=hint)
    check_store_uri(uri)  # MLflow installed, a scheme it knows
    try:
        if db is not None:
            db.parent.mkdir(parents=True, exist_ok=True)
        mlflow_client(uri).search_experiments(max_results=1)
    except Exception as exc:  # noqa: BLE001 - MLflow's and the driver's errors, as one message
        cause = exc.__cause__ if isinstance(exc, NbopsError) and exc.__cause__ else exc
        raise UsageError(f"cannot open the tracking store {shown}: {_reason(cause)}",
                         hint=hint) from None


def server_command(store_uri: str, artifacts: str, host: str, port: int) -> list[str]:
    """``mlflow server`` for ``store_uri``, serving artifacts from ``artifacts`` (run with the
    same Python as nbops; an argument list, no shell)."""
    return [
        sys.executable, "-m", "mlflow", "server",
        "--backend-store-uri", store_uri,
        "--serve-artifacts", "--artifacts-destination", artifacts,
        "--default-artifact-root", "mlflow-artifacts:/",
        "--host", host, "--port", str(int(port)),
    ]


def _reason(exc: BaseException) -> str:
    text = str(getattr(exc, "message", "") or exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def _shown(path: Path) -> str:
    try:
        return os.path.relpath(path)
    except ValueError:  # another drive (Windows)
        return path.name


def _shown_store(uri: str) -> str:
    db = _sqlite_path(uri)
    return _shown(db) if db is not None else describe_store(uri)
