#!/usr/bin/env python3
"""Benchmark `nbops modularize` / `nbops verify` (issue 4, "Numbers to reach").

Three parts, measured side by side in one run:

(a) corpus: every real Python notebook shipped in a few pinned PyPI sdists (read from the
    tarballs, deduplicated by content hash; non-Python kernels, broken JSON, nbformat < 4 and
    notebooks without code are skipped and counted). Each notebook is copied into its own
    work dir and given to
      * ``python -m nbops modularize COPY --out OUT --format json``, and
      * ``soorgeon refactor COPY --file-format py`` (benchmarks/.venv-soorgeon),
    each with a timeout. A notebook succeeds when the tool exits normally, the code it wrote
    (nbops: the module named in the plan's ``files`` with kind ``module``; soorgeon: every
    ``.py`` it wrote, tasks/*.py and exported.py) compiles (``py_compile``) and has no
    ``ruff check --select F821`` finding, and, for a notebook with 10 or more code cells, the
    pipeline has at least 2 steps (nbops: ``steps`` in the plan; soorgeon: tasks in
    pipeline.yaml). For nbops the input copy must also be byte-identical afterwards; for
    soorgeon (which rewrites its input in place) that is recorded, not counted.
    Targets: nbops >= 90 %, and >= 2x soorgeon.
(b) verify: ``python -m nbops verify COPY --out OUT --format json`` (exit 0 = equivalent) on
    examples/*.ipynb and on executable notebooks nbops did not write: the corpus notebooks
    that run offline here (found by executing them with nbclient; cached) and the notebooks
    of benchmarks/make_verify_corpus.py. Targets: 100 % of examples, >= 90 % of the others.
(c) timing: modularizing a realistic 200-cell notebook in-process
    (``nbops.modularize.modularize``, dry_run=False, into a fresh dir; median of 5) < 1 s;
    the CLI wall time is reported too.

(d) issue13: issue 13's reviewer numbers on corpus (a) (plus examples/ and verify_corpus/,
    reported apart): each generated module compiles, has no F821, passes ``ruff check`` with
    E,F,W,I,B,UP,SIM,N and ``ruff format --check`` (line length 100), and ``mypy`` with default
    settings; its steps' lengths, ``step_N`` names, returned tuple sizes, ``show`` parameters,
    ``if show:`` blocks, longest generated identifier; proposed parameters for notebooks with
    top-level literal constants read later; the 200-cell timing. Read by
    benchmarks/_modquality.py, which understands today's shape and the second generation's
    (dataclass outputs, no ``show``). Writes results/modularize-issue13.json and its own
    section of the report (``--issue13-label`` names it; other sections stay).

Writes docs/benchmarks-modularize.md and benchmarks/results/modularize-latest.json; the work
dirs of the last run (inputs, outputs, logs of every tool call) stay in
benchmarks/results/modularize-runs/ (git-ignored) for looking into failures.

Usage
  bash benchmarks/setup_soorgeon.sh            # once: the soorgeon venv
  python benchmarks/modularize.py              # everything (~15-25 min on 2 cores)
  python benchmarks/modularize.py --quick      # smoke run on a sample; does not touch docs/
  python benchmarks/modularize.py --only verify    # re-measure one part, keep the others
  python benchmarks/modularize.py --only issue13   # issue 13's numbers: only their section
  python benchmarks/modularize.py --render-only    # rewrite the report from the last JSON
"""

from __future__ import annotations

import argparse
import ast
import concurrent.futures as cf
import hashlib
import json
import os
import py_compile
import random
import re
import shlex
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import textwrap
import threading
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import _modquality as _mq
import harness
from harness import download_sdist, fmt_s, now

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
CACHE = HERE / ".cache"
SDIST_DIR = CACHE / "sdists"
CORPUS_DIR = CACHE / "modularize-corpus"
EXEC_CACHE = CACHE / "modularize-executable.json"
RESULTS_DIR = HERE / "results"
LATEST = RESULTS_DIR / "modularize-latest.json"
QUICK_JSON = RESULTS_DIR / "modularize-quick.json"
RUNS_DIR = RESULTS_DIR / "modularize-runs"
DOC = REPO / "docs" / "benchmarks-modularize.md"
SOORGEON_BIN = HERE / ".venv-soorgeon" / "bin"
VERIFY_CORPUS = HERE / "verify_corpus"
DEFAULT_NBOPS_PYTHON = Path(os.environ.get("NBOPS_PYTHON", sys.executable))

sys.path.insert(0, str(HERE))
import make_verify_corpus

# Pinned sdists whose notebooks make the corpus (pip download --no-deps --no-binary :all:).
# Tried and left out: soorgeon 0.0.20, ploomber 0.23.3, nbqa 1.9.1, myst-nb 1.4.0, param 2.4.2
# (their sdists ship no notebooks); testbook 0.4.2 (no sdist on PyPI); voila 0.5.13,
# notebook 6.5.7, ipyparallel 9.2.0, statsmodels 0.14.5 (pip cannot prepare their sdists'
# metadata without a JS / C build); nbdime (same, see make_corpus.py).
SDISTS = [
    ("papermill", "2.7.0"),
    ("nbconvert", "7.17.2"),
    ("nbformat", "5.11.1"),
    ("nbclient", "0.11.0"),
    ("nbval", "0.11.0"),
    ("jupytext", "1.19.6"),
    ("scrapbook", "0.5.0"),
    ("nbsphinx", "0.9.8"),
    ("ipython", "8.37.0"),
    ("lmfit", "1.3.4"),
    ("hvplot", "0.12.2"),
    ("holoviews", "1.23.2"),
]
LEFT_OUT = [
    (
        "soorgeon 0.0.20, ploomber 0.23.3, nbqa 1.9.1, myst-nb 1.4.0, param 2.4.2",
        "sdist ships no notebooks",
    ),
    ("testbook 0.4.2", "no sdist on PyPI"),
    (
        "voila 0.5.13, notebook 6.5.7, ipyparallel 9.2.0, statsmodels 0.14.5, nbdime",
        "`pip download --no-binary :all:` fails: their build backends need a JS or C build to report metadata",
    ),
]

# Command lines, in one place: edit here if the CLIs change.
NBOPS_MODULARIZE = "{py} -m nbops modularize {nb} --out {out} --format json"
NBOPS_VERIFY = "{py} -m nbops verify {nb} --out {out} --format json --timeout {cell_timeout}"
# added for a notebook whose kernelspec names a kernel not installed here (e.g. `python2`)
NBOPS_VERIFY_KERNEL = " --kernel python3"
SOORGEON_REFACTOR = "{soorgeon} refactor {nb} --file-format py"
# the fallback soorgeon itself suggests when a notebook has no H2 heading (reported apart)
SOORGEON_SINGLE = " --single-task"
# ploomber-core (soorgeon's dependency) sends telemetry and checks for new versions online
SOORGEON_ENV = {"PLOOMBER_STATS_ENABLED": "false", "PLOOMBER_VERSION_CHECK_DISABLED": "true"}

TARGET_SHARE = 0.90
TARGET_RATIO = 2.0
TARGET_VERIFY_EXAMPLES = 1.0
TARGET_VERIFY_OTHERS = 0.90
TARGET_TIME_S = 1.0
MIN_CODE_CELLS_FOR_SPLIT = 10


log = harness.logger("modularize-bench")
sh = harness.sh


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def file_hash(p: Path) -> str | None:
    try:
        return sha256(p.read_bytes())
    except OSError:
        return None


def pct(n: int, d: int) -> str:
    return "–" if not d else f"{100 * n / d:.1f} %"


# --------------------------------------------------------------------------
# corpus
# --------------------------------------------------------------------------
def fetch_sdists(offline: bool) -> list[tuple[str, str, Path]]:
    SDIST_DIR.mkdir(parents=True, exist_ok=True)
    out = []
    for name, version in SDISTS:
        pats = [f"{name}-{version}.tar.gz", f"{name.replace('-', '_')}-{version}.tar.gz"]
        found = [SDIST_DIR / p for p in pats if (SDIST_DIR / p).exists()]
        if not found and not offline:
            log(f"downloading {name}=={version} sdist")
            r = download_sdist(name, version, SDIST_DIR)
            if r.returncode != 0:
                log(f"WARNING: could not download {name}=={version}: {r.stderr[-800:]}")
            found = [SDIST_DIR / p for p in pats if (SDIST_DIR / p).exists()]
        if not found:
            log(f"WARNING: skipping {name}=={version} (no sdist in {SDIST_DIR})")
            continue
        out.append((name, version, found[0]))
    return out


def notebook_language(nb: dict) -> str | None:
    """The declared kernel language, lower-case; None when the notebook declares none."""
    md = nb.get("metadata") if isinstance(nb.get("metadata"), dict) else {}
    ks = md.get("kernelspec") if isinstance(md.get("kernelspec"), dict) else {}
    li = md.get("language_info") if isinstance(md.get("language_info"), dict) else {}
    for v in (ks.get("language"), li.get("name")):
        if isinstance(v, str) and v.strip():
            return v.strip().lower()
    jt = md.get("jupytext") if isinstance(md.get("jupytext"), dict) else {}
    main = jt.get("main_language")  # jupytext's record of the script language it came from
    if isinstance(main, str) and main.strip():
        return main.strip().lower()
    name = ks.get("name")
    if isinstance(name, str) and name.strip():
        n = name.lower()
        return "python" if n.startswith(("python", "ipython")) else f"kernel:{n}"
    return None


def cell_source(cell: dict) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else str(src)


_ATX = re.compile(r"^ {0,3}(#{1,6})(?!#)[ \t]+\S")
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")


def heading_levels(md_sources: list[str]) -> set[int]:
    levels: set[int] = set()
    for src in md_sources:
        fence = False
        for line in src.splitlines():
            if _FENCE.match(line):
                fence = not fence
                continue
            m = None if fence else _ATX.match(line)
            if m:
                levels.add(len(m.group(1)))
    return levels


_TM = None


def to_python(src: str) -> str:
    """Cell source with IPython syntax (magics, !shell, ?help) turned into Python."""
    global _TM
    if _TM is None:
        try:
            from IPython.core.inputtransformer2 import TransformerManager

            _TM = TransformerManager()
        except ImportError:  # pragma: no cover - IPython is in the dev venv
            _TM = False
    if _TM:
        try:
            return _TM.transform_cell(src)
        except Exception:  # noqa: BLE001
            return src
    return "\n".join(
        "pass" if ln.lstrip().startswith(("%", "!")) else ln for ln in src.splitlines()
    )


def analyze_code(code_sources: list[str]) -> dict[str, Any]:
    """Structure of the notebook's code that the tools care about."""
    top_data: set[str] = set()
    funcs: list[ast.AST] = []
    star = False
    magics = False
    syntax_error = False
    imports: set[str] = set()
    for src in code_sources:
        py = to_python(src)
        if "get_ipython()" in py and "get_ipython()" not in src:
            magics = True
        try:
            tree = ast.parse(py)
        except SyntaxError:
            syntax_error = True
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                if any(a.name == "*" for a in node.names):
                    star = True
                if node.module and node.level == 0:
                    imports.add(node.module.split(".")[0])
            elif isinstance(node, ast.Import):
                imports.update(a.name.split(".")[0] for a in node.names)
        for node in tree.body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                funcs.append(node)
            elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign, ast.For, ast.With)):
                for sub in ast.walk(node):
                    if isinstance(sub, ast.Name) and isinstance(sub.ctx, ast.Store):
                        top_data.add(sub.id)
    fn_globals = []
    for f in funcs:
        local: set[str] = set()
        args = f.args  # type: ignore[attr-defined]
        for a in args.posonlyargs + args.args + args.kwonlyargs:
            local.add(a.arg)
        for a in (args.vararg, args.kwarg):
            if a:
                local.add(a.arg)
        loads: set[str] = set()
        for sub in ast.walk(f):
            if isinstance(sub, ast.Name):
                (local if isinstance(sub.ctx, (ast.Store, ast.Del)) else loads).add(sub.id)
            elif (
                isinstance(sub, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
                and sub is not f
            ):
                local.add(sub.name)
            elif isinstance(sub, ast.arg):
                local.add(sub.arg)
            elif isinstance(sub, ast.Global):
                loads.update(sub.names)
        used = sorted((loads - local) & top_data)
        if used:
            fn_globals.append(f"{f.name}({', '.join(used[:4])})")  # type: ignore[attr-defined]
    return {
        "star_import": star,
        "magics": magics,
        "syntax_error": syntax_error,
        "fn_globals": fn_globals,
        "imports": sorted(imports),
    }


def build_corpus(offline: bool) -> dict[str, Any]:
    """Extract the corpus into CORPUS_DIR; return the manifest."""
    seen: dict[str, str] = {}
    skipped: list[dict[str, str]] = []
    entries: list[dict[str, Any]] = []
    sdists = []
    for name, version, tb in fetch_sdists(offline):
        sd = {
            "name": name,
            "version": version,
            "file": tb.name,
            "sha256": sha256(tb.read_bytes()),
            "ipynb": 0,
            "kept": 0,
        }
        sdists.append(sd)
        with tarfile.open(tb) as t:
            for m in sorted(t.getmembers(), key=lambda m: m.name):
                if not (m.isfile() and m.name.endswith(".ipynb")):
                    continue
                sd["ipynb"] += 1
                raw = t.extractfile(m).read()  # type: ignore[union-attr]
                origin = m.name
                h = sha256(raw)
                if h in seen:
                    skipped.append({"origin": origin, "reason": "duplicate", "detail": seen[h]})
                    continue
                seen[h] = origin
                try:
                    nb = json.loads(raw.decode("utf-8"))
                except (UnicodeDecodeError, json.JSONDecodeError) as e:
                    skipped.append(
                        {"origin": origin, "reason": "broken JSON", "detail": str(e)[:80]}
                    )
                    continue
                if not isinstance(nb, dict) or not isinstance(nb.get("cells", []), list):
                    skipped.append(
                        {
                            "origin": origin,
                            "reason": "broken JSON",
                            "detail": "not a notebook object",
                        }
                    )
                    continue
                if nb.get("nbformat") != 4 or "cells" not in nb:
                    skipped.append(
                        {
                            "origin": origin,
                            "reason": "nbformat < 4",
                            "detail": f"nbformat {nb.get('nbformat')}",
                        }
                    )
                    continue
                lang = notebook_language(nb)
                if lang is not None and lang != "python":
                    skipped.append(
                        {"origin": origin, "reason": "non-Python kernel", "detail": lang}
                    )
                    continue
                cells = [c for c in nb["cells"] if isinstance(c, dict)]
                code = [cell_source(c) for c in cells if c.get("cell_type") == "code"]
                code = [s for s in code if s.strip()]
                if not code:
                    skipped.append({"origin": origin, "reason": "no code", "detail": ""})
                    continue
                md = [cell_source(c) for c in cells if c.get("cell_type") == "markdown"]
                levels = heading_levels(md)
                dest = CORPUS_DIR / origin
                dest.parent.mkdir(parents=True, exist_ok=True)
                if not dest.exists() or dest.read_bytes() != raw:
                    dest.write_bytes(raw)
                tags = [
                    t
                    for c in cells
                    for t in ((c.get("metadata") or {}).get("tags") or [])
                    if isinstance(t, str)
                ]
                feats = analyze_code(code)
                entries.append(
                    {
                        "origin": origin,
                        "sdist": f"{name}-{version}",
                        "path": str(dest.relative_to(HERE)),
                        "sha256": h,
                        "bytes": len(raw),
                        "cells": len(cells),
                        "code_cells": len(code),
                        "language": lang or "undeclared",
                        "headings": (
                            "h2+" if levels & {2, 3, 4, 5, 6} else "h1 only" if levels else "none"
                        ),
                        "h2": 2 in levels,
                        "parameters_tag": "parameters" in tags,
                        "step_tags": any(t.startswith("step:") for t in tags),
                        **feats,
                    }
                )
                sd["kept"] += 1
    for e in entries:
        e["id"] = e["sha256"][:10]  # stable across corpus changes: results stay comparable
    return {"sdists": sdists, "entries": entries, "skipped": skipped}


# --------------------------------------------------------------------------
# running tools
# --------------------------------------------------------------------------
def run_cmd(
    cmd: list[str],
    cwd: Path,
    timeout: float,
    env: dict[str, str] | None = None,
    log_file: Path | None = None,
) -> dict[str, Any]:
    r = harness.run_timed(cmd, cwd=cwd, env=env, timeout=timeout, capture=True)
    rc, secs = r["rc"], r["secs"]
    if log_file:
        log_file.write_text(
            f"$ (cd {cwd} && {shlex.join(cmd)})\n# exit {rc}{' (timeout)' if r['timeout'] else ''} "
            f"in {secs:.2f}s\n--- stdout\n{r['stdout']}\n--- stderr\n{r['stderr']}\n",
            encoding="utf-8",
        )
    return {"rc": rc, "timeout": r["timeout"], "secs": round(secs, 3), "stdout": r["stdout"],
            "stderr": r["stderr"]}


def traceback_summary(text: str) -> str | None:
    """'ExcType: message' of the last traceback in text, or None."""
    if "Traceback (most recent call last)" not in text:
        return None
    tail = text[text.rindex("Traceback (most recent call last)") :]
    lines = [ln for ln in tail.splitlines() if ln.strip()]
    for ln in reversed(lines):
        if re.match(r"^[A-Za-z_][\w.]*(Error|Exception|Exit|Interrupt|Warning)\b", ln) or re.match(
            r"^[A-Za-z_][\w.]*: ", ln
        ):
            return ln.strip()[:200]
    return lines[-1].strip()[:200] if lines else "Traceback"


def parse_json_out(text: str) -> Any:
    text = text.strip()
    if not text:
        return None
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        i = text.find("{")
        if i >= 0:
            try:
                return json.loads(text[i:])
            except json.JSONDecodeError:
                return None
    return None


def prepare_copy(entry_path: Path, work: Path) -> Path:
    if work.exists():
        shutil.rmtree(work)
    (work / "in").mkdir(parents=True)
    dest = work / "in" / entry_path.name
    shutil.copyfile(entry_path, dest)
    return dest


def run_nbops_one(e: dict, py: Path, timeout: float, kind: str = "nbops") -> dict[str, Any]:
    work = RUNS_DIR / kind / f"{e['id']}"
    nb = prepare_copy(HERE / e["path"], work)
    before = file_hash(nb)
    cmd = shlex.split(
        NBOPS_MODULARIZE.format(
            py=shlex.quote(str(py)), nb=shlex.quote(str(nb.relative_to(work))), out="out"
        )
    )
    r = run_cmd(cmd, work, timeout, env=nbops_env(py), log_file=work / "log.txt")
    res: dict[str, Any] = {
        "rc": r["rc"],
        "timeout": r["timeout"],
        "secs": r["secs"],
        "input_identical": file_hash(nb) == before,
        "work": str(work.relative_to(HERE)),
    }
    res["traceback"] = traceback_summary(r["stderr"]) or traceback_summary(r["stdout"])
    plan = parse_json_out(r["stdout"])
    res["plan_ok"] = isinstance(plan, dict)
    if kind != "nbops":
        res["_plan"] = plan  # the issue-13 part reads steps and parameters from it
    if isinstance(plan, dict):
        steps = plan.get("steps") or []
        res["steps"] = len(steps)
        res["strategy"] = plan.get("strategy")
        probs = plan.get("problems") or []
        res["problems"] = [
            {
                "severity": p.get("severity"),
                "cell": p.get("cell"),
                "message": str(p.get("message"))[:200],
            }
            for p in probs
            if isinstance(p, dict)
        ]
        res["written"] = plan.get("written")
        mods = [
            f
            for f in (plan.get("files") or [])
            if isinstance(f, dict) and f.get("kind") == "module"
        ]
        if mods:
            mp = Path(mods[0]["path"])
            mp = mp if mp.is_absolute() else work / mp
            res["module"] = str(mp.relative_to(HERE)) if mp.is_relative_to(HERE) else str(mp)
            res["module_exists"] = mp.exists()
        if plan.get("error") or plan.get("message"):
            res["error_message"] = str(plan.get("error") or plan.get("message"))[:300]
    if r["rc"] not in (0, None) and not res.get("error_message"):
        msg = (r["stderr"].strip() or r["stdout"].strip()).splitlines()
        res["error_message"] = (msg[-1] if msg else f"exit {r['rc']}")[:300]
    return res


def run_soorgeon_one(e: dict, timeout: float, single: bool = False) -> dict[str, Any]:
    work = RUNS_DIR / ("soorgeon-single" if single else "soorgeon") / f"{e['id']}"
    nb = prepare_copy(HERE / e["path"], work)
    before = file_hash(nb)
    cmd = shlex.split(
        (SOORGEON_REFACTOR + (SOORGEON_SINGLE if single else "")).format(
            soorgeon=shlex.quote(str(SOORGEON_BIN / "soorgeon")), nb=shlex.quote(nb.name)
        )
    )
    r = run_cmd(
        cmd,
        work / "in",
        timeout,
        env={**SOORGEON_ENV, "PATH": f"{SOORGEON_BIN}:{os.environ.get('PATH', '')}"},
        log_file=work / "log.txt",
    )
    res: dict[str, Any] = {
        "rc": r["rc"],
        "timeout": r["timeout"],
        "secs": r["secs"],
        "input_identical": file_hash(nb) == before,
        "work": str(work.relative_to(HERE)),
    }
    text = r["stdout"] + "\n" + r["stderr"]
    res["traceback"] = traceback_summary(text)
    pys = sorted(p for p in (work / "in").rglob("*.py"))
    res["files"] = [str(p.relative_to(HERE)) for p in pys]
    tasks = sorted((work / "in" / "tasks").glob("*.py")) if (work / "in" / "tasks").is_dir() else []
    n_tasks = len(tasks)
    pipeline = work / "in" / "pipeline.yaml"
    if pipeline.exists():
        n_tasks = max(
            n_tasks,
            len(re.findall(r"^- source:", pipeline.read_text(errors="replace"), re.MULTILINE)),
        )
    res["steps"] = n_tasks
    res["message"] = soorgeon_message(text)
    return res


def soorgeon_message(text: str) -> str:
    for ln in text.splitlines():
        s = ln.strip()
        if s.startswith("Error:") or "InputError" in s or "InputWontRunError" in s:
            return s[:200]
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    return lines[-1][:200] if lines else ""


SOORGEON_REASONS = [
    ("Expected notebook to have at least one markdown H2 heading", "no H2 headings"),
    ("Only H1 headings are found", "no H2 headings (only H1)"),
    ("Star imports are not supported", "star imports"),
    ("fn-global", "globals in functions"),
    ("Errors detected in your source code", "input rejected by pyflakes (undefined names, ...)"),
    ("due to invalid syntax", "syntax error in the input"),
    ("An error occurred when refactoring", "internal error (suggests --single-task)"),
]


def nbops_env(py: Path) -> dict[str, str]:
    # the kernel nbops verify starts is `python -m ipykernel_launcher`: the nbops venv's python first
    # NBOPS_DEBUG=1: an internal error raises (traceback in the log, exit 1) instead of the
    # one-line "nbops: internal error" (exit 70)
    return {
        "PATH": f"{Path(py).parent}:{os.environ.get('PATH', '')}",
        "PYTHONWARNINGS": "ignore",
        "NBOPS_DEBUG": "1",
    }


# --------------------------------------------------------------------------
# checking what the tools wrote
# --------------------------------------------------------------------------
def find_ruff(py: Path) -> list[str]:
    for cand in (Path(py).parent / "ruff", HERE / ".venv-tools" / "bin" / "ruff"):
        if cand.exists():
            return [str(cand)]
    if shutil.which("ruff"):
        return ["ruff"]
    return [str(py), "-m", "ruff"]


def ruff_f821(ruff: list[str], files: list[Path]) -> dict[str, list[str]]:
    """{file: [undefined names]} for every file (empty list = clean)."""
    found: dict[str, list[str]] = {str(f): [] for f in files}
    for i in range(0, len(files), 400):
        chunk = files[i : i + 400]
        r = subprocess.run(
            [
                *ruff,
                "check",
                "--isolated",
                "--no-cache",
                "--select",
                "F821",
                "--output-format",
                "json",
                "--exit-zero",
                *map(str, chunk),
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        try:
            diags = json.loads(r.stdout or "[]")
        except json.JSONDecodeError:
            raise RuntimeError(f"ruff failed: {r.stderr[-1000:]}") from None
        for d in diags:
            if d.get("code") != "F821":  # ruff also reports syntax errors; py_compile counts those
                continue
            fn = str(Path(d["filename"]))
            m = re.search(r"`([^`]+)`", d.get("message", ""))
            found.setdefault(fn, []).append(m.group(1) if m else d.get("message", "?"))
    return found


def compiles(p: Path) -> str | None:
    """None when p compiles, else the error."""
    with tempfile.TemporaryDirectory() as tmp:
        try:
            py_compile.compile(str(p), cfile=str(Path(tmp) / "x.pyc"), doraise=True)
        except py_compile.PyCompileError as e:
            return str(e.exc_value)[:200] if e.exc_value else str(e)[:200]
        except (OSError, ValueError) as e:
            return str(e)[:200]
    return None


def judge(results: dict[str, dict], corpus: list[dict], ruff: list[str]) -> None:
    """Add 'ok' and 'reasons' to every result of both tools."""
    by_id = {e["id"]: e for e in corpus}
    files: list[Path] = []
    for tool, res in results.items():
        for r in res.values():
            if tool == "nbops" and r.get("module_exists"):
                files.append(HERE / r["module"])
            if tool == "soorgeon":
                files += [HERE / f for f in r.get("files", [])]
    f821 = ruff_f821(ruff, files) if files else {}
    for tool, res in results.items():
        for nid, r in res.items():
            e = by_id[nid]
            reasons: list[str] = []
            if tool == "nbops":
                if r["timeout"]:
                    reasons.append("timeout")
                elif r.get("traceback"):
                    reasons.append("crash: " + r["traceback"].split(":")[0])
                elif "internal error:" in (r.get("error_message") or ""):
                    reasons.append(
                        "crash: "
                        + r["error_message"].split("internal error:")[1].split(":")[0].strip()
                    )
                elif r["rc"] != 0:
                    reasons.append(
                        "error exit: " + re.sub(r"\d+", "N", (r.get("error_message") or "")[:60])
                    )
                if not r["timeout"] and not r.get("module_exists") and r["rc"] == 0:
                    reasons.append("no module written" if r.get("plan_ok") else "no JSON plan")
                mods = [HERE / r["module"]] if r.get("module_exists") else []
                if not r["input_identical"]:
                    reasons.append("input modified")
            else:
                text = (HERE / r["work"] / "log.txt").read_text(errors="replace")
                if r["timeout"]:
                    reasons.append("timeout")
                elif r["rc"] != 0:
                    for needle, label in SOORGEON_REASONS:
                        if needle in text:
                            reasons.append(label)
                            break
                    else:
                        reasons.append(
                            "crash: " + r["traceback"].split(":")[0]
                            if r.get("traceback")
                            else "error exit: " + (r.get("message") or "")[:60]
                        )
                mods = [HERE / f for f in r.get("files", [])]
                if r["rc"] == 0 and not mods:
                    reasons.append("no task files written")
            undefined: list[str] = []
            compile_errors: list[str] = []
            for m in mods:
                err = compiles(m)
                if err:
                    compile_errors.append(f"{m.name}: {err}")
                undefined += f821.get(str(m), [])
            r["undefined"] = sorted(set(undefined))
            r["compile_errors"] = compile_errors
            if compile_errors:
                reasons.append("compile error")
            if undefined:
                reasons.append("F821 undefined names")
            if e["code_cells"] >= MIN_CODE_CELLS_FOR_SPLIT and (r.get("steps") or 0) < 2 and mods:
                reasons.append(f"not split (>= {MIN_CODE_CELLS_FOR_SPLIT} code cells, < 2 steps)")
            r["reasons"] = reasons
            r["ok"] = not reasons
            if tool == "soorgeon":
                # soorgeon rewrites its input (black); recorded, not counted
                r["ok_strict"] = r["ok"] and r["input_identical"]


# --------------------------------------------------------------------------
# (b) verify
# --------------------------------------------------------------------------
EXEC_SNIPPET = r"""
import json, sys, tempfile, time
import nbformat
from nbclient import NotebookClient
nb = nbformat.read(sys.argv[1], as_version=4)
t0 = time.perf_counter()
with tempfile.TemporaryDirectory() as tmp:
    try:
        NotebookClient(nb, timeout=60, kernel_name="python3", resources={"metadata": {"path": tmp}}).execute()
        print(json.dumps({"ok": True, "secs": time.perf_counter() - t0}))
    except Exception as e:
        print(json.dumps({"ok": False, "secs": time.perf_counter() - t0, "error": f"{type(e).__name__}: {str(e)[-300:]}"}))
"""


def importable(py: Path, modules: list[str]) -> set[str]:
    code = (
        "import importlib.util, json, sys\nok=[]\nfor m in sys.argv[1:]:\n"
        "    try:\n        ok.append(m) if importlib.util.find_spec(m) else None\n"
        "    except Exception:\n        pass\nprint(json.dumps(ok))"
    )
    r = subprocess.run([str(py), "-c", code, *modules], capture_output=True, text=True, check=False)
    try:
        return set(json.loads(r.stdout))
    except json.JSONDecodeError:
        return set()


def select_executable(corpus: list[dict], py: Path, jobs: int) -> list[dict]:
    """Corpus notebooks that run to the end offline here (nbclient, 60 s per cell), cached by hash."""
    mods = sorted({m for e in corpus for m in e["imports"]})
    have = importable(py, mods)
    cands = [e for e in corpus if set(e["imports"]) <= have and not e["syntax_error"]]
    try:
        cache = json.loads(EXEC_CACHE.read_text())
    except (OSError, json.JSONDecodeError):
        cache = {}
    key = sh(
        [
            str(py),
            "-c",
            "import sys, sklearn, numpy, pandas; print(sys.version.split()[0], numpy.__version__, pandas.__version__, sklearn.__version__)",
        ]
    )
    todo = [e for e in cands if cache.get(e["sha256"], {}).get("env") != key]
    log(
        f"(b) {len(cands)} corpus notebooks import only what is installed; executing {len(todo)} not yet cached"
    )

    def one(e: dict) -> tuple[str, dict]:
        r = run_cmd(
            [str(py), "-c", EXEC_SNIPPET, str(HERE / e["path"])], HERE, 300, env=nbops_env(py)
        )
        out = parse_json_out(r["stdout"]) or {
            "ok": False,
            "error": "timeout" if r["timeout"] else r["stderr"][-300:],
        }
        out["env"] = key
        return e["sha256"], out

    with cf.ThreadPoolExecutor(jobs) as ex:
        for h, out in ex.map(one, todo):
            cache[h] = out
    EXEC_CACHE.parent.mkdir(parents=True, exist_ok=True)
    EXEC_CACHE.write_text(json.dumps(cache, indent=1, sort_keys=True))
    return [e for e in cands if cache.get(e["sha256"], {}).get("ok")]


def installed_kernels(py: Path) -> set[str]:
    code = (
        "import json\nfrom jupyter_client.kernelspec import KernelSpecManager\n"
        "print(json.dumps(sorted(KernelSpecManager().find_kernel_specs())))"
    )
    r = subprocess.run(
        [str(py), "-c", code],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, **nbops_env(py)},
    )
    try:
        return set(json.loads(r.stdout))
    except json.JSONDecodeError:
        return {"python3"}


def kernel_name(src: Path) -> str | None:
    try:
        ks = (json.loads(src.read_text(encoding="utf-8")).get("metadata") or {}).get("kernelspec")
    except (OSError, ValueError, AttributeError):
        return None
    return ks.get("name") if isinstance(ks, dict) and isinstance(ks.get("name"), str) else None


def run_verify_one(
    label: str,
    group: str,
    src: Path,
    py: Path,
    timeout: float,
    cell_timeout: int,
    kernels: set[str],
) -> dict:
    work = RUNS_DIR / "verify" / label
    nb = prepare_copy(src, work)
    before = file_hash(nb)
    tmpl = NBOPS_VERIFY
    kn = kernel_name(src)
    if kn and kn not in kernels:
        tmpl += NBOPS_VERIFY_KERNEL
    cmd = shlex.split(
        tmpl.format(
            py=shlex.quote(str(py)),
            nb=shlex.quote(str(nb.relative_to(work))),
            out="out",
            cell_timeout=cell_timeout,
        )
    )
    # a key the notebook hard-codes is read from the environment by the module: set it, as
    # a user running the pipeline would
    env = {**nbops_env(py), **secret_env(nb)}
    r = run_cmd(cmd, work, timeout, env=env, log_file=work / "log.txt")
    res = {
        "label": label,
        "group": group,
        "source": (
            str(src.relative_to(HERE.parent)) if src.is_relative_to(HERE.parent) else str(src)
        ),
        "rc": r["rc"],
        "timeout": r["timeout"],
        "secs": r["secs"],
        "input_identical": file_hash(nb) == before,
        "work": str(work.relative_to(HERE)),
        "kernel_override": tmpl != NBOPS_VERIFY,
    }
    res["traceback"] = traceback_summary(r["stderr"]) or traceback_summary(r["stdout"])
    data = parse_json_out(r["stdout"])
    res["json_ok"] = isinstance(data, dict)
    res["ok"] = r["rc"] == 0 and res["input_identical"]
    res["reason"] = "" if res["ok"] else verify_reason(r, data, res)
    if isinstance(data, dict):
        res["summary"] = {
            k: v for k, v in data.items() if isinstance(v, (str, int, float, bool)) or v is None
        }
        # issue 13: the verdict, what was compared, and whether the notebook ran to the end
        res["verdict"] = data.get("verdict")
        res["compared"] = data.get("compared")
        res["runs_through"] = data.get("notebook_stopped") is None
    if res.get("runs_through"):
        res["tests"] = run_generated_tests(nb, work, py, timeout)
    return res


_SECRET_LINE = re.compile(
    r'^\s*(?:os\.environ\["(\w+)"\]|(\w*(?:KEY|TOKEN|SECRET|PASSWORD|_ID)\w*))\s*=\s*"([^"\\]+)"\s*(?:#.*)?$'
)


def secret_env(nb: Path) -> dict[str, str]:
    """The keys a notebook hard-codes (``API_KEY = "..."``, ``os.environ["X"] = "..."``), by
    the name nbops' module reads them from (``os.environ["API_KEY"]``)."""
    found: dict[str, str] = {}
    try:
        cells = json.loads(nb.read_text(encoding="utf-8")).get("cells", [])
    except (OSError, ValueError):
        return found
    for cell in cells:
        source = cell.get("source", "")
        source = "".join(source) if isinstance(source, list) else str(source)
        for line in source.splitlines():
            m = _SECRET_LINE.match(line)
            if m and cell.get("cell_type") == "code":
                found[m.group(1) or m.group(2)] = m.group(3)
    return found


def run_generated_tests(nb: Path, work: Path, py: Path, timeout: float) -> dict:
    """Issue 13: modularize the notebook (written this time) and run the generated tests
    with pytest, from the written project, as a reviewer's CI would."""
    out = work / "generated"
    env = {**nbops_env(py), **secret_env(nb)}
    made = run_cmd(
        [str(py), "-m", "nbops", "modularize", str(nb.relative_to(work)), "--out", "generated", "--format", "json"],
        work, timeout, env=env, log_file=work / "modularize-log.txt",
    )
    if made["rc"] != 0:
        return {"written": False, "rc": made["rc"], "passed": False}
    tests = run_cmd(
        [str(py), "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"],
        out, timeout, env=env, log_file=work / "tests-log.txt",
    )
    return {"written": True, "rc": tests["rc"], "passed": tests["rc"] == 0, "secs": tests["secs"]}


def verify_reason(r: dict, data: Any, res: dict) -> str:
    if r["timeout"]:
        return "timeout"
    if res.get("traceback"):
        return "crash: " + res["traceback"]
    if not res["input_identical"]:
        return "input modified"
    if isinstance(data, dict) and isinstance(data.get("outputs"), list):
        outs = [o for o in data["outputs"] if isinstance(o, dict)]
        bad = [o for o in outs if o.get("status") not in ("equal", "not run")]
        ns, ps = data.get("notebook_stopped"), data.get("pipeline_stopped")
        parts = []
        if bad:
            b = bad[0]
            parts.append(
                f"`{b.get('step')}.{b.get('name')}` {b.get('status')}"
                + (f": {str(b.get('detail'))[:120]}" if b.get("detail") else "")
                + (f" (+{len(bad) - 1} more outputs not equal)" if len(bad) > 1 else "")
            )
        if isinstance(ps, dict) and ps != ns:
            parts.append(f"pipeline stopped in `{ps.get('step')}`: {str(ps.get('error'))[:160]}")
        if isinstance(ns, dict) and ps != ns:
            parts.append(f"notebook stopped in `{ns.get('step')}`: {str(ns.get('error'))[:160]}")
        if parts:
            return "; ".join(parts)
    if isinstance(data, dict):
        # look for the first failing step / message in whatever shape the JSON has
        for key in ("error", "message", "reason"):
            if isinstance(data.get(key), str) and data[key]:
                return data[key][:200]
        for key in ("steps", "results", "comparisons", "mismatches", "differences"):
            items = data.get(key)
            if isinstance(items, list):
                bad = [
                    s
                    for s in items
                    if isinstance(s, dict)
                    and (
                        s.get("equal") is False
                        or s.get("ok") is False
                        or s.get("status") not in (None, "ok", "equal", "pass", "passed", "same")
                    )
                ]
                if bad:
                    s = bad[0]
                    return (
                        f"{key}: "
                        + ", ".join(
                            f"{k}={str(v)[:80]}"
                            for k, v in s.items()
                            if k
                            in (
                                "name",
                                "step",
                                "status",
                                "message",
                                "detail",
                                "diff",
                                "output",
                                "reason",
                                "error",
                            )
                        )
                    )[:240]
        return (
            f"exit {r['rc']}: "
            + json.dumps({k: v for k, v in data.items() if not isinstance(v, (list, dict))})[:200]
        )
    msg = (r["stderr"].strip() or r["stdout"].strip()).splitlines()
    return f"exit {r['rc']}: " + (msg[-1][:200] if msg else "")


def reason_from_log(log_file: Path, res: dict) -> str | None:
    """verify_reason() again from a run's log (so a re-render uses the current wording)."""
    try:
        text = log_file.read_text(errors="replace")
    except OSError:
        return None
    m = re.search(r"^# exit (\S+)", text, re.MULTILINE)
    out = text.split("--- stdout\n", 1)[-1].split("\n--- stderr\n", 1)
    stdout, stderr = out[0], (out[1] if len(out) > 1 else "")
    rc = None if not m or m.group(1) == "None" else int(m.group(1))
    r = {"rc": rc, "timeout": bool(res.get("timeout")), "stdout": stdout, "stderr": stderr}
    return verify_reason(r, parse_json_out(stdout), res)


# --------------------------------------------------------------------------
# (c) timing
# --------------------------------------------------------------------------
INPROC_SNIPPET = r"""
import json, os, shutil, sys, tempfile, time
from pathlib import Path
src, runs = Path(sys.argv[1]), int(sys.argv[2])
def cpu():  # this process and its waited-for children (a busy machine inflates wall time only)
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system
t0 = time.perf_counter()
from nbops.modularize import ModularizeOptions, modularize
t_import = time.perf_counter() - t0
times, cpu_times, info = [], [], {}
for i in range(runs):
    d = Path(tempfile.mkdtemp(prefix="nbops-big-"))
    nb = d / src.name
    shutil.copyfile(src, nb)
    t, c = time.perf_counter(), cpu()
    result = modularize(nb, ModularizeOptions(package=None, out=d / "out", dry_run=False, force=False))
    times.append(time.perf_counter() - t)
    cpu_times.append(cpu() - c)
    if i == 0:
        plan = result.to_dict(root=d)
        mods = [f["path"] for f in plan.get("files", []) if f.get("kind") == "module"]
        info = {"steps": len(plan.get("steps", [])), "strategy": plan.get("strategy"),
                "module": str(d / mods[0]) if mods else None, "keep": str(d),
                "problems": len(plan.get("problems", []))}
    else:
        shutil.rmtree(d, ignore_errors=True)
print(json.dumps({"import_s": t_import, "times": times, "cpu_times": cpu_times, **info}))
"""


def run_timing(py: Path, n_cells: int, runs: int, ruff: list[str]) -> dict[str, Any]:
    d = RUNS_DIR / "timing"
    if d.exists():
        shutil.rmtree(d)
    d.mkdir(parents=True)
    nb = d / f"big_{n_cells}.ipynb"
    nbj = make_verify_corpus.big_notebook(n_cells)
    nb.write_text(json.dumps(nbj, indent=1) + "\n", encoding="utf-8")
    n_code = sum(c["cell_type"] == "code" for c in nbj["cells"])
    out: dict[str, Any] = {
        "cells": len(nbj["cells"]),
        "code_cells": n_code,
        "runs": runs,
        "bytes": nb.stat().st_size,
        "loadavg": harness.loadavg(),
    }
    r = run_cmd(
        [str(py), "-c", INPROC_SNIPPET, str(nb), str(runs)],
        d,
        600,
        env=nbops_env(py),
        log_file=d / "inproc.log",
    )
    data = parse_json_out(r["stdout"])
    if not isinstance(data, dict):
        out["error"] = traceback_summary(r["stderr"]) or r["stderr"][-300:] or f"exit {r['rc']}"
        return out
    out["inproc"] = data
    out["inproc_median_s"] = statistics.median(data["times"])
    out["inproc_min_s"] = min(data["times"])
    if data.get("module") and Path(data["module"]).exists():
        m = Path(data["module"])
        out["module_compiles"] = compiles(m) is None
        out["module_undefined"] = ruff_f821(ruff, [m]).get(str(m), [])
        out["module_lines"] = len(m.read_text().splitlines())
    if data.get("keep"):
        shutil.rmtree(data["keep"], ignore_errors=True)
    cli = []
    for i in range(runs):
        w = d / f"cli{i}"
        w.mkdir()
        shutil.copyfile(nb, w / nb.name)
        cmd = shlex.split(NBOPS_MODULARIZE.format(py=shlex.quote(str(py)), nb=nb.name, out="out"))
        rr = run_cmd(cmd, w, 300, env=nbops_env(py), log_file=w / "log.txt")
        cli.append({"secs": rr["secs"], "rc": rr["rc"]})
    out["cli"] = cli
    out["cli_median_s"] = statistics.median(c["secs"] for c in cli)
    out["cli_rcs"] = sorted({c["rc"] for c in cli}, key=str)
    # start-up alone, to read the CLI figure
    st = [
        run_cmd([str(py), "-m", "nbops", "--version"], d, 60, env=nbops_env(py))["secs"]
        for _ in range(3)
    ]
    out["cli_startup_median_s"] = statistics.median(st)
    return out


# --------------------------------------------------------------------------
# orchestration
# --------------------------------------------------------------------------
def nbops_has(py: Path, command: str) -> tuple[bool, str]:
    r = run_cmd([str(py), "-m", "nbops", command, "--help"], HERE, 60, env=nbops_env(py))
    ok = r["rc"] == 0
    return ok, ("" if ok else (r["stderr"].strip().splitlines() or ["?"])[-1][:200])


def machine(py: Path, ruff: list[str]) -> dict[str, Any]:
    nbops_pkgs = ["nbops", "nbformat", "nbclient", "papermill", "ipykernel", "numpy", "pandas",
                  "scikit-learn", "matplotlib"]
    soorgeon_pkgs = ["soorgeon", "black", "isort", "jupytext", "parso", "pyflakes", "ploomber-core"]
    m = harness.machine()
    m["harness python"] = m.pop("python")  # after the load average, as the report shows it
    m["nbops"] = f"{harness.versions(py, nbops_pkgs)} (python {py}; git {harness.git_rev()})"
    m["ruff (F821 check)"] = sh([*ruff, "--version"])
    m["soorgeon venv"] = (
        harness.versions(SOORGEON_BIN / "python", soorgeon_pkgs)
        if (SOORGEON_BIN / "python").exists()
        else "missing (run benchmarks/setup_soorgeon.sh)"
    )
    return m


def sample(items: list, k: int, seed: int = 4) -> list:
    if k <= 0 or k >= len(items):
        return list(items)
    rnd = random.Random(seed)
    return sorted(rnd.sample(items, k), key=lambda e: e["id"] if isinstance(e, dict) else e)


def part_corpus(args: argparse.Namespace, manifest: dict, ruff: list[str]) -> dict[str, Any]:
    corpus = manifest["entries"]
    entries = sample(corpus, args.limit)
    have_nbops, why = nbops_has(args.nbops_python, "modularize")
    have_soorgeon = (SOORGEON_BIN / "soorgeon").exists()
    if not have_soorgeon:
        log("soorgeon venv missing: run `bash benchmarks/setup_soorgeon.sh`; soorgeon rows skipped")
    for tool in ("nbops", "soorgeon"):
        if (RUNS_DIR / tool).exists():
            shutil.rmtree(RUNS_DIR / tool)
    results: dict[str, dict[str, dict]] = {"nbops": {}, "soorgeon": {}}
    jobs: list[tuple[str, dict]] = []
    for e in entries:
        if have_nbops:
            jobs.append(("nbops", e))
        if have_soorgeon:
            jobs.append(("soorgeon", e))
    log(
        f"(a) {len(entries)} notebooks x {'nbops' if have_nbops else ''} {'soorgeon' if have_soorgeon else ''}"
        f" ({len(jobs)} runs, {args.jobs} at a time, timeout {args.timeout:.0f} s)"
    )
    lock = threading.Lock()
    done = [0]
    t0 = time.perf_counter()

    def one(job: tuple[str, dict]) -> None:
        tool, e = job
        try:
            r = (
                run_nbops_one(e, args.nbops_python, args.timeout)
                if tool == "nbops"
                else run_soorgeon_one(e, args.timeout)
            )
        except Exception as ex:  # noqa: BLE001 - a harness bug must not lose the run
            r = {
                "rc": None,
                "timeout": False,
                "secs": 0,
                "input_identical": True,
                "work": "",
                "traceback": f"harness: {type(ex).__name__}: {ex}",
            }
        with lock:
            results[tool][e["id"]] = r
            done[0] += 1
            if done[0] % 50 == 0 or done[0] == len(jobs):
                log(f"(a) {done[0]}/{len(jobs)} runs, {time.perf_counter() - t0:.0f} s")

    with cf.ThreadPoolExecutor(args.jobs) as ex:
        list(ex.map(one, jobs))
    judge({k: v for k, v in results.items() if v}, corpus, ruff)
    # a friendlier baseline, reported apart: rerun soorgeon with --single-task where it
    # refused for lack of H2 headings (what its error message suggests)
    if have_soorgeon and not args.no_soorgeon_fallback:
        by_id = {e["id"]: e for e in entries}
        retry = [
            by_id[i]
            for i, r in results["soorgeon"].items()
            if any(x.startswith("no H2 headings") for x in r.get("reasons") or [])
        ]
        if (RUNS_DIR / "soorgeon-single").exists():
            shutil.rmtree(RUNS_DIR / "soorgeon-single")
        log(
            f"(a) soorgeon --single-task on the {len(retry)} notebooks it refused for lack of H2 headings"
        )
        with cf.ThreadPoolExecutor(args.jobs) as ex:
            single = dict(
                zip(
                    [e["id"] for e in retry],
                    ex.map(lambda e: run_soorgeon_one(e, args.timeout, single=True), retry),
                )
            )
        results["soorgeon_single"] = single
        judge({"soorgeon_single": single}, corpus, ruff)
    return {
        "measured": now(),
        "n": len(entries),
        "sampled": args.limit > 0 and args.limit < len(corpus),
        "nbops_available": have_nbops,
        "nbops_unavailable_reason": why,
        "soorgeon_available": have_soorgeon,
        "wall_s": round(time.perf_counter() - t0, 1),
        "ids": [e["id"] for e in entries],
        "results": results,
    }


def part_verify(args: argparse.Namespace, manifest: dict) -> dict[str, Any]:
    have, why = nbops_has(args.nbops_python, "verify")
    py = args.nbops_python
    examples = sorted((REPO / "examples").glob("*.ipynb"))
    make_verify_corpus.write_all(VERIFY_CORPUS)
    own = sorted(VERIFY_CORPUS.glob("*.ipynb"))
    real = select_executable(manifest["entries"], py, args.jobs)
    if args.quick:
        examples, own, real = examples[:2], own[:3], real[:1]
    safe = lambda t: re.sub(r"[^\w.-]+", "_", t)
    items = (
        [("ex-" + p.stem, "examples", p) for p in examples]
        + [
            (safe(f"real-{e['id']}-{Path(e['origin']).stem}"), "real", HERE / e["path"])
            for e in real
        ]
        + [("own-" + p.stem, "own", p) for p in own]
    )
    kernels = installed_kernels(py)
    out: dict[str, Any] = {
        "measured": now(),
        "available": have,
        "unavailable_reason": why,
        "real_executable": [e["origin"] for e in real],
        "real_candidates_note": "corpus notebooks whose imports are installed and that nbclient runs to the end in an empty temp dir",
        "results": [],
    }
    if not have:
        log(f"(b) nbops verify not available: {why}")
        return out
    if (RUNS_DIR / "verify").exists():
        shutil.rmtree(RUNS_DIR / "verify")
    log(
        f"(b) nbops verify on {len(items)} notebooks ({len(examples)} examples, {len(real)} real, {len(own)} own)"
    )
    t0 = time.perf_counter()
    with cf.ThreadPoolExecutor(args.jobs) as ex:
        res = list(
            ex.map(
                lambda it: run_verify_one(
                    it[0], it[1], it[2], py, args.verify_timeout, args.cell_timeout, kernels
                ),
                items,
            )
        )
    out["results"] = res
    out["wall_s"] = round(time.perf_counter() - t0, 1)
    return out


def part_timing(args: argparse.Namespace, ruff: list[str]) -> dict[str, Any]:
    have, why = nbops_has(args.nbops_python, "modularize")
    if not have:
        return {"measured": now(), "available": False, "unavailable_reason": why}
    log(f"(c) timing: {args.big_cells}-cell notebook, {args.runs} runs in-process and by CLI")
    out = run_timing(args.nbops_python, args.big_cells, args.runs, ruff)
    out["measured"] = now()
    out["available"] = True
    return out


# --------------------------------------------------------------------------
# (d) issue 13: what a reviewer reads in the generated module
# --------------------------------------------------------------------------
# Command lines of the checks on each generated module (the project's line length).
RUFF_RULES = "E,F,W,I,B,UP,SIM,N"
RUFF_CHECK = (
    "{ruff} check --isolated --no-cache --line-length 100 --target-version py310 "
    "--select " + RUFF_RULES + " --output-format json --exit-zero {module}"
)
RUFF_FORMAT = "{ruff} format --isolated --no-cache --line-length 100 --check {module}"
# --config-file= : no config file, not even this repository's strict one (default settings)
MYPY = (
    "{py} -m mypy --config-file= --no-error-summary --show-error-codes --no-color-output "
    "--cache-dir {cache} {module}"
)
# mypy error codes that mean "a package or its stubs is not installed here", not a typing fault
MYPY_IMPORT_CODES = {"import-not-found", "import-untyped", "import"}
ISSUE13_JSON = RESULTS_DIR / "modularize-issue13.json"
# the report's section is delimited by these markers, one section per --issue13-label
ISSUE13_BEGIN = (
    "<!-- issue13:{slug}:begin (generated by benchmarks/modularize.py --only issue13) -->"
)
ISSUE13_END = "<!-- issue13:{slug}:end -->"
ISSUE13_LABEL = "Issue 13 numbers"


def label_slug(label: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", label.lower()).strip("-") or "issue13"


MAX_STEP_LINES = 60
MAX_IDENTIFIER = 30
TARGET13_CLEAN = 0.97
TARGET13_STEP_N = 0.02
TARGET13_PARAMS = 0.80


def notebook_code_cells(path: Path) -> list[str]:
    nb = json.loads(path.read_text(encoding="utf-8"))
    cells = [c for c in nb.get("cells", []) if isinstance(c, dict)]
    return [to_python(cell_source(c)) for c in cells if c.get("cell_type") == "code"]


def check_module(m: Path, py: Path, ruff: list[str], mypy_cache: Path, timeout: float) -> dict:
    """compile, ruff rule set (F821 among them), ruff format, mypy: one generated module."""
    out: dict[str, Any] = {"compile_error": compiles(m)}
    fmt = lambda c: shlex.split(
        c.format(
            ruff=shlex.join(ruff),
            py=shlex.quote(str(py)),
            module=shlex.quote(m.name),
            cache=shlex.quote(str(mypy_cache)),
        )
    )
    r = run_cmd(fmt(RUFF_CHECK), m.parent, timeout)
    try:
        diags = json.loads(r["stdout"] or "[]")
        out["ruff_codes"] = dict(Counter(str(d.get("code") or "syntax") for d in diags))
        out["f821"] = [
            (re.findall(r"`([^`]+)`", d.get("message", "")) or ["?"])[0]
            for d in diags
            if d.get("code") == "F821"
        ]
    except json.JSONDecodeError:
        out["ruff_error"] = (r["stderr"] or r["stdout"])[-300:]
    out["ruff_format_rc"] = run_cmd(fmt(RUFF_FORMAT), m.parent, timeout)["rc"]
    r = run_cmd(fmt(MYPY), m.parent, timeout, log_file=m.parent / "mypy.log")
    errs = [
        ln for ln in (r["stdout"] or "").splitlines() if re.match(r"^[^:]+:\d+(:\d+)?: error:", ln)
    ]
    codes = [(re.findall(r"\[([a-z-]+)\]\s*$", ln) or ["?"])[0] for ln in errs]
    out["mypy_rc"] = r["rc"]
    out["mypy_timeout"] = r["timeout"]
    out["mypy_codes"] = dict(Counter(codes))
    out["mypy_secs"] = r["secs"]
    if r["rc"] not in (0, 1) and not r["timeout"]:
        out["mypy_error"] = (r["stderr"] or r["stdout"])[-300:]
    return out


def run_issue13_one(
    e: dict, py: Path, timeout: float, ruff: list[str], mypy_cache: Path
) -> dict[str, Any]:
    r = run_nbops_one(e, py, timeout, kind="issue13")
    # corpus origins are paths inside the sdist (top folder included)
    r["origin"] = (
        e["origin"] if e.get("group", "corpus") == "corpus" else f"{e['group']}/{e['origin']}"
    )
    r["group"] = e.get("group", "corpus")
    plan = r.pop("_plan", None)
    if isinstance(plan, dict) and plan.get("message"):
        r["error_detail"] = str(plan["message"])[:300]
    try:
        cells = notebook_code_cells(HERE / e["path"])
    except (OSError, json.JSONDecodeError, UnicodeDecodeError) as ex:
        cells = []
        r["notebook_error"] = str(ex)[:200]
    r["constants"] = _mq.literal_constants_read_later(cells)
    if r.get("module_exists"):
        m = HERE / r["module"]
        r.update(check_module(m, py, ruff, mypy_cache, timeout))
        info = _mq.analyze_module(
            m.read_text(encoding="utf-8", errors="replace"),
            plan if isinstance(plan, dict) else None,
            _mq.notebook_identifiers(cells),
        )
        r["module_info"] = info
        r["proposed"] = _mq.proposed_parameters(plan if isinstance(plan, dict) else None, info)
    return r


def part_issue13(args: argparse.Namespace, manifest: dict, ruff: list[str]) -> dict[str, Any]:
    corpus = manifest["entries"]
    entries = [{**e, "group": "corpus"} for e in sample(corpus, args.limit)]
    # reported apart from corpus (a): the project's examples and the verify corpus
    # (data-science notebooks, the shape issue 13 is about)
    for group, folder in (("examples", REPO / "examples"), ("verify_corpus", VERIFY_CORPUS)):
        for nb in sorted(folder.glob("*.ipynb")):
            entries.append(
                {
                    "id": f"{group}-{nb.stem}",
                    "group": group,
                    "sdist": group,
                    "origin": nb.name,
                    "path": os.path.relpath(nb, HERE),
                }
            )
    have, why = nbops_has(args.nbops_python, "modularize")
    if not have:
        return {"measured": now(), "available": False, "unavailable_reason": why}
    if (RUNS_DIR / "issue13").exists():
        shutil.rmtree(RUNS_DIR / "issue13")
    log(f"(d) issue 13: {len(entries)} notebooks, {args.jobs} at a time")
    results: dict[str, dict] = {}
    lock = threading.Lock()
    t0 = time.perf_counter()
    caches = [CACHE / f"mypy-{i}" for i in range(max(1, args.jobs))]  # one per worker
    local = threading.local()
    counter = [0]

    def one(e: dict) -> None:
        if not hasattr(local, "cache"):
            with lock:
                local.cache = caches[counter[0] % len(caches)]
                counter[0] += 1
        try:
            r = run_issue13_one(e, args.nbops_python, args.timeout, ruff, local.cache)
        except Exception as ex:  # noqa: BLE001 - a harness bug must not lose the run
            r = {"rc": None, "traceback": f"harness: {type(ex).__name__}: {ex}"}
        with lock:
            results[e["id"]] = r
            if len(results) % 50 == 0 or len(results) == len(entries):
                log(f"(d) {len(results)}/{len(entries)}, {time.perf_counter() - t0:.0f} s")

    with cf.ThreadPoolExecutor(args.jobs) as ex:
        list(ex.map(one, entries))
    wall = round(time.perf_counter() - t0, 1)
    log(f"(d) timing: {args.big_cells}-cell notebook, {args.runs} runs")
    timing = run_timing(args.nbops_python, args.big_cells, args.runs, ruff)
    src = sh([str(args.nbops_python), "-c", "import nbops; print(nbops.__file__)"])
    return {
        "measured": now(),
        "available": True,
        "n": sum(e["group"] == "corpus" for e in entries),
        "corpus_n": len(corpus),
        "sdists": [f"{x['name']}=={x['version']}" for x in manifest["sdists"]],
        "sampled": 0 < args.limit < len(corpus),
        "limit": args.limit,
        "wall_s": wall,
        # the checkout's own sources by their repository path: no path of this machine in docs/
        "nbops_from": (
            Path(src).relative_to(REPO).as_posix() if Path(src).is_relative_to(REPO) else src
        ),
        "pythonpath": os.environ.get("PYTHONPATH", ""),
        "git": sh(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"]),
        "tools": {
            "ruff": sh([*ruff, "--version"]),
            "mypy": sh([str(args.nbops_python), "-m", "mypy", "--version"]),
        },
        "machine": machine(args.nbops_python, ruff),
        "results": results,
        "timing": timing,
    }


def summarize_issue13(d: dict, group: str | None = "corpus") -> dict[str, Any]:
    """The shares and distributions of the issue-13 section, from the per-notebook results
    of one group (None: all)."""
    res = {
        i: r for i, r in d["results"].items() if group is None or r.get("group", "corpus") == group
    }
    ok = {i: r for i, r in res.items() if r.get("module_exists")}
    n = len(res)

    def share(pred: Any) -> int:
        return sum(1 for r in res.values() if r.get("module_exists") and pred(r))

    no_f821 = lambda r: r.get("compile_error") is None and not r.get("f821")
    ruff_ok = lambda r: "ruff_codes" in r and not r["ruff_codes"]
    fmt_ok = lambda r: r.get("ruff_format_rc") == 0
    mypy_ok = lambda r: r.get("mypy_rc") == 0
    mypy_own = lambda r: (
        r.get("mypy_rc") in (0, 1) and not (set(r.get("mypy_codes") or {}) - MYPY_IMPORT_CODES)
    )
    steps = [s for r in ok.values() for s in (r.get("module_info") or {}).get("steps") or []]
    long_multi = [s for s in steps if s["lines"] > MAX_STEP_LINES and not s["one_cell"]]
    returns = Counter(s["returns"] for s in steps)
    per_nb_max_ret = [
        max([s["returns"] for s in (r.get("module_info") or {}).get("steps") or []] or [0])
        for r in ok.values()
    ]
    infos = [r.get("module_info") or {} for r in ok.values()]
    ids = [(x.get("longest_identifier") or "") for x in infos]
    longest = max(ids, key=len, default="")
    with_consts = {i: r for i, r in res.items() if r.get("constants")}
    consts_proposed = {i: r for i, r in with_consts.items() if r.get("proposed")}
    recall_num = sum(
        len(set(r["constants"]) & set(r.get("proposed") or [])) for r in with_consts.values()
    )
    recall_den = sum(len(r["constants"]) for r in with_consts.values())
    codes: Counter = Counter()
    mcodes: Counter = Counter()
    for r in ok.values():
        codes.update(r.get("ruff_codes") or {})
        mcodes.update(r.get("mypy_codes") or {})
    # mypy "on its own code" (issue 13): a package not installed here is not the module's fault
    all_ok = share(lambda r: no_f821(r) and ruff_ok(r) and fmt_ok(r) and mypy_own(r))
    step_lines = sorted(s["lines"] for s in steps)
    if_show = sorted(x.get("if_show", 0) for x in infos)
    return {
        "n": n,
        "module": len(ok),
        "compiles": share(lambda r: r.get("compile_error") is None),
        "no_f821": share(no_f821),
        "ruff_ok": share(ruff_ok),
        "format_ok": share(fmt_ok),
        "mypy_ok": share(mypy_ok),
        "mypy_own_ok": share(mypy_own),
        "all_ok": all_ok,
        "ruff_codes": codes.most_common(15),
        "mypy_codes": mcodes.most_common(10),
        "steps": len(steps),
        "step_lines_median": statistics.median(step_lines) if step_lines else 0,
        "step_lines_p90": step_lines[int(0.9 * (len(step_lines) - 1))] if step_lines else 0,
        "step_lines_max": step_lines[-1] if step_lines else 0,
        "steps_one_cell": sum(s["one_cell"] for s in steps),
        "steps_over": sum(s["lines"] > MAX_STEP_LINES for s in steps),
        "steps_over_multi": len(long_multi),
        "modules_with_long_multi": sum(
            any(s["lines"] > MAX_STEP_LINES and not s["one_cell"] for s in x.get("steps") or [])
            for x in infos
        ),
        "steps_over_multi_code": sum(
            s["code_lines"] > MAX_STEP_LINES and not s["one_cell"] for s in steps
        ),
        "step_n": sum(s["step_n"] for s in steps),
        "modules_only_step_n": sum(
            bool(x.get("steps")) and all(s["step_n"] for s in x["steps"]) for x in infos
        ),
        "returns": sorted(returns.items()),
        "returns_over_2": sum(v for k, v in returns.items() if k > 2),
        "returns_dataclass": sum(s["returns_dataclass"] for s in steps),
        "modules_tuple_over_2": sum(m > 2 for m in per_nb_max_ret),
        "max_tuple_median": statistics.median(per_nb_max_ret) if per_nb_max_ret else 0,
        "show_param_modules": sum(bool(x.get("show_params")) for x in infos),
        "show_step_params": sum(
            len(set(x.get("show_params") or []) & {s["name"] for s in x.get("steps") or []})
            for x in infos
        ),
        "if_show_total": sum(if_show),
        "if_show_median": statistics.median(if_show) if if_show else 0,
        "if_show_max": if_show[-1] if if_show else 0,
        "nb_show_calls": sum(x.get("nb_show_calls", 0) for x in infos),
        "longest_identifier": longest,
        "modules_id_over_30": sum(bool(x.get("identifiers_over_30")) for x in infos),
        "ids_over_30": sum(len(x.get("identifiers_over_30") or []) for x in infos),
        "with_constants": len(with_consts),
        "with_constants_proposed": len(consts_proposed),
        "constants_recall": (recall_num, recall_den),
        "any_proposed": sum(bool(r.get("proposed")) for r in res.values()),
        "failed_runs": sorted(i for i, r in res.items() if not r.get("module_exists")),
    }


def sdists_note(d: dict) -> str:
    """Which of the pinned sdists made corpus (a) in that run (a download can fail)."""
    used = d.get("sdists")
    if used is None:
        try:
            man = json.loads((CORPUS_DIR / "_manifest.json").read_text())
            used = [f"{x['name']}=={x['version']}" for x in man["sdists"]]
        except (OSError, json.JSONDecodeError, KeyError):
            return ""
    missing = [f"{n}=={v}" for n, v in SDISTS if f"{n}=={v}" not in used]
    if not missing:
        return "; corpus (a) from all the pinned sdists"
    return (
        f"; corpus (a) from {len(used)} of the {len(SDISTS)} pinned sdists: "
        f"{', '.join(missing)} could not be downloaded here (`pip download` failed to prepare it), "
        "so its notebooks are missing"
    )


def group_rows(d: dict) -> list[str]:
    rows = []
    for g in ("corpus", "examples", "verify_corpus", None):
        s = summarize_issue13(d, g)
        n, st = s["n"], s["steps"] or 1
        if not n:
            continue
        rows.append(
            f"| {g or 'all'} | {n} | {pct(s['all_ok'], n)} | {pct(s['ruff_ok'], n)} "
            f"| {pct(s['format_ok'], n)} | {pct(s['mypy_own_ok'], n)} "
            f"| {s['steps_over_multi']}/{s['steps']} | {pct(s['step_n'], st)} "
            f"| {s['returns_over_2']} | {s['show_param_modules']}/{s['module']} "
            f"| {s['ids_over_30']} | {s['if_show_total']} "
            f"| {s['with_constants_proposed']}/{s['with_constants']} |"
        )
    return rows


def render_issue13(d: dict) -> str:
    """The issue-13 section of the report, between its markers."""
    s = summarize_issue13(d)
    label = d.get("label") or ISSUE13_LABEL
    slug = label_slug(label)
    n, t = s["n"], d.get("timing") or {}
    cmd = (
        "python benchmarks/modularize.py --only issue13"
        + (f" --limit {d['limit']}" if d.get("sampled") else "")
        + (f" --issue13-label {shlex.quote(label)}" if label != ISSUE13_LABEL else "")
    )
    frozen = (
        f"`PYTHONPATH={d['pythonpath']}` (nbops imported from `{d['nbops_from']}`)"
        if d.get("pythonpath")
        else f"nbops imported from `{d['nbops_from']}`"
    )
    mark = lambda ok: "**PASS**" if ok else "**FAIL**"
    st = s["steps"] or 1
    rows = [
        (
            "module compiles",
            f"{s['compiles']}/{n} = {pct(s['compiles'], n)}",
            "",
        ),
        (
            "... and no undefined name (ruff F821)",
            f"{s['no_f821']}/{n} = {pct(s['no_f821'], n)}",
            "",
        ),
        (
            f"`ruff check --select {RUFF_RULES}` (line length 100) clean",
            f"{s['ruff_ok']}/{n} = {pct(s['ruff_ok'], n)}",
            "",
        ),
        ("`ruff format --check` clean", f"{s['format_ok']}/{n} = {pct(s['format_ok'], n)}", ""),
        (
            "`mypy` (default settings) on the module alone: no error",
            f"{s['mypy_ok']}/{n} = {pct(s['mypy_ok'], n)}",
            "",
        ),
        (
            "... no error other than a missing package / stubs (`import-not-found`, `import-untyped`)",
            f"{s['mypy_own_ok']}/{n} = {pct(s['mypy_own_ok'], n)}",
            "",
        ),
        (
            ">= 97 %: compiles, no F821, ruff clean, formatted, mypy clean on its own code",
            f"{s['all_ok']}/{n} = {pct(s['all_ok'], n)}",
            mark(n and s["all_ok"] / n >= TARGET13_CLEAN),
        ),
        (
            f"no step over {MAX_STEP_LINES} lines unless it comes from one cell",
            f"{s['steps_over_multi']} of {s['steps']} steps ({pct(s['steps_over_multi'], st)}), in {s['modules_with_long_multi']} modules",
            mark(s["steps_over_multi"] == 0),
        ),
        (
            "at most 2 % of steps named `step_N`",
            f"{s['step_n']}/{s['steps']} = {pct(s['step_n'], st)}",
            mark(s["step_n"] / st <= TARGET13_STEP_N),
        ),
        (
            "no returned tuple over 2",
            f"{s['returns_over_2']} steps, in {s['modules_tuple_over_2']} modules",
            mark(s["returns_over_2"] == 0),
        ),
        (
            "no `show` parameter anywhere",
            f"{s['show_param_modules']} modules ({s['show_step_params']} step functions)",
            mark(s["show_param_modules"] == 0),
        ),
        (
            f"no generated identifier over {MAX_IDENTIFIER} characters",
            f"{s['ids_over_30']} in {s['modules_id_over_30']} modules; longest {len(s['longest_identifier'])}",
            mark(s["ids_over_30"] == 0),
        ),
        (
            ">= 80 % of notebooks with top-level literal constants read later get a proposed parameter",
            f"{s['with_constants_proposed']}/{s['with_constants']} = {pct(s['with_constants_proposed'], s['with_constants'])}",
            mark(
                s["with_constants"]
                and s["with_constants_proposed"] / s["with_constants"] >= TARGET13_PARAMS
            ),
        ),
        (
            "a 200-cell notebook modularizes in < 1 s (in-process, median)",
            fmt_s(t.get("inproc_median_s"))
            + (
                f" wall ({fmt_s(statistics.median(t['inproc']['cpu_times']))} CPU)"
                if (t.get("inproc") or {}).get("cpu_times")
                else ""
            ),
            mark((t.get("inproc_median_s") or 99) < TARGET_TIME_S),
        ),
    ]
    L = [
        ISSUE13_BEGIN.format(slug=slug),
        f"## {label}",
        "",
        (
            f"Measured {d['measured']}, {frozen}, git HEAD `{d.get('git', '?')}`; {n} notebooks"
            + (
                f", a random sample (`--limit {d['limit']}`, seed 4) of the {d['corpus_n']} of corpus (a)"
                if d.get("sampled")
                else f", all of corpus (a) as built in this run ({d['corpus_n']} notebooks)"
            )
            + f" and, apart, {len(d['results']) - n} notebooks of examples/ and verify_corpus/"
            + sdists_note(d)
            + f"; {d['wall_s']:.0f} s wall, {(d.get('machine') or {}).get('nproc', '?')} workers' cores, "
            f"load average at the start {(d.get('machine') or {}).get('loadavg', '?')}. "
            f"Tools: {d['tools']['ruff']}, {d['tools']['mypy']}."
        ),
        "",
        *(
            [
                (
                    "Reproduce (the code measured here is a frozen copy of `src/`; without "
                    "`PYTHONPATH` the same command measures the working tree):"
                ),
                "",
                "```sh",
                (
                    f"mkdir -p {d['pythonpath'].removesuffix('/src')} && "
                    f"git archive {d.get('git', 'HEAD')} src | tar -x -C {d['pythonpath'].removesuffix('/src')}"
                ),
                f"PYTHONPATH={d['pythonpath']} {cmd}",
                "```",
            ]
            if d.get("pythonpath")
            else ["Reproduce:", "", "```sh", cmd, "```"]
        ),
        "",
        (
            "Each notebook: `python -m nbops modularize COPY --out OUT --format json` on a fresh copy, then on "
            "the module the plan names (kind `module`), from its own directory: `py_compile`; "
            f"`{RUFF_CHECK.format(ruff='ruff', module='MODULE')}` (F821 is one of its rules); "
            f"`{RUFF_FORMAT.format(ruff='ruff', module='MODULE')}`; "
            f"`{MYPY.format(py='python', cache='CACHE', module='MODULE')}` (default settings, the venv's "
            "packages: numpy, pandas, scikit-learn, matplotlib are installed, holoviews / hvplot are not). "
            "`# noqa: CODE` comments the generator writes (line by line, on the notebook's own code it "
            "cannot change without changing its meaning; listed in the plan's warnings) are honoured, as a "
            "project's CI would. Whether the generated tests pass where the notebook runs is measured in "
            "part (b), which runs the notebooks."
        ),
        "",
        "| issue 13 number | measured | status |",
        "|---|---|---|",
        *[f"| {a} | {b} | {c} |" for a, b, c in rows],
        "",
        "Status is against the issue's target (the numbers a held-out corpus is checked against).",
        "",
        "### By group",
        "",
        (
            "corpus (a) is the headline above; examples (`examples/*.ipynb`) and verify_corpus "
            "(`benchmarks/verify_corpus/*.ipynb`, data-science notebooks written for part (b)) "
            "are the project's own notebooks, closer to the notebooks issue 13 was measured on."
        ),
        "",
        "| group | notebooks | all 4 checks | ruff | format | mypy (own code) | steps > 60 lines, not one cell | `step_N` | tuple > 2 | `show` param | ids > 30 | `if show:` | constants -> parameter |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
        *group_rows(d),
        "",
        "### Checks on the module",
        "",
        f"nbops wrote a module for {s['module']}/{n} notebooks"
        + (
            " (no module: "
            + "; ".join(
                f"`{d['results'][i].get('origin', i)}`: "
                + str(
                    d["results"][i].get("error_detail")
                    or d["results"][i].get("error_message")
                    or d["results"][i].get("traceback")
                )[:170]
                for i in s["failed_runs"][:8]
            )
            + (f"; +{len(s['failed_runs']) - 8} more" if len(s["failed_runs"]) > 8 else "")
            + ")"
            if s["failed_runs"]
            else ""
        )
        + ". Each share above is over all "
        + f"{n} notebooks (no module = fails every check).",
        "",
        "Most frequent ruff findings (count over all modules): "
        + ", ".join(f"`{c}` {k}" for c, k in s["ruff_codes"])
        + ".",
        "",
        "mypy error codes (count over all modules): "
        + (", ".join(f"`{c}` {k}" for c, k in s["mypy_codes"]) or "none")
        + ".",
        "",
        "### Steps",
        "",
        (
            "A step is a function of the plan's `steps[].name` (else, in the second generation's shape "
            "if the plan lists none, a function `run()` calls); its length is the lines from its `def` "
            '(decorators included) to its last line, docstring and blank lines included; "from one cell" '
            "= the plan's `code_cells` (the cells whose code the step function holds; an imports-only "
            "cell the module hoists is not one) has one cell, else its `cells` or the docstring's "
            "`Notebook cells ...`. The returned "
            "size of a step is the largest `return` in its own body: 0 none, 1 one value (a dataclass "
            "instance counts 1), n a tuple of n."
        ),
        "",
        "| | |",
        "|---|---|",
        f"| steps | {s['steps']} ({s['steps_one_cell']} from one cell) |",
        f"| lines per step | median {s['step_lines_median']}, 90th percentile {s['step_lines_p90']}, max {s['step_lines_max']} |",
        f"| steps over {MAX_STEP_LINES} lines | {s['steps_over']} ({s['steps_over_multi']} not from one cell; {s['steps_over_multi_code']} of these over {MAX_STEP_LINES} lines of code alone, without docstring, comments and blank lines) |",
        f"| steps named `step_N` | {s['step_n']} ({pct(s['step_n'], st)}); modules with only `step_N` steps: {s['modules_only_step_n']} |",
        f"| returned size: steps per size | {', '.join(f'{k}: {v}' for k, v in s['returns'])} |",
        f"| steps returning a tuple over 2 | {s['returns_over_2']}; modules with one: {s['modules_tuple_over_2']}; largest tuple per module: median {s['max_tuple_median']} |",
        f"| steps returning a dataclass | {s['returns_dataclass']} |",
        f"| modules with a `show` parameter (any function) | {s['show_param_modules']} ({s['show_step_params']} step functions have one) |",
        f"| `if show:` blocks | {s['if_show_total']} in all; per module median {s['if_show_median']}, max {s['if_show_max']}; `_nb_show(...)` calls: {s['nb_show_calls']} |",
        f"| longest generated identifier | {len(s['longest_identifier'])} characters: `{s['longest_identifier'][:80]}{'...' if len(s['longest_identifier']) > 80 else ''}` |",
        f"| generated identifiers over {MAX_IDENTIFIER} characters | {s['ids_over_30']}, in {s['modules_id_over_30']} modules |",
        "",
        (
            "A generated identifier is a module-level name the module defines (function, class, "
            "assignment target), a step's name or parameter, or a dataclass field, that is not a word "
            "of the notebook's code and not an imported name: the notebook's own names stay as they are."
        ),
        "",
        "### Parameters",
        "",
        (
            "A notebook *has top-level literal constants read later* when a code cell assigns "
            "`NAME = literal` (or `NAME: T = literal`) as a top-level statement (outside functions, classes, "
            "loops, branches, `with`), where the literal is a number (signed), a bool, a string of at "
            f'most {_mq.MAX_LITERAL_STR} characters, `Path("...")`, or a non-empty list / tuple / set of at most '
            f"{_mq.MAX_LITERAL_ITEMS} such literals (not None, not dicts, not empty containers); that is the "
            "only place the notebook binds the name (no other top-level assignment, augmented assignment, "
            "loop target, import, def, del, in-place change such as `NAME.append(...)` or `NAME[k] = ...`, "
            "no `global NAME` in a function); and a later code cell loads the name. "
            "(`benchmarks/_modquality.py: literal_constants_read_later`.) A notebook *got a proposed parameter* "
            "when the plan's `parameters` (or `proposed_parameters`) is not empty, or the module declares a "
            "`PARAMETERS` dict or a `Parameters` class with at least one entry."
        ),
        "",
        (
            f"- notebooks with such constants: {s['with_constants']}/{n}; of them with at least one proposed "
            f"parameter: {s['with_constants_proposed']} ({pct(s['with_constants_proposed'], s['with_constants'])});"
        ),
        f"- constants that became a parameter of the same name: {s['constants_recall'][0]} of {s['constants_recall'][1]};",
        f"- notebooks with any proposed parameter: {s['any_proposed']}/{n} (today only a `parameters`-tagged cell gives them).",
        "",
        "### 200-cell timing",
        "",
    ]
    if t.get("inproc"):
        load = float(str(t.get("loadavg", "0")).split()[0] or 0)
        busy = (
            f" The machine was busy (load {load:.1f} on {os.cpu_count()} cores: other work "
            "shared the CPU), so this figure is slower than on an idle machine; compare timings "
            "from runs at a similar load only."
            if load > (os.cpu_count() or 1)
            else ""
        )
        L.append(
            f"`make_verify_corpus.big_notebook({d.get('big_cells', 200)})` ({t.get('cells')} cells, "
            f"{t.get('code_cells')} code), as in (c): in-process `modularize()` median "
            f"**{fmt_s(t.get('inproc_median_s'))}** (min {fmt_s(t.get('inproc_min_s'))}, "
            f"{t.get('runs')} runs: {', '.join(fmt_s(x) for x in t['inproc']['times'])}"
            + (
                f"; CPU time median {fmt_s(statistics.median(t['inproc']['cpu_times']))}"
                if t["inproc"].get("cpu_times")
                else ""
            )
            + "); CLI wall median "
            f"{fmt_s(t.get('cli_median_s'))}, start-up alone {fmt_s(t.get('cli_startup_median_s'))}. "
            f"Load average when it started: {t.get('loadavg')}"
            + (f" (timing re-measured {t['remeasured']})" if t.get("remeasured") else "")
            + "."
            + busy
        )
    else:
        L.append(f"not measured: {t.get('error', 'no result')}")
    L += ["", ISSUE13_END.format(slug=slug), ""]
    return "\n".join(L)


def keep_issue13_sections(old: str, new: str) -> str:
    """``new`` with every issue-13 section of ``old`` it lacks (by label) added back: a full
    run rewrites the report, and must not drop the baseline measured with another label."""
    for m in re.finditer(
        r"<!-- issue13:([a-z0-9-]+):begin.*?<!-- issue13:\1:end -->", old, flags=re.DOTALL
    ):
        if f"<!-- issue13:{m.group(1)}:begin" not in new:
            new = splice_issue13(new, m.group(0) + "\n")
    return new


def splice_issue13(text: str, section: str) -> str:
    """The report with the issue-13 section of the same label replaced, or appended; the rest kept."""
    slug = section.splitlines()[0].split(":")[1]
    begin, end = ISSUE13_BEGIN.format(slug=slug), ISSUE13_END.format(slug=slug)
    return harness.splice(text, begin, end, section).rstrip("\n") + "\n"


# --------------------------------------------------------------------------
# report
# --------------------------------------------------------------------------
FEATURES = [
    ("no headings", lambda e: e["headings"] == "none"),
    ("H1 headings only", lambda e: e["headings"] == "h1 only"),
    ("no H2 heading (soorgeon's split point)", lambda e: not e["h2"]),
    (
        f">= {MIN_CODE_CELLS_FOR_SPLIT} code cells",
        lambda e: e["code_cells"] >= MIN_CODE_CELLS_FOR_SPLIT,
    ),
    ("functions reading notebook globals", lambda e: bool(e["fn_globals"])),
    ("star imports", lambda e: e["star_import"]),
    ("magics / !shell / ?help", lambda e: e["magics"]),
    ("a cell that is not valid Python", lambda e: e["syntax_error"]),
    ("a `parameters` cell", lambda e: e["parameters_tag"]),
]


def summarize(d: dict) -> dict[str, Any]:
    """Numbers and target verdicts from the raw results."""
    s: dict[str, Any] = {}
    a = d.get("corpus_run") or {}
    res = a.get("results") or {}
    n = a.get("n", 0)
    for tool in ("nbops", "soorgeon"):
        r = res.get(tool) or {}
        s[tool] = {"ok": sum(1 for x in r.values() if x.get("ok")), "n": len(r)}
        if tool == "soorgeon":
            s[tool]["ok_strict"] = sum(1 for x in r.values() if x.get("ok_strict"))
            s[tool]["input_modified"] = sum(1 for x in r.values() if not x.get("input_identical"))
        else:
            s[tool]["input_modified"] = sum(1 for x in r.values() if not x.get("input_identical"))
    nb_ok, sg_ok = s["nbops"]["ok"], s["soorgeon"]["ok"]
    share = nb_ok / n if n and s["nbops"]["n"] else None
    ratio = (nb_ok / sg_ok) if sg_ok else (float("inf") if nb_ok else None)
    t = []
    t.append(
        {
            "key": "a1",
            "goal": f"nbops modularize succeeds on >= {TARGET_SHARE:.0%} of the real corpus",
            "value": f"{nb_ok}/{n} = {pct(nb_ok, n)}" if s["nbops"]["n"] else "not measured",
            "status": (
                "–" if share is None else ("PASS" if share >= TARGET_SHARE else "NOT REACHED")
            ),
        }
    )
    t.append(
        {
            "key": "a2",
            "goal": f">= {TARGET_RATIO:g}x soorgeon refactor on the same corpus, same run",
            "value": (
                (
                    f"{nb_ok} vs {sg_ok} = {ratio:.2f}x"
                    if ratio not in (None, float("inf"))
                    else f"{nb_ok} vs {sg_ok}"
                )
                if s["nbops"]["n"] and s["soorgeon"]["n"]
                else "not measured"
            ),
            "status": (
                "–"
                if not (s["nbops"]["n"] and s["soorgeon"]["n"]) or ratio is None
                else ("PASS" if ratio >= TARGET_RATIO else "NOT REACHED")
            ),
        }
    )
    v = d.get("verify") or {}
    vr = v.get("results") or []
    for key, group, goal in (
        ("b1", ["examples"], TARGET_VERIFY_EXAMPLES),
        ("b2", ["real", "own"], TARGET_VERIFY_OTHERS),
    ):
        g = [x for x in vr if x["group"] in group]
        ok = sum(1 for x in g if x["ok"])
        s[f"verify_{key}"] = {"ok": ok, "n": len(g)}
        label = (
            "examples/*.ipynb"
            if key == "b1"
            else "other executable notebooks (real + benchmarks/verify_corpus)"
        )
        t.append(
            {
                "key": key,
                "goal": (
                    f"`nbops verify` passes on {goal:.0%} of {label}"
                    if goal == 1
                    else f"`nbops verify` passes on >= {goal:.0%} of {label}"
                ),
                "value": f"{ok}/{len(g)} = {pct(ok, len(g))}" if g else "not measured",
                "status": (
                    "–" if not g else ("PASS" if ok / len(g) >= goal - 1e-9 else "NOT REACHED")
                ),
            }
        )
    tm = d.get("timing") or {}
    med = tm.get("inproc_median_s")
    t.append(
        {
            "key": "c",
            "goal": f"modularize a {tm.get('cells', 200)}-cell notebook in < {TARGET_TIME_S:g} s (in-process, median of {tm.get('runs', 5)})",
            "value": fmt_s(med) if med is not None else "not measured",
            "status": "–" if med is None else ("PASS" if med < TARGET_TIME_S else "NOT REACHED"),
        }
    )
    s["targets"] = t
    return s


def examples_for(ids: list[str], by_id: dict, k: int = 3) -> str:
    names = []
    for i in ids[:k]:
        o = by_id[i]["origin"]
        names.append(f"`{o.split('/', 1)[1] if '/' in o else o}`")
    more = f" (+{len(ids) - k})" if len(ids) > k else ""
    return ", ".join(names) + more


def render(d: dict) -> str:
    m = d["machine"]
    man = d["corpus"]
    entries = man["entries"]
    by_id = {e["id"]: e for e in entries}
    a = d.get("corpus_run") or {}
    res = a.get("results") or {}
    ids = a.get("ids") or []
    s = summarize(d)
    L: list[str] = []
    w = L.append
    w("# Benchmarks: `nbops modularize` and `nbops verify`")
    w("")
    w("<!-- Generated by benchmarks/modularize.py; do not edit by hand. -->")
    w("")
    w(
        f"Last run: {d['generated']}{' (QUICK smoke run on a sample: not the benchmark)' if d.get('quick') else ''}. "
        "Reproduce: `bash benchmarks/setup_soorgeon.sh && python benchmarks/modularize.py` "
        "(see [benchmarks/README.md](../benchmarks/README.md))."
    )
    w("")
    w("## Targets (issue 4)")
    w("")
    w("| | target | measured | status |")
    w("|---|---|---|---|")
    for t in s["targets"]:
        w(f"| ({t['key']}) | {t['goal']} | {t['value']} | **{t['status']}** |")
    w("")
    # ---------------------------------------------------------------- setup
    w("## Setup")
    w("")
    w("| | |")
    w("|---|---|")
    for k, v in m.items():
        w(f"| {k} | {v} |")
    w("")
    w("### Corpus (a)")
    w("")
    kept = len(entries)
    skipped = man["skipped"]
    sk = Counter(x["reason"] for x in skipped)
    total_files = sum(sd["ipynb"] for sd in man["sdists"])
    w(
        f"Every `.ipynb` file inside these sdists (`pip download --no-deps --no-binary :all: NAME==VERSION`, "
        f"cached in `benchmarks/.cache/sdists/`, read from the tarballs, extracted to "
        f"`benchmarks/.cache/modularize-corpus/`): {total_files} files, **{kept} real notebooks kept**"
        + (f", {a.get('n')} of them run in this run (`--limit`)" if a.get("sampled") else "")
        + ". "
        "Nothing generated, no variants; nbops wrote none of them."
    )
    w("")
    w("| sdist | sha256 (first 12) | .ipynb files | kept |")
    w("|---|---|---|---|")
    for sd in man["sdists"]:
        w(
            f"| {sd['name']}=={sd['version']} | `{sd['sha256'][:12]}` | {sd['ipynb']} | {sd['kept']} |"
        )
    w("")
    w(
        "Skipped ("
        + ", ".join(f"{v} {k}" for k, v in sk.most_common())
        + f"; {len(skipped)} in all):"
    )
    w("")
    w(
        "- duplicate: the same bytes already taken from an earlier file (dedup by SHA-256 of the content);"
    )
    w(
        "- non-Python kernel: `kernelspec.language` / `language_info.name` / kernel name says another language "
        "("
        + ", ".join(
            sorted({x["detail"] for x in skipped if x["reason"] == "non-Python kernel"})[:12]
        )
        + ", ...);"
    )
    w("- nbformat < 4: nbformat 2/3 test fixtures; broken JSON: not JSON or not a notebook object;")
    w("- no code: notebooks with no non-empty code cell (nothing to modularize).")
    und = sum(1 for e in entries if e["language"] == "undeclared")
    w("")
    w(
        f"Kept notebooks that declare no language at all ({und}) are taken as Python (Jupyter's default kernel). "
        "Pinned alongside and left out: " + "; ".join(f"{a_} ({b_})" for a_, b_ in LEFT_OUT) + "."
    )
    w("")
    cc = [e["code_cells"] for e in entries]
    if cc:
        w(
            f'Non-empty code cells per notebook (what "code cells" means throughout): median {statistics.median(cc):g}, max {max(cc)}; '
            f"{sum(c >= MIN_CODE_CELLS_FOR_SPLIT for c in cc)} notebooks have >= {MIN_CODE_CELLS_FOR_SPLIT} "
            f"(those count only when split into >= 2 steps). The tables of (a) break the results down by "
            "source and by notebook structure."
        )
    w("")
    # ---------------------------------------------------------------- (a)
    w("## (a) Modularizing real notebooks: nbops vs soorgeon")
    w("")
    if not res:
        w("Not measured in this run.")
    else:
        nb = res.get("nbops") or {}
        sg = res.get("soorgeon") or {}
        n = a["n"]
        w(
            f"Measured {a['measured']}, {n} notebooks, both tools interleaved in one pool of {d['config']['jobs']} "
            f"workers, timeout {d['config']['timeout']:.0f} s per notebook per tool; {a.get('wall_s')} s wall in all."
        )
        w("")
        if not a.get("nbops_available"):
            w(f"**nbops modularize was not available**: `{a.get('nbops_unavailable_reason')}`.")
            w("")
        w(
            "Success = exits normally, the written code compiles (`py_compile`) and has no `ruff check --select F821` "
            f"finding, a notebook with >= {MIN_CODE_CELLS_FOR_SPLIT} code cells is split into >= 2 steps, "
            "and (nbops) the input notebook is byte-identical afterwards. nbops: "
            f"`{NBOPS_MODULARIZE.format(py='python', nb='COPY.ipynb', out='OUT')}` in a fresh dir; the module is "
            "the plan's `files[]` entry with kind `module`. soorgeon: "
            f"`{SOORGEON_REFACTOR.format(soorgeon='soorgeon', nb='COPY.ipynb')}` in a fresh dir holding only the copy; "
            "its code is every `.py` it wrote (`tasks/*.py`, `exported.py`), its steps the tasks of `pipeline.yaml`."
        )
        w("")
        w("| tool | succeeded | share | median time / notebook | input modified | timeouts |")
        w("|---|---|---|---|---|---|")
        for tool, r in (("nbops modularize", nb), ("soorgeon refactor", sg)):
            if not r:
                w(f"| {tool} | not run | | | | |")
                continue
            ok = sum(1 for x in r.values() if x.get("ok"))
            med = statistics.median(x["secs"] for x in r.values())
            mod = sum(1 for x in r.values() if not x.get("input_identical"))
            to = sum(1 for x in r.values() if x.get("timeout"))
            w(f"| {tool} | {ok}/{len(r)} | **{pct(ok, len(r))}** | {fmt_s(med)} | {mod} | {to} |")
        sgs = res.get("soorgeon_single")
        if sg and sgs is not None:
            comb = {i: (sgs[i] if i in sgs else sg[i]) for i in sg}
            ok = sum(1 for x in comb.values() if x.get("ok"))
            w(
                f"| soorgeon, then `--single-task` where it asks for H2 headings ({len(sgs)} reruns) | {ok}/{len(comb)} | "
                f"{pct(ok, len(comb))} | | {sum(1 for x in comb.values() if not x.get('input_identical'))} | "
                f"{sum(1 for x in comb.values() if x.get('timeout'))} |"
            )
            nbok = sum(1 for x in nb.values() if x.get("ok"))
            w("")
            w(
                f"The second soorgeon row is a friendlier baseline, not the target's: soorgeon's own error message "
                f"suggests `--single-task` when a notebook has no H2 heading; a single task still fails a notebook "
                f"with >= {MIN_CODE_CELLS_FOR_SPLIT} code cells. nbops vs that row: "
                + (f"{nbok / ok:.2f}x." if ok else "–")
            )
        if sg:
            st = sum(1 for x in sg.values() if x.get("ok_strict"))
            w("")
            w(
                f"soorgeon rewrites the notebook it is given (black, then its own clean-up): it modified "
                f"{sum(1 for x in sg.values() if not x.get('input_identical'))} of {len(sg)} inputs. That is recorded, "
                f"not counted; counted like nbops (input must stay byte-identical) it succeeds on {st} ({pct(st, len(sg))})."
            )
        w("")
        # by source
        w("### By source")
        w("")
        w("| sdist | notebooks | nbops ok | soorgeon ok |")
        w("|---|---|---|---|")
        groups: dict[str, list[str]] = defaultdict(list)
        for i in ids:
            groups[by_id[i]["sdist"]].append(i)
        for g, gi in groups.items():
            nok = sum(1 for i in gi if nb.get(i, {}).get("ok"))
            sok = sum(1 for i in gi if sg.get(i, {}).get("ok"))
            w(
                f"| {g} | {len(gi)} | {nok} ({pct(nok, len(gi)) if nb else '–'}) | {sok} ({pct(sok, len(gi)) if sg else '–'}) |"
            )
        w("")
        w("### By notebook structure")
        w("")
        w("| the notebook has | notebooks | nbops ok | soorgeon ok |")
        w("|---|---|---|---|")
        for label, f in FEATURES:
            gi = [i for i in ids if f(by_id[i])]
            nok = sum(1 for i in gi if nb.get(i, {}).get("ok"))
            sok = sum(1 for i in gi if sg.get(i, {}).get("ok"))
            w(
                f"| {label} | {len(gi)} | {nok} ({pct(nok, len(gi))}) | {sok} ({pct(sok, len(gi))}) |"
            )
        w("")
        w("### Failures by reason")
        w("")
        w(
            "Each failed notebook counts once per reason it has (a notebook can have several: e.g. both a "
            "compile error and undefined names). Example names are paths inside the sdists; the inputs, "
            "outputs and the log of every run are in `benchmarks/results/modularize-runs/{nbops,soorgeon}/ID/`."
        )
        w("")
        for tool, r in (("nbops modularize", nb), ("soorgeon refactor", sg)):
            if not r:
                continue
            failed = [i for i in ids if i in r and not r[i].get("ok")]
            w(f"**{tool}**: {len(failed)} of {len(r)} failed.")
            w("")
            if not failed:
                continue
            w("| reason | notebooks | examples |")
            w("|---|---|---|")
            rs: dict[str, list[str]] = defaultdict(list)
            for i in failed:
                for reason in r[i].get("reasons") or ["?"]:
                    rs[reason].append(i)
            for reason, gi in sorted(rs.items(), key=lambda kv: (-len(kv[1]), kv[0])):
                w(f"| {reason} | {len(gi)} | {examples_for(gi, by_id)} |")
            w("")
            # most frequent undefined names
            und = Counter(nm for i in failed for nm in r[i].get("undefined") or [])
            if und:
                w(
                    "Most frequent undefined names (F821): "
                    + ", ".join(f"`{k}` ({v})" for k, v in und.most_common(12))
                    + "."
                )
                w("")
            if tool.startswith("nbops"):
                tb = Counter(r[i]["traceback"] for i in failed if r[i].get("traceback"))
                if tb:
                    w("Crashes (last line of the traceback):")
                    w("")
                    for k, v in tb.most_common(10):
                        w(f"- {v} x `{k[:160]}`")
                    w("")
                ce = Counter(
                    re.sub(r"\(.*", "", c.split(": ", 1)[-1])[:80]
                    for i in failed
                    for c in r[i].get("compile_errors") or []
                )
                if ce:
                    w(
                        "Compile errors: "
                        + "; ".join(f"{k} ({v})" for k, v in ce.most_common(8))
                        + "."
                    )
                    w("")
        # steps
        if nb:
            st = Counter(x.get("strategy") for x in nb.values() if x.get("plan_ok"))
            if st:
                w(
                    "nbops split strategies: "
                    + ", ".join(f"{k} {v}" for k, v in st.most_common())
                    + f"; steps per notebook: median {statistics.median([x.get('steps', 0) for x in nb.values() if x.get('plan_ok')]):g}."
                )
                w("")
            pe = sum(
                1
                for x in nb.values()
                if any(p.get("severity") == "error" for p in x.get("problems") or [])
            )
            w(f"Plans reporting an `error` problem (code left as a TODO): {pe}.")
            w("")
            pm = Counter(
                re.sub(r"\d+", "N", str(p.get("message")))[:90]
                for x in nb.values()
                for p in x.get("problems") or []
                if p.get("severity") == "error"
            )
            if pm:
                w("Most frequent `error` problems (digits shown as N):")
                w("")
                for k, v in pm.most_common(8):
                    w(f"- {v} x {k}")
                w("")
    # ---------------------------------------------------------------- (b)
    v = d.get("verify") or {}
    w("## (b) `nbops verify`")
    w("")
    if not v:
        w("Not measured in this run.")
    elif not v.get("available"):
        w(
            f"**nbops verify was not available** ({v.get('unavailable_reason')}), measured {v.get('measured')}."
        )
    else:
        vr = v["results"]
        w(
            f"Measured {v['measured']}: `{NBOPS_VERIFY.format(py='python', nb='COPY.ipynb', out='OUT', cell_timeout=d['config']['cell_timeout'])}` "
            f"on a copy of each notebook in a fresh dir, {d['config']['jobs']} at a time; pass = exit 0 "
            "(notebook and generated pipeline agree on every step output) and the copy left byte-identical. "
            f"{v.get('wall_s')} s wall in all."
        )
        w("")
        w("- examples: the project's `examples/*.ipynb`;")
        w(
            f"- real: {len(v.get('real_executable', []))} corpus notebooks that run offline here: "
            f"{v.get('real_candidates_note')} (found by executing them; cached in `benchmarks/.cache/modularize-executable.json`);"
        )
        w(
            "- own: `benchmarks/verify_corpus/*.ipynb`, written by `benchmarks/make_verify_corpus.py` (realistic "
            "data-science notebooks on sklearn toy data and seeded numpy data; varied structure: H2/H3/H1-only/no "
            "headings, step tags, parameters cells, functions reading globals, mutation across sections, "
            "redefinitions, top-level loops and branches, classes, plots, magics, a star import)."
        )
        w("")
        ko = sum(1 for x in vr if x.get("kernel_override"))
        if ko:
            w(
                f"{ko} notebook(s) name a kernel that is not installed here (`python2`, a developer's own kernel): "
                f"for those `{NBOPS_VERIFY_KERNEL.strip()}` is added, as a user would."
            )
            w("")
        w("| group | notebooks | passed | share | median time |")
        w("|---|---|---|---|---|")
        for g in ("examples", "real", "own"):
            gr = [x for x in vr if x["group"] == g]
            if gr:
                ok = sum(1 for x in gr if x["ok"])
                w(
                    f"| {g} | {len(gr)} | {ok} | {pct(ok, len(gr))} | {fmt_s(statistics.median(x['secs'] for x in gr))} |"
                )
        w("")
        through = [x for x in vr if x.get("runs_through")]
        if through:
            eq = sum(1 for x in through if x.get("verdict") == "equivalent")
            nothing = sum(1 for x in through if x.get("verdict") == "nothing to compare")
            tested = [x for x in through if x.get("tests")]
            passed = sum(1 for x in tested if x["tests"].get("passed"))
            displays = sum(1 for x in through if (x.get("compared") or {}).get("displays"))
            w("Issue 13 (the second generation's verify), over the notebooks that run top to bottom:")
            w("")
            w("| issue 13 number | measured | status |")
            w("|---|---|---|")
            w(
                f"| equivalent with something compared (verdict `equivalent`) | {eq}/{len(through)} = "
                f"{pct(eq, len(through))} | {'**PASS**' if eq >= 0.95 * len(through) else '**FAIL**'} (>= 95 %) |"
            )
            w(f"| verdict `nothing to compare` (exit 5) | {nothing}/{len(through)} | |")
            showing = len(through) - nothing
            w(
                "| equivalent, of the notebooks that show something or compute a step value "
                f"(all but `nothing to compare`) | {eq}/{showing} = {pct(eq, showing)} | |"
            )
            w(f"| displays compared (at least one) | {displays}/{len(through)} | |")
            w(
                f"| the generated tests pass (`nbops modularize`, then `pytest tests` in the written project) "
                f"| {passed}/{len(tested)} = {pct(passed, len(tested))} | "
                f"{'**PASS**' if tested and passed == len(tested) else '**FAIL**'} |"
            )
            w("")
            failing = [x for x in tested if not x["tests"].get("passed")]
            if failing:
                w(
                    "Generated tests failing: "
                    + ", ".join(f"`{x['source'].replace('benchmarks/.cache/modularize-corpus/', '')}`" for x in failing)
                    + " (logs: `tests-log.txt` in each run folder)."
                )
                w("")
        bad = [x for x in vr if not x["ok"]]
        if bad:
            w("Failures:")
            w("")
            w("| notebook | group | reason |")
            w("|---|---|---|")
            for x in bad:
                reason = reason_from_log(HERE / x["work"] / "log.txt", x) or x["reason"]
                src = x["source"].replace("benchmarks/.cache/modularize-corpus/", "")
                w(f"| `{src}` | {x['group']} | {reason[:300].replace('|', '/')} |")
            w("")
    # ---------------------------------------------------------------- (c)
    tm = d.get("timing") or {}
    w("## (c) Time to modularize a 200-cell notebook")
    w("")
    if not tm:
        w("Not measured in this run.")
    elif not tm.get("available"):
        w(f"**nbops modularize was not available** ({tm.get('unavailable_reason')}).")
    elif tm.get("error"):
        w(f"Failed: `{tm['error']}`")
    else:
        ip = tm["inproc"]
        w(
            f"Measured {tm['measured']}. The notebook: `make_verify_corpus.big_notebook({tm['cells']})`, "
            f"{tm['cells']} cells ({tm['code_cells']} code), {tm['bytes'] / 1024:.0f} KB: a title, a parameters cell, "
            "then sections of a heading and load / filter / helper function / split / model / check / plot cells, "
            "each reading the previous section's table. It is executable as well."
        )
        w("")
        w("| how | median | min | all runs |")
        w("|---|---|---|---|")
        w(
            f"| in-process `modularize(nb, ModularizeOptions(dry_run=False, out=fresh dir))` | **{fmt_s(tm['inproc_median_s'])}** | "
            f"{fmt_s(tm['inproc_min_s'])} | {', '.join(fmt_s(x) for x in ip['times'])} |"
        )
        cl = [c["secs"] for c in tm["cli"]]
        w(
            f"| CLI `{NBOPS_MODULARIZE.format(py='python', nb='big_200.ipynb', out='OUT')}` (wall) | {fmt_s(tm['cli_median_s'])} | "
            f"{fmt_s(min(cl))} | {', '.join(fmt_s(x) for x in cl)} |"
        )
        w(
            f"| CLI start-up alone (`python -m nbops --version`) | {fmt_s(tm['cli_startup_median_s'])} | | |"
        )
        w("")
        w(
            f"Load average when the timing started: {tm.get('loadavg', '?')} (2 cores; other work on the machine "
            "slows every figure here). "
            f"Import of `nbops.modularize` (not in the timed calls): {fmt_s(ip['import_s'])}. Plan: {ip.get('steps')} steps "
            f"({ip.get('strategy')}), {ip.get('problems')} problems; the module ({tm.get('module_lines', '?')} lines) "
            f"{'compiles' if tm.get('module_compiles') else 'does NOT compile'} and has "
            f"{len(tm.get('module_undefined') or [])} F821 findings. Exit codes of the CLI runs: {tm.get('cli_rcs')}."
        )
        w("")
    return "\n".join(L) + "\n"


# --------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=textwrap.dedent(__doc__.split("Usage")[1]),
    )
    ap.add_argument(
        "--quick",
        action="store_true",
        help="smoke run: 24 corpus notebooks, 6 verify notebooks, 2 timing runs; writes "
        "results/modularize-quick.{json,md}, leaves docs/ alone",
    )
    ap.add_argument(
        "--only",
        choices=["corpus", "verify", "timing", "issue13", "issue13-timing"],
        action="append",
        help="measure only these parts (repeatable); the others are kept from the last JSON. "
        "issue13 (issue 13's reviewer numbers on corpus (a), and the 200-cell timing) writes "
        "results/modularize-issue13.json and only its own section of the report",
    )
    ap.add_argument(
        "--issue13-label",
        default=ISSUE13_LABEL,
        help="heading of the issue-13 section; a section with another label is kept, the one "
        f"with the same label replaced (default {ISSUE13_LABEL!r})",
    )
    ap.add_argument(
        "--render-only", action="store_true", help="measure nothing, rewrite the report"
    )
    ap.add_argument(
        "--rejudge",
        action="store_true",
        help="run no tool: judge (a) again from the kept run dirs (after a change to the checks), "
        "then rewrite the report",
    )
    ap.add_argument(
        "--limit", type=int, default=0, help="run (a) on a random sample of N notebooks (0 = all)"
    )
    ap.add_argument(
        "--jobs", type=int, default=2, help="tool runs at a time (default 2 = the cores here)"
    )
    ap.add_argument("--timeout", type=float, default=120, help="(a) seconds per notebook per tool")
    ap.add_argument("--verify-timeout", type=float, default=600, help="(b) seconds per notebook")
    ap.add_argument("--cell-timeout", type=int, default=120, help="(b) nbops verify --timeout")
    ap.add_argument("--runs", type=int, default=5, help="(c) timed runs")
    ap.add_argument(
        "--big-cells", type=int, default=200, help="(c) cells of the generated notebook"
    )
    ap.add_argument(
        "--nbops-python",
        type=Path,
        default=DEFAULT_NBOPS_PYTHON,
        help="python with nbops installed (default $NBOPS_PYTHON or this python)",
    )
    ap.add_argument("--offline", action="store_true", help="do not download missing sdists")
    ap.add_argument(
        "--no-soorgeon-fallback",
        action="store_true",
        help="(a) do not rerun soorgeon with --single-task where it asks for H2 headings",
    )
    ap.add_argument(
        "--doc",
        type=Path,
        default=None,
        help=f"report path (default {DOC.relative_to(REPO)}; "
        "with --quick: benchmarks/results/modularize-quick.md)",
    )
    args = ap.parse_args(argv)
    if args.quick:
        args.limit = args.limit or 24
        args.runs = min(args.runs, 2)
    global RUNS_DIR
    if args.quick:  # keep the work dirs of the last full run
        RUNS_DIR = RESULTS_DIR / "modularize-runs-quick"
    json_path = QUICK_JSON if args.quick else LATEST
    doc = args.doc or (RESULTS_DIR / "modularize-quick.md" if args.quick else DOC)
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)

    prev: dict[str, Any] = {}
    if json_path.exists():
        try:
            prev = json.loads(json_path.read_text())
        except json.JSONDecodeError:
            prev = {}
    if args.rejudge:
        if not prev.get("corpus_run"):
            log(f"nothing to rejudge: no (a) results in {json_path}")
            return 2
        res = {k: v for k, v in prev["corpus_run"]["results"].items() if v}
        judge(res, prev["corpus"]["entries"], find_ruff(args.nbops_python))
        prev["corpus_run"]["rejudged"] = now()
        harness.write_json(json_path, prev)
        args.render_only = True
    if args.render_only and not prev and ISSUE13_JSON.exists() and not args.quick:
        # only the issue-13 section can be rendered: splice it into the report as it is
        text = doc.read_text(encoding="utf-8") if doc.exists() else ""
        doc.write_text(
            splice_issue13(text, render_issue13(json.loads(ISSUE13_JSON.read_text()))),
            encoding="utf-8",
        )
        log(f"wrote the issue-13 section of {doc}")
        return 0
    if args.render_only:
        if not prev:
            log(f"nothing to render: {json_path} missing")
            return 2
        text = render(prev)
        if ISSUE13_JSON.exists() and not args.quick:
            text = splice_issue13(text, render_issue13(json.loads(ISSUE13_JSON.read_text())))
        old = doc.read_text(encoding="utf-8") if doc.exists() else ""
        doc.write_text(keep_issue13_sections(old, text), encoding="utf-8")
        log(f"wrote {doc}")
        return 0

    ruff = find_ruff(args.nbops_python)
    parts = set(args.only or ["corpus", "verify", "timing", "issue13"])
    log("building the corpus")
    manifest = build_corpus(args.offline)
    log(f"corpus: {len(manifest['entries'])} notebooks kept, {len(manifest['skipped'])} skipped")
    (CORPUS_DIR / "_manifest.json").write_text(json.dumps(manifest, indent=1))
    d: dict[str, Any] = {
        "generated": now(),
        "quick": args.quick,
        "config": {
            "jobs": args.jobs,
            "timeout": args.timeout,
            "cell_timeout": args.cell_timeout,
            "runs": args.runs,
            "limit": args.limit,
            "parts": sorted(parts),
        },
        "machine": machine(args.nbops_python, ruff),
        "corpus": manifest,
    }
    for key, part in (("corpus_run", "corpus"), ("verify", "verify"), ("timing", "timing")):
        if part not in parts and prev.get(key):
            d[key] = prev[key]
    if "corpus" in parts:
        d["corpus_run"] = part_corpus(args, manifest, ruff)
    if "verify" in parts:
        d["verify"] = part_verify(args, manifest)
    if "timing" in parts:
        d["timing"] = part_timing(args, ruff)
    doc.parent.mkdir(parents=True, exist_ok=True)
    i13_json = (
        ISSUE13_JSON.with_name(ISSUE13_JSON.name.replace(".json", "-quick.json"))
        if args.quick
        else ISSUE13_JSON
    )
    section = ""
    if "issue13" in parts:
        d13 = part_issue13(args, manifest, ruff)
        d13["label"] = args.issue13_label
        d13["big_cells"] = args.big_cells
        harness.write_json(i13_json, d13)
        section = render_issue13(d13) if d13.get("available") else ""
        log(f"wrote {i13_json}")
    elif i13_json.exists():
        section = render_issue13(json.loads(i13_json.read_text()))
    if parts == {"issue13-timing"}:  # re-measure the timing of the last issue-13 run only
        d13 = json.loads(i13_json.read_text())
        log(f"(d) timing: {args.big_cells}-cell notebook, {args.runs} runs")
        d13["timing"] = run_timing(args.nbops_python, args.big_cells, args.runs, ruff)
        d13["timing"]["remeasured"] = now()
        harness.write_json(i13_json, d13)
        section = render_issue13(d13)
        parts = {"issue13"}
    if parts == {"issue13"}:  # the rest of the report stays as it is
        text = doc.read_text(encoding="utf-8") if doc.exists() else ""
        doc.write_text(splice_issue13(text, section) if section else text, encoding="utf-8")
        log(f"wrote the issue-13 section of {doc}")
        if section:
            print(section)
        return 0
    harness.write_json(json_path, d)
    text = render(d)
    text = splice_issue13(text, section) if section else text
    old = doc.read_text(encoding="utf-8") if doc.exists() else ""
    doc.write_text(keep_issue13_sections(old, text), encoding="utf-8")
    log(f"wrote {doc} and {json_path}")
    for t in summarize(d)["targets"]:
        print(f"({t['key']}) {t['goal']}: {t['value']} -> {t['status']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
