"""A compact text form of small notebooks, for rule examples, rule docs and tests.

Cells are separated by ``# %%`` header lines (the percent format used by jupytext and
VS Code), each followed by options::

    # %% [markdown]
    # Churn model
    # %% exec=2 tags=parameters
    SEED = 42
    # %% exec=1 output="hello" error="KeyError: 'x'" stderr="warning"
    print(x)

Markdown and raw bodies are taken verbatim (so ``# Title`` is an H1). Text before the first
header is a code cell; a snippet with no header is one code cell. A first line
``#! kernel=ir language=R`` sets the notebook's kernel; ``#! nometa`` leaves metadata empty.
"""

from __future__ import annotations

import json
import re
import textwrap
from pathlib import Path
from typing import Any

from nbops.core.notebook import Notebook, notebook_from_dict

__all__ = ["notebook_from_snippet", "parse_header"]

_HEADER = re.compile(r"^# %%(?:\s+\[(markdown|md|raw|code)\])?(.*)$")


_OPTION = re.compile(r'([A-Za-z_][\w-]*)(?:=("(?:[^"\\]|\\.)*"|\S+))?')


def parse_header(rest: str) -> dict[str, str]:
    """Parse ``key=value`` options; values may be double-quoted JSON strings with spaces."""
    options: dict[str, str] = {}
    for match in _OPTION.finditer(rest):
        key, value = match.group(1), match.group(2)
        if value is None:
            options[key] = "true"
        elif value.startswith('"') and value.endswith('"') and len(value) >= 2:
            options[key] = json.loads(value)
        else:
            options[key] = value
    return options


def _cell(kind: str, lines: list[str], options: dict[str, str], n: int) -> dict[str, Any]:
    source = "\n".join(lines).strip("\n")
    cell: dict[str, Any] = {"cell_type": kind, "id": f"cell-{n}", "metadata": {}, "source": source}
    if "tags" in options:
        cell["metadata"]["tags"] = [t for t in options["tags"].split(",") if t]
    if kind != "code":
        if "exec" in options:  # invalid on purpose: lets examples show schema problems
            cell["execution_count"] = int(options["exec"])
        return cell
    count = options.get("exec")
    cell["execution_count"] = int(count) if count and count != "none" else None
    outputs: list[dict[str, Any]] = []
    if "output" in options:
        outputs.append({"output_type": "stream", "name": "stdout", "text": options["output"]})
    if "stderr" in options:
        outputs.append({"output_type": "stream", "name": "stderr", "text": options["stderr"]})
    if "result" in options:
        outputs.append(
            {
                "output_type": "execute_result",
                "execution_count": cell["execution_count"],
                "data": {"text/plain": options["result"]},
                "metadata": {},
            }
        )
    if "error" in options:
        ename, _, evalue = options["error"].partition(":")
        tb = options.get("traceback", "")
        outputs.append(
            {
                "output_type": "error",
                "ename": ename.strip(),
                "evalue": evalue.strip(),
                "traceback": tb.split("\n") if tb else [f"{ename.strip()}: {evalue.strip()}"],
            }
        )
    if "output_bytes" in options:
        size = int(options["output_bytes"])
        outputs.append(
            {
                "output_type": "display_data",
                "data": {"image/png": "A" * size, "text/plain": "<Figure>"},
                "metadata": {},
            }
        )
    cell["outputs"] = outputs
    return cell


def notebook_from_snippet(text: str, path: str | Path = "analysis.ipynb") -> Notebook:
    """Build a :class:`Notebook` from the snippet format."""
    lines = textwrap.dedent(text).strip("\n").splitlines()
    meta: dict[str, Any] = {
        "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
        "language_info": {"name": "python"},
    }
    if lines and lines[0].startswith("#!"):
        directives = parse_header(lines[0][2:])
        lines = lines[1:]
        if "nometa" in directives:
            meta = {}
        if "kernel" in directives or "language" in directives:
            lang = directives.get("language", "python")
            meta = {
                "kernelspec": {
                    "display_name": directives.get("kernel", lang),
                    "language": lang,
                    "name": directives.get("kernel", lang),
                },
                "language_info": {"name": lang},
            }
    cells: list[dict[str, Any]] = []
    kind = "code"
    options: dict[str, str] = {}
    body: list[str] = []
    started = False
    for line in lines:
        match = _HEADER.match(line)
        if match:
            if started or any(b.strip() for b in body):
                cells.append(_cell(kind, body, options, len(cells)))
            started = True
            tag = match.group(1) or "code"
            kind = {"md": "markdown"}.get(tag, tag)
            options, body = parse_header(match.group(2)), []
        else:
            body.append(line)
    if started or any(b.strip() for b in body):
        cells.append(_cell(kind, body, options, len(cells)))
    raw = {"nbformat": 4, "nbformat_minor": 5, "metadata": meta, "cells": cells}
    return notebook_from_dict(raw, path=Path(path))
