"""The server's worker thread pool: lint, fix and modularize requests off the event loop.

Parsing a 50 MB body, linting (ruff runs as a subprocess, black and nbops' rules in-process)
and serialising the answer all happen in worker threads, so the server keeps answering other
requests meanwhile. Linters are kept in a small LRU keyed by config and selection, because a
warm :class:`~nbops.lint.engine.Linter` (rules, black's memo) is much faster than a new one.
A linter is not thread-safe, so each one has a lock.
"""

from __future__ import annotations

import asyncio
import functools
import json
import math
import os
import re
import threading
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from nbops import api_types
from nbops._version import version
from nbops.config import load_config
from nbops.core.notebook import Notebook, notebook_from_dict, read_notebook
from nbops.errors import AccessError, ConflictError, NbopsError, NotebookReadError, relative_text
from nbops.lint.engine import FileReport, Linter
from nbops.lint.engine import _unreadable as unreadable_report  # the CLI's own NB001 report
from nbops.lint.report import summary
from nbops.server.requests import FixRequest, LintRequest, ModularizeRequest, Target

__all__ = ["WorkerPool", "public_path", "public_text", "relative_text"]

T = TypeVar("T")

BACKUP_DIR = ".nbops_backup"  # next to the notebook, as `nbops fix` does


def public_path(root: Path, path: str | Path | None) -> str | None:
    """``path`` relative to the server root (POSIX), or None when it lies outside it."""
    if path is None:
        return None
    try:
        return Path(path).resolve().relative_to(root).as_posix()
    except (ValueError, OSError, RuntimeError):
        return None


# an absolute POSIX path in a text: a "/" that no word, URL ("https://") or path part precedes
_ABSOLUTE = re.compile(r"(?<![\w.~:/\\%+-])/[^\s'\"`<>|;,()\[\]{}]+")
_FILE_URI = re.compile(r"\bfile://(?=/)")
_SQLITE_URI = re.compile(r"\bsqlite:///(/[^\s'\"`<>|;,()\[\]{}]+)")  # sqlite:////abs/x.db


@functools.lru_cache(maxsize=1)
def _top_level() -> frozenset[str]:
    """The names in the file system's root (``tmp``, ``home``, ``usr``...)."""
    try:
        return frozenset(os.listdir("/"))
    except OSError:
        return frozenset()


def _outside(match: re.Match[str]) -> str:
    found = match.group(0)
    path = found.rstrip(".:")
    if path[1:].split("/", 1)[0] not in _top_level():
        return found  # an API route (/nbops/lint), a ratio: not a file of this machine
    name = path.rstrip("/").rsplit("/", 1)[-1]
    return f"{name} (outside the server root){found[len(path):]}"


def public_text(
    root: Path, text: str, secrets: tuple[str, ...] = (), *, uri: bool = False
) -> str:
    """``text`` fit for an answer: the root's real path made relative, any other absolute
    path of this machine reduced to its last name, and ``secrets`` (the server's token)
    masked. ``file://`` URIs are paths; with ``uri``, so are ``sqlite:///`` ones, whose
    scheme is kept (``sqlite:///.nbops/mlflow.db``: relative to the root)."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    text = relative_text(root, _FILE_URI.sub("", text))
    if uri:
        text = _SQLITE_URI.sub(lambda m: "sqlite:///" + _ABSOLUTE.sub(_outside, m.group(1)), text)
    return _ABSOLUTE.sub(_outside, text)


def _finite(value: object) -> object:
    """``value`` (JSON data) with NaN and infinite numbers made None."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    return value


@dataclass
class _Warm:
    linter: Linter
    lock: threading.Lock


class WorkerPool:
    """The server's workers: one thread pool and an LRU of linters, shared by all requests."""

    def __init__(self, root: Path, *, workers: int = 2, linters: int = 8) -> None:
        self.root = root
        self._executor = ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="nbops")
        self._linters: OrderedDict[tuple[str, ...], _Warm] = OrderedDict()
        self._size = max(1, linters)
        self._lock = threading.Lock()
        self._writing = threading.Lock()  # one modularize write at a time

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        """Run ``fn(*args)`` in the pool and wait for it without blocking the event loop."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, functools.partial(fn, *args))

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)

    # -- linters -----------------------------------------------------------------------------
    def _warm(self, req: LintRequest) -> _Warm:
        # the config is re-read every time (cheap) so edits to pyproject.toml apply at once
        config = load_config(req.target.file.parent)
        key = (
            str(config.root),
            config.fingerprint(),
            json.dumps([req.select, req.ignore, req.format_check]),
        )
        with self._lock:
            warm = self._linters.get(key)
            if warm is None:
                linter = Linter(
                    config,
                    select=req.select,
                    ignore=req.ignore,
                    format_check=req.format_check,
                    cache=False,  # the server writes nothing into the user's tree but fixes
                )
                warm = self._linters[key] = _Warm(linter, threading.Lock())
                while len(self._linters) > self._size:
                    self._linters.popitem(last=False)
            self._linters.move_to_end(key)
            return warm

    @staticmethod
    def _notebook(target: Target, content: dict[str, Any] | None) -> Notebook:
        # the real path (not the display name) so config, per-file-ignores and ruff see the file
        if content is not None:
            return notebook_from_dict(content, path=target.file)
        return read_notebook(target.file)

    def _public(self, path: Path | None) -> str | None:
        return public_path(self.root, path)

    # -- lint --------------------------------------------------------------------------------
    def lint_report(self, req: LintRequest) -> FileReport:
        name = req.target.name
        try:
            nb = self._notebook(req.target, req.content)
        except NotebookReadError as exc:
            # a finding, not a server error: the same NB001 report as `nbops lint`
            return unreadable_report(name, NotebookReadError(exc.message, path=name, hint=exc.hint))
        warm = self._warm(req)
        with warm.lock:
            diagnostics = warm.linter.lint_notebook(nb)
        for d in diagnostics:
            d.path = name
        return FileReport(name, diagnostics)

    def lint(self, req: LintRequest) -> api_types.LintResult:
        """The ``nbops lint --format json`` document for one notebook."""
        report = self.lint_report(req)
        return {
            "version": version(),
            "diagnostics": [d.to_json() for d in report.diagnostics],
            "errors": [{"path": report.path, "message": report.error}] if report.error else [],
            "summary": summary([report]),
        }

    # -- fix ---------------------------------------------------------------------------------
    def fix(self, req: FixRequest) -> api_types.FixResult:
        """Fix a copy of the notebook; write it (atomically, with a backup) only if asked."""
        from nbops.lint.fix import FixOptions, fix_notebook, notebook_diff

        nb = self._notebook(req.target, req.content)  # unreadable: NotebookReadError -> 422
        before = notebook_from_dict(json.loads(nb.dumps()), path=Path(req.target.name))
        warm = self._warm(req)
        options = FixOptions(unsafe=req.unsafe, clear_outputs=req.clear_outputs)
        propose = None
        if req.propose_parameters:  # modularize's proposal, as `nbops fix --propose-parameters`
            from nbops.modularize.parameters_cell import ProposeParameters

            propose = ProposeParameters()
            options.prepare = (propose,)
        with warm.lock:
            applied = fix_notebook(nb, warm.linter, options)
        changed = nb.dirty and bool(applied)
        diff = notebook_diff(before, nb) if changed else ""
        backup: Path | None = None
        written = False
        if req.write and changed:
            backup = nb.write(req.target.file, backup_dir=req.target.file.parent / BACKUP_DIR)
            written = True
        result: api_types.FixResult = {
            "content": nb.to_dict(),
            "applied": [a.to_json() for a in applied],
            "diff": diff,
            "changed": changed,
            "written": written,
            "backup": self._public(backup),
        }
        if propose is not None:
            result["notes"] = list(propose.notes)
        return result

    # -- modularize --------------------------------------------------------------------------
    def _plan(self, req: ModularizeRequest, *, dry_run: bool) -> api_types.ModularizePlan:
        from nbops.modularize import ModularizeOptions, modularize

        options = ModularizeOptions(
            package=req.package, out=req.out, dry_run=dry_run, force=req.force
        )
        try:
            result = modularize(req.target.file, options)
        except ConflictError as exc:
            # the plan travels with the 409 (see handlers), root-relative like a 200's
            plan = exc.plan
            if plan is not None and not isinstance(plan, dict):
                plan = plan.to_dict(root=self.root) if hasattr(plan, "to_dict") else None
            if isinstance(plan, dict):
                clashing = [f["path"] for f in plan["files"] if f["action"] == "conflict"]
                exc.message = (
                    f"would overwrite {', '.join(clashing)}: not generated by nbops, "
                    "or edited since"
                )
            exc.plan = plan
            exc.hint = 'move them away, or send "force": true to overwrite them'
            raise
        except NbopsError as exc:
            # messages name files by their real path: make them root-relative
            exc.message = self._relative_text(exc.message)
            exc.hint = self._relative_text(exc.hint) if exc.hint else exc.hint
            raise
        return result.to_dict(root=self.root)

    def _relative_text(self, text: str) -> str:
        return relative_text(self.root, text)

    def _check_confined(self, plan: api_types.ModularizePlan) -> None:
        """Every file the plan would write must be inside the root, symlinks followed.

        ``out`` is confined by the request already, but its default (the folder of the nearest
        ``pyproject.toml``) may lie above the root, and a folder inside it may be a symlink.
        """
        for entry in plan["files"]:
            rel = Path(entry["path"])
            where = None if rel.is_absolute() else (self.root / rel).resolve()
            if where is None or not where.is_relative_to(self.root):
                raise AccessError(
                    "modularize would write outside the server root",
                    path=None if rel.is_absolute() else rel.as_posix(),
                    hint="send 'out', a folder relative to the server root",
                )

    def modularize(self, req: ModularizeRequest) -> api_types.ModularizePlan:
        """The plan (``dry_run``) or the plan carried out; writes only inside the root."""
        plan = self._plan(req, dry_run=True)
        self._check_confined(plan)
        if req.dry_run:
            return plan
        with self._writing:
            return self._plan(req, dry_run=False)

    # -- wire format -------------------------------------------------------------------------
    @staticmethod
    def dumps(value: object) -> bytes:
        """JSON bytes of a response (run in the pool: a fixed 50 MB notebook is big).

        Always JSON a browser parses: a notebook file may hold NaN or Infinity (Python's json
        reads them; they become null) or lone surrogates (``"\\udcff"``: sent escaped)."""
        try:
            return json.dumps(value, ensure_ascii=False, allow_nan=False).encode("utf-8")
        except ValueError:  # UnicodeEncodeError is one too
            return json.dumps(_finite(value), allow_nan=False).encode("ascii")

    def lint_bytes(self, req: LintRequest) -> bytes:
        return self.dumps(self.lint(req))

    def fix_bytes(self, req: FixRequest) -> bytes:
        return self.dumps(self.fix(req))

    def modularize_bytes(self, req: ModularizeRequest) -> bytes:
        return self.dumps(self.modularize(req))
