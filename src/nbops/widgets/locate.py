"""Find the notebook file that the running kernel executes, so ``panel()`` needs no argument.

The first source that names an existing ``.ipynb`` file wins; a source that names a missing
file (a notebook renamed since the kernel started) is skipped and reported in the error:

1. the ``path`` argument (a missing file is an error at once, nothing else is tried);
2. ``__vsc_ipynb_file__`` in the user namespace: VS Code sets it in every notebook kernel;
3. ``PAPERMILL_INPUT_PATH`` in the user namespace: papermill injects it as a notebook
   *parameter* (not an environment variable) with ``--inject-input-path``/``--inject-paths``;
4. ``jupyter_session`` in the kernel's connection file: jupyter_client writes it there when a
   Jupyter server starts the kernel with ``JPY_SESSION_NAME`` set;
5. ``JPY_SESSION_NAME`` in the environment: jupyter_server >= 2.0.7 sets the full path (2.0.0
   to 2.0.6 the path relative to the server root, tried here beside the working directory);
6. the running Jupyter servers: each ``jpserver-*.json`` / ``nbserver-*.json`` in the runtime
   directory gives a URL and a token; ``GET /api/sessions`` (stdlib urllib, no proxy, short
   timeout) lists the sessions, matched on this kernel's id from its connection file name
   ``kernel-<id>.json``. This one also follows renames made after the kernel started.

The namespace comes before the environment because the environment is inherited: a notebook
run by papermill from inside another notebook's kernel carries the parent's
``JPY_SESSION_NAME``. The panel shows which source it used, so a wrong guess is visible.
"""

from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.request import ProxyHandler, Request, build_opener

from nbops.errors import UsageError

__all__ = ["Located", "find_notebook", "kernel_id_from_connection_file"]

HINT = 'pass the path: panel("path/to/notebook.ipynb")'

_KERNEL_FILE = re.compile(r"^kernel-(?P<id>[0-9A-Za-z-]+)\.json$")


@dataclass(frozen=True)
class Located:
    """A notebook file found for this kernel and the source that named it."""

    path: Path
    source: str
    tried: tuple[str, ...] = field(default=())


def kernel_id_from_connection_file(connection_file: str | Path) -> str | None:
    """The kernel id in a Jupyter connection file name ``kernel-<id>.json``."""
    match = _KERNEL_FILE.match(Path(connection_file).name)
    return match.group("id") if match else None


def _user_ns() -> Mapping[str, Any]:
    try:
        from IPython import get_ipython
    except ImportError:
        return {}
    shell = get_ipython()
    return shell.user_ns if shell is not None else {}


def _connection_file() -> Path | None:
    # a running ipykernel has imported its app; importing it here would only add side effects
    if "ipykernel.kernelapp" not in sys.modules:
        return None
    try:
        from ipykernel.connect import get_connection_file

        return Path(get_connection_file())
    except Exception:  # noqa: BLE001 - an ipykernel imported as a library, not running: no file
        return None


def _runtime_dir() -> Path | None:
    try:
        from jupyter_core.paths import jupyter_runtime_dir

        return Path(jupyter_runtime_dir())
    except Exception:  # noqa: BLE001 - no Jupyter runtime folder here: no server to find
        return None


def _candidates(value: str, cwd: Path) -> list[Path]:
    """Where a path from a source may be: as given (relative to the working directory), and
    for a relative one also its file name in the working directory (the kernel starts in the
    notebook's folder, while old jupyter_server paths are relative to the server root)."""
    path = Path(value).expanduser()
    if path.is_absolute():
        return [path]
    return [cwd / path, cwd / path.name]


def _usable(value: object, cwd: Path) -> tuple[Path | None, str]:
    """The existing notebook ``value`` names, or None and why not."""
    if not isinstance(value, str) or not value.strip():
        return None, "not set"
    if not value.endswith(".ipynb"):
        return None, f"{value!r} is not an .ipynb file"
    for candidate in _candidates(value, cwd):
        if candidate.is_file():
            return candidate.resolve(), ""
    return None, f"{value!r} does not exist (renamed or moved since the kernel started?)"


def _connection_session(connection_file: Path | None) -> str | None:
    if connection_file is None:
        return None
    try:
        data = json.loads(connection_file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    value = data.get("jupyter_session") if isinstance(data, dict) else None
    return value if isinstance(value, str) else None


def _pid_alive(pid: object) -> bool:
    if not isinstance(pid, int) or pid <= 0:
        return False
    if sys.platform == "win32":
        return True  # os.kill(pid, 0) would terminate the process on Windows
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except OSError:
        return False
    return True


def _server_infos(runtime_dir: Path) -> Iterator[dict[str, Any]]:
    files = sorted(runtime_dir.glob("jpserver-*.json")) + sorted(
        runtime_dir.glob("nbserver-*.json")
    )
    for file in files[:20]:
        try:
            info = json.loads(file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if (
            isinstance(info, dict)
            and isinstance(info.get("url"), str)
            and _pid_alive(info.get("pid"))
        ):
            yield info


def _sessions(info: Mapping[str, Any], timeout: float) -> list[dict[str, Any]]:
    url = str(info["url"])
    if not url.startswith(("http://", "https://")):
        return []
    request = Request(url.rstrip("/") + "/api/sessions")
    token = info.get("token")
    if isinstance(token, str) and token:
        request.add_header("Authorization", f"token {token}")
    # no proxy: the token must go to the server itself and nowhere else
    opener = build_opener(ProxyHandler({}))
    try:
        with opener.open(request, timeout=timeout) as response:
            data = json.loads(response.read(5_000_000))
    except (OSError, ValueError):  # refused, timed out, 403 (password only), not JSON
        return []
    return [s for s in data if isinstance(s, dict)] if isinstance(data, list) else []


def _from_servers(
    kernel_id: str, runtime_dirs: list[Path], timeout: float
) -> tuple[Path | None, str]:
    reasons: list[str] = []
    infos = [info for folder in runtime_dirs for info in _server_infos(folder)]
    for info in infos:
        for session in _sessions(info, timeout):
            kernel = session.get("kernel")
            if not isinstance(kernel, dict) or kernel.get("id") != kernel_id:
                continue
            notebook = session.get("notebook")
            api_path = session.get("path") or (
                notebook.get("path") if isinstance(notebook, dict) else None
            )
            root = info.get("root_dir") or info.get("notebook_dir")
            if not isinstance(api_path, str) or not isinstance(root, str):
                continue
            found, why = _usable(str(Path(root, *api_path.split("/"))), Path(root))
            if found is not None:
                return found, ""
            reasons.append(why)
    return None, "; ".join(reasons) or "no running server has a session for this kernel"


def find_notebook(
    path: str | os.PathLike[str] | None = None,
    *,
    user_ns: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
    connection_file: str | Path | None = None,
    runtime_dir: str | Path | None = None,
    timeout: float = 2.0,
) -> Located:
    """The notebook this kernel runs (see the module docstring for the order).

    The keyword arguments replace what is read from the running kernel, for tests.
    Raises :class:`~nbops.errors.UsageError` with a hint when no source names a notebook.
    """
    cwd = Path.cwd()
    if path is not None:
        given = Path(path).expanduser()
        if not given.is_file():
            what = "is a folder, not a notebook" if given.is_dir() else "does not exist"
            raise UsageError(f"{given} {what}", path=given, hint=HINT)
        return Located(given.resolve(), "argument")

    ns = _user_ns() if user_ns is None else user_ns
    env = os.environ if environ is None else environ
    conn = _connection_file() if connection_file is None else Path(connection_file)
    tried: list[str] = []

    def attempt(source: str, value: object) -> Located | None:
        found, why = _usable(value, cwd)
        if found is not None:
            return Located(found, source, tuple(tried))
        tried.append(f"{source}: {why}")
        return None

    for source, value in (
        ("__vsc_ipynb_file__ (VS Code)", ns.get("__vsc_ipynb_file__")),
        ("PAPERMILL_INPUT_PATH (papermill parameter)", ns.get("PAPERMILL_INPUT_PATH")),
        ("jupyter_session (kernel connection file)", _connection_session(conn)),
        ("JPY_SESSION_NAME (environment)", env.get("JPY_SESSION_NAME")),
    ):
        located = attempt(source, value)
        if located is not None:
            return located

    source = "Jupyter server sessions"
    kernel_id = kernel_id_from_connection_file(conn) if conn is not None else None
    runtime = _runtime_dir() if runtime_dir is None else Path(runtime_dir)
    # the server that started the kernel wrote its connection file into its runtime folder
    folders = list(dict.fromkeys(p for p in (runtime, conn and conn.parent) if p and p.is_dir()))
    if kernel_id is None:
        tried.append(f"{source}: not running in a Jupyter kernel")
    elif not folders:
        tried.append(f"{source}: no Jupyter runtime directory")
    else:
        found, why = _from_servers(kernel_id, folders, timeout)
        if found is not None:
            return Located(found, source, tuple(tried))
        tried.append(f"{source}: {why}")
    raise UsageError(
        "cannot tell which notebook this kernel runs (" + "; ".join(tried) + ")", hint=HINT
    )
