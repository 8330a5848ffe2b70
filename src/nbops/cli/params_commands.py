"""``nbops params``: the parameters a notebook takes (its papermill ``parameters`` cell).

Thin over :mod:`nbops.run.params`. Exit 0 when the notebook has a parameters cell (tagged, or
found by its ``# parameters`` first line), 1 when it has none, 2 on a usage or input error.
"""

from __future__ import annotations

import json
import shlex
import sys
from pathlib import Path
from typing import Any

from nbops.cli import exits
from nbops.run.params import (
    MISSING_PARAMETERS_RULE,
    PARAMETERS_TAG,
    NotebookParameters,
    ParamSpec,
    add_parameters_tag,
    no_cell_message,
    parameters_document,
    read_parameters,
)

__all__ = ["cmd_params", "register"]

_MAX_DEFAULT = 40  # characters of a default shown in the text table


def register(sub: Any) -> None:
    params = sub.add_parser(
        "params",
        help="list a notebook's parameters (its papermill 'parameters' cell)",
        description="List the parameters of a notebook: the assignments of the cell tagged "
        "'parameters' (papermill's rule) or, failing that, of the first code cell starting "
        "with a '# parameters' comment, with their types, defaults and help comments.",
        epilog=exits.epilog({
            exits.OK: "the notebook has a parameters cell",
            exits.FAILED: "it has none",
            exits.WRITE: "with --fix: the notebook could not be written",
        }),
    )
    params.add_argument("notebook", type=Path, metavar="NOTEBOOK", help="the notebook to read")
    params.add_argument("--format", dest="output_format", choices=("text", "json"), default="text",
                        help="text (default) or json")
    params.add_argument(
        "--fix",
        action="store_true",
        help="tag the cell found by its '# parameters' comment 'parameters' "
        "(atomic write, backup in .nbops_backup/)",
    )
    params.set_defaults(handler=cmd_params)


def _shown_default(spec: ParamSpec) -> str:
    text = spec.default_source
    if "\n" in text:
        text = repr(spec.default) if spec.type != "expression" else " ".join(text.split())
    if len(text) > _MAX_DEFAULT:
        text = text[: _MAX_DEFAULT - 1] + "…"
    return text


def _table(specs: list[ParamSpec]) -> list[str]:
    rows = [("name", "type", "default", "help")]
    rows += [(s.name, s.type, _shown_default(s), s.help) for s in specs]
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    return [
        (
            "  "
            + "  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row[:3]))
            + "  "
            + row[3]
        ).rstrip()
        for row in rows
    ]


def _print_text(params: NotebookParameters, shown: str, fixed: bool | None) -> None:
    out = sys.stdout.write
    assert params.cell is not None
    number = params.cell + 1
    if fixed:
        out(
            f"{shown}: tagged cell {number} '{PARAMETERS_TAG}' "
            "(the original is kept in .nbops_backup/)\n"
        )
    elif fixed is False and params.tagged:
        out(f"{shown}: cell {number} is already tagged '{PARAMETERS_TAG}': nothing to fix\n")
    count = len(params.specs)
    how = (
        f"tagged '{PARAMETERS_TAG}'"
        if params.tagged
        else "found by its '# parameters' comment, not tagged"
    )
    noun = "parameter" if count == 1 else "parameters"
    if count:
        out(f"{shown}: {count} {noun} in cell {number} ({how})\n")
        out("\n".join(_table(params.specs)) + "\n")
    else:
        out(f"{shown}: the parameters cell, cell {number} ({how}), assigns no values\n")
    if not params.tagged:
        out(
            f"note: papermill only sees a cell tagged '{PARAMETERS_TAG}': cell {number} starts "
            f"with '# parameters' but is not tagged, so values given to a run are not injected "
            f"after it (lint rule {MISSING_PARAMETERS_RULE}). "
            f"Tag it: nbops params {shlex.quote(shown)} --fix\n"
        )


def cmd_params(args: Any) -> int:
    path: Path = args.notebook
    shown = str(path)
    fixed: bool | None = None
    if args.fix:
        fixed = add_parameters_tag(path)
    params = read_parameters(path)
    if args.output_format == "json":
        document: dict[str, Any] = {**parameters_document(params), "notebook": shown}
        if args.fix:
            document["fixed"] = bool(fixed)
        json.dump(document, sys.stdout, indent=2, ensure_ascii=False)
        sys.stdout.write("\n")
        if params.cell is None:
            print(no_cell_message(shown).rstrip("\n"), file=sys.stderr)
            return 1
        return 0
    if params.cell is None:
        sys.stdout.write(no_cell_message(shown))
        return 1
    _print_text(params, shown, fixed)
    return 0
