"""ruff and black, located and driven: the code tools nbops uses below every layer.

Here is what does not depend on lint's findings, so that modularize (which formats and tidies
the code it generates) uses the same tools as ``nbops lint`` without importing the linter:
the ruff binary and its version, ruff's failures in words a user can act on, and black's
per-cell check with its content-keyed cache. :mod:`nbops.lint.tools` maps ruff's and black's
results to cells and re-exports these names.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import sqlite3
import subprocess
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from nbops.errors import ToolError

__all__ = [
    "FormatChecker",
    "FormatResult",
    "black_version",
    "ruff_binary",
    "ruff_error",
    "ruff_version",
]


@lru_cache(maxsize=1)
def ruff_binary() -> str:
    try:
        from ruff.__main__ import find_ruff_bin  # type: ignore[import-untyped]

        return str(find_ruff_bin())
    except (ImportError, FileNotFoundError):
        import shutil

        found = shutil.which("ruff")
        if found:
            return found
    raise ToolError("ruff is not installed", hint="pip install ruff (nbops depends on it)")


@lru_cache(maxsize=1)
def ruff_version() -> str:
    try:
        out = subprocess.run(
            [ruff_binary(), "--version"], capture_output=True, text=True, check=True, timeout=60
        )
    except (OSError, subprocess.SubprocessError) as exc:
        raise ToolError(f"cannot run ruff: {exc}") from None
    return out.stdout.strip()


def black_version() -> str:
    try:
        import black
    except ImportError:
        return "missing"
    return str(getattr(black, "__version__"))  # noqa: B009 - not exported in black's stubs

_ABSOLUTE = re.compile(r"(?<![\w.~])/[^\s`'\"(),;]+")


def ruff_error(stderr: bytes, folder: Path) -> ToolError:
    """The error for a ruff run that failed, in words a user can act on.

    ruff exits 2 when it cannot load its configuration (a ``ruff.toml`` that ``extend``s a
    missing file, a TOML error, an unknown rule): that names the file and says what to do.
    Absolute paths in ruff's message are made relative to ``folder`` (the notebook's).
    """
    text = stderr.decode(errors="replace").strip()
    causes = [
        line.strip().removeprefix("Cause:").strip()
        for line in text.splitlines()
        if line.strip() and line.strip() not in ("ruff failed", "error: ruff failed")
    ]
    base = os.path.abspath(folder)

    def relative(match: re.Match[str]) -> str:
        return os.path.relpath(match.group(0), base)

    detail = _ABSOLUTE.sub(relative, "; ".join(causes) or text or "no message")[:500]
    if "configuration" in detail or ".toml" in detail:
        return ToolError(
            f"ruff cannot load its configuration: {detail} (paths relative to the notebook's "
            "folder); fix or remove that setting (for example an `extend` of a file that does "
            "not exist)"
        )
    return ToolError(f"ruff failed: {detail}")


@dataclass(frozen=True)
class FormatResult:
    """``changed``: black would rewrite the cell to ``formatted``; ``error``: black failed."""

    changed: bool
    formatted: str = ""
    error: str = ""


_MEMORY_ENTRIES = 4096


class FormatChecker:
    """Per-cell black check with a content-keyed cache (memory, plus sqlite when given a dir)."""

    def __init__(self, black_options: dict[str, Any] | None = None, cache_dir: Path | None = None):
        try:
            import black
        except ImportError as exc:  # pragma: no cover - black is a dependency
            raise ToolError("black is not installed", hint="pip install 'black[jupyter]'") from exc
        self._black = black
        opts = black_options or {}
        targets: Any = getattr(black, "TargetVersion")  # noqa: B009 - not re-exported in black's stubs
        versions = {
            targets[v.upper()]
            for v in opts.get("target-version", opts.get("target_version", []))
            if v.upper() in targets.__members__
        }
        self.mode = black.Mode(
            target_versions=versions,
            line_length=int(opts.get("line-length", opts.get("line_length", 88))),
            string_normalization=not opts.get("skip-string-normalization", False),
            magic_trailing_comma=not opts.get("skip-magic-trailing-comma", False),
            preview=bool(opts.get("preview", False)),
            is_ipynb=True,
        )
        self._salt = f"{black_version()}|{self.mode!r}"
        self._memory: dict[str, FormatResult] = {}
        self._db: sqlite3.Connection | None = None
        self._pending: list[tuple[str, str]] = []
        if cache_dir is not None:
            self._db = _open_db(cache_dir / "format.sqlite3")

    def _key(self, source: str) -> str:
        return hashlib.blake2b((self._salt + "\0" + source).encode(), digest_size=16).hexdigest()

    def check(self, source: str) -> FormatResult:
        if not source.strip():
            return FormatResult(False)
        key = self._key(source)
        hit = self._memory.get(key)
        if hit is not None:
            return hit
        if self._db is not None:
            row = self._db.execute("SELECT value FROM fmt WHERE key=?", (key,)).fetchone()
            if row is not None:
                result = _decode(row[0])
                self._memory[key] = result
                return result
        result = self._format(source)
        if len(self._memory) >= _MEMORY_ENTRIES:
            self._memory.clear()  # keep memory flat on huge folders; sqlite still has them
        self._memory[key] = result
        if self._db is not None:
            self._pending.append((key, _encode(result)))
        return result

    def _format(self, source: str) -> FormatResult:
        black = self._black
        try:
            formatted = black.format_cell(source, fast=True, mode=self.mode)
        except black.NothingChanged:
            return FormatResult(False)
        except Exception as exc:  # noqa: BLE001 - black raises many types on unsupported input
            reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            return FormatResult(False, error=f"{type(exc).__name__}: {reason}"[:300])
        return FormatResult(formatted != source.rstrip("\n") and formatted != source, formatted)

    def flush(self) -> None:
        if self._db is not None and self._pending:
            try:
                with self._db:
                    self._db.executemany(
                        "INSERT OR REPLACE INTO fmt(key, value) VALUES (?, ?)", self._pending
                    )
            except sqlite3.Error:
                pass  # the cache is an optimisation: never fail a lint over it
            self._pending.clear()


def _encode(result: FormatResult) -> str:
    return json.dumps([result.changed, result.formatted, result.error])


def _decode(value: str) -> FormatResult:
    changed, formatted, error = json.loads(value)
    return FormatResult(bool(changed), str(formatted), str(error))


def _open_db(file: Path) -> sqlite3.Connection | None:
    try:
        file.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(str(file), timeout=30)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        db.execute("CREATE TABLE IF NOT EXISTS fmt (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
        return db
    except (sqlite3.Error, OSError):
        return None
