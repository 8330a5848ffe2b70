"""``hackathon.toml``: the exercise's teams, notebooks, weights, required checks and limits.

::

    [hackathon]
    name = "Notebook to production"
    deadline = "2026-12-01T17:00:00+00:00"
    notebooks = ["notebooks/wine_classifier.ipynb"]   # the starting notebooks
    timeout = 900                                      # seconds to score one team
    branch-prefix = "team/"

    [weights]        # points out of their sum, scaled to 100
    lint = 20
    documentation = 20
    library = 20
    pipeline = 10
    tests = 15
    verify = 10
    tracked_run = 5

    [required]       # review-gate checks every submission must pass (nbops check ids)
    checks = ["secrets", "absolute-paths"]

    [teams.alpha]
    members = ["ana", "bo"]
    # branch = "team/alpha"          default: branch-prefix + name
    # folder = "submissions/alpha"   a folder of the exercise repository instead of a branch
"""

from __future__ import annotations

import datetime as _dt
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nbops.errors import ConfigError, NotFoundError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib  # type: ignore[import-not-found,unused-ignore]

__all__ = ["COMPONENTS", "CONFIG_NAME", "DEFAULT_WEIGHTS", "Hackathon", "Team", "find_exercise", "load_hackathon"]

CONFIG_NAME = "hackathon.toml"
DEFAULT_WEIGHTS: dict[str, float] = {
    "lint": 20, "documentation": 20, "library": 20, "pipeline": 10, "tests": 15, "verify": 10,
    "tracked_run": 5,
}
COMPONENTS = tuple(DEFAULT_WEIGHTS)


@dataclass(frozen=True)
class Team:
    name: str
    members: tuple[str, ...] = ()
    branch: str | None = None
    folder: str | None = None


@dataclass(frozen=True)
class Hackathon:
    root: Path
    name: str = "Notebook to production"
    deadline: _dt.datetime | None = None
    notebooks: tuple[str, ...] = ()
    timeout: float = 900.0
    branch_prefix: str = "team/"
    weights: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_WEIGHTS))
    required_checks: tuple[str, ...] = ("secrets", "absolute-paths")
    teams: tuple[Team, ...] = ()

    def team(self, name: str) -> Team | None:
        return next((t for t in self.teams if t.name == name), None)

    def branch_of(self, team: Team) -> str:
        return team.branch or f"{self.branch_prefix}{team.name}"

    @property
    def scores_dir(self) -> Path:
        return self.root / ".nbops" / "hackathon"


def find_exercise(start: Path) -> Path:
    """The folder holding ``hackathon.toml`` at or above ``start``."""
    here = start.resolve()
    for folder in (here if here.is_dir() else here.parent, *here.parents):
        if (folder / CONFIG_NAME).is_file():
            return folder
    raise NotFoundError(
        f"no {CONFIG_NAME} here or above", path=start,
        hint="run this inside an exercise repository (nbops hackathon new DIR creates one), or pass --exercise DIR",
    )


def _strings(value: object, key: str, file: Path) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise ConfigError(f"{key} must be a list of non-empty strings", path=file)
    return tuple(v.strip() for v in value)


def load_hackathon(root: Path) -> Hackathon:
    """Read and check ``root/hackathon.toml``; every problem names the key."""
    file = root / CONFIG_NAME
    try:
        data = tomllib.loads(file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise NotFoundError(f"no {CONFIG_NAME}", path=file, hint="nbops hackathon new DIR creates one") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"invalid TOML: {exc}", path=file) from None
    unknown = sorted(set(data) - {"hackathon", "weights", "required", "teams"})
    if unknown:
        raise ConfigError(f"unknown table(s): {', '.join(unknown)}", path=file,
                          hint="tables: hackathon, weights, required, teams")
    head = data.get("hackathon", {})
    if not isinstance(head, dict):
        raise ConfigError("[hackathon] must be a table", path=file)
    deadline = None
    if head.get("deadline"):
        raw = head["deadline"]
        try:
            deadline = raw if isinstance(raw, _dt.datetime) else _dt.datetime.fromisoformat(str(raw))
        except ValueError:
            raise ConfigError(f"deadline {raw!r} is not an ISO date-time", path=file) from None
        if deadline.tzinfo is None:
            deadline = deadline.replace(tzinfo=_dt.timezone.utc)
    timeout = head.get("timeout", 900)
    if not isinstance(timeout, (int, float)) or isinstance(timeout, bool) or timeout <= 0:
        raise ConfigError("[hackathon] timeout must be a number of seconds > 0", path=file)
    weights = dict(DEFAULT_WEIGHTS)
    given = data.get("weights", {})
    if not isinstance(given, dict):
        raise ConfigError("[weights] must be a table", path=file)
    for key, value in given.items():
        if key not in DEFAULT_WEIGHTS:
            raise ConfigError(f"unknown weight {key!r}", path=file, hint=f"weights: {', '.join(COMPONENTS)}")
        if not isinstance(value, (int, float)) or isinstance(value, bool) or value < 0:
            raise ConfigError(f"weight {key!r} must be a number >= 0", path=file)
        weights[key] = float(value)
    if sum(weights.values()) <= 0:
        raise ConfigError("the weights sum to 0", path=file)
    required = data.get("required", {})
    checks = _strings(required.get("checks", ["secrets", "absolute-paths"]), "[required] checks", file)
    from nbops.review.policy import CHECK_IDS

    bad = [c for c in checks if c not in CHECK_IDS]
    if bad:
        raise ConfigError(f"unknown required check(s): {', '.join(bad)}", path=file,
                          hint=f"checks: {', '.join(CHECK_IDS)}")
    teams = []
    for name, table in (data.get("teams") or {}).items():
        if not isinstance(table, dict):
            raise ConfigError(f"[teams.{name}] must be a table", path=file)
        teams.append(Team(
            name=str(name),
            members=_strings(table.get("members", []), f"[teams.{name}] members", file) if table.get("members") else (),
            branch=str(table["branch"]) if table.get("branch") else None,
            folder=str(table["folder"]) if table.get("folder") else None,
        ))
    notebooks = _strings(head.get("notebooks", []), "[hackathon] notebooks", file) if head.get("notebooks") else ()
    for nb in notebooks:
        if not (root / nb).is_file():
            raise ConfigError(f"starting notebook {nb} does not exist", path=file,
                              hint="notebooks are paths relative to the exercise folder")
    return Hackathon(
        root=root.resolve(), name=str(head.get("name", "Notebook to production")), deadline=deadline,
        notebooks=notebooks, timeout=float(timeout),
        branch_prefix=str(head.get("branch-prefix", "team/")), weights=weights,
        required_checks=checks, teams=tuple(teams),
    )


def as_json(h: Hackathon) -> dict[str, Any]:
    return {
        "name": h.name,
        "deadline": h.deadline.isoformat() if h.deadline else None,
        "notebooks": list(h.notebooks),
        "weights": dict(h.weights),
        "required_checks": list(h.required_checks),
        "teams": [t.name for t in h.teams],
    }
