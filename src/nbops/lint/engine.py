"""The lint engine: finds notebooks, runs nbops rules, ruff and black on them, filters, caches.

One :class:`Linter` serves every front: the CLI lints folders with both cores (one ruff
process for all files while a process pool runs nbops' rules and, with black, the format
check; with ruff's formatter the cells to check come back from the workers and one
``ruff format`` per folder checks them all), the
server lints one notebook, saved or unsaved, in-process. Results are cached per file (by
content, settings and tool versions) in ``.nbops_cache/`` so a warm re-lint of an unchanged
folder only reads and hashes files.
"""

from __future__ import annotations

import gc
import glob
import hashlib
import json
import os
import re
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path
from typing import Any

from nbops._version import version
from nbops.config import Config, load_config
from nbops.core.magics import magic_identifiers
from nbops.core.notebook import Notebook, notebook_from_bytes
from nbops.errors import NbopsError, NotebookReadError, UsageError
from nbops.lint.diagnostic import BLACK_URL, Diagnostic, Edit, Fix, Severity, rule_url
from nbops.lint.registry import FORMAT_CODE, Selection, all_rules, get_rule
from nbops.lint.rule import Context, Rule
from nbops.lint.tools import (
    FormatChecker,
    RuffRun,
    black_version,
    map_ruff,
    ruff_for_notebook,
    ruff_version,
    run_ruff_notebook,
)
from nbops.tools import FormatResult, ruff_format_cells

__all__ = ["FileReport", "LintSettings", "Linter", "discover", "lint_notebook"]

SKIP_DIRS = {
    ".ipynb_checkpoints", ".git", ".hg", ".svn", ".venv", "venv", "node_modules", "__pycache__",
    ".nbops_backup", ".nbops_cache", ".tox", ".nox", "site-packages", ".mypy_cache",
}


@dataclass
class FileReport:
    """The lint result of one file. ``error`` is set when the file could not be read."""

    path: str
    diagnostics: list[Diagnostic] = field(default_factory=list)
    error: str | None = None
    cached: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "error": self.error,
            "diagnostics": [d.to_json() for d in self.diagnostics],
        }


@dataclass
class LintSettings:
    """Everything a worker needs, picklable."""

    selection: Selection
    severity: dict[str, str]
    options: dict[str, Any]
    format_check: bool
    black: dict[str, Any]
    per_file_ignores: dict[str, list[str]]
    root: str | None
    cache_dir: str | None
    formatter: str = "ruff"  # FMT001's formatter: "ruff" or "black"

    def fingerprint(self) -> str:
        data = {
            "selection": [self.selection.select, self.selection.ignore, self.selection.extend_select],
            "severity": self.severity,
            "options": self.options,
            "format": [self.format_check, self.formatter],
            "black": self.black,
            "pfi": self.per_file_ignores,
            "versions": [version(), black_version()],
        }
        return json.dumps(data, sort_keys=True, default=str)


# --------------------------------------------------------------------------- discovery


def discover(paths: Sequence[str | Path], config: Config | None = None) -> tuple[list[Path], list[str]]:
    """Expand files, folders and globs into notebook paths; also return paths that matched nothing."""
    found: list[Path] = []
    missing: list[str] = []
    seen: set[str] = set()

    def add(p: Path) -> None:
        key = os.path.realpath(p)
        if key not in seen and not (config and config.is_excluded(p)):
            seen.add(key)
            found.append(p)

    for raw in paths:
        text = str(raw)
        path = Path(text)
        if path.is_dir():
            for dirpath, dirnames, filenames in os.walk(path):
                dirnames[:] = sorted(
                    d for d in dirnames if d not in SKIP_DIRS and not d.startswith(".")
                )
                for name in sorted(filenames):
                    if name.endswith(".ipynb"):
                        add(Path(dirpath) / name)
        elif path.exists():
            add(path)
        elif glob.has_magic(text):
            matches = sorted(glob.glob(text, recursive=True))
            hits = [Path(m) for m in matches if m.endswith(".ipynb") or Path(m).is_file()]
            if not hits:
                missing.append(text)
            for m in hits:
                if not any(part in SKIP_DIRS for part in m.parts):
                    add(m)
        else:
            missing.append(text)
    return found, missing


# --------------------------------------------------------------------------- suppression

_CELL_IGNORE = re.compile(r"#\s*nbops:\s*ignore(?:\[([A-Za-z0-9_,\s]+)\])?", re.IGNORECASE)
_NOQA = re.compile(r"#\s*noqa(?::\s*([A-Za-z0-9_,\s]+))?", re.IGNORECASE)


def _codes(text: str | None) -> tuple[str, ...]:
    if not text:
        return ("ALL",)
    return tuple(c.strip().upper() for c in text.split(",") if c.strip())


def _matches(code: str, prefixes: Iterable[str]) -> bool:
    return any(p == "ALL" or code.startswith(p) for p in prefixes)


class _Suppressions:
    def __init__(self, nb: Notebook) -> None:
        self.cell: dict[int, tuple[str, ...]] = {}
        self.line: dict[tuple[int, int], tuple[str, ...]] = {}
        for c in nb.cells:
            codes: list[str] = []
            for tag in c.tags:
                low = tag.lower()
                if low == "nbops:ignore":
                    codes.append("ALL")
                elif low.startswith("nbops:ignore:"):
                    codes.extend(_codes(tag.split(":", 2)[2]))
            if c.is_code and "#" in c.source:
                for n, line in enumerate(c.source.splitlines(), start=1):
                    if "#" not in line:
                        continue
                    m = _CELL_IGNORE.search(line)
                    if m:
                        codes.extend(_codes(m.group(1)))
                        continue
                    q = _NOQA.search(line)
                    if q:
                        self.line[(c.index, n)] = _codes(q.group(1))
            if codes:
                self.cell[c.index] = tuple(codes)

    def suppressed(self, d: Diagnostic) -> bool:
        if d.cell_index is None:
            return False
        if d.code in ("NB001",):
            return False
        cell_codes = self.cell.get(d.cell_index)
        if cell_codes and _matches(d.code, cell_codes):
            return True
        if d.line is not None and d.source != "ruff":  # ruff honours its own noqa
            line_codes = self.line.get((d.cell_index, d.line))
            if line_codes and _matches(d.code, line_codes):
                return True
        return False


# --------------------------------------------------------------------------- one notebook


def _diag(rule: type[Rule], severity: Severity, path: str, nb: Notebook, f: Any) -> Diagnostic:
    cell_id = None
    if f.cell is not None and 0 <= f.cell < len(nb.cells):
        cell_id = nb.cells[f.cell].id
    return Diagnostic(
        code=rule.code,
        name=rule.name,
        message=f.message,
        severity=severity,
        path=path,
        cell_index=f.cell,
        cell_id=cell_id,
        line=f.line,
        column=f.column,
        end_line=f.end_line,
        end_column=f.end_column,
        fix=f.fix,
        url=rule_url(rule.code, rule.name),
    )


def _severity(settings: LintSettings, code: str, default: Severity) -> Severity:
    value = settings.severity.get(code, default)
    return value if value in ("error", "warning", "info") else default  # type: ignore[return-value]


class _Analyzer:
    """Runs the enabled nbops rules and the format check on one parsed notebook."""

    def __init__(self, settings: LintSettings, checker: FormatChecker | None) -> None:
        self.settings = settings
        self.rules: list[Rule] = [cls() for cls in all_rules() if settings.selection.enabled(cls.code)]
        self.checker = checker

    def severity_of(self, code: str, default: Severity) -> Severity:
        return _severity(self.settings, code, default)

    def run(self, nb: Notebook) -> tuple[list[Diagnostic], set[int], set[str], list[tuple[int, str]]]:
        """nbops' findings, the cells that do not parse, imports used only by magics, and the
        ``(index, source)`` of the cells ruff's formatter must check (black's check runs here)."""
        path = nb.display_path
        ctx = Context(nb, self.settings.options)
        out: list[Diagnostic] = []
        for rule in self.rules:
            if rule.python_only and not nb.is_python:
                continue
            try:
                findings = list(rule.check(ctx))
            except Exception as exc:  # noqa: BLE001 - a rule bug must not stop the lint of other files
                out.append(
                    Diagnostic(
                        code="NB005",
                        name="tool-error",
                        message=f"internal error in rule {rule.code}: {type(exc).__name__}: {exc}"
                        " (please report it)",
                        severity="warning",
                        path=path,
                    )
                )
                continue
            sev = self.severity_of(rule.code, rule.severity)
            configured = rule.code in self.settings.severity
            out.extend(
                _diag(type(rule), sev if configured or f.severity is None else f.severity, path, nb, f)
                for f in findings
            )
        broken: set[int] = set()
        magic_imports: set[str] = set()
        if nb.is_python and nb.code_cells:
            broken = {i for i, s in ctx.symbols.items() if s.syntax_error is not None}
            magic_imports = _imports_used_by_magics(ctx)
        to_format: list[tuple[int, str]] = []
        settings = self.settings
        if settings.format_check and nb.is_python and settings.selection.enabled(FORMAT_CODE):
            to_format = [
                (c.index, c.source)
                for c in nb.iter_code()
                if c.index not in broken and c.source.strip()
            ]
            if self.checker is not None:  # black: checked here, with the per-cell cache
                results = [self.checker.check(source) for _, source in to_format]
                self.checker.flush()
                out.extend(
                    format_findings(
                        "black", nb.display_path, [c.id for c in nb.cells], to_format, results,
                        self.severity_of,
                    )
                )
                to_format = []
        return out, broken, magic_imports, to_format


RUFF_FORMAT_URL = "https://docs.astral.sh/ruff/formatter/"


def format_findings(
    formatter: str,
    path: str,
    cell_ids: Sequence[str | None],
    cells: Sequence[tuple[int, str]],
    results: Sequence[FormatResult],
    severity_of: Any,
) -> list[Diagnostic]:
    """FMT001 for each of ``cells`` (``(index, source)``) its formatter would change; NB005
    where black failed (a cell ruff cannot parse is left to ruff's own check)."""
    name = "ruff format" if formatter == "ruff" else "black"
    out: list[Diagnostic] = []
    for (index, source), result in zip(cells, results):
        cell_id = cell_ids[index] if index < len(cell_ids) else None
        if result.error and formatter == "black":
            out.append(
                Diagnostic(
                    code="NB005",
                    name="tool-error",
                    message=f"black could not format this cell ({result.error}); "
                    "the format check skipped it",
                    severity=severity_of("NB005", "warning"),
                    path=path,
                    cell_index=index,
                    cell_id=cell_id,
                    url=rule_url("NB005", get_rule("NB005").name),
                )
            )
        elif result.changed and not result.error:
            out.append(
                Diagnostic(
                    code=FORMAT_CODE,
                    name="format-check",
                    message=f"cell is not formatted with {name} "
                    f"({_changed_lines(source, result.formatted)})",
                    severity=severity_of(FORMAT_CODE, "warning"),
                    path=path,
                    source="ruff" if formatter == "ruff" else "black",
                    cell_index=index,
                    cell_id=cell_id,
                    fix=Fix(
                        f"Format the cell with {name}",
                        "safe",
                        (Edit("replace_source", index, result.formatted),),
                    ),
                    url=RUFF_FORMAT_URL if formatter == "ruff" else BLACK_URL,
                )
            )
    return out


def _ruff_format_batch(infos: Sequence[_NbInfo], settings: LintSettings) -> dict[str, list[Diagnostic]]:
    """FMT001 by ruff's formatter for the cells the workers left to check: one ``ruff format``
    per folder (so each folder's ruff configuration applies), findings per notebook path."""
    by_folder: dict[str, list[_NbInfo]] = {}
    for info in infos:
        if info.to_format:
            by_folder.setdefault(os.path.dirname(os.path.abspath(info.path)), []).append(info)
    found: dict[str, list[Diagnostic]] = {}
    for folder, group in by_folder.items():
        sources = [source for info in group for _, source in info.to_format]
        try:
            results = ruff_format_cells(sources, Path(folder) / "nbops-format-check.ipynb")
        except NbopsError as exc:
            for info in group:
                found[info.path] = [
                    Diagnostic(
                        code="NB005",
                        name="tool-error",
                        message=f"{exc.message}; the format check skipped this notebook",
                        severity="warning",
                        path=info.path,
                        url=rule_url("NB005", get_rule("NB005").name),
                    )
                ]
            continue
        at = 0
        for info in group:
            mine = results[at : at + len(info.to_format)]
            at += len(info.to_format)
            found[info.path] = format_findings(
                "ruff", info.path, info.cell_ids, info.to_format, mine,
                lambda code, default: _severity(settings, code, default),
            )
    return found


class _FormatQueue:
    """ruff's format check of the cells the workers send back, in threads (each waits on a
    ``ruff format`` process) that start while the workers still lint: a chunk of notebooks
    is checked as soon as it holds ``chunk`` cells."""

    def __init__(self, settings: LintSettings, chunk: int = 1500) -> None:
        self.settings, self.chunk = settings, chunk
        self.pending: list[_NbInfo] = []
        self.cells = 0
        self.futures: list[Future[dict[str, list[Diagnostic]]]] = []
        self.threads: ThreadPoolExecutor | None = None

    def add(self, info: _NbInfo | None) -> None:
        if info is None or not info.to_format:
            return
        self.pending.append(info)
        self.cells += len(info.to_format)
        if self.cells >= self.chunk:
            self._submit()

    def _submit(self) -> None:
        if not self.pending:
            return
        if self.threads is None:
            self.threads = ThreadPoolExecutor(max_workers=max(1, os.cpu_count() or 1))
        self.futures.append(self.threads.submit(_ruff_format_batch, self.pending, self.settings))
        self.pending, self.cells = [], 0

    def results(self) -> dict[str, list[Diagnostic]]:
        self._submit()
        found: dict[str, list[Diagnostic]] = {}
        for future in self.futures:
            found.update(future.result())
        return found

    def close(self) -> None:
        if self.threads is not None:
            self.threads.shutdown(wait=True, cancel_futures=True)


def _imports_used_by_magics(ctx: Context) -> set[str]:
    """Qualified names of imports whose name is read on an IPython-syntax line.

    ruff cannot see into ``%time model.fit(X)`` or ``!echo {path}``, so it reports such
    imports as unused (F401) and its fix would delete them; nbops drops those findings.
    """
    magic_reads: set[str] = set()
    for sym in ctx.symbols.values():
        magic_reads |= magic_identifiers(sym.source.magics)
    if not magic_reads:
        return set()
    names: set[str] = set()
    for sym in ctx.symbols.values():
        for imp in sym.imports:
            if imp.bound in magic_reads and not imp.is_star:
                module = imp.module or ""
                names.add(f"{module}.{imp.name}" if imp.name else module)
    return names


def _changed_lines(old: str, new: str) -> str:
    import difflib

    a, b = old.splitlines(), new.splitlines()
    changed = 0
    for tag, i1, i2, _, _ in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if tag != "equal":
            changed += max(i2 - i1, 1)
    return f"{changed} line{'s' if changed != 1 else ''} would change"


def _unreadable(path: str, error: NbopsError) -> FileReport:
    reason = error.message + (f" ({error.hint})" if error.hint else "")
    diag = Diagnostic(
        code="NB001",
        name="unreadable-notebook",
        message=reason,
        severity="error",
        path=path,
        url=rule_url("NB001", get_rule("NB001").name),
    )
    return FileReport(path=path, diagnostics=[diag], error=error.message)


@dataclass
class _NbInfo:
    """What the main process needs of a notebook linted in a worker (small and picklable)."""

    path: str
    cell_ids: list[str | None]
    is_python: bool
    has_code: bool
    suppressions: _Suppressions
    cells: list[tuple[str, str]]  # (cell_type, source); only filled when ruff must rerun
    magic_imports: set[str]
    # (index, source) of the cells ruff's formatter must check (empty with black)
    to_format: list[tuple[int, str]] = field(default_factory=list)

    @classmethod
    def of(
        cls, nb: Notebook, full: bool, magic_imports: set[str],
        to_format: list[tuple[int, str]] | None = None,
    ) -> _NbInfo:
        return cls(
            to_format=to_format or [],
            magic_imports=magic_imports,
            path=nb.display_path,
            cell_ids=[c.id for c in nb.cells],
            is_python=nb.is_python,
            has_code=bool(nb.code_cells),
            suppressions=_Suppressions(nb),
            cells=[(c.cell_type, c.source) for c in nb.cells] if full else [],
        )


def _finish(
    info: _NbInfo,
    diags: list[Diagnostic],
    ruff_items: list[dict[str, Any]] | None,
    broken: set[int],
    settings: LintSettings,
) -> list[Diagnostic]:
    """Add ruff's findings (rerunning around broken cells) and apply every filter."""
    path = info.path
    if settings.selection.wants_ruff and info.is_python and info.has_code:
        sel, ign = settings.selection.ruff_codes()
        try:
            items, ruff_broken = ruff_for_notebook(
                info.cells, _ruff_name(path), ruff_items, sel, ign, broken
            )
            if info.magic_imports:
                items = [i for i in items if not _used_by_magic(i, info.magic_imports)]
            diags.extend(map_ruff(items, info.cell_ids, path))
            for index in sorted(ruff_broken):
                diags.append(
                    Diagnostic(
                        code="NB005",
                        name="tool-error",
                        message="ruff could not parse this cell; ruff's checks skipped it "
                        "(nbops' own rules still ran)",
                        severity="warning",
                        path=path,
                        cell_index=index,
                        cell_id=info.cell_ids[index] if index < len(info.cell_ids) else None,
                        url=rule_url("NB005", get_rule("NB005").name),
                    )
                )
        except NbopsError as exc:
            diags.append(
                Diagnostic(
                    code="NB005",
                    name="tool-error",
                    message=f"{exc.message}; ruff's checks skipped this notebook (nbops' own "
                    "rules still ran)",
                    severity="warning",
                    path=path,
                    url=rule_url("NB005", get_rule("NB005").name),
                )
            )
    extra_ignores: list[str] = []
    if settings.per_file_ignores:
        cfg = Config(root=Path(settings.root) if settings.root else None)
        cfg.per_file_ignores = settings.per_file_ignores
        extra_ignores = [c.upper() for c in cfg.ignores_for(Path(path))]
    kept: list[Diagnostic] = []
    for d in diags:
        if d.source == "ruff" and d.code in settings.severity:
            d.severity = settings.severity[d.code]  # type: ignore[assignment]
        if not settings.selection.enabled(d.code):
            continue
        if extra_ignores and _matches(d.code, extra_ignores):
            continue
        if info.suppressions.suppressed(d):
            continue
        kept.append(d)
    kept.sort(key=Diagnostic.sort_key)
    return kept


_BACKTICKED = re.compile(r"`([^`]+)`")


def _used_by_magic(item: dict[str, Any], magic_imports: set[str]) -> bool:
    if item.get("code") != "F401":
        return False
    match = _BACKTICKED.search(str(item.get("message", "")))
    return bool(match and match.group(1) in magic_imports)


def _ruff_name(path: str) -> str:
    return path if path.endswith(".ipynb") else path + ".ipynb"


# --------------------------------------------------------------------------- workers

_WORKER: _Analyzer | None = None

_Result = tuple[str, list[Diagnostic] | None, list[int], _NbInfo | None, str | None]


def _worker_init(settings: LintSettings) -> None:
    global _WORKER
    # a worker allocates many small objects (syntax trees, findings) and frees them per
    # notebook: the default thresholds ran the cycle collector for ~7% of its CPU; these are
    # our own processes, so the setting touches no caller
    gc.set_threshold(10_000, 10, 10)
    cache = Path(settings.cache_dir) if settings.cache_dir else None
    black = settings.format_check and settings.formatter == "black"
    checker = FormatChecker(settings.black, cache) if black else None
    _WORKER = _Analyzer(settings, checker)


def _worker_lint(path: str) -> _Result:
    """Lint one file (nbops rules and black); ruff's findings are merged by the caller."""
    assert _WORKER is not None
    try:
        nb = notebook_from_bytes(Path(path).read_bytes(), path=Path(path))
    except NotebookReadError as exc:
        return path, None, [], None, json.dumps(exc.to_json())
    except OSError as exc:
        return path, None, [], None, json.dumps({"message": f"cannot read file: {exc.strerror}"})
    diags, broken, magic_imports, to_format = _WORKER.run(nb)
    info = _NbInfo.of(nb, bool(broken), magic_imports, to_format)
    return path, diags, sorted(broken), info, None


class _BrokenRuffQueue:
    """ruff stops at a notebook's first syntax error, so the batch run's findings for a
    notebook with a broken cell are not usable: ruff runs again on it with the broken cells
    blanked, in threads of the main process (which waits on the workers anyway) as soon as a
    worker reports the notebook, so the workers never wait on a ruff process."""

    def __init__(self, settings: LintSettings) -> None:
        self.settings = settings
        self.pool: ThreadPoolExecutor | None = None
        self.futures: dict[str, Future[list[dict[str, Any]]]] = {}

    def add(self, result: _Result) -> None:
        path, _, broken, info, _ = result
        if not broken or info is None or not info.is_python:
            return
        if not self.settings.selection.wants_ruff:
            return
        if self.pool is None:
            self.pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="nbops-ruff")
        sel, ign = self.settings.selection.ruff_codes()
        self.futures[path] = self.pool.submit(
            run_ruff_notebook, info.cells, _ruff_name(path), sel, ign, blank=broken
        )

    def results(self) -> dict[str, list[dict[str, Any]] | None]:
        """ruff's findings by path; None where ruff failed (``_finish`` retries and reports)."""
        out: dict[str, list[dict[str, Any]] | None] = {}
        for path, future in self.futures.items():
            try:
                out[path] = future.result()
            except NbopsError:
                out[path] = None
        return out

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=False, cancel_futures=True)


# --------------------------------------------------------------------------- the linter


class _FileCache:
    def __init__(self, folder: Path, salt: str) -> None:
        self.salt = salt
        self.db: sqlite3.Connection | None = None
        try:
            folder.mkdir(parents=True, exist_ok=True)
            gitignore = folder / ".gitignore"
            if not gitignore.exists():
                gitignore.write_text("# created by nbops\n*\n")
            self.db = sqlite3.connect(str(folder / "files.sqlite3"), timeout=30)
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=NORMAL")
            self.db.execute(
                "CREATE TABLE IF NOT EXISTS files (path TEXT PRIMARY KEY, key TEXT, value TEXT)"
            )
        except (sqlite3.Error, OSError):
            self.db = None
        self._pending: list[tuple[str, str, str]] = []
        self._ruff_configs: dict[str, bytes] = {}

    def key(self, path: Path, data: bytes) -> str:
        h = hashlib.blake2b(digest_size=20)
        h.update(self.salt.encode())
        h.update(b"\0" + str(path).encode() + b"\0")
        h.update(self._ruff_config(str(Path(path).absolute().parent)))
        h.update(data)
        return h.hexdigest()

    def _ruff_config(self, folder: str) -> bytes:
        """The text of the ruff configuration that applies in ``folder`` (a changed
        line-length or rule selection must not reuse findings): ruff's own lookup, the nearest
        ``.ruff.toml``, ``ruff.toml`` or ``pyproject.toml`` with a ``[tool.ruff`` table;
        memoised per folder for the run."""
        found = self._ruff_configs.get(folder)
        if found is not None:
            return found
        here = Path(folder)
        text = b""
        for name in (".ruff.toml", "ruff.toml", "pyproject.toml"):
            try:
                data = (here / name).read_bytes()
            except OSError:
                continue
            if name != "pyproject.toml" or b"[tool.ruff" in data:
                text = name.encode() + b"\0" + data
                break
        if not text and here.parent != here:
            text = self._ruff_config(str(here.parent))
        self._ruff_configs[folder] = text
        return text

    def get(self, path: Path, key: str) -> list[dict[str, Any]] | None:
        if self.db is None:
            return None
        try:
            row = self.db.execute(
                "SELECT key, value FROM files WHERE path=?", (os.path.realpath(path),)
            ).fetchone()
        except sqlite3.Error:
            return None
        if row is None or row[0] != key:
            return None
        value: list[dict[str, Any]] = json.loads(row[1])
        return value

    def put(self, path: Path, key: str, diags: list[Diagnostic]) -> None:
        if self.db is None:
            return
        self._pending.append(
            (os.path.realpath(path), key, json.dumps([d.to_json() for d in diags]))
        )
        if len(self._pending) >= 200:
            self.flush()

    def flush(self) -> None:
        if self.db is None or not self._pending:
            return
        try:
            with self.db:
                self.db.executemany(
                    "INSERT OR REPLACE INTO files(path, key, value) VALUES (?, ?, ?)", self._pending
                )
        except sqlite3.Error:
            pass  # caching is best effort
        self._pending.clear()


class Linter:
    """Lints notebooks with one set of settings. Reuse it: rules and caches stay warm."""

    def __init__(
        self,
        config: Config | None = None,
        *,
        select: Sequence[str] | None = None,
        ignore: Sequence[str] | None = None,
        extend_select: Sequence[str] | None = None,
        format_check: bool | None = None,
        formatter: str | None = None,
        cache: bool | None = None,
        cache_dir: str | Path | None = None,
        jobs: int | None = None,
    ) -> None:
        self.config = config if config is not None else load_config()
        cfg = self.config
        selection = Selection.build(
            select=select or cfg.select or None,
            ignore=[*cfg.ignore, *(ignore or [])],
            extend_select=[*cfg.extend_select, *(extend_select or [])],
        )
        use_cache = cfg.cache if cache is None else cache
        root = cfg.root or Path.cwd()
        folder = Path(cache_dir) if cache_dir else root / ".nbops_cache"
        self.cache_dir = folder if use_cache else None
        self.settings = LintSettings(
            selection=selection,
            severity=cfg.severity,
            options=cfg.options,
            format_check=cfg.format_check if format_check is None else format_check,
            black=cfg.black,
            per_file_ignores=cfg.per_file_ignores,
            root=str(cfg.root) if cfg.root else None,
            cache_dir=str(self.cache_dir) if self.cache_dir else None,
            formatter=formatter or cfg.format,
        )
        if self.settings.formatter not in ("ruff", "black"):
            raise UsageError(
                f"unknown formatter {self.settings.formatter!r}: use ruff or black"
            )
        self.jobs = max(1, jobs or os.cpu_count() or 1)
        self._analyzer: _Analyzer | None = None
        self._file_cache: _FileCache | None = None

    # -- in-process ------------------------------------------------------------------------
    @property
    def analyzer(self) -> _Analyzer:
        if self._analyzer is None:
            checker = None
            if self.settings.format_check and self.settings.formatter == "black":
                checker = FormatChecker(
                    self.settings.black, self.cache_dir if self.cache_dir else None
                )
            self._analyzer = _Analyzer(self.settings, checker)
        return self._analyzer

    @property
    def file_cache(self) -> _FileCache | None:
        if self.cache_dir is None:
            return None
        if self._file_cache is None:
            salt = self.settings.fingerprint()
            settings = self.settings
            if settings.selection.wants_ruff or (
                settings.format_check and settings.formatter == "ruff"
            ):
                salt += ruff_version()
            self._file_cache = _FileCache(self.cache_dir, salt)
        return self._file_cache

    def lint_notebook(self, nb: Notebook) -> list[Diagnostic]:
        """Lint a notebook model (e.g. unsaved content from JupyterLab); never cached."""
        diags, broken, magic_imports, to_format = self.analyzer.run(nb)
        info = _NbInfo.of(nb, True, magic_imports, to_format)
        if to_format:
            diags += _ruff_format_batch([info], self.settings)[info.path]
        return _finish(info, diags, None, broken, self.settings)

    def lint_file(self, path: str | Path) -> FileReport:
        return self.lint_paths([path])[0]

    # -- many files ------------------------------------------------------------------------
    def lint_paths(self, paths: Sequence[str | Path]) -> list[FileReport]:
        return list(self.iter_paths(paths))

    def iter_paths(self, paths: Sequence[str | Path], batch: int = 200) -> Iterator[FileReport]:
        """Reports in path order, produced batch by batch so memory stays flat however
        large the folder: paths that matched nothing first, then every notebook."""
        files, missing = discover(paths, self.config)
        for text in missing:
            yield _unreadable(
                text,
                NotebookReadError(
                    "no such file or directory" if not glob.has_magic(text) else "no file matches",
                    path=text,
                ),
            )
        files.sort(key=str)
        pool: ProcessPoolExecutor | None = None
        try:
            for start in range(0, len(files), batch):
                chunk = files[start : start + batch]
                if pool is None and self.jobs > 1 and len(files) >= 8:
                    all_rules()  # imported once here: the forked workers share it
                    pool = ProcessPoolExecutor(
                        max_workers=min(self.jobs, len(files)),
                        mp_context=get_context("fork") if hasattr(os, "fork") else get_context("spawn"),
                        initializer=_worker_init,
                        initargs=(self.settings,),
                    )
                yield from self._lint_batch(chunk, pool)
        finally:
            if pool is not None:
                pool.shutdown(cancel_futures=True)
            if self._file_cache is not None:
                self._file_cache.flush()

    def _lint_batch(
        self, files: list[Path], pool: ProcessPoolExecutor | None
    ) -> Iterator[FileReport]:
        reports: dict[str, FileReport] = {}
        todo: list[tuple[Path, str]] = []
        cache = self.file_cache
        for path in files:
            if cache is None:
                todo.append((path, ""))
                continue
            try:
                data = path.read_bytes()
            except OSError:
                todo.append((path, ""))
                continue
            key = cache.key(path, data)
            hit = cache.get(path, key)
            if hit is not None:
                reports[str(path)] = FileReport(
                    str(path), [Diagnostic.from_json(d) for d in hit], cached=True
                )
            else:
                todo.append((path, key))
        if todo:
            for report, key in self._lint_uncached(todo, pool):
                reports[report.path] = report
                if cache is not None and key and report.error is None:
                    cache.put(Path(report.path), key, report.diagnostics)
        for path in files:
            yield reports.pop(str(path))

    def _lint_uncached(
        self, todo: list[tuple[Path, str]], pool: ProcessPoolExecutor | None
    ) -> Iterator[tuple[FileReport, str]]:
        settings = self.settings
        ruff_run: RuffRun | None = None
        if settings.selection.wants_ruff:
            sel, ign = settings.selection.ruff_codes()
            ruff_run = RuffRun([p for p, _ in todo], sel, ign, cache=self.cache_dir is not None)
        keys = {str(p): k for p, k in todo}
        queue = _FormatQueue(settings)
        reruns = _BrokenRuffQueue(settings)
        try:
            results: list[_Result] = []
            if pool is not None:
                # neighbouring files are often copies of each other: keeping them in one
                # chunk lets a worker's memo of analysed cells pay off
                for result in pool.map(_worker_lint, [str(p) for p, _ in todo], chunksize=4):
                    results.append(result)
                    queue.add(result[3])
                    reruns.add(result)
            else:
                global _WORKER
                saved = _WORKER
                _WORKER = self.analyzer
                try:
                    for file, _ in todo:
                        results.append(_worker_lint(str(file)))
                        queue.add(results[-1][3])
                        reruns.add(results[-1])
                finally:
                    _WORKER = saved
            formatted = queue.results()
            rerun_items = reruns.results()
            ruff_results = ruff_run.results() if ruff_run is not None else {}
        except BaseException:
            if ruff_run is not None:
                ruff_run.kill()
            raise
        finally:
            queue.close()
            reruns.close()
        for path, diags, broken, info, error in results:
            if diags is not None:
                diags += formatted.get(path, [])
            if error is not None or info is None or diags is None:
                data = json.loads(error or "{}")
                yield _unreadable(
                    path,
                    NotebookReadError(str(data.get("message")), path=path, hint=data.get("hint")),
                ), ""
                continue
            if broken:
                items = rerun_items.get(path)  # None: _finish runs ruff itself
            elif ruff_run is not None and os.path.realpath(path) in ruff_run.failed:
                items = None  # ruff alone on this notebook: a finding names the failure
            else:
                items = ruff_results.get(os.path.realpath(path), [])
            final = _finish(info, diags, items, set(broken), settings)
            yield FileReport(path, final), keys[path]


def lint_notebook(path: str | Path, **options: Any) -> list[Diagnostic]:
    """Convenience API: lint one notebook file with the config found from its folder."""
    p = Path(path)
    if not p.exists():
        raise UsageError(f"no such file: {p}")
    linter = Linter(load_config(p.parent), **options)
    return linter.lint_file(p).diagnostics
