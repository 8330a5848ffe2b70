"""Points, rounded once and shown one way: one decimal, halves rounded up.

A scorecard's component points are rounded here, once, from their exact values when the
scorer writes them; the total is their sum (a sum of tenths: nothing more to round), so a
scorecard adds up as printed. Every front (the CLI, the leaderboard page and its markdown, the
chart) prints points with :func:`format_points`, so a total reads the same everywhere (94.6,
never 94.65 on one page and 94.7 on another).
"""

from __future__ import annotations

import math
from decimal import ROUND_HALF_UP, Decimal

__all__ = ["format_points", "round_points"]

_TENTH = Decimal("0.1")


def round_points(value: float) -> float:
    """``value`` to one decimal, halves up as written (``repr``): 14.65 -> 14.7, 0.25 -> 0.3."""
    if not math.isfinite(value) or abs(value) >= 1e15:  # no tenths left to round
        return value
    rounded = float(Decimal(repr(value)).quantize(_TENTH, rounding=ROUND_HALF_UP))
    return rounded + 0.0  # no -0.0


def format_points(value: float | None) -> str:
    """Points as every front shows them: ``94.6``, ``20.0``, ``—`` when unknown."""
    if value is None or not math.isfinite(value):
        return "—"
    text = f"{round_points(value):.1f}"
    return "0.0" if text == "-0.0" else text
