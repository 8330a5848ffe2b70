#!/usr/bin/env python3
"""Issue 20: `nbops run` against bare `papermill` on the trivial 3-cell notebook and the wine
example, side by side: wall and CPU (the process and every child it waited for: kernel, recorder
helper), interleaved (the order flips each round), medians of N after one warm-up each.

Usage: python benchmarks/run_overhead.py [--runs 5] [--notebooks trivial,wine]
(the venv's console scripts next to sys.executable; a temp project; MLFLOW_* unset)."""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbtemplates

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def project(root: Path) -> None:
    (root / "pyproject.toml").write_text('[project]\nname = "run-bench"\nversion = "0"\n')
    cells = nbtemplates.load(nbtemplates.NOTEBOOKS / "trivial.md")
    (root / "trivial.ipynb").write_text(nbtemplates.dumps(nbtemplates.notebook("trivial", cells)))
    shutil.copy(REPO / "examples" / "wine_classifier.ipynb", root / "wine.ipynb")


def timed(cmd: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, float]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed:\n{proc.stderr[-2000:]}")
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    return wall, cpu


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--notebooks", default="trivial,wine")
    args = ap.parse_args()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW_", "NBOPS_RUN"))}
    print(f"load at start: {' '.join(open('/proc/loadavg').read().split()[:3])}, "
          f"nproc {os.cpu_count()}")
    with tempfile.TemporaryDirectory(prefix="nbops-overhead-") as tmp:
        root = Path(tmp)
        project(root)
        for name in args.notebooks.split(","):
            nb = f"{name}.ipynb"
            cmds = {"papermill": [str(BIN / "papermill"), nb, str(root / "out.ipynb")],
                    "nbops run": [str(BIN / "nbops"), "run", nb, "--format", "json"]}
            for cmd in cmds.values():
                timed(cmd, root, env)  # warm-up (creates the store)
            walls: dict[str, list[float]] = {k: [] for k in cmds}
            cpus: dict[str, list[float]] = {k: [] for k in cmds}
            loads: list[float] = []
            for i in range(args.runs):
                loads.append(float(Path("/proc/loadavg").read_text().split()[0]))
                for key in (list(cmds) if i % 2 == 0 else list(cmds)[::-1]):
                    wall, cpu = timed(cmds[key], root, env)
                    walls[key].append(wall)
                    cpus[key].append(cpu)
            for key in cmds:
                print(f"{name:8} {key:10} wall median {statistics.median(walls[key]):5.2f} s "
                      f"({', '.join(f'{w:.2f}' for w in walls[key])}); "
                      f"cpu median {statistics.median(cpus[key]):5.2f} s")
            ratio = statistics.median(walls["nbops run"]) / statistics.median(walls["papermill"])
            paired = statistics.median(n / p for n, p in zip(walls["nbops run"], walls["papermill"]))
            print(f"{name:8} ratio (median wall) {ratio:.2f}x; paired, round by round "
                  f"{paired:.2f}x; 1-minute load at each round's start "
                  f"{', '.join(f'{x:.1f}' for x in loads)}")
    print(f"load at end: {' '.join(open('/proc/loadavg').read().split()[:3])}")


if __name__ == "__main__":
    main()
