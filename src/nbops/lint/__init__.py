"""Notebook linting: nbops' own rules plus ruff and black, mapped to cells, with safe fixes."""

from __future__ import annotations

from nbops.lint.diagnostic import Diagnostic, Edit, Fix
from nbops.lint.engine import FileReport, Linter, discover, lint_notebook

__all__ = ["Diagnostic", "Edit", "FileReport", "Fix", "Linter", "discover", "lint_notebook"]
