"""``nbops check`` (the review gate) and ``nbops submit`` (gate, review branch, pull request).

``check``: exit 0 when every required check passes, 1 when one fails, 2 on bad input.
``submit``: exit 0 submitted, 1 blocked by the gate (nothing changed), 2 bad input (no
remote, not a repository), 3 push or forge failure (the local branch is kept for a retry).
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

    submit = sub.add_parser(
        "submit",
        help="gate the notebook, push a review branch and open (or update) its pull request",
        description="Run the review gate; when it passes, build the submission (stripped "
        "notebook, generated library and tests, reviews/<notebook>.md) in a separate git "
        "worktree, commit it on review/<notebook>-<id>, push it (never forced) and open or "
        "update the pull request. Your checkout and uncommitted work are not touched.",
    )
    submit.add_argument("notebook", type=Path, metavar="NOTEBOOK")
    submit.add_argument("--title", help="pull request title (default: 'Review: <H1 title>')")
    submit.add_argument("--message", help="a note to reviewers, at the top of the report")
    submit.add_argument("--reviewer", action="append", default=[], dest="reviewers",
                        metavar="USER", help="request a review from USER (repeatable)")
    submit.add_argument("--base", help="branch the pull request targets (default: policy base, main)")
    submit.add_argument("--remote", help="git remote to push to (default: policy remote, origin)")
    submit.add_argument("--dry-run", action="store_true",
                        help="build and show the submission; create no branch, push nothing")
    submit.add_argument("--format", dest="output_format", choices=("text", "json"), default="text")
    submit.set_defaults(handler=cmd_submit)


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


def cmd_submit(args: Any) -> int:
    from nbops.review.render import gate_text
    from nbops.review.submit import GateFailed, SubmitOptions, submit

    options = SubmitOptions(
        title=args.title, message=args.message, reviewers=args.reviewers, base=args.base,
        remote=args.remote, dry_run=args.dry_run,
    )
    try:
        result = submit(args.notebook, options)
    except GateFailed as blocked:
        if args.output_format == "json":
            json.dump({"submitted": False, "gate": blocked.gate.to_json()}, sys.stdout, indent=2)
            sys.stdout.write("\n")
        else:
            sys.stdout.write(gate_text(blocked.gate))
            sys.stdout.write("nothing was submitted: fix the failing checks and run nbops submit again\n")
        return 1
    if args.output_format == "json":
        json.dump({"submitted": not result.dry_run, **result.to_json()}, sys.stdout, indent=2)
        sys.stdout.write("\n")
        return 0
    out = sys.stdout.write
    passed = sum(c.status == "pass" for c in result.gate.checks)
    out(f"gate: passed ({passed} checks)\n")
    if result.dry_run:
        out(f"dry run: would commit {len(result.files)} file(s) on {result.branch} "
            f"and push it to {result.remote}:\n")
        for name in result.files:
            out(f"  {name}\n")
        return 0
    short = (result.commit or "")[:8]
    state = "committed" if result.committed else "unchanged (already submitted)"
    out(f"branch {result.branch}: {state} at {short}; "
        + (f"pushed to {result.remote}\n" if result.pushed else f"already on {result.remote}\n"))
    for name in result.files:
        out(f"  {name}\n")
    pr = result.pull_request
    if pr is not None:
        verb = "opened" if pr.created else "updated"
        out(f"pull request #{pr.number} {verb}: {pr.url}\n")
    elif result.compare_url:
        out(f"open the pull request: {result.compare_url}\n")
    else:
        out(f"the remote is not a known forge: review the branch there "
            f"(git log {result.remote}/{result.branch})\n")
    for warning in result.warnings:
        if not (result.compare_url and result.compare_url in warning):
            out(f"note: {warning}\n")
    return 0
