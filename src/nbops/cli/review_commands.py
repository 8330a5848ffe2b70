"""``nbops check``: the review gate on a notebook (see :mod:`nbops.review.checks`).

Exit 0 when every required check passes, 1 when one fails, 2 on bad input.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from nbops.errors import NotFoundError

__all__ = ["register"]


def register(sub: Any) -> None:
    check = sub.add_parser(
        "check",
        help="the review gate: documentation, quality, safety and reproducibility checks",
        description="Run the checks [tool.nbops.submit] requires before a notebook may be "
        "submitted for review. Exit 0 when every required check passes, 1 when one fails.",
    )
    check.add_argument("notebook", type=Path, metavar="NOTEBOOK")
    check.add_argument("--format", dest="output_format", choices=("text", "json", "markdown"),
                       default="text")
    check.add_argument("--require", action="append", default=[], metavar="CHECK",
                       help="make CHECK required for this run (e.g. library, tracked-run)")
    check.add_argument("--skip", action="append", default=[], metavar="CHECK",
                       help="turn CHECK off for this run")
    check.set_defaults(handler=cmd_check)


def cmd_check(args: Any) -> int:
    from nbops.config import load_config
    from nbops.review.checks import check_notebook
    from nbops.review.policy import load_policy
    from nbops.review.render import gate_markdown, gate_text

    notebook: Path = args.notebook
    if not notebook.is_file():
        raise NotFoundError("no such notebook", path=notebook, hint="check the path")
    config = load_config(notebook.resolve().parent)
    overrides: dict[str, Any] = {name: "required" for name in args.require}
    overrides.update({name: "off" for name in args.skip})
    policy = load_policy(config, overrides)
    report = check_notebook(notebook, config=config, policy=policy)
    if args.output_format == "json":
        json.dump(report.to_json(), sys.stdout, indent=2)
        sys.stdout.write("\n")
    elif args.output_format == "markdown":
        sys.stdout.write(gate_markdown(report))
    else:
        sys.stdout.write(gate_text(report))
    return 0 if report.passed else 1
