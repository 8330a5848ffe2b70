"""``nbops init``: set a repository up for the review flow (policy, CI jobs, pre-commit hooks,
pull request templates). Exit 0 done (files kept are not an error), 2 bad input, 4 write failure."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from nbops.cli import exits

__all__ = ["register"]


def register(sub: Any) -> None:
    init = sub.add_parser(
        "init",
        help="set a repository up for review: policy, CI workflow/job, pre-commit, PR template",
        description="Write [tool.nbops.submit] into pyproject.toml (appended; the rest of the file "
        "is kept byte for byte), a GitHub Actions workflow and/or a GitLab CI job running "
        "nbops check and the generated tests on every pull request, a pre-commit configuration "
        "using nbops' hooks, pull request templates and .gitignore lines. Existing files are "
        "kept (reported as skipped) unless --force; files you own are only appended to.",
        epilog=exits.epilog({exits.OK: "done (files kept are not an error)", exits.USAGE: None,
                             exits.WRITE: None}),
    )
    init.add_argument("directory", nargs="?", type=Path, default=Path("."), metavar="DIR",
                      help="the repository's top level (default: the current directory)")
    init.add_argument("--force", action="store_true",
                      help="overwrite the files nbops writes whole when they exist")
    init.add_argument("--dry-run", action="store_true", help="print what would be written; write nothing")
    init.add_argument("--forge", choices=("github", "gitlab", "both"),
                      help="which CI to set up (default: from the origin remote; both when unknown)")
    init.add_argument("--format", dest="output_format", choices=("text", "json"), default="text",
                      help="what was written or skipped, as text (default) or JSON")
    init.add_argument("--requirement", metavar="SPEC",
                      help="how the CI jobs install nbops, a pip requirement (default: the installed "
                      "version, nbops==X.Y.Z; a development build: its commit in nbops' repository), "
                      "e.g. 'nbops==1.2.0' from your own index or "
                      "'nbops @ git+https://host/org/nbops@v1.2.0' (pre-commit then uses that "
                      "repository and ref too)")
    init.add_argument("--hooks-repo", metavar="URL",
                      help="the git repository pre-commit fetches nbops' hooks from "
                      "(default: nbops' own, or the one of a git --requirement)")
    init.add_argument("--hooks-rev", metavar="REV",
                      help="the tag or commit of the hooks' repository (default: vX.Y.Z of the "
                      "installed version)")
    init.set_defaults(handler=cmd_init)


def cmd_init(args: Any) -> int:
    from nbops.review.init import InitOptions, init_repository

    result = init_repository(args.directory,
                             InitOptions(force=args.force, dry_run=args.dry_run, forge=args.forge,
                                         requirement=args.requirement, hooks_repo=args.hooks_repo,
                                         hooks_rev=args.hooks_rev))
    if args.output_format == "json":
        json.dump(result.to_json(), sys.stdout, indent=2)
        sys.stdout.write("\n")
        return 0
    out = sys.stdout.write
    forges = " and ".join(result.forges)
    out(f"nbops init {result.root} (CI: {forges}; {result.forge_reason})\n")
    verbs = {"create": "would create", "overwrite": "would overwrite", "update": "would update"}
    width = max(len(f.path) for f in result.files)
    for item in result.files:
        action = verbs.get(item.action, item.action) if result.dry_run else item.action
        out(f"  {action:<15} {item.path:<{width}}  {item.note}\n")
    if result.dry_run:
        for item in result.files:
            if item.text and item.action in verbs:
                what = "appended" if item.action == "update" else "content"
                out(f"\n--- {item.path} ({what})\n{item.text}")
                if not item.text.endswith("\n"):
                    out("\n")
        out("\ndry run: nothing was written\n")
    out("\nnext steps:\n")
    for number, step in enumerate(result.next_steps, 1):
        out(f"  {number}. {step}\n")
    return 0
