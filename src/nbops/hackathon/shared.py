"""One execution of a team's notebook for two components: ``verify`` and ``tracked_run``.

Run by the scorer as ``python -m nbops.hackathon.shared NOTEBOOK TIMEOUT EXPERIMENT RUNS_DIR``
(in a copy of the team's work, ``MLFLOW_TRACKING_URI`` the scorer's store): ``nbops verify``'s
comparison, where the notebook's execution is the tracked run, ``nbops run`` of the notebook
as a user runs it (a subprocess, the CLI, tracked in MLflow), with verify's seeds and step
captures run hidden in its kernel (:class:`nbops.kernel.HiddenCode`: no cell is added). Both
use the notebook's defaults (verify is given no parameter, nor is the run) and its kernel.
When the run did not take the captures (it could not start, its kernel died) verify executes
the notebook itself, as ``nbops verify`` does. Prints one JSON line: verify's exit code and
last line as ``nbops verify`` prints them, and ``nbops run --format json``'s answer.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

__all__ = ["main"]


def _verdict_line(result: Any) -> str:
    """The last line ``nbops verify`` prints (cli/modularize_commands.py)."""
    note = ""
    if result.notebook_stop and result.verdict != "not equivalent":
        note = "; both stop at the same step with the same error: fix the notebook so it runs top to bottom"
    verdict = {"equivalent": "equivalent", "not equivalent": "NOT equivalent"}.get(result.verdict, result.verdict)
    return f"{verdict}: {result.summary()}{note}"


def main(argv: list[str]) -> int:
    import nbformat

    from nbops.errors import NbopsError, exit_code
    from nbops.kernel import CellFailure, Execution, HiddenCode
    from nbops.modularize.verify import VerifyOptions, verify
    from nbops.run.runner import HIDDEN_CODE_ENV

    notebook, timeout, experiment, runs_dir = Path(argv[0]), float(argv[1]), argv[2], argv[3]
    answer: dict[str, Any] = {"run": None, "run_error": None, "shared": False}
    with tempfile.TemporaryDirectory(prefix="nbops-shared-") as tmp:
        marker = Path(tmp) / "captures-started"

        def tracked_run(hidden: HiddenCode) -> Execution | None:
            # the marker says the run's kernel took the hidden code (not a run elsewhere)
            mark = f"\n__import__('builtins').open({str(marker)!r}, 'w').close()\n"
            code = Path(tmp) / "hidden.json"
            code.write_text(json.dumps(HiddenCode(hidden.before + mark, hidden.after).to_json()), encoding="utf-8")
            env = {**os.environ, HIDDEN_CODE_ENV: str(code), "PYTHONHASHSEED": "0"}
            try:
                proc = subprocess.run(
                    [sys.executable, "-m", "nbops", "run", str(notebook), "--format", "json",
                     "--runs-dir", runs_dir, "--experiment", experiment],
                    env=env, capture_output=True, text=True, timeout=timeout, check=False)
            except subprocess.TimeoutExpired:
                answer["run_error"] = f"timed out after {timeout:.0f} s"
                return None
            try:
                run = json.loads(proc.stdout)["runs"][0]
            except (ValueError, KeyError, IndexError):
                answer["run_error"] = (proc.stderr.strip().splitlines() or ["no output"])[-1]
                return None
            answer["run"] = run
            if not marker.exists() or not run.get("output") or run.get("parameters"):
                return None  # verify executes the notebook itself
            failure = None
            if run.get("failed_cell"):
                ename, _, evalue = str(run.get("error") or "").partition(": ")
                failure = CellFailure(int(run["failed_cell"]) - 1, ename, evalue)
            answer["shared"] = True
            output = Path(run["output"])
            executed = nbformat.read(output, as_version=4)  # type: ignore[no-untyped-call]
            return Execution(output, failure, executed)

        try:
            result = verify(notebook, VerifyOptions(timeout=timeout), notebook_run=tracked_run)
        except NbopsError as exc:
            answer.update(verify_exit=exit_code(exc), verify_last=f"error: {exc}")
        else:
            answer.update(verify_exit=result.exit_code, verify_last=_verdict_line(result))
        if answer["run"] is None and answer["run_error"] is None:  # verify stopped before the notebook
            answer["run_error"] = "verify stopped before the notebook ran"
    sys.stdout.write("\n" + json.dumps(answer) + "\n")
    return 0


if __name__ == "__main__":
    from nbops._process import without_iri_grammars

    without_iri_grammars()  # a process of nbops' own
    sys.exit(main(sys.argv[1:]))
