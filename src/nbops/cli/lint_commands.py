"""``nbops lint``, ``nbops fix``, ``nbops rules`` and ``nbops rule``: thin over ``nbops.lint``."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

from nbops.cli import exits
from nbops.config import Config, load_config
from nbops.errors import NbopsError, NotebookReadError, UsageError, WriteError
from nbops.lint.diagnostic import severity_at_least

_FORMATS = ("text", "json", "sarif", "github", "concise")


def _codes(value: str) -> list[str]:
    return [c.strip() for c in value.split(",") if c.strip()]


def _add_selection(p: argparse.ArgumentParser) -> None:
    p.add_argument("--select", type=_codes, action="extend", metavar="CODES",
                   help="only these codes or prefixes (NB2, NB301, F401, FMT, RUFF, ALL)")
    p.add_argument("--ignore", type=_codes, action="extend", metavar="CODES",
                   help="codes or prefixes to leave out")
    p.add_argument("--extend-select", type=_codes, action="extend", metavar="CODES",
                   help="codes to add to the selection")
    p.add_argument("--no-format", dest="format_check", action="store_false", default=None,
                   help="turn the format check (FMT001) off")
    p.add_argument("--format-with", dest="formatter", choices=("ruff", "black"),
                   help="the formatter of FMT001 and its fix (default: [tool.nbops] format, "
                   "else black where the project uses black, else ruff)")
    p.add_argument("--config", type=Path, metavar="PYPROJECT",
                   help="use this pyproject.toml instead of the nearest one")


def register(sub: Any) -> None:
    lint = sub.add_parser(
        "lint",
        help="lint notebooks (nbops rules, ruff, black)",
        description="Lint notebooks: files, folders (searched recursively) and globs, with "
        "nbops' rules, ruff and black. Every finding names its cell.",
        epilog=exits.epilog({
            exits.OK: "clean (or only findings below --fail-on)",
            exits.FAILED: "findings at or above --fail-on (a tool that fails on one notebook, "
            "e.g. a ruff configuration that cannot load, is an NB005 finding there)",
            exits.USAGE: "usage or input error: a bad option or configuration, a path that "
            "matches nothing, an unreadable notebook (NB001; the other files are still linted)",
            exits.TOOL: "an external tool failed for the whole run (ruff or black missing)",
            exits.WRITE: "the --output-file cannot be written",
        }),
    )
    lint.add_argument("paths", nargs="*", default=["."], metavar="PATH",
                      help="notebooks, folders (searched recursively) and globs (default: .)")
    _add_selection(lint)
    lint.add_argument("--format", dest="output_format", choices=_FORMATS, default="text",
                      help="output format (default: text)")
    lint.add_argument("--output-file", "-o", type=Path, help="write the report to this file")
    lint.add_argument("--fail-on", choices=("error", "warning", "info"),
                      help="lowest severity that makes the exit code 1 (default: info)")
    lint.add_argument("--exit-zero", action="store_true", help="exit 0 even with findings")
    lint.add_argument("--no-cache", dest="cache", action="store_false", default=None,
                      help="lint everything afresh: neither read nor write the cache "
                      "([tool.nbops] cache = false does the same)")
    lint.add_argument("--cache-dir", type=Path, metavar="DIR",
                      help="where the cache lives (default: .nbops_cache/ in the project)")
    lint.add_argument("--jobs", "-j", type=int, help="worker processes (default: all cores)")
    lint.add_argument("--color", choices=("auto", "always", "never"), default="auto",
                      help="colour the text output: auto (default) colours a terminal only, "
                      "unless NO_COLOR is set; FORCE_COLOR (set, not empty) colours when piped "
                      "too and wins over NO_COLOR; always and never win over both")
    lint.set_defaults(handler=cmd_lint)

    fix = sub.add_parser(
        "fix",
        help="apply safe fixes (black, ruff's safe fixes, nbops' safe fixes)",
        description="Apply safe fixes in place, atomically, keeping a backup. "
        "Use --diff to see the changes without writing. A notebook is written only when "
        "every change is one a fix reports.",
        epilog=exits.epilog({
            exits.OK: "done, or nothing to fix",
            exits.FAILED: "with --diff: something would change",
            exits.USAGE: "a notebook was left untouched (it cannot be read, is nbformat 3 "
            "without --upgrade, a tool failed on it, or the fixes would change something they "
            "do not report), or a usage error",
            exits.WRITE: "a notebook could not be written",
        }),
    )
    fix.add_argument("paths", nargs="*", default=["."], metavar="PATH",
                     help="notebooks, folders (searched recursively) and globs (default: .)")
    _add_selection(fix)
    fix.add_argument("--diff", action="store_true", help="print the changes, write nothing")
    fix.add_argument("--unsafe-fixes", action="store_true", help="also apply unsafe fixes")
    fix.add_argument("--clear-outputs", action="store_true",
                     help="also clear all outputs and execution counts")
    fix.add_argument("--no-backup", dest="backup", action="store_false",
                     help="do not keep a copy of the original in .nbops_backup/")
    fix.add_argument("--upgrade", action="store_true",
                     help="convert nbformat 3 notebooks to nbformat 4 (with nbformat; reported "
                     "as a change); without it they are left untouched")
    fix.add_argument("--propose-parameters", action="store_true",
                     help="move the constants nbops modularize proposes as parameters (literals "
                     "assigned once and read later) into a new cell tagged 'parameters' after "
                     "the imports, one change per moved line; notebooks with a parameters "
                     "cell are skipped with a note")
    fix.add_argument("--format", dest="output_format", choices=("text", "json"), default="text",
                     help="what was fixed, as text (default) or JSON")
    fix.set_defaults(handler=cmd_fix)

    rules = sub.add_parser(
        "rules",
        help="list the rule catalogue",
        description="List nbops' rules: code, name, severity, fix and summary, by family "
        "(--format markdown writes docs/rules.md).",
        epilog=exits.epilog({exits.OK: None}),
    )
    rules.add_argument("--format", dest="output_format", choices=("text", "json", "markdown"),
                       default="text", help="text (default), json, or markdown (the rule docs)")
    rules.add_argument("--select", type=_codes, action="extend", metavar="CODES",
                       help="only these codes or prefixes (e.g. NB2,NB301)")
    rules.set_defaults(handler=cmd_rules)

    rule = sub.add_parser(
        "rule",
        help="explain one rule (e.g. nbops rule NB203)",
        description="Explain one rule: what it finds, why it matters, its options, and a bad "
        "and a good example.",
        epilog=exits.epilog({exits.OK: None, exits.USAGE: "no such rule"}),
    )
    rule.add_argument("code", metavar="CODE", help="a rule code: NB203, FMT001")
    rule.add_argument("--format", dest="output_format", choices=("text", "json"), default="text",
                      help="text (default) or json")
    rule.set_defaults(handler=cmd_rule)


def _config(args: argparse.Namespace) -> Config:
    if args.config is not None:
        if not args.config.is_file():
            raise UsageError(f"config file not found: {args.config}")
        return load_config(pyproject=args.config)
    first = Path(args.paths[0]) if args.paths else Path.cwd()
    start = first if first.exists() else Path.cwd()
    return load_config(start)


def _linter(args: argparse.Namespace, config: Config, **extra: Any) -> Any:
    from nbops.lint.engine import Linter

    return Linter(
        config,
        select=args.select,
        ignore=args.ignore,
        extend_select=args.extend_select,
        format_check=args.format_check,
        formatter=args.formatter,
        **extra,
    )


def _colour(choice: str, stream: Any) -> bool:
    if choice == "always":
        return True
    if choice == "never":
        return False
    if os.environ.get("FORCE_COLOR"):  # set and not empty, as ruff reads it: wins over NO_COLOR
        return True
    if os.environ.get("NO_COLOR"):
        return False
    return bool(getattr(stream, "isatty", lambda: False)())


def cmd_lint(args: argparse.Namespace) -> int:
    from nbops.lint.report import write_stream

    config = _config(args)
    if args.jobs is not None and args.jobs < 1:
        raise UsageError("--jobs must be at least 1")
    from nbops.lint.engine import discover

    found, missing = discover(args.paths, config)
    if not found and not missing:
        raise UsageError("no notebooks found", hint="pass .ipynb files, folders or globs")
    linter = _linter(args, config, cache=args.cache, cache_dir=args.cache_dir, jobs=args.jobs)
    failing = False
    threshold = args.fail_on or config.fail_on

    def watched(reports: Any) -> Any:
        nonlocal failing
        for report in reports:
            if any(severity_at_least(d.severity, threshold) for d in report.diagnostics):
                failing = True
            yield report

    # the files found above, not args.paths: the folder walk is done once
    reports = watched(linter.iter_paths([*map(str, found), *missing]))
    if args.output_file is not None:
        try:
            with open(args.output_file, "w", encoding="utf-8") as out:
                _, unreadable = write_stream(reports, args.output_format, out)
        except OSError as exc:
            raise WriteError(
                f"cannot write the report: {exc.strerror or exc}", path=args.output_file
            ) from None
    else:
        colour = _colour(args.color, sys.stdout)
        _, unreadable = write_stream(reports, args.output_format, sys.stdout, colour=colour)
        sys.stdout.flush()
    if args.output_format != "text" or args.output_file is not None:
        for report in unreadable:
            print(f"nbops: error: {report.path}: {report.error}", file=sys.stderr)
    if unreadable:
        return 2
    if args.exit_zero:
        return 0
    return 1 if failing else 0


def cmd_fix(args: argparse.Namespace) -> int:
    from nbops.core.notebook import notebook_from_dict, read_notebook
    from nbops.lint.engine import discover
    from nbops.lint.fix import FixOptions, fix_notebook, notebook_diff

    config = _config(args)
    linter = _linter(args, config, cache=False)
    files, missing = discover(args.paths, config)
    status = 0
    results: list[dict[str, Any]] = []
    for text in missing:
        print(f"nbops: error: {text}: no such file or directory", file=sys.stderr)
        results.append({"path": text, "error": "no such file or directory", "applied": []})
        status = 2
    if not files and not missing:
        raise UsageError("no notebooks found", hint="pass .ipynb files, folders or globs")
    options = FixOptions(
        unsafe=args.unsafe_fixes, clear_outputs=args.clear_outputs, upgrade=args.upgrade
    )
    propose: Any = None
    would_change = False
    for path in files:
        try:
            nb = read_notebook(path)
        except NotebookReadError as exc:
            print(f"nbops: error: {exc} (left untouched)", file=sys.stderr)
            results.append({"path": str(path), "error": exc.message, "applied": []})
            status = 2
            continue
        original = notebook_from_dict(json.loads(nb.dumps()), path=nb.path)
        if args.propose_parameters:  # modularize's proposal: lint does not import it
            from dataclasses import replace

            from nbops.modularize.parameters_cell import ProposeParameters

            propose = ProposeParameters()
            options = replace(options, prepare=(propose,))
        try:
            applied = fix_notebook(nb, linter, options)
        except NbopsError as exc:
            reason = exc.message + (f" ({exc.hint})" if exc.hint else "")
            print(f"nbops: error: {path}: {reason} (left untouched)", file=sys.stderr)
            results.append({"path": str(path), "error": reason, "applied": []})
            status = max(status, 2)
            continue
        entry: dict[str, Any] = {
            "path": str(path),
            "error": None,
            "applied": [a.to_json() for a in applied],
            "written": False,
            "backup": None,
        }
        if propose is not None:  # why no parameters were proposed, when none were
            entry["notes"] = list(propose.notes)
        if nb.dirty and applied:
            would_change = True
            if args.diff:
                entry["diff"] = notebook_diff(original, nb)
            else:
                backup_dir = path.parent / ".nbops_backup" if args.backup else None
                backup = nb.write(path, backup_dir=backup_dir)
                entry["written"] = True
                entry["backup"] = str(backup) if backup else None
        results.append(entry)
    if args.output_format == "json":
        print(json.dumps({"results": results}, indent=2))
    else:
        _print_fix_text(results, args.diff)
    if status:
        return status
    return 1 if args.diff and would_change else 0


def _print_fix_text(results: list[dict[str, Any]], diff: bool) -> None:
    total = 0
    for entry in results:
        for note in entry.get("notes", []):  # --propose-parameters: why nothing moved
            print(f"{entry['path']}: {note}")
        if entry.get("error") or not entry["applied"]:
            continue
        if diff and entry.get("diff"):
            sys.stdout.write(entry["diff"])
        verb = "would fix" if diff else "fixed"
        print(f"{entry['path']}: {verb} {len(entry['applied'])}:")
        for a in entry["applied"]:
            where = f"cell {a['cell']}" if a["cell"] else "notebook"
            print(f"  {where}: {a['code']} {a['message']}")
        if entry.get("backup"):
            print(f"  backup: {entry['backup']}")
        total += len(entry["applied"])
    files = sum(1 for e in results if e["applied"])
    if total:
        print(f"{'Would apply' if diff else 'Applied'} {total} fix(es) in {files} notebook(s).")
    else:
        print("Nothing to fix.")


def cmd_rules(args: argparse.Namespace) -> int:
    from nbops.lint.docs import catalogue_markdown
    from nbops.lint.registry import FAMILIES, Selection, all_rules

    rules = all_rules()
    if args.select:
        sel = Selection.build(select=args.select)
        rules = [r for r in rules if sel.enabled(r.code)]
    if args.output_format == "json":
        print(json.dumps([r.describe() for r in rules], indent=2))
    elif args.output_format == "markdown":
        sys.stdout.write(catalogue_markdown(rules))
    else:
        family = ""
        for r in rules:
            if r.code[:3] != family:
                family = r.code[:3]
                print(f"\n{family}xx  {FAMILIES.get(family, '')}")
            fix = {"safe": "fix", "unsafe": "fix*", "none": ""}[r.fix]
            print(f"  {r.code}  {r.name:<28} {r.severity:<8} {fix:<5} {r.summary}")
        print("\nfix = safe fix (nbops fix); fix* = unsafe fix (nbops fix --unsafe-fixes)")
        print("Also: FMT001 (format check: ruff format or black) and every ruff code (F401, E501, ...).")
    return 0


def cmd_rule(args: argparse.Namespace) -> int:
    from nbops.lint.docs import rule_text
    from nbops.lint.registry import FORMAT_CODE, get_rule

    if args.code.upper() == FORMAT_CODE:
        print(
            "FMT001 format-check: the cell is not formatted with the project's formatter "
            "(ruff format, or black: [tool.nbops] format; safe fix: nbops fix)."
        )
        return 0
    cls = get_rule(args.code)
    if args.output_format == "json":
        print(json.dumps(cls.describe(), indent=2))
    else:
        sys.stdout.write(rule_text(cls))
    return 0
