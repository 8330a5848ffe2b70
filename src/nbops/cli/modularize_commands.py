"""``nbops modularize`` and ``nbops verify``: thin over ``nbops.modularize``."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from nbops import api_types
from nbops.cli import exits
from nbops.core.notebook import cell_runs
from nbops.errors import ConflictError
from nbops.progress import MODES, Progress


def _value(text: str) -> Any:
    """A parameter value from the command line: JSON when it parses (3, 0.5, true, [1, 2],
    "x"), else the text itself."""
    try:
        return json.loads(text)
    except ValueError:
        return text


def register(sub: Any) -> None:
    mod = sub.add_parser(
        "modularize",
        help="turn a notebook into library code, a pipeline, tests and a slim notebook",
        description="Split a notebook into steps and write src/PACKAGE/MODULE.py (functions, "
        "one per step, and run()), tests/test_MODULE.py and NOTEBOOK_slim.ipynb. The notebook "
        "is only read.",
        epilog=exits.epilog({
            exits.OK: "written (with --dry-run: the plan can be written)",
            exits.USAGE: "bad input, or nothing can be written (the generated code would not "
            "compile, or would carry a secret; also with --dry-run)",
            exits.WRITE: "a file would be overwritten that nbops did not generate (use --force)",
        }),
    )
    mod.add_argument("notebook", type=Path, metavar="NOTEBOOK", help="the notebook to split")
    mod.add_argument("--package", help="package name, a dotted Python name (default: "
                     "[tool.nbops.modularize] package or the [project] name of the pyproject.toml "
                     "of DIR's project, else of the notebook's; else the notebook's name; never "
                     "a folder's name)")
    mod.add_argument("--out", type=Path, metavar="DIR", help="project folder to write into: "
                     "src/PACKAGE/, tests/ and the slim notebook all go under it (the slim "
                     "notebook beside the notebook when that is under DIR, else at DIR's top); "
                     "default: the folder of the nearest pyproject.toml, else the notebook's")
    mod.add_argument("--dry-run", action="store_true", help="print the plan, write nothing")
    mod.add_argument("--force", action="store_true",
                     help="overwrite files nbops did not generate (or that were edited since)")
    mod.add_argument("--format", dest="output_format", choices=("text", "json"), default="text",
                     help="the plan and what was written, as text (default) or JSON")
    mod.set_defaults(handler=cmd_modularize)

    ver = sub.add_parser(
        "verify",
        help="run the notebook and its pipeline with the same parameters and compare outputs",
        description="Run the notebook (papermill, real kernel) and its generated pipeline "
        "with the same parameters and compare every step's outputs; run the slim notebook "
        "(which calls the library) the same way and compare what it shows (text, printed "
        "output, tables, images) with what the notebook showed, cell by cell.",
        epilog=exits.epilog({
            exits.OK: "equivalent: something was compared and nothing differs",
            exits.FAILED: "an output or a display differs",
            exits.USAGE: None,
            exits.TOOL: "a kernel cannot run, or papermill is not installed",
            5: "nothing to compare (no value and no display could be compared)",
        }),
    )
    ver.add_argument("notebook", type=Path, metavar="NOTEBOOK",
                     help="the notebook nbops modularize split")
    ver.add_argument("--package", help="the generated package's name, as given to modularize")
    ver.add_argument("--out", type=Path, metavar="DIR",
                     help="the project folder given to modularize (default: as modularize)")
    ver.add_argument("-p", "--parameter", nargs=2, action="append", default=[],
                     metavar=("NAME", "VALUE"), help="a parameter value (JSON or text)")
    ver.add_argument("--rtol", type=float, default=1e-7, help="relative tolerance for numbers")
    ver.add_argument("--atol", type=float, default=1e-9, help="absolute tolerance for numbers")
    ver.add_argument("--timeout", type=float, default=600.0,
                     help="seconds each run may take (default 600)")
    ver.add_argument("--kernel", help="kernel name (default: the notebook's)")
    ver.add_argument("--ignore", action="append", default=[], metavar="NAME",
                     help="a step output or result not to compare, NAME or STEP.NAME (a value "
                     "that changes every run: a timestamp, a temporary folder); repeatable")
    ver.add_argument("--format", dest="output_format", choices=("text", "json"), default="text",
                     help="the comparison as text (default) or JSON")
    ver.add_argument("--progress", choices=MODES, default="auto",
                     help="progress on stderr, per step of verify (plan, pipeline, notebook, "
                     "comparison, slim notebook). auto (default): a bar when stderr is a "
                     'terminal, nothing otherwise; json: one JSON object per line {"done", '
                     '"total", "current"}; none')
    ver.set_defaults(handler=cmd_verify)


def _cells(cells: list[int]) -> str:
    """``[5]`` -> ``cell 5``; ``[5, 6, 9, 10, 11]`` -> ``cells 5, 6, 9-11`` (runs of three or
    more as a range)."""
    parts: list[str] = []
    for first, last in cell_runs(cells):
        parts += [f"{first}-{last}"] if last - first >= 2 else [str(c) for c in range(first, last + 1)]
    return f"cell{'s' if len(set(cells)) != 1 else ''} {', '.join(parts)}"


def _print_plan(plan: api_types.ModularizePlan, not_written: str | None = None) -> None:
    out = sys.stdout.write
    steps = plan["steps"]
    out(f"{plan['notebook']}: {len(steps)} step{'s' if len(steps) != 1 else ''} "
        f"(by {plan['strategy']}) -> {plan['package']}.{plan['module']}\n")
    for n, step in enumerate(steps, start=1):
        size = step.get("lines")
        span = _cells(step["cells"]) + (
            f", {size} line{'s' if size != 1 else ''}" if size is not None else ""
        )
        out(f"  {n}. {step['name']} ({span})\n")
        if step["inputs"]:
            out(f"       inputs:     {', '.join(step['inputs'])}\n")
        if step["parameters"]:
            out(f"       parameters: {', '.join(step['parameters'])}\n")
        if step["outputs"]:
            out(f"       outputs:    {', '.join(step['outputs'])}\n")
        if step["results"]:
            out(f"       results:    {', '.join(step['results'])}\n")
        if step.get("returns"):  # a frozen dataclass of its fields
            out(f"       returns:    {step['returns']}({', '.join(step.get('fields', []))})\n")
        if step.get("exploration"):  # head(), plots, prints: shown by the slim notebook
            out(f"       stays in the notebook: {_cells(step['exploration'])}\n")
    if plan["parameters"]:
        out("parameters:\n")
        for p in plan["parameters"]:
            proposed = " (proposed)" if p.get("proposed") else ""
            helptext = f": {p['help']}" if p.get("help") else ""
            out(f"  {p['name']} = {p['default']}{proposed}{helptext}\n")
        if any(p.get("proposed") for p in plan["parameters"]):
            out("  (proposed: constants the notebook assigns once and reads later)\n")
    if plan["functions"]:
        names = [
            f["name"] + (f" (+{', '.join(f['new_parameters'])})" if f["new_parameters"] else "")
            for f in plan["functions"]
        ]
        out(f"functions: {', '.join(names)}\n")
    if plan["requirements"]:
        out(f"requirements (from pip install): {', '.join(plan['requirements'])}\n")
    for problem in plan["problems"]:
        cell, line = problem["cell"], problem["line"]
        where = f"cell {cell}" + (f", line {line}" if line else "") if cell else "module"
        out(f"{problem['severity']}: {where}: {problem['message']}\n")
    out("files:\n")
    for f in plan["files"]:
        out(f"  {f['action']:<10} {f['path']}\n")
    if plan["dry_run"]:
        out("dry run: nothing written\n")
        if not_written is not None:
            out(f"nothing can be written: {not_written}\n")
    elif plan["written"]:
        written = sum(1 for f in plan["files"] if f["action"] in ("create", "overwrite"))
        out(f"wrote {written} file{'s' if written != 1 else ''}\n")


def cmd_modularize(args: Any) -> int:
    from nbops.errors import exit_code
    from nbops.modularize import ModularizeOptions, NotWrittenError, modularize

    options = ModularizeOptions(package=args.package, out=args.out, dry_run=args.dry_run, force=args.force)
    try:
        result = modularize(args.notebook, options)
    except (ConflictError, NotWrittenError) as exc:
        if exc.plan is not None:
            plan = exc.plan.to_dict(Path.cwd())  # type: ignore[attr-defined]
            if args.output_format == "json":
                json.dump({**exc.to_json(), "plan": plan}, sys.stdout, indent=2)
                sys.stdout.write("\n")
            elif isinstance(exc, NotWrittenError):
                _print_plan(plan)  # the problems, then the error on stderr
        raise
    plan = result.to_dict(Path.cwd())
    refusal = result.refusal
    if args.output_format == "json":
        json.dump(plan, sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        _print_plan(plan, str(refusal) if refusal is not None else None)
    # a dry run that could not be written fails too (the plan's problems say why)
    return exit_code(refusal) if refusal is not None else 0


def cmd_verify(args: Any) -> int:
    from nbops import extras

    extras.require("run", "nbops verify", modules=["papermill"])  # it runs the notebook
    from nbops.modularize.verify import STEPS, VerifyOptions, verify

    options = VerifyOptions(
        package=args.package,
        out=args.out,
        parameters={name: _value(value) for name, value in args.parameter},
        rtol=args.rtol,
        atol=args.atol,
        timeout=args.timeout,
        kernel=args.kernel,
        ignore=tuple(args.ignore),
    )
    bar = Progress(args.progress, len(STEPS), unit="step", desc="verify")
    try:
        result = verify(args.notebook, options,
                        on_step=lambda name: bar.update(STEPS.index(name), desc=name))
        bar.update(len(STEPS), desc="compared")
    finally:
        bar.close()
    data = result.to_dict()
    if args.output_format == "json":
        json.dump(data, sys.stdout, indent=2)
        sys.stdout.write("\n")
        return result.exit_code
    out = sys.stdout.write
    origin = "generated for this run" if result.generated else "on disk"
    shown = result.module_path
    if shown.is_relative_to(Path.cwd()):
        shown = shown.relative_to(Path.cwd())
    out(f"verifying {args.notebook} against {shown} ({origin})\n")
    rows = [(c.step, c.name, c.status, c.detail) for c in result.checks]
    if rows:
        w1 = max(len("step"), *(len(r[0]) for r in rows))
        w2 = max(len("output"), *(len(r[1]) for r in rows))
        out(f"  {'step':<{w1}}  {'output':<{w2}}  result\n")
        for step, name, status, detail in rows:
            text = status + (f" ({detail})" if detail and status != "equal" else "")
            out(f"  {step:<{w1}}  {name:<{w2}}  {text}\n")
    shows = [(d.step, d.cells, d.what, d.status, d.detail) for d in result.displays]
    if shows:
        w1 = max(len("step"), *(len(r[0]) for r in shows))
        w2 = max(len("cells"), *(len(r[1]) for r in shows))
        w3 = max(len("display"), *(len(r[2]) for r in shows))
        out(f"  {'step':<{w1}}  {'cells':<{w2}}  {'display':<{w3}}  result (notebook vs slim notebook)\n")
        for step, cells, what, status, detail in shows:
            text = status + (f" ({detail})" if detail and status != "equal" else "")
            out(f"  {step:<{w1}}  {cells:<{w2}}  {what:<{w3}}  {text}\n")
    for label, stop in (("notebook", result.notebook_stop), ("pipeline", result.pipeline_stop)):
        if stop is not None:
            first = stop.error.splitlines()[0] if stop.error else ""
            out(f"the {label} stops in step {stop.step or '(before the first step)'}: {first}\n")
    note = ""
    if result.notebook_stop and result.verdict != "not equivalent":
        note = "; both stop at the same step with the same error: fix the notebook so it runs top to bottom"
    verdict = {"equivalent": "equivalent", "not equivalent": "NOT equivalent"}.get(result.verdict, result.verdict)
    out(f"{verdict}: {result.summary()}{note}\n")
    return result.exit_code
