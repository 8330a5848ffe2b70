"""Executors: where the runs of ``nbops run`` execute, chosen by name (``--executor``).

``local`` (the default) runs kernels as processes of this machine; ``dask`` runs each run as
one task on a Dask cluster (a LocalCluster when no scheduler address is given). Other packages
add theirs through the ``nbops.executors`` entry point group (the way papermill registers
engines)::

    [project.entry-points."nbops.executors"]
    ray = "nbops_ray:RayExecutor"

The built-ins are registered by import path, so listing them imports neither Dask nor MLflow.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from nbops import extras
from nbops.errors import UsageError
from nbops.run.executors.base import Executor, ExecutorOptions
from nbops.run.plugins import PluginRegistry

if TYPE_CHECKING:
    from nbops.config import RunConfig

__all__ = [
    "EXECUTORS", "Executor", "ExecutorOptions", "ExecutorRegistry", "check_scheduler_for",
    "choose_executor", "require_executor",
]


class ExecutorRegistry(PluginRegistry[Executor]):
    """Executor classes by name: the built-ins plus the ``nbops.executors`` entry points (read
    on first lookup; one that fails to load is skipped with a warning)."""

    def __init__(self) -> None:
        super().__init__("nbops.executors", "executor", "choose one of: {}")

    def create(self, name: str, options: ExecutorOptions) -> Executor:
        """An instance of the executor called ``name``."""
        return self.get(name)(options)


EXECUTORS = ExecutorRegistry()
EXECUTORS.register("local", "nbops.run.executors.local:LocalExecutor")
EXECUTORS.register("dask", "nbops.run.executors.dask:DaskExecutor")


def check_scheduler_for(name: str, scheduler: str | None) -> None:
    """A scheduler address is for the dask executor only (a UsageError otherwise)."""
    if scheduler and name != "dask":
        raise UsageError(f"--scheduler is for the dask executor, not {name!r}",
                         hint="add --executor dask (or leave out --scheduler)")


def require_executor(name: str) -> None:
    """The executor's extra is installed (dask: MissingPackageError with the install line)."""
    if name == "dask":
        extras.require("dask", "nbops run --executor dask")


def choose_executor(executor: str | None, scheduler: str | None,
                    run: RunConfig) -> tuple[type[Executor], str | None]:
    """The executor asked for (``executor``, else ``[tool.nbops.run] executor``) and its
    scheduler (``scheduler``, else the configured one when the executor is dask), checked as
    ``nbops run`` checks them before anything starts: an unknown name (the choices), a
    scheduler for another executor, Dask not installed (the install line)."""
    name = executor or run.executor
    check_scheduler_for(name, scheduler)
    executor_class = EXECUTORS.get(name)
    require_executor(name)
    return executor_class, scheduler or (run.scheduler if name == "dask" else None)
