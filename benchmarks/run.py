#!/usr/bin/env python3
"""Benchmark nbops against ruff, black, nbqa and pynblint on the same corpus.

Every measurement runs in a fresh wrapper subprocess (``harness.run_measured``)
that starts the command(s), samples the RSS of the whole process tree, and
reads ``getrusage(RUSAGE_CHILDREN)`` when they end.  Each command gets
``--warmup`` untimed runs, then ``--runs`` timed runs; min and median wall
time are reported, and the peak RSS of the median run's neighbourhood (the
median over runs of each run's peak).

Writes docs/benchmarks.md and benchmarks/results/latest.json.  Results of the
part not measured in this run (``--only``) are kept from the previous
latest.json, so baselines and nbops can be measured at different times.

Usage
  python benchmarks/run.py                     # everything
  python benchmarks/run.py --only baselines    # ruff / black / nbqa / pynblint
  python benchmarks/run.py --only nbops --runs 5
  python benchmarks/run.py --only issue16      # issue 16's lines only, interleaved, CPU + wall
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import harness
from harness import fmt_s, now

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
RESULTS_DIR = HERE / "results"
LATEST = RESULTS_DIR / "latest.json"
ISSUE16_JSON = RESULTS_DIR / "issue16.json"
DOC = REPO / "docs" / "benchmarks.md"
DEFAULT_CORPUS = HERE / "corpus"
TOOLS_BIN = HERE / ".venv-tools" / "bin"
PYNBLINT_BIN = HERE / ".venv-pynblint" / "bin"
DEFAULT_NBOPS_PYTHON = Path(os.environ.get("NBOPS_PYTHON", sys.executable))

# nbops command lines, in one place: edit here if the CLI changes.
# {nbops} is the nbops executable (or --nbops-cmd), {corpus} the folder,
# {cache} a cache directory made for the measurement.
NBOPS_CMDS = {
    "nbops_no_format": "{nbops} lint --no-format --no-cache {corpus}",
    "nbops_full_nocache": "{nbops} lint --no-cache {corpus}",
    "nbops_cold_cache": "{nbops} lint --cache-dir {cache} {corpus}",
    "nbops_warm_cache": "{nbops} lint --cache-dir {cache} {corpus}",
    "nbops_memory": "{nbops} lint --no-cache {corpus}",
}
# In-process, one warm Linter: (1) the same unchanged file linted again and
# again, as the brief says; (2) the same notebook with one code cell edited
# before each call (a different comment line), i.e. what an editor or a
# pre-commit hook in a long-lived process sees; a per-file result cache cannot
# answer it.
INPROC_SNIPPET = r"""
import json, os, sys, tempfile, time
from nbops.lint import Linter
path, warmup, reps = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
linter = Linter()
first = None
for i in range(warmup):
    t = time.perf_counter(); linter.lint_file(path)
    if first is None: first = time.perf_counter() - t
same = []
for _ in range(reps):
    t = time.perf_counter(); linter.lint_file(path); same.append(time.perf_counter() - t)
nb = json.load(open(path, encoding="utf-8"))
codes = [c for c in nb["cells"] if c.get("cell_type") == "code"]
cell = codes[len(codes) // 2]
orig = cell["source"] if isinstance(cell["source"], str) else "".join(cell["source"])
d = tempfile.mkdtemp()
edited = []
for i in range(warmup + reps):
    cell["source"] = orig + f"\n# edit {i}"
    p = os.path.join(d, f"edited-{i}.ipynb")
    with open(p, "w", encoding="utf-8") as f:
        json.dump(nb, f, indent=1)
    t = time.perf_counter(); linter.lint_file(p); dt = time.perf_counter() - t
    if i >= warmup: edited.append(dt)
import shutil; shutil.rmtree(d, ignore_errors=True)
print(json.dumps({"times": same, "first": first, "edited": edited}))
"""

# exit codes that mean "ran to the end" (1 = findings; 123 = black / nbqa: some
# files could not be parsed, the rest were checked)
ACCEPT = {
    "ruff": {0, 1},
    "black": {0, 1, 123},
    "nbqa": {0, 1, 123},
    "pynblint": {0, 1},
    "nbops": {0, 1, 2},
}
# nbops exits 2 for "a usage or input error"; the corpus has unreadable notebooks,
# so 2 is accepted only when the output shows the run went through the folder
# (its closing summary line); a usage error also exits 2 but prints no summary.
NBOPS_EXIT2_OK = re.compile(
    r"\bin \d+ of \d+ notebook|\bnotebook\(s\)|\d+ notebooks? (checked|linted)"
)


log = harness.logger("bench")
sh = harness.sh


def fmt_mb(kb: float | None) -> str:
    return "–" if kb is None else f"{kb / 1024:.0f} MB"


class Bench:
    def __init__(self, args: argparse.Namespace):
        self.args = args
        self.corpus: Path = args.corpus.resolve()
        self.results: dict[str, dict] = {}
        self.skipped: dict[str, str] = {}
        self.work = Path(tempfile.mkdtemp(prefix="nbops-bench-"))
        RESULTS_DIR.mkdir(parents=True, exist_ok=True)
        self.logdir = RESULTS_DIR / "logs"
        self.logdir.mkdir(exist_ok=True)

    # -- one measured command (or loop of commands) --
    def measure(
        self,
        name: str,
        cmds: list[list[str]],
        *,
        label: str,
        group: str,
        tool: str,
        cwd: Path | None = None,
        runs: int | None = None,
        warmup: int | None = None,
        before_each: Callable[[], None] | None = None,
        env: dict | None = None,
        note: str = "",
        extra: dict | None = None,
    ) -> dict:
        runs = runs if runs is not None else self.args.runs
        warmup = warmup if warmup is not None else self.args.warmup
        logf = self.logdir / f"{name}.log"
        samples = []
        for i in range(warmup + runs):
            logf.write_bytes(b"")  # keeps the output of the last run
            if before_each:
                before_each()
            m = harness.run_measured(
                cmds, cwd=cwd or HERE, stdout=logf, timeout=self.args.timeout,
                env=env, sample_ms=self.args.sample_ms,
            )
            m["ok"] = not m["timed_out"] and all(rc in ACCEPT[tool] for rc in m["rcs"])
            if tool == "nbops" and 2 in m["rcs"]:
                with open(logf, "rb") as f:
                    f.seek(max(0, logf.stat().st_size - 4096))
                    m["ok"] = m["ok"] and bool(
                        NBOPS_EXIT2_OK.search(f.read().decode("utf-8", "replace"))
                    )
            tag = "warm-up" if i < warmup else f"run {i - warmup + 1}/{runs}"
            log(
                f"  {name} {tag}: {fmt_s(m['wall'])}, peak {fmt_mb(m['peak_kb'])}, exit {sorted(set(m['rcs']))}"
            )
            if i >= warmup:
                samples.append(m)
        walls = [s["wall"] for s in samples]
        rcs = sorted({rc for s in samples for rc in s["rcs"]})
        ok = all(s["ok"] for s in samples)
        shown = " ".join(shlex.quote(c) for c in cmds[0]).replace(str(self.work), "$TMP")
        shown = shown.replace(str(TOOLS_BIN) + "/", "").replace(str(PYNBLINT_BIN) + "/", "")
        res = {
            "label": label,
            "group": group,
            "tool": tool,
            "cmd": shown + (f"  (x{len(cmds)} calls)" if len(cmds) > 1 else ""),
            "runs": samples,
            "wall_min": min(walls),
            "wall_median": statistics.median(walls),
            "peak_kb": statistics.median(s["peak_kb"] for s in samples),
            "maxrss_kb": statistics.median(s["maxrss_kb"] for s in samples),
            "exit_codes": rcs,
            "ok": ok,
            "note": note,
            "measured_at": now(),
            "corpus_fingerprint": self.fingerprint,
            "log": str(logf.relative_to(HERE)),
        }
        if not ok:
            res["note"] = (
                note + "; " if note else ""
            ) + f"unexpected exit code(s) {rcs} or timeout: see {res['log']}"
        elif tool == "nbops" and 2 in rcs:
            res["note"] = (
                note + "; " if note else ""
            ) + "exit 2: nbops reports the corpus' unreadable notebooks as input errors"
        if extra:
            res.update(extra)
        self.results[name] = res
        return res

    # -- corpus --
    def ensure_corpus(self, path: Path, count: int, inputs: str | None = None) -> dict:
        """Build the corpus at path unless it is there with this count (and, for
        the sweep corpora, built from the same inputs as the main corpus)."""
        man = path / "_manifest.json"
        have = json.loads(man.read_text())["summary"] if man.exists() else {}
        if have.get("count") != count or (inputs and have.get("inputs_fingerprint") != inputs):
            log(f"building corpus of {count} at {path}")
            subprocess.run(
                [
                    sys.executable,
                    str(HERE / "make_corpus.py"),
                    "--count",
                    str(count),
                    "--out",
                    str(path),
                    "--quiet",
                ],
                check=True,
            )
        got = json.loads(man.read_text())
        if inputs and got["summary"].get("inputs_fingerprint") != inputs:
            log(
                f"WARNING: {path} and the main corpus come from different inputs (examples/ or "
                "make_corpus.py changed since the main corpus was built?): rebuild it with "
                "`python benchmarks/make_corpus.py` so the memory sweep grows the same folder"
            )
        return got

    def notebooks(self) -> list[Path]:
        return sorted(self.corpus.rglob("*.ipynb"))

    def rel(self, p: Path) -> str:
        try:
            return str(p.relative_to(HERE))
        except ValueError:
            return str(p)

    # ----------------------------------------------------------------------
    def ensure_baseline_venvs(self) -> None:
        if not (TOOLS_BIN / "ruff").exists() or not (PYNBLINT_BIN / "pynblint").exists():
            log("baseline venvs missing: running setup_baselines.sh")
            subprocess.run(["bash", str(HERE / "setup_baselines.sh")], check=True)

    def run_ruff(self) -> None:
        """Bare ruff, the yardstick of targets (a) and (c); also re-measured by
        --only nbops so those ratios compare numbers taken minutes apart, not
        sessions apart (wall times on a shared VM drift by 2x between sessions)."""
        T = TOOLS_BIN
        c = self.rel(self.corpus)
        g = "baselines"
        self.measure(
            "ruff_nocache",
            [[str(T / "ruff"), "check", "--no-cache", c]],
            label="`ruff check --no-cache`",
            group=g,
            tool="ruff",
        )
        cache = self.work / "ruff-cache"
        shutil.rmtree(cache, ignore_errors=True)
        subprocess.run(
            [str(T / "ruff"), "check", "--cache-dir", str(cache), c],
            cwd=HERE,
            capture_output=True,
            check=False,
        )  # populate
        self.measure(
            "ruff_warm",
            [[str(T / "ruff"), "check", "--cache-dir", str(cache), c]],
            label="`ruff check` (warm cache)",
            group=g,
            tool="ruff",
        )

    def run_baselines(self) -> None:
        self.ensure_baseline_venvs()
        T = TOOLS_BIN
        c = self.rel(self.corpus)
        env = {"PATH": f"{T}{os.pathsep}{os.environ.get('PATH', '')}"}
        g = "baselines"
        self.run_ruff()
        self.measure(
            "black_check",
            [[str(T / "black"), "--check", c]],
            label="`black --check`",
            group=g,
            tool="black",
            note="black runs one worker per core",
        )
        self.measure(
            "nbqa_ruff",
            [[str(T / "nbqa"), "ruff", c]],
            label="`nbqa ruff`",
            group=g,
            tool="nbqa",
            env=env,
        )
        self.measure(
            "nbqa_black",
            [[str(T / "nbqa"), "black", "--check", c]],
            label="`nbqa black --check`",
            group=g,
            tool="nbqa",
            env=env,
        )
        # pynblint: one notebook per call
        nbs = self.notebooks()
        k = self.args.pynblint_sample
        if k and k < len(nbs):
            chosen = sorted(random.Random(self.args.seed).sample(nbs, k))
            note = (
                f"SAMPLED: {k} of {len(nbs)} notebooks (random, seed {self.args.seed}) timed; "
                f"wall time extrapolated x{len(nbs) / k:.2f} to the whole corpus"
            )
        else:
            chosen, note = nbs, "every notebook, one pynblint call each"
        cmds = [[str(PYNBLINT_BIN / "pynblint"), "-y", self.rel(p)] for p in chosen]
        r = self.measure(
            "pynblint",
            cmds,
            label="`pynblint` (one call per notebook)",
            group=g,
            tool="pynblint",
            warmup=0,
            note=note,
            extra={"sampled": len(chosen), "total": len(nbs)},
        )
        r["cmd"] = f"pynblint -y NOTEBOOK  (x{len(cmds)} calls)"
        crashed = max(sum(rc != 0 for rc in run["rcs"]) for run in r["runs"])
        if crashed:
            r["note"] += (
                f"; {crashed} of {len(cmds)} calls exit 1 with a traceback (pynblint crashes on "
                "unreadable / schema-invalid notebooks; it exits 0 when it reports findings)"
            )
        if len(chosen) < len(nbs):
            f = len(nbs) / len(chosen)
            r["measured_wall_min"], r["measured_wall_median"] = r["wall_min"], r["wall_median"]
            r["wall_min"] *= f
            r["wall_median"] *= f
            r["extrapolated"] = True
        # memory reference: ruff on the bigger corpora
        if not self.args.no_memory_sweep:
            for n in (600, 1200):
                p = self.corpus if n == self.corpus_count else HERE / ".cache" / f"corpus-{n}"
                self.ensure_corpus(p, n, self.corpus_summary.get("inputs_fingerprint"))
                self.measure(
                    f"ruff_memory_{n}",
                    [[str(T / "ruff"), "check", "--no-cache", self.rel(p)]],
                    label=f"`ruff check --no-cache` on {n} notebooks",
                    group="memory-baseline",
                    tool="ruff",
                    extra={"corpus_count": n},
                )

    # ----------------------------------------------------------------------
    def nbops_available(self) -> tuple[list[str] | None, bool, str]:
        """(cli prefix or None, Linter importable, reason)."""
        py = self.args.nbops_python
        if not Path(py).exists():
            return None, False, f"nbops python {py} does not exist"
        r = subprocess.run(
            [str(py), "-c", "import nbops"], capture_output=True, text=True, check=False
        )
        if r.returncode != 0:
            return None, False, "`import nbops` fails: " + r.stderr.strip().splitlines()[-1]
        cli: list[str] | None = None
        why = []
        if self.args.nbops_cmd:
            cli = shlex.split(self.args.nbops_cmd)
        else:
            r = subprocess.run(
                [str(py), "-c", "import nbops.cli.main as m; m.main"],
                capture_output=True,
                text=True,
                check=False,
            )
            if r.returncode == 0:
                exe = Path(py).parent / "nbops"
                cli = (
                    [str(exe)]
                    if exe.exists()
                    else [
                        str(py),
                        "-c",
                        "import sys; from nbops.cli.main import main; sys.exit(main())",
                    ]
                )
            else:
                why.append(
                    "CLI not importable (`nbops.cli.main.main`): "
                    + (r.stderr.strip().splitlines() or ["?"])[-1]
                )
        r = subprocess.run(
            [str(py), "-c", "from nbops.lint import Linter; Linter().lint_file"],
            capture_output=True,
            text=True,
            check=False,
        )
        linter_ok = r.returncode == 0
        if not linter_ok:
            why.append(
                "`from nbops.lint import Linter; Linter().lint_file` fails: "
                + (r.stderr.strip().splitlines() or ["?"])[-1]
            )
        return cli, linter_ok, "; ".join(why)

    def run_nbops(self) -> None:
        cli, linter_ok, why = self.nbops_available()
        g = "nbops"
        c = self.rel(self.corpus)
        names = [
            "nbops_no_format",
            "nbops_full_nocache",
            "nbops_cold_cache",
            "nbops_warm_cache",
            "nbops_single_100",
            "nbops_memory_300",
            "nbops_memory_600",
            "nbops_memory_1200",
        ]
        for n in names:
            self.results.pop(n, None)
        if cli is None:
            for n in names:
                if n != "nbops_single_100" or not linter_ok:
                    self.skipped[n] = "nbops not available: " + why

        def cmd(key: str, corpus: str = c, cache: Path | None = None) -> list[list[str]]:
            assert cli is not None
            parts = NBOPS_CMDS[key].split()
            out: list[str] = []
            for p in parts:
                if p == "{nbops}":
                    out += cli
                else:
                    out.append(p.format(corpus=corpus, cache=str(cache) if cache else ""))
            return [out]

        if cli is not None:
            self.measure(
                "nbops_no_format",
                cmd("nbops_no_format"),
                label="`nbops lint --no-format --no-cache`",
                group=g,
                tool="nbops",
            )
            self.measure(
                "nbops_full_nocache",
                cmd("nbops_full_nocache"),
                label="`nbops lint --no-cache` (full, cold)",
                group=g,
                tool="nbops",
            )
            cold = self.work / "nbops-cache-cold"
            self.measure(
                "nbops_cold_cache",
                cmd("nbops_cold_cache", cache=cold),
                label="`nbops lint` (fresh `--cache-dir`, filling it)",
                group=g,
                tool="nbops",
                before_each=lambda: shutil.rmtree(cold, ignore_errors=True),
            )
            warm = self.work / "nbops-cache-warm"
            shutil.rmtree(warm, ignore_errors=True)
            subprocess.run(
                cmd("nbops_warm_cache", cache=warm)[0], cwd=HERE, capture_output=True, check=False
            )  # populate
            self.measure(
                "nbops_warm_cache",
                cmd("nbops_warm_cache", cache=warm),
                label="`nbops lint` (warm re-lint, unchanged folder)",
                group=g,
                tool="nbops",
            )
        if not linter_ok:
            self.skipped["nbops_single_100"] = "nbops Linter not available: " + why
        if linter_ok:
            nb = self.single_100()
            reps, warmup = self.args.inproc_reps, self.args.inproc_warmup
            r = subprocess.run(
                [
                    str(self.args.nbops_python),
                    "-c",
                    INPROC_SNIPPET,
                    str(nb),
                    str(warmup),
                    str(reps),
                ],
                capture_output=True,
                text=True,
                cwd=HERE,
                timeout=self.args.timeout,
                check=False,
            )
            if r.returncode == 0:
                d = json.loads(r.stdout.strip().splitlines()[-1])
                ts = d["edited"]
                self.results["nbops_single_100"] = {
                    "label": "100-cell notebook, warm, in-process, one cell edited before each call",
                    "group": g,
                    "tool": "nbops",
                    "cmd": f"Linter().lint_file({self.rel(nb)!r}) x{reps} after {warmup} warm-up calls",
                    "same_file_median": statistics.median(d["times"]),
                    "same_file_times": d["times"],
                    "wall_min": min(ts),
                    "wall_median": statistics.median(ts),
                    "first_call": d["first"],
                    "times": ts,
                    "ok": True,
                    "exit_codes": [0],
                    "note": "",
                    "measured_at": now(),
                    "corpus_fingerprint": self.fingerprint,
                    "peak_kb": None,
                }
                log(
                    f"  nbops_single_100: median {fmt_s(statistics.median(ts))} (edited each call), "
                    f"{fmt_s(statistics.median(d['times']))} (same file), first call {fmt_s(d['first'])}"
                )
            else:
                self.skipped["nbops_single_100"] = (
                    "in-process lint failed: " + r.stderr.strip()[-500:]
                )
                log("  nbops_single_100 FAILED: " + r.stderr.strip()[-500:])
        if cli is not None and not self.args.no_memory_sweep:
            for n in (300, 600, 1200):
                p = self.corpus if n == self.corpus_count else HERE / ".cache" / f"corpus-{n}"
                self.ensure_corpus(p, n, self.corpus_summary.get("inputs_fingerprint"))
                self.measure(
                    f"nbops_memory_{n}",
                    cmd("nbops_memory", corpus=self.rel(p)),
                    label=f"`nbops lint --no-cache` on {n} notebooks",
                    group="memory",
                    tool="nbops",
                    extra={"corpus_count": n},
                )

    # -- issue 16: the format check at ruff's speed, --no-format near bare ruff --
    ISSUE16 = (
        # key, label, commands ({nbops}, {tools} and the corpus filled in)
        ("ruff", "`ruff check --no-cache`", [["{tools}/ruff", "check", "--no-cache", "{c}"]]),
        ("nbops_no_format", "`nbops lint --no-format --no-cache`",
         [["{nbops}", "lint", "--no-format", "--no-cache", "{c}"]]),
        ("nbops_ruff", "`nbops lint --no-cache --format-with ruff` (the default formatter)",
         [["{nbops}", "lint", "--no-cache", "--format-with", "ruff", "{c}"]]),
        ("nbops_black", "`nbops lint --no-cache --format-with black`",
         [["{nbops}", "lint", "--no-cache", "--format-with", "black", "{c}"]]),
        ("nbqa", "`nbqa ruff` + `nbqa black --check`",
         [["{tools}/nbqa", "ruff", "{c}"], ["{tools}/nbqa", "black", "--check", "{c}"]]),
        ("floor", "Python floor: `json` + `ast.parse` of every code cell, no rule (floor.py)",
         [["{python}", "floor.py", "{c}"]]),
    )

    def run_issue16(self) -> dict:
        """Every line of issue 16 measured in one session, interleaved run by run (so load on
        the shared machine falls on all of them alike): wall and CPU (user + sys of the
        whole process tree) of each, medians over ``--runs``."""
        self.ensure_baseline_venvs()
        cli, _, why = self.nbops_available()
        if cli is None:
            raise SystemExit(f"nbops is not runnable: {why}")
        c = str(self.corpus)
        fill = {"{tools}": str(TOOLS_BIN), "{c}": c, "{python}": str(self.args.nbops_python)}

        def cmd(parts: list[str]) -> list[str]:
            out: list[str] = []
            for part in parts:
                if part == "{nbops}":
                    out += cli
                    continue
                for k, v in fill.items():
                    part = part.replace(k, v)
                out.append(part)
            return out

        runs: dict[str, list[dict]] = {k: [] for k, _, _ in self.ISSUE16}
        for i in range(self.args.warmup + self.args.runs):
            for key, _, cmds in self.ISSUE16:
                logf = self.logdir / f"issue16-{key}.log"
                logf.write_bytes(b"")
                m = harness.run_measured(
                    [cmd(x) for x in cmds], cwd=HERE, stdout=logf, timeout=self.args.timeout,
                    sample_ms=0,
                )
                tool = "nbops" if key.startswith("nbops") else "ruff" if key == "floor" else key
                if m["timed_out"] or not all(rc in ACCEPT[tool] for rc in m["rcs"]):
                    raise SystemExit(f"{key}: exit {m['rcs']} (see {logf})")
                log(f"  issue16 {key} {'warm-up' if i < self.args.warmup else 'run'}: "
                    f"{fmt_s(m['wall'])} wall, {fmt_s(m['user'] + m['sys'])} CPU")
                if i >= self.args.warmup:
                    runs[key].append(m)
        out: dict = {"measured_at": now(), "runs": self.args.runs, "corpus": self.rel(self.corpus),
                     "notebooks": len(self.notebooks()), "machine": self.machine(), "rows": {},
                     "code_cells": self.code_cells()}
        for key, label, cmds in self.ISSUE16:
            shown = " + ".join(" ".join(x) for x in cmds).replace("{tools}/", "")
            shown = shown.replace("{python}", "python")
            out["rows"][key] = {
                "label": label,
                "cmd": shown.replace("{nbops}", "nbops").replace("{c}", self.rel(self.corpus)),
                "wall": statistics.median(m["wall"] for m in runs[key]),
                "cpu": statistics.median(m["user"] + m["sys"] for m in runs[key]),
            }
        return out

    def code_cells(self) -> int:
        """Code cells in the corpus's readable notebooks."""
        n = 0
        for p in self.notebooks():
            try:
                nb = json.loads(p.read_text(encoding="utf-8"))
            except (ValueError, UnicodeDecodeError):
                continue
            cells = nb.get("cells") if isinstance(nb, dict) else None
            n += sum(isinstance(c, dict) and c.get("cell_type") == "code" for c in cells or [])
        return n

    def single_100(self) -> Path:
        """Exactly 100 cells: the first readable large corpus notebook, cut to 100."""
        for p in sorted((self.corpus / "large").glob("*.ipynb")):
            try:
                nb = json.loads(p.read_text(encoding="utf-8"))
            except (ValueError, UnicodeDecodeError):
                continue
            cells = nb.get("cells") or []
            if len(cells) >= 100 and sum(c.get("cell_type") == "code" for c in cells[:100]) >= 50:
                nb["cells"] = cells[:100]
                out = RESULTS_DIR / "single-100cells.ipynb"
                out.write_text(
                    json.dumps(nb, indent=1, ensure_ascii=False) + "\n", encoding="utf-8"
                )
                self.single_source = self.rel(p)
                return out
        raise RuntimeError("no notebook with >= 100 cells in the corpus")

    # ----------------------------------------------------------------------
    def machine(self) -> dict:
        T = TOOLS_BIN
        git = harness.git_rev()
        return harness.machine(tools={
            "ruff": sh([str(T / "ruff"), "--version"]),
            "black": sh([str(T / "black"), "--version"]).splitlines()[0] if (T / "black").exists() else "?",
            "nbqa": sh([str(T / "nbqa"), "--version"]),
            "pynblint venv": harness.versions(PYNBLINT_BIN / "python", ["pynblint", "click", "typer", "nbformat"]),
            "tools venv python": sh([str(T / "python"), "--version"]),
            "nbops": f"{harness.versions(self.args.nbops_python, ['nbops'])} (python {self.args.nbops_python}; "
            f"git {git if 'fatal' not in git else 'no commit yet'})",
        })

    def go(self) -> int:
        man = self.ensure_corpus(self.corpus, self.args.count)
        self.corpus_summary = man["summary"]
        self.corpus_count = man["summary"]["count"]
        self.fingerprint = man["summary"]["fingerprint"]
        previous: dict = {}
        if LATEST.exists():
            try:
                previous = json.loads(LATEST.read_text())
            except ValueError:
                previous = {}
        only = self.args.only
        if only == "issue16":
            harness.write_json(ISSUE16_JSON, self.run_issue16())
            splice_issue16(DOC)
            log(f"wrote {ISSUE16_JSON.relative_to(REPO)} and its section of {DOC.relative_to(REPO)}")
            shutil.rmtree(self.work, ignore_errors=True)
            return 0
        if only in ("all", "baselines"):
            self.run_baselines()
        if only == "nbops":
            self.ensure_baseline_venvs()
            log("re-measuring bare ruff as the same-session yardstick for targets (a) and (c)")
            self.run_ruff()
        if only in ("all", "nbops"):
            self.run_nbops()
        # keep what this run did not measure
        merged = dict(previous.get("results", {})) if only != "all" else {}
        for k in list(merged):
            g = merged[k].get("group", "")
            if (only == "baselines" and g.startswith(("baselines", "memory-baseline"))) or (
                only == "nbops" and g in ("nbops", "memory")
            ):
                merged.pop(k)
        merged.update(self.results)
        skipped = {**(previous.get("skipped", {}) if only != "all" else {}), **self.skipped}
        for k in self.results:
            skipped.pop(k, None)
        if only == "baselines":
            pass  # keep nbops' skip notes from before
        data = {
            "generated": now(),
            "machine": self.machine(),
            "corpus": self.corpus_summary,
            "corpus_path": self.rel(self.corpus),
            "config": {
                "runs": self.args.runs,
                "warmup": self.args.warmup,
                "pynblint_sample": self.args.pynblint_sample,
                "seed": self.args.seed,
                "sample_ms": self.args.sample_ms,
                "only": only,
                "single_100_source": getattr(
                    self, "single_source", previous.get("config", {}).get("single_100_source")
                ),
            },
            "results": merged,
            "skipped": skipped,
        }
        data["targets"] = targets(data)
        harness.write_json(LATEST, data)
        DOC.parent.mkdir(parents=True, exist_ok=True)
        DOC.write_text(render(data))
        log(f"wrote {DOC.relative_to(REPO)} and {LATEST.relative_to(REPO)}")
        shutil.rmtree(self.work, ignore_errors=True)
        return 0


# --------------------------------------------------------------------------
# targets and report
# --------------------------------------------------------------------------
def targets(d: dict) -> list[dict]:
    R = d["results"]
    fp = d["corpus"]["fingerprint"]

    def w(name: str) -> float | None:
        r = R.get(name)
        return r["wall_median"] if r and r.get("ok") else None

    def stale(*names: str) -> str:
        bad = [n for n in names if n in R and R[n].get("corpus_fingerprint") != fp]
        return f" (WARNING: {', '.join(bad)} measured on another corpus)" if bad else ""

    out = []

    def add(key: str, goal: str, value: str, passed: bool | None, names: tuple) -> None:
        out.append(
            {
                "key": key,
                "goal": goal,
                "value": value + stale(*names),
                "status": "not measured" if passed is None else ("PASS" if passed else "FAIL"),
            }
        )

    ruff, nf = w("ruff_nocache"), w("nbops_no_format")
    add(
        "a",
        "`nbops lint --no-format` <= 2x bare `ruff check`",
        (
            f"{nf / ruff:.2f}x ({fmt_s(nf)} vs {fmt_s(ruff)})"
            if ruff and nf
            else (f"– (needs <= {fmt_s(2 * ruff)})" if ruff else "–")
        ),
        (nf / ruff <= 2) if ruff and nf else None,
        ("ruff_nocache", "nbops_no_format"),
    )
    # against nbQA alone (issue 16): pynblint, far slower, has its own row in the results
    parts = [w("nbqa_ruff"), w("nbqa_black")]
    full = w("nbops_full_nocache")
    if all(parts) and full:
        combo = sum(parts)  # type: ignore[arg-type]
        add(
            "b",
            "full `nbops lint` >= 10x faster than `nbqa ruff` + `nbqa black --check`",
            f"{combo / full:.1f}x faster ({fmt_s(full)} vs {fmt_s(combo)})",
            combo / full >= 10,
            ("nbqa_ruff", "nbqa_black", "nbops_full_nocache"),
        )
    else:
        add(
            "b",
            "full `nbops lint` >= 10x faster than `nbqa ruff` + `nbqa black --check`",
            (
                f"– (baselines combined: {fmt_s(sum(parts))}; needs <= {fmt_s(sum(parts) / 10)})"
                if all(parts)
                else "–"
            ),
            None,
            ("nbqa_ruff", "nbqa_black"),
        )
    warm = w("nbops_warm_cache")
    add(
        "c",
        "warm re-lint <= 3x bare `ruff check`",
        (
            f"{warm / ruff:.2f}x ({fmt_s(warm)} vs {fmt_s(ruff)})"
            if ruff and warm
            else (f"– (needs <= {fmt_s(3 * ruff)})" if ruff else "–")
        ),
        (warm / ruff <= 3) if ruff and warm else None,
        ("ruff_nocache", "nbops_warm_cache"),
    )
    one = w("nbops_single_100")
    same = R.get("nbops_single_100", {}).get("same_file_median")
    add(
        "d",
        "100-cell notebook < 150 ms warm (in-process; one cell edited before each call)",
        (
            f"{fmt_s(one)} (same unchanged file again: {fmt_s(same)})"
            if one and same is not None
            else (fmt_s(one) if one else "–")
        ),
        (one < 0.150) if one else None,
        ("nbops_single_100",),
    )
    mem = {n: R.get(f"nbops_memory_{n}") for n in (300, 600, 1200)}
    if all(m and m.get("ok") for m in mem.values()):
        a, b = mem[300]["peak_kb"], mem[1200]["peak_kb"]  # type: ignore[index]
        add(
            "e",
            "memory flat as the folder grows (peak RSS at 1200 notebooks <= 1.25x at 300)",
            " / ".join(fmt_mb(mem[n]["peak_kb"]) for n in (300, 600, 1200)) + f" for 300/600/1200 ({b / a:.2f}x)",  # type: ignore[index]
            b / a <= 1.25,
            tuple(f"nbops_memory_{n}" for n in (300, 600, 1200)),
        )
    else:
        add(
            "e",
            "memory flat as the folder grows (peak RSS at 1200 notebooks <= 1.25x at 300)",
            "–",
            None,
            (),
        )
    return out


LABELS = {
    "ruff_nocache": "`ruff check --no-cache`",
    "ruff_warm": "`ruff check` (warm cache)",
    "black_check": "`black --check`",
    "nbqa_ruff": "`nbqa ruff`",
    "nbqa_black": "`nbqa black --check`",
    "pynblint": "`pynblint` (one call per notebook)",
    "nbops_no_format": "`nbops lint --no-format --no-cache`",
    "nbops_full_nocache": "`nbops lint --no-cache` (full, cold)",
    "nbops_cold_cache": "`nbops lint` (fresh `--cache-dir`, filling it)",
    "nbops_warm_cache": "`nbops lint` (warm re-lint, unchanged folder)",
    "nbops_single_100": "100-cell notebook, warm, in-process",
}


def _other_targets(a: Callable[[str], None], report: Path, title: str, script: str) -> None:
    """Copy the Targets table of another benchmark report, with a link to the rest."""
    text = report.read_text(encoding="utf-8") if report.exists() else ""
    table = harness.section(text, "## Targets")
    if table is None:
        return
    last = next((line for line in text.splitlines() if line.startswith("Last run:")), "")
    a(f"## {title}")
    a("")
    a(f"From [{report.name}]({report.name}) (`benchmarks/{script}`). {last.split('. ')[0]}.".rstrip(". ") + ".")
    a("")
    a(table)
    a("")


ISSUE16_START, ISSUE16_END = "<!-- issue16:start -->", "<!-- issue16:end -->"


def splice_issue16(doc: Path) -> None:
    """Put the issue-16 section (from results/issue16.json) into ``doc``: in place of the
    previous one, else before "## Reading the figures" (else at the end); the rest of the
    file is left as it is."""
    section = issue16_section(json.loads(ISSUE16_JSON.read_text()))
    text = doc.read_text(encoding="utf-8") if doc.exists() else "# Benchmarks\n"
    if ISSUE16_START in text and ISSUE16_END in text:
        head, rest = text.split(ISSUE16_START, 1)
        tail = rest.split(ISSUE16_END, 1)[1].lstrip("\n")
        text = head + section + "\n" + tail
    elif "\n## Reading the figures" in text:
        head, rest = text.split("\n## Reading the figures", 1)
        text = head + "\n" + section + "\n## Reading the figures" + rest
    else:
        text = text.rstrip("\n") + "\n\n" + section
    doc.write_text(text, encoding="utf-8")


def issue16_section(d: dict) -> str:
    out: list[str] = [ISSUE16_START]
    _issue16(out.append, d)
    out.append(ISSUE16_END)
    return "\n".join(out) + "\n"


def _issue16(a: Callable[[str], None], d: dict) -> None:
    rows = d["rows"]
    a("## Format check at ruff's speed (issue 16)")
    a("")
    a(
        f"`python benchmarks/run.py --only issue16 --runs {d['runs']}` on {d['corpus']} "
        f"({d['notebooks']} notebooks), {d['measured_at']}. All lines in one session, "
        "interleaved run by run; medians. CPU = user + sys of the whole process tree (all "
        "workers, ruff, black). nbQA is `nbqa ruff` and `nbqa black --check` one after the other."
    )
    a("")
    a("| command | wall | CPU | vs `nbqa ruff` + `nbqa black --check` (wall / CPU) |")
    a("|---|---|---|---|")
    base = rows["nbqa"]
    for key in ("nbops_ruff", "nbops_black", "nbops_no_format", "nbqa", "ruff"):
        r = rows[key]
        vs = (
            f"{base['wall'] / r['wall']:.1f}x / {base['cpu'] / r['cpu']:.1f}x faster"
            if key != "nbqa" else "–"
        )
        a(f"| {r['label']} | {fmt_s(r['wall'])} | {fmt_s(r['cpu'])} | {vs} |")
    a("")
    nf, rf = rows["nbops_no_format"], rows["ruff"]
    a("| target | measured | status |")
    a("|---|---|---|")
    for key, name in (("nbops_ruff", "ruff format (default)"), ("nbops_black", "black")):
        r = rows[key]
        w, c = base["wall"] / r["wall"], base["cpu"] / r["cpu"]
        a(f"| full cold lint with {name} >= 10x faster than nbQA (wall and CPU) | "
          f"{w:.1f}x wall, {c:.1f}x CPU | **{'PASS' if min(w, c) >= 10 else 'FAIL'}** |")
    w, c = nf["wall"] / rf["wall"], nf["cpu"] / rf["cpu"]
    a(f"| `--no-format` cold <= 2x bare `ruff check` | {w:.1f}x wall, {c:.1f}x CPU | "
      f"**{'PASS' if w <= 2 else 'FAIL'}** |")
    a("")
    if "floor" in rows:
        fl = rows["floor"]
        # a Python linter that reports ruff's findings runs ruff once and parses each cell once:
        # its CPU is at least ruff's plus the floor's; on 2 cores its wall at least half of that
        cpu_min = (rf["cpu"] + fl["cpu"]) / rf["cpu"]
        wall_min = max(rf["wall"], (rf["cpu"] + fl["cpu"]) / 2) / rf["wall"]
        left = 2 * rf["cpu"] - rf["cpu"] - fl["cpu"]
        a(
            f"The floor of the 2x target. Reading the {d['notebooks']} notebooks with `json` and "
            f"`ast.parse`-ing every code cell, with no rule at all (`python benchmarks/floor.py`), "
            f"takes {fmt_s(fl['wall'])} wall and {fmt_s(fl['cpu'])} CPU, {fl['cpu'] / rf['cpu']:.2f}x "
            f"the CPU of the bare `ruff check`. A linter in Python that also reports ruff's own "
            f"findings runs ruff once more: it needs at least {cpu_min:.2f}x ruff's CPU and, with "
            f"both cores busy, {wall_min:.2f}x its wall before a single rule runs. Within 2x, "
            f"{fmt_s(max(left, 0.0))} of CPU would be left for everything nbops adds over ruff "
            f"(start-up, the notebook model, symbols and data flow across cells, ~50 rules on "
            f"{d['notebooks']} notebooks): under {max(left, 0.0) * 1e6 / max(d.get('code_cells', 0), 1):.0f} µs "
            f"per code cell ({d.get('code_cells', 0):,} here). "
            f"Measured `--select NB` (no ruff) costs about 1.7 CPU s."
        )
        a("")
    a(
        "What the figures rest on. The format check with ruff (the default) sends the cells the "
        "workers found to check back to the main process, which runs `ruff format` on them "
        "(one process per folder and per ~1,500 cells, cells given as one notebook on stdin) in "
        "threads while the workers still lint: about 0.3 CPU s over `--no-format`, where "
        "black's check costs about 4. `--no-format` was profiled rule by rule (cProfile and "
        "per-rule timers, in-process, the whole corpus) and the costs taken one by one with "
        "the findings kept identical (the corpus and the 594 notebooks of the precision set "
        "compared finding by finding): nbformat 3 upgrades without jsonschema's lark grammars "
        "and without nbformat's schema validation; the rules imported before the workers "
        "fork; NB210 walking only cells that read, write and inherit a name, without deep "
        "copies; NB502's regions scanned lazily and once; one memoised walk and one "
        "import-resolved call list per cell, shared by the rules; textual prefilters where a "
        "rule needs a token to fire (a path separator, `environ`, `;`, `import *`); ruff's "
        "re-runs of notebooks with a broken cell moved from the workers to the main process's "
        "threads; the cycle collector run less often in the workers. What is left (measured "
        "with `--select NB`, no ruff at all: ~1.0 s wall, ~1.7 CPU s): the cells' own "
        "analysis (parsing and symbols, ~0.3 s), reading the JSON, the rules, process "
        "start-up (~0.15 CPU s), and ruff's side (~1.2 CPU s against 0.57 for a bare `ruff "
        "check`: one `ruff` process per notebook with a broken cell, 58 here, because ruff "
        "stops at a notebook's first syntax error and reads its configuration from the "
        "notebook's place: ~0.35 CPU s). The corpus repeats many cells (7,194 code cells, 795 "
        "distinct sources), which the per-content memos favour; a corpus of distinct "
        "notebooks gains less from them."
    )
    a("")


def render(d: dict) -> str:
    m, c, R, cfg = d["machine"], d["corpus"], d["results"], d["config"]
    L: list[str] = []
    a = L.append
    a("# Benchmarks")
    a("")
    a("<!-- Generated by benchmarks/run.py; do not edit by hand. -->")
    a("")
    a(
        f"Last run: {d['generated']} (`--only {cfg['only']}`, {cfg['runs']} timed runs per command after "
        f"{cfg['warmup']} warm-up run(s)). Each result row says when it was measured."
    )
    a("")
    a("## Targets")
    a("")
    a("| | target | measured | status |")
    a("|---|---|---|---|")
    for t in d["targets"]:
        a(f"| ({t['key']}) | {t['goal']} | {t['value']} | **{t['status']}** |")
    a("")
    a("## Results")
    a("")
    a(
        f"Corpus: `{d['corpus_path']}`, {c['count']} notebooks, {c['total_bytes'] / 1024**2:.1f} MB. "
        "Wall time is min / median over the timed runs. Peak RSS is the median over runs of the "
        "larger of (a) the sampled sum of RSS over the whole process tree and (b) the largest single "
        "process (`getrusage(RUSAGE_CHILDREN)`); forked workers' shared pages count once per process."
    )
    a("")
    a("| tool | command | wall min | wall median | peak RSS | exit codes | measured | note |")
    a("|---|---|---|---|---|---|---|---|")
    order = [
        "ruff_nocache",
        "ruff_warm",
        "black_check",
        "nbqa_ruff",
        "nbqa_black",
        "pynblint",
        "nbops_no_format",
        "nbops_full_nocache",
        "nbops_cold_cache",
        "nbops_warm_cache",
        "nbops_single_100",
    ]
    for k in order:
        r = R.get(k)
        if not r:
            a(
                f"| {LABELS.get(k, k)} | – | – | – | – | – | not measured | {d['skipped'].get(k, 'not run yet')} |"
            )
            continue
        note = r.get("note", "")
        if r.get("extrapolated"):
            note = (
                f"**extrapolated**: {r['sampled']} of {r['total']} notebooks timed "
                f"(median {fmt_s(r['measured_wall_median'])}), scaled x{r['total'] / r['sampled']:.2f}. "
                + note
            )
        if k == "nbops_single_100" and r.get("first_call") is not None:
            note = (
                f"first (cold) call {fmt_s(r['first_call'])}; the same unchanged file linted again: "
                f"median {fmt_s(r.get('same_file_median'))}; "
                f"source: `{cfg.get('single_100_source')}` cut to 100 cells. " + note
            )
        codes = ", ".join(map(str, r["exit_codes"])) + ("" if r.get("ok") else " **FAILED**")
        a(
            f"| {r['label']} | `{r['cmd'] if len(r['cmd']) < 90 else r['cmd'][:87] + '...'}` | {fmt_s(r['wall_min'])} | "
            f"{fmt_s(r['wall_median'])} | {fmt_mb(r.get('peak_kb'))} | {codes} | "
            f"{r['measured_at'][:16].replace('T', ' ')} | {note} |"
        )
    a("")
    a(
        "Exit codes: 1 means findings (normal for linters on this corpus); 123 from black / nbqa means some "
        "files could not be parsed (the corpus has unreadable and nbformat-3 notebooks on purpose) while "
        "the rest were checked; pynblint exits 1 when it crashes on a notebook. nbops exit 2 (input "
        "error) is accepted only when its output shows it went through the whole folder. Logs of the "
        "last run of each command: `benchmarks/results/logs/`."
    )
    a("")
    a(
        "Noise: this is a shared 2-core VM; the same command's wall time drifts up to 2-3x between "
        "sessions (bare ruff on this corpus: 0.4-1.4 s seen), while runs within one session agree to "
        "~20%. Compare ratios taken in one session: `--only nbops` re-measures bare ruff for (a) and "
        "(c) for that reason; the slow baselines of (b) differ by far more than the noise."
    )
    a("")
    a("### Memory vs corpus size")
    a("")
    a("| command | 300 | 600 | 1200 |")
    a("|---|---|---|---|")
    for pref, label in (
        ("nbops_memory_", "`nbops lint --no-cache` peak RSS"),
        ("ruff_memory_", "`ruff check --no-cache` peak RSS (reference)"),
    ):
        cells = []
        for n in (300, 600, 1200):
            key = f"{pref}{n}" if not (pref == "ruff_memory_" and n == 300) else "ruff_nocache"
            r = R.get(key)
            cells.append(f"{fmt_mb(r['peak_kb'])} ({fmt_s(r['wall_median'])})" if r else "–")
        a(f"| {label} | " + " | ".join(cells) + " |")
    a("")
    if d["skipped"]:
        a("### Not measured")
        a("")
        for k, v in sorted(d["skipped"].items()):
            a(f"- `{k}`: {v}")
        a("")
    if ISSUE16_JSON.exists():
        a(issue16_section(json.loads(ISSUE16_JSON.read_text())))
    analysis = Path(__file__).with_name("analysis.md")
    if analysis.exists():  # the developers' reading of the figures, kept across runs
        a(analysis.read_text(encoding="utf-8").rstrip("\n"))
        a("")
    for other, title, script in (
        ("benchmarks-modularize.md", "Modularize and verify (issue 4)", "modularize.py"),
        ("benchmarks-run.md", "Runs and tracking (issue 5)", "run_bench.py"),
        ("benchmarks-submit.md", "Submit for review (issue 6)", "submit_bench.py"),
    ):
        _other_targets(a, DOC.with_name(other), title, script)
    a("## Machine")
    a("")
    a(f"- CPU: {m['cpu']}, {m['nproc']} cores (nproc); RAM {m['ram']}; {m['os']}")
    a(f"- Python running the benchmark: {m['python']}")
    for k, v in m["tools"].items():
        a(f"- {k}: {v}")
    a("")
    a("## Corpus")
    a("")
    a(
        f"{c['count']} notebooks, {c['total_bytes'] / 1024**2:.1f} MB in total (median {c['median_bytes'] / 1024:.0f} KB, "
        f"largest {c['max_bytes'] / 1024**2:.1f} MB), {c['total_cells']} cells. Seed {c['seed']}, fingerprint "
        f"`{c['fingerprint'][:16]}`."
    )
    a("")
    kinds = {
        "real": "real notebooks as shipped in the sdists (test fixtures and docs, plus the project examples: Python and other kernels (R, Julia, C++, ...), nbformat 2-4, a few schema-invalid)",
        "variant": "real cells made messy: concatenated to 10-50 cells, shuffled / gapped / partial execution counts, magics, long cells, PNG outputs, duplicated and empty cells, stripped outputs, syntax errors in some",
        "synthetic": "generated data-science notebooks (pandas / sklearn / matplotlib; tidy to very messy: absolute paths, secrets, unseeded models, debugger calls, tracebacks)",
        "large": "100-150 and 250-300 cell notebooks (variants or synthetic)",
        "huge-output": "2-8 MB of committed outputs (large figures, a printed 10k+ row frame)",
        "broken": "unreadable: truncated JSON, merge-conflict markers, an empty file",
    }
    a("| kind | notebooks | what |")
    a("|---|---|---|")
    for k, v in sorted(c["by_kind"].items(), key=lambda kv: -kv[1]):
        a(f"| {k} | {v} | {kinds.get(k, '')} |")
    a("")
    a(
        "Cells per notebook: "
        + ", ".join(f"{k}: {v}" for k, v in c["cells_distribution"].items())
        + f" (plus {c['unreadable']} unreadable). File sizes: "
        + ", ".join(f"{k}: {v}" for k, v in c["size_distribution"].items())
        + "."
    )
    a("")
    a(
        "Sources: the `.ipynb` files in the sdists of "
        + ", ".join(f"`{s}`" for s in c["sdists"])
        + f" ({c['real_sources_available']} distinct notebooks; duplicates skipped), plus the project's "
        f"`examples/*.ipynb` ({c['examples_included']} when this corpus was built). nbdime's sdist was not used: "
        "pip cannot read its metadata without a jupyterlab build. The corpus root has a `pyproject.toml` "
        "with empty `[tool.ruff]`, `[tool.black]`, `[tool.nbops]` and `[tool.nbqa]` tables, so every tool runs with "
        "its defaults and not with this repository's settings."
    )
    a("")
    a(
        "The first 300 notebooks of the 600 and 1200 corpora are the 300 corpus (same seed, same mix "
        "per block of 100), so the memory sweep grows the same kind of folder."
    )
    a("")
    a("## Reproduce")
    a("")
    a("```sh")
    a("bash benchmarks/setup_baselines.sh          # baseline venvs (pinned), smoke-tested")
    a("python benchmarks/make_corpus.py             # benchmarks/corpus/, 300 notebooks")
    flags = f"--runs {cfg['runs']}" + (
        f" --pynblint-sample {cfg['pynblint_sample']}" if cfg["pynblint_sample"] != 60 else ""
    )
    a(f"python benchmarks/run.py {flags}      # all of it; --only baselines | --only nbops")
    a("```")
    a("")
    a(
        "`make_corpus.py --count 600` / `--count 1200` build the memory-sweep corpora under "
        "`benchmarks/.cache/` (run.py builds them when missing). pynblint takes one notebook per call, ~1 s each: "
        "by default run.py times a random sample of 60 notebooks and extrapolates; `--pynblint-sample 0` "
        f"times every notebook ({'as in the run above' if not cfg['pynblint_sample'] else 'the run above sampled ' + str(cfg['pynblint_sample'])})."
    )
    a("")
    return "\n".join(L)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--only", choices=["all", "baselines", "nbops", "issue16"], default="all")
    ap.add_argument("--runs", type=int, default=3, help="timed runs per command (default 3)")
    ap.add_argument("--warmup", type=int, default=1, help="untimed runs before timing (default 1)")
    ap.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    ap.add_argument(
        "--count", type=int, default=300, help="corpus size to build if missing (default 300)"
    )
    ap.add_argument(
        "--pynblint-sample",
        type=int,
        default=60,
        help="time pynblint on K random notebooks and extrapolate (default 60; 0 = all)",
    )
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--timeout", type=float, default=1800, help="per command, seconds")
    ap.add_argument(
        "--sample-ms", type=float, default=50, help="RSS sampling period (0 = getrusage only)"
    )
    ap.add_argument(
        "--no-memory-sweep", action="store_true", help="skip the 600/1200-notebook runs"
    )
    ap.add_argument(
        "--nbops-python",
        type=Path,
        default=DEFAULT_NBOPS_PYTHON,
        help="python of the venv where nbops is installed (default $NBOPS_PYTHON or the python running run.py)",
    )
    ap.add_argument(
        "--nbops-cmd", default="", help="nbops command prefix (default: <nbops-python dir>/nbops)"
    )
    ap.add_argument("--inproc-warmup", type=int, default=5)
    ap.add_argument("--inproc-reps", type=int, default=30)
    ap.add_argument(
        "--render-only",
        action="store_true",
        help="measure nothing: rewrite docs/benchmarks.md from results/latest.json",
    )
    args = ap.parse_args(argv)
    if args.render_only:
        data = json.loads(LATEST.read_text())
        data["targets"] = targets(data)
        DOC.write_text(render(data))
        harness.write_json(LATEST, data)
        log(f"wrote {DOC.relative_to(REPO)} from {LATEST.relative_to(REPO)}")
        return 0
    return Bench(args).go()


if __name__ == "__main__":
    sys.exit(main())
