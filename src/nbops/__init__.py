"""nbops: from Jupyter notebooks to reviewed, tested, reproducible production code.

The public Python API. Everything else lives in subpackages: ``nbops.core`` (the notebook
model and its analysis), ``nbops.lint`` (rules, ruff/black, fixes) and the fronts
(``nbops.cli``).
"""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
