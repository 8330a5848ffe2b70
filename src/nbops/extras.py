"""nbops' optional dependencies: which extra provides which imports, and the one way to ask for them.

``pip install nbops`` is the light core (lint, fix, modularize, check, submit, init, params,
rules). The rest comes with an extra (:data:`EXTRAS`): ``lab`` (the Jupyter server extension
and the JupyterLab front end), ``run`` (papermill, a kernel and MLflow: ``nbops run``, ``runs``,
``promote``, ``verify`` and hackathon scoring), ``ui`` (``run`` and the full MLflow, whose web UI
``nbops ui`` serves), ``widgets`` (the ipywidgets panel) and ``dask`` (``--executor dask``: runs,
sweeps and pipelines on a Dask cluster).

Heavy imports are lazy and behind :func:`require`: a command that needs an extra calls it
first, before it reads, prints or writes anything, and a missing package is a
:class:`~nbops.errors.MissingPackageError` (exit code 3, HTTP 503) that names the command and
the install line. Whether a package is there is found without importing it (``find_spec``:
MLflow takes seconds to import).
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Sequence
from typing import Any, Literal

from nbops import api_types
from nbops.errors import MissingPackageError, UsageError

__all__ = [
    "EXTRAS",
    "Extra",
    "available",
    "import_optional",
    "install_line",
    "missing",
    "require",
    "status",
]

Extra = Literal["lab", "run", "ui", "widgets", "dask"]

# extra -> the import names it provides, with the name a user knows them by
EXTRAS: dict[Extra, dict[str, str]] = {
    "lab": {"jupyter_server": "jupyter_server", "jupyterlab": "JupyterLab"},
    "run": {"papermill": "papermill", "ipykernel": "ipykernel", "nbclient": "nbclient",
            "mlflow": "MLflow"},
    # MLflow's web UI is only in the full mlflow distribution (not mlflow-skinny): its server
    # needs Flask, which only the full one requires
    "ui": {"mlflow": "MLflow", "flask": "Flask (the full mlflow distribution)"},
    "widgets": {"ipywidgets": "ipywidgets"},
    # --executor dask: Dask's scheduler client (a LocalCluster when no address is given)
    "dask": {"dask": "Dask", "distributed": "Dask distributed"},
}


def install_line(extra: Extra) -> str:
    """The pip command that installs ``extra`` (quoted: the brackets are a shell glob)."""
    return f"pip install 'nbops[{extra}]'"


def _found(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):  # a broken or half-removed installation
        return False


def _modules(extra: Extra, modules: Sequence[str] | None) -> Sequence[str]:
    if extra not in EXTRAS:
        raise UsageError(f"no such nbops extra: {extra!r}", hint=f"one of {', '.join(EXTRAS)}")
    known = EXTRAS[extra]
    chosen = list(known) if modules is None else list(modules)
    unknown = [m for m in chosen if m.split(".", 1)[0] not in known]
    if unknown:
        raise UsageError(f"{', '.join(unknown)} not in the {extra} extra")
    return chosen


def missing(extra: Extra, modules: Sequence[str] | None = None) -> list[str]:
    """The import names of ``extra`` (or only ``modules`` of it) that are not installed."""
    return [m for m in _modules(extra, modules) if not _found(m)]


def available(extra: Extra, modules: Sequence[str] | None = None) -> bool:
    """Whether every package of ``extra`` (or only ``modules`` of it) is installed."""
    return not missing(extra, modules)


def _message(extra: Extra, what: str, absent: Sequence[str]) -> str:
    names = [EXTRAS[extra].get(m.split(".", 1)[0], m) for m in absent]
    listed = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
    verb = "is" if len(names) == 1 else "are"
    return f"{what} needs the nbops[{extra}] extra: {listed} {verb} not installed"


def require(extra: Extra, what: str, *, modules: Sequence[str] | None = None) -> None:
    """Raise ``MissingPackageError`` naming ``what`` (``"nbops run"``, ``"the Run tab"``) and
    the install line when a package of ``extra`` (or of ``modules`` only) is missing.

    Call it before doing anything: nothing is read, printed or written when it raises.
    """
    absent = missing(extra, modules)
    if absent:
        raise MissingPackageError(_message(extra, what, absent), hint=install_line(extra))


def import_optional(module: str, extra: Extra, what: str | None = None) -> Any:
    """Import ``module`` (of ``extra``), or raise ``MissingPackageError`` with the install line.

    For the lazy imports inside functions: ``papermill = import_optional("papermill", "run")``.
    """
    _modules(extra, [module])
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        top = module.split(".", 1)[0]
        if _found(top):  # installed but broken: say so rather than "not installed"
            raise MissingPackageError(
                f"{EXTRAS[extra][top]} is installed but cannot be imported ({exc})",
                hint=f"reinstall it: {install_line(extra)}",
            ) from exc
        raise MissingPackageError(
            _message(extra, what or f"importing {module}", [top]), hint=install_line(extra)
        ) from exc


def status() -> api_types.VersionExtras:
    """Every extra: whether it is installed (found, not imported), what is missing, the install line."""

    def one(extra: Extra) -> api_types.ExtraStatus:
        absent = missing(extra)
        return {"available": not absent, "missing": absent, "install": install_line(extra)}

    return {"lab": one("lab"), "run": one("run"), "ui": one("ui"), "widgets": one("widgets"),
            "dask": one("dask")}
