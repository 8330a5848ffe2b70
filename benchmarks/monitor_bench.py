#!/usr/bin/env python
"""The health check at scale (issue 19): ``nbops.deploy.monitor.check`` on ROWS x 50 features.

A temporary project gets a model trained on 20,000 rows of 45 numeric and 5 text features
(a standardized logistic regression behind a one-hot encoder), logged with its reference data
by ``nbops.log_model`` and registered by nbops' own promote. The current data, Parquet, is
generated in slices (the generator never holds the whole file), half of the numeric features
shifted. Each size is checked in a fresh process that loads the model, then runs the check
(the reference read, every chunk counted, checked against the signature and predicted); its
wall and CPU time and the process's peak RSS are printed (the CPU time is what a busy machine
changes least). Memory must not grow with the rows.

    .venv/bin/python benchmarks/monitor_bench.py                  # 250,000 and 1,000,000 rows
    .venv/bin/python benchmarks/monitor_bench.py --sizes 100000   # a quick look
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

NUMBERS = [f"x{i}" for i in range(45)]
TEXTS = [f"c{i}" for i in range(5)]
LEVELS = ["red", "white", "rose", "orange", "sparkling"]
SLICE = 100_000


def _frame(rows: int, seed: int, shift: bool) -> Any:
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    data = {name: rng.normal(0, 1, rows) + (0.5 if shift and i % 2 else 0.0)
            for i, name in enumerate(NUMBERS)}
    for name in TEXTS:
        data[name] = rng.choice(LEVELS, rows, p=[0.4, 0.3, 0.15, 0.1, 0.05])
    return pd.DataFrame(data)


def _project(root: Path) -> None:
    from sklearn.compose import make_column_transformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    from nbops import tracking_api
    from nbops.run.tracking import MlflowTracker, default_tracking_uri

    (root / "pyproject.toml").write_text('[project]\nname = "bench"\n', encoding="utf-8")
    train = _frame(20_000, 0, False)
    target = (train["x0"] + train["x1"] > 0).astype(int)
    model = make_pipeline(
        make_column_transformer((StandardScaler(), NUMBERS), (OneHotEncoder(), TEXTS)),
        LogisticRegression(max_iter=200),
    ).fit(train, target)
    os.environ.pop("MLFLOW_TRACKING_URI", None)
    tracker = MlflowTracker(default_tracking_uri(root))
    run_id = tracker.start_run("bench", "bench", {}, {})
    os.environ.update(tracker.kernel_env(run_id))
    tracking_api.log_model(model, train, pip_requirements=["scikit-learn"])
    tracker.end_run(run_id, "FINISHED")
    for key in tracker.kernel_env(run_id):
        os.environ.pop(key, None)
    tracker.promote(run_id, "bench")


def _data(path: Path, rows: int) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    writer = None
    for start in range(0, rows, SLICE):
        table = pa.Table.from_pandas(_frame(min(SLICE, rows - start), start + 1, True),
                                     preserve_index=False)
        writer = writer or pq.ParquetWriter(path, table.schema)
        writer.write_table(table)
    assert writer is not None
    writer.close()


def _child(root: Path, data: Path) -> None:
    """In a fresh process: load the model, then time the check."""
    from nbops.deploy import models
    from nbops.deploy.health import DEFAULTS
    from nbops.deploy.monitor import check
    from nbops.run.tracking import default_tracking_uri

    os.chdir(root)
    started = time.perf_counter()
    loaded = models.load(models.resolve(models.parse_spec("bench"), default_tracking_uri(root)))
    loaded_at = time.perf_counter()
    cpu = time.process_time()
    report, verdict = check(loaded, data, triggers=DEFAULTS)
    done = time.perf_counter()
    cpu = time.process_time() - cpu
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"rows": report["rows"], "load_s": loaded_at - started,
                      "check_s": done - loaded_at, "cpu_s": cpu, "peak_rss_mib": peak,
                      "verdict": verdict.level, "drifted": len(verdict.drifted)}))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[250_000, 1_000_000])
    parser.add_argument("--child", nargs=2, metavar=("ROOT", "DATA"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(Path(args.child[0]), Path(args.child[1]))
        return 0
    print(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}, "
          f"{os.cpu_count()} cores", flush=True)
    with tempfile.TemporaryDirectory(prefix="nbops-monitor-bench-") as tmp:
        root = Path(tmp)
        _project(root)
        for rows in args.sizes:
            data = root / f"current-{rows}.parquet"
            _data(data, rows)
            out = subprocess.run([sys.executable, __file__, "--child", str(root), str(data)],
                                 capture_output=True, text=True, check=True)
            result = json.loads(out.stdout.strip().splitlines()[-1])
            print(f"{rows:>9,} rows x 50 features: check {result['check_s']:.2f} s "
                  f"(CPU {result['cpu_s']:.2f} s; model load {result['load_s']:.2f} s), peak RSS "
                  f"{result['peak_rss_mib']:.0f} MiB, {result['verdict']} "
                  f"({result['drifted']} drifted)", flush=True)
            data.unlink()
    return 0


if __name__ == "__main__":
    sys.exit(main())
