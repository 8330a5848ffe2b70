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

import importlib
import threading
import warnings
from typing import TYPE_CHECKING

from nbops import extras
from nbops.errors import UsageError
from nbops.run.executors.base import Executor, ExecutorOptions

if TYPE_CHECKING:
    from nbops.config import RunConfig

__all__ = [
    "EXECUTORS", "Executor", "ExecutorOptions", "ExecutorRegistry", "check_scheduler_for",
    "choose_executor", "require_executor",
]


class ExecutorRegistry:
    """Executor classes by name: the built-ins plus the ``nbops.executors`` entry points.

    Entry points are read on first lookup (not at import); one that fails to load is skipped
    with a warning, so a broken plugin never breaks nbops.
    """

    group = "nbops.executors"

    def __init__(self) -> None:
        self._executors: dict[str, type[Executor] | str] = {}
        self._loaded = False
        self._lock = threading.Lock()

    def register(self, name: str, executor: type[Executor] | str) -> None:
        """Register (or replace) ``name``: a class, or its ``"module:Class"`` path (imported
        when it is asked for)."""
        self._executors[name] = executor

    def register_entry_points(self) -> None:
        """Register the executors other packages declare in the ``nbops.executors`` group."""
        from importlib.metadata import entry_points

        for entry in entry_points(group=self.group):
            if entry.name in self._executors and entry.value == self._executors[entry.name]:
                continue  # a built-in, declared in nbops' own metadata too
            try:
                loaded = entry.load()
            except Exception as exc:  # noqa: BLE001 - a broken plugin must not break nbops
                warnings.warn(
                    f"nbops: executor plugin {entry.name!r} ({entry.value}) failed to load: {exc}",
                    RuntimeWarning,
                    stacklevel=2,
                )
                continue
            self.register(entry.name, loaded)

    def _ensure_loaded(self) -> None:
        with self._lock:
            if not self._loaded:
                self._loaded = True
                self.register_entry_points()

    def names(self) -> list[str]:
        """The registered executor names, sorted."""
        self._ensure_loaded()
        return sorted(self._executors)

    def get(self, name: str) -> type[Executor]:
        """The executor class called ``name``; a UsageError naming the choices otherwise."""
        self._ensure_loaded()
        found = self._executors.get(name)
        if found is None:
            raise UsageError(
                f"no executor named {name!r}",
                hint="choose one of: " + ", ".join(sorted(self._executors)),
            )
        if isinstance(found, str):
            module, _, attr = found.partition(":")
            found = getattr(importlib.import_module(module), attr)
            assert isinstance(found, type)
            self._executors[name] = found
        return found

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
