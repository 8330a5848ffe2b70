"""``nbops check`` (the review gate) and ``nbops submit`` (gate, review branch, pull request).

``check``: exit 0 when every required check of every notebook passes, 1 when one fails, 2 on
bad input or an unreadable notebook (one notebook file: one report; folders, globs, several
paths or ``--changed-from``: one report per notebook and a summary).
``submit``: exit 0 submitted, 1 blocked by the gate (nothing changed), 2 bad input (no
remote, not a repository, a secret in the title, the description, a reviewer or any other text
it would commit, push or send: nothing changed), 3 push or forge failure (the local branch is
kept for a retry).
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nbops.cli import exits
from nbops.errors import NotFoundError, UsageError, WriteError

if TYPE_CHECKING:
    from nbops.review.render import NotChecked

_CHECK_FORMATS = ("text", "json", "markdown", "github", "gitlab")

__all__ = ["register"]


def register(sub: Any) -> None:
    check = sub.add_parser(
        "check",
        help="the review gate: documentation, quality, safety and reproducibility checks",
        description="Run the checks [tool.nbops.submit] requires before a notebook may be "
        "submitted for review, on notebook files, folders (recursive) and globs.",
        epilog=exits.epilog({
            exits.OK: "every required check of every notebook passes",
            exits.FAILED: "a required check fails",
            exits.USAGE: "bad input or an unreadable notebook",
            exits.TOOL: "git failed (--changed-from)",
            exits.WRITE: "the --output-file cannot be written",
        }),
    )
    check.add_argument("paths", nargs="+", type=Path, metavar="PATH",
                       help="notebooks, folders or globs; one notebook file keeps the "
                       "one-notebook output (JSON: one report object)")
    check.add_argument("--format", dest="output_format", choices=_CHECK_FORMATS, default="text",
                       help="text; json; markdown; github (workflow-command annotations, then "
                       "the text report); gitlab (Code Quality JSON)")
    check.add_argument("--output-file", "-o", type=Path, metavar="FILE",
                       help="write the --format report to FILE; the terminal gets the text report")
    check.add_argument("--changed-from", metavar="REF",
                       help="only the notebooks changed since the merge base with git REF "
                       "(committed, uncommitted and untracked), e.g. origin/main")
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
        epilog=exits.epilog({
            exits.OK: "submitted (or, with --dry-run, ready to submit)",
            exits.FAILED: "blocked by the gate: nothing changed",
            exits.USAGE: "bad input (no remote, not a repository, a secret in a text it would "
            "commit, push or send): nothing changed",
            exits.TOOL: "git, the push or the forge failed (the local branch is kept for a retry)",
            exits.WRITE: "another nbops submit is running, or the branch changed under it",
        }),
    )
    submit.add_argument("notebook", type=Path, metavar="NOTEBOOK", help="the notebook to submit")
    submit.add_argument("--title", help="pull request title (default: 'Review: <H1 title>')")
    submit.add_argument("--message", help="a note to reviewers, at the top of the report")
    submit.add_argument("--reviewer", action="append", default=[], dest="reviewers",
                        metavar="USER", help="request a review from USER (repeatable)")
    submit.add_argument("--base", help="branch the pull request targets (default: policy base, main)")
    submit.add_argument("--remote", help="git remote to push to (default: policy remote, origin)")
    submit.add_argument("--dry-run", action="store_true",
                        help="build and show the submission; create no branch, push nothing")
    submit.add_argument("--format", dest="output_format", choices=("text", "json"), default="text",
                        help="the submission as text (default) or JSON")
    submit.set_defaults(handler=cmd_submit)


def _changed_notebooks(ref: str) -> set[str]:
    """Real paths of the files changed since the merge base of ``ref`` and HEAD: committed,
    uncommitted and untracked (deletions left out)."""
    from nbops.review.git import Git

    git = Git(Path.cwd())
    top = git.maybe("rev-parse", "--show-toplevel")
    if not top:
        raise UsageError("--changed-from needs a git repository", hint="run it inside one")
    if git.rev(ref) is None:
        raise UsageError(f"--changed-from: unknown git revision {ref!r}",
                         hint="fetch it first (git fetch origin main) or name another branch")
    base = git.maybe("merge-base", ref, "HEAD")
    if not base:
        raise UsageError(f"--changed-from: {ref!r} and HEAD have no common history")
    root = Git(Path(top))
    names = root.run(["diff", "--name-only", "--diff-filter=d", "--no-renames", "-z", base, "--"]).stdout
    names += root.run(["ls-files", "-z", "--others", "--exclude-standard"]).stdout
    return {os.path.realpath(Path(top) / name) for name in names.split("\0") if name}


def _generated(path: Path) -> str | None:
    """Why ``path`` is not a notebook to review when nbops wrote it (a slim notebook from
    ``nbops modularize``, an executed copy from ``nbops run``), else None."""
    from nbops.run.runner import EXECUTED_FROM_KEY, RUN_TAG

    try:
        doc = json.loads(path.read_bytes())
        source = doc["metadata"].get("nbops", {}).get("generated_from")
        ran = bool(doc["metadata"].get("nbops", {}).get(EXECUTED_FROM_KEY)) or any(
            RUN_TAG in (c.get("metadata", {}).get("tags") or []) for c in doc["cells"]
        )
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None  # unreadable or odd: the gate reports it
    if source:
        return f"generated by nbops modularize from {source}: the gate checks that notebook"
    if ran:
        return "an executed copy written by nbops run: the gate checks the notebook that ran"
    return None


def _targets(args: Any) -> tuple[list[Path], list[NotChecked]]:
    """The notebooks to check, and the generated ones left out (folders, globs, --changed-from
    and several paths only: a lone notebook named on its own is always checked)."""
    import glob

    from nbops.config import load_config
    from nbops.lint.engine import discover
    from nbops.review.render import NotChecked

    for path in args.paths:
        if not path.exists() and not glob.has_magic(str(path)):
            raise NotFoundError("no such notebook", path=path, hint="check the path")
    config = load_config(args.paths[0] if args.paths[0].exists() else Path.cwd())
    found, missing = discover(args.paths, config)
    if missing:
        raise NotFoundError("no notebook matches", path=missing[0], hint="check the pattern")
    if args.changed_from:
        changed = _changed_notebooks(args.changed_from)
        found = [p for p in found if os.path.realpath(p) in changed]
    targets: list[Path] = []
    skipped: list[NotChecked] = []
    for path in found:
        reason = _generated(path)
        if reason:
            skipped.append(NotChecked(str(path), reason))
        else:
            targets.append(path)
    return targets, skipped


def cmd_check(args: Any) -> int:
    from nbops.config import load_config
    from nbops.errors import NbopsError
    from nbops.review.checks import GateReport, check_notebook
    from nbops.review.policy import load_policy
    from nbops.review.render import (
        NotChecked,
        gate_github,
        gate_gitlab,
        gate_markdown,
        gate_text,
        gates_json,
        gates_markdown,
        gates_summary,
        github_not_checked,
    )

    paths: list[Path] = args.paths
    single = len(paths) == 1 and paths[0].is_file() and not args.changed_from
    overrides: dict[str, Any] = {name: "required" for name in args.require}
    overrides.update({name: "off" for name in args.skip})
    targets, others = ([paths[0]], []) if single else _targets(args)
    policies: dict[Path, tuple[Any, Any]] = {}
    reports: list[GateReport] = []
    for notebook in targets:
        folder = notebook.resolve().parent
        if folder not in policies:
            config = load_config(folder)
            policies[folder] = (config, load_policy(config, overrides))
        config, policy = policies[folder]
        try:
            reports.append(check_notebook(notebook, config=config, policy=policy))
        except NbopsError as exc:
            if single:
                raise
            print(f"nbops: error: {exc}", file=sys.stderr)
            others.append(NotChecked(str(notebook), exc.message, error=True))

    fmt: str = args.output_format
    if single:
        report = reports[0]
        text = gate_text(report)
        chosen = {
            "text": lambda: text,
            "json": lambda: json.dumps(report.to_json(), indent=2) + "\n",
            "markdown": lambda: gate_markdown(report),
            "github": lambda: gate_github(report) + text,
            "gitlab": lambda: json.dumps(gate_gitlab([report]), indent=2) + "\n",
        }[fmt]()
    else:
        empty = "" if reports or others else (
            "no notebooks to check" + (f" (none changed since {args.changed_from})" if args.changed_from else "") + "\n"
        )
        skipped = "".join(f"{o.path}: {'error' if o.error else 'skipped'}: {o.reason}\n" for o in others)
        text = empty + "\n".join(gate_text(r) for r in reports) + skipped
        if reports or others:
            text += gates_summary(reports, others)
        chosen = {
            "text": lambda: text,
            "json": lambda: json.dumps(gates_json(reports, others), indent=2) + "\n",
            "markdown": lambda: gates_markdown(reports, others),
            "github": lambda: "".join(gate_github(r) for r in reports)
            + "".join(github_not_checked(o) for o in others) + text,
            "gitlab": lambda: json.dumps(gate_gitlab(reports, others), indent=2) + "\n",
        }[fmt]()
    if args.output_file is not None:
        _write_report(args.output_file, chosen)
        if fmt != "text":
            sys.stdout.write(text)
    else:
        sys.stdout.write(chosen)
    if any(o.error for o in others):
        return 2
    return 0 if all(r.passed for r in reports) else 1


def _write_report(path: Path, text: str) -> None:
    from nbops.core.notebook import write_text_atomic

    try:
        write_text_atomic(path, text)
    except OSError as exc:
        raise WriteError(f"cannot write the report: {exc.strerror or exc}", path=path) from None


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
    if result.merged_base:
        out(f"  (merged {result.remote}/{result.base} into it first: the base had moved)\n")
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
