"""``nbops submit`` against real git repositories: bare remotes, a ``git daemon`` on
localhost, hooks that refuse, diverged branches, concurrent submits, and the user's checkout
checked byte for byte."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from nbops.errors import UsageError
from nbops.review.git import PushError
from nbops.review.submit import GateFailed, SubmitOptions, review_branch, submit

ROOT = Path(__file__).resolve().parents[2]
WINE = ROOT / "examples" / "wine_classifier.ipynb"
CHURN = ROOT / "examples" / "churn_classifier.ipynb"
PYPROJECT = '[project]\nname = "wine"\ndependencies = ["pandas", "scikit-learn", "matplotlib"]\n'


def git(cwd: Path, *args: str) -> str:
    proc = subprocess.run(["git", "-C", str(cwd), *args], capture_output=True, text=True, check=True)
    return proc.stdout.strip()


def clean_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB", "GH_", "GITLAB", "GL_"))}
    env.update({"GIT_CONFIG_NOSYSTEM": "1"})
    return env


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A user's clone of a project with the wine example, its bare remote at ``remote.git``."""
    for key in list(os.environ):
        if key.startswith(("GITHUB", "GH_", "GITLAB", "GL_")):
            monkeypatch.delenv(key)
    remote = tmp_path / "remote.git"
    subprocess.run(["git", "init", "-q", "--bare", str(remote)], check=True)
    work = tmp_path / "work"
    subprocess.run(["git", "init", "-q", "-b", "main", str(work)], check=True)
    git(work, "config", "user.name", "Ana Lyst")
    git(work, "config", "user.email", "ana@example.com")
    shutil.copy(WINE, work / "wine_classifier.ipynb")
    shutil.copy(CHURN, work / "churn_classifier.ipynb")
    (work / "pyproject.toml").write_text(PYPROJECT)
    git(work, "add", ".")
    git(work, "commit", "-qm", "init")
    git(work, "remote", "add", "origin", str(remote))
    git(work, "push", "-q", "origin", "main")
    # work in progress the submit must not disturb
    (work / "notes.txt").write_text("untracked scratch\n")
    (work / "pyproject.toml").write_text(PYPROJECT + "# an uncommitted edit\n")
    (work / "staged.txt").write_text("staged\n")
    git(work, "add", "staged.txt")
    return work


def snapshot(work: Path) -> dict[str, object]:
    """Everything of the user's checkout a submit must leave alone."""
    files = {
        p.relative_to(work).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(work.rglob("*"))
        if p.is_file() and ".git" not in p.relative_to(work).parts
    }
    return {
        "files": files,
        "status": git(work, "status", "--porcelain=v2", "--branch"),
        "index": git(work, "diff", "--cached"),
        "head": git(work, "rev-parse", "HEAD"),
        "branch": git(work, "symbolic-ref", "HEAD"),
        "worktrees": git(work, "worktree", "list", "--porcelain").count("worktree "),
    }


def remote_branches(remote: Path) -> set[str]:
    return set(git(remote, "for-each-ref", "--format=%(refname:short)", "refs/heads").split())


def test_a_passing_notebook_becomes_a_review_branch_and_nothing_else_changes(repo: Path) -> None:
    before = snapshot(repo)
    result = submit(repo / "wine_classifier.ipynb", SubmitOptions(message="First version."))
    assert snapshot(repo) == before  # byte for byte, index, HEAD, branch, no worktree left
    branch = review_branch("wine_classifier.ipynb", "ana@example.com")
    assert result.branch == branch and result.pushed and result.committed
    remote = repo.parent / "remote.git"
    assert remote_branches(remote) == {"main", branch}
    assert git(remote, "rev-parse", branch) == result.commit
    assert git(remote, "log", "-1", "--format=%an <%ae>", branch) == "Ana Lyst <ana@example.com>"
    assert "Submitted for review by Ana Lyst" in git(remote, "log", "-1", "--format=%B", branch)
    names = set(git(remote, "diff", "--name-only", "main", branch).split())
    assert names == {"wine_classifier.ipynb", "reviews/wine_classifier.md"}
    submitted = json.loads(git(remote, "show", f"{branch}:wine_classifier.ipynb"))
    code = [c for c in submitted["cells"] if c["cell_type"] == "code"]
    assert all(c["outputs"] == [] and c["execution_count"] is None for c in code)
    report = git(remote, "show", f"{branch}:reviews/wine_classifier.md")
    assert report.startswith("# Review: Wine cultivar classifier")
    assert "First version." in report and "| `C` | float | `1.0` |" in report
    assert "## Review gate: passed" in report and "## Limitations" in report
    assert result.forge is None and result.pull_request is None  # a local remote: no forge


def test_submitting_again_adds_to_the_same_branch_and_never_rewrites_it(repo: Path) -> None:
    first = submit(repo / "wine_classifier.ipynb")
    again = submit(repo / "wine_classifier.ipynb")
    assert again.branch == first.branch and again.commit == first.commit
    assert not again.committed and not again.pushed
    nb = repo / "wine_classifier.ipynb"
    nb.write_text(nb.read_text().replace("C = 1.0  #", "C = 0.5  #"))  # an uncommitted edit
    third = submit(nb)
    remote = repo.parent / "remote.git"
    assert third.committed and third.pushed
    assert git(remote, "rev-parse", f"{third.branch}~1") == first.commit  # a fast-forward
    assert "C = 0.5" in git(remote, "show", f"{third.branch}:wine_classifier.ipynb")


def test_a_blocked_notebook_changes_nothing_anywhere(repo: Path) -> None:
    before, remote = snapshot(repo), repo.parent / "remote.git"
    refs = git(repo, "for-each-ref")
    with pytest.raises(GateFailed) as info:
        submit(repo / "churn_classifier.ipynb")
    assert "secrets" in info.value.message and info.value.gate.passed is False
    assert snapshot(repo) == before and git(repo, "for-each-ref") == refs
    assert remote_branches(remote) == {"main"}


def run_cli(cwd: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "nbops", *args], cwd=cwd, capture_output=True, check=False,
                          text=True, timeout=300, env=env or clean_env())


def test_the_cli_blocked_then_submitted(repo: Path) -> None:
    blocked = run_cli(repo, "submit", "churn_classifier.ipynb")
    assert blocked.returncode == 1, blocked.stderr
    assert "BLOCKED" in blocked.stdout and "nothing was submitted" in blocked.stdout
    done = run_cli(repo, "submit", "wine_classifier.ipynb", "--format", "json")
    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout)
    assert doc["submitted"] and doc["pushed"] and doc["gate"]["passed"]
    text = run_cli(repo, "submit", "wine_classifier.ipynb")
    assert "unchanged (already submitted)" in text.stdout and "not a known forge" in text.stdout


def test_dry_run_shows_the_files_and_creates_nothing(repo: Path) -> None:
    refs = git(repo, "for-each-ref")
    result = submit(repo / "wine_classifier.ipynb", SubmitOptions(dry_run=True))
    assert result.files == ["reviews/wine_classifier.md", "wine_classifier.ipynb"]
    assert not result.pushed and git(repo, "for-each-ref", "refs/heads") == git(repo, "for-each-ref", "refs/heads")
    assert remote_branches(repo.parent / "remote.git") == {"main"}
    assert "refs/heads/review" not in git(repo, "for-each-ref") and refs.count("refs/heads/") == 1


def test_a_hook_that_refuses_the_push_is_reported_and_the_local_branch_is_kept(repo: Path) -> None:
    hook = repo.parent / "remote.git" / "hooks" / "pre-receive"
    hook.write_text("#!/bin/sh\necho 'review branches need a ticket number' >&2\nexit 1\n")
    hook.chmod(0o755)
    with pytest.raises(PushError) as info:
        submit(repo / "wine_classifier.ipynb")
    assert info.value.reason == "declined" and "ticket number" in info.value.message
    branch = review_branch("wine_classifier.ipynb", "ana@example.com")
    local = git(repo, "rev-parse", f"refs/heads/{branch}")  # kept for a retry
    hook.unlink()
    retried = submit(repo / "wine_classifier.ipynb")
    assert retried.pushed and retried.commit == local and not retried.committed


def test_a_diverged_review_branch_is_refused_never_forced(repo: Path, tmp_path: Path) -> None:
    first = submit(repo / "wine_classifier.ipynb")
    # someone else adds a commit to the review branch on the remote ...
    other = tmp_path / "other"
    subprocess.run(["git", "clone", "-q", str(repo.parent / "remote.git"), str(other)], check=True)
    git(other, "checkout", "-q", first.branch)
    (other / "theirs.txt").write_text("theirs\n")
    git(other, "add", "theirs.txt")
    git(other, "-c", "user.name=Bo", "-c", "user.email=bo@example.com", "commit", "-qm", "theirs")
    git(other, "push", "-q", "origin", first.branch)
    theirs = git(other, "rev-parse", "HEAD")
    # ... while a local commit waits on ours
    git(repo, "update-ref", f"refs/heads/{first.branch}", git(repo, "commit-tree", "-p", first.commit,
        "-m", "local", git(repo, "rev-parse", f"{first.commit}^{{tree}}")))
    with pytest.raises(PushError, match="diverged") as info:
        submit(repo / "wine_classifier.ipynb")
    assert info.value.reason == "rejected" and "never force-pushes" in (info.value.hint or "")
    assert git(repo.parent / "remote.git", "rev-parse", first.branch) == theirs  # untouched


def _clone(repo: Path, where: Path, name: str) -> Path:
    """Another teammate's clone of the remote, with their identity."""
    subprocess.run(["git", "clone", "-q", str(repo.parent / "remote.git"), str(where)], check=True)
    git(where, "config", "user.name", name)
    git(where, "config", "user.email", f"{name.lower()}@example.com")
    git(where, "checkout", "-q", "main")  # the bare remote's HEAD names no branch
    return where


def _commit_file(clone: Path, branch: str, name: str, text: str, message: str) -> str:
    git(clone, "checkout", "-q", branch)
    git(clone, "pull", "-q", "--ff-only", "origin", branch)
    (clone / name).write_text(text)
    git(clone, "add", name)
    git(clone, "commit", "-qm", message)
    git(clone, "push", "-q", "origin", branch)
    return git(clone, "rev-parse", "HEAD")


def test_a_base_that_moved_is_merged_into_the_review_branch(repo: Path, tmp_path: Path) -> None:
    first = submit(repo / "wine_classifier.ipynb")
    assert not first.merged_base  # a new branch starts from the base
    other = _clone(repo, tmp_path / "other", "Bo")
    moved = _commit_file(other, "main", "CONTRIBUTING.md", "be kind\n", "contributing")
    nb = repo / "wine_classifier.ipynb"
    nb.write_text(nb.read_text().replace("C = 1.0  #", "C = 0.5  #"))  # the user's own edit
    before = snapshot(repo)
    again = submit(nb)
    assert again.merged_base and again.committed and again.pushed
    assert snapshot(repo) == before  # the user's checkout: still untouched
    remote = repo.parent / "remote.git"
    # the branch now contains the moved base, and was only ever fast-forwarded
    for ancestor in (moved, first.commit):
        subprocess.run(["git", "-C", str(remote), "merge-base", "--is-ancestor", ancestor,
                        again.branch], check=True)
    merge = git(remote, "rev-parse", f"{again.branch}~1")
    assert git(remote, "log", "-1", "--format=%P", merge).split() == [first.commit, moved]
    assert "Merge origin/main into the review branch" in git(remote, "log", "-1", "--format=%s", merge)
    assert git(remote, "log", "-1", "--format=%an", merge) == "Ana Lyst"
    assert "C = 0.5" in git(remote, "show", f"{again.branch}:wine_classifier.ipynb")
    assert git(remote, "show", f"{again.branch}:CONTRIBUTING.md") == "be kind"
    # the pull request's diff is the submission alone
    names = set(git(remote, "diff", "--name-only", f"main...{again.branch}").split())
    assert names == {"wine_classifier.ipynb", "reviews/wine_classifier.md"}
    # nothing new on either side: the next submit changes nothing
    third = submit(nb)
    assert not (third.merged_base or third.committed or third.pushed)


def test_a_conflict_in_the_submitted_notebook_is_resolved_with_the_submission(
    repo: Path, tmp_path: Path
) -> None:
    first = submit(repo / "wine_classifier.ipynb")
    other = _clone(repo, tmp_path / "other", "Bo")
    nb_text = (other / "wine_classifier.ipynb").read_text()
    _commit_file(other, "main", "wine_classifier.ipynb", nb_text.replace("C = 1.0  #", "C = 2.0  #"),
                 "C = 2 on main")
    nb = repo / "wine_classifier.ipynb"
    nb.write_text(nb.read_text().replace("C = 1.0  #", "C = 0.5  #"))
    again = submit(nb)
    assert again.merged_base and again.pushed and not again.warnings
    remote = repo.parent / "remote.git"
    submitted = git(remote, "show", f"{again.branch}:wine_classifier.ipynb")
    assert "C = 0.5" in submitted and "C = 2.0" not in submitted and "<<<<<<<" not in submitted
    # the merge (the notebook's conflict resolved), then the submission (the new report)
    parents = git(remote, "log", "-1", "--format=%P", f"{again.branch}~1").split()
    assert len(parents) == 2 and parents[0] == first.commit
    with pytest.raises(subprocess.CalledProcessError):  # no merge left behind anywhere
        git(repo, "rev-parse", "--verify", "--quiet", "MERGE_HEAD")


def test_a_conflict_elsewhere_is_left_for_the_reviewers_with_a_warning(
    repo: Path, tmp_path: Path
) -> None:
    first = submit(repo / "wine_classifier.ipynb")
    other = _clone(repo, tmp_path / "other", "Bo")
    # a teammate changes pyproject.toml on the review branch, and main changes it otherwise
    theirs = _commit_file(other, first.branch, "pyproject.toml", PYPROJECT + "# review\n", "on review")
    _commit_file(other, "main", "pyproject.toml", PYPROJECT + "# main\n", "on main")
    nb = repo / "wine_classifier.ipynb"
    nb.write_text(nb.read_text().replace("C = 1.0  #", "C = 0.5  #"))
    again = submit(nb)
    assert not again.merged_base and again.committed and again.pushed
    assert any("conflicts in pyproject.toml" in w and "resolve it on the branch" in w
               for w in again.warnings), again.warnings
    remote = repo.parent / "remote.git"
    assert git(remote, "rev-parse", f"{again.branch}~1") == theirs  # on top of theirs, no merge
    assert git(remote, "show", f"{again.branch}:pyproject.toml").endswith("# review")
    text = run_cli(repo, "submit", "wine_classifier.ipynb")
    assert text.returncode == 0 and "note: origin/main has moved" in text.stdout, text.stdout


def test_a_branch_merged_into_the_base_continues_from_the_base(repo: Path, tmp_path: Path) -> None:
    first = submit(repo / "wine_classifier.ipynb")
    other = _clone(repo, tmp_path / "other", "Bo")
    git(other, "checkout", "-q", "main")
    git(other, "merge", "-q", "--no-ff", "--no-edit", f"origin/{first.branch}")  # the PR merged
    git(other, "push", "-q", "origin", "main")
    merged = git(other, "rev-parse", "HEAD")
    nb = repo / "wine_classifier.ipynb"
    nb.write_text(nb.read_text().replace("C = 1.0  #", "C = 0.5  #"))
    again = submit(nb)
    assert again.merged_base and again.pushed
    remote = repo.parent / "remote.git"
    assert git(remote, "rev-parse", f"{again.branch}~1") == merged  # a fast-forward, one commit on top
    assert git(remote, "diff", "--name-only", f"main...{again.branch}").split() == [
        "reviews/wine_classifier.md", "wine_classifier.ipynb"]


@pytest.mark.parametrize(
    ("setup", "error", "message"),
    [
        (lambda w: git(w, "remote", "remove", "origin"), UsageError, "no git remote named 'origin'"),
        (lambda w: git(w, "remote", "set-url", "origin", str(w.parent / "nowhere.git")), PushError,
         "the remote's folder ../nowhere.git does not exist"),
        (lambda w: git(w, "remote", "set-url", "origin", "http://127.0.0.1:9/repo.git"), PushError,
         "cannot reach the remote"),
    ],
    ids=["missing-remote", "missing-path", "refused-connection"],
)
def test_remote_problems_are_clear_errors(repo: Path, setup: object, error: type, message: str) -> None:
    setup(repo)  # type: ignore[operator]
    before = snapshot(repo)
    with pytest.raises(error, match=message):
        submit(repo / "wine_classifier.ipynb")
    assert snapshot(repo) == before


def test_outside_a_repository_and_unknown_base_are_usage_errors(tmp_path: Path, repo: Path) -> None:
    loose = tmp_path / "loose"
    loose.mkdir()
    shutil.copy(WINE, loose / "wine.ipynb")
    with pytest.raises(UsageError, match="not in a git repository"):
        submit(loose / "wine.ipynb")
    with pytest.raises(UsageError, match="has no branch 'develop'"):
        submit(repo / "wine_classifier.ipynb", SubmitOptions(base="develop"))


def test_a_secret_in_a_library_file_stops_the_submit(repo: Path) -> None:
    proc = run_cli(repo, "modularize", "wine_classifier.ipynb")
    assert proc.returncode == 0, proc.stderr
    module = next((repo / "src").rglob("wine_classifier.py"))
    module.write_text(module.read_text() + '\nAPI_KEY = "AKIA' + "Q3ZR7T5VX2LMN8PW" + '"\n')
    with pytest.raises(UsageError, match=r"holds a secret \(AWS access key id"):
        submit(repo / "wine_classifier.ipynb")
    assert remote_branches(repo.parent / "remote.git") == {"main"}


def test_the_generated_library_and_tests_go_with_the_notebook(repo: Path) -> None:
    proc = run_cli(repo, "modularize", "wine_classifier.ipynb")
    assert proc.returncode == 0, proc.stderr
    result = submit(repo / "wine_classifier.ipynb")
    assert {"src/wine/wine_classifier.py", "tests/test_wine_classifier.py",
            "wine_classifier_slim.ipynb"} <= set(result.files)
    report = git(repo.parent / "remote.git", "show", f"{result.branch}:reviews/wine_classifier.md")
    assert "- `src/wine/wine_classifier.py`" in report
    # the library section: the module's steps and parameters, and no display flag
    library = report[report.index("## Library"):report.index("## Latest tracked run")]
    assert "`src/wine/wine_classifier.py`, written by `nbops modularize`: " in library
    assert "| step | cells |" in library and "Parameters of `run(params)`:" in library
    assert "show=" not in library and "show:" not in library


def test_two_submits_at_once_do_not_corrupt_the_repository(repo: Path) -> None:
    second = repo / "wine_second.ipynb"
    shutil.copy(repo / "wine_classifier.ipynb", second)
    procs = [
        subprocess.Popen([sys.executable, "-m", "nbops", "submit", name, "--format", "json"],
                         cwd=repo, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         env=clean_env())
        for name in ("wine_classifier.ipynb", "wine_second.ipynb")
    ]
    outputs = [p.communicate(timeout=300) for p in procs]
    assert all(p.returncode == 0 for p in procs), outputs
    branches = {json.loads(out)["branch"] for out, _ in outputs}
    assert len(branches) == 2 and branches <= remote_branches(repo.parent / "remote.git")
    subprocess.run(["git", "-C", str(repo), "fsck", "--no-progress"], check=True, capture_output=True)
    assert git(repo, "worktree", "list", "--porcelain").count("worktree ") == 1


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def daemon(repo: Path) -> Iterator[str]:
    """``git daemon`` serving the remote over git:// on localhost, pushes enabled."""
    port = _free_port()
    base = repo.parent
    proc = subprocess.Popen(
        ["git", "daemon", "--reuseaddr", f"--base-path={base}", "--export-all",
         "--enable=receive-pack", f"--port={port}", "--listen=127.0.0.1", str(base)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                break
        time.sleep(0.1)
    try:
        yield f"git://127.0.0.1:{port}/remote.git"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_a_push_over_a_git_server_on_localhost(repo: Path, daemon: str) -> None:
    git(repo, "remote", "set-url", "origin", daemon)
    result = submit(repo / "wine_classifier.ipynb")
    assert result.pushed
    assert result.branch in remote_branches(repo.parent / "remote.git")


def as_github(repo: Path, fake: Any) -> None:
    """Make the remote "GitHub" to nbops (the fake forge's API) while git itself is sent to
    the bare repository beside ``repo``."""
    bare = str(repo.parent / "remote.git")
    git(repo, "remote", "set-url", "origin", "https://github.com/octo/wine.git")
    git(repo, "config", f"url.{bare}.insteadOf", "https://github.com/octo/wine.git")
    (repo / "pyproject.toml").write_text(
        PYPROJECT + f'[tool.nbops.submit]\nforge = "github"\napi-url = "{fake.github_api}"\n'
    )


def test_a_pull_request_is_opened_on_the_forge_and_updated_on_resubmit(repo: Path) -> None:
    from review.forges.fakeforge import TOKEN, FakeForge

    fake = FakeForge()
    fake.add_github_repo("octo/wine", branches=("main", review_branch("wine_classifier.ipynb", "ana@example.com")),
                         collaborators=("bob",))
    fake.start()
    try:
        as_github(repo, fake)
        env = {"GITHUB_TOKEN": TOKEN, "NO_PROXY": "127.0.0.1"}
        first = submit(repo / "wine_classifier.ipynb", SubmitOptions(reviewers=["bob"], env=env))
        pr = first.pull_request
        assert first.forge == "github" and pr is not None and pr.created and pr.state == "open"
        pulls = fake.github["octo/wine"].pulls
        assert len(pulls) == 1 and pulls[0]["title"] == "Review: Wine cultivar classifier"
        assert "## Review gate: passed" in pulls[0]["body"] and "| `SEED` | int |" in pulls[0]["body"]
        assert fake.calls("POST", "requested_reviewers")
        nb = repo / "wine_classifier.ipynb"
        nb.write_text(nb.read_text().replace("C = 1.0  #", "C = 2.0  #"))
        second = submit(nb, SubmitOptions(title="Review: wine, stronger regularization", env=env))
        assert second.pull_request.number == pr.number and not second.pull_request.created
        assert len(pulls) == 1 and pulls[0]["title"] == "Review: wine, stronger regularization"
        # no token: the branch is pushed and the compare URL is given instead
        nb.write_text(nb.read_text().replace("C = 2.0  #", "C = 3.0  #"))
        third = submit(nb, SubmitOptions(env={}))
        assert third.pushed and third.pull_request is None
        assert third.compare_url == f"https://github.com/octo/wine/compare/main...{third.branch}?expand=1"
        assert TOKEN not in json.dumps(third.to_json()) + json.dumps(second.to_json())
    finally:
        fake.stop()


# --------------------------------------------------------------------------- secrets in the texts

STRIPE = "sk_live_" + "4eC39HqLyjWDarjtT1zdp7dc"  # split: the repository holds no key
GITHUB = "ghp_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8"


def everything(work: Path) -> dict[str, object]:
    """The user's checkout (files, status, index, HEAD), every ref and file of its git
    directory (no lock, no worktree, no fetched ref left) and the remote, byte for byte."""
    def files(folder: Path, skip: tuple[str, ...] = ()) -> dict[str, str]:
        return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
                for p in sorted(folder.rglob("*")) if p.is_file() and p.name not in skip}

    return {
        "checkout": snapshot(work),
        # git status refreshes the index's stat data: its content is checked by the snapshot
        "git": files(work / ".git", skip=("index",)),
        "refs": git(work, "for-each-ref"),
        "remote": files(work.parent / "remote.git"),
    }


def _run_index(work: Path, parameters: dict[str, object]) -> None:
    """A tracked run of the wine notebook in the run index nbops run keeps (the report reads it)."""
    from nbops.run.lineage import notebook_sha256

    nb = work / "wine_classifier.ipynb"
    folder = work / "nbops-runs" / "wine_classifier"
    folder.mkdir(parents=True)
    entry = {"run_id": "0123abcd", "status": "FINISHED", "notebook": str(nb.resolve()),
             "notebook_sha256": notebook_sha256(nb), "parameters": parameters,
             "metrics": {"accuracy": 0.97}, "duration_s": 3.0, "ended": "2026-01-01T00:00:00+00:00"}
    (folder / "runs.jsonl").write_text(json.dumps(entry) + "\n")


@pytest.mark.parametrize(
    ("field", "prepare", "options", "words"),
    [
        ("title", None, {"title": f"Review {STRIPE}"}, "the title holds a secret (Stripe live key 'sk_l…' (32 chars))"),
        ("message", None, {"message": f"The key is {GITHUB}, sorry"}, "the description (message) holds a secret (GitHub token 'ghp_…' (40 chars))"),
        ("reviewers", None, {"reviewers": ["bob", GITHUB]}, "a reviewer's name holds a secret (GitHub token"),
        ("base", None, {"base": f"main-{STRIPE}"}, "the base branch name holds a secret"),
        ("author", lambda w: git(w, "config", "user.name", f"Ana {STRIPE}"), {}, "your git user.name holds a secret"),
        ("branch", lambda w: shutil.copy(w / "wine_classifier.ipynb", w / f"{GITHUB}.ipynb"), {},
         "the review branch name (made from the notebook's file name) holds a secret (GitHub token"),
        ("commit_message", lambda w: shutil.copytree(w, w / "deep" / STRIPE, ignore=lambda d, names: [
            n for n in names if n not in ("wine_classifier.ipynb", "pyproject.toml")]), {},
         "the commit message holds a secret (Stripe live key"),
        ("report", lambda w: _run_index(w, {"api_key": STRIPE}), {},
         "the review report reviews/wine_classifier.md (the pull request's body) holds a secret"),
    ],
    ids=lambda v: v if isinstance(v, str) and " " not in v else "",
)
def test_a_secret_in_any_text_the_submit_sends_blocks_it_and_nothing_changes(
    repo: Path, field: str, prepare: object, options: dict[str, object], words: str
) -> None:
    from nbops.review.submit import SecretInSubmission

    if prepare is not None:
        prepare(repo)  # type: ignore[operator]
    notebook = {"branch": f"{GITHUB}.ipynb", "commit_message": f"deep/{STRIPE}/wine_classifier.ipynb"}.get(
        field, "wine_classifier.ipynb")
    before = everything(repo)
    for dry_run in (False, True):
        with pytest.raises(SecretInSubmission) as info:
            submit(repo / notebook, SubmitOptions(**options, dry_run=dry_run))  # type: ignore[arg-type]
        assert info.value.field == field
        assert words in info.value.message and "nothing was committed, pushed or sent" in info.value.message
        assert STRIPE not in str(info.value) and GITHUB not in str(info.value)  # masked only
        assert everything(repo) == before
    assert not (repo / ".git" / "nbops-submit.lock").exists()


def test_the_cli_refuses_a_secret_in_the_title_with_exit_2(repo: Path) -> None:
    before = everything(repo)
    proc = run_cli(repo, "submit", "wine_classifier.ipynb", "--title", f"Review {STRIPE}")
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "the title holds a secret (Stripe live key 'sk_l…' (32 chars))" in proc.stderr
    assert "Traceback" not in proc.stderr and STRIPE not in proc.stdout + proc.stderr
    assert everything(repo) == before
    ok = run_cli(repo, "submit", "wine_classifier.ipynb", "--title", "Review: wine")
    assert ok.returncode == 0, ok.stderr  # the same submit with a clean title goes through


def test_the_forge_never_receives_a_secret(repo: Path) -> None:
    from review.forges.fakeforge import TOKEN, FakeForge

    from nbops.review.submit import SecretInSubmission

    fake = FakeForge()
    fake.add_github_repo("octo/wine", branches=("main",), collaborators=("bob",))
    fake.start()
    try:
        as_github(repo, fake)
        env = {"GITHUB_TOKEN": TOKEN, "NO_PROXY": "127.0.0.1"}
        for options in ({"title": STRIPE}, {"reviewers": [STRIPE]}, {"message": STRIPE}):
            with pytest.raises(SecretInSubmission):
                submit(repo / "wine_classifier.ipynb", SubmitOptions(**options, env=env))  # type: ignore[arg-type]
        assert fake.requests == [] and remote_branches(repo.parent / "remote.git") == {"main"}
    finally:
        fake.stop()


# --------------------------------------------------------------------------- what happened to the remote


def test_a_deleted_remote_folder_is_said_so(repo: Path) -> None:
    remote = repo.parent / "remote.git"
    shutil.rmtree(remote)
    before = snapshot(repo)
    with pytest.raises(PushError) as info:
        submit(repo / "wine_classifier.ipynb")
    error = info.value
    assert error.message == "git fetch to origin: the remote's folder ../remote.git does not exist"
    assert "check the URL" in (error.hint or "") and "git init --bare ../remote.git" in (error.hint or "")
    assert "repository exists" not in str(error) and str(repo.parent) not in str(error)
    assert snapshot(repo) == before
    remote.mkdir()  # a folder that is not a repository (emptied, or the wrong one)
    with pytest.raises(PushError, match="the remote's folder ../remote.git is not a git repository"):
        submit(repo / "wine_classifier.ipynb")


def test_the_cli_says_the_remote_folder_is_gone(repo: Path) -> None:
    shutil.rmtree(repo.parent / "remote.git")
    proc = run_cli(repo, "submit", "wine_classifier.ipynb")
    assert proc.returncode == 3, proc.stderr
    assert "the remote's folder ../remote.git does not exist" in proc.stderr
    assert "(and the repository exists.)" not in proc.stderr


@pytest.fixture
def read_only_remote(repo: Path, tmp_path: Path) -> Iterator[Path]:
    """The clone's remote moved to a folder the pushing user may read but whose objects folder
    it may not write. As root (permissions do not stop root) git's receive-pack runs as
    ``nobody``, so the folder is one that ``nobody`` can reach."""
    import tempfile

    outside = Path(tempfile.mkdtemp(prefix="nbops-ro-remote-"))
    outside.chmod(0o755)
    remote = outside / "remote.git"
    shutil.move(str(repo.parent / "remote.git"), remote)
    git(repo, "remote", "set-url", "origin", str(remote))
    folders = [remote / "objects", *(p for p in (remote / "objects").rglob("*") if p.is_dir())]
    for folder in folders:
        folder.chmod(0o555)
    if os.geteuid() == 0:
        if shutil.which("setpriv") is None:
            pytest.skip("running as root without setpriv: cannot make the remote read-only")
        git(repo, "config", "remote.origin.receivepack",
            "setpriv --reuid=65534 --regid=65534 --clear-groups env GIT_CONFIG_COUNT=1 "
            "GIT_CONFIG_KEY_0=safe.directory GIT_CONFIG_VALUE_0=* git-receive-pack")
    try:
        yield remote
    finally:
        for folder in folders:
            folder.chmod(0o755)
        shutil.rmtree(outside)


def test_a_read_only_remote_is_permission_denied_not_a_hook(repo: Path, read_only_remote: Path) -> None:
    shown = os.path.relpath(read_only_remote, repo)
    with pytest.raises(PushError) as info:
        submit(repo / "wine_classifier.ipynb")
    error = info.value
    branch = review_branch("wine_classifier.ipynb", "ana@example.com")
    assert error.message.startswith(
        f"git push to origin ({branch}): permission denied writing to the remote's folder "
        f"{shown} ("), error.message
    assert "write access" in (error.hint or "") and "local branch is kept" in (error.hint or "")
    assert "hook" not in str(error) and "protected branch" not in str(error)
    assert remote_branches(read_only_remote) == {"main"}
    assert git(repo, "rev-parse", f"refs/heads/{branch}")  # kept for a retry
