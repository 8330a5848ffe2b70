"""A Jupyter config file (``jupyter lab --config=THIS``) for a server whose Python lacks MLflow.

Loaded into the server process before the nbops extension: ``sys.modules["mlflow"] = None``
is how Python records a module that cannot be imported, so ``importlib.util.find_spec``
finds no MLflow and ``import mlflow`` fails, as where ``nbops[run]`` is not installed.
Used by ``test_run_ui_without_mlflow.py``; not a test module.
"""

import sys

sys.modules["mlflow"] = None  # type: ignore[assignment]
