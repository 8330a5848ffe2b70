"""Safe fixes: nbops rule fixes, ruff's safe fixes and the formatter, applied to a notebook model.

The order is: nbops' own fixes (re-linting after each round, so every fix is computed from
the current notebook), then ruff's safe fixes (``ruff check --fix-only`` on the cells), then
the formatter the settings name (``ruff format`` or black, as FMT001 reports). Only
code-cell sources, tags and (when asked) outputs change; cell ids, metadata and unknown
keys are kept. Every change is recorded as an :class:`AppliedFix` so the CLI reports
exactly what it changed, and :func:`unreported_changes` checks the result against the
notebook as it was read: anything changed that no applied fix reported (cells removed or
reordered, outputs, metadata, ids, the nbformat version) makes :func:`fix_notebook` raise
:class:`UnreportedChangeError` so nothing is written. Old formats (nbformat 3) are converted
only when asked (``FixOptions.upgrade``), and the conversion is reported as a change.
Writing is atomic with a backup (``Notebook.write``).
"""

from __future__ import annotations

import copy
import difflib
import json
import subprocess
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nbops import api_types
from nbops.core.dataflow import cached_analyze_cell
from nbops.core.magics import magic_identifiers
from nbops.core.notebook import Notebook
from nbops.errors import NbopsError, ToolError
from nbops.lint.diagnostic import Diagnostic, Edit, Fix
from nbops.lint.engine import Linter
from nbops.lint.registry import FORMAT_CODE
from nbops.lint.tools import (
    RUFF_UNSAFE_IN_NOTEBOOKS,
    _minimal_notebook,
    _ruff_args,
    code_of,
    is_syntax_item,
    ruff_error,
    run_ruff_notebook,
)
from nbops.tools import ruff_format_cells

__all__ = [
    "INSERT",
    "AppliedFix",
    "FixOptions",
    "UnreportedChangeError",
    "UpgradeNeededError",
    "apply_fix",
    "fix_notebook",
    "notebook_diff",
    "unreported_changes",
]

# What a fix may change: a cell's source, its tags, its outputs (and execution count), the
# cell itself (deleted), a new cell (inserted: the cell is None), or the whole notebook (an
# nbformat upgrade).
SOURCE, TAGS, OUTPUTS, DELETE, UPGRADE = "source", "tags", "outputs", "delete", "upgrade"
INSERT = "insert"
Change = tuple[int | None, str]  # (the cell's index before any fix, what changed)


class UnreportedChangeError(NbopsError):
    """The fixed notebook differs from the original in a way no applied fix reported."""


class UpgradeNeededError(NbopsError):
    """An old-format (nbformat 3) notebook: fixing it means converting it, which needs
    ``--upgrade``."""


@dataclass(frozen=True)
class AppliedFix:
    code: str
    cell_index: int | None  # the cell's index before any fix was applied
    message: str
    # what the fix changed, for the guard (not part of the JSON the fronts get)
    changes: tuple[Change, ...] = field(default=(), compare=False)

    def to_json(self) -> api_types.AppliedFix:
        return {
            "code": self.code,
            "cell": None if self.cell_index is None else self.cell_index + 1,
            "cell_index": self.cell_index,
            "message": self.message,
        }


@dataclass
class FixOptions:
    unsafe: bool = False
    clear_outputs: bool = False
    rules: bool = True
    ruff: bool = True
    format: bool = True
    max_rounds: int = 10
    upgrade: bool = False  # convert nbformat 3 notebooks (else UpgradeNeededError)
    # fixes from outside lint (``nbops fix --propose-parameters``: nbops.modularize), applied
    # first, on the notebook as read; each returns what it changed, guarded like the others
    prepare: tuple[Callable[[Notebook], list[AppliedFix]], ...] = ()


def _apply_text(source: str, edits: Sequence[Edit]) -> str:
    """Apply ``replace_text`` edits (1-based, end exclusive) from the last to the first."""
    lines = source.splitlines(keepends=True)
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line))

    def offset(line: int | None, col: int | None) -> int:
        assert line is not None and col is not None
        if line - 1 >= len(lines):
            return len(source)
        return min(starts[line - 1] + col - 1, starts[line])

    text = source
    for edit in sorted(edits, key=lambda e: (e.line or 0, e.column or 0), reverse=True):
        a, b = offset(edit.line, edit.column), offset(edit.end_line, edit.end_column)
        text = text[:a] + edit.content + text[b:]
    return text


def apply_fix(nb: Notebook, fix: Fix) -> set[int]:
    """Apply one fix's edits to the model; returns the cells it deleted (indexes before)."""
    text_edits: dict[int, list[Edit]] = {}
    deletes: set[int] = set()
    for edit in fix.edits:
        if not 0 <= edit.cell_index < len(nb.cells):
            continue
        cell = nb.cells[edit.cell_index]
        if edit.op == "replace_source":
            cell.set_source(edit.content)
        elif edit.op == "replace_text":
            text_edits.setdefault(edit.cell_index, []).append(edit)
        elif edit.op == "add_tag":
            cell.add_tag(edit.content)
        elif edit.op == "clear_outputs":
            cell.clear_outputs()
        elif edit.op == "delete_cell":
            deletes.add(edit.cell_index)
    for index, edits in text_edits.items():
        cell = nb.cells[index]
        cell.set_source(_apply_text(cell.source, edits))
    nb.delete_cells(deletes)
    return deletes


_EDIT_CHANGE = {
    "replace_source": SOURCE,
    "replace_text": SOURCE,
    "add_tag": TAGS,
    "clear_outputs": OUTPUTS,
    "delete_cell": DELETE,
}


def _changes_of(fix: Fix, orig: Origin) -> tuple[Change, ...]:
    """What ``fix`` will change, by the cells' original indexes (call before applying it)."""
    return tuple(sorted({(orig(e.cell_index), _EDIT_CHANGE[e.op]) for e in fix.edits}, key=str))


def _rules_linter(linter: Linter) -> Linter | None:
    """A linter of the selected nbops rules only; None when the selection names none
    (``--select FMT001`` must not apply NB fixes)."""
    sel = [p for p in linter.settings.selection.select if p.startswith("NB") or p == "ALL"]
    sel = ["NB" if p == "ALL" else p for p in sel]
    ext = [p for p in linter.settings.selection.extend_select if p.startswith("NB")]
    if not sel and not ext:
        return None
    return Linter(
        linter.config,
        select=sel,
        ignore=list(linter.settings.selection.ignore),
        extend_select=ext,
        format_check=False,
        cache=False,
    )


def _wanted(diag: Diagnostic, options: FixOptions) -> bool:
    fix = diag.fix
    if fix is None or not fix.edits:
        return False
    return fix.applicability != "unsafe" or options.unsafe


Origin = Callable[[int | None], int | None]


def _rule_fixes(
    nb: Notebook, linter: Linter, options: FixOptions, orig: Origin
) -> list[AppliedFix]:
    rules = _rules_linter(linter)
    applied: list[AppliedFix] = []
    if rules is None:
        return applied
    for _ in range(options.max_rounds):
        touched: set[int] = set()
        pending_deletes: list[tuple[Diagnostic, Fix]] = []
        round_applied = 0
        for diag in rules.lint_notebook(nb):
            if not _wanted(diag, options):
                continue
            assert diag.fix is not None
            cells = {e.cell_index for e in diag.fix.edits}
            if cells & touched:
                continue  # one fix per cell per round; the next round re-lints
            touched |= cells
            if any(e.op == "delete_cell" for e in diag.fix.edits):
                pending_deletes.append((diag, diag.fix))
                continue
            applied.append(
                AppliedFix(
                    diag.code, orig(diag.cell_index), diag.fix.message, _changes_of(diag.fix, orig)
                )
            )
            apply_fix(nb, diag.fix)
            round_applied += 1
        # deletions shift indexes: apply them last, bottom-up
        for diag, fix in sorted(
            pending_deletes, key=lambda p: -max(e.cell_index for e in p[1].edits)
        ):
            applied.append(
                AppliedFix(diag.code, orig(diag.cell_index), fix.message, _changes_of(fix, orig))
            )
            apply_fix(nb, fix)
            round_applied += 1
        if not round_applied:
            break
    return applied


def _ruff_fixes(
    nb: Notebook, linter: Linter, broken: set[int], orig: Origin, unsafe: bool
) -> list[AppliedFix]:
    if not nb.is_python or not nb.code_cells or not linter.settings.selection.wants_ruff:
        return []
    sel, ign = linter.settings.selection.ruff_codes()
    cells = [(c.cell_type, c.source) for c in nb.cells]
    name = nb.display_path if nb.display_path.endswith(".ipynb") else "notebook.ipynb"
    before = run_ruff_notebook(cells, name, sel, ign, blank=broken)
    syntax = {int(i["cell"]) - 1 for i in before if is_syntax_item(i) and i.get("cell")}
    blank = broken | syntax
    if syntax:
        before = run_ruff_notebook(cells, name, sel, ign, blank=blank)
    wanted = ("safe", "unsafe") if unsafe else ("safe",)
    fixable = [
        i
        for i in before
        if (i.get("fix") or {}).get("applicability") in wanted
        and i.get("cell")
        and (unsafe or code_of(i) not in RUFF_UNSAFE_IN_NOTEBOOKS)
    ]
    if not fixable:
        return []
    args = [*_ruff_args(sel, ign, cache=False), "--stdin-filename", name, "-"]
    args = [a for a in args if a not in ("--no-fix", "--output-format", "json")]
    args.insert(2, "--fix-only")
    if unsafe:
        args.insert(3, "--unsafe-fixes")
    else:
        args[3:3] = ["--unfixable", ",".join(RUFF_UNSAFE_IN_NOTEBOOKS)]
    folder = Path(name).parent  # as run_ruff_notebook: the notebook's own ruff settings
    try:
        proc = subprocess.run(  # the exit code is read below
            args, input=_minimal_notebook(cells, blank), capture_output=True, timeout=120, check=False,
            cwd=folder if folder.is_dir() else None,
        )
    except (OSError, subprocess.SubprocessError) as exc:
        raise ToolError(f"cannot run ruff: {exc}", path=nb.path) from None
    if proc.returncode not in (0, 1):
        raise ruff_error(proc.stderr, folder)
    try:
        fixed = json.loads(proc.stdout)
    except json.JSONDecodeError:
        raise ToolError("ruff --fix returned something that is not a notebook") from None
    fixed_cells = fixed.get("cells", [])
    if len(fixed_cells) != len(nb.cells):
        raise ToolError("ruff --fix changed the number of cells; nothing was applied")
    after = run_ruff_notebook(
        [(c.get("cell_type", "code"), "".join(c.get("source", ""))) for c in fixed_cells],
        name,
        sel,
        ign,
        blank=blank,
    )
    remaining = {(i.get("cell"), i.get("code")) for i in after}
    magic_words = _magic_words(nb)
    applied: list[AppliedFix] = []
    for index, cell in enumerate(nb.cells):
        if not cell.is_code or index in blank:
            continue
        new_source = "".join(fixed_cells[index].get("source", ""))
        if not cell.source.endswith("\n") and new_source.endswith("\n"):
            new_source = new_source[:-1]
        if new_source == cell.source:
            continue
        if magic_words and _drops_import_used_by_magic(cell.source, new_source, magic_words):
            continue  # ruff cannot see into %time/!cmd lines: keep the cell as it was
        cell.set_source(new_source)
        done = sorted(
            {str(i["code"]) for i in fixable if i["cell"] == index + 1}
            - {str(code) for c, code in remaining if c == index + 1}
        )
        applied.append(
            AppliedFix(
                ",".join(done) or "ruff", orig(index), "ruff's safe fixes", ((orig(index), SOURCE),)
            )
        )
    return applied


def _magic_words(nb: Notebook) -> set[str]:
    words: set[str] = set()
    for cell in nb.iter_code():
        if "%" in cell.source or "!" in cell.source:
            words |= magic_identifiers(cached_analyze_cell(cell.source).source.magics)
    return words


def _drops_import_used_by_magic(old: str, new: str, words: set[str]) -> bool:
    before = {i.bound for i in cached_analyze_cell(old).imports}
    after = {i.bound for i in cached_analyze_cell(new).imports}
    return bool((before - after) & words)


def _format_fixes(
    nb: Notebook, linter: Linter, broken: set[int], orig: Origin
) -> list[AppliedFix]:
    if not nb.is_python or not linter.settings.selection.enabled(FORMAT_CODE):
        return []
    cells = [
        (cell.index, cell.source)
        for cell in nb.iter_code()
        if cell.index not in broken and cell.source.strip()
    ]
    formatter = linter.settings.formatter
    if formatter == "ruff":
        name = nb.path if nb.path is not None else Path.cwd() / "notebook.ipynb"
        results = ruff_format_cells([source for _, source in cells], name)
    else:
        checker = linter.analyzer.checker
        if checker is None:
            from nbops.lint.tools import FormatChecker

            checker = FormatChecker(linter.settings.black)
        results = [checker.check(source) for _, source in cells]
        checker.flush()
    applied: list[AppliedFix] = []
    for (index, _), result in zip(cells, results):
        if result.changed and not result.error:
            nb.cells[index].set_source(result.formatted)
            applied.append(
                AppliedFix(
                    FORMAT_CODE,
                    orig(index),
                    "formatted with ruff format" if formatter == "ruff" else "formatted with black",
                    ((orig(index), SOURCE),),
                )
            )
    return applied


def _broken_cells(nb: Notebook) -> set[int]:
    if not nb.is_python:
        return set()
    return {
        c.index for c in nb.iter_code() if cached_analyze_cell(c.source).syntax_error is not None
    }


def fix_notebook(nb: Notebook, linter: Linter, options: FixOptions | None = None) -> list[AppliedFix]:
    """Apply every wanted fix to ``nb`` in place; returns what was changed.

    Raises :class:`UpgradeNeededError` for an nbformat 3 notebook unless ``options.upgrade``,
    and :class:`UnreportedChangeError` (``nb`` must then not be written) when the result
    differs from the notebook as read in anything no applied fix reports.
    """
    options = options or FixOptions()
    applied: list[AppliedFix] = []
    if nb.upgraded_from is not None:
        if not options.upgrade:
            raise UpgradeNeededError(
                f"nbformat {nb.upgraded_from} notebook: fixing it means converting it to "
                f"nbformat 4 (worksheets become cells, heading cells markdown, new metadata)",
                path=nb.path,
                hint="run `nbops fix --upgrade` to convert it with nbformat, reported as a "
                "change, or re-save it in a current Jupyter",
            )
        applied.append(
            AppliedFix(
                UPGRADE,
                None,
                f"converted from nbformat {nb.upgraded_from} to 4.{nb.nbformat_minor} with "
                "nbformat (worksheets become cells, heading cells markdown, new metadata)",
                ((None, UPGRADE),),
            )
        )
        nb.structure_changed = True
    # the notebook as read, to check the result against: the file's own JSON (the reader
    # may have normalised the model), or the converted notebook when upgrading
    before: dict[str, Any] = (
        json.loads(nb.text) if nb.text and nb.upgraded_from is None else copy.deepcopy(nb.raw)
    )
    # fixes may delete cells: report every change by the cell's number before fixing
    origin = {id(c.raw): c.index for c in nb.cells}

    def orig(index: int | None) -> int | None:
        if index is None or not 0 <= index < len(nb.cells):
            return index
        return origin.get(id(nb.cells[index].raw))  # None: a cell a fix inserted

    for prepare in options.prepare:
        applied += prepare(nb)

    if options.clear_outputs:
        for cell in nb.iter_code():
            if cell.outputs or cell.execution_count is not None:
                cell.clear_outputs()
                applied.append(
                    AppliedFix(
                        "clear-outputs", cell.index, "cleared outputs", ((cell.index, OUTPUTS),)
                    )
                )
    if options.rules:
        applied += _rule_fixes(nb, linter, options, orig)
    broken = _broken_cells(nb)
    if options.ruff:
        applied += _ruff_fixes(nb, linter, broken, orig, options.unsafe)
    if options.format and linter.settings.format_check:
        applied += _format_fixes(nb, linter, broken, orig)
    applied.sort(key=lambda a: -1 if a.cell_index is None else a.cell_index)
    inserted = [i for i, c in enumerate(nb.cells) if id(c.raw) not in origin]
    problems = unreported_changes(before, nb.to_dict(), applied, inserted)
    if problems:
        shown = "; ".join(problems[:5])
        if len(problems) > 5:
            shown += f"; and {len(problems) - 5} more"
        raise UnreportedChangeError(
            f"not written: the fixes would also change what no fix reports: {shown}",
            path=nb.path,
            hint="the notebook is left as it was; fix it by hand, and please report this "
            "if nbops' fixes caused it",
        )
    return applied


_MISSING = object()


def unreported_changes(
    before: dict[str, Any],
    after: dict[str, Any],
    applied: Sequence[AppliedFix],
    inserted: Sequence[int] = (),
) -> list[str]:
    """Every difference between ``before`` and ``after`` (notebook JSON) that no fix in
    ``applied`` reports, in words; empty when the fixes account for every change.

    Compared: the notebook's top-level keys (metadata, nbformat version, unknown keys), the
    cells' number and order (only reported deletions may remove one), and in each cell its
    source, outputs and execution count, metadata (tags apart) and every other key (id,
    cell_type, attachments, unknown keys). ``inserted``: the positions in ``after`` of cells
    fixes added, allowed only when a fix reports an insertion, and left out of the comparison.
    """
    reported: dict[str, set[int | None]] = {}
    for fix in applied:
        for cell, kind in fix.changes:
            reported.setdefault(kind, set()).add(cell)
    problems: list[str] = []
    for key in sorted((set(before) | set(after)) - {"cells"}, key=str):
        old, new = before.get(key, _MISSING), after.get(key, _MISSING)
        if old != new:
            problems.append(f"the notebook's '{key}' ({_how(old, new)})")
    old_cells, new_cells = before.get("cells"), after.get("cells")
    if not isinstance(old_cells, list) or not isinstance(new_cells, list):
        if old_cells != new_cells:
            problems.append("the notebook's 'cells'")
        return problems
    if inserted:
        if INSERT not in reported:
            problems += [f"a new cell {i + 1} that no fix reports" for i in inserted]
        added = set(inserted)
        new_cells = [c for i, c in enumerate(new_cells) if i not in added]
    deleted = reported.get(DELETE, set())
    kept = [(i, c) for i, c in enumerate(old_cells) if i not in deleted]
    if len(kept) != len(new_cells):
        junk = [i + 1 for i, c in kept if not isinstance(c, dict)]
        detail = f" (cells {', '.join(map(str, junk))} are not JSON objects)" if junk else ""
        problems.append(
            f"{len(old_cells)} cells would become {len(new_cells)} with "
            f"{len(deleted)} deletion(s) reported{detail}"
        )
        return problems
    old_ids = [c.get("id") for _, c in kept if isinstance(c, dict)]
    new_ids = [c.get("id") for c in new_cells if isinstance(c, dict)]
    if old_ids != new_ids and sorted(map(str, old_ids)) == sorted(map(str, new_ids)):
        problems.append("the cells' order")
        return problems
    for (index, old), new in zip(kept, new_cells):
        problems += [f"cell {index + 1}: {w}" for w in _cell_changes(index, old, new, reported)]
    return problems


def _cell_changes(
    index: int, old: object, new: object, reported: dict[str, set[int | None]]
) -> list[str]:
    if not isinstance(old, dict) or not isinstance(new, dict):
        return [] if old == new else ["the cell"]
    found: list[str] = []
    allowed = {
        "source": SOURCE,
        "outputs": OUTPUTS,
        "execution_count": OUTPUTS,
    }
    for key in sorted(set(old) | set(new), key=str):
        a, b = old.get(key, _MISSING), new.get(key, _MISSING)
        if a == b:
            continue
        kind = allowed.get(key)
        if kind is not None and index in reported.get(kind, set()):
            continue
        if key == "metadata" and isinstance(a, dict) and isinstance(b, dict):
            tags_ok = index in reported.get(TAGS, set())
            keys = sorted(
                (k for k in set(a) | set(b)
                 if a.get(k, _MISSING) != b.get(k, _MISSING) and not (k == "tags" and tags_ok)),
                key=str,
            )
            found += [f"metadata '{k}' ({_how(a.get(k, _MISSING), b.get(k, _MISSING))})"
                      for k in keys]
            continue
        found.append(f"'{key}' ({_how(a, b)})")
    return found


def _how(old: object, new: object) -> str:
    if old is _MISSING:
        return "added"
    if new is _MISSING:
        return "removed"
    return "changed"


def notebook_diff(before: Notebook, after: Notebook) -> str:
    """A unified diff of cell sources, tags and outputs, cell by cell, for ``--diff``."""
    name = before.display_path
    old = _render(before)
    new = _render(after)
    return "".join(
        difflib.unified_diff(old, new, fromfile=f"a/{name}", tofile=f"b/{name}", n=2)
    )


def _render(nb: Notebook) -> list[str]:
    lines: list[str] = []
    for cell in nb.cells:
        ident = cell.id or f"#{cell.index + 1}"
        tags = f" tags={','.join(cell.tags)}" if cell.tags else ""
        lines.append(f"# %% [{cell.cell_type}] id={ident}{tags}\n")
        for line in cell.source.splitlines():
            lines.append(line + "\n")
        if cell.is_code and (cell.outputs or cell.execution_count is not None):
            lines.append(f"# [outputs: {len(cell.outputs)}, execution_count: {cell.execution_count}]\n")
    return lines
