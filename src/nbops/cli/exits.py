"""The exit codes of the ``nbops`` command, in one table, and the help that lists them.

Codes 2, 3 and 4 come from :func:`nbops.errors.exit_code` (the one mapping of errors to exit
codes); 70 and 130 are :func:`nbops.cli.main.main`'s. Each command passes the codes it can
return, with what they mean for it, to :func:`epilog`, which renders the ``exit codes:``
section of its ``--help`` (``tests/cli/test_help.py`` checks them against the code).
"""

from __future__ import annotations

import argparse
import re
import textwrap
from collections.abc import Mapping

from nbops.errors import ToolError, UsageError, WriteError, exit_code

__all__ = [
    "ALERT",
    "FAILED",
    "INTERNAL",
    "INTERRUPTED",
    "MEANINGS",
    "OK",
    "TOOL",
    "USAGE",
    "WRITE",
    "HelpFormatter",
    "epilog",
]

OK = 0
FAILED = 1  # what failed depends on the command: findings, a failing check, a failed run
USAGE = exit_code(UsageError(""))
TOOL = exit_code(ToolError(""))
WRITE = exit_code(WriteError(""))
ALERT = 5  # nbops monitor: the health check's verdict is ALERT (WARN is FAILED, 1)
INTERNAL = 70
INTERRUPTED = 130

MEANINGS: dict[int, str] = {
    OK: "done",
    USAGE: "usage or input error: a bad option, argument or configuration, a missing or "
    "unreadable file",
    TOOL: "an external tool failed or is missing (ruff, black, a kernel, git, a forge, an "
    "optional package such as MLflow)",
    WRITE: "a file could not be written",
    ALERT: "nbops monitor: the health check's verdict is ALERT (a trigger of "
    "[tool.nbops.health] fired at its alert level)",
    INTERNAL: "internal error (please report it; NBOPS_DEBUG=1 shows the traceback)",
    INTERRUPTED: "interrupted (Ctrl-C, SIGINT)",
}

_ROW = re.compile(r"( +)(\S+ +)(.*)")  # "  2    usage error"
_ALWAYS = (USAGE, INTERNAL, INTERRUPTED)  # what main() returns for any command


def epilog(codes: Mapping[int, str | None], *, note: str = "") -> str:
    """The ``exit codes:`` section of a command's help.

    ``codes`` maps each code the command returns to what it means there (``None``: the
    general meaning of :data:`MEANINGS`); 2, 70 and 130 are added, as every command can
    end with them. ``note`` follows the table.
    """
    table = {code: text or MEANINGS[code] for code, text in codes.items()}
    for code in _ALWAYS:
        table.setdefault(code, MEANINGS[code])
    rows = [f"  {code:<4} {text}" for code, text in sorted(table.items())]
    return "exit codes:\n" + "\n".join(rows) + (f"\n{note}" if note else "")


class HelpFormatter(argparse.HelpFormatter):
    """argparse's formatter that keeps the ``exit codes:`` rows one per line.

    A line of the description or the epilog is filled on its own; a row that starts with
    spaces (``  2    usage error``) wraps under its text.
    """

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        lines: list[str] = []
        for line in text.split("\n"):
            row = _ROW.match(line)
            if not line.strip():
                lines.append("")
            elif row:
                lead, code, body = indent + row[1], row[2], row[3]
                lines.append(textwrap.fill(code + body, width, initial_indent=lead,
                                           subsequent_indent=lead + " " * len(code)))
            else:
                lines.append(textwrap.fill(line, width, initial_indent=indent,
                                           subsequent_indent=indent))
        return "\n".join(lines)
