"""SARIF 2.1.0 for code scanning: findings placed on the line of the ``.ipynb`` file itself.

A finding's line is a line of its cell; code scanning shows the notebook file as text, so
each region is the line and column in the notebook's JSON text where that cell line is.
:class:`NotebookText` finds every cell's ``source`` value by scanning the file's JSON (any
layout: nbformat's ``indent=1`` with one string per line, a single string per cell,
minified JSON on one line, ``\\u`` escapes) and maps a decoded source position back to the
raw text. A minified notebook puts every finding on line 1, at the exact column. The cell
number and the cell-relative line stay in the message and the properties.

Rules carry descriptions and help links: nbops' own rules from the registry (docs/rules.md),
black's ``FMT001``, and ruff's codes from ``ruff rule --all`` (run once per process).
``partialFingerprints`` hash the rule, the finding's source line and its occurrence, never
a line number, so a finding keeps its identity when code moves.
"""

from __future__ import annotations

import bisect
import functools
import hashlib
import json
import re
import subprocess
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nbops._version import version
from nbops.lint.diagnostic import BLACK_URL, RULES_URL, Diagnostic, rule_anchor

if TYPE_CHECKING:
    from nbops.lint.engine import FileReport

__all__ = ["FINGERPRINT_KEY", "NotebookText", "render", "rule_anchor"]

FINGERPRINT_KEY = "nbopsFinding/v1"
_LEVEL = {"error": "error", "warning": "warning", "info": "note"}
_RUFF_RULES_URL = "https://docs.astral.sh/ruff/rules/"

# ------------------------------------------------------------------ locating cells in the JSON text

_WS = re.compile(r"[ \t\n\r]*")
_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)  # unrolled: fast on long strings
_SCALAR = re.compile(r"-?[0-9][0-9.eE+-]*|true|false|null")
_BRACKET_OR_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{}]', re.DOTALL)
_ESCAPES = {'"': '"', "\\": "\\", "/": "/", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t"}


def _ws(text: str, i: int) -> int:
    m = _WS.match(text, i)
    return m.end() if m else i


def _skip(text: str, i: int) -> int:
    """The offset just after the JSON value starting at ``i``."""
    ch = text[i]
    if ch == '"':
        m = _STRING.match(text, i)
        if not m:
            raise ValueError("unterminated string")
        return m.end()
    if ch in "[{":
        depth = 0
        for m in _BRACKET_OR_STRING.finditer(text, i):
            tok = m.group()
            if tok in "[{":
                depth += 1
            elif tok in "]}":
                depth -= 1
                if depth == 0:
                    return m.end()
        raise ValueError("unbalanced brackets")
    m = _SCALAR.match(text, i)
    if not m:
        raise ValueError(f"no JSON value at offset {i}")
    return m.end()


def _object(text: str, i: int) -> dict[str, int]:
    """Keys of the object at ``i`` and the offset where each value starts."""
    if text[i] != "{":
        raise ValueError("not an object")
    members: dict[str, int] = {}
    i = _ws(text, i + 1)
    if text[i] == "}":
        return members
    while True:
        end = _skip(text, i)
        key = json.loads(text[i:end])
        i = _ws(text, end)
        if text[i] != ":":
            raise ValueError("':' expected")
        i = _ws(text, i + 1)
        members.setdefault(key, i)
        i = _ws(text, _skip(text, i))
        if text[i] == "}":
            return members
        if text[i] != ",":
            raise ValueError("',' expected")
        i = _ws(text, i + 1)


def _array(text: str, i: int) -> list[int]:
    """Offsets where the elements of the array at ``i`` start."""
    if text[i] != "[":
        raise ValueError("not an array")
    items: list[int] = []
    i = _ws(text, i + 1)
    if text[i] == "]":
        return items
    while True:
        items.append(i)
        i = _ws(text, _skip(text, i))
        if text[i] == "]":
            return items
        if text[i] != ",":
            raise ValueError("',' expected")
        i = _ws(text, i + 1)


def _decode(text: str, i: int) -> tuple[str, list[int], int]:
    """The JSON string at ``i``: its value, the raw offset of each decoded character, and
    the offset of its closing quote."""
    chars: list[str] = []
    offsets: list[int] = []
    j = i + 1
    while text[j] != '"':
        n = 1
        ch = text[j]
        if ch == "\\":
            esc = text[j + 1]
            n = 2
            if esc == "u":
                cp = int(text[j + 2 : j + 6], 16)
                n = 6
                if 0xD800 <= cp < 0xDC00 and text[j + 6 : j + 8] == "\\u":
                    low = int(text[j + 8 : j + 12], 16)
                    if 0xDC00 <= low < 0xE000:
                        cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00)
                        n = 12
                ch = chr(cp)
            else:
                ch = _ESCAPES[esc]
        chars.append(ch)
        offsets.append(j)
        j += n
    return "".join(chars), offsets, j


@dataclass
class _Source:
    text: str  # the cell's source, decoded and joined
    offsets: list[int]  # raw offset of each character of ``text``, then one past the end
    line_starts: list[int]  # offset in ``text`` of each line


class NotebookText:
    """Where each cell's source is in a notebook file's JSON text."""

    def __init__(self, text: str) -> None:
        self.text = text
        self._newlines = [m.start() for m in re.finditer("\n", text)]
        self._values: list[int | None] = []  # raw offset of each cell's source value
        self._decoded: dict[int, _Source] = {}
        top = _object(text, _ws(text, 0))
        key = "source"
        if "cells" in top:
            cells = _array(text, top["cells"])
        else:  # nbformat 3: worksheets[0].cells[].input
            sheets = _array(text, top["worksheets"])
            cells = _array(text, _object(text, sheets[0])["cells"]) if sheets else []
            key = "input"
        for start in cells:
            self._values.append(_object(text, start).get(key))

    @classmethod
    def read(cls, path: str | Path) -> NotebookText | None:
        """The notebook file at ``path``, or ``None`` when it cannot be read or scanned."""
        try:
            return cls(Path(path).read_text(encoding="utf-8-sig"))
        except (OSError, UnicodeDecodeError, ValueError, IndexError, KeyError):
            return None

    def _source(self, cell_index: int) -> _Source | None:
        if cell_index in self._decoded:
            return self._decoded[cell_index]
        if not 0 <= cell_index < len(self._values) or self._values[cell_index] is None:
            return None
        start = self._values[cell_index]
        assert start is not None
        text_parts: list[str] = []
        offsets: list[int] = []
        end = start
        try:
            parts = [start] if self.text[start] == '"' else _array(self.text, start)
            for part in parts:
                if self.text[part] != '"':
                    return None  # not a string: not a source nbformat can read
                value, offs, end = _decode(self.text, part)
                text_parts.append(value)
                offsets += offs
        except (ValueError, IndexError, KeyError):  # not a list of strings
            return None
        joined = "".join(text_parts)
        line_starts = [0] + [m.end() for m in re.finditer("\n", joined)]
        source = _Source(joined, [*offsets, end], line_starts)
        self._decoded[cell_index] = source
        return source

    def cell_source(self, cell_index: int) -> str | None:
        """The cell's source as the file holds it (``None``: no such cell)."""
        source = self._source(cell_index)
        return None if source is None else source.text

    def cell_line(self, cell_index: int, line: int) -> str | None:
        """Line ``line`` (1-based) of the cell's source, without its newline."""
        source = self._source(cell_index)
        if source is None or not 1 <= line <= len(source.line_starts):
            return None
        return source.text[source.line_starts[line - 1] :].split("\n", 1)[0]

    def _file_position(self, raw: int) -> tuple[int, int]:
        line = bisect.bisect_left(self._newlines, raw)  # newlines before ``raw``
        line_start = self._newlines[line - 1] + 1 if line else 0
        return line + 1, raw - line_start + 1

    def position(self, cell_index: int, line: int = 1, column: int = 1) -> tuple[int, int] | None:
        """File line and column (1-based, code points) of ``line:column`` of a cell's source.

        A column past the end of its line is the line's end; a line past the source's end
        is the end of the source.
        """
        source = self._source(cell_index)
        if source is None:
            return None
        if line > len(source.line_starts):
            offset = len(source.text)
        else:
            start = source.line_starts[max(line, 1) - 1]
            end = source.text.find("\n", start)
            end = len(source.text) if end < 0 else end
            offset = min(start + max(column, 1) - 1, end)
        return self._file_position(source.offsets[offset])

    def source_position(self, cell_index: int) -> tuple[int, int] | None:
        """Where the cell's ``source`` value starts (for a cell with an empty source)."""
        if not 0 <= cell_index < len(self._values):
            return None
        start = self._values[cell_index]
        return None if start is None else self._file_position(start)


# ------------------------------------------------------------------ rules



@functools.lru_cache(maxsize=4)
def _ruff_rules(binary: str) -> dict[str, dict[str, Any]]:
    """ruff's rule table (``ruff rule --all``), by code; empty when ruff cannot tell."""
    try:
        done = subprocess.run(
            [binary, "rule", "--all", "--output-format", "json"],
            capture_output=True, text=True, check=True, timeout=60,
        )
        return {str(r["code"]): r for r in json.loads(done.stdout) if r.get("code")}
    except (OSError, subprocess.SubprocessError, ValueError, TypeError, KeyError):
        return {}


def ruff_rules() -> dict[str, dict[str, Any]]:
    from nbops.tools import ruff_binary

    try:
        binary = ruff_binary()
    except Exception:  # noqa: BLE001 - no ruff: the rules keep their codes and names only
        return {}
    return _ruff_rules(binary)


def _rules(diags: Sequence[Diagnostic]) -> list[dict[str, Any]]:
    from nbops.lint.registry import FORMAT_CODE, all_rules

    nbops_rules = {cls.code: cls for cls in all_rules()}
    ruff = ruff_rules() if any(d.source == "ruff" for d in diags) else {}
    first: dict[str, Diagnostic] = {}
    for d in diags:
        first.setdefault(d.code, d)
    rules: list[dict[str, Any]] = []
    for code in sorted(first):
        d = first[code]
        rule: dict[str, Any]
        if code in nbops_rules:
            cls = nbops_rules[code]
            rule = {
                "id": code,
                "name": cls.name,
                "shortDescription": {"text": cls.summary},
                "fullDescription": {"text": " ".join(cls.explanation.split())},
                "helpUri": f"{RULES_URL}#{rule_anchor(code, cls.name)}",
                "help": {"text": f"{cls.summary} Run `nbops rule {code}` for examples."},
                "defaultConfiguration": {"level": _LEVEL[cls.severity]},
                "properties": {"tags": ["nbops"]},
            }
        elif code == FORMAT_CODE:
            fmt = "ruff format" if d.source == "ruff" else "black (notebook mode)"
            rule = {
                "id": code,
                "name": "format-check",
                "shortDescription": {"text": f"The cell is not formatted with {fmt}."},
                "fullDescription": {
                    "text": f"{fmt} would reformat this cell; `nbops fix` applies it."
                },
                "helpUri": d.url or BLACK_URL,
                "properties": {"tags": [d.source]},
            }
        elif d.source == "ruff" and code in ruff:
            meta = ruff[code]
            name = str(meta.get("name") or d.name or code)
            rule = {
                "id": code,
                "name": name,
                "shortDescription": {"text": str(meta.get("summary") or name)},
                "fullDescription": {"text": str(meta.get("explanation") or meta.get("summary") or name)},
                "helpUri": f"{_RUFF_RULES_URL}{name}/",
                "properties": {"tags": ["ruff", str(meta.get("linter") or "")]},
            }
        else:  # a ruff code this ruff cannot describe (a syntax error), or an unknown one
            rule = {"id": code, "name": d.name or code, "shortDescription": {"text": d.name or code}}
            if d.url:
                rule["helpUri"] = d.url
        rules.append(rule)
    return rules


# ------------------------------------------------------------------ results


def _fingerprint(code: str, content: str, occurrence: int) -> str:
    text = f"{code}\0{' '.join(content.split())}\0{occurrence}"
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def _region(d: Diagnostic, nb: NotebookText | None) -> dict[str, Any]:
    if d.cell_index is None:
        return {"startLine": 1}  # about the whole notebook: its first line
    if nb is None:
        return {}
    if d.line is None:  # about the whole cell: its source, first to last line
        start = nb.position(d.cell_index, 1, 1)
        if start is None:
            return {}
        source = nb.cell_source(d.cell_index) or ""
        end = nb.position(d.cell_index, len(source.split("\n")), len(source) + 1)
    else:
        start = nb.position(d.cell_index, d.line, d.column or 1)
        end = None
        if start is not None and d.end_line is not None:
            end = nb.position(d.cell_index, d.end_line, d.end_column or 1)
    if start is None:
        return {}
    region: dict[str, Any] = {"startLine": start[0], "startColumn": start[1]}
    if end is not None and end > start:
        region["endLine"], region["endColumn"] = end
    return region


def _results(report: FileReport, index: dict[str, int]) -> list[dict[str, Any]]:
    nb = NotebookText.read(report.path) if report.diagnostics else None
    seen: Counter[tuple[str, str]] = Counter()
    results: list[dict[str, Any]] = []
    for d in report.diagnostics:
        content = ""
        if nb is not None and d.cell_index is not None:
            if d.line is not None:
                content = nb.cell_line(d.cell_index, d.line) or ""
            else:
                content = nb.cell_source(d.cell_index) or ""
        occurrence = seen[(d.code, content)]
        seen[(d.code, content)] += 1
        physical: dict[str, Any] = {"artifactLocation": {"uri": d.path.replace("\\", "/")}}
        region = _region(d, nb)
        if region:
            physical["region"] = region
        location: dict[str, Any] = {"physicalLocation": physical}
        where = ""
        if d.cell is not None:
            where = f"cell {d.cell}" + (f", line {d.line}" if d.line is not None else "") + ": "
            location["logicalLocations"] = [
                {"name": f"cell {d.cell}", "kind": "module",
                 "fullyQualifiedName": f"{d.path}#cell{d.cell}"}
            ]
        results.append(
            {
                "ruleId": d.code,
                "ruleIndex": index[d.code],
                "level": _LEVEL.get(d.severity, "warning"),
                "message": {"text": where + d.message},
                "locations": [location],
                "partialFingerprints": {FINGERPRINT_KEY: _fingerprint(d.code, content, occurrence)},
                "properties": {
                    "cell": d.cell,
                    "cellIndex": d.cell_index,
                    "cellId": d.cell_id,
                    "cellLine": d.line,
                    "cellColumn": d.column,
                    "source": d.source,
                },
            }
        )
    return results


def render(reports: Sequence[FileReport]) -> str:
    """The SARIF 2.1.0 log of a finished lint run."""
    diags = [d for r in reports for d in r.diagnostics]
    rules = _rules(diags)
    index = {rule["id"]: i for i, rule in enumerate(rules)}
    results = [res for r in reports for res in _results(r, index)]
    notifications = [
        {
            "level": "error",
            "message": {"text": f"{r.path}: {r.error}"},
            "locations": [{"physicalLocation": {"artifactLocation": {"uri": r.path.replace("\\", "/")}}}],
        }
        for r in reports
        if r.error is not None
    ]
    sarif = {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "nbops",
                        "version": version(),
                        "informationUri": "https://github.com/nbops/nbops",
                        "rules": rules,
                    }
                },
                "columnKind": "unicodeCodePoints",
                "results": results,
                "invocations": [
                    {"executionSuccessful": not notifications, "toolExecutionNotifications": notifications}
                ],
            }
        ],
    }
    return json.dumps(sarif, indent=2) + "\n"
