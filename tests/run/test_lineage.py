"""Lineage tags in real temporary git repositories and outside any, and the frozen environment."""

from __future__ import annotations

import hashlib
import json
import platform
import re
import shutil
import subprocess
from importlib import metadata
from pathlib import Path
from typing import Any

import pytest

from nbops.errors import NotebookReadError, NotFoundError
from nbops.run.lineage import (
    frozen_requirements,
    git_root,
    lineage_tags,
    notebook_path_tag,
    notebook_sha256,
)

needs_git = pytest.mark.skipif(shutil.which("git") is None, reason="needs the git binary")


def notebook(cells: list[dict[str, Any]]) -> str:
    return json.dumps({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5})


def code(source: str | list[str], **extra: Any) -> dict[str, Any]:
    cell = {
        "cell_type": "code",
        "source": source,
        "metadata": {},
        "outputs": [],
        "execution_count": None,
    }
    cell.update(extra)
    return cell


def markdown(source: str) -> dict[str, Any]:
    return {"cell_type": "markdown", "source": source, "metadata": {}}


@pytest.fixture(autouse=True)
def isolated_git(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """git sees neither the user's config nor a repository above the test's folder."""
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path.parent))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(tmp_path / "no-gitconfig"))
    for key in ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE"):
        monkeypatch.delenv(key, raising=False)
    for who in ("AUTHOR", "COMMITTER"):
        monkeypatch.setenv(f"GIT_{who}_NAME", "Test")
        monkeypatch.setenv(f"GIT_{who}_EMAIL", "test@example.com")


def git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=repo, check=True, capture_output=True, text=True
    ).stdout.strip()


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    (root / "notebooks").mkdir(parents=True)
    git(root, "init", "-q")
    git(root, "symbolic-ref", "HEAD", "refs/heads/main")
    (root / "notebooks" / "churn.ipynb").write_text(notebook([code("x = 1"), code("y = x")]))
    (root / "README.md").write_text("hello\n")
    git(root, "add", ".")
    git(root, "commit", "-q", "-m", "first")
    return root


def test_outside_a_repository_the_tags_say_so(tmp_path: Path) -> None:
    nb = tmp_path / "a.ipynb"
    nb.write_text(notebook([code("x = 1")]))
    tags = lineage_tags(nb)
    assert tags["nbops.git.commit"] == "none"
    assert tags["nbops.git.dirty"] == "true"  # nothing pins this code down
    assert tags["nbops.git.branch"] == "none"
    assert tags["nbops.notebook.path"] == nb.resolve().as_posix()
    assert tags["nbops.notebook.sha256"] == notebook_sha256(nb)
    assert tags["nbops.version.python"] == platform.python_version()
    assert tags["nbops.version.papermill"] == metadata.version("papermill")
    assert re.fullmatch(r"\d+\.\d+.*", tags["nbops.version.nbops"])
    assert tags["nbops.version.mlflow"] != ""
    assert all(isinstance(v, str) for v in tags.values())
    assert git_root(nb) is None


@needs_git
def test_a_clean_checkout_names_its_commit_branch_and_relative_path(repo: Path) -> None:
    nb = repo / "notebooks" / "churn.ipynb"
    tags = lineage_tags(nb)
    assert tags["nbops.git.commit"] == git(repo, "rev-parse", "HEAD")
    assert re.fullmatch(r"[0-9a-f]{40}", tags["nbops.git.commit"])
    assert tags["nbops.git.dirty"] == "false"
    assert tags["nbops.git.branch"] == "main"
    assert tags["nbops.notebook.path"] == "notebooks/churn.ipynb"
    assert git_root(nb) == repo.resolve()
    (repo / "scratch.txt").write_text("untracked files elsewhere do not count\n")
    assert lineage_tags(nb)["nbops.git.dirty"] == "false"


@needs_git
def test_editing_the_notebook_or_a_tracked_file_makes_it_dirty(repo: Path) -> None:
    nb = repo / "notebooks" / "churn.ipynb"
    before = notebook_sha256(nb)
    nb.write_text(notebook([code("x = 2"), code("y = x")]))
    tags = lineage_tags(nb)
    assert tags["nbops.git.dirty"] == "true"
    assert tags["nbops.notebook.sha256"] != before
    git(repo, "checkout", "--", "notebooks/churn.ipynb")
    assert lineage_tags(nb)["nbops.git.dirty"] == "false"
    (repo / "README.md").write_text("changed\n")
    git(repo, "add", "README.md")  # staged counts too
    assert lineage_tags(nb)["nbops.git.dirty"] == "true"


@needs_git
def test_an_untracked_notebook_is_dirty(repo: Path) -> None:
    new = repo / "notebooks" / "new.ipynb"
    new.write_text(notebook([code("z = 3")]))
    tags = lineage_tags(new)
    assert tags["nbops.git.dirty"] == "true"
    assert tags["nbops.git.commit"] == git(repo, "rev-parse", "HEAD")
    assert tags["nbops.notebook.path"] == "notebooks/new.ipynb"


@needs_git
def test_detached_head_and_a_repository_without_commits(repo: Path, tmp_path: Path) -> None:
    git(repo, "checkout", "-q", "--detach")
    assert lineage_tags(repo / "notebooks" / "churn.ipynb")["nbops.git.branch"] == "detached"
    empty = tmp_path / "empty"
    empty.mkdir()
    git(empty, "init", "-q")
    git(empty, "symbolic-ref", "HEAD", "refs/heads/main")
    nb = empty / "a.ipynb"
    nb.write_text(notebook([code("x = 1")]))
    tags = lineage_tags(nb)
    assert tags["nbops.git.commit"] == "none" and tags["nbops.git.dirty"] == "true"
    assert tags["nbops.git.branch"] == "main" and tags["nbops.notebook.path"] == "a.ipynb"


@needs_git
def test_without_a_git_binary_lineage_still_works(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "empty-bin").mkdir()
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))
    tags = lineage_tags(repo / "notebooks" / "churn.ipynb")
    assert tags["nbops.git.commit"] == "none" and tags["nbops.git.branch"] == "none"
    assert tags["nbops.notebook.path"].endswith("/notebooks/churn.ipynb")


def test_the_hash_is_the_json_list_of_code_cell_sources(tmp_path: Path) -> None:
    nb = tmp_path / "a.ipynb"
    nb.write_text(notebook([markdown("# Title"), code(["import os\n", "x = 1"]), code("y = 2")]))
    expected = hashlib.sha256(
        json.dumps(["import os\nx = 1", "y = 2"], ensure_ascii=False, separators=(",", ":")).encode(
            "utf-8"
        )
    ).hexdigest()
    assert notebook_sha256(nb) == expected


def test_outputs_markdown_and_inserted_cells_leave_the_hash_alone(tmp_path: Path) -> None:
    nb = tmp_path / "a.ipynb"
    nb.write_text(
        notebook([code("alpha = 0.5", metadata={"tags": ["parameters"]}), code("x = alpha")])
    )
    base = notebook_sha256(nb)
    executed = [
        markdown("# Added prose"),
        code("alpha = 0.5", metadata={"tags": ["parameters"]}, execution_count=1),
        code("alpha = 2.0", metadata={"tags": ["injected-parameters"]}, execution_count=2),
        code("import os\nos.environ['NBOPS_RUN_ID'] = 'abc'", metadata={"tags": ["nbops-run"]}),
        code(
            "x = alpha",
            execution_count=3,
            outputs=[{"output_type": "stream", "name": "stdout", "text": "hi\n"}],
        ),
    ]
    nb.write_text(notebook(executed))
    assert notebook_sha256(nb) == base
    nb.write_text(
        notebook([code("alpha = 0.7", metadata={"tags": ["parameters"]}), code("x = alpha")])
    )
    assert notebook_sha256(nb) != base  # the parameters cell's defaults are code


def test_unreadable_notebooks_are_refused(tmp_path: Path) -> None:
    with pytest.raises(NotFoundError):
        lineage_tags(tmp_path / "missing.ipynb")
    (tmp_path / "bad.ipynb").write_text("{not json")
    with pytest.raises(NotebookReadError, match="bad JSON"):
        notebook_sha256(tmp_path / "bad.ipynb")
    (tmp_path / "list.ipynb").write_text("[1, 2]")
    with pytest.raises(NotebookReadError, match="no cells"):
        notebook_sha256(tmp_path / "list.ipynb")


def test_notebook_path_tag_outside_a_repository_is_absolute(tmp_path: Path) -> None:
    nb = tmp_path / "sub" / "a.ipynb"
    nb.parent.mkdir()
    nb.write_text(notebook([]))
    assert notebook_path_tag(nb) == nb.resolve().as_posix()


def test_frozen_requirements_lists_the_environment_sorted_without_a_subprocess(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def no_subprocess(*args: object, **kwargs: object) -> None:
        raise AssertionError("frozen_requirements must not start a process")

    monkeypatch.setattr(subprocess, "run", no_subprocess)
    monkeypatch.setattr(subprocess, "Popen", no_subprocess)
    text = frozen_requirements()
    assert text.endswith("\n")
    lines = text.splitlines()
    assert all(re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*==\S+", line) for line in lines)
    keys = [re.sub(r"[-_.]+", "-", line.split("==")[0]).lower() for line in lines]
    assert keys == sorted(keys) and len(keys) == len(set(keys))
    assert f"pytest=={metadata.version('pytest')}" in lines
    assert f"papermill=={metadata.version('papermill')}" in lines
