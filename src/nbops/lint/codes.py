"""The codes of nbops' findings: rule families, the format check's code, the always-on codes.

A table with no imports, so that the rules (:mod:`nbops.lint.rule`) and the registry that
collects them (:mod:`nbops.lint.registry`, which re-exports these names) both read it without
importing each other.
"""

from __future__ import annotations

__all__ = ["ALWAYS_ON", "FAMILIES", "FORMAT_CODE"]

# NB codes: the first digit is the family (``--select NB2`` selects the execution family)
FAMILIES: dict[str, str] = {
    "NB0": "input",
    "NB1": "structure and documentation",
    "NB2": "execution and hidden state",
    "NB3": "reproducibility and portability",
    "NB4": "security",
    "NB5": "production readiness",
}

FORMAT_CODE = "FMT001"
# Input problems and tool failures are reported whatever is selected, unless ignored by exact code.
ALWAYS_ON = ("NB001", "NB003", "NB005")
