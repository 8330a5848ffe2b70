"""``nbops hackathon new``: an exercise repository, ready for teams to convert notebooks.

It holds the starting notebooks (``notebooks/``), ``hackathon.toml`` (teams, deadline,
weights, required checks), a README with the rules and the scoring, the review policy in
``pyproject.toml``, a GitHub Actions workflow that scores every pull request and a
``.gitignore``; with git available it is a repository with one commit on ``main``.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path

from nbops.core.notebook import write_text_atomic
from nbops.errors import ConflictError, NotFoundError, UsageError
from nbops.hackathon.config import CONFIG_NAME, DEFAULT_WEIGHTS
from nbops.hackathon.score import TITLES

__all__ = ["new_exercise"]

_EXPLAIN = {
    "lint": "share of the weighted `nbops lint` findings of the starting notebook fixed (error 5, warning 2, info 1)",
    "documentation": "share of the review gate's documentation checks passed (title, summary, required sections, parameters documented)",
    "library": "share of what the notebook computes (model fitting, metrics, file writes, values later cells read, and what they need) moved into a library under `src/`; exploration of the library's results (`head()`, `describe()`, plots, prints) may stay in the notebook",
    "pipeline": "steps in the library's `PIPELINE` (or its public functions); 4 or more = full marks",
    "tests": "0.8 x the share of `pytest tests/` passing + 0.2 when a hand-written test passes",
    "verify": "`nbops verify` finds the notebook and its pipeline equivalent",
    "tracked_run": "`nbops run` of the notebook finishes",
}

_WORKFLOW = """name: hackathon score
on:
  pull_request:
permissions:
  contents: read
jobs:
  score:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
        with:
          fetch-depth: 0
      - uses: actions/setup-python@v5
        with:
          python-version: "3.11"
      - run: pip install "nbops[run]" pytest
      - run: if [ -f requirements.txt ]; then pip install -r requirements.txt; fi
      - run: python -m ipykernel install --user --name python3
      - name: Score this pull request
        run: |
          team="${GITHUB_HEAD_REF#team/}"
          nbops hackathon score . --team "$team" --format markdown >> "$GITHUB_STEP_SUMMARY"
"""


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9_-]+", "-", name.lower()).strip("-")


def _toml_str(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _config(name: str, notebooks: list[str], teams: list[str], deadline: str | None) -> str:
    lines = ["[hackathon]", f"name = {_toml_str(name)}"]
    if deadline:
        lines.append(f"deadline = {_toml_str(deadline)}")
    lines += [
        "notebooks = [" + ", ".join(_toml_str(n) for n in notebooks) + "]",
        "timeout = 900                 # seconds to score one team",
        'branch-prefix = "team/"       # team alpha works on branch team/alpha',
        "",
        "[weights]                     # points out of their sum, scaled to 100",
        *(f"{k} = {v:g}" for k, v in DEFAULT_WEIGHTS.items()),
        "",
        "[required]                    # review-gate checks every submission must pass",
        'checks = ["secrets", "absolute-paths"]',
    ]
    for team in teams:
        lines += ["", f"[teams.{team}]", "members = []"]
    return "\n".join(lines) + "\n"


def _readme(name: str, notebooks: list[str], teams: list[str], deadline: str | None) -> str:
    total = sum(DEFAULT_WEIGHTS.values())
    rows = "\n".join(
        f"| {TITLES[k]} (`{k}`) | {v * 100 / total:.0f} | {_EXPLAIN[k]} |" for k, v in DEFAULT_WEIGHTS.items()
    )
    nbs = "\n".join(f"- `{n}`" for n in notebooks)
    team_list = ", ".join(f"`{t}`" for t in teams) or "(add yours to hackathon.toml)"
    return f"""# {name}

Convert the starting notebooks into production code: a documented notebook, a library
module with a pipeline of steps, tests, and proof that the library computes what the
notebook computed. Every pull request is scored; the leaderboard ranks the teams.

Starting notebooks:

{nbs}

Teams: {team_list}.{f" Deadline: {deadline}." if deadline else ""}

## How to take part

1. Clone this repository and create your team's branch: `git switch -c team/<your team>`.
2. Work on the notebooks in place (same paths). Useful commands:
   `nbops lint`, `nbops fix`, `nbops check`, `nbops modularize`, `nbops verify`, `nbops run`.
3. `nbops hackathon status` shows your current scorecard and what would raise it most
   (the nbops panel in JupyterLab shows the same).
4. Push your branch and open a pull request against `main`: the workflow scores it.

## Scoring

Each component scores 0 to 1 and is worth its weight (from `hackathon.toml`); the total
is out of 100. With several notebooks each component is their average.

| component | points | how it is measured |
|---|---|---|
{rows}

The checks in `[required] checks` (by default: no secrets, no absolute paths) must pass.
Ranking: higher total first; then teams whose required checks pass; then more components
scored without failure; then the earlier last submission; then the team name.

Scoring runs your code (tests, notebook, pipeline) in a separate process with a time limit
(`timeout`); a step that fails or times out scores 0 with the reason, the rest still count.
"""


def _pyproject(name: str) -> str:
    return f"""[project]
name = {_toml_str(_slug(name) or "exercise")}
version = "0.1.0"
# the packages the notebooks import: the review gate checks that they are declared
dependencies = []

[tool.ruff]
line-length = 100

[tool.nbops.submit]
base = "main"
fail-on = "warning"
"""


def new_exercise(
    folder: Path,
    notebooks: Sequence[Path],
    teams: Sequence[str] = (),
    *,
    name: str = "Notebook to production",
    deadline: str | None = None,
    git: bool = True,
) -> list[Path]:
    """Create the exercise in ``folder`` (new or empty); returns the files written."""
    if not notebooks:
        raise UsageError("give at least one starting notebook (--notebooks NB...)")
    for nb in notebooks:
        if not nb.is_file():
            raise NotFoundError("no such notebook", path=nb)
    bad = [t for t in teams if not re.fullmatch(r"[A-Za-z0-9_-]+", t)]
    if bad:
        raise UsageError(f"team names are letters, digits, '-' and '_': {', '.join(bad)}")
    if folder.exists() and any(folder.iterdir()):
        raise ConflictError(f"{folder} is not empty", path=folder, hint="choose a new folder")
    names = [f"notebooks/{nb.name}" for nb in notebooks]
    if len(set(names)) != len(names):
        raise UsageError("two starting notebooks have the same file name")
    folder.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for nb, rel in zip(notebooks, names, strict=True):
        target = folder / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(nb, target)
        written.append(target)
    files = {
        CONFIG_NAME: _config(name, names, list(teams), deadline),
        "README.md": _readme(name, names, list(teams), deadline),
        "pyproject.toml": _pyproject(name),
        ".github/workflows/hackathon.yml": _WORKFLOW,
        ".gitignore": ".nbops/\nnbops-runs/\n__pycache__/\n.ipynb_checkpoints/\n",
    }
    for rel, text in files.items():
        target = folder / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        write_text_atomic(target, text)
        written.append(target)
    if git and shutil.which("git"):
        subprocess.run(["git", "init", "-q", "-b", "main"], cwd=folder, check=True, capture_output=True)
        subprocess.run(["git", "add", "-A"], cwd=folder, check=True, capture_output=True)
        known = subprocess.run(["git", "config", "user.email"], cwd=folder, capture_output=True, check=False)
        who = [] if known.returncode == 0 else ["-c", "user.name=nbops", "-c", "user.email=nbops@localhost"]
        subprocess.run(["git", *who, "commit", "-q", "-m", f"{name}: the exercise"], cwd=folder,
                       check=True, capture_output=True)
    return written
