"""Renderers of lint results: human text (with colour), JSON, SARIF 2.1.0 and GitHub annotations.

Every format carries unreadable files as error entries (code NB001) with their path and
reason, so no format silently drops a file. A run that fails part-way (a tool error) still
ends its JSON document, with the failure in ``errors``, before the error goes on.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import TextIO

from nbops import api_types
from nbops._version import version
from nbops.errors import NbopsError
from nbops.lint import sarif
from nbops.lint.diagnostic import Diagnostic
from nbops.lint.engine import FileReport

__all__ = ["Tally", "summary", "write_stream"]

_COLOURS = {"error": "\033[31m", "warning": "\033[33m", "info": "\033[36m"}
_BOLD, _RESET = "\033[1m", "\033[0m"


def _where(d: Diagnostic) -> str:
    parts = [d.path]
    if d.cell is not None:
        parts.append(f"cell {d.cell}")
        if d.line is not None:
            parts.append(f"{d.line}:{d.column or 1}")
    return ":".join(parts)


def _all(reports: Sequence[FileReport]) -> list[Diagnostic]:
    return [d for r in reports for d in r.diagnostics]


def summary(reports: Sequence[FileReport]) -> api_types.Summary:
    """The counts of ``nbops lint --format json``'s ``summary`` for finished reports."""
    tally = Tally()
    for report in reports:
        tally.add(report)
    return tally.to_json()


def _lines(reports: Sequence[FileReport], colour: bool, concise: bool) -> str:
    def c(code: str, text: str) -> str:
        return f"{code}{text}{_RESET}" if colour else text

    lines: list[str] = []
    for report in reports:
        for d in report.diagnostics:
            fix = " [*]" if d.fix and d.fix.applicability == "safe" else ""
            if concise:
                lines.append(f"{_where(d)}: {d.code}{fix} {d.message}")
                continue
            sev = c(_COLOURS.get(d.severity, ""), d.severity)
            lines.append(f"{c(_BOLD, _where(d))}: {c(_BOLD, d.code)}{fix} {d.message} ({sev})")
    return "".join(line + "\n" for line in lines)


def _closing(s: api_types.Summary) -> str:
    if not s["findings"]:
        return f"All checks passed on {s['files']} notebook(s).\n"
    text = (
        f"\nFound {s['findings']} finding(s) in {s['files_with_findings']} of {s['files']} "
        f"notebook(s): {s['errors']} error(s), {s['warnings']} warning(s), {s['infos']} info.\n"
    )
    if s["fixable"]:
        text += f"[*] {s['fixable']} fixable with `nbops fix`.\n"
    return text


def _gh_escape(text: str, prop: bool = False) -> str:
    text = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    if prop:
        text = text.replace(":", "%3A").replace(",", "%2C")
    return text


def _github(reports: Sequence[FileReport]) -> str:
    level = {"error": "error", "warning": "warning", "info": "notice"}
    lines = []
    for d in _all(reports):
        props = [f"file={_gh_escape(d.path, True)}"]
        # annotations point into the .ipynb JSON: GitHub cannot map cell lines, so the cell
        # goes into the title and the message
        title = f"{d.code} (cell {d.cell})" if d.cell else d.code
        props.append(f"title={_gh_escape(title, True)}")
        where = f"cell {d.cell}" + (f", line {d.line}" if d.line else "") if d.cell else ""
        msg = f"{where}: {d.message}" if where else d.message
        lines.append(f"::{level.get(d.severity, 'warning')} {','.join(props)}::{_gh_escape(msg)}")
    return "\n".join(lines) + ("\n" if lines else "")


class Tally:
    """Counts findings as reports stream past, for the closing summary."""

    def __init__(self) -> None:
        self.files = self.files_with_findings = self.unreadable = 0
        self.by_severity: Counter[str] = Counter()
        self.fixable = 0

    def add(self, report: FileReport) -> None:
        self.files += 1
        self.files_with_findings += bool(report.diagnostics)
        self.unreadable += report.error is not None
        for d in report.diagnostics:
            self.by_severity[d.severity] += 1
            self.fixable += bool(d.fix and d.fix.applicability == "safe")

    def to_json(self) -> api_types.Summary:
        return {
            "files": self.files,
            "files_with_findings": self.files_with_findings,
            "unreadable": self.unreadable,
            "findings": sum(self.by_severity.values()),
            "errors": self.by_severity.get("error", 0),
            "warnings": self.by_severity.get("warning", 0),
            "infos": self.by_severity.get("info", 0),
            "fixable": self.fixable,
        }


def write_stream(
    reports: Iterable[FileReport], fmt: str, out: TextIO, *, colour: bool = False
) -> tuple[Tally, list[FileReport]]:
    """Write reports as they arrive (memory stays flat for text, concise, github and json).

    Returns the tally and the reports of unreadable files. SARIF needs the whole run at
    once, so it is collected and written at the end.
    """
    tally = Tally()
    unreadable: list[FileReport] = []
    if fmt == "sarif":
        collected = list(reports)
        for r in collected:
            tally.add(r)
        unreadable = [r for r in collected if r.error is not None]
        out.write(sarif.render(collected))
        return tally, unreadable
    if fmt == "json":
        out.write(f'{{"version": {json.dumps(version())}, "diagnostics": [')
        first = True
        failure: NbopsError | None = None
        try:
            for report in reports:
                tally.add(report)
                if report.error is not None:
                    unreadable.append(report)
                for d in report.diagnostics:
                    out.write(("\n  " if first else ",\n  ") + json.dumps(d.to_json()))
                    first = False
        except NbopsError as exc:
            failure = exc  # the document is closed (valid JSON) before the error goes on
        errors = [{"path": r.path, "message": r.error} for r in unreadable]
        if failure is not None:
            errors.append({"path": failure.path, "message": str(failure.message)})
        out.write("\n],\n")
        out.write(f'"errors": {json.dumps(errors)},\n"summary": {json.dumps(tally.to_json())}}}\n')
        if failure is not None:
            raise failure
        return tally, unreadable
    for report in reports:
        tally.add(report)
        if report.error is not None:
            unreadable.append(report)
        if report.diagnostics:
            if fmt == "github":
                out.write(_github([report]))
            else:
                out.write(_lines([report], colour, fmt == "concise"))
    if fmt in ("text",):
        out.write(_closing(tally.to_json()))
    return tally, unreadable
