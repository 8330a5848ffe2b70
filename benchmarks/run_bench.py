#!/usr/bin/env python3
"""Benchmark `nbops run` (issue 5, "Numbers to reach").

Three parts, measured side by side in one run, each in its own temp project (a copy of
examples/wine_classifier.ipynb and a trivial 3-cell notebook next to a pyproject.toml, so the
MLflow store lands in that project's .nbops/; MLFLOW_TRACKING_URI is unset for every run):

(1a) CLI: wall time of ``nbops run NB`` (the console script users run) vs ``papermill NB OUT``
     (the papermill CLI of the same venv), each a fresh subprocess; median of N (5; --quick 2)
     after one untimed warm-up each. Target: nbops under 15 % over papermill on the wine
     example; the trivial notebook isolates the fixed costs. In the same rotation, so under
     the same conditions: ``nbops run`` exiting through normal interpreter teardown (what
     ``nbops.cli.main._exit_now`` skips), and three traced variants (this script as the child
     process, wrapping nbops' functions and watching imports and the kernel launch through an
     audit hook): the nbops CLI, the papermill CLI, and ``execute_notebook`` alone in a fresh
     process. They split each CLI's wall time at the kernel launch and the end of execution,
     and tell what the background tracking thread does to the execution next to it.
(1b) in-process, warm: ``nbops.run.runner.run_notebook`` vs ``nbops.kernel.execute_notebook``
     alone on the same notebook and kernel in one process, alternating; the difference is
     what tracking adds per run. Target: under 0.5 s. Each run_notebook's critical path is
     timed (start -> execute_notebook, execute_notebook, execute_notebook end -> return, split
     into finish / HTML / artifacts / end_run / get_run), and its background thread
     (``lifecycle._Tracking``: tracker, lineage, start_run, requirements, HTML exporter warm-up),
     with when it was ready relative to the end of execution and how long ``finish()`` waited
     for it. cProfile of one warm and one cold (fresh process) run_notebook, both threads.
(2)  sweep: ``nbops run WINE --grid C=0.1,0.3,1,3 --grid SEED=0,1`` (8 runs) with
     ``--parallel 2`` vs ``--parallel 1``, alternating; median of 3 (--quick 1).
     Target: parallel 2 takes at most 0.65x the time of parallel 1.

Writes docs/benchmarks-run.md and benchmarks/results/run-latest.json (--quick:
results/run-quick.{json,md}, docs/ untouched); command logs in benchmarks/results/run-logs/.
If a function the probes wrap moved or changed shape, the run stops with a message saying
which (PROBES below) instead of reporting zeros.

Usage
  python benchmarks/run_bench.py               # everything (~10 min on 2 cores)
  python benchmarks/run_bench.py --quick       # smoke run; does not touch docs/
  python benchmarks/run_bench.py --only sweep  # re-measure one part, keep the others
  python benchmarks/run_bench.py --quick --only cli --notebooks wine --runs 1
  python benchmarks/run_bench.py --render-only # rewrite the report from the last JSON
"""

from __future__ import annotations

import time

_T_SCRIPT = time.time()  # as early as possible: a traced child's "interpreter start" ends here

import argparse
import functools
import json
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import textwrap
import threading
from pathlib import Path
from typing import Any

import harness
import nbtemplates
from harness import loadavg, now

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
RESULTS_DIR = HERE / "results"
LATEST = RESULTS_DIR / "run-latest.json"
QUICK_JSON = RESULTS_DIR / "run-quick.json"
LOGS = RESULTS_DIR / "run-logs"
DOC = REPO / "docs" / "benchmarks-run.md"
WINE = REPO / "examples" / "wine_classifier.ipynb"
DEFAULT_NBOPS_PYTHON = Path(os.environ.get("NBOPS_PYTHON", sys.executable))
SCRIPT = Path(__file__).resolve()

# Command lines, in one place: edit here if the CLIs change. {nbops} / {papermill} are the
# console scripts next to --nbops-python (what `pip install` puts on the PATH).
NBOPS_RUN = "{nbops} run {nb} --format json"
PAPERMILL = "{papermill} {nb} {out}"
NBOPS_NORMAL_EXIT = (  # the same CLI, but leaving through sys.exit (full interpreter teardown)
    "{py} -c 'import sys; from nbops.cli.main import main; sys.exit(main())' run {nb} --format json"
)
NBOPS_TRACED = "{py} {script} --_cli {nb} {trace}"
PAPERMILL_TRACED = "{py} {script} --_pm {nb} {out} {trace}"
EXECUTE_TRACED = "{py} {script} --_exec {nb} {out} {trace}"
NBOPS_SWEEP = (
    "{nbops} run {nb} --grid C=0.1,0.3,1,3 --grid SEED=0,1 --parallel {parallel} --format json"
)
IMPORTS = {  # start-up cost of each CLI's heavy imports, for the reading
    "import mlflow": "{py} -c 'import mlflow'",
    "import papermill": "{py} -c 'import papermill'",
    "import nbformat": "{py} -c 'import nbformat'",
    "nbops --version": "{nbops} --version",
    "papermill --version": "{papermill} --version",
}

# The variants of part (1a), measured in one rotation. Keys are stable (the JSON uses them).
CLI_VARIANTS = {
    "papermill": ("papermill", PAPERMILL),
    "nbops": ("nbops run", NBOPS_RUN),
    "nbops_normal_exit": ("nbops run, normal interpreter exit", NBOPS_NORMAL_EXIT),
    "nbops_traced": ("nbops run, traced", NBOPS_TRACED),
    "papermill_traced": ("papermill, traced", PAPERMILL_TRACED),
    "execute_traced": ("execute_notebook alone, fresh process, traced", EXECUTE_TRACED),
}

TARGET_OVERHEAD = 0.15
TARGET_TRACKING_S = 0.5
TARGET_SWEEP_RATIO = 0.65

BG_THREAD = "nbops-tracking"  # nbops.run.lifecycle._Tracking's thread name

# What the probes wrap: (module, class or None, attribute, event key). Every one must exist;
# a missing one stops the benchmark with this list's entry in the message.
PROBES: list[tuple[str, str | None, str, str]] = [
    ("nbops.run.runner", None, "run_notebook", "run_notebook"),
    ("nbops.run.runner", None, "execute_notebook", "execute"),
    ("nbops.run.runner", None, "_tracker", "tracker_open"),
    ("nbops.run.runner", None, "_html", "html"),
    ("nbops.run.runner", None, "_html_exporter_quietly", "html_warm"),
    ("nbops.run.runner", "_NotebookRun", "open", "bg_open"),  # the lifecycle's open hook
    ("nbops.run.journal", "Journal", "discard", "discard"),
    ("nbops.run.lifecycle", "_Tracking", "finish", "finish"),
    ("nbops.run.lifecycle", "_Tracking", "join", "finish_join"),
    ("nbops.run.lifecycle", "_Tracking", "_ingest", "ingest"),
    ("nbops.run.lineage", None, "lineage_tags", "lineage"),
    ("nbops.run.lineage", None, "frozen_requirements", "freeze"),
    ("nbops.run.tracking", "MlflowTracker", "start_run", "start_run"),
    ("nbops.run.tracking", "MlflowTracker", "log_artifact", "log_artifact"),
    ("nbops.run.tracking", "MlflowTracker", "log_batch", "log_batch"),
    ("nbops.run.tracking", "MlflowTracker", "set_tags", "set_tags"),
    ("nbops.run.tracking", "MlflowTracker", "end_run", "end_run"),
    ("nbops.run.tracking", "MlflowTracker", "get_run", "get_run"),
]
# events every tracked run_notebook must produce (else the probes no longer see the design)
REQUIRED_EVENTS = ("run_notebook", "execute", "bg_open", "finish", "finish_join", "html_warm")
WATCH_IMPORTS = ("nbformat", "papermill", "mlflow", "nbconvert", "sqlalchemy", "jupyter_client")

# the critical path of one run_notebook, and the pieces of its tail (all seconds)
POST_PARTS = [
    ("post_finish_wait", "`_Tracking.finish`: waiting for the background thread (join)"),
    ("post_final_ingest", "`_Tracking.finish`: last journal read (metrics logged)"),
    ("post_html", "HTML render (`runner._html`)"),
    ("post_artifacts", "`log_artifact` notebook + HTML"),
    ("post_end_run", "`set_tags` + `end_run`"),
    ("post_discard", "journal folder removed"),
    ("post_get_run", "`get_run` (metrics for the result)"),
    ("post_other", "other (rename, run index, result object)"),
]
BG_PARTS = [
    ("bg_tracker", "open the tracker (`runner._tracker`: MlflowTracker, client, store check)"),
    ("bg_lineage", "lineage tags (`lineage.lineage_tags`)"),
    ("bg_start_run", "`MlflowTracker.start_run`"),
    ("bg_freeze", "requirements (`lineage.frozen_requirements`)"),
    ("bg_env_artifact", "`log_artifact` requirements.txt"),
    ("bg_open_other", "rest of the open hook (mlflow imports outside the calls above, file write)"),
    ("bg_html_warm", "HTML exporter warm-up (`runner._html_exporter_quietly`)"),
]


log = harness.logger("run-bench")
med = harness.median


sh = harness.sh


def fmt_s(x: float | None, digits: int = 2) -> str:
    return "-" if x is None else f"{x:.{digits}f} s"


def fmt_ms(x: float | None) -> str:
    return "-" if x is None else f"{x * 1000:.0f} ms"


def fmt_signed(x: float | None, digits: int = 2) -> str:
    return "-" if x is None else f"{x:+.{digits}f} s"


def walls(rows: list[dict], digits: int) -> str:
    return ", ".join(f"{r['wall_s']:.{digits}f}" for r in rows)


PYCACHE = HERE / ".cache" / "pycache"


def env() -> dict[str, str]:
    """The children's environment: no tracking URI from outside, and byte-code caching on
    (as in an installed package) even where PYTHONDONTWRITEBYTECODE is set, into
    benchmarks/.cache/pycache (PYTHONPYCACHEPREFIX) so nothing is written next to the sources."""
    e = dict(os.environ)
    e.pop("MLFLOW_TRACKING_URI", None)
    e.pop("PYTHONDONTWRITEBYTECODE", None)
    e["PYTHONPYCACHEPREFIX"] = str(PYCACHE)
    e["PYTHONUNBUFFERED"] = "1"
    return e


class ProbeError(SystemExit):
    """The code the probes wrap changed: say what to update instead of reporting zeros."""

    def __init__(self, msg: str) -> None:
        super().__init__(f"run_bench: {msg}\n(update PROBES / REQUIRED_EVENTS / analyze_run in "
                         f"{SCRIPT.relative_to(REPO) if SCRIPT.is_relative_to(REPO) else SCRIPT})")


# --------------------------------------------------------------------------- the project


def make_project(root: Path) -> dict[str, Path]:
    root.mkdir(parents=True, exist_ok=True)
    (root / "pyproject.toml").write_text('[project]\nname = "run-bench"\nversion = "0"\n')
    wine = root / "wine_classifier.ipynb"
    shutil.copy(WINE, wine)
    trivial = root / "trivial.ipynb"
    cells = nbtemplates.load(nbtemplates.NOTEBOOKS / "trivial.md")
    trivial.write_text(nbtemplates.dumps(nbtemplates.notebook("trivial", cells)))
    (root / "pm-out").mkdir(exist_ok=True)
    (root / "traces").mkdir(exist_ok=True)
    return {"wine": wine, "trivial": trivial}


def timed_cmd(cmd: str, cwd: Path, log_name: str) -> dict[str, Any]:
    LOGS.mkdir(parents=True, exist_ok=True)
    log_file = LOGS / f"{log_name}.log"
    log_file.write_text(f"$ {cmd}\n")
    r = harness.run_timed(shlex.split(cmd), cwd=cwd, env=env(), log=log_file)
    return {"wall_s": round(r["secs"], 4), "rc": r["rc"], "log": str(log_file.relative_to(REPO)),
            "spawn": r["spawn"], "end": r["spawn"] + r["secs"]}


def json_from_log(log_file: str) -> Any:
    text = (REPO / log_file).read_text(errors="replace")
    start = text.find("{\n")
    if start < 0:
        return None
    try:
        return json.JSONDecoder().raw_decode(text[start:])[0]
    except json.JSONDecodeError:
        return None


# --------------------------------------------------------------------------- probes (children)


class Probe:
    """Timed calls (wrapped functions) and marks (imports, kernel launch) in one process."""

    def __init__(self) -> None:
        self.events: list[tuple[str, str, float, float]] = []  # key, thread, t0, t1
        self.marks: list[tuple[str, str, float]] = []  # key, thread, t
        self._lock = threading.Lock()
        self._seen: set[str] = set()
        self._undo: list[tuple[Any, str, Any, bool]] = []
        # perf_counter -> wall clock (time.time), to line traces up with the parent's clock
        self.offset = time.time() - time.perf_counter()

    def reset(self) -> None:
        with self._lock:
            self.events.clear()
            self.marks.clear()

    def add(self, key: str, t0: float, t1: float) -> None:
        with self._lock:
            self.events.append((key, threading.current_thread().name, t0, t1))

    def mark(self, key: str) -> None:
        t = time.perf_counter()
        with self._lock:
            self.marks.append((key, threading.current_thread().name, t))

    def wrap(self, owner: Any, attr: str, key: str, where: str) -> None:
        if not hasattr(owner, attr):
            raise ProbeError(f"{where} has no attribute {attr!r}: nbops' run machinery changed")
        orig = getattr(owner, attr)
        own = attr in vars(owner)
        probe = self

        @functools.wraps(orig)
        def timed(*a: Any, **k: Any) -> Any:
            t0 = time.perf_counter()
            try:
                return orig(*a, **k)
            finally:
                probe.add(key, t0, time.perf_counter())

        setattr(owner, attr, timed)
        self._undo.append((owner, attr, orig, own))

    def install(self) -> None:
        """Wrap everything in PROBES."""
        import importlib

        for module_name, cls, attr, key in PROBES:
            try:
                module = importlib.import_module(module_name)
            except ImportError as exc:
                raise ProbeError(f"cannot import {module_name}: {exc}") from exc
            owner = module
            if cls is not None:
                owner = getattr(module, cls, None)
                if owner is None:
                    raise ProbeError(f"{module_name} has no class {cls!r}")
            self.wrap(owner, attr, key, f"{module_name}{'.' + cls if cls else ''}")

    def uninstall(self) -> None:
        for owner, attr, orig, own in reversed(self._undo):
            if own:
                setattr(owner, attr, orig)
            else:
                delattr(owner, attr)
        self._undo.clear()

    def audit(self) -> None:
        """Mark the first import of WATCH_IMPORTS and every kernel launch (audit events)."""
        watch = set(WATCH_IMPORTS)

        def hook(event: str, args: tuple) -> None:
            if event == "import":
                # the top-level package: importlib.import_module("mlflow") raises no audit
                # event, the `import` statements inside mlflow do
                name = str(args[0]).split(".", 1)[0]
                if name in watch and name not in self._seen:
                    self._seen.add(name)
                    self.mark(f"import {name}")
            elif event == "subprocess.Popen":
                argv = args[1]
                text = " ".join(map(str, argv)) if isinstance(argv, (list, tuple)) else str(argv)
                if "ipykernel" in text:
                    self.mark("kernel_launch")
                    self._wrap_shutdown()  # jupyter_client.manager is loaded by now
                elif "git" in text.split(" ", 1)[0]:
                    self.mark("git")

        sys.addaudithook(hook)

    def _wrap_shutdown(self) -> None:
        """Time the kernel shutdown (jupyter_client's KernelManager / AsyncKernelManager
        ``shutdown_kernel``): papermill's nbclient asks the kernel to stop and waits, nbops
        stops it at once."""
        import inspect

        module = sys.modules.get("jupyter_client.manager")
        if module is None or getattr(module, "_bench_wrapped", False):
            return
        module._bench_wrapped = True
        probe = self
        for cls_name in ("KernelManager", "AsyncKernelManager"):
            cls = getattr(module, cls_name, None)
            orig = getattr(cls, "shutdown_kernel", None)
            if orig is None:
                raise ProbeError(f"jupyter_client.manager.{cls_name}.shutdown_kernel not found")
            if inspect.iscoroutinefunction(orig):
                async def wrapped(*a: Any, _orig: Any = orig, **k: Any) -> Any:
                    t0 = time.perf_counter()
                    try:
                        return await _orig(*a, **k)
                    finally:
                        probe.add("kernel_shutdown", t0, time.perf_counter())
            else:
                def wrapped(*a: Any, _orig: Any = orig, **k: Any) -> Any:  # type: ignore[misc]
                    t0 = time.perf_counter()
                    try:
                        return _orig(*a, **k)
                    finally:
                        probe.add("kernel_shutdown", t0, time.perf_counter())
            cls.shutdown_kernel = wrapped

    def dump(self) -> dict[str, Any]:
        """Everything in wall-clock seconds (time.time())."""
        o = self.offset
        with self._lock:
            return {
                "events": [(k, th, t0 + o, t1 + o) for k, th, t0, t1 in self.events],
                "marks": [(k, th, t + o) for k, th, t in self.marks],
            }


def analyze_run(trace: dict[str, Any], *, tracked: bool = True) -> dict[str, Any]:
    """One run_notebook's critical path and background thread, from a Probe.dump().

    tracked=False: a bare execute_notebook (no run_notebook around it)."""
    events, marks = trace["events"], trace["marks"]

    def evs(key: str, bg: bool | None = None) -> list[tuple]:
        return [e for e in events if e[0] == key
                and (bg is None or (e[1] == BG_THREAD) == bg)]

    def single(key: str) -> tuple:
        found = evs(key)
        if len(found) != 1:
            raise ProbeError(f"expected one {key!r} event per run, got {len(found)}: "
                             f"{[e[0] for e in events]}")
        return found[0]

    def dur(key: str, bg: bool | None = None) -> float:
        return sum(e[3] - e[2] for e in evs(key, bg))

    if tracked:
        missing = [k for k in REQUIRED_EVENTS if not evs(k)]
        if missing:
            raise ProbeError(f"a run_notebook produced no {missing} events (seen: "
                             f"{sorted({e[0] for e in events})}): the design the report "
                             "describes is gone")
    ex = single("execute")
    launches = [m[2] for m in marks if m[0] == "kernel_launch" and ex[2] <= m[2] <= ex[3]]
    if not launches:
        raise ProbeError("no kernel launch seen during execute_notebook (audit event "
                         "subprocess.Popen with 'ipykernel' in its argv)")
    k = launches[0]
    downs = [e for e in events if e[0] == "kernel_shutdown" and ex[2] <= e[2] <= ex[3]]
    if not downs:
        raise ProbeError("no kernel shutdown seen during execute_notebook (jupyter_client's "
                         "shutdown_kernel, wrapped at the kernel launch)")
    out: dict[str, Any] = {
        "execute": ex[3] - ex[2],
        "exec_to_kernel": k - ex[2],
        "kernel_to_end": ex[3] - k,
        "kernel_to_shutdown": downs[0][2] - k,
        "kernel_shutdown": sum(e[3] - e[2] for e in downs),
        "shutdown_to_end": ex[3] - downs[-1][3],
        "t_execute_start": ex[2], "t_kernel": k, "t_execute_end": ex[3],
    }
    if not tracked:
        return out
    rn = single("run_notebook")
    t0 = rn[2]
    bg_open = single("bg_open")
    warm = single("html_warm")
    fin = single("finish")
    out.update({
        "total": rn[3] - rn[2],
        "pre": ex[2] - t0,
        "post": rn[3] - ex[3],
        "t_start": t0, "t_end": rn[3],
        "post_finish": fin[3] - fin[2],
        "post_finish_wait": dur("finish_join"),
        "post_final_ingest": dur("ingest", bg=False),
        "post_html": dur("html"),
        "post_artifacts": dur("log_artifact", bg=False),
        "post_end_run": dur("set_tags", bg=False) + dur("end_run", bg=False),
        "post_discard": dur("discard"),
        "post_get_run": dur("get_run", bg=False),
        "bg_open": bg_open[3] - bg_open[2],
        "bg_tracker": dur("tracker_open", bg=True),
        "bg_lineage": dur("lineage", bg=True),
        "bg_start_run": dur("start_run", bg=True),
        "bg_freeze": dur("freeze", bg=True),
        "bg_env_artifact": dur("log_artifact", bg=True),
        "bg_html_warm": warm[3] - warm[2],
        "bg_live_ingest": dur("ingest", bg=True),
        "bg_live_ingests": len(evs("ingest", bg=True)),
        "bg_started_at": bg_open[2] - t0,
        "bg_open_done_at": bg_open[3] - t0,
        "bg_ready_at": warm[3] - t0,
        "execute_start_at": ex[2] - t0,
        "kernel_at": k - t0,
        "execute_end_at": ex[3] - t0,
    })
    out["bg_work"] = out["bg_open"] + out["bg_html_warm"]
    out["bg_open_other"] = out["bg_open"] - sum(out[x] for x in (
        "bg_tracker", "bg_lineage", "bg_start_run", "bg_freeze", "bg_env_artifact"))
    out["slack"] = ex[3] - warm[3]  # > 0: the background thread was ready before execution ended
    out["post_other"] = out["post"] - sum(out[x] for x, _ in POST_PARTS if x != "post_other"
                                          and x not in ("post_finish_wait", "post_final_ingest")) \
        - out["post_finish"]
    for name in WATCH_IMPORTS:
        hit = [m for m in marks if m[0] == f"import {name}"]
        if hit:
            out[f"import_{name}_at"] = hit[0][2] - t0
            out[f"import_{name}_thread"] = "background" if hit[0][1] == BG_THREAD else hit[0][1]
    return out


def _write_trace(path: str, data: dict[str, Any]) -> None:
    Path(path).write_text(json.dumps(data, default=str))


def cli_child(nb: str, trace_path: str) -> None:
    """`nbops run NB --format json` through nbops.cli.main.run (the console script's path),
    traced. The trace is written by an atexit handler registered first, so it runs last."""
    import atexit

    probe = Probe()
    probe.audit()
    entry = time.time()
    probe.install()

    def done() -> None:
        data = probe.dump()
        data.update({"t_script": _T_SCRIPT, "t_entry": entry, "t_atexit": time.time()})
        _write_trace(trace_path, data)

    atexit.register(done)
    from nbops.cli.main import run

    sys.argv = ["nbops", "run", nb, "--format", "json"]
    run()


def pm_child(nb: str, out: str, trace_path: str) -> None:
    """`papermill NB OUT` through papermill.__main__.papermill (its console script), traced."""
    import atexit

    probe = Probe()
    probe.audit()
    entry = time.time()

    def done() -> None:
        data = probe.dump()
        data.update({"t_script": _T_SCRIPT, "t_entry": entry, "t_atexit": time.time()})
        _write_trace(trace_path, data)

    atexit.register(done)
    from papermill.__main__ import papermill

    cli = sys.modules.get("papermill.cli")
    if cli is None or not hasattr(cli, "execute_notebook"):
        raise ProbeError("papermill.cli.execute_notebook not found: papermill's CLI changed")
    probe.wrap(cli, "execute_notebook", "execute", "papermill.cli")
    sys.argv = ["papermill", nb, out]
    papermill()


def exec_child(nb: str, out: str, trace_path: str) -> None:
    """execute_notebook alone in a fresh process: what run_notebook's execution takes with no
    background thread next to it. Like run_notebook, the notebook is read (nbformat imported)
    before execute_notebook starts."""
    probe = Probe()
    probe.audit()
    entry = time.time()
    import nbformat

    import nbops.kernel as execute_mod

    root = Path(nb).resolve().parent
    node = nbformat.read(nb, as_version=4)
    probe.wrap(execute_mod, "execute_notebook", "execute", "nbops.kernel")
    ex = execute_mod.execute_notebook(node, Path(out), parameters={}, cwd=root, label=nb)
    data = probe.dump()
    data.update({"t_script": _T_SCRIPT, "t_entry": entry, "t_atexit": time.time(),
                 "failure": str(ex.failure) if ex.failure else None})
    _write_trace(trace_path, data)
    sys.stdout.flush()
    os._exit(0)  # the exit is not what this variant measures


def cli_segments(kind: str, trace: dict[str, Any], row: dict[str, Any]) -> dict[str, Any]:
    """Split one traced CLI run's wall time (parent's spawn -> exit) into segments."""
    spawn, end = row["spawn"], row["end"]
    seg: dict[str, Any] = {"wall": end - spawn, "start": trace["t_script"] - spawn}
    if kind == "execute_traced":
        ex = analyze_run(trace, tracked=False)
        seg.update({k: ex[k] for k in ("exec_to_kernel", "kernel_to_end", "execute",
                                        "kernel_to_shutdown", "kernel_shutdown",
                                        "shutdown_to_end")})
        return seg
    if kind == "papermill_traced":
        ex = analyze_run(trace, tracked=False)
        seg.update({
            "cli_pre": ex["t_execute_start"] - trace["t_script"],
            "exec_to_kernel": ex["exec_to_kernel"],
            "kernel_to_end": ex["kernel_to_end"],
            "cli_post": trace["t_atexit"] - ex["t_execute_end"],
            "exit": end - trace["t_atexit"],
            **{k: ex[k] for k in ("kernel_to_shutdown", "kernel_shutdown", "shutdown_to_end")},
        })
    else:
        rn = analyze_run(trace)
        seg.update({
            "cli_pre": rn["t_start"] - trace["t_script"],
            "rn_pre": rn["pre"],
            "exec_to_kernel": rn["exec_to_kernel"],
            "kernel_to_end": rn["kernel_to_end"],
            "rn_post": rn["post"],
            **{k: rn[k] for k in ("kernel_to_shutdown", "kernel_shutdown", "shutdown_to_end")},
            "cli_post": trace["t_atexit"] - rn["t_end"],
            "exit": end - trace["t_atexit"],
            "run_notebook": rn,
        })
    seg["to_kernel"] = seg["wall"] - seg["kernel_to_end"] - (
        seg.get("rn_post", 0) + seg["cli_post"] + seg["exit"])
    seg["after_execution"] = seg.get("rn_post", 0) + seg["cli_post"] + seg["exit"]
    return seg


# --------------------------------------------------------------------------- (1a) CLI


def part_cli(args: argparse.Namespace, nbs: dict[str, Path], root: Path) -> dict[str, Any]:
    py, pm, nbops_cli = args.nbops_python, args.papermill, args.nbops_cli
    out: dict[str, Any] = {"notebooks": {}, "loadavg": loadavg(), "measured": now(), "variants": {
        k: v[0] for k, v in CLI_VARIANTS.items()}}
    traces = root / "traces"
    for key, nb in nbs.items():
        def cmd(variant: str, tag: str, key: str = key, nb: Path = nb) -> str:
            return CLI_VARIANTS[variant][1].format(
                py=py, nbops=nbops_cli, papermill=pm, script=SCRIPT, nb=nb.name,
                out=f"pm-out/{nb.name}", trace=traces / f"{key}-{variant}-{tag}.json")

        variants = list(CLI_VARIANTS)
        warm = {}
        for v in variants:  # warm-up: page cache, .pyc, the store's tables
            log(f"(1a) {key}: warm-up {v}")
            warm[v] = timed_cmd(cmd(v, "warmup"), root, f"cli-{key}-{v}-warmup")
            if warm[v]["rc"] != 0:
                tail = (REPO / warm[v]["log"]).read_text(errors="replace")[-2000:]
                raise SystemExit(f"(1a) warm-up of {v} failed (rc {warm[v]['rc']}):\n{tail}")
        def one(v: str, i: int, key: str = key, cmd: Any = cmd) -> dict[str, Any]:
            r = timed_cmd(cmd(v, str(i)), root, f"cli-{key}-{v}-{i}")
            r["position"] = (list(CLI_VARIANTS).index(v) - i) % len(CLI_VARIANTS)  # in its round
            if v.startswith("nbops") and not v.endswith("traced"):
                data = json_from_log(r["log"])
                runs = (data or {}).get("runs") or [{}]
                r["status"] = runs[0].get("status")
                r["duration_s"] = runs[0].get("duration_s")
            if v.endswith("traced") and r["rc"] == 0:
                trace_file = traces / f"{key}-{v}-{i}.json"
                if not trace_file.exists():
                    raise ProbeError(f"traced variant {v} wrote no trace ({trace_file}); see "
                                     f"{r['log']}")
                r["segments"] = cli_segments(v, json.loads(trace_file.read_text()), r)
            log(f"(1a) {key} #{i} {v}: {r['wall_s']:.2f} s rc={r['rc']}")
            return r

        # each variant in each position of the order, round after round
        rows = harness.interleave({v: functools.partial(one, v) for v in variants}, args.runs)
        ok = {v: [r["wall_s"] for r in rows[v] if r["rc"] == 0] for v in variants}
        pairs = [b["wall_s"] - a["wall_s"] for a, b in zip(rows["papermill"], rows["nbops"])]
        res: dict[str, Any] = {
            "commands": {v: cmd(v, "N") for v in variants},
            "warmup": {v: {"wall_s": w["wall_s"], "rc": w["rc"]} for v, w in warm.items()},
            "runs": rows,
            "median": {v: med(ok[v]) for v in variants},
            "min": {v: min(ok[v], default=None) for v in variants},
            "paired_diff_median": med(pairs),
            "failed": {v: sum(r["rc"] != 0 for r in rows[v]) for v in variants},
            "segments": {},
        }
        for v in ("nbops_traced", "papermill_traced", "execute_traced"):
            segs = [r["segments"] for r in rows[v] if "segments" in r]
            names = sorted({k for s in segs for k, x in s.items() if isinstance(x, (int, float))})
            res["segments"][v] = {n: med([s.get(n) for s in segs]) for n in names}
            if v == "nbops_traced":
                rns = [s["run_notebook"] for s in segs]
                rn_names = sorted({k for s in rns for k, x in s.items()
                                   if isinstance(x, (int, float)) and not k.startswith("t_")})
                res["segments"]["nbops_run_notebook"] = {n: med([s.get(n) for s in rns])
                                                         for n in rn_names}
        out["notebooks"][key] = res
    imports: dict[str, Any] = {}
    for label, c in IMPORTS.items():
        ts = [timed_cmd(c.format(py=py, nbops=nbops_cli, papermill=pm), root, "import")["wall_s"]
              for _ in range(max(3, args.runs))]
        imports[label] = {"min": min(ts), "median": med(ts), "runs": ts}
        log(f"(1a) {label}: median {med(ts):.2f} s")
    out["imports"] = imports
    return out


# --------------------------------------------------------------------------- (1b) in-process


def inproc_child(config_path: str) -> int:
    """Runs in the nbops python: run_notebook vs execute_notebook, critical path, cProfile."""
    cfg = json.loads(Path(config_path).read_text())
    root = Path(cfg["root"])
    os.chdir(root)
    os.environ.pop("MLFLOW_TRACKING_URI", None)
    probe = Probe()
    probe.audit()

    import nbops.kernel as execute_mod
    import nbops.run.runner as runner_mod

    def settings() -> Any:
        return runner_mod.RunSettings(project_root=root, runs_dir=root / ".nbops" / "runs",
                                      experiment="inproc")

    def one_execute(nb: Path, tag: str) -> dict[str, Any]:
        """execute_notebook alone (the unwrapped function, as the runner calls it)."""
        probe.reset()
        t0 = time.perf_counter()
        ex = execute_mod.execute_notebook(nb, root / "pm-out" / f"exec-{tag}.ipynb",
                                          parameters={}, cwd=root, label=str(nb))
        t1 = time.perf_counter()
        assert ex.failure is None, ex.failure
        probe.add("execute", t0, t1)
        return analyze_run(probe.dump(), tracked=False)

    def one_run(nb: Path) -> dict[str, Any]:
        probe.reset()
        outcome = runner_mod.run_notebook(nb, {}, settings())
        assert outcome.status == "FINISHED", (outcome.status, outcome.error, outcome.failure)
        return analyze_run(probe.dump())

    result: dict[str, Any] = {"notebooks": {}, "loadavg": loadavg(), "measured": now()}
    # kernel start alone (KernelManager over ipc, as execute_notebook does)
    from jupyter_client.manager import KernelManager

    ks, kstop = [], []
    for i in range(cfg["runs"] + 1):
        with tempfile.TemporaryDirectory(prefix="bench-kernel-") as sockets:
            km = KernelManager(kernel_name="python3", transport="ipc", ip=str(Path(sockets) / "k"))
            t0 = time.perf_counter()
            km.start_kernel()
            kc = km.client()
            kc.start_channels()
            kc.wait_for_ready(timeout=60)
            t1 = time.perf_counter()
            kc.stop_channels()
            km.shutdown_kernel(now=True)
            t2 = time.perf_counter()
        if i:  # first one is a warm-up
            ks.append(t1 - t0)
            kstop.append(t2 - t1)
    result["kernel_start"] = {"runs": ks, "median": med(ks), "min": min(ks),
                              "shutdown_median": med(kstop)}

    probe.install()
    for key, nb_name in cfg["notebooks"].items():
        nb = root / nb_name
        # warm-up: papermill/nbclient imports and the kernel first, then run_notebook (the
        # first of the process also imports mlflow and opens the store)
        one_execute(nb, f"{key}-warm")
        first = one_run(nb)
        ex_rows, rn_rows = [], []
        for i in range(cfg["runs"]):
            if i % 2 == 0:
                ex_rows.append(one_execute(nb, key))
                rn_rows.append(one_run(nb))
            else:
                rn_rows.append(one_run(nb))
                ex_rows.append(one_execute(nb, key))
        ex_t = [r["execute"] for r in ex_rows]
        rn_t = [r["total"] for r in rn_rows]
        names = sorted(k for k, x in rn_rows[0].items()
                       if isinstance(x, (int, float)) and not k.startswith("t_"))
        result["notebooks"][key] = {
            "first_run_notebook": first,
            "execute_alone": ex_rows,
            "run_notebook": rn_rows,
            "execute_min": min(ex_t), "execute_median": med(ex_t),
            "execute_alone_to_kernel_median": med([r["exec_to_kernel"] for r in ex_rows]),
            "execute_alone_kernel_to_end_median": med([r["kernel_to_end"] for r in ex_rows]),
            "run_notebook_min": min(rn_t), "run_notebook_median": med(rn_t),
            "tracking_median": med(rn_t) - med(ex_t),
            "paired_diff_median": med([b - a for a, b in zip(ex_t, rn_t)]),
            "path_median": {n: med([r[n] for r in rn_rows]) for n in names},
        }
        print(f"inproc {key}: execute {med(ex_t):.2f}s run_notebook {med(rn_t):.2f}s",
              file=sys.stderr, flush=True)
    probe.uninstall()
    # one profiled run_notebook on the example (warm), main thread and background thread
    nb = root / cfg["notebooks"]["wine"]
    result["profile"] = profiled_run(runner_mod, nb, settings())
    Path(cfg["out"]).write_text(json.dumps(result, indent=1, default=str))
    return 0


def profiled_run(runner_mod: Any, nb: Path, settings: Any, *, t_before: float | None = None,
                 prof: Any = None) -> dict[str, Any]:
    """cProfile of one run_notebook: the calling thread (``prof``, possibly enabled before the
    imports) and the lifecycle's tracking thread (profiled from inside its run())."""
    import cProfile

    bg_profiles: list[Any] = []
    from nbops.run.lifecycle import _Tracking

    orig_run = _Tracking.run

    def run(self_: Any) -> None:
        p = cProfile.Profile()
        try:
            p.enable()
        except ValueError:  # another profiler active in this interpreter
            orig_run(self_)
            return
        try:
            orig_run(self_)
        finally:
            p.disable()
            bg_profiles.append(p)

    _Tracking.run = run  # type: ignore[method-assign]
    try:
        if prof is None:
            prof = cProfile.Profile()
            t_before = time.perf_counter()
            prof.enable()
        outcome = runner_mod.run_notebook(nb, {}, settings)
        prof.disable()
        total = time.perf_counter() - (t_before or 0.0)
    finally:
        _Tracking.run = orig_run  # type: ignore[method-assign]
    by_cum, by_tot = profile_rows(prof)
    res: dict[str, Any] = {"total_s": total, "status": outcome.status, "by_cumtime": by_cum,
                           "by_tottime": by_tot}
    if bg_profiles:
        bg_cum, bg_tot = profile_rows(bg_profiles[0])
        res["background"] = {"by_cumtime": bg_cum, "by_tottime": bg_tot}
    return res


def profile_rows(prof: Any) -> tuple[list[dict], list[dict]]:
    import io
    import pstats

    stats = pstats.Stats(prof, stream=io.StringIO())
    rows = [
        {"where": f"{_short(file)}:{line}({func})", "calls": nc, "tottime": tt, "cumtime": ct}
        for (file, line, func), (_cc, nc, tt, ct, _callers) in stats.stats.items()
    ]
    return (sorted(rows, key=lambda r: -r["cumtime"])[:80],
            sorted(rows, key=lambda r: -r["tottime"])[:25])


def cold_child(config_path: str) -> int:
    """A fresh process, like the CLI: cProfile of the first run_notebook (imports included),
    both threads."""
    import cProfile

    cfg = json.loads(Path(config_path).read_text())
    root = Path(cfg["root"])
    os.chdir(root)
    os.environ.pop("MLFLOW_TRACKING_URI", None)
    prof = cProfile.Profile()
    t0 = time.perf_counter()
    prof.enable()
    import nbops.run.runner as runner_mod

    settings = runner_mod.RunSettings(project_root=root, runs_dir=root / ".nbops" / "runs",
                                      experiment="inproc")
    res = profiled_run(runner_mod, root / cfg["notebooks"]["wine"], settings, t_before=t0,
                       prof=prof)
    Path(cfg["out"]).write_text(json.dumps(res))
    return 0


def _short(file: str) -> str:
    for marker in ("site-packages/", "/src/", "/lib/python3"):
        if marker in file:
            return file.split(marker, 1)[1]
    return file


def part_inproc(args: argparse.Namespace, nbs: dict[str, Path], root: Path) -> dict[str, Any]:
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    cfg_path = root / "inproc-config.json"
    out_path = root / "inproc-result.json"
    cfg = {"root": str(root), "runs": args.runs, "out": str(out_path),
           "notebooks": {k: v.name for k, v in nbs.items()}}
    if "wine" not in cfg["notebooks"]:
        raise SystemExit("the in-process part needs the wine notebook (--notebooks wine,...)")
    cfg_path.write_text(json.dumps(cfg))
    log("(1b) in-process warm-up: one nbops run (creates the store, as in any used project)")
    timed_cmd(NBOPS_RUN.format(nbops=args.nbops_cli, nb=nbs["trivial" if "trivial" in nbs
                                                              else "wine"].name),
              root, "inproc-warmup")
    log(f"(1b) in-process: run_notebook vs execute_notebook, N={args.runs}, + cProfile")
    with open(LOGS / "inproc.log", "w") as fh:
        proc = subprocess.run([str(args.nbops_python), str(SCRIPT), "--_inproc", str(cfg_path)],
                              cwd=root, stdout=fh, stderr=subprocess.STDOUT, env=env(),
                              check=False)
    if proc.returncode != 0 or not out_path.exists():
        tail = (LOGS / "inproc.log").read_text(errors="replace")[-3000:]
        raise SystemExit(f"in-process part failed (rc {proc.returncode}):\n{tail}")
    cold_cfg = root / "cold-config.json"
    cold_out = root / "cold-result.json"
    cold_cfg.write_text(json.dumps({**cfg, "out": str(cold_out)}))
    log("(1b) cProfile of a cold run_notebook in a fresh process on the existing store")
    with open(LOGS / "inproc-cold.log", "w") as fh:
        subprocess.run([str(args.nbops_python), str(SCRIPT), "--_cold", str(cold_cfg)], cwd=root,
                       stdout=fh, stderr=subprocess.STDOUT, env=env(), check=False)
    cold = json.loads(cold_out.read_text()) if cold_out.exists() else None
    result = json.loads(out_path.read_text())
    result["profile_cold"] = cold
    return result


# --------------------------------------------------------------------------- (2) sweep


def part_sweep(args: argparse.Namespace, nbs: dict[str, Path], root: Path) -> dict[str, Any]:
    cmds = {p: NBOPS_SWEEP.format(nbops=args.nbops_cli, nb=nbs["wine"].name, parallel=p)
            for p in ("1", "2")}

    def one(p: str, i: int) -> dict[str, Any]:
        r = timed_cmd(cmds[p], root, f"sweep-p{p}-{i}")
        data = json_from_log(r["log"]) or {}
        runs = data.get("runs") or []
        r["statuses"] = sorted({x.get("status") for x in runs})
        r["n_runs"] = len(runs)
        r["run_durations"] = [x.get("duration_s") for x in runs]  # parameter-set order
        log(f"(2) #{i} --parallel {p}: {r['wall_s']:.1f} s rc={r['rc']} runs={len(runs)} "
            f"{r['statuses']}")
        return r

    # --parallel 1 and 2 alternate which goes first
    rows = harness.interleave({p: functools.partial(one, p) for p in cmds}, args.sweep_runs)
    t1 = [r["wall_s"] for r in rows["1"] if r["rc"] == 0 and r["n_runs"] == 8]
    t2 = [r["wall_s"] for r in rows["2"] if r["rc"] == 0 and r["n_runs"] == 8]
    return {
        "commands": cmds,
        "loadavg": loadavg(),
        "measured": now(),
        "runs": rows,
        "p1_min": min(t1, default=None), "p1_median": med(t1),
        "p2_min": min(t2, default=None), "p2_median": med(t2),
        "ratio": harness.ratio(med(t2), med(t1)),
        "failed": sum(r["rc"] != 0 or r["n_runs"] != 8 for rs in rows.values() for r in rs),
    }


def sweep_stats(sw: dict[str, Any]) -> dict[str, Any]:
    """Per-run durations and the part of each sweep outside its runs."""
    st: dict[str, Any] = {}
    for p in ("1", "2"):
        ok = [r for r in sw["runs"][p] if r["rc"] == 0 and r["n_runs"] == 8
              and None not in r["run_durations"]]
        durs = [x for r in ok for x in r["run_durations"]]
        st[p] = {
            "run_median": med(durs),
            "first_median": med([x for r in ok for x in r["run_durations"][:int(p)]]),
            "rest_median": med([x for r in ok for x in r["run_durations"][int(p):]]),
            "sum_median": med([sum(r["run_durations"]) for r in ok]),
            # wall time not covered by the runs, with runs taken `p` at a time
            "outside_median": med([r["wall_s"] - sum(r["run_durations"]) / int(p) for r in ok]),
        }
    return st


# --------------------------------------------------------------------------- machine


def machine(py: Path, papermill: Path, nbops_cli: Path) -> dict[str, Any]:
    pkgs = ["nbops", "papermill", "mlflow", "mlflow-skinny", "nbclient", "nbconvert", "nbformat",
            "ipykernel", "jupyter_client", "pyzmq", "sqlalchemy", "scikit-learn", "pandas",
            "matplotlib"]
    return harness.machine(
        loadavg_start=loadavg(),
        python=sh([str(py), "-c", "import sys; print(sys.version.split()[0], sys.executable)"]),
        **{"nbops CLI": str(nbops_cli), "papermill CLI": str(papermill),
           "versions": harness.versions(py, pkgs), "git": harness.git_rev(),
           "byte-code": f"cached in {PYCACHE.relative_to(REPO)} (PYTHONPYCACHEPREFIX; "
           "PYTHONDONTWRITEBYTECODE unset for the children)"},
    )


# --------------------------------------------------------------------------- report


def status(ok: bool | None) -> str:
    return "-" if ok is None else ("**PASS**" if ok else "**NOT REACHED**")


def targets(d: dict) -> list[dict[str, str]]:
    out = []
    cli = (d.get("cli") or {}).get("notebooks", {}).get("wine")
    if cli and cli["median"]["papermill"] and cli["median"]["nbops"]:
        pm, nb = cli["median"]["papermill"], cli["median"]["nbops"]
        ov = nb / pm - 1
        out.append({"key": "1a", "goal": "`nbops run` under 15% over bare `papermill` on "
                    "examples/wine_classifier.ipynb (CLI wall time, median)",
                    "value": f"{fmt_s(nb)} vs {fmt_s(pm)} = {ov * 100:+.0f}%",
                    "status": status(ov < TARGET_OVERHEAD)})
    ip = (d.get("inproc") or {}).get("notebooks", {}).get("wine")
    if ip:
        t = ip["tracking_median"]
        out.append({"key": "1b", "goal": "tracking adds under 0.5 s per run (in-process "
                    "`run_notebook` − `execute_notebook`, wine, median)",
                    "value": f"{fmt_s(ip['run_notebook_median'])} − {fmt_s(ip['execute_median'])} "
                    f"= {fmt_s(t)}", "status": status(t < TARGET_TRACKING_S)})
    sw = d.get("sweep")
    if sw:
        r = sw["ratio"]
        out.append({"key": "2", "goal": "8-run sweep with `--parallel 2` at most 0.65x of "
                    "`--parallel 1` (wall time, median)",
                    "value": (f"{fmt_s(sw['p2_median'], 1)} / {fmt_s(sw['p1_median'], 1)} = "
                              f"{r:.{3 if abs(r - TARGET_SWEEP_RATIO) < 0.01 else 2}f}x"
                              if r else "failed"),
                    "status": status(None if r is None else r <= TARGET_SWEEP_RATIO)})
    return out


def render(d: dict) -> str:
    lines: list[str] = []
    a = lines.append
    m = d["machine"]
    cfg = d["config"]
    a("# Benchmarks: `nbops run`")
    a("")
    a("<!-- Generated by benchmarks/run_bench.py; do not edit by hand. -->")
    a("")
    a(f"Last run: {d['generated']}. Reproduce: `python benchmarks/run_bench.py` (see "
      "[benchmarks/README.md](../benchmarks/README.md))." + (" **Quick run** (smoke numbers)."
                                                             if d.get("quick") else ""))
    a("")
    a("## Targets (issue 5)")
    a("")
    a("| | target | measured | status |")
    a("|---|---|---|---|")
    for t in targets(d):
        a(f"| ({t['key']}) | {t['goal']} | {t['value']} | {t['status']} |")
    a("")
    a("## Setup")
    a("")
    a("| | |")
    a("|---|---|")
    for k in ("nproc", "cpu", "ram", "os", "loadavg_start", "loadavg_end", "python", "nbops CLI",
              "papermill CLI", "versions", "git", "byte-code"):
        if k in m:
            a(f"| {k} | {m[k]} |")
    parts_load = "; ".join(f"{p} {d[p]['loadavg']} ({d[p].get('measured', '?')})"
                           for p in ("cli", "inproc", "sweep") if d.get(p) and d[p].get("loadavg"))
    if parts_load:
        a(f"| loadavg at each part's start (when measured) | {parts_load} |")
    busy = [k for k in ("loadavg_start", "loadavg_end")
            if m.get(k) and float(m[k].split()[0]) >= 1.0]
    if busy:
        a(f"| load | the 1-minute load average was {' and '.join(m[k].split()[0] for k in busy)} "
          f"at the {' and the '.join(k.split('_')[1] for k in busy)} of the run: other jobs "
          "shared the 2 cores, so wall times are noisier and slower than on a quiet machine |")
    a(f"| runs | N={cfg['runs']} per command / function (+1 warm-up), sweeps {cfg['sweep_runs']} "
      f"per setting; parts {', '.join(cfg['parts'])}; notebooks "
      f"{', '.join(cfg.get('notebooks', ['wine', 'trivial']))} |")
    a("")
    a("## Method")
    a("")
    a(textwrap.dedent(f"""\
        - A temp project per part (`pyproject.toml`, a copy of `examples/wine_classifier.ipynb`,
          and `trivial.ipynb`: a parameters cell `X = 1`, `y = X + 1`, `print(y)`), so
          `nbops run` puts its MLflow store (SQLite) in that project's `.nbops/`.
          `MLFLOW_TRACKING_URI` is unset for every process. All runs use the venv's `python3`
          kernel.
        - (1a) CLI: `{NBOPS_RUN}` (the console script, `nbops.cli.main:run`, so its fast exit
          `_exit_now` counts) vs `{PAPERMILL}`, wall time of the subprocess (spawn to exit),
          cwd = the project. In the same rotation: `nbops run` leaving through `sys.exit`
          (normal interpreter teardown), and three traced variants: this script as the child
          (`--_cli`, `--_pm`, `--_exec`) runs the same entry point (`nbops.cli.main.run`,
          `papermill.__main__.papermill`) or `execute_notebook` alone (after reading the
          notebook, as `run_notebook` does), with the functions in `PROBES` wrapped and an
          audit hook marking the first import of {', '.join(WATCH_IMPORTS)} and the kernel
          launch (`subprocess.Popen` of `ipykernel`). Their timestamps and the parent's
          spawn / exit times split each wall time into segments. One untimed warm-up per
          variant (the first also creates the store), then N rounds, the order rotating so each
          variant takes each position. `papermill` runs with its default progress bar; `nbops
          run` with `--format json` (to read each run's status).
        - (1b) in-process, one Python process: `run_notebook(nb, {{}}, settings)` vs
          `execute_notebook(nb, out, cwd=project)` alone (what `run_notebook` calls to execute),
          after a warm-up of each, alternating. Tracking = median(run_notebook) − median(execute).
          The critical path of each `run_notebook`: start → `execute_notebook` start ("pre"),
          `execute_notebook` (split at the kernel launch), its end → return ("post": `finish()`,
          HTML, artifacts, `end_run`, `get_run`, …). The background thread (`lifecycle._Tracking`):
          the lifecycle's open hook `runner._NotebookRun.open` (tracker, lineage, `start_run`, requirements) and the HTML exporter
          warm-up, when it was ready relative to the end of execution, and how long `finish()`
          waited for it (`join`). The project's store exists before (one `nbops run` warm-up),
          as in a project in use. One more `run_notebook` (wine, warm) runs under cProfile, and
          one cold in a fresh process (imports included); each thread has its own profiler.
          Kernel start alone = `KernelManager(transport="ipc").start_kernel()` until
          `wait_for_ready`.
        - (2) `{NBOPS_SWEEP.replace('{parallel}', 'P')}` for P = 1 and 2, alternating the order,
          wall time of the subprocess; a sweep counts when it exits 0 with 8 runs. Per-run times
          are each run's `duration_s` (from just before `execute_notebook` to `end_run`).
        - Wall times on this shared 2-core VM drift between sessions; compare numbers from one
          run of this script only."""))
    a("")
    a("## Raw numbers")
    a("")
    cli = d.get("cli")
    if cli:
        render_cli_raw(a, cli)
    ip = d.get("inproc")
    if ip:
        render_inproc_raw(a, ip)
    sw = d.get("sweep")
    if sw:
        a("### (2) Sweep of 8 runs")
        a("")
        st = sweep_stats(sw)
        a("| | min | median | every timed run | per-run `duration_s` (median) | first P runs / "
          "the others | sum of the 8 runs (median) | wall − sum / P (median) |")
        a("|---|---|---|---|---|---|---|---|")
        for p in ("1", "2"):
            s = st[p]
            a(f"| `--parallel {p}` | {fmt_s(sw[f'p{p}_min'], 1)} | {fmt_s(sw[f'p{p}_median'], 1)} | "
              f"{walls(sw['runs'][p], 1)} | {fmt_s(s['run_median'])} | "
              f"{fmt_s(s['first_median'])} / {fmt_s(s['rest_median'])} | "
              f"{fmt_s(s['sum_median'], 1)} | {fmt_s(s['outside_median'])} |")
        a("")
        a("\"First P runs\": the first parameter set (with `--parallel 2` the first two), which "
          "start first, while the process still imports and opens MLflow.")
        a("")
        if sw["failed"]:
            a(f"{sw['failed']} sweep(s) failed or did not report 8 runs (left out); see the logs.")
            a("")
    a("## Where the time goes")
    a("")
    a(reading(d))
    a("")
    if ip:
        render_profiles(a, ip)
    return "\n".join(lines) + "\n"


CLI_SEGMENTS = [  # (key, label) of the traced CLI split, in time order
    ("start", "interpreter start (spawn → first line of the script)"),
    ("cli_pre", ("CLI: imports, arguments, parameters → `run_notebook` (papermill: → "
                 "`execute_notebook`)")),
    ("rn_pre", "`run_notebook` → `execute_notebook` (notebook read, thread start)"),
    ("exec_to_kernel", "`execute_notebook` → kernel launched (papermill / nbclient imports)"),
    ("kernel_to_end", "kernel launched → notebook executed and written"),
    ("kernel_to_shutdown", "… of which kernel launched → kernel shutdown starts"),
    ("kernel_shutdown", "… of which kernel shutdown"),
    ("shutdown_to_end", "… of which after the shutdown (notebook written / read back)"),
    ("rn_post", "`execute_notebook` end → `run_notebook` returns"),
    ("cli_post", "output, → atexit"),
    ("exit", "exit (atexit → process gone)"),
]


EXEC_KEYS = ("exec_to_kernel", "kernel_to_end", "kernel_to_shutdown", "kernel_shutdown",
             "shutdown_to_end")


def render_cli_raw(a: Any, cli: dict) -> None:
    a("### (1a) CLI wall time")
    a("")
    a("| notebook | papermill min / median | nbops run min / median | overhead (median) | "
      "paired diff (median) | every timed run (papermill; nbops) |")
    a("|---|---|---|---|---|---|")
    for key, r in cli["notebooks"].items():
        pm, nb = r["median"]["papermill"], r["median"]["nbops"]
        ov = (nb / pm - 1) if pm and nb else None
        a(f"| {key} | {fmt_s(r['min']['papermill'])} / {fmt_s(pm)} | "
          f"{fmt_s(r['min']['nbops'])} / {fmt_s(nb)} | "
          f"{fmt_signed(None if ov is None else nb - pm)} "
          f"({'-' if ov is None else f'{ov * 100:+.0f}%'}) | "
          f"{fmt_signed(r['paired_diff_median'])} | "
          f"{walls(r['runs']['papermill'], 2)}; {walls(r['runs']['nbops'], 2)} |")
    a("")
    a("Every variant of the rotation (median wall time; the traced ones carry the probes' "
      "small cost):")
    a("")
    keys = list(cli["notebooks"])
    a("| variant | " + " | ".join(keys) + " |")
    a("|---|" + "---|" * len(keys))
    for v, label in cli["variants"].items():
        a(f"| {label} | " + " | ".join(
            f"{fmt_s(cli['notebooks'][k]['median'].get(v))} "
            f"({walls(cli['notebooks'][k]['runs'][v], 2)})" for k in keys) + " |")
    a("")
    bad = {f"{k}/{v}": n for k, r in cli["notebooks"].items() for v, n in r["failed"].items() if n}
    if bad:
        a(f"Commands that exited non-zero (left out of the medians): {bad}; see "
          "`benchmarks/results/run-logs/`.")
        a("")
    a("Warm-up runs (the first `nbops run` in the fresh project creates the SQLite store): "
      + "; ".join(f"{k}: nbops {r['warmup']['nbops']['wall_s']:.2f} s, papermill "
                  f"{r['warmup']['papermill']['wall_s']:.2f} s" for k, r in cli["notebooks"].items())
      + ".")
    a("")
    for key, r in cli["notebooks"].items():
        seg = r["segments"]
        n, p, e = seg.get("nbops_traced", {}), seg.get("papermill_traced", {}), \
            seg.get("execute_traced", {})
        a(f"Traced CLI runs, {key} (median of each segment; the medians need not add up to the "
          "median wall time):")
        a("")
        a("| segment | papermill | nbops run | execute_notebook alone (fresh process) |")
        a("|---|---|---|---|")
        for k, label in CLI_SEGMENTS:
            a(f"| {label} | {fmt_s(p.get(k))} | {fmt_s(n.get(k))} | "
              f"{fmt_s(e.get(k)) if k in EXEC_KEYS else ''} |")
        a(f"| **spawn → kernel launched** | {fmt_s(p.get('to_kernel'))} | "
          f"{fmt_s(n.get('to_kernel'))} | |")
        a(f"| **kernel launched → executed** | {fmt_s(p.get('kernel_to_end'))} | "
          f"{fmt_s(n.get('kernel_to_end'))} | {fmt_s(e.get('kernel_to_end'))} |")
        a(f"| **executed → process gone** | {fmt_s(p.get('after_execution'))} | "
          f"{fmt_s(n.get('after_execution'))} | |")
        a(f"| wall (traced) | {fmt_s(p.get('wall'))} | {fmt_s(n.get('wall'))} | "
          f"{fmt_s(e.get('wall'))} |")
        a("")
    a("Start-up and imports in a fresh interpreter (min / median):")
    a("")
    a("| command | min | median |")
    a("|---|---|---|")
    for k, v in cli["imports"].items():
        a(f"| `{k}` | {fmt_s(v['min'])} | {fmt_s(v['median'])} |")
    a("")


PATH_ROWS = [
    ("total", "**run_notebook, start → return**"),
    ("pre", "start → `execute_notebook`"),
    ("execute", "`execute_notebook`"),
    ("exec_to_kernel", "… of which → kernel launched"),
    ("kernel_to_end", "… of which kernel launched → end"),
    ("kernel_shutdown", "… of which kernel shutdown"),
    ("post", "`execute_notebook` end → return"),
    *POST_PARTS,
    ("bg_work", "**background thread: work** (open hook + HTML warm-up)"),
    *BG_PARTS,
    ("bg_live_ingest", "background: journal reads during execution (total)"),
    ("bg_open_done_at", "background: run open, at (from start)"),
    ("bg_ready_at", "background: ready (exporter warm), at"),
    ("execute_end_at", "execution ended, at"),
    ("slack", "**ready before the execution ended by** (negative: after)"),
]


def render_inproc_raw(a: Any, ip: dict) -> None:
    a("### (1b) In-process: `run_notebook` vs `execute_notebook`")
    a("")
    a("| notebook | execute_notebook alone min / median | run_notebook min / median | tracking "
      "(median − median) | paired diff (median) | execute_notebook inside run_notebook "
      "(median) | first run_notebook in the process |")
    a("|---|---|---|---|---|---|---|")
    for key, r in ip["notebooks"].items():
        a(f"| {key} | {fmt_s(r['execute_min'])} / {fmt_s(r['execute_median'])} | "
          f"{fmt_s(r['run_notebook_min'])} / {fmt_s(r['run_notebook_median'])} | "
          f"{fmt_s(r['tracking_median'])} | {fmt_s(r['paired_diff_median'])} | "
          f"{fmt_s(r['path_median']['execute'])} | "
          f"{fmt_s(r['first_run_notebook']['total'])} |")
    a("")
    ks = ip["kernel_start"]
    a(f"Kernel start alone (ipc, until ready): min {fmt_s(ks['min'])}, median "
      f"{fmt_s(ks['median'])}; shutdown median {fmt_s(ks['shutdown_median'])}.")
    a("")
    keys = list(ip["notebooks"])
    first = "wine" if "wine" in keys else keys[0]
    a("Critical path and background thread of `run_notebook` (median over the N timed runs, "
      f"each row on its own; last column: the first `run_notebook` of the process, on {first}, "
      "which imports mlflow and opens the store in its background thread):")
    a("")
    a("| | " + " | ".join(keys) + f" | {first}, first call in the process |")
    a("|---|" + "---|" * (len(keys) + 1))
    for k, label in PATH_ROWS:
        a(f"| {label} | " + " | ".join(fmt_ms(ip["notebooks"][n]["path_median"].get(k))
                                      for n in keys)
          + f" | {fmt_ms(ip['notebooks'][first]['first_run_notebook'].get(k))} |")
    a("")


def render_profiles(a: Any, ip: dict) -> None:
    for key, title in (
        ("profile_cold", ("cProfile of a cold `run_notebook` (wine) in a fresh process on an "
                          "existing store (imports included)")),
        ("profile", "cProfile of a warm `run_notebook` (wine; the same process ran it before)"),
    ):
        prof = ip.get(key)
        if not prof:
            continue
        a(f"### {title}")
        a("")
        a(f"{fmt_s(prof['total_s'])} under the profiler (times inflated by it). Main thread, "
          "cumulative time of the calls that matter (the top 80 by cumulative time are in the "
          "JSON):")
        a("")
        a("| function | calls | cumulative | own |")
        a("|---|---|---|---|")
        for r in interesting(prof["by_cumtime"]):
            a(f"| `{r['where']}` | {r['calls']} | {fmt_ms(r['cumtime'])} | "
              f"{fmt_ms(r['tottime'])} |")
        a("")
        bg = prof.get("background")
        if bg:
            a("Background thread (`lifecycle._Tracking.run`; it lives until `finish()`, so its "
              "total includes waiting for the end of execution):")
            a("")
            a("| function | calls | cumulative | own |")
            a("|---|---|---|---|")
            for r in interesting(bg["by_cumtime"], 16):
                a(f"| `{r['where']}` | {r['calls']} | {fmt_ms(r['cumtime'])} | "
                  f"{fmt_ms(r['tottime'])} |")
            a("")
    prof = ip.get("profile")
    if prof:
        a("Top own time, warm run, main thread (the kernel's work happens in another process "
          "and shows here as waiting in `epoll`):")
        a("")
        a("| function | calls | own | cumulative |")
        a("|---|---|---|---|")
        for r in prof["by_tottime"][:10]:
            a(f"| `{r['where']}` | {r['calls']} | {fmt_ms(r['tottime'])} | {fmt_ms(r['cumtime'])} |")
        a("")


INTERESTING = (
    "runner.py", "lineage.py", "tracking.py", "execute.py", "journal.py", "papermill/execute.py",
    "nbconvert/exporters/exporter.py(from_filename", "nbconvert/exporters/html.py",
    "nbconvert/exporters/templateexporter.py", "jupyter_client/manager.py",
    "mlflow/tracking/client.py", "importlib/metadata", "subprocess.py(run)",
    "nbclient/client.py(async_execute)", "nbclient/client.py(async_start_new_kernel",
    "nbformat/__init__.py(read)", "nbformat/__init__.py(write)", "mlflow/__init__.py",
    "sqlalchemy/engine/create.py(create_engine)", "sqlalchemy_store.py(__init__)",
    "mlflow/store/db/utils.py", "alembic/", "mlflow/tracking/_tracking_service/utils.py",
    "papermill/__init__.py", "nbconvert/__init__.py", "nbformat/__init__.py:1(<module>)",
    "threading.py", "nbops/cli",
)


def interesting(rows: list[dict], limit: int = 32) -> list[dict]:
    keep = []
    for r in rows:
        skip = r["cumtime"] < 0.03 or "<" in r["where"].split("(")[-1][:1]
        if skip and ("(<module>)" not in r["where"] or r["cumtime"] < 0.1):
            continue
        if any(k in r["where"] for k in INTERESTING):
            keep.append(r)
    return keep[:limit]


# --------------------------------------------------------------------------- the reading


def _ranked(items: list[tuple[str, float | None]], floor: float = 0.02) -> list[tuple[str, float]]:
    return sorted([(k, v) for k, v in items if v is not None and abs(v) >= floor],
                  key=lambda kv: -kv[1])


def reading(d: dict) -> str:
    """The narrative, generated from the numbers of this run only."""
    out: list[str] = []
    a = out.append
    cli = (d.get("cli") or {}).get("notebooks", {})
    imports = (d.get("cli") or {}).get("imports", {})
    ip = (d.get("inproc") or {}).get("notebooks", {})
    if cli.get("wine"):
        reading_cli(a, cli, imports, (d.get("cli") or {}).get("loadavg") or "?")
    if ip.get("wine"):
        reading_inproc(a, d["inproc"])
    if d.get("sweep") and d["sweep"].get("ratio"):
        reading_sweep(a, d)
    return "\n".join(out).rstrip()


def cli_breakdown(n: dict, p: dict, e: dict, rn: dict) -> list[tuple[str, str, float]]:
    """(key, label, seconds): the traced nbops − papermill difference, item by item. The items
    add up to the difference of the segment medians (not exactly to the difference of the
    wall-time medians)."""
    return [
        ("path", ("way to the kernel launch without the background thread: nbops' start-up, CLI "
         "and `run_notebook` before `execute_notebook`, plus `execute_notebook` → kernel as it "
         "takes alone, vs papermill's start-up and CLI to its kernel launch"),
         n["start"] + n["cli_pre"] + n["rn_pre"] + e["exec_to_kernel"] - p["to_kernel"]),
        ("pre_competition", ("`execute_notebook` → kernel launch slowed by the background thread "
         "(vs `execute_notebook` alone)"), n["exec_to_kernel"] - e["exec_to_kernel"]),
        ("competition", ("execution slowed by the background thread (kernel launch → executed, "
         "vs `execute_notebook` alone)"), n["kernel_to_end"] - e["kernel_to_end"]),
        ("shutdown", "kernel shutdown (`execute_notebook` vs papermill's CLI)",
         e["kernel_shutdown"] - p["kernel_shutdown"]),
        ("engine", ("rest of kernel launch → executed, `execute_notebook` alone vs papermill's "
         "CLI"), e["kernel_to_shutdown"] + e["shutdown_to_end"] - p["kernel_to_shutdown"]
         - p["shutdown_to_end"]),
        ("wait", "`finish()` waiting for the background thread", rn["post_finish_wait"]),
        ("post", ("rest of `run_notebook` after the execution (journal, HTML, artifacts, "
         "end_run, get_run)"), n["rn_post"] - rn["post_finish_wait"]),
        ("exit", "output and exit (vs papermill's)",
         n["cli_post"] + n["exit"] - p["cli_post"] - p["exit"]),
    ]


def reading_cli(a: Any, cli: dict, imports: dict, load: str) -> None:
    r = cli["wine"]
    pm, nb = r["median"]["papermill"], r["median"]["nbops"]
    over = nb - pm
    budget = TARGET_OVERHEAD * pm
    seg = r["segments"]
    n, p, e = seg["nbops_traced"], seg["papermill_traced"], seg["execute_traced"]
    rn = seg["nbops_run_notebook"]
    reached = over < budget
    imp = {k: (v or {}).get("median") for k, v in imports.items()}
    a("### (1a) The CLI against papermill")
    a("")
    a(f"On the wine example `nbops run` takes {fmt_s(nb)} and `papermill` {fmt_s(pm)} (median): "
      f"{fmt_signed(over)} ({over / pm * 100:+.0f}%) against a budget of {fmt_s(budget)} (15%): "
      + ("(1a) is reached." if reached else "(1a) is not reached."))
    a("")
    spread = {v: (r["min"][v], max(x["wall_s"] for x in r["runs"][v] if x["rc"] == 0))
              for v in ("papermill", "nbops")}
    widest = max(hi - lo for lo, hi in spread.values())
    if widest > 0.25 * pm:
        a(f"The timed runs spread widely (papermill {spread['papermill'][0]:.2f}–"
          f"{spread['papermill'][1]:.2f} s, `nbops run` {spread['nbops'][0]:.2f}–"
          f"{spread['nbops'][1]:.2f} s; 1-minute load average "
          f"{load.split()[0]} at the start of this part): the difference of the medians, {fmt_signed(over)}, is "
          + ("smaller than that spread, so this verdict is within the noise of this run."
             if abs(over) < widest else "larger than that spread.")
          + f" The paired difference (same round) has a median of "
          f"{fmt_signed(r['paired_diff_median'])}.")
        a("")
    nt, pt = r["median"].get("nbops_traced"), r["median"].get("papermill_traced")
    if nt and pt:
        far = abs(nt - nb) > 0.15 * nb or abs(pt - pm) > 0.15 * pm
        a(f"The traced variants' medians differ from the untraced ones by {fmt_signed(nt - nb)} "
          f"(nbops) and {fmt_signed(pt - pm)} (papermill); the probes cost a few milliseconds, "
          "so that is the noise between rounds, and differences of that size in the split below "
          "are not significant" + ("; read the split as indicative only." if far else "."))
        a("")
    d_before = n["to_kernel"] - p["to_kernel"]
    d_during = n["kernel_to_end"] - p["kernel_to_end"]
    d_after = n["after_execution"] - p["after_execution"]
    a(f"The traced runs (medians {fmt_s(nt)} for nbops and {fmt_s(pt)} for papermill, against "
      f"{fmt_s(nb)} and {fmt_s(pm)} untraced) split the difference at the kernel launch and at "
      f"the end of execution: before the kernel launch {fmt_signed(d_before)} "
      f"({fmt_s(n['to_kernel'])} vs {fmt_s(p['to_kernel'])} from the spawn), while the kernel "
      f"runs the notebook {fmt_signed(d_during)} ({fmt_s(n['kernel_to_end'])} vs "
      f"{fmt_s(p['kernel_to_end'])}), after it {fmt_signed(d_after)} "
      f"({fmt_s(n['after_execution'])} vs {fmt_s(p['after_execution'])}).")
    a("")
    nbformat_in_pre = (rn.get("import_nbformat_at") is not None
                       and rn["import_nbformat_at"] < rn["execute_start_at"])
    mlflow_bg = rn.get("import_mlflow_thread") == "background"
    a(f"- **Before the kernel launch**: the nbops CLI needs {fmt_s(n['cli_pre'])} from its first "
      f"line to `run_notebook` (its CLI, the runner, the notebook's parameters); papermill "
      f"{fmt_s(p['cli_pre'])} to `execute_notebook`, nearly all of it `import papermill` "
      f"({fmt_s(imp.get('import papermill'))} in a fresh interpreter, "
      f"{fmt_s(imp.get('import nbformat'))} of which is `import nbformat`). `run_notebook` then "
      f"needs {fmt_s(n['rn_pre'])} to call `execute_notebook`"
      + (" (it imports nbformat to read the notebook: the same import, before the background "
         f"thread starts at {fmt_s(rn['bg_started_at'])})" if nbformat_in_pre else "")
      + f", and `execute_notebook` {fmt_s(n['exec_to_kernel'])} to launch the kernel (papermill "
      f"imported there: {fmt_s(e['exec_to_kernel'])} when `execute_notebook` runs alone in a "
      f"fresh process; papermill's CLI: {fmt_s(p['exec_to_kernel'])})."
      + (f" The background thread starts `import mlflow` at {fmt_s(rn['import_mlflow_at'])}, "
         f"before the kernel launch at {fmt_s(rn['kernel_at'])}; both imports are Python code "
         f"under one GIL." if mlflow_bg and rn.get("import_mlflow_at") is not None
         and rn["import_mlflow_at"] < rn["kernel_at"] else ""))
    comp = n["kernel_to_end"] - e["kernel_to_end"]
    a(f"- **While the kernel runs**: kernel launch → executed takes {fmt_s(n['kernel_to_end'])} "
      f"under `nbops run`, {fmt_s(e['kernel_to_end'])} for `execute_notebook` alone in a fresh "
      f"process and {fmt_s(p['kernel_to_end'])} under papermill. Next to it the background "
      f"thread {'imports mlflow, ' if mlflow_bg else ''}opens the store and the run and warms "
      f"the HTML exporter: {fmt_s(rn['bg_work'])} (tracker {fmt_s(rn['bg_tracker'])}, HTML "
      f"warm-up {fmt_s(rn['bg_html_warm'])}), ready {fmt_s(rn['bg_ready_at'])} after "
      f"`run_notebook` started, the execution ending at {fmt_s(rn['execute_end_at'])}. "
      + (f"The execution is {fmt_s(comp)} slower than alone: the thread's CPU time and the GIL "
         "it holds are taken from the kernel (2 cores) and from nbclient's message loop in "
         "the same process." if comp >= 0.1 else
         f"The execution is not measurably slower than alone ({fmt_signed(comp)})."))
    wait = rn["post_finish_wait"]
    parts = _ranked([(lbl, rn.get(k)) for k, lbl in POST_PARTS], 0.01)
    a(f"- **After the execution**: `run_notebook` takes {fmt_s(n['rn_post'])} to return ("
      + (", ".join(f"{lbl} {fmt_ms(v)}" for lbl, v in parts) or "nothing above 10 ms")
      + "). "
      + (f"`finish()` waited {fmt_s(wait)} for the background thread, which was not ready when "
         "the notebook finished. " if wait >= 0.05 else
         "`finish()` hardly waited: the background thread was ready before the notebook "
         "finished. ")
      + f"The CLI prints and reaches atexit in {fmt_s(n['cli_post'])} and is gone "
      f"{fmt_s(n['exit'])} later (`_exit_now`); papermill's normal teardown after atexit takes "
      f"{fmt_s(p['exit'])}.")
    a("")
    ne = r["median"].get("nbops_normal_exit")
    if ne is not None:
        a(f"The same `nbops run` leaving through `sys.exit` (normal interpreter teardown, what "
          f"`_exit_now` skips) takes {fmt_s(ne)}: {fmt_signed(ne - nb)} against the console "
          "script.")
        a("")
    t = cli.get("trivial")
    if t and t["median"]["papermill"] and t["median"]["nbops"]:
        tn, tp = t["segments"]["nbops_traced"], t["segments"]["papermill_traced"]
        trn = t["segments"]["nbops_run_notebook"]
        tdiff = t["median"]["nbops"] - t["median"]["papermill"]
        text = (f"Fixed costs, on the trivial notebook: `papermill` {fmt_s(t['median']['papermill'])}, "
                f"`nbops run` {fmt_s(t['median']['nbops'])} ({fmt_signed(tdiff)}). Traced: before "
                f"the kernel launch {fmt_signed(tn['to_kernel'] - tp['to_kernel'])}, during the "
                f"execution {fmt_signed(tn['kernel_to_end'] - tp['kernel_to_end'])}, after it "
                f"{fmt_signed(tn['after_execution'] - tp['after_execution'])}. ")
        if trn["post_finish_wait"] >= 0.05:
            text += (f"The execution ends {fmt_s(trn['execute_end_at'])} after `run_notebook` "
                     f"starts, the background thread is ready at {fmt_s(trn['bg_ready_at'])}, so "
                     f"`finish()` waits {fmt_s(trn['post_finish_wait'])}: a notebook that runs "
                     "shorter than opening MLflow takes in a fresh process pays the rest of the "
                     "opening.")
        else:
            text += (f"The background thread is ready at {fmt_s(trn['bg_ready_at'])}, before the "
                     f"execution ends at {fmt_s(trn['execute_end_at'])}.")
        a(text)
        a("")
    items = cli_breakdown(n, p, e, rn)
    total = sum(v for _, _, v in items)
    head = (f"(1a) is reached. The difference against papermill's CLI, item by item (traced "
            f"medians, adding up to {fmt_signed(total)}; costs first, then what `nbops run` "
            "saves):" if reached else
            f"What is left, item by item (traced medians, adding up to {fmt_signed(total)}); "
            f"reaching (1a) takes about {fmt_s(over - budget)} off the untraced difference:")
    a(head)
    a("")
    for key, label, v in sorted(items, key=lambda x: -x[2]):
        a(f"1. {label}: {fmt_signed(v)}{_advice(key, v, rn, n, e, p, imp)}")
    a("")
    costs = sum(v for _, _, v in items if v > 0)
    savings = sum(v for _, _, v in items if v < 0)
    a(f"In sum: {fmt_signed(costs)} of costs against papermill's CLI, {fmt_signed(savings)} of "
      "things papermill's CLI does and `nbops run` does not"
      + (" (largest: " + ", ".join(label.split(" (")[0] for _, label, v in
                                   sorted(items, key=lambda x: x[2])[:2] if v < -0.1) + ")"
         if any(v < -0.1 for _, _, v in items) else "")
      + ".")
    a("")


def _advice(key: str, v: float, rn: dict, n: dict, e: dict, p: dict, imp: dict) -> str:
    """A sentence on a large item: what it consists of, from the measurements."""
    if abs(v) < 0.1:
        return ""
    if key == "path":
        return (f". nbops' CLI start-up is cheap (`nbops --version` "
                f"{fmt_s(imp.get('nbops --version'))}, `papermill --version` "
                f"{fmt_s(imp.get('papermill --version'))}); both pay nbformat and papermill "
                "imports before the kernel, in a different place.")
    if key == "pre_competition":
        return (". The main thread imports papermill, nbclient and jupyter_client while the "
                "background thread imports mlflow; they take turns on the GIL.")
    if key == "competition":
        return (f". The background thread's work ({fmt_s(rn['bg_work'])}, "
                f"{fmt_s(rn['bg_tracker'])} of it opening the tracker, mostly importing mlflow) "
                "overlaps the execution on 2 cores; less of it, or none of it in this process, "
                "is what would shrink this item.")
    if key == "shutdown":
        return (f". nbops' `execute_notebook` stops the kernel with `shutdown_kernel(now=True)` "
                f"({fmt_s(e['kernel_shutdown'])}); papermill's CLI lets nbclient ask the kernel to "
                f"shut down and wait for it ({fmt_s(p['kernel_shutdown'])}).")
    if key == "engine":
        return (". Neither side has a background thread here; both run papermill's engine "
                "(nbops: ipc transport, no progress bar; papermill's CLI: tcp, a progress bar). "
                "What is left is those differences and the machine's noise.")
    if key == "wait":
        return (f". The background thread was ready {fmt_s(rn['bg_ready_at'])} after "
                f"`run_notebook` started, the execution ended at {fmt_s(rn['execute_end_at'])} "
                f"(open hook {fmt_s(rn['bg_open'])}, HTML warm-up {fmt_s(rn['bg_html_warm'])}).")
    if key == "post":
        parts = _ranked([(lbl, rn.get(k)) for k, lbl in POST_PARTS
                         if k != "post_finish_wait"], 0.01)
        return ": " + ", ".join(f"{lbl} {fmt_ms(x)}" for lbl, x in parts[:4]) + "."
    if key == "exit":
        return (f" (nbops: output {fmt_s(n['cli_post'])} + exit {fmt_s(n['exit'])}; papermill: "
                f"{fmt_s(p['cli_post'])} + {fmt_s(p['exit'])}).")
    return "."


def reading_inproc(a: Any, ip_all: dict) -> None:
    ip = ip_all["notebooks"]
    w = ip["wine"]
    pm_ = w["path_median"]
    first = w["first_run_notebook"]
    a("### (1b) Tracking per run, warm process")
    a("")
    ok = w["tracking_median"] < TARGET_TRACKING_S
    a(f"In one process that has run notebooks before (a sweep, the server), `run_notebook` on the "
      f"wine example takes {fmt_s(w['run_notebook_median'])} against "
      f"{fmt_s(w['execute_median'])} for `execute_notebook` alone: tracking adds "
      f"{fmt_s(w['tracking_median'])} per run ({'under' if ok else 'over'} the 0.5 s of (1b)). "
      f"On its critical path: {fmt_ms(pm_['pre'])} before `execute_notebook`, "
      f"{fmt_s(pm_['execute'])} in it ({fmt_signed(pm_['execute'] - w['execute_median'])} against "
      f"`execute_notebook` alone), {fmt_ms(pm_['post'])} after it ("
      + ", ".join(f"{lbl} {fmt_ms(v)}" for lbl, v in _ranked(
          [(lbl, pm_.get(k)) for k, lbl in POST_PARTS], 0.005))
      + ").")
    a("")
    a(f"The background thread works {fmt_ms(pm_['bg_work'])} ("
      + ", ".join(f"{lbl} {fmt_ms(v)}" for lbl, v in _ranked(
          [(lbl, pm_.get(k)) for k, lbl in BG_PARTS], 0.005))
      + f") and is ready {fmt_s(pm_['bg_ready_at'])} after the start, "
      + (f"{fmt_s(pm_['slack'])} before the execution ends; `finish()` waits "
         f"{fmt_ms(pm_['post_finish_wait'])}." if pm_["slack"] > 0 else
         f"{fmt_s(-pm_['slack'])} after the execution ended; `finish()` waits "
         f"{fmt_ms(pm_['post_finish_wait'])}."))
    a("")
    a(f"The first `run_notebook` of a process (what each CLI call does) is different: its "
      f"background thread works {fmt_s(first['bg_work'])} (open hook {fmt_s(first['bg_open'])}, "
      f"of which the tracker {fmt_s(first['bg_tracker'])}, mostly importing mlflow and opening "
      f"the store; HTML warm-up {fmt_s(first['bg_html_warm'])}) and is ready "
      f"{fmt_s(first['bg_ready_at'])} after the start, the execution ending at "
      f"{fmt_s(first['execute_end_at'])}; `finish()` waits {fmt_s(first['post_finish_wait'])}, "
      f"and the call takes {fmt_s(first['total'])} in all.")
    t = ip.get("trivial")
    if t:
        tp = t["path_median"]
        a("")
        a(f"On the trivial notebook (warm): tracking {fmt_s(t['tracking_median'])} per run, "
          f"`finish()` waits {fmt_ms(tp['post_finish_wait'])}, the background thread ready "
          f"{fmt_s(tp['slack'])} {'before' if tp['slack'] > 0 else 'after'} the execution ends.")
    a("")


def reading_sweep(a: Any, d: dict) -> None:
    sw = d["sweep"]
    st = sweep_stats(sw)
    s1, s2 = st["1"], st["2"]
    a("### (2) Sweep")
    a("")
    ratio = sw["ratio"]
    reached = ratio <= TARGET_SWEEP_RATIO
    digits = 3 if abs(ratio - TARGET_SWEEP_RATIO) < 0.01 else 2
    rounds = [b["wall_s"] / a_["wall_s"] for a_, b in zip(sw["runs"]["1"], sw["runs"]["2"])
              if a_["rc"] == 0 and b["rc"] == 0 and a_["n_runs"] == 8 and b["n_runs"] == 8]
    p1 = [x["wall_s"] for x in sw["runs"]["1"] if x["rc"] == 0 and x["n_runs"] == 8]
    text = (f"`--parallel 2` takes {ratio:.{digits}f}x the time of `--parallel 1` on "
            f"{d['machine']['nproc']} cores ({fmt_s(sw['p2_median'], 1)} vs "
            f"{fmt_s(sw['p1_median'], 1)}, medians): (2) is "
            f"{'reached' if reached else 'not reached'}")
    if abs(ratio - TARGET_SWEEP_RATIO) < 0.03:
        text += f", at the threshold ({TARGET_SWEEP_RATIO}x)"
    text += ". "
    if rounds:
        text += ("Round by round (the two settings measured back to back) the ratio is "
                 + ", ".join(f"{x:.2f}x" for x in rounds)
                 + f"; the serial sweeps took {min(p1):.1f}–{max(p1):.1f} s"
                 + (f" (1-minute load average {sw['loadavg'].split()[0]} at the start of this "
                    "part)" if sw.get("loadavg") else "")
                 + (", so the verdict is within this run's noise. "
                    if min(rounds) <= TARGET_SWEEP_RATIO < max(rounds) else ". "))
    if s1["run_median"] and s2["run_median"]:
        floor = s1["outside_median"] + s2["sum_median"] / 2
        slow = s2["sum_median"] / 2 - s1["sum_median"] / 2
        text += (
            f"With one kernel at a time a run takes {fmt_s(s1['run_median'])} (its `duration_s`; "
            f"the first {fmt_s(s1['first_median'])}, while the process still imports and opens "
            f"MLflow, the others {fmt_s(s1['rest_median'])}) and "
            f"{fmt_s(s1['outside_median'], 1)} of the serial sweep lies outside the runs "
            f"(interpreter start and imports, reading the notebook and its parameters, the "
            f"parent run's end, output, exit). With two at a time a run takes "
            f"{fmt_s(s2['run_median'])} ({(s2['run_median'] / s1['run_median'] - 1) * 100:+.0f}%"
            + (": two kernels and the nbops process share 2 cores" if s2["run_median"]
               > s1["run_median"] else ": not slower than one at a time, in this run")
            + f"; the first two {fmt_s(s2['first_median'])}, the others "
            f"{fmt_s(s2['rest_median'])}), and {fmt_s(s2['outside_median'], 1)} of the wall time "
            f"is not covered by two runs at a time. Keeping the serial part and halving the runs' "
            f"summed time gives {fmt_s(s1['outside_median'], 1)} + "
            f"{fmt_s(s2['sum_median'], 1)} / 2 = {fmt_s(floor, 1)} "
            f"({floor / sw['p1_median']:.2f}x). Against the ideal 0.5x, the runs' slow-down with "
            f"two at a time costs {fmt_s(slow, 1)} and the serial part "
            f"{fmt_s(s1['outside_median'], 1)}")
        text += ("." if reached else
                 f"; 0.65x would need the parallel sweep at "
                 f"{fmt_s(TARGET_SWEEP_RATIO * sw['p1_median'], 1)}.")
    a(text)
    a("")


# --------------------------------------------------------------------------- main


# sections other scripts keep in the same document (benchmarks/dask_bench.py): carried over
DASK_BEGIN, DASK_END = "<!-- dask-bench:begin", "<!-- dask-bench:end -->"


def _write_doc(doc: Path, text: str) -> None:
    """Write ``text`` to ``doc``, keeping the Dask section dask_bench.py wrote there."""
    old = doc.read_text(encoding="utf-8") if doc.exists() else ""
    a = old.find(DASK_BEGIN)
    b = old.find(DASK_END, a) if a >= 0 else -1
    if a >= 0 and b >= 0:
        kept = old[a : b + len(DASK_END)]  # the markers hold its heading too
        text = text.rstrip("\n") + "\n\n" + kept + "\n"
    doc.write_text(text, encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--_inproc"]:
        return inproc_child(argv[1])
    if argv[:1] == ["--_cold"]:
        return cold_child(argv[1])
    if argv[:1] == ["--_cli"]:
        cli_child(*argv[1:3])
        return 0
    if argv[:1] == ["--_pm"]:
        pm_child(*argv[1:4])
        return 0
    if argv[:1] == ["--_exec"]:
        exec_child(*argv[1:4])
        return 0
    ap = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=textwrap.dedent(__doc__.split("Usage")[1]),
    )
    ap.add_argument("--quick", action="store_true",
                    help="smoke run: N=2, 1 sweep per setting; writes results/run-quick.{json,md}, "
                    "leaves docs/ alone")
    ap.add_argument("--only", choices=["cli", "inproc", "sweep"], action="append",
                    help="measure only these parts (repeatable); the others are kept from the last JSON")
    ap.add_argument("--notebooks", default="wine,trivial",
                    help="(1a)/(1b) notebooks, comma-separated, from wine,trivial (default both)")
    ap.add_argument("--render-only", action="store_true", help="measure nothing, rewrite the report")
    ap.add_argument("--runs", type=int, default=5, help="(1) timed runs per command / function")
    ap.add_argument("--sweep-runs", type=int, default=3, help="(2) timed sweeps per --parallel")
    ap.add_argument("--nbops-python", type=Path, default=DEFAULT_NBOPS_PYTHON,
                    help="python with nbops installed (default $NBOPS_PYTHON or this python)")
    ap.add_argument("--nbops-cli", type=Path, default=None,
                    help="nbops console script (default: the one next to --nbops-python)")
    ap.add_argument("--papermill", type=Path, default=None,
                    help="papermill CLI (default: the one next to --nbops-python)")
    ap.add_argument("--keep-tmp", action="store_true", help="keep the temp projects")
    ap.add_argument("--doc", type=Path, default=None,
                    help=f"report path (default {DOC.relative_to(REPO)}; with --quick: "
                    "benchmarks/results/run-quick.md)")
    args = ap.parse_args(argv)
    if args.quick:
        args.runs = min(args.runs, 2)
        args.sweep_runs = min(args.sweep_runs, 1)
    args.papermill = args.papermill or args.nbops_python.parent / "papermill"
    args.nbops_cli = args.nbops_cli or args.nbops_python.parent / "nbops"
    json_path = QUICK_JSON if args.quick else LATEST
    doc = args.doc or (RESULTS_DIR / "run-quick.md" if args.quick else DOC)
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    prev: dict[str, Any] = {}
    if json_path.exists():
        try:
            prev = json.loads(json_path.read_text())
        except json.JSONDecodeError:
            prev = {}
    if args.render_only:
        if not prev:
            log(f"nothing to render: {json_path} missing")
            return 2
        _write_doc(doc, render(prev))
        log(f"wrote {doc}")
        return 0
    parts = set(args.only or ["cli", "inproc", "sweep"])
    notebooks = [x.strip() for x in args.notebooks.split(",") if x.strip()]
    if not set(notebooks) <= {"wine", "trivial"} or not notebooks:
        ap.error("--notebooks takes wine and/or trivial")
    for tool in (args.papermill, args.nbops_cli):
        if not tool.exists():
            log(f"no console script at {tool} (--papermill / --nbops-cli PATH)")
            return 2
    if prev and any(k not in parts for k in ("cli", "inproc", "sweep")) \
            and prev.get("format") != 2:
        log(f"{json_path} is from an older version of this script: measure every part")
        return 2
    d: dict[str, Any] = {
        "format": 2,
        "generated": now(),
        "quick": args.quick,
        "config": {"runs": args.runs, "sweep_runs": args.sweep_runs, "parts": sorted(parts),
                   "notebooks": notebooks},
        "machine": machine(args.nbops_python, args.papermill, args.nbops_cli),
    }
    for key in ("cli", "inproc", "sweep"):
        if key not in parts and prev.get(key):
            d[key] = prev[key]
    if LOGS.exists():
        shutil.rmtree(LOGS)
    LOGS.mkdir(parents=True)
    tmp = Path(tempfile.mkdtemp(prefix="nbops-run-bench-"))

    def project(name: str) -> tuple[Path, dict[str, Path]]:
        root = tmp / name
        nbs = make_project(root)
        return root, {k: v for k, v in nbs.items() if k in notebooks}

    try:
        # one fresh project per part, so the store's size does not differ between parts' runs
        if "cli" in parts:
            root, nbs = project("cli")
            d["cli"] = part_cli(args, nbs, root)
        if "inproc" in parts:
            root, nbs = project("inproc")
            d["inproc"] = part_inproc(args, nbs, root)
        if "sweep" in parts:
            root = tmp / "sweep"
            nbs = make_project(root)
            log("(2) warm-up: one nbops run (creates the store)")
            timed_cmd(NBOPS_RUN.format(nbops=args.nbops_cli, nb=nbs["wine"].name), root,
                      "sweep-warmup")
            d["sweep"] = part_sweep(args, nbs, root)
    finally:
        if args.keep_tmp:
            log(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    d["machine"]["loadavg_end"] = loadavg()
    json_path.write_text(json.dumps(d, indent=1, default=str))
    doc.parent.mkdir(parents=True, exist_ok=True)
    _write_doc(doc, render(d))
    log(f"wrote {doc} and {json_path}")
    for t in targets(d):
        print(f"({t['key']}) {t['goal']}: {t['value']} -> {t['status']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
