"""``nbops serve`` and ``nbops score``: a registered model answering HTTP, or scoring a file.

Thin over :mod:`nbops.deploy`. Both need the ``run`` extra (MLflow) and resolve
``MODEL[@alias|/version]`` in the project's tracking store (``MLFLOW_TRACKING_URI``, else
``tracking-uri`` of ``[tool.nbops.run]``, else ``.nbops/mlflow.db``).

``nbops release NOTEBOOK``: the merged commit's model registered and judged for promotion
(:mod:`nbops.deploy.release`).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from nbops.cli import exits
from nbops.config import project_root
from nbops.progress import MODES, Progress

__all__ = ["cmd_explain", "cmd_release", "cmd_score", "cmd_serve", "register"]

REJECTED = 2  # nbops score: rows were refused (without --allow-bad-rows)
_SHOWN_PROBLEMS = 20  # on stderr; OUT.errors.csv has them all


def _fraction(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not 0 < value <= 1:
        raise argparse.ArgumentTypeError(f"must be in (0, 1], not {text}")
    return value


def register(sub: Any) -> None:
    serve = sub.add_parser(
        "serve",
        help="serve a registered model's predictions over HTTP (MLflow's scoring protocol)",
        description="Load MODEL (NAME: its champion, else its latest version; NAME@alias; "
        "NAME/version) from the project's model registry once and answer MLflow's scoring "
        "protocol on HOST:PORT until Ctrl-C or SIGTERM: POST /invocations (JSON: "
        "dataframe_split, dataframe_records, instances or inputs; or CSV), GET /ping, "
        "GET /version. Inputs are checked against the model's signature: a bad request gets "
        "a 4xx naming the column and the problem. See docs/deploy.md.",
        epilog=exits.epilog({
            exits.OK: "stopped with Ctrl-C or SIGTERM",
            exits.USAGE: "no such model, alias, version or store; the port is in use",
            exits.TOOL: "MLflow is not installed, or the model cannot be loaded",
            exits.WRITE: "the prediction log cannot be written",
        }),
    )
    serve.add_argument("model", metavar="MODEL", help="NAME, NAME@alias or NAME/version")
    serve.add_argument("--port", type=int, default=5001, help="port to listen on (default 5001)")
    serve.add_argument("--host", default="127.0.0.1",
                       help="address to listen on (default 127.0.0.1: this machine only)")
    serve.add_argument("--log-predictions", type=Path, metavar="PATH", default=None,
                       help="append the sampled requests' inputs and outputs to PATH "
                       "(JSON lines)")
    serve.add_argument("--sample", type=_fraction, default=1.0,
                       help="with --log-predictions: the fraction of requests logged "
                       "(default 1: all)")
    serve.set_defaults(handler=cmd_serve)

    score = sub.add_parser(
        "score",
        help="score a CSV or Parquet file with a registered model, bad rows reported",
        description="Check DATA (.csv or .parquet) against MODEL's signature first: the rows "
        "with a value that cannot be converted to its column's type or a missing required "
        "value are listed by row number (1: the first data row) on stderr and in "
        "OUT.errors.csv, never dropped silently. The good rows are scored in partitions "
        "(a process pool, or Dask) into OUT, with their row number and a 'prediction' column.",
        epilog=exits.epilog({
            exits.OK: "every row scored (or bad rows with --allow-bad-rows)",
            REJECTED: "rows were rejected (listed in OUT.errors.csv); or a usage or input "
            "error: no such model or file, a bad option",
            exits.TOOL: "MLflow (or pyarrow, or Dask) is not installed, or the model cannot "
            "be loaded",
            exits.WRITE: "OUT cannot be written",
        }),
    )
    score.add_argument("model", metavar="MODEL", help="NAME, NAME@alias or NAME/version")
    score.add_argument("data", type=Path, metavar="DATA", help="the rows to score: .csv or .parquet")
    score.add_argument("-o", "--output", type=Path, required=True, metavar="OUT",
                       help="where the scored rows go: .csv or .parquet")
    score.add_argument("--partitions", type=int, default=1,
                       help="score in N partitions, in parallel (default 1)")
    score.add_argument("--executor", choices=("local", "dask"), default="local",
                       help="local (default): a process pool on this machine; dask: a Dask "
                       "cluster (--scheduler, else [tool.nbops.run] scheduler, else a local "
                       "one; nbops[dask])")
    score.add_argument("--scheduler", metavar="ADDRESS",
                       help="with --executor dask: the scheduler, e.g. tcp://HOST:8786")
    score.add_argument("--allow-bad-rows", action="store_true",
                       help="exit 0 even when rows were rejected (they are still listed)")
    score.add_argument("--progress", choices=MODES, default="auto",
                       help="progress on stderr: auto (default: a bar on a terminal), json, none")
    score.set_defaults(handler=cmd_score)

    release = sub.add_parser(
        "release",
        help="release a merged notebook's model: registered version, gate, model card, verdict",
        description="What CI runs on a push to the base branch (nbops init writes the job): "
        "take the tracked run of this exact commit (HEAD, clean), or make one with the "
        "notebook's defaults; register its model as a new version of MODEL (alias "
        "'challenger') tagged with the commit, the pull request and the review gate's "
        "results, with the model card as an artifact; then judge it by [tool.nbops.promote]: "
        "PASS moves 'champion' to it, HOLD leaves it. See docs/deploy.md.",
        epilog=exits.epilog({
            exits.OK: "released; PASS: champion moved to the new version",
            exits.FAILED: "released, but HOLD (a threshold failed or none is declared), or the "
            "release run failed",
            exits.USAGE: "no such notebook, not in a git repository, no model name, or bad "
            "thresholds",
            exits.TOOL: "MLflow or papermill is not installed, or the registry refused",
        }),
    )
    release.add_argument("notebook", type=Path, metavar="NOTEBOOK", help="the merged notebook")
    release.add_argument("--model", help="registered model name (default: [tool.nbops.submit] "
                         "model)")
    release.add_argument("--pr", metavar="N", help="the pull request number (default: read "
                         "from the merge commit's message)")
    release.add_argument("--format", dest="output_format", choices=("text", "json"),
                         default="text", help="text (default) or json")
    release.set_defaults(handler=cmd_release)

    explain = sub.add_parser(
        "explain",
        help="explain a registered model on a batch: permutation importance, per-class metrics",
        description="Check DATA (.csv or .parquet) against MODEL's signature, then compute "
        "scikit-learn's permutation importance of each input column (at most 5,000 rows, "
        "seeded; accuracy for a classifier, r2 for a regressor) against the --labels column, "
        "or without it against the model's own predictions; with labels, a classifier's "
        "precision, recall and F1 per class. See docs/deploy.md.",
        epilog=exits.epilog({
            exits.OK: "explained",
            exits.USAGE: "no such model, file or labels column; DATA misses a column of the "
            "model's signature or has a bad value",
            exits.TOOL: "MLflow (or pyarrow) is not installed, or the model cannot be loaded",
            exits.WRITE: "-o DIR cannot be written",
        }),
    )
    explain.add_argument("model", metavar="MODEL", help="NAME, NAME@alias or NAME/version")
    explain.add_argument("data", type=Path, metavar="DATA", help="the rows: .csv or .parquet")
    explain.add_argument("--labels", metavar="COLUMN",
                         help="the column of DATA with the true labels (left out of the inputs)")
    explain.add_argument("--format", dest="output_format", choices=("text", "json"),
                         default="text", help="text (default) or json")
    explain.add_argument("-o", "--output", type=Path, metavar="DIR", default=None,
                         help="also write importance.json, importance.svg (a bar chart) and "
                         "per_class.json into DIR")
    explain.set_defaults(handler=cmd_explain)


def _load(text: str, what: str) -> Any:
    from nbops.deploy import models
    from nbops.run.tracking import default_tracking_uri

    models.require(what)
    spec = models.parse_spec(text)
    uri = default_tracking_uri(project_root(Path.cwd())[0])
    return models.resolve(spec, uri)


def cmd_serve(args: Any) -> int:
    from nbops.deploy import models, serve

    resolved = _load(args.model, "nbops serve")
    sock = serve.bind(args.host, args.port)  # the port is checked before the model loads
    try:
        loaded = models.load(resolved)
    except BaseException:
        sock.close()
        raise
    options = serve.ServeOptions(args.host, sock.getsockname()[1], args.log_predictions,
                                 args.sample)
    return serve.serve(loaded, sock, options)


def cmd_score(args: Any) -> int:
    from nbops.config import load_config
    from nbops.deploy import models, score
    from nbops.run.executors import check_scheduler_for

    check_scheduler_for(args.executor, args.scheduler)
    configured = load_config(args.data.parent if args.data.parent.is_dir() else None).run
    scheduler = args.scheduler or (configured.scheduler if args.executor == "dask" else None)
    resolved = _load(args.model, "nbops score")
    loaded = models.load(resolved)
    bar: Progress | None = None
    shown = 0

    def report(problem: Any) -> None:
        nonlocal shown
        shown += 1
        if shown <= _SHOWN_PROBLEMS:
            print(f"nbops: {models.shown_path(args.data)}: {problem}", file=sys.stderr)

    def progress(done: int, total: int) -> None:
        nonlocal bar
        if bar is None:
            bar = Progress(args.progress, total, unit="partition", desc="scoring")
        bar.update(done)

    try:
        result = score.score_file(loaded, args.data, args.output, partitions=args.partitions,
                                  executor=args.executor, scheduler=scheduler, report=report,
                                  progress=progress)
    finally:
        if bar is not None:
            bar.close()
    if shown > _SHOWN_PROBLEMS:
        print(f"nbops: ... and {shown - _SHOWN_PROBLEMS} more problems", file=sys.stderr)
    out = models.shown_path(args.output)
    print(f"scored {result.scored} of {result.rows} rows with {resolved.label} into {out}")
    if loaded.acceptance is not None and result.decisions is not None:
        below = "abstained" if loaded.acceptance.below == "abstain" else "routed to a human"
        print(f"threshold {loaded.acceptance.threshold:g}: "
              f"{result.decisions.get('accept', 0)} accepted, "
              f"{result.decisions.get(loaded.acceptance.below, 0)} {below}")
    if result.rejected:
        listed = models.shown_path(result.errors_file) if result.errors_file else "stderr"
        print(f"nbops: {result.rejected} rows rejected (listed in {listed})", file=sys.stderr)
        return exits.OK if args.allow_bad_rows else REJECTED
    return exits.OK


def cmd_release(args: Any) -> int:
    import json

    from nbops import extras

    extras.require("run", "nbops release", modules=["papermill", "mlflow"])
    from nbops.config import load_config
    from nbops.deploy.release import RunFailed, release
    from nbops.errors import NotFoundError
    from nbops.run.tracking import MlflowTracker, default_tracking_uri

    if not args.notebook.is_file():
        raise NotFoundError("no such notebook", path=args.notebook, hint="check the path")
    load_config(args.notebook)  # a bad [tool.nbops] table: before MLflow is opened
    tracker = MlflowTracker(default_tracking_uri(project_root(args.notebook)[0]))
    try:
        done = release(args.notebook, tracker, model=args.model, pr=args.pr)
    except RunFailed as exc:
        print(f"nbops: {exc}", file=sys.stderr)
        return exits.FAILED
    if args.output_format == "json":
        print(json.dumps(done.to_json(), indent=2))
    else:
        sys.stdout.write(done.text())
    # the release is done either way (the version is registered, the verdict recorded on
    # it): HOLD is the thresholds' answer, not a failure of the merge's CI job (nbops promote,
    # which a user runs to move the champion, exits 1 on HOLD)
    return exits.OK


def cmd_explain(args: Any) -> int:
    import json

    from nbops.deploy import explain, models
    from nbops.errors import WriteError
    from nbops.run import explanation

    explanation.require("nbops explain")
    resolved = _load(args.model, "nbops explain")
    found = explain.explain_file(models.load(resolved), args.data, args.labels)
    if args.output is not None:
        try:
            written = explanation.write(found, args.output)
        except OSError as exc:
            raise WriteError(f"cannot write the explanation: {exc.strerror}",
                             path=models.shown_path(args.output)) from exc
        print(f"nbops: wrote {', '.join(models.shown_path(p) for p in written)}",
              file=sys.stderr)
    if args.output_format == "json":
        print(json.dumps({"model": resolved.label, **found.to_json()}, indent=2, default=float))
    else:
        sys.stdout.write(explain.text(found, resolved.label))
    return exits.OK
