"""What an executor is: the one interface ``nbops run`` drives, whatever runs the kernels."""

from __future__ import annotations

import abc
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from nbops.kernel import CellHook
    from nbops.run.runner import RunOutcome, RunSettings, SweepOutcome

__all__ = ["DEFAULT_RETRIES", "Executor", "ExecutorOptions", "Progress"]

DEFAULT_RETRIES = 1  # a kernel that would not start or died: run again this many times

# ``progress(done, failed, running, total)``, as runs start and end
Progress = Callable[[int, int, int, int], None]


@dataclass(frozen=True)
class ExecutorOptions:
    """How the executor was asked for: ``--scheduler`` / ``[tool.nbops.run]``."""

    scheduler: str | None = None  # a Dask scheduler address; None: a cluster on this machine
    retries: int = DEFAULT_RETRIES
    parallel: int | None = None  # --parallel when given


class Executor(abc.ABC):
    """Runs a notebook once, or a sweep of it under one parent run, tracked as ``nbops run``
    documents; constructed as ``cls(options)``."""

    name = "executor"

    def __init__(self, options: ExecutorOptions) -> None:
        self.options = options

    @abc.abstractmethod
    def run_notebook(
        self, notebook: Path, parameters: Mapping[str, Any], settings: RunSettings, *,
        on_cell: CellHook | None = None,
    ) -> RunOutcome:
        """One tracked run; an interruption raises :class:`~nbops.run.lifecycle.Interrupted`."""

    @abc.abstractmethod
    def run_sweep(
        self, notebook: Path, parameter_sets: Sequence[Mapping[str, Any]], settings: RunSettings,
        *, progress: Progress | None = None,
    ) -> SweepOutcome:
        """Every parameter set under one parent run; an interruption ends the unfinished runs
        KILLED and returns with ``interrupted`` set."""
