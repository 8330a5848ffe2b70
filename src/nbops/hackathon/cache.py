"""The scoring cache: a component's result kept under the content it read, reused unchanged.

A key (:func:`content_key`) is a SHA-256 over what one component reads: the component id, the
bytes of the files given (each with its path relative to the team's work, so a renamed file
is a change), the exercise's settings that shape scores, the Python that runs the team's
code (version and executable), and nbops itself (its version and the size and modification
time of the modules scoring runs, so an edited checkout of nbops never reuses an older
scorer's results). :class:`ScoreCache` keeps one JSON file per key under
``<exercise>/.nbops/hackathon/cache/`` (written atomically, the newest :data:`KEEP` kept);
an entry that cannot be read, is not JSON or belongs to another key is a miss, never an
error. Only results that do not depend on the machine are kept (the scorer stores ``ok``
components: a timeout or a crash of the scorer itself is scored again next time).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

__all__ = ["KEEP", "SKIP_DIRS", "ScoreCache", "content_key", "file_digest", "nbops_identity", "tree_files"]

KEEP = 512  # entries kept; the oldest go first
SKIP_DIRS = {".git", "__pycache__", ".ipynb_checkpoints", ".nbops", "nbops-runs", ".pytest_cache",
              ".mypy_cache", ".ruff_cache", ".venv", "venv", "node_modules", ".tox"}


def tree_files(folder: Path) -> list[Path]:
    """Every file under ``folder`` that is the team's work (not caches, git, environments)."""
    found: list[Path] = []
    for here, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS)
        found += [Path(here) / name for name in sorted(files) if not name.endswith((".pyc", ".pyo"))]
    return found


_IDENTITY: list[str] = []
_NOT_SCORING = {"deploy", "server", "widgets"}  # packages of nbops no scoring runs


def nbops_identity() -> str:
    """nbops' version and a digest of the sizes and modification times of its modules (all but
    the packages no scoring runs: deployment, the server, the widgets)."""
    if not _IDENTITY:
        from nbops._version import version

        package = Path(__file__).resolve().parents[1]
        digest = hashlib.sha256(version().encode())
        for file in sorted(package.rglob("*.py")):
            if file.relative_to(package).parts[0] in _NOT_SCORING:
                continue
            with contextlib.suppress(OSError):
                stat = file.stat()
                digest.update(f"{file.relative_to(package)}:{stat.st_size}:{stat.st_mtime_ns}\n".encode())
        _IDENTITY.append(digest.hexdigest())
    return _IDENTITY[0]


def file_digest(file: Path, memo: dict[Path, str] | None = None) -> str:
    """SHA-256 of ``file``'s bytes (``memo``: digests already taken in this scoring, so a file
    several components read is read once)."""
    if memo is not None and file in memo:
        return memo[file]
    digest = hashlib.sha256()
    try:
        with open(file, "rb") as stream:
            for block in iter(lambda: stream.read(1 << 20), b""):
                digest.update(block)
        value = digest.hexdigest()
    except OSError:
        value = "missing"
    if memo is not None:
        memo[file] = value
    return value


def content_key(component: str, files: Mapping[str, Path], settings: dict[str, Any],
                memo: dict[Path, str] | None = None) -> str:
    """The key of ``component`` over ``files`` (each file under its name in the team's work, so a
    renamed file is a change), ``settings`` (JSON) and the scorer's Python and nbops."""
    digest = hashlib.sha256()
    head = {"component": component, "settings": settings, "python": sys.version,
            "executable": sys.executable, "nbops": nbops_identity()}
    digest.update(json.dumps(head, sort_keys=True, default=str).encode())
    for name, file in sorted(files.items()):
        digest.update(f"\0{name}\0{file_digest(file, memo)}".encode())
    return digest.hexdigest()


class ScoreCache:
    """Component results by key, one JSON file each under ``folder``."""

    def __init__(self, folder: Path, keep: int = KEEP) -> None:
        self.folder = folder
        self.keep = keep

    def get(self, key: str) -> dict[str, Any] | None:
        """The result stored under ``key``; None when there is none or it cannot be read."""
        try:
            entry = json.loads((self.folder / f"{key}.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if not isinstance(entry, dict) or entry.get("key") != key or not isinstance(entry.get("value"), dict):
            return None
        value: dict[str, Any] = entry["value"]
        return value

    def put(self, key: str, value: dict[str, Any]) -> None:
        """Store ``value`` under ``key`` (atomically); a cache that cannot be written is skipped."""
        from nbops.core.notebook import write_text_atomic

        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            write_text_atomic(self.folder / f"{key}.json", json.dumps({"key": key, "value": value}))
            self._prune()
        except OSError:
            return

    def _prune(self) -> None:
        entries = list(self.folder.glob("*.json"))
        if len(entries) <= self.keep:
            return
        def age(path: Path) -> float:
            try:
                return path.stat().st_mtime
            except OSError:
                return 0.0
        for old in sorted(entries, key=age)[: len(entries) - self.keep]:
            with contextlib.suppress(OSError):
                old.unlink()
