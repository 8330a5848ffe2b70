#!/usr/bin/env python3
"""Benchmark `nbops run --executor dask` (issue 17, "Numbers").

Three parts, each measured side by side (interleaved, the order rotating) in one session, each
command a fresh `nbops` CLI subprocess as a user runs it (MLFLOW_* / NBOPS_RUN* unset):

(A) sweep: ``nbops run WINE --grid C=0.1,0.3,1,3 --grid SEED=0,1`` (8 runs of
    examples/wine_classifier.ipynb) with ``--executor dask --parallel 2`` (a 2-worker
    LocalCluster made for the sweep) vs ``--executor local --parallel 1`` (one after the
    other). Target: dask at most 0.6x.
(B) one run of WINE: ``--executor dask`` (its own LocalCluster, started and closed by the
    run, as a user gets it) and ``--executor dask --scheduler ADDR`` (a `dask scheduler` and
    one `dask worker` already running on 127.0.0.1) vs ``--executor local``. Target: dask at
    most 1.15x local (both dask variants reported).
(C) beyond this machine, simulated: 32 runs of a notebook that sleeps 2 s
    (``--grid i=0..31``) on 16 single-threaded workers (`dask scheduler` + `dask worker
    --nworkers 16 --nthreads 1` on 127.0.0.1, warmed up by one untimed 16-run sweep), tracked
    in a real `nbops tracking-server` (MLflow's server, `tracking-uri` pointing at it), vs the
    sequential time: 32 x the median of a few single `--executor local` runs of the same
    notebook against the same server, measured in the same rounds. Target: at most 0.15x, and
    the server (queried over its REST API) holds 32 children under the sweep's parent, all
    FINISHED, none with an error tag.

Ratios are paired (round i of one over round i of the other) with the harness's seeded
bootstrap 95 % interval of their median. Writes the section "Runs on Dask (issue 17)" of
docs/benchmarks-run.md (between its markers; the rest of the file is kept byte for byte) and
benchmarks/results/dask-latest.json (--quick: dask-quick.json); command logs in
benchmarks/results/dask-logs/.

Usage
  python benchmarks/dask_bench.py            # ~10 min on 2 cores
  python benchmarks/dask_bench.py --quick    # fewer repetitions (~5 min)
  python benchmarks/dask_bench.py --only sweep --only single   # some parts (others dropped)
  python benchmarks/dask_bench.py --render-only   # rewrite the doc's section from the last JSON
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import harness
from harness import fmt_s, loadavg, now

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
RESULTS = HERE / "results"
LOGS = RESULTS / "dask-logs"
DOC = REPO / "docs" / "benchmarks-run.md"
WINE = REPO / "examples" / "wine_classifier.ipynb"
BEGIN = "<!-- dask-bench:begin -->"
END = "<!-- dask-bench:end -->"
PY = Path(sys.executable)
NBOPS = PY.parent / "nbops"

TARGET_SWEEP = 0.6
TARGET_SINGLE = 1.15
TARGET_WIDE = 0.15
BUSY_LOAD = 1.0  # a 1-minute load average this high before the benchmark: other jobs held a core
WIDE_RUNS, WIDE_WORKERS, SLEEP_S = 32, 16, 2

SWEEP = "run wine_classifier.ipynb --grid C=0.1,0.3,1,3 --grid SEED=0,1 --format json"
SINGLE = "run wine_classifier.ipynb --format json"
WIDE = f"run sleep.ipynb --grid i={','.join(map(str, range(WIDE_RUNS)))} --format json"

log = harness.logger("dask-bench")


def env() -> dict[str, str]:
    """This environment without tracking settings (each project says where it tracks)."""
    return {k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW_", "NBOPS_RUN"))}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def nbops(args: str, cwd: Path, name: str, *extra: str) -> dict[str, Any]:
    """One timed `nbops` CLI run; its wall time, exit code and JSON report (runs, statuses)."""
    LOGS.mkdir(parents=True, exist_ok=True)
    cmd = [str(NBOPS), *args.split(), *extra]
    r = harness.run_timed(cmd, cwd=cwd, env=env(), capture=True, timeout=900)
    (LOGS / f"{name}.log").write_text(f"$ {' '.join(cmd)}\n{r['stdout']}\n{r['stderr']}")
    report: dict[str, Any] = {}
    with contextlib.suppress(ValueError):
        report = json.loads(r["stdout"])
    runs = report.get("runs") or []
    out = {"wall_s": round(r["secs"], 3), "rc": r["rc"], "n_runs": len(runs),
           "statuses": sorted({str(x.get("status")) for x in runs}),
           "parent_run_id": report.get("parent_run_id"),
           "run_durations": [x.get("duration_s") for x in runs]}
    log(f"{name}: {out['wall_s']:.1f} s rc={out['rc']} runs={len(runs)} {out['statuses']}")
    return out


def ok(r: dict[str, Any], runs: int) -> bool:
    return bool(r["rc"] == 0 and r["n_runs"] == runs and r["statuses"] == ["FINISHED"])


def project(root: Path, tracking_uri: str | None = None) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    conf = '[project]\nname = "dask-bench"\nversion = "0"\n'
    if tracking_uri:
        conf += f'\n[tool.nbops.run]\ntracking-uri = "{tracking_uri}"\nexperiment = "wide"\n'
    (root / "pyproject.toml").write_text(conf)
    shutil.copy(WINE, root / "wine_classifier.ipynb")
    import nbformat

    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell(f"i = 0\npause = {SLEEP_S}")
    params.metadata["tags"] = ["parameters"]
    nb.cells = [params, nbformat.v4.new_code_cell("import time\ntime.sleep(pause)\ni")]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    nbformat.write(nb, root / "sleep.ipynb")
    return root


def wait_for(check: Any, what: str, proc: subprocess.Popen[Any], timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while True:
        if proc.poll() is not None:
            raise SystemExit(f"dask_bench: {what}: the process exited ({proc.returncode})")
        with contextlib.suppress(Exception):
            if check():
                return
        if time.monotonic() > deadline:
            raise SystemExit(f"dask_bench: {what} did not come up in {timeout:.0f} s")
        time.sleep(0.3)


@contextlib.contextmanager
def dask_cluster(workers: int, name: str) -> Iterator[str]:
    """A `dask scheduler` and `dask worker --nworkers N --nthreads 1` on 127.0.0.1."""
    port = free_port()
    address = f"tcp://127.0.0.1:{port}"
    LOGS.mkdir(parents=True, exist_ok=True)
    logf = open(LOGS / f"{name}-cluster.log", "w")  # noqa: SIM115 - closed below
    procs = [subprocess.Popen(
        [str(PY), "-m", "distributed.cli.dask_scheduler", "--host", "127.0.0.1", "--port",
         str(port), "--no-dashboard"], env=env(), stdout=logf, stderr=subprocess.STDOUT,
        start_new_session=True)]
    try:
        procs.append(subprocess.Popen(
            [str(PY), "-m", "distributed.cli.dask_worker", address, "--nworkers", str(workers),
             "--nthreads", "1", "--no-dashboard"], env=env(), stdout=logf,
            stderr=subprocess.STDOUT, start_new_session=True))
        from distributed import Client

        def ready() -> bool:
            with Client(address, timeout=5) as client:
                return len(client.scheduler_info()["workers"]) >= workers

        wait_for(ready, f"{workers} Dask workers", procs[-1])
        yield address
    finally:
        for p in reversed(procs):  # each in its own session: the worker's processes too
            with contextlib.suppress(OSError):
                os.killpg(p.pid, signal.SIGTERM)
        for p in procs:
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(OSError):
                    os.killpg(p.pid, signal.SIGKILL)
                p.wait()
        logf.close()


def rest(url: str, body: dict[str, Any]) -> Any:
    request = urllib.request.Request(url, data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as answer:
        return json.loads(answer.read())


@contextlib.contextmanager
def tracking_server(root: Path) -> Iterator[str]:
    """`nbops tracking-server` in a project of its own; its http:// address."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "pyproject.toml").write_text('[project]\nname = "team"\n')
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    logf = open(LOGS / "tracking-server.log", "w")  # noqa: SIM115 - closed below
    proc = subprocess.Popen([str(NBOPS), "tracking-server", "--port", str(port)], cwd=root,
                            env=env(), stdout=logf, stderr=subprocess.STDOUT,
                            start_new_session=True)
    try:
        def health() -> bool:
            with urllib.request.urlopen(f"{url}/health", timeout=5) as answer:
                return bool(answer.read() == b"OK")

        wait_for(health, "the tracking server", proc)
        yield url
    finally:
        with contextlib.suppress(OSError):
            os.killpg(proc.pid, signal.SIGINT)  # Ctrl-C: the server stops its workers
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(OSError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        logf.close()


def children(url: str, parent: str) -> list[dict[str, Any]]:
    """The runs under ``parent`` in the tracking server, from its REST API."""
    with urllib.request.urlopen(f"{url}/api/2.0/mlflow/runs/get?run_id={parent}",
                                timeout=30) as answer:
        experiment = json.loads(answer.read())["run"]["info"]["experiment_id"]
    found = rest(f"{url}/api/2.0/mlflow/runs/search", {
        "experiment_ids": [experiment], "max_results": 1000,
        "filter": f"tags.`mlflow.parentRunId` = '{parent}'"})
    return list(found.get("runs") or [])


def paired(a: list[float], b: list[float]) -> dict[str, Any]:
    """The paired ratios a/b, their median and its bootstrap interval."""
    rs = harness.paired_ratios(a, b)
    if not rs:
        return {"ratios": [], "median": None, "ci": None}
    return {"ratios": [round(x, 4) for x in rs], "median": harness.median(rs),
            "ci": harness.bootstrap_ci(rs) if len(rs) > 1 else None}


# --------------------------------------------------------------------------- the parts


def part_sweep(root: Path, rounds: int) -> dict[str, Any]:
    variants = {"dask": ("--executor", "dask", "--parallel", "2"),
                "local": ("--executor", "local", "--parallel", "1"),
                # a reference: what two kernels at a time give this machine without Dask
                "local_p2": ("--executor", "local", "--parallel", "2")}
    rows = harness.interleave(
        {k: functools.partial(lambda k, i: nbops(SWEEP, root, f"sweep-{k}-{i}", *variants[k]), k)
         for k in variants}, rounds)
    good = [i for i in range(rounds) if all(ok(rows[k][i], 8) for k in variants)]
    t = {k: [rows[k][i]["wall_s"] for i in good] for k in variants}
    runs = {k: harness.median(x for i in good for x in rows[k][i]["run_durations"])
            for k in variants}
    return {"commands": {k: f"nbops {SWEEP} {' '.join(v)}" for k, v in variants.items()},
            "rows": rows, "dask_median": harness.median(t["dask"]),
            "local_median": harness.median(t["local"]),
            "local_p2_median": harness.median(t["local_p2"]), "run_median": runs,
            "ratio": paired(t["dask"], t["local"]), "ratio_local_p2": paired(t["local_p2"], t["local"]),
            "failed": rounds - len(good), "loadavg": loadavg()}


def part_single(root: Path, rounds: int) -> dict[str, Any]:
    with dask_cluster(1, "single") as address:
        variants = {"local": ("--executor", "local"), "dask": ("--executor", "dask"),
                    "dask_scheduler": ("--executor", "dask", "--scheduler", address)}
        nbops(SINGLE, root, "single-warmup-scheduler", *variants["dask_scheduler"])
        rows = harness.interleave(
            {k: functools.partial(
                lambda k, i: nbops(SINGLE, root, f"single-{k}-{i}", *variants[k]), k)
             for k in variants}, rounds)
    good = [i for i in range(rounds) if all(ok(rows[k][i], 1) for k in variants)]
    t = {k: [rows[k][i]["wall_s"] for i in good] for k in variants}
    return {"commands": {k: f"nbops {SINGLE} {' '.join(v)}".replace(address, "ADDR")
                         for k, v in variants.items()},
            "rows": rows, "median": {k: harness.median(v) for k, v in t.items()},
            "ratio": {k: paired(t[k], t["local"]) for k in ("dask", "dask_scheduler")},
            "failed": rounds - len(good), "loadavg": loadavg()}


def part_wide(tmp: Path, rounds: int, singles: int) -> dict[str, Any]:
    with tracking_server(tmp / "server") as url, \
            dask_cluster(WIDE_WORKERS, "wide") as address:
        root = project(tmp / "wide", url)
        log(f"(C) warm-up: {WIDE_WORKERS} runs on the {WIDE_WORKERS} workers, one local run")
        warm = f"run sleep.ipynb --grid i={','.join(map(str, range(WIDE_WORKERS)))} " \
               "-p pause 0 --format json"
        nbops(warm, root, "wide-warmup", "--executor", "dask", "--scheduler", address)
        nbops("run sleep.ipynb --format json", root, "wide-warmup-local", "--executor", "local")

        def sequential(i: int) -> list[dict[str, Any]]:
            return [nbops("run sleep.ipynb --format json", root, f"wide-single-{i}-{j}",
                          "--executor", "local") for j in range(singles)]

        def wide(i: int) -> dict[str, Any]:
            r = nbops(WIDE, root, f"wide-dask-{i}", "--executor", "dask", "--scheduler", address)
            if r["parent_run_id"]:  # what the server recorded
                kids = children(url, r["parent_run_id"])
                r["server_children"] = len(kids)
                r["server_statuses"] = sorted({k["info"]["status"] for k in kids})
                r["server_errors"] = sum(
                    any(t["key"] == "nbops.error" for t in k["data"].get("tags", []))
                    for k in kids)
            return r

        rows = harness.interleave({"sequential": sequential, "dask": wide}, rounds)
    seq = [harness.median(x["wall_s"] for x in rs if ok(x, 1)) for rs in rows["sequential"]]
    good = [i for i in range(rounds) if ok(rows["dask"][i], WIDE_RUNS) and seq[i]]
    d = [rows["dask"][i]["wall_s"] for i in good]
    s32 = [WIDE_RUNS * float(seq[i] or 0) for i in good]
    recorded = all(r.get("server_children") == WIDE_RUNS and r.get("server_statuses") ==
                   ["FINISHED"] and r.get("server_errors") == 0 for r in rows["dask"])
    return {"commands": {"dask": f"nbops {WIDE} --executor dask --scheduler ADDR",
                         "single": "nbops run sleep.ipynb --format json --executor local"},
            "rows": rows, "single_median": harness.median(seq), "dask_median": harness.median(d),
            "sequential_median": harness.median(s32), "ratio": paired(d, s32),
            "recorded": recorded, "failed": rounds - len(good), "loadavg": loadavg()}


# --------------------------------------------------------------------------- the report


def verdict(value: float | None, target: float, extra: bool = True) -> str:
    if value is None:
        return "**FAIL** (no valid measurement)"
    return "**PASS**" if value <= target and extra else "**FAIL**"


def ci(r: dict[str, Any]) -> str:
    if r["median"] is None:
        return "–"
    lo_hi = f" (95 % CI {r['ci'][0]:.2f}–{r['ci'][1]:.2f})" if r["ci"] else " (one round: no CI)"
    return f"{r['median']:.2f}x{lo_hi}"


def shared(m: dict[str, Any]) -> bool:
    """Whether other jobs shared the machine: its 1-minute load average before the benchmark
    began was at least BUSY_LOAD (the load at the end counts the benchmark's own workers)."""
    start = str(m.get("loadavg_start", m.get("loadavg", ""))).split()
    try:
        return float(start[0]) >= BUSY_LOAD
    except (IndexError, ValueError):
        return False


def render(d: dict[str, Any]) -> str:
    m = d["machine"]
    busy = [(f"**This machine was shared with other developers' jobs while it ran (load average "
             f"{m.get('loadavg_start', m.get('loadavg'))} at the start, {m.get('loadavg_end')} at "
             f"the end, on {m.get('nproc')} cores)**: every number below is inflated by that, the "
             "parallel ones most (16 workers on 2 busy cores). The ratios are of commands run "
             "side by side, in rotating order, so the load hits both sides alike; re-run the "
             "command on a quiet machine (more cores for part C) for the numbers that count."),
            ""] if shared(m) else []
    out = [BEGIN, "## Runs on Dask (issue 17)", "",
           "<!-- Generated by benchmarks/dask_bench.py; do not edit by hand. -->", "",
           f"Measured {d['measured']} with `{d['command']}`"
           + (" (**--quick**: fewer repetitions)" if d["quick"] else "") + ".", "",
           (f"Machine: {harness.context_line(m)} at the start, {m.get('loadavg_end', '?')} at the "
           f"end; {m.get('os')}; {m.get('versions')}; git {m.get('git')}."), "", *busy,
           ("Each command is a fresh `nbops` CLI process (MLflow settings unset; each project "
           "says where it tracks). Ratios are paired, round by round, with the seeded "
           "bootstrap 95 % interval of their median (benchmarks/harness.py)."), ""]
    rows = []
    sw = d.get("sweep")
    if sw:
        r = sw["ratio"]
        rows.append(["A", ("8-run sweep of the wine example: `--executor dask --parallel 2` "
                     "(2-worker LocalCluster) vs `--executor local --parallel 1`"),
                     f"{fmt_s(sw['dask_median'])} vs {fmt_s(sw['local_median'])}: {ci(r)}",
                     "≤ 0.6x", verdict(r["median"], TARGET_SWEEP)])
        rows.append(["A", ("reference, no Dask: `--executor local --parallel 2` vs `--parallel 1`"
                     " (what two kernels at a time give this machine)"),
                     (f"{fmt_s(sw['local_p2_median'])} vs {fmt_s(sw['local_median'])}: "
                     f"{ci(sw['ratio_local_p2'])}"), "–", "–"])
    si = d.get("single")
    if si:
        for k, what in (("dask", "its own LocalCluster, started by the run"),
                        ("dask_scheduler", "a scheduler and worker already running")):
            r = si["ratio"][k]
            rows.append(["B", (f"one run of the wine example, `--executor dask` ({what}) vs "
                         "`--executor local`"),
                         f"{fmt_s(si['median'][k])} vs {fmt_s(si['median']['local'])}: {ci(r)}",
                         "≤ 1.15x", verdict(r["median"], TARGET_SINGLE)])
    wi = d.get("wide")
    if wi:
        r = wi["ratio"]
        rows.append(["C", (f"{WIDE_RUNS} runs of a notebook sleeping {SLEEP_S} s on "
                     f"{WIDE_WORKERS} single-threaded workers, tracked in `nbops tracking-server`"
                     f", vs {WIDE_RUNS} x one local run"),
                     (f"{fmt_s(wi['dask_median'])} vs {WIDE_RUNS} x {fmt_s(wi['single_median'])}"
                     f" = {fmt_s(wi['sequential_median'])}: {ci(r)}"),
                     "≤ 0.15x", verdict(r["median"], TARGET_WIDE)])
        rows.append(["C", (f"all {WIDE_RUNS} children under their parent in the tracking "
                     "server, FINISHED, no error tag (REST `runs/search`)"),
                     "; ".join(f"round {i + 1}: {x.get('server_children')} children "
                               f"{x.get('server_statuses')}, {x.get('server_errors')} with an "
                               "error" for i, x in enumerate(wi["rows"]["dask"])),
                     "all 32", "**PASS**" if wi["recorded"] else "**FAIL**"])
    out += harness.md_table(["", "what", "measured (median)", "target", "result"], rows,
                            "lllll")
    out += ["", ("Commands (in a temp project holding a copy of examples/wine_classifier.ipynb "
            "and `sleep.ipynb`: `time.sleep(pause)`, `pause = 2`):"), ""]
    for part, label in (("sweep", "A"), ("single", "B"), ("wide", "C")):
        if d.get(part):
            out += [f"- {label}: " + "; ".join(f"`{c}`" for c in d[part]["commands"].values())]
    out += ["", "Wall times per round (s):", ""]
    table = []
    if sw:
        for k in sw["rows"]:
            table.append([f"A {k}", ", ".join(f"{x['wall_s']:.1f}" for x in sw["rows"][k])])
        table.append(["A one run inside each sweep (median `duration_s`)", ", ".join(
            f"{k} {fmt_s(v)}" for k, v in sw["run_median"].items())])
    if si:
        for k in si["rows"]:
            table.append([f"B {k}", ", ".join(f"{x['wall_s']:.1f}" for x in si["rows"][k])])
    if wi:
        table.append(["C dask (32 runs)", ", ".join(f"{x['wall_s']:.1f}"
                                                    for x in wi["rows"]["dask"])])
        table.append(["C local single runs", "; ".join(", ".join(f"{x['wall_s']:.1f}" for x in rs)
                                                       for rs in wi["rows"]["sequential"])])
    out += harness.md_table(["", "rounds"], table)
    if sw:
        first = {k: harness.median(x for r in sw["rows"][k] for x in r["run_durations"][:2])
                 for k in ("dask", "local_p2")}
        rest = {k: harness.median(x for r in sw["rows"][k] for x in r["run_durations"][2:])
                for k in ("dask", "local_p2")}
        out += ["", (f"Reading A: with two kernels at a time and no Dask this machine reaches "
                     f"{ci(sw['ratio_local_p2'])} of the serial sweep, so no executor could reach "
                     "0.6x here while it was this busy. Inside the Dask sweep, the first run of "
                     f"each worker (a fresh process) took {fmt_s(first['dask'])} and the others "
                     f"{fmt_s(rest['dask'])}, vs "
                     f"{fmt_s(first['local_p2'])} and {fmt_s(rest['local_p2'])} with `--executor "
                     "local --parallel 2` (one process for all the runs): the cluster's start and "
                     "the workers' cold first runs are what `--executor dask` adds to a short "
                     "sweep.")]
    out += ["", "Part B's scheduler variant uses `dask scheduler` + one `dask worker --nthreads 1`"
            " on 127.0.0.1, warmed by one untimed run; part C's cluster is `dask scheduler` + "
            f"`dask worker --nworkers {WIDE_WORKERS} --nthreads 1` on 127.0.0.1, warmed by one "
            f"untimed {WIDE_WORKERS}-run sweep. Failed commands (non-zero exit, a run not "
            "FINISHED) are left out of the ratios: "
            + ", ".join(f"{k} {d[k]['failed']}" for k in ("sweep", "single", "wide") if d.get(k))
            + ". Logs: benchmarks/results/dask-logs/.", END]
    return "\n".join(out) + "\n"


def _interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="fewer repetitions (~5 min)")
    ap.add_argument("--only", action="append", choices=["sweep", "single", "wide"])
    ap.add_argument("--no-doc", action="store_true", help="do not touch docs/benchmarks-run.md")
    ap.add_argument("--render-only", action="store_true",
                    help="rewrite the doc's section from results/dask-latest.json")
    args = ap.parse_args(argv)
    if args.render_only:
        text = render(json.loads((RESULTS / "dask-latest.json").read_text()))
        DOC.write_text(harness.splice(DOC.read_text(encoding="utf-8"), BEGIN, END, text),
                       encoding="utf-8")
        print(text)
        return 0
    signal.signal(signal.SIGTERM, _interrupt)  # the clusters and the server are stopped
    parts = args.only or ["sweep", "single", "wide"]
    rounds = {"sweep": 1 if args.quick else 2, "single": 2 if args.quick else 3,
              "wide": 1 if args.quick else 2}
    command = "python benchmarks/dask_bench.py" + (" --quick" if args.quick else "") + "".join(
        f" --only {p}" for p in (args.only or []))
    d: dict[str, Any] = {
        "measured": now(), "command": command, "quick": args.quick,
        "machine": harness.machine(loadavg_start=loadavg(), versions=harness.versions(
            PY, ["nbops", "dask", "distributed", "mlflow", "papermill", "ipykernel"]),
            git=harness.git_rev()),
    }
    if LOGS.exists():
        shutil.rmtree(LOGS)
    LOGS.mkdir(parents=True)
    tmp = Path(tempfile.mkdtemp(prefix="nbops-dask-bench-"))
    try:
        if "sweep" in parts or "single" in parts:
            root = project(tmp / "wine")
            nbops(SINGLE, root, "warmup-local", "--executor", "local")  # creates the store
            if "sweep" in parts:
                d["sweep"] = part_sweep(root, rounds["sweep"])
            if "single" in parts:
                d["single"] = part_single(root, rounds["single"])
        if "wide" in parts:
            d["wide"] = part_wide(tmp, rounds["wide"], 3)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    d["machine"]["loadavg_end"] = loadavg()
    harness.write_json(RESULTS / ("dask-quick.json" if args.quick else "dask-latest.json"), d)
    text = render(d)
    if not args.no_doc:
        DOC.write_text(harness.splice(DOC.read_text(encoding="utf-8"), BEGIN, END, text),
                       encoding="utf-8")
        log(f"wrote the section of {DOC.relative_to(REPO)}")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
