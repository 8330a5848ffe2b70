"""A model served through the notebook's prediction path: ``predict(model, frame, **fitted)``.

``nbops.log_model(model, X, predict=fn, fitted={"scaler": scaler})`` logs a
:class:`PredictPath` with ``mlflow.pyfunc``: MLflow pickles it (cloudpickle) with the model and
the fitted transformers, and its ``predict`` calls ``fn(model, frame, **fitted)`` on the raw
rows, so serving applies the notebook's preprocessing. :func:`code_paths` says which files ship
with it (the package of ``fn``'s module, e.g. the generated library ``src/wine_models/``), so
the served model imports ``fn`` without that project installed.

Imported only by ``log_model`` and when MLflow loads such a model (it imports MLflow).
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from mlflow.pyfunc import PythonModel  # type: ignore[attr-defined]  # re-exported

__all__ = ["PredictPath", "code_paths"]

_INSTALLED = ("site-packages", "dist-packages")


class PredictPath(PythonModel):
    """``fn(model, frame, **fitted)`` as an MLflow ``PythonModel``."""

    _skip_type_hint_validation = True  # MLflow 3: the signature comes from X, not type hints

    def __init__(self, fn: Callable[..., Any], model: Any, fitted: Mapping[str, Any]) -> None:
        self.fn = fn
        self.model = model
        self.fitted = dict(fitted)

    def predict(self, context, model_input, params=None):  # type: ignore[no-untyped-def]
        return self.fn(self.model, model_input, **self.fitted)


def code_paths(fn: Callable[..., Any]) -> list[str]:
    """What to ship so ``fn`` imports where the model is served: the top package of its
    module (a folder) or the module's file; nothing for a function of the notebook itself
    (``__main__``: cloudpickle keeps it by value) or of an installed package."""
    name = getattr(fn, "__module__", None) or "__main__"
    if name == "__main__" or name not in sys.modules:
        return []
    top = sys.modules.get(name.split(".")[0])
    where = getattr(top, "__file__", None)
    if not where:
        return []
    path = Path(where)
    if path.name == "__init__.py":
        path = path.parent
    if any(part in _INSTALLED for part in path.parts):
        return []
    return [str(path)]
