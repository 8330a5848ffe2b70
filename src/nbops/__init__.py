"""nbops: from Jupyter notebooks to reviewed, tested, reproducible production code.

The public Python API. Everything else lives in subpackages: ``nbops.core`` (the notebook
model and its analysis), ``nbops.lint`` (rules, ruff/black, fixes) and the fronts
(``nbops.cli``, and ``nbops.server``, the Jupyter server extension).
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"

__all__ = ["__version__"]


def _jupyter_server_extension_points() -> list[dict[str, Any]]:
    """Where Jupyter finds the nbops server extension (``jpserver_extensions: {"nbops": true}``).

    Imported lazily: ``import nbops`` must work without jupyter_server installed.
    """
    from nbops.server import _jupyter_server_extension_points as points

    return points()


def _jupyter_labextension_paths() -> list[dict[str, str]]:
    """Where ``jupyter labextension develop`` finds the built JupyterLab front end."""
    return [{"src": "labextension", "dest": "@nbops/labextension"}]
