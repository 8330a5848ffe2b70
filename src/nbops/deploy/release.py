"""Release on merge: ``nbops release NOTEBOOK`` makes the merged commit's model a registered
version, judged for promotion.

What the CI workflow ``nbops init`` writes runs on a push to the base branch (and what a user
can run by hand):

1. the tracked run of this exact commit: the newest FINISHED run of the notebook whose
   ``nbops.git.commit`` tag is ``HEAD`` and whose ``nbops.git.dirty`` is ``false``
   (:mod:`nbops.run.lineage`); when there is none, a new run with the notebook's defaults
   (the code path of ``nbops run``);
2. the review gate on the notebook (:func:`nbops.review.checks.check_notebook`) and the model
   card (the pull request's description, :func:`nbops.review.report.render_report`), stored
   with the run as ``release/model_card.md`` and ``release/gate.json``;
3. the run's model registered as a new version of the model (``--model``, else
   ``[tool.nbops.submit] model``), tagged with the commit (``nbops.git.commit``), the pull
   request (``nbops.release.pr``: ``--pr``, else "Merge pull request #N" / GitLab's
   "See merge request ...!N" in the merge commit's message; ``nbops.release.branch``: the
   merged branch) and the gate (``nbops.gate``: PASS / FAIL, ``nbops.gate.failed``), and
   its acceptance threshold (:mod:`nbops.deploy.acceptance`: ``nbops.log_model``'s, else
   ``[tool.nbops.serve]``'s, then stored with the run) on the model card and as tags, and
   the explanation ``nbops.log_model(eval_data=...)`` logged (:mod:`nbops.run.explanation`) on
   the model card;
4. the promotion verdict (:mod:`nbops.deploy.promotion`): champion moves only on PASS.
"""

from __future__ import annotations

import json
import re
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nbops.config import load_config, project_root
from nbops.deploy.promotion import Promotion, promote
from nbops.errors import NbopsError, NotFoundError, ToolError, UsageError

__all__ = ["CARD_ARTIFACT", "GATE_ARTIFACT", "Release", "RunFailed", "merge_info", "release"]

CARD_ARTIFACT = "release/model_card.md"
GATE_ARTIFACT = "release/gate.json"
_GITHUB_MERGE = re.compile(r"^Merge pull request #(\d+)(?: from \S+?/(\S+))?", re.MULTILINE)
_GITLAB_MERGE = re.compile(r"^See merge request \S*!(\d+)", re.MULTILINE)
_BRANCH_MERGE = re.compile(r"^Merge (?:remote-tracking )?branch '([^']+)'", re.MULTILINE)


class RunFailed(NbopsError):
    """The new run of the release did not finish (a cell failed, the kernel died): nothing is
    registered; the CLI exits 1, as ``nbops run`` does for a failed run."""


@dataclass(frozen=True)
class Release:
    """What ``nbops release`` did."""

    notebook: str  # repository-relative
    commit: str
    pr: str
    branch: str
    run_id: str
    new_run: bool
    gate_passed: bool
    promotion: Promotion

    def to_json(self) -> dict[str, Any]:
        return {
            "notebook": self.notebook, "commit": self.commit, "pr": self.pr or None,
            "branch": self.branch or None, "run_id": self.run_id, "new_run": self.new_run,
            "gate_passed": self.gate_passed, "promotion": self.promotion.to_json(),
        }

    def text(self) -> str:
        run = "a new run" if self.new_run else "the tracked run of this commit"
        pr = f", pull request #{self.pr}" if self.pr else ""
        gate = "passed" if self.gate_passed else "FAILED"
        return (f"released {self.notebook} at {self.commit[:12]}{pr}: {run} {self.run_id}, "
                f"gate {gate}, {self.promotion.model} version {self.promotion.version} "
                f"(alias 'challenger')\n" + self.promotion.text())


def _git(root: Path, *args: str) -> str:
    try:
        done = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True,
                              timeout=30, check=False)
    except OSError as exc:
        raise ToolError(f"cannot run git: {exc}", hint="install git") from None
    if done.returncode != 0:
        raise UsageError(f"git {' '.join(args)} failed: {done.stderr.strip()}",
                         hint="nbops release runs in a git repository with a commit")
    return done.stdout.strip()


def merge_info(message: str) -> tuple[str, str]:
    """(pull request number, merged branch) read from a merge commit's message; "" when not."""
    github = _GITHUB_MERGE.search(message)
    if github:
        return github.group(1), github.group(2) or ""
    gitlab = _GITLAB_MERGE.search(message)
    branch = _BRANCH_MERGE.search(message)
    return (gitlab.group(1) if gitlab else ""), (branch.group(1) if branch else "")


def _commit_run(tracker: Any, notebook: Path, commit: str) -> str | None:
    """The newest FINISHED, clean run of ``notebook`` at ``commit``."""
    for record in tracker.list_runs(notebook=notebook, max_results=1000):
        tags = record.tags
        if (record.status == "FINISHED" and tags.get("nbops.git.commit") == commit
                and tags.get("nbops.git.dirty") == "false"):
            return str(record.run_id)
    return None


def _new_run(notebook: Path, root: Path) -> str:
    """A run of ``notebook`` with its defaults, as ``nbops run NOTEBOOK`` makes it."""
    from nbops.run.params import read_parameters, resolve
    from nbops.run.runner import RunSettings, default_runs_dir, run_notebook

    sets = resolve(read_parameters(notebook), [], [], [])
    settings = RunSettings(project_root=root, runs_dir=default_runs_dir(root),
                           experiment=notebook.stem)
    outcome = run_notebook(notebook, sets[0], settings)
    if outcome.status != "FINISHED":
        why = outcome.error or (str(outcome.failure) if outcome.failure else outcome.status)
        raise RunFailed(f"the release run {outcome.run_id} did not finish: {why}",
                         path=notebook.name, hint="fix the notebook (nbops run shows the cell)")
    return outcome.run_id


def release(notebook: Path, tracker: Any, *, model: str | None = None, pr: str | None = None,
            ) -> Release:
    """Release ``notebook`` at ``HEAD``; see the module doc."""
    from nbops.review.checks import check_notebook
    from nbops.review.policy import load_policy

    path = Path(notebook).resolve()
    if not path.is_file():
        raise NotFoundError("no such notebook", path=notebook, hint="check the path")
    top = Path(_git(path.parent, "rev-parse", "--show-toplevel")).resolve()
    rel = path.relative_to(top).as_posix()
    commit = _git(top, "rev-parse", "--verify", "HEAD^{commit}")
    found_pr, branch = merge_info(_git(top, "log", "-1", "--format=%B", commit))
    number = (pr or found_pr).lstrip("#")
    config = load_config(path.parent)
    policy = load_policy(config)
    name = model or policy.model
    if not name:
        raise UsageError("which registered model? none given",
                         hint="nbops release NOTEBOOK --model NAME, or model = \"NAME\" in "
                              "[tool.nbops.submit]")
    root = project_root(path)[0]
    run_id = _commit_run(tracker, path, commit)
    new_run = run_id is None
    if run_id is None:
        run_id = _new_run(path, root)
    accepting = _acceptance(tracker, run_id, config)
    gate = check_notebook(path, config=config, policy=policy)
    failed = [c.id for c in gate.checks if c.blocking]
    card = _card(path, rel, gate, tracker, run_id, name, config, branch,
                 accepting.card_line() if accepting else "", _explanation(tracker, run_id))
    with tempfile.TemporaryDirectory(prefix="nbops-release-") as folder:
        (Path(folder) / Path(CARD_ARTIFACT).name).write_text(card, encoding="utf-8")
        (Path(folder) / Path(GATE_ARTIFACT).name).write_text(
            json.dumps(gate.to_json(), indent=2, default=str) + "\n", encoding="utf-8")
        tracker.log_artifact(run_id, Path(folder), "release")
    tags = {
        "nbops.git.commit": commit,
        "nbops.release.notebook": rel,
        "nbops.release.pr": number,
        "nbops.release.branch": branch,
        "nbops.gate": "PASS" if gate.passed else "FAIL",
        "nbops.gate.failed": ",".join(failed),
        "nbops.release.model_card": CARD_ARTIFACT,
        **(accepting.tags() if accepting else {}),
    }
    done = promote(tracker, run_id, config.promote, model=name, tags=tags)
    return Release(rel, commit, number, branch, run_id, new_run, gate.passed, done)


def _acceptance(tracker: Any, run_id: str, config: Any) -> Any:
    """The model's acceptance threshold: the one ``nbops.log_model`` stored with the run, else
    ``[tool.nbops.serve]``'s, stored with the run now (so serving reads it from the model);
    None when neither declares one."""
    from nbops.deploy import acceptance
    from nbops.run.acceptance import write

    found = acceptance.read(tracker.client, run_id)
    if found is not None or config.serve.threshold is None:
        return found
    found = acceptance.from_config(tracker, run_id, config.serve.threshold, config.serve.below)
    write(tracker, run_id, found)
    return found


def _explanation(tracker: Any, run_id: str) -> list[str]:
    """The model card's explanation section, when the run logged one (nbops.log_model's
    eval_data: :mod:`nbops.run.explanation`)."""
    from nbops.review.explanation import card_lines, read

    found = read(tracker.client, run_id)
    return card_lines(found, run_id) if found else []


def _card(path: Path, rel: str, gate: Any, tracker: Any, run_id: str, model: str,
          config: Any, branch: str, decision_threshold: str = "",
          explanation: list[str] | None = None) -> str:
    """The model card: the review report (the pull request's description) of this release."""
    from nbops.core.notebook import read_notebook
    from nbops.deploy.promotion import CHAMPION
    from nbops.review.report import ReportInput, render_report
    from nbops.run.lineage import notebook_sha256
    from nbops.run.params import read_parameters

    run = tracker.get_run(run_id)
    latest = {
        "run_id": run.run_id, "status": run.status, "duration_s": run.duration_s or 0.0,
        "ended": run.end_time.isoformat(timespec="seconds") if run.end_time else "",
        "parameters": dict(run.params), "metrics": dict(run.metrics),
        "notebook_sha256": run.tags.get("nbops.notebook.sha256", ""),
    }
    champion = None
    version = tracker.aliases(model).get(CHAMPION)
    if version is not None:
        record = tracker.champion(model)
        if record is not None:
            champion = {"model": model, "version": str(version), "run_id": record.run_id,
                        "metrics": dict(record.metrics)}
    try:
        params = read_parameters(path)
    except NbopsError:
        params = None
    return render_report(ReportInput(
        notebook=read_notebook(path), path=rel, gate=gate, params=params, latest_run=latest,
        notebook_sha256=notebook_sha256(path), champion=champion, base=branch,
        promote=config.promote, decision_threshold=decision_threshold,
        explanation=explanation or [],
    ))
