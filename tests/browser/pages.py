"""What the browser tests share: a page with the console messages it logged."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["Page", "is_from_nbops"]


def is_from_nbops(entry: dict[str, str]) -> bool:
    """A console message that nbops logged (its text or its script's URL says nbops)."""
    return "nbops" in entry["text"].lower() or "nbops" in entry["url"].lower()


@dataclass
class Page:
    page: Any  # playwright's Page
    console: list[dict[str, str]]
