"""Benchmark scoring one hackathon team (issue 20): the bundled exercise's strong team, scored by
the current code and by the code before the scoring cache and the parallel components, side by
side in one run.

Each variant scores its own copy of ``examples/hackathon`` with ``nbops hackathon score
submissions/strong --team strong`` (the CLI, so the scoring process, the kernels and the
subprocesses are all counted), its nbops put first on ``PYTHONPATH`` (every process of the
scoring inherits it). The older code is a copy of today's ``src/`` with the scoring's own files
(:data:`SCORING`) as they are at ``--base`` (default: the commit before the one that added
``src/nbops/hackathon/cache.py``; ``HEAD`` while it is not committed) and without the cache
module, so the two differ in the scoring alone (everything it calls, verify, run, lint, is the
same code). One untimed scoring per copy first (it creates the scorer's MLflow store and warms
the file cache), then, rounds interleaving the variants:

* cold: nothing of the team scored before (the current code's ``.nbops/hackathon/cache/``
  deleted first), what a first "Score now" or an edited submission costs;
* unchanged: scored again with nothing changed (the older code has no cache: a full scoring).

Prints a markdown table (medians and every run); docs/hackathon.md has the figures.

Usage: ``python benchmarks/hackathon_bench.py [--runs 3] [--base REF]``
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BUNDLED = ROOT / "examples" / "hackathon"
SCORING = ("src/nbops/hackathon/score.py", "src/nbops/cli/hackathon_commands.py", "src/nbops/modularize/verify.py")


def git(*args: str) -> str:
    return subprocess.run(["git", "-C", str(ROOT), *args], capture_output=True, text=True,
                          check=True).stdout.strip()


def default_base() -> str:
    added = git("log", "--diff-filter=A", "--format=%H", "--", "src/nbops/hackathon/cache.py").split()
    return f"{added[-1]}~1" if added else "HEAD"


def score(exercise: Path, src: Path) -> tuple[float, dict]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW_", "NBOPS_RUN", "JUPYTER_TOKEN"))}
    env["PYTHONPATH"] = os.pathsep.join([str(src), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    argv = [sys.executable, "-m", "nbops", "hackathon", "score", "submissions/strong", "--team", "strong",
            "--format", "json", "--no-save", "--progress", "none"]
    start = time.perf_counter()
    proc = subprocess.run(argv, cwd=exercise, env=env, capture_output=True, text=True, timeout=1800, check=False)
    secs = time.perf_counter() - start
    if proc.returncode not in (0, 1):
        sys.exit(f"{src}: nbops hackathon score exited {proc.returncode}:\n{proc.stderr[-3000:]}")
    card = json.loads(proc.stdout)
    return secs, card


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--base", default=None, help="the older code's commit (default: before the cache)")
    args = parser.parse_args()
    base = args.base or default_base()
    commit = git("rev-parse", "--short", base)
    with tempfile.TemporaryDirectory(prefix="nbops-hack-bench-") as tmp:
        tree = Path(tmp) / "base"
        shutil.copytree(ROOT / "src", tree / "src", ignore=shutil.ignore_patterns("__pycache__", "labextension"))
        (tree / "src" / "nbops" / "hackathon" / "cache.py").unlink(missing_ok=True)
        for rel in SCORING:
            (tree / rel).write_text(git("show", f"{base}:{rel}") + "\n")
        variants = {f"before ({commit})": tree / "src", "now": ROOT / "src"}
        copies = {}
        for n, (name, src) in enumerate(variants.items()):
            copy = Path(tmp) / f"exercise{n}"
            shutil.copytree(BUNDLED, copy, ignore=shutil.ignore_patterns(".nbops", "__pycache__", "leaderboard.html"))
            copies[name] = copy
            _, card = score(copy, src)  # untimed: the store, the file cache
            print(f"{name}: warm-up total {card['total']}", file=sys.stderr)
        times: dict[tuple[str, str], list[float]] = {}
        for run in range(args.runs):
            for name, src in variants.items():
                shutil.rmtree(copies[name] / ".nbops" / "hackathon" / "cache", ignore_errors=True)
                for what in ("cold", "unchanged"):
                    secs, card = score(copies[name], src)
                    cached = all(c.get("cached") for c in card["components"])
                    times.setdefault((name, what), []).append(secs)
                    print(f"run {run + 1} {name} {what}: {secs:.2f} s total {card['total']} "
                          f"(every component cached: {cached})", file=sys.stderr)
    load = os.getloadavg()
    print(f"\n{len(os.sched_getaffinity(0))} cores, load {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} "
          f"(1 / 5 / 15 min) at the end; medians of {args.runs}\n")
    print("| scoring the strong team | before | now | now / before |")
    print("|---|---|---|---|")
    names = list(variants)
    for what in ("cold", "unchanged"):
        old, new = (statistics.median(times[(n, what)]) for n in names)
        runs = " / ".join(f"{t:.1f}" for t in times[(names[1], what)])
        print(f"| {what} | {old:.1f} s | {new:.2f} s ({runs}) | {new / old:.2f}x |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
