"""The gate's two optional reproducibility checks: the generated library and a tracked run.

``library``: the module ``nbops modularize`` writes for the notebook exists and its tests
pass (pytest in a subprocess, with a time limit: the tests run the participant's code, never
inside this process); a pass says the library's shape (steps, dataclass returns, parameters
and the proposed ones). ``tracked-run``: the tracking store has a FINISHED run of exactly this
notebook content (the ``nbops.notebook.sha256`` lineage tag).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from nbops import api_types
from nbops.core.notebook import Notebook
from nbops.errors import NbopsError
from nbops.review.gate import Check, CheckResult, GateInput

__all__ = ["LIBRARY", "TEST_TIMEOUT_S", "TRACKED_RUN", "library_status", "library_summary", "tracked_run_status"]

TEST_TIMEOUT_S = 300.0


def _needs_file(check: str, title: str) -> CheckResult:
    return CheckResult(check, "reproducibility", title, "skip", "needs a notebook saved as a file")


def library_summary(plan: api_types.ModularizePlan) -> str:
    """One line on the library's shape: ``3 steps (1 returns a dataclass), 4 parameters (2
    proposed)``."""
    steps = plan.get("steps") or []
    params = plan.get("parameters") or []
    classes = sum(1 for s in steps if s.get("returns"))
    proposed = sum(1 for p in params if p.get("proposed"))
    text = f"{len(steps)} step{'s' * (len(steps) != 1)}"
    if classes:
        text += f" ({classes} return{'s' * (classes == 1)} a dataclass)"
    text += f", {len(params)} parameter{'s' * (len(params) != 1)}"
    return text + (f" ({proposed} proposed)" if proposed else "")


def library_status(nb: Notebook, path: Path | None) -> CheckResult:
    from nbops.core.layout import library_layout
    from nbops.modularize import ModularizeOptions, modularize, plan_to_dict

    title = "Library generated, tests pass"
    if path is None:
        return _needs_file("library", title)
    try:
        # where the library is, found without planning anything: most notebooks have none
        layout = library_layout(path)
        if not layout.module_path.exists():
            return CheckResult("library", "reproducibility", title, "fail",
                               f"no generated library ({layout.module_path.name} is missing)",
                               f"nbops modularize {path}")
        # the plan says whether the library is older than the notebook, and its shape
        result = modularize(path, ModularizeOptions(dry_run=True))
    except NbopsError as exc:
        return CheckResult("library", "reproducibility", title, "fail",
                           f"the notebook cannot be modularized: {exc.message}",
                           "fix the notebook, then nbops modularize it")
    module = result.module_file
    tests = next((f for f in result.files if f.kind == "tests"), None)
    notes = []
    if module.action == "overwrite":
        notes.append("the library is older than the notebook")
    if tests is None or not tests.path.exists():
        return CheckResult("library", "reproducibility", title, "fail",
                           "the library has no tests", f"nbops modularize {path} writes them",
                           details=notes)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(result.src_dir), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    env.setdefault("MPLBACKEND", "Agg")
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tests.path)],
            cwd=path.resolve().parent, env=env, capture_output=True, text=True,
            timeout=TEST_TIMEOUT_S, check=False,
        )
    except subprocess.TimeoutExpired:
        return CheckResult("library", "reproducibility", title, "fail",
                           f"the library's tests ran over {TEST_TIMEOUT_S:.0f} s",
                           "make the tests faster (smaller data) or fix what hangs", details=notes)
    last = (proc.stdout.strip().splitlines() or ["no output"])[-1]
    if proc.returncode != 0:
        return CheckResult("library", "reproducibility", title, "fail",
                           f"the library's tests fail: {last}",
                           f"run them: pytest {tests.path}", details=notes)
    stale = " (but " + notes[0] + ": re-run nbops modularize)" if notes else ""
    shape = library_summary(plan_to_dict(result, path.resolve().parent))
    return CheckResult("library", "reproducibility", title, "pass",
                       f"{module.path.name} ({shape}): tests pass ({last}){stale}", details=notes)


def tracked_run_status(nb: Notebook, path: Path | None) -> CheckResult:
    from nbops.config import project_root
    from nbops.run.lineage import notebook_sha256
    from nbops.run.tracking import MlflowTracker, default_tracking_uri

    title = "Tracked run of this version"
    if path is None:
        return _needs_file("tracked-run", title)
    digest = notebook_sha256(path)
    try:
        tracker = MlflowTracker(default_tracking_uri(project_root(path)[0]))
        runs = tracker.list_runs(None, path, max_results=200)
    except NbopsError as exc:
        return CheckResult("tracked-run", "reproducibility", title, "fail",
                           f"cannot read the tracking store: {exc.message}", f"nbops run {path}")
    same = [r for r in runs if r.tags.get("nbops.notebook.sha256") == digest]
    done = [r for r in same if r.status == "FINISHED"]
    if done:
        return CheckResult("tracked-run", "reproducibility", title, "pass",
                           f"run {done[0].run_id[:8]} finished on this exact code")
    hint = (f"{len(same)} run(s) of this code, none finished" if same
            else f"{len(runs)} run(s) of older versions" if runs else "no runs yet")
    return CheckResult("tracked-run", "reproducibility", title, "fail",
                       f"no successful tracked run of this notebook's current code ({hint})",
                       f"nbops run {path}")


def _library(i: GateInput) -> CheckResult:
    return library_status(i.nb, i.path)


def _tracked_run(i: GateInput) -> CheckResult:
    return tracked_run_status(i.nb, i.path)


# off by default: both take time (the library's tests, the tracking store)
LIBRARY = Check("library", "reproducibility", "Library generated, tests pass", "off", _library)
TRACKED_RUN = Check("tracked-run", "reproducibility", "Tracked run of this version", "off", _tracked_run)
