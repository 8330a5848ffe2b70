"""The code table: every nbops rule by code, families, and ``--select``/``--ignore`` by prefix.

Codes are a prefix and a number (``NB203``): ``NB`` for nbops' own rules, where the first
digit is the family; ``FMT`` for the black format check; anything else is a ruff code
(``F401``, ``E501``) passed through from ruff. Selecting ``NB2`` selects the whole
execution family; ``ALL`` selects everything.
"""

from __future__ import annotations

import importlib
import json
import subprocess
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from nbops.errors import UsageError
from nbops.lint.codes import ALWAYS_ON, FAMILIES, FORMAT_CODE
from nbops.lint.rule import Rule

__all__ = [
    "ALWAYS_ON",
    "FAMILIES",
    "FORMAT_CODE",
    "Selection",
    "all_rules",
    "get_rule",
    "register",
]

_RULE_MODULES = (
    "nbops.lint.rules.input",
    "nbops.lint.rules.structure",
    "nbops.lint.rules.execution",
    "nbops.lint.rules.reproducibility",
    "nbops.lint.rules.security",
    "nbops.lint.rules.production",
)

_RULES: dict[str, type[Rule]] = {}
_loaded = False


def register(cls: type[Rule]) -> type[Rule]:
    """Class decorator adding a rule to the table; codes must be unique."""
    if cls.code in _RULES and _RULES[cls.code] is not cls:
        raise RuntimeError(f"duplicate rule code {cls.code}")
    _RULES[cls.code] = cls
    return cls


def _load() -> None:
    global _loaded
    if _loaded:
        return
    for module in _RULE_MODULES:
        importlib.import_module(module)
    _loaded = True


def all_rules() -> list[type[Rule]]:
    _load()
    return [_RULES[c] for c in sorted(_RULES)]


def get_rule(code: str) -> type[Rule]:
    _load()
    key = code.strip().upper()
    if key in _RULES:
        return _RULES[key]
    for cls in _RULES.values():
        if cls.name == code.strip().lower():
            return cls
    raise UsageError(f"unknown rule {code!r}", hint="`nbops rules` lists every code")


@lru_cache(maxsize=1)
def ruff_rule_codes() -> frozenset[str]:
    """Every code the installed ruff knows (asked once, from ``ruff rule --all``)."""
    from nbops.lint.tools import ruff_binary

    try:
        out = subprocess.run(
            [ruff_binary(), "rule", "--all", "--output-format", "json"],
            capture_output=True, check=True, timeout=60,
        )
        return frozenset(str(r["code"]) for r in json.loads(out.stdout))
    except (OSError, subprocess.SubprocessError, ValueError, KeyError):
        return frozenset()


def _is_known_prefix(prefix: str) -> bool:
    if prefix == "ALL":
        return True
    if prefix.startswith("NB"):
        return any(code.startswith(prefix) for code in _RULES)
    if prefix.startswith("FMT"):
        return FORMAT_CODE.startswith(prefix)
    if not (prefix[:1].isalpha() and prefix.isalnum()):
        return False
    known = ruff_rule_codes()
    # if ruff cannot be asked, let ruff itself judge the code later
    return not known or any(code.startswith(prefix) for code in known)


@dataclass(frozen=True)
class Selection:
    """Which codes are on. Longest matching prefix wins, ``ignore`` wins a tie (as in ruff)."""

    select: tuple[str, ...] = ("NB", "FMT")
    ignore: tuple[str, ...] = ()
    extend_select: tuple[str, ...] = ()
    ruff_select: tuple[str, ...] | None = None

    @classmethod
    def build(
        cls,
        select: Sequence[str] | None = None,
        ignore: Sequence[str] | None = None,
        extend_select: Sequence[str] | None = None,
        default: Sequence[str] = ("NB", "FMT", "RUFF"),
    ) -> Selection:
        _load()
        sel = tuple(_norm(select)) if select else tuple(default)
        ign = tuple(_norm(ignore or ()))
        ext = tuple(_norm(extend_select or ()))
        for code in (*sel, *ign, *ext):
            if code == "RUFF":
                continue
            if not _is_known_prefix(code):
                raise UsageError(
                    f"unknown rule code or prefix {code!r}",
                    hint="use a code such as NB203, a prefix such as NB2, or a ruff code such as F401",
                )
        return cls(select=sel, ignore=ign, extend_select=ext)

    def _match(self, code: str, prefixes: Iterable[str]) -> int:
        best = -1
        for prefix in prefixes:
            if prefix == "ALL":
                best = max(best, 0)
            elif prefix == "RUFF":
                if not code.startswith(("NB", "FMT")):
                    best = max(best, 0)
            elif code.startswith(prefix):
                best = max(best, len(prefix))
        return best

    def enabled(self, code: str) -> bool:
        chosen = max(self._match(code, self.select), self._match(code, self.extend_select))
        ignored = self._match(code, self.ignore)
        if code in ALWAYS_ON and ignored < len(code):
            return True
        return chosen >= 0 and chosen > ignored

    @property
    def wants_ruff(self) -> bool:
        """True unless the selection can only match nbops and format codes."""
        for prefix in (*self.select, *self.extend_select):
            if prefix in ("ALL", "RUFF") or not prefix.startswith(("NB", "FMT")):
                return True
        return False

    def ruff_codes(self) -> tuple[list[str], list[str]]:
        """``--select`` / ``--ignore`` lists to hand to ruff itself."""
        sel = [p for p in (*self.select, *self.extend_select) if not p.startswith(("NB", "FMT"))]
        ruff_select = [] if any(p in ("ALL", "RUFF") for p in sel) else sel
        if "ALL" in sel:
            ruff_select = ["ALL"]
        ruff_ignore = [p for p in self.ignore if not p.startswith(("NB", "FMT"))]
        return ruff_select, ruff_ignore


def _norm(codes: Iterable[str]) -> list[str]:
    out: list[str] = []
    for item in codes:
        for part in str(item).split(","):
            part = part.strip().upper()
            if part:
                out.append(part)
    return out
