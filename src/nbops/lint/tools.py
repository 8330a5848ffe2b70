"""ruff and black as sources of findings, mapped to cells in nbops' diagnostic shape.

ruff runs as its own binary (``ruff check --output-format json``) on whole notebooks; its JSON
already carries the cell. ruff stops at the first syntax error of a notebook, so a notebook
with a broken cell is re-checked with that cell blanked: the broken cell is reported once
(NB003 from nbops' own parser) and every other cell is still linted. black runs in-process
per cell through :func:`nbops.tools.format_cell` (black's notebook mode, magics masked
without IPython) and its results are cached by cell content, so an unchanged cell is never
formatted twice.

Locating and driving the tools (the ruff binary, black's cached per-cell check) lives in
:mod:`nbops.tools`, below lint, so modularize uses them without importing the linter; the
names are re-exported here.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from nbops.errors import ToolError
from nbops.lint.diagnostic import Diagnostic, Edit, Fix
from nbops.tools import (
    FormatChecker,
    FormatResult,
    black_version,
    ruff_binary,
    ruff_error,
    ruff_version,
)

__all__ = [
    "FormatChecker",
    "FormatResult",
    "RuffRun",
    "black_version",
    "map_ruff",
    "ruff_binary",
    "ruff_error",
    "ruff_version",
    "run_ruff_notebook",
    "run_ruff_paths",
]

# nbops' own rules cover these with cell- and history-aware versions.
RUFF_SUPERSEDED = ("F821", "F403")
# ruff calls these fixes safe; in notebooks they are not: an "unused" import often runs for
# its side effects (seaborn's styles, pandas extensions, plugin registration) and removing
# one changes what a run does. nbops offers them as unsafe fixes.
RUFF_UNSAFE_IN_NOTEBOOKS = ("F401",)


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
