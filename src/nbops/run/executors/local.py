"""The ``local`` executor (the default): kernels as processes of this machine, ``parallel`` at a
time (:mod:`nbops.run.runner`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nbops.run.executors.base import Executor, Progress

if TYPE_CHECKING:
    from nbops.kernel import CellHook
    from nbops.run.runner import RunOutcome, RunSettings, SweepOutcome

__all__ = ["LocalExecutor"]


class LocalExecutor(Executor):
    name = "local"

    def run_notebook(
        self, notebook: Path, parameters: Mapping[str, Any], settings: RunSettings, *,
        on_cell: CellHook | None = None,
    ) -> RunOutcome:
        from nbops.run.runner import run_notebook

        return run_notebook(notebook, parameters, settings, on_cell=on_cell)

    def run_sweep(
        self, notebook: Path, parameter_sets: Sequence[Mapping[str, Any]], settings: RunSettings,
        *, progress: Progress | None = None,
    ) -> SweepOutcome:
        from nbops.run.runner import run_sweep

        return run_sweep(notebook, parameter_sets, settings,
                         parallel=self.options.parallel or 1, progress=progress)
