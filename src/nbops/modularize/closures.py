"""What a function or class that stays inside its step reads from earlier steps.

A ``def``/``class`` the plan cannot hoist to the module (a class whose methods read notebook
variables, a name defined twice, a function assigning a ``global``) is written inside its
step function, where it closes over the step's locals. In the notebook its body reads the
module's globals when it runs, so every data name it reads that an earlier step binds must be
one of the step's inputs (and an output of the step that binds it last), and every parameter
it reads one of the step's parameters; the data flow does not record these reads, since they
happen only when the function is called.

It reads the plan through :class:`PlanView` (what it needs of
:class:`~nbops.modularize.plan.ModulePlan`), so plan imports this module and not the reverse.
"""

from __future__ import annotations

import ast
from collections.abc import Mapping, Sequence
from typing import Protocol

from nbops.core.dataflow import DataFlow
from nbops.core.magics import PLACEHOLDERS
from nbops.core.symbols import is_builtin

__all__ = ["PlanView", "closure_inputs"]


class HoistedView(Protocol):
    """What is read of a hoisted function: the globals it now takes as parameters."""

    @property
    def new_parameters(self) -> Sequence[str]: ...


class PlanView(Protocol):
    """What is read of the module plan (a ``ModulePlan`` is one)."""

    @property
    def flow(self) -> DataFlow: ...
    @property
    def functions(self) -> Mapping[str, HoistedView]: ...
    @property
    def hoisted(self) -> Mapping[int, set[int]]: ...
    @property
    def module_names(self) -> set[str]: ...
    @property
    def module_globals(self) -> set[str]: ...

_DEFINITIONS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)


def closure_inputs(
    plan: PlanView,
    steps: Sequence[Sequence[int]],
    bound: Sequence[set[str]],
    parameters: set[str],
    inputs: list[list[str]],
    outputs: list[set[str]],
) -> list[list[str]]:
    """Add to ``inputs[i]`` (and ``outputs`` of the providing step) the data names the
    step-local definitions of step ``i`` read from earlier steps; return, per step, the
    parameters they read. ``steps`` are the steps' cells, ``bound`` the names each step binds
    or changes."""
    params: list[list[str]] = [[] for _ in steps]
    for i, cells in enumerate(steps):
        for name in _closure_reads(plan, cells):
            if name in parameters:
                if name not in params[i]:
                    params[i].append(name)
                continue
            if name in bound[i]:
                continue  # the step binds it itself (the data flow has the reads it needs)
            provider = max((j for j in range(i) if name in bound[j]), default=None)
            if provider is None:
                continue  # bound only later: the notebook itself fails if called before
            if name not in inputs[i]:
                inputs[i].append(name)
            outputs[provider].add(name)
    return params


def _closure_reads(plan: PlanView, cells: Sequence[int]) -> list[str]:
    """Module-scope data names read by the bodies of the top-level definitions of these cells
    that stay in the step (and the new parameters of the hoisted functions they call)."""
    found: dict[str, None] = {}
    for index in cells:
        symbols = plan.flow.symbols.get(index)
        if symbols is None or symbols.tree is None:
            continue
        hoisted = plan.hoisted.get(index, set())
        for stmt in symbols.tree.body:
            if id(stmt) in hoisted or not isinstance(stmt, _DEFINITIONS):
                continue
            info = symbols.functions.get(stmt.name)
            if info is None or info.line != stmt.lineno:
                continue
            names = [ref.name for ref in info.globals_read] + list(info.calls)
            for called in info.calls:
                hoisted_function = plan.functions.get(called)
                if hoisted_function is not None:
                    names += hoisted_function.new_parameters
            for name in names:
                if (
                    name in plan.module_names
                    or name in plan.module_globals
                    or name in PLACEHOLDERS
                    or is_builtin(name)
                    or name == stmt.name
                ):
                    continue
                found[name] = None
    return list(found)
