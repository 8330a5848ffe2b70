"""A tiny hackathon exercise for the server and browser tests: a git repository made by
``nbops hackathon new`` from a three-line notebook, checked out on a team's branch.

Scoring it runs ``nbops hackathon status`` for real (lint, the review gate, ``nbops run`` of
the notebook; no library, so no tests or verify to run): about 10 s on two cores.
"""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

from nbops.core.snippets import notebook_from_snippet
from nbops.hackathon.exercise import new_exercise

NOTEBOOK = "notebooks/toy.ipynb"  # in the exercise folder
AUTHOR = ("-c", "user.name=Team Member", "-c", "user.email=member@example.com")

START = """
# %% [markdown]
# toy
# %%
import os
x = 2
y = x * 3
print(y)
"""

# the team's work: documented, a parameters cell, the unused import gone
WORK = """
# %% [markdown]
# # Toy model

Multiply a number by three, the simplest pipeline there is, to show how a team's work is
scored from its notebook.

## Parameters

`X` is the number to multiply.
# %% tags=parameters
X = 2  # the number to multiply
# %% [markdown]
## Data

One number.
# %%
y = X * 3
print(y)
# %% [markdown]
## Evaluation

The result is printed.

## Limitations

Only numbers.

## Owner

The toy team.
"""


def git(cwd: Path, *args: str) -> str:
    proc = subprocess.run(
        ["git", "-C", str(cwd), *args], capture_output=True, text=True, check=True
    )
    return proc.stdout.strip()


def make_exercise(
    folder: Path,
    *,
    teams: tuple[str, ...] = ("alpha", "beta"),
    team: str | None = "alpha",
    work: str | None = None,
    timeout: int | None = None,
) -> Path:
    """The exercise in ``folder`` (new), switched to ``team/<team>`` (None: left on ``main``)
    with ``work`` committed there as the team's notebook (None: the starting one as it is).
    ``timeout`` replaces the 900 s of ``hackathon.toml`` (committed on ``main``)."""
    with tempfile.TemporaryDirectory(prefix="nbops-start-") as tmp:
        source = Path(tmp) / "toy.ipynb"
        source.write_text(notebook_from_snippet(START).dumps(), encoding="utf-8")
        new_exercise(folder, [source], list(teams), name="Toy hackathon", git=True)
    if timeout is not None:
        toml = folder / "hackathon.toml"
        toml.write_text(toml.read_text().replace("timeout = 900", f"timeout = {timeout}"))
        git(folder, *AUTHOR, "commit", "-qam", "a shorter time limit")
    if team is not None:
        git(folder, "switch", "-q", "-c", f"team/{team}")
        if work is not None:
            (folder / NOTEBOOK).write_text(notebook_from_snippet(work).dumps(), encoding="utf-8")
            git(folder, "add", "-A")
            git(folder, *AUTHOR, "commit", "-qm", f"{team}: our work")
    return folder
