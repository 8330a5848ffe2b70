"""A team repository with a bare remote, for the submit front ends' tests (REST, widgets, browser).

``from reviewrepo import make_review_repo`` (tests/ is on pytest's pythonpath). The repository
holds copies of the examples and a ``pyproject.toml`` declaring the wine example's
dependencies, has one commit on ``main`` pushed to the bare remote, and a git identity of its
own, so ``nbops submit`` works in it without touching the user's git configuration.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from collections.abc import Iterable
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
WINE = EXAMPLES / "wine_classifier.ipynb"
CHURN = EXAMPLES / "churn_classifier.ipynb"
PYPROJECT = '[project]\nname = "wine"\ndependencies = ["pandas", "scikit-learn", "matplotlib"]\n'
AUTHOR = ("Ana Lyst", "ana@example.com")
FORGE_ENV_PREFIXES = ("GITHUB", "GH_", "GITLAB", "GL_")


def git(cwd: Path, *args: str) -> str:
    proc = subprocess.run(
        ["git", "-C", str(cwd), *args], capture_output=True, text=True, check=True
    )
    return proc.stdout.strip()


def no_forge_tokens(monkeypatch: pytest.MonkeyPatch) -> None:
    """Take every forge token variable out of this process's environment."""
    for key in list(os.environ):
        if key.startswith(FORGE_ENV_PREFIXES):
            monkeypatch.delenv(key)


def make_review_repo(
    work: Path,
    remote: Path,
    notebooks: Iterable[Path] = (WINE, CHURN),
    pyproject: str = PYPROJECT,
) -> Path:
    """``work``: a clone with ``notebooks`` committed on ``main``; ``remote``: its bare origin."""
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(remote)], check=True)
    subprocess.run(["git", "init", "-q", "-b", "main", str(work)], check=True)
    git(work, "config", "user.name", AUTHOR[0])
    git(work, "config", "user.email", AUTHOR[1])
    for nb in notebooks:
        shutil.copy(nb, work / nb.name)
    (work / "pyproject.toml").write_text(pyproject, encoding="utf-8")
    git(work, "add", ".")
    git(work, "commit", "-qm", "init")
    git(work, "remote", "add", "origin", str(remote))
    git(work, "push", "-q", "origin", "main")
    return work


def remote_branches(remote: Path) -> set[str]:
    return set(git(remote, "for-each-ref", "--format=%(refname:short)", "refs/heads").split())


def tree_hashes(work: Path) -> dict[str, str]:
    """Every file of the checkout outside ``.git`` with the hash of its bytes."""
    return {
        p.relative_to(work).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(work.rglob("*"))
        if p.is_file() and ".git" not in p.relative_to(work).parts
    }


def snapshot(work: Path) -> dict[str, object]:
    """What a submit must leave alone: the files, status, index, HEAD and branch."""
    return {
        "files": tree_hashes(work),
        "status": git(work, "status", "--porcelain=v2", "--branch"),
        "index": git(work, "diff", "--cached"),
        "head": git(work, "rev-parse", "HEAD"),
        "branch": git(work, "symbolic-ref", "HEAD"),
    }
