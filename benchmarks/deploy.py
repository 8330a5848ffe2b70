#!/usr/bin/env python
"""Serving and batch scoring (issue 18): ``nbops serve`` against ``mlflow models serve``, and
``nbops score`` against one ``model.predict`` on the whole file, side by side in one run.

- latency: one-row JSON requests (``dataframe_split``, one kept-alive connection per server) to
  ``nbops serve`` with the prediction log on (``--sample 1``) and to ``mlflow models serve
  --env-manager local`` of the same registered version, in interleaved rounds; p50 and p95;
- batch: ROWS rows of CSV scored by ``nbops score`` (1 and 2 partitions) against a baseline
  process that loads the same registered version (``models:/bench/1``, through MLflow's
  registry), reads the same CSV, calls its ``predict`` on the whole frame once and writes the
  same output; each a fresh process (MLflow's import included for all),
  interleaved; rows per second of wall time.

The model: a random forest (50 trees, depth 8) on 8 numeric features, logged with a signature
by ``nbops.log_model`` and registered by nbops' own promote, in a temporary project.
Results: ``docs/benchmarks-deploy.md`` (the marked section) and ``benchmarks/results/deploy.json``.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import harness

DOC = harness.REPO / "docs" / "benchmarks-deploy.md"
BEGIN, END = "<!-- deploy:begin -->", "<!-- deploy:end -->"
FEATURES = [f"f{i}" for i in range(8)]
log = harness.logger("deploy")


def make_project(root: Path) -> str:
    """A project with model ``bench`` version 1 (champion); its store URI."""
    import numpy as np
    import pandas as pd
    from mlflow.models import infer_signature
    from sklearn.ensemble import RandomForestClassifier

    from nbops import tracking_api
    from nbops.run.tracking import MlflowTracker, default_tracking_uri

    (root / "pyproject.toml").write_text('[project]\nname = "bench"\n', encoding="utf-8")
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(rng.normal(size=(5000, len(FEATURES))), columns=FEATURES)
    target = (frame["f0"] + frame["f1"] * frame["f2"] > 0).astype(int)
    model = RandomForestClassifier(n_estimators=50, max_depth=8, random_state=0).fit(frame, target)
    os.environ.pop("MLFLOW_TRACKING_URI", None)
    tracker = MlflowTracker(default_tracking_uri(root))
    run_id = tracker.start_run("bench", "bench", {}, {})
    os.environ.update(tracker.kernel_env(run_id))
    try:
        tracking_api.log_model(model, signature=infer_signature(frame, model.predict(frame)),
                               pip_requirements=["scikit-learn"],
                               skops_trusted_types=["sklearn.tree._tree.Tree"])  # ours
    finally:
        for key in tracker.kernel_env(run_id):
            os.environ.pop(key, None)
    tracker.end_run(run_id, "FINISHED")
    tracker.promote(run_id, "bench")
    tracker.client.set_registered_model_alias("bench", "champion", "1")
    return str(tracker.tracking_uri)


def _wait(port: int, process: subprocess.Popen[bytes], process_logs: list[Path],
          timeout: float = 180) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if process.poll() is not None:
            logs = "".join(p.read_text()[-1500:] for p in process_logs)
            raise RuntimeError(f"the server ended ({process.returncode}): {logs}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/ping")
            if conn.getresponse().status == 200:
                return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError("the server did not answer /ping")


def _port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def latency(root: Path, uri: str, requests: int, rounds: int) -> dict[str, Any]:
    # mlflow models serve runs `uvicorn` from PATH: this Python's
    path = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    env = {**os.environ, "MLFLOW_TRACKING_URI": uri, "PATH": path}
    nbops_port, mlflow_port = _port(), _port()
    servers = {
        "nbops serve": subprocess.Popen(
            [sys.executable, "-m", "nbops", "serve", "bench@champion", "--port", str(nbops_port),
             "--log-predictions", "predictions.jsonl", "--sample", "1"],
            cwd=root, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True),
        "mlflow models serve": subprocess.Popen(
            [sys.executable, "-m", "mlflow", "models", "serve", "-m", "models:/bench/1",
             "--env-manager", "local", "-p", str(mlflow_port), "-h", "127.0.0.1"],
            cwd=root, env=env, stdout=subprocess.DEVNULL,
            stderr=(root / "mlflow-serve.log").open("w"),
            start_new_session=True),
    }
    ports = {"nbops serve": nbops_port, "mlflow models serve": mlflow_port}
    body = json.dumps({"dataframe_split": {"columns": FEATURES,
                                           "data": [[0.1 * i for i in range(8)]]}})
    try:
        for name, process in servers.items():
            _wait(ports[name], process, list(root.glob("*.log")))
            log(f"{name} answers on {ports[name]}")
        def one_round(name: str) -> list[float]:
            # a fresh kept-alive connection per round: uvicorn closes idle ones after 5 s
            conn = http.client.HTTPConnection("127.0.0.1", ports[name], timeout=30)
            times = []
            for i in range(requests + 1):
                t = time.perf_counter()
                conn.request("POST", "/invocations", body.encode(),
                             {"Content-Type": "application/json"})
                answer = conn.getresponse()
                answer.read()
                if i:  # the first one opens the connection: not timed
                    times.append(time.perf_counter() - t)
                assert answer.status == 200, answer.status
            conn.close()
            return times

        measured = harness.interleave({n: (lambda i, n=n: one_round(n)) for n in servers},
                                      runs=rounds, warmup=1)
    finally:
        for process in servers.values():
            try:
                os.killpg(process.pid, signal.SIGTERM)  # mlflow's server runs uvicorn under it
            except ProcessLookupError:
                pass
            process.wait(60)
    logged = sum(1 for _ in (root / "predictions.jsonl").open())
    out: dict[str, Any] = {"requests": requests * rounds, "logged_lines": logged}
    for name, per_round in measured.items():
        flat = [x for r in per_round for x in r]
        out[name] = {"p50_ms": harness.percentile(flat, 50) * 1000,
                     "p95_ms": harness.percentile(flat, 95) * 1000}
    out["p50_ratio"] = out["nbops serve"]["p50_ms"] / out["mlflow models serve"]["p50_ms"]
    return out


BASELINE = """
import sys, pandas as pd, mlflow.pyfunc
model = mlflow.pyfunc.load_model(sys.argv[1])
frame = pd.read_csv(sys.argv[2])
frame["prediction"] = model.predict(frame)
frame.to_csv(sys.argv[3], index=False)
"""


def batch(root: Path, uri: str, rows: int, runs: int) -> dict[str, Any]:
    import numpy as np
    import pandas as pd

    from nbops.deploy.models import parse_spec, resolve

    data = root / "data.csv"
    rng = np.random.default_rng(1)
    pd.DataFrame(rng.normal(size=(rows, len(FEATURES))), columns=FEATURES).to_csv(data,
                                                                                 index=False)
    os.environ.pop("MLFLOW_TRACKING_URI", None)
    assert resolve(parse_spec("bench"), uri).version == 1
    env = {**os.environ, "MLFLOW_TRACKING_URI": uri}
    commands = {
        # the same registered version, through MLflow's registry as nbops score finds it
        "one model.predict": [sys.executable, "-c", BASELINE, "models:/bench/1", str(data),
                              str(root / "base.csv")],
        "nbops score": [sys.executable, "-m", "nbops", "score", "bench", "data.csv", "-o",
                        "out1.csv", "--progress", "none"],
        "nbops score --partitions 2": [sys.executable, "-m", "nbops", "score", "bench",
                                       "data.csv", "-o", "out2.csv", "--partitions", "2",
                                       "--progress", "none"],
    }

    def run(name: str) -> float:
        t = time.perf_counter()
        done = subprocess.run(commands[name], cwd=root, env=env, capture_output=True, text=True,
                              check=False)
        wall = time.perf_counter() - t
        if done.returncode != 0:
            raise RuntimeError(f"{name}: exit {done.returncode}: {done.stderr[-400:]}")
        log(f"{name}: {wall:.2f} s")
        return wall

    measured = harness.interleave({n: (lambda i, n=n: run(n)) for n in commands}, runs=runs)
    same = (pd.read_csv(root / "base.csv")["prediction"].tolist()
            == pd.read_csv(root / "out2.csv")["prediction"].tolist())
    out: dict[str, Any] = {"rows": rows, "runs": runs, "same_predictions": same}
    base = harness.median(measured["one model.predict"]) or 1.0
    for name, walls in measured.items():
        wall = harness.median(walls) or 1.0
        out[name] = {"wall_s": wall, "rows_per_s": rows / wall, "vs_baseline": base / wall}
    return out


def report(result: dict[str, Any]) -> str:
    lat, bat = result["latency"], result["batch"]
    lines = [f"Measured {result['when']} ({harness.context_line(result['machine'])}).", ""]
    lines += [(f"**One-row request** ({lat['requests']} requests each, interleaved rounds; the "
               f"prediction log on: {lat['logged_lines']} lines written):"), ""]
    lines += harness.md_table(["server", "p50", "p95"], [
        [n, f"{lat[n]['p50_ms']:.2f} ms", f"{lat[n]['p95_ms']:.2f} ms"]
        for n in ("nbops serve", "mlflow models serve")], "lrr")
    lines += ["", f"p50 ratio nbops / mlflow: **{lat['p50_ratio']:.2f}x** (target <= 1.2x)", ""]
    lines += [(f"**Batch scoring** of {bat['rows']:,} CSV rows (median of {bat['runs']} runs "
               "each, fresh processes, reading and writing the files included; same predictions: "
               f"{bat['same_predictions']}):"), ""]
    lines += harness.md_table(["", "wall", "rows/s", "throughput vs one model.predict"], [
        [n, harness.fmt_s(bat[n]["wall_s"]), f"{bat[n]['rows_per_s']:,.0f}",
         f"{bat[n]['vs_baseline']:.2f}x"]
        for n in ("one model.predict", "nbops score", "nbops score --partitions 2")], "lrrr")
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows of the batch file")
    parser.add_argument("--requests", type=int, default=100, help="requests per round")
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds")
    parser.add_argument("--runs", type=int, default=2, help="batch runs of each command")
    parser.add_argument("--no-doc", action="store_true", help="do not update the doc")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="nbops-deploy-bench-") as tmp:
        root = Path(tmp)
        uri = make_project(root)
        log("model registered")
        result: dict[str, Any] = {"when": harness.now(), "machine": harness.machine()}
        result["latency"] = latency(root, uri, args.requests, args.rounds)
        log(f"latency: {result['latency']}")
        result["batch"] = batch(root, uri, args.rows, args.runs)
        log(f"batch: {result['batch']}")
    harness.write_json(harness.RESULTS / "deploy.json", result)
    text = f"{BEGIN}\n{report(result)}{END}\n"
    print(text)
    if not args.no_doc:
        DOC.write_text(harness.splice(DOC.read_text(encoding="utf-8"), BEGIN, END, text),
                       encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
