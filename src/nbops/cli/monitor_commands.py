"""``nbops monitor``: a health check of a registered model on new data, its verdict as the exit code.

Thin over :mod:`nbops.deploy.monitor`: resolves ``MODEL[@alias|/version]`` in the project's
store, reads the triggers of ``[tool.nbops.health]``, runs the check, writes the reports,
records the check in MLflow and prints the verdict (text or JSON). OK exits 0, WARN 1,
ALERT 5 (``exits.ALERT``), so cron and CI can act on it.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from nbops.cli import exits
from nbops.config import load_config, project_root
from nbops.errors import UsageError

__all__ = ["cmd_monitor", "register"]


def register(sub: Any) -> None:
    monitor = sub.add_parser(
        "monitor",
        help="check a registered model's health on new data: drift, predictions, performance",
        description="Compare DATA (a .csv or .parquet file, or the prediction log of nbops "
        "serve --log-predictions) with MODEL's reference data (logged by nbops.log_model(model, "
        "X)): per feature PSI and Kolmogorov-Smirnov (numbers) or PSI and chi-square "
        "(categories), the drift of the model's predictions, the rows failing its signature "
        "and, with --labels, its accuracy and F1 (classifiers) or RMSE and MAE (regressors). "
        "The triggers of [tool.nbops.health] give the verdict: OK, WARN or ALERT, with "
        "reasons. The JSON and HTML reports go to REPORT_DIR, and the check is recorded as a "
        "run of the MLflow experiment nbops-health/MODEL. See docs/monitor.md.",
        epilog=exits.epilog({
            exits.OK: "the verdict is OK",
            exits.FAILED: "the verdict is WARN",
            exits.ALERT: None,
            exits.USAGE: "no such model, store or file; nothing to compare (every column "
            "missing or retyped); a bad [tool.nbops.health] table",
            exits.TOOL: "MLflow (or pyarrow) is not installed, or the model cannot be loaded",
            exits.WRITE: "the reports cannot be written",
        }),
    )
    monitor.add_argument("model", metavar="MODEL", help="NAME, NAME@alias or NAME/version")
    monitor.add_argument("--current", type=Path, required=True, metavar="DATA",
                         help="the new data: .csv, .parquet or a prediction log (JSON lines)")
    monitor.add_argument("--labels", metavar="COLUMN",
                         help="the column of DATA with the true values: performance is measured")
    monitor.add_argument("--format", dest="output_format", choices=("text", "json"),
                         default="text", help="text (default) or json (the report)")
    monitor.add_argument("-o", "--output", type=Path, metavar="REPORT_DIR",
                         help="where report.json and report.html go (default "
                         "nbops-health/MODEL/TIMESTAMP/)")
    monitor.add_argument("--retrain", nargs="?", const="", metavar="NOTEBOOK",
                         help="on ALERT, start a tracked `nbops run` of the model's notebook "
                         "(NOTEBOOK, else the one it was released from) with DATA as its data "
                         "parameter; review its result with nbops submit: a retrain never "
                         "moves champion")
    monitor.add_argument("--retrain-param", metavar="NAME",
                         help="with --retrain: the notebook's parameter that takes DATA "
                         "(default: [tool.nbops.health] retrain-parameter, else one named "
                         "data, data_path, input_path, ...)")
    monitor.set_defaults(handler=cmd_monitor)


def _text(check: Any) -> str:
    from nbops.deploy.models import shown_path

    report = check.report
    verdict = check.verdict
    head = (f"{verdict.level}: {report['model']} version {report['version']} on "
            f"{report['rows']} rows of {report['current']['file']}")
    lines = [head]
    lines += [f"  {reason}" for reason in verdict.reasons]
    lines += [f"  finding: {finding}" for finding in report["findings"]]
    perf = report.get("performance")
    if perf:
        shown = ", ".join(f"{k} {v:.4g}" for k, v in perf.items()
                          if isinstance(v, float))
        lines.append(f"  performance ({perf['task']}, {perf['rows']} labelled rows): "
                     f"{shown or 'no labelled rows'}")
    lines.append(f"report: {shown_path(check.folder / 'report.html')}")
    if check.run_id:
        lines.append(f"recorded: run {check.run_id} of experiment nbops-health/{report['model']}")
    return "\n".join(lines) + "\n"


def _retrain_target(args: Any, config: Any, resolved: Any) -> tuple[Path, str, str]:
    """The notebook to retrain (named, else the version's released one), as shown, and its
    data parameter."""
    from nbops.deploy import models
    from nbops.deploy.retrain import data_parameter, released_notebook
    from nbops.errors import NotFoundError

    if args.retrain:
        notebook = Path(args.retrain)
        if not notebook.is_file():
            raise NotFoundError(f"no such notebook: {models.shown_path(notebook)}",
                                hint="--retrain NOTEBOOK")
    else:
        from nbops.run.tracking import mlflow_client

        root = config.root or project_root(Path.cwd())[0]
        notebook = released_notebook(mlflow_client(resolved.tracking_uri), resolved.name,
                                     resolved.version, root)
    shown = models.shown_path(notebook)
    named = args.retrain_param or config.health.get("retrain-parameter")
    if named is not None and not isinstance(named, str):
        raise UsageError("[tool.nbops.health] retrain-parameter must be a parameter's name")
    return notebook, shown, data_parameter(notebook, shown, named)


def _retrain(args: Any, config: Any, resolved: Any, check: Any) -> Any:
    """On ALERT, the retrain run (:mod:`nbops.deploy.retrain`); None otherwise."""
    from nbops.deploy.retrain import retrain

    if check.verdict.level != "ALERT":
        return None
    notebook, shown, parameter = _retrain_target(args, config, resolved)
    return retrain(notebook, shown, parameter, args.current, check.run_id,
                   resolved.tracking_uri)


def cmd_monitor(args: Any) -> int:
    from nbops.deploy import models
    from nbops.deploy.health import parse_health
    from nbops.deploy.monitor import run_check
    from nbops.errors import NotFoundError
    from nbops.run.tracking import default_tracking_uri

    models.require("nbops monitor")
    if not args.current.is_file():  # before the model is downloaded
        raise NotFoundError(f"no such file: {models.shown_path(args.current)}",
                            hint="--current DATA")
    config = load_config(Path.cwd())
    if args.retrain_param and args.retrain is None:
        raise UsageError("--retrain-param goes with --retrain")
    if args.retrain:  # a named notebook: checked before the check runs
        _retrain_target(args, config, None)
    pyproject = config.root / "pyproject.toml" if config.root else None
    triggers = parse_health(config.health, pyproject)
    spec = models.parse_spec(args.model)
    resolved = models.resolve(spec, default_tracking_uri(project_root(Path.cwd())[0]))
    loaded = models.load(resolved)
    check = run_check(loaded, args.current, triggers=triggers, labels=args.labels,
                      folder=args.output)
    retrained = _retrain(args, config, resolved, check) if args.retrain is not None else None
    if args.output_format == "json":
        print(json.dumps({**check.report, "retrain": retrained.to_json() if retrained else None}
                         if args.retrain is not None else check.report, indent=2))
    else:
        sys.stdout.write(_text(check))
        if retrained is not None:
            sys.stdout.write(
                f"retrain: nbops run {retrained.notebook} -p {retrained.parameter} "
                f"{models.shown_path(args.current)}: {retrained.status}"
                + (f", run {retrained.run_id}" if retrained.run_id else "")
                + f"\n  review it: nbops submit {retrained.notebook} (the merge releases it; "
                "champion moves only on the thresholds' PASS)\n"
            )
        elif args.retrain is not None:
            sys.stdout.write(f"retrain: not started (the verdict is {check.verdict.level}, "
                             "not ALERT)\n")
    if check.verdict.level == "ALERT":
        return exits.ALERT
    if check.verdict.level == "WARN":
        return exits.FAILED
    return exits.OK
