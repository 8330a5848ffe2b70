"""Points rounded once, to one decimal, and shown one way: the scorer's totals, the CLI's
scorecard and the leaderboard agree."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from nbops.hackathon.config import COMPONENTS, load_hackathon
from nbops.hackathon.exercise import new_exercise
from nbops.hackathon.points import format_points, round_points
from nbops.hackathon.score import Component, _card

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "sales_forecast.ipynb"


@pytest.mark.parametrize(
    ("value", "rounded", "shown"),
    [(94.65, 94.7, "94.7"), (14.65, 14.7, "14.7"), (0.25, 0.3, "0.3"), (2.675, 2.7, "2.7"),
     (94.64788, 94.6, "94.6"), (-0.04, 0.0, "0.0"), (100.0, 100.0, "100.0"), (0, 0.0, "0.0")],
)
def test_halves_round_up_as_written(value: float, rounded: float, shown: str) -> None:
    assert round_points(value) == rounded and format_points(value) == shown


def test_unknown_points_are_a_dash() -> None:
    assert format_points(None) == format_points(math.nan) == format_points(math.inf) == "—"


def test_points_are_rounded_once_and_the_card_adds_up(tmp_path: Path) -> None:
    """The bundled exercise's strong team: library 73.24% of 20 points is 14.648; the old
    scorer rounded it to 14.65, summed to 94.65 and the fronts showed 94.65 or 94.7. Rounded
    once it is 14.6, and the total is the sum of the parts as printed: 94.6."""
    folder = tmp_path / "ex"
    new_exercise(folder, [EXAMPLE], ["a"], git=False)
    h = load_hackathon(folder)
    scores = {"lint": 1.0, "documentation": 1.0, "library": 52 / 71, "pipeline": 1.0,
              "tests": 1.0, "verify": 1.0, "tracked_run": 1.0}
    h.weights.update(lint=20, documentation=20, library=20, pipeline=10, tests=15, verify=10,
                     tracked_run=5)
    components = [Component(c, 0, scores[c]) for c in COMPONENTS]
    card = _card(h, "a", components, {"kind": "folder", "ref": "a", "commit": None}, None, True, [])
    library = next(c for c in card["components"] if c["id"] == "library")
    assert library["points"] == 14.6 and card["total"] == 94.6
    assert all(round_points(c["points"]) == c["points"] for c in card["components"])
    # the weak team: 9.677 + 6.667 + 5 points, printed 9.7 + 6.7 + 5.0: the total says 21.4
    weak = {c: 0.0 for c in COMPONENTS} | {"lint": 15 / 31, "documentation": 1 / 3, "tracked_run": 1.0}
    card = _card(h, "b", [Component(c, 0, weak[c]) for c in COMPONENTS],
                 {"kind": "folder", "ref": "b", "commit": None}, None, False, [])
    points = [c["points"] for c in card["components"] if c["points"]]
    assert points == [9.7, 6.7, 5.0] and card["total"] == 21.4
    assert format_points(card["total"]) == format_points(sum(points)) == "21.4"
