"""``nbops release`` after a merge in a real git repository with a bare remote: the release
step of the CI workflow ``nbops init`` writes, run locally, registers the merged commit's model
with its commit, pull request, gate and model card, and the promotion verdict follows."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from nbops.core.snippets import notebook_from_snippet
from nbops.deploy.release import CARD_ARTIFACT, merge_info

BIN = Path(sys.executable).parent

NOTEBOOK = """
# %% [markdown]
# Tiny classifier

A one-feature logistic regression on four rows, logged with its accuracy for the release tests.
# %% tags=parameters
C = 1.0  # regularisation strength
# %%
import nbops
from sklearn.linear_model import LogisticRegression

model = LogisticRegression(C=C).fit([[0.0], [1.0], [2.0], [3.0]], [0, 0, 1, 1])
nbops.log_metric("accuracy", model.score([[0.0], [1.0], [2.0], [3.0]], [0, 0, 1, 1]))
nbops.log_model(model, pip_requirements=["scikit-learn"])
"""

PYPROJECT = """[project]
name = "tiny"

[tool.nbops.submit]
model = "tiny"

[tool.nbops.promote]
metric = "accuracy"
min-value = 0.5
min-absolute-change = 0.01
"""


def run(*args: str | Path, cwd: Path, env: dict[str, str] | None = None
        ) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(a) for a in args], cwd=cwd, capture_output=True, text=True,
                          timeout=600, check=False, env=env)


def git(repo: Path, *args: str) -> str:
    proc = run("git", *args, cwd=repo, env=ci_env())
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip()


def ci_env(**extra: str) -> dict[str, str]:
    """A CI runner's environment: the venv on PATH, no MLflow or pytest settings of this run."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("PYTEST_", "GIT_", "MLFLOW_", "NBOPS_RUN"))}
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    env.update({"GIT_AUTHOR_NAME": "Ana", "GIT_AUTHOR_EMAIL": "ana@example.com",
                "GIT_COMMITTER_NAME": "Ana", "GIT_COMMITTER_EMAIL": "ana@example.com"})
    env.update(extra)
    return env


@pytest.fixture
def merged(tmp_path: Path) -> Path:
    """A repository (nbops init's files committed) whose review branch was merged as
    GitHub merges a pull request, pushed to its bare remote."""
    remote, repo = tmp_path / "remote.git", tmp_path / "team repo"
    git(tmp_path, "init", "--quiet", "--bare", "-b", "main", str(remote))
    git(tmp_path, "init", "--quiet", "-b", "main", str(repo))
    (repo / "pyproject.toml").write_text(PYPROJECT)
    (repo / "tiny.ipynb").write_text(notebook_from_snippet(NOTEBOOK).dumps())
    init = run(sys.executable, "-m", "nbops", "init", "--forge", "github", cwd=repo, env=ci_env())
    assert init.returncode == 0, init.stdout + init.stderr
    git(repo, "add", ".")
    git(repo, "commit", "--quiet", "-m", "tiny classifier")
    git(repo, "remote", "add", "origin", str(remote))
    git(repo, "push", "--quiet", "origin", "main")
    git(repo, "checkout", "--quiet", "-b", "review/tiny")
    text = (repo / "tiny.ipynb").read_text().replace("C = 1.0", "C = 2.0")
    (repo / "tiny.ipynb").write_text(text)
    git(repo, "commit", "--quiet", "-am", "stronger C")
    git(repo, "push", "--quiet", "origin", "review/tiny")
    git(repo, "checkout", "--quiet", "main")
    git(repo, "merge", "--quiet", "--no-ff", "review/tiny", "-m",
        "Merge pull request #7 from ana/review/tiny\n\nTiny classifier")
    git(repo, "push", "--quiet", "origin", "main")
    return repo


def release_step(repo: Path) -> dict[str, Any]:
    workflow = yaml.safe_load((repo / ".github/workflows/nbops.yml").read_text())
    assert workflow[True]["push"]["branches"] == ["main"]  # YAML 1.1 reads `on` as True
    job = workflow["jobs"]["release"]
    assert job["if"] == "github.event_name == 'push'"
    assert workflow["jobs"]["check"]["if"] == "github.event_name == 'pull_request'"
    install = next(s for s in job["steps"] if s.get("name", "").startswith("Install"))
    assert "nbops[run]" in install["run"]
    step: dict[str, Any] = next(s for s in job["steps"] if "nbops release" in s.get("run", ""))
    return step


def registry(repo: Path) -> Any:
    from mlflow.tracking import MlflowClient

    return MlflowClient(tracking_uri=f"sqlite:///{repo / '.nbops' / 'mlflow.db'}")


def test_the_workflows_release_step_releases_the_merge_and_promotes_by_thresholds(
        merged: Path, tmp_path: Path) -> None:
    step = release_step(merged)
    proc = run("bash", "--noprofile", "--norc", "-e", "-c", step["run"], cwd=merged,
               env=ci_env(MLFLOW_TRACKING_URI=""))  # the job's ${{ vars.MLFLOW_TRACKING_URI }}, unset
    assert proc.returncode == 0, proc.stdout + proc.stderr
    head = git(merged, "rev-parse", "HEAD")
    assert f"released tiny.ipynb at {head[:12]}, pull request #7: a new run" in proc.stdout
    assert "no champion yet: only min-value applies" in proc.stdout

    client = registry(merged)
    version = client.get_model_version("tiny", "1")
    tags = version.tags
    assert tags["nbops.git.commit"] == head
    assert tags["nbops.release.pr"] == "7" and tags["nbops.release.branch"] == "review/tiny"
    assert tags["nbops.gate"] in ("PASS", "FAIL") and tags["nbops.verdict"] == "PASS"
    assert int(client.get_model_version_by_alias("tiny", "champion").version) == 1
    run_tags = client.get_run(version.run_id).data.tags
    assert run_tags["nbops.git.commit"] == head and run_tags["nbops.git.dirty"] == "false"
    card = Path(client.download_artifacts(version.run_id, CARD_ARTIFACT, str(tmp_path)))
    text = card.read_text()
    assert text.startswith("# Review: Tiny classifier")
    assert "## Review gate: " in text and "| accuracy | 1 |" in text

    # by hand, again on the same commit: the tracked run of this commit is reused, and the
    # same model is no improvement on the champion: HOLD, champion stays
    again = run(sys.executable, "-m", "nbops", "release", "tiny.ipynb", "--format", "json",
                cwd=merged, env=ci_env())
    assert again.returncode == 0, again.stdout + again.stderr  # released; the verdict holds
    data = json.loads(again.stdout)
    assert data["new_run"] is False and data["run_id"] == version.run_id and data["pr"] == "7"
    verdict = data["promotion"]["verdict"]
    assert verdict["status"] == "HOLD"
    assert [j["threshold"] for j in verdict["judgements"] if not j["ok"]] == ["min-absolute-change"]
    assert int(client.get_model_version_by_alias("tiny", "champion").version) == 1
    assert client.get_model_version("tiny", "2").tags["nbops.verdict"] == "HOLD"


def test_a_push_that_changes_no_notebook_releases_nothing(merged: Path) -> None:
    (merged / "README.md").write_text("docs only\n")
    git(merged, "add", "README.md")
    git(merged, "commit", "--quiet", "-m", "docs")
    proc = run("bash", "--noprofile", "--norc", "-e", "-c", release_step(merged)["run"],
               cwd=merged, env=ci_env())
    assert proc.returncode == 0 and "nothing to release" in proc.stdout
    assert not (merged / ".nbops" / "mlflow.db").exists()


def test_release_says_what_is_missing_without_a_traceback(merged: Path) -> None:
    (merged / "pyproject.toml").write_text('[project]\nname = "tiny"\n')
    proc = run(sys.executable, "-m", "nbops", "release", "tiny.ipynb", cwd=merged, env=ci_env())
    assert proc.returncode == 2 and "--model NAME" in proc.stderr
    missing = run(sys.executable, "-m", "nbops", "release", "nope.ipynb", "--model", "m",
                  cwd=merged, env=ci_env())
    assert missing.returncode == 2 and "nope.ipynb" in missing.stderr
    assert "Traceback" not in proc.stderr + missing.stderr
    assert str(merged) not in proc.stderr + missing.stderr


@pytest.mark.parametrize(("message", "expected"), [
    ("Merge pull request #12 from ana/review/wine\n\nWine", ("12", "review/wine")),
    ("Merge branch 'review/wine' into 'main'\n\nSee merge request team/wine!34", ("34", "review/wine")),
    ("Merge branch 'review/wine'", ("", "review/wine")),
    ("Fix a typo", ("", "")),
])
def test_the_pull_request_is_read_from_the_merge_commit(message: str,
                                                        expected: tuple[str, str]) -> None:
    assert merge_info(message) == expected


def test_the_gitlab_job_runs_the_same_release_script_on_the_default_branch(tmp_path: Path) -> None:
    from nbops.review.init import InitOptions, plan

    git(tmp_path, "init", "--quiet", "-b", "main")
    files = {f.path: f.text for f in plan(tmp_path, InitOptions(forge="both")).files}
    github = yaml.safe_load(files[".github/workflows/nbops.yml"])["jobs"]["release"]
    gitlab = yaml.safe_load(files[".gitlab-ci.yml"])["nbops-release"]
    assert gitlab["rules"] == [{"if": '$CI_PIPELINE_SOURCE == "push" && '
                                      "$CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH"}]
    script = next(s["run"] for s in github["steps"] if "nbops release" in s.get("run", ""))
    assert gitlab["script"][0].strip() == "\n".join(
        line for line in script.strip().splitlines() if not line.lstrip().startswith("#"))
    assert any("nbops[run]" in line for line in gitlab["before_script"])


def test_a_release_whose_run_fails_registers_nothing_and_exits_1(merged: Path) -> None:
    broken = "# %% tags=parameters\nC = 1.0  # strength\n# %%\nraise ValueError('boom')\n"
    (merged / "broken.ipynb").write_text(notebook_from_snippet(broken).dumps())
    git(merged, "add", "broken.ipynb")
    git(merged, "commit", "--quiet", "-m", "broken")
    proc = run(sys.executable, "-m", "nbops", "release", "broken.ipynb", "--model", "broken",
               cwd=merged, env=ci_env())
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "did not finish" in proc.stderr and "Traceback" not in proc.stderr
    assert registry(merged).search_model_versions("name = 'broken'") == []


def test_a_threshold_of_the_config_is_released_with_a_model_that_declared_none(
        merged: Path, tmp_path: Path) -> None:
    from nbops.deploy import acceptance

    with (merged / "pyproject.toml").open("a") as handle:
        handle.write('\n[tool.nbops.serve]\nthreshold = 0.6\nbelow = "route"\n')
    git(merged, "commit", "--quiet", "-am", "route unsure predictions to a human")
    done = run(sys.executable, "-m", "nbops", "release", "tiny.ipynb", cwd=merged, env=ci_env())
    assert done.returncode == 0, done.stdout + done.stderr
    client = registry(merged)
    version = client.get_model_version("tiny", "1")
    assert version.tags["nbops.acceptance.threshold"] == "0.6"
    assert version.tags["nbops.acceptance.below"] == "route"
    stored = acceptance.read(client, version.run_id)
    assert stored is not None and (stored.threshold, stored.below, stored.source) == (
        0.6, "route", "config")
    card = Path(client.download_artifacts(version.run_id, CARD_ARTIFACT, str(tmp_path)))
    assert ("**Decision threshold**: 0.6 (max class probability, from [tool.nbops.serve]); "
            "below it the label is returned flagged for a human (route).") in card.read_text()
