"""ruff and black as sources of findings, mapped to cells in nbops' diagnostic shape.

ruff runs as its own binary (``ruff check --output-format json``) on whole notebooks; its JSON
already carries the cell. ruff stops at the first syntax error of a notebook, so a notebook
with a broken cell is re-checked with that cell blanked: the broken cell is reported once
(NB003 from nbops' own parser) and every other cell is still linted. black runs in-process
per cell through ``black.format_cell`` (its notebook mode, magics masked) and its results
are cached by cell content, so an unchanged cell is never formatted twice.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import sqlite3
import subprocess
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from nbops.errors import ToolError
from nbops.lint.diagnostic import Diagnostic, Edit, Fix

__all__ = [
    "FormatChecker",
    "RuffRun",
    "black_version",
    "map_ruff",
    "ruff_binary",
    "ruff_version",
    "run_ruff_notebook",
    "run_ruff_paths",
    "ruff_error",
]

# nbops' own rules cover these with cell- and history-aware versions.
RUFF_SUPERSEDED = ("F821", "F403")
# ruff calls these fixes safe; in notebooks they are not: an "unused" import often runs for
# its side effects (seaborn's styles, pandas extensions, plugin registration) and removing
# one changes what a run does. nbops offers them as unsafe fixes.
RUFF_UNSAFE_IN_NOTEBOOKS = ("F401",)


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


def _ruff_args(select: Sequence[str], ignore: Sequence[str], cache: bool) -> list[str]:
    args = [ruff_binary(), "check", "--output-format", "json", "--exit-zero", "--no-fix"]
    args.append("--force-exclude")
    if not cache:
        args.append("--no-cache")
    if select:
        args += ["--select", ",".join(select)]
    explicit = set(select)
    extra_ignore = [c for c in RUFF_SUPERSEDED if c not in explicit]
    if ignore or extra_ignore:
        args += ["--extend-ignore", ",".join([*ignore, *extra_ignore])]
    return args


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


class RuffRun:
    """ruff processes started on many notebooks; ``results()`` waits and groups by file.

    When a batch fails (ruff exits 2: most often a configuration that cannot load), its
    notebooks are re-run folder by folder, so one broken ``ruff.toml`` only affects the
    notebooks below it: the others get their findings, and ``failed`` lists the rest (the
    caller runs ruff on each of those alone, which reports the error for that notebook).
    """

    def __init__(
        self, paths: Sequence[Path], select: Sequence[str], ignore: Sequence[str], cache: bool
    ) -> None:
        self.paths = list(paths)
        self.select, self.ignore, self.cache = list(select), list(ignore), cache
        self.failed: set[str] = set()  # realpaths ruff could not check (after results())
        self._procs: list[tuple[list[Path], subprocess.Popen[bytes]]] = []
        # ruff is multi-threaded itself; chunk only to keep command lines short.
        for start in range(0, len(self.paths), 2000):
            chunk = self.paths[start : start + 2000]
            self._procs.append((chunk, self._start(chunk)))

    def _start(self, paths: Sequence[Path]) -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            [*_ruff_args(self.select, self.ignore, self.cache), "--", *map(str, paths)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
        )

    def results(self) -> dict[str, list[dict[str, Any]]]:
        grouped: dict[str, list[dict[str, Any]]] = {}
        retry: list[Path] = []
        for chunk, proc in self._procs:
            out, _ = proc.communicate()
            if proc.returncode not in (0, 1):
                retry += chunk
                continue
            self._group(out, grouped)
        if retry:
            by_folder: dict[Path, list[Path]] = {}
            for path in retry:
                by_folder.setdefault(path.parent, []).append(path)
            for folder_paths in by_folder.values():
                proc = self._start(folder_paths)
                self._procs.append((folder_paths, proc))
                out, _ = proc.communicate()
                if proc.returncode in (0, 1):
                    self._group(out, grouped)
                else:
                    self.failed.update(os.path.realpath(p) for p in folder_paths)
        return grouped

    @staticmethod
    def _group(out: bytes, grouped: dict[str, list[dict[str, Any]]]) -> None:
        for item in json.loads(out or b"[]"):
            grouped.setdefault(os.path.realpath(item["filename"]), []).append(item)

    def kill(self) -> None:
        for _, proc in self._procs:
            if proc.poll() is None:
                proc.kill()


def run_ruff_paths(
    paths: Sequence[Path], select: Sequence[str], ignore: Sequence[str], cache: bool = True
) -> RuffRun:
    return RuffRun(paths, select, ignore, cache)


CellText = tuple[str, str]  # (cell_type, source)


def _minimal_notebook(cells: Sequence[CellText], blank: Iterable[int] = ()) -> bytes:
    skip = set(blank)
    out = []
    for index, (kind, source) in enumerate(cells):
        if index in skip:
            kind, source = "code", ""
        entry: dict[str, Any] = {"cell_type": kind, "metadata": {}, "source": source}
        if kind == "code":
            entry.update(outputs=[], execution_count=None)
        out.append(entry)
    raw = {
        "cells": out,
        "metadata": {"language_info": {"name": "python"}},
        "nbformat": 4,
        "nbformat_minor": 4,
    }
    return json.dumps(raw).encode()


def run_ruff_notebook(
    cells: Sequence[CellText],
    name: str,
    select: Sequence[str],
    ignore: Sequence[str],
    *,
    blank: Iterable[int] = (),
) -> list[dict[str, Any]]:
    """Run ruff on one notebook's cells through stdin (unsaved content, or cells blanked).

    ruff runs in the notebook's folder when it exists: a notebook without ruff settings of
    its own then gets ruff's defaults whatever the caller's working directory (the server's
    root, a test runner's checkout), not the settings of the project the caller sits in.
    """
    args = [*_ruff_args(select, ignore, cache=False), "--stdin-filename", name, "-"]
    folder = Path(name).parent
    try:
        proc = subprocess.run(
            args, input=_minimal_notebook(cells, blank), capture_output=True, timeout=120, check=False,
            cwd=folder if folder.is_dir() else None,
        )
    except (OSError, subprocess.SubprocessError) as exc:
        raise ToolError(f"cannot run ruff: {exc}", path=name) from None
    if proc.returncode not in (0, 1):
        error = ruff_error(proc.stderr, folder)
        error.path = name
        raise error
    data: list[dict[str, Any]] = json.loads(proc.stdout or b"[]")
    return data


def code_of(item: dict[str, Any]) -> str:
    return str(item.get("code") or "")


def is_syntax_item(item: dict[str, Any]) -> bool:
    return item.get("code") in (None, "invalid-syntax", "E999") or item.get("name") == "invalid-syntax"


def ruff_for_notebook(
    cells: Sequence[CellText],
    name: str,
    items: list[dict[str, Any]] | None,
    select: Sequence[str],
    ignore: Sequence[str],
    broken_cells: set[int],
) -> tuple[list[dict[str, Any]], set[int]]:
    """ruff's findings for a notebook, re-running with unparseable cells blanked if needed.

    ``items`` are findings from a batch run, or ``None`` to run ruff now. Returns the
    findings and the cells ruff could not parse although nbops could.
    """
    if items is None:
        items = run_ruff_notebook(cells, name, select, ignore, blank=broken_cells)
    ruff_broken: set[int] = set()
    for _ in range(5):
        syntax = {int(i["cell"]) - 1 for i in items if is_syntax_item(i) and i.get("cell")}
        if not syntax - ruff_broken - broken_cells:
            break
        ruff_broken |= syntax
        items = run_ruff_notebook(cells, name, select, ignore, blank=broken_cells | ruff_broken)
    items = [i for i in items if not is_syntax_item(i)]
    return items, ruff_broken - broken_cells


def map_ruff(
    items: Iterable[dict[str, Any]], cell_ids: Sequence[str | None], path: str
) -> list[Diagnostic]:
    out: list[Diagnostic] = []
    for item in items:
        cell_no = item.get("cell")
        index = int(cell_no) - 1 if cell_no else None
        cell_id = cell_ids[index] if index is not None and 0 <= index < len(cell_ids) else None
        loc = item.get("location") or {}
        end = item.get("end_location") or {}
        fix = None
        raw_fix = item.get("fix")
        if raw_fix and index is not None:
            applicability = raw_fix.get("applicability", "unsafe")
            edits = tuple(
                Edit(
                    op="replace_text",
                    cell_index=index,
                    content=e.get("content", ""),
                    line=e["location"]["row"],
                    column=e["location"]["column"],
                    end_line=e["end_location"]["row"],
                    end_column=e["end_location"]["column"],
                )
                for e in raw_fix.get("edits", [])
            )
            if code_of(item) in RUFF_UNSAFE_IN_NOTEBOOKS:
                applicability = "unsafe"
            if applicability in ("safe", "unsafe"):
                fix = Fix(
                    message=raw_fix.get("message") or "ruff fix",
                    applicability=applicability,
                    edits=edits,
                )
        code = str(item.get("code") or "ruff")
        out.append(
            Diagnostic(
                code=code,
                name=str(item.get("name") or ""),
                message=str(item.get("message", "")),
                severity="warning",
                path=path,
                source="ruff",
                cell_index=index,
                cell_id=cell_id,
                line=loc.get("row"),
                column=loc.get("column"),
                end_line=end.get("row"),
                end_column=end.get("column"),
                fix=fix,
                url=item.get("url") or None,
            )
        )
    return out


# --------------------------------------------------------------------------- black


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
        except Exception as exc:  # black raises many types on unsupported input
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

