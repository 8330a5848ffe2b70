"""Notebooks into library code: steps, a pipeline, tests and a slim notebook (and verify)."""

from nbops.modularize.api import (
    FileAction,
    ModularizeOptions,
    ModularizeResult,
    NotWrittenError,
    modularize,
    plan_to_dict,
)

__all__ = [
    "FileAction",
    "ModularizeOptions",
    "ModularizeResult",
    "NotWrittenError",
    "modularize",
    "plan_to_dict",
]
