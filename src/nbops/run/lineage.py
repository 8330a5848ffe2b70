"""Where a run came from: git state, the notebook's identity, tool versions, the environment.

:func:`lineage_tags` gives the tags nbops sets on every run:

``nbops.git.commit``
    ``HEAD``'s sha, or ``"none"`` outside a git repository or before its first commit.
``nbops.git.dirty``
    ``"true"`` when the run's code is not exactly a commit: a tracked file differs from
    ``HEAD`` (staged or not), the notebook itself is untracked, or there is no commit or no
    repository at all; ``"false"`` only for a clean checkout.
``nbops.git.branch``
    The current branch, ``"detached"`` for a detached ``HEAD``, ``"none"`` outside a repository.
``nbops.notebook.path``
    The notebook's path relative to the repository root (POSIX separators); the absolute path
    outside a repository.
``nbops.notebook.sha256``
    The notebook's *code identity* (:func:`notebook_sha256`): SHA-256 of the JSON list of its
    code cells' sources. Outputs, execution counts, metadata and markdown do not count, so
    re-running a notebook leaves it unchanged; the parameters cell's defaults do count (it is
    a code cell), the values a run injects do not (they are the run's params), and the cells
    papermill or nbops insert into an executed copy (tagged ``injected-parameters`` or
    ``nbops-run``) are left out, so an executed copy hashes like its source.
``nbops.version.nbops``, ``.papermill``, ``.python``, ``.mlflow``
    Versions (``"none"`` for a package that is not installed).

:func:`frozen_requirements` is the environment as ``name==version`` lines (what
``pip freeze`` prints for regular installs), read through ``importlib.metadata``; nbops logs
it as the artifact ``environment/requirements.txt``.

git runs as a subprocess with argument lists (never a shell) and ``GIT_OPTIONAL_LOCKS=0``,
so reading the state never takes the index lock from a concurrent git command. No git binary,
no repository, or a repository without commits is not an error: the tags say so.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import platform
import re
import subprocess
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

from nbops.errors import NotebookReadError, NotFoundError

__all__ = [
    "frozen_requirements",
    "git_root",
    "lineage_tags",
    "notebook_path_tag",
    "notebook_sha256",
]

_INSERTED_TAGS = frozenset({"injected-parameters", "nbops-run"})
_GIT_TIMEOUT = 15.0


def _git(args: list[str], cwd: Path) -> str | None:
    """``git args`` in ``cwd``: its stripped stdout, or None when git is missing or fails."""
    env = dict(os.environ, GIT_OPTIONAL_LOCKS="0", LC_ALL="C")
    try:
        proc = subprocess.run(
            ["git", *args],
            cwd=cwd,
            capture_output=True,
            text=True,
            encoding="utf-8",
            errors="replace",
            timeout=_GIT_TIMEOUT,
            env=env,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):  # no git binary, no such folder, timeout
        return None
    if proc.returncode != 0:
        return None
    return proc.stdout.strip()


def git_root(path: Path) -> Path | None:
    """The root of the git work tree holding ``path`` (a file or folder), or None."""
    path = Path(path).resolve()
    folder = path if path.is_dir() else path.parent
    if not folder.is_dir():
        return None
    top = _git(["rev-parse", "--show-toplevel"], folder)
    return Path(top).resolve() if top else None


def notebook_path_tag(notebook: Path) -> str:
    """``notebook`` relative to its repository root (POSIX), else its absolute POSIX path."""
    path = Path(notebook).resolve()
    root = git_root(path)
    if root is not None:
        try:
            return path.relative_to(root).as_posix()
        except ValueError:  # a symlink out of the work tree
            pass
    return path.as_posix()


def _source(cell: dict[str, Any]) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else str(source)


def notebook_sha256(notebook: Path) -> str:
    """SHA-256 (hex) of the JSON list of the notebook's code cell sources (see the module doc).

    Precisely: ``sha256(json.dumps(sources, ensure_ascii=False, separators=(",", ":"))
    .encode("utf-8"))`` where ``sources`` lists, in order, the source text of every code cell
    not tagged ``injected-parameters`` or ``nbops-run``.
    """
    path = Path(notebook)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise NotFoundError("no such notebook", path=path) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise NotebookReadError(f"cannot read the notebook: {exc}", path=path) from exc
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise NotebookReadError(f"not a notebook (bad JSON: {exc.msg})", path=path) from exc
    cells = data.get("cells") if isinstance(data, dict) else None
    if not isinstance(cells, list):
        raise NotebookReadError("not a notebook (no cells list)", path=path)
    sources = [
        _source(cell)
        for cell in cells
        if isinstance(cell, dict)
        and cell.get("cell_type") == "code"
        and not _INSERTED_TAGS.intersection((cell.get("metadata") or {}).get("tags") or ())
    ]
    payload = json.dumps(sources, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def _version(*names: str) -> str:
    for name in names:
        try:
            return metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return "none"


def _nbops_version() -> str:
    found = _version("nbops")
    if found != "none":
        return found
    from nbops._version import __version__

    return __version__


def _git_tags(notebook: Path) -> dict[str, str]:
    root = git_root(notebook)
    if root is None:
        return {"nbops.git.commit": "none", "nbops.git.dirty": "true", "nbops.git.branch": "none"}
    commit = _git(["rev-parse", "--verify", "--quiet", "HEAD^{commit}"], root)
    branch = _git(["symbolic-ref", "--quiet", "--short", "HEAD"], root) or "detached"
    changed = _git(["status", "--porcelain", "--untracked-files=no"], root)
    mine = _git(["status", "--porcelain", "--untracked-files=all", "--", str(notebook)], root)
    dirty = not commit or changed is None or bool(changed) or mine is None or bool(mine)
    return {
        "nbops.git.commit": commit or "none",
        "nbops.git.dirty": "true" if dirty else "false",
        "nbops.git.branch": branch,
    }


def lineage_tags(notebook: Path) -> dict[str, str]:
    """The lineage tags of a run of ``notebook`` (listed in the module docstring)."""
    path = Path(notebook).resolve()
    tags = {
        "nbops.notebook.sha256": notebook_sha256(path),  # first: a missing notebook raises
        **_git_tags(path),
        "nbops.notebook.path": notebook_path_tag(path),
        "nbops.version.nbops": _nbops_version(),
        "nbops.version.papermill": _version("papermill"),
        "nbops.version.python": platform.python_version(),
        "nbops.version.mlflow": _version("mlflow", "mlflow-skinny"),
    }
    return tags


def frozen_requirements() -> str:
    """Installed distributions as sorted ``name==version`` lines (newline-terminated).

    Read once per process and ``sys.path`` (a sweep's runs share it; ~70 ms each otherwise).

    Read with ``importlib.metadata`` (no subprocess, no pip needed): one line per
    distribution, the first found on ``sys.path`` winning like an import would, sorted by
    normalized name. Unlike ``pip freeze``, editable and VCS installs appear as plain
    ``name==version`` too.
    """
    return _frozen(tuple(sys.path))


@functools.lru_cache(maxsize=4)
def _frozen(path: tuple[str, ...]) -> str:
    lines: dict[str, str] = {}
    for dist in metadata.distributions(path=list(path)):
        try:
            name = dist.metadata["Name"]
        except KeyError:
            continue
        if not name:
            continue
        key = re.sub(r"[-_.]+", "-", name).lower()
        if key not in lines:
            lines[key] = f"{name}=={dist.version}"
    return "".join(lines[key] + "\n" for key in sorted(lines))
