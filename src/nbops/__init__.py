"""nbops: from Jupyter notebooks to reviewed, tested, reproducible production code.

The public Python API. Everything else lives in subpackages: ``nbops.core`` (the notebook
model and its analysis), ``nbops.lint`` (rules, ruff/black, fixes) and the fronts
(``nbops.cli``, and ``nbops.server``, the Jupyter server extension).
"""

from __future__ import annotations

from typing import Any

from nbops.tracking_api import active_run_id, log_artifact, log_metric, log_model, log_param

# the in-notebook tracking API: ``import nbops; nbops.log_metric("auc", auc)`` writes into the
# run ``nbops run`` opened, and does nothing harmful when the notebook runs by hand
__all__ = [
    "__version__",
    "active_run_id",
    "log_artifact",
    "log_metric",
    "log_model",
    "log_param",
]


def __getattr__(name: str) -> str:
    """``nbops.__version__``, read when asked for (:mod:`nbops._version`)."""
    if name == "__version__":
        from nbops._version import version

        return version()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _jupyter_server_extension_points() -> list[dict[str, Any]]:
    """Where Jupyter finds the nbops server extension (``jpserver_extensions: {"nbops": true}``).

    Imported lazily: ``import nbops`` must work without jupyter_server installed.
    """
    from nbops.server import _jupyter_server_extension_points as points

    return points()


def _jupyter_labextension_paths() -> list[dict[str, str]]:
    """Where ``jupyter labextension develop`` finds the built JupyterLab front end."""
    return [{"src": "labextension", "dest": "@nbops/labextension"}]
