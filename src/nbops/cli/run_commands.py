"""``nbops run``, ``nbops runs``, ``nbops promote``, ``nbops ui``, ``nbops tracking-server``:
thin over ``nbops.run``."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from nbops import extras
from nbops.cli import exits
from nbops.config import project_root as config_project_root
from nbops.errors import NotFoundError, UsageError
from nbops.progress import MODES, Mode, Progress, interactive

_RUN = ["papermill", "mlflow"]  # what nbops run imports (the kernel is checked on its own)
_TRACK = ["mlflow"]


def register(sub: Any) -> None:
    run = sub.add_parser(
        "run",
        help="run a notebook with parameters through papermill, tracked in MLflow",
        description="Execute a notebook with parameters (papermill, a real kernel), write the "
        "executed notebook to the runs folder and record an MLflow run with parameters, "
        "metrics, artifacts and lineage. --grid makes a sweep.",
        epilog=exits.epilog({
            exits.OK: "every run finished",
            exits.FAILED: "a cell failed",
            exits.USAGE: "bad parameters or options, or a kernel that is not installed "
            "(checked before anything starts)",
            exits.TOOL: "a kernel died or timed out, or MLflow or papermill is not installed",
            exits.INTERRUPTED: "interrupted: finished runs are kept, the others end KILLED",
        }),
    )
    run.add_argument("notebook", type=Path, metavar="NOTEBOOK", help="the notebook to run")
    run.add_argument("-p", "--parameter", nargs=2, action="append", default=[],
                     metavar=("NAME", "VALUE"), help="a parameter value")
    run.add_argument("-f", "--parameters-file", type=Path, action="append", default=[],
                     metavar="FILE", help="parameters from a YAML or JSON file")
    run.add_argument("--grid", action="append", default=[], metavar="NAME=V1,V2,...",
                     help="sweep: one run per combination")
    run.add_argument("--parallel", type=int, default=None, metavar="N",
                     help="runs at a time in a sweep (separate kernels; default 1; with "
                     "--executor dask and no --scheduler: the local cluster's workers, default "
                     "one per core)")
    run.add_argument("--executor", metavar="NAME",
                     help="where the runs execute: local (default: kernels on this machine) or "
                     "dask (one Dask task per run); default: [tool.nbops.run] executor")
    run.add_argument("--scheduler", metavar="ADDRESS",
                     help="with --executor dask: the scheduler, e.g. tcp://HOST:8786 (default: "
                     "[tool.nbops.run] scheduler, else a local cluster started for the runs)")
    run.add_argument("--kernel", help="kernel name (default: the notebook's)")
    run.add_argument("--timeout", type=float, help="seconds a cell may run")
    run.add_argument("--runs-dir", type=Path, help="where executed notebooks go "
                     "(default: nbops-runs/ under the project)")
    run.add_argument("--experiment", help="MLflow experiment (default: the notebook's name)")
    run.add_argument("--rank-by", metavar="METRIC[:asc]", help="rank a sweep by this metric")
    run.add_argument("--pipeline", action="store_true",
                     help="run the module `nbops modularize` generated for the notebook instead "
                     "(same parameters, same tracking store: compare both forms)")
    run.add_argument("--package", help="with --pipeline: the generated package's name")
    run.add_argument("--format", dest="output_format", choices=("text", "json"), default="text",
                     help="the runs as text (default) or JSON on stdout")
    run.add_argument("--progress", choices=(*MODES, "bar"), default="auto",
                     help="progress on stderr. auto (default): a bar when stderr is a terminal "
                     "(per cell for one run, per run for a sweep), nothing otherwise; json: one "
                     'JSON object per line {"done", "failed", "running", "total"} as runs start '
                     "and end (single runs too), for programs that watch the run; none; bar: "
                     "auto's old name")
    run.set_defaults(handler=cmd_run)

    runs = sub.add_parser(
        "runs",
        help="list runs (nbops runs [NOTEBOOK]) or compare two (nbops runs compare A B)",
        description="List the tracked runs of the project, newest first (of one notebook "
        "with NOTEBOOK): status, duration, parameters and metrics. `nbops runs compare A B` "
        "shows what differs between two runs (run ids or their first characters).",
        epilog=exits.epilog({
            exits.OK: None,
            exits.USAGE: "bad arguments, or a run id that matches no run",
            exits.TOOL: "MLflow is not installed, or its store cannot be read",
        }),
    )
    runs.add_argument("args", nargs="*", metavar="NOTEBOOK | compare A B",
                      help="a notebook whose runs to list (default: all), or compare and two "
                      "run ids")
    runs.add_argument("--format", dest="output_format", choices=("text", "json"), default="text",
                      help="text (default) or json")
    runs.add_argument("--limit", type=int, default=20, metavar="N",
                      help="list at most N runs (default 20)")
    runs.set_defaults(handler=cmd_runs)

    promote = sub.add_parser(
        "promote",
        help="register a run's model as challenger; champion moves if it passes the thresholds",
        description="Register the model a run logged as a new version of MODEL (alias "
        "'challenger'), or take a registered version (MODEL@ALIAS, MODEL@VERSION), and judge it "
        "against the champion by the thresholds of [tool.nbops.promote]: PASS moves the alias "
        "'champion' to it, HOLD leaves it and names the failed threshold. The verdict is "
        "stored as the artifact promotion/verdict.json of the version's run and as its tag "
        "nbops.verdict.",
        epilog=exits.epilog({
            exits.OK: "PASS: champion moved to the version",
            exits.FAILED: "HOLD: a threshold failed (or none is declared); champion not moved",
            exits.USAGE: "no such run or version, the run logged no model, or bad thresholds",
            exits.TOOL: "MLflow is not installed, or the registry refused",
        }),
    )
    promote.add_argument("run_id", metavar="RUN | MODEL@ALIAS",
                         help="a run id (or its first characters), or a registered version: "
                         "MODEL@challenger, MODEL@3")
    promote.add_argument("--model", help="registered model name (needed with a RUN)")
    promote.add_argument("--dry-run", action="store_true",
                         help="print the verdict only: nothing registered, tagged or moved")
    promote.add_argument("--format", dest="output_format", choices=("text", "json"),
                         default="text", help="text (default) or json")
    promote.set_defaults(handler=cmd_promote)

    ui = sub.add_parser(
        "ui",
        help="start the MLflow UI for this project's runs on localhost",
        description="Serve the MLflow UI on 127.0.0.1 for the project's tracking store "
        "(.nbops/mlflow.db) until Ctrl-C; the UI's server and workers stop with it.",
        epilog=exits.epilog({
            exits.OK: "stopped with Ctrl-C or a signal",
            exits.TOOL: "MLflow is not installed",
        }, note="Other codes: the MLflow UI's own, when it ends by itself."),
    )
    ui.add_argument("--port", type=int, default=5000, help="port to listen on (default 5000)")
    ui.set_defaults(handler=cmd_ui)

    server = sub.add_parser(
        "tracking-server",
        help="start MLflow's tracking server on this project's store, for a team or a cluster",
        description="Serve the project's tracking store (.nbops/mlflow.db, or --store) with "
        "MLflow's tracking server, artifacts uploaded and downloaded through it, until Ctrl-C; "
        "its workers stop with it. Clients and Dask workers log to the URI it prints. MLflow's "
        "server has no authentication: beyond 127.0.0.1, put it behind a proxy or VPN.",
        epilog=exits.epilog({
            exits.OK: "stopped with Ctrl-C or a signal",
            exits.USAGE: "the port is taken, or the store or the artifacts folder cannot be used",
            exits.TOOL: "MLflow's server is not installed (nbops[ui])",
        }, note="Other codes: the MLflow server's own, when it ends by itself."),
    )
    server.add_argument("--host", default="127.0.0.1",
                        help="address to listen on (default 127.0.0.1; 0.0.0.0: every interface)")
    server.add_argument("--port", type=int, default=5000, help="port to listen on (default 5000)")
    server.add_argument("--store", metavar="URI",
                        help="the runs' database: a SQLite file or an SQLAlchemy URI such as "
                        "postgresql://... (default: MLFLOW_TRACKING_URI when it names a database, "
                        "else the project's .nbops/mlflow.db)")
    server.add_argument("--artifacts", metavar="DIR",
                        help="where the served artifacts go (default: the project's "
                        ".nbops/mlartifacts); a folder or a URI such as s3://bucket/mlflow")
    server.set_defaults(handler=cmd_tracking_server)


def project_root(start: Path) -> Path:
    """Where the runs and the tracking store live (see nbops.config.project_root)."""
    return config_project_root(start)[0]


def _settings(notebook: Path, args: Any) -> Any:
    from nbops.run.runner import RunSettings, default_runs_dir

    root = project_root(notebook)  # absolute, as every path a run keeps (see run.runner)
    return RunSettings(
        project_root=root,
        runs_dir=Path(os.path.abspath(args.runs_dir)) if args.runs_dir else default_runs_dir(root),
        experiment=args.experiment or notebook.stem,
        kernel=args.kernel,
        timeout=args.timeout,
    )


class _Cells:
    """The bar of one run, per cell (``--progress auto`` on a terminal): made when the first
    cell starts (the kernel runner knows the count), described by the running cell's first line."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.bar: Progress | None = None

    def __call__(self, done: int, total: int, source: str | None) -> None:
        if self.bar is None:
            self.bar = Progress("auto", total, unit="cell", desc=self.label)
        first = next((line.strip() for line in (source or "").splitlines() if line.strip()), "")
        self.bar.update(done, desc=f"{self.label} [{first[:40]}]" if source is not None else None)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def _mode(args: Any) -> Mode:
    mode: Mode = "auto" if args.progress == "bar" else args.progress
    return mode


def _rank(runs: list[Any], rank_by: str | None) -> list[Any]:
    if not rank_by:
        return runs
    metric, _, order = rank_by.partition(":")
    ascending = order == "asc"
    with_metric = [r for r in runs if metric in r.metrics]
    without = [r for r in runs if metric not in r.metrics]
    return sorted(with_metric, key=lambda r: r.metrics[metric], reverse=not ascending) + without


class _Stop:
    """SIGINT and SIGTERM stop the runs as Ctrl-C does (kernels stopped, finished runs kept, the
    others KILLED, the report printed), whatever this process inherited: a server started in
    the background (``&``, nohup, a container) passes SIGINT on *ignored* (SIG_IGN survives
    exec). A second signal while the runs are being recorded is ignored, and so is any signal
    while the report is printed (``quiet``): the JSON report always comes out whole; a third
    stops at once. SIGKILL remains the hard stop."""

    def __init__(self) -> None:
        self.received = 0
        self.quiet = False

    def __call__(self, signum: int, frame: Any) -> None:
        self.received += 1
        if self.quiet:
            return
        if self.received == 2:
            sys.stderr.write("nbops: stopping: recording the runs (signal again to stop at once)\n")
            sys.stderr.flush()
            return
        raise KeyboardInterrupt

    @contextlib.contextmanager
    def installed(self) -> Iterator[_Stop]:
        if threading.current_thread() is not threading.main_thread():  # in-process callers
            yield self
            return
        wanted = [signal.SIGINT] + ([signal.SIGTERM] if sys.platform != "win32" else [])
        previous = {sig: signal.getsignal(sig) for sig in wanted}
        for sig in wanted:
            signal.signal(sig, self)
        try:
            yield self
        finally:
            for sig, before in previous.items():
                signal.signal(sig, before if before is not None else signal.SIG_DFL)


def cmd_run(args: Any) -> int:
    extras.require("run", "nbops run", modules=_RUN)  # before anything is read or written
    notebook: Path = args.notebook
    if not notebook.exists():
        raise NotFoundError("no such notebook", path=notebook, hint="check the path")
    if args.parallel is not None and args.parallel < 1:
        raise UsageError("--parallel must be 1 or more")
    executor = _executor(notebook, args)
    if not args.pipeline and not args.grid and executor.name == "local":
        from nbops.run.recorder import prestart

        prestart()  # MLflow imported by a helper while this process imports papermill
    from nbops.run.params import read_parameters, resolve  # once the helper is on its way
    from nbops.run.runner import Interrupted, RunOutcome

    params = read_parameters(notebook)
    sets = resolve(params, [tuple(p) for p in args.parameter], args.parameters_file, args.grid)
    settings = _settings(notebook, args)
    if args.pipeline and (len(sets) != 1 or args.grid):
        raise UsageError("--pipeline runs one parameter set (no --grid yet)")
    mode = _mode(args)
    single = args.pipeline or (len(sets) == 1 and not args.grid)
    # a single run: JSON lines as it starts and ends, or a bar per cell; a sweep: per run
    runs = Progress(mode if mode == "json" or not single else "none", len(sets), unit="run",
                    desc=notebook.name)
    cells = _Cells(notebook.name) if single and mode == "auto" and interactive(sys.stderr) else None
    if single:
        runs.update(0, failed=0, running=1)
    parent: str | None = None
    interrupted = False
    with _Stop().installed() as stop:
        try:
            if args.pipeline:
                from nbops.run.runner import run_pipeline

                outcomes = [run_pipeline(notebook, sets[0], settings, package=args.package,
                                         executor=executor.name,
                                         scheduler=executor.options.scheduler)]
            elif single:
                outcomes = [executor.run_notebook(notebook, sets[0], settings, on_cell=cells)]
            else:
                def progress(done: int, failed: int, running: int, total: int) -> None:
                    runs.update(done, failed=failed, running=running)

                sweep = executor.run_sweep(notebook, sets, settings, progress=progress)
                outcomes, parent, interrupted = sweep.runs, sweep.parent_run_id, sweep.interrupted
        except Interrupted as exc:  # the run was ended KILLED: report it like any other
            outcomes, interrupted = [exc.outcome], True
        except KeyboardInterrupt:  # before any run was opened
            outcomes, interrupted = [RunOutcome("", dict(p), "KILLED", None) for p in sets], True
        finally:
            if cells is not None:
                cells.close()
            runs.close()
        stop.quiet = True  # the report comes out whole
        if single:
            runs.update(1, failed=int(outcomes[0].status != "FINISHED"), running=0)
        return _report(args, settings, outcomes, parent, interrupted)


def _executor(notebook: Path, args: Any) -> Any:
    """The executor asked for (``--executor``, else ``[tool.nbops.run]``), checked before
    anything starts; its extra is required."""
    from nbops.config import load_config
    from nbops.run.executors import ExecutorOptions, choose_executor

    run = load_config(notebook).run
    name = args.executor or run.executor
    if args.pipeline and name not in ("local", "dask"):
        raise UsageError(f"--pipeline runs on the local or dask executor, not {name!r}",
                         hint="leave out --executor (or set executor = \"local\")")
    # the Run tab's server checks the same (nbops.run.form)
    executor_class, scheduler = choose_executor(args.executor, args.scheduler, run)
    return executor_class(ExecutorOptions(scheduler=scheduler, retries=run.retries,
                                          parallel=args.parallel))


def _report(args: Any, settings: Any, outcomes: list[Any], parent: str | None,
            interrupted: bool) -> int:
    """Print the runs (``--format``) and return the exit code."""
    ranked = _rank(outcomes, args.rank_by)
    if args.output_format == "json":
        json.dump(
            {
                "parent_run_id": parent,
                "interrupted": interrupted,
                "runs": [
                    {
                        "run_id": r.run_id,
                        "status": r.status,
                        "parameters": r.parameters,
                        "metrics": r.metrics,
                        "output": str(r.output) if r.output else None,
                        "duration_s": round(r.duration_s, 3),
                        "failed_cell": (r.failure.cell + 1 if r.failure and r.failure.cell is not None else None),
                        "error": (f"{r.failure.ename}: {r.failure.evalue}" if r.failure else r.error),
                    }
                    for r in ranked
                ],
            },
            sys.stdout,
            indent=2,
            default=str,
        )
        sys.stdout.write("\n")
    else:
        out = sys.stdout.write
        for r in ranked:
            params_text = ", ".join(f"{k}={v!r}" for k, v in r.parameters.items()) or "defaults"
            metrics_text = ", ".join(f"{k}={v:.4g}" for k, v in sorted(r.metrics.items()))
            out(f"{r.status:<8} {r.run_id[:8] or '-':<8} {r.duration_s:6.1f}s  {params_text}"
                + (f"  [{metrics_text}]" if metrics_text else "") + "\n")
            if r.failure is not None:
                where = f"cell {r.failure.cell + 1}" if r.failure.cell is not None else "a cell"
                out(f"         {where} raised {r.failure.ename}: {r.failure.evalue.splitlines()[0] if r.failure.evalue else ''}\n")
            elif r.error:
                out(f"         {r.error}\n")
            if r.output:
                out(f"         executed notebook: {r.output}\n")
        if parent:
            out(f"sweep run: {parent}\n")
        from nbops.run.tracking import describe_store

        uri = settings.store_uri
        local = uri.startswith("sqlite:///")
        out(f"tracking store: {describe_store(uri)}"
            + ("  (nbops ui to browse it)\n" if local else "\n"))
    if interrupted:
        return 130
    if not args.pipeline and any(r.status == "FAILED" and r.error for r in outcomes):
        return 3  # a kernel died or timed out: a tool failure (nbops.errors), not a cell's
    return 0 if all(r.status == "FINISHED" for r in outcomes) else 1


def _tracker(start: Path) -> Any:
    from nbops.run.tracking import MlflowTracker, default_tracking_uri

    return MlflowTracker(default_tracking_uri(project_root(start)))


def cmd_runs(args: Any) -> int:
    extras.require("run", "nbops runs", modules=_TRACK)
    rest: list[str] = list(args.args)
    if rest[:1] == ["compare"]:
        if len(rest) != 3:
            raise UsageError("usage: nbops runs compare RUN_A RUN_B")
        diff = _tracker(Path.cwd()).compare(rest[1], rest[2])
        if args.output_format == "json":
            json.dump(diff, sys.stdout, indent=2, default=str)
            sys.stdout.write("\n")
        else:
            for section, changes in diff.items():
                sys.stdout.write(f"{section}:\n")
                if isinstance(changes, dict):
                    for key, value in changes.items():
                        sys.stdout.write(f"  {key}: {value}\n")
                else:
                    sys.stdout.write(f"  {changes}\n")
        return 0
    notebook = Path(rest[0]) if rest else None
    if len(rest) > 1:
        raise UsageError("usage: nbops runs [NOTEBOOK]")
    tracker = _tracker(notebook or Path.cwd())
    records = tracker.list_runs(None, str(notebook) if notebook else None, max_results=args.limit)
    records = tracker.end_orphans(records)  # RUNNING runs whose process died end KILLED
    if args.output_format == "json":
        json.dump([r.__dict__ for r in records], sys.stdout, indent=2, default=str)
        sys.stdout.write("\n")
        return 0
    if not records:
        sys.stdout.write("no runs yet (nbops run NOTEBOOK)\n")
        return 0
    for r in records:
        params_text = ", ".join(f"{k}={v}" for k, v in sorted(r.params.items()))
        metrics_text = ", ".join(f"{k}={v:.4g}" for k, v in sorted(r.metrics.items()))
        duration = f"{r.duration_s:.1f}s" if r.duration_s is not None else "-"
        sys.stdout.write(f"{r.run_id[:8]}  {r.status:<8} {duration:>7}  {r.name}  {params_text}  {metrics_text}\n")
    return 0


def cmd_promote(args: Any) -> int:
    extras.require("run", "nbops promote", modules=_TRACK)
    from nbops.config import load_config
    from nbops.deploy.promotion import promote

    thresholds = load_config(Path.cwd()).promote  # a bad table: before MLflow is opened
    done = promote(_tracker(Path.cwd()), args.run_id, thresholds, model=args.model,
                   dry_run=args.dry_run)
    if args.output_format == "json":
        sys.stdout.write(json.dumps(done.to_json(), indent=2) + "\n")
    else:
        if "@" not in args.run_id and not done.dry_run:
            sys.stdout.write(f"registered {done.model} version {done.version}; alias "
                             "'challenger' points to it\n")
        sys.stdout.write(done.text())
    return exits.OK if done.verdict.passed else exits.FAILED


def cmd_ui(args: Any) -> int:
    extras.require("ui", "nbops ui")
    argv = _tracker(Path.cwd()).ui_command(args.port)
    sys.stdout.write(f"MLflow UI on http://127.0.0.1:{args.port}  (Ctrl-C to stop)\n")
    sys.stdout.flush()
    if sys.platform == "win32":
        return subprocess.call(argv, env=_ui_env())
    return _serve(argv)


def cmd_tracking_server(args: Any) -> int:
    extras.require("ui", "nbops tracking-server")  # the server needs Flask: the full mlflow
    from nbops.run import tracking_server as ts

    root = project_root(Path.cwd())
    ts.check_port(args.host, args.port)
    store = ts.server_store_uri(root, args.store)
    artifacts = ts.artifacts_destination(root, args.artifacts)
    ts.open_store(store)
    argv = ts.server_command(store, artifacts, args.host, args.port)
    warning = ts.security_warning(args.host)
    if warning:
        sys.stderr.write(f"nbops: {warning}\n")
        sys.stderr.flush()
    uri = ts.client_uri(args.host, args.port)
    sys.stdout.write(
        f"MLflow tracking server on {uri}  (Ctrl-C to stop)\n"
        f"clients: set tracking-uri = \"{uri}\" in [tool.nbops.run] or export "
        f"MLFLOW_TRACKING_URI={uri}\n"
    )
    sys.stdout.flush()
    if sys.platform == "win32":
        return subprocess.call(argv, env=_ui_env())
    return _serve(argv)


UI_GRACE_S = 5.0  # after the stop signal, before the UI's process group is killed

# the MLflow server's own noise, for its process (and its workers) only: it runs no code of the
# user's. Starlette's deprecation of the WSGI middleware MLflow imports (a UserWarning attributed
# to mlflow.server.fastapi_app; -W cannot name a category of a package: it is read before
# site-packages is on the path). The user's own PYTHONWARNINGS come after, so they win.
UI_WARNINGS = "ignore::UserWarning:mlflow.server.fastapi_app"


def _ui_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONWARNINGS"] = ",".join(filter(None, [UI_WARNINGS, env.get("PYTHONWARNINGS")]))
    return env


def _serve(argv: list[str]) -> int:
    """Run the MLflow UI in a process group of its own and take it down with nbops: SIGINT,
    SIGTERM and SIGHUP to nbops are passed to the whole group (``mlflow ui`` starts a uvicorn or
    gunicorn server and its workers, which outlive it when only it is stopped); what is left
    after :data:`UI_GRACE_S` is killed. A stop asked for this way exits 0."""
    import time

    process = subprocess.Popen(argv, start_new_session=True, env=_ui_env())  # a list, no shell
    stopped: list[int] = []

    def forward(signum: int, frame: Any) -> None:
        stopped.append(signum)
        with contextlib.suppress(OSError):
            os.killpg(process.pid, signal.SIGTERM if signum == signal.SIGHUP else signum)

    wanted = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
    previous = {sig: signal.getsignal(sig) for sig in wanted}
    for sig in wanted:
        signal.signal(sig, forward)
    try:
        while True:
            try:
                code = process.wait(UI_GRACE_S if stopped else None)
                break
            except subprocess.TimeoutExpired:  # asked to stop and still there
                with contextlib.suppress(OSError):
                    os.killpg(process.pid, signal.SIGKILL)
        # the server's workers may outlive the mlflow process: wait for the group, then kill it
        deadline = time.monotonic() + UI_GRACE_S
        while time.monotonic() < deadline:
            try:
                os.killpg(process.pid, 0)
            except OSError:
                break
            time.sleep(0.1)
        else:
            with contextlib.suppress(OSError):
                os.killpg(process.pid, signal.SIGKILL)
    finally:
        for sig, before in previous.items():
            signal.signal(sig, before if before is not None else signal.SIG_DFL)
    return 0 if stopped else code
