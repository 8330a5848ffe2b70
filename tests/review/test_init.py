"""``nbops init`` and the CI side of the gate: the files init writes (and how it treats files
that exist), its GitHub workflow and GitLab job run locally step by step (they pass with the
wine example and fail with the churn example added), ``nbops check`` on several notebooks with
its github / gitlab formats, and nbops' own pre-commit hooks."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from nbops.config import Config, load_config
from nbops.review.checks import CheckResult, GateReport
from nbops.review.policy import CHECK_IDS, DEFAULT_LEVELS, Policy, load_policy
from nbops.review.render import NotChecked, gate_github, gate_gitlab, github_escape

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
BIN = Path(sys.executable).parent  # the venv's nbops and pytest, as a CI job would have them
REQUIREMENTS = "pandas\nscikit-learn\nmatplotlib\n"
GENERATED = {
    "pyproject.toml", ".github/workflows/nbops.yml", ".github/pull_request_template.md",
    ".gitlab-ci.yml", ".gitlab/merge_request_templates/Default.md", ".pre-commit-config.yaml",
    ".gitignore",
}


def run(*args: str | Path, cwd: Path, env: dict[str, str] | None = None,
        timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(a) for a in args], cwd=cwd, capture_output=True, text=True,
                          check=False, timeout=timeout, env=env)


def nbops(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    return run(sys.executable, "-m", "nbops", *args, cwd=cwd)


def git(repo: Path, *args: str) -> str:
    proc = run("git", *args, cwd=repo)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def ci_env(**extra: str) -> dict[str, str]:
    """A CI-like environment: the venv first on PATH, no pytest or git settings of this run."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "GIT_"))}
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    env.update({"GIT_AUTHOR_NAME": "Ana", "GIT_AUTHOR_EMAIL": "ana@example.com",
                "GIT_COMMITTER_NAME": "Ana", "GIT_COMMITTER_EMAIL": "ana@example.com"})
    env.update(extra)
    return env


def new_repo(path: Path) -> Path:
    path.mkdir(parents=True)
    git(path, "init", "--quiet", "--initial-branch=main")
    git(path, "config", "user.name", "Ana")
    git(path, "config", "user.email", "ana@example.com")
    shutil.copy(EXAMPLES / "wine_classifier.ipynb", path)
    (path / "requirements.txt").write_text(REQUIREMENTS)
    return path


def files_under(path: Path) -> dict[str, bytes]:
    return {p.relative_to(path).as_posix(): p.read_bytes() for p in sorted(path.rglob("*"))
            if p.is_file() and ".git" not in p.relative_to(path).parts}


@pytest.fixture(scope="module")
def ready(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A repository as a user has it after nbops init and nbops modularize: the wine notebook,
    its requirements, its generated library, tests and slim notebook, all committed on main."""
    repo = new_repo(tmp_path_factory.mktemp("ready") / "repo")
    assert nbops("init", "--forge", "both", cwd=repo).returncode == 0
    proc = nbops("modularize", "wine_classifier.ipynb", cwd=repo)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert (repo / "tests" / "test_wine_classifier.py").is_file()
    git(repo, "add", "-A")
    git(repo, "commit", "--quiet", "-m", "wine, nbops init, modularize")
    return repo


@pytest.fixture
def repo(ready: Path, tmp_path: Path) -> Iterator[Path]:
    copy = tmp_path / "repo"
    shutil.copytree(ready, copy, symlinks=True)
    yield copy


def with_origin(repo: Path, branch: str = "pr") -> Path:
    """Push main to a bare origin and switch to a new branch: a pull request's checkout."""
    origin = repo.parent / "origin.git"
    git(repo.parent, "init", "--quiet", "--bare", str(origin))
    git(repo, "remote", "add", "origin", str(origin))
    git(repo, "push", "--quiet", "origin", "main")
    git(repo, "fetch", "--quiet", "origin")
    git(repo, "switch", "--quiet", "-c", branch)
    return origin


def add_churn(repo: Path) -> None:
    shutil.copy(EXAMPLES / "churn_classifier.ipynb", repo)
    git(repo, "add", "churn_classifier.ipynb")
    git(repo, "commit", "--quiet", "-m", "churn")


# --------------------------------------------------------------------------- files written


def test_init_writes_every_file_and_the_policy_is_the_defaults(tmp_path: Path) -> None:
    repo = new_repo(tmp_path / "repo")
    proc = nbops("init", cwd=repo)
    assert proc.returncode == 0, proc.stderr
    assert GENERATED <= set(files_under(repo)), proc.stdout
    assert "no GitHub or GitLab origin remote: both" in proc.stdout
    assert "next steps:" in proc.stdout and "pre-commit install" in proc.stdout
    for name in GENERATED:
        assert re.search(rf"^  create +{re.escape(name)} ", proc.stdout, re.MULTILINE), name
    # the policy: every key and check spelled out, and every value the default
    table = load_config(repo).submit
    assert set(table["checks"]) == set(CHECK_IDS)
    assert load_policy(load_config(repo)) == load_policy(Config())
    assert load_policy(load_config(repo)) == Policy(levels=dict(DEFAULT_LEVELS))
    for path in (".github/workflows/nbops.yml", ".gitlab-ci.yml", ".pre-commit-config.yaml"):
        assert yaml.safe_load((repo / path).read_text())
    gitignore = (repo / ".gitignore").read_text().splitlines()
    assert {".nbops/", "nbops-runs/"} <= set(gitignore)


def test_an_existing_pyproject_is_appended_to_byte_for_byte(tmp_path: Path) -> None:
    repo = new_repo(tmp_path / "repo")
    git(repo, "branch", "-m", "trunk")  # no commits yet: the base falls back to main
    original = (b'[project]\r\nname = "analysis"  # keep this comment\r\nversion = "1"\r\n'
                b'\r\n[tool.ruff]\r\nline-length = 99')  # CRLF, no final newline
    (repo / "pyproject.toml").write_bytes(original)
    assert nbops("init", cwd=repo).returncode == 0
    data = (repo / "pyproject.toml").read_bytes()
    assert data.startswith(original)
    appended = data[len(original):]
    assert appended.startswith(b"\r\n\r\n# The review gate") and b"\r\n[tool.nbops.submit]\r\n" in appended
    assert b"\n" not in appended.replace(b"\r\n", b"")  # the file's line endings throughout
    assert load_config(repo).submit["base"] == "main"
    # a second run leaves it alone, even with --force
    for args in ((), ("--force",)):
        proc = nbops("init", *args, cwd=repo)
        assert proc.returncode == 0
        assert "[tool.nbops.submit] is already there: left as it is" in proc.stdout
        assert (repo / "pyproject.toml").read_bytes() == data


def test_rerunning_skips_force_overwrites_and_dry_run_writes_nothing(tmp_path: Path) -> None:
    repo = new_repo(tmp_path / "repo")
    before = files_under(repo)
    dry = nbops("init", "--dry-run", cwd=repo)
    assert dry.returncode == 0 and files_under(repo) == before
    assert "would create    .github/workflows/nbops.yml" in dry.stdout
    assert "--- .github/workflows/nbops.yml (content)" in dry.stdout
    assert "nbops check --format github" in dry.stdout and "dry run: nothing was written" in dry.stdout

    assert nbops("init", cwd=repo).returncode == 0
    written = files_under(repo)
    workflow = repo / ".github/workflows/nbops.yml"
    workflow.write_text("# my own workflow\n")
    again = nbops("init", cwd=repo)
    assert again.returncode == 0
    assert re.search(r"skip +\.github/workflows/nbops\.yml +exists: left as it is \(--force overwrites it\)",
                     again.stdout)
    assert re.search(r"unchanged +\.gitlab-ci\.yml", again.stdout)
    assert workflow.read_text() == "# my own workflow\n"
    forced = nbops("init", "--force", cwd=repo)
    assert forced.returncode == 0 and re.search(r"overwrite +\.github/workflows/nbops\.yml", forced.stdout)
    assert files_under(repo) == written
    dry_json = json.loads(nbops("init", "--dry-run", "--format", "json", cwd=repo).stdout)
    assert {f["action"] for f in dry_json["files"]} <= {"unchanged", "skip"} and dry_json["dry_run"]


def test_the_forge_comes_from_the_origin_remote(tmp_path: Path) -> None:
    github = new_repo(tmp_path / "gh")
    git(github, "remote", "add", "origin", "git@github.com:octo/analysis.git")
    proc = nbops("init", cwd=github)
    assert "the origin remote is on GitHub" in proc.stdout
    assert (github / ".github/workflows/nbops.yml").is_file() and not (github / ".gitlab-ci.yml").exists()
    gitlab = new_repo(tmp_path / "gl")
    git(gitlab, "remote", "add", "origin", "https://gitlab.example.com/data/analysis.git")
    nbops("init", cwd=gitlab)
    assert (gitlab / ".gitlab-ci.yml").is_file() and not (gitlab / ".github").exists()
    assert (gitlab / ".gitlab/merge_request_templates/Default.md").is_file()
    nbops("init", "--forge", "github", cwd=gitlab)
    assert (gitlab / ".github/workflows/nbops.yml").is_file()


def test_an_existing_gitlab_ci_gets_an_include_or_is_left_alone(tmp_path: Path) -> None:
    repo = new_repo(tmp_path / "a")
    mine = b"stages: [build, test]\n\nbuild:\n  stage: build\n  script: [make]\n"
    (repo / ".gitlab-ci.yml").write_bytes(mine)
    proc = nbops("init", "--forge", "gitlab", cwd=repo)
    assert proc.returncode == 0
    data = (repo / ".gitlab-ci.yml").read_bytes()
    assert data.startswith(mine) and data.endswith(b"include:\n  - local: ci/nbops.gitlab-ci.yml\n")
    merged = yaml.safe_load(data)
    assert merged["include"] == [{"local": "ci/nbops.gitlab-ci.yml"}] and "build" in merged
    assert "nbops" in yaml.safe_load((repo / "ci/nbops.gitlab-ci.yml").read_text())
    assert nbops("init", "--forge", "gitlab", "--force", cwd=repo).returncode == 0
    assert (repo / ".gitlab-ci.yml").read_bytes() == data  # included once, never rewritten

    other = new_repo(tmp_path / "b")
    theirs = b"include:\n  - template: Security/SAST.gitlab-ci.yml\n"
    (other / ".gitlab-ci.yml").write_bytes(theirs)
    proc = nbops("init", "--forge", "gitlab", cwd=other)
    assert (other / ".gitlab-ci.yml").read_bytes() == theirs
    assert "add `- local: ci/nbops.gitlab-ci.yml` to the include: list" in proc.stdout


def test_an_existing_pre_commit_config_gets_the_nbops_entry_inserted(tmp_path: Path) -> None:
    repo = new_repo(tmp_path / "repo")
    mine = ("# my hooks\nrepos:\n-   repo: https://github.com/psf/black\n    rev: 24.1.0\n"
            "    hooks:\n    -   id: black\n\nci:\n  autofix_prs: false\n")
    (repo / ".pre-commit-config.yaml").write_text(mine)
    assert nbops("init", cwd=repo).returncode == 0
    text = (repo / ".pre-commit-config.yaml").read_text()
    data = yaml.safe_load(text)
    assert [r["repo"] for r in data["repos"]] == ["https://github.com/psf/black", "https://github.com/nbops/nbops"]
    assert data["ci"] == {"autofix_prs": False}
    inserted = text.replace(mine[: mine.index("\nci:")], "", 1)
    assert text.startswith(mine[: mine.index("\nci:")]) and inserted.endswith("\nci:\n  autofix_prs: false\n")
    again = nbops("init", cwd=repo)
    assert "already uses nbops' hooks" in again.stdout
    assert (repo / ".pre-commit-config.yaml").read_text() == text
    pre_commit = pytest.importorskip("pre_commit.clientlib")
    pre_commit.load_config(str(repo / ".pre-commit-config.yaml"))


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        (lambda r: (r / "pyproject.toml").write_text("[tool]\nnbops = {select = ['NB']}\n"), "would not give valid TOML"),
        (lambda r: (r / "pyproject.toml").write_text("[tool\n"), "invalid TOML"),
        (lambda r: (r / "sub").mkdir(), "inside the git repository"),
    ],
    ids=["inline-table", "bad-toml", "subfolder"],
)
def test_bad_input_is_a_clear_error_and_nothing_is_written(tmp_path: Path, setup: Any, message: str) -> None:
    repo = new_repo(tmp_path / "repo")
    setup(repo)
    before = files_under(repo)
    target = "sub" if (repo / "sub").is_dir() else "."
    proc = nbops("init", target, cwd=repo)
    assert proc.returncode == 2 and message in proc.stderr, proc.stderr
    assert files_under(repo) == before
    assert nbops("init", "missing", cwd=repo).returncode == 2


# --------------------------------------------------------------------------- the CI, run locally


def workflow_steps(repo: Path) -> list[dict[str, Any]]:
    workflow = yaml.safe_load((repo / ".github/workflows/nbops.yml").read_text())
    assert "pull_request" in workflow[True]  # YAML 1.1 reads the key `on` as True
    steps: list[dict[str, Any]] = workflow["jobs"]["check"]["steps"]
    uses = [s["uses"].split("@")[0] for s in steps if "uses" in s]
    assert uses == ["actions/checkout", "actions/setup-python"]
    assert steps[0]["with"]["fetch-depth"] == 0
    return steps


def run_workflow(repo: Path, base_ref: str = "") -> dict[str, subprocess.CompletedProcess[str]]:
    """The check job's `run:` steps as GitHub runs them (bash -e, the step's env, the
    github.base_ref of a pull_request event), but the pip install step."""
    results: dict[str, subprocess.CompletedProcess[str]] = {}
    failed = False
    for step in workflow_steps(repo):
        if "run" not in step or "pip install" in step["run"]:
            continue
        condition = step.get("if", "success()")
        if failed and "cancelled()" not in condition:
            continue
        env = {k: str(v).replace("${{ github.base_ref }}", base_ref) for k, v in step.get("env", {}).items()}
        proc = run("bash", "--noprofile", "--norc", "-e", "-c", step["run"], cwd=repo, env=ci_env(**env))
        results[step["name"]] = proc
        failed = failed or proc.returncode != 0
    return results


def test_the_github_workflow_passes_locally_and_fails_on_a_blocked_notebook(repo: Path) -> None:
    steps = run_workflow(repo)
    gate, tests = steps["Review gate"], steps["Generated tests"]
    assert gate.returncode == 0, gate.stdout + gate.stderr
    assert "PASSED" in gate.stdout and "wine_classifier_slim.ipynb: skipped" in gate.stdout
    assert tests.returncode == 0 and " passed" in tests.stdout, tests.stdout[-2000:]

    add_churn(repo)
    gate = run_workflow(repo)["Review gate"]
    assert gate.returncode == 1, gate.stdout + gate.stderr
    errors = [line for line in gate.stdout.splitlines() if line.startswith("::error ")]
    assert any(line.startswith("::error file=churn_classifier.ipynb,line=1,title=nbops check%3A "
                               "No secrets in code or outputs (cell 5)::") for line in errors)
    assert all("wine" not in line for line in errors)
    assert "2 notebook(s) checked: 1 passed, 1 blocked (1 skipped)" in gate.stdout
    assert "sk_live" not in gate.stdout


def test_the_github_workflow_checks_only_what_the_pull_request_changes(repo: Path) -> None:
    with_origin(repo)
    (repo / "README.md").write_text("no notebook changed\n")
    git(repo, "add", "README.md")
    git(repo, "commit", "--quiet", "-m", "readme")
    gate = run_workflow(repo, base_ref="main")["Review gate"]
    assert gate.returncode == 0 and "no notebooks to check (none changed since origin/main)" in gate.stdout

    add_churn(repo)
    gate = run_workflow(repo, base_ref="main")["Review gate"]
    assert gate.returncode == 1 and "churn_classifier.ipynb" in gate.stdout
    assert "wine_classifier.ipynb\n" not in gate.stdout  # unchanged: not checked
    assert "1 notebook(s) checked: 0 passed, 1 blocked" in gate.stdout


def run_gitlab_job(repo: Path, **variables: str) -> list[subprocess.CompletedProcess[str]]:
    """The nbops job's before_script (but pip) and script lines, each as the runner does
    (bash, errexit, pipefail), stopping at the first failure."""
    job = yaml.safe_load((repo / ".gitlab-ci.yml").read_text())["nbops"]
    assert job["artifacts"]["reports"]["codequality"] == "gl-code-quality-report.json"
    assert job["artifacts"]["when"] == "always" and job["variables"]["GIT_DEPTH"] == "0"
    assert job["rules"] == [{"if": '$CI_PIPELINE_SOURCE == "merge_request_event"'}]
    results = []
    for line in [*job["before_script"], *job["script"]]:
        if "pip install" in line:
            continue
        proc = run("bash", "-e", "-o", "pipefail", "-c", line, cwd=repo, env=ci_env(**variables))
        results.append(proc)
        if proc.returncode != 0:
            break
    return results


def code_quality(repo: Path) -> list[dict[str, Any]]:
    issues: list[dict[str, Any]] = json.loads((repo / "gl-code-quality-report.json").read_text())
    assert isinstance(issues, list)
    for issue in issues:  # the fields GitLab requires
        assert isinstance(issue["description"], str) and issue["description"]
        assert isinstance(issue["check_name"], str) and issue["check_name"]
        assert re.fullmatch(r"[0-9a-f]{64}", issue["fingerprint"])
        assert issue["severity"] in {"info", "minor", "major", "critical", "blocker"}
        assert isinstance(issue["location"]["path"], str)
        assert isinstance(issue["location"]["lines"]["begin"], int) and issue["location"]["lines"]["begin"] >= 1
    assert len({i["fingerprint"] for i in issues}) == len(issues)
    return issues


def test_the_gitlab_job_passes_locally_and_fails_on_a_blocked_notebook(repo: Path) -> None:
    steps = run_gitlab_job(repo)
    assert [p.returncode for p in steps] == [0, 0], [p.stdout + p.stderr for p in steps]
    assert "PASSED" in steps[0].stdout and " passed" in steps[1].stdout
    assert code_quality(repo) == []

    add_churn(repo)
    steps = run_gitlab_job(repo)
    assert steps[-1].returncode == 1 and len(steps) == 1  # the gate fails the job
    assert "BLOCKED" in steps[0].stdout  # the text report goes to the job log
    issues = code_quality(repo)
    assert {i["location"]["path"] for i in issues} == {"churn_classifier.ipynb"}
    assert {i["check_name"] for i in issues} >= {"nbops-check/secrets", "nbops-check/absolute-paths"}
    assert {i["severity"] for i in issues} == {"major"}


def test_the_gitlab_job_in_a_merge_request_checks_the_changed_notebooks(repo: Path) -> None:
    with_origin(repo)
    add_churn(repo)
    git(repo, "update-ref", "-d", "refs/remotes/origin/main")  # as a runner's clone may lack it
    steps = run_gitlab_job(repo, CI_MERGE_REQUEST_TARGET_BRANCH_NAME="main")
    assert steps[-1].returncode == 1, steps[-1].stderr
    assert {i["location"]["path"] for i in code_quality(repo)} == {"churn_classifier.ipynb"}
    assert "1 notebook(s) checked: 0 passed, 1 blocked" in steps[-1].stdout


# --------------------------------------------------------------------------- check: formats, several


def report(path: str, *checks: CheckResult) -> GateReport:
    return GateReport(path, Policy(), list(checks))


def test_github_annotations_are_exact_and_escaped() -> None:
    required = CheckResult("sections", "documentation", "Required sections", "fail",
                           "missing: Data, 100% sure\r\nnext", "add a heading: `## Data`",
                           details=["## Data"])
    optional = CheckResult("summary", "documentation", "Summary, short", "fail", "3 words",
                           cell_index=0, level="optional")
    passed = CheckResult("title", "documentation", "Title (H1)", "pass", "ok")
    text = gate_github(report("dir,a:b/nb%1.ipynb", required, optional, passed))
    assert text == (
        "::error file=dir%2Ca%3Ab/nb%251.ipynb,line=1,title=nbops check%3A Required sections::"
        "missing: Data, 100%25 sure%0D%0Anext%0A- ## Data%0Afix: add a heading: `## Data`\n"
        "::warning file=dir%2Ca%3Ab/nb%251.ipynb,line=1,title=nbops check%3A Summary%2C short (cell 1)::"
        "3 words\n"
    )
    assert github_escape("a:b,c%\n", prop=True) == "a%3Ab%2Cc%25%0A"
    assert github_escape("a:b,c") == "a:b,c"


def test_gitlab_code_quality_severities_and_stable_fingerprints() -> None:
    required = CheckResult("secrets", "safety", "No secrets", "fail", "1 secret", "revoke it", cell_index=4)
    optional = CheckResult("summary", "documentation", "Summary", "fail", "3 words", level="optional")
    issues = gate_gitlab([report("a.ipynb", required, optional)], [NotChecked("b.ipynb", "bad JSON", error=True)])
    assert [(i["check_name"], i["severity"]) for i in issues] == [
        ("nbops-check/secrets", "major"), ("nbops-check/summary", "minor"), ("nbops-check/unreadable", "critical"),
    ]
    assert issues[0]["description"] == "No secrets (cell 5): 1 secret (fix: revoke it)"
    assert issues[0]["location"] == {"path": "a.ipynb", "lines": {"begin": 1}}
    again = gate_gitlab([report("a.ipynb", required)])
    assert again[0]["fingerprint"] == issues[0]["fingerprint"]


def test_check_on_several_notebooks(repo: Path) -> None:
    single = json.loads(nbops("check", "wine_classifier.ipynb", "--format", "json", cwd=repo).stdout)
    assert set(single) == {"notebook", "passed", "summary", "checks", "policy"}  # unchanged shape
    shutil.copy(EXAMPLES / "churn_classifier.ipynb", repo)
    (repo / "broken.ipynb").write_text("{not json")
    proc = nbops("check", ".", "--format", "json", cwd=repo)
    assert proc.returncode == 2, proc.stderr  # an unreadable notebook: 2, as nbops lint
    doc = json.loads(proc.stdout)
    assert doc["passed"] is False
    assert doc["summary"] == {"notebooks": 2, "passed": 1, "blocked": 1, "skipped": 1, "errors": 1}
    assert [n["notebook"] for n in doc["notebooks"]] == ["churn_classifier.ipynb", "wine_classifier.ipynb"]
    assert doc["skipped"][0]["notebook"] == "wine_classifier_slim.ipynb"
    assert doc["errors"][0]["notebook"] == "broken.ipynb" and "broken.ipynb" in proc.stderr
    (repo / "broken.ipynb").unlink()

    two = nbops("check", "wine_classifier.ipynb", "churn_classifier.ipynb", "--format", "markdown", cwd=repo)
    assert two.returncode == 1 and two.stdout.startswith("### Review gate: blocked (1 of 2 notebooks)")
    assert "#### `wine_classifier.ipynb`: passed" in two.stdout
    out = repo / "report.json"
    gl = nbops("check", "*.ipynb", "--format", "gitlab", "-o", out.name, cwd=repo)
    assert gl.returncode == 1 and "BLOCKED" in gl.stdout and "PASSED" in gl.stdout
    assert {i["location"]["path"] for i in json.loads(out.read_text())} == {"churn_classifier.ipynb"}
    (repo / "empty").mkdir()
    empty = nbops("check", "empty", cwd=repo)
    assert empty.returncode == 0 and empty.stdout == "no notebooks to check\n"
    assert nbops("check", "nothing*.ipynb", cwd=repo).returncode == 2
    bad_ref = nbops("check", ".", "--changed-from", "no-such-branch", cwd=repo)
    assert bad_ref.returncode == 2 and "unknown git revision" in bad_ref.stderr


def test_changed_from_counts_uncommitted_and_untracked_notebooks(repo: Path) -> None:
    assert nbops("check", ".", "--changed-from", "HEAD", cwd=repo).stdout.startswith("no notebooks to check")
    shutil.copy(EXAMPLES / "churn_classifier.ipynb", repo)  # untracked
    proc = nbops("check", ".", "--changed-from", "HEAD", "--format", "json", cwd=repo)
    assert [n["notebook"] for n in json.loads(proc.stdout)["notebooks"]] == ["churn_classifier.ipynb"]
    wine = repo / "wine_classifier.ipynb"
    wine.write_text(wine.read_text().replace("Wine", "Wine", 1) + "\n")  # modified, uncommitted
    proc = nbops("check", ".", "--changed-from", "HEAD", "--format", "json", cwd=repo)
    assert len(json.loads(proc.stdout)["notebooks"]) == 2


# --------------------------------------------------------------------------- pre-commit hooks


def test_the_pre_commit_hooks_manifest_is_valid() -> None:
    clientlib = pytest.importorskip("pre_commit.clientlib", reason="pre-commit is in the test extra")
    hooks = clientlib.load_manifest(str(ROOT / ".pre-commit-hooks.yaml"))
    by_id = {h["id"]: h for h in hooks}
    assert set(by_id) == {"nbops-lint", "nbops-fix", "nbops-check"}
    for hook in hooks:
        assert hook["language"] == "python" and hook["types"] == ["jupyter"] and hook["pass_filenames"]
        program, *arguments = hook["entry"].split()
        assert program == "nbops" and nbops(*arguments, "--help", cwd=ROOT).returncode == 0
    # the config nbops init writes uses these ids
    config = yaml.safe_load((ROOT / "src/nbops/review/templates/pre-commit-entry.yaml.tmpl").read_text()
                            .replace("{@repository@}", "x").replace("{@rev@}", "v0")
                            .replace("{@note@}", ""))
    assert {h["id"] for h in config[0]["hooks"]} <= set(by_id)


def test_the_hooks_run_through_pre_commit(repo: Path, tmp_path: Path) -> None:
    """nbops' hooks as pre-commit runs them (file selection, filenames passed in one call), as
    `language: system` hooks: the same entries without pre-commit building an environment."""
    pytest.importorskip("pre_commit", reason="pre-commit is in the test extra")
    manifest = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    local = {"repos": [{"repo": "local", "hooks": [
        {**{k: v for k, v in hook.items() if k != "description"}, "language": "system"}
        for hook in manifest if hook["id"] != "nbops-fix"
    ]}]}
    config = repo / "hooks.yaml"
    config.write_text(yaml.safe_dump(local))
    env = ci_env(PRE_COMMIT_HOME=str(tmp_path / "cache"))

    def hook(name: str, *files: str) -> subprocess.CompletedProcess[str]:
        which = ["--files", *files] if files else ["--all-files"]
        return run(BIN / "pre-commit", "run", name, *which, "-c", config.name, cwd=repo, env=env)

    # (the slim notebook nbops modularize writes is not lint-clean yet: left out of the lint hook)
    lint = hook("nbops-lint", "wine_classifier.ipynb", "requirements.txt")
    check = hook("nbops-check")
    assert lint.returncode == 0 and check.returncode == 0, lint.stdout + check.stdout
    assert "Passed" in check.stdout
    add_churn(repo)
    check = hook("nbops-check")
    assert check.returncode == 1 and "BLOCKED" in check.stdout and "skipped" in check.stdout
    assert hook("nbops-lint", "wine_classifier.ipynb", "churn_classifier.ipynb").returncode == 1
    assert run(BIN / "pre-commit", "validate-config", ".pre-commit-config.yaml", cwd=repo, env=env).returncode == 0
