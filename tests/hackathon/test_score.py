"""Hackathon scoring on real submissions: the bundled exercise, branches of a git exercise,
and teams whose work crashes, times out, is missing or is not registered."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from nbops.core.snippets import notebook_from_snippet
from nbops.errors import ConfigError, ConflictError
from nbops.hackathon.config import COMPONENTS, load_hackathon
from nbops.hackathon.exercise import new_exercise
from nbops.hackathon.score import score_team

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
BUNDLED = ROOT / "examples" / "hackathon"

START = """
# %% [markdown]
# toy
# %%
import os
x = 2
y = x * 3
print(y)
"""

GOOD = """
# %% [markdown]
# # Toy model

Multiply a number by three, the simplest pipeline there is, to show how a team's work is
scored from its notebook, its library and its tests.

## Parameters

`X` is the number to multiply.
# %% tags=parameters
X = 2  # the number to multiply
# %% [markdown]
## Data

One number.
# %%
def triple(value):
    \"\"\"Three times ``value``.\"\"\"
    return value * 3


y = triple(X)
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
    return subprocess.run(["git", "-C", str(cwd), *args], capture_output=True, text=True,
                          check=True).stdout.strip()


def write_nb(path: Path, snippet: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(notebook_from_snippet(snippet).dumps())


@pytest.fixture
def exercise(tmp_path: Path) -> Path:
    """A git exercise with one tiny starting notebook and teams alpha, beta, gamma."""
    start = tmp_path / "toy.ipynb"
    write_nb(start, START)
    folder = tmp_path / "ex"
    new_exercise(folder, [start], ["alpha", "beta", "gamma"], name="Toy", git=True)
    toml = folder / "hackathon.toml"
    toml.write_text(toml.read_text().replace("timeout = 900", "timeout = 120"))
    git(folder, "-c", "user.name=o", "-c", "user.email=o@x", "commit", "-qam", "shorter timeout")
    return folder


def team_branch(folder: Path, team: str, files: dict[str, str]) -> None:
    git(folder, "switch", "-q", "-c", f"team/{team}", "main")
    for rel, text in files.items():
        target = folder / rel
        if rel.endswith(".ipynb"):
            write_nb(target, text)
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text)
    git(folder, "add", "-A")
    git(folder, "-c", "user.name=t", "-c", "user.email=t@x", "commit", "-qm", f"{team} work")
    git(folder, "switch", "-q", "main")


def components(card: dict) -> dict[str, dict]:
    return {c["id"]: c for c in card["components"]}


def test_the_bundled_exercise_ranks_strong_then_weak_then_late() -> None:
    h = load_hackathon(BUNDLED)
    cards = {t.name: score_team(h, t.name, t) for t in h.teams}
    strong, weak, late = cards["strong"], cards["weak"], cards["late"]
    assert strong["total"] > weak["total"] > late["total"] == 0
    assert strong["required_passed"] and not weak["required_passed"]
    s = components(strong)
    assert [c["id"] for c in strong["components"]] == list(COMPONENTS)
    assert s["verify"]["score"] == 1 and s["tests"]["score"] == 1 and s["tracked_run"]["score"] == 1
    assert s["lint"]["score"] == 1 and s["documentation"]["score"] == 1 and s["pipeline"]["score"] == 1
    assert "2 passing hand-written" in s["tests"]["explanation"]
    # the slim notebook only calls the steps and reads their results: everything moved
    assert s["library"]["score"] == 1 and "computes 40 -> 0 lines" in s["library"]["explanation"]
    w = components(weak)
    assert 0 < w["lint"]["score"] < 1 and w["library"]["score"] == 0 and w["verify"]["score"] == 0
    assert any("secrets" in e for e in weak["errors"])
    assert all(c["status"] == "failed" and "does not exist" in c["reason"] for c in late["components"])
    assert abs(sum(c["points"] for c in strong["components"]) - strong["total"]) < 0.05
    for card in cards.values():  # every number explained
        assert all(c["explanation"] or c["reason"] for c in card["components"])


def test_branches_are_scored_against_main_and_failures_only_cost_their_component(exercise: Path) -> None:
    team_branch(exercise, "alpha", {
        "notebooks/toy.ipynb": GOOD,
        "tests/test_mine.py": "def test_truth():\n    assert 3 * 2 == 6\n",
        "src/toy/__init__.py": "",
        "src/toy/lib.py": "def triple(value):\n    return value * 3\n\n\ndef double(value):\n    return value * 2\n",
    })
    team_branch(exercise, "beta", {
        "notebooks/toy.ipynb": GOOD.replace("y = triple(X)", "raise RuntimeError('boom')\ny = triple(X)"),
        "tests/test_broken.py": "def test_fails():\n    assert False\n",
        "src/toy/__init__.py": "",
        "src/toy/lib.py": "def triple(value):\n    return value * 3\n",
    })
    h = load_hackathon(exercise)
    alpha = score_team(h, "alpha", h.team("alpha"))
    beta = score_team(h, "beta", h.team("beta"))
    gamma = score_team(h, "gamma", h.team("gamma"))
    a, b = components(alpha), components(beta)
    assert alpha["source"]["kind"] == "branch" and alpha["source"]["commit"]
    assert alpha["submitted_at"] and a["tracked_run"]["score"] == 1 and a["tests"]["score"] == 1
    assert a["documentation"]["score"] == 1
    assert b["tracked_run"]["score"] == 0 and "FAILED" in b["tracked_run"]["explanation"]
    assert b["tests"]["score"] == 0 and "0 of 1 tests pass" in b["tests"]["explanation"]
    assert b["documentation"]["score"] == 1  # the crash costs only what it breaks
    assert alpha["total"] > beta["total"] > 0
    assert gamma["source"]["kind"] == "missing" and "team/gamma does not exist" in gamma["errors"][0]
    assert git(exercise, "worktree", "list").count("\n") == 0  # the worktrees were removed


def test_a_team_over_the_time_limit_is_marked_and_the_others_still_score(exercise: Path) -> None:
    slow = GOOD.replace("y = triple(X)", "import time\ntime.sleep(600)\ny = triple(X)")
    team_branch(exercise, "alpha", {"notebooks/toy.ipynb": slow})
    toml = exercise / "hackathon.toml"
    toml.write_text(toml.read_text().replace("timeout = 120", "timeout = 25"))
    h = load_hackathon(exercise)
    card = score_team(h, "alpha", h.team("alpha"))
    run = components(card)["tracked_run"]
    assert run["score"] == 0 and ("timed out" in (run["reason"] or "") or "limit" in " ".join(card["errors"]))
    assert components(card)["documentation"]["score"] == 1  # measured before the slow part


def test_unregistered_branches_are_scored_with_a_note(exercise: Path) -> None:
    from nbops.hackathon.score import team_sources

    team_branch(exercise, "zeta", {"notebooks/toy.ipynb": GOOD})
    h = load_hackathon(exercise)
    names = [name for name, _ in team_sources(h, branches=True)]
    assert names == ["alpha", "beta", "gamma", "zeta"]
    card = score_team(h, "zeta", None)
    assert card["source"]["ref"] == "team/zeta" and any("not in hackathon.toml" in e for e in card["errors"])


def test_status_in_a_team_clone_compares_with_main(exercise: Path, tmp_path: Path) -> None:
    team_branch(exercise, "alpha", {"notebooks/toy.ipynb": GOOD})
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", "-b", "team/alpha", str(exercise), str(clone)], check=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW_", "NBOPS_RUN"))}
    proc = subprocess.run([sys.executable, "-m", "nbops", "hackathon", "status", "--format", "json"],
                          cwd=clone, capture_output=True, text=True, timeout=600, env=env, check=False)
    assert proc.returncode == 0, proc.stderr
    card = json.loads(proc.stdout)
    assert card["team"] == "alpha"
    lint = components(card)["lint"]
    assert lint["score"] > 0 and "before:" in lint["explanation"]  # not compared with itself
    assert card["suggestion"] and "points" in card["suggestion"]


def test_new_refuses_a_non_empty_folder_and_bad_configs_name_the_key(tmp_path: Path) -> None:
    start = tmp_path / "toy.ipynb"
    write_nb(start, START)
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "x").write_text("x")
    with pytest.raises(ConflictError):
        new_exercise(tmp_path / "busy", [start], git=False)
    folder = tmp_path / "ex"
    new_exercise(folder, [start], ["a"], git=False)
    toml = folder / "hackathon.toml"
    good = toml.read_text()
    for bad, message in [
        (good.replace("lint = 20", "lint = -1"), "weight 'lint'"),
        (good.replace("[weights]", "[weights]\nstyle = 3"), "unknown weight"),
        (good.replace('checks = ["secrets", "absolute-paths"]', 'checks = ["nope"]'), "unknown required check"),
        (good.replace('notebooks = ["notebooks/toy.ipynb"]', 'notebooks = ["notebooks/missing.ipynb"]'), "does not exist"),
        (good + '\n[hackathon2]\n', "unknown table"),
    ]:
        toml.write_text(bad)
        with pytest.raises(ConfigError, match=message):
            load_hackathon(folder)
    toml.write_text(good)
    assert load_hackathon(folder).teams[0].name == "a"


def test_the_cli_scores_saves_and_renders_the_leaderboard(tmp_path: Path) -> None:
    copy = tmp_path / "hackathon"
    shutil.copytree(BUNDLED, copy, ignore=shutil.ignore_patterns(".nbops", "__pycache__"))
    toml = copy / "hackathon.toml"
    toml.write_text(toml.read_text().replace('folder = "submissions/strong"', 'folder = "submissions/nowhere"'))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW_", "NBOPS_RUN"))}

    def nbops(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "nbops", "hackathon", *args], cwd=copy,
                              capture_output=True, text=True, timeout=900, env=env, check=False)

    scored = nbops("score", "--format", "json")
    assert scored.returncode == 0, scored.stderr
    cards = {c["team"]: c for c in json.loads(scored.stdout)}
    assert set(cards) == {"strong", "weak", "late"}
    assert cards["strong"]["source"]["kind"] == "missing"  # its folder was renamed away
    assert sorted((copy / ".nbops" / "hackathon" / "scores").glob("*.json"))
    board = nbops("leaderboard")
    assert board.returncode == 0, board.stderr
    html = (copy / "leaderboard.html").read_text()
    assert "weak" in html and "late" in html and "<svg" in html
    md = nbops("leaderboard", "--format", "markdown")
    assert md.returncode == 0 and "| " in md.stdout


# --------------------------------------------------------------------------- what the leaderboard shows


def _folder_exercise(tmp_path: Path) -> Path:
    """An exercise (no git) with folder teams: ``present`` handed in, ``absent`` did not."""
    start = tmp_path / "toy.ipynb"
    write_nb(start, START)
    folder = tmp_path / "ex"
    new_exercise(folder, [start], [], git=False)
    toml = folder / "hackathon.toml"
    toml.write_text(toml.read_text() + '\n[teams.present]\nfolder = "teams/present"\n'
                    '\n[teams.absent]\nfolder = "teams/absent"\n')
    write_nb(folder / "teams" / "present" / "notebooks" / "toy.ipynb", GOOD)
    return folder


def test_a_missing_folder_team_is_named_relative_to_the_exercise(tmp_path: Path) -> None:
    h = load_hackathon(_folder_exercise(tmp_path))
    card = score_team(h, "absent", h.team("absent"))
    assert card["source"] == {"kind": "missing", "ref": "teams/absent", "commit": None}
    assert str(tmp_path) not in json.dumps(card)
    assert card["submitted_at"] is None


def test_a_folder_without_git_was_submitted_when_its_files_last_changed(tmp_path: Path) -> None:
    from nbops.hackathon.score import _submitted_at

    folder = _folder_exercise(tmp_path)
    team = folder / "teams" / "present"
    nb = team / "notebooks" / "toy.ipynb"
    os.utime(nb, (1_795_000_000, 1_795_000_000))
    (team / "__pycache__").mkdir()
    (team / "__pycache__" / "x.pyc").write_bytes(b"")  # written by the scoring: not the team's
    os.utime(nb.parent, (1_700_000_000, 1_700_000_000))
    assert _submitted_at(load_hackathon(folder), team) == "2026-11-18T11:06:40+00:00"  # 1795000000


def test_scorer_texts_name_files_relative_to_the_exercise(tmp_path: Path) -> None:
    from nbops.hackathon.score import _public

    root, team = tmp_path / "ex", tmp_path / "ex" / "teams" / "a"
    said = f"nbops run could not run: {team}/notebooks/toy.ipynb: no kernel; see {root}/README.md"
    assert _public(said, team, root) == (
        "nbops run could not run: notebooks/toy.ipynb: no kernel; see README.md")
    assert _public(f"in {root}, not {root}-old", root) == f"in ., not {root}-old"


def test_the_leaderboard_of_older_scorecards_shows_no_absolute_path(tmp_path: Path) -> None:
    """Scorecards written before the fix: an absolute source, a total of 94.65, no time."""
    folder = _folder_exercise(tmp_path)
    scores = folder / ".nbops" / "hackathon" / "scores"
    scores.mkdir(parents=True)
    old = {"team": "present", "source": {"kind": "folder", "ref": str(folder / "teams" / "present"),
                                         "commit": None},
           "submitted_at": None, "total": 94.65, "max_total": 100.0, "required_passed": True,
           "components": [{"id": "library", "title": "Library", "weight": 20, "score": 0.73,
                           "points": 14.65, "status": "ok", "explanation": "73% moved", "reason": None}],
           "errors": [], "suggestion": None, "scored_at": "2026-11-22T18:10:00+00:00"}
    (scores / "present.json").write_text(json.dumps(old))
    proc = subprocess.run([sys.executable, "-m", "nbops", "hackathon", "leaderboard"], cwd=folder,
                          capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "wrote leaderboard.html (1 teams): open it in a browser\n"
    page = (folder / "leaderboard.html").read_text()
    assert str(tmp_path) not in page and "<code>teams/present</code>" in page
    assert "94.7" in page and "94.65" not in page and "14.65" not in page
    assert "time unknown" in page and "not submitted" not in page
