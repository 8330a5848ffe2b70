"""The README's main command, end to end: ``scripts/demo.sh`` with the test environment, in a
fresh build folder, down to the review branch in the demo's bare remote."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _digest(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and ".nbops_backup" not in p.parts and "__pycache__" not in p.parts
    }


@pytest.mark.slow
def test_demo_runs_end_to_end_and_pushes_the_review_branch(tmp_path: Path) -> None:
    build = tmp_path / "build"
    examples_before = _digest(ROOT / "examples")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NBOPS_", "MLFLOW_"))}
    env.update(
        # relative, as the default `.venv` is: a step that runs in another folder must not
        # lose it (the demo cds to the repository's root first)
        NBOPS_VENV=os.path.relpath(sys.prefix, ROOT),
        NBOPS_DEMO_SKIP_INSTALL="1",
        NBOPS_DEMO_BUILD=str(build),
        GIT_TERMINAL_PROMPT="0",
    )
    proc = subprocess.run(
        ["bash", str(ROOT / "scripts" / "demo.sh")],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=900, check=False,
    )
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    assert "Traceback" not in proc.stdout + proc.stderr
    assert "Where to look:" in proc.stdout

    remote = build / "demo-remote.git"
    branches = subprocess.run(
        ["git", "-C", str(remote), "for-each-ref", "--format=%(refname:short)", "refs/heads/review/"],
        capture_output=True, text=True, check=True,
    ).stdout.split()
    assert len(branches) == 1, branches
    files = subprocess.run(
        ["git", "-C", str(remote), "ls-tree", "-r", "--name-only", branches[0]],
        capture_output=True, text=True, check=True,
    ).stdout.split()
    assert "wine_classifier.ipynb" in files
    assert "reviews/wine_classifier.md" in files
    assert any(f.startswith("src/wine/") and f.endswith(".py") for f in files), files
    report = subprocess.run(
        ["git", "-C", str(remote), "show", f"{branches[0]}:reviews/wine_classifier.md"],
        capture_output=True, text=True, check=True,
    ).stdout
    assert "accuracy" in report  # the tracked run's metric reached the model card

    # the demo works on copies: examples/ is left byte for byte as it was
    assert _digest(ROOT / "examples") == examples_before
