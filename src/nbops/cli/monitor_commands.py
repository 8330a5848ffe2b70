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
    pyproject = config.root / "pyproject.toml" if config.root else None
    triggers = parse_health(config.health, pyproject)
    spec = models.parse_spec(args.model)
    resolved = models.resolve(spec, default_tracking_uri(project_root(Path.cwd())[0]))
    loaded = models.load(resolved)
    check = run_check(loaded, args.current, triggers=triggers, labels=args.labels,
                      folder=args.output)
    if args.output_format == "json":
        print(json.dumps(check.report, indent=2))
    else:
        sys.stdout.write(_text(check))
    if check.verdict.level == "ALERT":
        return exits.ALERT
    if check.verdict.level == "WARN":
        return exits.FAILED
    return exits.OK
