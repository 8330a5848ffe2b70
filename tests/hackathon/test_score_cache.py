"""The scoring cache and the parallel scoring: a team scored again unchanged reuses every
component, a one-byte change re-scores what reads it, a broken cache entry is a miss, the
components that run the team's code run at the same time, in copies of its work."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from nbops.core.snippets import notebook_from_snippet
from nbops.hackathon.cache import ScoreCache, content_key
from nbops.hackathon.config import COMPONENTS, load_hackathon
from nbops.hackathon.exercise import new_exercise
from nbops.hackathon.score import score_team

START = """
# %%
import os
x = 2
y = x * 3
print(y)
"""

TEAM = """
# %% [markdown]
# # Toy model

Multiply a number by three, to show how a team's work is scored.

## Parameters

`X` is the number to multiply.
# %% tags=parameters
X = 2  # the number to multiply
# %%
import time
from pathlib import Path

time.sleep(2)
y = X * 3
Path("written.txt").write_text(str(y))
print(y)
"""


def write_nb(path: Path, snippet: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(notebook_from_snippet(snippet).dumps())


def components(card: dict) -> dict[str, dict]:
    return {c["id"]: c for c in card["components"]}


def uncached(card: dict) -> list[dict]:
    """The card's components without their ``cached`` flag."""
    return [{k: v for k, v in c.items() if k != "cached"} for c in card["components"]]


# --------------------------------------------------------------------------- the store


def test_a_key_changes_with_one_byte_a_rename_and_the_settings(tmp_path: Path) -> None:
    a = tmp_path / "a.py"
    a.write_bytes(b"x = 1\n")
    key = content_key("tests", {"src/a.py": a}, {"notebooks": ["n.ipynb"]})
    assert key == content_key("tests", {"src/a.py": a}, {"notebooks": ["n.ipynb"]})
    assert key != content_key("lint", {"src/a.py": a}, {"notebooks": ["n.ipynb"]})
    assert key != content_key("tests", {"src/b.py": a}, {"notebooks": ["n.ipynb"]})
    assert key != content_key("tests", {"src/a.py": a}, {"notebooks": ["m.ipynb"]})
    a.write_bytes(b"x = 2\n")
    assert key != content_key("tests", {"src/a.py": a}, {"notebooks": ["n.ipynb"]})


def test_the_store_keeps_what_it_was_given_ignores_broken_entries_and_stays_bounded(tmp_path: Path) -> None:
    store = ScoreCache(tmp_path / "cache", keep=3)
    assert store.get("k1") is None
    store.put("k1", {"score": 1.0})
    assert store.get("k1") == {"score": 1.0}
    (tmp_path / "cache" / "k1.json").write_text('{"key": "k1", "value": ')  # cut short
    assert store.get("k1") is None
    (tmp_path / "cache" / "k2.json").write_text(json.dumps({"key": "other", "value": {"score": 1}}))
    assert store.get("k2") is None  # an entry of another key
    (tmp_path / "cache" / "k3.json").write_bytes(b"\xff\xfe")
    assert store.get("k3") is None
    for old in ("k1", "k2", "k3"):
        os.utime(tmp_path / "cache" / f"{old}.json", (1_700_000_000, 1_700_000_000))
    for n in range(10):  # the oldest go (each entry's time set apart from the others')
        store.put(f"n{n}", {"score": n})
        later = 1_700_000_100 + n
        os.utime(tmp_path / "cache" / f"n{n}.json", (later, later))
    assert sorted(p.stem for p in (tmp_path / "cache").glob("*.json")) == ["n7", "n8", "n9"]
    assert not list((tmp_path / "cache").glob("*.tmp*"))
    unwritable = ScoreCache(tmp_path / "cache" / "n9.json" / "sub")  # a file where the folder goes
    unwritable.put("k", {"score": 1})  # skipped, no error
    assert unwritable.get("k") is None


# --------------------------------------------------------------------------- a team scored


@pytest.fixture
def exercise(tmp_path: Path) -> Path:
    """A folder exercise (no git) with team ``alpha``: a notebook that sleeps 2 s and writes a
    file, a library, a hand-written test."""
    start = tmp_path / "toy.ipynb"
    write_nb(start, START)
    folder = tmp_path / "ex"
    new_exercise(folder, [start], [], git=False)
    toml = folder / "hackathon.toml"
    toml.write_text(toml.read_text().replace("timeout = 900", "timeout = 300")
                    + '\n[teams.alpha]\nfolder = "teams/alpha"\n')
    team = folder / "teams" / "alpha"
    write_nb(team / "notebooks" / "toy.ipynb", TEAM)
    (team / "src" / "toy").mkdir(parents=True)
    (team / "src" / "toy" / "__init__.py").write_text("")
    (team / "src" / "toy" / "lib.py").write_text("def triple(value):\n    return value * 3\n")
    (team / "tests").mkdir()
    (team / "tests" / "test_mine.py").write_text(
        "from toy.lib import triple\n\n\ndef test_triple():\n    assert triple(2) == 6\n")
    return folder


class Events:
    def __init__(self) -> None:
        self.seen: list[tuple[str, str]] = []

    def started(self, cid: str) -> None:
        self.seen.append(("started", cid))

    def finished(self, cid: str) -> None:
        self.seen.append(("finished", cid))


def score(folder: Path, events: Events | None = None) -> dict:
    h = load_hackathon(folder)
    events = events or Events()
    return dict(score_team(h, "alpha", h.team("alpha"), on_component=events.started, on_finished=events.finished))


@pytest.mark.slow
def test_an_unchanged_team_is_a_hit_a_changed_file_rescores_what_reads_it(exercise: Path) -> None:
    team = exercise / "teams" / "alpha"
    before = sorted(p.relative_to(team) for p in team.rglob("*"))
    events = Events()
    cold = score(exercise, events)
    c = components(cold)
    assert c["tracked_run"]["score"] == 1 and c["tests"]["score"] == 1
    assert not any(x["cached"] for x in cold["components"])
    # every component started and finished once; the ones that run the team's code at once
    assert sorted(cid for what, cid in events.seen if what == "started") == sorted(COMPONENTS)
    assert sorted(cid for what, cid in events.seen if what == "finished") == sorted(COMPONENTS)
    if (os.cpu_count() or 1) >= 2:
        order = [f"{what} {cid}" for what, cid in events.seen]
        assert order.index("started tracked_run") < order.index("finished verify")
    # the notebook ran in copies: the team's work is as it was handed in
    assert sorted(p.relative_to(team) for p in team.rglob("*")) == before
    assert not (team / "notebooks" / "written.txt").exists()

    (exercise / "leaderboard.html").write_text("<html></html>")  # the organiser's page: not read
    warm = score(exercise)
    assert all(x["cached"] for x in warm["components"])
    assert uncached(warm) == uncached(cold) and warm["total"] == cold["total"]

    # one byte in a test file: what reads the team's files runs again, the rest is reused
    test = team / "tests" / "test_mine.py"
    test.write_text(test.read_text().replace("== 6", "== 7"))
    changed = components(score(exercise))
    assert {cid for cid, x in changed.items() if not x["cached"]} == {"tests", "verify", "tracked_run"}
    assert changed["tests"]["score"] == 0.0 and "0 of 1 tests pass" in changed["tests"]["explanation"]

    # a broken cache: every entry is a miss, the scores are the same
    for entry in (exercise / ".nbops" / "hackathon" / "cache").glob("*.json"):
        entry.write_text("{not json")
    again = score(exercise)
    assert not any(x["cached"] for x in again["components"])
    assert components(again)["tests"]["score"] == 0.0 and components(again)["tracked_run"]["score"] == 1
