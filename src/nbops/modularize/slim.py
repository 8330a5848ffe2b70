"""Build the slim notebook: the narrative markdown kept, the code replaced by step calls.

The slim notebook imports the generated module (from ``src/`` when the package is not
installed), keeps the parameters cell (so papermill still injects parameters), and has one
code cell per step, where the step's first cell was, binding the same names the notebook
bound, with plots and displays on. Outputs are cleared. Each code cell that stands for cells
of the notebook names them in its metadata (``nbops_cells``), for ``nbops verify``.
"""

from __future__ import annotations

import copy
import json
import os
from pathlib import Path
from typing import Any

from nbops.core.notebook import Notebook
from nbops.modularize.codegen import SHOW
from nbops.modularize.displays import SOURCE_CELLS_KEY  # the original cells a cell stands for
from nbops.modularize.plan import ModulePlan, result_variable
from nbops.modularize.secrets import scrub

__all__ = ["SOURCE_CELLS_KEY", "slim_notebook"]


def _code(source: str, tags: list[str] | None = None, cells: list[int] | None = None) -> dict[str, Any]:
    metadata: dict[str, Any] = {"tags": tags} if tags else {}
    if cells:  # 1-based, as the pipeline names cells
        metadata[SOURCE_CELLS_KEY] = [c + 1 for c in cells]
    cell: dict[str, Any] = {
        "cell_type": "code",
        "execution_count": None,
        "metadata": metadata,
        "outputs": [],
        "source": source,
    }
    return cell


def step_call(plan: ModulePlan, index: int, shows: set[str], flag: str = SHOW) -> str:
    """The code line calling step ``index`` with the notebook's own names."""
    step = plan.steps[index]
    args = list(step.inputs) + [f"{p}={p}" for p in step.parameters]
    if step.name in shows:
        args.append(f"{flag}=True")
    call = ("await " if step.is_async else "") + f"{step.name}({', '.join(args)})"
    returned = [*step.outputs, *step.results]
    if step.returns:  # a dataclass: its values under the notebook's names, by attribute
        holder = result_variable(plan, step, (s.name for s in plan.steps))
        return "\n".join([f"{holder} = {call}", *(f"{n} = {holder}.{plan.local(n)}" for n in returned)])
    return f"{returned[0]} = {call}" if returned else call


def slim_notebook(
    plan: ModulePlan,
    *,
    package: str,
    module: str,
    shows: set[str],
    src_dir: Path,
    notebook_dir: Path,
    flag: str = SHOW,
) -> str:
    """The slim notebook as JSON text (nbformat 4); ``flag`` is the steps' display flag."""
    nb: Notebook = plan.notebook
    first_cell = {step.cells[0]: i for i, step in enumerate(plan.steps)}
    src = Path(os.path.relpath(src_dir, notebook_dir)).as_posix()
    # the steps the cells call, sorted as isort sorts them (the notebook's other functions
    # are in the module too; a slim notebook that does not call them does not import them)
    names = sorted(step.name for step in plan.steps)
    imports = (
        "import importlib.util\nimport sys\n\n"
        "# the package is not installed: import the generated sources\n"
        f"if importlib.util.find_spec({json.dumps(package)}) is None:\n"
        f"    sys.path.insert(0, {json.dumps(src)})\n\n"
        f"from {package}.{module} import (\n" + "".join(f"    {n},\n" for n in names) + ")"
    )
    cells: list[dict[str, Any]] = []
    placed_imports = False
    in_steps = {c for step in plan.steps for c in step.cells}
    emitted: set[str] = set()
    for cell in nb.cells:
        if cell.cell_type != "code":
            raw = copy.deepcopy(cell.raw)
            raw.pop("outputs", None)
            raw.pop("execution_count", None)
            if scrub(cell.source) != cell.source:  # a secret in prose is never copied
                raw["source"] = scrub(cell.source)
                plan.problem(
                    cell.index,
                    None,
                    "error",
                    "this cell holds a secret: it is left out of the slim notebook and the "
                    "module's docstrings; remove it from the notebook and revoke it",
                )
            cells.append(raw)
            continue
        if not placed_imports:
            if names:  # a notebook whose steps are all parameters imports nothing
                cells.append(_code(imports))
            placed_imports = True
        if cell.index in plan.parameter_cells:
            cells.append(_code(cell.source, ["parameters"], [cell.index]))
        elif cell.index in first_cell:
            step = plan.steps[first_cell[cell.index]]
            # marked and proposed parameters of this step's cells (or of cells left without a
            # step, before it), as `# nbops: parameter` lines
            marked = [
                f"{p.name} = {p.default}  # nbops: parameter" + (f" {p.comment}" if p.comment else "")
                for p in plan.parameters
                if p.cell not in plan.parameter_cells
                and p.name not in emitted
                and (p.cell in step.cells or (p.cell not in in_steps and p.cell < step.cells[0]))
            ]
            emitted.update(line.split(" ", 1)[0] for line in marked)
            call = "\n".join([*marked, step_call(plan, first_cell[cell.index], shows, flag)])
            cells.append(_code(_formatted(call, notebook_dir), cells=list(step.cells)))
    metadata = copy.deepcopy(nb.metadata)
    metadata["nbops"] = {"generated_from": nb.path.name if nb.path else None, "module": f"{package}.{module}"}
    for n, c in enumerate(cells):
        c["id"] = c.get("id") or f"nbops-{n}"
        if cell_id_taken(cells, c["id"], n):
            c["id"] = f"nbops-{n}"
    doc = {"cells": cells, "metadata": metadata, "nbformat": 4, "nbformat_minor": 5}
    return json.dumps(doc, indent=1, ensure_ascii=False) + "\n"


def _formatted(source: str, notebook_dir: Path) -> str:
    """``source`` as ``nbops lint``'s black check wants it (the project's black settings)."""
    from nbops.config import load_config
    from nbops.errors import NbopsError
    from nbops.lint.tools import FormatChecker

    try:
        result = FormatChecker(load_config(notebook_dir).black, None).check(source)
    except NbopsError:
        return source  # black missing or the config unreadable: the call line as it is
    return result.formatted.rstrip("\n") if result.changed and result.formatted else source


def cell_id_taken(cells: list[dict[str, Any]], cell_id: str, position: int) -> bool:
    """True when an earlier cell already uses ``cell_id``."""
    return any(c.get("id") == cell_id for c in cells[:position])
